"""PBKDF2-HMAC (RFC 8018 5.2), the one way keystores derives a key with it (a speed device; bench/bench_nss.py's
"nss import" rows and bench/bench_pkcs12.py's PKCS#12 rows justify it).

hashlib.pbkdf2_hmac runs on the interpreter's OpenSSL; cryptography's PBKDF2HMAC on the one its wheel bundles,
which here derives twice as fast (10,000 iterations of HMAC-SHA-256: 1.6 ms against 3.0 ms; OpenSSL 3.0 copies
an HMAC context per iteration). Same bytes either way (tests/test_pbkdf2.py), and both release the GIL, so
derivations run side by side in threads (keystores/backends/nss/kdf_pool.py). A handful of iterations (an NSS
database without a password uses 1) costs less than setting up cryptography's object, and needs no import: hashlib
does those.
"""

from __future__ import annotations

import functools
import hashlib
import os
import sys
from typing import Any

_FEW = 10  # below this many iterations hashlib is as fast (2.5 us against 2.9 us for 1 iteration)
_HASHES = {"sha1": "SHA1", "sha224": "SHA224", "sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512",
           "sha512_224": "SHA512_224", "sha512_256": "SHA512_256"}


@functools.cache
def _hash(hash_name: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return getattr(hashes, _HASHES[hash_name])


def pbkdf2_hmac(hash_name: str, password: bytes, salt: bytes, iterations: int, length: int) -> bytes:
    """PBKDF2 with HMAC-`hash_name` (hashlib's names), as hashlib.pbkdf2_hmac(hash_name, password, salt,
    iterations, length). The caller bounds iterations and length (keystores.limits)."""
    if iterations < _FEW or hash_name not in _HASHES:
        return hashlib.pbkdf2_hmac(hash_name, password, salt, iterations, length)
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    return PBKDF2HMAC(_hash(hash_name)(), length, salt, iterations).derive(password)


def usable_cores() -> int:
    """How many derivations can run at once: the cores this process may run on (not the machine's)."""
    if sys.platform.startswith("linux"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
