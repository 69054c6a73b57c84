"""What java.io.DataOutputStream writes, shared by the Java key stores (JKS/JCEKS and Bouncy Castle's BKS/UBER):
modified UTF-8 strings (writeUTF), certificates as type name + length + DER, dates as milliseconds, and the errors
reading them may raise.
"""

from __future__ import annotations

import codecs
import struct

from keystores.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime

    from keystores.model import Entry

#: What reading untrusted Java store bytes may raise (short data, bad lengths, bad modified UTF-8, nesting too
#: deep); every one of them means "damaged".
PARSE_ERRORS = (struct.error, IndexError, ValueError, UnicodeDecodeError, TypeError, KeyError, RecursionError)


def read_utf(data: bytes, pos: int) -> tuple[str, int]:
    """readUTF at `pos`: (the string, the position after it); ValueError when it runs past the end."""
    (size,) = struct.unpack_from(">H", data, pos)
    pos += 2
    raw = data[pos : pos + size]
    if len(raw) != size:
        raise ValueError("string runs past the end of the file")
    if raw.isascii() and b"\x00" not in raw:
        return raw.decode("ascii"), pos + size
    return _decode_modified_utf8(raw), pos + size


def _decode_modified_utf8(raw: bytes) -> str:
    units: list[int] = []
    i = 0
    while i < len(raw):
        b = raw[i]
        if b < 0x80 and b != 0:
            units.append(b)
            i += 1
        elif b & 0xE0 == 0xC0:
            units.append(((b & 0x1F) << 6) | (raw[i + 1] & 0x3F))
            i += 2
        elif b & 0xF0 == 0xE0:
            units.append(((b & 0x0F) << 12) | ((raw[i + 1] & 0x3F) << 6) | (raw[i + 2] & 0x3F))
            i += 3
        else:
            raise ValueError("bad modified UTF-8 in a string")
    # what bytes.decode("utf-16-be", "surrogatepass") calls, without importing encodings.utf_16_be (start-up)
    return codecs.utf_16_be_decode(b"".join(u.to_bytes(2, "big") for u in units), "surrogatepass", True)[0]


def write_utf(text: str) -> bytes:
    """writeUTF: length-prefixed modified UTF-8 (NUL as C0 80, non-BMP characters as surrogate pairs)."""
    if text.isascii() and "\x00" not in text:
        raw = text.encode("ascii")
    else:
        utf16 = codecs.utf_16_be_encode(text, "surrogatepass")[0]  # str.encode's codec, not imported (start-up)
        out = bytearray()
        for i in range(0, len(utf16), 2):
            unit = int.from_bytes(utf16[i : i + 2], "big")
            if 0 < unit < 0x80:
                out.append(unit)
            elif unit < 0x800:
                out += bytes([0xC0 | unit >> 6, 0x80 | unit & 0x3F])
            else:
                out += bytes([0xE0 | unit >> 12, 0x80 | (unit >> 6) & 0x3F, 0x80 | unit & 0x3F])
        raw = bytes(out)
    if len(raw) > 0xFFFF:
        raise UsageError("a Java store alias or name is limited to 65535 bytes")
    return struct.pack(">H", len(raw)) + raw


def certificate_bytes(der: bytes) -> bytes:
    """A certificate (its DER) as Java stores write it: writeUTF("X.509"), int length, DER."""
    return b"\x00\x05X.509" + struct.pack(">I", len(der)) + der


def from_millis(millis: int) -> datetime | None:
    """A Java time in ms since the epoch; None for one no datetime can hold (a damaged or hostile date). (datetime is
    imported here: JKS entries read their date on first use, and `list` uses none: start-up.)"""
    from datetime import UTC, datetime

    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


class JavaDate:
    """An entry's date as a Java store holds it, the loader of a LazyEntry's `created`: the datetime is made on first
    use (from_millis), and a store written while it is not yet made writes `millis` back as read. (Within about the
    years 1697 to 2242, to_millis(from_millis(m)) is m; farther out the float seconds are coarser and that round trip
    may move a date by a millisecond, and a date no datetime holds has no datetime at all: carried as read, neither
    is changed by a rewrite. A rewrite also imports no datetime: start-up.)"""

    __slots__ = ("millis",)

    def __init__(self, millis: int) -> None:
        self.millis = millis

    def __call__(self) -> datetime | None:
        return from_millis(self.millis)

    def as_written(self) -> int:
        """The milliseconds a rewrite writes for this date: those read."""
        return self.millis


def written_millis(entry: Entry, now: int) -> int:
    """The date `entry` is written with (ms) in a Java store (JKS, JCEKS, BKS): the one read, as read, while the entry
    has not made it a datetime (its loader is a JavaDate); else its `created`; else `now`."""
    from keystores.lazy_entries import LazyEntry

    loader = entry.unread("created") if isinstance(entry, LazyEntry) else None
    if isinstance(loader, JavaDate):
        return loader.as_written()
    return to_millis(entry.created) if entry.created else now


def to_millis(when: datetime) -> int:
    """`when` as Java stores it: whole milliseconds since the epoch, exactly, so that from_millis(m) gives back m.
    (int(when.timestamp() * 1000), float arithmetic, came out a millisecond short for about one date in 170: every
    rewrite of a store moved such entries' dates.) A naive `when` is local time, as timestamp() takes it."""
    from datetime import UTC, datetime, timedelta

    if when.tzinfo is None:
        when = when.astimezone()
    return (when - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
