"""keystores.ops.describe's fields of a certificate cryptography decoded (an x509.Certificate, or the RawCertificate
held for one it refused): the JSON schema's certificate fields, `show`'s details, a listing's columns of a decoded
leaf. Apart from describe: `list` and `show` of a store whose certificates keystores.pki.shown reads from the DER
they are held as (PKCS#12, PEM, JKS, .kdb, NSS) decode none (start-up, issue 15)."""

from __future__ import annotations

from keystores.ops.describe import (
    _KEY_USAGES,
    _basic_constraints,
    _extended_key_usage_names,
    _iso,
    _key_bits,
    _key_id,
    _key_usage_names,
    _named_key_type,
    _san_text,
    _serial_text,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.pki.undecoded import RawCertificate


def _name(name: Any) -> str:
    """RFC 4514: the last RDN first, as keytool and runmqakm print a DN ("CN=x,O=y,C=GB" for a C,O,CN name)."""
    return name.rfc4514_string()


def certificate_data(cert: Any) -> dict[str, Any]:
    from keystores.pki.certificates import serial_of
    from keystores.pki.fingerprints import fingerprint
    from keystores.pki.undecoded import RawCertificate

    if isinstance(cert, RawCertificate):
        return _raw_certificate_data(cert)
    return {
        "subject": _name(cert.subject),
        "issuer": _name(cert.issuer),
        "serial": _serial_text(serial_of(cert)),
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
        "key_type": _key_type(cert),
        "signature_algorithm": _signature_name(cert),
        "sha256": fingerprint(cert),
        "problem": None,
    }


def _general_name(general: Any) -> str:
    """A subject alternative name in the notation `sans=` (CLI `--san`) takes (pki.builder.parse_sans reads it
    back): DNS:x, IP:y, EMAIL:z, URI:u; others as DirName:, RID:, otherName:."""
    from cryptography import x509

    written = ((x509.DNSName, "DNS"), (x509.IPAddress, "IP"), (x509.RFC822Name, "EMAIL"),
               (x509.UniformResourceIdentifier, "URI"))
    for kind, prefix in written:
        if isinstance(general, kind):
            return _san_text(prefix, general.value)
    if isinstance(general, x509.DirectoryName):
        return _san_text("DirName", _name(general.value))
    if isinstance(general, x509.RegisteredID):
        return _san_text("RID", general.value.dotted_string)
    if isinstance(general, x509.OtherName):
        return _san_text("otherName", general.type_id.dotted_string)
    return str(general)


def certificate_details(cert: Any) -> dict[str, Any]:
    """What `keytool -list -v` and `openssl x509 -text` show beyond the listing: version, key size, SHA-1
    fingerprint, and the extensions admins check (SANs, key usage, extended key usage, basic constraints, key
    identifiers). An extension that is absent is None; extensions that cannot be decoded make every one None and
    `extensions_readable` false (the certificate is still shown)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from keystores.pki.undecoded import RawCertificate

    if isinstance(cert, RawCertificate):  # cryptography could not decode it: its problem says why
        return {"version": None, "key_size": None, "sha1": cert.fingerprint(hashes.SHA1()).hex(":").upper(),
                "subject_alt_names": None, "key_usage": None, "extended_key_usage": None, "basic_constraints": None,
                "subject_key_identifier": None, "authority_key_identifier": None, "extensions_readable": False}
    details: dict[str, Any] = {
        "version": cert.version.value + 1,
        "key_size": _key_bits(cert.public_key()),
        "sha1": cert.fingerprint(hashes.SHA1()).hex(":").upper(),
        "subject_alt_names": None, "key_usage": None, "extended_key_usage": None, "basic_constraints": None,
        "subject_key_identifier": None, "authority_key_identifier": None, "extensions_readable": True,
    }
    try:
        extensions = list(cert.extensions)
    except ValueError:
        details["extensions_readable"] = False
        return details
    for extension in extensions:
        value = extension.value
        if isinstance(value, x509.SubjectAlternativeName):
            details["subject_alt_names"] = [_general_name(g) for g in value]
        elif isinstance(value, x509.KeyUsage):
            details["key_usage"] = _key_usage_names(lambda bit, usage=value: getattr(usage, _KEY_USAGES[bit][0]))
        elif isinstance(value, x509.ExtendedKeyUsage):
            details["extended_key_usage"] = _extended_key_usage_names([oid.dotted_string for oid in value])
        elif isinstance(value, x509.BasicConstraints):
            details["basic_constraints"] = _basic_constraints(value.ca, value.path_length, extension.critical)
        elif isinstance(value, x509.SubjectKeyIdentifier):
            details["subject_key_identifier"] = _key_id(value.digest)
        elif isinstance(value, x509.AuthorityKeyIdentifier):
            details["authority_key_identifier"] = _key_id(value.key_identifier)
    return details


def _key_type(cert: Any) -> str:
    """describe_key of the certificate's key; an RSA key restricted to RSASSA-PSS (cryptography loads it as a plain
    RSA key) is named for what its certificate says it is."""
    return _named_key_type(cert.public_key(), cert.public_key_algorithm_oid.dotted_string)


def _raw_certificate_data(cert: RawCertificate) -> dict[str, Any]:
    """What a certificate cryptography refused says of itself, each field None where even its DER does not."""
    from keystores.pki.fingerprints import fingerprint

    serial = cert.serial_number
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    data = {
        "subject": cert.subject.rfc4514_string() if cert.parsed is not None else None,
        "issuer": cert.issuer.rfc4514_string() if cert.parsed is not None else None,
        "serial": None if serial is None else format(serial, "x") if serial >= 0 else "-" + format(-serial, "x"),
        "not_before": None if not_before is None else _iso(not_before),
        "not_after": None if not_after is None else _iso(not_after),
        "key_type": cert.key_type,
        "signature_algorithm": cert.signature_algorithm_name,
        "sha256": fingerprint(cert),
        "problem": cert.problem,
    }
    return data


def _signature_name(cert: Any) -> str:
    oid = cert.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string
