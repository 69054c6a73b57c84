"""The PKCS#8 keystores.pki.pkcs8.pkcs8_der writes for an EC key, read from a decrypted PrivateKeyInfo's bytes without
loading the key (pkcs8_of_ec_der: Entry.held_pkcs8, what a sealed PKCS#12, PEM or other key is written as by convert,
import and export), and that PKCS#8 encrypted as cryptography's BestAvailableEncryption encrypts it
(encrypted_as_cryptography). keystores.pki.pkcs8 serves these names too; they are a module of their own so that a
command that writes a held key loads none of pkcs8's writers from cryptography's key objects and HeldEcKey (~16 KB of
bytecode against ~5 KB here: convert one.p12 to JKS, .kdb, PEM or NSS, bench/bench_commands.py, issue 15).
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
