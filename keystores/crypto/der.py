"""Hand-written DER for the few structures written or read in bulk (a bag or record per certificate, the columns
`list` prints), where building asn1crypto objects costs more than the rest of the job. Reading is one function,
`read`, walking spans of the caller's bytes; whole structures are parsed with asn1crypto."""

from __future__ import annotations


class DerError(ValueError):
    """Malformed DER."""


def read(data: bytes, at: int = 0, end: int | None = None, *, minimal: bool = False) -> tuple[int, int, int]:
    """(tag, start of the content, end of the content) of the element at `at`, which must end by `end` (the end
    of `data` by default). High tag numbers and lengths over four bytes are refused; with `minimal`, so is a long
    length form where a shorter one fits, as DER requires (BER readers tolerate it)."""
    if end is None:
        end = len(data)
    if at + 2 > end:
        raise DerError("truncated DER")
    tag, first = data[at], data[at + 1]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte ASN.1 tag")
    if first < 0x80:
        stop = at + 2 + first
        if stop > end:
            raise DerError("DER value runs past its container")
        return tag, at + 2, stop
    count = first & 0x7F
    if count == 0 or count > 4 or at + 2 + count > end:
        raise DerError("bad DER length")
    length = int.from_bytes(data[at + 2 : at + 2 + count], "big")
    if minimal and (length < 0x80 or data[at + 2] == 0):
        raise DerError("DER length not in its shortest form")
    start = at + 2 + count
    if start + length > end:
        raise DerError("DER value runs past its container")
    return tag, start, start + length


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


def integer(value: int) -> bytes:
    """An INTEGER in its shortest two's-complement form (tag and length included)."""
    return tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER, encoded (tag and length included)."""
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body += bytes(reversed(chunk))
    return tlv(0x06, bytes(body))
