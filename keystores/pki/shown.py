"""What `show` prints of a certificate, read from its DER, for certificates in the common forms.

A speed device, for start-up (bench/bench_core.py row "start-up: keystores show one.p12 server"): importing
cryptography.x509 costs about 30 ms (names, general names, email.utils, the verification module), more than `show`
of a small store does otherwise. keystores.ops.describe renders a certificate from cryptography's object; for one
that a backend still holds as DER it asks `read_shown` first, which reads the same facts from the DER and answers
only where it is sure cryptography would decode the certificate fully and give the same facts (so `list` judges
with it whether each entry decodes, and takes its columns from the same reading: bench_nss, bench_java and bench_cms
list 2,000 certificates, where its speed per certificate is most of the command's time):

- the whole certificate in strict DER: shortest lengths, a v1 (no extensions) or v3 layout without unique IDs, a
  signature algorithm from `_SIGNATURE_ALGORITHMS` written the same inside and outside, a serial INTEGER in its
  shortest form, times in UTCTime's or GeneralizedTime's plain form;
- names of single-valued RDNs in UTF8String, PrintableString (its characters only), IA5String (ASCII) or T61String
  (which cryptography decodes as UTF-8);
- a public key cryptography loads (an RSA key's numbers and a NIST curve's point checked here as its loader
  checks them, other keys loaded by its own loader);
- extensions once each, critical written TRUE or left out, and of the kinds cryptography parses only those read
  here (subject alternative names, key usage, extended key usage, basic constraints, key identifiers, CRL
  distribution points, policies, authority information access, SCT lists, the private key usage period), each well
  formed and passing the checks cryptography's classes make (key usage's encipher/decipher only, a path length
  only on a CA). An extension cryptography does not parse is carried by it unread, and so here.

Anything else (unusual string types, multi-valued RDNs, other extensions, damage) gives None, and the caller asks
cryptography: where both answer, the answers are the same (tests/test_shown.py compares them on every certificate
of the cryptography-vectors package and on damaged copies).
"""

from __future__ import annotations

import sys

from keystores.crypto.der import oid_text, read
from keystores.pki.columns import NIST_FIELDS, attribute_text, ec_point_on_curve, key_facts, plain_time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from keystores.pki.encoded import EncodedCertificate

    class ShownCertificate(EncodedCertificate):  # what type checkers see; __getattr__ makes it at run time
        shown: Shown

        def __init__(self, der: bytes, shown: Shown) -> None: ...

# Signature AlgorithmIdentifiers (whole DER) as they are written in the common forms -> their OID: RSA PKCS#1 v1.5
# with its NULL, (EC)DSA and EdDSA without parameters (RFC 3279, 4055, 5758, 8410).
_SIGNATURE_ALGORITHMS: dict[bytes, str] = {}
# dotted -> (whether the parameters are a NULL, cryptography's name for it as describe prints it: the `_name` of
# its ObjectIdentifier, which tests/test_shown.py compares; written out so that a JKS needs no cryptography)
_SIGNATURE_OIDS = {
    "1.2.840.113549.1.1.4": (True, "md5WithRSAEncryption"), "1.2.840.113549.1.1.5": (True, "sha1WithRSAEncryption"),
    "1.2.840.113549.1.1.14": (True, "sha224WithRSAEncryption"),
    "1.2.840.113549.1.1.11": (True, "sha256WithRSAEncryption"),
    "1.2.840.113549.1.1.12": (True, "sha384WithRSAEncryption"),
    "1.2.840.113549.1.1.13": (True, "sha512WithRSAEncryption"),
    "1.2.840.10045.4.1": (False, "ecdsa-with-SHA1"), "1.2.840.10045.4.3.1": (False, "ecdsa-with-SHA224"),
    "1.2.840.10045.4.3.2": (False, "ecdsa-with-SHA256"), "1.2.840.10045.4.3.3": (False, "ecdsa-with-SHA384"),
    "1.2.840.10045.4.3.4": (False, "ecdsa-with-SHA512"), "1.2.840.10040.4.3": (False, "dsa-with-sha1"),
    "2.16.840.1.101.3.4.3.1": (False, "dsa-with-sha224"), "2.16.840.1.101.3.4.3.2": (False, "dsa-with-sha256"),
    "1.3.101.112": (False, "ed25519"), "1.3.101.113": (False, "ed448"),
}

# dotted -> the signature's hash as cryptography's `signature_hash_algorithm.name` gives it (None: EdDSA hashes
# inside the algorithm); tests/test_audit_lean.py compares it on every certificate of the cryptography-vectors package.
# Worked out for an algorithm when first met (_signature_hash): a run meets one or two (start-up, issue 15).
_SIGNATURE_HASHES: dict[str, str | None] = {}


def _signature_hash(dotted: str) -> str | None:
    """The hash of the signature algorithm `dotted` (one of _SIGNATURE_OIDS), by its name."""
    if dotted not in _SIGNATURE_HASHES:
        name = _SIGNATURE_OIDS[dotted][1].lower().replace("-", "")
        _SIGNATURE_HASHES[dotted] = next((h for h in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")
                                          if h in name), None)
    return _SIGNATURE_HASHES[dotted]

