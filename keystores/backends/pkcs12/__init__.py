"""PKCS#12 (.p12/.pfx) stores as Java and OpenSSL write them: several private keys, trusted certificates and secret
keys together. cryptography's own PKCS#12 API keeps one key and cannot write mixed stores, so the PFX /
AuthenticatedSafe / SafeContents layers are read and written here with asn1crypto.

Where to look: format.py declares the format (names, extensions, magic bytes) for detection and --type; store.py
holds Pkcs12Store (open, the write profiles `modern` and `compat`, editing, protection); read.py turns bytes into
bags and bags into entries (its docstring gives the mapping); write.py turns entries back into bags and bytes (never
imported just to read); mac.py is the password MAC, verified and made; bags.py the bag values and attribute
conventions reading and writing share.
"""

from keystores.formats import lazy_classes

__all__ = ["Pkcs12Store"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, Pkcs12Store="store")
