"""How a certificate becomes an MQ identity: the RACF certificate name filter (z/OS), the SSLPEER value and the
CHLAUTH SSLPEERMAP rule that match it (channels).

- z/OS Security Server RACF Command Language Reference, "RACDCERT MAP": `RACDCERT ID(userid) MAP
  SDNFILTER('subject') IDNFILTER('issuer') WITHLABEL('label')`; filters are written most specific part first
  with a dot between parts (`CN=ADCDC.O=cpwebuser.C=GB`), either may be given alone, and take effect after
  `SETROPTS RACLIST(DIGTNMAP) REFRESH` when that class is RACLISTed.
- IBM MQ docs, "IBM MQ rules for SSLPEER values": parts separated by commas, attribute names in upper case from
  IBM's list, values compared without regard to case, a value with a comma or other special character in double
  quotes; "SET CHLAUTH": `SET CHLAUTH('chl') TYPE(SSLPEERMAP) SSLPEER('..') SSLCERTI('..') USERSRC(MAP)
  MCAUSER('user')`.
"""

from __future__ import annotations

from keystores.errors import UsageError
from keystores.frozen import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cryptography import x509

    from keystores.model import Entry
    from keystores.pki.dn import DistinguishedName

# The attribute types an SSLPEER value may use (IBM MQ docs, "IBM MQ rules for SSLPEER values").
SSLPEER_KEYWORDS = {"SERIALNUMBER", "MAIL", "E", "UID", "USERID", "CN", "T", "OU", "DC", "O", "STREET", "L", "ST",
                    "SP", "S", "PC", "C", "UNSTRUCTUREDNAME", "UNSTRUCTUREDADDRESS", "DNQ"}


class Mapping(Record):
    """The commands for one certificate; `notes` say what could not be expressed exactly."""

    _fields = ("subject", "issuer", "racdcert", "sslpeer", "chlauth", "notes")

    def __init__(self, subject: str, issuer: str, racdcert: str, sslpeer: str, chlauth: str,
                 notes: list[str] | None = None) -> None:
        self.subject = subject
        self.issuer = issuer
        self.racdcert = racdcert
        self.sslpeer = sslpeer
        self.chlauth = chlauth
        self.notes: list[str] = [] if notes is None else notes

    def as_dict(self) -> dict[str, object]:
        return {"subject": self.subject, "issuer": self.issuer, "racdcert_map": self.racdcert,
                "sslpeer": self.sslpeer, "chlauth": self.chlauth, "notes": list(self.notes)}


def _racf_quote(value: str) -> str:
    return value.replace("'", "''")


def racf_filter(name: x509.Name, notes: list[str], what: str) -> str:
    """RACF's dotted, most-specific-first filter for a certificate name."""
    return _racf_filter(_dn(name), notes, what)


def _racf_filter(dn: DistinguishedName, notes: list[str], what: str) -> str:
    dotted = [a for a in dn.attributes() if "." in a.value]
    if dotted:
        notes.append(f"{what}: {', '.join(a.text() for a in dotted)} holds a dot, which RACF reads as a part "
                     "separator: check the mapping with RACDCERT LISTMAP")
    if any(len(rdn) > 1 for rdn in dn.rdns):
        notes.append(f"{what}: a multi-valued part ('+') is written as separate parts")
    return dn.racf().replace("+", ".")


def racdcert_map(cert: x509.Certificate, userid: str, *, label: str | None = None, subject: bool = True,
                 issuer: bool = True, notes: list[str] | None = None) -> str:
    """`RACDCERT ID(userid) MAP SDNFILTER(..) IDNFILTER(..) WITHLABEL(..)` matching `cert`."""
    return _racdcert(_dn(cert.subject), _dn(cert.issuer), userid, label=label, subject=subject, issuer=issuer,
                     notes=notes)


def _racdcert(subject_dn: DistinguishedName, issuer_dn: DistinguishedName, userid: str, *, label: str | None,
              subject: bool = True, issuer: bool = True, notes: list[str] | None = None) -> str:
    notes = notes if notes is not None else []
    if not (subject or issuer):
        raise UsageError("a RACF mapping needs the subject filter, the issuer filter or both")
    if not userid or len(userid) > 8:
        raise UsageError(f"'{userid}' is not a RACF user id (1..8 characters)")
    parts = [f"RACDCERT ID({userid.upper()}) MAP"]
    if subject:
        parts.append(f"SDNFILTER('{_racf_quote(_racf_filter(subject_dn, notes, 'subject'))}')")
    if issuer:
        parts.append(f"IDNFILTER('{_racf_quote(_racf_filter(issuer_dn, notes, 'issuer'))}')")
    if label:
        parts.append(f"WITHLABEL('{_racf_quote(label[:32])}')")
        if len(label) > 32:
            notes.append("RACF labels are at most 32 characters: the label was cut")
    return " ".join(parts)


