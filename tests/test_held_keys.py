"""keystores.pki.pkcs8.pkcs8_of_ec_der, the PKCS#8 a sealed PKCS#12 EC key is written as without loading it
(Entry.held_pkcs8: `convert`/`export --key` to PEM of keytool's one-key store load no cryptography): the bytes
cryptography's pkcs8_der writes for the loaded key, or None where the form is not the plain one, the scalar is no
private key on the curve, or the point it holds is not its own (then cryptography loads and judges it, as before)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from keystores.crypto import der, libcrypto
from keystores.pki.curves import NIST_CURVES
from keystores.pki.pkcs8 import pkcs8_der, pkcs8_of_ec_der

CURVES = {"secp256r1": ec.SECP256R1(), "secp384r1": ec.SECP384R1(), "secp521r1": ec.SECP521R1()}
ORDERS = {  # the group orders, as `openssl ecparam -param_enc explicit -text` prints them
    "secp256r1": int("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", 16),
    "secp384r1": int("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
                     "581a0db248b0a77aecec196accc52973", 16),
    "secp521r1": int("01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                     "fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409", 16),
}
_EC_ALGORITHM_OID = bytes.fromhex("06072a8648ce3d0201")


def _plain(curve_name: str, scalar: bytes, *, point: bytes | None = None, params: bool = False,
           attributes: bool = False) -> bytes:
    """A PrivateKeyInfo of an EC key as writers spell it: with or without the curve and the point inside."""
    curve = next(c for c in NIST_CURVES if c.name == curve_name)
    inner = [b"\x02\x01\x01", der.octet_string(scalar)]
    if params:
        inner.append(der.tlv(0xA0, curve.params_der))
    if point is not None:
        inner.append(der.tlv(0xA1, der.tlv(0x03, b"\x00" + point)))
    parts = [b"\x02\x01\x00", der.sequence(_EC_ALGORITHM_OID, curve.params_der), der.octet_string(der.sequence(*inner))]
    if attributes:
        parts.append(der.tlv(0xA0, der.sequence(der.oid("1.2.840.113549.1.9.20"), der.tlv(0x31, b"\x1e\x00"))))
    return der.sequence(*parts)


def _by_cryptography(plain: bytes) -> bytes | None:
    try:
        key = serialization.load_der_private_key(plain, None)
    except ValueError:
        return None
    return pkcs8_der(key)


@pytest.mark.parametrize("curve_name", list(CURVES))
def test_the_forms_writers_use_give_cryptographys_bytes(curve_name: str) -> None:
    """keytool's (no point), OpenSSL's and cryptography's (the point), with the curve inside too; the extremes 1 and
    n - 1; a scalar with its leading zeros dropped is cryptography's to refuse."""
    size = next(c for c in NIST_CURVES if c.name == curve_name).size
    scalars = [1, 2, ORDERS[curve_name] - 1, 0xFF]
    for _ in range(8):
        key = ec.generate_private_key(CURVES[curve_name])
        scalars.append(key.private_numbers().private_value)
    for value in scalars:
        key = ec.derive_private_key(value, CURVES[curve_name])
        point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        for form in ({}, {"point": point}, {"params": True}, {"params": True, "point": point}):
            plain = _plain(curve_name, value.to_bytes(size, "big"), **form)  # type: ignore[arg-type]
            assert pkcs8_of_ec_der(plain) == _by_cryptography(plain) == pkcs8_der(key), (value, form)
            short = _plain(curve_name, value.to_bytes((value.bit_length() + 7) // 8, "big"), **form)  # type: ignore[arg-type]
            if short != plain:  # a scalar shorter than the curve's: cryptography refuses it, and is asked
                assert pkcs8_of_ec_der(short) is None and _by_cryptography(short) is None, (value, form)


@pytest.mark.parametrize("curve_name", list(CURVES))
def test_what_is_not_plainly_a_key_on_its_curve_is_cryptographys_to_judge(curve_name: str) -> None:
    size = next(c for c in NIST_CURVES if c.name == curve_name).size
    order = ORDERS[curve_name]
    key = ec.generate_private_key(CURVES[curve_name])
    value = key.private_numbers().private_value
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    compressed = key.public_key().public_bytes(serialization.Encoding.X962,
                                               serialization.PublicFormat.CompressedPoint)
    other = ec.generate_private_key(CURVES[curve_name]).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    other_curve = next(name for name in CURVES if name != curve_name)
    declined = [
        _plain(curve_name, bytes(size)),  # zero
        _plain(curve_name, order.to_bytes(size, "big")),  # the order itself
        _plain(curve_name, ((1 << (8 * size)) - 1).to_bytes(size, "big")),  # above it
        _plain(curve_name, b"\x00" + value.to_bytes(size, "big")),  # longer than the curve's scalars
        _plain(curve_name, value.to_bytes(size, "big"), point=other),  # another key's point
        _plain(curve_name, value.to_bytes(size, "big"), point=compressed),  # compressed: cryptography's to write
        _plain(curve_name, value.to_bytes(size, "big"), attributes=True),
        _plain(curve_name, value.to_bytes(size, "big"), point=point) + b"\x00",  # trailing bytes
        pkcs8_der(key).replace(b"\x02\x01\x00", b"\x02\x01\x01", 1),  # OneAsymmetricKey v2
    ]
    swapped = _plain(curve_name, value.to_bytes(size, "big"), params=True)
    curve_der = next(c for c in NIST_CURVES if c.name == curve_name).params_der
    other_der = next(c for c in NIST_CURVES if c.name == other_curve).params_der
    head, _, tail = swapped.rpartition(curve_der)
    declined.append(head + other_der + tail)  # the curve inside is not the one named outside
    for plain in declined:
        assert pkcs8_of_ec_der(plain) is None, plain.hex()
    for other_key in (rsa.generate_private_key(65537, 2048), ed25519.Ed25519PrivateKey.generate(),
                      ec.generate_private_key(ec.SECP256K1()), ec.generate_private_key(ec.BrainpoolP256R1())):
        assert pkcs8_of_ec_der(other_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption())) is None
    assert pkcs8_of_ec_der(b"") is None and pkcs8_of_ec_der(b"\x30\x03\x02\x01\x00") is None


def test_without_the_library_nothing_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    monkeypatch.setattr(libcrypto, "_LOADED", [None])
    assert pkcs8_of_ec_der(pkcs8_der(key)) is None
