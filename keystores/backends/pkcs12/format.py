"""What makes PKCS#12 a format, for detection, --type and the tests (keystores/formats.py): imports nothing heavy."""

from keystores.formats import FormatRecord, Profile


def looks_like_pkcs12(head: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }"""
    if len(head) < 8 or head[0] != 0x30:
        return False
    length_byte = head[1]
    offset = 2 + (length_byte & 0x7F if length_byte & 0x80 else 0)
    return head[offset : offset + 3] == b"\x02\x01\x03"


RECORDS = (
    FormatRecord("pkcs12", "PKCS#12", "keystores.backends.pkcs12:Pkcs12Store", aliases=("p12", "pfx"),
                 extensions=(".p12", ".pfx"), sniff=looks_like_pkcs12, profiles=(Profile.MODERN, Profile.COMPAT)),
)
