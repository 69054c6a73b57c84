"""The interpreter's own libcrypto (the OpenSSL that hashlib's _hashlib is linked against), through ctypes, for
what hashlib lacks: the PKCS#12 KDF and PBKDF1's rounds (keystores.crypto.kdf, which declares the OpenSSL 3 calls
the latter needs itself), CBC ciphers (keystores.crypto.pbe) and an EC private key's public point
(keystores.pki.pkcs8).

A speed device (issue 15; bench/bench_core.py "start-up: keystores list one.p12", "export", "convert"): reading a
small PKCS#12 needs one KDF run for its MAC and one AES-CBC decryption per encrypted bag, and cryptography's
compiled module, loaded for nothing else on that path, costs ~10 ms of CPU to load (more than the reading itself).
Only a library already in the process is used (dlopen with RTLD_NOLOAD): this never loads a library of its own,
nor a second OpenSSL beside hashlib's. ctypes costs ~1.8 ms to import, paid once. Where no such library is loaded
(Windows, another build of Python) `library()` is None and the callers use cryptography or Python instead; a
failing call gives None, never a guess, and the caller does the same.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# The names of the shared library hashlib's _hashlib is linked against (Linux and macOS both have RTLD_NOLOAD)
_NAMES = {"linux": ("libcrypto.so.3", "libcrypto.so.1.1"), "darwin": ("libcrypto.3.dylib", "libcrypto.1.1.dylib")}

_LOADED: list[Any] = []  # [] until looked for; then [the library, or None]


def library() -> Any:
    """The loaded libcrypto with the prototypes keystores calls declared, or None."""
    if not _LOADED:
        _LOADED.append(_load())
    return _LOADED[0]


def already_loaded() -> bool:
    """Whether library() has been asked for and found the library: using it then costs nothing more."""
    return bool(_LOADED) and _LOADED[0] is not None


def cipher_by_libcrypto() -> bool:
    """Whether CBC goes to libcrypto: while cryptography is not loaded, and also once libcrypto is in use (a PKCS#12
    MAC's KDF found it): then cryptography's cipher modules (ten of them, ~1.5 ms) are not imported for AES-CBC
    either (bench_core's "start-up: keystores sign"/"receive", whose EC keys load cryptography). Here, not in
    keystores.crypto.pbe, so that the NSS backend asks without importing the PBE modules (issue 15)."""
    return "cryptography.hazmat.bindings._rust" not in sys.modules or already_loaded()


def declared(caller: str, prototypes: Callable[[Any], dict[str, tuple[list[Any], Any]]]) -> Any:
    """library() with the calls `prototypes(ctypes)` gives ({name: (argument types, result type)}) declared as
    well, or None where it is not loaded or lacks one of them (an older OpenSSL): the calls keystores.crypto.verify
    and ec_keys make. Declared once per `caller`."""
    if caller not in _DECLARED:
        found = library()
        if found is not None:
            from keystores.crypto import lean_ctypes as ctypes

            try:
                for function, (arguments, result) in prototypes(ctypes).items():
                    declared = getattr(found, function)
                    declared.argtypes, declared.restype = arguments, result
            except AttributeError:
                found = None
        _DECLARED[caller] = found
    return _DECLARED[caller]


_DECLARED: dict[str, Any] = {}  # caller -> the library with its calls declared, or None


def _load() -> Any:
    import os

    from keystores.lightweight import suppress

    # _hashlib is what loads the libcrypto looked for (hashlib's, when it is OpenSSL's); not hashlib, which also makes
    # a constructor for every digest (~0.4 ms of reading a small PKCS#12, bench/bench_core.py "list one.p12").
    # Without it (an interpreter without OpenSSL), a library loaded otherwise, if any.
    with suppress(ImportError):
        import _hashlib  # noqa: F401

    names = _NAMES.get(sys.platform, ())
    if not names:
        return None
    from keystores.crypto import lean_ctypes as ctypes

    pointer, number, address = ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p
    prototypes = {  # name: (argument types, result type)
        "PKCS12_key_gen_uni": ([pointer, number, pointer, number, number, number, number, pointer, address], number),
        "EVP_get_digestbyname": ([pointer], address),
        "EVP_aes_128_cbc": ([], address), "EVP_aes_192_cbc": ([], address), "EVP_aes_256_cbc": ([], address),
        "EVP_des_ede3_cbc": ([], address),
        "EVP_CIPHER_CTX_new": ([], address),
        "EVP_CIPHER_CTX_free": ([address], None),
        "EVP_CipherInit_ex": ([address, address, address, pointer, pointer, number], number),
        "EVP_CIPHER_CTX_set_padding": ([address, number], number),
        "EVP_CipherUpdate": ([address, pointer, ctypes.POINTER(number), pointer, number], number),
        "ERR_clear_error": ([], None),
        "OBJ_txt2nid": ([pointer], number),
        "BN_clear_free": ([address], None),
    }  # (ec_public_point declares its own on its first call: reading a PKCS#12 asks for none of them)
    for name in names:
        try:
            found = ctypes.CDLL(name, mode=os.RTLD_NOLOAD)
            for function, (arguments, result) in prototypes.items():
                declared = getattr(found, function)
                declared.argtypes, declared.restype = arguments, result
        except (OSError, AttributeError):
            continue
        return found
    return None


# block_cipher's names -> (libcrypto's cipher by key length, block size)
_CBC = {"aes": ({16: "EVP_aes_128_cbc", 24: "EVP_aes_192_cbc", 32: "EVP_aes_256_cbc"}, 16),
        "tripledes": ({24: "EVP_des_ede3_cbc"}, 8)}


def cbc(cipher: str, key: bytes, iv: bytes, data: bytes, *, decrypt: bool) -> bytes | None:
    """`data` (whole blocks; padding is the caller's) en- or decrypted with `cipher` ("aes", "tripledes" with a
    three-key key) in CBC mode, or None where libcrypto is not loaded, does not have the cipher, or fails."""
    found = library()
    by_length, block = _CBC.get(cipher, ({}, 0))
    cipher_function = by_length.get(len(key))
    if found is None or cipher_function is None or len(iv) != block or len(data) % block:
        return None
    from keystores.crypto import lean_ctypes as ctypes

    context = found.EVP_CIPHER_CTX_new()
    if not context:
        return None
    try:
        out = ctypes.create_string_buffer(len(data) + block)
        written = ctypes.c_int(0)
        if (found.EVP_CipherInit_ex(context, getattr(found, cipher_function)(), None, key, iv, 0 if decrypt else 1)
                != 1 or found.EVP_CIPHER_CTX_set_padding(context, 0) != 1
                or found.EVP_CipherUpdate(context, out, ctypes.byref(written), data, len(data)) != 1
                or written.value != len(data)):
            found.ERR_clear_error()  # what failed is answered by the caller's other way, not by a stale error
            return None
        return out.raw[:written.value]
    finally:
        found.EVP_CIPHER_CTX_free(context)


def ready(cipher: str, key_length: int) -> None:
    """Have libcrypto look up `cipher`'s CBC (cbc's names) for keys of `key_length` bytes now, by decrypting one block
    of zeros under a zero key: OpenSSL 3 fetches a cipher from its providers on its first use (~0.5 ms for AES-256-CBC
    here), and after that finds it in its cache. keystores.crypto.pbe.Ahead runs it on another core while the MAC's
    key is derived, so that decrypting a PKCS#12's part after the MAC costs the decryption alone (bench/bench_core.py
    "list one.p12"). No key or data of the caller's is used; nothing where cbc() would do nothing."""
    by_length, block = _CBC.get(cipher, ({}, 0))
    if key_length in by_length:
        cbc(cipher, bytes(key_length), bytes(block), bytes(block), decrypt=True)


