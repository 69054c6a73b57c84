"""Audit and validate, written once against the KeyStore protocol: `validate` builds and checks one entry's chain
against the store and trust stores; `audit` looks over many stores of any formats at once for expired and expiring
certificates, weak signatures, keys and store protection, missing chain links, duplicate labels and shared CNs.

Operations raise keystores errors and return results (Validation, Audit) whose JSON is documented in the README.
"""

from __future__ import annotations

import itertools
from _collections_abc import Mapping  # collections.abc's own; importing collections.abc imports collections

from keystores.errors import (
    Hint,
    KeystoreError,
    Naming,
    Note,
    NotFound,
    UnsupportedFormat,
    UsageError,
    parameter,
    spoken,
)
from keystores.frozen import FrozenValue, Record
from keystores.lightweight import dates
from keystores.model import Entry, EntryKind
from keystores.ops import StoreArg, is_location, on_store, using
from keystores.pki.fingerprints import distinct_certificates, fingerprint, sha256_fingerprint
from keystores.pki.when import iso_utc

TYPE_CHECKING = False  # typing is not imported at run time (start-up speed)
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterable
    from typing import Any

    from cryptography import x509

    from keystores.lightweight import ExitStack
    from keystores.store import KeyStore
else:
    dt = dates()  # datetime's classes without the datetime module (start-up speed)

# --- results ---------------------------------------------------------------------------------------------------
class Link(Record):
    """One certificate of a validated path and what was found about it."""

    subject: str
    issuer: str
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str
    problems: list[str]
    warnings: list[str]
    trusted: bool
    _fields = ("subject", "issuer", "not_before", "not_after", "fingerprint", "problems", "warnings", "trusted")

    def __init__(self, subject: str, issuer: str, not_before: dt.datetime, not_after: dt.datetime,
                 fingerprint: str, problems: list[str] | None = None, warnings: list[str] | None = None,
                 trusted: bool = False) -> None:
        self.subject = subject
        self.issuer = issuer
        self.not_before = not_before
        self.not_after = not_after
        self.fingerprint = fingerprint
        self.problems = [] if problems is None else problems
        self.warnings = [] if warnings is None else warnings
        self.trusted = trusted

    def as_dict(self, naming: Naming = "keyword") -> dict[str, Any]:
        return {"subject": self.subject, "issuer": self.issuer, "not_before": iso_utc(self.not_before),
                "not_after": iso_utc(self.not_after), "sha256": self.fingerprint, "trusted": self.trusted,
                "ok": not self.problems, "problems": [spoken(p, naming) for p in self.problems],
                "warnings": self.warnings}


class Validation(Record):
    """What validate found: the path from `label`'s certificate up, one Link each, checked at `at`."""

    store: str
    label: str
    links: list[Link]
    at: dt.datetime
    _fields = ("store", "label", "links", "at")

    def __init__(self, store: str, label: str, links: list[Link], at: dt.datetime) -> None:
        self.store = store
        self.label = label
        self.links = links
        self.at = at

    @property
    def ok(self) -> bool:
        return bool(self.links) and not any(link.problems for link in self.links)

    def as_dict(self, naming: Naming = "keyword") -> dict[str, Any]:
        """The documented JSON; a problem's hint names a keyword, or an option (`naming="option"`) for the CLI."""
        return {"schema": VALIDATE_SCHEMA, "store": self.store, "label": self.label, "valid": self.ok,
                "at": iso_utc(self.at), "links": [link.as_dict(naming) for link in self.links]}


VALIDATE_SCHEMA = 1


SEVERITIES = ("notice", "warning", "error")  # in rising order; `fail_on=` (CLI `audit --fail-on`) names one


