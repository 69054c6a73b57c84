"""Certificate facts the lifecycle needs: who signed whom, chain building, weak algorithms, short descriptions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

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


def signature_valid(data: x509.Certificate | x509.CertificateSigningRequest, public_key: object) -> bool:
    """Whether `public_key` made the signature on a certificate or request, whatever its hash (MD5 too)."""
    from cryptography import x509 as cx509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    tbs = data.tbs_certificate_bytes if isinstance(data, cx509.Certificate) else data.tbs_certrequest_bytes
    try:
        algorithm = data.signature_hash_algorithm
        params = data.signature_algorithm_parameters
        if isinstance(public_key, rsa.RSAPublicKey):
            from cryptography.hazmat.primitives.asymmetric import padding

            # cryptography gives no parameters for md5WithRSAEncryption; it is PKCS#1 v1.5 all the same
            params = params if params is not None else padding.PKCS1v15()
            public_key.verify(data.signature, tbs, params, algorithm)  # type: ignore[arg-type]
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(data.signature, tbs, params)  # type: ignore[arg-type]
        elif isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            public_key.verify(data.signature, tbs)
        elif isinstance(public_key, dsa.DSAPublicKey):
            public_key.verify(data.signature, tbs, algorithm)  # type: ignore[arg-type]
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        return False
    return True


def issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """The issuer's subject is the child's issuer and the issuer's key made the child's signature."""
    if child.issuer != issuer.subject:
        return False
    public_key = public_key_of(issuer)
    return public_key is not None and signature_valid(child, public_key)


def is_self_signed(cert: x509.Certificate) -> bool:
    return issued_by(cert, cert)


def build_path(leaf: x509.Certificate, pool: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """The longest issuer path from `leaf` through `pool` (leaf first), stopping at a self-signed certificate
    or where no issuer is found. Certificates that only share a name but did not sign are not taken."""
    candidates = list(dict.fromkeys(pool))
    path = [leaf]
    current = leaf
    while not is_self_signed(current):
        issuer = next((c for c in candidates if c not in path and issued_by(current, c)), None)
        if issuer is None:
            break
        path.append(issuer)
        current = issuer
    return path


def public_key_of(cert: x509.Certificate) -> object | None:
    """The certificate's public key, or None when its algorithm is one cryptography does not know."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        return cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return None


def weak_key(public_key: object) -> str | None:
    """Why a key is too weak today, or None: RSA/DSA below 2048 bits, EC below 256."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < 2048:
        return f"RSA key of {public_key.key_size} bits (< 2048)"
    if isinstance(public_key, dsa.DSAPublicKey) and public_key.key_size < 2048:
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
