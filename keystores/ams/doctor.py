"""`keystores ams check`: will AMS protection work with these policies and these key stores, and if not, why not.

The rules (IBM MQ docs, "Certificate requirements for AMS", "setmqspl", "Known limitations of AMS"; the spec
mq-identity.md): certificates need an RSA key; when key usage is present, integrity (signing) needs
digitalSignature or nonRepudiation, privacy needs keyEncipherment, confidentiality needs dataEncipherment; when
extended key usage is present it must include emailProtection; SHA384/SHA512 signatures need a key longer than
768 bits. The putter signs with its own key and encrypts for each `-r` DN, so its keystore must hold one valid RSA
certificate per recipient DN. The getter ignores `-r`, decrypts with its own key, accepts a signer only when `-a` is
empty or lists the signer's DN, and must validate the signer's certificate with what it trusts.

Everything here works on open stores through the KeyStore protocol; the CLI opens them from keystore.conf files.
Certificates are read from the DER their backends still hold where keystores.pki.shown reads them (held_leaf,
held_chain: a ShownCertificate, whose facts and chains are cryptography's: tests/test_ams_lean.py), so that a check
or a rehearsal of a small store imports no cryptography.x509 (start-up speed, issue 15); else from the entry's
decoded chain, as before.
"""

from __future__ import annotations

import datetime as dt

from keystores.errors import EntryNotFound, KeystoreError
from keystores.frozen import FrozenValue, Record
from keystores.model import EntryKind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from cryptography import x509

    from keystores.ams.policy import Policy, PolicySet
    from keystores.model import Entry
    from keystores.store import KeyStore

EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"


class Side(Record):
    """One end of the message flow: its store (opened from keystore.conf), the label of its own certificate, and
    stores with the other parties' certificates (pkcs11.secondary_keystore)."""

    _fields = ("role", "where", "store", "label", "others")

    def __init__(self, role: str, where: str, store: KeyStore, label: str, others: list[KeyStore] | None = None
                 ) -> None:
        self.role = role  # "putter" or "getter"
        self.where = where  # the keystore.conf path, for messages
        self.store = store
        self.label = label
        self.others: list[KeyStore] = [] if others is None else others

    def certificates(self) -> list[tuple[str, x509.Certificate]]:
        """(label, leaf certificate) of every entry with a certificate, the other stores' included."""
        found = []
        for store in [self.store, *self.others]:
            prefix = "" if store is self.store else f"{store.location}:"
            for entry in store.entries():
                leaf = held_leaf(entry)
                if leaf is not None:
                    found.append((prefix + entry.label, leaf))
        return found


def held_leaf(entry: Entry) -> x509.Certificate | None:
    """The entry's certificate: a keystores.pki.shown.ShownCertificate read from the DER its backend still holds
    when pki.shown reads it, else the decoded chain's first (None for an entry without one)."""
    der = entry.undecoded_leaf
    held = None if der is None else held_certificate(der)
    if held is not None:
        return held  # type: ignore[no-any-return]
    return entry.chain[0] if entry.chain else None


_HELD: dict[bytes, Any] = {}  # DER -> its ShownCertificate (or None): each read once, its parse kept with it


def held_certificate(der: bytes) -> Any:
    """The certificate in `der` as a keystores.pki.shown.ShownCertificate, or None when pki.shown does not read it;
    one object per DER for the run, so that what it has read and checked (pki.encoded's caches) is done once."""
    if der not in _HELD:
        from keystores.pki.shown import ShownCertificate, read_shown

        if len(_HELD) > 4096:  # a library caller's long run: the memo is for one command's few certificates
            _HELD.clear()
        shown = read_shown(der)
        _HELD[der] = None if shown is None else ShownCertificate(der, shown)
    return _HELD[der]


def held_chain(entry: Entry) -> tuple[x509.Certificate, ...]:
    """The entry's chain as held_leaf reads its certificate: each from its DER when pki.shown reads them all, else
    the decoded chain."""
    ders = entry.undecoded_chain
    if ders is not None:
        held = [held_certificate(der) for der in ders]
        if None not in held:
            return tuple(held)
    return entry.chain