class Finding(FrozenValue):
    """One audit finding. `check` is one of CHECKS; `severity` one of SEVERITIES. Findings about a certificate
    carry its subject, end of validity, days left (negative once expired) and SHA-256 fingerprint. A store that
    could not be opened carries the hint of the error that stopped it; `rendered()` is the message with it."""

    store: str
    label: str | None
    check: str
    message: str
    severity: str
    subject: str | None
    not_after: dt.datetime | None
    days_left: int | None
    fingerprint: str | None
    hint: Hint | None
    _fields = ("store", "label", "check", "message", "severity", "subject", "not_after", "days_left", "fingerprint",
               "hint")

    def __init__(self, store: str, label: str | None, check: str, message: str, severity: str = "warning",
                 subject: str | None = None, not_after: dt.datetime | None = None, days_left: int | None = None,
                 fingerprint: str | None = None, hint: Hint | None = None) -> None:
        init = object.__setattr__
        init(self, "store", store)
        init(self, "label", label)
        init(self, "check", check)
        init(self, "message", message)
        init(self, "severity", severity)
        init(self, "subject", subject)
        init(self, "not_after", not_after)
        init(self, "days_left", days_left)
        init(self, "fingerprint", fingerprint)
        init(self, "hint", hint)

    def rendered(self, naming: Naming = "keyword") -> str:
        return self.message + (self.hint.render(naming) if self.hint is not None else "")

    def as_dict(self, naming: Naming = "keyword") -> dict[str, Any]:
        return {"store": self.store, "label": self.label, "check": self.check, "severity": self.severity,
                "message": self.rendered(naming), "subject": self.subject,
                "not_after": iso_utc(self.not_after) if self.not_after else None, "days_left": self.days_left,
                "sha256": self.fingerprint}


_MONTH = dt.timedelta(days=30)  # how far ahead an Audit looks unless told


class Audit(Record):
    """What audit found in `stores` stores holding `certificates` distinct certificates, looking `within` ahead of
    `at`; it fails on findings of `fail_on` severity or above."""

    findings: list[Finding]
    stores: int
    certificates: int
    within: dt.timedelta
    at: dt.datetime
    fail_on: str
    _fields = ("findings", "stores", "certificates", "within", "at", "fail_on")

    def __init__(self, findings: list[Finding] | None = None, stores: int = 0, certificates: int = 0,
                 within: dt.timedelta = _MONTH, at: dt.datetime | None = None,
                 fail_on: str = "warning") -> None:
        self.findings = [] if findings is None else findings
        self.stores = stores
        self.certificates = certificates
        self.within = within
        self.at = dt.datetime.now(dt.UTC) if at is None else at
        self.fail_on = fail_on

    @property
    def failing(self) -> list[Finding]:
        """The findings at or above the `fail_on` severity: those that make the audit fail."""
        floor = SEVERITIES.index(self.fail_on)
        return [f for f in self.findings if SEVERITIES.index(f.severity) >= floor]

    @property
    def ok(self) -> bool:
        return not self.failing

    def as_dict(self, naming: Naming = "keyword") -> dict[str, Any]:
        """The documented JSON; hints name keywords, or options (`naming="option"`) for the CLI."""
        return {"schema": AUDIT_SCHEMA, "ok": self.ok, "fail_on": self.fail_on, "stores": self.stores,
                "certificates": self.certificates, "within_days": self.within.total_seconds() / 86400,
                "at": iso_utc(self.at), "counts": {level: sum(f.severity == level for f in self.findings)
                                                for level in SEVERITIES},
                "findings": [f.as_dict(naming) for f in self.findings]}


AUDIT_SCHEMA = 1


# --- validate --------------------------------------------------------------------------------------------------
def _anchors(store: KeyStore, entries: list[Entry], chain_of: Callable[[Entry], tuple[Any, ...]]) -> list[Any]:
    """The certificates a store trusts: its trusted-certificate entries with trust set; in a format without
    trust flags (PEM) every certificate entry of its own (a key pair's chain is never trusted by being there).
    `entries` are the store's, `chain_of` gives each one's chain."""
    no_flags = not store.capabilities.trust
    in_chains = {c for e in entries if e.kind is EntryKind.KEY_PAIR for c in chain_of(e)[1:]}  # PEM lists them too
    return [chain_of(e)[0] for e in entries if e.kind.is_certificate and chain_of(e)
            and (e.trust is not None or (no_flags and chain_of(e)[0] not in in_chains))]


def _chain_lookup(entries: list[Entry]) -> Callable[[Entry], tuple[Any, ...]]:
    """What gives each of `entries` its chain: read from the DER where _chains_from_der reads them all, else
    each entry's `chain`."""
    chains = _chains_from_der(entries)
    if chains is None:
        return lambda entry: entry.chain
    by_entry = {id(entry): chain for entry, chain in zip(entries, chains, strict=True)}
    return lambda entry: by_entry[id(entry)]


@on_store()
def validate(store: KeyStore, label: str, *, trust_stores: Iterable[StoreArg] = (),
             at: dt.datetime | None = None) -> Validation:
    """Build the chain of `label`'s certificate through the entry's chain, the store and the trust stores (open,
    or locations opened without a password), and check each link: validity at `at`, signature, the issuer being a
    CA, and ending at a trusted certificate."""
    from keystores.lightweight import ExitStack  # (contextlib's, without importing contextlib: start-up speed)

    with ExitStack() as stack:
        opened = [stack.enter_context(using(other)) for other in trust_stores]
        return _validate(store, label, opened, at)


