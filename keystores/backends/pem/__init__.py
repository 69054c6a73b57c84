"""PEM and DER files as key stores: certificates, CA bundles, private keys (PKCS#8, PKCS#1, SEC1, encrypted) and
certificate requests. PEM has neither entries nor labels of its own; the mapping is ours and documented in read.py
and labels.py. The bytes decide between PEM and DER whatever the type asked for; the file is written back in the
spelling read.

Where to look: format.py declares the format (names, extensions, magic bytes) for detection and --type; store.py
holds PemStore (open, several files read as one bundle, editing, protection); parse.py splits PEM text into blocks;
lazy_read.py reads the everyday shapes without decoding, else read.py decodes blocks (or one DER object) and pairs
keys, certificates and requests into entries; write.py writes them back; labels.py derives the labels both
directions agree on.
"""

from keystores.formats import lazy_classes

__all__ = ["PemStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, PemStore="store")
