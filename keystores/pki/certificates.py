"""Certificate facts the lifecycle needs: who signed whom, chain building, weak algorithms, short descriptions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from keystores.pki.chain import issued_by, order_chain, public_key_of, signature_valid

if TYPE_CHECKING:
    from cryptography import x509

WEAK_HASHES = ("md5", "sha1")


def describe(cert: x509.Certificate) -> str:
    """The subject in the MQ/RFC 4514 form."""
    from keystores.pki.dn import DistinguishedName

    return DistinguishedName.from_x509(cert.subject).normalized() or "(empty subject)"


def signature_hash(obj: x509.Certificate | x509.CertificateSigningRequest) -> str | None:
    """"sha256", "sha1", "md5"...; None for Ed25519/Ed448 (no separate hash); "unknown" when unrecognised."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        algorithm = obj.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return "unknown"
    return None if algorithm is None else algorithm.name.replace("-", "")




def is_self_signed(cert: x509.Certificate) -> bool:
    return issued_by(cert, cert)




def weak_key(public_key: object) -> str | None:
    """Why a key is too weak today, or None: RSA/DSA below 2048 bits, EC below 256."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from keystores.model import dsa_public_key_type

    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < 2048:
        return f"RSA key of {public_key.key_size} bits (< 2048)"
    if isinstance(public_key, dsa_public_key_type()) and public_key.key_size < 2048:  # type: ignore[attr-defined]
        return f"DSA key of {public_key.key_size} bits (< 2048)"
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.key_size < 256:
        return f"EC key on {public_key.curve.name} (< 256 bits)"
    return None


def is_ca(cert: x509.Certificate) -> bool:
    """Basic constraints say CA (a v1 self-signed root without extensions counts, as every TLS stack allows)."""
    from cryptography import x509 as cx509

    try:
        return bool(cert.extensions.get_extension_for_class(cx509.BasicConstraints).value.ca)
    except cx509.ExtensionNotFound:
        return cert.version is cx509.Version.v1 and is_self_signed(cert)
    except ValueError:  # malformed extensions: not a CA anyone should rely on
        return False


def may_sign_certificates(cert: x509.Certificate) -> bool:
    """Key usage, when present, allows keyCertSign."""
    from cryptography import x509 as cx509

    try:
        return cert.extensions.get_extension_for_class(cx509.KeyUsage).value.key_cert_sign
    except cx509.ExtensionNotFound:
        return True
    except ValueError:
        return False


def build_path(leaf: x509.Certificate, pool: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """The issuer path from `leaf` through `pool` (leaf first): keystores.pki.chain.order_chain, as a list."""
    return list(order_chain(leaf, pool))


__all__ = ["build_path", "describe", "is_ca", "is_self_signed", "issued_by", "may_sign_certificates",
           "public_key_of", "signature_hash", "signature_valid", "weak_key"]