def _validate(store: KeyStore, label: str, trust_stores: list[KeyStore], at: dt.datetime | None) -> Validation:
    from keystores.pki.certificates import describe, signature_hash
    from keystores.pki.chain import is_ca, is_self_signed, may_sign_certificates, order_chain

    at = at or dt.datetime.now(dt.UTC)
    entry = store.get(label)
    held = [(one, list(one.entries())) for one in (store, *trust_stores)]
    chain_of = _chain_lookup([entry, *(e for _, entries in held for e in entries)])
    if not chain_of(entry):
        raise UsageError(f"holds no certificate to validate ({entry.kind.value})", store=store.location,
                         label=label)
    leaf = chain_of(entry)[0]
    anchors: list[Any] = []
    pool = list(chain_of(entry)[1:])
    for one, entries in held:
        anchors += _anchors(one, entries, chain_of)
        pool += distinct_certificates(chain_of(e) for e in entries)
    anchor_fps = {sha256_fingerprint(c) for c in anchors}
    candidates = list({sha256_fingerprint(c): c for c in [*anchors, *pool]}.values())

    path = order_chain(leaf, candidates,
                       complete=lambda cert: sha256_fingerprint(cert) in anchor_fps or is_self_signed(cert))

    links: list[Link] = []
    for index, cert in enumerate(path):
        if cert.not_valid_before_utc is None or cert.not_valid_after_utc is None:  # keystores.pki.undecoded
            from keystores.pki.undecoded import problem_of

            raise UnsupportedFormat(f"certificate {index + 1} of the path cannot be read, so it cannot be validated "
                                    f"({problem_of(cert)})", store=store.location, label=label)
        link = Link(describe(cert), _issuer_text(cert), cert.not_valid_before_utc, cert.not_valid_after_utc,
                    fingerprint(cert), trusted=sha256_fingerprint(cert) in anchor_fps)
        if cert.not_valid_after_utc < at:
            link.problems.append(f"expired on {iso_utc(cert.not_valid_after_utc)}")
        if cert.not_valid_before_utc > at:
            link.problems.append(f"not valid before {iso_utc(cert.not_valid_before_utc)}")
        if index > 0 and not link.trusted:
            if not is_ca(cert):
                link.problems.append("issues certificates but is not a CA (basic constraints)")
            elif not may_sign_certificates(cert):
                link.problems.append("issues certificates but its key usage lacks keyCertSign")
        hash_name = signature_hash(cert)
        if hash_name in ("md5", "sha1") and not (link.trusted and is_self_signed(cert)):
            (link.problems if hash_name == "md5" else link.warnings).append(
                f"signed with {hash_name.upper()}")
        if index == len(path) - 1 and not link.trusted:
            if is_self_signed(cert):
                link.problems.append(Note("self-signed and not trusted by the store", Hint(
                    " (add it as a trusted certificate or pass {})", option="--trust", keyword="trust_stores")))
            else:
                link.problems.append(f"issuer {_issuer_text(cert)} not found in the entry's chain, the store or "
                                     "the trust stores")
        links.append(link)
    return Validation(store.location, entry.label, links, at)


def _issuer_text(cert: x509.Certificate) -> str:
    from keystores.pki.dn import DistinguishedName
    from keystores.pki.shown import ShownCertificate

    name = DistinguishedName.from_der(cert.issuer_der) if isinstance(cert, ShownCertificate) else None
    return (name if name is not None else DistinguishedName.from_x509(cert.issuer)).normalized()


# --- audit -----------------------------------------------------------------------------------------------------
# Store protection, judged from the structured value a backend's protection() returns (model.Protection). A warning
# is protection that can be broken or is absent (anyone can change or read the store); a notice is a deprecated
# algorithm that still resists attack in practice and is what the format's own tool writes by default (JKS's SHA-1
# digest, GSKit's v4 .kdb, JCEKS's MD5/3DES key protection): reported, but no failure under the default
# `fail_on="warning"` (CLI `--fail-on warning`), so a store made by `keystores create` passes `keystores audit`
# (README: "audit").


