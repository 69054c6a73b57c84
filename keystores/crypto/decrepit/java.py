"""Java's legacy store cryptography (JKS and JCEKS), kept apart from the modern code.

- The store digest both formats end with: SHA-1(password as UTF-16BE ‖ "Mighty Aphrodite" ‖ everything before it).
- JKS's key protector (sun.security.provider.KeyProtector, OID 1.3.6.1.4.1.42.2.17.1.1): a SHA-1 keystream XORed
  over the PKCS#8 key, with a SHA-1 check value.
- Sun's PBEWithMD5AndTripleDES (com.sun.crypto.provider, OID 1.3.6.1.4.1.42.2.19.1) that JCEKS uses for private
  and secret keys: PKCS#5 v1.5 style, MD5 iterated over each salt half, 3DES-CBC.

Read always; written only into JKS/JCEKS stores, which have no other algorithm to offer (choosing the format is the
request). These functions raise WrongPassword when a check value or padding fails; callers add the store and label.
"""

from __future__ import annotations

import codecs
import os
import sys

from keystores.errors import UsageError, WrongPassword
from keystores.limits import check_kdf

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

STORE_DIGEST_WHITENER = b"Mighty Aphrodite"
JKS_KEY_PROTECTOR_OID = "1.3.6.1.4.1.42.2.17.1.1"
SUN_PBE_MD5_3DES_OID = "1.3.6.1.4.1.42.2.19.1"
SUN_PBE_NAME = "PBEWithMD5AndTripleDES"
#: What JDK 17's com.sun.crypto.provider.KeyProtector uses (jdk.jceks.iterationCount); also our write default.
SUN_PBE_ITERATIONS = 200_000


def java_password_bytes(password: str) -> bytes:
    """A Java char[] as bytes: each UTF-16 code unit big-endian (non-BMP characters become surrogate pairs, a lone
    surrogate is written as it is). Encoded by the function the utf-16-be codec calls (`encodings.utf_16_be.encode
    is codecs.utf_16_be_encode`), without importing the codec's module: every JKS/JCEKS store digest starts here
    (start-up, as crypto.kdf.bmp_password)."""
    return codecs.utf_16_be_encode(password, "surrogatepass")[0]


def _sha1(size: int) -> Callable[[bytes], Any]:
    """SHA-1's constructor, to hash `size` bytes in all: OpenSSL's where the process has loaded it (a convert from
    a PKCS#12 has), else keystores.crypto.digests' choice, the interpreter's built-in SHA-1 for a small store. Not
    hashlib, whose import loads libcrypto (~3 ms of listing a small JKS, start-up) and, once it is loaded, still
    costs more to import (with _blake2) than hashing a small store takes."""
    made = getattr(sys.modules.get("_hashlib"), "openssl_sha1", None)  # what hashlib.sha1 is
    if made is not None:
        return made  # type: ignore[no-any-return]
    from keystores.crypto import digests

    return digests.constructor("sha1", size)


def store_digest(password: str, *parts: bytes | memoryview) -> bytes:
    """The JKS/JCEKS integrity digest over `parts` (the file up to the digest)."""
    digest = _sha1(sum(len(part) for part in parts))(java_password_bytes(password) + STORE_DIGEST_WHITENER)
    for part in parts:
        digest.update(part)
    return digest.digest()


def _xor(data: bytes, stream: bytes) -> bytes:
    size = len(data)
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream[:size], "big")).to_bytes(size, "big")


