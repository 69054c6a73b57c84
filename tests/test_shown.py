"""keystores.pki.shown (what `show` prints, read from a certificate's DER) against describe's rendering of
cryptography's objects, the reference: wherever the reader answers, the fields, their order and their values are
the ones certificate_data and certificate_details give for the decoded certificate; where it cannot be sure, it
answers None and cryptography decodes. Judged on every certificate of the cryptography-vectors x509/ folder, the
system's CA bundle, certificates built here with every extension `show` prints, and damaged copies of them. And
`show` of a small PKCS#12 imports no cryptography.x509."""

from __future__ import annotations

import base64
import datetime as dt
import importlib.util
import ipaddress
import json
import os
import random
import re
import shutil
import subprocess
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from corpusrun import location, real_world  # noqa: F401 - real_world is a fixture
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hardening import PASSWORD
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_pkcs12_lean import _keytool_store, _modules_after_list, _openssl_store, make_store

from keystores.crypto import der as der_codec
from keystores.lazy_entries import LazyEntry
from keystores.ops.describe import certificate_data, certificate_details, entry_data, shown_certificate_data
from keystores.pki.certificates import decode_certificate
from keystores.pki.shown import PARSED_BY_CRYPTOGRAPHY, read_shown
from keystores.store import open_store

ROUNDS = 40
SAMPLE = 60
PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def reference(der: bytes) -> list[tuple[str, Any]]:
    """What `show --json` says of the certificate through cryptography: certificate_data + certificate_details."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cert = decode_certificate(der)
        return list({**certificate_data(cert), **certificate_details(cert)}.items())


def lean(der: bytes) -> list[tuple[str, Any]] | None:
    shown = read_shown(der)
    return None if shown is None else list(shown_certificate_data(shown).items())


def agree(der: bytes) -> bool:
    """The reader answers what cryptography's path answers (order included), or declines; True when it answered."""
    found = lean(der)
    if found is not None:
        assert found == reference(der), der.hex()
    return found is not None


@cache
def vector_certificates() -> list[tuple[str, bytes]]:
    """Every certificate of the cryptography-vectors x509/ folder: each PEM CERTIFICATE block, and each file that
    is DER (certificates, and requests, CRLs and damaged files the reader must decline)."""
    spec = importlib.util.find_spec("cryptography_vectors")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations))) / "x509"
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        blocks = PEM_BLOCK.findall(data)
        for index, block in enumerate(blocks):
            try:
                found.append((f"{path.relative_to(root)}#{index}", base64.b64decode(block)))
            except ValueError:
                continue
        if not blocks and data[:1] == b"\x30":
            found.append((str(path.relative_to(root)), data))
    return found


def test_every_vector_certificate_reads_as_cryptography_reads_it() -> None:
    certificates = vector_certificates()
    if not certificates:
        pytest.skip("cryptography_vectors is not installed")
    answered = [name for name, der in certificates if agree(der)]
    decoded = [name for name, der in certificates if dict(reference(der))["problem"] is None]
    # the common forms are read here: most certificates cryptography decodes (PKITS' policy and name constraint
    # tests, unusual algorithms and string types are left to it)
    assert len(answered) >= 0.7 * len(decoded) and len(answered) > 350, (len(answered), len(decoded))
    assert "PKITS_data/certs/GoodCACert.crt" in answered


def test_the_system_bundle_reads_as_cryptography_reads_it() -> None:
    if not SYSTEM_BUNDLE.exists():
        pytest.skip("no system CA bundle")
    blocks = [base64.b64decode(block) for block in PEM_BLOCK.findall(SYSTEM_BUNDLE.read_bytes())]
    answered = sum(agree(der) for der in blocks)
    assert answered >= 0.8 * len(blocks)


@cache
def keys() -> dict[str, Any]:
    return {"p256": ec.generate_private_key(ec.SECP256R1()), "p384": ec.generate_private_key(ec.SECP384R1()),
            "p521": ec.generate_private_key(ec.SECP521R1()), "k1": ec.generate_private_key(ec.SECP256K1()),
            "rsa": rsa.generate_private_key(65537, 2048), "ed25519": ed25519.Ed25519PrivateKey.generate(),
            "ed448": ed448.Ed448PrivateKey.generate()}


def build(extensions: list[tuple[x509.ExtensionType, bool]] = (), *, key: str = "p256", signer: str = "p256",
          subject: x509.Name | None = None, serial: int = 0x1234, hash_name: str | None = "sha256") -> bytes:
    name = subject if subject is not None else x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shown")])
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(keys()[key].public_key())
               .serial_number(serial).not_valid_before(dt.datetime(2024, 1, 1))
               .not_valid_after(dt.datetime(2060, 1, 1, 12, 30, 45)))
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical)
    algorithm = None if hash_name is None else getattr(hashes, hash_name.upper())()
    return builder.sign(keys()[signer], algorithm).public_bytes(serialization.Encoding.DER)


def _usage(**chosen: bool) -> x509.KeyUsage:
    flags = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                           "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"), False)
    return x509.KeyUsage(**{**flags, **chosen})


DIRECTORY = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Dir, \"Inc\""),
                       x509.NameAttribute(NameOID.COMMON_NAME, " #lead and trail ")])
