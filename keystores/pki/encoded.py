"""Certificates and requests held as their DER, with what certreq, sign and receive need read from it.

A speed device, for start-up (bench/bench_core.py rows "start-up: keystores certreq", "sign" and "receive"):
importing cryptography.x509 costs about 20 ms before a command does anything, and these commands only build,
check and copy certificates. EncodedCertificate and EncodedRequest answer `public_bytes`, `fingerprint`, names,
serial, validity, key, signature and extensions from the DER (with keystores.crypto.der and one Name walker,
`name_rdns`); anything else (and a date in a form not read here) is answered by cryptography's object of the same
bytes, loaded on first use (`decoded`). `EncodedCertificate.is_plain` says whether a certificate someone else sent
is in the forms keystores writes and passes the checks cryptography makes on loading; what is not is decoded by
cryptography as before. Equal to cryptography's object and to any certificate with the same DER, as
keystores.pki.undecoded.RawCertificate is. Judged in tests/test_builder_der.py: the facts against cryptography's,
and every byte of a request or reply damaged against cryptography's verdict.
"""

from __future__ import annotations

from keystores.crypto import der

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any, ClassVar

# Signature AlgorithmIdentifiers by key kind and hash (RFC 3279, 4055, 5758, 8410); RSA's carry a NULL.
SIGNATURE_OIDS = {
    ("rsa", "md5"): "1.2.840.113549.1.1.4", ("rsa", "sha1"): "1.2.840.113549.1.1.5",
    ("rsa", "sha224"): "1.2.840.113549.1.1.14", ("rsa", "sha256"): "1.2.840.113549.1.1.11",
    ("rsa", "sha384"): "1.2.840.113549.1.1.12", ("rsa", "sha512"): "1.2.840.113549.1.1.13",
    ("ec", "sha1"): "1.2.840.10045.4.1", ("ec", "sha224"): "1.2.840.10045.4.3.1",
    ("ec", "sha256"): "1.2.840.10045.4.3.2", ("ec", "sha384"): "1.2.840.10045.4.3.3",
    ("ec", "sha512"): "1.2.840.10045.4.3.4",
    ("dsa", "sha1"): "1.2.840.10040.4.3", ("dsa", "sha224"): "2.16.840.1.101.3.4.3.1",
    ("dsa", "sha256"): "2.16.840.1.101.3.4.3.2", ("dsa", "sha384"): "2.16.840.1.101.3.4.3.3",
    ("dsa", "sha512"): "2.16.840.1.101.3.4.3.4",
}


def signature_hashes() -> dict[bytes, str]:
    """The signature AlgorithmIdentifiers as keystores.pki.builder writes them (DER) -> the hash each names."""
    if not _SIGNATURE_HASHES:
        _SIGNATURE_HASHES.update((bytes.fromhex(written), hash_name) for written, hash_name in _SIGNATURE_DER)
    return _SIGNATURE_HASHES


_SIGNATURE_HASHES: dict[bytes, str] = {}
# SIGNATURE_OIDS' AlgorithmIdentifiers as DER, written out: encoding the 16 on first use cost ~0.9 M instructions,
# paid by the first signature a command checks (sign's request, receive's and validate's chain links; start-up
# speed, bench/bench_core.py "sign"). tests/test_builder_der.py holds them to SIGNATURE_OIDS through crypto.der.
_SIGNATURE_DER = (
    ("300d06092a864886f70d0101040500", "md5"), ("300d06092a864886f70d0101050500", "sha1"),
    ("300d06092a864886f70d01010e0500", "sha224"), ("300d06092a864886f70d01010b0500", "sha256"),
    ("300d06092a864886f70d01010c0500", "sha384"), ("300d06092a864886f70d01010d0500", "sha512"),
    ("300906072a8648ce3d0401", "sha1"), ("300a06082a8648ce3d040301", "sha224"),
    ("300a06082a8648ce3d040302", "sha256"), ("300a06082a8648ce3d040303", "sha384"),
    ("300a06082a8648ce3d040304", "sha512"),
    ("300906072a8648ce380403", "sha1"), ("300b0609608648016503040301", "sha224"),
    ("300b0609608648016503040302", "sha256"), ("300b0609608648016503040303", "sha384"),
    ("300b0609608648016503040304", "sha512"),
)


