"""Key derivation functions the standard library lacks: the PKCS#12 KDF (RFC 7292 appendix B.2) and the PKCS#12
password encoding. The KDF serves modern files too (PKCS#12 MACs with SHA-256, GSKit key databases, Bouncy Castle
stores), so it lives here and not in crypto/decrepit/; PBKDF2 is in crypto/pbkdf2.py. PBKDF1 is in
crypto/decrepit/kdf.py.

cryptography exposes no PKCS#12 KDF, and hashlib has no iterated digest: the KDF's loop in Python costs ~4.4 ms per
10,000 rounds (the MAC of a keytool or keystores file; receive derives it twice, once to check the file and once to
write it). Where the interpreter's libcrypto is loaded (hashlib's OpenSSL, on Linux and macOS) its PKCS12_key_gen_uni
does the same work in ~1.1 ms, with the GIL released, through ctypes (keystores.crypto.libcrypto): a speed device for
bench/bench_core.py's "start-up: keystores certreq"/"sign"/"receive" rows. Anything it cannot do (no such library,
a digest it does not know, a failure) is done by the Python loop, which tests/test_kdf.py holds to the same known
answers (`openssl kdf ... PKCS12KDF`) and to the library on random inputs.
"""

from __future__ import annotations

from typing import Any

from keystores.crypto import libcrypto

_BLOCK = {"md5": 64, "sha1": 64, "sha224": 64, "sha256": 64, "sha384": 128, "sha512": 128, "sha512_224": 128,
          "sha512_256": 128, "sha3_224": 144, "sha3_256": 136, "sha3_384": 104, "sha3_512": 72, "sm3": 64}
# hashlib's names -> OpenSSL's (EVP_get_digestbyname)
_OPENSSL_NAMES = {"md5": b"MD5", "sha1": b"SHA1", "sha224": b"SHA224", "sha256": b"SHA256", "sha384": b"SHA384",
                  "sha512": b"SHA512", "sha512_224": b"SHA512-224", "sha512_256": b"SHA512-256",
                  "sha3_224": b"SHA3-224", "sha3_256": b"SHA3-256", "sha3_384": b"SHA3-384", "sha3_512": b"SHA3-512",
                  "sm3": b"SM3"}


def pkcs12_kdf(password: bytes, salt: bytes, purpose_id: int, iterations: int, size: int,
               hash_name: str = "sha1") -> bytes:
    """RFC 7292 appendix B.2. `password` is already encoded (BMPString + 00 00 normally; raw for GSKit).

    purpose_id: 1 = key, 2 = IV, 3 = MAC key. The caller bounds iterations and size (keystores.limits).
    """
    derived = _by_libcrypto(password, salt, purpose_id, iterations, size, hash_name)
    return derived if derived is not None else pkcs12_kdf_python(password, salt, purpose_id, iterations, size,
                                                                hash_name)


def _by_libcrypto(password: bytes, salt: bytes, purpose_id: int, iterations: int, size: int,
                  hash_name: str) -> bytes | None:
    """libcrypto's PKCS12_key_gen_uni, or None where it cannot be used."""
    library = libcrypto.library()
    if library is None or not 0 < size <= 1 << 20 or not 0 <= iterations < 1 << 31:
        return None
    digest = _digest(library, hash_name)
    if not digest:
        return None
    import ctypes

    out = ctypes.create_string_buffer(size)
    if library.PKCS12_key_gen_uni(password, len(password), salt, len(salt), purpose_id, max(1, iterations), size,
                                  out, digest) != 1:
        return None
    return out.raw


_DIGESTS: dict[str, int | None] = {}


def _digest(library: Any, hash_name: str) -> int | None:
    if hash_name not in _DIGESTS:
        name = _OPENSSL_NAMES.get(hash_name)
        _DIGESTS[hash_name] = library.EVP_get_digestbyname(name) if name else None
    return _DIGESTS[hash_name]


def pkcs12_kdf_python(password: bytes, salt: bytes, purpose_id: int, iterations: int, size: int,
                      hash_name: str = "sha1") -> bytes:
    """pkcs12_kdf in Python: where libcrypto cannot do it, and to check libcrypto against (tests/test_kdf.py)."""
    import hashlib  # here: pbe imports this module, and a PEM listing derives no PKCS#12 key (start-up)

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
