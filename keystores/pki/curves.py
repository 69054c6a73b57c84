"""The elliptic curves keystores makes keys on and writes: one table (SEC 2 name, the short name key types use, OID,
size) from which key-type parsing and display, the DER column reader, PKCS#11 EC_PARAMS and NSS key records all
take what they need. Keys on other curves are read, and named by their OID or asn1crypto's name, never made here.

Pure data (and the point check of its curves' fields) with no import beyond keystores.frozen at load time:
`list` loads it with the column reader."""

from __future__ import annotations

from keystores.frozen import FrozenValue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Curve(FrozenValue):
    """A named curve. `name` is SEC 2's and cryptography's ("secp256r1"); `short` is how key types spell it
    ("EC-P256", `ec:p256`); `size` is the byte length of a coordinate or private scalar."""

    name: str
    short: str
    oid: str
    bits: int
    aliases: tuple[str, ...]
    _fields = ("name", "short", "oid", "bits", "aliases")

    def __init__(self, name: str, short: str, oid: str, bits: int, aliases: tuple[str, ...] = ()) -> None:
        init = object.__setattr__
        init(self, "name", name)
        init(self, "short", short)
        init(self, "oid", oid)
        init(self, "bits", bits)
        init(self, "aliases", aliases)

    @property
    def size(self) -> int:
        return (self.bits + 7) // 8

    @property
    def params_der(self) -> bytes:
        """The named-curve OID as DER (tag and length included): ECParameters, PKCS#11 CKA_EC_PARAMS, NSS's
        key records."""
        return _PARAMS_DER[self.name]

    def cryptography_curve(self) -> Any:
        """A cryptography curve object (ec.SECP256R1() ...)."""
        from cryptography.hazmat.primitives.asymmetric import ec

        classes = {"secp256r1": ec.SECP256R1, "secp384r1": ec.SECP384R1, "secp521r1": ec.SECP521R1}
        return classes[self.name]()


NIST_CURVES = (
    Curve("secp256r1", "P256", "1.2.840.10045.3.1.7", 256, ("p256", "p-256", "prime256v1")),
    Curve("secp384r1", "P384", "1.3.132.0.34", 384, ("p384", "p-384")),
    Curve("secp521r1", "P521", "1.3.132.0.35", 521, ("p521", "p-521")),
)
# The OIDs' DER, written out so that loading this module costs no encoder (tests/test_curves.py checks them
# against crypto.der.oid).
_PARAMS_DER = {"secp256r1": bytes.fromhex("06082a8648ce3d030107"), "secp384r1": bytes.fromhex("06052b81040022"),
               "secp521r1": bytes.fromhex("06052b81040023")}
_BY_NAME = {alias: curve for curve in NIST_CURVES for alias in (curve.name, curve.short.lower(), *curve.aliases)}
_BY_PARAMS = {curve.params_der: curve for curve in NIST_CURVES}


def curve_named(name: str) -> Curve | None:
    """The curve by any of its names ("secp256r1", "P256", "p-256", "prime256v1"; any case), or None."""
    return _BY_NAME.get(name.lower())


def curve_of_params(params_der: bytes) -> Curve | None:
    """The curve whose named-curve OID DER (tag and length included) is `params_der`, or None."""
    return _BY_PARAMS.get(bytes(params_der))


# y^2 = x^3 - 3x + b over GF(p) (FIPS 186-4 D.1.2): (p, b) of the curves above, by key type. (From
# keystores.pki.columns, which serves both names as before: pki.spki checks a point with them without columns.)
NIST_FIELDS = {
    "EC-P256": (2**256 - 2**224 + 2**192 + 2**96 - 1,
                0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B),
    "EC-P384": (2**384 - 2**128 - 2**96 + 2**32 - 1,
                0xB3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875AC656398D8A2ED19D2A85C8EDD3EC2AEF),
    "EC-P521": (2**521 - 1, int("51953EB9618E1C9A1F929A21A0B68540EEA2DA725B99B315F3B8B489918EF109E156193951EC7E937B1"
                                "652C0BD3BB1BF073573DF883D2C34F1EF451FD46B503F00", 16)),
}


def ec_point_on_curve(key_type: str, point: bytes) -> bool:
    """keystores.pki.shown.ec_point_loads of the point (the key's BIT STRING after its unused-bits byte)."""
    p, b = NIST_FIELDS[key_type]
    size = (p.bit_length() + 7) // 8
    x = int.from_bytes(point[1 : 1 + size], "big")
    if x >= p:
        return False
    right = (pow(x, 3, p) - 3 * x + b) % p
    if point[0] == 4:
        y = int.from_bytes(point[1 + size :], "big")
        return y < p and y * y % p == right
    return pow(right, (p - 1) // 2, p) == 1  # compressed: a y exists (right is never 0: no point of order 2)
