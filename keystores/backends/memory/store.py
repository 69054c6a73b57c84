"""A store that lives only in memory: the reference the shared backend test suite runs against first."""

from __future__ import annotations

from typing import Any, ClassVar

from keystores.backends.base import BaseStore
from keystores.model import Capabilities


class MemoryStore(BaseStore):
    format: ClassVar[str] = "memory"
    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=True, default_flag=True, pending_requests=True,
                                                        bare_keys=True, undecoded_entries=True)

    @classmethod
    def open(cls, location: str, *, writable: bool = True, **_: Any) -> MemoryStore:
        return cls(location, writable=True)

    def _write(self) -> None:
        """Nothing to write: the entries are the store."""
