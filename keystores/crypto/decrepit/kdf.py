"""PBKDF1 (PKCS#5 v1.5), the key derivation of PBES1 (pbeWithMD5AndDES-CBC and its kin): read, never written."""

from __future__ import annotations

import hashlib


def pbkdf1(password: bytes, salt: bytes, iterations: int, hash_name: str) -> bytes:
    """PKCS#5 v1.5 PBKDF1 (16 bytes for MD5, 20 for SHA-1)."""
    derived = password + salt
    for _ in range(max(1, iterations)):
        derived = hashlib.new(hash_name, derived).digest()
    return derived
