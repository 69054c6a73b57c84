"""lazy_entries.open_keys: the sealed keys a transfer is about to open anyway are opened side by side, in worker
threads, where their backend allows it; a key that does not open stays sealed and raises where it is first used, as
without open_keys; keys of backends that may ask for a key password are left to be opened one by one."""

from __future__ import annotations

import gc
import signal
import subprocess
import sys
import threading

import pytest
from cryptography.hazmat.primitives import serialization
from helpers import ec_key, same_key

from keystores.crypto import pbe
from keystores.crypto.pbkdf2 import usable_cores
from keystores.errors import WrongPassword
from keystores.lazy_entries import open_keys, sealed_entry
from keystores.model import EntryKind

PASSWORD = "open-keys-pw"


def _sealed(index: int, *, encrypted_with: str = PASSWORD, in_threads: bool = True, threads: set[int]):
    key = ec_key(index)
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    blob = pbe.encrypt_pkcs8(pkcs8, encrypted_with, iterations=10_000)

    def unseal():
        threads.add(threading.get_ident())
        return serialization.load_der_private_key(pbe.decrypt_pkcs8(blob, PASSWORD), None)

    return key, sealed_entry(unseal, blob, None, in_threads=in_threads, label=f"key {index}",
                             kind=EntryKind.KEY_PAIR, key=None)


def _workers_left(before: int) -> int:
    """How many threads more than `before` still run (kdf_pool's workers are _thread's: threading does not list
    them). A worker ends just after it lets the pool go: given a few seconds."""
    import _thread
    import time

    deadline = time.monotonic() + 5
    while _thread._count() > before and time.monotonic() < deadline:
        time.sleep(0.001)
    return _thread._count() - before


def test_keys_open_side_by_side_and_a_bad_one_fails_where_it_is_used():
    threads: set[int] = set()
    good = [_sealed(i, threads=threads) for i in range(4)]
    _, bad = _sealed(4, encrypted_with="another password", threads=threads)  # last: every good one has started
    _, asking = _sealed(5, in_threads=False, threads=threads)  # a backend that may prompt for this key's password
    entries = [entry for _, entry in good] + [bad, asking, good[0][1]]  # an entry given twice is opened once
    open_keys(entries)
    several_cores = usable_cores() >= 2
    assert all(entry.sealed is not several_cores for _, entry in good)
    assert bad.sealed and asking.sealed
    # On one core nothing is opened ahead; on more, each in a worker thread.
    assert (bool(threads) and threading.get_ident() not in threads) is several_cores
    for key, entry in good:
        assert same_key(entry.key, key)
    with pytest.raises(WrongPassword):
        _ = bad.key
    assert bad.sealed  # still: a later use raises again
    assert same_key(asking.key, ec_key(5))
    assert threading.get_ident() in threads  # the one left out was opened here, when used


needs_cores = pytest.mark.skipif(usable_cores() < 2, reason="on one core open_keys opens nothing ahead")


def test_open_keys_imports_neither_concurrent_futures_nor_logging():
    """Its threads are keystores.crypto.kdf_pool's: concurrent.futures imports logging, which costs more than a small
    store's keys (issue 15)."""
    probe = ("import sys\nfrom keystores.lazy_entries import open_keys, sealed_entry\nfrom keystores.model import "
             "EntryKind\nkeys = [sealed_entry(lambda i=i: i, None, None, in_threads=True, label=str(i), "
             "kind=EntryKind.KEY_PAIR, key=None) for i in range(4)]\nopen_keys(keys)\n"
             "assert [k.key for k in keys] == [0, 1, 2, 3]\n"
             "print(sorted(m for m in sys.modules if m.startswith(('concurrent', 'logging'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@needs_cores
def test_after_the_first_failure_the_calls_still_queued_are_dropped():
    """stop_at_failure, as concurrent.futures' FIRST_EXCEPTION with cancel_futures was: a call that raises stops
    the queued ones from starting (the running ones finish)."""
    from keystores.crypto.kdf_pool import Cancelled, KdfPool

    release, ran = threading.Event(), []

    def fail():
        raise WrongPassword("not this one")

    def blocker():
        release.wait(30)
        ran.append("blocker")

    with KdfPool("test", most=2, stop_at_failure=True) as pool:
        jobs = [pool.submit(None, fail), pool.submit(None, blocker),
                *(pool.submit(None, ran.append, n) for n in range(3))]
        jobs[0].wait()
        release.set()
        for job in jobs:
            job.wait()
    with pytest.raises(WrongPassword):
        jobs[0].result()
    assert set(ran) <= {"blocker"}
    for job in jobs[2:]:
        with pytest.raises(Cancelled):
            job.result()


@needs_cores
def test_an_interrupt_while_keys_open_reaches_the_caller_and_leaves_no_thread():
    """Ctrl-C while open_keys waits: KeyboardInterrupt reaches the caller once the running keys are done (the queued
    ones are dropped: test_nss.py's pool tests), no worker thread is left, and every key still opens when used."""
    import _thread

    main, before = threading.get_ident(), _thread._count()
    threads: set[int] = set()
    entries = [_sealed(i, threads=threads)[1] for i in range(8)]
    interrupted = threading.Event()

    def interrupt():
        if not interrupted.is_set():
            interrupted.set()
            signal.pthread_kill(main, signal.SIGINT)
        return ec_key(0)

    entries[0].__dict__["_unseal"] = interrupt
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, whatever ran before
    # No gc callbacks meanwhile: hypothesis registers one once any test used it, and a KeyboardInterrupt the signal
    # handler raises while that callback runs is printed and dropped by the interpreter ("Exception ignored in
    # gc_callback"), not raised to the caller (the fresh-clone suite of 2026-12-07 met it; a CLI run has none)
    callbacks = gc.callbacks[:]
    gc.callbacks.clear()
    try:
        with pytest.raises(KeyboardInterrupt):
            open_keys(entries)
    finally:
        signal.signal(signal.SIGINT, previous)
        gc.callbacks[:] = callbacks
    assert _workers_left(before) == 0
    for index, entry in enumerate(entries[1:], start=1):
        assert same_key(entry.key, ec_key(index))  # each opens when used
