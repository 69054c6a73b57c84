"""A private key as an unencrypted PKCS#8 PrivateKeyInfo (DER), written with keystores.crypto.der from the key's
numbers, byte for byte as cryptography's `private_bytes(DER, PKCS8, NoEncryption())` writes it.

A speed device (bench/bench_core.py, the "start-up: keystores certreq" row; issue 15): cryptography's
private_bytes imports the public cryptography.hazmat.primitives.serialization package to check its
`encryption_algorithm` (and the package imports serialization.ssh, dataclasses and inspect: ~15 ms), while a
key's numbers and its public point come without it. The key types keystores makes are written here: EC on the curves
of keystores.pki.curves (RFC 5915 ECPrivateKey with the public key and without the curve, which the
AlgorithmIdentifier names), RSA (RFC 8017 RSAPrivateKey, two primes) and Ed25519 (RFC 8410), each from what
cryptography's interface for the type gives (private_numbers, private_bytes_raw). Any other key is cryptography's
to write. tests/test_pkcs8.py holds the bytes to
private_bytes for many keys of each type. `encrypted_pkcs8_der` protects a key as BestAvailableEncryption does
(export and convert to PEM or DER with a password).
"""

from __future__ import annotations

from keystores.crypto import der
from keystores.pki.held_pkcs8 import _VERSION_0, _ec_pkcs8
from keystores.pki.held_pkcs8 import HeldEcKey as HeldEcKey
from keystores.pki.held_pkcs8 import encrypted_as_cryptography as encrypted_as_cryptography
from keystores.pki.held_pkcs8 import held_ec_key as held_ec_key
from keystores.pki.held_pkcs8 import made_ec_key as made_ec_key
from keystores.pki.held_pkcs8 import pkcs8_of_ec_der as pkcs8_of_ec_der

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")  # rsaEncryption, NULL parameters
_ED25519_ALGORITHM = bytes.fromhex("300506032b6570")  # id-Ed25519, no parameters


def pkcs8_der(private_key: Any) -> bytes:
    """`private_key` (cryptography's) as PKCS#8 PrivateKeyInfo DER; see the module docstring."""
    written = _written_here(private_key)
    if written is not None:
        return written
    from keystores.crypto.key_encoding import Encoding, NoEncryption, PrivateFormat

    return private_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())  # type: ignore[no-any-return]


def _written_here(private_key: Any) -> bytes | None:
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return _ec(private_key)
    from cryptography.hazmat.primitives.asymmetric import ed25519  # only for a key that is not EC (start-up speed)

    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        seed = private_key.private_bytes_raw()
        return der.sequence(_VERSION_0, _ED25519_ALGORITHM, der.octet_string(der.octet_string(seed)))
    from cryptography.hazmat.primitives.asymmetric import rsa  # only now: it imports `random` (2 ms)

    if isinstance(private_key, rsa.RSAPrivateKey):
        return _rsa(private_key)
    return None


def _ec(private_key: Any) -> bytes | None:
    from keystores.crypto.key_encoding import Encoding, PublicFormat
    from keystores.pki.curves import curve_named

    curve = curve_named(private_key.curve.name)
    if curve is None or curve.name != private_key.curve.name:
        return None
    point = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    scalar = private_key.private_numbers().private_value.to_bytes(curve.size, "big")
    return _ec_pkcs8(curve, scalar, point)


def _rsa(private_key: Any) -> bytes:
    numbers = private_key.private_numbers()
    public = numbers.public_numbers
    rsa_private_key = der.sequence(_VERSION_0, *(der.integer(value) for value in (
        public.n, public.e, numbers.d, numbers.p, numbers.q, numbers.dmp1, numbers.dmq1, numbers.iqmp)))
    return der.sequence(_VERSION_0, _RSA_ALGORITHM, der.octet_string(rsa_private_key))


def encrypted_pkcs8_der(private_key: Any, password: str) -> bytes:
    """`private_key` as an EncryptedPrivateKeyInfo (DER) under `password`, protected as cryptography's
    `private_bytes(DER, PKCS8, BestAvailableEncryption(password))` protects it: PBES2, PBKDF2-HMAC-SHA-256 (its PRF
    written with NULL parameters) over 2048 iterations and a 16-byte salt, AES-256-CBC with a 16-byte IV
    (keystores.crypto.pbe); a key not written here is encrypted by cryptography. tests/test_export_lean.py holds
    both to cryptography's: the same plain key once decrypted, the same parameters but for the salt and IV."""
    plain = _written_here(private_key)
    if plain is None:
        from keystores.crypto.key_encoding import BestAvailableEncryption, Encoding, PrivateFormat

        return private_key.private_bytes(  # type: ignore[no-any-return]
            Encoding.DER, PrivateFormat.PKCS8, BestAvailableEncryption(password.encode("utf-8")))
    return encrypted_as_cryptography(plain, password)