def _protection_findings(store: KeyStore) -> list[tuple[str, str, Hint]]:
    """(severity, message, what to do) for each weakness of the store's own protection; the remedy is a Hint, so
    the CLI names the command and option and the library the call and keyword."""
    from keystores.model import MODERN_PROFILE_REMEDY

    found: list[tuple[str, str, Hint]] = []
    protection = store.protection()
    stronger = protection.remedy
    # With an empty password (NSS then uses one iteration, as NSS does) the iteration count no longer matters.
    open_to_all = any(part.open_to_all for part in protection.parts.values())
    for name, part in protection.parts.items():
        text = part.text
        if part.open_to_all:
            found.append(("warning", f"{name}: {text}", _SET_A_PASSWORD))
        if part.absent and name == "mac":
            found.append(("warning", "no integrity MAC: anyone can change the file (add a trusted root, swap a "
                          "certificate) without the password, and nothing tells", _REWRITE_WITH_A_PASSWORD))
        elif part.absent:
            found.append(("warning", f"{name}: {text}: anyone who can read the file has the key",
                          MODERN_PROFILE_REMEDY))
        if part.one_iteration and not open_to_all:
            found.append(("warning", f"{name} protected with {text}: one iteration makes each password guess "
                          "nearly free", stronger))
        if part.broken:
            found.append(("warning", f"{name} protected with {text} ({', '.join(sorted(part.broken))} can be "
                          "broken)", stronger))
        elif part.deprecated:
            found.append(("notice", f"{name} protected with {text} ({', '.join(sorted(part.deprecated))} is "
                          "deprecated)", stronger))
    return found


_SET_A_PASSWORD = Hint("; set a password ({})", option="`keystores passwd`", keyword="store.set_password(...)")
_REWRITE_WITH_A_PASSWORD = Hint("; rewrite it with a password ({})", option="`keystores passwd`",
                                keyword="store.set_password(...)")


def audit_store(name: str, store: KeyStore, *, within: dt.timedelta, at: dt.datetime) -> tuple[list[Finding], int]:
    """The findings for one store and how many distinct certificates were looked at."""
    from keystores.pki.certificates import describe, public_key_of, signature_hash, weak_key
    from keystores.pki.chain import is_ca, is_self_signed, issued_by, order_chain

    findings: list[Finding] = []

    def add(label: str | None, check: str, severity: str, message: str, cert: x509.Certificate | None = None,
            hint: Hint | None = None) -> None:
        if cert is None:
            findings.append(Finding(name, label, check, message, severity, hint=hint))
            return
        end = cert.not_valid_after_utc
        findings.append(Finding(name, label, check, message, severity, subject=_subject_text(cert),
                                not_after=end,
                                days_left=(end - at).days, fingerprint=fingerprint(cert)))

    def where(position: int, cert: Any) -> str:
        """How a finding's message starts: naming a chain certificate (described only then: a store without
        findings on its chains needs no DN), nothing for the entry's own."""
        return f"chain certificate {describe(cert)}: " if position else ""

    for severity, message, remedy in _protection_findings(store):
        add(None, "weak-protection", severity, message, hint=remedy)
    entries = list(store.entries())
    counts: dict[str, list[str]] = {}
    for entry in entries:
        counts.setdefault(entry.label.casefold(), []).append(entry.label)
    for labels in counts.values():
        if len(labels) > 1:
            add(labels[0], "duplicate-label", "warning", f"{len(labels)} entries share the label "
                f"({', '.join(repr(x) for x in labels)}); tools that ignore case will see only one")
    chain_of = _chain_lookup(entries)
    chains = [chain_of(entry) for entry in entries]
    all_certs = distinct_certificates(chains)
    seen: set[bytes] = set()
    self_signed: dict[int, bool] = {}  # by id: every certificate stays alive in `chains` while audit_store runs
    horizon = at + within
    for entry, chain in zip(entries, chains, strict=True):
        if entry.kind is EntryKind.REQUEST and entry.request is not None:
            why = weak_key(entry.request.public_key())
            if why:
                add(entry.label, "weak-key", "warning", f"pending request has a {why}")
        for position, cert in enumerate(chain):
            fp = sha256_fingerprint(cert)
            if fp in seen:
                continue
            seen.add(fp)
            end = cert.not_valid_after_utc
            if end is None:  # bytes that are no certificate (keystores.pki.undecoded): nothing else can be checked
                from keystores.pki.undecoded import problem_of

                add(entry.label, "unreadable", "warning",
                    f"{where(position, cert)}cannot be checked: {problem_of(cert)}")
                continue
            if end <= at:
                add(entry.label, "expired", "error", f"{where(position, cert)}expired on {iso_utc(end)}", cert)
            elif end <= horizon:
                days_left = (end - at).days
                add(entry.label, "expiring", "warning",
                    f"{where(position, cert)}expires on {iso_utc(end)} (in {days_left} days)", cert)
            hash_name = signature_hash(cert)
            # Only a CA root is exempt, as browsers exempt trust anchors: nobody verifies its self-signature. A
            # self-signed end-entity certificate (a queue manager's own) is checked by whoever trusts it directly.
            if hash_name in ("md5", "sha1") and not (is_self_signed(cert) and is_ca(cert)):
                add(entry.label, "weak-signature", "error" if hash_name == "md5" else "warning",
                    f"{where(position, cert)}signed with {hash_name.upper()}"
                    + (" (self-signed, not a CA: checked by whoever trusts it)" if is_self_signed(cert) else ""),
                    cert)
            why = _weak_key_of(cert, weak_key, public_key_of)
            if why:
                add(entry.label, "weak-key", "warning", f"{where(position, cert)}{why}", cert)
        if entry.kind is EntryKind.KEY_PAIR and chain:
            # order_chain takes a link only when its names match and its signature verifies: the entry's own links
            # it took are not verified a second time, nor a root shared by many chains (one signature check each)
            path = order_chain(chain[0], [*chain[1:], *all_certs])
            proven = {(id(child), id(parent)) for child, parent in itertools.pairwise(path)}
            for child, parent in itertools.pairwise(chain):
                if (id(child), id(parent)) not in proven and not issued_by(child, parent):
                    add(entry.label, "missing-link", "warning", f"the chain is out of order or broken: "
                        f"{describe(parent)} did not sign {describe(child)}", child)
            top = path[-1]
            if id(top) not in self_signed:
                self_signed[id(top)] = is_self_signed(top)
            if not self_signed[id(top)]:
                add(entry.label, "missing-link", "warning", f"the issuer {_issuer_text(top)} of {describe(top)} is "
                    "in neither the entry's chain nor the store", top)
    findings += same_cn_other_org(name, [(entry.label, chain[0]) for entry, chain in zip(entries, chains, strict=True)
                                         if chain])
    return findings, len(seen)


