"""Operations written once against the KeyStore protocol: they never ask which format they hold.

Every operation is called the same way (README: "Python API"):

- Its first argument is the store it works on (a transfer's source): an open `KeyStore`, or where one is (a path,
  `sql:DIR`, a `pkcs11:` URI, `ams:PATH`). Given a location, the operation opens it with `password=` and `type=`
  and saves what it changed when it succeeds; given an open store, it works in it and the caller's `with` block
  saves it.
- The store a transfer writes (convert, import, export) is `dest`, with `dest_password=` and `dest_type=`.
- Everything else is a keyword argument. Results are plain objects whose `notes` say what the user should be told.
- Errors are keystores.errors classes; a hint in one names the keyword that gets past it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, TypeAlias

    from keystores.ops.calling import on_store as on_store
    from keystores.protocols import KeyStore

    StoreArg: TypeAlias = "KeyStore | str | os.PathLike[str]"
else:  # the alias by name for run time imports; only type checkers read it (no typing at run time: issue 15)
    StoreArg = "KeyStore | str | os.PathLike[str]"


def is_location(store: object) -> bool:
    """Whether `store` says where a store is (rather than being an open one)."""
    return isinstance(store, str | os.PathLike)


class using:
    """The store an operation works on: an open one as it is (its owner saves it), a location opened here with
    `password` and `type` (and open_store's `options`), saved when the block ends without an error.

    A class rather than a contextlib.contextmanager: export, convert and import import no contextlib (start-up,
    keystores.lightweight)."""

    def __init__(self, store: StoreArg, *, password: str | None = None, type: str | None = None,
                 writable: bool = False, **options: Any) -> None:
        self._store, self._password, self._type, self._writable, self._options = store, password, type, writable, \
            options
        self._opened: KeyStore | None = None

    def __enter__(self) -> KeyStore:
        store = self._store
        if not is_location(store):
            if self._password is not None or self._type is not None:
                from keystores.errors import UsageError

                raise UsageError("the store is open already: its password and type are given to open_store, or "
                                 "with its location instead of the open store",
                                 store=store.location)  # type: ignore[union-attr]
            return store  # type: ignore[return-value]
        from keystores.store import open_store

        self._opened = open_store(store, password=self._password, type=self._type, writable=self._writable,
                                  **self._options)
        return self._opened.__enter__()

    def __exit__(self, *exc: Any) -> None:
        opened, self._opened = self._opened, None
        if opened is not None:
            opened.__exit__(*exc)


def __getattr__(name: str) -> object:
    """`on_store`, the calling convention of the operations written for an open store, lives in
    keystores.ops.calling, imported by those operations (sign, receive, certreq, selfsign, validate) when they are:
    a command that runs none of them makes none of it (start-up, issue 15)."""
    if name == "on_store":
        from keystores.ops.calling import on_store

        return on_store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
