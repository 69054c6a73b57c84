"""keystores.crypto.digests hashes as hashlib does, by the interpreter's built-in modules where it has them."""

from __future__ import annotations

import hashlib
import sys

import pytest

from keystores.crypto import digests

DATA = [b"", b"a", bytes(range(256)) * 9, b"\x30\x82" + b"\x00" * 1500]


@pytest.mark.parametrize("name", ["sha1", "sha224", "sha256", "sha384", "sha512", "md5", "sha3_256", "blake2b"])
@pytest.mark.parametrize("data", DATA)
def test_the_same_bytes_as_hashlib(name: str, data: bytes) -> None:
    assert digests.digest(name, data) == hashlib.new(name, data).digest()


def test_an_interpreter_without_the_built_in_modules_hashes_by_hashlib(monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("_sha1", "_sha256", "_sha2", "_sha512"):
        monkeypatch.setitem(sys.modules, module, None)  # (an import of it raises ImportError)
    assert digests.digest("sha256", b"x") == hashlib.sha256(b"x").digest()
    assert digests.digest("sha1", b"x") == hashlib.sha1(b"x").digest()


def test_the_built_in_modules_hash_where_there_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not hashlib (whose import loads OpenSSL): the reason the module exists."""
    calls = []

    class Recorded:
        def __init__(self, data: bytes) -> None:
            calls.append(data)

        def digest(self) -> bytes:
            return b"built-in"

    fake = type(sys)("_sha256")
    fake.sha256 = Recorded  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "_sha256", fake)
    monkeypatch.delitem(sys.modules, "hashlib")
    assert digests.digest("sha256", b"cert") == b"built-in" and calls == [b"cert"]


def test_once_hashlib_is_loaded_it_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """(Another module to load would cost more than hashlib's object.)"""
    def refused(data: bytes) -> None:
        raise AssertionError("the built-in module hashed")

    unused = type(sys)("_sha256")
    unused.sha256 = refused  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "_sha256", unused)
    monkeypatch.setitem(sys.modules, "_sha2", unused)
    assert "hashlib" in sys.modules
    assert digests.digest("sha256", b"x") == hashlib.sha256(b"x").digest()
