"""The calling convention for an operation written for an open store (keystores.ops: sign, receive, certreq,
selfsign, validate): `on_store` lets it take a location too.

Apart from keystores.ops, which every command imports, so that list, show, export and convert make none of it
(start-up, issue 15); `keystores.ops.on_store` still names it (the package's __getattr__).
"""

from __future__ import annotations

from keystores.ops import using

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from keystores.ops import StoreArg

    F = TypeVar("F", bound=Callable[..., Any])


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
