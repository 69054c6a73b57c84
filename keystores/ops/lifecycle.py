"""The certificate lifecycle, written once against the KeyStore protocol: selfsign, certreq, sign and receive
work the same on a PKCS#12 file, a JKS, a .kdb, an NSS database or a token (validate and audit: ops/audit.py).

Keys are made where the store makes them: on the token when `capabilities.key_generation`, else on the host
(then kept as a pending REQUEST where the format has them, or as keytool does, as a key pair with a self-signed
placeholder certificate). Every signature goes through the store's Signer, so a token key signs in place.
Operations raise keystores errors and return results whose `notes` the CLI prints on stderr.
"""

from __future__ import annotations

from keystores.errors import (
    REPLACE,
    CorruptStore,
    EntryExists,
    EntryNotFound,
    Hint,
    IntegrityError,
    KeystoreError,
    Note,
    NotFound,
    UsageError,
)
from keystores.frozen import Record
from keystores.model import Entry, EntryKind, KeyRef, KeySpec, describe_key, public_key_fingerprint
from keystores.ops import on_store

# datetime, contextlib and typing are imported where used (start-up speed: certreq into a new store needs none of
# them; tests/test_lifecycle_lean.py)
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from typing import Any

    from cryptography import x509

    from keystores.pki.dn import DistinguishedName
    from keystores.pki.encoded import EncodedRequest
    from keystores.protocols import Signer
    from keystores.store import KeyStore

DEFAULT_KEY = "rsa:2048"
PLACEHOLDER_DAYS = 90  # keytool -genkeypair's default validity, for the certificate that stands in until receive


# --- results ---------------------------------------------------------------------------------------------------
# The results hold what they carry as made or read, DER (keystores.pki.encoded), and give cryptography's objects of
# it on first use: the CLI prints from the DER without importing cryptography.x509 (start-up speed, bench_core's
# "start-up: keystores certreq"/"sign"/"receive"). They are keystores.frozen's Record and FrozenValue, not
# dataclasses, for the same reason: dataclasses and inspect cost every lifecycle command ~10 ms to import and the
# classes' generated methods ~3 ms to compile (tests/test_lifecycle_lean.py holds them to the dataclasses).
def _decoded(item: Any) -> Any:
    from keystores.pki.encoded import Encoded

    return item.decoded if isinstance(item, Encoded) else item


class _Chain(Record):
    """A chain under `label`, leaf first: `chain` as cryptography's objects, `encoded` as keystores.pki.encoded
    objects; `notes` for the user."""

    label: str
    encoded: tuple[Any, ...]
    notes: list[str]
    _fields = ("label", "encoded", "notes")

    def __init__(self, label: str, encoded: tuple[Any, ...], notes: list[str] | None = None) -> None:
        self.label = label
        self.encoded = encoded
        self.notes = [] if notes is None else notes

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return tuple(_decoded(cert) for cert in self.encoded)


class Issued(_Chain):
    """A certificate made by selfsign or sign: `certificate` and `chain` (leaf first, the CA's chain after the
    leaf) are cryptography's objects; `encoded` is the same chain as keystores.pki.encoded objects."""

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]


class Requested(Record):
    """A request made by certreq; `kept_as` says where the key waits for the signed certificate. `request` is
    cryptography's object, `encoded` the same request as a keystores.pki.encoded.EncodedRequest."""

    label: str
    encoded: Any
    kept_as: str
    notes: list[str]
    _fields = ("label", "encoded", "kept_as", "notes")

    def __init__(self, label: str, encoded: Any, kept_as: str, notes: list[str] | None = None) -> None:
        self.label = label
        self.encoded = encoded
        self.kept_as = kept_as
        self.notes = [] if notes is None else notes

    @property
    def request(self) -> x509.CertificateSigningRequest:
        return _decoded(self.encoded)  # type: ignore[no-any-return]


class Received(_Chain):
    """The chain attached to `label`, leaf first: `chain` as cryptography's objects, `encoded` as received."""


# --- shared helpers --------------------------------------------------------------------------------------------
def _spec(key_spec: KeySpec | str | None) -> KeySpec:
    if isinstance(key_spec, KeySpec):
        return key_spec
    return KeySpec.parse(key_spec or DEFAULT_KEY)


