"""The lifecycle's `selfsign` and `certreq` (see keystores.ops.lifecycle): keys made where the store makes them, on
the token when `capabilities.key_generation`, else on the host (then kept as a pending REQUEST where the format has
them, or as keytool does, as a key pair with a self-signed placeholder certificate). Apart so that sign and receive
do not load it (start-up speed)."""

from __future__ import annotations

from keystores.errors import REPLACE, EntryNotFound, KeystoreError, UsageError
from keystores.model import Entry, EntryKind, KeySpec
from keystores.ops import on_store
from keystores.ops.lifecycle import Issued, Requested

# datetime, contextlib and typing are imported where used (start-up speed: certreq into a new store needs none of
# them; tests/test_lifecycle_lean.py)
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from typing import Any

    from cryptography import x509

    from keystores.pki.dn import DistinguishedName
    from keystores.protocols import Signer
    from keystores.store import KeyStore

DEFAULT_KEY = "rsa:2048"
PLACEHOLDER_DAYS = 90  # keytool -genkeypair's default validity, for the certificate that stands in until receive


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
    the store writes as its PKCS#8), an EC key is made by libcrypto and held so (keystores.pki.held_pkcs8.HeldEcKey:
    no cryptography import), where libcrypto makes it."""
    if as_pkcs8 and spec.algorithm == "ec":
        from keystores.pki.curves import curve_named
        from keystores.pki.held_pkcs8 import made_ec_key

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
    from keystores.errors import EntryExists  # made on first use (keystores.errors): only where it is raised

    raise EntryExists("an entry with this label exists", store=store.location, label=label, hint=REPLACE)


def _new_key(store: KeyStore, label: str, spec: KeySpec, *, as_pkcs8: bool = True) -> tuple[Signer, Any, bool]:
    """(signer, key for the entry, made on the token?) for a new key under `label`; the key a HeldEcKey where
    `as_pkcs8` allows it (see _host_key; _key_fields puts it in an entry)."""
    if store.capabilities.key_generation:
        ref = store.generate_key(label, spec)
        signer = ref.signer if ref.signer is not None else store.signer(label)
        return signer, ref, True
    key = _host_key(spec, as_pkcs8=as_pkcs8)
    from keystores.pki.held_pkcs8 import HeldEcKey

    if isinstance(key, HeldEcKey):
        return key, key, False
    from keystores.model import private_key_signer

    return private_key_signer(key), key, False


def _key_fields(key: Any) -> dict[str, Any]:
    """made_entry's fields for the key _new_key made: a HeldEcKey as its PKCS#8, which the store writes without
    loading it (cryptography loads it only where asked for the key itself), any other as it is."""
    from keystores.pki.held_pkcs8 import HeldEcKey

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
