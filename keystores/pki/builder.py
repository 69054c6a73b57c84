"""One builder for certificate requests and certificates that signs through a `model.Signer`.

cryptography's builders sign only with its own key objects, so a key on a token could not sign with them. Here
the to-be-signed structure (CertificationRequestInfo / TBSCertificate) and the extensions keystores writes are
built with keystores.crypto.der, the Signer signs its DER (a file key or a token key alike), and the signature is
checked with the signer's public key. Written by hand rather than with asn1crypto or cryptography.x509 for
start-up speed: importing those is most of certreq's and sign's time (bench/bench_core.py "start-up: keystores
certreq"/"sign"). tests/test_builder_der.py has openssl and keytool judge the results and compares them byte for
byte with what cryptography's own builders make of the same key, names, serial and times.
MD5 and SHA-1 are used only when asked for, and the caller is told they are weak.
"""

from __future__ import annotations

from keystores.crypto import der
from keystores.errors import KeystoreError, Note, UsageError, parameter
from keystores.frozen import FrozenValue

# datetime and typing are imported where used, hashlib not at all (spki.openssl_digest): start-up speed,
# tests/test_lifecycle_lean.py
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Sequence

    from cryptography import x509

    from keystores.model import Signer
    from keystores.pki.dn import DistinguishedName
    from keystores.pki.encoded import EncodedRequest

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
    kind = _key_kind(public_key)
    if kind in ("ed25519", "ed448"):
        if md not in (None, "sha512"):
            notes.append(Note(f"the signature hash {md} is ignored: Ed25519/Ed448 signatures have their own hash",
                              parameter("--md", "md")))
        return "sha512"
    if md is None:
        if kind == "ec":
            return {384: "sha384", 521: "sha512"}.get(_ec_bits(public_key), "sha256")
        return "sha256"
    name = md.lower().replace("-", "")
    if name not in HASHES:
        raise UsageError(f"unknown signature hash '{md}': use one of {', '.join(HASHES)}", hint=parameter("--md", "md"))
    if name == "md5" and kind == "ec":
        raise UsageError("ECDSA with MD5 does not exist; use sha256 or stronger")
    if name in WEAK_HASHES:
        notes.append(f"warning: signing with {name.upper()}, which is broken for signatures; use it only for "
                     "software that cannot do SHA-256")
    return name


def _ec_bits(public_key: object) -> int:
    from keystores.pki.spki import SpkiKey

    if isinstance(public_key, SpkiKey):
        return public_key.bits
    return public_key.curve.key_size  # type: ignore[attr-defined,no-any-return]


def _key_kind(public_key: object) -> str | None:
    """"ec", "rsa", "ed25519", "ed448", "dsa", or None for another key. Each key type's module is imported only
    for a key not of the types before it, EC first (start-up speed: certreq and sign of an EC key load no RSA
    module); a key held as DER (keystores.pki.spki.SpkiKey: one libcrypto made) says its kind itself."""
    from keystores.pki.spki import SpkiKey

    if isinstance(public_key, SpkiKey):
        return public_key.kind
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ec"
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        return "rsa"
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "ed448"
    from keystores.model import dsa_public_key_type

    return "dsa" if isinstance(public_key, dsa_public_key_type()) else None


def _algorithm_id(public_key: object, hash_name: str) -> bytes:
    """The signature AlgorithmIdentifier's DER."""
    from keystores.pki.encoded import SIGNATURE_OIDS

    kind = _key_kind(public_key)
    if kind is None:
        raise UsageError(f"cannot sign with a {type(public_key).__name__}")
    if kind == "ed25519":
        return der.sequence(der.oid("1.3.101.112"))
    if kind == "ed448":
        return der.sequence(der.oid("1.3.101.113"))
    dotted = SIGNATURE_OIDS.get((kind, hash_name))
    if dotted is None:
        raise UsageError(f"{kind.upper()} signatures with {hash_name.upper()} do not exist; use sha256 or stronger")
    return der.sequence(der.oid(dotted), b"\x05\x00") if kind == "rsa" else der.sequence(der.oid(dotted))


