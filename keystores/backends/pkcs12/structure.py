"""The layers of a PKCS#12 file (PFX, AuthenticatedSafe, SafeContents, bags and their attributes) as plain values
(keystores.frozen: defining a NamedTuple costs ~0.2 ms at start-up), read with keystores.crypto.der: a speed
device. asn1crypto.pkcs12 imports asn1crypto's cms, x509, keys and algos, ~25 ms of a ~110 ms `keystores list
one.p12` (bench/bench_core.py, "start-up: keystores list one.p12"; issue 15), to read a handful of SEQUENCEs.

DER as keytool, OpenSSL and this package write it is read here. Anything else (BER's indefinite lengths and
constructed strings, which older Windows and Netscape-era tools wrote; an unknown content type or bag; Java's secret
keys; any damage) is read by asn1crypto into the same tuples, as read.py read it before: what is wrong is named in
asn1crypto's words, as before (by_asn1crypto.py, imported only then). tests/test_pkcs12_lean.py holds the two readers
to the same result.
"""

from __future__ import annotations

import codecs

from keystores.crypto import der
from keystores.frozen import FrozenValue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_DATA = "1.2.840.113549.1.7.1"
PBMAC1 = "1.2.840.113549.1.5.14"
_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
FRIENDLY_NAME = "1.2.840.113549.1.9.20"
LOCAL_KEY_ID = "1.2.840.113549.1.9.21"
JAVA_TRUST = "2.16.840.1.113894.746875.1.1"
X509_CERTIFICATE = "1.2.840.113549.1.9.22.1"
SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"
# The bag types by OID, as asn1crypto names them (BagId)
BAG_NAMES = {"1.2.840.113549.1.12.10.1.1": "key_bag", "1.2.840.113549.1.12.10.1.2": "pkcs8_shrouded_key_bag",
             "1.2.840.113549.1.12.10.1.3": "cert_bag", "1.2.840.113549.1.12.10.1.4": "crl_bag",
             "1.2.840.113549.1.12.10.1.5": "secret_bag", "1.2.840.113549.1.12.10.1.6": "safe_contents"}

_SEQUENCE, _SET, _BMP_STRING = 0x30, 0x31, 0x1E
_EXPLICIT_0, _IMPLICIT_0 = 0xA0, 0x80


class Mac(FrozenValue):
    """MacData: the digest's AlgorithmIdentifier (OID, and its parameters' DER for PBMAC1), the digest, salt and
    iteration count (1 when absent, its DEFAULT)."""

    algorithm: str
    parameters: bytes
    digest: bytes
    salt: bytes
    iterations: int
    _fields = ("algorithm", "parameters", "digest", "salt", "iterations")

    def __init__(self, algorithm: str, parameters: bytes, digest: bytes, salt: bytes, iterations: int) -> None:
        init = object.__setattr__
        init(self, "algorithm", algorithm)
        init(self, "parameters", parameters)
        init(self, "digest", digest)
        init(self, "salt", salt)
        init(self, "iterations", iterations)


class Pfx(FrozenValue):
    version: Any  # 3, or what asn1crypto reads ("v3" is 3)
    content_type: str  # "data" for password integrity; asn1crypto's name of any other
    safe: Any  # the AuthenticatedSafe's DER (the data content); asn1crypto's value when it is not an OCTET STRING
    mac: Mac | None
    _fields = ("version", "content_type", "safe", "mac")

    def __init__(self, version: Any, content_type: str, safe: Any, mac: Mac | None) -> None:
        init = object.__setattr__
        init(self, "version", version)
        init(self, "content_type", content_type)
        init(self, "safe", safe)
        init(self, "mac", mac)


class Part(FrozenValue):
    """One ContentInfo of the AuthenticatedSafe: "data" (its SafeContents DER) or "encrypted_data" (the
    AlgorithmIdentifier DER and the ciphertext); asn1crypto's name for any other kind."""

    kind: str
    data: bytes
    algorithm: bytes
    _fields = ("kind", "data", "algorithm")

    def __init__(self, kind: str, data: bytes = b"", algorithm: bytes = b"") -> None:
        init = object.__setattr__
        init(self, "kind", kind)
        init(self, "data", data)
        init(self, "algorithm", algorithm)


