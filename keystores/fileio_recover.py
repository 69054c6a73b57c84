"""What a killed writer left beside a store, put right by the next process to take the folder lock
(keystores.fileio.folder_lock): an interrupted multi-file commit completed (its intent record says which temp files
become which files), then stale temp files removed. Its own module: folder_lock lists the folder on every write and
loads this only when the listing holds a record or a temp file, which after clean runs it does not (start-up speed
of every write, issue 15)."""

from __future__ import annotations

import errno
import os
import stat

from keystores import paths
from keystores.fileio import TEMP_PREFIX, _fsync_folder
from keystores.fileread import _io_error
from keystores.lightweight import suppress


def _complete_commits(folder: str, records: list[str]) -> None:
    """Rename what the intent records `records` (their names, in order) in `folder` name, then drop the records
    (called with the folder lock held)."""
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
    _fsync_folder(folder)



def _sweep_stale_temps(folder: str, locked_at: float, names: list[str]) -> None:
    """Remove the temp files `names` (found in `folder`) that killed writers left (called with the folder lock held).

    Only files older than the lock and not flocked by a live writer go: whoever made them held this lock
    before us (and is gone) or is a dead lockless writer.
    """
    import fcntl  # see fileio._acquire

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