def _chains_from_der(entries: list[Entry]) -> list[tuple[Any, ...]] | None:
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


_STRONG_KEYS = frozenset({"EC-P256", "EC-P384", "EC-P521", "Ed25519", "Ed448"})


def _weak_key_of(cert: Any, weak_key: Callable[[object], str | None],
                 public_key_of: Callable[[Any], object]) -> str | None:
    """weak_key of the certificate's key: from the key's type and size keystores.pki.shown read from the DER for a
    ShownCertificate of an RSA key or a key at least 256 bits strong (start-up speed: no key loaded, no
    cryptography imported); else of the key cryptography loads."""
    from keystores.pki.shown import ShownCertificate

    if isinstance(cert, ShownCertificate) and cert.shown.key is not None:
        kind, bits = cert.shown.key
        if kind in _STRONG_KEYS:
            return None
        if kind.startswith("RSA-"):
            return f"RSA key of {bits} bits (< 2048)" if bits < 2048 else None
    return weak_key(public_key_of(cert))


def _subject_text(cert: x509.Certificate) -> str:
    """The subject in RFC 4514 as cryptography writes it (the last RDN first)."""
    from keystores.pki.shown import ShownCertificate

    return cert.shown.subject if isinstance(cert, ShownCertificate) else cert.subject.rfc4514_string()


def same_cn_other_org(name: str, leaves: list[tuple[str, x509.Certificate]]) -> list[Finding]:
    """Certificates sharing a CN under different organisations: the MQ web server (off z/OS) takes the client
    certificate's CN as the user id, so `CN=COLIN,O=MY.ORG` and `CN=COLIN,O=YOUR.ORG` log in as one user (IBM MQ
    docs, "Configuring TLS client certificate authentication for the REST API"; spec mq-identity.md). `leaves` are
    the entries' labels with their certificates (of those holding one)."""
    by_cn: dict[str, dict[str, str]] = {}  # CN -> organisation -> first label
    for label, leaf in leaves:
        cns, orgs = _names_of(leaf)
        for cn in cns:
            by_cn.setdefault(cn, {}).setdefault(orgs, label)
    found = []
    for cn, orgs in by_cn.items():
        if len(orgs) > 1:
            listed = ", ".join(f"'{label}' (O={org or '-'})" for org, label in orgs.items())
            found.append(Finding(name, next(iter(orgs.values())), "same-cn", f"{len(orgs)} certificates have CN={cn} "
                                 f"under different organisations: {listed}; the MQ web server maps a client "
                                 "certificate's CN to the user id, so they would log in as the same user"))
    return found


