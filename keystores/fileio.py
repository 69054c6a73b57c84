"""Atomic, locked writes: a failed or killed write leaves every file exactly as it was.

Writers take an exclusive flock on the store's *folder* for the whole read-modify-write, so two writers cannot
lose each other's entries and no lock file is left beside the store. Readers take no lock: a rename is atomic,
so they see the old file or the new one, never half of one.

A writer killed mid-write (SIGKILL, power loss) cannot remove its temp file; the next writer to take the folder
lock does (`_sweep_stale_temps`). A temp file is flocked by its writer until renamed, so a live writer's temp
file (one not under this folder lock) is never taken for a dead one.
"""

from __future__ import annotations

import errno
import os
import stat
import time

from keystores import paths
from keystores.errors import KeystoreError
from keystores.fileread import INTENT_PREFIX, _io_error, finish_interrupted_commit, open_source, read_bytes
from keystores.lightweight import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

TEMP_PREFIX = ".keystores-tmp-"
__all__ = ["INTENT_PREFIX", "TEMP_PREFIX", "atomic_write", "atomic_write_many", "changed", "finish_interrupted_commit",
           "folder_lock", "open_source", "read_bytes", "write_after"]  # (the reading half is keystores.fileread's)

# The stores this process has replaced so far, in order: after an interrupt the CLI says which ones were written
# (each whole, being atomic) and that nothing else was changed.
changed: list[str] = []


# Folders this process holds locked: realpath -> [fd, count]. folder_lock is re-entrant within a process, so
# open_store can hold the lock across "does it exist?" and the backend's own open (which locks again, and keeps
# the lock after open_store returns); the flock is dropped when the last holder lets go.
_held: dict[str, list[int]] = {}


