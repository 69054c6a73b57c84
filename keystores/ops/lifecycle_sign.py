"""The lifecycle's `sign` (see keystores.ops.lifecycle): the CA under
a label, its key in any store, signs a request. Apart so that certreq, selfsign and receive do not load it, nor
sign what they alone run (start-up speed, bench_core's "start-up: keystores sign")."""

from __future__ import annotations

from keystores.errors import CorruptStore, Hint, IntegrityError, KeystoreError, Note, UsageError
from keystores.model import EntryKind, public_key_fingerprint
from keystores.ops import on_store
from keystores.ops.lifecycle import Issued, _describe, pem_bodies

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from typing import Any

    from cryptography import x509

    from keystores.model import Entry
    from keystores.pki.encoded import EncodedRequest
    from keystores.protocols import Signer
    from keystores.store import KeyStore


def load_request(data: bytes, *, source: str = "request") -> x509.CertificateSigningRequest:
    """A PKCS#10 request from PEM or DER whose own signature verifies; clear errors for anything else."""
    from cryptography import x509 as cx509

    from keystores.pki.chain import signature_valid

    try:
        request = cx509.load_pem_x509_csr(data) if b"-----BEGIN" in data else cx509.load_der_x509_csr(data)
        public_key = request.public_key()
        request.subject, request.extensions  # noqa: B018 - parse now so that damage shows here, not later
    except (ValueError, TypeError, cx509.InvalidVersion) as exc:
        raise CorruptStore("not a certificate request (PEM or DER PKCS#10), or it is damaged",
                           store=source) from exc
    except Exception as exc:  # unsupported key algorithms come as UnsupportedAlgorithm
        raise CorruptStore(f"cannot read the request: {exc}", store=source) from exc
    if not signature_valid(request, public_key):
        raise IntegrityError("the request's signature does not verify: it was changed after signing or signed "
                             "by another key", store=source)
    return request


@on_store()
def sign(ca_store: KeyStore, ca_label: str, request: bytes | x509.CertificateSigningRequest, *,
         days: int | None = None, not_after: dt.datetime | str | None = None, md: str | None = None,
         profile: str = "server", copy_sans: bool = False, sans: Sequence[str] = (),
         path_length: int | None = None, source: str = "request", now: dt.datetime | None = None) -> Issued:
    """The CA under `ca_label` (its key in any store, a token included) signs a request
    (runmqakm -cert -sign, openssl ca). Extensions follow `profile`; SANs are copied from the request only
    when `copy_sans`. Refuses a CA that is expired, not yet valid, or not a CA."""
    from keystores.lazy_entries import KeysAhead
    from keystores.lightweight import suppress

    # The CA's key starts opening now (a sealed PKCS#12 key bag: one PBKDF2 run) on the other core, while this
    # thread imports the builder and checks the request (bench/bench_core.py "sign"); its first use waits for it,
    # and what opening it raises is raised there, as before. Looked up quietly: a missing label is refused below,
    # after the request's checks, as before. A key whose derivation the store's read started (the CLI opens the CA's
    # store under lazy_entries.KeysWanted) is left to its first use, which takes that derivation.
    with KeysAhead() as ahead:
        with suppress(KeystoreError):
            ahead.start([ca_store.get(ca_label)], but_derived=True)
        return _sign(ca_store, ca_label, request, days=days, not_after=not_after, md=md, profile=profile,
                     copy_sans=copy_sans, sans=sans, path_length=path_length, source=source, now=now)