def _spki(public_key: object) -> bytes:
    from keystores.pki.spki import SpkiKey

    if isinstance(public_key, SpkiKey):
        return public_key.der
    from keystores.crypto.key_encoding import spki_der

    return spki_der(public_key)


def _name_der(name: x509.Name | DistinguishedName | bytes) -> bytes:
    if isinstance(name, bytes):
        return name
    from keystores.pki.dn import DistinguishedName

    return name.to_der() if isinstance(name, DistinguishedName) else name.public_bytes()


class Extension(FrozenValue):
    """One certificate extension: its OID, criticality and value (the DER inside the extnValue OCTET STRING).
    (A FrozenValue, not a NamedTuple: typing's NamedTuple costs certreq and sign ~0.5 ms to define.)"""

    __slots__ = ("critical", "oid", "value")
    _fields = ("oid", "critical", "value")
    oid: str
    critical: bool
    value: bytes

    def __init__(self, oid: str, critical: bool, value: bytes) -> None:
        object.__setattr__(self, "oid", oid)
        object.__setattr__(self, "critical", critical)
        object.__setattr__(self, "value", value)

    def der(self) -> bytes:
        return der.sequence(der.oid(self.oid), b"\x01\x01\xff" if self.critical else b"", der.octet_string(self.value))


def _sign(signer: Signer, tbs_der: bytes, hash_name: str) -> bytes:
    try:
        return signer.sign(tbs_der, hash_name)
    except KeystoreError:
        raise
    except Exception as exc:  # a token or key refusing: say so instead of a traceback
        raise KeystoreError(f"the key could not sign ({type(exc).__name__}: {exc})") from exc


def _signed(signer: Signer, tbs: bytes, hash_name: str, what: str) -> bytes:
    """SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }, its signature checked with the signer's key."""
    signature = _sign(signer, tbs, hash_name)
    if not verifies(signer.public_key, signature, tbs, hash_name):
        raise KeystoreError(f"the {what}'s signature does not verify: the key signed wrongly")
    return der.sequence(tbs, _algorithm_id(signer.public_key, hash_name), der.tlv(0x03, b"\x00" + signature))


def verifies(public_key: object, signature: bytes, data: bytes, hash_name: str) -> bool:
    """keystores.pki.chain.signature_verifies; a key held as DER (SpkiKey) checks itself (libcrypto first)."""
    from keystores.pki.spki import SpkiKey

    if isinstance(public_key, SpkiKey):
        return public_key.verifies(signature, data, hash_name)
    from keystores.pki.chain import signature_verifies

    return signature_verifies(public_key, signature, data, hash_name)


def build_request(signer: Signer, subject: x509.Name | DistinguishedName | bytes, *,
                  sans: Sequence[AltName] = (), md: str | None = None,
                  notes: list[str] | None = None) -> EncodedRequest:
    """A PKCS#10 request for the signer's key, signed by it, with SANs in an extensionRequest. Written with
    keystores.crypto.der and held as its DER (keystores.pki.encoded) for start-up speed (bench/bench_core.py
    "start-up: keystores certreq"); tests/test_builder_der.py has openssl verify it and cryptography's own
    builder agree with it byte for byte."""
    from keystores.pki.encoded import EncodedRequest

    notes = notes if notes is not None else []
    hash_name = check_hash(md, signer.public_key, notes)
    attributes = b""
    if sans:
        extensions = der.sequence(_san_extension(sans).der())
        attributes = der.sequence(der.oid(_EXTENSION_REQUEST), der.tlv(0x31, extensions))
    info = der.sequence(der.integer(0), _name_der(subject), _spki(signer.public_key), der.tlv(0xA0, attributes))
    return EncodedRequest(_signed(signer, info, hash_name, "request"))


_EXTENSION_REQUEST = "1.2.840.113549.1.9.14"