class folder_lock:
    """Hold an exclusive lock on the folder that holds `path` (or on `path` itself if it is a folder), from
    entering the `with` block to leaving it.

    Re-entrant within one process (not across threads of it: the CLI is single-threaded). A class rather than a
    contextlib.contextmanager: contextlib (with collections and functools) is not imported to open a store
    (keystores.lightweight).
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self._path, self._timeout = path, timeout
        self._key: str | None = None

    def __enter__(self) -> None:
        # The lock belongs to the folder of the *resolved* path: a writer through a symlink and one through the
        # real path must take the same lock, as both write beside the real file.
        target = os.path.realpath(self._path)
        folder = target if paths.is_dir(target) else paths.parent(target)
        if folder in _held:
            _held[folder][1] += 1
        else:
            _held[folder] = [_acquire(folder, self._path, self._timeout), 1]
            try:
                locked_at = time.time()
                _complete_commits(folder)  # before the sweep, which would take a decided commit's files for litter
                _sweep_stale_temps(folder, locked_at)
            except BaseException:
                _release(folder)
                raise
        self._key = folder

    def __exit__(self, *exc: object) -> None:
        key, self._key = self._key, None
        if key is not None:
            _release(key)


def _acquire(folder: str, path: str | os.PathLike[str], timeout: float) -> int:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise _io_error(folder, exc, "open the folder") from exc
    import fcntl  # here: a command that only reads locks nothing, and fcntl is a shared library to load (start-up)

    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                from keystores.errors import StoreLocked  # made on first use (keystores.errors): when it is raised

                os.close(fd)
                raise StoreLocked(f"another process has held the lock for {timeout:.0f}s", store=paths.normal(path)) \
                    from None
            time.sleep(0.01)


def _release(key: str) -> None:
    holder = _held[key]
    holder[1] -= 1
    if holder[1] == 0:
        del _held[key]
        os.close(holder[0])  # closing drops the flock


def atomic_write(path: str | os.PathLike[str], data: bytes, *, private: bool = False,
                 clear_secret: bool = False, record: bool = True) -> None:
    """Write `data` to `path` by temp file + fsync + rename + folder fsync.

    An existing file keeps its mode, owner and group (the group also for a non-root user who belongs to it, as
    `cp -p` would); a new one is 0600 when `private` (keys, stashes), else 0644 less the umask. `clear_secret`
    (an unencrypted key) makes the file owner-only (0600) whatever the old mode was. Only a regular file or a
    new path is written: a FIFO or device at `path` is refused, never replaced. `record=False` leaves the file
    out of `changed` (a backup beside a store, a commit's intent record).
    """
    target = _write_target(paths.normal(path))
    staged = _stage(target, data, private=private, clear_secret=clear_secret)
    renamed = False
    try:
        try:
            os.replace(staged.tmp, target)  # while still flocked, so the temp file is never unguarded
        except OSError as exc:
            raise _io_error(target, exc, "write") from exc
        renamed = True
        if record and not paths.name(path).startswith(TEMP_PREFIX):
            changed.append(os.fspath(path))
    finally:
        staged.discard(keep=renamed)
    _fsync_folder(paths.parent(target))


def write_after(path: str | os.PathLike[str], data: bytes) -> WriteAfter:
    """atomic_write of `data` to `path` (a new file 0644 less the umask, or the old one's mode), for a file that
    lands after another write (certreq's request, once its key's store is saved): its temp file is written now and
    synced on a thread of its own (`_thread`: fsync releases the GIL) while that write goes on, and `commit()`
    renames it into place and syncs the folder, as atomic_write does; `discard()` drops it. The same steps in the
    same order as atomic_write after the other write (temp file synced, renamed, folder synced): only its fsync
    waits beside the other write's work instead of after it (bench/bench_core.py "certreq")."""
    import _thread

    target = _write_target(paths.normal(path))
    staged = _stage(target, data, private=False, clear_secret=False, sync=False)
    ahead = WriteAfter(os.fspath(path), target, staged)
    ahead._done.acquire()  # released by the thread when its fsync returned
    try:
        _thread.start_new_thread(ahead._sync, ())
    except RuntimeError:  # no thread to be had: synced here instead
        ahead._sync()
    return ahead


class WriteAfter:
    """write_after's file: staged, its fsync under way."""

    __slots__ = ("_done", "_failure", "_path", "_staged", "_target")

    def __init__(self, path: str, target: str, staged: _Staged) -> None:
        import _thread

        self._path, self._target, self._staged = path, target, staged
        self._done = _thread.allocate_lock()
        self._failure: OSError | None = None

    def _sync(self) -> None:
        try:
            os.fsync(self._staged.fd)
        except OSError as exc:
            self._failure = exc
        finally:
            self._done.release()

    def _synced(self) -> None:
        """Wait for the fsync (an interrupt meanwhile is raised once it has returned: the file stays open till then)."""
        interrupt: BaseException | None = None
        while True:
            try:
                self._done.acquire()
                break
            except BaseException as exc:
                interrupt = interrupt or exc
        self._done.release()  # (a second call returns at once)
        if interrupt is not None:
            self.discard()
            raise interrupt

    def commit(self) -> None:
        """Rename the synced file into place and sync its folder, as atomic_write does."""
        self._synced()
        renamed = False
        try:
            if self._failure is not None:
                raise _io_error(self._target, self._failure, "write")
            try:
                os.replace(self._staged.tmp, self._target)  # while still flocked, as atomic_write
            except OSError as exc:
                raise _io_error(self._target, exc, "write") from exc
            renamed = True
            if not paths.name(self._path).startswith(TEMP_PREFIX):
                changed.append(self._path)
        finally:
            self._staged.discard(keep=renamed)
        _fsync_folder(paths.parent(self._target))

    def discard(self) -> None:
        """Drop the staged file (nothing is written)."""
        self._synced()
        self._staged.discard()


def atomic_write_many(files: dict[str, tuple[bytes, bool]] | dict[Path, tuple[bytes, bool]]) -> None:
    """Write several companion files (a .kdb with its .rdb and .sth, NSS's two databases) as one commit.

    Every temp file is written and synced first; then an intent record naming them is written, and from that
    moment the commit is decided: the temp files are renamed one by one and the record removed. A writer killed
    between two renames leaves the record, and the next process to lock the folder (or to open the store:
    `finish_interrupted_commit`) renames the rest, so the files never stay split across two passwords.
    Ctrl-C during the renames (a few milliseconds) is too late to stop the commit and is ignored.

    One file (a .kdb changed without its companions: import, trust, delete) is committed by its rename alone, which
    is atomic: no intent record, so 4 fsyncs fewer (start-up of a .kdb write).
    """
    targets = [_write_target(paths.normal(path)) for path in files]
    if len(targets) == 1:
        ((data, private),) = files.values()
        alone = _stage(targets[0], data, private=private, clear_secret=False)
        renamed = False
        try:
            with _interrupts_held():
                try:
                    os.replace(alone.tmp, targets[0])
                except OSError as exc:
                    raise _io_error(targets[0], exc, "write") from exc
                renamed = True
                changed.append(targets[0])
        finally:
            alone.discard(keep=renamed)
        _fsync_folder(paths.parent(targets[0]))
        return
    if len({paths.parent(t) for t in targets}) != 1:  # a record could not name them otherwise
        raise KeystoreError("companion files of one store must share a folder", store=targets[0])
    folder = paths.parent(targets[0])
    intent = _write_target(paths.join(folder, f"{INTENT_PREFIX}{paths.name(targets[0])}"))
    staged: list[_Staged] = []
    decided = False
    try:
        for target, (data, private) in zip(targets, files.values(), strict=True):
            staged.append(_stage(target, data, private=private, clear_secret=False, sync=False))
        lines = "".join(f"{paths.name(s.tmp)}\t{paths.name(t)}\n" for s, t in zip(staged, targets, strict=True))
        # The record is staged with the files and synced beside them (one wait, not two); until its rename it is a
        # temp file like them, and the folder is synced before it: it never names a file that may not be on disk.
        record = _stage(intent, lines.encode("utf-8"), private=True, clear_secret=False, sync=False)
        try:
            _sync_side_by_side([*staged, record], [*targets, intent])
            _fsync_folder(folder)
            # An interrupt up to here leaves the files as they were: the staged files are discarded, and a record
            # naming only missing files completes to nothing.
            try:
                os.replace(record.tmp, intent)
            except OSError as exc:
                raise _io_error(intent, exc, "write") from exc
        finally:
            record.discard()
        _fsync_folder(folder)
        decided = True
        try:
            with _interrupts_held():
                for item, target in zip(staged, targets, strict=True):
                    os.replace(item.tmp, target)
                    changed.append(target)
                _fsync_folder(folder)
                os.unlink(intent)
        except OSError as exc:
            raise _io_error(targets[0], exc, "write") from exc
    finally:
        for item in staged:
            item.discard(keep=decided)  # a decided commit's files are the record's to finish, not litter
    # The record's removal is not waited for: the files are on disk, renamed, and the folder synced after the renames;
    # a record that comes back after a crash names temp files that are gone, and completes to nothing (a reader who
    # may not remove it leaves it, _complete_commits). One wait fewer per commit.


def _complete_commits(folder: str) -> None:
    """Rename what intent records in `folder` name, then drop the records (called with the folder lock held)."""
    try:
        records = sorted(n for n in os.listdir(folder) if n.startswith(INTENT_PREFIX))
    except OSError:
        return
    for name in records:
        record = paths.join(folder, name)
        try:
            with open(record, "rb") as file:
                moves = [line.partition("\t")[::2] for line in file.read().decode("utf-8").splitlines()]
            for tmp_name, target_name in moves:  # all checked before any is done: our temp files, this folder
                if "/" in tmp_name + target_name or not tmp_name.startswith(TEMP_PREFIX) or not target_name:
                    raise ValueError(tmp_name)
            moved = False
            for tmp_name, target_name in moves:
                with suppress(FileNotFoundError):  # renamed before the writer died
                    os.replace(paths.join(folder, tmp_name), paths.join(folder, target_name))
                    moved = True
            _fsync_folder(folder)  # the renames are on disk before the record that asks for them goes
            try:
                os.unlink(record)
            except OSError as exc:
                # A record that named nothing left to rename belongs to a commit that finished: only its removal
                # had not reached the disk (atomic_write_many does not wait for it). A reader who may not change
                # the folder (or a read-only file system) leaves it to the next writer; the files are whole.
                if moved or exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = exc if isinstance(exc, OSError) else OSError(errno.EINVAL, "the record is damaged")
            raise _io_error(record, reason, "complete an interrupted write") from None
    if records:
        _fsync_folder(folder)


class _interrupts_held:
    """Ignore SIGINT while a decided commit renames its files (main thread only; others cannot set handlers, and
    are refused with ValueError). Through `_signal`, the built-in module the `signal` module wraps: `signal` imports
    enum (and functools, collections) to name handlers, ~2 ms of every .kdb and NSS write (start-up)."""

    def __enter__(self) -> None:
        import _signal

        self._previous = None
        with suppress(ValueError):  # not the main thread
            self._previous = _signal.signal(_signal.SIGINT, _signal.SIG_IGN)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            import _signal

            _signal.signal(_signal.SIGINT, self._previous)


class _Staged:
    """A temp file written, synced and flocked beside its target; `discard` closes it and removes what is left.
    `keep`: nothing to remove (the caller renamed it into place: an unlink would only fail, an OSError raised and
    caught for nothing on every write; or a decided commit's record is to finish it)."""

    def __init__(self, tmp: str, fd: int) -> None:
        self.tmp = tmp
        self.fd = fd

    def discard(self, *, keep: bool = False) -> None:
        if self.fd >= 0:
            if not keep:
                with suppress(OSError):
                    os.unlink(self.tmp)
            os.close(self.fd)
            self.fd = -1


def _write_target(target: str) -> str:
    """The path a write really replaces: through a symlink (the link stays), and only a regular file or nothing.
    `target` is in pathlib's spelling (paths.normal), and so is the answer."""
    if paths.is_symlink(target):
        target = paths.normal(os.path.realpath(target))  # the rename happens beside the real file
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise _io_error(target, exc, "read the file's mode") from exc
    if stat.S_ISDIR(existing.st_mode):
        raise KeystoreError("is a folder, not a file", store=target)
    if not stat.S_ISREG(existing.st_mode):
        kind = "a FIFO" if stat.S_ISFIFO(existing.st_mode) else "a socket" if stat.S_ISSOCK(existing.st_mode) \
            else "a device"
        raise KeystoreError(f"is {kind}, not a regular file; only regular files (or new paths) are written",
                            store=target)
    return target


def _stage(target: str, data: bytes, *, private: bool, clear_secret: bool, sync: bool = True) -> _Staged:
    """Write `data` to a new temp file beside `target`: created 0600 (before the first byte), given the final
    mode and owner, synced (unless `sync` is False: the caller syncs it, _sync_side_by_side), and left open and
    flocked ("alive": the sweeper leaves it alone)."""
    folder = paths.parent(target)
    try:
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise _io_error(target, exc, "read the file's mode") from exc
    mode = stat.S_IMODE(existing.st_mode) if existing else (0o600 if private else 0o644 & ~_umask())
    if clear_secret:
        mode &= 0o700
    # os.urandom: secrets.token_hex without importing random
    tmp = paths.join(folder, f"{TEMP_PREFIX}{paths.name(target)}.{os.urandom(4).hex()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise _io_error(target, exc, "write") from exc
    staged = _Staged(tmp, fd)
    try:
        import fcntl  # see _acquire

        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if existing is not None:
            _keep_owner(fd, existing)
        os.fchmod(fd, mode)  # after fchown, which may clear set-id bits
        if sync:
            os.fsync(fd)
    except OSError as exc:
        staged.discard()
        raise _io_error(target, exc, "write") from exc
    except BaseException:
        staged.discard()
        raise
    return staged


def _sync_side_by_side(staged: list[_Staged], targets: list[str]) -> None:
    """fsync every staged file, the first in this thread and each other one in a thread of its own (`_thread`:
    fsync releases the GIL, and threading would cost more to import than it saves), and return when all are synced.
    A journaling file system commits once for the fsyncs that wait together, where one after another each waits for
    a commit of its own: a new .kdb's four files took four journal commits. Nothing is weaker: every file is on disk
    before the folder is synced and the intent record written. An interrupt while they run is raised once every
    fsync has returned (the caller then closes and removes the files), as is the first failure, named by its
    target; a thread that cannot be started leaves its file to this one."""
    import _thread

    failures: dict[int, OSError] = {}

    def sync(index: int, done: _thread.LockType | None) -> None:
        try:
            os.fsync(staged[index].fd)
        except OSError as exc:
            failures[index] = exc
        finally:
            if done is not None:
                done.release()

    running: list[_thread.LockType] = []
    interrupt: BaseException | None = None
    try:
        for index in range(1, len(staged)):
            done = _thread.allocate_lock()
            done.acquire()  # released by the thread when its fsync returned
            try:
                _thread.start_new_thread(sync, (index, done))
            except RuntimeError:  # no thread to be had: synced here instead
                sync(index, None)
                continue
            running.append(done)
        if staged:
            sync(0, None)
    except BaseException as exc:  # an interrupt: the files stay open until every thread is done with them
        interrupt = exc
    for done in running:
        while True:
            try:
                done.acquire()
                break
            except BaseException as exc:  # an interrupt while waiting: the others are waited for all the same
                interrupt = interrupt or exc
    if interrupt is not None:
        raise interrupt
    if failures:
        first = min(failures)
        raise _io_error(targets[first], failures[first], "write")


def _keep_owner(fd: int, existing: os.stat_result) -> None:
    """Give the temp file the old file's owner (root only) and group (anyone who belongs to it may)."""
    if os.geteuid() == 0:
        with suppress(OSError):
            os.fchown(fd, existing.st_uid, existing.st_gid)
    elif existing.st_gid != os.getegid():
        with suppress(OSError):  # EPERM: we are not in that group, and the file becomes ours
            os.fchown(fd, -1, existing.st_gid)


def _sweep_stale_temps(folder: str, locked_at: float) -> None:
    """Remove temp files that killed writers left in `folder` (called with the folder lock held).

    Only files older than the lock and not flocked by a live writer go: whoever made them held this lock
    before us (and is gone) or is a dead lockless writer.
    """
    try:
        names = [n for n in os.listdir(folder) if n.startswith(TEMP_PREFIX)]
    except OSError:
        return
    import fcntl  # see _acquire

    for name in names:
        path = paths.join(folder, name)
        with suppress(OSError):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_mtime > locked_at:
                    continue
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a live writer holds it
                os.unlink(path)
            finally:
                os.close(fd)


def _fsync_folder(folder: str) -> None:
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
