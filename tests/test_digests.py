"""keystores.crypto.digests hashes as hashlib does, by the interpreter's built-in modules where it has them."""

from __future__ import annotations

import hashlib
import hmac
import sys

import pytest

from keystores.crypto import digests

DATA = [b"", b"a", bytes(range(256)) * 9, b"\x30\x82" + b"\x00" * 1500]


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test finds the built-in modules anew (some replace them) and has hashed nothing yet."""
    monkeypatch.setattr(digests, "_found", {})
    monkeypatch.setattr(digests, "_hashed", 0)
    monkeypatch.setattr(digests, "_from_openssl", {})


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
    monkeypatch.delitem(sys.modules, "_hashlib")  # (nor OpenSSL's module: a .kdb's or a PEM's run)
    assert digests.digest("sha256", b"cert") == b"built-in" and calls == [b"cert"]


def test_where_openssls_module_is_loaded_its_constructors_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PKCS#12 read has loaded _hashlib (not hashlib): its constructors are hashlib's own (hashlib.sha256 is
    _hashlib.openssl_sha256), and no built-in module is loaded for a fingerprint (bench_core's "show one.p12")."""
    def refused(data: bytes = b"") -> None:
        raise AssertionError("a built-in module hashed")

    for module, name in (("_sha1", "sha1"), ("_sha256", "sha256"), ("_sha2", "sha256"), ("_md5", "md5")):
        unused = type(sys)(module)
        setattr(unused, name, refused)
        monkeypatch.setitem(sys.modules, module, unused)
    monkeypatch.delitem(sys.modules, "hashlib")
    for name in ("sha1", "sha256", "md5"):
        assert digests.constructor(name, 10) is getattr(hashlib, name)
        for data in DATA:
            assert digests.digest(name, data) == hashlib.new(name, data).digest()
    assert digests._hashed == 0  # (the built-in modules' allowance is left as it was)


def test_a_digest_openssl_refuses_is_hashed_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """As hashlib takes the built-in module where OpenSSL refuses a digest (a FIPS policy): so does digest."""
    def refusing(data: bytes = b"", *, usedforsecurity: bool = True) -> None:
        raise ValueError("[digital envelope routines] unsupported")

    policy = type(sys)("_hashlib")
    policy.openssl_sha1 = refusing  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "_hashlib", policy)
    monkeypatch.delitem(sys.modules, "hashlib")
    assert digests.digest("sha1", b"x") == hashlib.sha1(b"x").digest()
    assert digests._hashed == 1  # by the built-in module


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


KEYS = [b"", b"k", b"\x00" * 20, bytes(range(64)), bytes(range(65)), bytes(range(200)) * 2]


def _hmac_of(key: bytes, parts: tuple[bytes, ...], name: str) -> bytes:
    mac = hmac.new(key, None, name)
    for part in parts:
        mac.update(part)
    return mac.digest()


@pytest.fixture
def built_in_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a process that has loaded neither hashlib nor OpenSSL's module."""
    monkeypatch.delitem(sys.modules, "hashlib")
    monkeypatch.delitem(sys.modules, "_hashlib")


@pytest.mark.parametrize("name", ["sha1", "sha256", "sha384", "sha512", "md5"])
@pytest.mark.parametrize("key", KEYS)
def test_hmac_by_the_built_in_modules_is_hmacs(built_in_only: None, name: str, key: bytes) -> None:
    """RFC 2104 over the built-in modules: the bytes hmac gives, for keys shorter, as long as and longer than a
    block, and a message given in parts."""
    for parts in ((), (b"",), (b"a",), (bytes(range(256)) * 9, b"tail"), tuple(DATA)):
        expected = _hmac_of(key, parts, name)
        assert "hashlib" not in sys.modules
        assert digests.hmac(key, parts, name) == expected


def test_the_built_in_modules_hash_the_hmac(built_in_only: None, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = __import__("_sha1").sha1

    def recorded(data: bytes = b"") -> object:
        calls.append(data)
        return real(data)

    fake = type(sys)("_sha1")
    fake.sha1 = recorded  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "_sha1", fake)
    assert digests.hmac(b"key", (b"message",), "sha1") == hmac.new(b"key", b"message", "sha1").digest()
    assert len(calls) == 2  # the inner and the outer hash