BUILT: dict[str, list[tuple[x509.ExtensionType, bool]]] = {
    "none": [],
    "san": [(x509.SubjectAlternativeName([
        x509.DNSName("a.example"), x509.DNSName("*.b.example"), x509.IPAddress(ipaddress.ip_address("10.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("2001:db8::1")), x509.RFC822Name("x@example.org"),
        x509.UniformResourceIdentifier("https://example.org/a?b=c"), x509.DirectoryName(DIRECTORY),
        x509.RegisteredID(x509.ObjectIdentifier("1.2.3.4.5"))]), False)],
    "other name": [(x509.SubjectAlternativeName([x509.OtherName(x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3"),
                                                                 b"\x0c\x03u@x")]), False)],
    "key usage": [(_usage(digital_signature=True, key_encipherment=True), True)],
    "key agreement": [(_usage(key_agreement=True, encipher_only=True), False)],
    "decipher only": [(_usage(key_agreement=True, decipher_only=True, crl_sign=True), False)],
    "every usage": [(_usage(**dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment",
                                              "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
                                              "decipher_only"), True)), True)],
    "eku": [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH,
                                    x509.ObjectIdentifier("1.2.3.99")]), False)],
    "ca": [(x509.BasicConstraints(ca=True, path_length=0), True)],
    "ca no length": [(x509.BasicConstraints(ca=True, path_length=None), False)],
    "ca long": [(x509.BasicConstraints(ca=True, path_length=300), True)],
    "not ca": [(x509.BasicConstraints(ca=False, path_length=None), True)],
    "key ids": [(x509.SubjectKeyIdentifier(b"\x01" * 20), False),
                (x509.AuthorityKeyIdentifier(b"\x02" * 20, None, None), False)],
    "aki issuer": [(x509.AuthorityKeyIdentifier(b"\x03" * 8, [x509.DirectoryName(DIRECTORY)], 77), False)],
    "aki issuer only": [(x509.AuthorityKeyIdentifier(None, [x509.DNSName("ca.example")], 1), False)],
    "web": [(x509.AuthorityInformationAccess([
        x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.OCSP,
                               x509.UniformResourceIdentifier("http://ocsp.example")),
        x509.AccessDescription(x509.oid.AuthorityInformationAccessOID.CA_ISSUERS,
                               x509.UniformResourceIdentifier("http://ca.example/ca.crt"))]), False),
            (x509.CRLDistributionPoints([x509.DistributionPoint(
                [x509.UniformResourceIdentifier("http://crl.example/ca.crl")], None, None, None)]), False),
            (x509.CertificatePolicies([
                x509.PolicyInformation(x509.ObjectIdentifier("2.23.140.1.2.1"), None),
                x509.PolicyInformation(x509.ObjectIdentifier("1.3.6.1.4.1.44947.1.1.1"),
                                       ["http://cps.example", x509.UserNotice(None, "explicit text")])]), False),
            (x509.UnrecognizedExtension(x509.ObjectIdentifier("1.2.3.4.77"), b"\x05\x00"), False)],
    "notice reference": [(x509.CertificatePolicies([x509.PolicyInformation(
        x509.ObjectIdentifier("1.2.3"), [x509.UserNotice(x509.NoticeReference("org", [1, 2]), "t")])]), False)],
    "name constraints": [(x509.NameConstraints([x509.DNSName("example.org")], None), True)],
    "crl reasons": [(x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier("http://crl.example/ca.crl")], None,
        frozenset({x509.ReasonFlags.key_compromise}), None)]), False)],
}


@pytest.mark.parametrize("case", sorted(BUILT))
def test_every_extension_show_prints(case: str) -> None:
    der = build(BUILT[case])
    answered = agree(der)
    assert answered == (case not in ("other name", "notice reference", "name constraints", "crl reasons")), case


@pytest.mark.parametrize(("key", "signer", "hash_name"), [
    ("rsa", "rsa", "sha256"), ("rsa", "p256", "sha384"), ("p384", "p384", "sha384"), ("p521", "p521", "sha512"),
    ("k1", "p256", "sha256"), ("ed25519", "ed25519", None), ("ed448", "ed448", None), ("p256", "rsa", "sha256"),
    ("p256", "p256", "sha224"), ("rsa", "rsa", "sha512")])
def test_every_key_and_signature(key: str, signer: str, hash_name: str | None) -> None:
    assert agree(build(BUILT["ca"], key=key, signer=signer, hash_name=hash_name))


@pytest.mark.parametrize("subject", [
    x509.Name([]),
    x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ü"),
               x509.NameAttribute(NameOID.DOMAIN_COMPONENT, "example", x509.name._ASN1Type.IA5String),
               x509.NameAttribute(x509.ObjectIdentifier("1.2.840.113549.1.9.1"), "a@b.example"),
               x509.NameAttribute(NameOID.SERIAL_NUMBER, "007"), x509.NameAttribute(NameOID.COMMON_NAME, "a+b=c;<>")]),
    x509.Name([x509.NameAttribute(x509.ObjectIdentifier("1.2.3.4"), "")]),
    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "\\back\x00slash")]),
    x509.Name([x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "a"),
                                              x509.NameAttribute(NameOID.USER_ID, "b")])]),
    x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bmp", x509.name._ASN1Type.BMPString)]),
])
def test_names_read_as_rfc4514_string_writes_them(subject: x509.Name) -> None:
    agree(build([], subject=subject))


@pytest.mark.parametrize("serial", [1, 0x7F, 0x80, 0xFF, 2**159 - 1, 2**63])
def test_serials(serial: int) -> None:
    assert agree(build([], serial=serial))


def _raw(oid: str, value: bytes, critical: bool = False) -> bytes:
    """A certificate holding extension `oid` with `value` written as given (cryptography writes it unchecked)."""
    return build([(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical)])


def _tlv(tag: int, *content: bytes) -> bytes:
    return der_codec.tlv(tag, b"".join(content))


