"""The DER pieces JKS and JCEKS keys are wrapped in: EncryptedPrivateKeyInfo and PBE parameters, read with a
hand-written TLV reader (small enough that this beats importing an ASN.1 library).
"""

from __future__ import annotations

from keystores.crypto import der


def _der_read(data: bytes, pos: int, tag: int) -> tuple[bytes, int]:
    """(content, position after) of the TLV at `pos`, which must carry `tag`."""
    if data[pos] != tag:
        raise ValueError(f"expected DER tag 0x{tag:02x}, found 0x{data[pos]:02x}")
    first = data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if not 1 <= count <= 4:
            raise ValueError("bad DER length")
        size = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        size = first
    if pos + size > len(data):
        raise ValueError("DER value runs past its container")
    return data[pos : pos + size], pos + size


def _oid_text(content: bytes) -> str:
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        raise ValueError("empty OID")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def _pbe_parameter(salt: bytes, iterations: int) -> bytes:
    """PBEParameter ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER }."""
    count = iterations.to_bytes((iterations.bit_length() + 8) // 8, "big")
    return der.tlv(0x30, der.tlv(0x04, salt) + der.tlv(0x02, count))


def _read_pbe_parameter(der: bytes) -> tuple[bytes, int]:
    body, _ = _der_read(der, 0, 0x30)
    salt, pos = _der_read(body, 0, 0x04)
    count, _ = _der_read(body, pos, 0x02)
    if not count or count[0] & 0x80:
        raise ValueError("bad iteration count")
    return salt, int.from_bytes(count, "big")


def _epki(oid: str, params_der: bytes | None, encrypted: bytes) -> bytes:
    """EncryptedPrivateKeyInfo; parameters NULL when there are none, as Java writes the JKS protector's."""
    alg = der.tlv(0x30, der.oid(oid) + (params_der if params_der is not None else b"\x05\x00"))
    return der.tlv(0x30, alg + der.tlv(0x04, encrypted))


def _read_epki(der: bytes) -> tuple[str, bytes | None, bytes]:
    """(algorithm OID, parameters DER or None, encrypted data) of an EncryptedPrivateKeyInfo."""
    body, _ = _der_read(der, 0, 0x30)
    alg, pos = _der_read(body, 0, 0x30)
    encrypted, _ = _der_read(body, pos, 0x04)
    oid, params_pos = _der_read(alg, 0, 0x06)
    params = alg[params_pos:] or None
    if params == b"\x05\x00":
        params = None
    return _oid_text(oid), params, encrypted
