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
