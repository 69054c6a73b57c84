"""Who issued whom: issuer checks by name AND signature, and the one chain builder every backend and operation
uses (order_chain over a list of candidates, build_chain over an index), bounded on hostile input.

Part of pki/, the bottom layer: pure functions over cryptography certificates, so backends (PEM, PKCS#12, CMS,
NSS), ops and the rest of pki/ can all use it without importing upward.
"""

from __future__ import annotations

from keystores.crypto import der
from keystores.pki.spki import key_from_der

# keystores.pki.certificates is imported where a key is loaded: a chain of keys keystores.pki.spki reads is checked
# without it (start-up speed: sign and receive)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from cryptography import x509

    from keystores.limits import VerificationBudget


def is_self_issued(cert: x509.Certificate) -> bool:
    """True when subject and issuer names are equal (a root, or a self-issued key-rollover certificate)."""
    return _names(cert, "subject") == _names(cert, "issuer")


def _names(cert: Any, which: str) -> Any:
    """A certificate's subject or issuer to compare and index by: as encoded for an EncodedCertificate (read from
    its DER: start-up speed), else cryptography's Name. Certificates of one chain search are of one kind."""
    from keystores.pki.encoded import EncodedCertificate

    if isinstance(cert, EncodedCertificate):
        try:
            return cert.subject_der if which == "subject" else cert.issuer_der
        except ValueError:
            pass
    return getattr(cert, which)


