"""A file written now that lands after another write: keystores.fileio.write_after (certreq's request, once its
key's store is saved). Its own module: only certreq runs it, and every other write loads keystores.fileio (start-up
speed, issue 15)."""

from __future__ import annotations

import os

from keystores import fileio, paths
from keystores.fileio import TEMP_PREFIX, _fsync_folder, _interrupts_held, _stage, _Staged, _write_target
from keystores.fileread import _io_error

__all__ = ["WriteAfter", "write_after"]


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
            with _interrupts_held():  # as atomic_write: a rename not counted in `changed` would be denied
                try:
                    os.replace(self._staged.tmp, self._target)  # while still flocked, as atomic_write
                except OSError as exc:
                    raise _io_error(self._target, exc, "write") from exc
                renamed = True
                if not paths.name(self._path).startswith(TEMP_PREFIX):
                    fileio.changed.append(self._path)
        finally:
            self._staged.discard(keep=renamed)
        _fsync_folder(paths.parent(self._target))

    def discard(self) -> None:
        """Drop the staged file (nothing is written)."""
        self._synced()
        self._staged.discard()


