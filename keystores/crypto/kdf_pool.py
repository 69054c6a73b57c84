"""Key derivations run on every core this process may use (a speed device): the PBKDF2 work of one NSS write
(bench/bench_nss.py, "nss import" and "nss passwd" rows, justify it), and the sealed keys a transfer opens
(keystores.lazy_entries.open_keys; bench/bench_pkcs12.py's 200-key rows).

NSS salts every encrypted attribute and every integrity MAC afresh (32 random bytes) and derives its key with the
database's iteration count (10,000 where a password is set): a trusted certificate costs 7 derivations, an RSA key
pair 16, each a few milliseconds. NSS's own KDF cache (lowpbe.c, bug 1606992) keys on the salt, so it saves nothing
when writing, and NSS runs them one after another. keystores.crypto.pbkdf2 releases the GIL, so threads run them
side by side while the writer lays out the next objects (transaction.SqlWrites._store_pending stores the results; the
legacy PBE of the compat profile too, whose SHA-1 rounds libcrypto runs without the GIL: crypto/kdf.py); what
is written is byte for byte what a sequential write would be, with the same fresh salts and counts.

The threads are our own (_thread's, fed through a list), not concurrent.futures: that imports logging,
which costs more than the seven derivations of writing one trusted certificate (about 30 M instructions against
`python -c pass`'s 90 M), and every NSS write would pay it. Nor threading's: importing it costs ~3.6 ms (~16 M
instructions), about what a second core saves on the two derivations of reading a small PKCS#12, and a worker here
needs nothing of it (no name, no join by object): each worker holds a lock of its own while it runs, and leaving
the pool waits for those locks, as Thread.join waits for the lock threading keeps for it. Nor queue's SimpleQueue:
its _queue is a shared library to load (~0.2 ms of reading a small PKCS#12); nor a deque, whose builtin module
_collections reading a PKCS#12 loads for nothing else (~0.25 M instructions): the calls wait in a list, which a
worker takes from the front (list.pop(0), like append, is one step under the GIL; moving the pointers of even
thousands of queued NSS derivations costs microseconds against each one's milliseconds), and a worker with none
waits on a lock of its own that each new call releases. Pending is the part of a
Future its users need: result(), and wait() for open_keys, which leaves a key's failure to be raised where the key
is used.
"""

from __future__ import annotations

import sys
from _thread import allocate_lock, start_new_thread  # threading.Lock itself, and what threading starts a thread by

from keystores.crypto.pbkdf2 import usable_cores
from keystores.lightweight import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _thread import LockType
    from collections.abc import Callable
    from typing import Any, Generic, TypeVar

    _T = TypeVar("_T")
    _Generic = Generic
else:
    # typing for type checkers only: it imports re and enum, more than an NSS write's derivations cost (issue 15)
    class _Generic:
        def __class_getitem__(cls, item: object) -> type:
            return cls

    _T = None

# How long a caller that hands a fresh pool its first derivation waits for a worker to take it, so that the
# derivation is under way before the caller goes on: else the worker waits for the caller's thread to let the GIL
# go, which a thread running Python does every 5 ms only (sys.getswitchinterval). A thread starts in 130-330 us
# where a core is free; where none is, it starts when the scheduler gives it one, and the caller goes on meanwhile.
BEGUN_WAIT = 0.0005  # seconds

# Below this many PBKDF2 iterations a derivation costs less than handing it to a thread (an empty password uses 1).
_WORTH_A_THREAD = 1000


def _interrupted(exc_info: tuple[object, ...]) -> bool:
    """Whether the caller leaves a pool because of an interrupt (Ctrl-C: KeyboardInterrupt, the CLI's own; any
    BaseException that is not an Exception), given `with`'s exc_info or, where the caller passes none (a store's
    close in its own clean-up), the exception being handled. Then the running calls are not waited for: the
    interrupt may have landed inside importlib while this thread held the global import lock (between
    `_imp.acquire_lock()` and its `try`, where Python checks for signals), and a worker importing anything then
    waits for that lock forever while this thread waited for the worker (3 of 150 Ctrl-Cs sent 5-70 ms into
    `keystores convert one.p12 sql:NEW` hung so, /tmp/s16/intr_hang.py). The workers still take their ends and stop
    after their call; the process is on its way out."""
    leaving = exc_info[0] if exc_info and exc_info[0] is not None else sys.exc_info()[0]
    return isinstance(leaving, type) and issubclass(leaving, BaseException) and not issubclass(leaving, Exception)


