"""Certificate chain ordering: from a leaf up through whichever candidates actually issued it.

Bottom layer (beside model.py): pure functions over cryptography certificates, so backends (PEM, PKCS#12, CMS,
NSS) and pki/ can all use it without importing upward.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography import x509


def is_self_issued(cert: x509.Certificate) -> bool:
    """True when subject and issuer names are equal (a root, or a self-issued key-rollover certificate)."""
    return cert.subject == cert.issuer


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when `issuer`'s subject is `cert`'s issuer AND `issuer`'s key verifies `cert`'s signature.

    Any failure to verify (wrong key, unknown algorithm, damaged signature) counts as "not issued by". MD5 and
    SHA-1 signatures verify too: audit must be able to say "weak", not "broken".
    """
    if cert.issuer != issuer.subject:
        return False
    public_key = public_key_of(issuer)
    return public_key is not None and signature_valid(cert, public_key)

def signature_valid(data: x509.Certificate | x509.CertificateSigningRequest, public_key: object) -> bool:
    """Whether `public_key` made the signature on a certificate or request, whatever its hash (MD5 too)."""
    from cryptography import x509 as cx509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    from keystores.model import dsa_public_key_type

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
        elif isinstance(public_key, dsa_public_key_type()):
            public_key.verify(data.signature, tbs, algorithm)  # type: ignore[arg-type]
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError):
        return False
    return True


def public_key_of(cert: x509.Certificate) -> object | None:
    """The certificate's public key, or None when its algorithm is one cryptography does not know."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        return cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return None



def order_chain(leaf: x509.Certificate, candidates: Iterable[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """`leaf` first, then its issuer, its issuer's issuer ... found among `candidates`.

    An issuer counts only when its subject matches the issuer name AND its key verifies the signature. When several
    candidates qualify (cross-signed CAs) the earliest in `candidates` wins, so callers express preference by order.
    Stops at a self-issued certificate, when no candidate matches, or when a certificate would repeat (cycle-safe).
    Candidates equal to the leaf and duplicates are ignored; candidates that are not part of the chain are left out.
    """
    by_subject: dict[x509.Name, list[x509.Certificate]] = {}
    for cand in candidates:
        by_subject.setdefault(cand.subject, []).append(cand)
    return build_chain(leaf, lambda cert: by_subject.get(cert.issuer, ()))


def build_chain(leaf: x509.Certificate,
                issuers: Callable[[x509.Certificate], Iterable[x509.Certificate]]) -> tuple[x509.Certificate, ...]:
    """order_chain over a lookup: `issuers(cert)` yields the candidates for `cert`'s issuer, preferred first.

    For callers that chain many leaves against one large set (index it once by subject instead of per leaf).
    Names and signatures are checked here whatever the lookup returns.
    """
    from cryptography.hazmat.primitives import hashes

    def fingerprint(cert: x509.Certificate) -> bytes:
        return cert.fingerprint(hashes.SHA256())

    chain = [leaf]
    seen = {fingerprint(leaf)}
    current = leaf
    while not is_self_issued(current):
        found = None
        for cand in issuers(current):
            print_ = fingerprint(cand)
            if print_ in seen:
                continue
            if issued_by(current, cand):
                found = cand
                seen.add(print_)
                break
        if found is None:
            break
        chain.append(found)
        current = found
    return tuple(chain)


@contextlib.contextmanager
def quietly_decoding() -> Iterator[None]:
    """cryptography's warnings about what it reads kept from the user: a negative serial number (common in old
    roots) and a country name that is not two letters long are facts about someone else's certificate, warned
    about once per process with a library's words. Only those are silenced, and only while decoding: names and
    serials are decoded here once and kept by cryptography, so later uses do not warn. Our own warnings pass."""
    import warnings

    from cryptography.utils import CryptographyDeprecationWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)
        warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)
        yield


def serial_of(cert: Any) -> int:
    """The serial number, without cryptography's warning when it is not positive (it warns on every read)."""
    with quietly_decoding():
        return int(cert.serial_number)


def decode_certificate(der: bytes) -> Any:
    """The certificate in `der`, fully_decoded. cryptography refuses an unknown version with InvalidVersion, which
    is not a ValueError: it is raised as one here, so a backend's handler for damage sees every refusal."""
    from cryptography import x509 as cx509

    try:
        with quietly_decoding():
            return fully_decoded(cx509.load_der_x509_certificate(der))
    except cx509.InvalidVersion as exc:
        raise ValueError(str(exc)) from exc


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
