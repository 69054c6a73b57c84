"""PBKDF1 (PKCS#5 v1.5), the key derivation of PBES1 (pbeWithMD5AndDES-CBC and its kin: read, never written) and of
NSS's legacy PBE (SHA-1 and 3DES; keystores/backends/nss/crypto.py, which writes it under the "compat" profile)."""

from __future__ import annotations

import hashlib


def pbkdf1(password: bytes, salt: bytes, iterations: int, hash_name: str) -> bytes:
    """PKCS#5 v1.5 PBKDF1 (16 bytes for MD5, 20 for SHA-1): by libcrypto where the interpreter has it loaded
    (keystores.crypto.kdf.iterated_digest, ~3.6x faster), else by the Python loop."""
    from keystores.crypto.kdf import iterated_digest

    derived = iterated_digest(password + salt, iterations, hash_name)
    return derived if derived is not None else pbkdf1_python(password, salt, iterations, hash_name)


def pbkdf1_python(password: bytes, salt: bytes, iterations: int, hash_name: str) -> bytes:
    """pbkdf1 in Python: where libcrypto cannot do it, and to check libcrypto against (tests/test_kdf.py)."""
    derived = password + salt
    for _ in range(max(1, iterations)):
        derived = hashlib.new(hash_name, derived).digest()
    return derived
