"""Whether a DN written in an AMS policy names a certificate, and if not, why not.

AMS's rules (IBM MQ docs, "setmqspl (set security policy)" and "SET POLICY": "The attribute names for DNs must be
provided in capital letters. Commas must be used as a name separator."; the spec mq-identity.md): blanks around
parts are not significant, blanks inside values are, values are case-sensitive, the parts stand in the
certificate's order. We therefore match on keystores.pki.dn's normal form (upper-case names, commas, padding
dropped, values and order kept) and additionally refuse lower-case attribute names in the policy's text, which
the normal form would hide. A certificate's subject is rendered with the keywords GSKit and MQ print (ST, E, ...):
a policy that writes S=, SP= or EMAIL= for them names "another keyword for the same attribute" and is reported so.
"""

from __future__ import annotations

from keystores.errors import UsageError
from keystores.frozen import FrozenValue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cryptography import x509

_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_NAME_CHARACTERS = _LETTERS | frozenset("0123456789-")


def attribute_names(text: str) -> list[str]:
    r"""The attribute names a DN's text writes: re.findall(r"(?:^|(?<=[,;+]))\s*([A-Za-z][A-Za-z0-9-]*)\s*=",
    text) without `re` (start-up of every AMS command, issue 15; tests/test_ams_policy_lean.py holds it to the
    pattern). A name can start only at the beginning or just after ',', ';' or '+', none of which a match holds."""
    found = []
    for start in [0, *(at + 1 for at, char in enumerate(text) if char in ",;+")]:
        at = start
        while at < len(text) and text[at].isspace():
            at += 1
        name_start = at
        if at < len(text) and text[at] in _LETTERS:
            at += 1
            while at < len(text) and text[at] in _NAME_CHARACTERS:
                at += 1
            name_end = at
            while at < len(text) and text[at].isspace():
                at += 1
            if at < len(text) and text[at] == "=":
                found.append(text[name_start:name_end])
    return found


def certificate_dn(cert: x509.Certificate) -> str:
    """The subject as AMS compares it: `CN=x,O=y,C=GB`, most specific part first (read from the DER of a
    certificate held as DER, as keystores.pki.dn.describe reads it)."""
    from keystores.pki.dn import DistinguishedName
    from keystores.pki.encoded import EncodedCertificate

    name = DistinguishedName.from_der(cert.subject_der) if isinstance(cert, EncodedCertificate) else None
    if name is None:
        name = DistinguishedName.from_x509(cert.subject)
    return name.normalized()


def lower_case_names(text: str) -> list[str]:
    """The attribute names a policy DN writes in lower or mixed case (AMS needs upper case)."""
    return [name for name in attribute_names(text) if name != name.upper()]


def semicolon_separated(text: str) -> bool:
    """Parts separated by ';' only (AMS needs commas)."""
    return ";" in text and "," not in text


def policy_dn(text: str) -> str | None:
    """The normal form of a policy DN, or None when AMS could match nothing with it (bad syntax, lower-case
    attribute names, ';' separators)."""
    from keystores.pki.dn import parse_dn

    if lower_case_names(text) or semicolon_separated(text):
        return None
    try:
        parsed = parse_dn(text)
    except UsageError:
        return None
    if "," not in text and len(parsed.rdns) > 1:
        return None  # RACF's dotted form: keystores reads it, AMS does not
    return parsed.normalized()


def matches(text: str, cert: x509.Certificate) -> bool:
    normal = policy_dn(text)
    return normal is not None and normal == certificate_dn(cert)