def _sign(ca_store: KeyStore, ca_label: str, request: bytes | x509.CertificateSigningRequest, *,
          days: int | None, not_after: dt.datetime | str | None, md: str | None, profile: str, copy_sans: bool,
          sans: Sequence[str], path_length: int | None, source: str, now: dt.datetime | None) -> Issued:
    """sign's work, its CA key's opening under way."""
    from keystores.pki.builder import (
        PROFILES,
        build_certificate_der,
        parse_sans,
        profile_extensions,
        request_sans,
        request_subject,
    )
    from keystores.pki.chain import is_ca, issued_by, may_sign_certificates
    from keystores.pki.encoded import EncodedCertificate
    from keystores.pki.when import build_validity, iso_utc_seconds, validity

    if profile not in PROFILES:
        raise UsageError(f"unknown profile '{profile}': use one of {', '.join(PROFILES)}")
    csr = _request_to_sign(request, source)
    notes: list[str] = []
    entry = ca_store.get(ca_label)
    chain = _chain_as_encoded(entry)
    ca_cert = chain[0] if chain else None
    where = {"store": ca_store.location, "label": ca_label}
    # What the store holds does not fit the request: a failure (exit 1), not a usage error.
    if ca_cert is None or entry.kind is not EntryKind.KEY_PAIR or (entry.held_pkcs8() is None and entry.key is None):
        raise KeystoreError("is not a CA key pair: signing needs a certificate and its private key", **where)
    if not is_ca(ca_cert):
        raise KeystoreError(f"{_describe(ca_cert)} is not a CA certificate (basic constraints say CA:FALSE)",
                            hint=Hint("; make one with {}", option="`keystores selfsign --ca`",
                                      keyword="keystores.selfsign(..., ca=True)"), **where)
    if not may_sign_certificates(ca_cert):
        raise KeystoreError(f"{_describe(ca_cert)}: its key usage does not allow signing certificates", **where)
    # in POSIX seconds where no time is given: the CA's validity read from its DER, no datetime (start-up speed)
    start, end = (build_validity(days=days) if not_after is None and now is None
                  else validity(days=days, not_after=not_after, now=now))
    ca_start, ca_end = _validity_seconds(ca_cert)
    if ca_end <= _seconds(start):
        raise KeystoreError(f"the CA certificate {_describe(ca_cert)} expired on "
                            f"{iso_utc_seconds(ca_end)}; renew the CA before signing", **where)
    if ca_start > _seconds(start):
        raise KeystoreError(f"the CA certificate {_describe(ca_cert)} is not valid before "
                            f"{iso_utc_seconds(ca_start)}", **where)
    if _seconds(end) > ca_end:
        notes.append(f"validity shortened to end with the CA's on {iso_utc_seconds(ca_end)}")
        end = ca_end
    signer = _signer(ca_store, entry, ca_label)
    ca_public_key = _certificate_key(ca_cert)
    if not _same_key(signer.public_key, ca_public_key):
        raise KeystoreError("the private key does not belong to the CA certificate", **where)

    alt_names = parse_sans(sans)
    asked = request_sans(csr.der)
    if copy_sans:
        alt_names = list(dict.fromkeys([*asked, *alt_names]))
    elif asked:
        shown = ", ".join(str(n) for n in asked)
        notes.append(Note(f"the request asks for subject alternative names ({shown}); not copied",
                          Hint(" without {}", option="--copy-sans", keyword="copy_sans=True")))
    public_key = _certificate_key(csr)
    extensions = profile_extensions(profile, public_key, issuer_public_key=ca_public_key, issuer_cert=ca_cert,
                                    sans=alt_names, path_length=path_length)
    cert = EncodedCertificate(build_certificate_der(
        signer, subject=request_subject(csr.der), public_key=public_key,
        issuer=ca_cert.subject_der if isinstance(ca_cert, EncodedCertificate) else ca_cert.subject.public_bytes(),
        not_before=start, not_after=end, extensions=extensions, md=md, notes=notes))
    if not issued_by(cert, ca_cert):
        raise KeystoreError("the new certificate does not verify against the CA certificate", **where)
    return Issued(ca_label, (cert, *chain), notes)


def _seconds(value: dt.datetime | int) -> float:
    """POSIX seconds of what validity() or build_validity() gave (a time given to the microsecond keeps them, so
    that it compares with the CA's as the datetime did)."""
    return value if isinstance(value, int) else value.timestamp()


def _validity_seconds(cert: Any) -> tuple[float, float]:
    """(notBefore, notAfter) of a certificate as POSIX seconds: from the DER of one held so."""
    from keystores.pki.encoded import EncodedCertificate

    if isinstance(cert, EncodedCertificate):
        return cert.validity_seconds()
    return cert.not_valid_before_utc.timestamp(), cert.not_valid_after_utc.timestamp()


def _signer(store: KeyStore, entry: Entry, label: str) -> Signer:
    """store.signer(label); a key the store holds as its PKCS#8 (an EC key a file keeps: Entry.held_pkcs8) signs
    through libcrypto without being loaded (keystores.pki.held_pkcs8.HeldEcKey; start-up speed, bench_core's "start-up:
    keystores sign")."""
    held = entry.held_pkcs8()
    if held is not None:
        from keystores.pki.held_pkcs8 import held_ec_key

        key = held_ec_key(held)
        if key is not None:
            return key
    return store.signer(label)


