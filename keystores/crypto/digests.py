"""Hashes and HMACs of a few kilobytes (a certificate's fingerprint, a small .kdb's checks, a stash) by the
interpreter's own hash modules.

A speed device (issue 15, a user's install; bench/bench_pem.py, "show"; bench/bench_commands.py, the .kdb rows):
hashlib loads OpenSSL's libcrypto and lists every digest it provides (~11 M instructions, ~3 ms of a run with hmac,
most of `python -c pass`'s 36 M), to hash a certificate of a kilobyte that Python's built-in SHA modules (_sha1,
_sha256 up to 3.11, _sha2 from 3.12, ~1 M) hash to the same bytes. Past SMALL bytes in a process OpenSSL's SHA-1
(about ten times as fast here) repays its import, and hashlib hashes the rest; so it does once it is loaded, and
where an interpreter was built without the built-in modules. tests/test_digests.py holds them to hashlib and hmac.
"""

from __future__ import annotations

import sys

__all__ = ["compare_digest", "constructor", "digest", "hmac"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _operator import _compare_digest as compare_digest  # (module __getattr__ at run time)
    from collections.abc import Callable, Sequence
    from typing import Any

# hashlib's name -> the built-in modules that may provide it (the name is the constructor's), newest last
_BUILT_IN = {"md5": ("_md5",), "sha1": ("_sha1",), "sha224": ("_sha256", "_sha2"),
             "sha256": ("_sha256", "_sha2"), "sha384": ("_sha512", "_sha2"), "sha512": ("_sha512", "_sha2")}

# The bytes a process hashes by the built-in modules; what would take it past them, and all after, hashlib hashes.
# hashlib's import (~3 ms with hmac's) is the built-in SHA-1's time for ~0.5 MB at ~190 MB/s (OpenSSL's: ~1.8 GB/s,
# AMD EPYC with SHA-NI). A small .kdb is ~10 KB; 2,000 signers ~10 MB.
SMALL = 1 << 18
_hashed = 0  # by the built-in modules so far
_found: dict[str, Any] = {}  # name -> its built-in constructor, or None

_PADS: tuple[bytes, bytes] | None = None  # RFC 2104's pads as hmac.py makes them, by the built-in modules' first HMAC


def __getattr__(name: str) -> Any:
    """compare_digest, found on first use: the constant-time comparison hmac re-exports where it has no _hashlib
    (and _hashlib's own where it has), from _operator, whose import (~0.3 M instructions) a `show` that only hashes
    a fingerprint need not pay (bench/bench_core.py "show one.p12 server")."""
    if name != "compare_digest":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    # _hashlib's where a PKCS#12 read loaded it (what hmac takes first): convert one.p12 -> .kdb loads no _operator
    found = getattr(sys.modules.get("_hashlib"), "compare_digest", None)
    if found is None:
        try:
            from _operator import _compare_digest as found
        except ImportError:  # pragma: no cover - CPython builds _operator in
            from hmac import compare_digest as found
    globals()["compare_digest"] = found
    return found


def _built_in(name: str, size: int) -> Any:
    """The built-in constructor of `name` to hash `size` bytes with, or None where hashlib should."""
    global _hashed
    if _hashed + size > SMALL:
        _hashed = SMALL + 1  # hashlib hashes all after: its import is paid
        return None
    if "hashlib" in sys.modules:  # (once loaded, its objects cost less than another module)
        return None
    found = _found.get(name, _found)
    if found is _found:
        found = None
        for module_name in _BUILT_IN.get(name, ()):
            try:
                module = __import__(module_name)
            except ImportError:
                continue
            found = getattr(module, name, None)
            if found is not None:
                break
        _found[name] = found
    if found is not None:
        _hashed += size
    return found


def _openssl(name: str) -> Any:
    """hashlib's constructor of `name` where _hashlib is loaded already (a PKCS#12 read loads it for its
    derivations), found as hashlib finds it (hashlib.sha256 is _hashlib.openssl_sha256), without importing hashlib
    or the built-in module (a shared library each: `show one.p12`'s fingerprints loaded _sha1 and _sha256,
    bench/bench_core.py). None where _hashlib is not loaded, lacks the name or refuses it (a FIPS build may): then
    as before."""
    loaded = sys.modules.get("_hashlib")
    if loaded is None or name in ("blake2b", "blake2s"):  # (hashlib takes these two from their own modules)
        return None
    found = _from_openssl.get(name, _from_openssl)
    if found is _from_openssl:
        found = getattr(loaded, "openssl_" + name, None)
        if found is not None:
            try:
                found(usedforsecurity=False)  # as hashlib tries it before taking it
            except ValueError:
                found = None
        _from_openssl[name] = found
    return found


_from_openssl: dict[str, Any] = {}  # name -> _hashlib's constructor, or None


def digest(name: str, data: bytes) -> bytes:
    """hashlib.new(name, data).digest(), for any name hashlib knows."""
    return constructor(name, len(data))(data).digest()  # type: ignore[no-any-return]


def constructor(name: str, size: int) -> Callable[[bytes], Any]:
    """A constructor of `name`'s hash objects, as hashlib.new(name, data) makes them, to hash `size` bytes in all
    (a loop of many small hashes asks once: a stash's keystream hashes ~300 times)."""
    found = _openssl(name)
    if found is None:
        found = _built_in(name, size)
    if found is not None:
        return found  # type: ignore[no-any-return]
    import hashlib

    return getattr(hashlib, name, None) or (lambda data=b"": hashlib.new(name, data))


def hmac(key: bytes, parts: Sequence[bytes], name: str) -> bytes:
    """hmac.new(key, b"".join(parts), name).digest()."""
    # OpenSSL's where _hashlib is loaded already (a PKCS#12 read), as digest() takes it: convert one.p12 -> .kdb
    # loaded the built-in _sha1 and _sha256 (a shared library each) for the .kdb's HMACs and its stash
    made = None if _openssl(name) is not None else _built_in(name, sum(map(len, parts)))
    if made is None:
        try:  # the object hmac.new makes where OpenSSL has the digest, without hmac's import (~0.2 ms)
            from _hashlib import hmac_new

            mac = hmac_new(key, digestmod=name)
        except (ImportError, ValueError):  # (UnsupportedDigestmodError is a ValueError)
            import hmac as hmac_module

            mac = hmac_module.new(key, None, name)
        for part in parts:
            mac.update(part)
        return mac.digest()
    # RFC 2104, as hmac.py computes it where OpenSSL lacks the digest
    inner = made()
    block = inner.block_size
    if len(key) > block:
        key = made(key).digest()
    key = key.ljust(block, b"\0")
    global _PADS
    if _PADS is None:
        _PADS = bytes(x ^ 0x36 for x in range(256)), bytes(x ^ 0x5C for x in range(256))
    inner_pad, outer_pad = _PADS
    inner.update(key.translate(inner_pad))
    for part in parts:
        inner.update(part)
    outer = made(key.translate(outer_pad))
    outer.update(inner.digest())
    return outer.digest()  # type: ignore[no-any-return]
