"""IBM GSKit CMS key databases (.kdb with .rdb, .crl, .sth)."""

from keystores.formats import lazy_classes

__all__ = ["CmsStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, CmsStore="store")
