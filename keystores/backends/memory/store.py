"""A store that lives only in memory: the reference the shared backend test suite runs against first."""

from __future__ import annotations

from typing import ClassVar

from keystores.backends.base import BaseStore
from keystores.model import Capabilities


class MemoryStore(BaseStore):
    format: ClassVar[str] = "memory"
    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=True, default_flag=True, pending_requests=True,
                                                        bare_keys=True, undecoded_entries=True, password=False)

    def __init__(self, location: str, *, password: str | None = None, writable: bool = True, create: bool = False,
                 profile: str = "modern") -> None:
        """Always writable: a store in memory has nothing to protect from a writer."""
        super().__init__(location, writable=True, profile=profile)

    def _write(self) -> None:
        """Nothing to write: the entries are the store."""
