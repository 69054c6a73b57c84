"""keystores.crypto.kdf_pool: derivations side by side on _thread's threads, without importing threading (issue 15)."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys, _thread, hashlib
from keystores.crypto.kdf_pool import KdfPool

main = _thread.get_ident()
def derive(salt):
    return _thread.get_ident(), hashlib.pbkdf2_hmac("sha256", b"pool", salt, 10_000, 32)

with KdfPool("probe") as pool:
    pool._cores = pool._threads = 2  # threads even on one core
    jobs = [pool.submit(10_000, derive, bytes([n]) * 16) for n in range(6)]
    got = [job.result() for job in jobs]
assert [key for _, key in got] == [hashlib.pbkdf2_hmac("sha256", b"pool", bytes([n]) * 16, 10_000, 32)
                                   for n in range(6)]
# (a call no worker has begun when its result is asked for runs in the asking thread: Pending.result)
assert {ident for ident, _ in got} - {main}, "calls ran in workers"
print("threading" in sys.modules)
"""


def test_the_pool_runs_calls_in_threads_without_importing_threading():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_leaving_the_pool_waits_for_every_worker_it_started():
    """A worker lets the pool go only when it has returned from its last call; after leaving, no call runs."""
    import _thread
    import time

    from keystores.crypto.kdf_pool import KdfPool

    before, ran = _thread._count(), []

    def slow(n: int) -> int:
        time.sleep(0.02)
        ran.append(n)
        return n

    pool = KdfPool("test")
    pool._cores = pool._threads = 2
    with pool:
        jobs = [pool.submit(None, slow, n) for n in range(4)]
        assert jobs[0].result() == 0
    finished = list(ran)
    time.sleep(0.05)
    assert ran == finished, "a queued call ran after the pool was left"
    deadline = time.monotonic() + 5
    while _thread._count() > before and time.monotonic() < deadline:
        time.sleep(0.001)
    assert _thread._count() == before
    with pool:  # usable again: new workers
        assert pool.submit(None, slow, 9).result() == 9


def test_prestarted_workers_take_the_calls_and_end_with_the_pool():
    """KdfPool.prestart starts up to `count` workers (no more than the pool would), which then take the calls, start
    none more, and end when the pool is left; nothing on one core."""
    import _thread

    from helpers import threads_left

    from keystores.crypto.kdf_pool import KdfPool

    before = _thread._count()
    pool = KdfPool("test")
    pool._cores = pool._threads = 2
    with pool:
        pool.prestart(5)
        assert pool._started == 2
        jobs = [pool.submit(None, _thread.get_ident) for _ in range(4)]
        for job in jobs:
            job.wait()  # (not result(): that runs a call no worker has begun in this thread)
        idents = {job.result() for job in jobs}
        assert pool._started == 2 and _thread.get_ident() not in idents and len(idents) <= 2
    assert threads_left(before) == 0
    alone = KdfPool("test")
    alone._cores = alone._threads = 1
    with alone:
        alone.prestart(2)
        assert alone._started == 0 and alone.submit(None, _thread.get_ident).result() == _thread.get_ident()
    unused = KdfPool("test")  # started, never given a call: leaving ends them
    unused._cores = unused._threads = 2
    with unused:
        unused.prestart(2)
    assert threads_left(before) == 0


def test_the_pool_loads_no_collections_and_takes_every_queued_call():
    """The calls wait in a list taken from its front: no deque, whose builtin module (_collections) reading a
    PKCS#12 loads for nothing else. Run without site (whose editable-install finder loads collections), from the
    tree; the 200 calls queued while a worker is held are all taken, once each."""
    from pathlib import Path

    probe = ("import sys, _thread\nsys.path.insert(0, sys.argv[1])\n"
             "from keystores.crypto.kdf_pool import KdfPool\n"
             "order = []\n"
             "with KdfPool('probe', most=2) as pool:\n"
             "    pool._cores = pool._threads = 2\n"
             "    gate = _thread.allocate_lock(); gate.acquire()\n"
             "    first = pool.submit(None, gate.acquire)\n"  # one worker held here while the rest queue up
             "    jobs = [pool.submit(None, order.append, n) for n in range(200)]\n"
             "    gate.release(); first.result()\n"
             "    for job in jobs: job.result()\n"
             "print('_collections' in sys.modules, 'collections' in sys.modules, sorted(order) == list(range(200)))\n")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-S", "-c", probe, str(root)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True"]


def test_leaving_the_pool_on_an_interrupt_does_not_wait_for_a_worker_stuck_behind_the_import_lock():
    """Ctrl-C can land inside importlib while the main thread holds the global import lock (between
    `_imp.acquire_lock()` and its `try`): it is never released, and a worker that imports waits for it forever.
    Leaving the pool because of an interrupt does not wait for such a worker, where the main thread waited for it
    forever (`keystores convert one.p12 sql:NEW` hung after 3 of 150 Ctrl-Cs)."""
    probe = """
import _imp, time
from keystores.crypto.kdf_pool import KdfPool

def imports():
    import xml.dom.minidom  # not imported yet: waits for the import lock this thread holds
    return b""

try:
    with KdfPool("probe") as pool:
        pool._cores = pool._threads = 2  # a worker even on one core
        _imp.acquire_lock()  # as an interrupt inside importlib leaves it: held, never released
        pool.submit(None, imports)
        time.sleep(0.2)  # the worker is waiting for the lock
        raise KeyboardInterrupt
except KeyboardInterrupt:
    print("left")
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=20, check=False)
    assert done.stdout.strip() == "left", done.stderr