class Encoded:
    """DER of an X.509 structure; cryptography's object of it is `decoded`, loaded on first use."""

    pem_label: ClassVar[str]

    def __init__(self, der: bytes) -> None:
        self.der = der
        self._decoded: Any = None

    def public_bytes(self, encoding: Any = None) -> bytes:
        """DER, or PEM when `encoding` is cryptography's Encoding.PEM."""
        from keystores.crypto.key_encoding import Encoding

        if encoding == Encoding.PEM:
            return self.pem()
        return self.der

    def pem(self) -> bytes:
        """public_bytes(Encoding.PEM) without importing cryptography (start-up speed: certreq)."""
        return der.pem_armor(self.pem_label, self.der)

    def fingerprint(self, algorithm: Any) -> bytes:
        """As cryptography's Certificate.fingerprint: `algorithm` (a cryptography HashAlgorithm) over the DER, by
        cryptography's hashes (hashlib would load a second OpenSSL: ~11 M instructions of a PEM listing's start-up)."""
        from cryptography.hazmat.primitives import hashes

        digest = hashes.Hash(algorithm)
        digest.update(self.der)
        return digest.finalize()

    @property
    def decoded(self) -> Any:
        if self._decoded is None:
            self._decoded = self._load(self.der)
        return self._decoded

    @staticmethod
    def _load(der: bytes) -> Any:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.decoded, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Encoded):
            return self.der == other.der
        public_bytes = getattr(other, "public_bytes", None)  # cryptography's object, a RawCertificate
        if public_bytes is None:
            return NotImplemented
        from keystores.crypto.key_encoding import Encoding

        return bool(public_bytes(Encoding.DER) == self.der)

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self.der)} bytes>"


def _check_minimal(data: bytes, at: int, end: int) -> None:
    """DerError unless every element from `at` to `end`, and inside each constructed one, has its length in the
    shortest form DER requires (as cryptography's parser checks). Short forms are read here, without a call to
    der.read (a JSON listing of 2,000 certificates checks ~70,000 elements), others by der.read."""
    outer: list[tuple[int, int]] = []  # where each constructed element entered continues, and its end
    while True:
        while at < end:
            tag = data[at]
            length = data[at + 1] if at + 2 <= end else 0x80
            if length < 0x80 and tag & 0x1F != 0x1F:
                start, stop = at + 2, at + 2 + length
                if stop > end:
                    raise der.DerError("DER value runs past its container")
            else:
                tag, start, stop = der.read(data, at, end, minimal=True)
            if tag & 0x20:
                outer.append((stop, end))
                at, end = start, stop
            else:
                at = stop
        if not outer:
            return
        at, end = outer.pop()


