"""keystores.pki.columns (the DER reader `list` uses) against cryptography, the reference: wherever the reader
answers, it answers what describe would print from cryptography's objects; where it cannot, it says None."""

from __future__ import annotations

import datetime as dt
import re
import warnings
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from helpers import ec_key, rsa_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keystores.model import describe_key
from keystores.pki.columns import certificate_columns, certificate_names

pytestmark = pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")  # C=GBR: cryptography warns
SHORT = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DER = serialization.Encoding.DER
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def reference(der: bytes) -> tuple[str, str, str]:
    """The columns as describe computes them from cryptography's objects."""
    cert = x509.load_der_x509_certificate(der)
    return (cert.subject.rfc4514_string(), cert.not_valid_after_utc.isoformat().replace("+00:00", "Z"),
            describe_key(cert.public_key()))


@cache
def keys() -> dict[str, object]:
    return {"rsa": rsa_key(3), "rsa-1024": rsa_key(4, 1024), "p256": ec_key(3), "p384": ec_key(4, "secp384r1"),
            "p521": ec.generate_private_key(ec.SECP521R1()), "k1": ec.generate_private_key(ec.SECP256K1()),
            "ed25519": ed25519.Ed25519PrivateKey.generate(), "ed448": ed448.Ed448PrivateKey.generate()}


def build(subject: x509.Name, key_name: str = "p256", *, not_after: dt.datetime | None = None) -> bytes:
    key = keys()[key_name]
    signer = keys()["p256"]
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
               .serial_number(7).not_valid_before(dt.datetime(1950, 1, 1))
               .not_valid_after(not_after or dt.datetime(2040, 1, 1)))
    return builder.sign(signer, hashes.SHA256()).public_bytes(DER)


@pytest.mark.parametrize("key_name", ["rsa", "rsa-1024", "p256", "p384", "p521", "ed25519", "ed448"])
def test_every_key_type_read(key_name):
    der = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k")]), key_name)
    assert certificate_columns(der) == reference(der)


def test_other_curves_are_left_to_cryptography():
    der = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "k")]), "k1")
    assert certificate_columns(der) is None and reference(der)[2] == "EC-secp256k1"


@pytest.mark.parametrize("when", [dt.datetime(1950, 1, 1), dt.datetime(2049, 12, 31, 23, 59, 59),
                                  dt.datetime(2050, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59)])
def test_utctime_and_generalizedtime(when):
    der = build(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "t")]), not_after=when)
    assert certificate_columns(der) == reference(der)


# the system bundle may hold roots with a serial <= 0, which cryptography parses with a deprecation warning
@pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")
def test_system_trust_store_matches_cryptography():
    """Real roots: BMPStrings, multi-valued RDNs, emailAddress, odd OIDs; the reader matches or declines."""
    if not SYSTEM_BUNDLE.exists():
        pytest.skip("no system CA bundle")
    pems = re.findall(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", SYSTEM_BUNDLE.read_bytes(),
                      re.S)
    answered = 0
    for pem in pems:
        cert = x509.load_pem_x509_certificate(pem)
        der = cert.public_bytes(DER)
        assert certificate_names(der) == (cert.issuer.public_bytes(), cert.subject.public_bytes())
        fast = certificate_columns(der)
        if fast is not None:
            answered += 1
            assert fast == reference(der)
    assert answered > len(pems) // 2  # the common forms really take the fast path


TEXT_TYPES = [_ASN1Type.UTF8String, _ASN1Type.PrintableString, _ASN1Type.IA5String, _ASN1Type.BMPString,
              _ASN1Type.UniversalString, _ASN1Type.T61String, _ASN1Type.VisibleString]
OIDS = [NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.COUNTRY_NAME,
        NameOID.DOMAIN_COMPONENT, NameOID.USER_ID, NameOID.EMAIL_ADDRESS, NameOID.SERIAL_NUMBER,
        x509.ObjectIdentifier("1.2.3.4.128.16383"), x509.ObjectIdentifier("2.999.1")]
attribute = st.builds(lambda oid, value, kind: x509.NameAttribute(oid, value, kind, _validate=False),
                      st.sampled_from(OIDS), st.text(alphabet=st.sampled_from('ab #"+,;<>\\=\0é€'), max_size=8),
                      st.sampled_from(TEXT_TYPES))
names = st.lists(st.lists(attribute, min_size=1, max_size=2), max_size=4).map(
    lambda rdns: x509.Name([x509.RelativeDistinguishedName(r) for r in rdns if len(set(r)) == len(r)]))


