"""Certificates and private keys that `cryptography` cannot take as they are, kept as their bytes.

Entries are independent: a certificate with a binary-curve or post-quantum key, a duplicated extension, or a DSA
signature algorithm with explicit NULL parameters (every JDK's keytool writes those) is still an entry. It is
listed with what its DER says (keystores/pki/undecoded.py reads the fields with asn1crypto, which parses leniently)
and carried byte for byte: `public_bytes` returns the DER as read, so every writer that serialises a certificate
copies it unchanged. `problem` says, in words, what could not be read; None means nothing is missing (a DSA
certificate repaired for decoding, whose original bytes are kept).

Part of pki/, the bottom layer (beside model.py): nothing here imports backends, ops or the CLI.
"""

from __future__ import annotations

from keystores.lightweight import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

# Public-key algorithms by OID, as key types are spelled in the JSON schema; a key whose size or curve we can read
# gets it appended (RSA-2048, EC-sect193r1, DSA-2048).
# What asn1crypto's lazy parser raises on bytes it cannot read; every field here is read best-effort, so any of
# them means "not readable" (None), never a crash of the listing.
_LENIENT_READ_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError)
_KEY_ALGORITHMS = {
    "1.2.840.113549.1.1.1": "RSA", "1.2.840.113549.1.1.10": "RSASSA-PSS", "1.2.840.10040.4.1": "DSA",
    "1.2.840.10045.2.1": "EC", "1.3.101.110": "X25519", "1.3.101.111": "X448", "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448", "1.2.840.10046.2.1": "DH", "1.2.840.113549.1.3.1": "DH",
    "2.16.840.1.101.3.4.3.17": "ML-DSA-44", "2.16.840.1.101.3.4.3.18": "ML-DSA-65",
    "2.16.840.1.101.3.4.3.19": "ML-DSA-87", "2.16.840.1.101.3.4.4.1": "ML-KEM-512",
    "2.16.840.1.101.3.4.4.2": "ML-KEM-768", "2.16.840.1.101.3.4.4.3": "ML-KEM-1024",
    "1.2.643.2.2.19": "GOST-R-34.10-2001", "1.2.643.2.2.20": "GOST-R-34.10-94",
    "1.2.643.7.1.1.1.1": "GOST-R-34.10-2012-256", "1.2.643.7.1.1.1.2": "GOST-R-34.10-2012-512",
    "1.2.156.10197.1.301": "SM2",
}
# cryptography's short names for name attributes (as keystores.pki.columns prints them).
_SHORT_NAMES = {"2.5.4.3": "CN", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU",
                "2.5.4.6": "C", "2.5.4.9": "STREET", "0.9.2342.19200300.100.1.25": "DC",
                "0.9.2342.19200300.100.1.1": "UID"}
# DSA and ECDSA signature algorithms, whose parameters must be absent (RFC 3279, RFC 5758): every JDK's keytool
# writes a NULL for DSA, and some older tools did for ECDSA; openssl and Java accept both, cryptography neither.
_NULL_PARAMETER_SIGNATURES = ("1.2.840.10040.4.3", "2.16.840.1.101.3.4.3.1", "2.16.840.1.101.3.4.3.2",
                              "1.2.840.10045.4.1", "1.2.840.10045.4.3.1", "1.2.840.10045.4.3.2",
                              "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4")
_HASH_OF_SIGNATURE = {
    "1.2.840.113549.1.1.4": "md5", "1.2.840.113549.1.1.5": "sha1", "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256", "1.2.840.113549.1.1.12": "sha384", "1.2.840.113549.1.1.13": "sha512",
    "1.2.840.10040.4.3": "sha1", "2.16.840.1.101.3.4.3.1": "sha224", "2.16.840.1.101.3.4.3.2": "sha256",
    "1.2.840.10045.4.1": "sha1", "1.2.840.10045.4.3.1": "sha224", "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384", "1.2.840.10045.4.3.4": "sha512",
}


def key_type_of_spki(spki: Any) -> str | None:
    """The key type of an asn1crypto PublicKeyInfo, by name where the OID is known, else the dotted OID."""
    try:
        return _key_type(_algorithm_oid(spki.dump(), 0), lambda: spki["algorithm"]["parameters"],
                         lambda: spki.bit_size)
    except _LENIENT_READ_ERRORS:
        return None