class _Signed(Encoded):
    """What a signed structure's DER says: SEQUENCE { to-be-signed, signatureAlgorithm, BIT STRING signature }."""

    def _parts(self) -> list[tuple[int, int, int, int]]:
        parts = self.__dict__.get("_parts_cache")
        if parts is None:
            tag, start, end = der.read(self.der)
            if tag != 0x30 or end != len(self.der):
                raise der.DerError("not one SEQUENCE")
            _check_minimal(self.der, 0, end)
            parts = der.elements(self.der, start, end)
            if [tag for tag, *_ in parts] != [0x30, 0x30, 0x03] or self.der[parts[2][2] : parts[2][3]][:1] != b"\0":
                raise der.DerError("not a signed structure")
            self.__dict__["_parts_cache"] = parts
        return parts

    def _to_be_signed(self) -> tuple[bytes, list[tuple[int, int, int, int]]]:
        found = self.__dict__.get("_to_be_signed_cache")  # each name, serial or key asked walks it otherwise
        if found is None:
            _, at, start, end = self._parts()[0]
            found = self.__dict__["_to_be_signed_cache"] = (self.der[at:end], der.elements(self.der, start, end))
        return found

    @property
    def signature(self) -> bytes:
        _, _, start, end = self._parts()[2]
        return self.der[start + 1 : end]

    @property
    def signature_hash_name(self) -> str | None:
        """hashlib's name of the signature's hash for an AlgorithmIdentifier in the form keystores writes (RSA with
        its NULL, ECDSA and DSA without parameters); None for any other (RSA-PSS, Ed25519, unusual parameters),
        which cryptography then reads."""
        _, at, _, end = self._parts()[1]
        return signature_hashes().get(self.der[at:end])

    def _field(self, index: int) -> bytes:
        _, fields = self._to_be_signed()
        if index >= len(fields):  # a to-be-signed cut short: malformed, as any other DerError says
            raise der.DerError("to-be-signed structure too short")
        _, at, _, end = fields[index]
        return self.der[at:end]

    def public_key(self) -> Any:
        """The public key, loaded from the SubjectPublicKeyInfo (ValueError when it cannot be)."""
        from cryptography.exceptions import UnsupportedAlgorithm

        from keystores.crypto.key_encoding import load_der_public_key
        from keystores.pki.certificates import quietly_decoding

        try:
            with quietly_decoding():  # "DSA is deprecated" when a chain is checked over a DSA issuer's key
                return load_der_public_key(self.spki_der)
        except UnsupportedAlgorithm as exc:
            raise ValueError(str(exc)) from exc

    @property
    def spki_der(self) -> bytes:
        raise NotImplementedError


