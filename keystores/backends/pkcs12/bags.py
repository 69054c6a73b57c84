"""PKCS#12 bag values and the attribute conventions (Java's trust OID, localKeyId times, secret-key OIDs)
that reading and writing share.
"""

from __future__ import annotations

from keystores.crypto import der
from keystores.frozen import FrozenValue
from keystores.lightweight import cached_property, suppress
from keystores.limits import (
    KdfBudget,
    suspicious,
)
from keystores.model import (
    TRUST_ALL,
    ProtectionPart,
    SecretKey,
    Trust,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

    from cryptography import x509


JAVA_TRUST_OID = "2.16.840.1.113894.746875.1.1"


ANY_EKU = "2.5.29.37.0"


_EKU_BY_PURPOSE = {"tls_server": "1.3.6.1.5.5.7.3.1", "tls_client": "1.3.6.1.5.5.7.3.2",
                   "email": "1.3.6.1.5.5.7.3.4", "code_signing": "1.3.6.1.5.5.7.3.3"}


class _CertBag:
    """A certificate bag as read. A plain class, not a dataclass: a dataclass costs ~0.5 ms to build at import, a
    visible part of `list one.p12` (bench/bench_core.py start-up rows)."""

    def __init__(self, der: bytes, friendly_name: str | None, local_key_id: bytes | None,
                 trust_oids: list[str] | None) -> None:
        self.der = der
        self.friendly_name = friendly_name
        self.local_key_id = local_key_id
        self.trust_oids = trust_oids  # None: no Java trust attribute
        # The certificate's issuer and subject (Name DER) as read/_assemble matches them, without decoding it;
        # `names_as_encoded`: as the certificate encodes them (else as cryptography re-encodes them).
        self.issuer_name = b""
        self.subject_name = b""
        self.names_as_encoded = False

    @cached_property
    def cert(self) -> x509.Certificate:
        """Decoded on first use: `list` reads its columns from the DER (keystores.pki.columns), and a store that
        only lists never imports cryptography's x509 (bench/bench_core.py, list one.p12)."""
        from keystores.pki.certificates import decode_certificate

        return decode_certificate(self.der)  # type: ignore[no-any-return]

    @cached_property
    def shown(self) -> Any:
        """keystores.pki.shown's reading of the certificate (None where it leaves it to cryptography): where there
        is one, cryptography decodes the certificate fully, and its names, key and signature read the same from
        the DER, which start-up of `list`/`show` of a file with a chain uses instead of importing x509."""
        from keystores.pki.shown import read_shown

        return read_shown(self.der)

    @cached_property
    def for_chain(self) -> Any:
        """The certificate as read._build_chain has keystores.pki.chain check it: its DER (an EncodedCertificate)
        when the names were matched as encoded and `shown` reads it, whose checks give what they give on `cert`;
        else `cert`."""
        if self.names_as_encoded and self.shown is not None:
            from keystores.pki.encoded import EncodedCertificate

            return EncodedCertificate(self.der)
        return self.cert

    @property
    def common_name(self) -> str:
        """_common_name of the certificate, from `shown` where there is one."""
        shown = self.shown
        if shown is None:
            return _common_name(self.cert)
        return shown.common_name or shown.fingerprint("sha256").hex()[:16]


class _KeyBag(FrozenValue):
    """A key bag as read. (Values here and in structure.py are keystores.frozen values, not NamedTuples: defining
    a NamedTuple costs ~0.2 ms each at start-up, bench/bench_core.py "list one.p12".)"""

    pkcs8: bytes | None  # a plain key bag
    epki: bytes | None  # a shrouded key bag, decrypted when the key is first used
    friendly_name: str | None
    local_key_id: bytes | None
    _fields = ("pkcs8", "epki", "friendly_name", "local_key_id")

    def __init__(self, pkcs8: bytes | None, epki: bytes | None, friendly_name: str | None,
                 local_key_id: bytes | None) -> None:
        init = object.__setattr__
        init(self, "pkcs8", pkcs8)
        init(self, "epki", epki)
        init(self, "friendly_name", friendly_name)
        init(self, "local_key_id", local_key_id)


class _SecretBag(FrozenValue):
    """A Java SecretKeyEntry: kept opaque (decrypted PKCS#8 form) so a rewrite does not lose it."""

    pkcs8: bytes
    friendly_name: str | None
    local_key_id: bytes | None
    _fields = ("pkcs8", "friendly_name", "local_key_id")

    def __init__(self, pkcs8: bytes, friendly_name: str | None, local_key_id: bytes | None) -> None:
        init = object.__setattr__
        init(self, "pkcs8", pkcs8)
        init(self, "friendly_name", friendly_name)
        init(self, "local_key_id", local_key_id)


class _Parsed:
    """What reading the file's bags found (a plain class for the reason _CertBag gives)."""

    def __init__(self) -> None:
        self.keys: list[_KeyBag] = []
        self.certs: list[_CertBag] = []
        self.secrets: list[_SecretBag] = []
        self.skipped = 0  # CRL and SDSI certificate bags
        self.bag_password: str | None = None  # the password (in the encoding the MAC accepted) that opens the bags
        self.mac_verified = False
        self.protection: dict[str, ProtectionPart] = {}
        # A password was given but the file has no MAC: nothing proves its owner wrote any of it, and anyone can
        # append a certificate bag with Java's trust attribute (openssl: "MAC is absent"). Its trust is not taken.
        self.trust_unproven = False
        # Every derivation for this file: the top-level parts when the file is opened, keys when they are opened.
        self.budget = KdfBudget()
        self.notes: list[str] = []
        self.suspicious: set[str] = set()  # what already has a "suspicious iteration count" note


def _note_suspicious(parsed: _Parsed, iterations: int, what: str, location: str) -> None:
    """One note per kind of thing (`what`), however many of them the file holds."""
    note = suspicious(iterations, what)
    if note is not None and what not in parsed.suspicious:
        parsed.suspicious.add(what)
        parsed.notes.append(f"{location}: {note}")


def _common_name(cert: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    text = value if isinstance(value, str) else value.decode("utf-8", "replace")
    return text or cert.fingerprint(_sha256()).hex()[:16]


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _trust_from_oids(oids: list[str]) -> Trust:
    if not oids or ANY_EKU in oids:
        return TRUST_ALL
    flags = {purpose: oid in oids for purpose, oid in _EKU_BY_PURPOSE.items()}
    return Trust(**flags, native=",".join(oids))


# Java's names for the algorithms of secret keys, by the OID its PKCS12KeyStore writes (sun.security.util.KnownOIDs).
_SECRET_ALGORITHMS = {"2.16.840.1.101.3.4.1": "AES", "1.3.14.3.2.17": "DESede", "1.2.840.113549.3.7": "DESede",
                      "1.3.14.3.2.7": "DES", "1.2.840.113549.2.7": "HmacSHA1", "1.2.840.113549.2.8": "HmacSHA224",
                      "1.2.840.113549.2.9": "HmacSHA256", "1.2.840.113549.2.10": "HmacSHA384",
                      "1.2.840.113549.2.11": "HmacSHA512", "1.2.840.113549.3.2": "RC2", "1.2.840.113549.3.4": "RC4"}


def _secret_key(pkcs8: bytes) -> SecretKey:
    """The SecretKey in a Java secret-key bag's PKCS#8: SEQUENCE { 0, AlgorithmIdentifier, OCTET STRING key }."""
    _, body, end = der.read(pkcs8)
    _, _, at = der.read(pkcs8, body, end)  # version
    tag, alg_start, at_value = der.read(pkcs8, at, end)
    _, oid_start, oid_end = der.read(pkcs8, alg_start, at_value)
    tag, value_start, value_end = der.read(pkcs8, at_value, end)
    if tag != 0x04:
        raise ValueError("a secret key bag without its key")
    dotted = _dotted(pkcs8[oid_start:oid_end])
    return SecretKey(_SECRET_ALGORITHMS.get(dotted, dotted), pkcs8[value_start:value_end])


def _dotted(content: bytes) -> str:
    return der.oid_text(content)


def _java_time(local_key_id: bytes | None) -> datetime | None:
    """keytool's localKeyId for a secret key is "Time <milliseconds>": its creation time. (datetime is imported
    here: reading a store of key pairs needs none, start-up speed, bench/bench_core.py "list one.p12".)"""
    if local_key_id and local_key_id.startswith(b"Time ") and local_key_id[5:].isdigit():
        from datetime import UTC, datetime

        with suppress(OverflowError, OSError, ValueError):
            return datetime.fromtimestamp(int(local_key_id[5:]) / 1000, UTC)
    return None