def differences(text: str, cert_dn: str) -> list[str]:
    """Each reason the policy DN `text` is not the certificate's DN `cert_dn`, in words; harmless differences
    (blanks around parts) are said to be harmless."""
    from keystores.pki.dn import compare, parse_dn

    reasons: list[str] = []
    lower = lower_case_names(text)
    if lower:
        reasons.append(f"attribute-name case: the policy writes {', '.join(lower)}; AMS needs "
                       f"{', '.join(n.upper() for n in lower)}")
    if semicolon_separated(text):
        reasons.append("separator: the policy separates parts with ';'; AMS needs ','")
    try:
        parsed = parse_dn(text)
    except UsageError as exc:
        return [*reasons, f"syntax: {exc.reason}"]
    if "," not in text and ";" not in text and len(parsed.rdns) > 1:
        reasons.append("form: written in RACF's dotted form; AMS needs commas between the parts")
    result = compare(text, cert_dn)
    cert = parse_dn(cert_dn)
    mine = [a.oid for a in parsed.attributes()]
    theirs = [a.oid for a in cert.attributes()]
    if mine != theirs and list(reversed(mine)) == theirs:
        reasons.append("order: the parts are reversed (root first, as openssl prints it); AMS needs the "
                       f"certificate's order: {cert_dn}")
    for reason in result.reasons:
        kind, _, rest = reason.partition(": ")
        if kind == "order" and any(r.startswith("order") for r in reasons):
            continue
        if kind == "keyword":
            import re  # here: explaining a difference only

            written = re.match(r"A writes (\S+), B writes (\S+)", rest)
            mine_kw, theirs_kw = written.groups() if written else ("?", "?")
            reasons.append(f"keyword: the policy writes {mine_kw}= where the certificate has {theirs_kw}= (the same "
                           "attribute, another keyword: AMS compares the text)")
        elif kind == "grouping":
            reasons.append("multi-valued part: the certificate groups parts with '+' (one RDN); write them joined "
                           f"with '+' as {cert_dn}")
        elif kind == "missing":
            part = rest.split(" no ", 1)[1].split(" (", 1)[0]
            if "(B has it)" in rest:
                reasons.append(f"missing part: the policy lacks {part}, which the certificate has")
            else:
                reasons.append(f"extra part: the policy has {part}, which the certificate lacks")
        else:
            reasons.append(f"{kind}: {rest}".replace(" in A", " in the policy").replace(" in B",
                                                                                        " in the certificate"))
    normal = parsed.normalized()
    if normal == cert.normalized() and text.strip() != normal and not reasons:
        reasons.append("blanks: only the blanks around parts differ (harmless: AMS ignores them)")
    return reasons


class Near(FrozenValue):
    """A certificate close to a policy DN: where it is, its DN and why it differs."""

    _fields = ("label", "dn", "reasons")

    def __init__(self, label: str, dn: str, reasons: tuple[str, ...]) -> None:
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "dn", dn)
        object.__setattr__(self, "reasons", reasons)

    def as_dict(self) -> dict[str, object]:
        return {"label": self.label, "dn": self.dn, "reasons": list(self.reasons)}


def nearest(text: str, candidates: list[tuple[str, x509.Certificate]], *, limit: int = 3) -> list[Near]:
    """The certificates whose DNs share most with `text` (values compared without case and blanks), each with
    the reasons it differs; none when nothing but a country or domain component is shared."""
    from keystores.pki.dn import parse_dn

    try:
        wanted = {(a.oid, _fold(a.value)) for a in parse_dn(text).attributes()}
    except UsageError:
        return []
    scored = []
    for label, cert in candidates:
        dn = certificate_dn(cert)
        try:
            have = {(a.oid, _fold(a.value)) for a in parse_dn(dn).attributes()}
        except UsageError:
            continue
        common = len({pair for pair in wanted & have if pair[0] not in _WIDE})
        if common:
            scored.append((-common, len(wanted ^ have), label, dn))
    scored.sort()
    return [Near(label, dn, tuple(differences(text, dn))) for _, _, label, dn in scored[:limit]]


_WIDE = {"2.5.4.6", "0.9.2342.19200300.100.1.25"}  # C and DC: shared by too many certificates to make one near


def _fold(value: str) -> str:
    return "".join(value.split()).casefold()
