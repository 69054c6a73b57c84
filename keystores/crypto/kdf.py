"""Legacy cryptography, kept in one place: read always, written only when a profile or option asks for it.

Here: the PKCS#12 appendix B key derivation, PBES1 (PKCS#5 v1.5) derivation, and the legacy block ciphers
(DES, 3DES, RC2, RC4) as cryptography's `decrepit` module provides them. Java's and GSKit's own obfuscations
live with their backends but call into this module for the primitives.
"""

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
    # hashlib.sha1 & co are 2.4x faster than hashlib.new() in this loop (100,000 rounds in old stores)
    digest = getattr(hashlib, hash_name, None) or (lambda data: hashlib.new(hash_name, data))

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
            a = digest(a).digest()
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


def pbkdf1(password: bytes, salt: bytes, iterations: int, hash_name: str) -> bytes:
    """PKCS#5 v1.5 PBKDF1 (16 bytes for MD5, 20 for SHA-1)."""
    derived = password + salt
    for _ in range(max(1, iterations)):
        derived = hashlib.new(hash_name, derived).digest()
    return derived


def block_cipher(name: str, key: bytes):  # type: ignore[no-untyped-def]
    """A cryptography cipher algorithm object for the legacy and modern names used in PBE parameters (camellia,
    sm4, blowfish, cast5 and seed: the other PBES2 ciphers `openssl pkcs12 -keypbe/-certpbe` offers)."""
    from cryptography.hazmat.decrepit.ciphers import algorithms as old
    from cryptography.hazmat.primitives.ciphers import algorithms

    if name == "tripledes":
        if len(key) == 16:  # two-key 3DES: K1 K2 K1
            key = key + key[:8]
        return old.TripleDES(key)
    if name == "des":
        return old.TripleDES(key * 3)  # single DES is 3DES with one key thrice
    by_name = {"aes": algorithms.AES, "sm4": algorithms.SM4, "camellia": old.Camellia, "blowfish": old.Blowfish,
               "cast5": old.CAST5, "seed": old.SEED, "rc2": old.RC2, "rc4": old.ARC4}
    if name not in by_name:
        raise ValueError(f"unsupported cipher {name}")
    return by_name[name](key)


# RC2 (RFC 2268). cryptography's RC2 takes only 128-bit keys; PKCS#12 files from `openssl -legacy` and old
# Windows use RC2-40, so decryption for any key length and effective key bits is done here.
_RC2_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)


def _rc2_expand(key: bytes, effective_bits: int) -> list[int]:
    t = len(key)
    t8 = (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    expanded = bytearray(128)
    expanded[:t] = key
    for i in range(t, 128):
        expanded[i] = _RC2_PITABLE[(expanded[i - 1] + expanded[i - t]) & 0xFF]
    expanded[128 - t8] = _RC2_PITABLE[expanded[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        expanded[i] = _RC2_PITABLE[expanded[i + 1] ^ expanded[i + t8]]
    return [expanded[2 * i] | (expanded[2 * i + 1] << 8) for i in range(64)]


def _rc2_decrypt_block(k: list[int], block: bytes) -> bytes:
    r = [block[2 * i] | (block[2 * i + 1] << 8) for i in range(4)]
    j = 63
    for group, rounds in enumerate((5, 6, 5)):
        for _ in range(rounds):
            for i, s in ((3, 5), (2, 3), (1, 2), (0, 1)):
                r[i] = ((r[i] >> s) | (r[i] << (16 - s))) & 0xFFFF
                r[i] = (r[i] - k[j] - (r[(i - 1) % 4] & r[(i - 2) % 4]) - ((~r[(i - 1) % 4]) & r[(i - 3) % 4])) & 0xFFFF
                j -= 1
        if group < 2:  # an R-MASH separates the three groups of mixing rounds
            for i in (3, 2, 1, 0):
                r[i] = (r[i] - k[r[(i - 1) % 4] & 63]) & 0xFFFF
    return b"".join(x.to_bytes(2, "little") for x in r)


def rc2_decrypt_cbc(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC decryption for any key length (RFC 2268); padding is left to the caller."""
    k = _rc2_expand(key, effective_bits)
    out = bytearray()
    previous = iv
    for offset in range(0, len(data) - len(data) % 8, 8):
        block = data[offset : offset + 8]
        out += bytes(a ^ b for a, b in zip(_rc2_decrypt_block(k, block), previous, strict=True))
        previous = block
    return bytes(out)
