"""A ctypes driver for IBM GSKit 8's key-management library, as the PyPI wheel ibm-db ships it.

GSKit is the judge of what the cms backend writes. The library is found inside the installed ibm_db package
(clidriver/lib/icc/libgsk8km_64.so); `available()` says whether it is there, so tests can skip cleanly.
Run it in a subprocess (`python tests/gskit.py ...`) for timing: loading GSKit is part of what a native tool costs.
"""

from __future__ import annotations

import ctypes
import importlib.util
import json
import sys
from functools import lru_cache
from pathlib import Path

ERR_INVALID_PASSWORD = 16
ERR_DATABASE_CORRUPTION = 18


def library_path() -> Path | None:
    """libgsk8km_64.so inside the installed ibm_db wheel, or None."""
    spec = importlib.util.find_spec("ibm_db")
    if spec is None or spec.origin is None:
        return None
    candidate = Path(spec.origin).parent / "clidriver" / "lib" / "icc" / "libgsk8km_64.so"
    return candidate if candidate.is_file() else None


def available() -> bool:
    return library_path() is not None


class GSKitError(Exception):
    def __init__(self, call: str, rc: int, text: str) -> None:
        super().__init__(f"{call} failed: rc {rc} ({text})")
        self.rc = rc


class _Node(ctypes.Structure):
    pass


_Node._fields_ = [("label", ctypes.c_char_p), ("next", ctypes.POINTER(_Node))]


@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    path = library_path()
    if path is None:
        raise RuntimeError("GSKit is not installed (pip install ibm-db)")
    lib = ctypes.CDLL(str(path))
    lib.GSKKM_strerror.restype = ctypes.c_char_p
    lib.GSKKM_strerror.argtypes = [ctypes.c_int]
    rc = lib.GSKKM_Init()
    if rc:
        raise GSKitError("GSKKM_Init", rc, "")
    return lib


def _check(call: str, rc: int) -> None:
    if rc:
        text = (_lib().GSKKM_strerror(rc) or b"").decode(errors="replace")
        raise GSKitError(call, rc, text)


def _b(value: str | Path) -> bytes:
    return str(value).encode()


def create(path: str | Path, password: str, *, fips: bool = True) -> None:
    """A new database as GSKit makes it (v4 with fips, else v3), with its default CA certificates."""
    handle = ctypes.c_int()
    call = "GSKKM_CreateNewKeyDbFIPS" if fips else "GSKKM_CreateNewKeyDb"
    _check(call, getattr(_lib(), call)(_b(path), _b(password), ctypes.c_long(0), ctypes.byref(handle)))
    _check("GSKKM_CloseKeyDb", _lib().GSKKM_CloseKeyDb(handle))


class Database:
    """An open database: `with Database(path, pw) as db: db.labels()`."""

    def __init__(self, path: str | Path, password: str) -> None:
        self.handle = ctypes.c_int()
        _check("GSKKM_OpenKeyDb", _lib().GSKKM_OpenKeyDb(_b(path), _b(password), ctypes.byref(self.handle)))

    def labels(self) -> list[str]:
        """Labels of the .kdb's records, as GSKit shows them."""
        return self._list("GSKKM_GetKeyDbLabelList")

    def request_labels(self) -> list[str]:
        """Labels of the pending requests in the .rdb beside the database."""
        return self._list("GSKKM_GetReqKeyDbLabelList")

    def _list(self, call: str) -> list[str]:
        head = ctypes.POINTER(_Node)()
        _check(call, getattr(_lib(), call)(self.handle, ctypes.byref(head)))
        found = []
        node = head
        while node:
            found.append(node.contents.label.decode("utf-8", errors="replace"))
            node = node.contents.next
        return found

    def import_pfx(self, p12_path: str | Path, password: str) -> None:
        _check("GSKKM_ImportKeysFromPFXFile",
               _lib().GSKKM_ImportKeysFromPFXFile(self.handle, _b(p12_path), _b(password)))

    def set_default(self, label: str) -> None:
        _check("GSKKM_SetDefaultKeyByLabel", _lib().GSKKM_SetDefaultKeyByLabel(self.handle, _b(label)))

    def set_trust(self, label: str, trusted: bool) -> None:
        _check("GSKKM_SetTrustStatus", _lib().GSKKM_SetTrustStatus(self.handle, _b(label), int(trusted)))

    def close(self) -> None:
        if self.handle is not None:
            _check("GSKKM_CloseKeyDb", _lib().GSKKM_CloseKeyDb(self.handle))
            self.handle = None  # type: ignore[assignment]

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_rc(path: str | Path, password: str) -> int:
    """GSKit's return code for opening the database (0, 16 wrong password, 18 integrity failure...)."""
    handle = ctypes.c_int()
    rc = _lib().GSKKM_OpenKeyDb(_b(path), _b(password), ctypes.byref(handle))
    if rc == 0:
        _lib().GSKKM_CloseKeyDb(handle)
    return rc


def change_password(path: str | Path, old: str, new: str) -> None:
    """GSKit re-encrypts every private key on the way: it must decrypt each one first."""
    _check("GSKKM_ChangeKeyDbPwd", _lib().GSKKM_ChangeKeyDbPwd(_b(path), _b(old), _b(new), ctypes.c_long(0)))


def stash(path: str | Path, password: str) -> None:
    """Write x.sth beside x.kdb (GSKit writes the v8 form)."""
    _check("GSKKM_StashKeyDbPwd", _lib().GSKKM_StashKeyDbPwd(_b(path), _b(password)))


def main(argv: list[str]) -> int:
    """`python tests/gskit.py list DB PASSWORD`: print the labels as JSON (the native side of the benchmark)."""
    if len(argv) == 3 and argv[0] == "list":
        with Database(argv[1], argv[2]) as db:
            print(json.dumps(db.labels()))
        return 0
    print("usage: gskit.py list DB PASSWORD", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