_UNCOMPRESSED = 4  # POINT_CONVERSION_UNCOMPRESSED


def _point_prototypes(ctypes: Any) -> dict[str, tuple[list[Any], Any]]:
    """ec_public_point's calls, declared when it is first asked (declared()): each costs a symbol look-up and a
    function object (~0.2 M instructions for the ten), which `list`, `show` and `export` of a PKCS#12 do not need
    (bench/bench_core.py)."""
    pointer, number, address = ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p
    return {
        "EC_GROUP_new_by_curve_name": ([number], address),
        "EC_GROUP_free": ([address], None),
        "EC_GROUP_get0_order": ([address], address),
        "BN_bin2bn": ([pointer, number, address], address),
        "BN_is_zero": ([address], number),
        "BN_cmp": ([address, address], number),
        "EC_POINT_new": ([address], address),
        "EC_POINT_clear_free": ([address], None),
        "EC_POINT_mul": ([address, address, address, address, address, address], number),
        "EC_POINT_point2oct": ([address, address, number, pointer, ctypes.c_size_t, address], ctypes.c_size_t),
    }


def ec_public_point(curve_oid: str, scalar: bytes) -> bytes | None:
    """The uncompressed public point (04 || X || Y) of the private `scalar` (big-endian) on the named curve
    `curve_oid`: scalar times the generator. None where libcrypto is not loaded, does not know the curve, or the
    scalar is not a private key on it (zero, or not below the group's order), or anything fails."""
    if library() is None or not scalar:
        return None
    found = declared(__name__, _point_prototypes)
    if found is None:
        return None
    nid = found.OBJ_txt2nid(curve_oid.encode("ascii"))
    group = found.EC_GROUP_new_by_curve_name(nid) if nid else None
    if not group:
        found.ERR_clear_error()
        return None
    value = point = None
    try:
        from keystores.crypto import lean_ctypes as ctypes

        value = found.BN_bin2bn(scalar, len(scalar), None)
        order = found.EC_GROUP_get0_order(group)
        point = found.EC_POINT_new(group)
        if (not value or not order or not point or found.BN_is_zero(value) or found.BN_cmp(value, order) >= 0
                or found.EC_POINT_mul(group, point, value, None, None, None) != 1):
            found.ERR_clear_error()
            return None
        size = found.EC_POINT_point2oct(group, point, _UNCOMPRESSED, None, 0, None)
        out = ctypes.create_string_buffer(max(size, 1))
        if not size or found.EC_POINT_point2oct(group, point, _UNCOMPRESSED, out, size, None) != size:
            found.ERR_clear_error()
            return None
        return out.raw[:size]
    finally:
        if point:
            found.EC_POINT_clear_free(point)
        if value:
            found.BN_clear_free(value)
        found.EC_GROUP_free(group)


