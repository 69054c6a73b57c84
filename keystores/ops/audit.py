"""Audit, written once against the KeyStore protocol: look over many stores of any formats at once for expired and
expiring certificates, weak signatures, keys and store protection, missing chain links, duplicate labels and shared
CNs. `validate` (one entry's chain against the store and trust stores) is keystores.ops.validate's, and is found
here as well, as are its results.

Operations raise keystores errors and return results (Audit) whose JSON is documented in the README.
"""

from __future__ import annotations

import itertools
from _collections_abc import Mapping  # collections.abc's own; importing collections.abc imports collections

from keystores.errors import (
    Hint,
    KeystoreError,
    Naming,
    NotFound,
    UsageError,
    parameter,
)
from keystores.frozen import FrozenValue, Record
from keystores.lightweight import dates
from keystores.model import EntryKind
from keystores.ops import StoreArg, is_location, using
from keystores.ops.chains import chain_lookup, issuer_text, signature_hash
from keystores.pki.fingerprints import distinct_certificates, fingerprint, sha256_fingerprint

TYPE_CHECKING = False  # typing is not imported at run time (start-up speed)
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable
    from typing import Any

    from cryptography import x509

    from keystores.lightweight import ExitStack
    from keystores.store import KeyStore
else:
    dt = dates()  # datetime's classes without the datetime module (start-up speed)


def iso_utc(moment: dt.datetime) -> str:
    """keystores.pki.when's, imported only where a date is written as text (JSON, a finding about a certificate's
    end): an audit with the default window and no such finding loads none of pki.when (start-up speed, issue 15)."""
    from keystores.pki.when import iso_utc as written

    return written(moment)


# --- results ---------------------------------------------------------------------------------------------------
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
_DEFAULT_WITHIN = "30d"  # _MONTH as the CLI's --within and audit()'s `within` write it


def window_of(within: str) -> dt.timedelta:
    """A window as `--within` writes it (keystores.pki.when.parse_duration), the default one known without
    importing that module (start-up speed: audit parses its window on every run)."""
    if within == _DEFAULT_WITHIN:
        return _MONTH
    from keystores.pki.when import parse_duration

    return parse_duration(within)


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
        return f"chain certificate {_describe(cert)}: " if position else ""

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
    chain_of = chain_lookup(entries)
    chains = [chain_of(entry) for entry in entries]
    all_certs = distinct_certificates(chains)
    seen: set[bytes] = set()
    self_signed: dict[int, bool] = {}  # by id: every certificate stays alive in `chains` while audit_store runs
    horizon = at + within
    for entry, chain in zip(entries, chains, strict=True):
        if entry.kind is EntryKind.REQUEST and entry.request is not None:
            from keystores.pki.certificates import weak_key

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
            why = _weak_key_of(cert)
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
                        f"{_describe(parent)} did not sign {_describe(child)}", child)
            top = path[-1]
            if id(top) not in self_signed:
                self_signed[id(top)] = is_self_signed(top)
            if not self_signed[id(top)]:
                add(entry.label, "missing-link", "warning", f"the issuer {issuer_text(top)} of {_describe(top)} is "
                    "in neither the entry's chain nor the store", top)
    findings += same_cn_other_org(name, [(entry.label, chain[0]) for entry, chain in zip(entries, chains, strict=True)
                                         if chain])
    return findings, len(seen)


_STRONG_KEYS = frozenset({"EC-P256", "EC-P384", "EC-P521", "Ed25519", "Ed448"})


def _weak_key_of(cert: Any) -> str | None:
    """weak_key of the certificate's key: from the key's type and size keystores.pki.shown read from the DER for a
    ShownCertificate of an RSA key or a key at least 256 bits strong (start-up speed: no key loaded, no
    cryptography imported, nor keystores.pki.certificates); else of the key cryptography loads."""
    from keystores.pki.shown import ShownCertificate

    if isinstance(cert, ShownCertificate) and cert.shown.key is not None:
        kind, bits = cert.shown.key
        if kind in _STRONG_KEYS:
            return None
        if kind.startswith("RSA-"):
            return f"RSA key of {bits} bits (< 2048)" if bits < 2048 else None
    from keystores.pki.certificates import public_key_of, weak_key

    return weak_key(public_key_of(cert))


def _describe(cert: Any) -> str:
    """keystores.pki.dn.describe, imported only when a finding names a certificate: an audit without findings on
    its chains loads none of keystores.pki.dn (start-up speed, issue 15)."""
    from keystores.pki.dn import describe as described

    return described(cert)


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
          passwords: Mapping[str, str] | None = None, within: dt.timedelta | str = _DEFAULT_WITHIN,
          at: dt.datetime | None = None, skip: Iterable[str] = (), fail_on: str = "warning") -> Audit:
    """Audit many stores of any formats at once: open ones, or locations opened here, each with its own password
    from `passwords` (location -> password) or else `password`. A store that cannot be opened (wrong or missing
    password, damage) becomes an `unreadable` error finding; one that is not there stops the audit (StoreNotFound).
    A caller that opens the stores itself passes a mapping of the name to report each under to its store, or to
    the error that stopped it opening. `skip` names checks not to report (see CHECKS); the audit fails (`ok`
    False) on findings of `fail_on` severity or above."""
    skipped = set(skip)
    unknown = skipped - set(CHECKS)
    if unknown:
        raise UsageError(f"unknown check(s) {', '.join(sorted(unknown))}: checks are {', '.join(CHECKS)}")
    if fail_on not in SEVERITIES:
        raise UsageError(f"unknown severity '{fail_on}': use {', '.join(reversed(SEVERITIES))}",
                         hint=parameter("--fail-on", "fail_on"))
    window = window_of(within) if isinstance(within, str) else within
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


def __getattr__(name: str) -> object:
    """validate and its results, where they were before they had a module of their own: validate's command loads
    keystores.ops.validate alone, not audit's module as well (start-up speed, issue 15)."""
    if name in ("validate", "Link", "Validation", "VALIDATE_SCHEMA"):
        from keystores.ops import validate

        return getattr(validate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
