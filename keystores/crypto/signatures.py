"""cryptography's signature parameters by hash name, made once for keystores.model's signer and keystores.pki.chain's
checks.

A speed device (bench/bench_core.py, "start-up: keystores certreq"/"sign"/"receive"; issue 15): `ec.ECDSA(...)`
imports cryptography's openssl backend module in its __init__ (and with it the cipher and legacy-cipher modules,
threading and the cffi binding: about 17 M instructions, a fifth of `python -c pass`) only to ask, when
`deterministic_signing` is set, whether OpenSSL can sign so. keystores never signs deterministically, so `ecdsa`
gives an ECDSA that answers the two properties cryptography reads (`algorithm`, `deterministic_signing=False`)
without that import. It is an `ec.ECDSA` (cryptography's keys check that), and cryptography signs and verifies
with it as with its own (tests/test_signatures.py signs with each and verifies with the other).
"""

from __future__ import annotations

import functools

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.hashes import HashAlgorithm

def hash_algorithm(name: str) -> HashAlgorithm:
    """cryptography's hash for "md5", "sha1", "sha224", "sha256", "sha384" or "sha512" (KeyError for others)."""
    from cryptography.hazmat.primitives import hashes

    return {"md5": hashes.MD5, "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
            "sha384": hashes.SHA384, "sha512": hashes.SHA512}[name]()


def ecdsa(hash_name: str) -> ec.ECDSA:
    """`ec.ECDSA(hash_algorithm(hash_name))`, randomized (never deterministic), made without importing cryptography's
    openssl backend."""
    return _lean_ecdsa()(hash_algorithm(hash_name))


@functools.cache
def _lean_ecdsa() -> type[ec.ECDSA]:
    """The class, made on first use: its base is in cryptography's ec module, imported only for an EC key."""
    from cryptography.hazmat.primitives.asymmetric import ec

    class LeanECDSA(ec.ECDSA):
        """ec.ECDSA with deterministic_signing False, without ECDSA.__init__'s backend import."""

        def __init__(self, algorithm: HashAlgorithm) -> None:  # no super().__init__(): that is the import
            self._hash = algorithm

        @property
        def algorithm(self) -> HashAlgorithm:
            return self._hash

        @property
        def deterministic_signing(self) -> bool:
            return False

    return LeanECDSA
