"""Stand-ins for contextlib.suppress and functools.cached_property, for the modules that open a store; datetime's
classes without the datetime module (`dates`).

A speed device (issue 15, a user install): contextlib imports collections and functools, and with them operator,
keyword, reprlib and itertools (about 3 ms of CPU, a quarter of starting Python); opening a store used them for
these two things only. Each does what the standard one does (tests/test_lightweight.py holds them to it); code off
the hot path may use the standard ones.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class suppress:
    """`with suppress(OSError): ...`: the exceptions named (and their subclasses) end the block silently."""

    __slots__ = ("_exceptions",)

    def __init__(self, *exceptions: type[BaseException]) -> None:
        self._exceptions = exceptions

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        return kind is not None and issubclass(kind, self._exceptions)


class cached_property:
    """A property computed on first access and kept in the instance's __dict__ (which then answers directly)."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.function(instance)
        return value


class ExitStack:
    """`with ExitStack() as stack: x = stack.enter_context(cm)`: contextlib.ExitStack's part that opens several
    stores for one command (audit, validate), without importing contextlib. On leaving, each context entered is
    exited, the last first, with the exception in flight: one that returns true suppresses it, one that raises
    replaces it for those exited after it, and the last such exception is raised."""

    def __init__(self) -> None:
        self._exits: list[Callable[..., Any]] = []

    def enter_context(self, context: Any) -> Any:
        kind = type(context)
        value = kind.__enter__(context)
        self._exits.append(lambda *details: kind.__exit__(context, *details))
        return value

    def __enter__(self) -> ExitStack:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        received = kind is not None
        details: tuple[Any, Any, Any] = (kind, exc, tb)
        suppressed = pending = False
        while self._exits:
            try:
                if self._exits.pop()(*details):
                    suppressed, pending, details = True, False, (None, None, None)
            except BaseException as raised:  # handed to the next exit, raised at the end
                pending, details = True, (type(raised), raised, raised.__traceback__)
        if pending:
            raise details[1]
        return received and suppressed


def dates() -> Any:
    """The datetime module's classes (datetime, date, timedelta, timezone, UTC...) as its C accelerator `_datetime`
    holds them: the very objects `datetime` re-exports (`datetime.datetime is _datetime.datetime`). Importing
    `datetime` first defines each of them in Python, then replaces them with these: ~5.6 M instructions, a twentieth
    of `audit s.kdb` (callgrind, a user install). `datetime` itself where there is no accelerator. Every module on
    a path that uses dates takes them from here: one `import datetime` on it loads the module all the same
    (tests/test_store_lean.py)."""
    try:
        import _datetime as found
    except ImportError:  # an interpreter without the accelerator
        import datetime as found
    return found
