"""The PBKDF2 work of one NSS write, run on every core this process may use (a speed device; bench/bench_nss.py,
"nss import" rows, justifies it).

NSS salts every encrypted attribute and every integrity MAC afresh (32 random bytes) and derives its key with the
database's iteration count (10,000 where a password is set): a trusted certificate costs 7 derivations, an RSA key
pair 16, each a few milliseconds. NSS's own KDF cache (lowpbe.c, bug 1606992) keys on the salt, so it saves nothing
when writing, and NSS runs them one after another. keystores.crypto.pbkdf2 releases the GIL, so threads run them
side by side while the writer lays out the next objects (writes.SqlWrites._store_pending stores the results); what
is written is byte for byte what a sequential write would be, with the same fresh salts and counts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from keystores.crypto.pbkdf2 import usable_cores

if TYPE_CHECKING:  # concurrent.futures is imported by the first write, not by every command that reads NSS
    from concurrent.futures import Future, ThreadPoolExecutor

_T = TypeVar("_T")

# Below this many PBKDF2 iterations a derivation costs less than handing it to a thread (an empty password uses 1).
_WORTH_A_THREAD = 1000


class KdfPool:
    """Runs derivation calls in worker threads when they are costly and there is more than one core; inline
    otherwise. Use as a context manager: leaving it waits for the running calls and drops the queued ones."""

    def __init__(self) -> None:
        self._cores = usable_cores()
        self._executor: ThreadPoolExecutor | None = None

    def submit(self, iterations: int, call: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        """`call(*args, **kwargs)`, which runs PBKDF2 with `iterations`, as a Future; what it raises, its result()
        raises, whether it ran in a thread or inline."""
        from concurrent.futures import Future, ThreadPoolExecutor

        if iterations < _WORTH_A_THREAD or self._cores < 2:
            done: Future[_T] = Future()
            try:
                done.set_result(call(*args, **kwargs))
            except Exception as exc:  # an interrupt is not stored: it stops the write at once
                done.set_exception(exc)
            return done
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._cores, thread_name_prefix="nss-kdf")
        return self._executor.submit(call, *args, **kwargs)

    def __enter__(self) -> KdfPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
