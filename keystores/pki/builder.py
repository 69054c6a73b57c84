"""One builder for certificate requests and certificates that signs through a `model.Signer`.

cryptography's builders sign only with its own key objects, so a key on a token could not sign with them. Here
the to-be-signed structure (CertificationRequestInfo / TBSCertificate) is built with asn1crypto, the Signer signs
its DER (a file key or a token key alike), the result is assembled and then checked with cryptography.
MD5 and SHA-1 are used only when asked for, and the caller is told they are weak.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from keystores.errors import KeystoreError, Note, UsageError, parameter

if TYPE_CHECKING:
    from cryptography import x509

    from keystores.model import Signer

HASHES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
WEAK_HASHES = ("md5", "sha1")

#: profile -> (extended key usages, whether the key usage takes keyEncipherment for RSA keys, EKU critical)
PROFILES: dict[str, tuple[tuple[str, ...], bool, bool]] = {
    "server": (("serverAuth",), True, False),
    "client": (("clientAuth",), True, False),
    "server-client": (("serverAuth", "clientAuth"), True, False),
    "email": (("emailProtection",), True, False),
    "codesign": (("codeSigning",), False, False),
    "timestamp": (("timeStamping",), False, True),
    "ocsp": (("OCSPSigning",), False, False),
    "ca": ((), False, False),
}


def check_hash(md: str | None, public_key: object, notes: list[str]) -> str:
    """The hash to sign with: `md` when given (weak ones noted), else one that matches the key's strength."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519

    if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        if md not in (None, "sha512"):
            notes.append(Note(f"the signature hash {md} is ignored: Ed25519/Ed448 signatures have their own hash",
                              parameter("--md", "md")))
        return "sha512"
    if md is None:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            return {384: "sha384", 521: "sha512"}.get(public_key.curve.key_size, "sha256")
        return "sha256"
    name = md.lower().replace("-", "")
    if name not in HASHES:
        raise UsageError(f"unknown signature hash '{md}': use one of {', '.join(HASHES)}", hint=parameter("--md", "md"))
    if name == "md5" and isinstance(public_key, ec.EllipticCurvePublicKey):
        raise UsageError("ECDSA with MD5 does not exist; use sha256 or stronger")
    if name in WEAK_HASHES:
        notes.append(f"warning: signing with {name.upper()}, which is broken for signatures; use it only for "
                     "software that cannot do SHA-256")
    return name


def _algorithm_id(public_key: object, hash_name: str) -> dict[str, object]:
    from asn1crypto import core
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    from keystores.model import dsa_public_key_type

    if isinstance(public_key, rsa.RSAPublicKey):
        return {"algorithm": f"{hash_name}_rsa", "parameters": core.Null()}
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"algorithm": f"{hash_name}_ecdsa"}
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return {"algorithm": "ed25519"}
    if isinstance(public_key, ed448.Ed448PublicKey):
        return {"algorithm": "ed448"}
    if isinstance(public_key, dsa_public_key_type()):
        return {"algorithm": f"{hash_name}_dsa"}
    raise UsageError(f"cannot sign with a {type(public_key).__name__}")


def _spki(public_key: object) -> object:
    from asn1crypto import keys
    from cryptography.hazmat.primitives import serialization

    der = public_key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return keys.PublicKeyInfo.load(der)


def _asn1_name(name: x509.Name | bytes) -> object:
    from asn1crypto import x509 as ax509

    return ax509.Name.load(name if isinstance(name, bytes) else name.public_bytes())


def _asn1_extensions(extensions: Iterable[x509.Extension]) -> list[object]:
    from asn1crypto import core
    from asn1crypto import x509 as ax509

    # The value goes in as ready DER (cryptography encodes it), so asn1crypto need not know the extension.
    return [ax509.Extension({"extn_id": ext.oid.dotted_string, "critical": ext.critical,
                             "extn_value": core.ParsableOctetString(ext.value.public_bytes())})
            for ext in extensions]