def _certificate_key(item: Any) -> Any:
    """The public key of a certificate or request: as its DER (keystores.pki.spki.SpkiKey) where it is an RSA or
    NIST EC key in the form cryptography writes, else loaded by cryptography (start-up speed: sign)."""
    from keystores.pki.encoded import Encoded
    from keystores.pki.spki import spki_key

    found = spki_key(item.spki_der) if isinstance(item, Encoded) else None
    return found if found is not None else item.public_key()


def _same_key(one: Any, other: Any) -> bool:
    """_key_print(one) == _key_print(other): for two keys held as DER (SpkiKey), whose prints are the SHA-256 of that
    DER, by the DER itself (equal DER, equal prints; a different DER, different prints), without hashing it."""
    from keystores.pki.spki import SpkiKey

    if isinstance(one, SpkiKey) and isinstance(other, SpkiKey):
        return one.der == other.der
    return _key_print(one) == _key_print(other)


def _key_print(public_key: Any) -> bytes:
    """public_key_fingerprint, from the DER of a key held so (the form cryptography writes: the same bytes)."""
    from keystores.pki.spki import SpkiKey, openssl_digest

    if not isinstance(public_key, SpkiKey):
        return public_key_fingerprint(public_key)
    return openssl_digest("sha256", public_key.der)


def _request_to_sign(request: bytes | x509.CertificateSigningRequest, source: str) -> EncodedRequest:
    """The request `sign` signs, as its DER, its own signature verified. Its subject, key and signature are read
    from the DER (start-up speed: no cryptography.x509 import, bench_core's "start-up: keystores sign"); a request
    in another form (a signature whose OID names no hash, as Ed25519 and RSA-PSS, a name in an unusual form) or
    one that does not read so is left to load_request, which says what is wrong with it as cryptography sees it."""
    from keystores.pki.builder import request_is_plain, verifies
    from keystores.pki.dn import DistinguishedName
    from keystores.pki.encoded import EncodedRequest

    if isinstance(request, EncodedRequest):
        encoded = request
    elif isinstance(request, bytes | bytearray):
        encoded = EncodedRequest(_request_der(bytes(request)))
    else:
        from keystores.crypto.key_encoding import Encoding

        encoded = EncodedRequest(request.public_bytes(Encoding.DER))
    try:
        readable = (request_is_plain(encoded.der) and encoded.version == 0
                    and DistinguishedName.from_der(encoded.subject_der) is not None
                    and encoded.signature_hash_name is not None)
        public_key = _certificate_key(encoded) if readable else None
    except ValueError:
        readable = False
    if not readable:
        load_request(encoded.der, source=source)
        return encoded
    if not verifies(public_key, encoded.signature, encoded.tbs_certrequest_bytes, encoded.signature_hash_name):
        raise IntegrityError("the request's signature does not verify: it was changed after signing or signed "
                             "by another key", store=source)
    return encoded


def _request_der(data: bytes) -> bytes:
    """A request's DER: the first PEM block labelled as one (as cryptography finds it), or the bytes as given.
    Bytes that are neither come back as they are, for load_request to refuse."""
    from keystores.crypto.der import strict_base64_decode  # base64.b64decode(validate=True), without base64

    if b"-----BEGIN" not in data:
        return data
    found = pem_bodies(data, (b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"))
    if not found:
        return data
    try:
        return strict_base64_decode(b"".join(found[0].split()))
    except ValueError:  # (binascii.Error is one)
        return data


def _chain_as_encoded(entry: Entry) -> tuple[Any, ...]:
    """The entry's chain as EncodedCertificates: the DER its backend read while it is still undecoded (PKCS#12
    keeps it), else re-encoded from the decoded chain; the decoded chain itself when its leaf does not read as DER
    here (a certificate keystores.pki.undecoded keeps), so that the checks see it as before."""
    from keystores.pki.encoded import EncodedCertificate

    chain = tuple(EncodedCertificate(der) for der in entry.chain_der())
    try:
        if chain:
            leaf = chain[0]
            _ = (leaf.version, leaf.subject_der, leaf.spki_der, leaf.validity_seconds())
    except ValueError:
        return tuple(entry.chain)
    return chain
