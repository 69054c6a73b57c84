"""The in-memory store as a record (keystores/formats.py): for the Python API and tests, never detected or listed."""

from keystores.formats import FormatRecord, Storage

RECORDS = (
    FormatRecord("memory", "memory", "keystores.backends.memory:MemoryStore", storage=Storage.MEMORY,
                 listed=False),
)
