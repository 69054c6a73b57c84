"""Distinguished names as admins write them: RFC 4514 / IBM MQ ("CN=x,O=y,C=GB"), RACF's dotted form
("CN=x.O=y.C=GB") and openssl's slash form ("/C=GB/O=y/CN=x"); normalising and comparing them the way MQ AMS
policies need.

A parsed DN keeps the *written* order, most specific part first (RFC 4514 order); `to_x509()` reverses it into
the ASN.1 order a certificate holds. The normal form upper-cases attribute names, separates parts with commas,
drops the padding blanks around parts and keeps blanks inside values and the case of values.
"""

from __future__ import annotations

from keystores.errors import UsageError
from keystores.frozen import FrozenValue

TYPE_CHECKING = False  # typing is not imported at run time (start-up speed)
if TYPE_CHECKING:
    from cryptography import x509

# keyword -> OID. The first keyword listed for an OID is the one used when a DN is read from a certificate.
KEYWORDS: dict[str, str] = {
    "CN": "2.5.4.3",
    "SN": "2.5.4.4", "SURNAME": "2.5.4.4",
    "SERIALNUMBER": "2.5.4.5",
    "C": "2.5.4.6",
    "L": "2.5.4.7",
    "ST": "2.5.4.8", "S": "2.5.4.8", "SP": "2.5.4.8",
    "STREET": "2.5.4.9",
    "O": "2.5.4.10",
    "OU": "2.5.4.11",
    "T": "2.5.4.12", "TITLE": "2.5.4.12",
    "PC": "2.5.4.17", "POSTALCODE": "2.5.4.17",
    "GIVENNAME": "2.5.4.42", "G": "2.5.4.42", "GN": "2.5.4.42",
    "INITIALS": "2.5.4.43",
    "GENERATIONQUALIFIER": "2.5.4.44",
    "DNQ": "2.5.4.46", "DNQUALIFIER": "2.5.4.46",
    "PSEUDONYM": "2.5.4.65",
    "DC": "0.9.2342.19200300.100.1.25",
    "UID": "0.9.2342.19200300.100.1.1", "USERID": "0.9.2342.19200300.100.1.1",
    "E": "1.2.840.113549.1.9.1", "EMAIL": "1.2.840.113549.1.9.1", "EMAILADDRESS": "1.2.840.113549.1.9.1",
    "MAIL": "1.2.840.113549.1.9.1",
    "UNSTRUCTUREDNAME": "1.2.840.113549.1.9.2",
    "UNSTRUCTUREDADDRESS": "1.2.840.113549.1.9.8",
}
_CANONICAL: dict[str, str] = {}
for _kw, _oid in KEYWORDS.items():
    _CANONICAL.setdefault(_oid, _kw)

# What cryptography's NameAttribute checks and which string type it writes (cryptography.x509.name), for to_der.
_LENGTH_LIMITS = {"2.5.4.6": (2, 2), "1.3.6.1.4.1.311.60.2.1.3": (2, 2), "2.5.4.3": (1, 64)}
_STRING_TAGS = {"2.5.4.6": 0x13, "1.3.6.1.4.1.311.60.2.1.3": 0x13, "2.5.4.5": 0x13, "2.5.4.46": 0x13,
                "1.2.840.113549.1.9.1": 0x16, "0.9.2342.19200300.100.1.25": 0x16}
_OID_RE = r"(?i)^(?:OID\.)?([0-2](?:\.\d+)+)$"  # compiled (and cached by re) when a DN names an OID
_SPECIAL = set(',+"\\<>;')


# The value classes are keystores.frozen's, not dataclasses: certreq, sign and receive parse and write DNs, and
# dataclasses (with inspect) cost them ~10 ms of start-up (bench/bench_core.py "start-up: keystores certreq").
class Attribute(FrozenValue):
    """One `KEYWORD=value` part. `keyword` is upper-cased as written (ST and SP stay distinct spellings)."""

    keyword: str
    oid: str
    value: str
    _fields = ("keyword", "oid", "value")

    def __init__(self, keyword: str, oid: str, value: str) -> None:
        init = object.__setattr__
        init(self, "keyword", keyword)
        init(self, "oid", oid)
        init(self, "value", value)

    def text(self, *, escape: bool = True) -> str:
        return f"{self.keyword}={escape_value(self.value) if escape else self.value}"