class Bag(FrozenValue):
    """One SafeBag: its type's name (asn1crypto's, or the dotted OID), the DER of its value (a certificate bag's
    certificate, a secret bag's EncryptedPrivateKeyInfo), the attributes a key store uses (friendlyName, localKeyId,
    Java's trusted key usages: None when absent), and whether it is one a key store ignores (a CRL, an SDSI
    certificate, a secret other than Java's shrouded key)."""

    kind: str
    oid: str
    value: bytes
    friendly_name: str | None
    local_key_id: bytes | None
    trust_oids: list[str] | None
    ignored: bool
    _fields = ("kind", "oid", "value", "friendly_name", "local_key_id", "trust_oids", "ignored")

    def __init__(self, kind: str, oid: str, value: bytes, friendly_name: str | None, local_key_id: bytes | None,
                 trust_oids: list[str] | None, ignored: bool = False) -> None:
        init = object.__setattr__
        init(self, "kind", kind)
        init(self, "oid", oid)
        init(self, "value", value)
        init(self, "friendly_name", friendly_name)
        init(self, "local_key_id", local_key_id)
        init(self, "trust_oids", trust_oids)
        init(self, "ignored", ignored)


def _explicit(data: bytes, element: der.Element) -> der.Element:
    """The one element inside an [0] EXPLICIT."""
    if element[0] != _EXPLICIT_0:
        raise der.DerError("not read here")
    inner = der.elements(data, element[2], element[3])
    if len(inner) != 1:
        raise der.DerError("not read here")
    return inner[0]


def _whole(data: bytes, element: der.Element) -> bytes:
    return data[element[1] : element[3]]


# --- PFX ------------------------------------------------------------------------------------------------------------
def read_pfx(data: bytes, location: str) -> Pfx:
    """The PFX: asn1crypto's errors for what is not plain DER (a CorruptStore naming why for what cannot be read)."""
    try:
        return _pfx(data)
    except der.DerError:
        from keystores.backends.pkcs12.by_asn1crypto import _pfx_by_asn1crypto  # only here: start-up

        return _pfx_by_asn1crypto(data, location)


def _pfx(data: bytes) -> Pfx:
    parts = der.inside(data, whole=True)
    if len(parts) not in (2, 3) or der.element_integer(data, parts[0]) != 3:
        raise der.DerError("not read here")
    auth_safe = der.inside_element(data, parts[1])
    if len(auth_safe) != 2 or der.element_oid(data, auth_safe[0]) != _DATA:
        raise der.DerError("not read here")
    safe = der.element_octets(data, _explicit(data, auth_safe[1]))
    mac = _mac(data, parts[2]) if len(parts) == 3 else None
    return Pfx(3, "data", safe, mac)


def _mac(data: bytes, element: der.Element) -> Mac:
    fields = der.inside_element(data, element)
    if len(fields) not in (2, 3):
        raise der.DerError("not read here")
    digest_info = der.inside_element(data, fields[0])
    if len(digest_info) != 2:
        raise der.DerError("not read here")
    algorithm = der.inside_element(data, digest_info[0])
    if len(algorithm) not in (1, 2):
        raise der.DerError("not read here")
    oid = der.element_oid(data, algorithm[0])
    parameters = _whole(data, algorithm[1]) if len(algorithm) == 2 and oid == PBMAC1 else b""
    iterations = der.element_integer(data, fields[2]) if len(fields) == 3 else 1
    return Mac(oid, parameters, der.element_octets(data, digest_info[1]),
               der.element_octets(data, fields[1]), iterations)


# --- AuthenticatedSafe ----------------------------------------------------------------------------------------------
def read_authenticated_safe(data: bytes) -> list[Part]:
    """The ContentInfos of an AuthenticatedSafe (ValueError, asn1crypto's, when it cannot be read)."""
    try:
        return [_part(data, element) for element in der.inside(data, whole=True)]
    except der.DerError:
        from keystores.backends.pkcs12.by_asn1crypto import _parts_by_asn1crypto

        return _parts_by_asn1crypto(data)


