"""IBM GSKit CMS key databases (.kdb with .rdb, .crl, .sth)."""

from keystores.backends.cms.store import CmsStore

__all__ = ["CmsStore"]
