"""The chains validate (keystores.ops.validate) and audit (keystores.ops.audit) read: each entry's chain from the
DER its backend holds where it can be, and an issuer's DN as both print it. Below both, so that either loads
only its own module and this one (start-up speed, issue 15)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (start-up speed)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from cryptography import x509

    from keystores.model import Entry


def chain_lookup(entries: list[Entry]) -> Callable[[Entry], tuple[Any, ...]]:
    """What gives each of `entries` its chain: read from the DER where chains_from_der reads them all, else
    each entry's `chain`."""
    chains = chains_from_der(entries)
    if chains is None:
        return lambda entry: entry.chain
    by_entry = {id(entry): chain for entry, chain in zip(entries, chains, strict=True)}
    return lambda entry: by_entry[id(entry)]


def chains_from_der(entries: list[Entry]) -> list[tuple[Any, ...]] | None:
    """Each entry's chain as keystores.pki.shown.ShownCertificate objects read from the DER its backend still holds,
    so that audit of a small store imports no cryptography.x509 (start-up speed, bench/bench_core.py "start-up:
    keystores audit s.kdb"): what audit reports of them, and the chains it builds over them, are what it reports of
    cryptography's certificates (tests/test_audit_lean.py). None when an entry's chain is decoded already or is not
    held as DER, or a certificate is in a form read only by cryptography: audit then reads `chain` as before."""
    held: list[tuple[bytes, ...]] = []
    for entry in entries:
        ders = entry.undecoded_chain
        if ders is None:
            if entry.undecoded_leaf is not None or entry.chain:
                return None  # a chain only its backend links (NSS), or one decoded already
            ders = ()
        held.append(ders)
    from keystores.pki.shown import shown_certificates

    certificates = shown_certificates(der for ders in held for der in ders)
    if certificates is None:
        return None
    return [tuple(certificates[der] for der in ders) for ders in held]


def issuer_text(cert: x509.Certificate) -> str:
    from keystores.pki.dn import DistinguishedName
    from keystores.pki.shown import ShownCertificate

    name = DistinguishedName.from_der(cert.issuer_der) if isinstance(cert, ShownCertificate) else None
    return (name if name is not None else DistinguishedName.from_x509(cert.issuer)).normalized()


def signature_hash(cert: Any) -> str | None:
    """keystores.pki.certificates.signature_hash, whose first case (a ShownCertificate: the hash its DER names) is
    taken here, so that audit and validate of certificates read from DER do not import that module (start-up
    speed, issue 15)."""
    from keystores.pki.shown import ShownCertificate

    if isinstance(cert, ShownCertificate):
        return cert.shown.signature_hash  # type: ignore[no-any-return]
    from keystores.pki.certificates import signature_hash as of_decoded

    return of_decoded(cert)
