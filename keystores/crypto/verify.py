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
    key = _key(spki_der)
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


def _decoding_prototypes(ctypes: Any) -> dict[str, tuple[list[Any], Any]]:
    """d2i_PUBKEY, declared where a key is first decoded (an RSA key, an EC key in another form): an EC key in the
    form _EC_SPKI lists is made from its point, and certreq, sign, receive and selfsign then look up no symbol they
    do not call (~0.13 M instructions a declaration; start-up speed)."""
    return {"d2i_PUBKEY": ([ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_long], ctypes.c_void_p)}


# Each key decoded once per process (OpenSSL 3's decoder costs more than an ECDSA check: a store's CA verifies all
# its chains). Kept for the process; as many as the distinct keys a command verifies with (keystores.limits bounds
# the checks of a store).
_KEYS: dict[bytes, int | None] = {}


def _key(spki_der: bytes) -> int | None:
    """The EVP_PKEY of a SubjectPublicKeyInfo, or None where libcrypto does not decode it."""
    if spki_der not in _KEYS:
        key = _ec_public_key(spki_der)
        decoding = libcrypto.declared(f"{__name__}.d2i", _decoding_prototypes) if key is None else None
        if decoding is not None:
            from keystores.crypto import lean_ctypes as ctypes

            start = ctypes.c_char_p(spki_der)
            key = decoding.d2i_PUBKEY(None, ctypes.byref(start), len(spki_der)) or None
        _KEYS[spki_der] = key
    return _KEYS[spki_der]


# An EC key on P-256, P-384 or P-521 in the form cryptography writes it (the named curve, the point uncompressed)
# is made from its point (EVP_PKEY_fromdata, ~0.03 ms) rather than decoded: d2i_PUBKEY goes through OpenSSL 3's
# decoder framework, ~0.3 ms for a process's first key (start-up speed: certreq, sign, receive, selfsign each
# check a signature or two; issue 15). The point is checked the same way either way: OpenSSL's EC_POINT_oct2point,
# which refuses a point that is not on the curve. By the SubjectPublicKeyInfo's length: (its bytes up to the point,
# OpenSSL's name of the curve).
_EC_SPKI = {
    91: (bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200"), b"P-256"),
    120: (bytes.fromhex("3076301006072a8648ce3d020106052b81040022036200"), b"P-384"),
    158: (bytes.fromhex("30819b301006072a8648ce3d020106052b8104002303818600"), b"P-521"),
}
# The curve OIDs' names as EVP_PKEY_fromdata takes them (keystores.crypto.ec_keys makes private keys so)
EC_GROUPS = {"1.2.840.10045.3.1.7": b"P-256", "1.3.132.0.34": b"P-384", "1.3.132.0.35": b"P-521"}


def ec_spki_point(spki_der: bytes) -> tuple[bytes, bytes] | None:
    """(OpenSSL's name of the curve, the point) of an EC SubjectPublicKeyInfo in the form _EC_SPKI lists (the named
    curve, the point uncompressed at the curve's length: as cryptography writes one), read from its bytes; None for
    any other key or form. Whether the point is on the curve is the caller's to ask."""
    form = _EC_SPKI.get(len(spki_der))
    if form is None or not spki_der.startswith(form[0]) or spki_der[len(form[0])] != 0x04:
        return None
    return form[1], spki_der[len(form[0]):]


def _ec_public_key(spki_der: bytes) -> int | None:
    """The EVP_PKEY of an EC SubjectPublicKeyInfo in the form _EC_SPKI lists, made from its point; None for any
    other key, or where libcrypto does not make it (the caller decodes it)."""
    found = ec_spki_point(spki_der)
    return None if found is None else ec_key(*found)


def ec_key(group: bytes, point: bytes, scalar: bytes | None = None) -> int | None:
    """An EVP_PKEY (the caller frees it) of the EC key on `group` (EC_GROUPS' names) with the uncompressed `point`,
    and the private `scalar` (big-endian) when given; None where libcrypto does not make it (before OpenSSL 3.0,
    a point not on the curve). The scalar's copy handed to libcrypto is zeroed here once the key is made."""
    found = libcrypto.declared(f"{__name__}.ec_key", _fromdata_prototypes)
    if found is None:
        return None
    from keystores.crypto import lean_ctypes as ctypes

    parameter = _parameter_type(ctypes)
    parameters = (parameter * 4)()
    group_name, point_bytes = ctypes.create_string_buffer(group), ctypes.create_string_buffer(point, len(point))
    parameters[0] = parameter(b"group", _UTF8_STRING, ctypes.cast(group_name, ctypes.c_void_p), len(group), 0)
    parameters[1] = parameter(b"pub", _OCTET_STRING, ctypes.cast(point_bytes, ctypes.c_void_p), len(point), 0)
    secret, selection = None, _PUBLIC_KEY
    if scalar is not None:  # an unsigned integer in the machine's byte order, as OSSL_PARAM holds one
        import sys

        secret = ctypes.create_string_buffer(scalar if sys.byteorder == "big" else scalar[::-1], len(scalar))
        parameters[2] = parameter(b"priv", _UNSIGNED_INTEGER, ctypes.cast(secret, ctypes.c_void_p), len(scalar), 0)
        selection = _KEYPAIR
    context = found.EVP_PKEY_CTX_new_from_name(None, b"EC", None)
    key = ctypes.c_void_p()
    try:
        if (not context or found.EVP_PKEY_fromdata_init(context) != 1
                or found.EVP_PKEY_fromdata(context, ctypes.byref(key), selection, parameters) != 1 or not key):
            found.ERR_clear_error()
            return None
        return key.value
    finally:
        if secret is not None:
            ctypes.memset(secret, 0, len(scalar))  # type: ignore[arg-type]
        if context:
            found.EVP_PKEY_CTX_free(context)


# OSSL_PARAM's data types and EVP_PKEY_fromdata's selections (OpenSSL 3's core.h, evp.h)
_UNSIGNED_INTEGER, _UTF8_STRING, _OCTET_STRING = 2, 4, 5
_PUBLIC_KEY, _KEYPAIR = 0x86, 0x87


def _fromdata_prototypes(ctypes: Any) -> dict[str, tuple[list[Any], Any]]:
    address = ctypes.c_void_p
    return {
        "EVP_PKEY_CTX_new_from_name": ([address, ctypes.c_char_p, address], address),
        "EVP_PKEY_CTX_free": ([address], None),
        "EVP_PKEY_fromdata_init": ([address], ctypes.c_int),
        "EVP_PKEY_fromdata": ([address, ctypes.POINTER(address), ctypes.c_int, address], ctypes.c_int),
    }


_PARAMETER: list[Any] = []  # [OSSL_PARAM's ctypes structure], made on first use


def _parameter_type(ctypes: Any) -> Any:
    """OSSL_PARAM: { const char *key; unsigned int data_type; void *data; size_t data_size; size_t return_size }."""
    if not _PARAMETER:
        class Parameter(ctypes.Structure):  # type: ignore[misc,name-defined]
            _fields_ = (("key", ctypes.c_char_p), ("data_type", ctypes.c_uint), ("data", ctypes.c_void_p),
                        ("data_size", ctypes.c_size_t), ("return_size", ctypes.c_size_t))

        _PARAMETER.append(Parameter)
    return _PARAMETER[0]
