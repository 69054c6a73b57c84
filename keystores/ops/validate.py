"""Validate, written once against the KeyStore protocol: build one entry's chain through its own chain, the store
and trust stores, and check each link (keystores.ops.audit looks over many stores at once).

Operations raise keystores errors and return results (Validation) whose JSON is documented in the README.
"""

from __future__ import annotations

from keystores.errors import Hint, Naming, Note, UnsupportedFormat, UsageError, spoken
from keystores.frozen import Record
from keystores.lightweight import dates
from keystores.model import Entry, EntryKind
from keystores.ops import StoreArg, on_store, using
from keystores.ops.chains import chain_lookup, issuer_text, signature_hash
from keystores.pki.fingerprints import distinct_certificates, fingerprint, sha256_fingerprint

TYPE_CHECKING = False  # typing is not imported at run time (start-up speed)
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterable
    from typing import Any

    from keystores.store import KeyStore
else:
    dt = dates()  # datetime's classes without the datetime module (start-up speed)

def iso_utc(moment: dt.datetime) -> str:
    """keystores.pki.when's, imported only where a date is written as text (JSON, a problem): a text listing of a
    valid chain prints its dates by format and loads none of pki.when (start-up speed, issue 15)."""
    from keystores.pki.when import iso_utc as written

    return written(moment)


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


# --- validate --------------------------------------------------------------------------------------------------
def _anchors(store: KeyStore, entries: list[Entry], chain_of: Callable[[Entry], tuple[Any, ...]]) -> list[Any]:
    """The certificates a store trusts: its trusted-certificate entries with trust set; in a format without
    trust flags (PEM) every certificate entry of its own (a key pair's chain is never trusted by being there).
    `entries` are the store's, `chain_of` gives each one's chain."""
    no_flags = not store.capabilities.trust
    in_chains = {c for e in entries if e.kind is EntryKind.KEY_PAIR for c in chain_of(e)[1:]}  # PEM lists them too
    return [chain_of(e)[0] for e in entries if e.kind.is_certificate and chain_of(e)
            and (e.trust is not None or (no_flags and chain_of(e)[0] not in in_chains))]


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
    from keystores.pki.chain import is_ca, is_self_signed, may_sign_certificates, order_chain
    from keystores.pki.dn import describe

    at = at or dt.datetime.now(dt.UTC)
    entry = store.get(label)
    held = [(one, list(one.entries())) for one in (store, *trust_stores)]
    chain_of = chain_lookup([entry, *(e for _, entries in held for e in entries)])
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
        link = Link(describe(cert), issuer_text(cert), cert.not_valid_before_utc, cert.not_valid_after_utc,
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
                link.problems.append(f"issuer {issuer_text(cert)} not found in the entry's chain, the store or "
                                     "the trust stores")
        links.append(link)
    return Validation(store.location, entry.label, links, at)
