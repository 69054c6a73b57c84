"""IBM GSKit CMS key databases: the .kdb with its companions .rdb (pending requests), .crl and .sth (stash).

Where to look: format.py declares the format (names, extensions, magic bytes) for detection and --type; store.py
holds CmsStore (open and its options, editing, trust, password change, stash, protection); container.py the bytes of
the containers (header, slots, record DER; see ../shared/specs/cms-kdb.md); records.py what is kept per record;
read.py and write.py the two directions (load, imported when a database is read; write_database, when it is written);
stash.py the .sth.
"""

from keystores.formats import lazy_classes

__all__ = ["CmsStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, CmsStore="store")
