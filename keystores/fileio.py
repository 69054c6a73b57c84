"""Atomic, locked writes: a failed or killed write leaves every file exactly as it was.

Writers take an exclusive flock on the store's *folder* for the whole read-modify-write, so two writers cannot
lose each other's entries and no lock file is left beside the store. Readers take no lock: a rename is atomic,
so they see the old file or the new one, never half of one.

A writer killed mid-write (SIGKILL, power loss) cannot remove its temp file; the next writer to take the folder
lock does (keystores.fileio_recover). A temp file is flocked by its writer until renamed, so a live writer's temp
file (one not under this folder lock) is never taken for a dead one.

What a single-file write runs is here; a multi-file commit (keystores.fileio_many.atomic_write_many) and a file that
lands after another write (keystores.fileio_after.write_after) are modules of their own, loaded where used and still
served from here by name (start-up speed, issue 15).
"""

from __future__ import annotations

import os
import stat
import time

from keystores import paths
from keystores.errors import KeystoreError
from keystores.fileread import INTENT_PREFIX, _io_error, finish_interrupted_commit, open_source, read_bytes
from keystores.lightweight import suppress

TEMP_PREFIX = ".keystores-tmp-"
__all__ = ["INTENT_PREFIX", "TEMP_PREFIX", "atomic_write", "changed", "finish_interrupted_commit", "folder_lock",
           "open_source", "read_bytes"]  # (the reading half is keystores.fileread's; the moved names: __getattr__)

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
                _recover(folder, time.time())
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
        # Ctrl-C during the rename (a slow system call) was raised as it returned, before the file was counted in
        # `changed`: the CLI said "nothing was changed" of a file it had replaced. Too late to stop, it is ignored,
        # as a decided commit's renames ignore it (fileio_many).
        with _interrupts_held():
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
    mode and owner, synced (unless `sync` is False: the caller syncs it, fileio_many._sync_side_by_side), and left
    open and flocked ("alive": the sweeper leaves it alone)."""
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
    # Ctrl-C as the open returns (it creates the file) would leave the file behind, not yet known to be removed:
    # ignored until it is (microseconds; the writing below stays interruptible, and removes it)
    with _interrupts_held():
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


def _keep_owner(fd: int, existing: os.stat_result) -> None:
    """Give the temp file the old file's owner (root only) and group (anyone who belongs to it may)."""
    if os.geteuid() == 0:
        with suppress(OSError):
            os.fchown(fd, existing.st_uid, existing.st_gid)
    elif existing.st_gid != os.getegid():
        with suppress(OSError):  # EPERM: we are not in that group, and the file becomes ours
            os.fchown(fd, -1, existing.st_gid)


def _recover(folder: str, locked_at: float) -> None:
    """What a killed writer left in `folder`, put right (called with the folder lock held, `locked_at` when it was
    taken): an interrupted multi-file commit completed, then its stale temp files removed. One listing of the folder
    finds both; the code that acts on them (keystores.fileio_recover) is loaded only when there is something to act
    on, which after a clean run there is not (start-up speed of every write, issue 15)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    records = sorted(n for n in names if n.startswith(INTENT_PREFIX))
    if records:
        from keystores.fileio_recover import _complete_commits

        _complete_commits(folder, records)  # before the sweep, which would take a decided commit's files for litter
        try:
            names = os.listdir(folder)  # what the records named is renamed away
        except OSError:
            return
    stale = [n for n in names if n.startswith(TEMP_PREFIX)]
    if stale:
        from keystores.fileio_recover import _sweep_stale_temps

        _sweep_stale_temps(folder, locked_at, stale)


def _fsync_folder(folder: str) -> None:
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _interrupts_held:
    """Ignore SIGINT while a decided commit renames its files, or a temp file is created and not yet known (main
    thread only; others cannot set handlers, and are refused with ValueError). Through `_signal`, the built-in
    module the `signal` module wraps: `signal` imports enum (and functools, collections) to name handlers, ~2 ms of
    every .kdb and NSS write (start-up)."""

    def __enter__(self) -> None:
        import _signal

        self._previous = None
        with suppress(ValueError):  # not the main thread
            self._previous = _signal.signal(_signal.SIGINT, _signal.SIG_IGN)

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            import _signal

            _signal.signal(_signal.SIGINT, self._previous)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Names that moved to modules of their own, served from here for callers that import them from keystores.fileio.
_MANY_NAMES = frozenset({"atomic_write_many", "_sync_side_by_side"})
_AFTER_NAMES = frozenset({"write_after", "WriteAfter"})


def __getattr__(name: str) -> object:
    if name in _MANY_NAMES:
        from keystores import fileio_many

        return getattr(fileio_many, name)
    if name in _AFTER_NAMES:
        from keystores import fileio_after

        return getattr(fileio_after, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
