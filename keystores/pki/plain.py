"""What EncodedCertificate.is_plain (keystores.pki.encoded) checks of a certificate's names and extensions: whether
they are in the forms keystores writes and cryptography reads.

Apart from keystores.pki.encoded, which every listing and export loads, because only `receive` asks (start-up,
issue 15).
"""

from __future__ import annotations

from keystores.crypto import der
from keystores.pki.encoded import name_rdns


def plain_name(name: bytes) -> bool:
    """A Name as keystores writes them and cryptography reads them: RDNs of OID and UTF8String, PrintableString
    (its characters only) or IA5String (ASCII)."""
    for rdn in name_rdns(name):
        for _, tag, value in rdn:
            if tag == 0x0C:
                value.decode("utf-8")  # UnicodeDecodeError is a ValueError
            elif not ((tag == 0x16 and value.isascii()) or (tag == 0x13 and not value.translate(None, _PRINTABLE))):
                return False
    return True


_PRINTABLE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"  # PrintableString (X.680)


_PLAIN_EXTENSIONS = {der.oid(dotted) for dotted in ("2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.14",
                                                    "2.5.29.35", "2.5.29.17")}


def plain_extensions(data: bytes, extensions: tuple[int, int, int, int]) -> bool:
    """EncodedCertificate.is_plain's check of the [3] Extensions: each of the kinds keystores writes, once, well
    formed as cryptography parses them."""
    _, _, start, end = extensions
    tag, list_start, list_end = der.read(data, start, end)
    if tag != 0x30 or list_end != end:
        return False
    seen: set[bytes] = set()
    for tag, _, ext_start, ext_end in der.elements(data, list_start, list_end):
        parts = der.elements(data, ext_start, ext_end)
        if tag != 0x30 or [t for t, *_ in parts] not in ([0x06, 0x04], [0x06, 0x01, 0x04]):
            return False
        oid = data[parts[0][1] : parts[0][3]]
        if oid in seen or oid not in _PLAIN_EXTENSIONS:
            return False
        seen.add(oid)
        if len(parts) == 3 and data[parts[1][2] : parts[1][3]] != b"\xff":  # DER: FALSE is left out
            return False
        if not _plain_value(oid, data[parts[-1][2] : parts[-1][3]]):
            return False
    return True


def _plain_value(oid: bytes, value: bytes) -> bool:
    tag, start, end = der.read(value)
    if end != len(value):
        return False
    content = value[start:end]
    dotted = der.oid_text(oid[2:])
    if dotted == "2.5.29.14":  # subjectKeyIdentifier
        return tag == 0x04
    if dotted == "2.5.29.15":  # keyUsage: the unused bits zero, no trailing zero byte
        return (tag == 0x03 and 2 <= len(content) <= 3 and content[0] < 8 and content[-1] != 0
                and not content[-1] & ((1 << content[0]) - 1))
    parts = der.elements(value, start, end)
    if tag != 0x30:
        return False
    if dotted == "2.5.29.19":  # basicConstraints: [cA TRUE] [pathLen]
        if not parts:
            return True
        if value[parts[0][1] : parts[0][3]] != b"\x01\x01\xff":
            return False
        return len(parts) == 1 or (len(parts) == 2 and parts[1][0] == 0x02 and parts[1][3] - parts[1][2] == 1
                                   and value[parts[1][2]] < 0x80)
    if dotted == "2.5.29.37":  # extKeyUsage: OIDs (oid_text refuses a malformed one)
        return bool(parts) and all(t == 0x06 and der.oid_text(value[s:e], minimal=True) for t, _, s, e in parts)
    if dotted == "2.5.29.35":  # authorityKeyIdentifier: keyIdentifier only
        return [t for t, *_ in parts] == [0x80]
    return bool(parts) and all(  # subjectAltName, as keystores.pki.builder writes and reads them
        (t == 0x87 and e - s in (4, 16)) or (t in (0x81, 0x82, 0x86) and value[s:e].isascii())
        for t, _, s, e in parts)