def _of_one_kind(certs: list[Any]) -> list[Any]:
    """`certs` as they are when each is a ShownCertificate and pki.shown reads them as one set (their names compare
    alike as encoded and as cryptography compares them), else each as cryptography's: keystores.pki.chain compares
    the names of one chain search in one kind."""
    from keystores.pki.encoded import EncodedCertificate
    from keystores.pki.shown import ShownCertificate, shown_certificates

    if all(isinstance(c, ShownCertificate) for c in certs):
        ders = frozenset(c.der for c in certs)
        if ders not in _ONE_KIND:
            if len(_ONE_KIND) > 4096:
                _ONE_KIND.clear()
            _ONE_KIND[ders] = shown_certificates(ders) is not None
        if _ONE_KIND[ders]:
            return certs
    return [c.decoded if isinstance(c, EncodedCertificate) else c for c in certs]


_ONE_KIND: dict[frozenset[bytes], bool] = {}  # the DER of a set of certificates -> whether shown reads them as one


class Finding(FrozenValue):
    """One result of the doctor. `severity` is error (protection would fail) or warning."""

    _fields = ("side", "policy", "check", "severity", "message", "nearest", "line")

    def __init__(self, side: str, policy: str | None, check: str, severity: str, message: str,
                 nearest: tuple[Any, ...] = (), line: int = 0) -> None:
        object.__setattr__(self, "side", side)  # policy, putter, getter
        object.__setattr__(self, "policy", policy)
        object.__setattr__(self, "check", check)
        object.__setattr__(self, "severity", severity)
        object.__setattr__(self, "message", message)
        object.__setattr__(self, "nearest", nearest)
        object.__setattr__(self, "line", line)

    def as_dict(self) -> dict[str, Any]:
        return {"side": self.side, "policy": self.policy, "check": self.check, "severity": self.severity,
                "message": self.message, "line": self.line, "nearest": [n.as_dict() for n in self.nearest]}


class Report(Record):
    _fields = ("findings", "policies", "at")

    def __init__(self, findings: list[Finding] | None = None, policies: int = 0, at: dt.datetime | None = None
                 ) -> None:
        self.findings: list[Finding] = [] if findings is None else findings
        self.policies = policies
        self.at = dt.datetime.now(dt.UTC) if at is None else at

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def as_dict(self) -> dict[str, Any]:
        return {"schema": 1, "ok": self.ok, "policies": self.policies,
                "at": self.at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),  # as audit and validate write it
                "errors": sum(f.severity == "error" for f in self.findings),
                "warnings": sum(f.severity == "warning" for f in self.findings),
                "findings": [f.as_dict() for f in self.findings]}


def certificate_problems(cert: x509.Certificate, *, uses: Iterable[str], sign_hash: str | None = None,
                         at: dt.datetime) -> list[tuple[str, str]]:
    """(check, message) for every way `cert` falls short of AMS's requirements for `uses` (any of "sign",
    "privacy", "confidentiality"); `sign_hash` is the policy's signature algorithm when the certificate signs."""
    from keystores.pki.shown import ShownCertificate

    shown = cert.shown if isinstance(cert, ShownCertificate) else None
    found: list[tuple[str, str]] = []
    if shown is not None and shown.key is not None and shown.key[0].startswith("RSA-"):
        rsa_size: int | None = shown.key[1]  # read from the DER as cryptography's key_size
    else:
        rsa_size = _rsa_size(cert, found)
    if rsa_size is not None and sign_hash in ("SHA384", "SHA512") and rsa_size <= 768:
        found.append(("key-size", f"{sign_hash} signing needs a key longer than 768 bits; this one has {rsa_size}"))
    if cert.not_valid_after_utc <= at:
        found.append(("expired", f"expired on {cert.not_valid_after_utc.date().isoformat()}"))
    elif cert.not_valid_before_utc > at:
        found.append(("not-yet-valid", f"valid only from {cert.not_valid_before_utc.date().isoformat()}"))
    if shown is not None:  # pki.shown read both extensions as cryptography decodes them, or declined the certificate
        bits = shown.key_usage
        usage = None if bits is None else (0 in bits or 1 in bits, 2 in bits, 3 in bits)
        extended, extended_problem = shown.extended_key_usage, None
    else:
        usage, extended, extended_problem = _usages(cert, found)
    wanted = set(uses)
    if usage is not None:
        signs, enciphers_keys, enciphers_data = usage
        if "sign" in wanted and not signs:
            found.append(("key-usage", "signing (integrity) needs key usage digitalSignature or nonRepudiation"))
        if "privacy" in wanted and not enciphers_keys:
            found.append(("key-usage", "privacy needs key usage keyEncipherment"))
        if "confidentiality" in wanted and not enciphers_data:
            found.append(("key-usage", "confidentiality needs key usage dataEncipherment"))
    if extended is not None and EMAIL_PROTECTION not in extended:
        found.append(("extended-key-usage", "its extended key usage lacks emailProtection"))
    if extended_problem:
        found.append(("extended-key-usage", extended_problem))
    return found