class EncodedCertificate(_Signed):
    """An X.509 certificate held as DER (one keystores made, or a store's not yet decoded). Besides the bytes,
    what sign and receive need is read from the DER: names, serial, validity, key, signature, extensions; the rest
    (and any date in a form not read here) comes from cryptography's Certificate."""

    pem_label = "CERTIFICATE"

    @staticmethod
    def _load(der: bytes) -> Any:
        from keystores.pki.certificates import decode_certificate

        return decode_certificate(der)  # as backends decode: a RawCertificate for one cryptography refuses

    def _tbs_field(self, name: str) -> bytes:
        _, fields = self._to_be_signed()
        offset = 1 if fields[0][0] == 0xA0 else 0  # [0] version, absent in v1
        return self._field(offset + ("serial", "signature", "issuer", "validity", "subject", "spki").index(name))

    @property
    def version(self) -> int:
        """0 for v1, 2 for v3 (the INTEGER in [0], as cryptography's Version values are)."""
        _, fields = self._to_be_signed()
        if fields[0][0] != 0xA0:
            return 0
        _, _, start, end = fields[0]
        tag, content = der.value(self.der[start:end])
        if tag != 0x02:
            raise der.DerError("bad certificate version")
        return der.integer_value(content)

    @property
    def tbs_certificate_bytes(self) -> bytes:
        return self._to_be_signed()[0]

    @property
    def serial_number(self) -> int:
        tag, content = der.value(self._tbs_field("serial"))
        if tag != 0x02:
            raise der.DerError("bad serial number")
        return der.integer_value(content)

    @property
    def issuer_der(self) -> bytes:
        return self._tbs_field("issuer")

    @property
    def subject_der(self) -> bytes:
        return self._tbs_field("subject")

    @property
    def spki_der(self) -> bytes:
        return self._tbs_field("spki")

    def _time(self, index: int, which: str) -> datetime:
        found = self._plain_time(index)
        return found if found is not None else getattr(self.decoded, which)  # another form: cryptography reads it

    @property
    def not_valid_before_utc(self) -> datetime:
        return self._time(0, "not_valid_before_utc")

    @property
    def not_valid_after_utc(self) -> datetime:
        return self._time(1, "not_valid_after_utc")

    def extension(self, oid: str) -> tuple[bool, bytes] | None:
        """(critical, the extnValue's content) of extension `oid`, None when the certificate has none."""
        _, fields = self._to_be_signed()
        wanted = der.oid(oid)
        for tag, _, start, end in fields:
            if tag != 0xA3:
                continue
            _, list_start, list_end = der.read(self.der, start, end)
            for _, _, ext_start, ext_end in der.elements(self.der, list_start, list_end):
                parts = der.elements(self.der, ext_start, ext_end)
                if self.der[parts[0][1] : parts[0][3]] != wanted:
                    continue
                critical = len(parts) == 3 and self.der[parts[1][2] : parts[1][3]] != b"\x00"
                tag, _, value_start, value_end = parts[-1]
                if tag != 0x04:
                    raise der.DerError("bad extension value")
                return critical, self.der[value_start:value_end]
        return None


    def is_plain(self) -> bool:
        """Whether the certificate is in the forms read here and, as far as they go, as cryptography checks them
        when it loads one: DER lengths, a v3 (extensions or none) or v1 layout, a positive serial, names in UTF8String,
        PrintableString or IA5String, times in their plain forms, a key cryptography loads, a signature algorithm
        keystores writes, and only the extensions keystores writes (basic constraints, key usage, extended key
        usage, key identifiers, subject alternative names), each well formed and once. What is not plain is left
        to cryptography (keystores.ops.lifecycle.read_certificates)."""
        from keystores.pki.plain import plain_extensions, plain_name

        try:
            _, fields = self._to_be_signed()
            tags = [tag for tag, *_ in fields]
            if tags not in ([0xA0, 2, 0x30, 0x30, 0x30, 0x30, 0x30, 0xA3], [0xA0, 2, 0x30, 0x30, 0x30, 0x30, 0x30],
                            [2, 0x30, 0x30, 0x30, 0x30, 0x30]):  # v3 (with extensions or, as cryptography's builder
                return False  # writes one given none, without), v1
            if tags[0] == 0xA0 and self.version != 2:
                return False
            _, serial = der.value(self._tbs_field("serial"))
            if not serial or serial[0] & 0x80 or (serial[0] == 0 and (len(serial) == 1 or not serial[1] & 0x80)):
                return False
            algorithm = self._tbs_field("signature")
            _, at, _, end = self._parts()[1]
            if algorithm != self.der[at:end] or algorithm not in signature_hashes():
                return False
            if not (plain_name(self.issuer_der) and plain_name(self.subject_der)):
                return False
            validity = self._tbs_field("validity")
            _, start, end = der.read(validity)
            if len(der.elements(validity, start, end)) != 2 or None in (self._plain_seconds(0), self._plain_seconds(1)):
                return False
            from keystores.pki.spki import key_from_der

            if key_from_der(self.spki_der) is None:  # (an RSA or NIST EC key is judged loadable from the DER)
                self.public_key()
            return tags[-1] != 0xA3 or plain_extensions(self.der, fields[-1])
        except ValueError:  # DerError, a key cryptography does not load
            return False

    def validity_seconds(self) -> tuple[float, float]:
        """(notBefore, notAfter) as POSIX seconds, without datetime where the times are in their plain forms
        (keystores.pki.when.posix_seconds; start-up speed: sign and receive compare them with the clock); another
        form as cryptography reads it, to the microsecond. Read once (sign checks the CA's as it reads its chain,
        then compares it with the new certificate's)."""
        cached = self.__dict__.get("_validity_cache")
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        found: list[float] = []
        for index, which in ((0, "not_valid_before_utc"), (1, "not_valid_after_utc")):
            seconds = self._plain_seconds(index)
            found.append(seconds if seconds is not None else self._time(index, which).timestamp())
        validity = self.__dict__["_validity_cache"] = (found[0], found[1])
        return validity

    def _plain_seconds(self, index: int) -> int | None:
        """_plain_time as POSIX seconds (None where it is None), without datetime."""
        from keystores.pki.when import posix_seconds

        fields = self._plain_fields(index)
        return posix_seconds(*fields) if fields is not None else None

    def _plain_time(self, index: int) -> datetime | None:
        """notBefore (0) or notAfter (1) in UTCTime's or GeneralizedTime's plain form (seconds, Z), else None."""
        fields = self._plain_fields(index)
        if fields is None:
            return None
        from keystores.lightweight import dates  # here: a chain built from the DER reads no date (start-up)

        dt = dates()
        try:  # datetime() checks the ranges (a 31 April, a 25th hour)
            return dt.datetime(*fields, tzinfo=dt.UTC)
        except ValueError:
            return None

    def _plain_fields(self, index: int) -> tuple[int, int, int, int, int, int] | None:
        """(year, month, day, hour, minute, second) of _plain_time's time as written (ranges unchecked), or None."""
        validity = self._tbs_field("validity")
        _, start, end = der.read(validity)
        tag, _, content_start, stop = der.elements(validity, start, end)[index]
        text = validity[content_start:stop]
        if tag == 0x17 and len(text) == 13:
            year = int(text[:2]) if text[:2].isdigit() else -1
            year, digits = year + (1900 if year >= 50 else 2000), text[2:12]
        elif tag == 0x18 and len(text) == 15:
            year, digits = int(text[:4]) if text[:4].isdigit() else -1, text[4:14]
        else:
            return None
        if text[-1:] != b"Z" or not text[:-1].isdigit() or year < 1:
            return None
        month, day, hour, minute, second = (int(digits[i : i + 2]) for i in range(0, 10, 2))
        return year, month, day, hour, minute, second