URI = _tlv(0x86, b"http://x.example/c")
RAW_VALUES = {
    "2.5.29.15": [_tlv(0x03, bytes([unused, byte])) for unused in range(9) for byte in range(0, 256, 3)]
    + [_tlv(0x03, b"\x00"), _tlv(0x03, b"\x07\x80\x80"), _tlv(0x03, b"\x07\x08\x80"), _tlv(0x03, b"\x00\x08\x00"),
       _tlv(0x03, b"\x00\x88\x80\x00"), _tlv(0x03, b"\x01\x80\x81"), _tlv(0x03), _tlv(0x04, b"\x00\x80")],
    "2.5.29.19": [_tlv(0x30), _tlv(0x30, b"\x01\x01\xff"), _tlv(0x30, b"\x01\x01\x00"), _tlv(0x30, b"\x01\x01\x01"),
                  _tlv(0x30, b"\x01\x01\xff\x02\x01\x00"), _tlv(0x30, b"\x01\x01\xff\x02\x01\xff"),
                  _tlv(0x30, b"\x01\x01\xff\x02\x02\x00\x05"), _tlv(0x30, b"\x02\x01\x03"),
                  _tlv(0x30, b"\x01\x01\xff", der_codec.integer(2**64 - 1)),
                  _tlv(0x30, b"\x01\x01\xff", der_codec.integer(2**64)),
                  _tlv(0x30, b"\x01\x01\xff\x02\x01\x01\x02\x01\x01"), _tlv(0x30, b"\x01\x01\xff\x04\x00")],
    "2.5.29.37": [_tlv(0x30), _tlv(0x30, der_codec.oid("1.3.6.1.5.5.7.3.1") * 2), _tlv(0x30, b"\x06\x02\x2b\x80"),
                  _tlv(0x30, b"\x06\x00"), _tlv(0x30, b"\x04\x01\x00"), _tlv(0x31, der_codec.oid("1.2.3"))],
    "2.5.29.14": [_tlv(0x04), _tlv(0x04, b"\x01" * 20), _tlv(0x03, b"\x00\x01"), _tlv(0x04, b"\x01") + b"\x00"],
    "2.5.29.35": [_tlv(0x30), _tlv(0x30, _tlv(0x80)), _tlv(0x30, _tlv(0x80, b"\x01")), _tlv(0x30, _tlv(0xA0, b"\x01")),
                  _tlv(0x30, _tlv(0x82, b"\x01")), _tlv(0x30, _tlv(0xA1, URI)),
                  _tlv(0x30, _tlv(0xA1, URI), _tlv(0x82, b"\x01")),
                  _tlv(0x30, _tlv(0xA1, URI), _tlv(0x82, b"\x00\x01")),
                  _tlv(0x30, _tlv(0xA1, URI), _tlv(0x82, b"\x80")), _tlv(0x30, _tlv(0xA1), _tlv(0x82, b"\x01")),
                  _tlv(0x30, _tlv(0x82, b"\x01"), _tlv(0xA1, URI)),
                  _tlv(0x30, _tlv(0x80, b"\x01"), _tlv(0x80, b"\x01"))],
    "2.5.29.17": [_tlv(0x30), _tlv(0x30, _tlv(0x82)), _tlv(0x30, _tlv(0x82, "ü.example".encode())),
                  _tlv(0x30, _tlv(0xA2, _tlv(0x16, b"a"))), _tlv(0x30, _tlv(0x81, b"a@b\x00")),
                  _tlv(0x30, _tlv(0xA4, _tlv(0x30))), _tlv(0x30, _tlv(0xA4, _tlv(0x30), b"\x05\x00")),
                  _tlv(0x30, _tlv(0xA4, _tlv(0x31))), _tlv(0x30, _tlv(0x88, b"\x2a\x03")),
                  _tlv(0x30, _tlv(0x88, b"\x80\x01")), _tlv(0x30, _tlv(0x88)), _tlv(0x30, _tlv(0x86, b"no scheme")),
                  _tlv(0x30, _tlv(0xA0, der_codec.oid("1.2.3"), _tlv(0xA0, _tlv(0x0C, b"u"))))]
    + [_tlv(0x30, _tlv(0x87, bytes(range(length)))) for length in range(18)],
    "2.5.29.31": [_tlv(0x30), _tlv(0x30, _tlv(0x30)), _tlv(0x30, _tlv(0x30, _tlv(0xA0, _tlv(0xA0, URI)))),
                  _tlv(0x30, _tlv(0x30, _tlv(0xA0, _tlv(0xA0)))), _tlv(0x30, _tlv(0x30, _tlv(0xA0, _tlv(0xA1, URI)))),
                  _tlv(0x30, _tlv(0x30, _tlv(0xA0, _tlv(0xA0, URI), _tlv(0xA0, URI)))),
                  _tlv(0x30, _tlv(0x30, _tlv(0xA0, _tlv(0xA0, URI)), _tlv(0x81, b"\x07\x80")))],
    "1.3.6.1.5.5.7.1.1": [_tlv(0x30), _tlv(0x30, _tlv(0x30, der_codec.oid("1.3.6.1.5.5.7.48.1"), URI)),
                          _tlv(0x30, _tlv(0x30, der_codec.oid("1.3.6.1.5.5.7.48.1"))),
                          _tlv(0x30, _tlv(0x30, der_codec.oid("1.3.6.1.5.5.7.48.1"), URI, URI)),
                          _tlv(0x30, _tlv(0x30, URI, der_codec.oid("1.3.6.1.5.5.7.48.1")))],
    "2.5.29.32": [_tlv(0x30), _tlv(0x30, _tlv(0x30, der_codec.oid("2.5.29.32.0"))),
                  _tlv(0x30, _tlv(0x30, der_codec.oid("2.5.29.32.0"), _tlv(0x30))),
                  _tlv(0x30, _tlv(0x30, der_codec.oid("1.2.3"), _tlv(0x30, _tlv(
                      0x30, der_codec.oid("1.3.6.1.5.5.7.2.1"), _tlv(0x16, b"http://cps"))))),
                  _tlv(0x30, _tlv(0x30, der_codec.oid("1.2.3"), _tlv(0x30, _tlv(
                      0x30, der_codec.oid("1.3.6.1.5.5.7.2.1"), _tlv(0x0C, b"http://cps"))))),
                  _tlv(0x30, _tlv(0x30, der_codec.oid("1.2.3"), _tlv(0x30, _tlv(
                      0x30, der_codec.oid("1.3.6.1.5.5.7.2.2"), _tlv(0x30, _tlv(0x0C, b"\xff")))))),
                  _tlv(0x30, _tlv(0x30, der_codec.oid("1.2.3"), _tlv(0x30, _tlv(
                      0x30, der_codec.oid("1.3.6.1.5.5.7.2.2"), _tlv(0x30))))),
                  _tlv(0x30, _tlv(0x30, der_codec.oid("1.2.3"), _tlv(0x30, _tlv(
                      0x30, der_codec.oid("1.3.6.1.5.5.7.2.2"), _tlv(0x30, _tlv(0x1A, b"visible")))))),
                  _tlv(0x30, _tlv(0x30, der_codec.oid("1.2.3"), _tlv(0x30, _tlv(
                      0x30, der_codec.oid("1.2.4"), _tlv(0x16, b"other"))))),
                  _tlv(0x30, _tlv(0x30, der_codec.oid("1.2.3")), _tlv(0x30, der_codec.oid("1.2.3")))],
    "1.2.3.4.99": [b"", b"\x05\x00", b"\xff\xff"],  # unknown to cryptography: carried unread
}