def _jks_keystream(password: bytes, salt: bytes, size: int) -> bytes:
    blocks = []
    current = salt
    sha1 = _sha1(size * 2)
    for _ in range((size + 19) // 20):
        current = sha1(password + current).digest()
        blocks.append(current)
    return b"".join(blocks)


def jks_protect_key(pkcs8_der: bytes, password: str, *, salt: bytes | None = None) -> bytes:
    """JKS key protector: salt(20) ‖ key XOR SHA-1 keystream ‖ SHA-1(password ‖ key)."""
    pw = java_password_bytes(password)
    salt = salt if salt is not None else os.urandom(20)
    encrypted = _xor(pkcs8_der, _jks_keystream(pw, salt, len(pkcs8_der)))
    return salt + encrypted + _sha1(len(pkcs8_der))(pw + pkcs8_der).digest()


def jks_unprotect_key(blob: bytes, password: str) -> bytes:
    """The PKCS#8 key inside a JKS key protector blob; WrongPassword when the check value differs."""
    if len(blob) < 41:
        raise WrongPassword("protected key is too short to hold a key")
    pw = java_password_bytes(password)
    salt, encrypted, check = blob[:20], blob[20:-20], blob[-20:]
    plain = _xor(encrypted, _jks_keystream(pw, salt, len(encrypted)))
    if _sha1(len(plain))(pw + plain).digest() != check:
        raise WrongPassword("the key password does not open this key")
    return plain


def _sun_pbe_password(password: str) -> bytes:
    # com.sun.crypto.provider.PBEKey accepts printable ASCII only and uses one byte per char.
    if any(not (0x20 <= ord(ch) <= 0x7E) for ch in password):
        raise UsageError("JCEKS key passwords must be printable ASCII (Java's PBEWithMD5AndTripleDES refuses others)")
    return password.encode("ascii")


def _md5_function():  # type: ignore[no-untyped-def]
    # CPython's built-in MD5 is about twice as fast as OpenSSL's for 16-byte inputs, and this loop runs 400,000
    # times per key (JDK 17 writes 200,000 iterations per salt half).
    try:
        import _md5  # type: ignore[import-not-found]

        return _md5.md5
    except ImportError:
        import hashlib

        return hashlib.md5


def _sun_pbe_derive(password: bytes, halves: tuple[bytes, bytes], iterations: int) -> tuple[bytes, bytes]:
    md5 = _md5_function()
    derived = []
    for half in halves:
        value = half
        for _ in range(iterations):
            value = md5(value + password).digest()
        derived.append(value)
    material = derived[0] + derived[1]
    return material[:24], material[24:]


def _salt_variants(salt: bytes) -> list[tuple[bytes, bytes]]:
    """The salt halves Java hashes. When both halves are equal Java "inverts" the first one; old JCE code did it
    with a typo ([a,b,c,d] -> [d,a,b,d]) and the textbook version reverses it: try both when reading."""
    first, second = salt[:4], salt[4:8]
    if first != second:
        return [(first, second)]
    return [(first[3:4] + first[0:1] + first[1:2] + first[3:4], second), (first[::-1], second)]


def _tdes_cbc(key: bytes, iv: bytes, data: bytes, *, decrypt: bool) -> bytes:
    """Three-key 3DES-CBC of whole blocks (the padding is the caller's): through the interpreter's libcrypto where
    keystores.crypto.pbe does its CBC so (a JCEKS key's passwd or convert then loads no cryptography, start-up),
    else, or where libcrypto declines, through cryptography."""
    from keystores.crypto import libcrypto
    from keystores.crypto.pbe import cipher_by_libcrypto

    if cipher_by_libcrypto():
        done = libcrypto.cbc("tripledes", key, iv, data, decrypt=decrypt)
        if done is not None:
            return done
    from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    cipher = Cipher(TripleDES(key), modes.CBC(iv))
    worker = cipher.decryptor() if decrypt else cipher.encryptor()
    return worker.update(data) + worker.finalize()


def sun_pbe_encrypt(data: bytes, password: str, *, salt: bytes | None = None,
                    iterations: int = SUN_PBE_ITERATIONS) -> tuple[bytes, int, bytes]:
    """(salt, iterations, ciphertext) of PBEWithMD5AndTripleDES over `data` with PKCS#5 padding."""
    pw = _sun_pbe_password(password)
    while salt is None or salt[:4] == salt[4:]:
        # Equal halves trigger Java's ambiguous salt "inversion": never write them.
        salt = os.urandom(8)
    key, iv = _sun_pbe_derive(pw, (salt[:4], salt[4:]), iterations)
    pad = 8 - len(data) % 8
    return salt, iterations, _tdes_cbc(key, iv, data + bytes([pad]) * pad, decrypt=False)


def sun_pbe_decrypt(data: bytes, password: str, salt: bytes, iterations: int) -> bytes:
    """Plaintext of PBEWithMD5AndTripleDES; WrongPassword when the padding is wrong (the usual wrong-password sign),
    LimitExceeded for an iteration count above keystores.limits."""
    if len(salt) != 8:
        raise ValueError(f"PBEWithMD5AndTripleDES needs an 8-byte salt, found {len(salt)} bytes")
    # JDK 17 refuses more than keystores.limits' ceiling too when it reads a JCEKS key.
    check_kdf(iterations, 24, max_key_length=24, what=SUN_PBE_NAME)
    if not data or len(data) % 8:
        raise ValueError("encrypted key is not a whole number of 3DES blocks")
    pw = _sun_pbe_password(password)
    for halves in _salt_variants(salt):
        key, iv = _sun_pbe_derive(pw, halves, iterations)
        padded = _tdes_cbc(key, iv, data, decrypt=True)
        pad = padded[-1]
        if 1 <= pad <= 8 and padded[-pad:] == bytes([pad]) * pad:
            return padded[:-pad]
    raise WrongPassword("the key password does not open this key")