def _usages(cert: x509.Certificate, found: list[tuple[str, str]]
            ) -> tuple[tuple[bool, bool, bool] | None, list[str] | None, str | None]:
    """(key usage as (signs, enciphers keys, enciphers data), extended key usage as dotted OIDs, why the extended
    key usage cannot be decoded) as cryptography decodes them; None for an absent extension. A key usage that
    cannot be decoded is a finding at once."""
    from cryptography import x509 as cx509

    try:
        value = cert.extensions.get_extension_for_class(cx509.KeyUsage).value
        usage = (value.digital_signature or value.content_commitment, value.key_encipherment, value.data_encipherment)
    except cx509.ExtensionNotFound:
        usage = None
    except ValueError:
        found.append(("key-usage", "its key usage extension cannot be decoded"))
        usage = None
    try:
        extended = [oid.dotted_string for oid in cert.extensions.get_extension_for_class(cx509.ExtendedKeyUsage).value]
    except cx509.ExtensionNotFound:
        extended = None
    except ValueError:
        return usage, None, "its extended key usage extension cannot be decoded"
    return usage, extended, None


def _rsa_size(cert: x509.Certificate, found: list[tuple[str, str]]) -> int | None:
    """The size of the certificate's RSA key as cryptography loads it; None, with the finding, for any other."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import rsa

    from keystores.model import describe_key

    try:
        key: Any = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        key = None
    if key is None:
        found.append(("rsa", "its public key cannot be read; AMS needs an RSA key"))
    elif not isinstance(key, rsa.RSAPublicKey):
        found.append(("rsa", f"the key is {describe_key(key)}; AMS needs an RSA key"))
    else:
        return key.key_size  # type: ignore[no-any-return]
    return None


def check(policies: PolicySet, *, putter: Side | None = None, getter: Side | None = None,
          trust: Iterable[KeyStore] = (), at: dt.datetime | None = None) -> Report:
    """Check the policies, then each side given against them."""
    from keystores.ams.policy import validate

    report = Report(policies=len(policies.policies), at=at or dt.datetime.now(dt.UTC))
    for problem in validate(policies):
        report.findings.append(Finding("policy", problem.policy, "policy", problem.severity,
                                       f"{problem.message} ({problem.ams})", line=problem.line))
    trusted = [cert for store in trust for entry in store.entries() for cert in held_chain(entry)]
    if putter is not None:
        report.findings += _check_putter(policies, putter, report.at)
    if getter is not None:
        report.findings += _check_getter(policies, getter, putter, trusted, report.at)
    return report


def _own(side: Side, at: dt.datetime, uses: set[str], sign_hash: str | None) -> tuple[Any, list[Finding]]:
    """The side's own certificate (None when it has none) and the findings about it."""
    found: list[Finding] = []
    try:
        entry = side.store.get(side.label)
    except EntryNotFound as exc:
        return None, [Finding(side.role, None, "own-certificate", "error", f"{side.where}: the certificate "
                              f"'{side.label}' is not in {side.store.location} ({exc.reason})")]
    leaf = held_leaf(entry) if entry.kind is EntryKind.KEY_PAIR else None
    if leaf is None:
        return None, [Finding(side.role, None, "own-certificate", "error", f"'{side.label}' in "
                              f"{side.store.location} is a {entry.kind.value} entry: AMS needs a certificate with "
                              "its private key")]
    for check_name, message in certificate_problems(leaf, uses=uses, sign_hash=sign_hash, at=at):
        found.append(Finding(side.role, None, check_name, "error", f"own certificate '{side.label}': {message}"))
    return leaf, found


