"""Bouncy Castle's FIPS key store BCFKS, read and written without Java.

Where to look: format.py declares the format (names, extensions, magic bytes) for detection and --type; store.py
holds the format description, key derivation and BcfksStore; structure.py reads and writes the ASN.1 structures
with keystores.crypto.der (asn1.py: asn1crypto's classes for what it declines); what it shares with BKS and UBER is
../bouncycastle.py.
"""

from keystores.formats import lazy_classes

__all__ = ["BcfksStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, BcfksStore="store")
