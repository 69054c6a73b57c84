"""The interpreter's own libcrypto (the OpenSSL that hashlib's _hashlib is linked against), through ctypes, for
what hashlib lacks: the PKCS#12 KDF (keystores.crypto.kdf) and CBC ciphers (keystores.crypto.pbe).

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
from typing import Any

# The names of the shared library hashlib's _hashlib is linked against (Linux and macOS both have RTLD_NOLOAD)
_NAMES = {"linux": ("libcrypto.so.3", "libcrypto.so.1.1"), "darwin": ("libcrypto.3.dylib", "libcrypto.1.1.dylib")}

_LOADED: list[Any] = []  # [] until looked for; then [the library, or None]


def library() -> Any:
    """The loaded libcrypto with the prototypes keystores calls declared, or None."""
    if not _LOADED:
        _LOADED.append(_load())
    return _LOADED[0]


def _load() -> Any:
    import os

    names = _NAMES.get(sys.platform, ())
    if not names:
        return None
    import ctypes

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
    }
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
    import ctypes

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