@pytest.mark.parametrize("oid", sorted(RAW_VALUES))
def test_extension_values_written_by_hand(oid: str) -> None:
    """Each extension value near the forms read here, well formed or not, critical or not: the reader answers as
    cryptography's path does (values, or a problem), or declines."""
    answered = sum(agree(_raw(oid, value, critical)) for value in RAW_VALUES[oid] for critical in (False, True))
    assert answered > 0


def _with_names(name: bytes, *, subject_of: bytes | None = None) -> bytes:
    """A certificate whose issuer and subject are the Name DER `name`, or (`subject_of`) that certificate with
    `name` as its issuer (the signature no longer matches: neither describe nor the reader checks it)."""
    base = build([]) if subject_of is None else subject_of
    (_, _, tbs_start, tbs_stop), algorithm, signature = der_codec.inside(base)
    fields = [base[at:stop] for _, at, _, stop in der_codec.elements(base, tbs_start, tbs_stop)]
    fields[3] = name
    if subject_of is None:
        fields[5] = name
    return der_codec.sequence(der_codec.sequence(*fields), base[algorithm[1] : algorithm[3]],
                              base[signature[1] : signature[3]])


def _rdn(oid: str, tag: int, value: bytes) -> bytes:
    return _tlv(0x31, _tlv(0x30, der_codec.oid(oid), _tlv(tag, value)))


STRING_TAGS = (0x0C, 0x12, 0x13, 0x14, 0x16, 0x1A, 0x1C, 0x1E)
NAMES = [_tlv(0x30)] + [_tlv(0x30, _rdn("2.5.4.3", tag, value)) for tag in STRING_TAGS
                        for value in (b"", b"plain", b"a*b", b"a&b_c@d", b"\xc3\xbc", b"\xff\xfe", b"\x00a", b" #x ")]
NAMES += [_tlv(0x30, _tlv(0x31)), _tlv(0x30, _tlv(0x31, _tlv(0x30, der_codec.oid("2.5.4.3"), _tlv(0x0C, b"a")),
                                                 _tlv(0x30, der_codec.oid("2.5.4.10"), _tlv(0x0C, b"b")))),
          _tlv(0x30, _rdn("2.5.4.45", 0x03, b"\x00\x01"), _rdn("2.5.4.45", 0x0C, b"x")),
          _tlv(0x30, _rdn("2.5.4.6", 0x13, b"GBR"), _rdn("2.5.4.6", 0x13, b"G")),
          _tlv(0x30, _tlv(0x31, _tlv(0x30, b"\x06\x03\x55\x80\x03", _tlv(0x0C, b"a")))),
          _tlv(0x30, _tlv(0x31, _tlv(0x30, der_codec.oid("2.5.4.3")))),
          _tlv(0x30, _tlv(0x31, _tlv(0x30, der_codec.oid("2.5.4.3"), _tlv(0x0C, b"a"), _tlv(0x0C, b"b")))),
          _tlv(0x30, _rdn("0.9.2342.19200300.100.1.25", 0x16, b"dc"), _rdn("1.2.840.113549.1.9.1", 0x16, b"e@x"),
               _rdn("2.5.4.3", 0x0C, "é,+\"\\<>;=".encode()))]