def is_self_signed(cert: x509.Certificate) -> bool:
    return issued_by(cert, cert)


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when `issuer`'s subject is `cert`'s issuer AND `issuer`'s key verifies `cert`'s signature.

    Any failure to verify (wrong key, unknown algorithm, damaged signature) counts as "not issued by". MD5 and
    SHA-1 signatures verify too: audit must be able to say "weak", not "broken".
    """
    from keystores.pki.encoded import EncodedCertificate

    if isinstance(cert, EncodedCertificate) and isinstance(issuer, EncodedCertificate):  # names as encoded
        try:
            if cert.issuer_der != issuer.subject_der:
                return False
        except ValueError:
            return False
        return _issued_by_der(cert, issuer)
    if cert.issuer != issuer.subject:
        return False
    from keystores.pki.certificates import public_key_of

    public_key = public_key_of(issuer)
    return public_key is not None and signature_valid(cert, public_key)


# The signature half of issued_by between two certificates held as DER, by (certificate DER, issuer DER): a pure
# function of the two, so each link is checked once per process (a store's reader links its key pairs' chains while
# reading, then audit, validate or receive checks the same links again; a CA shared by many chains is checked once).
_LINKS: dict[tuple[bytes, bytes], bool] = {}


def _issued_by_der(cert: Any, issuer: Any) -> bool:
    link = (cert.der, issuer.der)
    verdict = _LINKS.get(link)
    if verdict is None:
        verdict = _LINKS[link] = _signed_by_der(cert, issuer)
    return verdict


def _signed_by_der(cert: Any, issuer: Any) -> bool:
    """Whether `issuer`'s key made `cert`'s signature (both EncodedCertificates): by the interpreter's libcrypto
    (keystores.crypto.verify) for an RSA key or an EC key on a NIST curve, read from the DER and judged loadable as
    cryptography judges it (keystores.pki.spki), under a hash the signature's OID names (start-up speed: no
    cryptography import for a chain of such keys, bench_core's "start-up: keystores audit s.kdb"); else, or where
    libcrypto cannot say, as cryptography verifies it (signature_valid). Where a command has loaded cryptography's
    keys already (sign, a PEM key cryptography decrypted), cryptography verifies (_keys_loaded): ctypes and
    keystores.pki.shown would cost more than it. The verdicts are the same (tests/test_verify.py)."""
    if _keys_loaded():
        from keystores.pki.certificates import public_key_of

        public_key = public_key_of(issuer)
        return public_key is not None and signature_valid(cert, public_key)
    try:
        hash_name = cert.signature_hash_name
        key = key_from_der(issuer.spki_der) if hash_name is not None else None
        if key is not None:
            if key[1]:
                return False  # an absurd key (absurd_key) made no signature
            from keystores.crypto.verify import verify

            verdict = verify(issuer.spki_der, cert.signature, cert.tbs_certificate_bytes, hash_name)
            if verdict is not None:
                return verdict
    except ValueError:
        pass  # signature_valid says what a damaged certificate or key is
    from keystores.pki.certificates import public_key_of

    public_key = public_key_of(issuer)
    return public_key is not None and signature_valid(cert, public_key)


def _keys_loaded() -> bool:
    """Whether cryptography's key modules are loaded (a key has been made, read or signed with), or cryptography is
    and the interpreter's libcrypto not yet (loading ctypes and hashlib would cost more than a key type's module)."""
    import sys

    from keystores.crypto import libcrypto

    return "cryptography.hazmat.primitives.asymmetric" in sys.modules or (
        "cryptography.hazmat.bindings._rust" in sys.modules and not libcrypto.already_loaded())


def _rsa_bits_of(cert: Any) -> int | None:
    """rsa_bits(public_key_of(cert)), read from the DER where keystores.pki.spki can (no key loaded)."""
    from keystores.pki.encoded import EncodedCertificate

    if isinstance(cert, EncodedCertificate):
        try:
            key = key_from_der(cert.spki_der)
        except ValueError:
            key = None
        if key is not None:
            return key[0]
    from keystores.pki.certificates import public_key_of, rsa_bits

    return rsa_bits(public_key_of(cert))


def _identity(cert: Any) -> bytes:
    """What build_chain tells certificates apart by: the DER (equal DER, equal SHA-256 fingerprint)."""
    from keystores.pki.encoded import Encoded

    if isinstance(cert, Encoded):
        return cert.der
    from keystores.pki.undecoded import RawCertificate

    if isinstance(cert, RawCertificate):  # (its public_bytes imports cryptography's serialization package)
        return cert.der
    from keystores.crypto.key_encoding import Encoding

    return cert.public_bytes(Encoding.DER)  # type: ignore[no-any-return]


_BASIC_CONSTRAINTS, _KEY_USAGE = "2.5.29.19", "2.5.29.15"


def absurd_key(public_key: object) -> str | None:
    """Why a public key is never used to verify (keystores.limits: an RSA modulus or exponent no real key has), or
    None. Checked before each verification, so a hostile file's keys cost nothing."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(public_key, ec.EllipticCurvePublicKey):  # (rsa's module is not imported for an EC key)
        return None
    from cryptography.hazmat.primitives.asymmetric import rsa

    from keystores.limits import MAX_RSA_BITS, MAX_RSA_EXPONENT_BITS

    # DSA needs no check here (OpenSSL verifies with at most 10,000-bit keys), and naming cryptography's DSA
    # classes makes it print a deprecation warning.
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size > MAX_RSA_BITS:
            return f"RSA modulus of {public_key.key_size} bits (more than {MAX_RSA_BITS})"
        exponent_bits = public_key.public_numbers().e.bit_length()
        if exponent_bits > MAX_RSA_EXPONENT_BITS:
            return f"RSA public exponent of {exponent_bits} bits (more than {MAX_RSA_EXPONENT_BITS})"
    return None


def signature_valid(data: x509.Certificate | x509.CertificateSigningRequest, public_key: object) -> bool:
    """Whether `public_key` made the signature on a certificate or request, whatever its hash (MD5 too). An absurd
    key (absurd_key) made none: it is not even tried."""
    from keystores.pki.encoded import EncodedCertificate

    if absurd_key(public_key) is not None:
        return False

    if isinstance(data, EncodedCertificate):  # read from its DER where the OID names the hash (start-up speed)
        try:
            if data.signature_hash_name is not None:
                return _raw_signature_valid(data, public_key)
            data = data.decoded  # Ed25519 and RSA-PSS: as cryptography reads them (a RawCertificate if damaged)
        except ValueError:
            return False
    from keystores.pki.undecoded import RawCertificate

    if isinstance(data, RawCertificate):
        try:  # its fields are read (asn1crypto) only now: a damaged one is no signature, as for EncodedCertificate
            return _raw_signature_valid(data, public_key)
        except ValueError:
            return False

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


