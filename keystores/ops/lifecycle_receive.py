"""The lifecycle's `receive` (see keystores.ops.lifecycle): a signed
certificate and its chain attached to the key it was made for. Apart so that certreq, selfsign and sign do not load
it, nor receive what they alone run (start-up speed, bench_core's "start-up: keystores receive")."""

from __future__ import annotations

from keystores.errors import CorruptStore, Hint, Note, NotFound, UsageError
from keystores.model import EntryKind, KeyRef, describe_key, public_key_fingerprint
from keystores.ops import on_store
from keystores.ops.lifecycle import Received, _describe, pem_bodies

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence
    from typing import Any

    from cryptography import x509

    from keystores.model import Entry
    from keystores.store import KeyStore


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
    if not certificates:
        raise UsageError("no certificate to receive", store=store.location)
    # The store's write's derivations (a PKCS#12's certificates part and MAC, each with a fresh salt; its key bags are
    # written back as read) start now on another core, beside the matching, the chain's checks and the entry's
    # making below, instead of at the save, which waited for them (store.expect_write, as certreq's _EARLY_WRITE;
    # bench/bench_core.py "receive"). Where nothing matches, they are dropped unused when the store closes; a key
    # that must be sealed anew (another profile or password) is not foreseen: that write derives as before.
    store.expect_write()
    from keystores.lazy_entries import made_entry
    from keystores.pki.chain import is_self_issued, is_self_signed, order_chain
    from keystores.pki.encoded import as_encoded
    from keystores.pki.when import iso_utc

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
