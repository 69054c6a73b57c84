"""Every store class answers the whole KeyStore protocol, so that operations call it and never probe a store with
getattr (the house rule: the protocol says everything a store does)."""

from __future__ import annotations

import inspect

import pytest

from keystores import formats, store
from keystores.backends.base import BaseStore
from keystores.errors import BackendUnavailable
from keystores.protocols import KeyStore


def _store_classes() -> set[type]:
    """Every BaseStore subclass the declared formats bring in (their writers' classes too, imported as a write
    would)."""
    for record in formats.records():
        try:
            store.backend_class(record.name)
        except BackendUnavailable:
            continue
    for writer in ("keystores.backends.nss.transaction", "keystores.backends.pkcs11.write"):
        __import__(writer)
    found, pending = set(), [BaseStore]
    while pending:
        for sub in pending.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                pending.append(sub)
    return found


def _protocol_methods() -> list[str]:
    return sorted(name for name, value in vars(KeyStore).items()
                  if inspect.isfunction(value) and (not name.startswith("_") or name in ("__iter__", "__enter__",
                                                                                          "__exit__")))


def test_the_protocol_names_the_write_hint_certreq_and_selfsign_give() -> None:
    assert "expect_write" in _protocol_methods()


@pytest.mark.parametrize("cls", sorted(_store_classes(), key=lambda c: f"{c.__module__}.{c.__qualname__}"),
                         ids=lambda c: c.__qualname__)
def test_every_store_class_has_every_method_of_the_protocol(cls: type) -> None:
    missing = [name for name in _protocol_methods() if not callable(getattr(cls, name, None))]
    assert not missing, f"{cls.__qualname__} lacks {missing}"


def test_a_store_without_keys_to_derive_takes_the_write_hint_and_does_nothing() -> None:
    from keystores.backends.memory.store import MemoryStore

    memory = MemoryStore("memory:hint", create=True)
    memory.expect_write(new_keys=1)
    assert memory.labels() == []