def _raw_signature_valid(cert: Any, public_key: object) -> bool:
    """signature_valid over a RawCertificate's original bytes: its hash is named by the signature OID."""
    hash_name = cert.signature_hash_name
    if hash_name is None:
        from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

        if not isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            return False
    return signature_verifies(public_key, cert.signature, cert.tbs_certificate_bytes, hash_name)


def signature_verifies(public_key: object, signature: bytes, data: bytes, hash_name: str | None) -> bool:
    """Whether `public_key` signed `data` with `hash_name` ("sha256"...; PKCS#1 v1.5 for RSA, ECDSA, DSA; ignored
    for Ed25519/Ed448): for what is known as bytes (a RawCertificate, what keystores.pki.builder just signed).
    Each key type's module is imported when a key is not of the types before it, EC first (start-up: a chain of one
    key type loads that type's module only; ECDSA through keystores.crypto.signatures, without cryptography's
    openssl backend)."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec

    from keystores.crypto.signatures import ecdsa, hash_algorithm

    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ecdsa(hash_name or ""))
            return True
        from cryptography.hazmat.primitives.asymmetric import rsa

        if isinstance(public_key, rsa.RSAPublicKey):
            from cryptography.hazmat.primitives.asymmetric import padding

            public_key.verify(signature, data, padding.PKCS1v15(), hash_algorithm(hash_name or ""))
            return True
        from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

        if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            public_key.verify(signature, data)
            return True
        from keystores.model import dsa_public_key_type

        if isinstance(public_key, dsa_public_key_type()):
            public_key.verify(signature, data, hash_algorithm(hash_name or ""))
            return True
    except (InvalidSignature, UnsupportedAlgorithm, TypeError, ValueError, KeyError):
        return False
    return False


def is_ca(cert: x509.Certificate) -> bool:
    """Basic constraints say CA (a v1 self-signed root without extensions counts, as every TLS stack allows)."""
    from keystores.pki.encoded import EncodedCertificate

    if isinstance(cert, EncodedCertificate):  # read from its DER (start-up speed)
        try:
            found = cert.extension(_BASIC_CONSTRAINTS)
            if found is None:
                return cert.version == 0 and is_self_signed(cert)
            tag, content = der.value(found[1])
            return tag == 0x30 and content[:3] == b"\x01\x01\xff"  # cA TRUE first (DEFAULT FALSE is absent)
        except ValueError:
            return False
    from cryptography import x509 as cx509

    from keystores.pki.undecoded import RawCertificate

    if isinstance(cert, RawCertificate) and cert.view is None:
        return False  # cryptography reads none of its extensions: not a CA anyone should rely on
    try:
        return bool(cert.extensions.get_extension_for_class(cx509.BasicConstraints).value.ca)
    except cx509.ExtensionNotFound:
        return cert.version is cx509.Version.v1 and is_self_signed(cert)
    except (ValueError, cx509.DuplicateExtension):  # malformed extensions: not a CA anyone should rely on
        return False


def may_sign_certificates(cert: x509.Certificate) -> bool:
    """Key usage, when present, allows keyCertSign."""
    from keystores.pki.encoded import EncodedCertificate

    if isinstance(cert, EncodedCertificate):  # read from its DER (start-up speed)
        try:
            found = cert.extension(_KEY_USAGE)
            if found is None:
                return True
            tag, bits = der.value(found[1])
            return tag == 0x03 and len(bits) > 1 and bool(bits[1] & 0x04)  # keyCertSign is bit 5
        except ValueError:
            return False
    from cryptography import x509 as cx509

    from keystores.pki.undecoded import RawCertificate

    if isinstance(cert, RawCertificate) and cert.view is None:
        return False  # cryptography reads none of its extensions
    try:
        return cert.extensions.get_extension_for_class(cx509.KeyUsage).value.key_cert_sign
    except cx509.ExtensionNotFound:
        return True
    except (ValueError, cx509.DuplicateExtension):
        return False


def order_chain(leaf: x509.Certificate, candidates: Iterable[x509.Certificate],
                budget: VerificationBudget | None = None, *,
                complete: Callable[[x509.Certificate], bool] = is_self_issued) -> tuple[x509.Certificate, ...]:
    """`leaf` first, then its issuer, its issuer's issuer ... found among `candidates`.

    An issuer counts only when its subject matches the issuer name AND its key verifies the signature. When several
    candidates qualify (cross-signed CAs) the earliest in `candidates` wins, so callers express preference by order.
    Stops at a certificate `complete` accepts (a self-issued one by default; validation stops at a trust anchor),
    when no candidate matches, or when a certificate would repeat (cycle-safe). Candidates equal to the leaf and
    duplicates are ignored; candidates that are not part of the chain are left out.
    """
    by_subject: dict[Any, list[x509.Certificate]] = {}
    for cand in candidates:
        by_subject.setdefault(_names(cand, "subject"), []).append(cand)
    return build_chain(leaf, lambda cert: by_subject.get(_names(cert, "issuer"), ()), budget, complete=complete)


def build_chain(leaf: x509.Certificate, issuers: Callable[[x509.Certificate], Iterable[x509.Certificate]],
                budget: VerificationBudget | None = None, *,
                complete: Callable[[x509.Certificate], bool] = is_self_issued,
                unverifiable: bool = False) -> tuple[x509.Certificate, ...]:
    """order_chain over a lookup: `issuers(cert)` yields the candidates for `cert`'s issuer, preferred first.

    The one chain builder: backends chain their entries and operations build validation paths with it. For callers
    that chain many leaves against one large set (index it once by subject instead of per leaf). Names and
    signatures are checked here whatever the lookup returns. Bounded on hostile input: at most
    MAX_CANDIDATES_PER_NAME candidates per issuer name, and one signature check per candidate charged to
    `budget` (a store's, shared by all its chains); when it runs out the chain ends there. With `unverifiable`, a
    candidate whose signature cannot be checked at all (a key type or signature algorithm cryptography lacks) is
    taken by its name when no candidate is proven: what a file says of its own chain (PKCS#12, tokens).
    """
    import itertools

    from keystores.limits import MAX_CANDIDATES_PER_NAME

    chain = [leaf]
    seen = {_identity(leaf)}
    current = leaf
    while not complete(current):
        found = by_name = None
        for cand in itertools.islice(issuers(current), MAX_CANDIDATES_PER_NAME):
            if _identity(cand) in seen:
                continue
            if budget is not None and not budget.spend(_rsa_bits_of(cand)):
                break
            if issued_by(current, cand):
                found = cand
                break
            if unverifiable and by_name is None and current.issuer == cand.subject and not _checkable(current, cand):
                by_name = cand
        found = found if found is not None else by_name
        if found is None:
            break
        seen.add(_identity(found))
        chain.append(found)
        current = found
    return tuple(chain)


def _checkable(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether cryptography can check `issuer`'s signature on `cert` at all: it knows the issuer's key type and the
    signature's algorithm. An absurd key counts as checked (and failed)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    from keystores.model import dsa_public_key_type
    from keystores.pki.certificates import public_key_of

    key = public_key_of(issuer)
    if key is None:
        return False
    if absurd_key(key) is not None:
        return True
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
                      | ed448.Ed448PublicKey | dsa_public_key_type()):
        return False
    from keystores.pki.undecoded import RawCertificate

    if isinstance(cert, RawCertificate):
        return cert.signature_hash_name is not None or isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey)
    try:
        cert.signature_hash_algorithm  # noqa: B018 - raises for an algorithm cryptography does not know
    except UnsupportedAlgorithm:
        return False
    return True
