"""Paths as strings, spelled and tested exactly as pathlib does on POSIX, without importing pathlib.

A speed device (issue 15, a user install): `import pathlib` costs about as much CPU as starting Python (it imports
re, fnmatch, urllib.parse and ipaddress), and opening a store needs none of what it adds over os.path. These
functions give what store.py, formats.py, fileio.py and the file backends used pathlib for, with its results:
`normal` is `str(Path(p))` (so every message names a store as it did), `exists`/`is_dir`/`is_symlink` raise
what Path's methods raise (PermissionError on a folder we may not search; False for a missing path, a loop or a
name with a NUL), `parent`/`name`/`suffix` are Path's properties. The public API still takes str or PathLike
everywhere; code that needs a Path (a caller's own) imports pathlib itself. tests/test_paths.py holds each one to
pathlib.
"""

from __future__ import annotations

import os
from errno import EBADF, ELOOP, ENOENT, ENOTDIR
from stat import S_ISDIR, S_ISLNK, S_ISREG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from os import PathLike

_IGNORED = (ENOENT, ENOTDIR, EBADF, ELOOP)  # pathlib's _IGNORED_ERRNOS: "no such path", not an error


def normal(path: str | PathLike[str]) -> str:
    """`str(Path(path))`: repeated slashes and "." parts dropped, no trailing slash, "." for an empty path; a
    leading "//" (exactly two) kept, as POSIX allows it a meaning."""
    text = os.fspath(path)
    if not isinstance(text, str):
        raise TypeError(f"expected str or os.PathLike[str], not {type(text).__name__}")
    root = "//" if text.startswith("//") and not text.startswith("///") else "/" if text.startswith("/") else ""
    rest = "/".join(part for part in text.split("/") if part and part != ".")
    return root + rest if root or rest else "."


def _split(path: str | PathLike[str]) -> tuple[str, str]:
    """(root, the rest) of the normal form: root is "", "/" or "//"."""
    text = normal(path)
    root = "//" if text.startswith("//") else "/" if text.startswith("/") else ""
    rest = text[len(root):]
    return root, "" if rest == "." else rest


def parent(path: str | PathLike[str]) -> str:
    """`str(Path(path).parent)`."""
    root, rest = _split(path)
    if "/" in rest:
        return root + rest.rpartition("/")[0]
    return root or "."


def name(path: str | PathLike[str]) -> str:
    """`Path(path).name`: the last part ("" for "." or a root)."""
    return _split(path)[1].rpartition("/")[2]


def suffix(path: str | PathLike[str]) -> str:
    """`Path(path).suffix`: the last part's extension with its dot, or "" (".bashrc" and "x." have none)."""
    last = name(path)
    dot = last.rfind(".")
    return last[dot:] if 0 < dot < len(last) - 1 else ""


def with_suffix(path: str | PathLike[str], new: str) -> str:
    """`str(Path(path).with_suffix(new))` for a path with a name: its suffix replaced by `new` (".rdb")."""
    root, rest = _split(path)
    head, _, last = rest.rpartition("/")
    old = suffix(path)
    return root + (head + "/" if head else "") + (last[:len(last) - len(old)] if old else last) + new


def join(path: str | PathLike[str], *parts: str) -> str:
    """`str(Path(path, *parts))` for relative `parts` (names in a folder)."""
    root, rest = _split(path)
    return normal(root + "/".join(part for part in (rest, *parts) if part))


def _mode(path: str | PathLike[str], *, follow: bool = True) -> int | None:
    """The st_mode at `path`, or None where pathlib's exists()/is_dir() answer False; other errors raise."""
    text = normal(path)  # as pathlib stats it: "" is ".", "file/" is "file"
    try:
        return (os.stat(text) if follow else os.lstat(text)).st_mode
    except OSError as exc:
        if exc.errno not in _IGNORED:
            raise
        return None
    except ValueError:  # a NUL in the name: pathlib says "no such path"
        return None


def exists(path: str | PathLike[str]) -> bool:
    """`Path(path).exists()`."""
    return _mode(path) is not None


def is_dir(path: str | PathLike[str]) -> bool:
    """`Path(path).is_dir()`."""
    mode = _mode(path)
    return mode is not None and S_ISDIR(mode)


def is_file(path: str | PathLike[str]) -> bool:
    """`Path(path).is_file()`."""
    mode = _mode(path)
    return mode is not None and S_ISREG(mode)


def is_symlink(path: str | PathLike[str]) -> bool:
    """`Path(path).is_symlink()`."""
    mode = _mode(path, follow=False)
    return mode is not None and S_ISLNK(mode)
