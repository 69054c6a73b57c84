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


def _commit_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """(what, the file or folder's name, the thread) of each fsync, rename and unlink a commit makes, in order."""
    import _thread

    events: list[tuple[str, str, int]] = []
    guard = _thread.allocate_lock()
    real_fsync, real_replace, real_unlink = os.fsync, os.replace, os.unlink

    def note(what: str, name: str) -> None:
        with guard:
            events.append((what, os.path.basename(name), _thread.get_ident()))

    def fsync(fd: int) -> None:
        name = os.readlink(f"/proc/self/fd/{fd}")
        real_fsync(fd)
        note("fsync", name)

    def replace(src: str, dst: str) -> None:
        real_replace(src, dst)
        note("rename", dst)

    def unlink(path: str) -> None:
        real_unlink(path)
        note("unlink", path)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(os, "unlink", unlink)
    return events


def test_a_multi_file_commit_syncs_its_files_side_by_side_before_the_record(tmp_path, monkeypatch):
    """atomic_write_many fsyncs the staged files and the staged intent record each in a thread of its own (a
    journaling file system then commits once for all of them), and all of them before the folder is synced and the
    record is put in place: the record never names a file that might not be on disk. The files hold what was
    given, with their modes."""
    from keystores.fileio import INTENT_PREFIX, atomic_write_many

    files = {str(tmp_path / name): (name.encode() * 100, name.endswith(".sth"))
             for name in ("a.kdb", "a.rdb", "a.crl", "a.sth")}
    events = _commit_events(monkeypatch)
    atomic_write_many(files)
    monkeypatch.undo()
    staged = [e for e in events if e[0] == "fsync" and e[1].startswith(TEMP_PREFIX + "a.")]
    assert sorted(name[len(TEMP_PREFIX):].split(".")[1] for _, name, _ in staged) == ["crl", "kdb", "rdb", "sth"]
    staged += [e for e in events if e[0] == "fsync" and e[1].startswith(TEMP_PREFIX + INTENT_PREFIX)]
    assert len(staged) == 5 and len({thread for *_, thread in staged}) == 5  # the record's too: side by side
    folder_synced = events.index(("fsync", tmp_path.name, events[-1][2]))
    record_in_place = next(i for i, e in enumerate(events) if e[:2] == ("rename", INTENT_PREFIX + "a.kdb"))
    assert max(events.index(e) for e in staged) < folder_synced < record_in_place
    assert all(e[0] != "rename" or e[1].startswith(INTENT_PREFIX) for e in events[:record_in_place + 1])
    for path, (data, private) in files.items():
        assert Path(path).read_bytes() == data
        assert (os.stat(path).st_mode & 0o777) == (0o600 if private else 0o644 & ~_umask())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.crl", "a.kdb", "a.rdb", "a.sth"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("failing", ["a.kdb", "a.sth"])
def test_a_file_that_cannot_be_synced_fails_the_commit_by_its_name(tmp_path, monkeypatch, capfd, failing):
    """An fsync that fails (in this thread or another) fails the whole commit before anything is renamed: the
    error names that file, the targets are as they were, no temp file stays, and no thread prints a traceback."""
    import errno

    from keystores.errors import KeystoreError
    from keystores.fileio import atomic_write_many

    (tmp_path / "a.kdb").write_bytes(b"old kdb")
    files = {str(tmp_path / name): (b"new " + name.encode(), False) for name in ("a.kdb", "a.rdb", "a.crl", "a.sth")}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(TEMP_PREFIX + failing):
            raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(KeystoreError) as raised:
        atomic_write_many(files)
    monkeypatch.undo()
    assert raised.value.store == str(tmp_path / failing) and "Input/output error" in raised.value.reason
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.kdb"]
    assert (tmp_path / "a.kdb").read_bytes() == b"old kdb"
    assert capfd.readouterr().err == ""


