"""`ams protect` encodes its CMS with keystores.crypto.der instead of asn1crypto's cms module (issue 15, start-up in
a user install: importing asn1crypto.cms costs more CPU than starting Python twice). Held here byte for byte to
the asn1crypto encoding protect used before (kept below as the reference) for every AMS hash and cipher, signing
times at both ends of UTCTime's range, serials of every sign and length, and the same keys, IVs and wrapped keys;
openssl's reading of what protect writes is tests/test_ams_rehearse.py's."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from ams_material import AT, make_cert, org_ca, person, rsa_key
from asn1crypto import algos, cms, core
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import Encoding

from keystores.ams import rehearse
from keystores.ams.rehearse import CIPHERS, _envelope, _signed_data


class _Signer:
    """A Signer over a key in memory (PKCS#1 v1.5 is deterministic: both encodings get the same signature)."""

    def __init__(self, key) -> None:
        self.key = key

    def sign(self, data: bytes, hash_name: str) -> bytes:
        return self.key.sign(data, padding.PKCS1v15(), getattr(hashes, hash_name.upper())())


def _reference_signed_data(content: bytes, hash_name: str, signer: _Signer, cert_der: bytes, at: dt.datetime) -> bytes:
    """protect's SignedData as asn1crypto encoded it (the code before this change)."""
    certificate = ax509.Certificate.load(cert_der)
    digest = hashlib.new(hash_name, content).digest()
    attrs = cms.CMSAttributes([
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": at})]}),
        cms.CMSAttribute({"type": "message_digest", "values": [core.OctetString(digest)]}),
    ])
    info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
            "issuer": certificate.issuer, "serial_number": certificate.serial_number})}),
        "digest_algorithm": {"algorithm": hash_name},
        "signed_attrs": attrs,
        "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
        "signature": b"",
    })
    info["signature"] = signer.sign(b"\x31" + info["signed_attrs"].dump()[1:], hash_name)
    signed = cms.SignedData({
        "version": "v1",
        "digest_algorithms": [{"algorithm": hash_name}],
        "encap_content_info": {"content_type": "data", "content": content},
        "certificates": [certificate],
        "signer_infos": [info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


def _reference_envelope(recipients: list[tuple[bytes, bytes]], algorithm: str, iv: bytes, encrypted: bytes) -> bytes:
    """protect's EnvelopedData as asn1crypto encoded it, for (certificate DER, wrapped key) recipients."""
    infos = []
    for cert_der, wrapped in recipients:
        parsed = ax509.Certificate.load(cert_der)
        infos.append(cms.RecipientInfo({"ktri": cms.KeyTransRecipientInfo({
            "version": "v0",
            "rid": cms.RecipientIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber({
                "issuer": parsed.issuer, "serial_number": parsed.serial_number})}),
            "key_encryption_algorithm": {"algorithm": "rsaes_pkcs1v15"},
            "encrypted_key": wrapped,
        })}))
    parameters: object = iv
    if algorithm == "RC2":
        parameters = algos.Rc2Params({"rc2_parameter_version": 58, "iv": iv})
    enveloped = cms.EnvelopedData({
        "version": "v0",
        "recipient_infos": infos,
        "encrypted_content_info": {
            "content_type": "data",
            "content_encryption_algorithm": {"algorithm": CIPHERS[algorithm][0], "parameters": parameters},
            "encrypted_content": encrypted,
        },
    })
    return cms.ContentInfo({"content_type": "enveloped_data", "content": enveloped}).dump()


SERIALS = (1, 127, 128, 255, 256, 2**64 + 5, 2**159 - 1)
TIMES = (AT, dt.datetime(1950, 1, 1, tzinfo=dt.UTC), dt.datetime(2049, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
         dt.datetime(2026, 6, 1, 14, 0, 30, 123456, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))))


@pytest.mark.parametrize("hash_name", ["md5", "sha1", "sha224", "sha256", "sha384", "sha512"])
def test_signed_data_is_asn1cryptos_encoding(hash_name: str) -> None:
    key, _ = person("alice", "MyOrg")
    signer = _Signer(key)
    for serial in SERIALS:
        cert = make_cert(key, "CN=alice,O=MyOrg,C=GB", issuer=org_ca("MyOrg"), serial=serial)
        for at in TIMES:
            for content in (b"", b"payment 1", bytes(range(256)) * 300):
                ours = _signed_data(content, hash_name.upper(), signer, cert, at)
                assert ours == _reference_signed_data(content, hash_name, signer, cert.public_bytes(Encoding.DER), at)


def test_a_signing_time_after_2049_is_a_generalized_time() -> None:
    """RFC 5652 11.3: UTCTime from 1950 to 2049, GeneralizedTime otherwise (asn1crypto refused them: protect with
    --at 2050-01-01 ended in an internal error)."""
    key, cert = person("alice", "MyOrg")
    for at in (dt.datetime(2050, 1, 1, tzinfo=dt.UTC), dt.datetime(1949, 12, 31, 23, 59, 58, 7, tzinfo=dt.UTC),
               dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)):
        signed = cms.ContentInfo.load(_signed_data(b"m", "SHA256", _Signer(key), cert, at))
        attributes = {a["type"].native: a["values"][0] for a in signed["content"]["signer_infos"][0]["signed_attrs"]}
        assert attributes["signing_time"].name == "generalized_time"
        assert attributes["signing_time"].native == at.replace(microsecond=0)
        with pytest.raises(ValueError, match=r"Year of the UTCTime is not in range"):
            _reference_signed_data(b"m", "sha256", _Signer(key), cert.public_bytes(Encoding.DER), at)


@pytest.mark.parametrize("algorithm", sorted(CIPHERS))
def test_enveloped_data_is_asn1cryptos_encoding(algorithm: str) -> None:
    bob = person("bob", "Other")[1]
    carol = make_cert(rsa_key("carol"), "CN=carol,O=Other,C=GB", issuer=org_ca("Other"), serial=2**159 - 1)
    iv = bytes(range(8 if algorithm in ("3DES", "DES", "RC2") else 16))
    for recipients in ([bob], [bob, carol]):
        wrapped = [bytes([index]) * 256 for index, _ in enumerate(recipients)]
        ours = _envelope([rehearse.der.sequence(rehearse.der.integer(0),
                                                rehearse._issuer_and_serial(cert.public_bytes(Encoding.DER)),
                                                rehearse.der.sequence(rehearse.der.oid(rehearse._RSA),
                                                                      rehearse.der.tlv(0x05, b"")),
                                                rehearse.der.octet_string(key))
                          for cert, key in zip(recipients, wrapped, strict=True)], algorithm, iv, b"\x01" * 48)
        reference = _reference_envelope([(cert.public_bytes(Encoding.DER), key)
                                         for cert, key in zip(recipients, wrapped, strict=True)],
                                        algorithm, iv, b"\x01" * 48)
        assert ours == reference
