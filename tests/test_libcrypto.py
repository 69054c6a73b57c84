"""keystores.crypto.libcrypto: CBC through the interpreter's libcrypto gives what cryptography gives (pbe._cbc uses it
for AES and 3DES while cryptography is not loaded; cryptography for the rest and wherever libcrypto declines), and
without the library cryptography answers alone. cryptography is loaded in this process, so the tests that compare
the two ways ask for libcrypto's (`by_libcrypto`)."""

from __future__ import annotations

import os
import random

import pytest

from keystores.crypto import libcrypto, pbe


@pytest.fixture
def by_libcrypto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pbe, "cipher_by_libcrypto", lambda: True)


def _by_cryptography(cipher: str, key: bytes, iv: bytes, data: bytes, *, decrypt: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    algorithm = pbe.block_cipher(cipher, key)
    context = Cipher(algorithm, modes.CBC(iv)).decryptor() if decrypt else Cipher(algorithm, modes.CBC(iv)).encryptor()
    return context.update(data) + context.finalize()


CIPHERS = [("aes", 16, 16), ("aes", 24, 16), ("aes", 32, 16), ("tripledes", 24, 8), ("tripledes", 16, 8),
           ("des", 8, 8)]


def test_the_library_is_found() -> None:
    assert libcrypto.library() is not None, "hashlib's libcrypto is not found: the fast path is never taken"


@pytest.mark.parametrize(("cipher", "key_length", "block"), CIPHERS)
@pytest.mark.usefixtures("by_libcrypto")
def test_cbc_is_cryptographys(cipher: str, key_length: int, block: int) -> None:
    generator = random.Random(f"{cipher}{key_length}")
    for length in (0, 1, block - 1, block, block + 1, 100, 1000):
        key, iv = generator.randbytes(key_length), generator.randbytes(block)
        data = generator.randbytes(length)
        sealed = pbe._cbc(cipher, key, iv, data, decrypt=False)
        assert sealed == _by_cryptography(cipher, key, iv, pbe._pad(data, block), decrypt=False)
        assert pbe._cbc_by_libcrypto(cipher, key, iv, data, decrypt=False) == sealed  # it was libcrypto's
        assert pbe._cbc(cipher, key, iv, sealed, decrypt=True) == data
        assert pbe._cbc_by_libcrypto(cipher, key, iv, sealed, decrypt=True) == data


@pytest.mark.parametrize(("cipher", "key_length", "block"), CIPHERS)
@pytest.mark.usefixtures("by_libcrypto")
def test_bad_padding_and_lengths_are_refused_as_before(cipher: str, key_length: int, block: int,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong password gives bad padding (pbe._BadPadding), a ragged or empty ciphertext too; what libcrypto
    declines (an IV of the wrong length) raises cryptography's ValueError, as before."""
    key, iv = os.urandom(key_length), os.urandom(block)
    garbage = bytes(range(block * 2))
    outcomes = []
    for path in ("libcrypto", "cryptography"):
        if path == "cryptography":
            monkeypatch.setattr(libcrypto, "_LOADED", [None])
        seen = []
        for data, this_iv in ((garbage, iv), (garbage[:-1], iv), (b"", iv), (garbage, iv[:-1])):
            try:
                seen.append(pbe._cbc(cipher, key, this_iv, data, decrypt=True))
            except Exception as exc:  # the kind of failure is what is compared
                seen.append(type(exc).__name__)
        outcomes.append(seen)
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1:4] == ["_BadPadding", "_BadPadding", "ValueError"]


@pytest.mark.usefixtures("by_libcrypto")
def test_without_the_library_cryptography_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    key, iv, data = os.urandom(32), os.urandom(16), b"a certificate bag"
    sealed = pbe._cbc("aes", key, iv, data, decrypt=False)
    monkeypatch.setattr(libcrypto, "_LOADED", [None])
    assert libcrypto.cbc("aes", key, iv, pbe._pad(data, 16), decrypt=False) is None
    assert pbe._cbc("aes", key, iv, sealed, decrypt=True) == data
    assert pbe._cbc("aes", key, iv, data, decrypt=False) == sealed


def test_what_libcrypto_is_not_asked_goes_to_cryptography() -> None:
    """Other ciphers and key lengths: no answer from libcrypto, cryptography's from _cbc."""
    assert libcrypto.cbc("camellia", bytes(16), bytes(16), bytes(16), decrypt=True) is None
    assert libcrypto.cbc("aes", bytes(20), bytes(16), bytes(16), decrypt=True) is None
    assert pbe._cbc_by_libcrypto("tripledes", bytes(8), bytes(8), bytes(8), decrypt=True) is None
    sealed = pbe._cbc("camellia", bytes(16), bytes(16), b"x", decrypt=False)
    assert pbe._cbc("camellia", bytes(16), bytes(16), sealed, decrypt=True) == b"x"


def test_only_an_already_loaded_libcrypto_is_used() -> None:
    """Without hashlib's OpenSSL (_hashlib blocked) no libcrypto is loaded for ciphers either: cryptography
    answers, the same bytes."""
    import subprocess
    import sys

    probe = ("import sys\nsys.modules['_hashlib'] = None\nfrom keystores.crypto import libcrypto, pbe\n"
             "print(libcrypto.library(), pbe._cbc('aes', bytes(32), bytes(16), b'bag', decrypt=False).hex())")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    library, sealed = done.stdout.split()
    assert library == "None"
    assert bytes.fromhex(sealed) == pbe._cbc("aes", bytes(32), bytes(16), b"bag", decrypt=False)


def _read_all(path: object, password: str | None) -> list[object]:
    """What reading `path` gives: every entry's label, kind, chain DER and key (PKCS#8), or the error."""
    from keystores.pki.pkcs8 import pkcs8_der
    from keystores.store import open_store

    try:
        with open_store(path, password=password) as store:
            return [(e.label, e.kind, e.chain_der(), None if e.key is None else pkcs8_der(e.key))
                    for e in store.entries()]
    except Exception as exc:  # the failure is what is compared
        return [type(exc).__name__, str(exc)]


@pytest.mark.usefixtures("by_libcrypto")
def test_pkcs12_files_read_the_same_without_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every cryptography-vectors PKCS#12 file (AES, 3DES, RC2 bags; keys and certificates) and every 12th PKITS
    one read the same by libcrypto's ciphers as by cryptography's alone."""
    from test_export_lean import _vectors

    files = _vectors()
    if not files:
        pytest.skip("cryptography_vectors is not installed")
    by_library = [_read_all(path, password) for path, password in files]
    monkeypatch.setattr(libcrypto, "_LOADED", [None])
    assert [_read_all(path, password) for path, password in files] == by_library
    assert sum(isinstance(read, list) and bool(read) and isinstance(read[0], tuple) for read in by_library) > 30


def test_once_cryptography_is_loaded_its_ciphers_answer() -> None:
    """A command that has loaded cryptography (a PEM listing, for its key) decrypts with cryptography's ciphers: it
    need not import hashlib for libcrypto (keystores.crypto.libcrypto never looks for the library)."""
    import subprocess
    import sys

    probe = ("import sys\nimport cryptography.hazmat.primitives.ciphers\nfrom keystores.crypto import pbe\n"
             "from keystores.crypto import libcrypto\n"
             "print(pbe._cbc('aes', bytes(32), bytes(16), b'key', decrypt=False).hex(), bool(libcrypto._LOADED))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    sealed, loaded = done.stdout.split()
    assert loaded == "False"
    assert bytes.fromhex(sealed) == _by_cryptography("aes", bytes(32), bytes(16), pbe._pad(b"key", 16), decrypt=False)


def test_the_ec_point_calls_are_declared_when_first_asked() -> None:
    """libcrypto.library() declares what reading a PKCS#12 calls (the KDF, CBC); ec_public_point declares its own
    calls on its first use (list/show/export of one.p12 need none of them), and answers as
    before: 1 times P-256's generator is the generator."""
    import subprocess
    import sys

    probe = ("import _hashlib\nfrom keystores.crypto import libcrypto\nlib = libcrypto.library()\n"
             "before = 'EC_POINT_mul' in vars(lib)\n"
             "point = libcrypto.ec_public_point('1.2.840.10045.3.1.7', (1).to_bytes(32, 'big'))\n"
             "print(before, 'EC_POINT_mul' in vars(lib), point.hex(),\n"
             "      libcrypto.ec_public_point('1.2.840.10045.3.1.7', bytes(32)))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after, point, zero = done.stdout.split()
    assert (before, after, zero) == ("False", "True", "None")  # (zero is no private key)
    assert point == ("04" "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
                     "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")