@SHORT
@given(names)
def test_generated_names(subject):
    try:
        der = build(subject)
    except ValueError:  # a value its string type cannot encode (é in a PrintableString): not a certificate
        return
    fast = certificate_columns(der)
    if fast is not None:
        assert fast == reference(der)
    if all(len(rdn) == 1 and next(iter(rdn))._type not in (_ASN1Type.BMPString, _ASN1Type.UniversalString)
           for rdn in subject.rdns):
        assert fast is not None  # the forms the reader claims to handle, it handles


@cache
def seeds() -> list[bytes]:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seed"), x509.NameAttribute(NameOID.COUNTRY_NAME,
                                                                                                "GB")])
    return [build(subject, k) for k in ("rsa", "p256", "ed25519")]


@SHORT
@given(st.data())
def test_damaged_certificates_never_disagree(data):
    damaged_never_disagree(data)


@pytest.mark.slow
@LONG
@given(st.data())
def test_damaged_certificates_never_disagree_long(data):
    damaged_never_disagree(data)


def damaged_never_disagree(data: st.DataObject) -> None:
    """Flip, cut or insert bytes: where cryptography loads the result, the reader declines or agrees with it.
    It reads only what it prints, so it may answer for a certificate cryptography refuses to load (damage in the
    issuer, extensions or signature) and does not check the key's value (an EC point on its curve, an odd RSA
    exponent): such damage surfaces when the certificate itself is used, as a store's error naming the entry."""
    seed = data.draw(st.sampled_from(seeds()))
    damaged = bytearray(seed)
    for _ in range(data.draw(st.integers(1, 3))):
        if not damaged:
            break
        at = data.draw(st.integers(0, len(damaged) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            damaged[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "cut":
            del damaged[at:]
        else:
            damaged[at:at] = bytes([data.draw(st.integers(0, 255))])
    fast = certificate_columns(bytes(damaged))
    try:
        with warnings.catch_warnings():
            # a flipped top bit makes the serial negative: cryptography loads it and warns, met here on purpose
            warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive",
                                    category=CryptographyDeprecationWarning)
            cert = x509.load_der_x509_certificate(bytes(damaged))
        subject, not_after = cert.subject.rfc4514_string(), cert.not_valid_after_utc
    except (ValueError, TypeError, KeyError, x509.InvalidVersion):
        return  # cryptography refuses it
    if fast is None:
        return
    assert fast[:2] == (subject, not_after.isoformat().replace("+00:00", "Z"))
    try:
        key_type = describe_key(cert.public_key())
    except ValueError:
        return  # a key value cryptography refuses (a point off its curve, an even RSA exponent)
    assert fast[2] == key_type


def test_not_a_certificate():
    assert certificate_columns(b"") is None
    assert certificate_columns(b"\x30\x03\x02\x01\x01") is None
    assert certificate_columns(b"\x30\x81\x03\x02\x01\x01") is None  # a long length form where a short one fits


def test_names_are_the_encoded_names_and_damage_says_none():
    """certificate_names (what a PKCS#12 chain is built by before any certificate is decoded) gives the issuer and
    subject as encoded; truncated or foreign bytes give None."""
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf"), x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                                                            "é+,;")])
    der = build(subject)
    cert = x509.load_der_x509_certificate(der)
    assert certificate_names(der) == (cert.issuer.public_bytes(), subject.public_bytes())
    assert certificate_names(der[:-1]) is None
    assert certificate_names(b"\x04\x03abc") is None


def test_the_time_ranges_are_the_ones_datetime_checks() -> None:
    """columns reads notAfter without importing datetime: its range checks agree with datetime()'s, leap years,
    a 31 April and a 25th hour included."""
    import datetime as dt

    from keystores.pki import columns

    for year in (1, 1950, 1999, 2000, 2024, 2100, 2400, 9999):
        for month in range(14):
            for day in (0, 1, 28, 29, 30, 31, 32):
                for hour, minute, second in ((0, 0, 0), (23, 59, 59), (24, 0, 0), (0, 60, 0), (0, 0, 60)):
                    try:
                        dt.datetime(year, month, day, hour, minute, second)
                        valid = True
                    except ValueError:
                        valid = False
                    text = f"{year:04d}{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}Z".encode()
                    try:
                        columns._time(text, 0x18, 0, len(text))
                        read = True
                    except ValueError:
                        read = False
                    assert read == valid, text