def key_type_of_pkcs8(pkcs8: bytes) -> str | None:
    """The key type of a PKCS#8 PrivateKeyInfo, as key_type_of_spki."""
    from asn1crypto import keys

    try:
        info = keys.PrivateKeyInfo.load(pkcs8)
        return _key_type(_algorithm_oid(pkcs8, 1), lambda: info["private_key_algorithm"]["parameters"],
                         lambda: info.bit_size)
    except _LENIENT_READ_ERRORS:
        return None


def _algorithm_oid(data: bytes, index: int) -> str:
    """The OID of the AlgorithmIdentifier that is element `index` of the SEQUENCE `data`, read from the bytes
    (asn1crypto refuses to parse a key structure whose algorithm it does not know)."""
    from keystores.crypto.der import oid_text, read

    _, at, end = read(data)
    for _ in range(index):
        at = read(data, at, end)[2]
    _, alg_start, alg_end = read(data, at, end)
    tag, oid_start, oid_end = read(data, alg_start, alg_end)
    if tag != 0x06:
        raise ValueError("no algorithm OID")
    return oid_text(data[oid_start:oid_end])


def _key_type(dotted: str, parameters: Any, bit_size: Any) -> str:
    """`parameters` and `bit_size` are read only for the algorithms that need them (asn1crypto raises KeyError for
    the parameters of an algorithm it does not know)."""
    name = _KEY_ALGORITHMS.get(dotted)
    if name is None:
        return dotted
    if name == "EC":
        try:
            named = parameters()
            curve = named.chosen.native if named.name == "named" else None
        except (ValueError, TypeError, AttributeError, KeyError):
            curve = None
        if not isinstance(curve, str):
            return "EC (explicit curve parameters)"
        from keystores.pki.curves import curve_named

        known = curve_named(curve)
        return f"EC-{known.short if known is not None else curve}"
    if name in ("RSA", "RSASSA-PSS", "DSA"):
        try:
            return f"{name}-{bit_size()}"
        except (ValueError, TypeError, KeyError, AttributeError):
            return name
    return name


def _name_text(name: Any) -> str:
    """RFC 4514 (last RDN first), short names as cryptography prints them, other attributes as dotted OIDs."""
    parts = []
    for rdn in name.chosen:
        values = []
        for attribute in rdn:
            oid = attribute["type"].dotted
            try:
                value = attribute["value"].native
            except _LENIENT_READ_ERRORS:
                value = None
            text = value if isinstance(value, str) else "#" + attribute["value"].dump().hex()
            text = text.replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
            values.append(f"{_SHORT_NAMES.get(oid, oid)}={text}")
        parts.append("+".join(values))
    return ",".join(reversed(parts))


class RawName:
    """A Name known by its DER only; equal to any name with the same DER (cryptography's Name included)."""

    def __init__(self, der: bytes, text: str | None) -> None:
        self._der = der
        self._text = text

    def public_bytes(self, backend: Any = None) -> bytes:
        return self._der

    def rfc4514_string(self, attr_name_overrides: Any = None) -> str:
        return self._text if self._text is not None else "#" + self._der.hex()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RawName):
            return self._der == other._der
        public_bytes = getattr(other, "public_bytes", None)  # a cryptography x509.Name
        return public_bytes is not None and public_bytes() == self._der

    def __hash__(self) -> int:
        return hash(self._der)

    def __iter__(self) -> Any:
        return iter(())

    def get_attributes_for_oid(self, oid: Any) -> list[Any]:
        return []

    @property
    def rdns(self) -> list[Any]:
        return []


