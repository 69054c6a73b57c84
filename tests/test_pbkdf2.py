"""keystores.crypto.pbkdf2 derives what RFC 8018 says, whichever library runs it (RFC 6070's vectors, and hashlib's
answer for every hash and across the iteration count where it switches)."""

from __future__ import annotations

import hashlib

import pytest

from keystores.crypto.pbkdf2 import pbkdf2_hmac


@pytest.mark.parametrize(("iterations", "length", "expected"), [
    (1, 20, "0c60c80f961f0e71f3a9b524af6012062fe037a6"),
    (2, 20, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"),
    (4096, 20, "4b007901b765489abead49d926f721d065a429c1"),
])
def test_rfc_6070_vectors(iterations: int, length: int, expected: str) -> None:
    assert pbkdf2_hmac("sha1", b"password", b"salt", iterations, length).hex() == expected


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512", "sha512_256", "md5"])
@pytest.mark.parametrize("iterations", [1, 9, 10, 11, 1000])
def test_same_bytes_as_hashlib(hash_name: str, iterations: int) -> None:
    password, salt = bytes(range(20)), b"\x5a" * 32
    for length in (16, 32, 100):  # one block, and several (the last one cut short)
        assert pbkdf2_hmac(hash_name, password, salt, iterations, length) == hashlib.pbkdf2_hmac(
            hash_name, password, salt, iterations, length)


def test_hashlib_derives_until_loading_cryptography_would_have_paid() -> None:
    """Without cryptography loaded, hashlib derives (a small PKCS#12's certificates: no cryptography loaded at all)
    until its extra cost reaches loading cryptography; a derivation that alone costs more (Bouncy Castle's 51,200
    iterations of SHA-512) goes to cryptography at once; once loaded, cryptography derives. Same bytes throughout."""
    import subprocess
    import sys

    probe = """if True:
        import json, sys
        from keystores.crypto import pbkdf2
        seen = []
        def derive(*args):
            derived = pbkdf2.pbkdf2_hmac(*args)
            seen.append(["cryptography" in sys.modules, derived.hex()])
        derive("sha512", b"pw", b"salt", 51200, 64)
        print(json.dumps(seen)); seen.clear()
        """
    first = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json_of(first.stdout) == [[True, hashlib.pbkdf2_hmac("sha512", b"pw", b"salt", 51200, 64).hex()]]
    probe = probe.replace('derive("sha512", b"pw", b"salt", 51200, 64)',
                          'for i in range(12): derive("sha256", b"pw", bytes([i]) * 16, 10000, 32)')
    done = json_of(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                  check=True).stdout)
    assert [loaded for loaded, _ in done] == [False] * 10 + [True] * 2  # _LOAD_WORTH: 100,000 iterations
    assert [derived for _, derived in done] == [
        hashlib.pbkdf2_hmac("sha256", b"pw", bytes([i]) * 16, 10000, 32).hex() for i in range(12)]


def json_of(text: str) -> list[list[object]]:
    import json

    return json.loads(text)  # type: ignore[no-any-return]