class Cancelled(Exception):
    """The call was dropped before it ran: the job it belonged to stopped (the pool was left, or with
    stop_at_failure an earlier call failed)."""


class Pending(_Generic[_T]):
    """One call's outcome: result() waits for it, then returns what the call returned or raises what it raised."""

    __slots__ = ("_args", "_call", "_claim", "_done", "_error", "_kwargs", "_on_failure", "_value")

    def __init__(self, call: Callable[..., _T] | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self._call, self._args, self._kwargs = call, args, kwargs
        self._value: _T | None = None
        self._error: BaseException | None = None
        self._done = allocate_lock()
        self._done.acquire()  # released once the call ran (or was dropped)
        # Taken (acquired, never released) by whoever runs or drops the call: a worker that takes it from the queue,
        # or result()'s caller where no worker has (KdfPool's spare_caller); a lock, so only one of them does.
        self._claim = allocate_lock()
        self._on_failure: Callable[[], None] | None = None  # called before result() can see a failure

    def run(self) -> None:
        """Make the call (in a worker thread, or inline)."""
        try:
            assert self._call is not None
            self._value = self._call(*self._args, **self._kwargs)
        except BaseException as exc:  # handed to whoever asks for the result, as a Future does
            self._error = exc
            if self._on_failure is not None:
                self._on_failure()
        finally:
            self._call, self._args, self._kwargs = None, (), {}
            self._done.release()

    def drop(self) -> None:
        self._error = Cancelled()
        self._call, self._args, self._kwargs = None, (), {}
        self._done.release()

    def wait(self) -> None:
        """Wait until the call ran or was dropped, whatever its outcome."""
        with self._done:
            pass

    def claim(self) -> bool:
        """Whether this thread is the one to run (or drop) the call: no other has claimed it yet."""
        return self._claim.acquire(False)

    def result(self) -> _T:
        if self.claim():  # queued, no worker has begun it: run it here rather than wait for one (inline: run)
            self.run()
            if isinstance(self._error, KeyboardInterrupt | SystemExit):
                raise self._error
        self.wait()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]