def _sign(signer: Signer, tbs_der: bytes, hash_name: str) -> bytes:
    try:
        return signer.sign(tbs_der, hash_name)
    except KeystoreError:
        raise
    except Exception as exc:  # a token or key refusing: say so instead of a traceback
        raise KeystoreError(f"the key could not sign ({type(exc).__name__}: {exc})") from exc


def build_request(signer: Signer, subject: x509.Name, *, sans: Sequence[x509.GeneralName] = (),
                  md: str | None = None, notes: list[str] | None = None) -> x509.CertificateSigningRequest:
    """A PKCS#10 request for the signer's key, signed by it, with SANs in an extensionRequest."""
    from asn1crypto import csr as acsr
    from cryptography import x509 as cx509

    from keystores.pki.chain import signature_valid

    notes = notes if notes is not None else []
    public_key = signer.public_key
    hash_name = check_hash(md, public_key, notes)
    attributes = []
    if sans:
        san = cx509.Extension(cx509.SubjectAlternativeName.oid, False, cx509.SubjectAlternativeName(list(sans)))
        attributes.append({"type": "extension_request", "values": [_asn1_extensions([san])]})
    info = acsr.CertificationRequestInfo({
        "version": "v1",
        "subject": _asn1_name(subject),
        "subject_pk_info": _spki(public_key),
        "attributes": attributes,
    })
    tbs = info.dump()
    request = acsr.CertificationRequest({
        "certification_request_info": info,
        "signature_algorithm": _algorithm_id(public_key, hash_name),
        "signature": _sign(signer, tbs, hash_name),
    })
    result = cx509.load_der_x509_csr(request.dump())
    if not signature_valid(result, public_key):
        raise KeystoreError("the request's signature does not verify: the key signed wrongly")
    return result


def _time(value: dt.datetime) -> object:
    from asn1crypto import x509 as ax509

    value = value.astimezone(dt.UTC).replace(microsecond=0)
    # RFC 5280: UTCTime up to 2049, GeneralizedTime from 2050.
    return ax509.Time({"utc_time": value} if value.year < 2050 else {"general_time": value})


def build_certificate(signer: Signer, *, subject: x509.Name | bytes, issuer: x509.Name | bytes,
                      public_key: object, not_before: dt.datetime, not_after: dt.datetime,
                      extensions: Sequence[x509.Extension] = (), md: str | None = None,
                      serial: int | None = None, notes: list[str] | None = None) -> x509.Certificate:
    """An X.509 v3 certificate for `public_key`, signed by `signer` (the issuer's key).

    `subject`/`issuer` may be DER so that names copied from a request or CA certificate stay byte-identical.
    """
    from asn1crypto import x509 as ax509
    from cryptography import x509 as cx509

    from keystores.pki.chain import signature_valid

    notes = notes if notes is not None else []
    hash_name = check_hash(md, signer.public_key, notes)
    algorithm = _algorithm_id(signer.public_key, hash_name)
    tbs = ax509.TbsCertificate({
        "version": "v3",
        "serial_number": serial if serial is not None else cx509.random_serial_number(),
        "signature": algorithm,
        "issuer": _asn1_name(issuer),
        "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
        "subject": _asn1_name(subject),
        "subject_public_key_info": _spki(public_key),
        "extensions": _asn1_extensions(extensions) or None,
    })
    if not extensions:
        del tbs["extensions"]
    tbs_der = tbs.dump()
    certificate = ax509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": algorithm,
        "signature_value": _sign(signer, tbs_der, hash_name),
    })
    result = cx509.load_der_x509_certificate(certificate.dump())
    if not signature_valid(result, signer.public_key):
        raise KeystoreError("the certificate's signature does not verify: the key signed wrongly")
    return result


_SANS = parameter("--san", "sans")