def _check_putter(policies: PolicySet, side: Side, at: dt.datetime) -> list[Finding]:
    from keystores.ams import dnmatch

    signing = [p for p in policies.policies.values() if p.signs]
    uses = {"sign"} if signing else set()
    strongest = max((p.sign_algorithm for p in signing), key=lambda a: a in ("SHA384", "SHA512"), default=None)
    _, found = _own(side, at, uses, strongest)
    candidates = side.certificates()
    for policy in policies.policies.values():
        if not policy.encrypts:
            continue
        for dn in policy.recipients:
            found += _recipient(policy, dn, side, candidates, at, dnmatch)
    return found


def _recipient(policy: Policy, dn: str, side: Side, candidates: list[tuple[str, x509.Certificate]],
               at: dt.datetime, dnmatch: Any) -> list[Finding]:
    use = "privacy" if policy.quality == "privacy" else "confidentiality"
    hits = [(label, cert) for label, cert in candidates if dnmatch.matches(dn, cert)]
    if not hits:
        near = tuple(dnmatch.nearest(dn, candidates))
        return [Finding(side.role, policy.name, "recipient", "error", f"no certificate in "
                        f"{side.store.location} has the recipient DN '{dn}': the put fails and AMS reports the "
                        "recipient's certificate missing" + ("" if near else " (no certificate comes close)"),
                        near, policy.line)]
    usable = [(label, cert) for label, cert in hits if not certificate_problems(cert, uses={use}, at=at)]
    found = []
    if len(hits) > 1:
        def state(label: str, cert: x509.Certificate) -> str:
            usable_now = "usable" if (label, cert) in usable else \
                "expired" if cert.not_valid_after_utc <= at else "not usable"
            return f"'{label}' ({usable_now}, until {cert.not_valid_after_utc.date().isoformat()})"

        states = ", ".join(state(label, cert) for label, cert in hits)
        found.append(Finding(side.role, policy.name, "recipient-duplicate", "error" if len(usable) != 1 else
                             "warning", f"{len(hits)} certificates have the recipient DN '{dn}': {states}; AMS "
                             "may pick any of them", line=policy.line))
    if not usable:
        label, cert = hits[0]
        for check_name, message in certificate_problems(cert, uses={use}, at=at):
            found.append(Finding(side.role, policy.name, check_name, "error", f"recipient '{dn}' (entry "
                                 f"'{label}'): {message}", line=policy.line))
    return found


