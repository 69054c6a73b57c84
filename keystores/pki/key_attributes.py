"""Keys as PKCS#11 attributes, both ways: the one mapping the NSS and PKCS#11 backends share.

NSS's key4.db/cert9.db is a PKCS#11 object store (one sqlite column per CKA_ number), so a key written to NSS and a
key written to a token are the same attributes. This module holds what both need: the standard CKA_/CKO_/CKK_
numbers, key -> attributes (`private_key_attributes`, `public_key_attributes`, `usage_flags`), attributes -> key
(`private_key_from_attributes`, `public_key_from_attributes`, `curve_name`), and the CKA_ID convention (`key_id`).
Attribute dicts are keyed by CKA_ number with values as PKCS#11 defines them: CK_ULONG values (CKA_KEY_TYPE) as
int, CK_BBOOL as bool, big integers and DER as bytes. Each backend keeps only its storage: NSS encodes the values
into its columns (ulong bytes, encryption, MACs; nss/db.py, nss/adding.py), the PKCS#11 backend hands them to
python-pkcs11 (pkcs11/keys.py). Vendor and trust attributes only NSS uses stay in nss/db.py.

Which objects a backend makes and how it guards them (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_EXTRACTABLE, labels)
is that backend's policy: NSS keys stay extractable so pk12util can export them; keys we put on a token never are.

Imports only the standard library and keystores.pki/crypto at load time (cryptography inside the functions); never
python-pkcs11, so NSS works without it."""

from __future__ import annotations