def _subject(dn: str | x509.Name) -> x509.Name | DistinguishedName:
    """The subject to build with: a DN as written, checked as cryptography would check it, or a Name as given."""
    if not isinstance(dn, str):
        return dn
    from keystores.pki.dn import parse_dn

    parsed = parse_dn(dn)
    parsed.to_der()  # refuses what cannot go into a certificate (a two-letter C, a CN of 1 to 64 characters...)
    return parsed


def _host_key(spec: KeySpec, *, as_pkcs8: bool = False) -> Any:
    """A new key of `spec` made here; only its type's module is imported (start-up speed). With `as_pkcs8` (a key
    the store writes as its PKCS#8), an EC key is made by libcrypto and held so (keystores.pki.pkcs8.HeldEcKey:
    no cryptography import), where libcrypto makes it."""
    if as_pkcs8 and spec.algorithm == "ec":
        from keystores.pki.curves import curve_named
        from keystores.pki.pkcs8 import made_ec_key

        curve = curve_named(spec.curve)
        made = made_ec_key(curve) if curve is not None else None
        if made is not None:
            return made
    if spec.algorithm == "rsa":
        from cryptography.hazmat.primitives.asymmetric import rsa

        return rsa.generate_private_key(public_exponent=65537, key_size=spec.size)
    if spec.algorithm == "ec":
        from cryptography.hazmat.primitives.asymmetric import ec

        from keystores.pki.curves import curve_named

        curve = curve_named(spec.curve)
        if curve is None:
            raise UsageError(f"keystores makes EC keys on P-256, P-384 and P-521, not {spec.curve}")
        return ec.generate_private_key(curve.cryptography_curve())
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519.Ed25519PrivateKey.generate()


def _label_free(store: KeyStore, label: str, *, replace: bool) -> None:
    if replace:
        return
    try:
        store.get(label)
    except EntryNotFound:
        return
    raise EntryExists("an entry with this label exists", store=store.location, label=label, hint=REPLACE)


def _new_key(store: KeyStore, label: str, spec: KeySpec, *, as_pkcs8: bool = True) -> tuple[Signer, Any, bool]:
    """(signer, key for the entry, made on the token?) for a new key under `label`; the key a HeldEcKey where
    `as_pkcs8` allows it (see _host_key; _key_fields puts it in an entry)."""
    if store.capabilities.key_generation:
        ref = store.generate_key(label, spec)
        signer = ref.signer if ref.signer is not None else store.signer(label)
        return signer, ref, True
    key = _host_key(spec, as_pkcs8=as_pkcs8)
    from keystores.pki.pkcs8 import HeldEcKey

    if isinstance(key, HeldEcKey):
        return key, key, False
    from keystores.model import private_key_signer

    return private_key_signer(key), key, False


def _key_fields(key: Any) -> dict[str, Any]:
    """made_entry's fields for the key _new_key made: a HeldEcKey as its PKCS#8, which the store writes without
    loading it (cryptography loads it only where asked for the key itself), any other as it is."""
    from keystores.pki.pkcs8 import HeldEcKey

    if isinstance(key, HeldEcKey):
        return {"held_pkcs8": key.pkcs8, "load_key": key.loaded}
    return {"key": key}


def _forget_token_key(store: KeyStore, label: str) -> None:
    """Best effort: remove a key just made on a token when the rest of the operation failed."""
    import contextlib

    with contextlib.suppress(KeystoreError):
        store.remove(label)