# The extensions cryptography parses when a certificate's extensions are read (cryptography.x509.oid.ExtensionOID,
# tests/test_shown.py checks the list is whole): one of these that is not read here makes the reader decline.
PARSED_BY_CRYPTOGRAPHY = frozenset({
    "2.5.29.9", "2.5.29.14", "2.5.29.15", "2.5.29.16", "2.5.29.17", "2.5.29.18", "2.5.29.19", "2.5.29.20",
    "2.5.29.27", "2.5.29.28", "2.5.29.30", "2.5.29.31", "2.5.29.32", "2.5.29.33", "2.5.29.35", "2.5.29.36",
    "2.5.29.37", "2.5.29.46", "2.5.29.54", "1.3.6.1.5.5.7.1.1", "1.3.6.1.5.5.7.1.11", "1.3.6.1.5.5.7.48.1.5",
    "1.3.6.1.5.5.7.1.24", "1.3.6.1.4.1.11129.2.4.2", "1.3.6.1.4.1.11129.2.4.3", "1.3.6.1.4.1.11129.2.4.5",
    "1.3.6.1.4.1.311.21.7", "1.3.36.8.3.3",
})
_SAN, _KEY_USAGE, _EKU, _BASIC, _SKI, _AKI = ("2.5.29.17", "2.5.29.15", "2.5.29.37", "2.5.29.19", "2.5.29.14",
                                               "2.5.29.35")
_CRL_DISTRIBUTION_POINTS, _FRESHEST_CRL, _CERTIFICATE_POLICIES = "2.5.29.31", "2.5.29.46", "2.5.29.32"
_AUTHORITY_INFORMATION_ACCESS, _SUBJECT_INFORMATION_ACCESS = "1.3.6.1.5.5.7.1.1", "1.3.6.1.5.5.7.1.11"
_CPS, _USER_NOTICE = "1.3.6.1.5.5.7.2.1", "1.3.6.1.5.5.7.2.2"  # policy qualifiers
_PRECERTIFICATE_SCTS = "1.3.6.1.4.1.11129.2.4.2"
_PRIVATE_KEY_USAGE_PERIOD = "2.5.29.16"
_PRINTABLE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?"  # PrintableString (X.680)
_UNIQUE_IDENTIFIER = "2.5.4.45"  # x500UniqueIdentifier: cryptography reads its BIT STRING as bytes
_COMMON_NAME = bytes.fromhex("550403")  # 2.5.4.3, encoded
_GENERAL_NAME_KINDS = {0x81: "EMAIL", 0x82: "DNS", 0x86: "URI"}


_DOTTED: dict[bytes, str] = {}  # an OID's content -> its dotted text: a bundle's names repeat a few OIDs


def _dotted(content: bytes) -> str:
    """oid_text(content, minimal=True), remembered (DerError for an OID not in its shortest form, each time)."""
    dotted = _DOTTED.get(content)
    if dotted is None:
        dotted = _DOTTED[content] = oid_text(content, minimal=True)
    return dotted


# The fingerprints `show` prints (keystores.ops.describe), hashed by _hashlib's constructors where it is loaded.
_OPENSSL_FINGERPRINTS = frozenset({"sha1", "sha256"})


class _Declined(ValueError):
    """A form this reader leaves to cryptography (or a malformed one, as is keystores.crypto.der.DerError)."""


class Shown:
    """The facts of one certificate `show` prints, as keystores.ops.describe renders them: text where cryptography's
    objects print as text (names, times, OIDs), numbers and bytes otherwise; `common_name` is the subject's first
    CN (None without one), as a PKCS#12 reader labels a certificate by it. `key` is the key's type and size as
    keystores.pki.columns reads them from the DER (naming a loaded key's class imports the modules of every key
    type, 2 ms), None where it leaves them to `public_key`, cryptography's key (None for a NIST curve's, whose
    point is checked here: loading it imports cryptography's `ec`, 2 ms)."""

    __slots__ = ("authority_key_identifier", "basic_constraints", "common_name", "der", "extended_key_usage",
                 "issuer", "key", "key_usage", "not_after", "not_before", "public_key", "public_key_algorithm",
                 "serial", "signature_algorithm", "signature_hash", "subject", "subject_alt_names",
                 "subject_key_identifier", "version")

    def __init__(self, der: bytes) -> None:
        self.der = der
        self.subject_alt_names: list[tuple[str, str]] | None = None  # (kind as `--san` writes it, value)
        self.key_usage: list[int] | None = None  # the bits set, 0 digitalSignature ... 8 decipherOnly
        self.extended_key_usage: list[str] | None = None  # dotted OIDs
        self.basic_constraints: tuple[bool, int | None, bool] | None = None  # ca, path length, critical
        self.subject_key_identifier: bytes | None = None
        self.authority_key_identifier: bytes | None = None

    def fingerprint(self, hash_name: str) -> bytes:
        openssl = sys.modules.get("_hashlib")
        if openssl is not None and hash_name in _OPENSSL_FINGERPRINTS:
            # A PKCS#12 read loaded _hashlib (its MAC and derivations): its constructor is hashlib's own object for
            # the name (hashlib.sha256 is _hashlib.openssl_sha256), and `show` then loads no
            # keystores.crypto.digests for its two fingerprints (~0.15 ms cold). One it refuses (a FIPS build's)
            # goes on to digests, as before.
            try:
                return getattr(openssl, "openssl_" + hash_name)(self.der).digest()  # type: ignore[no-any-return]
            except (AttributeError, ValueError):
                pass
        from keystores.crypto.digests import digest  # (no hashlib: its import costs more than a show's work)

        return digest(hash_name, self.der)


