"""Atomic, locked writes: a failed or killed write leaves every file exactly as it was.

Writers take an exclusive flock on the store's *folder* for the whole read-modify-write, so two writers cannot
lose each other's entries and no lock file is left beside the store. Readers take no lock: a rename is atomic,
so they see the old file or the new one, never half of one.

A writer killed mid-write (SIGKILL, power loss) cannot remove its temp file; the next writer to take the folder
lock does (`_sweep_stale_temps`). A temp file is flocked by its writer until renamed, so a live writer's temp
file (one not under this folder lock) is never taken for a dead one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from keystores.errors import KeystoreError, StoreLocked

TEMP_PREFIX = ".keystores-tmp-"

# The stores this process has replaced so far, in order: after an interrupt the CLI says which ones were written
# (each whole, being atomic) and that nothing else was changed.
changed: list[str] = []


def _io_error(path: Path, exc: OSError, doing: str) -> KeystoreError:
    reason = {errno.ENOSPC: "disk full", errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
              errno.EPERM: "permission denied", errno.EDQUOT: "disk quota exceeded"}.get(exc.errno or 0,
                                                                                         exc.strerror or str(exc))
    return KeystoreError(f"cannot {doing}: {reason}", store=str(path))


# Folders this process holds locked: realpath -> [fd, count]. folder_lock is re-entrant within a process, so
# open_store can hold the lock across "does it exist?" and the backend's own open (which locks again, and keeps
# the lock after open_store returns); the flock is dropped when the last holder lets go.
_held: dict[str, list[int]] = {}


@contextlib.contextmanager
def folder_lock(path: str | os.PathLike[str], *, timeout: float = 30.0) -> Iterator[None]:
    """Hold an exclusive lock on the folder that holds `path` (or on `path` itself if it is a folder).

    Re-entrant within one process (not across threads of it: the CLI is single-threaded).
    """
    target = Path(path)
    folder = target if target.is_dir() else target.parent
    folder = folder if str(folder) else Path(".")
    key = os.path.realpath(folder)
    if key in _held:
        _held[key][1] += 1
    else:
        _held[key] = [_acquire(folder, path, timeout), 1]
        try:
            _sweep_stale_temps(folder, time.time())
        except BaseException:
            _release(key)
            raise
    try:
        yield
    finally:
        _release(key)


def _acquire(folder: Path, path: str | os.PathLike[str], timeout: float) -> int:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise _io_error(folder, exc, "open the folder") from exc
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise StoreLocked(f"another process has held the lock for {timeout:.0f}s", store=str(path)) from None
            time.sleep(0.01)


def _release(key: str) -> None:
    holder = _held[key]
    holder[1] -= 1
    if holder[1] == 0:
        del _held[key]
        os.close(holder[0])  # closing drops the flock


def atomic_write(path: str | os.PathLike[str], data: bytes, *, private: bool = False, record: bool = True) -> None:
    """Write `data` to `path` by temp file + fsync + rename + folder fsync.

    An existing file keeps its mode and owner; a new one is 0600 when `private` (keys, stashes), else 0644
    less the umask. `record=False` leaves the file out of `changed` (a backup beside a store).
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise _io_error(target, exc, "read the file's mode") from exc
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise KeystoreError("is a folder, not a file", store=str(target))
    if target.is_symlink():
        # Write through the link so the link itself stays; the rename happens beside the real file.
        target = target.resolve()
        folder = target.parent
    tmp = folder / f"{TEMP_PREFIX}{target.name}.{secrets.token_hex(4)}"
    mode = stat.S_IMODE(existing.st_mode) if existing else (0o600 if private else 0o644 & ~_umask())
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise _io_error(target, exc, "write") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # "alive": the sweeper leaves a flocked temp file alone
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fchmod(fd, mode)
            if existing is not None and os.geteuid() == 0:
                with contextlib.suppress(OSError):
                    os.fchown(fd, existing.st_uid, existing.st_gid)
            os.fsync(fd)
            os.replace(tmp, target)  # while still flocked, so the temp file is never unguarded
            if record and not Path(path).name.startswith(TEMP_PREFIX):
                changed.append(str(path))
        finally:
            os.close(fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise _io_error(target, exc, "write") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_folder(folder)


def atomic_write_many(files: dict[Path, tuple[bytes, bool]]) -> None:
    """Write several companion files (a .kdb and its .sth, NSS's two databases).

    Each file is replaced atomically; all temp files are written and synced before the first rename, so a failure
    while writing leaves every file as it was.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        for target, (data, private) in files.items():
            if target.is_symlink():  # as atomic_write does: write through the link, keep the link
                target = target.resolve()
            tmp = target.parent / f"{TEMP_PREFIX}{target.name}.{secrets.token_hex(4)}"
            atomic_write(tmp, data, private=private)
            with contextlib.suppress(FileNotFoundError):
                st = os.stat(target)
                os.chmod(tmp, stat.S_IMODE(st.st_mode))
                if os.geteuid() == 0:  # as atomic_write does: an existing file keeps its owner too
                    with contextlib.suppress(OSError):
                        os.chown(tmp, st.st_uid, st.st_gid)
            staged.append((tmp, target))
        for tmp, target in staged:
            os.replace(tmp, target)
            changed.append(str(target))
    except OSError as exc:
        raise _io_error(next(iter(files)), exc, "write") from exc
    finally:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
    for folder in {t.parent for t in files}:
        _fsync_folder(folder)


def _sweep_stale_temps(folder: Path, locked_at: float) -> None:
    """Remove temp files that killed writers left in `folder` (called with the folder lock held).

    Only files older than the lock and not flocked by a live writer go: whoever made them held this lock
    before us (and is gone) or is a dead lockless writer.
    """
    try:
        names = [n for n in os.listdir(folder) if n.startswith(TEMP_PREFIX)]
    except OSError:
        return
    for name in names:
        path = folder / name
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_mtime > locked_at:
                    continue
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError: a live writer holds it
                os.unlink(path)
            finally:
                os.close(fd)


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_bytes(path: str | os.PathLike[str], *, limit: int = 512 * 1024 * 1024) -> bytes:
    """Read a store file with a clear error for the usual failures."""
    target = Path(path)
    try:
        size = target.stat().st_size
        if size > limit:
            raise KeystoreError(f"file is {size} bytes, larger than any store we read", store=str(target))
        return target.read_bytes()
    except FileNotFoundError as exc:
        from keystores.errors import StoreNotFound

        raise StoreNotFound("no such file", store=str(target)) from exc
    except IsADirectoryError as exc:
        from keystores.errors import UnsupportedFormat

        raise UnsupportedFormat("is a folder, not a key store file", store=str(target)) from exc
    except OSError as exc:
        raise _io_error(target, exc, "read") from exc
