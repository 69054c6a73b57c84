"""Key derivation functions the standard library lacks: the PKCS#12 KDF (RFC 7292 appendix B.2), the PKCS#12
password encoding, and an iterated digest by libcrypto (PBKDF1's loop). The KDF serves modern files too (PKCS#12 MACs
with SHA-256, GSKit key databases, Bouncy Castle stores), so it lives here and not in crypto/decrepit/; PBKDF2 is in
crypto/pbkdf2.py. PBKDF1 is in crypto/decrepit/kdf.py.

cryptography exposes no PKCS#12 KDF, and hashlib has no iterated digest: the KDF's loop in Python costs ~4.4 ms per
10,000 rounds (the MAC of a keytool or keystores file; receive derives it twice, once to check the file and once to
write it). Where the interpreter's libcrypto is loaded (hashlib's OpenSSL, on Linux and macOS) its PKCS12_key_gen_uni
does the same work in ~1.1 ms, with the GIL released, through ctypes (keystores.crypto.libcrypto): a speed device for
bench/bench_core.py's "start-up: keystores certreq"/"sign"/"receive" rows. Anything it cannot do (no such library,
a digest it does not know, a failure) is done by the Python loop, which tests/test_kdf.py holds to the same known
answers (`openssl kdf ... PKCS12KDF`) and to the library on random inputs.

PBKDF1's loop, H(H(...H(password || salt))), is the same kind of work: NSS's legacy PBE (the "compat" profile of an
NSS database, SHA-1 and 3DES, bench/bench_nss.py) runs 10,000 SHA-1 rounds per encrypted attribute, ~4.4 ms in
Python. libcrypto's EVP_BytesToKey is that loop (its first block, with no salt, is H^count(data)); asked for a cipher
whose key and IV together are one digest long, it does the rounds in ~1.2 ms with the GIL released, as long as its
digest is a fetched one (OpenSSL 3's EVP_MD_fetch: a legacy EVP_MD costs a provider lookup per round, ~3.5 ms).
"""

from __future__ import annotations

from keystores.crypto import libcrypto

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
    from keystores.crypto import lean_ctypes as ctypes

    out = ctypes.create_string_buffer(size)
    if library.PKCS12_key_gen_uni(password, len(password), salt, len(salt), purpose_id, max(1, iterations), size,
                                  out, digest) != 1:
        return None
    return out.raw


_DIGESTS: dict[str, int | None] = {}
# A cipher whose key and IV lengths add up to a digest's size, by that size: EVP_BytesToKey then derives exactly one
# block, H^count(data), split into key and IV (AES-128 with no IV for MD5's 16 bytes; AES-128 key wrap with padding,
# whose IV is 4 bytes, for SHA-1's 20)
_ONE_BLOCK_CIPHERS = {16: b"AES-128-ECB", 20: b"id-aes128-wrap-pad"}
_ITERATED: dict[str, tuple[int, int, int] | None] = {}  # hash name -> (cipher, fetched digest, key length), or None


def iterated_digest(data: bytes, iterations: int, hash_name: str) -> bytes | None:
    """H^iterations(data) (at least one round) by libcrypto's EVP_BytesToKey, or None where it cannot be used (no
    library already loaded, a digest or cipher it lacks, a failure): the caller then runs its Python loop."""
    library = libcrypto.library()
    if library is None or not 0 < len(data) < 1 << 30 or not 0 <= iterations < 1 << 31:
        return None
    if hash_name not in _ITERATED:
        _ITERATED[hash_name] = _one_block(library, hash_name)
    found = _ITERATED[hash_name]
    if found is None:
        return None
    from keystores.crypto import lean_ctypes as ctypes

    cipher, digest, key_length = found
    key, iv = ctypes.create_string_buffer(key_length), ctypes.create_string_buffer(16)
    if library.EVP_BytesToKey(cipher, digest, None, data, len(data), max(1, iterations), key, iv) != key_length:
        return None
    size = _DIGEST_SIZES[hash_name]
    return (key.raw + iv.raw)[:size]


_DIGEST_SIZES = {"md5": 16, "sha1": 20}


def _one_block(library: Any, hash_name: str) -> tuple[int, int, int] | None:
    """(cipher, fetched digest, the cipher's key length) for iterated_digest, or None."""
    from keystores.crypto import lean_ctypes as ctypes

    size = _DIGEST_SIZES.get(hash_name)
    name = _OPENSSL_NAMES.get(hash_name)
    if size is None or name is None:
        return None
    pointer, handle = ctypes.c_char_p, ctypes.c_void_p
    try:
        bytes_to_key, by_name = library.EVP_BytesToKey, library.EVP_get_cipherbyname
        fetch, key_length, iv_length = library.EVP_MD_fetch, library.EVP_CIPHER_get_key_length, \
            library.EVP_CIPHER_get_iv_length
    except AttributeError:  # OpenSSL before 3.0: the Python loop
        return None
    bytes_to_key.argtypes = [handle, handle, pointer, pointer, ctypes.c_int, ctypes.c_int, pointer, pointer]
    bytes_to_key.restype = ctypes.c_int
    by_name.argtypes, by_name.restype = [pointer], handle
    fetch.argtypes, fetch.restype = [handle, pointer, pointer], handle
    key_length.argtypes, key_length.restype = [handle], ctypes.c_int
    iv_length.argtypes, iv_length.restype = [handle], ctypes.c_int
    cipher = by_name(_ONE_BLOCK_CIPHERS[size])
    digest = fetch(None, name, None)  # held for the life of the process, as hashlib holds its own
    if not cipher or not digest or key_length(cipher) + iv_length(cipher) != size or iv_length(cipher) > 16:
        return None
    return cipher, digest, key_length(cipher)


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
    """The PKCS#12 password encoding: UTF-16BE with a two-byte NUL terminator. Encoded by the function the
    utf-16-be codec calls (`encodings.utf_16_be.encode is codecs.utf_16_be_encode`), without importing the codec's
    module (~0.9 M instructions of opening a PKCS#12; codecs is loaded with Python)."""
    import codecs

    return codecs.utf_16_be_encode(password)[0] + b"\x00\x00"