class DistinguishedName(FrozenValue):
    """A DN in written order (most specific first); each RDN is a tuple of attributes (usually one). `source` is
    the text it was parsed from, for messages; it takes no part in equality."""

    rdns: tuple[tuple[Attribute, ...], ...]
    source: str
    _fields = ("rdns", "source")

    def __init__(self, rdns: tuple[tuple[Attribute, ...], ...], source: str = "") -> None:
        object.__setattr__(self, "rdns", rdns)
        object.__setattr__(self, "source", source)

    def _values(self) -> tuple[object, ...]:  # what == and hash() compare: not `source`
        return (self.rdns,)

    def __str__(self) -> str:
        return self.normalized()

    def attributes(self) -> list[Attribute]:
        return [attr for rdn in self.rdns for attr in rdn]

    def normalized(self) -> str:
        """`CN=x,O=y,C=GB`: the form MQ and AMS policies want."""
        return ",".join("+".join(a.text() for a in rdn) for rdn in self.rdns)

    def racf(self) -> str:
        """RACF's dotted, CN-first form: `CN=ADCDC.O=cpwebuser.C=GB`.

        A DN written root first (C=GB,O=x,CN=y, as openssl prints it) is turned round so that the CN leads.
        """
        rdns = list(self.rdns)
        first_has_cn = any(a.oid == "2.5.4.3" for a in rdns[0]) if rdns else False
        last_has_cn = any(a.oid == "2.5.4.3" for a in rdns[-1]) if rdns else False
        if last_has_cn and not first_has_cn:
            rdns.reverse()
        return ".".join("+".join(a.text(escape=False) for a in rdn) for rdn in rdns)

    def to_x509(self) -> x509.Name:
        """The cryptography Name (ASN.1 order: the last written part first)."""
        from cryptography import x509
        from cryptography.x509.oid import ObjectIdentifier

        try:
            rdns = [x509.RelativeDistinguishedName([x509.NameAttribute(ObjectIdentifier(a.oid), a.value)
                                                    for a in rdn]) for rdn in reversed(self.rdns)]
            return x509.Name(rdns)
        except ValueError as exc:
            raise UsageError(f"DN '{self.source or self.normalized()}' cannot go into a certificate: {exc}") from exc

    def to_der(self) -> bytes:
        """The Name's DER exactly as cryptography encodes `to_x509()` (UTF8String, PrintableString for C,
        serialNumber and dnQualifier, IA5String for e-mail and DC; a multi-valued RDN's SET sorted), written with
        keystores.crypto.der: certreq, sign and receive build requests and certificates without importing
        cryptography.x509, for start-up speed (bench/bench_core.py "start-up: keystores certreq"); judged
        against to_x509() in tests/test_builder_der.py."""
        from keystores.crypto import der

        rdns = []
        for rdn in reversed(self.rdns):
            attributes = []
            for attribute in rdn:
                length_limits = _LENGTH_LIMITS.get(attribute.oid)
                size = len(attribute.value.encode("utf-8"))
                if length_limits is not None and not length_limits[0] <= size <= length_limits[1]:
                    self._refuse(f"Attribute's length must be >= {length_limits[0]} and <= {length_limits[1]}, "
                                 f"but it was {size}")
                tag = _STRING_TAGS.get(attribute.oid, 0x0C)
                if tag == 0x16 and not attribute.value.isascii():
                    self._refuse("Name attribute value must be a valid IA5String")
                value = der.tlv(tag, attribute.value.encode("utf-8"))
                attributes.append(der.sequence(der.oid(attribute.oid), value))
            rdns.append(der.tlv(0x31, b"".join(sorted(attributes))))
        return der.sequence(*rdns)

    def _refuse(self, why: str) -> None:
        raise UsageError(f"DN '{self.source or self.normalized()}' cannot go into a certificate: {why}")

    @classmethod
    def from_der(cls, name: bytes) -> DistinguishedName | None:
        """from_x509 of a Name's DER without cryptography.x509 (start-up speed: sign names the certificate it
        wrote), for attribute values in the string types cryptography reads as text; None for anything else (a
        BIT STRING value, malformed DER), which the caller leaves to from_x509."""
        from keystores.pki.encoded import name_rdns

        codecs = {0x0C: "utf-8", 0x12: "utf-8", 0x13: "utf-8", 0x14: "latin-1", 0x16: "utf-8", 0x1A: "utf-8",
                  0x1C: "utf-32-be", 0x1E: "utf-16-be"}
        try:
            rdns = [tuple(Attribute(_CANONICAL.get(oid, oid), oid, value.decode(codecs[tag]))
                          for oid, tag, value in rdn) for rdn in name_rdns(name)]
        except (ValueError, KeyError):  # DerError and UnicodeDecodeError are ValueErrors
            return None
        return cls(tuple(reversed(rdns)))

    @classmethod
    def from_x509(cls, name: x509.Name) -> DistinguishedName:
        rdns = []
        for rdn in reversed(list(name.rdns)):
            attrs = []
            for attr in rdn:
                oid = attr.oid.dotted_string
                value = attr.value if isinstance(attr.value, str) else "#" + bytes(attr.value).hex()
                attrs.append(Attribute(_CANONICAL.get(oid, oid), oid, value))
            rdns.append(tuple(attrs))
        return cls(tuple(rdns))


