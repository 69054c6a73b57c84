"""EC keys held as the PKCS#8 keystores.pki.pkcs8.pkcs8_der writes for them, without cryptography: that PKCS#8 read
from a decrypted PrivateKeyInfo's bytes without loading the key (pkcs8_of_ec_der: Entry.held_pkcs8, what convert,
import and export write a sealed PKCS#12, PEM or other EC key as), encrypted as cryptography's BestAvailableEncryption
encrypts it (encrypted_as_cryptography), and HeldEcKey, a Signer over such a key (made_ec_key: certreq's and
selfsign's new key; held_ec_key: sign's CA key). keystores.pki.pkcs8 serves these names too; they are a module of
their own so that these commands load none of pkcs8's writers from cryptography's key objects (issue 15).
"""

from __future__ import annotations

from keystores.crypto import der

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_EC_PUBLIC_KEY_OID = bytes.fromhex("06072a8648ce3d0201")  # id-ecPublicKey
_VERSION_0 = b"\x02\x01\x00"


def _ec_pkcs8(curve: Any, scalar: bytes, point: bytes) -> bytes:
    """RFC 5915 ECPrivateKey with the public point and without the curve, in a PrivateKeyInfo naming the curve."""
    ec_private_key = der.sequence(b"\x02\x01\x01", der.octet_string(scalar),
                                  der.tlv(0xA1, der.tlv(0x03, b"\x00" + point)))
    return der.sequence(_VERSION_0, der.sequence(_EC_PUBLIC_KEY_OID, curve.params_der),
                        der.octet_string(ec_private_key))


def pkcs8_of_ec_der(plain: bytes) -> bytes | None:
    """What pkcs8_der writes for the key in the PrivateKeyInfo DER `plain`, read from its bytes without loading it
    in cryptography: a speed device for `convert`/`export` of a PKCS#12 EC key to PEM (cryptography's compiled module,
    ~10 ms of CPU to load, then serves nothing else; bench/bench_core.py "start-up: keystores convert"). Only an EC
    key on a curve of keystores.pki.curves in the plain form keytool, OpenSSL and keystores write: the named curve,
    an ECPrivateKey of version 1 with its scalar at the curve's length (cryptography refuses a shorter one), the
    curve and the public point optional, no attributes. The
    public point is computed by the interpreter's libcrypto (keystores.crypto.libcrypto), which also refuses a
    scalar that is no private key on the curve; a point the key holds must be that one, uncompressed. Anything
    else is None: cryptography's to load and judge, as before. tests/test_pkcs8.py holds this to pkcs8_der."""
    parts = _ec_parts(plain)
    return None if parts is None else _ec_pkcs8(*parts)


def _ec_parts(plain: bytes) -> tuple[Any, bytes, bytes] | None:
    """(curve, scalar, public point) of the EC key pkcs8_of_ec_der reads from `plain`, or None."""
    from keystores.crypto import libcrypto
    from keystores.pki.curves import curve_of_params

    try:
        version, algorithm, key = der.inside(plain, whole=True)
        if plain[version[1]:version[3]] != _VERSION_0:
            return None
        oid, params = der.inside_element(plain, algorithm)
        curve = curve_of_params(plain[params[1]:params[3]])
        if plain[oid[1]:oid[3]] != _EC_PUBLIC_KEY_OID or curve is None:
            return None
        ec_private_key = der.element_octets(plain, key)
        version, scalar, *optional = der.inside(ec_private_key, whole=True)
        scalar_bytes = der.element_octets(ec_private_key, scalar)
        if ec_private_key[version[1]:version[3]] != b"\x02\x01\x01" or len(scalar_bytes) != curve.size:
            return None
        held_point = None
        tags = [element[0] for element in optional]
        if tags not in ([], [0xA0], [0xA1], [0xA0, 0xA1]):
            return None
        for element in optional:
            inner = ec_private_key[element[2]:element[3]]
            if element[0] == 0xA0 and inner != curve.params_der:
                return None
            if element[0] == 0xA1:
                tag, start, end = der.read(inner, minimal=True)
                if tag != 0x03 or end != len(inner) or inner[start:start + 1] != b"\x00":
                    return None
                held_point = inner[start + 1:end]
    except (der.DerError, ValueError):
        return None
    point = libcrypto.ec_public_point(curve.oid, scalar_bytes)
    if point is None or held_point not in (None, point):
        return None
    return curve, scalar_bytes, point