def _time(value: dt.datetime | float) -> bytes:
    """A Time: `value` an aware datetime, or POSIX seconds (keystores.pki.when.build_validity, a certificate's
    EncodedCertificate.validity_seconds), to the second as a datetime is written."""
    if isinstance(value, int | float):
        import time

        utc = time.gmtime(value)
        year, written = utc.tm_year, lambda form: time.strftime(form, utc)
    else:
        import datetime as dt  # loaded already: `value` is one

        value = value.astimezone(dt.UTC)
        year, written = value.year, value.strftime
    # RFC 5280: UTCTime up to 2049, GeneralizedTime from 2050.
    if year < 2050:
        return der.tlv(0x17, written("%y%m%d%H%M%SZ").encode("ascii"))
    return der.tlv(0x18, written("%Y%m%d%H%M%SZ").encode("ascii"))


def build_certificate_der(signer: Signer, *, subject: x509.Name | DistinguishedName | bytes,
                          issuer: x509.Name | DistinguishedName | bytes, public_key: object,
                          not_before: dt.datetime | int, not_after: dt.datetime | int,
                          extensions: Sequence[Extension] = (),
                          md: str | None = None, serial: int | None = None,
                          notes: list[str] | None = None) -> bytes:
    """The DER of an X.509 v3 certificate for `public_key`, signed by `signer` (the issuer's key), written with
    keystores.crypto.der for start-up speed (bench/bench_core.py "start-up: keystores certreq"/"sign"; no
    cryptography.x509 or asn1crypto import). `subject`/`issuer` may be DER so that names copied from a request or
    CA certificate stay byte-identical. Judged by openssl and compared with cryptography's own builder in
    tests/test_builder_der.py."""
    import os

    notes = notes if notes is not None else []
    hash_name = check_hash(md, signer.public_key, notes)
    algorithm = _algorithm_id(signer.public_key, hash_name)
    serial = serial if serial is not None else int.from_bytes(os.urandom(20), "big") >> 1  # as cryptography's
    parts = [der.tlv(0xA0, der.integer(2)), der.integer(serial), algorithm, _name_der(issuer),
             der.sequence(_time(not_before), _time(not_after)), _name_der(subject), _spki(public_key)]
    if extensions:
        parts.append(der.tlv(0xA3, der.sequence(*(ext.der() for ext in extensions))))
    return _signed(signer, der.sequence(*parts), hash_name, "certificate")


def build_certificate(signer: Signer, *, subject: x509.Name | DistinguishedName | bytes,
                      issuer: x509.Name | DistinguishedName | bytes, public_key: object,
                      not_before: dt.datetime, not_after: dt.datetime, extensions: Sequence[Extension] = (),
                      md: str | None = None, serial: int | None = None,
                      notes: list[str] | None = None) -> x509.Certificate:
    """build_certificate_der's certificate as cryptography's object."""
    from cryptography import x509 as cx509

    return cx509.load_der_x509_certificate(build_certificate_der(
        signer, subject=subject, issuer=issuer, public_key=public_key, not_before=not_before, not_after=not_after,
        extensions=extensions, md=md, serial=serial, notes=notes))


_SANS = parameter("--san", "sans")


class AltName(FrozenValue):
    """One subject alternative name: its kind as `--san` spells it (DNS, IP, EMAIL, URI; other kinds read from a
    request by their GeneralName choice), its value in words, and its GeneralName DER. (A FrozenValue, as
    Extension.)"""

    __slots__ = ("der", "kind", "value")
    _fields = ("kind", "value", "der")
    kind: str
    value: str
    der: bytes

    def __init__(self, kind: str, value: str, der: bytes) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "der", der)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


# GeneralName's context tags (RFC 5280 4.2.1.6) and the kinds --san takes
_SAN_TAGS = {"EMAIL": 0x81, "DNS": 0x82, "URI": 0x86, "IP": 0x87}
_OTHER_KINDS = {0: "otherName", 3: "x400Address", 4: "directoryName", 5: "ediPartyName", 8: "registeredID"}