# --- selfsign --------------------------------------------------------------------------------------------------
# _EARLY_WRITE: selfsign and certreq into a file hint the store of their write (expect_write) once the inputs are
# checked and the label is free, before importing what only making the entry needs (lazy_entries, pki.encoded:
# ~0.65 ms cold): a PKCS#12's derivations (keystores.backends.pkcs12.write.WriteAhead, ~9 ms on one worker) start
# that much sooner, and the write waited for them at its end (bench/bench_core.py "certreq", bench_commands.py
# "selfsign").
@on_store(writable=True, create=True)
def selfsign(store: KeyStore, label: str, dn: str | x509.Name, *, ca: bool = False, days: int | None = None,
             not_after: dt.datetime | str | None = None, key_spec: KeySpec | str | None = None,
             md: str | None = None, sans: Sequence[str] = (), path_length: int | None = None,
             replace: bool = False, now: dt.datetime | None = None) -> Issued:
    """A new key pair with a self-signed certificate under `label` (runmqakm -cert -create, keytool -genkeypair).
    With `ca` the certificate is a CA (keyCertSign, cRLSign) that `sign` can use."""
    from keystores.pki.builder import build_certificate_der, parse_sans, profile_extensions
    from keystores.pki.when import build_validity, validity

    spec = _spec(key_spec)
    subject = _subject(dn)
    alt_names = parse_sans(sans)
    default_days = 3650 if ca else 365  # POSIX seconds where no time is given: no datetime (start-up speed)
    start, end = (build_validity(days=days, default_days=default_days) if not_after is None and now is None
                  else validity(days=days, not_after=not_after, now=now, default_days=default_days))
    _label_free(store, label, replace=replace)
    if not store.capabilities.key_generation:
        store.expect_write(new_keys=1)
    # Imported once the write's derivations have started (_EARLY_WRITE)
    from keystores.lazy_entries import made_entry
    from keystores.pki.encoded import EncodedCertificate

    notes: list[str] = []
    signer, key, on_token = _new_key(store, label, spec)
    try:
        public_key = signer.public_key
        extensions = profile_extensions("ca" if ca else "server-client", public_key,
                                        issuer_public_key=public_key, sans=alt_names, path_length=path_length)
        cert = EncodedCertificate(build_certificate_der(
            signer, subject=subject, issuer=subject, public_key=public_key, not_before=start, not_after=end,
            extensions=extensions, md=md, notes=notes))
        store.add(made_entry((cert.der,), label=label, kind=EntryKind.KEY_PAIR, **_key_fields(key)),
                  replace=replace or on_token)
    except BaseException:
        if on_token:
            _forget_token_key(store, label)
        raise
    return Issued(label, (cert,), notes)


# --- certreq ---------------------------------------------------------------------------------------------------
@on_store(writable=True, create=True)
def certreq(store: KeyStore, label: str, dn: str | x509.Name, *, key_spec: KeySpec | str | None = None,
            sans: Sequence[str] = (), md: str | None = None, replace: bool = False,
            now: dt.datetime | None = None) -> Requested:
    """Make a key in the store and a PKCS#10 request signed by it. The private key never leaves the store:
    on a token it is made there; in a format with pending requests (.kdb/.rdb) it waits as a REQUEST; elsewhere
    it is kept as keytool does, a key pair with a self-signed placeholder certificate, until `receive`."""
    from keystores.pki.builder import build_certificate_der, build_request, parse_sans

    spec = _spec(key_spec)
    subject = _subject(dn)
    alt_names = parse_sans(sans)
    _label_free(store, label, replace=replace)
    notes: list[str] = []
    caps = store.capabilities
    if not caps.key_generation and not caps.pending_requests and not caps.private_keys:
        from keystores.errors import CapabilityError

        raise CapabilityError("private_keys", f"{store.format} stores cannot keep the private key a request "
                              "needs", store=store.location, label=label)
    if not caps.key_generation:
        store.expect_write(new_keys=1)
    from keystores.lazy_entries import made_entry  # once the write's derivations have started (_EARLY_WRITE)
    # a pending request keeps the key as an object (the formats that have them load it anyway)
    signer, key, on_token = _new_key(store, label, spec, as_pkcs8=not caps.pending_requests)
    try:
        request = build_request(signer, subject, sans=alt_names, md=md, notes=notes)
        if on_token:
            kept_as = "on the token"
        elif caps.pending_requests:
            store.add(Entry(label=label, kind=EntryKind.REQUEST, key=key, request=request), replace=replace)
            kept_as = "as a pending request"
        else:
            start, end = _placeholder_validity(now)
            placeholder = build_certificate_der(signer, subject=subject, issuer=subject, public_key=signer.public_key,
                                                not_before=start, not_after=end, md=None)
            store.add(made_entry((placeholder,), label=label, kind=EntryKind.KEY_PAIR, **_key_fields(key)),
                      replace=replace)
            kept_as = "as a key pair with a self-signed placeholder certificate"
    except BaseException:
        if on_token:
            _forget_token_key(store, label)
        raise
    notes.append(f"the private key stays in {store.location} under '{label}' {kept_as}; "
                 "bring the signed certificate back with `keystores receive`")
    return Requested(label, request, kept_as, notes)


