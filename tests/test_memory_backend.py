from __future__ import annotations

import pytest
from backend_suite import BackendContract

from keystores.backends.memory import MemoryStore


class TestMemoryStore(BackendContract):
    @pytest.fixture
    def opener(self):
        shared = MemoryStore("memory:test", writable=True)

        class Handle:
            """Re-opening a memory store gives the same entries; a failed context keeps the old ones."""

            def __call__(self, create=False, writable=False):
                snapshot = dict(shared._entries)
                outer = self

                class Ctx(MemoryStore):
                    def __exit__(self_inner, exc_type, exc, tb):
                        if exc_type is None:
                            shared._entries = dict(self_inner._entries)
                        outer.last = None

                store = Ctx("memory:test", writable=True)
                store._entries = snapshot
                return store

        return Handle()