def parse_sans(values: Iterable[str]) -> list[AltName]:
    """`DNS:x,IP:1.2.3.4,EMAIL:a@b,URI:https://...` (repeatable, comma-separated) -> AltNames, each once. Names
    are ASCII, as cryptography's GeneralNames require (international domain names as A-labels)."""
    names: list[AltName] = []
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
            kind = {"IPADDRESS": "IP", "RFC822": "EMAIL", "MAIL": "EMAIL"}.get(kind, kind)
            if kind not in _SAN_TAGS:
                raise UsageError(f"bad subject alternative name '{part}': kinds are DNS, IP, EMAIL, URI", hint=_SANS)
            try:
                if kind == "IP":
                    import ipaddress  # here: only an IP address needs it (start-up speed: certreq without one)

                    address = ipaddress.ip_address(text)
                    names.append(AltName(kind, str(address), der.tlv(0x87, address.packed)))
                    continue
                if not text.isascii():
                    raise ValueError(f"{kind} names should be passed as an A-label string (ASCII; international "
                                     "names encoded, e.g. with the idna library)")
            except ValueError as exc:
                raise UsageError(f"bad subject alternative name '{part}': {exc}", hint=_SANS) from exc
            names.append(AltName(kind, text, der.tlv(_SAN_TAGS[kind], text.encode("ascii"))))
    return list(dict.fromkeys(names))


def _alt_name(element: bytes, tag: int, content: bytes) -> AltName:
    """A GeneralName read from DER, in words."""
    import ipaddress

    kinds = {tag_: kind for kind, tag_ in _SAN_TAGS.items()}
    kind = kinds.get(tag)
    if kind == "IP" and len(content) in (4, 16):
        return AltName(kind, str(ipaddress.ip_address(content)), element)
    if kind is not None and kind != "IP":
        return AltName(kind, content.decode("ascii", "replace"), element)
    return AltName(_OTHER_KINDS.get(tag & 0x1F, f"[{tag & 0x1F}]"), content.hex(), element)


_OIDS = {"subjectKeyIdentifier": "2.5.29.14", "keyUsage": "2.5.29.15", "subjectAltName": "2.5.29.17",
         "basicConstraints": "2.5.29.19", "authorityKeyIdentifier": "2.5.29.35", "extKeyUsage": "2.5.29.37"}
_EKU_OIDS = {"serverAuth": "1.3.6.1.5.5.7.3.1", "clientAuth": "1.3.6.1.5.5.7.3.2", "codeSigning": "1.3.6.1.5.5.7.3.3",
             "emailProtection": "1.3.6.1.5.5.7.3.4", "timeStamping": "1.3.6.1.5.5.7.3.8",
             "OCSPSigning": "1.3.6.1.5.5.7.3.9"}
# KeyUsage's named bits (RFC 5280 4.2.1.3)
_DIGITAL_SIGNATURE, _KEY_ENCIPHERMENT, _KEY_CERT_SIGN, _CRL_SIGN = 0, 2, 5, 6