def encrypted_as_cryptography(plain: bytes, password: str) -> bytes:
    """The PrivateKeyInfo DER `plain` encrypted as encrypted_pkcs8_der encrypts a key."""
    from keystores.crypto import pbe

    return pbe.encrypt_pkcs8(plain, password, iterations=2048, salt_length=16, prf_null=True)


class HeldEcKey:
    """An EC private key held as its PKCS#8 (as pkcs8_der writes it), and a Signer (keystores.protocols) over it
    that signs through libcrypto (keystores.crypto.ec_keys): a key libcrypto made for certreq and selfsign
    (made_ec_key), or a CA's key sign reads from a file (held_ec_key), used without cryptography (start-up speed,
    bench/bench_core.py "start-up: keystores certreq"/"sign"). `public_key` is a keystores.pki.spki.SpkiKey;
    `loaded` gives cryptography's key (a store that keeps key objects, a pending request), and a signature
    libcrypto declines is cryptography's."""

    __slots__ = ("_parts", "pkcs8", "public_key")

    def __init__(self, pkcs8: bytes, public_key: Any, parts: tuple[Any, bytes, bytes] | None = None) -> None:
        """`parts`: (curve, scalar, public point) of the key, as _ec_parts reads them: it signs from them, without
        libcrypto decoding the PKCS#8 (keystores.crypto.ec_keys.sign_ec)."""
        self.pkcs8, self.public_key, self._parts = pkcs8, public_key, parts

    def sign(self, data: bytes, hash_name: str) -> bytes:
        from keystores.crypto import ec_keys

        signature = None
        if self._parts is not None:
            curve, scalar, point = self._parts
            signature = ec_keys.sign_ec(curve.oid, scalar, point, data, hash_name)
        if signature is None:  # (no parts, or libcrypto did not make the key from them: it decodes the PKCS#8)
            signature = ec_keys.sign(self.pkcs8, data, hash_name)
        if signature is not None:
            return signature
        from keystores.model import private_key_signer

        return private_key_signer(self.loaded()).sign(data, hash_name)

    def loaded(self) -> Any:
        from keystores.crypto.key_encoding import load_der_private_key

        return load_der_private_key(self.pkcs8, None)


def made_ec_key(curve: Any) -> HeldEcKey | None:
    """A new key on `curve` (keystores.pki.curves) made by libcrypto, with the public point its keygen made
    (keystores.crypto.ec_keys.generate; every signature made with the key is checked with that point before it is
    written); None where libcrypto does not do it: the caller makes the key with cryptography."""
    from keystores.crypto import ec_keys

    made = ec_keys.generate(curve.oid, curve.size)
    return None if made is None else _held(curve, *made)


def held_ec_key(plain: bytes) -> HeldEcKey | None:
    """The EC key of the PrivateKeyInfo DER `plain` as a HeldEcKey, where pkcs8_of_ec_der reads it (checked by
    libcrypto); None for any other key, which the caller loads with cryptography."""
    parts = _ec_parts(plain)
    return None if parts is None else _held(*parts)


def _held(curve: Any, scalar: bytes, point: bytes) -> HeldEcKey:
    from keystores.pki.spki import SpkiKey

    spki = der.sequence(der.sequence(_EC_PUBLIC_KEY_OID, curve.params_der), der.tlv(0x03, b"\x00" + point))
    return HeldEcKey(_ec_pkcs8(curve, scalar, point), SpkiKey(spki, "ec", curve.bits), (curve, scalar, point))