class KdfPool:
    """Runs derivation calls in worker threads when they are costly and there is more than one core; inline
    otherwise. Use as a context manager: leaving it waits for the running calls and drops the queued ones.

    `name` says whose pool it is (in a repr); `most` bounds how many threads start (one per call submitted, up to
    the cores); with `stop_at_failure`, a call
    that raises makes the workers drop the calls still queued (their result() raises Cancelled), as
    concurrent.futures' FIRST_EXCEPTION with cancel_futures did for keystores.lazy_entries.open_keys."""

    def __init__(self, name: str = "nss-kdf", *, most: int | None = None, stop_at_failure: bool = False,
                 spare_caller: bool = False) -> None:
        self._cores = usable_cores() if most is None else min(usable_cores(), most)
        # With spare_caller, one worker fewer than the cores (at least one): the caller's thread, busy meanwhile
        # (importing, parsing), keeps a core to itself, and derives what no worker has begun when it asks for it
        # (Pending.result). Three runnable threads on two cores (two workers and the caller) left the caller,
        # whose work is what the user waits for, off the CPU for 2.4-5.9 ms of reading a PKCS#12 (issue 15).
        self._threads = max(1, self._cores - 1) if spare_caller else self._cores
        self._name = name
        self._stop_at_failure = stop_at_failure
        self._jobs: list[Pending[Any] | None] | None = None  # the calls not taken yet; None: a worker's end
        self._wakes: list[LockType] = []  # each started worker's, released when there may be calls to take
        self._started = 0  # threads asked for: leaving puts as many ends in the queue
        self._running: list[LockType] = []  # each started worker's lock, held by it until it returns
        self._busy: list[None] = []  # one mark per worker running a call (append and pop: one step under the GIL)
        self._closing = False

    def __repr__(self) -> str:
        return f"KdfPool({self._name!r}, {len(self._running)} of {self._cores} threads running)"

    def submit(self, iterations: int | None, call: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Pending[_T]:
        """`call(*args, **kwargs)`, which runs PBKDF2 with `iterations` (None: a count not known here, taken as
        worth a thread); what it raises, its result() raises, whether it ran in a thread or inline. An interrupt
        (KeyboardInterrupt in this thread) is not held back."""
        return self._submit(Pending(call, args, kwargs), iterations, first=False)

    def submit_next(self, iterations: int | None, call: Callable[..., _T], /, *args: Any) -> Pending[_T]:
        """As submit, queued ahead of the calls no worker has taken yet: the caller needs it before them (a
        PKCS#12's MAC key, checked first, before its key bags' keys, used last: pbe.Ahead.mac_key)."""
        return self._submit(Pending(call, args, {}), iterations, first=True)

    def takes_at_once(self) -> bool:
        """Whether a started worker waits for a call (or is starting): one submitted now is taken at once, so a
        caller may wait for it to begin (pbe.Ahead._submit); where every worker is busy it would wait for nothing."""
        return self._started > len(self._busy) + len(self._jobs or ())

    def _submit(self, job: Pending[_T], iterations: int | None, *, first: bool) -> Pending[_T]:
        if (iterations is not None and iterations < _WORTH_A_THREAD) or self._cores < 2:
            job.claim()
            job.run()
            if isinstance(job._error, KeyboardInterrupt | SystemExit):
                raise job._error
            return job
        if self._stop_at_failure:
            job._on_failure = self._stop
        if self._jobs is None:
            self._jobs = []
        if first:
            self._jobs.insert(0, job)
        else:
            self._jobs.append(job)
        self._wake()
        if self._started < self._threads:  # a worker per call up to the cores: one call ahead of the caller's own
            # work (a PKCS#12's part key beside its MAC) starts one thread
            self._start_worker(self._jobs)
        return job

    def prestart(self, count: int) -> None:
        """Start up to `count` workers now (no more than the pool would start), before the calls they will take
        are submitted: a process's first threads take 130-330 us each to start, which the caller's next work then
        overlaps (keystores.backends.pkcs12.store._derivations_ahead parses the file meanwhile; its derivations'
        handshakes, pbe.Ahead._submit, then wait only for a worker to wake). Nothing on one core."""
        if self._cores < 2:
            return
        if self._jobs is None:
            self._jobs = []
        while self._started < min(count, self._threads):
            self._start_worker(self._jobs)

    def _start_worker(self, jobs: list[Pending[Any] | None]) -> None:
        wake = allocate_lock()
        wake.acquire()  # released when a call is added
        self._wakes.append(wake)
        self._started += 1  # counted before: an interrupt between the two leaves one end too many, harmless
        start_new_thread(self._work, (jobs, wake, self._running))

    def _wake(self) -> None:
        """Every worker waiting for calls looks again (a wake already released stays so: the worker will look)."""
        for wake in self._wakes:
            with suppress(RuntimeError):  # not held: released already, not yet taken
                wake.release()

    def _stop(self) -> None:
        """The first failure (with stop_at_failure): the calls still queued are dropped."""
        self._closing = True

    def _work(self, jobs: list[Pending[Any] | None], wake: LockType, listed: list[LockType]) -> None:
        """A worker: takes calls until it takes an end, waiting on `wake` while there are none. Never interrupted
        (signals reach the main thread only), so once it is listed it releases its lock whatever the calls do."""
        running = allocate_lock()
        running.acquire()
        listed.append(running)
        try:
            while True:
                try:
                    job = jobs.pop(0)
                except IndexError:
                    wake.acquire()  # until a call (or an end) is added
                    continue
                if job is None:
                    return
                if not job.claim():  # the caller asked for its result first and ran it
                    continue
                if self._closing or jobs is not self._jobs:  # left (the pool may be in use again since)
                    job.drop()
                else:
                    self._busy.append(None)
                    try:
                        job.run()
                    finally:
                        self._busy.pop()
        finally:
            running.release()

    def __enter__(self) -> KdfPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._jobs is not None:
            self._closing = True
            self._jobs.extend([None] * self._started)  # behind every queued call: each worker drops those, then stops
            self._wake()
            if not _interrupted(exc_info):
                for running in list(self._running):  # a worker not yet listed has run no call: it takes an end
                    with running:
                        pass
            self._jobs, self._wakes, self._started, self._running, self._closing = None, [], 0, [], False
