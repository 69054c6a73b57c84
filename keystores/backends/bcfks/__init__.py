"""Bouncy Castle's FIPS key store BCFKS, read and written without Java.

Where to look: format.py declares the format (names, extensions, magic bytes) for detection and --type; store.py
holds it all (the format description, the ASN.1 structures, key derivation, BcfksStore); what it shares with BKS and
UBER is ../bouncycastle.py.
"""

from keystores.formats import lazy_classes

__all__ = ["BcfksStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, BcfksStore="store")