class RawCertificate:
    """An X.509 certificate held as the DER it was read as, for the ones cryptography refuses in part or whole.

    Attributes cryptography could read (through `view`, a cryptography certificate of the same bytes or of a
    repaired copy) are answered by it; the rest come from asn1crypto's lenient parse. `public_bytes` and
    `fingerprint` are always of the original bytes.
    """

    def __init__(self, der: bytes, problem: str | None, view: Any = None) -> None:
        self.der = der
        self.problem = problem
        self.view = view
        self._parsed: Any = None

    # --- the original bytes --------------------------------------------------------------------------------
    def public_bytes(self, encoding: Any = None) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        if encoding == Encoding.PEM:
            from keystores.crypto.der import pem_armor

            return pem_armor("CERTIFICATE", self.der)
        return self.der

    def fingerprint(self, algorithm: Any) -> bytes:
        import hashlib  # here: `list` imports this module and hashes nothing (hashlib loads a second OpenSSL)

        return hashlib.new(algorithm.name, self.der).digest()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RawCertificate):
            return self.der == other.der
        public_bytes = getattr(other, "public_bytes", None)  # a cryptography x509.Certificate
        return public_bytes is not None and _der_of(other) == self.der

    def __hash__(self) -> int:
        return hash(self.der)

    # --- what the DER says -----------------------------------------------------------------------------------
    @property
    def parsed(self) -> Any:
        """asn1crypto's Certificate, or None when even the framing is not a certificate."""
        if self._parsed is None:
            from asn1crypto import x509 as ax509

            try:
                parsed = ax509.Certificate.load(self.der)
                parsed["tbs_certificate"]["subject_public_key_info"]
                self._parsed = parsed
            except _LENIENT_READ_ERRORS:
                self._parsed = False
        return self._parsed or None

    def _tbs(self, field: str) -> Any:
        parsed = self.parsed
        if parsed is None:
            return None
        try:
            return parsed["tbs_certificate"][field]
        except _LENIENT_READ_ERRORS:
            return None

    @property
    def tbs_certificate_bytes(self) -> bytes:
        parsed = self.parsed
        return parsed["tbs_certificate"].dump() if parsed is not None else b""

    @property
    def signature(self) -> bytes:
        parsed = self.parsed
        return parsed["signature_value"].native if parsed is not None else b""

    @property
    def subject(self) -> Any:
        return self._name("subject")

    @property
    def issuer(self) -> Any:
        return self._name("issuer")

    def _name(self, field: str) -> Any:
        if self.view is not None:
            try:
                name = getattr(self.view, field)
                name.rfc4514_string()
                return name
            except _LENIENT_READ_ERRORS:
                pass
        value = self._tbs(field)
        if value is None:
            return RawName(b"", "")
        try:
            text = _name_text(value)
        except _LENIENT_READ_ERRORS:
            text = None
        return RawName(value.dump(), text)

    @property
    def serial_number(self) -> int | None:
        value = self._tbs("serial_number")
        try:
            return None if value is None else int(value.native)
        except _LENIENT_READ_ERRORS:
            return None

    def _time(self, which: str) -> datetime | None:
        validity = self._tbs("validity")
        try:
            return None if validity is None else validity[which].native
        except _LENIENT_READ_ERRORS:
            return None

    @property
    def not_valid_before_utc(self) -> datetime | None:
        return self._time("not_before")

    @property
    def not_valid_after_utc(self) -> datetime | None:
        return self._time("not_after")

    @property
    def key_type(self) -> str | None:
        spki = self._tbs("subject_public_key_info")
        return None if spki is None else key_type_of_spki(spki)

    @property
    def public_key_bits(self) -> bytes | None:
        """The SubjectPublicKeyInfo's BIT STRING content (without its unused-bits byte), or None."""
        from keystores.crypto.der import read

        spki = self._tbs("subject_public_key_info")
        if spki is None:
            return None
        data = spki.dump()
        try:
            _, start, end = read(data)
            tag, bits_start, bits_end = read(data, read(data, start, end)[2], end)
        except ValueError:
            return None
        return data[bits_start + 1 : bits_end] if tag == 0x03 else None

    @property
    def signature_algorithm_name(self) -> str | None:
        parsed = self.parsed
        if parsed is None:
            return None
        try:
            from cryptography.x509 import ObjectIdentifier

            dotted = parsed["signature_algorithm"]["algorithm"].dotted
            name = ObjectIdentifier(dotted)._name  # as keystores.ops.describe names decoded certificates' ones
            return dotted if name == "Unknown OID" else name
        except _LENIENT_READ_ERRORS:
            return None

    @property
    def signature_hash_name(self) -> str | None:
        """hashlib's name of the signature's hash, for the algorithms whose OID names it."""
        parsed = self.parsed
        if parsed is None:
            return None
        return _HASH_OF_SIGNATURE.get(parsed["signature_algorithm"]["algorithm"].dotted)

    def public_key(self) -> Any:
        """The public key as cryptography loads it from the SubjectPublicKeyInfo; ValueError when it cannot."""
        if self.view is not None:
            try:
                return self.view.public_key()
            except Exception as exc:  # UnsupportedAlgorithm is no ValueError
                raise ValueError(str(exc)) from exc
        spki = self._tbs("subject_public_key_info")
        if spki is None:
            raise ValueError(self.problem or "no readable public key")
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        try:
            return load_der_public_key(spki.dump())
        except UnsupportedAlgorithm as exc:
            raise ValueError(str(exc)) from exc

    def __getattr__(self, name: str) -> Any:
        """Anything else (extensions, signature_hash_algorithm, ...) as the view has it."""
        view = self.__dict__.get("view")
        if view is None or name.startswith("_"):
            raise AttributeError(name)
        return getattr(view, name)

    def __repr__(self) -> str:
        return f"<RawCertificate {self.subject.rfc4514_string()!r} problem={self.problem!r}>"