def name_rdns(name: bytes) -> list[list[tuple[str, int, bytes]]]:
    """A Name's DER as its RDNs in encoded order, each a list of (dotted OID, string tag, value bytes); DerError
    (a ValueError) when it is not SEQUENCE OF SET OF SEQUENCE { OID, value } in DER. The one Name walker of
    keystores.pki.encoded and DistinguishedName.from_der."""
    tag, start, end = der.read(name)
    if tag != 0x30 or end != len(name):
        raise der.DerError("not a Name")
    rdns = []
    for rdn_tag, _, rdn_start, rdn_end in der.elements(name, start, end):
        pairs = der.elements(name, rdn_start, rdn_end)
        if rdn_tag != 0x31 or not pairs:
            raise der.DerError("not an RDN")
        attributes = []
        for pair_tag, _, pair_start, pair_end in pairs:
            (oid_tag, _, oid_start, oid_end), (value_tag, _, value_start, value_end) = der.elements(
                name, pair_start, pair_end)
            if pair_tag != 0x30 or oid_tag != 0x06:
                raise der.DerError("not an attribute")
            attributes.append((der.oid_text(name[oid_start:oid_end], minimal=True), value_tag,
                               name[value_start:value_end]))
        rdns.append(attributes)
    return rdns


def as_encoded(cert: Any) -> EncodedCertificate:
    """`cert` as an EncodedCertificate (one already is; a cryptography or RawCertificate by its DER)."""
    if isinstance(cert, EncodedCertificate):
        return cert
    from keystores.crypto.key_encoding import Encoding

    encoded = EncodedCertificate(cert.public_bytes(Encoding.DER))
    encoded._decoded = cert
    return encoded


class EncodedRequest(_Signed):
    """A PKCS#10 request held as DER: keystores made it (keystores.pki.builder.build_request) or `sign` read it;
    its subject, key and signature are read from the DER, the rest comes from cryptography's request."""

    pem_label = "CERTIFICATE REQUEST"

    @staticmethod
    def _load(der: bytes) -> Any:
        from cryptography import x509

        return x509.load_der_x509_csr(der)

    @property
    def tbs_certrequest_bytes(self) -> bytes:
        return self._to_be_signed()[0]

    @property
    def version(self) -> int:
        tag, content = der.value(self._field(0))
        if tag != 0x02 or len(content) != 1:
            raise der.DerError("bad request version")
        return der.integer_value(content)

    @property
    def subject_der(self) -> bytes:
        return self._field(1)

    @property
    def spki_der(self) -> bytes:
        return self._field(2)
