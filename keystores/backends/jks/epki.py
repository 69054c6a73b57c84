"""The DER pieces JKS and JCEKS keys are wrapped in: EncryptedPrivateKeyInfo and PBE parameters, read and written
with keystores.crypto.der (small enough that this beats importing an ASN.1 library).
"""

from __future__ import annotations

from keystores.crypto import der


def _pbe_parameter(salt: bytes, iterations: int) -> bytes:
    """PBEParameter ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER }."""
    count = iterations.to_bytes((iterations.bit_length() + 8) // 8, "big")
    return der.tlv(0x30, der.tlv(0x04, salt) + der.tlv(0x02, count))


def _read_pbe_parameter(data: bytes) -> tuple[bytes, int]:
    body, _ = der.expect(data, 0, 0x30)
    salt, pos = der.expect(body, 0, 0x04)
    count, _ = der.expect(body, pos, 0x02)
    if not count or count[0] & 0x80:
        raise ValueError("bad iteration count")
    return salt, int.from_bytes(count, "big")


def _epki(oid: str, params_der: bytes | None, encrypted: bytes) -> bytes:
    """EncryptedPrivateKeyInfo; parameters NULL when there are none, as Java writes the JKS protector's."""
    alg = der.tlv(0x30, der.oid(oid) + (params_der if params_der is not None else b"\x05\x00"))
    return der.tlv(0x30, alg + der.tlv(0x04, encrypted))


def _read_epki(data: bytes) -> tuple[str, bytes | None, bytes]:
    """(algorithm OID, parameters DER or None, encrypted data) of an EncryptedPrivateKeyInfo."""
    body, _ = der.expect(data, 0, 0x30)
    alg, pos = der.expect(body, 0, 0x30)
    encrypted, _ = der.expect(body, pos, 0x04)
    oid, params_pos = der.expect(alg, 0, 0x06)
    params = alg[params_pos:] or None
    if params == b"\x05\x00":
        params = None
    return der.oid_text(oid), params, encrypted