def base64_encode(data: bytes) -> bytes | None:
    """binascii.b2a_base64(data, newline=False), by EVP_EncodeBlock (the same alphabet and padding: RFC 4648), or
    None where the library is not loaded or lacks the call. For keystores.crypto.der, which asks only where the
    library is in use already: binascii's import loads the libz it links (~0.25 ms of sign and certreq)."""
    found = declared(f"{__name__}.base64", _base64_prototypes)
    if found is None or len(data) > _BASE64_MOST:
        return None
    from keystores.crypto import lean_ctypes as ctypes

    size = (len(data) + 2) // 3 * 4
    out = ctypes.create_string_buffer(size + 1)  # (EVP_EncodeBlock ends its output with a NUL)
    return out.raw[:size] if found.EVP_EncodeBlock(out, data, len(data)) == size else None


def base64_decode(text: bytes, padding: int) -> bytes | None:
    """The bytes of `text`, base64 in whole groups of four characters of the alphabet with `padding` '=' (0 to 2)
    at its end and nowhere else, which the caller has checked (keystores.crypto.der.strict_base64_decode), by
    EVP_DecodeBlock; None where the library is not loaded or lacks the call, or it refuses the text."""
    found = declared(f"{__name__}.base64", _base64_prototypes)
    if found is None or len(text) > _BASE64_MOST:
        return None
    from keystores.crypto import lean_ctypes as ctypes

    size = len(text) // 4 * 3  # (EVP_DecodeBlock decodes the padding too, as zero bytes)
    out = ctypes.create_string_buffer(max(size, 1))
    return out.raw[:size - padding] if found.EVP_DecodeBlock(out, text, len(text)) == size else None


_BASE64_MOST = 1 << 30  # (EVP_EncodeBlock and EVP_DecodeBlock count in an int)


def _base64_prototypes(ctypes: Any) -> dict[str, tuple[list[Any], Any]]:
    return {"EVP_EncodeBlock": ([ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int], ctypes.c_int),
            "EVP_DecodeBlock": ([ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int], ctypes.c_int)}
