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


def entry() -> None:
    """The `keystores` command (the console script's entry) and `python -m keystores`: Ctrl-C is the command's own
    (exit 130, one line) from here on, before cli/main.py and the ~20 modules it imports load; there Python's own
    handler printed a traceback and exited 1 (6 of 100 Ctrl-Cs sent 5-45 ms into `keystores receive`). Then
    cli.main.main runs the command line."""
    import _signal

    _signal.signal(_signal.SIGINT, _on_interrupt)
    try:
        from keystores.cli.main import main as run_command_line
    except BaseException as exc:
        if not _interrupt_behind(exc):
            raise
        import sys

        sys.stderr.write("keystores: interrupted; nothing was changed\n")
        raise SystemExit(130) from None
    run_command_line()
