"""A hash of a few bytes (a certificate's fingerprint) by the interpreter's own hash modules.

A speed device (issue 15, a user's install; bench/bench_pem.py, "show"): hashlib loads OpenSSL's libcrypto and
lists every digest it provides (~11 M instructions, most of `python -c pass`'s 36 M), to hash a certificate of a
kilobyte that Python's built-in SHA modules (_sha1, _sha256 up to 3.11, _sha2 from 3.12, ~1 M) hash to the same
bytes. Where an interpreter was built without them, hashlib hashes. tests/test_digests.py holds them to hashlib.
"""

from __future__ import annotations

# hashlib's name -> the built-in modules that may provide it (the name is the constructor's), newest last
_BUILT_IN = {"sha1": ("_sha1",), "sha224": ("_sha256", "_sha2"), "sha256": ("_sha256", "_sha2"),
             "sha384": ("_sha512", "_sha2"), "sha512": ("_sha512", "_sha2")}


def digest(name: str, data: bytes) -> bytes:
    """hashlib.new(name, data).digest(), for any name hashlib knows."""
    import sys

    for module_name in () if "hashlib" in sys.modules else _BUILT_IN.get(name, ()):  # (once loaded, it costs less)
        try:
            module = __import__(module_name)
        except ImportError:
            continue
        constructor = getattr(module, name, None)
        if constructor is not None:
            return constructor(data).digest()  # type: ignore[no-any-return]
    import hashlib

    return hashlib.new(name, data).digest()
