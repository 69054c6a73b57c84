"""The in-memory store (store.py): the Python API's scratch store and the reference the shared backend suite runs
against first."""

from keystores.backends.memory.store import MemoryStore

__all__ = ["MemoryStore"]