def _der_of(cert: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)  # type: ignore[no-any-return]


def tolerant_certificate(der: bytes, reason: BaseException) -> RawCertificate:
    """A RawCertificate for `der`, which cryptography refused with `reason`: repaired for decoding where the fault
    is one peers accept ((EC)DSA signature algorithms with NULL parameters), else with `problem` saying why."""
    from cryptography import x509 as cx509

    from keystores.pki.certificates import fully_decoded

    repaired = _without_null_parameters(der)
    if repaired is not None:
        with suppress(Exception):  # any failure: fall through to the unrepaired view
            return RawCertificate(der, None, fully_decoded(cx509.load_der_x509_certificate(repaired)))
    view = None
    with suppress(Exception):  # no view: every field comes from asn1crypto
        view = cx509.load_der_x509_certificate(der)
    raw = RawCertificate(der, _reason_text(reason), view)
    if raw.parsed is None:
        raw.problem = f"not a readable X.509 certificate ({_reason_text(reason)})"
    return raw


def _reason_text(reason: BaseException) -> str:
    """What cryptography said, in words: its ASN.1 parse errors as kind and place ("malformed ASN.1 (ExtraData in
    TbsCertificate::signature_alg)")."""
    import re

    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    parse_error = re.search(r"ParseError \{ kind: (\w+)(?:.*?location: \[(.*?)\])?", text)
    if parse_error is not None:
        places = re.findall(r'"([^"]+)"', parse_error.group(2) or "")
        text = f"malformed ASN.1 ({parse_error.group(1)}{' in ' + places[-1] if places else ''})"
    name = type(reason).__name__
    if name == "DuplicateExtension":
        text = f"duplicated extension ({text})"
    elif name == "UnsupportedAlgorithm" or "not supported" in text or "Unknown key type" in text:
        text = f"cryptography cannot load its public key ({text})"
    return text[:200]


def _without_null_parameters(der: bytes) -> bytes | None:
    """The certificate with NULL parameters removed from its (EC)DSA signature algorithm identifiers (RFC 3279
    says they are absent; every JDK writes a NULL for DSA), or None when there is nothing to repair. Used only to
    decode it: the original bytes are what is kept, shown (fingerprint) and written."""
    from asn1crypto import x509 as ax509

    try:
        cert = ax509.Certificate.load(der)
        outer = cert["signature_algorithm"]
        inner = cert["tbs_certificate"]["signature"]
        if outer["algorithm"].dotted not in _NULL_PARAMETER_SIGNATURES or outer["parameters"].dump() != b"\x05\x00":
            return None
        tbs = cert["tbs_certificate"].copy()
        tbs["signature"] = ax509.SignedDigestAlgorithm({"algorithm": inner["algorithm"].dotted})
        fixed = ax509.Certificate({"tbs_certificate": tbs,
                                   "signature_algorithm": {"algorithm": outer["algorithm"].dotted},
                                   "signature_value": cert["signature_value"]})
        return fixed.dump(force=True)
    except _LENIENT_READ_ERRORS:
        return None