from keystores.crypto import der
from keystores.lightweight import suppress
from keystores.pki.cka import (  # noqa: F401  (re-exported: the numbers the mapping is made of, and the CKA_ID of a
    # SubjectPublicKeyInfo read from its DER)
    CKA_ALWAYS_SENSITIVE,
    CKA_BASE,
    CKA_CERTIFICATE_TYPE,
    CKA_CLASS,
    CKA_COEFFICIENT,
    CKA_DECRYPT,
    CKA_DERIVE,
    CKA_EC_PARAMS,
    CKA_EC_POINT,
    CKA_ENCRYPT,
    CKA_END_DATE,
    CKA_EXPONENT_1,
    CKA_EXPONENT_2,
    CKA_EXTRACTABLE,
    CKA_ID,
    CKA_ISSUER,
    CKA_KEY_TYPE,
    CKA_LABEL,
    CKA_LOCAL,
    CKA_MODIFIABLE,
    CKA_MODULUS,
    CKA_NEVER_EXTRACTABLE,
    CKA_PRIME,
    CKA_PRIME_1,
    CKA_PRIME_2,
    CKA_PRIVATE,
    CKA_PRIVATE_EXPONENT,
    CKA_PUBLIC_EXPONENT,
    CKA_SENSITIVE,
    CKA_SERIAL_NUMBER,
    CKA_SIGN,
    CKA_SIGN_RECOVER,
    CKA_START_DATE,
    CKA_SUBJECT,
    CKA_SUBPRIME,
    CKA_TOKEN,
    CKA_UNWRAP,
    CKA_VALUE,
    CKA_VERIFY,
    CKA_VERIFY_RECOVER,
    CKA_WRAP,
    CKK_DSA,
    CKK_EC,
    CKK_EC_EDWARDS,
    CKK_RSA,
    CKO_CERTIFICATE,
    CKO_PRIVATE_KEY,
    CKO_PUBLIC_KEY,
    PRIVATE_KEY_VALUES,
    PUBLIC_KEY_VALUES,
    int_bytes,
    spki_key_id,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

#: An attribute value as PKCS#11 defines it: CK_ULONG as int, CK_BBOOL as bool, the rest as bytes.
Value = int | bool | bytes

ED25519_PARAMS = bytes.fromhex("06032b6570")  # CKA_EC_PARAMS of Ed25519: OID 1.3.101.112
# RFC 8410 allows tokens to spell the curve as a PrintableString too (SoftHSM accepts both).
ED25519_NAMES = (ED25519_PARAMS, b"\x13\x0cedwards25519", b"\x13\x07Ed25519")

# What each key type is for, on the private and on the public half: every usage attribute set true or false, as
# NSS's softoken marks a key it imports (pk12util), so key4.db rows look like NSS's own.
_USAGES = {
    CKK_RSA: ({CKA_DECRYPT: True, CKA_UNWRAP: True, CKA_SIGN: True, CKA_SIGN_RECOVER: True, CKA_DERIVE: False},
              {CKA_ENCRYPT: True, CKA_WRAP: True, CKA_VERIFY: True, CKA_VERIFY_RECOVER: True, CKA_DERIVE: False}),
    CKK_EC: ({CKA_DECRYPT: False, CKA_UNWRAP: False, CKA_SIGN: True, CKA_SIGN_RECOVER: False, CKA_DERIVE: True},
             {CKA_ENCRYPT: False, CKA_WRAP: False, CKA_VERIFY: True, CKA_VERIFY_RECOVER: False, CKA_DERIVE: True}),
    CKK_EC_EDWARDS: ({CKA_DECRYPT: False, CKA_UNWRAP: False, CKA_SIGN: True, CKA_SIGN_RECOVER: False,
                      CKA_DERIVE: False},
                     {CKA_ENCRYPT: False, CKA_WRAP: False, CKA_VERIFY: True, CKA_VERIFY_RECOVER: False,
                      CKA_DERIVE: False}),
}
# The usages a token is told about when we import a key (the rest stay at the token's defaults): signing,
# decryption and key agreement on the private half; verification and encryption on the public half.
_TOLD_TO_TOKENS = ({CKA_SIGN, CKA_DECRYPT, CKA_DERIVE}, {CKA_VERIFY, CKA_ENCRYPT})


def unwrap_point(value: bytes) -> bytes:
    """CKA_EC_POINT as the spec says (DER OCTET STRING) or as some tokens give it (the raw point)."""
    with suppress(der.DerError):
        tag, start, end = der.read(value)
        if tag == 0x04 and end == len(value):
            return value[start:end]
    return value


def curve_name(ec_params: bytes) -> str | None:
    """The curve CKA_EC_PARAMS names: a keystores.pki.curves name, "ed25519", or None."""
    from keystores.pki.curves import curve_of_params  # here: NSS loads this module for its numbers alone (start-up)

    curve = curve_of_params(ec_params)
    if curve is not None:
        return curve.name
    if ec_params in ED25519_NAMES:
        return "ed25519"
    return None


def _public_material(public_key: Any) -> bytes | None:
    """What the CKA_ID convention hashes: the RSA modulus, the EC point (X9.62 uncompressed), the Ed25519 key.
    (keystores.crypto.key_encoding: importing a certificate onto a token loads no serialization package.)"""
    from cryptography.hazmat.primitives.asymmetric import ec

    from keystores.crypto.key_encoding import Encoding, PublicFormat

    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa  # not for EC keys: rsa imports random

    if isinstance(public_key, rsa.RSAPublicKey):
        return int_bytes(public_key.public_numbers().n)
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return None


def key_id(public_key: Any) -> bytes | None:
    """CKA_ID by the convention NSS (PK11_MakeIDFromPubKey), OpenSC and Java share, so that a key, its public key and
    its certificates written by any of them pair up: SHA-1 of the RSA modulus, of the EC point or of the Ed25519 key.
    None for other key types: NSS writes an empty CKA_ID then (it keeps no such keys from us)."""
    material = _public_material(public_key)
    if material is None:
        return None
    from keystores.crypto.digests import digest  # not hashlib, which loads OpenSSL's libcrypto (start-up)

    return digest("sha1", material)


def token_key_id(public_key: Any) -> bytes:
    """`key_id`, or for a key type the convention does not cover the SHA-1 of its SubjectPublicKeyInfo: every object
    we put on a token carries an ID, so a certificate and the key written with it stay paired."""
    found = key_id(public_key)
    if found is not None:
        return found
    from keystores.crypto.digests import digest
    from keystores.crypto.key_encoding import spki_der

    return digest("sha1", spki_der(public_key))


def public_key_attributes(public_key: Any) -> dict[int, Value] | None:
    """CKA_KEY_TYPE and the values of a public key object (RSA, EC on a pki.curves curve, Ed25519); None for a key
    this mapping does not cover (the caller refuses it in its own words)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from keystores.pki.curves import curve_named  # here: NSS loads this module for its numbers alone (start-up)

    material = _public_material(public_key)
    if material is None:
        return None
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        curve = curve_named(public_key.curve.name)
        if curve is None:
            return None
        return {CKA_KEY_TYPE: CKK_EC, CKA_EC_PARAMS: curve.params_der, CKA_EC_POINT: der.octet_string(material)}
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa  # not for EC keys: rsa imports random

    if isinstance(public_key, rsa.RSAPublicKey):
        return {CKA_KEY_TYPE: CKK_RSA, CKA_MODULUS: material,
                CKA_PUBLIC_EXPONENT: int_bytes(public_key.public_numbers().e)}
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return {CKA_KEY_TYPE: CKK_EC_EDWARDS, CKA_EC_PARAMS: ED25519_PARAMS, CKA_EC_POINT: der.octet_string(material)}
    return None


def private_key_attributes(key: Any) -> dict[int, Value] | None:
    """CKA_KEY_TYPE and the values of a private key object: RSA n, e, d, p, q, dP, dQ, qInv; EC CKA_EC_PARAMS and
    CKA_VALUE (the scalar, as long as a coordinate); Ed25519 CKA_EC_PARAMS and CKA_VALUE (the 32-byte seed). None
    for a key this mapping does not cover (the caller refuses it in its own words)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from keystores.pki.curves import curve_named  # here: NSS loads this module for its numbers alone (start-up)

    if isinstance(key, ec.EllipticCurvePrivateKey):
        curve = curve_named(key.curve.name)
        if curve is None:
            return None
        return {CKA_KEY_TYPE: CKK_EC, CKA_EC_PARAMS: curve.params_der,
                CKA_VALUE: key.private_numbers().private_value.to_bytes(curve.size, "big")}
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa  # not for EC keys: rsa imports random

    if isinstance(key, rsa.RSAPrivateKey):
        numbers = key.private_numbers()
        return {CKA_KEY_TYPE: CKK_RSA, CKA_MODULUS: int_bytes(numbers.public_numbers.n),
                CKA_PUBLIC_EXPONENT: int_bytes(numbers.public_numbers.e), CKA_PRIVATE_EXPONENT: int_bytes(numbers.d),
                CKA_PRIME_1: int_bytes(numbers.p), CKA_PRIME_2: int_bytes(numbers.q),
                CKA_EXPONENT_1: int_bytes(numbers.dmp1), CKA_EXPONENT_2: int_bytes(numbers.dmq1),
                CKA_COEFFICIENT: int_bytes(numbers.iqmp)}
    if isinstance(key, ed25519.Ed25519PrivateKey):
        # here: the serialization package (its ssh module, ~15 ms) only where private_bytes needs it anyway
        from cryptography.hazmat.primitives import serialization

        seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
        return {CKA_KEY_TYPE: CKK_EC_EDWARDS, CKA_EC_PARAMS: ED25519_PARAMS, CKA_VALUE: seed}
    return None


def usage_flags(key_type: int, *, private: bool, every_flag: bool) -> dict[int, bool]:
    """The usage attributes (CKA_SIGN, CKA_DECRYPT, CKA_DERIVE, ...) of the private or public half of a key.

    every_flag=True: each usage set true or false, as NSS's softoken marks a key it imports (what key4.db rows
    hold). every_flag=False: only the usages a token is told when we import a key (signing, decryption and key
    agreement on the private half; verification and encryption on the public half), leaving the rest to the token.
    """
    flags = _USAGES[key_type][0 if private else 1]
    if every_flag:
        return dict(flags)
    told = _TOLD_TO_TOKENS[0 if private else 1]
    return {attr: True for attr, on in flags.items() if on and attr in told}


def public_key_from_attributes(attrs: Mapping[int, Any]) -> Any:
    """A cryptography public key from a key object's attributes (keyed by CKA_ number; python-pkcs11's Attribute
    keys work too, being ints); None when they do not say enough or name a type or curve we do not read."""
    from keystores.pki.curves import curve_of_params  # here: NSS loads this module for its numbers alone (start-up)

    key_type = attrs.get(CKA_KEY_TYPE)
    if key_type == CKK_RSA and attrs.get(CKA_MODULUS) and attrs.get(CKA_PUBLIC_EXPONENT):
        from cryptography.hazmat.primitives.asymmetric import rsa  # each type's module for its keys only

        n = int.from_bytes(attrs[CKA_MODULUS], "big")
        e = int.from_bytes(attrs[CKA_PUBLIC_EXPONENT], "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    point = attrs.get(CKA_EC_POINT)
    params = attrs.get(CKA_EC_PARAMS)
    if not point or not params:
        return None
    raw = unwrap_point(point)
    named = curve_of_params(params)
    if key_type == CKK_EC and named is not None:
        from cryptography.hazmat.primitives.asymmetric import ec

        curve = named.cryptography_curve()
        size = (curve.key_size + 7) // 8
        # A raw point (a token that leaves out the OCTET STRING) whose first coordinate byte happens to equal its
        # own remaining length reads as DER too (1 in 256 P-384 keys): a value of a raw point's length is one.
        if (len(point) == 1 + 2 * size and point[0] == 4) or (len(point) == 1 + size and point[0] in (2, 3)):
            raw = point
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, raw)
    if key_type == CKK_EC_EDWARDS and curve_name(params) == "ed25519":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return None


def private_key_from_attributes(key_type: int | None, value: Callable[[int], bytes],
                                curve: Callable[[], Any] | None = None) -> Any:
    """A cryptography private key from a private key object's values, or None for a key type (or EC/EdDSA
    parameters) not read here: RSA, EC, Ed25519 and DSA (y, which a DSA private key object does not hold, is
    g^x mod p).

    `value(attr)` gives an attribute's value; the caller decides what a missing one is (raise naming it, as NSS
    does after decrypting and checking each MAC, or KeyError) and its errors pass through, as does cryptography's
    ValueError for inconsistent values. `curve()` gives an EC key's cryptography curve where the caller knows better
    than CKA_EC_PARAMS (NSS falls back to the certificate's curve); by default CKA_EC_PARAMS names it."""
    from keystores.pki.curves import curve_of_params  # here: NSS loads this module for its numbers alone (start-up)

    def number(attr: int) -> int:
        return int.from_bytes(value(attr), "big")

    if key_type == CKK_RSA:
        from cryptography.hazmat.primitives.asymmetric import rsa  # each type's module for its keys only

        n, e = number(CKA_MODULUS), number(CKA_PUBLIC_EXPONENT)
        return rsa.RSAPrivateNumbers(
            p=number(CKA_PRIME_1), q=number(CKA_PRIME_2), d=number(CKA_PRIVATE_EXPONENT),
            dmp1=number(CKA_EXPONENT_1), dmq1=number(CKA_EXPONENT_2), iqmp=number(CKA_COEFFICIENT),
            public_numbers=rsa.RSAPublicNumbers(e, n)).private_key()
    if key_type == CKK_EC:
        from cryptography.hazmat.primitives.asymmetric import ec

        if curve is None:
            named = curve_of_params(value(CKA_EC_PARAMS))
            if named is None:
                return None
            return ec.derive_private_key(number(CKA_VALUE), named.cryptography_curve())
        return ec.derive_private_key(number(CKA_VALUE), curve())
    if key_type == CKK_EC_EDWARDS and curve_name(value(CKA_EC_PARAMS)) == "ed25519":
        from cryptography.hazmat.primitives.asymmetric import ed25519

        return ed25519.Ed25519PrivateKey.from_private_bytes(value(CKA_VALUE))
    if key_type == CKK_DSA:
        return _dsa_key(number(CKA_PRIME), number(CKA_SUBPRIME), number(CKA_BASE), number(CKA_VALUE))
    return None


def _dsa_key(p: int, q: int, g: int, x: int) -> Any:
    """A DSA private key from its domain parameters and x; y is g^x mod p."""
    import warnings

    from cryptography.hazmat.primitives.asymmetric import dsa
    from cryptography.utils import CryptographyDeprecationWarning

    if not (p and q and g):
        raise ValueError("the DSA domain parameters are missing")
    with warnings.catch_warnings():  # "DSA is deprecated": cryptography's plan, not the user's concern
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        parameters = dsa.DSAParameterNumbers(p, q, g)
        return dsa.DSAPrivateNumbers(x, dsa.DSAPublicNumbers(pow(g, x, p), parameters)).private_key()
