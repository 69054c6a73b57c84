"""PBKDF2-HMAC (RFC 8018 5.2), the one way keystores derives a key with it (a speed device; bench/bench_nss.py's
"nss import" rows, bench/bench_pkcs12.py's PKCS#12 rows and bench/bench_core.py's "start-up" rows justify it).

hashlib.pbkdf2_hmac runs on the interpreter's OpenSSL; cryptography's PBKDF2HMAC on the one its wheel bundles,
which derives about twice as fast (10,000 iterations of HMAC-SHA-256: 1.2 ms against 2.3 ms on an AMD EPYC with
SHA-NI, 1.6 against 3.3 on an Intel Xeon; OpenSSL 3.0 copies an HMAC context per iteration). But loading
cryptography's compiled module costs ~15 ms of CPU (the EPYC; ~10 on the Xeon), more than the
whole reading of a small PKCS#12 (one derivation for its certificates): so hashlib derives while cryptography is
not loaded, until what its derivations cost beyond cryptography's would have paid for loading it (a derivation
that alone costs more goes to cryptography at once; Bouncy Castle's 51,200 iterations of SHA-512 do). At worst a
run pays twice what the better choice in hindsight would have cost. Same bytes either way (tests/test_pbkdf2.py),
and both release the GIL, so derivations run side by side in threads (keystores/crypto/kdf_pool.py). A
handful of iterations (an NSS database without a password uses 1) costs less than setting up cryptography's
object: hashlib always does those.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_FEW = 10  # below this many iterations hashlib is as fast (2.5 us against 2.9 us for 1 iteration)
_HASHES = {"sha1": "SHA1", "sha224": "SHA224", "sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512",
           "sha512_224": "SHA512_224", "sha512_256": "SHA512_256"}


# What loading cryptography's compiled module costs, counted in the hashlib iterations that cost as much beyond
# cryptography's (SHA-1 and SHA-256: ~0.11 us each against ~15 ms on the AMD EPYC, ~127,000; ~0.17 us against ~10
# ms on the Intel Xeon, where this was 50,000; SHA-384 and SHA-512, with twice the block, count twice). 100,000
# keeps a write into NSS of a trusted certificate (its password check and 7 MACs: 80,000) on hashlib, where
# cryptography cost it ~5 ms more CPU (nsswrite, issue 15), and still sends Bouncy Castle's 51,200 iterations of
# SHA-512 (102,400) to cryptography at once
_LOAD_WORTH = 100_000
_BIG_BLOCK = {"sha384", "sha512", "sha512_224", "sha512_256"}
_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64, "sha512_224": 28, "sha512_256": 32}
_spent = [0]  # the iterations hashlib has run past _FEW (threads may race on it: a count off by one is harmless)


def _hashlib_pays(hash_name: str, iterations: int, length: int) -> bool:
    """Whether hashlib should run this derivation (see the module docstring), counting it if so."""
    if "cryptography.hazmat.bindings._rust" in sys.modules:
        return False
    cost = iterations * -(-length // _SIZES[hash_name]) * (2 if hash_name in _BIG_BLOCK else 1)
    if _spent[0] + cost > _LOAD_WORTH:
        return False
    _spent[0] += cost
    return True


def expect(hash_name: str, iterations: int, count: int, length: int = 32) -> None:
    """The caller is about to run `count` such derivations: when hashlib would run them all for more than loading
    cryptography costs, each goes to cryptography from the first, instead of after hashlib has run its share (a
    write into NSS knows its derivations before the first: 7 for a trusted certificate). A few lines in p12list's
    file (nsswrite, issue 15)."""
    if iterations >= _FEW and hash_name in _HASHES:
        cost = iterations * -(-length // _SIZES[hash_name]) * (2 if hash_name in _BIG_BLOCK else 1)
        if _spent[0] + count * cost > _LOAD_WORTH:
            _spent[0] = _LOAD_WORTH  # every further derivation pays for the load


def _hash(hash_name: str) -> Any:
    from cryptography.hazmat.primitives import hashes

    return getattr(hashes, _HASHES[hash_name])


def pbkdf2_hmac(hash_name: str, password: bytes, salt: bytes, iterations: int, length: int) -> bytes:
    """PBKDF2 with HMAC-`hash_name` (hashlib's names), as hashlib.pbkdf2_hmac(hash_name, password, salt,
    iterations, length). The caller bounds iterations and length (keystores.limits)."""
    if iterations < _FEW or hash_name not in _HASHES or _hashlib_pays(hash_name, iterations, length):
        # Here: _hashlib loads a second OpenSSL, which a run that has cryptography's needs not. hashlib.pbkdf2_hmac is
        # _hashlib's, re-exported: hashlib itself also makes a constructor for every digest it offers (~0.4 ms of
        # bench/bench_core.py "list one.p12", which derives with this and hashes nothing else).
        try:
            from _hashlib import pbkdf2_hmac as derive
        except ImportError:  # pragma: no cover - an interpreter without OpenSSL: hashlib's own
            from hashlib import pbkdf2_hmac as derive
        return derive(hash_name, password, salt, iterations, length)  # type: ignore[no-any-return]
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    return PBKDF2HMAC(_hash(hash_name)(), length, salt, iterations).derive(password)


def usable_cores() -> int:
    """How many derivations can run at once: the cores this process may run on (not the machine's)."""
    if sys.platform.startswith("linux"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1
