"""PKCS#12 (.p12/.pfx) stores as Java and OpenSSL write them: several private keys, trusted certificates and secret
keys together. cryptography's own PKCS#12 API keeps one key and cannot write mixed stores, so the PFX /
AuthenticatedSafe / SafeContents layers are read and written here: read with keystores.crypto.der (asn1crypto for
BER and the unusual), written with asn1crypto.

Where to look: format.py declares the format (names, extensions, magic bytes) for detection and --type; store.py
holds Pkcs12Store (open, the write profiles `modern` and `compat`, editing, protection); structure.py reads the
layers into plain tuples (a speed device: its docstring says why); read.py turns them into bags and bags into
entries (its docstring gives the mapping); write.py turns entries back into bags and bytes (never imported just to
read); mac.py is the password MAC, verified and made; bags.py the bag values and attribute conventions reading and
writing share.
"""

from keystores.formats import lazy_classes

__all__ = ["Pkcs12Store"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, Pkcs12Store="store")