def test_an_interrupt_while_files_sync_changes_nothing_once_every_sync_returned(tmp_path, monkeypatch):
    """Ctrl-C while the staged files sync (here: in this thread's fsync) is raised once the other threads' fsyncs
    have returned, and only then are the temp files closed and removed: nothing is renamed, nothing stays."""
    import _thread

    from keystores.fileio import atomic_write_many

    (tmp_path / "a.kdb").write_bytes(b"old kdb")
    files = {str(tmp_path / name): (b"new", False) for name in ("a.kdb", "a.rdb", "a.crl")}
    main = _thread.get_ident()
    events: list[str] = []
    real_fsync, real_close = os.fsync, os.close

    def fsync(fd: int) -> None:
        if _thread.get_ident() == main and os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(TEMP_PREFIX):
            raise KeyboardInterrupt
        time.sleep(0.2)
        real_fsync(fd)
        events.append("synced")

    def close(fd: int) -> None:
        events.append("closed")
        real_close(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "close", close)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_many(files)
    monkeypatch.undo()
    closing = events.index("closed")  # the other files (and the record) synced, in threads, before any closes
    assert closing >= 2 and events[:closing] == ["synced"] * closing and "synced" not in events[closing:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.kdb"]
    assert (tmp_path / "a.kdb").read_bytes() == b"old kdb"


def test_a_commit_does_not_wait_for_its_records_removal(tmp_path, monkeypatch):
    """The last thing a multi-file commit does is remove its intent record: the files were synced, renamed and the
    folder synced before it, and no fsync waits for the removal (a record that comes back after a crash completes
    to nothing: the next test)."""
    from keystores.fileio import INTENT_PREFIX, atomic_write_many

    files = {str(tmp_path / name): (b"new " + name.encode(), False) for name in ("a.kdb", "a.rdb")}
    events = _commit_events(monkeypatch)
    atomic_write_many(files)
    monkeypatch.undo()
    renamed = [i for i, e in enumerate(events) if e[0] == "rename" and not e[1].startswith(INTENT_PREFIX)]
    assert events[renamed[-1] + 1][:2] == ("fsync", tmp_path.name)  # the renames are on disk first
    assert events[-1][:2] == ("unlink", INTENT_PREFIX + "a.kdb")


@pytest.mark.parametrize("reader_may_remove_it", [False, True])
def test_a_finished_commits_record_that_came_back_completes_to_nothing(tmp_path, monkeypatch, reader_may_remove_it):
    """A crash right after a commit may bring its record back (its removal was not synced): the temp files it names
    are gone, so nothing is renamed; whoever may remove the record does, and a reader who may not opens the files
    as they are, whole, without an error."""
    import errno

    from keystores.fileio import INTENT_PREFIX, finish_interrupted_commit

    (tmp_path / "a.kdb").write_bytes(b"new kdb")
    (tmp_path / "a.rdb").write_bytes(b"new rdb")
    record = tmp_path / f"{INTENT_PREFIX}a.kdb"
    record.write_text(f"{TEMP_PREFIX}a.kdb.0badf00d\ta.kdb\n{TEMP_PREFIX}a.rdb.0badf00d\ta.rdb\n")
    real_unlink = os.unlink

    def unlink(path: str) -> None:
        if os.path.basename(path) == record.name:
            raise OSError(errno.EACCES, "Permission denied")
        real_unlink(path)

    if not reader_may_remove_it:
        monkeypatch.setattr(os, "unlink", unlink)
    finish_interrupted_commit(tmp_path / "a.kdb")
    monkeypatch.undo()
    assert record.exists() != reader_may_remove_it
    assert (tmp_path / "a.kdb").read_bytes() == b"new kdb" and (tmp_path / "a.rdb").read_bytes() == b"new rdb"


@pytest.mark.parametrize("how", ["atomic_write", "one file of atomic_write_many", "write_after"])
def test_a_renamed_temp_file_is_not_removed_again(tmp_path, monkeypatch, how):
    """Once a temp file is renamed into place there is nothing left to remove: no unlink follows the rename (it
    could only fail, or remove a file someone else made under that name since), and the file is whole."""
    from keystores.fileio import atomic_write_many, write_after

    target = tmp_path / "a.pem"
    target.write_bytes(b"old")
    events = _commit_events(monkeypatch)
    noted_unlink = os.unlink

    def unlink(path: str) -> None:  # tried, whether or not it succeeds (_commit_events notes the ones that do)
        events.append(("unlink tried", os.path.basename(path), 0))
        noted_unlink(path)

    monkeypatch.setattr(os, "unlink", unlink)
    if how == "atomic_write":
        atomic_write(str(target), b"new")
    elif how == "write_after":
        write_after(str(target), b"new").commit()
    else:
        atomic_write_many({str(target): (b"new", False)})
    monkeypatch.undo()
    assert [e[:2] for e in events if e[0] != "fsync"] == [("rename", "a.pem")]
    assert target.read_bytes() == b"new" and not [p for p in tmp_path.iterdir() if p.name.startswith(TEMP_PREFIX)]