def _check_getter(policies: PolicySet, side: Side, putter: Side | None, trusted: list[x509.Certificate],
                  at: dt.datetime) -> list[Finding]:
    from keystores.ams import dnmatch

    encrypting = [p for p in policies.policies.values() if p.encrypts]
    uses = {p.quality for p in encrypting}
    mine, found = _own(side, at, uses, None)
    if mine is not None and encrypting:
        for policy in encrypting:
            if not any(dnmatch.matches(dn, mine) for dn in policy.recipients):
                found.append(Finding(side.role, policy.name, "not-a-recipient", "error" if putter else "warning",
                                     f"own certificate {dnmatch.certificate_dn(mine)} is not among the "
                                     f"recipients {policy.recipients}: the getter cannot decrypt what is put",
                                     line=policy.line))
    held = side.certificates()
    pool = [cert for _, cert in held] + trusted
    signer_cert = None
    if putter is not None:
        try:
            signer_cert = held_leaf(putter.store.get(putter.label))
        except KeystoreError:
            signer_cert = None
    for policy in policies.policies.values():
        if not policy.signs:
            continue
        if signer_cert is not None:
            if policy.signers and not any(dnmatch.matches(dn, signer_cert) for dn in policy.signers):
                near = tuple(n for dn in policy.signers
                             for n in dnmatch.nearest(dn, [(putter.label if putter else "", signer_cert)]))
                found.append(Finding(side.role, policy.name, "signer", "error", f"the putter's certificate "
                                     f"{dnmatch.certificate_dn(signer_cert)} is not in the accepted signers "
                                     f"{policy.signers}: the getter refuses its messages", near, policy.line))
            why = validation_problem(signer_cert, pool, at)
            if why:
                found.append(Finding(side.role, policy.name, "signer-trust", "error", f"the putter's certificate "
                                     f"cannot be validated by the getter: {why}", line=policy.line))
        for dn in policy.signers:
            certs = [cert for _, cert in held if dnmatch.matches(dn, cert)]
            certs += [cert for cert in trusted if dnmatch.matches(dn, cert)]
            if signer_cert is not None and dnmatch.matches(dn, signer_cert):
                continue
            if not certs:
                found.append(Finding(side.role, policy.name, "signer-unknown", "warning", f"accepted signer '{dn}' "
                                     "has no certificate in the getter's stores: its signature validates only "
                                     "through a CA the getter trusts (give the putter's side to check it)",
                                     line=policy.line))
            elif all(validation_problem(cert, pool, at) for cert in certs):
                found.append(Finding(side.role, policy.name, "signer-trust", "error", f"accepted signer '{dn}': "
                                     f"{validation_problem(certs[0], pool, at)}", line=policy.line))
    return found


def validation_problem(cert: x509.Certificate, pool: list[x509.Certificate], at: dt.datetime) -> str | None:
    """Why `cert` cannot be validated with the certificates the getter holds and trusts (its chain to a
    self-signed certificate in `pool`, every link valid at `at`), or None. Certificates held as DER are judged
    once per run for each pool and time (a check asks for the signer once per signing policy)."""
    from keystores.pki.shown import ShownCertificate

    if not (isinstance(cert, ShownCertificate) and all(isinstance(c, ShownCertificate) for c in pool)):
        return _validation_problem(cert, pool, at)
    key = (cert.der, tuple(c.der for c in pool), at)  # type: ignore[attr-defined]
    if key not in _VALIDATED:
        if len(_VALIDATED) > 4096:
            _VALIDATED.clear()
        _VALIDATED[key] = _validation_problem(cert, pool, at)
    return _VALIDATED[key]


_VALIDATED: dict[tuple[bytes, tuple[bytes, ...], dt.datetime], str | None] = {}


def _validation_problem(cert: x509.Certificate, pool: list[x509.Certificate], at: dt.datetime) -> str | None:
    from keystores.pki.chain import is_self_signed, order_chain
    from keystores.pki.dn import describe
    from keystores.pki.encoded import EncodedCertificate

    cert, *pool = _of_one_kind([cert, *pool])
    path = order_chain(cert, pool)
    for link in path:
        if link.not_valid_after_utc <= at:
            return f"{describe(link)} expired on {link.not_valid_after_utc.date().isoformat()}"
    top = path[-1]
    if not is_self_signed(top):
        from keystores.pki.dn import DistinguishedName

        issuer = DistinguishedName.from_der(top.issuer_der) if isinstance(top, EncodedCertificate) else None
        if issuer is None:
            issuer = DistinguishedName.from_x509(top.issuer)
        return f"its issuer {issuer.normalized()} is not in the getter's stores"
    if certificate_der(top) not in {certificate_der(c) for c in pool}:  # equal DER: equal SHA-256 fingerprints
        return f"the root {describe(top)} is not in the getter's stores"
    return None


def certificate_der(cert: x509.Certificate) -> bytes:
    """The certificate's DER: as held (keystores.pki.encoded), else as cryptography writes it."""
    from keystores.pki.encoded import Encoded

    if isinstance(cert, Encoded):
        return cert.der
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)  # type: ignore[no-any-return]