def _placeholder_validity(now: dt.datetime | None) -> tuple[dt.datetime | int, dt.datetime | int]:
    """pki.when.build_validity(days=PLACEHOLDER_DAYS, now=now): from the clock, POSIX seconds as it gives them,
    without importing pki.when, which certreq uses for nothing else (start-up speed, bench/bench_core.py "certreq";
    tests/test_lifecycle_lean.py holds it to build_validity)."""
    if now is not None:
        from keystores.pki.when import build_validity

        return build_validity(days=PLACEHOLDER_DAYS, now=now)
    import time

    start = int(time.time())
    return start, start + PLACEHOLDER_DAYS * 86400


# --- sign ------------------------------------------------------------------------------------------------------
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
    if _key_print(signer.public_key) != _key_print(ca_public_key):
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


def _describe(cert: Any) -> str:
    """keystores.pki.dn.describe, imported only where a message names a certificate: receive loads none of that
    module otherwise (start-up speed; sign has it loaded, for the request's subject)."""
    from keystores.pki.dn import describe

    return describe(cert)


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
    through libcrypto without being loaded (keystores.pki.pkcs8.HeldEcKey; start-up speed, bench_core's "start-up:
    keystores sign")."""
    held = entry.held_pkcs8()
    if held is not None:
        from keystores.pki.pkcs8 import held_ec_key

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


def pem_bodies(data: bytes, labels: tuple[bytes, ...]) -> list[bytes]:
    """What lies between each `-----BEGIN L-----` and the first `-----END M-----` after it, L and M any of `labels`,
    in order: re.findall of BEGIN (labels)(.*?) END (labels) with DOTALL, without re (start-up speed: sign and
    receive import no re; tests/test_lifecycle_lean.py holds it to the expression)."""
    begins = [b"-----BEGIN " + label + b"-----" for label in labels]
    ends = [b"-----END " + label + b"-----" for label in labels]
    found, at = [], 0
    while True:
        begin = _earliest(data, begins, at)
        if begin is None:
            return found
        end = _earliest(data, ends, begin[1])
        if end is None:  # no END after this BEGIN, so none after any later one
            return found
        found.append(data[begin[1] : end[0]])
        at = end[1]


def _earliest(data: bytes, markers: list[bytes], at: int) -> tuple[int, int] | None:
    """(start, end) of the first of `markers` found in `data` from `at` on, or None."""
    spans = [(start, start + len(marker)) for marker in markers if (start := data.find(marker, at)) >= 0]
    return min(spans) if spans else None


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


# --- receive ---------------------------------------------------------------------------------------------------
def load_certificates(data: bytes, *, source: str = "certificate") -> list[x509.Certificate]:
    """Certificates from PEM (one or many), DER, or a PKCS#7 bundle (.p7b), in the order given."""
    from cryptography import x509 as cx509
    from cryptography.exceptions import UnsupportedAlgorithm

    from keystores.pki.certificates import quietly_decoding

    def pkcs7() -> Any:  # imported only for a .p7b: it brings the e-mail package (start-up speed)
        from cryptography.hazmat.primitives.serialization import pkcs7

        return pkcs7

    try:
        with quietly_decoding():
            if b"-----BEGIN PKCS7-----" in data:
                certs = pkcs7().load_pem_pkcs7_certificates(data)
            elif b"-----BEGIN" in data:
                certs = cx509.load_pem_x509_certificates(data)
            else:
                try:
                    certs = [cx509.load_der_x509_certificate(data)]
                except ValueError:
                    certs = pkcs7().load_der_pkcs7_certificates(data)
            for cert in certs:  # the lazy parts now, so that damage shows here and not in the middle of receive
                cert.public_key()
                cert.subject, cert.issuer, cert.extensions  # noqa: B018
    except (ValueError, TypeError, cx509.InvalidVersion, cx509.DuplicateExtension) as exc:
        raise CorruptStore("not a certificate (PEM, DER or PKCS#7), or it is damaged", store=source) from exc
    except UnsupportedAlgorithm as exc:
        raise CorruptStore(f"cannot read the certificate: {exc}", store=source) from exc
    if not certs:
        raise CorruptStore("holds no certificate", store=source)
    return list(certs)


def read_certificates(data: bytes, *, source: str = "certificate") -> list[Any]:
    """load_certificates for `receive`: certificates in PEM or DER that are plain (EncodedCertificate.is_plain:
    the forms keystores writes, checked as cryptography checks them) come back as EncodedCertificates, read from
    their DER without importing cryptography.x509 (start-up speed, bench_core's "start-up: keystores receive");
    anything else (a .p7b, other extensions, damage) is load_certificates' to read or refuse."""
    from keystores.crypto.der import strict_base64_decode  # base64.b64decode(validate=True), without base64
    from keystores.pki.encoded import EncodedCertificate

    if b"-----BEGIN PKCS7-----" not in data:
        if b"-----BEGIN" in data:
            blocks = pem_bodies(data, (b"CERTIFICATE", b"X509 CERTIFICATE"))
            try:
                ders = [strict_base64_decode(b"".join(block.split())) for block in blocks]
            except ValueError:  # (binascii.Error is one)
                ders = []
        else:
            ders = [data]
        certs = [EncodedCertificate(der) for der in ders]
        if certs and all(cert.is_plain() for cert in certs):
            return certs
    return load_certificates(data, source=source)


def _entry_public_key(entry: Entry) -> Any:
    """The key an entry holds (the private key's, not a possibly stale certificate's); None for a key cryptography
    cannot load (keystores.pki.undecoded), which nothing can be matched against."""
    if isinstance(entry.key, KeyRef):
        return entry.key.public_key
    try:
        if entry.key is not None and hasattr(entry.key, "public_key"):
            return entry.key.public_key()
        if entry.request is not None:
            return entry.request.public_key()
        return entry.public_key
    except ValueError:
        return None


def _entry_key_print(entry: Entry) -> bytes | None:
    """public_key_fingerprint of the key an entry holds, as receive matches a certificate to it. A key pair whose
    key is still sealed as read (PKCS#12, JKS, CMS) is matched by its certificate's key, as keytool -importcert
    matches a reply: the key stays sealed, and its derivation (a PBKDF2 run for PKCS#12) is not paid (start-up
    speed, bench_core's "start-up: keystores receive"); the certificate is the one the store's integrity check
    covers with the key (certreq's placeholder). Any other entry by the key it holds (_entry_public_key)."""
    if entry.sealed and entry.kind is EntryKind.KEY_PAIR and entry.undecoded_leaf is not None:
        from keystores.pki.encoded import EncodedCertificate

        try:
            return _certificate_key_print(EncodedCertificate(entry.undecoded_leaf))
        except ValueError:
            pass  # a certificate whose key cannot be read: the key it holds, as for every other entry
    public_key = _entry_public_key(entry)
    return None if public_key is None else public_key_fingerprint(public_key)


def _certificate_key_print(cert: Any) -> bytes:
    """public_key_fingerprint of a certificate's key (an EncodedCertificate): from the DER where keystores.pki.spki
    reads it (no key loaded), else of the key cryptography loads (ValueError when it cannot)."""
    from keystores.pki.spki import key_print

    found = key_print(cert.spki_der)
    return found if found is not None else public_key_fingerprint(cert.public_key())


def _short_fp(public_key: Any) -> str:
    return public_key_fingerprint(public_key).hex()[:16]


@on_store(writable=True)
def receive(store: KeyStore, certificates: Sequence[x509.Certificate], chain: Sequence[x509.Certificate] = (),
            *, now: dt.datetime | None = None) -> Received:
    """Attach a signed certificate (and its chain) to the key it was made for, found by public key among the
    store's key pairs (a token key or a placeholder-holding key too) and pending requests. When nothing matches
    the error lists every key tried, and nothing is written."""
    from keystores.lazy_entries import made_entry
    from keystores.pki.chain import is_self_issued, is_self_signed, order_chain
    from keystores.pki.encoded import as_encoded
    from keystores.pki.when import iso_utc

    if not certificates:
        raise UsageError("no certificate to receive", store=store.location)
    # the clock as POSIX seconds, and the leaf's end read so: datetime only for a warning (start-up speed)
    if now is None:
        import time

        clock = time.time()
    else:
        clock = now.timestamp()
    candidates = [e for e in store.entries() if e.kind in (EntryKind.KEY_PAIR, EntryKind.REQUEST)]
    by_key: dict[bytes, list[Entry]] = {}
    for entry in candidates:
        print_ = _entry_key_print(entry)
        if print_ is not None:
            by_key.setdefault(print_, []).append(entry)
    # One kind of certificate throughout, read from the DER where it can be (start-up speed)
    given = list(dict.fromkeys(as_encoded(cert) for cert in [*certificates, *chain]))
    leaf = match = None
    for cert in given:
        found = by_key.get(_certificate_key_print(cert))
        if found:
            leaf, match = cert, found
            break
    if leaf is None or match is None:
        # put in words only now (describe_key imports every key type; a sealed key is opened to be described)
        tried = [(entry, public_key) for entry in candidates
                 if (public_key := _entry_public_key(entry)) is not None]
        first = certificates[0]
        what = (f"the certificate {_describe(first)} ({describe_key(first.public_key())}, "
                f"{_short_fp(first.public_key())})")
        keys = "; ".join(
            f"'{entry.label}' ({'pending request' if entry.kind is EntryKind.REQUEST else 'key'}, "
            f"{describe_key(public_key)}, {_short_fp(public_key)})" for entry, public_key in tried
        ) if tried else "(the store holds no keys or pending requests)"
        raise NotFound(f"no key in the store matches the public key of {what}; keys tried: {keys}. "
                       "Nothing was written", store=store.location)
    notes: list[str] = []
    # Prefer the entry still waiting (a request or a placeholder) when the same key sits under several labels.
    if len(match) > 1:  # (sorting one would decode its chain for nothing)
        match.sort(key=lambda e: 0 if e.kind is EntryKind.REQUEST or not e.chain or is_self_signed(e.chain[0]) else 1)
    target = match[0]
    if len(match) > 1:
        others = ", ".join(f"'{e.label}'" for e in match[1:])
        notes.append(f"the same key is also under {others}; attached to '{target.label}' only")
    # The reply's own certificates first; the store's are decoded and searched only when the reply's chain stops
    # short of a self-issued certificate (the same path: the earliest candidate wins, and the reply's come first).
    pool = [c for c in given if c != leaf]
    path = order_chain(leaf, pool)
    if not is_self_issued(path[-1]):
        from keystores.pki.fingerprints import distinct_certificates

        held = distinct_certificates(entry.chain for entry in store.entries())
        path = order_chain(leaf, pool + [as_encoded(c) for c in held if c != leaf])
    unused = [c for c in given if c not in path]
    if unused:
        notes.append("ignored certificates that are not in this certificate's chain: "
                     + "; ".join(_describe(c) for c in unused))
    if not is_self_signed(path[-1]):
        notes.append(Note(f"warning: the chain is incomplete: the issuer of {_describe(path[-1])} is in neither the "
                          "reply nor the store", Hint(" (give it with {}, or import the CA certificate first)",
                                                      option="--chain", keyword="chain")))
    if leaf.validity_seconds()[1] <= clock:
        notes.append(f"warning: the certificate expired on {iso_utc(leaf.not_valid_after_utc)}")
    if _leaf_der(target) == leaf.der:
        notes.append("this certificate was already there; its chain has been refreshed")
    # The key as the store read it (opened above to match it): PKCS#12 writes its key bag back unchanged.
    entry = made_entry(tuple(cert.der for cert in path), key_of=target, label=target.label, kind=EntryKind.KEY_PAIR,
                       default=target.default, created=target.created)
    store.add(entry, replace=True)
    return Received(target.label, tuple(path), notes)


def _leaf_der(entry: Entry) -> bytes | None:
    """The entry's certificate as DER, from its backend's bytes while undecoded."""
    der = entry.undecoded_leaf
    if der is None and entry.certificate is not None:
        from keystores.crypto.key_encoding import Encoding
        der = entry.certificate.public_bytes(Encoding.DER)
    return der