def parse_sans(values: Iterable[str]) -> list[x509.GeneralName]:
    """`DNS:x,IP:1.2.3.4,EMAIL:a@b,URI:https://...` (repeatable, comma-separated) -> GeneralNames."""
    import ipaddress

    from cryptography import x509 as cx509

    names: list[x509.GeneralName] = []
    for value in values:
        for part in (p.strip() for p in value.split(",")):
            if not part:
                continue
            kind, sep, text = part.partition(":")
            kind = kind.strip().upper()
            text = text.strip()
            if not sep or not text:
                raise UsageError(f"bad subject alternative name '{part}': write DNS:name, IP:address, EMAIL:address "
                                 "or URI:uri", hint=_SANS)
            try:
                if kind == "DNS":
                    names.append(cx509.DNSName(text))
                elif kind in ("IP", "IPADDRESS"):
                    names.append(cx509.IPAddress(ipaddress.ip_address(text)))
                elif kind in ("EMAIL", "RFC822", "MAIL"):
                    names.append(cx509.RFC822Name(text))
                elif kind == "URI":
                    names.append(cx509.UniformResourceIdentifier(text))
                else:
                    raise UsageError(f"bad subject alternative name '{part}': kinds are DNS, IP, EMAIL, URI",
                                     hint=_SANS)
            except ValueError as exc:
                raise UsageError(f"bad subject alternative name '{part}': {exc}", hint=_SANS) from exc
    return list(dict.fromkeys(names))


def profile_extensions(profile: str, public_key: object, *, issuer_public_key: object,
                       issuer_cert: x509.Certificate | None = None, sans: Sequence[x509.GeneralName] = (),
                       path_length: int | None = None) -> list[x509.Extension]:
    """The extensions a profile promises: basic constraints, key usage, extended key usage, subject and
    authority key identifiers, and the SANs given."""
    from cryptography import x509 as cx509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID

    if profile not in PROFILES:
        raise UsageError(f"unknown profile '{profile}': use one of {', '.join(PROFILES)}")
    ekus, rsa_encipherment, eku_critical = PROFILES[profile]
    extensions: list[x509.Extension] = []

    def add(value: cx509.ExtensionType, critical: bool) -> None:
        extensions.append(cx509.Extension(value.oid, critical, value))

    is_ca = profile == "ca"
    add(cx509.BasicConstraints(ca=is_ca, path_length=path_length if is_ca else None), True)
    usage = dict(digital_signature=True, content_commitment=False, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                 encipher_only=False, decipher_only=False)
    if is_ca:
        usage.update(key_cert_sign=True, crl_sign=True)
    elif rsa_encipherment and isinstance(public_key, rsa.RSAPublicKey):
        usage["key_encipherment"] = True
    add(cx509.KeyUsage(**usage), True)
    if ekus:
        add(cx509.ExtendedKeyUsage([getattr(ExtendedKeyUsageOID, {
            "serverAuth": "SERVER_AUTH", "clientAuth": "CLIENT_AUTH", "emailProtection": "EMAIL_PROTECTION",
            "codeSigning": "CODE_SIGNING", "timeStamping": "TIME_STAMPING", "OCSPSigning": "OCSP_SIGNING",
        }[name]) for name in ekus]), eku_critical)
    ski = cx509.SubjectKeyIdentifier.from_public_key(public_key)  # type: ignore[arg-type]
    add(ski, False)
    aki = None
    if issuer_cert is not None:
        try:
            issuer_ski = issuer_cert.extensions.get_extension_for_class(cx509.SubjectKeyIdentifier).value
            aki = cx509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski)
        except cx509.ExtensionNotFound:
            aki = None
    if aki is None:
        aki = cx509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key)  # type: ignore[arg-type]
    add(aki, False)
    if sans:
        add(cx509.SubjectAlternativeName(list(sans)), False)
    return extensions


def request_sans(request: x509.CertificateSigningRequest) -> list[x509.GeneralName]:
    """The SANs a request asks for in its extensionRequest (none when it asks for none)."""
    from cryptography import x509 as cx509

    try:
        return list(request.extensions.get_extension_for_class(cx509.SubjectAlternativeName).value)
    except cx509.ExtensionNotFound:
        return []
    except ValueError:  # a malformed extensionRequest: treat as none asked for; signing still checks the rest
        return []