def test_names_written_by_hand() -> None:
    """String types, characters each type allows or not, empty and multi-valued RDNs, x500UniqueIdentifier, a
    non-minimal OID: the reader answers as cryptography's path does, or declines."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answered = sum(agree(_with_names(name)) for name in NAMES)
    assert answered > 10


TEXT_TYPES = [_ASN1Type.UTF8String, _ASN1Type.PrintableString, _ASN1Type.IA5String, _ASN1Type.BMPString,
              _ASN1Type.T61String, _ASN1Type.VisibleString, _ASN1Type.NumericString]
NAME_OIDS = [NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.COUNTRY_NAME, NameOID.DOMAIN_COMPONENT,
             NameOID.EMAIL_ADDRESS, NameOID.X500_UNIQUE_IDENTIFIER, x509.ObjectIdentifier("2.999.1")]
TEXT = st.text(alphabet=st.sampled_from('aZ09 #"+,;<>\\=*&_@\0\x7fé€'), max_size=6)
ATTRIBUTES = st.builds(lambda oid, value, kind: x509.NameAttribute(oid, value, kind, _validate=False),
                       st.sampled_from(NAME_OIDS), TEXT, st.sampled_from(TEXT_TYPES))
NAME_STRATEGY = st.lists(st.lists(ATTRIBUTES, min_size=1, max_size=2), max_size=3).map(
    lambda rdns: x509.Name([x509.RelativeDistinguishedName(r) for r in rdns if len(set(r)) == len(r)]))
GENERAL_NAMES = st.lists(st.one_of(
    TEXT.map(x509.DNSName._init_without_validation), TEXT.map(x509.RFC822Name._init_without_validation),
    TEXT.map(x509.UniformResourceIdentifier._init_without_validation),
    st.ip_addresses().map(x509.IPAddress), NAME_STRATEGY.map(x509.DirectoryName),
    st.sampled_from(["1.2.3", "2.999.4"]).map(lambda oid: x509.RegisteredID(x509.ObjectIdentifier(oid)))),
    min_size=1, max_size=3)
USAGES = st.fixed_dictionaries({flag: st.booleans() for flag in (
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
    "key_cert_sign", "crl_sign")}).flatmap(lambda flags: st.builds(
        lambda encipher, decipher: _usage(**flags, encipher_only=encipher and flags["key_agreement"],
                                          decipher_only=decipher and flags["key_agreement"]),
        st.booleans(), st.booleans()))
EXTENSIONS = st.lists(st.one_of(
    GENERAL_NAMES.map(x509.SubjectAlternativeName), USAGES,
    st.lists(st.sampled_from([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.OCSP_SIGNING,
                              x509.ObjectIdentifier("1.2.3.4")]), min_size=1, max_size=3).map(x509.ExtendedKeyUsage),
    st.builds(lambda ca, length: x509.BasicConstraints(ca, length if ca else None), st.booleans(),
              st.none() | st.integers(0, 2**40)),
    st.binary(max_size=24).map(x509.SubjectKeyIdentifier),
    st.builds(lambda key_id, issuer: x509.AuthorityKeyIdentifier(key_id, issuer, 5 if issuer else None),
              st.none() | st.binary(max_size=8), st.none() | GENERAL_NAMES)), max_size=5)


@pytest.mark.filterwarnings("ignore")  # cryptography's about names it is asked to build (C=GBR)
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(NAME_STRATEGY, NAME_STRATEGY, EXTENSIONS, st.booleans())
def test_generated_certificates(subject: x509.Name, issuer: x509.Name, extensions: list[Any], critical: bool) -> None:
    """Names of every string type and awkward characters, SANs, key usages, EKUs, basic constraints and key
    identifiers in random combinations: the reader answers as cryptography's path does, or declines."""
    unique = list({type(extension): extension for extension in extensions}.values())
    try:
        der = build([(extension, critical) for extension in unique], subject=subject)
        der = _with_names(_name_der(issuer), subject_of=der)
    except ValueError:  # a value its string type cannot encode: not a certificate
        return
    agree(der)


def _name_der(name: x509.Name) -> bytes:
    return name.public_bytes()


def _damaged(der: bytes, rng: random.Random) -> bytes:
    at = rng.randrange(len(der))
    how = rng.randrange(4)
    if how == 0:
        return der[:at] + bytes([der[at] ^ (1 << rng.randrange(8))]) + der[at + 1 :]
    if how == 1:
        return der[:at] + bytes([rng.randrange(256)]) + der[at + 1 :]
    if how == 2:
        return der[:at] + der[at + 1 :]
    return der[:at] + bytes([rng.choice((0x00, 0x01, 0x05, 0x0C, 0x13, 0x16, 0x30, 0x80, 0xFF))]) + der[at:]


def test_damaged_certificates_read_as_cryptography_reads_them_or_are_declined() -> None:
    """Seeded damage to the certificates the reader answers for: each damaged copy reads as cryptography's path
    reads it (a problem, or other facts), or is declined; never another answer."""
    rng = random.Random(15)
    answered = [der for der in (build(case) for case in BUILT.values()) if read_shown(der) is not None]
    vectors = [der for _, der in vector_certificates() if read_shown(der) is not None]
    answered += rng.sample(vectors, min(SAMPLE, len(vectors)))
    still_read = 0
    for der in answered:
        for _ in range(ROUNDS):
            still_read += agree(_damaged(der, rng))
    assert still_read > 0  # some damage (inside a signature, a key identifier) keeps a readable certificate


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()])
def test_ec_points_are_judged_as_cryptography_judges_them(curve: ec.EllipticCurve) -> None:
    """ec_point_loads against cryptography's loader: real points (both encodings), random ones, coordinates at
    or above p, points moved off the curve, compressed x without a y. And keystores.pki.spki's verdict, which judges
    the point with curves.ec_point_on_curve without importing shown: key_from_der answers for the keys cryptography
    loads and only those, key_print for those with an uncompressed point; an uncompressed one, in the form
    cryptography writes, is read by its bytes (no columns.key_facts) to the same facts."""
    from keystores.crypto.verify import ec_spki_point
    from keystores.pki import spki as spki_facts
    from keystores.pki.columns import NIST_FIELDS
    from keystores.pki.shown import ec_point_loads
    from keystores.pki.spki import key_from_der, key_print

    key_type = f"EC-P{curve.key_size}"
    p, _ = NIST_FIELDS[key_type]
    size = (curve.key_size + 7) // 8
    rng = random.Random(curve.key_size)
    real = ec.generate_private_key(curve).public_key()
    template = real.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    numbers = real.public_numbers()
    x, y = numbers.x, numbers.y
    candidates = [(4, x, y), (4, x, p - y), (4, x, y + 1), (4, x + p, y), (4, x, y + p), (4, p, y), (2 + y % 2, x, 0),
                  (3 - y % 2, x, 0), (2, p - 1, 0), (3, p, 0)]
    candidates += [(rng.choice((2, 3, 4)), rng.randrange(2 ** (8 * size)), rng.randrange(2 ** (8 * size)))
                   for _ in range(200)]
    candidates += [(rng.choice((2, 3)), rng.randrange(p), 0) for _ in range(100)]
    agreed = {True: 0, False: 0}
    for form, px, py in candidates:
        if px >= 2 ** (8 * size) or py >= 2 ** (8 * size):
            continue
        point = bytes([form]) + px.to_bytes(size, "big") + (py.to_bytes(size, "big") if form == 4 else b"")
        spki = _spki_with(template, point)
        try:
            serialization.load_der_public_key(spki)
            loads = True
        except ValueError:
            loads = False
        _, start, stop = der_codec.read(spki)
        assert ec_point_loads(key_type, spki[start:stop]) == loads, (form, px, py)
        assert (key_from_der(spki) is not None) is loads, (form, px, py)
        assert (key_print(spki) is not None) is (loads and form == 4), (form, px, py)
        if form == 4:  # the form spki reads by its bytes (crypto/verify.ec_spki_point), without columns.key_facts
            assert ec_spki_point(spki) == (f"P-{curve.key_size}".encode(), point), (px, py)
            assert spki_facts._FACTS[spki] == ((None, False, True, curve.key_size) if loads else None), (px, py)
        agreed[loads] += 1
    assert agreed[True] > 40 and agreed[False] > 40