def describe(cert: x509.Certificate) -> str:
    """The subject in the MQ/RFC 4514 form."""
    from keystores.pki.encoded import EncodedCertificate

    name = None
    if isinstance(cert, EncodedCertificate):  # from its DER where the names are in the usual forms
        name = DistinguishedName.from_der(cert.subject_der)
    if name is None:
        name = DistinguishedName.from_x509(cert.subject)
    return name.normalized() or "(empty subject)"


def escape_value(value: str) -> str:
    """RFC 4514 escaping: specials always, a leading '#' or blank and a trailing blank."""
    out = []
    for index, char in enumerate(value):
        if char in _SPECIAL or (index == 0 and char in "# ") or (index == len(value) - 1 and char == " "):
            out.append("\\" + char)
        elif ord(char) < 0x20:
            out.append(f"\\{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def _resolve_keyword(raw: str, text: str) -> tuple[str, str]:
    keyword = raw.strip()
    if not keyword:
        raise UsageError(f"bad DN '{text}': a part has no attribute name before '='")
    upper = keyword.upper()
    if upper in KEYWORDS:
        return upper, KEYWORDS[upper]
    import re  # here: a DN of known keywords, or one read from a certificate, needs no re (start-up speed)

    match = re.match(_OID_RE, keyword)
    if match:
        oid = match.group(1)
        return _CANONICAL.get(oid, oid), oid
    known = ", ".join(sorted({k for k in KEYWORDS if len(k) <= 3}))
    raise UsageError(f"bad DN '{text}': unknown attribute '{keyword}' (known: {known}, or a dotted OID)")


def _decode_hex_value(hex_text: str, text: str) -> str:
    """A `#04..` BER value: keep a string's text, else the `#hex` form."""
    try:
        raw = bytes.fromhex(hex_text)
    except ValueError as exc:
        raise UsageError(f"bad DN '{text}': '#{hex_text}' is not a hex BER value") from exc
    try:
        from asn1crypto import core

        parsed = core.load(raw)
        native = parsed.native
        if isinstance(native, str):
            return native
    except Exception:  # any undecodable BER stays in its #hex form, which is still a valid value
        pass
    return "#" + hex_text.lower()


def _parse_rfc4514(text: str, separators: str) -> list[list[tuple[str, str]]]:
    """Split into RDNs of (keyword, value) honouring quotes and backslash escapes; padding blanks dropped."""
    rdns: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        # attribute type
        eq = i
        while eq < n and text[eq] != "=":
            if text[eq] in separators or text[eq] == "+":
                raise UsageError(f"bad DN '{text}': part '{text[i:eq + 1].strip()}' has no '='")
            eq += 1
        if eq >= n:
            raise UsageError(f"bad DN '{text}': part '{text[i:].strip()}' has no '='")
        keyword = text[i:eq]
        i = eq + 1
        while i < n and text[i] == " ":
            i += 1
        if i < n and text[i] == '"':
            value, i = _read_quoted(text, i)
        elif i < n and text[i] == "#":
            j = i + 1
            while j < n and text[j] not in separators and text[j] != "+":
                j += 1
            value = _decode_hex_value(text[i + 1:j].strip(), text)
            i = j
        else:
            value, i = _read_plain(text, i, separators)
        current.append((keyword, value))
        if i < n and text[i] == "+":
            i += 1
            continue
        rdns.append(current)
        current = []
        if i < n:  # a separator
            i += 1
            while i < n and text[i] == " ":
                i += 1
            if i >= n:
                raise UsageError(f"bad DN '{text}': it ends with a separator")
    if current:
        rdns.append(current)
    return rdns


def _read_quoted(text: str, i: int) -> tuple[str, int]:
    """A `"..."` value starting at text[i]; returns the value and the index after the trailing blanks."""
    n = len(text)
    chars: list[str] = []
    i += 1
    while i < n and text[i] != '"':
        if text[i] == "\\" and i + 1 < n:
            i += 1
        chars.append(text[i])
        i += 1
    if i >= n:
        raise UsageError(f"bad DN '{text}': a quoted value is not closed")
    i += 1
    while i < n and text[i] == " ":
        i += 1
    return "".join(chars), i


def _read_plain(text: str, i: int, separators: str) -> tuple[str, int]:
    """An unquoted value up to the next unescaped separator or '+'; `\\,` and `\\C3\\A9` escapes decoded,
    trailing padding blanks dropped (an escaped trailing blank is kept)."""
    n = len(text)
    out = bytearray()
    significant = 0  # length of `out` up to the last escaped or non-blank character
    while i < n and text[i] not in separators and text[i] != "+":
        char = text[i]
        if char == "\\":
            if i + 1 >= n:
                raise UsageError(f"bad DN '{text}': it ends with a lone backslash")
            pair = text[i + 1:i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                i += 3
            else:
                out += text[i + 1].encode("utf-8")
                i += 2
            significant = len(out)
            continue
        out += char.encode("utf-8")
        if char != " ":
            significant = len(out)
        i += 1
    try:
        return out[:significant].decode("utf-8"), i
    except UnicodeDecodeError as exc:
        raise UsageError(f"bad DN '{text}': escaped bytes are not UTF-8") from exc


def _split_racf(text: str) -> list[str] | None:
    """Split `CN=a.b.O=c.C=GB` at the dots that start a new `KEYWORD=`; None when it is not dotted."""
    if "." not in text:  # no dot, nothing to split: the pattern is not compiled (start-up speed, `--dn CN=web`)
        return None
    import re

    keyword_alternatives = "|".join(sorted((re.escape(k) for k in KEYWORDS), key=len, reverse=True))
    pattern = re.compile(rf"\.\s*(?=(?:{keyword_alternatives})\s*=)", re.IGNORECASE)
    parts = pattern.split(text)
    return parts if len(parts) > 1 else None


def parse_dn(text: str) -> DistinguishedName:
    """Parse any of the forms admins write. Raises UsageError saying what is wrong."""
    source = text
    stripped = text.strip()
    if not stripped:
        raise UsageError("bad DN: it is empty")
    if stripped.startswith("/"):
        # openssl -subj form: root first; turn it into the written, most-specific-first order.
        import re

        parts = [p for p in re.split(r"(?<!\\)/", stripped[1:]) if p.strip()]
        rdns = [rdn for part in parts for rdn in _parse_rfc4514(part, "")]
        rdns.reverse()
    elif _has_unescaped(stripped, ",;"):
        rdns = _parse_rfc4514(stripped, ",;")
    else:
        dotted = _split_racf(stripped)
        if dotted is not None:
            rdns = [rdn for part in dotted for rdn in _parse_rfc4514(part, "")]
        else:
            rdns = _parse_rfc4514(stripped, ",;")
    result = []
    for rdn in rdns:
        attrs = []
        for raw_keyword, value in rdn:
            keyword, oid = _resolve_keyword(raw_keyword, source)
            attrs.append(Attribute(keyword, oid, value))
        result.append(tuple(attrs))
    if not result:
        raise UsageError(f"bad DN '{source}': it has no parts")
    return DistinguishedName(tuple(result), source=source)


def _has_unescaped(text: str, chars: str) -> bool:
    escaped = in_quotes = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            in_quotes = not in_quotes
        elif char in chars and not in_quotes:
            return True
    return False


# `dn normalize` and `dn compare` (normalize, compare and its Comparison) live in keystores.pki.dn_compare: certreq,
# selfsign and sign read and write DNs with this module and run neither (start-up speed, bench_core's "start-up:
# keystores sign"/"certreq"). Their names are served from here as before, that module imported on first use.
_COMPARE_NAMES = frozenset({"normalize", "Comparison", "compare"})


def __getattr__(name: str) -> object:
    if name in _COMPARE_NAMES:
        from keystores.pki import dn_compare

        return getattr(dn_compare, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
