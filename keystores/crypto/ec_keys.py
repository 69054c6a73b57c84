"""EC keys made, and signatures made with them, by the interpreter's own libcrypto (keystores.crypto.libcrypto's
loader): what certreq and selfsign need of a new key on P-256, P-384 or P-521 kept in a file, and what sign needs
of a CA's EC key read from one, without importing cryptography.

A speed device (issue 15; bench/bench_core.py "start-up: keystores certreq", bench_commands.py "selfsign"): making
a key and signing with it through cryptography means importing its compiled module, its hashes and its EC module
(~20 ms of CPU, more than everything else certreq does but the key derivations), where the libcrypto hashlib
loaded, which also derives the PKCS#12 MAC's key, is in the process already. The key is OpenSSL's own
(EVP_PKEY_keygen on the named curve, from OpenSSL's random generator, as cryptography asks its OpenSSL) and the
signature EVP_DigestSign's (ECDSA with a random nonce, DER ECDSA-Sig-Value: what cryptography's `sign` gives).
Keys leave here as their private scalar and public point, and come back as the PKCS#8 keystores.pki.pkcs8
writes; each EVP_PKEY lives for one call. Nothing here guesses: None wherever libcrypto is not loaded, is older
than OpenSSL 3, does not know the curve or digest, or fails; the caller then does it with cryptography.
tests/test_ec_keys.py has cryptography verify and load what is made here, and openssl judge the files.
"""

from __future__ import annotations

from keystores.crypto import libcrypto
from keystores.crypto.verify import EC_GROUPS, OPENSSL_DIGESTS, ec_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_EVP_PKEY_EC = 408  # NID_X9_62_id_ecPublicKey, EVP_PKEY_EC


def _library(*needs: Callable[[Any], dict[str, tuple[list[Any], Any]]]) -> Any:
    """libcrypto with the calls of `needs` declared (all of them when none is named), or None (OpenSSL before 3.0
    lacks EVP_PKEY_get_bn_param). Each call below declares only the calls it makes: a declaration looks the symbol
    up in libcrypto and makes its ctypes function (~0.13 M instructions each), and sign's CA key, which signs from
    its parts (sign_ec), needs none of the seven that make a key or decode a PKCS#8 (start-up speed, bench_core's
    "start-up: keystores sign")."""
    found = None
    for prototypes in needs or (_keygen_prototypes, _signing_prototypes, _decoding_prototypes):
        found = libcrypto.declared(f"{__name__}.{prototypes.__name__}", prototypes)
        if found is None:
            return None
    return found


def _keygen_prototypes(ctypes: Any) -> dict[str, tuple[list[Any], Any]]:
    """generate's calls."""
    pointer, number, address = ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p
    return {  # name: (argument types, result type)
        "EVP_PKEY_CTX_new_id": ([number, address], address),
        "EVP_PKEY_CTX_free": ([address], None),
        "EVP_PKEY_keygen_init": ([address], number),
        "EVP_PKEY_CTX_set_ec_paramgen_curve_nid": ([address, number], number),
        "EVP_PKEY_keygen": ([address, ctypes.POINTER(address)], number),
        "EVP_PKEY_get_bn_param": ([address, pointer, ctypes.POINTER(address)], number),
        "BN_bn2binpad": ([address, pointer, number], number),
        "EVP_PKEY_get_octet_string_param": ([address, pointer, pointer, ctypes.c_size_t,
                                             ctypes.POINTER(ctypes.c_size_t)], number),
        "EVP_PKEY_free": ([address], None),
    }


def _signing_prototypes(ctypes: Any) -> dict[str, tuple[list[Any], Any]]:
    """_signed's calls."""
    pointer, number, address, size = ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t
    return {
        "EVP_PKEY_free": ([address], None),
        "EVP_MD_CTX_new": ([], address),
        "EVP_MD_CTX_free": ([address], None),
        "EVP_DigestSignInit": ([address, address, address, address, address], number),
        "EVP_DigestSign": ([address, pointer, ctypes.POINTER(size), pointer, size], number),
    }


def _decoding_prototypes(ctypes: Any) -> dict[str, tuple[list[Any], Any]]:
    """sign's decoding of a PKCS#8, and EVP_PKEY_get_bn_param: OpenSSL 3's, as every call here asks (sign_ec's key
    is made by EVP_PKEY_fromdata, OpenSSL 3's too)."""
    pointer, number, address = ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p
    return {
        "d2i_AutoPrivateKey": ([address, ctypes.POINTER(pointer), ctypes.c_long], address),
        "EVP_PKEY_get_bn_param": ([address, pointer, ctypes.POINTER(address)], number),
    }


