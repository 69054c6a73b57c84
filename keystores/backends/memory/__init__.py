"""The in-memory store (store.py): the Python API's scratch store and the reference the shared backend suite runs
against first."""

from keystores.formats import lazy_classes

__all__ = ["MemoryStore"]
# on first use: detection imports this package for its record (format.py) and must not load the store
__getattr__ = lazy_classes(__name__, MemoryStore="store")
