"""keystores.crypto.pbe against openssl: what openssl encrypts we decrypt, and the other way round."""

from __future__ import annotations

import os
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from helpers import rsa_key

from keystores.crypto.pbe import decrypt_pkcs8, encrypt_pkcs8
from keystores.errors import WrongPassword

PASSWORD = "s3cret pw"


def _pkcs8(key) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _openssl(*args: str, data: bytes) -> bytes:
    env = {**os.environ, "KS_PW": PASSWORD}
    done = subprocess.run(["openssl", *args], input=data, capture_output=True, env=env, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.mark.parametrize("scheme_args", [
    ["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256"],
    ["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"],
    ["-v2", "des3"],
    ["-v1", "PBE-SHA1-3DES"],
    ["-v1", "PBE-SHA1-2DES"],
    ["-v1", "PBE-SHA1-RC2-40", "-provider", "legacy", "-provider", "default"],
    ["-v1", "PBE-SHA1-RC2-128", "-provider", "legacy", "-provider", "default"],
    ["-v1", "PBE-MD5-DES", "-provider", "legacy", "-provider", "default"],
])
def test_reads_what_openssl_encrypted(scheme_args):
    plain = _pkcs8(rsa_key(0))
    encrypted = _openssl("pkcs8", "-topk8", "-inform", "DER", "-outform", "DER", "-passout", "env:KS_PW",
                         *scheme_args, data=plain)
    assert decrypt_pkcs8(encrypted, PASSWORD) == plain
    with pytest.raises(WrongPassword):
        decrypt_pkcs8(encrypted, "not it")


@pytest.mark.parametrize("scheme", ["pbes2-aes256-sha256", "pbes2-aes256-sha384", "pkcs12-3des"])
def test_openssl_reads_what_we_encrypted(scheme):
    plain = _pkcs8(rsa_key(0))
    encrypted = encrypt_pkcs8(plain, PASSWORD, scheme=scheme)
    out = _openssl("pkcs8", "-inform", "DER", "-outform", "DER", "-passin", "env:KS_PW", data=encrypted)
    # openssl re-encodes the key (its PKCS#8 differs in framing): compare the keys, not the bytes.
    reloaded = serialization.load_der_private_key(out, None)
    assert reloaded.private_numbers() == rsa_key(0).private_numbers()
    assert decrypt_pkcs8(encrypted, PASSWORD) == plain


def test_raw_password_variant_round_trips_and_differs_from_bmp():
    plain = _pkcs8(rsa_key(0))
    encrypted = encrypt_pkcs8(plain, PASSWORD, scheme="pkcs12-3des", raw_password=True, salt_length=8, iterations=5)
    assert decrypt_pkcs8(encrypted, PASSWORD, raw_password=True) == plain
    with pytest.raises(WrongPassword):
        decrypt_pkcs8(encrypted, PASSWORD)