_COMMON_NAME, _ORGANIZATION_NAME = "2.5.4.3", "2.5.4.10"


def _names_of(cert: x509.Certificate) -> tuple[list[str], str]:
    """The subject's common names, and its organisations joined by commas."""
    from keystores.pki.shown import ShownCertificate, name_values

    if isinstance(cert, ShownCertificate):
        subject = cert.subject_der
        return name_values(subject, _COMMON_NAME), ",".join(name_values(subject, _ORGANIZATION_NAME))
    from cryptography.x509.oid import NameOID

    subject = cert.subject
    return ([str(a.value) for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)],
            ",".join(str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)))


CHECKS = ("expired", "expiring", "weak-signature", "weak-key", "weak-protection", "missing-link", "duplicate-label",
          "same-cn", "unreadable")


def audit(stores: Iterable[StoreArg] | Mapping[str, KeyStore | KeystoreError], *, password: str | None = None,
          passwords: Mapping[str, str] | None = None, within: dt.timedelta | str = "30d",
          at: dt.datetime | None = None, skip: Iterable[str] = (), fail_on: str = "warning") -> Audit:
    """Audit many stores of any formats at once: open ones, or locations opened here, each with its own password
    from `passwords` (location -> password) or else `password`. A store that cannot be opened (wrong or missing
    password, damage) becomes an `unreadable` error finding; one that is not there stops the audit (StoreNotFound).
    A caller that opens the stores itself passes a mapping of the name to report each under to its store, or to
    the error that stopped it opening. `skip` names checks not to report (see CHECKS); the audit fails (`ok`
    False) on findings of `fail_on` severity or above."""
    from keystores.pki.when import parse_duration

    skipped = set(skip)
    unknown = skipped - set(CHECKS)
    if unknown:
        raise UsageError(f"unknown check(s) {', '.join(sorted(unknown))}: checks are {', '.join(CHECKS)}")
    if fail_on not in SEVERITIES:
        raise UsageError(f"unknown severity '{fail_on}': use {', '.join(reversed(SEVERITIES))}",
                         hint=parameter("--fail-on", "fail_on"))
    window = parse_duration(within) if isinstance(within, str) else within
    report = Audit(within=window, at=at or dt.datetime.now(dt.UTC), fail_on=fail_on)
    from keystores.lightweight import ExitStack  # (contextlib's, without importing contextlib: start-up speed)

    with ExitStack() as stack:
        named = stores if isinstance(stores, Mapping) else _open_audited(stores, password, passwords or {}, stack)
        _audit_each(report, named, skipped)
    return report


def _open_audited(stores: Iterable[StoreArg], password: str | None, passwords: Mapping[str, str],
                  stack: ExitStack) -> dict[str, KeyStore | KeystoreError]:
    """Each store by its name: opened (or as it was given), or the error that stopped it opening."""
    import os

    from keystores.errors import PasswordRequired

    named: dict[str, KeyStore | KeystoreError] = {}
    for store in stores:
        if not is_location(store):
            named[store.location] = store  # type: ignore[union-attr]
            continue
        location = os.fspath(store)  # type: ignore[arg-type]
        try:
            named[location] = stack.enter_context(using(location, password=passwords.get(location, password)))
        except (NotFound, UsageError):
            raise
        except KeystoreError as exc:
            if isinstance(exc, PasswordRequired):
                exc.hint = password_for(location)
            named[location] = exc
    return named


def password_for(location: str) -> Hint:
    """The hint of an audited store that needs a password of its own."""
    return Hint(" (give {})", option=f"--password-for {location}=SOURCE", keyword=f"passwords={{{location!r}: ...}}")


def _audit_each(report: Audit, stores: Mapping[str, KeyStore | KeystoreError], skipped: set[str]) -> None:
    for name, store in stores.items():
        report.stores += 1
        if isinstance(store, KeystoreError):
            if "unreadable" not in skipped:
                report.findings.append(Finding(name, None, "unreadable", f"cannot open: {store.reason}", "error",
                                               hint=store.hint))
            continue
        found, count = audit_store(name, store, within=report.within, at=report.at)
        report.findings += [f for f in found if f.check not in skipped]
        report.certificates += count
