"""Key derivation functions the standard library lacks: the PKCS#12 KDF (RFC 7292 appendix B.2) and the PKCS#12
password encoding. The KDF serves modern files too (PKCS#12 MACs with SHA-256, GSKit key databases, Bouncy Castle
stores), so it lives here and not in crypto/decrepit/; PBKDF2 is in crypto/pbkdf2.py. PBKDF1 is in
crypto/decrepit/kdf.py."""

from __future__ import annotations

import hashlib

_BLOCK = {"md5": 64, "sha1": 64, "sha224": 64, "sha256": 64, "sha384": 128, "sha512": 128, "sha512_224": 128,
          "sha512_256": 128, "sha3_224": 144, "sha3_256": 136, "sha3_384": 104, "sha3_512": 72, "sm3": 64}


def pkcs12_kdf(password: bytes, salt: bytes, purpose_id: int, iterations: int, size: int,
               hash_name: str = "sha1") -> bytes:
    """RFC 7292 appendix B.2. `password` is already encoded (BMPString + 00 00 normally; raw for GSKit).

    purpose_id: 1 = key, 2 = IV, 3 = MAC key. cryptography exposes no PKCS#12 KDF, hence this one.
    """
    u = hashlib.new(hash_name).digest_size
    v = _BLOCK[hash_name]
    d = bytes([purpose_id]) * v
    # A copy of an empty hash object is the cheapest fresh one: no digest lookup, as hashlib.new() and even
    # hashlib.sha256() do each time (~6% of the 10,000 rounds of a keytool file's MAC, bench/bench_core.py list
    # one.p12; old stores have 100,000). The loop itself is the rest: hashlib has no iterated digest.
    blank = hashlib.new(hash_name)

    def stretch(data: bytes) -> bytes:
        if not data:
            return b""
        length = v * ((len(data) + v - 1) // v)
        return (data * (length // len(data) + 1))[:length]

    i = bytearray(stretch(salt) + stretch(password))
    out = b""
    while len(out) < size:
        a = d + bytes(i)
        for _ in range(max(1, iterations)):
            h = blank.copy()
            h.update(a)
            a = h.digest()
        out += a
        if len(out) >= size:
            break
        b = stretch(a)
        b_int = int.from_bytes(b, "big") + 1
        for j in range(0, len(i), v):
            block = int.from_bytes(i[j : j + v], "big") + b_int
            i[j : j + v] = (block & ((1 << (8 * v)) - 1)).to_bytes(v, "big")
    del u
    return out[:size]


def bmp_password(password: str) -> bytes:
    """The PKCS#12 password encoding: UTF-16BE with a two-byte NUL terminator."""
    return password.encode("utf-16-be") + b"\x00\x00"
