"""Crash safety: `keystores import`/`convert` killed with SIGKILL at many points while rewriting a big store.

Afterwards the store must open whole, holding exactly the old entry set or the new one, and the next writer must
leave no temporary file (fileio.TEMP_PREFIX) behind: a SIGKILLed writer cannot remove its own, so the next one to
take the folder lock sweeps it (fileio._sweep_stale_temps). Short by default; `--long` kills at many more points.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hardening import (
    FILE_FORMATS,
    PASSWORD,
    base_entries,
    bulk_entries,
    files_of,
    folder_of,
    labels_of,
    location,
    make_store,
    temp_files,
    usable,
)

from keystores import formats
from keystores.fileio import TEMP_PREFIX, atomic_write, folder_lock

# NSS writes row by row through sqlite and is far slower per entry than the one-blob formats.
BULK = {"nss": 4}
BULK_DEFAULT = 120
# import runs for every format in CI; convert (the same atomic write, but a fresh store) for two, all with --long
CASES = [pytest.param(fmt, command, marks=() if command == "import" or fmt in ("jks", "cms") else pytest.mark.slow)
         for command in ("import", "convert") for fmt in FILE_FORMATS]


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[int, str]:
    """A PKCS#12 source store per bulk size (trusted certificates only, so it loads fast)."""
    folder = tmp_path_factory.mktemp("crash-src")
    made = {}
    for count in sorted(set(BULK.values()) | {BULK_DEFAULT}):
        path = str(folder / f"src{count}.p12")
        make_store("pkcs12", path, bulk_entries(count))
        made[count] = path
    return made


def _argv(command: str, src: str, dest: str) -> list[str]:
    argv = [sys.executable, "-m", "keystores", command, src, dest, "--password", "env:KS_PW",
            "--dest-password", "env:KS_PW"]
    return argv + (["--force"] if command == "convert" else [])


def _start(command: str, src: str, dest: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(_argv(command, src, dest), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "KS_PW": PASSWORD})


def _kill(proc: subprocess.Popen[bytes]) -> bool:
    """SIGKILL `proc`; True when it was still running (the kill interrupted it)."""
    alive = proc.poll() is None
    if alive:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    return alive


def _restore(saved: Path, folder: Path) -> None:
    shutil.rmtree(folder)
    shutil.copytree(saved, folder, symlinks=True)


def _kill_when_temp_appears(proc: subprocess.Popen[bytes], folder: Path, limit: float) -> bool:
    """Poll for a temp file and SIGKILL the writer the moment one shows; True when one was seen before the end."""
    end = time.monotonic() + limit
    while time.monotonic() < end and proc.poll() is None:
        with os.scandir(folder) as names:
            if any(n.name.startswith(TEMP_PREFIX) for n in names):
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=60)
                return True
    _kill(proc)
    return False


@pytest.mark.parametrize(("fmt", "command"), CASES)
def test_sigkill_leaves_old_or_new_store(fmt, command, sources, tmp_path, request):
    usable(fmt)
    long_run = request.config.getoption("--long")
    count = BULK.get(fmt, BULK_DEFAULT)
    src = sources[count]
    work = tmp_path / "work"
    work.mkdir()
    dest = location(fmt, work)
    make_store(fmt, dest, base_entries())
    folder = folder_of(dest)
    old = labels_of(dest)
    bulk = {f"bulk-{i:04d}" for i in range(count)}
    # convert --force starts a file store afresh; a folder store (NSS) is added to (open_store's `fresh` contract)
    new = bulk | old if command == "import" or formats.get(fmt).storage is formats.Storage.FOLDER else bulk
    saved = tmp_path / "saved"
    shutil.copytree(work, saved, symlinks=True)

    started = time.monotonic()
    done = subprocess.run(_argv(command, src, dest), capture_output=True, text=True, check=False,
                          env={**os.environ, "KS_PW": PASSWORD}, timeout=300)
    full = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert labels_of(dest) == new

    rng = random.Random(f"{fmt}-{command}")
    kills = 14 if long_run else 1
    interrupted = 0
    seen_states = set()
    for attempt in range(kills + 1):
        _restore(saved, work)
        proc = _start(command, src, dest)
        if attempt == kills:
            # The last attempt aims at the write itself: kill as soon as a temp file shows. How long a run takes
            # varies with the machine's load, so a run that ends before the poll sees its temp file is retried.
            for _ in range(5):
                if _kill_when_temp_appears(proc, folder, full * 3):
                    interrupted += 1
                    break
                _restore(saved, work)
                proc = _start(command, src, dest)
            else:
                _kill(proc)
        else:
            time.sleep(rng.uniform(0.15, 1.05) * full)
            interrupted += _kill(proc)
        after = labels_of(dest)  # raises (fails the test) if the store does not open whole
        assert after in (old, new), f"attempt {attempt}: {len(after)} entries, neither the old nor the new set"
        seen_states.add("new" if after == new else "old")
        # the next writer sweeps what the killed one left
        with folder_lock(files_of(dest)[0]):
            pass
        assert temp_files(folder) == []
        assert labels_of(dest) == after
    assert interrupted, "no kill landed while the command was running; the test proved nothing"


