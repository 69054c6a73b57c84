"""Firefox's profile lock: whether a running browser holds an NSS database's folder."""

from __future__ import annotations

import errno
import fcntl
import os

from keystores import paths


def browser_lock(folder: str) -> str | None:
    """Why a running application holds this profile folder (Firefox's lock files), or None."""
    link = paths.join(folder, "lock")
    if paths.is_symlink(link):
        target = os.readlink(link)
        pid_text = target.rpartition("+")[2]
        if pid_text.isdigit():
            try:
                os.kill(int(pid_text), 0)
                return f"a running browser (pid {pid_text}) holds the profile lock"
            except ProcessLookupError:
                pass
            except PermissionError:
                return f"a running browser (pid {pid_text}) holds the profile lock"
    parent = paths.join(folder, ".parentlock")
    if paths.exists(parent):
        try:
            fd = os.open(parent, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.lockf(fd, fcntl.LOCK_UN)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                return "a running browser holds the profile lock (.parentlock)"
        finally:
            os.close(fd)
    return None
