"""Java key stores: JKS and JCEKS."""

from keystores.formats import lazy_classes

__all__ = ["JceksStore", "JksStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, JceksStore="store", JksStore="store")