@pytest.mark.parametrize("name", ["sha1", "sha256", "sha384", "md5", "sha3_256", "blake2b"])
def test_hmac_by_hashlib_is_hmacs(name: str) -> None:
    """Where hashlib is loaded, and for a digest with no built-in module."""
    for key in KEYS:
        assert digests.hmac(key, (b"a", b"bc"), name) == hmac.new(key, b"abc", name).digest()


def test_past_the_bytes_allowed_to_the_built_in_modules_hashlib_hashes(built_in_only: None,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A large .kdb is hashed by OpenSSL, whose SHA-1 is about ten times as fast: the built-in modules hash the
    first SMALL bytes of a process, and hashlib what would take it past them and all after."""
    expected = {size: (hashlib.sha1(b"x" * size).digest(), hmac.new(b"k", b"x" * size, "sha1").digest())
                for size in (100, digests.SMALL)}

    def refused(data: bytes = b"") -> None:
        raise AssertionError("the built-in module hashed")

    assert digests.digest("sha1", b"x" * 100) == expected[100][0]  # (the real built-in module)
    fake = type(sys)("_sha1")
    fake.sha1 = refused  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "_sha1", fake)
    monkeypatch.setattr(digests, "_found", {})  # (sha1's was found above)
    assert digests.hmac(b"k", (b"x" * digests.SMALL,), "sha1") == expected[digests.SMALL][1]
    monkeypatch.delitem(sys.modules, "hashlib", raising=False)  # (this process had loaded hmac, which has it)
    assert digests.digest("sha1", b"x" * 100) == expected[100][0]  # the allowance is spent: hashlib again


def test_a_digest_loads_neither_operator_nor_the_pads() -> None:
    """compare_digest is found on first use (module __getattr__) and the HMAC pads are made by the first HMAC of the
    built-in modules: a fingerprint (`show`) loads no _operator. Run without site (whose editable-install finder
    loads operator), from the tree."""
    import subprocess
    from pathlib import Path

    probe = ("import sys\nsys.path.insert(0, sys.argv[1])\nfrom keystores.crypto import digests\n"
             "digests.digest('sha256', b'x')\nprint('_operator' in sys.modules, digests._PADS is None)\n"
             "print(digests.compare_digest(b'a', b'a'), '_operator' in sys.modules)\n"
             "digests.hmac(b'k', (b'm',), 'sha1')\nprint(digests._PADS is None)\n")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-S", "-c", probe, str(root)], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True", "True", "True", "False"]


def test_compare_digest_is_a_constant_time_c_function() -> None:
    assert digests.compare_digest in (hmac.compare_digest, __import__("_operator")._compare_digest)
    assert digests.compare_digest(b"ab", b"ab") and not digests.compare_digest(b"ab", b"ac")


def test_hmac_without_hashlibs_hmac_object_is_hmacs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where _hashlib cannot be imported (an interpreter without OpenSSL), hmac makes the MAC."""
    monkeypatch.setitem(sys.modules, "_hashlib", None)  # (an import of it raises ImportError)
    monkeypatch.setattr(digests, "SMALL", -1)  # (and the built-in modules hash nothing)
    assert digests.hmac(b"key", (b"mess", b"age"), "sha256") == hmac.new(b"key", b"message", "sha256").digest()


@pytest.mark.parametrize("name", ["sha1", "sha256", "sha384", "md5", "sha3_256"])
def test_a_constructor_makes_hashlibs_objects(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """By the built-in module (neither hashlib nor _hashlib loaded), by _hashlib's, else by hashlib: the same
    digests, from one look-up."""
    for loaded in ("", "_hashlib", "hashlib"):
        if loaded != "hashlib":
            monkeypatch.delitem(sys.modules, "hashlib")
        if not loaded:
            monkeypatch.delitem(sys.modules, "_hashlib")
        made = digests.constructor(name, 100)
        assert [made(data).digest() for data in DATA[:2]] == [hashlib.new(name, data).digest() for data in DATA[:2]]
        assert made().digest() == hashlib.new(name).digest()
        monkeypatch.undo()
        monkeypatch.setattr(digests, "_found", {})
        monkeypatch.setattr(digests, "_hashed", 0)
        monkeypatch.setattr(digests, "_from_openssl", {})