def sslpeer_value(name: x509.Name, notes: list[str] | None = None) -> str:
    """The SSLPEER value naming exactly this DN (attributes MQ does not list are left out, with a note)."""
    return _sslpeer(_dn(name), notes)


def _sslpeer(dn: DistinguishedName, notes: list[str] | None = None) -> str:
    notes = notes if notes is not None else []
    parts = []
    for attr in dn.attributes():
        if attr.keyword not in SSLPEER_KEYWORDS:
            notes.append(f"SSLPEER cannot name {attr.keyword}={attr.value}: left out")
            continue
        value = attr.value
        if any(c in value for c in ',;="+<>#') or value != value.strip():
            value = '"' + value.replace('"', '\\"') + '"'
        parts.append(f"{attr.keyword}={value}")
    return ",".join(parts)


def _mqsc_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def chlauth_rule(cert: x509.Certificate, channel: str, user: str, *, issuer: bool = True,
                 notes: list[str] | None = None) -> str:
    """`SET CHLAUTH(..) TYPE(SSLPEERMAP)` mapping this certificate (and its issuer) to `user`."""
    return _chlauth(_dn(cert.subject), _dn(cert.issuer) if issuer else None, channel, user, notes=notes)


def _chlauth(subject_dn: DistinguishedName, issuer_dn: DistinguishedName | None, channel: str, user: str, *,
             notes: list[str] | None = None) -> str:
    notes = notes if notes is not None else []
    parts = [f"SET CHLAUTH({_mqsc_quote(channel)}) TYPE(SSLPEERMAP)",
             f"SSLPEER({_mqsc_quote(_sslpeer(subject_dn, notes))})"]
    if issuer_dn is not None:
        parts.append(f"SSLCERTI({_mqsc_quote(_sslpeer(issuer_dn, notes))})")
    parts += ["USERSRC(MAP)", f"MCAUSER({_mqsc_quote(user)})", "ACTION(REPLACE)"]
    return " ".join(parts)


def mapping(cert: x509.Certificate, *, userid: str, channel: str = "*", label: str | None = None) -> Mapping:
    """Every mapping command for one certificate."""
    return _mapping(_dn(cert.subject), _dn(cert.issuer), userid=userid, channel=channel, label=label)


def entry_mapping(entry: Entry, *, userid: str, channel: str = "*") -> Mapping:
    """mapping() of an entry's certificate, labelled with the entry's label. Its names are read from the DER its
    backend still holds when keystores.pki.shown reads the certificate (cryptography then decodes it fully and reads
    the same names: tests/test_ams_identity_lean.py), so that `keystores ams map` imports no cryptography.x509 (start-up
    speed, issue 15); else from cryptography's certificate, as before."""
    from keystores.pki.dn import DistinguishedName

    leaf = entry.undecoded_leaf
    if leaf is not None:
        from keystores.pki.shown import ShownCertificate, read_shown

        shown = read_shown(leaf)
        if shown is not None:
            cert = ShownCertificate(leaf, shown)
            subject, issuer = DistinguishedName.from_der(cert.subject_der), DistinguishedName.from_der(cert.issuer_der)
            if subject is not None and issuer is not None:
                return _mapping(subject, issuer, userid=userid, channel=channel, label=entry.label)
    if not entry.chain:
        raise UsageError("has no certificate to map", label=entry.label)
    return mapping(entry.chain[0], userid=userid, channel=channel, label=entry.label)


def _mapping(subject: DistinguishedName, issuer: DistinguishedName, *, userid: str, channel: str,
             label: str | None) -> Mapping:
    notes: list[str] = []
    racdcert = _racdcert(subject, issuer, userid, label=label, notes=notes)
    sslpeer = _sslpeer(subject, notes)
    chlauth = _chlauth(subject, issuer, channel, userid, notes=notes)
    return Mapping(subject.normalized(), issuer.normalized(), racdcert, sslpeer, chlauth, list(dict.fromkeys(notes)))


def _dn(name: x509.Name) -> DistinguishedName:
    from keystores.pki.dn import DistinguishedName

    return DistinguishedName.from_x509(name)
