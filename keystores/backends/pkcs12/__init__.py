"""PKCS#12 (.p12/.pfx) key stores."""

from keystores.formats import lazy_classes

__all__ = ["Pkcs12Store"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, Pkcs12Store="store")