def _part(data: bytes, element: der.Element) -> Part:
    fields = der.inside_element(data, element)
    if len(fields) != 2:
        raise der.DerError("not read here")
    content_type = der.element_oid(data, fields[0])
    inner = _explicit(data, fields[1])
    if content_type == _DATA:
        return Part("data", data=der.element_octets(data, inner))
    if content_type != _ENCRYPTED_DATA:
        raise der.DerError("not read here")  # asn1crypto names the kind
    encrypted = der.inside_element(data, inner)
    if len(encrypted) not in (2, 3) or der.element_integer(data, encrypted[0]) not in (0, 2):
        raise der.DerError("not read here")
    info = der.inside_element(data, encrypted[1])
    if len(info) not in (2, 3) or info[1][0] != _SEQUENCE:
        raise der.DerError("not read here")
    der.element_oid(data, info[0])
    ciphertext = b""
    if len(info) == 3:
        if info[2][0] != _IMPLICIT_0:  # a constructed [0] (BER chunks): asn1crypto joins them
            raise der.DerError("not read here")
        ciphertext = data[info[2][2] : info[2][3]]
    return Part("encrypted_data", data=ciphertext, algorithm=_whole(data, info[1]))


# --- SafeContents ---------------------------------------------------------------------------------------------------
def read_safe_contents(data: bytes) -> list[Bag]:
    """The bags of a SafeContents (ValueError, asn1crypto's, when it cannot be read)."""
    try:
        return [_bag(data, element) for element in der.inside(data, whole=True)]
    except (der.DerError, UnicodeDecodeError):
        from keystores.backends.pkcs12.by_asn1crypto import _bags_by_asn1crypto

        return _bags_by_asn1crypto(data)


def _bag(data: bytes, element: der.Element) -> Bag:
    fields = der.inside_element(data, element)
    if len(fields) not in (2, 3):
        raise der.DerError("not read here")
    oid = der.element_oid(data, fields[0])
    kind = BAG_NAMES.get(oid)
    if kind is None:
        raise der.DerError("not read here")  # an unknown bag type: refused by name, as asn1crypto reads it
    value = _explicit(data, fields[1])
    name = key_id = trust = None
    if len(fields) == 3:
        name, key_id, trust = _attributes(data, fields[2])
    if kind == "crl_bag":
        return Bag(kind, oid, b"", name, key_id, trust, ignored=True)
    if kind == "cert_bag":
        value_der = _cert_bag(data, value)
    elif kind == "secret_bag" or value[0] != _SEQUENCE:
        raise der.DerError("not read here")  # rare (Java's secret keys): asn1crypto reads them
    else:
        value_der = _whole(data, value)
    return Bag(kind, oid, value_der, name, key_id, trust)


def _cert_bag(data: bytes, element: der.Element) -> bytes:
    """An X.509 certificate bag's certificate DER (one SEQUENCE filling the OCTET STRING); others go to asn1crypto."""
    fields = der.inside_element(data, element)
    if len(fields) != 2 or der.element_oid(data, fields[0]) != X509_CERTIFICATE:
        raise der.DerError("not read here")
    cert = der.element_octets(data, _explicit(data, fields[1]))
    tag, _, stop = der.read(cert, 0, len(cert), minimal=True)
    if tag != _SEQUENCE or stop != len(cert):
        raise der.DerError("not read here")
    return cert


def _attributes(data: bytes, element: der.Element) -> tuple[str | None, bytes | None, list[str] | None]:
    """(friendlyName, localKeyId, Java trust OIDs) as bags._attributes reads them from asn1crypto's objects: the
    first value of each (an attribute without values is skipped), every value of Java's."""
    if element[0] != _SET:
        raise der.DerError("not read here")
    name = key_id = trust = None
    for attribute in der.elements(data, element[2], element[3]):
        fields = der.inside_element(data, attribute)
        if len(fields) != 2 or fields[1][0] != _SET:
            raise der.DerError("not read here")
        oid = der.element_oid(data, fields[0])
        values = der.elements(data, fields[1][2], fields[1][3])
        if not values:
            continue
        if oid == FRIENDLY_NAME:
            if any(value[0] != _BMP_STRING or (value[3] - value[2]) % 2 for value in values):
                raise der.DerError("not read here")
            # bytes.decode("utf-16-be") as its codec does it, without importing the codec's module (bmp_password)
            name = codecs.utf_16_be_decode(data[values[0][2] : values[0][3]], "strict", True)[0]
        elif oid == LOCAL_KEY_ID:
            key_id = der.element_octets(data, values[0])
        elif oid == JAVA_TRUST:
            trust = [der.element_oid(data, value) for value in values]
    return name, key_id, trust