def _dead_writer(tmp: Path, *, hold: bool) -> subprocess.Popen[bytes]:
    """A process that creates a temp file the way atomic_write does (flocked), writes half, then dies or waits."""
    code = (
        "import fcntl, os, signal, sys, time\n"
        f"fd = os.open({str(tmp)!r}, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "os.write(fd, b'half a store')\n"
        "print('ready', flush=True)\n"
        + ("time.sleep(60)\n" if hold else "os.kill(os.getpid(), signal.SIGKILL)\n")
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    return proc


def test_next_writer_sweeps_a_dead_writers_temp_file(tmp_path):
    store = tmp_path / "a.p12"
    stale = tmp_path / f"{TEMP_PREFIX}a.p12.deadbeef"
    proc = _dead_writer(stale, hold=False)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL and stale.exists()
    atomic_write(tmp_path / "unrelated.txt", b"x")  # a lockless write does not sweep
    assert stale.exists()
    with folder_lock(store):
        pass
    assert not stale.exists()
    assert (tmp_path / "unrelated.txt").read_bytes() == b"x"


def test_sweep_spares_a_live_writers_temp_file_and_other_files(tmp_path):
    live = tmp_path / f"{TEMP_PREFIX}b.jks.cafe0001"
    proc = _dead_writer(live, hold=True)
    try:
        lookalike = tmp_path / "keystores-tmp-not-ours"
        lookalike.write_bytes(b"keep")
        folder_link = tmp_path / f"{TEMP_PREFIX}link"
        folder_link.symlink_to(lookalike)
        with folder_lock(tmp_path / "b.jks"):
            pass
        assert live.read_bytes() == b"half a store"  # flocked by a live process: not ours to remove
        assert lookalike.read_bytes() == b"keep"
        assert folder_link.is_symlink()  # never follow or remove a symlink that merely has our prefix
    finally:
        proc.kill()
        proc.wait(timeout=30)
    with folder_lock(tmp_path / "b.jks"):
        pass
    assert not live.exists()


def test_sweep_spares_temp_files_newer_than_the_lock(tmp_path):
    """A file made after the lock was taken (mtime in the future of the sweep) is never a dead writer's."""
    future = tmp_path / f"{TEMP_PREFIX}c.pem.0badf00d"
    future.write_bytes(b"new")
    later = time.time() + 3600
    os.utime(future, (later, later))
    with folder_lock(tmp_path / "c.pem"):
        pass
    assert future.exists()


def _kill_sqlite_writer_mid_transaction(db: Path) -> None:
    """Leave `db` as a writer killed inside its transaction leaves it: changed pages and a hot journal."""
    code = (
        "import os, signal, sqlite3\n"
        f"conn = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
        "conn.execute('PRAGMA cache_size=1')\n"  # spill changed pages to the file before the commit
        "conn.execute('BEGIN IMMEDIATE')\n"
        "conn.execute('UPDATE nssPublic SET a3=randomblob(3000)')\n"
        "conn.execute('CREATE TABLE spill(x)')\n"
        "conn.execute('INSERT INTO spill SELECT randomblob(5000) FROM nssPublic')\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False)
    assert done.returncode == -signal.SIGKILL
    assert Path(f"{db}-journal").exists()


def test_nss_reader_after_a_writer_killed_mid_transaction(tmp_path):
    usable("nss")
    loc = location("nss", tmp_path)
    make_store("nss", loc, base_entries())
    before = labels_of(loc)
    _kill_sqlite_writer_mid_transaction(tmp_path / "nssdb" / "cert9.db")
    assert labels_of(loc) == before


def test_nss_writer_after_a_writer_killed_mid_transaction(tmp_path):
    """The next writer rolls the dead one's transaction back and carries on."""
    usable("nss")
    loc = location("nss", tmp_path)
    make_store("nss", loc, base_entries())
    before = labels_of(loc)
    _kill_sqlite_writer_mid_transaction(tmp_path / "nssdb" / "cert9.db")
    from keystores.store import open_store

    with open_store(loc, password=PASSWORD, writable=True) as store:
        store.add(bulk_entries(1, "after")[0])
    assert labels_of(loc) == before | {"after-0000"}
