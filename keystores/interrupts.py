"""Steps an interrupt must not cut in two.

A token has no transactions: an object is made by one call, and remembered (to be removed again if the command
fails) by the next line. A Ctrl-C landing between the two would leave an object nobody knows about. `shielded()`
holds SIGINT for such a step and delivers it right after, to whatever handler was there (the CLI's, or Python's
KeyboardInterrupt).
"""

from __future__ import annotations

import contextlib

try:  # the C module `signal` wraps, whose very functions it re-exports: importing `signal` makes enums of every
    import _signal as signal  # signal and handler (~0.6 ms of a token import, bench/bench_core.py), none used here
except ImportError:  # pragma: no cover - an interpreter without it
    import signal  # type: ignore[no-redef]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Hold SIGINT until the block ends, then deliver it. Only the main thread receives signals: elsewhere this
    does nothing (setting a handler there raises ValueError, as keystores.fileio's commit finds it, with no
    threading imported to ask which thread this is)."""
    held: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            signal.raise_signal(signal.SIGINT)