def test_rsa_keys_are_judged_as_cryptography_judges_them() -> None:
    """rsa_key_loads against cryptography's loader: real keys, small moduli and exponents around its limits (n < 3,
    e < 3, e >= n, an even e), even moduli, random values, with NULL and absent parameters."""
    from keystores.pki.columns import key_facts
    from keystores.pki.shown import rsa_key_loads

    rng = random.Random(2048)
    real = rsa.generate_private_key(65537, 2048).public_key().public_numbers().n
    pairs = [(real, 65537), (real, 3), (real, 1), (real, 2), (real, 4), (real, 0), (real, real), (real, real - 2),
             (real, real + 2), (real - 1, 65537), (3, 1), (4, 3), (5, 3), (3, 3), (2, 1), (1, 1), (5, 4), (7, 5)]
    pairs += [(rng.randrange(1, 2 ** rng.choice((8, 64, 512, 2048))), rng.randrange(0, 2 ** rng.choice((2, 17, 64))))
              for _ in range(300)]
    agreed = {True: 0, False: 0}
    for n, e in pairs:
        if n < 1:
            continue
        for parameters in (b"\x05\x00", b""):
            key = der_codec.sequence(der_codec.integer(n), der_codec.integer(e))
            spki = der_codec.sequence(der_codec.sequence(der_codec.oid("1.2.840.113549.1.1.1") + parameters),
                                      der_codec.tlv(0x03, b"\0" + key))
            _, start, stop = der_codec.read(spki)
            try:
                key_facts(spki, start, stop)
            except ValueError:
                continue  # a form left to cryptography (e = 0, not the shortest form): shown asks cryptography
            try:
                serialization.load_der_public_key(spki)
                loads = True
            except ValueError:
                loads = False
            assert rsa_key_loads(spki[start:stop]) == loads, (n, e, parameters)
            agreed[loads] += 1
    assert agreed[True] > 100 and agreed[False] > 100


