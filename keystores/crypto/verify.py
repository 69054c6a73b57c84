"""Signature verification by the interpreter's own libcrypto (keystores.crypto.libcrypto's loader), for a signature
over bytes by a SubjectPublicKeyInfo given as DER: what keystores.pki.chain asks of every chain link.

A speed device (issue 15; bench/bench_core.py "start-up: keystores audit s.kdb", "receive"): checking one link with
cryptography means importing it (its compiled module, hashes, typing and the key type's module: ~10 ms of CPU, more
than the check), where the libcrypto hashlib loaded is already in the process. Only what keystores.pki.chain hands
over is asked here: an RSA key (rsaEncryption) or an EC key on P-256, P-384 or P-521, each already judged loadable as
cryptography loads it, and a hash named by the signature's OID; the verdict is libcrypto's EVP_DigestVerify with
that key's default scheme (PKCS#1 v1.5 for RSA, ECDSA over a DER signature), which is what cryptography asks its
OpenSSL. tests/test_verify.py holds the verdicts to cryptography's over real certificates of every key type and
damaged signatures. None, never a guess, where libcrypto is not loaded, does not load the key, does not know the
digest, or fails in any other way than "does not verify": the caller then asks cryptography.
"""

from __future__ import annotations

from keystores.crypto import libcrypto

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# hashlib's names (keystores.pki.encoded.signature_hashes) -> OpenSSL's
OPENSSL_DIGESTS = {"md5": b"MD5", "sha1": b"SHA1", "sha224": b"SHA224", "sha256": b"SHA256",
                   "sha384": b"SHA384", "sha512": b"SHA512"}


def _library() -> Any:
    """libcrypto with the calls below declared, or None."""
    return libcrypto.declared(__name__, _prototypes)


def _prototypes(ctypes: Any) -> dict[str, tuple[list[Any], Any]]:
    pointer, number, address, size = ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t
    return {  # name: (argument types, result type)
        "d2i_PUBKEY": ([address, ctypes.POINTER(pointer), ctypes.c_long], address),
        "EVP_MD_CTX_new": ([], address),
        "EVP_MD_CTX_free": ([address], None),
        "EVP_DigestVerifyInit": ([address, address, address, address, address], number),
        "EVP_DigestVerify": ([address, pointer, size, pointer, size], number),
    }


def verify(spki_der: bytes, signature: bytes, data: bytes, hash_name: str) -> bool | None:
    """Whether the key of `spki_der` made `signature` over `data` with `hash_name` ("sha256"...): True, False (it
    does not verify, or is no signature at all), or None where libcrypto cannot say (see the module docstring)."""
    found = _library()
    name = OPENSSL_DIGESTS.get(hash_name)
    if found is None or name is None or not spki_der:
        return None
    digest = found.EVP_get_digestbyname(name)
    key = _key(found, spki_der)
    if not digest or not key:
        found.ERR_clear_error()
        return None
    context = found.EVP_MD_CTX_new()
    try:
        if not context or found.EVP_DigestVerifyInit(context, None, digest, None, key) != 1:
            found.ERR_clear_error()
            return None
        verdict = found.EVP_DigestVerify(context, signature, len(signature), data, len(data))
        found.ERR_clear_error()  # a signature that does not verify leaves its reason on the error queue
        if verdict in (0, 1):
            return verdict == 1
        return None  # an error other than "does not verify"
    finally:
        if context:
            found.EVP_MD_CTX_free(context)


# Each key decoded once per process (OpenSSL 3's decoder costs more than an ECDSA check: a store's CA verifies all
# its chains). Kept for the process; as many as the distinct keys a command verifies with (keystores.limits bounds
# the checks of a store).
_KEYS: dict[bytes, int | None] = {}


def _key(found: Any, spki_der: bytes) -> int | None:
    """The EVP_PKEY of a SubjectPublicKeyInfo, or None where libcrypto does not decode it."""
    if spki_der not in _KEYS:
        import ctypes

        start = ctypes.c_char_p(spki_der)
        _KEYS[spki_der] = found.d2i_PUBKEY(None, ctypes.byref(start), len(spki_der)) or None
    return _KEYS[spki_der]
