"""The keystores command line (installed as keystores.cli): parse, resolve secrets, call one operation, render."""

from __future__ import annotations

from keystores.cli.module_finder import install

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
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


class _RaisedAgain:
    """sys.unraisablehook of the console script's process. Ctrl-C that lands where Python cannot raise (a weakref
    callback: importlib drops each module's import lock through one) reached Python's hook as "Exception ignored in:
    ... _get_module_lock ..."; the command went on to exit 0, and since the handler sets Ctrl-C to be ignored once it
    has run, ignored the next one too (1 of ~150 Ctrl-Cs sent at random into `keystores receive`). Here the
    interrupt is raised again by the same handler on SIGALRM, 0.1 ms after the hook has returned (one that lands in
    such a callback again comes back here). Not from the hook: raised there, it would be lost again. Not by a thread
    calling _thread.interrupt_main: that thread gets to run only when the main thread lets go of the GIL, up to
    5 ms later, and a short command has ended by then. Anything else goes to the hook that was there."""

    __slots__ = ("_before",)

    def __init__(self, before: Callable[[Any], object]) -> None:
        self._before = before

    def __call__(self, unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, _Interrupted):
            self._before(unraisable)
            return
        import _signal

        if not hasattr(_signal, "setitimer"):  # Windows: lost, as before
            self._before(unraisable)
            return
        _signal.signal(_signal.SIGALRM, _on_interrupt)
        _signal.setitimer(_signal.ITIMER_REAL, 0.0001)


def entry() -> None:
    """The `keystores` command (the console script's entry) and `python -m keystores`: Ctrl-C is the command's own
    (exit 130, one line) from here on, before cli/main.py and the ~20 modules it imports load; there Python's own
    handler printed a traceback and exited 1 (6 of 100 Ctrl-Cs sent 5-45 ms into `keystores receive`). Then
    cli.main.main runs the command line."""
    import _signal
    import sys

    _signal.signal(_signal.SIGINT, _on_interrupt)
    sys.unraisablehook = _RaisedAgain(sys.unraisablehook)
    try:
        from keystores.cli.main import main as run_command_line
    except BaseException as exc:
        if not _interrupt_behind(exc):
            raise
        sys.stderr.write("keystores: interrupted; nothing was changed\n")
        raise SystemExit(130) from None
    run_command_line()