def _with_extension(oid: str, value: bytes, subject: x509.Name | None = None) -> bytes:
    """A certificate holding the extension `oid` with the raw `value` (and `subject`, given)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = subject or x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "forms")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(5).not_valid_before(dt.datetime(2020, 1, 1)).not_valid_after(dt.datetime(2030, 1, 1))
            .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), value), critical=False)
            .sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


def _accepted(der: bytes) -> bool:
    return dict(reference(der))["problem"] is None


def test_the_forms_real_roots_write_are_read_as_cryptography_reads_them() -> None:
    """The system bundle's roots read_shown once declined (so that listing it loaded cryptography.x509 to learn
    whether any is refused): user notices in VisibleString or BMPString, T61String names, the private key usage
    period; each next to the damaged forms cryptography refuses, which are declined."""
    tlv, sequence = der_codec.tlv, der_codec.sequence

    def policies(text: bytes) -> bytes:
        notice = sequence(der_codec.oid("1.3.6.1.5.5.7.2.2"), sequence(text))
        return sequence(sequence(der_codec.oid("2.5.29.32.0"), sequence(notice)))

    def period(*times: tuple[int, bytes]) -> bytes:
        return sequence(*(tlv(tag, when) for tag, when in times))

    cases = [("2.5.29.32", policies(tlv(tag, text))) for tag, text in [
        (0x1A, b"Any use"), (0x1A, b"\x00\x1f ~\x7f"), (0x1A, "é".encode()), (0x1A, b"\xe9"),
        (0x1E, "Any use é".encode("utf-16-be")), (0x1E, "\U0001f600".encode("utf-16-be")), (0x1E, b"\x00A\x00"),
        (0x1E, b"\xdc\x00\x00A"), (0x1E, b"\x00A\xd8\x3d"), (0x0C, b"\xe9"), (0x16, "é".encode())]]
    cases += [("2.5.29.16", period(*times)) for times in [
        [(0x80, b"20200101000000Z"), (0x81, b"20300101000000Z")], [(0x80, b"20200101000000Z")],
        [(0x81, b"20300101000000Z")], [], [(0x80, b"20200101000000.5Z")], [(0x80, b"20201301000000Z")],
        [(0x80, b"200101000000Z")], [(0x81, b"20300101000000Z"), (0x80, b"20200101000000Z")],
        [(0x80, b"20200101000000Z"), (0x81, b"20200101000000Z")], [(0x80, b"20300101000000Z"),
                                                                   (0x81, b"20200101000000Z")],
        [(0x80, b"00000101000000Z")], [(0x80, b"00010101000000Z")], [(0x80, b"20240229000000Z")],
        [(0x80, b"20230229000000Z")]]]
    ders = [_with_extension(oid, value) for oid, value in cases]
    t61 = x509.Name([x509.NameAttribute(x509.NameOID.ORGANIZATIONAL_UNIT_NAME, "(c) 1999 T61",
                                        x509.name._ASN1Type.T61String),
                     x509.NameAttribute(x509.NameOID.COMMON_NAME, "forms")])
    named = _with_extension("1.2.3.4", b"\x05\x00", t61)
    ders += [named] + [named.replace(b"(c) 1999 T61", text) for text in (b"(c) 1999 \xc3\xa9T", b"(c) 1999 \xe9T6",
                                                                          b"(c) 1999\x00T61", b"(c)\\1999+T61")]
    answered = 0
    for der in ders:
        assert agree(der) is _accepted(der), der.hex()  # read where cryptography reads it, with the same facts
        answered += agree(der)
    assert answered >= 12  # (15 here: the forms real roots write, and their damage cryptography still takes)


def _spki_with(template: bytes, point: bytes) -> bytes:
    """The SubjectPublicKeyInfo `template` with its point replaced by `point`."""
    (_, at, _, stop), _ = der_codec.inside(template)
    return der_codec.sequence(template[at:stop], der_codec.tlv(0x03, b"\0" + point))


def test_the_extensions_cryptography_parses_are_known_here() -> None:
    """An extension cryptography parses and the reader does not is declined: the list must be whole."""
    from cryptography.x509.oid import ExtensionOID

    parsed = {value.dotted_string for name, value in vars(ExtensionOID).items() if not name.startswith("_")}
    assert parsed <= PARSED_BY_CRYPTOGRAPHY


def test_signature_algorithms_are_named_as_cryptography_names_them() -> None:
    """pki/shown's names of signature algorithms are the `_name`s of cryptography's ObjectIdentifiers, which
    describe prints."""
    from keystores.pki.shown import _SIGNATURE_OIDS

    assert {dotted: name for dotted, (_, name) in _SIGNATURE_OIDS.items()} == {
        dotted: x509.ObjectIdentifier(dotted)._name for dotted in _SIGNATURE_OIDS}


def test_signature_algorithms_are_read_in_their_common_form_only() -> None:
    """_signature_algorithm names an AlgorithmIdentifier exactly where it is one of the common forms (RSA with its
    NULL, the others without parameters), which it encodes for the OID it reads: any other bytes are declined."""
    from keystores.pki.shown import _SIGNATURE_OIDS, _Declined, _signature_algorithm

    for dotted, (null, _) in _SIGNATURE_OIDS.items():
        encoded = der_codec.oid(dotted)
        assert _signature_algorithm(der_codec.sequence(encoded, b"\x05\x00" if null else b"")) == dotted
        odd = [der_codec.sequence(encoded, b"" if null else b"\x05\x00"),  # the other form of its parameters
               der_codec.sequence(encoded, b"\x05\x00\x05\x00"),
               b"\x30\x81" + bytes([len(encoded)]) + encoded,  # a long-form length
               b"\x30" + bytes([len(encoded) + 1]) + b"\x06\x81" + encoded[1:],
               encoded[:3] + b"\x80" + encoded[3:]]  # not an OID in its shortest form (nor a SEQUENCE)
        for algorithm in odd:
            with pytest.raises(_Declined):
                _signature_algorithm(algorithm)
    rsa_sha256 = bytes.fromhex("300d06092a864886f70d01010b0500")
    assert _signature_algorithm(rsa_sha256) == "1.2.840.113549.1.1.11"
    for algorithm in (b"", b"\x30\x00", der_codec.sequence(der_codec.oid("1.2.3.4")),
                      bytes.fromhex("300e060a2a80864886f70d01010b0500"), rsa_sha256[:-1], rsa_sha256 + b"\x00"):
        with pytest.raises(_Declined):
            _signature_algorithm(algorithm)


def test_showing_a_pkcs12_loads_no_digests_module(stores: list[Path]) -> None:
    """Shown.fingerprint hashes by _hashlib's constructors, which reading the PKCS#12 loaded (its MAC, its
    derivations): `show` loads no keystores.crypto.digests for its two fingerprints."""
    for extra in (("server",), ("server", "--json")):
        loaded = _modules_after_list(stores[0], command="show", extra=extra)
        assert "_hashlib" in loaded and "keystores.crypto.digests" not in loaded, extra


def _json_of_show(store_path: Path, password: str, *, decode_first: bool) -> str:
    with open_store(store_path, password=password) as store:
        entries = list(store.entries())
        if decode_first:
            for entry in entries:
                _ = entry.chain  # decoded: describe takes cryptography's path
        return json.dumps([entry_data(e, detail=detail) for e in entries for detail in (False, True)])


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("shown")
    made = folder / "ours.p12"
    make_store(str(made))
    chain = folder / "chain"
    chain.mkdir()
    return [_keytool_store(folder), _openssl_store(folder), made, _openssl_chain_store(chain)]


def test_show_of_a_pkcs12_is_the_same_read_either_way(stores: list[Path]) -> None:
    for path in stores:
        assert _json_of_show(path, PASSWORD, decode_first=False) == _json_of_show(path, PASSWORD, decode_first=True)


@pytest.mark.interop
@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("keytool") and shutil.which("certutil")),
                    reason="openssl, keytool and certutil make the corpus")
def test_every_store_of_the_corpus_shows_the_same_either_way(real_world) -> None:  # noqa: F811
    """Every store of the real-world corpus (fixtures/corpus.py: keytool, openssl, pk12util and the
    cryptography-vectors stores) that opens: `show --json`'s and `list --json`'s data of each entry, read from the
    DER where the backend still holds it, equal the data read through cryptography."""
    folder, manifest = real_world
    read_lean = 0
    for name, facts in manifest.items():
        if "skipped" in facts or facts["broken"] or facts["unsupported"] or facts["needs_password"]:
            continue
        password = os.environ[facts["password"]] if facts["password"] else None
        where = location(folder, name, facts)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with open_store(where, password=password) as store:
                lean = [entry_data(e, detail=detail) for e in store.entries() for detail in (False, True)]
                read_lean += sum(isinstance(e, LazyEntry) and e.undecoded_chain is not None for e in store.entries())
            with open_store(where, password=password) as store:
                entries = list(store.entries())
                for entry in entries:
                    _ = entry.chain
                decoded = [entry_data(e, detail=detail) for e in entries for detail in (False, True)]
        assert json.dumps(lean) == json.dumps(decoded), name
    assert read_lean > 20


def _chain_listing(where: str | Path, password: str | None) -> list[tuple[str, str, tuple[bytes, ...]]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_store(where, password=password) as store:
            return [(e.label, str(e.kind), e.undecoded_chain if e.undecoded_chain is not None else tuple(
                c.public_bytes(serialization.Encoding.DER) for c in e.chain)) for e in store.entries()]


def _pkcs12_files(folder: Path, manifest: dict[str, dict]) -> list[tuple[str, str | None]]:
    return [(location(folder, name, facts), os.environ[facts["password"]] if facts["password"] else None)
            for name, facts in manifest.items()
            if "skipped" not in facts and facts["type"] == "pkcs12" and not (
                facts["broken"] or facts["unsupported"] or facts["needs_password"])]


@pytest.mark.interop
@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("keytool") and shutil.which("certutil")),
                    reason="openssl, keytool and certutil make the corpus")
def test_pkcs12_chains_and_labels_are_the_same_built_from_the_der(real_world, stores, monkeypatch) -> None:  # noqa: F811
    """A PKCS#12 file's chains are built over the certificates' DER where keystores.pki.shown reads them, and a
    certificate without a friendlyName is labelled by its common name read so: every PKCS#12 file of the corpus
    and openssl's file with a chain give the same entries, labels and chains as through cryptography's objects."""
    from keystores.backends.pkcs12.bags import _CertBag, _common_name

    files = [*_pkcs12_files(*real_world), *((str(path), PASSWORD) for path in stores)]
    lean = [_chain_listing(where, password) for where, password in files]
    monkeypatch.setattr(_CertBag, "for_chain", property(lambda bag: bag.cert))
    monkeypatch.setattr(_CertBag, "common_name", property(lambda bag: _common_name(bag.cert)))
    assert lean == [_chain_listing(where, password) for where, password in files]
    assert sum(len(chain) > 1 for listing in lean for _, _, chain in listing) >= 2


def _openssl_chain_store(folder: Path) -> Path:
    """A PKCS#12 of a web server's RSA key, its certificate and the issuing and root CAs (EC), as openssl makes
    it: the CAs carry no friendlyName."""
    def run(*argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True, cwd=folder)

    ec_key = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    run("openssl", "req", "-x509", *ec_key, "-subj", "/CN=Root CA/O=Test", "-keyout", "root.key", "-out",
        "root.pem", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE")
    (folder / "ca.ext").write_text("basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign\n"
                                   "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    run("openssl", "req", *ec_key, "-subj", "/CN=Issuing CA/O=Test", "-keyout", "ca.key", "-out", "ca.csr")
    run("openssl", "x509", "-req", "-in", "ca.csr", "-CA", "root.pem", "-CAkey", "root.key", "-set_serial", "2",
        "-out", "ca.pem", "-days", "30", "-extfile", "ca.ext")
    (folder / "web.ext").write_text("subjectAltName=DNS:web.example,IP:10.1.2.3\nextendedKeyUsage=serverAuth\n"
                                    "authorityInfoAccess=OCSP;URI:http://ocsp.example\n"
                                    "crlDistributionPoints=URI:http://crl.example/ca.crl\n"
                                    "certificatePolicies=2.23.140.1.2.1\n")
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=web.example/O=Test", "-keyout", "web.key",
        "-out", "web.csr")
    run("openssl", "x509", "-req", "-in", "web.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-set_serial", "3",
        "-out", "web.pem", "-days", "30", "-extfile", "web.ext")
    (folder / "cas.pem").write_bytes((folder / "ca.pem").read_bytes() + (folder / "root.pem").read_bytes())
    run("openssl", "pkcs12", "-export", "-in", "web.pem", "-inkey", "web.key", "-certfile", "cas.pem", "-name", "web",
        "-out", "chain.p12", "-passout", f"pass:{PASSWORD}")
    return folder / "chain.p12"


def test_show_leaves_the_key_sealed(stores: list[Path]) -> None:
    """`show` says what the key is without decrypting it (its PBKDF2 run): the entry stays sealed."""
    from keystores.ops.describe import store_data

    with open_store(stores[0], password=PASSWORD) as store:
        entries = list(store.entries())
        data = store_data(store, entries, detail=True)
        assert [e.sealed for e in entries] == [True]
    assert data["entries"][0]["has_private_key"] and data["entries"][0]["key_type"] == "EC-P256"


def test_showing_a_small_pkcs12_imports_no_x509(stores: list[Path]) -> None:
    """`show` and `show --json` of keytool's file, and `list --json`: the certificate details come from the DER;
    and `list` and `show` of openssl's file with a chain, which is built over the DER (the signatures checked)."""
    for command, extra in (("show", ("server",)), ("show", ("server", "--json")), ("list", ("--json",))):
        loaded = _modules_after_list(stores[0], command=command, extra=extra)
        assert "cryptography.x509" not in loaded, (command, extra)
        assert not [m for m in loaded if m.split(".")[0] == "asn1crypto"], (command, extra)
    for command, extra in (("list", ()), ("show", ("web",)), ("show", ("Issuing CA", "--json"))):
        loaded = _modules_after_list(stores[3], command=command, extra=extra)
        assert "cryptography.x509" not in loaded, (command, extra)


def test_showing_a_keytool_jks_imports_no_cryptography(tmp_path: Path) -> None:
    """keytool's JKS with an EC key pair: its chain is held as DER (the JKS backend reads it on first use), the
    details are read from it, the point checked on its curve: `show` imports nothing of cryptography."""
    path = tmp_path / "kt.jks"
    subprocess.run(["keytool", "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=server", "-storetype", "JKS", "-keystore", str(path), "-storepass:env", "PW"],
                   check=True, capture_output=True, env={**os.environ, "PW": PASSWORD})
    loaded = _modules_after_list(path, command="show", extra=("server", "--json"))
    assert "keystores.pki.shown" in loaded and not [m for m in loaded if m.split(".")[0] == "cryptography"]
