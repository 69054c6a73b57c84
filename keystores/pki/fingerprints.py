"""Certificates by their SHA-256 fingerprint: as bytes, what ops compare certificates by, and a store's or chains'
certificates each counted once (ops/lifecycle.py's receive, ops/audit.py's audit and validate); as text, what every
output prints (ops/describe.py, audit and validate: apart from describe, whose columns audit does not need)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any


def sha256_fingerprint(cert: Any) -> bytes:
    """The certificate's SHA-256 fingerprint: cryptography's certificates and keystores' DER-read ones alike; the
    latter's by keystores.crypto.digests where cryptography's hashes are not loaded (start-up speed: audit of a .kdb
    imports no cryptography; where they are, hashlib would load a second OpenSSL), which hashes a certificate by
    the interpreter's built-in SHA-256 while hashlib is not loaded (validate and audit of a .kdb load none)."""
    import sys

    from keystores.pki.encoded import Encoded

    if isinstance(cert, Encoded) and "cryptography.hazmat.primitives.hashes" not in sys.modules:
        from keystores.crypto.digests import digest

        return digest("sha256", cert.der)
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256())  # type: ignore[no-any-return]


def fingerprint(cert: Any) -> str:
    """The SHA-256 fingerprint as every output of keystores writes it: upper-case hex pairs joined by colons
    (`AB:CD:...`), as keytool -list -v and openssl x509 -fingerprint print it."""
    return sha256_fingerprint(cert).hex(":").upper()


def distinct_certificates(chains: Iterable[Iterable[Any]]) -> list[Any]:
    """The certificates of `chains`, each once (by its SHA-256 fingerprint), in the order first met."""
    found: dict[bytes, Any] = {}
    for chain in chains:
        for cert in chain:
            found.setdefault(sha256_fingerprint(cert), cert)
    return list(found.values())