# The facts read of each certificate, by its DER: a write asks about one certificate several times (whether it
# decodes, its names and serial for NSS's columns, the listing's columns), and reading it costs ~70 us in Python
# (importing 2,000 certificates into NSS read each five times). Facts are never changed once read. Bounded: when
# full it starts again.
_READ: dict[bytes, Shown | None] = {}
_READ_AT_MOST = 8192


def read_shown(der: bytes) -> Shown | None:
    """The facts of the certificate in `der`, or None when it is not in a form read here (see the module
    docstring): cryptography then decodes it."""
    try:
        return _READ[der]
    except (KeyError, TypeError):  # not read yet; a bytearray or memoryview is read each time
        pass
    try:
        shown: Shown | None = _read(der)
    except (IndexError, ValueError):  # _Declined, DerError, a key cryptography does not load
        shown = None
    if type(der) is bytes:
        if len(_READ) >= _READ_AT_MOST:
            _READ.clear()  # the certificates a command is working through now are the ones asked again
        _READ[der] = shown
    return shown


def _inside(data: bytes, at: int, end: int, tag: int) -> tuple[int, int]:
    """(start, end) of the content of the element at `at`, which must carry `tag` and end at `end`."""
    found, start, stop = read(data, at, end, minimal=True)
    if found != tag or stop != end:
        raise _Declined
    return start, stop