def generate(curve_oid: str, size: int) -> tuple[bytes, bytes] | None:
    """(private scalar (big-endian, `size` bytes), uncompressed public point 04 || X || Y) of a new key libcrypto
    makes on the named curve `curve_oid`, or None (see the module docstring). The point is the one libcrypto's
    keygen made with the scalar (its encoded public key, uncompressed as the key's default), not computed again
    from the scalar (keystores.crypto.libcrypto.ec_public_point: ten more symbols to declare and a point
    multiplication, ~1.5 M instructions of certreq and selfsign); every signature made with the pair is checked
    with the point before it is written (keystores.pki.builder._signed)."""
    found = _library(_keygen_prototypes)
    if found is None:
        return None
    from keystores.crypto import lean_ctypes as ctypes

    nid = found.OBJ_txt2nid(curve_oid.encode("ascii"))
    context = found.EVP_PKEY_CTX_new_id(_EVP_PKEY_EC, None) if nid else None
    key = ctypes.c_void_p()
    scalar = ctypes.c_void_p()
    try:
        if (not context or found.EVP_PKEY_keygen_init(context) != 1
                or found.EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, nid) != 1
                or found.EVP_PKEY_keygen(context, ctypes.byref(key)) != 1 or not key
                or found.EVP_PKEY_get_bn_param(key, b"priv", ctypes.byref(scalar)) != 1 or not scalar):
            found.ERR_clear_error()
            return None
        out = ctypes.create_string_buffer(size)
        point = ctypes.create_string_buffer(1 + 2 * size)
        length = ctypes.c_size_t(0)
        if (found.BN_bn2binpad(scalar, out, size) != size
                or found.EVP_PKEY_get_octet_string_param(key, b"encoded-pub-key", point, len(point),
                                                         ctypes.byref(length)) != 1
                or length.value != len(point) or point.raw[:1] != b"\x04"):
            found.ERR_clear_error()
            return None
        return out.raw, point.raw
    finally:
        if scalar:
            found.BN_clear_free(scalar)
        if key:
            found.EVP_PKEY_free(key)
        if context:
            found.EVP_PKEY_CTX_free(context)


def sign(pkcs8: bytes, data: bytes, hash_name: str) -> bytes | None:
    """The signature of the key in the PrivateKeyInfo DER `pkcs8` over `data` with `hash_name` ("sha256"...): its
    type's default scheme, ECDSA for an EC key; or None (see the module docstring)."""
    found = _library(_signing_prototypes, _decoding_prototypes)
    if found is None or hash_name not in OPENSSL_DIGESTS:
        return None
    from keystores.crypto import lean_ctypes as ctypes

    start = ctypes.c_char_p(pkcs8)
    return _signed(found, found.d2i_AutoPrivateKey(None, ctypes.byref(start), len(pkcs8)), data, hash_name)


def sign_ec(curve_oid: str, scalar: bytes, point: bytes, data: bytes, hash_name: str) -> bytes | None:
    """sign() for the EC key on the named curve `curve_oid` of the private `scalar` and its public `point` (as
    keystores.pki.pkcs8 reads a PKCS#8 it writes): the key is made from them (EVP_PKEY_fromdata, ~0.03 ms), not
    decoded from the PKCS#8 (OpenSSL 3's decoders, ~0.45 ms a key: certreq signs twice). The same signature; None
    where libcrypto does not do it (before OpenSSL 3.0, a curve other than P-256, P-384, P-521)."""
    group = EC_GROUPS.get(curve_oid)
    found = _library(_signing_prototypes)
    if found is None or group is None or hash_name not in OPENSSL_DIGESTS:
        return None
    return _signed(found, ec_key(group, point, scalar), data, hash_name)


def _signed(found: Any, key: int | None, data: bytes, hash_name: str) -> bytes | None:
    """The signature of the EVP_PKEY `key` (freed here) over `data`, or None where there is no key or libcrypto
    fails."""
    from keystores.crypto import lean_ctypes as ctypes

    digest = found.EVP_get_digestbyname(OPENSSL_DIGESTS[hash_name]) if key else None
    context = found.EVP_MD_CTX_new() if digest else None
    try:
        length = ctypes.c_size_t(0)
        if (not context or found.EVP_DigestSignInit(context, None, digest, None, key) != 1
                or found.EVP_DigestSign(context, None, ctypes.byref(length), data, len(data)) != 1):
            found.ERR_clear_error()
            return None
        out = ctypes.create_string_buffer(max(length.value, 1))
        if found.EVP_DigestSign(context, out, ctypes.byref(length), data, len(data)) != 1:
            found.ERR_clear_error()
            return None
        return out.raw[:length.value]
    finally:
        if context:
            found.EVP_MD_CTX_free(context)
        if key:
            found.EVP_PKEY_free(key)
