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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keystores.errors import UsageError

if TYPE_CHECKING:
    from cryptography import x509

# The attribute types an SSLPEER value may use (IBM MQ docs, "IBM MQ rules for SSLPEER values").
SSLPEER_KEYWORDS = {"SERIALNUMBER", "MAIL", "E", "UID", "USERID", "CN", "T", "OU", "DC", "O", "STREET", "L", "ST",
                    "SP", "S", "PC", "C", "UNSTRUCTUREDNAME", "UNSTRUCTUREDADDRESS", "DNQ"}


@dataclass
class Mapping:
    """The commands for one certificate; `notes` say what could not be expressed exactly."""

    subject: str
    issuer: str
    racdcert: str
    sslpeer: str
    chlauth: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"subject": self.subject, "issuer": self.issuer, "racdcert_map": self.racdcert,
                "sslpeer": self.sslpeer, "chlauth": self.chlauth, "notes": list(self.notes)}


def _racf_quote(value: str) -> str:
    return value.replace("'", "''")


def racf_filter(name: x509.Name, notes: list[str], what: str) -> str:
    """RACF's dotted, most-specific-first filter for a certificate name."""
    from keystores.pki.dn import DistinguishedName

    dn = DistinguishedName.from_x509(name)
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
    notes = notes if notes is not None else []
    if not (subject or issuer):
        raise UsageError("a RACF mapping needs the subject filter, the issuer filter or both")
    if not userid or len(userid) > 8:
        raise UsageError(f"'{userid}' is not a RACF user id (1..8 characters)")
    parts = [f"RACDCERT ID({userid.upper()}) MAP"]
    if subject:
        parts.append(f"SDNFILTER('{_racf_quote(racf_filter(cert.subject, notes, 'subject'))}')")
    if issuer:
        parts.append(f"IDNFILTER('{_racf_quote(racf_filter(cert.issuer, notes, 'issuer'))}')")
    if label:
        parts.append(f"WITHLABEL('{_racf_quote(label[:32])}')")
        if len(label) > 32:
            notes.append("RACF labels are at most 32 characters: the label was cut")
    return " ".join(parts)


def sslpeer_value(name: x509.Name, notes: list[str] | None = None) -> str:
    """The SSLPEER value naming exactly this DN (attributes MQ does not list are left out, with a note)."""
    from keystores.pki.dn import DistinguishedName

    notes = notes if notes is not None else []
    parts = []
    for attr in DistinguishedName.from_x509(name).attributes():
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
    notes = notes if notes is not None else []
    parts = [f"SET CHLAUTH({_mqsc_quote(channel)}) TYPE(SSLPEERMAP)",
             f"SSLPEER({_mqsc_quote(sslpeer_value(cert.subject, notes))})"]
    if issuer:
        parts.append(f"SSLCERTI({_mqsc_quote(sslpeer_value(cert.issuer, notes))})")
    parts += ["USERSRC(MAP)", f"MCAUSER({_mqsc_quote(user)})", "ACTION(REPLACE)"]
    return " ".join(parts)


def mapping(cert: x509.Certificate, *, userid: str, channel: str = "*", label: str | None = None) -> Mapping:
    """Every mapping command for one certificate."""
    from keystores.pki.dn import DistinguishedName

    notes: list[str] = []
    racdcert = racdcert_map(cert, userid, label=label, notes=notes)
    sslpeer = sslpeer_value(cert.subject, notes)
    chlauth = chlauth_rule(cert, channel, userid, notes=notes)
    return Mapping(DistinguishedName.from_x509(cert.subject).normalized(),
                   DistinguishedName.from_x509(cert.issuer).normalized(), racdcert, sslpeer, chlauth,
                   list(dict.fromkeys(notes)))
