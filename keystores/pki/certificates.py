"""Facts about one certificate: decoding that degrades to keystores.pki.undecoded instead of failing, its public key,
signature hash, and whether its key is too weak today (its subject in words: keystores.pki.dn.describe)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cryptography import x509

WEAK_HASHES = ("md5", "sha1")


def signature_hash(obj: x509.Certificate | x509.CertificateSigningRequest) -> str | None:
    """"sha256", "sha1", "md5"...; None for Ed25519/Ed448 (no separate hash); "unknown" when unrecognised."""
    from keystores.pki.shown import ShownCertificate

    if isinstance(obj, ShownCertificate):  # read from its DER (start-up speed)
        return obj.shown.signature_hash
    from keystores.pki.undecoded import RawCertificate

    if isinstance(obj, RawCertificate) and obj.view is None:  # cryptography refused it: its OID names the hash
        return obj.signature_hash_name or "unknown"
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        algorithm = obj.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError):  # ValueError: RSA-PSS without its parameters
        return "unknown"
    return None if algorithm is None else algorithm.name.replace("-", "")


def weak_key(public_key: object) -> str | None:
    """Why a key is too weak today, or None: RSA/DSA below 2048 bits, EC below 256. Each key type's module is
    imported only for a key not of the types before it, EC first (start-up: audit of a store of EC keys)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return f"EC key on {public_key.curve.name} (< 256 bits)" if public_key.curve.key_size < 256 else None
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA key of {public_key.key_size} bits (< 2048)" if public_key.key_size < 2048 else None
    from keystores.model import dsa_public_key_type

    if isinstance(public_key, dsa_public_key_type()) and public_key.key_size < 2048:  # type: ignore[attr-defined]
        return f"DSA key of {public_key.key_size} bits (< 2048)"
    return None


def public_key_of(cert: x509.Certificate) -> object | None:
    """The certificate's public key, or None when its algorithm is one cryptography does not know."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        return cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return None


def rsa_bits(public_key: object) -> int | None:
    """The RSA modulus size of a public key (what a check by it costs), None for other keys."""
    return public_key.key_size if is_rsa_public_key(public_key) else None  # type: ignore[attr-defined]


def is_rsa_public_key(key: object) -> bool:
    """isinstance(key, rsa.RSAPublicKey), without importing cryptography's rsa module (it imports `random`: ~4.6 M
    instructions of listing a chain of EC keys) for a key that cannot be one: the RSA keys cryptography loads are
    its Rust class, and any other class can only be one through that module, which is then imported already."""
    import sys

    from cryptography.hazmat.bindings._rust import openssl

    if isinstance(key, openssl.rsa.RSAPublicKey):
        return True
    rsa = sys.modules.get("cryptography.hazmat.primitives.asymmetric.rsa")
    return rsa is not None and isinstance(key, rsa.RSAPublicKey)


class quietly_decoding:
    """cryptography's warnings about what it reads kept from the user: a negative serial number (common in old
    roots) and a country name that is not two letters long are facts about someone else's certificate, warned
    about once per process with a library's words. Only those are silenced, and only while decoding: names and
    serials are decoded here once and kept by cryptography, so later uses do not warn. Our own warnings pass.
    (A class rather than a contextlib.contextmanager: opening a store imports no contextlib, start-up.)"""

    def __enter__(self) -> None:
        import warnings

        from cryptography.utils import CryptographyDeprecationWarning

        self._caught = warnings.catch_warnings()
        self._caught.__enter__()
        warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)
        warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)

    def __exit__(self, *exc: object) -> None:
        self._caught.__exit__(*exc)


def serial_of(cert: Any) -> int:
    """The serial number, without cryptography's warning when it is not positive (it warns on every read)."""
    with quietly_decoding():
        return int(cert.serial_number)


def decode_certificate(der: bytes) -> Any:
    """The certificate in `der`, fully_decoded; one cryptography refuses in part or whole (an unknown key type,
    a duplicated extension, a DSA signature with NULL parameters, bytes that are no certificate) comes back as a
    keystores.pki.undecoded.RawCertificate carrying its DER and the problem: entries are independent, and a backend
    lists it instead of refusing its store."""
    from cryptography import x509 as cx509

    try:
        with quietly_decoding():
            return fully_decoded(cx509.load_der_x509_certificate(der))
    except Exception as exc:  # ValueError, InvalidVersion, UnsupportedAlgorithm, DuplicateExtension ...
        from keystores.pki.undecoded import tolerant_certificate

        with quietly_decoding():
            return tolerant_certificate(der, exc)


def fully_decoded(obj: Any) -> Any:
    """`obj` (a certificate or CSR) after decoding every part cryptography decodes lazily: the public key, names,
    dates, serial, extensions. Raises ValueError/TypeError (damaged) or UnsupportedAlgorithm here, where a
    backend's parser can name the file and record, instead of later in `list` as an internal error."""

    with quietly_decoding():
        return _decode_lazy_parts(obj)


def _decode_lazy_parts(obj: Any) -> Any:
    from cryptography import x509 as cx509

    obj.public_key()
    names = [obj.subject]
    if isinstance(obj, cx509.Certificate):
        names.append(obj.issuer)
        _ = (obj.not_valid_before_utc, obj.not_valid_after_utc, obj.serial_number, obj.signature_algorithm_oid)
    _ = obj.extensions
    for name in names:
        for attribute in name:
            _ = attribute.value
    return obj
