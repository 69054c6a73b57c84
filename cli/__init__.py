"""The keystores command line (installed as keystores.cli): parse, resolve secrets, call one operation, render."""

from __future__ import annotations

from keystores.cli.module_finder import install

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

install()  # keystores' modules found ~20 us faster each from here on (cli/module_finder.py says how and why)


class _Interrupted(BaseException):
    """Ctrl-C, raised by our SIGINT handler. Not a KeyboardInterrupt: typer turns that into a silent return of
    130, which the caller of main() cannot tell from a command's result. A BaseException, so that no
    `except Exception` on the way up swallows it, while every `finally` and rollback still runs."""


def _on_interrupt(signum: int, frame: Any) -> None:
    import _signal

    _signal.signal(_signal.SIGINT, _signal.SIG_IGN)  # a second Ctrl-C must not break the clean-up of the first
    raise _Interrupted


def _interrupt_behind(exc: BaseException) -> bool:
    """Whether Ctrl-C is what `exc` reports: Python wraps what a class's __set_name__ raises in a RuntimeError (3.11),
    so an interrupt that lands while a module defines such a class (lazy_entries' LazyEntry) came up as "internal
    error: RuntimeError: Error calling __set_name__ ..." with exit 1."""
    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 8:
        if isinstance(cause, _Interrupted | KeyboardInterrupt):
            return True
        cause, seen = cause.__cause__, seen + 1
    return False
