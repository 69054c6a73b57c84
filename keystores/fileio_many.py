"""Several companion files written as one commit: keystores.fileio.atomic_write_many (a .kdb with its .rdb and
.sth, NSS's two databases). Its own module: a single-file write (export, convert to PEM, JKS or PKCS#12, sign)
does not run it, and loads keystores.fileio alone (start-up speed, issue 15)."""

from __future__ import annotations

import os

from keystores import fileio, paths
from keystores.errors import KeystoreError
from keystores.fileio import _fsync_folder, _interrupts_held, _stage, _Staged, _write_target
from keystores.fileread import INTENT_PREFIX, _io_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["atomic_write_many"]


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
                fileio.changed.append(targets[0])
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
                    fileio.changed.append(target)
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


