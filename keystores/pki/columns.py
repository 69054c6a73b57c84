"""The three certificate facts `list` prints (subject, expiry, key type), read straight from the DER.

cryptography builds a Python object for every name attribute and loads the public key through OpenSSL's decoders:
about 50 µs a certificate, most of the time `list` spends on a store of thousands, and the import alone costs more
than reading a small store. This reader walks only the fields the table shows, in the common forms (single-valued
RDNs of UTF-8-compatible strings, UTCTime/GeneralizedTime without fractions, RSA, the NIST curves, Ed25519/Ed448),
and returns None for anything else, so the caller asks cryptography: where both answer, the answers are the same
(tests/test_columns.py compares them on generated, damaged and real certificates). It checks only what it reads:
damage in the issuer, extensions or signature, or a key value cryptography refuses (an EC point off its curve), is
found when the certificate itself is decoded.

A speed device, fenced here: only ops/describe.py calls it, on what keystores.lazy_entries leaves undecoded.
Justified by bench/bench_nss.py (list of a 2,000-certificate NSS database) and bench/bench_java.py (2,000 trusted
certificates in JKS); the README's Speed section has the figures.
"""

from __future__ import annotations

from keystores.crypto.der import DerError, certificate_layout, oid_text, read
from keystores.crypto.der import certificate_names as certificate_names  # (moved: served here as before)
from keystores.crypto.der import subject_and_key as subject_and_key

# NIST_FIELDS and ec_point_on_curve live with the curves (moved there, served from here as before)
from keystores.pki.curves import NIST_FIELDS, curve_of_params, ec_point_on_curve  # noqa: F401

# cryptography's short names (x509.name._NAMEOID_TO_NAME); other attribute types print as dotted OIDs.
_SHORT_NAMES = {"2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
                "2.5.4.6": "C", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC",
                "0.9.2342.19200300.100.1.1": "UID"}
# String types cryptography decodes as UTF-8 (NumericString, PrintableString, T61String, IA5String, VisibleString,
# UTF8String); BMPString, UniversalString and BIT STRING values take the slow path.
_TEXT_TAGS = frozenset({0x0C, 0x12, 0x13, 0x14, 0x16, 0x1A})
_RSA = bytes.fromhex("2a864886f70d010101")
_EC = bytes.fromhex("2a8648ce3d0201")
_EDWARDS = {bytes.fromhex("2b6570"): ("Ed25519", 32, 256), bytes.fromhex("2b6571"): ("Ed448", 57, 456)}
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "+": "\\+", ",": "\\,", ";": "\\;", "<": "\\<", ">": "\\>",
                          "\0": "\\00"})
_SPECIAL = frozenset('\\"+,;<>\x00')  # what RFC 4514 escapes anywhere in a value
_ATTRIBUTE_NAMES: dict[bytes, str] = {}  # OID content -> printed name ("": not a well-formed OID)


class _Declined(ValueError):
    """A form this reader leaves to cryptography, or a malformed one (as is keystores.crypto.der.DerError)."""


def _attribute_name(content: bytes) -> str:
    name = _ATTRIBUTE_NAMES.get(content)
    if name is None:
        name = _ATTRIBUTE_NAMES[content] = _oid_name(content) or ""
    if not name:
        raise _Declined
    return name


def _oid_name(content: bytes) -> str | None:
    try:
        dotted = oid_text(content, minimal=True)
    except DerError:
        return None
    return _SHORT_NAMES.get(dotted, dotted)


def _escape(value: str) -> str:
    """RFC 4514 escaping exactly as cryptography's _escape_dn_value does it, for a non-empty value (_name calls
    it only for values with something to escape)."""
    value = value.translate(_ESCAPES)
    if value[0] == "#" or (value[0] == " " and len(value) > 1):
        value = "\\" + value
    if value[-1] == " ":
        value = value[:-1] + "\\ "
    return value


