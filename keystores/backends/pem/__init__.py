"""PEM and DER files as key stores."""

from keystores.formats import lazy_classes

__all__ = ["PemStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, PemStore="store")
