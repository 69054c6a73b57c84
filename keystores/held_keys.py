"""The Signer and Decrypter over a key held in memory that keystores.model's private_key_signer and
private_key_decrypter give: apart from keystores.model, which every command loads, because only signing and
decrypting with a file's key use them (start-up, issue 15).
"""

from __future__ import annotations

from keystores.errors import UsageError
from keystores.model import describe_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes


class _HeldKey:
    """A private key held in memory, and its public key (what Signer and Decrypter share)."""

    def __init__(self, key: PrivateKeyTypes) -> None:
        self._key: Any = key

    @property
    def public_key(self) -> PublicKeyTypes:
        return self._key.public_key()


class SoftwareDecrypter(_HeldKey):
    def decrypt(self, data: bytes) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import padding

        from keystores.errors import KeystoreError

        try:
            return self._key.decrypt(data, padding.PKCS1v15())
        except ValueError as exc:
            raise KeystoreError("the key does not decrypt this (not encrypted for it, or damaged)") from exc


class SoftwareSigner(_HeldKey):
    def sign(self, data: bytes, hash_name: str) -> bytes:
        # Each key type's module is imported only for a key not of the types before it (start-up speed).
        from cryptography.hazmat.primitives.asymmetric import ec

        from keystores.crypto.signatures import ecdsa, hash_algorithm

        key = self._key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ecdsa(hash_name))
        from cryptography.hazmat.primitives.asymmetric import rsa

        if isinstance(key, rsa.RSAPrivateKey):
            from cryptography.hazmat.primitives.asymmetric import padding

            return key.sign(data, padding.PKCS1v15(), hash_algorithm(hash_name))
        from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

        if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
            return key.sign(data)
        from keystores.pki.undecoded import UndecodedPrivateKey

        kind = key.key_type if isinstance(key, UndecodedPrivateKey) else describe_key(key.public_key())
        raise UsageError(f"keystores cannot sign with a {kind} key")