class UndecodedPrivateKey:
    """A private key held as its PKCS#8 PrivateKeyInfo DER, for key types cryptography does not load (binary
    curves, GOST, ML-DSA...) or would write back as another type (an RSASSA-PSS key comes back as rsaEncryption,
    which Java then refuses beside its RSASSA-PSS certificate: `loaded` is cryptography's key, `problem` None).
    Written unchanged wherever a format stores PKCS#8 (PKCS#12, JKS, JCEKS, PEM)."""

    def __init__(self, pkcs8: bytes, problem: str | None, loaded: Any = None) -> None:
        self.pkcs8 = pkcs8
        self.problem = problem
        self.loaded = loaded

    @property
    def key_type(self) -> str | None:
        return key_type_of_pkcs8(self.pkcs8)

    @property
    def public_key_bits(self) -> bytes | None:
        """The public key as its certificate's SubjectPublicKeyInfo holds it, where the PKCS#8 carries it (an EC
        key's ECPrivateKey [1] publicKey, as openssl writes it), else None: how a key is paired with its
        certificate when cryptography cannot derive the public key."""
        from keystores.crypto.der import read

        try:
            _, start, end = read(self.pkcs8)
            at = read(self.pkcs8, start, end)[2]
            at = read(self.pkcs8, at, end)[2]
            tag, key_start, key_end = read(self.pkcs8, at, end)
            _, inner, inner_end = read(self.pkcs8, key_start, key_end)
            at = inner
            while at < inner_end:
                tag, value_start, value_end = read(self.pkcs8, at, inner_end)
                if tag == 0xA1:
                    tag, bits_start, bits_end = read(self.pkcs8, value_start, value_end)
                    return self.pkcs8[bits_start + 1 : bits_end] if tag == 0x03 else None
                at = value_end
        except ValueError:
            return None
        return None

    def private_bytes(self, encoding: Any, format: Any, encryption_algorithm: Any) -> bytes:
        from cryptography.hazmat.primitives import serialization

        if format is not serialization.PrivateFormat.PKCS8:
            raise ValueError(f"a {self.key_type} key can only be written as PKCS#8")
        if not isinstance(encryption_algorithm, serialization.NoEncryption):
            raise ValueError(f"a {self.key_type} key is written unencrypted here and protected by its store")
        if encoding is serialization.Encoding.PEM:
            from keystores.crypto.der import pem_armor

            return pem_armor("PRIVATE KEY", self.pkcs8)
        return self.pkcs8

    def public_key(self) -> Any:
        if self.loaded is not None:
            return self.loaded.public_key()
        raise ValueError(self.problem)

    def __repr__(self) -> str:
        return f"<UndecodedPrivateKey {self.key_type}>"


def problem_of(obj: Any) -> str | None:
    """The problem a RawCertificate or UndecodedPrivateKey carries; None for anything fully decoded."""
    return obj.problem if isinstance(obj, RawCertificate | UndecodedPrivateKey) else None


_RSA_PSS_PKCS8 = bytes.fromhex("06092a864886f70d01010a")  # the RSASSA-PSS OID, encoded


def load_private_key(pkcs8: bytes, *, skip_rsa_validation: bool = False) -> Any:
    """A PKCS#8 PrivateKeyInfo as cryptography loads it, or an UndecodedPrivateKey when cryptography does not know
    its type (a binary curve, GOST, ML-DSA...) although the structure is sound. ValueError when it is not."""
    from keystores.crypto.key_encoding import load_der_private_key

    try:
        key = load_der_private_key(pkcs8, None, unsafe_skip_rsa_key_validation=skip_rsa_validation)
        if _RSA_PSS_PKCS8 in pkcs8[:32] and _algorithm_oid(pkcs8, 1) == "1.2.840.113549.1.1.10":
            return UndecodedPrivateKey(pkcs8, None, loaded=key)  # kept as RSASSA-PSS, not re-encoded as RSA
        return key
    except Exception as exc:  # UnsupportedAlgorithm is no ValueError
        from keystores.crypto.pbe_params import private_key_info_algorithm

        if private_key_info_algorithm(pkcs8) is None:
            raise ValueError(str(exc) or type(exc).__name__) from exc
        return UndecodedPrivateKey(pkcs8, f"cryptography cannot load a {key_type_of_pkcs8(pkcs8)} key "
                                          f"({_reason_text(exc)})")