def _named_bits(bits: Iterable[int]) -> bytes:
    """A BIT STRING of named bits in DER: trailing zero bits dropped, the unused-bits count in front."""
    positions = set(bits)
    if not positions:
        return der.tlv(0x03, b"\x00")
    length = max(positions) + 1
    value = sum(1 << (8 * ((length + 7) // 8) - 1 - bit) for bit in positions)
    size = (length + 7) // 8
    return der.tlv(0x03, bytes([8 * size - length]) + value.to_bytes(size, "big"))


def key_identifier(public_key: object) -> bytes:
    """RFC 5280's method 1, as cryptography's SubjectKeyIdentifier.from_public_key: SHA-1 of the subjectPublicKey
    BIT STRING's bits."""
    from keystores.pki.spki import openssl_digest

    spki = _spki(public_key)
    _, start, end = der.read(spki)
    _, bits_start, bits_end = der.read(spki, der.read(spki, start, end)[2], end)
    return openssl_digest("sha1", spki[bits_start + 1 : bits_end])


def _san_extension(sans: Sequence[AltName]) -> Extension:
    return Extension(_OIDS["subjectAltName"], False, der.sequence(*(name.der for name in sans)))


def profile_extensions(profile: str, public_key: object, *, issuer_public_key: object,
                       issuer_cert: x509.Certificate | None = None, sans: Sequence[AltName] = (),
                       path_length: int | None = None) -> list[Extension]:
    """The extensions a profile promises: basic constraints, key usage, extended key usage, subject and
    authority key identifiers (the issuer certificate's own subject key identifier when it has one), and the
    SANs given; encoded as cryptography encodes them (tests/test_builder_der.py)."""
    if profile not in PROFILES:
        raise UsageError(f"unknown profile '{profile}': use one of {', '.join(PROFILES)}")
    ekus, rsa_encipherment, eku_critical = PROFILES[profile]
    is_ca = profile == "ca"
    constraints = b"\x01\x01\xff" + (der.integer(path_length) if path_length is not None else b"") if is_ca else b""
    extensions = [Extension(_OIDS["basicConstraints"], True, der.sequence(constraints))]
    usage = [_DIGITAL_SIGNATURE]
    if is_ca:
        usage += [_KEY_CERT_SIGN, _CRL_SIGN]
    elif rsa_encipherment and _key_kind(public_key) == "rsa":
        usage.append(_KEY_ENCIPHERMENT)
    extensions.append(Extension(_OIDS["keyUsage"], True, _named_bits(usage)))
    if ekus:
        extensions.append(Extension(_OIDS["extKeyUsage"], eku_critical,
                                    der.sequence(*(der.oid(_EKU_OIDS[name]) for name in ekus))))
    extensions.append(Extension(_OIDS["subjectKeyIdentifier"], False, der.octet_string(key_identifier(public_key))))
    issuer_id = _subject_key_identifier(issuer_cert) if issuer_cert is not None else None
    if issuer_id is None:
        issuer_id = key_identifier(issuer_public_key)
    extensions.append(Extension(_OIDS["authorityKeyIdentifier"], False, der.sequence(der.tlv(0x80, issuer_id))))
    if sans:
        extensions.append(_san_extension(sans))
    return extensions


def _subject_key_identifier(cert: x509.Certificate) -> bytes | None:
    """The keyIdentifier of a certificate's subjectKeyIdentifier extension, read from its DER; None without one."""
    from keystores.pki.encoded import Encoded

    if isinstance(cert, Encoded):  # its DER as held (start-up speed: sign imports no cryptography)
        cert_der = cert.der
    else:
        from keystores.crypto.key_encoding import Encoding

        cert_der = cert.public_bytes(Encoding.DER)
    value = _extension_in(certificate_extensions(cert_der), _OIDS["subjectKeyIdentifier"])
    if value is None:
        return None
    try:
        tag, content = der.value(value)
    except der.DerError:
        return None
    return content if tag == 0x04 else None


def certificate_extensions(cert_der: bytes) -> bytes | None:
    """The Extensions SEQUENCE of a certificate (its DER), or None when it has none or is malformed."""
    try:
        tbs_start, tbs_end = der.read(cert_der, der.read(cert_der)[1])[1:]
        for tag, _, start, end in der.elements(cert_der, tbs_start, tbs_end):
            if tag == 0xA3:
                return cert_der[start:end]
    except der.DerError:
        return None
    return None


def _extension_in(extensions: bytes | None, oid: str) -> bytes | None:
    """The extnValue content of extension `oid` in an Extensions SEQUENCE (DER); None when absent or malformed."""
    if extensions is None:
        return None
    wanted = der.oid(oid)
    try:
        for _, _, start, end in der.elements(extensions, *der.read(extensions)[1:]):
            parts = der.elements(extensions, start, end)
            if extensions[parts[0][1] : parts[0][3]] == wanted:
                tag, _, value_start, value_end = parts[-1]
                return extensions[value_start:value_end] if tag == 0x04 else None
    except (der.DerError, IndexError):
        return None
    return None


def _request_info(request_der: bytes) -> list[tuple[int, int, int, int]]:
    """The elements of a PKCS#10 request's CertificationRequestInfo: version, subject, key, [0] attributes."""
    _, start, end = der.read(request_der)
    _, info_start, info_end = der.read(request_der, start, end)
    return der.elements(request_der, info_start, info_end)


def request_subject(request_der: bytes) -> bytes:
    """The subject Name's DER exactly as it sits in a request, so that the certificate's subject matches it byte
    for byte."""
    _, at, _, end = _request_info(request_der)[1]
    return request_der[at:end]


def request_is_plain(request_der: bytes) -> bool:
    """Whether a request's CertificationRequestInfo is laid out as keystores writes one: version, subject, key and
    attributes that are none or one extensionRequest asking for subject alternative names only, each in a form
    _alt_name reads. What is not (other extensions, unusual forms, damage) is for cryptography to judge."""
    try:
        fields = _request_info(request_der)
        if [tag for tag, *_ in fields] != [0x02, 0x30, 0x30, 0xA0]:
            return False
        _, _, start, end = fields[3]
        attributes = der.elements(request_der, start, end)
        if not attributes:
            return True
        (tag, _, attr_start, attr_end), = attributes
        (oid_tag, oid_at, _, oid_end), (values_tag, _, values_start, values_end) = der.elements(
            request_der, attr_start, attr_end)
        if (tag, oid_tag, values_tag) != (0x30, 0x06, 0x31) or request_der[oid_at:oid_end] != der.oid(
                _EXTENSION_REQUEST):
            return False
        (list_tag, _, list_start, list_end), = der.elements(request_der, values_start, values_end)
        (ext_tag, _, ext_start, ext_end), = der.elements(request_der, list_start, list_end)
        parts = der.elements(request_der, ext_start, ext_end)
        if (list_tag, ext_tag, [tag for tag, *_ in parts]) != (0x30, 0x30, [0x06, 0x04]):
            return False
        if request_der[parts[0][1] : parts[0][3]] != der.oid(_OIDS["subjectAltName"]):
            return False
        names = request_der[parts[1][2] : parts[1][3]]
        tag, start, end = der.read(names)
        found = der.elements(names, start, end)
        return tag == 0x30 and end == len(names) and bool(found) and all(
            (tag == 0x87 and value_end - value_start in (4, 16))
            or (tag in (0x81, 0x82, 0x86) and names[value_start:value_end].isascii())  # IA5String
            for tag, _, value_start, value_end in found)
    except (der.DerError, ValueError, IndexError):
        return False


def request_sans(request_der: bytes) -> list[AltName]:
    """The SANs a request (its DER) asks for in its extensionRequest; none when it asks for none or the attribute
    is malformed (signing still checks the rest)."""
    try:
        attributes = [e for e in _request_info(request_der) if e[0] == 0xA0]
        if not attributes:
            return []
        _, _, start, end = attributes[0]
        wanted = der.oid(_EXTENSION_REQUEST)
        for _, _, attr_start, attr_end in der.elements(request_der, start, end):
            (_, oid_at, _, oid_end), (_, _, values_start, values_end) = der.elements(request_der, attr_start,
                                                                                     attr_end)[:2]
            if request_der[oid_at:oid_end] != wanted:
                continue
            _, extensions_at, _, extensions_end = der.elements(request_der, values_start, values_end)[0]
            names = _extension_in(request_der[extensions_at:extensions_end], _OIDS["subjectAltName"])
            if names is None:
                return []
            return [_alt_name(names[at:end_], tag, names[content_start:end_])
                    for tag, at, content_start, end_ in der.elements(names, *der.read(names)[1:])]
    except (der.DerError, ValueError, IndexError):
        return []
    return []