def _name(data: bytes, start: int, stop: int) -> str:
    parts = []
    at = start
    while at < stop:
        # The usual RDN, every length in short form: SET { SEQUENCE { OID, string } }, read in one step.
        rdn_length, oid_length = data[at + 1], data[at + 5]
        value_at = at + 6 + oid_length
        value_length = data[value_at + 1]
        rdn_stop = at + 2 + rdn_length
        if (data[at] == 0x31 and data[at + 2] == 0x30 and data[at + 4] == 0x06 and rdn_length < 0x80
                and data[at + 3] == rdn_length - 2 and oid_length < 0x80 and value_length < 0x80
                and value_at + 2 + value_length == rdn_stop and rdn_stop <= stop):
            oid, tag, value_start = data[at + 6 : value_at], data[value_at], value_at + 2
        else:
            tag, rdn_start, rdn_stop = read(data, at, stop, minimal=True)
            if tag != 0x31:
                raise _Declined
            tag, pair_start, pair_stop = read(data, rdn_start, rdn_stop, minimal=True)
            if tag != 0x30 or pair_stop != rdn_stop:
                raise _Declined  # an empty or multi-valued RDN: cryptography's rules for those are its own
            tag, oid_start, oid_stop = read(data, pair_start, pair_stop, minimal=True)
            if tag != 0x06:
                raise _Declined
            oid = data[oid_start:oid_stop]
            tag, value_start, value_stop = read(data, oid_stop, pair_stop, minimal=True)
            if value_stop != pair_stop:
                raise _Declined
        if tag not in _TEXT_TAGS:
            raise _Declined
        try:
            value = data[value_start:rdn_stop].decode("utf-8")
        except UnicodeDecodeError:
            raise _Declined from None
        parts.append(_attribute(_ATTRIBUTE_NAMES.get(oid) or _attribute_name(oid), value))
        at = rdn_stop
    return ",".join(reversed(parts))


def _attribute(name: str, value: str) -> str:
    if value and (not _SPECIAL.isdisjoint(value) or value[0] in "# " or value[-1] == " "):
        value = _escape(value)
    return f"{name}={value}"


def attribute_text(dotted: str, value: str) -> str:
    """One attribute of a Name (its type's dotted OID, its value's text) as cryptography's rfc4514_string writes
    it: the short name where it has one, the value escaped as RFC 4514 says."""
    return _attribute(_SHORT_NAMES.get(dotted, dotted), value)


# the last day of each month, as two digits (February's 29th is checked against the year)
_LAST_DAYS = dict(zip(("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"),
                      ("31", "29", "31", "30", "31", "30", "31", "31", "30", "31", "30", "31"), strict=True))


def _time(data: bytes, tag: int, start: int, stop: int) -> str:
    # Every field is two digits (the year four), so the ranges datetime() checks (a 31 April, a 25th hour) are
    # compared as text, without importing datetime or converting each field (listing 2,000 certificates reads
    # 4,000 times).
    text = data[start:stop]
    if text[-1:] != b"Z" or not text[:-1].isdigit():
        raise _Declined
    if tag == 0x17 and len(text) == 13:
        d = text.decode()
        year = ("19" if d[0] >= "5" else "20") + d[:2]
        month, day, hour, minute, second = d[2:4], d[4:6], d[6:8], d[8:10], d[10:12]
    elif tag == 0x18 and len(text) == 15:
        d = text.decode()
        year = d[:4]
        month, day, hour, minute, second = d[4:6], d[6:8], d[8:10], d[10:12], d[12:14]
        if year == "0000":
            raise _Declined
    else:
        raise _Declined
    last = _LAST_DAYS.get(month)
    if last is None or not "01" <= day <= last or hour >= "24" or minute >= "60" or second >= "60":
        raise _Declined
    if day == "29" and month == "02":
        number = int(year)
        if number % 4 or (number % 100 == 0 and number % 400):
            raise _Declined
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}Z"


def _positive_integer(data: bytes, at: int, end: int) -> tuple[int, int]:
    """The content span of a positive INTEGER in its shortest form."""
    tag, start, stop = read(data, at, end, minimal=True)
    if tag != 0x02 or start == stop or data[start] & 0x80:
        raise _Declined
    if data[start] == 0 and (stop - start == 1 or not data[start + 1] & 0x80):
        raise _Declined
    return start, stop