def _elements(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """The elements filling data[start:end], lengths in their shortest form: (tag, at, content start, end)."""
    found: list[tuple[int, int, int, int]] = []
    append = found.append
    at = start
    while at < end:
        tag = data[at]
        length = data[at + 1] if at + 2 <= end else 0x80
        if length < 0x80 and tag & 0x1F != 0x1F:  # the short form, read here: read's checks, without a call
            stop = at + 2 + length
            if stop > end:
                raise _Declined
            append((tag, at, at + 2, stop))
        else:
            tag, content_start, stop = read(data, at, end, minimal=True)
            append((tag, at, content_start, stop))
        at = stop
    return found


def _read(der: bytes) -> Shown:
    shown = Shown(der)
    cert_start, cert_end = _inside(der, 0, len(der), 0x30)
    (tbs_tag, _, tbs_start, tbs_end), (alg_tag, alg_at, _, alg_end), (sig_tag, _, sig_start, _) = (
        _elements(der, cert_start, cert_end))
    if (tbs_tag, alg_tag, sig_tag) != (0x30, 0x30, 0x03) or der[sig_start:sig_start + 1] != b"\x00":
        raise _Declined
    fields = _elements(der, tbs_start, tbs_end)
    tags = [field[0] for field in fields]
    if tags == [0xA0, 0x02, 0x30, 0x30, 0x30, 0x30, 0x30, 0xA3] or tags == [0xA0, 0x02, 0x30, 0x30, 0x30, 0x30, 0x30]:
        if der[fields[0][2] : fields[0][3]] != b"\x02\x01\x02":  # v3 (v1 written out is not DER; v2 is rare)
            raise _Declined
        shown.version, fields = 3, fields[1:]
    elif tags == [0x02, 0x30, 0x30, 0x30, 0x30, 0x30]:
        shown.version = 1
    else:
        raise _Declined
    serial, signature, issuer, validity, subject, spki, *extensions = fields
    serial_bytes = der[serial[2] : serial[3]]
    if not serial_bytes or (len(serial_bytes) > 1 and ((serial_bytes[0] == 0 and not serial_bytes[1] & 0x80)
                                                       or (serial_bytes[0] == 0xFF and serial_bytes[1] & 0x80))):
        raise _Declined  # an INTEGER not in its shortest form
    shown.serial = int.from_bytes(serial_bytes, "big", signed=True)
    algorithm = der[alg_at:alg_end]
    dotted = _signature_algorithm(algorithm)
    if der[signature[1] : signature[3]] != algorithm:
        raise _Declined
    shown.signature_algorithm = _SIGNATURE_OIDS[dotted][1]
    shown.signature_hash = _signature_hash(dotted)
    shown.issuer = _known_name(der, issuer[1], issuer[3])[0]
    shown.subject, shown.common_name = _known_name(der, subject[1], subject[3])
    times = _elements(der, validity[2], validity[3])
    if len(times) != 2:
        raise _Declined
    shown.not_before, shown.not_after = (plain_time(der, tag, start, stop) for tag, _, start, stop in times)
    (_, _, algorithm_start, algorithm_stop), (_, _, bits_start, bits_stop) = _elements(der, spki[2], spki[3])
    try:
        shown.key = key_facts(der, spki[2], spki[3])
    except ValueError:
        shown.key = None  # a key type columns leaves to cryptography: describe asks the loaded key
    if shown.key is not None and shown.key[0] in NIST_FIELDS:
        shown.public_key = None  # checked as cryptography checks it, without loading `ec` (2 ms)
        if not ec_point_on_curve(shown.key[0], der[bits_start + 1 : bits_stop]):
            raise _Declined
    elif shown.key is not None and shown.key[0].startswith("RSA-"):
        shown.public_key = None  # checked as cryptography checks it, without loading cryptography (~10 ms)
        if not _rsa_numbers_load(der[bits_start + 1 : bits_stop]):
            raise _Declined
    else:
        shown.public_key = _public_key(der[spki[1] : spki[3]])
    oid_tag, oid_start, oid_stop = read(der, algorithm_start, algorithm_stop, minimal=True)
    if oid_tag != 0x06:
        raise _Declined
    shown.public_key_algorithm = _dotted(der[oid_start:oid_stop])
    if extensions:
        _read_extensions(shown, der, extensions[0])
    return shown


def ec_point_loads(key_type: str, spki_content: bytes) -> bool:
    """Whether cryptography loads the EC public key of a SubjectPublicKeyInfo (its content, in the form
    keystores.pki.columns.key_facts read as `key_type`, a NIST curve): its point's coordinates are below p and it
    lies on the curve (these curves have prime order, so no other point is refused). tests/test_shown.py compares
    the verdict with cryptography's loader on real, random and damaged points."""
    (_, _, _, _), (_, _, bits_start, bits_stop) = _elements(spki_content, 0, len(spki_content))
    return ec_point_on_curve(key_type, spki_content[bits_start + 1 : bits_stop])


def rsa_key_loads(spki_content: bytes) -> bool:
    """Whether cryptography loads the RSA public key of a SubjectPublicKeyInfo (its content, in the form
    keystores.pki.columns.key_facts read: n and e positive INTEGERs in their shortest form, NULL or no
    parameters): its loader refuses n < 3, e < 3, e >= n and an even e, and nothing else of such a key.
    tests/test_shown.py compares the verdict with cryptography's loader on real, small and damaged keys."""
    (_, _, _, _), (_, _, bits_start, bits_stop) = _elements(spki_content, 0, len(spki_content))
    return _rsa_numbers_load(spki_content[bits_start + 1 : bits_stop])


def _rsa_numbers_load(key: bytes) -> bool:
    """rsa_key_loads of the key (its BIT STRING after the unused-bits byte: the RSAPublicKey)."""
    (_, _, modulus_start, modulus_stop), (_, _, exponent_start, exponent_stop) = _elements(
        key, *_inside(key, 0, len(key), 0x30))
    n = int.from_bytes(key[modulus_start:modulus_stop], "big")
    e = int.from_bytes(key[exponent_start:exponent_stop], "big")
    return n >= 3 and 3 <= e < n and bool(e & 1)


def _signature_algorithm(algorithm: bytes) -> str:
    """The OID of the AlgorithmIdentifier `algorithm` (its whole DER) where it is one of _SIGNATURE_OIDS in its
    common form. The OID is read from the bytes and only its own common form is encoded to compare: a list meets
    one or two algorithms, and encoding all sixteen forms first was most of the work (issue 15)."""
    dotted = _SIGNATURE_ALGORITHMS.get(algorithm)
    if dotted is not None:
        return dotted
    if len(algorithm) < 4 or algorithm[2] != 0x06 or algorithm[3] > 0x7F:  # no common form starts otherwise
        raise _Declined
    try:
        dotted = oid_text(algorithm[4 : 4 + algorithm[3]], minimal=True)
    except ValueError as exc:  # DerError: not an OID in its shortest form, so not a common form either
        raise _Declined from exc
    known = _SIGNATURE_OIDS.get(dotted)
    if known is None:
        raise _Declined
    from keystores.crypto import der as encode

    if algorithm != encode.sequence(encode.oid(dotted), b"\x05\x00" if known[0] else b""):
        raise _Declined
    _SIGNATURE_ALGORITHMS[algorithm] = dotted  # (at most one per OID of _SIGNATURE_OIDS: the form just compared)
    return dotted


def _public_key(spki: bytes) -> Any:
    """The key as cryptography's Certificate.public_key() loads it (keystores.crypto.key_encoding's loader is
    cryptography's own, without importing the `serialization` package)."""
    from keystores.crypto.key_encoding import load_der_public_key
    from keystores.pki.certificates import quietly_decoding

    try:
        with quietly_decoding():  # as backends decode certificates: "DSA is deprecated" is not for users
            return load_der_public_key(spki)
    except Exception as exc:  # UnsupportedAlgorithm is no ValueError
        raise _Declined from exc


# The names read (issuers and subjects, by their DER): a store's certificates share a few issuers, and a root's
# subject is its issuer. Only names read here are remembered; bounded, as _READ.
_NAMES: dict[bytes, tuple[str, str | None]] = {}


def _known_name(der: bytes, at: int, end: int) -> tuple[str, str | None]:
    """_name of the Name der[at:end], remembered."""
    encoded = der[at:end]
    found = _NAMES.get(encoded)
    if found is None:
        found = _name(der, at, end)
        if len(_NAMES) >= _READ_AT_MOST:
            _NAMES.clear()
        _NAMES[encoded] = found
    return found


# The RDNs read, by their DER (as _attribute gives them): a store's names repeat their organizations and countries.
_RDNS: dict[bytes, tuple[str, str | None]] = {}


def _attribute(oid: bytes, tag: int, value: bytes) -> tuple[str, str | None]:
    """(the attribute as RFC 4514 text, its value if it is a common name) of a single-valued RDN's OID (content),
    value's tag and value's content, after checking they are in the forms read here."""
    dotted = _dotted(oid)
    if dotted == _UNIQUE_IDENTIFIER:
        raise _Declined
    if tag in (0x0C, 0x14):  # UTF8String; T61String, which cryptography decodes as UTF-8 (real roots hold it)
        text = value.decode("utf-8")  # UnicodeDecodeError is a ValueError
    elif (tag == 0x16 and value.isascii()) or (tag == 0x13 and not value.translate(None, _PRINTABLE)):
        text = value.decode("ascii")
    else:
        raise _Declined
    return attribute_text(dotted, text), text if oid == _COMMON_NAME else None


def _name(der: bytes, at: int, end: int) -> tuple[str, str | None]:
    """A Name (the element at `at`) as RFC 4514 text, after checking it is in the forms read here, and the value
    of its first common name (None without one)."""
    start, stop = _inside(der, at, end, 0x30)
    common_name = None
    parts = []
    at = start
    while at < stop:
        # The usual RDN, every length in short form: SET { SEQUENCE { OID, value } }, read in one step (a valid
        # one has 8 bytes at least, so no index below runs past the DER where the RDN is whole).
        rdn_length, oid_length = der[at + 1], der[at + 5]
        rdn_stop = at + 2 + rdn_length
        value_at = at + 6 + oid_length
        if (der[at] == 0x31 and rdn_length < 0x80 and der[at + 2] == 0x30 and der[at + 3] == rdn_length - 2
                and der[at + 4] == 0x06 and oid_length < 0x80 and value_at + 2 <= rdn_stop <= stop
                and der[value_at + 1] < 0x80 and value_at + 2 + der[value_at + 1] == rdn_stop):
            rdn = der[at:rdn_stop]
            attribute = _RDNS.get(rdn)
            if attribute is None:
                attribute = _attribute(der[at + 6 : value_at], der[value_at], der[value_at + 2 : rdn_stop])
                if len(_RDNS) >= _READ_AT_MOST:
                    _RDNS.clear()
                _RDNS[rdn] = attribute
        else:
            rdn_tag, rdn_start, rdn_stop = read(der, at, stop, minimal=True)
            pairs = _elements(der, rdn_start, rdn_stop)
            if rdn_tag != 0x31 or len(pairs) != 1 or pairs[0][0] != 0x30:
                raise _Declined  # empty and multi-valued RDNs: cryptography's rules for those are its own
            (oid_tag, _, oid_start, oid_stop), (tag, _, value_start, value_stop) = _elements(der, *pairs[0][2:])
            if oid_tag != 0x06:
                raise _Declined
            attribute = _attribute(der[oid_start:oid_stop], tag, der[value_start:value_stop])
        text, common = attribute
        if common_name is None:
            common_name = common
        parts.append(text)
        at = rdn_stop
    return ",".join(reversed(parts)), common_name


def _read_extensions(shown: Shown, der: bytes, extensions: tuple[int, int, int, int]) -> None:
    list_start, list_stop = _inside(der, extensions[2], extensions[3], 0x30)
    seen: set[str] = set()
    at = list_start
    while at < list_stop:
        # The usual extension, every length in short form: SEQUENCE { OID, [BOOLEAN TRUE,] OCTET STRING }, read in
        # one step (a valid one has 7 bytes at least: no index below runs past the DER where it is whole); any
        # other form is read element by element.
        length, oid_length = der[at + 1], der[at + 3]
        stop, value_at = at + 2 + length, at + 4 + oid_length
        critical = der[value_at : value_at + 3] == b"\x01\x01\xff"  # DER: FALSE is left out, TRUE is 0xFF
        if critical:
            value_at += 3
        if (der[at] == 0x30 and length < 0x80 and stop <= list_stop and der[at + 2] == 0x06 and oid_length < 0x80
                and value_at + 2 <= stop and der[value_at] == 0x04 and value_at + 2 + der[value_at + 1] == stop):
            oid, value = der[at + 4 : at + 4 + oid_length], der[value_at + 2 : stop]
        else:
            tag, start, stop = read(der, at, list_stop, minimal=True)
            parts = _elements(der, start, stop)
            if tag != 0x30 or [part[0] for part in parts] not in ([0x06, 0x04], [0x06, 0x01, 0x04]):
                raise _Declined
            critical = len(parts) == 3
            if critical and der[parts[1][2] : parts[1][3]] != b"\xff":
                raise _Declined
            oid, value = der[parts[0][2] : parts[0][3]], der[parts[-1][2] : parts[-1][3]]
        dotted = _dotted(oid)
        if dotted in seen:
            raise _Declined  # cryptography refuses a duplicated extension
        seen.add(dotted)
        if dotted in PARSED_BY_CRYPTOGRAPHY:
            _read_extension(shown, dotted, value, critical)
        at = stop
    if not seen:
        raise _Declined  # an empty list of extensions


def _read_extension(shown: Shown, dotted: str, value: bytes, critical: bool) -> None:
    if dotted == _SKI:
        start, stop = _inside(value, 0, len(value), 0x04)
        shown.subject_key_identifier = value[start:stop]
    elif dotted == _KEY_USAGE:
        shown.key_usage = _key_usage(value)
    elif dotted == _EKU:
        usages = _elements(value, *_inside(value, 0, len(value), 0x30))
        if not usages or any(tag != 0x06 for tag, *_ in usages):
            raise _Declined
        shown.extended_key_usage = [oid_text(value[s:e], minimal=True) for _, _, s, e in usages]
    elif dotted == _BASIC:
        parts = _elements(value, *_inside(value, 0, len(value), 0x30))
        ca = bool(parts) and value[parts[0][1] : parts[0][3]] == b"\x01\x01\xff"
        path = parts[1:] if ca else parts
        if path:  # a path length needs cA TRUE (cryptography's BasicConstraints refuses it on a non-CA)
            (tag, _, start, stop), = path
            if not ca or tag != 0x02 or not _shortest_unsigned(value[start:stop], 8):
                raise _Declined
        length = int.from_bytes(value[path[0][2] : path[0][3]], "big") if path else None
        shown.basic_constraints = (ca, length, critical)
    elif dotted == _AKI:
        parts = _elements(value, *_inside(value, 0, len(value), 0x30))
        tags = [tag for tag, *_ in parts]
        if tags not in ([], [0x80], [0xA1, 0x82], [0x80, 0xA1, 0x82]):
            raise _Declined  # an issuer needs a serial and a serial an issuer (cryptography's rule)
        if 0xA1 in tags:
            _, _, start, stop = parts[-2]
            _general_names(value, start, stop)
            _, _, start, stop = parts[-1]
            if not _shortest_unsigned(value[start:stop], len(value)):
                raise _Declined
        shown.authority_key_identifier = value[parts[0][2] : parts[0][3]] if tags[:1] == [0x80] else None
    elif dotted == _SAN:
        shown.subject_alt_names = _general_names(value, *_inside(value, 0, len(value), 0x30))
    elif dotted in (_CRL_DISTRIBUTION_POINTS, _FRESHEST_CRL):
        for tag, _, start, stop in _sequence_of(value):  # DistributionPoint { [0] { [0] fullName } } only
            ((point_tag, _, point_start, point_stop),) = _elements(value, start, stop)
            ((name_tag, _, name_start, name_stop),) = _elements(value, point_start, point_stop)
            if (tag, point_tag, name_tag) != (0x30, 0xA0, 0xA0):
                raise _Declined
            _general_names(value, name_start, name_stop)
    elif dotted in (_AUTHORITY_INFORMATION_ACCESS, _SUBJECT_INFORMATION_ACCESS):
        for tag, _, start, stop in _sequence_of(value):  # AccessDescription { method, location }
            (method_tag, _, method_start, method_stop), location = _elements(value, start, stop)
            if tag != 0x30 or method_tag != 0x06:
                raise _Declined
            oid_text(value[method_start:method_stop], minimal=True)
            _general_name(value, location)
    elif dotted == _CERTIFICATE_POLICIES:
        for tag, _, start, stop in _sequence_of(value):
            policy = _elements(value, start, stop)
            if tag != 0x30 or not 1 <= len(policy) <= 2 or policy[0][0] != 0x06:
                raise _Declined
            oid_text(value[policy[0][2] : policy[0][3]], minimal=True)
            if len(policy) == 2:
                _policy_qualifiers(value, policy[1])
    elif dotted == _PRECERTIFICATE_SCTS:
        _signed_certificate_timestamps(value)
    elif dotted == _PRIVATE_KEY_USAGE_PERIOD:  # (old roots): [0] and/or [1] GeneralizedTime, in order
        times = _elements(value, *_inside(value, 0, len(value), 0x30))
        if [tag for tag, *_ in times] not in ([0x80], [0x81], [0x80, 0x81]):
            raise _Declined
        when = [plain_time(value, 0x18, start, stop) for _, _, start, stop in times]
        if len(when) == 2 and when[0] > when[1]:
            raise _Declined  # cryptography: "not_before must be before not_after"
    else:
        raise _Declined  # parsed by cryptography, not here


def _signed_certificate_timestamps(value: bytes) -> None:
    """An SCT list (RFC 6962 3.3) in the form CT logs write, which cryptography parses (each SCT's version, log ID,
    time, extensions, hash and signature algorithms and signature, by its lengths): an OCTET STRING holding the TLS
    list's two-byte length, then SCTs each with its own, each v1 with SHA-256 and RSA or ECDSA and no byte left
    over. Anything else (another hash or algorithm, which cryptography refuses in part, a trailing byte) is
    declined. (Read by a small edit of pemext's: key and chain listings need cryptography's verdict on it.)"""
    start, stop = _inside(value, 0, len(value), 0x04)
    data = value[start:stop]
    if len(data) < 2 or int.from_bytes(data[:2], "big") != len(data) - 2 or len(data) == 2:
        raise _Declined
    at = 2
    while at < len(data):
        size = int.from_bytes(data[at : at + 2], "big")
        sct, at = data[at + 2 : at + 2 + size], at + 2 + size
        if len(sct) != size or len(sct) < 47 or sct[0] != 0:  # version, log ID, time, extensions' length
            raise _Declined
        extensions_end = 43 + int.from_bytes(sct[41:43], "big")
        signature = sct[extensions_end + 2 :]
        if sct[extensions_end : extensions_end + 2] not in (b"\x04\x01", b"\x04\x03") or len(signature) < 2 \
                or int.from_bytes(signature[:2], "big") != len(signature) - 2:
            raise _Declined


def _sequence_of(value: bytes) -> list[tuple[int, int, int, int]]:
    """The elements of the non-empty SEQUENCE that is the whole of `value`."""
    found = _elements(value, *_inside(value, 0, len(value), 0x30))
    if not found:
        raise _Declined
    return found


def _policy_qualifiers(value: bytes, qualifiers: tuple[int, int, int, int]) -> None:
    """A PolicyInformation's qualifiers, in the forms read here: a CPS URI, or a user notice of explicit text only
    (UTF8String, IA5String, VisibleString or BMPString, as real roots write it; cryptography refuses the text where
    it does not decode); anything else is declined."""
    tag, _, start, stop = qualifiers
    found = _elements(value, start, stop)
    if tag != 0x30 or not found:
        raise _Declined
    for qualifier_tag, _, qualifier_start, qualifier_stop in found:
        (id_tag, _, id_start, id_stop), (text_tag, _, text_start, text_stop) = _elements(
            value, qualifier_start, qualifier_stop)
        if qualifier_tag != 0x30 or id_tag != 0x06:
            raise _Declined
        qualifier = oid_text(value[id_start:id_stop], minimal=True)
        if qualifier == _CPS and text_tag == 0x16:
            text = value[text_start:text_stop]
        elif qualifier == _USER_NOTICE and text_tag == 0x30:
            ((text_tag, _, start, stop),) = _elements(value, text_start, text_stop)
            text = value[start:stop]
            if text_tag in (0x0C, 0x1A):  # UTF8String; VisibleString, which cryptography takes as UTF-8 too
                text.decode("utf-8")  # UnicodeDecodeError is a ValueError
                continue
            if text_tag == 0x1E:  # BMPString: UTF-16 with its surrogates paired, an even length
                text.decode("utf-16-be")
                continue
            if text_tag != 0x16:
                raise _Declined
        else:
            raise _Declined
        if not text.isascii():
            raise _Declined


def _shortest_unsigned(content: bytes, size: int) -> bool:
    """A non-negative INTEGER's content in its shortest form that fits `size` bytes unsigned."""
    if not content or content[0] & 0x80 or (content[0] == 0 and len(content) > 1 and not content[1] & 0x80):
        return False
    return len(content.lstrip(b"\x00")) <= size


def _key_usage(value: bytes) -> list[int]:
    start, stop = _inside(value, 0, len(value), 0x03)
    content = value[start:stop]
    unused, bits = content[0], content[1:]
    if not bits or unused > 7 or bits[-1] & ((1 << unused) - 1):
        raise _Declined  # the unused bits are zero (an empty BIT STRING, all usages off, is left to cryptography)
    used = [bit for bit in range(min(len(bits) * 8, 9)) if bits[bit // 8] & (0x80 >> (bit % 8))]
    if (7 in used or 8 in used) and 4 not in used:
        raise _Declined  # encipherOnly/decipherOnly without keyAgreement: cryptography's KeyUsage refuses it
    return used


def _general_names(value: bytes, start: int, stop: int) -> list[tuple[str, str]]:
    """The GeneralNames filling value[start:stop] (at least one), each as _general_name gives it."""
    names = [_general_name(value, name) for name in _elements(value, start, stop)]
    if not names:
        raise _Declined
    return names


def _general_name(value: bytes, name: tuple[int, int, int, int]) -> tuple[str, str]:
    """One subject alternative name as (kind, value), the value as cryptography's GeneralName prints it."""
    tag, _, start, stop = name
    content = value[start:stop]
    kind = _GENERAL_NAME_KINDS.get(tag)
    if kind is not None:
        if not content.isascii():
            raise _Declined
        return kind, content.decode("ascii")
    if tag == 0x87 and len(content) in (4, 16):
        import ipaddress

        return "IP", str(ipaddress.ip_address(content))
    if tag == 0xA4:
        return "DirName", _name(value, start, stop)[0]
    if tag == 0x88:
        return "RID", oid_text(content, minimal=True)
    raise _Declined  # otherName, x400Address, ediPartyName, an address range


def __getattr__(name: str) -> Any:
    """`ShownCertificate`, made on first use: its base, keystores.pki.encoded's EncodedCertificate (a 30 KB module
    of four classes), is for what links and checks chains (NSS, CMS, audit, AMS), which `list` and `show` of a
    PKCS#12, JKS or PEM never do (start-up, tests/test_front_lean.py)."""
    if name == "ShownCertificate":
        return _shown_certificate_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _shown_certificate_class() -> type[ShownCertificate]:
    made = globals().get("ShownCertificate")
    if made is not None:
        return made
    from keystores.pki.encoded import EncodedCertificate

    class ShownCertificate(EncodedCertificate):
        """A certificate read from its DER, with read_shown's facts (`shown`): keystores.pki.chain compares its
        names as encoded and verifies its signature over its bytes (EncodedCertificate), so nothing decodes it with
        cryptography but a signature read only there (Ed25519, Ed448)."""

        __qualname__ = "ShownCertificate"

        def __init__(self, der: bytes, shown: Shown) -> None:
            super().__init__(der)
            self.shown = shown

    return globals().setdefault("ShownCertificate", ShownCertificate)  # one class, should two threads make it


def shown_certificates(ders: Iterable[bytes]) -> dict[bytes, ShownCertificate] | None:
    """Each certificate of `ders` (by its DER) as keystores.pki.chain compares and verifies it from its DER, with
    the facts read_shown read; None when one is in a form left to cryptography, or when two of their names (issuers
    and subjects) are equal as cryptography's x509.Name compares them but not as encoded: names then compare the
    same both ways, so chains built and checked over these are the chains built over cryptography's certificates
    (keystores.ops.audit, keystores.backends.cms.read)."""
    found: dict[bytes, ShownCertificate] = {}
    compared: dict[tuple[tuple[bytes, str], ...], bytes] = {}
    made = _shown_certificate_class()
    for der in ders:
        if der in found:
            continue
        shown = read_shown(der)
        if shown is None:
            return None
        cert = found[der] = made(der, shown)
        for name in (cert.issuer_der, cert.subject_der):
            if compared.setdefault(_as_compared(name), name) != name:
                return None
    return found


def _as_compared(name: bytes) -> tuple[tuple[bytes, str], ...]:
    """A Name read_shown accepted as x509.Name compares it: each RDN's OID and text value, in order; the string
    type does not count. Remembered by its DER, as _known_name (a database's chains share their issuers)."""
    found = _COMPARED.get(name)
    if found is None:
        found = tuple(_attributes(name))
        if len(_COMPARED) >= _READ_AT_MOST:
            _COMPARED.clear()
        _COMPARED[name] = found
    return found


_COMPARED: dict[bytes, tuple[tuple[bytes, str], ...]] = {}


def name_values(name: bytes, dotted: str) -> list[str]:
    """The text values of the attributes `dotted` of a Name read_shown accepted, in order, as str() of
    cryptography's `get_attributes_for_oid(...)` values gives them."""
    from keystores.crypto import der as encode

    wanted = encode.oid(dotted)
    return [text for oid, text in _attributes(name) if oid == wanted]


def _attributes(name: bytes) -> list[tuple[bytes, str]]:
    """(OID as encoded, text value) of each attribute of a Name read_shown accepted (single-valued RDNs of
    UTF8String, PrintableString, IA5String or T61String), in order."""
    start, stop = _inside(name, 0, len(name), 0x30)
    found = []
    for _, _, rdn_start, rdn_stop in _elements(name, start, stop):
        ((_, _, pair_start, pair_stop),) = _elements(name, rdn_start, rdn_stop)
        (_, oid_at, _, oid_stop), (_, _, value_start, value_stop) = _elements(name, pair_start, pair_stop)
        found.append((name[oid_at:oid_stop], name[value_start:value_stop].decode("utf-8")))
    return found
