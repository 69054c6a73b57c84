"""The messages `ams unprotect` meets most, read with keystores.crypto.der instead of asn1crypto's cms module (issue
15, start-up in a user install: importing asn1crypto.cms costs more CPU than starting Python twice).

What is read here: a ContentInfo in DER (definite lengths, nothing after it) holding an EnvelopedData whose
recipients are KeyTransRecipientInfos by issuer and serial (other kinds of recipient are skipped, as rehearse
skips them) and whose content cipher is one AMS uses, or a SignedData with its content, one SignerInfo by issuer
and serial and a digest AMS uses; names compared are RDNs of CN, L, ST, O, OU (UTF8String or PrintableString) and C
(PrintableString) in printable ASCII, which asn1crypto compares as their bytes do. Anything else (BER, a detached
signature, a subject key identifier, another content type or digest, any other name, damage) is None here: the
caller reads the message with asn1crypto as before, so what unprotect says of it is what it said
(tests/test_ams_unprotect_der.py compares both readers over protect's messages, openssl's, and damaged ones).
"""

from __future__ import annotations

from keystores.crypto import der
from keystores.frozen import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from keystores.crypto.der import Element

_DATA, _SIGNED_DATA, _ENVELOPED_DATA = "1.2.840.113549.1.7.1", "1.2.840.113549.1.7.2", "1.2.840.113549.1.7.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
DIGESTS = {"1.2.840.113549.2.5": "md5", "1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224",
           "2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512"}
CIPHERS = {"2.16.840.1.101.3.4.1.2": "AES128", "2.16.840.1.101.3.4.1.42": "AES256", "1.2.840.113549.3.7": "3DES",
           "1.3.14.3.2.7": "DES", "1.2.840.113549.3.2": "RC2"}
# Attribute types and string tags whose values asn1crypto compares as their bytes when they are printable ASCII.
_NAME_TAGS = {"2.5.4.3": (0x0C, 0x13), "2.5.4.7": (0x0C, 0x13), "2.5.4.8": (0x0C, 0x13), "2.5.4.10": (0x0C, 0x13),
              "2.5.4.11": (0x0C, 0x13), "2.5.4.6": (0x13,)}


class Envelope(Record):
    """An EnvelopedData: (issuer Name DER, serial, encrypted key) per KeyTransRecipientInfo, the content cipher by
    its AMS name, its IV and the encrypted content."""

    _fields = ("recipients", "cipher", "iv", "encrypted")

    def __init__(self, recipients: list[tuple[bytes, int, bytes]], cipher: str, iv: bytes, encrypted: bytes) -> None:
        self.recipients = recipients
        self.cipher = cipher
        self.iv = iv
        self.encrypted = encrypted


class Signed(Record):
    """A SignedData with one SignerInfo: the content, the certificates' DER, the signer's issuer Name DER and
    serial, the digest's hashlib name, the signed attributes as signed (a SET OF) or None, the message digests
    they hold, and the signature."""

    _fields = ("content", "certificates", "issuer", "serial", "hash_name", "signed_attributes", "digests",
               "signature")

    def __init__(self, content: bytes, certificates: list[bytes], issuer: bytes, serial: int, hash_name: str,
                 signed_attributes: bytes | None, digests: list[bytes], signature: bytes) -> None:
        self.content = content
        self.certificates = certificates
        self.issuer = issuer
        self.serial = serial
        self.hash_name = hash_name
        self.signed_attributes = signed_attributes
        self.digests = digests
        self.signature = signature


def read_message(data: bytes) -> Envelope | Signed | None:
    """The ContentInfo DER in `data` read as above, or None (asn1crypto reads it)."""
    try:
        content_type, content = _content_info(data)
        if content_type == _ENVELOPED_DATA:
            return _envelope(data, content)
        if content_type == _SIGNED_DATA:
            return _signed(data, content)
    except (ValueError, IndexError, KeyError):  # DerError, an element missing, an OID not read here
        return None
    return None


def plain_name(name: bytes) -> bool:
    """Whether a Name is one asn1crypto compares as its bytes compare (see the module docstring)."""
    from keystores.pki.encoded import name_rdns

    try:
        rdns = name_rdns(name)
    except ValueError:
        return False
    for rdn in rdns:
        if len(rdn) != 1:
            return False
        oid, tag, value = rdn[0]
        if tag not in _NAME_TAGS.get(oid, ()) or not value or any(not 0x20 <= c <= 0x7E for c in value):
            return False
    return True


def _content_info(data: bytes) -> tuple[str, Element]:
    fields = der.inside(data, 0, tag=0x30, whole=True)
    (oid, content) = fields
    if content[0] != 0xA0:
        raise der.DerError("no content")
    (inner,) = der.elements(data, content[2], content[3])
    return der.element_oid(data, oid), inner