def key_facts(data: bytes, start: int, stop: int) -> tuple[str, int]:
    """(key type as describe_key spells it, size in bits as ops.describe's key_size gives it) of the
    SubjectPublicKeyInfo whose content is data[start:stop]; ValueError for a form left to cryptography. Only the
    form is checked: whether cryptography loads the key (an EC point on its curve) is the caller's to ask."""
    tag, alg_start, alg_stop = read(data, start, stop, minimal=True)
    if tag != 0x30:
        raise _Declined
    tag, oid_start, oid_stop = read(data, alg_start, alg_stop, minimal=True)
    if tag != 0x06:
        raise _Declined
    algorithm = data[oid_start:oid_stop]
    tag, bits_start, bits_stop = read(data, alg_stop, stop, minimal=True)
    if tag != 0x03 or bits_stop != stop or bits_start == bits_stop or data[bits_start] != 0:
        raise _Declined
    key = data[bits_start + 1 : bits_stop]
    if algorithm == _RSA:
        if oid_stop != alg_stop and data[oid_stop:alg_stop] != b"\x05\x00":
            raise _Declined
        tag, seq_start, seq_stop = read(key, 0, len(key), minimal=True)
        if tag != 0x30 or seq_stop != len(key):
            raise _Declined
        modulus = _positive_integer(key, seq_start, seq_stop)
        exponent = _positive_integer(key, modulus[1], seq_stop)
        if exponent[1] != seq_stop:
            raise _Declined
        bits = int.from_bytes(key[modulus[0] : modulus[1]], "big").bit_length()
        return f"RSA-{bits}", bits
    if algorithm == _EC:
        tag, _, curve_stop = read(data, oid_stop, alg_stop, minimal=True)
        curve = curve_of_params(data[oid_stop:curve_stop]) if tag == 0x06 and curve_stop == alg_stop else None
        if curve is None:
            raise _Declined
        name, size = curve.short, curve.size
        if not ((key[:1] == b"\x04" and len(key) == 1 + 2 * size) or (key[:1] in (b"\x02", b"\x03")
                                                                       and len(key) == 1 + size)):
            raise _Declined
        return f"EC-{name}", curve.bits
    edwards = _EDWARDS.get(algorithm)
    if edwards is not None and oid_stop == alg_stop and len(key) == edwards[1]:
        return edwards[0], edwards[2]
    raise _Declined


def certificate_columns(der: bytes) -> tuple[str, str, str] | None:
    """(subject as RFC 4514, notAfter as ISO 8601 UTC, key type as describe_key spells it), or None when the
    certificate is in a form this reader leaves to cryptography (or is malformed: cryptography then says how)."""
    try:
        cert_stop, tbs_stop, _, _, validity_start, validity_stop, subject_start, subject_stop, spki_start, spki_stop = \
            certificate_layout(der)
        tag, _, sig_alg_stop = read(der, tbs_stop, cert_stop, minimal=True)
        signature_tag, _, signature_stop = read(der, sig_alg_stop, cert_stop, minimal=True)
        if (tag, signature_tag, signature_stop) != (0x30, 0x03, cert_stop):
            return None
        tag, start, stop = read(der, validity_start, validity_stop, minimal=True)
        if tag not in (0x17, 0x18):
            return None
        tag, start, stop = read(der, stop, validity_stop, minimal=True)
        if stop != validity_stop:
            return None
        not_after = _time(der, tag, start, stop)
        return _name(der, subject_start, subject_stop), not_after, key_facts(der, spki_start, spki_stop)[0]
    except (IndexError, ValueError):  # _Declined, DerError
        return None


def plain_time(data: bytes, tag: int, start: int, stop: int) -> str:
    """A UTCTime (tag 0x17) or GeneralizedTime (0x18) whose content is data[start:stop] as ISO 8601 UTC text
    ("2030-01-31T12:00:00Z"), as describe writes cryptography's datetime; ValueError for any other form."""
    return _time(data, tag, start, stop)
