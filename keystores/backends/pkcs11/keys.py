"""Key material between cryptography objects and PKCS#11 attributes, and signing with a token key.

Object IDs follow the convention NSS, OpenSC and Java use: CKA_ID = SHA-1 of the RSA modulus or of the EC/EdDSA
public point, so a key, its public key and its certificate written by any of them pair up.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

from keystores.crypto import der
from keystores.errors import KeystoreError, UsageError
from keystores.model import describe_key
from keystores.pki.curves import curve_named, curve_of_params

ED25519_PARAMS = bytes.fromhex("06032b6570")  # OID 1.3.101.112
# RFC 8410 allows tokens to spell the curve as a PrintableString too (SoftHSM accepts both).
ED25519_NAMES = (ED25519_PARAMS, b"\x13\x0cedwards25519", b"\x13\x07Ed25519")

# DigestInfo prefixes for CKM_RSA_PKCS when the token lacks the combined hash-and-sign mechanism (RFC 8017 9.2).
DIGEST_INFO = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha224": bytes.fromhex("302d300d06096086480165030402040500041c"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


def unwrap_point(value: bytes) -> bytes:
    """CKA_EC_POINT as the spec says (DER OCTET STRING) or as some tokens give it (the raw point)."""
    with contextlib.suppress(der.DerError):
        tag, start, end = der.read(value)
        if tag == 0x04 and end == len(value):
            return value[start:end]
    return value


def key_id_for(public_key: Any) -> bytes:
    """SHA-1 of the RSA modulus or the EC/EdDSA public point (the NSS/OpenSC/Java CKA_ID convention)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        n = public_key.public_numbers().n
        material = n.to_bytes((n.bit_length() + 7) // 8, "big")
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        material = public_key.public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        material = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        material = public_key.public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha1(material).digest()


def ec_params_for(name: str) -> bytes:
    """CKA_EC_PARAMS for the curve named `name` (keystores.pki.curves); UsageError for a curve not written."""
    curve = curve_named(name)
    if curve is None:
        raise UsageError(f"EC curve {name} is not one keystores writes to tokens (P-256/384/521)")
    return curve.params_der


def curve_name(ec_params: bytes) -> str | None:
    """The curve CKA_EC_PARAMS names: a keystores.pki.curves name, "ed25519", or None."""
    curve = curve_of_params(ec_params)
    if curve is not None:
        return curve.name
    if ec_params in ED25519_NAMES:
        return "ed25519"
    return None


def public_key_from_attributes(attrs: dict[Any, Any]) -> Any:
    """A cryptography public key from a key object's attributes; None when the token does not say enough."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from pkcs11 import Attribute, KeyType

    key_type = attrs.get(Attribute.KEY_TYPE)
    if key_type == KeyType.RSA and attrs.get(Attribute.MODULUS) and attrs.get(Attribute.PUBLIC_EXPONENT):
        n = int.from_bytes(attrs[Attribute.MODULUS], "big")
        e = int.from_bytes(attrs[Attribute.PUBLIC_EXPONENT], "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    point = attrs.get(Attribute.EC_POINT)
    params = attrs.get(Attribute.EC_PARAMS)
    if not point or not params:
        return None
    curve = curve_name(params)
    raw = unwrap_point(point)
    named = curve_of_params(params)
    if key_type == KeyType.EC and named is not None:
        return ec.EllipticCurvePublicKey.from_encoded_point(named.cryptography_curve(), raw)
    if key_type == KeyType.EC_EDWARDS and curve == "ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    return None


def private_key_from_attributes(attrs: dict[Any, Any]) -> Any:
    """A cryptography private key from a non-sensitive, extractable key's attributes; None if not readable."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from pkcs11 import Attribute, KeyType

    def number(attribute: Any) -> int:
        return int.from_bytes(attrs[attribute], "big")

    key_type = attrs.get(Attribute.KEY_TYPE)
    try:
        if key_type == KeyType.RSA:
            public = rsa.RSAPublicNumbers(number(Attribute.PUBLIC_EXPONENT), number(Attribute.MODULUS))
            return rsa.RSAPrivateNumbers(
                p=number(Attribute.PRIME_1), q=number(Attribute.PRIME_2), d=number(Attribute.PRIVATE_EXPONENT),
                dmp1=number(Attribute.EXPONENT_1), dmq1=number(Attribute.EXPONENT_2),
                iqmp=number(Attribute.COEFFICIENT), public_numbers=public).private_key()
        curve = curve_name(attrs.get(Attribute.EC_PARAMS) or b"")
        named = curve_of_params(attrs.get(Attribute.EC_PARAMS) or b"")
        if key_type == KeyType.EC and named is not None:
            return ec.derive_private_key(number(Attribute.VALUE), named.cryptography_curve())
        if key_type == KeyType.EC_EDWARDS and curve == "ed25519":
            return ed25519.Ed25519PrivateKey.from_private_bytes(attrs[Attribute.VALUE])
    except (KeyError, ValueError):
        return None
    return None


def private_key_template(key: Any) -> dict[Any, Any]:
    """CKA_ attributes holding a software private key's values (for C_CreateObject)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from pkcs11 import Attribute, KeyType

    def big(value: int) -> bytes:
        return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")

    if isinstance(key, rsa.RSAPrivateKey):
        nums = key.private_numbers()
        return {Attribute.KEY_TYPE: KeyType.RSA, Attribute.MODULUS: big(nums.public_numbers.n),
                Attribute.PUBLIC_EXPONENT: big(nums.public_numbers.e), Attribute.PRIVATE_EXPONENT: big(nums.d),
                Attribute.PRIME_1: big(nums.p), Attribute.PRIME_2: big(nums.q), Attribute.EXPONENT_1: big(nums.dmp1),
                Attribute.EXPONENT_2: big(nums.dmq1), Attribute.COEFFICIENT: big(nums.iqmp),
                Attribute.DECRYPT: True}
    if isinstance(key, ec.EllipticCurvePrivateKey):
        params = ec_params_for(key.curve.name)
        size = (key.curve.key_size + 7) // 8
        return {Attribute.KEY_TYPE: KeyType.EC, Attribute.EC_PARAMS: params,
                Attribute.VALUE: key.private_numbers().private_value.to_bytes(size, "big"),
                Attribute.DERIVE: True}
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
        return {Attribute.KEY_TYPE: KeyType.EC_EDWARDS, Attribute.EC_PARAMS: ED25519_PARAMS, Attribute.VALUE: raw}
    from keystores.pki.undecoded import UndecodedPrivateKey

    kind = key.key_type if isinstance(key, UndecodedPrivateKey) else describe_key(key.public_key())
    raise UsageError(f"keystores cannot write a {kind} key onto a token (RSA, EC and Ed25519 only)")


def public_key_template(public_key: Any) -> dict[Any, Any]:
    """CKA_ attributes of a public key object."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
    from pkcs11 import Attribute, KeyType

    if isinstance(public_key, rsa.RSAPublicKey):
        nums = public_key.public_numbers()
        return {Attribute.KEY_TYPE: KeyType.RSA, Attribute.MODULUS: nums.n.to_bytes((nums.n.bit_length() + 7) // 8,
                                                                                  "big"),
                Attribute.PUBLIC_EXPONENT: nums.e.to_bytes((nums.e.bit_length() + 7) // 8, "big"),
                Attribute.ENCRYPT: True}
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        point = public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        return {Attribute.KEY_TYPE: KeyType.EC, Attribute.EC_PARAMS: ec_params_for(public_key.curve.name),
                Attribute.EC_POINT: der.octet_string(point)}
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {Attribute.KEY_TYPE: KeyType.EC_EDWARDS, Attribute.EC_PARAMS: ED25519_PARAMS,
                Attribute.EC_POINT: der.octet_string(raw)}
    raise UsageError(f"keystores cannot write a {describe_key(public_key)} key onto a token")


class TokenSigner:
    """A model.Signer over a private key object on an open token session.

    Hashes on the host and signs with CKM_RSA_PKCS (over a DigestInfo) or CKM_ECDSA when the token lacks the
    combined mechanism (SoftHSM has no CKM_ECDSA_SHA256); ECDSA signatures come back as DER ECDSA-Sig-Value.
    Valid while the store that made it is open.
    """

    def __init__(self, key_object: Any, public_key: Any, mechanisms: set[Any], *, where: str, label: str) -> None:
        self._key = key_object
        self._public_key = public_key
        self._mechanisms = mechanisms
        self._where = where
        self._label = label

    @property
    def public_key(self) -> Any:
        return self._public_key

    def sign(self, data: bytes, hash_name: str) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        from pkcs11 import Mechanism, PKCS11Error

        from keystores.backends.pkcs11.tokens import describe_error

        hash_name = hash_name.lower().replace("-", "")
        public = self._public_key
        try:
            if isinstance(public, ed25519.Ed25519PublicKey):
                return bytes(self._key.sign(data, mechanism=Mechanism.EDDSA))
            if hash_name not in DIGEST_INFO:
                raise UsageError(f"unknown hash '{hash_name}'; use sha256, sha384, sha512, sha224 or sha1",
                                 store=self._where, label=self._label)
            upper = hash_name.upper()
            if isinstance(public, rsa.RSAPublicKey):
                combined = getattr(Mechanism, f"{upper}_RSA_PKCS", None)
                if combined is not None and combined in self._mechanisms:
                    return bytes(self._key.sign(data, mechanism=combined))
                digest = hashlib.new(hash_name, data).digest()
                return bytes(self._key.sign(DIGEST_INFO[hash_name] + digest, mechanism=Mechanism.RSA_PKCS))
            if isinstance(public, ec.EllipticCurvePublicKey):
                combined = getattr(Mechanism, f"ECDSA_{upper}", None)
                if combined is not None and combined in self._mechanisms:
                    raw = bytes(self._key.sign(data, mechanism=combined))
                else:
                    raw = bytes(self._key.sign(hashlib.new(hash_name, data).digest(), mechanism=Mechanism.ECDSA))
                half = len(raw) // 2
                return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
        except PKCS11Error as exc:
            raise KeystoreError(f"the token refused to sign ({describe_error(exc)})", store=self._where,
                                label=self._label) from exc
        raise UsageError(f"cannot sign with a {type(public).__name__} token key", store=self._where,
                         label=self._label)


class TokenDecrypter:
    """A model.Decrypter over an RSA private key object on an open token session: CKM_RSA_PKCS decryption (PKCS#1
    v1.5 key transport) done on the token; the plaintext key comes back, the private key never leaves.
    Valid while the store that made it is open."""

    def __init__(self, key_object: Any, public_key: Any, *, where: str, label: str) -> None:
        self._key = key_object
        self._public_key = public_key
        self._where = where
        self._label = label

    @property
    def public_key(self) -> Any:
        return self._public_key

    def decrypt(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism, PKCS11Error

        from keystores.backends.pkcs11.tokens import describe_error

        try:
            return bytes(self._key.decrypt(data, mechanism=Mechanism.RSA_PKCS))
        except PKCS11Error as exc:
            raise KeystoreError(f"the token refused to decrypt ({describe_error(exc)})", store=self._where,
                                label=self._label) from exc