def _issuer_and_serial(data: bytes, element: Element) -> tuple[bytes, int]:
    name, serial = der.inside_element(data, element)
    if name[0] != 0x30:
        raise der.DerError("not a Name")
    issuer = data[name[1] : name[3]]
    if not plain_name(issuer):
        raise der.DerError("a name compared by asn1crypto's rules")
    return issuer, der.element_integer(data, serial)


def _envelope(data: bytes, enveloped: Element) -> Envelope:
    fields = der.inside_element(data, enveloped)
    version, recipient_infos, content_info, *rest = fields
    der.element_integer(data, version)
    if recipient_infos[0] != 0x31 or any(tag != 0xA1 for tag, *_ in rest):  # [0] originatorInfo is not read here
        raise der.DerError("not an EnvelopedData read here")
    recipients = []
    for info in der.elements(data, recipient_infos[2], recipient_infos[3]):
        if info[0] in (0xA1, 0xA2, 0xA3, 0xA4):  # kari, kekri, pwri, ori: skipped as rehearse skips them
            continue
        info_version, rid, algorithm, encrypted_key = der.inside_element(data, info)
        der.element_integer(data, info_version)
        if rid[0] != 0x30 or algorithm[0] != 0x30:
            raise der.DerError("not a KeyTransRecipientInfo by issuer and serial")
        recipients.append((*_issuer_and_serial(data, rid), der.element_octets(data, encrypted_key)))
    content_type, algorithm, encrypted = der.inside_element(data, content_info)
    algorithm_oid, parameters = der.inside_element(data, algorithm)
    cipher = CIPHERS[der.element_oid(data, algorithm_oid)]
    if cipher == "RC2":
        rc2_version, iv_element = der.inside_element(data, parameters)
        der.element_integer(data, rc2_version)
        iv = der.element_octets(data, iv_element)
    else:
        iv = der.element_octets(data, parameters)
    if der.element_oid(data, content_type) != _DATA or encrypted[0] != 0x80:
        raise der.DerError("not encrypted data read here")
    return Envelope(recipients, cipher, iv, data[encrypted[2] : encrypted[3]])


def _signed(data: bytes, signed: Element) -> Signed:
    version, digest_algorithms, encapsulated, *middle, signer_infos = der.inside_element(data, signed)
    der.element_integer(data, version)
    if digest_algorithms[0] != 0x31 or signer_infos[0] != 0x31:
        raise der.DerError("not a SignedData")
    certificates = []
    for tag, _, content_start, end in middle:
        if tag == 0xA0:
            choices = der.elements(data, content_start, end)
            if any(choice[0] not in (0x30, 0xA0, 0xA1, 0xA2, 0xA3) for choice in choices):
                raise der.DerError("not a CertificateChoices")
            certificates = [data[at:stop] for cert_tag, at, _, stop in choices
                            if cert_tag == 0x30]  # the other CertificateChoices are skipped, as rehearse does
        elif tag != 0xA1:
            raise der.DerError("not a SignedData")
    content_type, explicit = der.inside_element(data, encapsulated)
    if der.element_oid(data, content_type) != _DATA or explicit[0] != 0xA0:
        raise der.DerError("content that is not data, or none")
    (octets,) = der.elements(data, explicit[2], explicit[3])
    content = der.element_octets(data, octets)
    (info,) = der.elements(data, signer_infos[2], signer_infos[3])
    info_version, sid, digest_algorithm, *attributes, signature_algorithm, signature = der.inside_element(data, info)
    der.element_integer(data, info_version)
    if sid[0] != 0x30 or signature_algorithm[0] != 0x30 or (attributes and attributes[0][0] != 0xA0):
        raise der.DerError("not a SignerInfo read here")
    issuer, serial = _issuer_and_serial(data, sid)
    hash_name = DIGESTS[der.element_oid(data, der.inside_element(data, digest_algorithm)[0])]
    signed_attributes, digests = None, []
    if attributes:
        if len(attributes) != 1:
            raise der.DerError("unsigned attributes")
        _, start, content_start, end = attributes[0]
        if content_start == end:
            raise der.DerError("no signed attributes")  # asn1crypto's reader takes an empty set for none
        signed_attributes = b"\x31" + data[start + 1 : end]
        for attribute in der.elements(data, content_start, end):
            attribute_type, values = der.inside_element(data, attribute)
            if values[0] != 0x31:
                raise der.DerError("not an attribute")
            if der.element_oid(data, attribute_type) == _MESSAGE_DIGEST:
                digests.append(der.element_octets(data, der.elements(data, values[2], values[3])[0]))
    return Signed(content, certificates, issuer, serial, hash_name, signed_attributes, digests,
                  der.element_octets(data, signature))
