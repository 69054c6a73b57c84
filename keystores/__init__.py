"""keystores: certificates and keys in every store a middleware admin meets.

    import keystores
    with keystores.open_store("server.p12", password="secret") as store:
        for entry in store.entries():
            print(entry.label, entry.kind, entry.certificate.subject.rfc4514_string())
    keystores.convert("server.p12", "server.jks", password="secret", dest_password="secret")

Names are imported lazily so that `import keystores` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "open_store": "keystores.store",
    "KeyStore": "keystores.store",
    "Entry": "keystores.model",
    "EntryKind": "keystores.model",
    "Trust": "keystores.model",
    "KeySpec": "keystores.model",
    "KeystoreError": "keystores.errors",
    "convert": "keystores.ops.transfer",
}

if TYPE_CHECKING:
    from keystores.errors import KeystoreError
    from keystores.model import Entry, EntryKind, KeySpec, Trust
    from keystores.ops.transfer import convert
    from keystores.store import KeyStore, open_store

__all__ = ["Entry", "EntryKind", "KeySpec", "KeyStore", "KeystoreError", "Trust", "convert", "open_store"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
