"""What makes PKCS#12 a format, for detection, --type and the tests (keystores/formats.py): imports nothing heavy."""

from __future__ import annotations

from keystores.formats import FormatRecord, Profile

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def looks_like_pkcs12(head: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }"""
    if len(head) < 8 or head[0] != 0x30:
        return False
    length_byte = head[1]
    offset = 2 + (length_byte & 0x7F if length_byte & 0x80 else 0)
    return head[offset : offset + 3] == b"\x02\x01\x03"


def begin(location: str, *, password: str | None, writable: bool, options: dict[str, Any], ahead: bool = False,
          create: bool = False) -> None:
    """Begun ahead (store.begin_opening) with `create` and a password, a new file's write derivations started while
    the caller reads its source (write.begin_new); nothing else: a read's derivations need the file's salts."""
    if ahead and create and password and not options:
        from keystores.backends.pkcs12.write import begin_new

        begin_new(location, password)


RECORDS = (
    FormatRecord("pkcs12", "PKCS#12", "keystores.backends.pkcs12:Pkcs12Store", aliases=("p12", "pfx"),
                 extensions=(".p12", ".pfx"), sniff=looks_like_pkcs12, profiles=(Profile.MODERN, Profile.COMPAT),
                 begin=begin),
)
