"""Hand-written DER for the few structures written in bulk (a bag or record per certificate), where building
asn1crypto objects costs more than the rest of a conversion. Parsing stays with asn1crypto."""

from __future__ import annotations


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
