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
    from collections.abc import Callable
    from typing import Any, TypeAlias, TypeVar

    from keystores.protocols import KeyStore

    StoreArg: TypeAlias = "KeyStore | str | os.PathLike[str]"
    F = TypeVar("F", bound=Callable[..., Any])
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


def on_store(*, writable: bool = False, create: bool = False) -> Callable[[F], F]:
    """The calling convention for an operation written for an open store (its first parameter): it also takes a
    location, with `password=` and `type=` (see `using`; `create` makes a store that is not there yet). The
    signature `help()` shows says so."""

    def decorate(operation: F) -> F:
        def wrapper(store: StoreArg, /, *args: Any, password: str | None = None, type: str | None = None,
                    **kwargs: Any) -> Any:
            with using(store, password=password, type=type, writable=writable,
                       **({"create": True} if create else {})) as opened:
                return operation(opened, *args, **kwargs)

        # functools.wraps, without functools (start-up): the operation's names, docstring and attributes
        for name in ("__module__", "__name__", "__qualname__", "__doc__", "__annotations__"):
            setattr(wrapper, name, getattr(operation, name))
        wrapper.__dict__.update(operation.__dict__)
        wrapper.__wrapped__ = _Shown(operation)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


class _Shown:
    """What `help()` and `inspect.signature()` show for an operation on_store wrapped: its own signature, the store
    also a location, with `password=` and `type=`. inspect.signature() follows the wrapper's `__wrapped__` to this
    object and stops at its `__signature__`, worked out on first use: working it out when the operation is defined
    would import inspect (~6 ms) into every command that imports an operation (bench/bench_core.py's "start-up:"
    rows). `__wrapped__` is the operation itself, as inspect.unwrap() expects."""

    def __init__(self, operation: Callable[..., Any]) -> None:
        self.__wrapped__ = operation
        self._signature: Any = None

    @property
    def __signature__(self) -> Any:
        if self._signature is None:
            import inspect

            signature = inspect.signature(self.__wrapped__)
            first, *rest = signature.parameters.values()
            keyword = inspect.Parameter.KEYWORD_ONLY
            self._signature = signature.replace(parameters=[
                first.replace(annotation="KeyStore | str | os.PathLike[str]"), *rest,
                inspect.Parameter("password", keyword, default=None, annotation="str | None"),
                inspect.Parameter("type", keyword, default=None, annotation="str | None")])
        return self._signature
