"""Java key stores: JKS (magic FEEDFEED) and JCEKS (magic CECECECE), read and written without pyjks.

Where to look: format.py declares the format (names, extensions, magic bytes) for detection and --type; store.py
holds the layout, JksStore and JceksStore (reading, key protection, writing); epki.py the DER wrapping of their
keys; javaser.py the Java serialization of JCEKS secret keys (SealedObject); the DataOutputStream encodings they
share with BKS are ../java_data.py, the legacy ciphers keystores/java.py.
"""

from keystores.formats import lazy_classes

__all__ = ["JceksStore", "JksStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, JceksStore="store", JksStore="store")
