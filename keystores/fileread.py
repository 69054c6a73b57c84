"""Reading a store's files: bounded, from regular files only, and after finishing a commit a killed writer left.

The reading half of keystores.fileio (which re-exports these names): a command that only reads a store (list,
show, validate) loads neither the atomic writes nor the locks (start-up speed, issue 15; bench/bench_core.py).
"""

from __future__ import annotations

import errno
import os
import stat

from keystores import paths
from keystores.errors import KeystoreError


def _io_error(path: str | os.PathLike[str], exc: OSError, doing: str) -> KeystoreError:
    reason = {errno.ENOSPC: "disk full", errno.EROFS: "read-only file system", errno.EACCES: "permission denied",
              errno.EPERM: "permission denied", errno.EDQUOT: "disk quota exceeded"}.get(exc.errno or 0,
                                                                                         exc.strerror or str(exc))
    return KeystoreError(f"cannot {doing}: {reason}", store=paths.normal(path))


INTENT_PREFIX = ".keystores-commit-"


def finish_interrupted_commit(path: str | os.PathLike[str]) -> None:
    """Complete a multi-file commit a killed writer left half done beside `path` (readers call this first).

    Taking the folder lock completes it (`_complete_commits`); a reader that may not lock the folder is told why.
    """
    folder = os.path.realpath(path)
    folder = folder if paths.is_dir(folder) else paths.parent(folder)
    try:
        pending = any(n.startswith(INTENT_PREFIX) for n in os.listdir(folder))
    except OSError:
        return
    if pending:
        from keystores.fileio import folder_lock  # (the writing half: taking the folder lock completes it)

        with folder_lock(folder):
            pass


def read_bytes(path: str | os.PathLike[str], *, limit: int | None = None) -> bytes:
    """A store file's bytes, read with a hard limit (keystores.limits.MAX_FILE_BYTES by default).

    At most `limit` + 1 bytes are read whatever the file system says its size is (a device or /proc file reports
    0), and only from a regular file: a FIFO, socket or device is refused (reading one would block or never end).
    """
    from keystores.limits import MAX_FILE_BYTES

    limit = MAX_FILE_BYTES if limit is None else limit
    target = paths.normal(path)
    with open_source(target) as fd:
        try:
            size = os.fstat(fd).st_size
            if size > limit:
                raise KeystoreError(f"file is {size} bytes, larger than any store we read ({limit} bytes)",
                                    store=target)
            chunks = []
            remaining = limit + 1
            while remaining > 0:
                chunk = os.read(fd, min(remaining, 1 << 20))
                if not chunk:
                    break
                chunks.append(chunk)
                remaining -= len(chunk)
        except OSError as exc:
            raise _io_error(target, exc, "read") from exc
    data = b"".join(chunks)
    if len(data) > limit:
        raise KeystoreError(f"file is larger than any store we read ({limit} bytes)", store=target)
    return data


class open_source:
    """A read-only descriptor of the regular file at `path`, closed when the `with` block ends; a clear error for
    anything else.

    Opened non-blocking, so a FIFO is refused instead of waiting for a writer; the flag does not matter for a
    regular file. A class rather than a contextlib.contextmanager (start-up: see folder_lock).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = path
        self._fd = -1

    def __enter__(self) -> int:
        from keystores.errors import UnsupportedFormat  # (a name local to the whole function: raised in both trys)

        path = self._path
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError as exc:
            from keystores.errors import StoreNotFound  # made on first use (keystores.errors._MADE_ON_USE)

            raise StoreNotFound("no such file", store=paths.normal(path)) from exc
        except IsADirectoryError as exc:
            raise UnsupportedFormat("is a folder, not a key store file", store=paths.normal(path)) from exc
        except OSError as exc:
            raise _io_error(path, exc, "read") from exc
        try:
            mode = os.fstat(fd).st_mode
            if stat.S_ISDIR(mode):
                raise UnsupportedFormat("is a folder, not a key store file", store=paths.normal(path))
            if not stat.S_ISREG(mode):
                raise UnsupportedFormat(f"is a {_kind(mode)}, not a regular file: key stores are read from files "
                                        "only", store=paths.normal(path))
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return fd

    def __exit__(self, *exc: object) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"
