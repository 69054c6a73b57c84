"""PEM has no labels, so they are derived: a "friendlyName" in the Bag Attributes before a block wins, else the
certificate's (or request's) common name, else its first subject attribute, else "cert-" + fingerprint prefix;
duplicates get " (2)", " (3)" in file order (keystores.pki.labels). The writer derives them the same way and adds a
"Bag Attributes / friendlyName" line (as `openssl pkcs12 -nodes` does, and which every PEM reader skips) only where
the derived label would differ from the entry's label, or where a trusted certificate could otherwise be mistaken for
part of a key pair's chain: a CA bundle whose labels are the CAs' names stays pure PEM.
"""

from __future__ import annotations

from keystores.model import (
    public_key_fingerprint,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cryptography import x509

    from keystores.pki.labels import UniqueLabels


class TakenLabels:
    """keystores.pki.labels.UniqueLabels (`taken`, `peek`, `add`) for the PEM reader and writer, made only once a
    label repeats: until then a label is itself. The labels of nearly every file are distinct, and an export writes
    one entry, so reading or writing them loads no pki.labels (bench/bench_core.py: "list pair.pem", "export one.p12
    server"). UniqueLabels takes over with the same `taken` set, so it gives the same labels from then on."""

    __slots__ = ("_unique", "taken")

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self._unique: UniqueLabels | None = None

    def peek(self, base: str) -> str:
        """What add(base) would give, without taking it."""
        if base not in self.taken:
            return base
        return self._numbering().peek(base)

    def add(self, base: str) -> str:
        """`base`, or its first free numbered form; taken from now on."""
        if base not in self.taken:
            self.taken.add(base)
            return base
        return self._numbering().add(base)

    def _numbering(self) -> UniqueLabels:
        if self._unique is None:
            from keystores.pki.labels import UniqueLabels

            self._unique = UniqueLabels()
            self._unique.taken = self.taken  # one set: a label taken by either is taken for both
        return self._unique


def derived_label(name: x509.Name, public_key: object) -> str:
    """The label PEM/DER gives an object that has no friendlyName: CN, else first subject value, else a hash (of
    the public key; of the certificate for one whose key cryptography does not load)."""
    from cryptography.x509.oid import NameOID

    from keystores.pki.undecoded import RawCertificate

    if isinstance(public_key, RawCertificate):
        raw = public_key
        label = name_label(raw.der)  # as lazy_read labels it before (or without) any decoding
        if label is not None:
            return label
        name = raw.subject
        try:
            public_key = raw.public_key()
        except ValueError:
            public_key = None
        if public_key is None:
            label = _label_from_name(name, NameOID.COMMON_NAME)
            import hashlib  # here: a listing that labels from the DER needs no hash (start-up)

            return label or "cert-" + hashlib.sha256(raw.der).hexdigest()[:16]
    return _label_from_name(name, NameOID.COMMON_NAME) or "cert-" + public_key_fingerprint(public_key).hex()[:16]


# The string types cryptography decodes as UTF-8 (keystores.pki.columns); other values are left to cryptography.
_TEXT_TAGS = frozenset({0x0C, 0x12, 0x13, 0x14, 0x16, 0x1A})
_COMMON_NAME = bytes.fromhex("550403")  # 2.5.4.3


def name_label(certificate: bytes) -> str | None:
    """derived_label read from a certificate's DER, without decoding it: the first non-empty common name, else the
    most specific non-empty attribute value. None where the subject is not in the plain form read here (an RDN of
    several attributes, a value that is not a UTF-8 string type) or no value is non-empty, and for malformed DER.
    The one labelling of a certificate cryptography refuses (RawCertificate) and of one not decoded yet
    (lazy_read.py), so that a file's labels never depend on which reader read it."""
    from keystores.crypto.der import DerError, read, subject_and_key  # (not pki.columns: export's start-up)

    parts = subject_and_key(certificate)
    if parts is None:
        return None
    name = parts[0]
    values: list[tuple[bytes, str]] = []
    try:
        at = 0
        while at < len(name):
            tag, start, at = read(name, at)
            tag, pair_start, pair_stop = read(name, start, at)
            if tag != 0x30 or pair_stop != at:
                return None  # an empty or multi-valued RDN
            tag, oid_start, oid_stop = read(name, pair_start, pair_stop)
            value_tag, value_start, value_stop = read(name, oid_stop, pair_stop)
            if tag != 0x06 or value_tag not in _TEXT_TAGS or value_stop != pair_stop:
                return None
            values.append((name[oid_start:oid_stop], name[value_start:value_stop].decode("utf-8").strip()))
    except (DerError, IndexError, UnicodeDecodeError):
        return None
    found = next((value for oid, value in values if oid == _COMMON_NAME and value), None)
    return found or next((value for _, value in reversed(values) if value), None)


def _label_from_name(name: Any, common_name: Any) -> str | None:
    """The first non-empty CN, else the most specific non-empty attribute value, else None."""

    for attribute in name.get_attributes_for_oid(common_name):
        value = str(attribute.value).strip()
        if value:
            return value
    for attribute in reversed(list(name)):  # most specific RDN last in the encoding
        value = str(attribute.value).strip()
        if value:
            return value
    return None


def _key_hash(cert: Any) -> bytes:
    """public_key_fingerprint of the certificate's key; for a RawCertificate whose key cryptography does not load,
    the SHA-256 of its SubjectPublicKeyInfo as encoded (the same for any key in its DER form)."""
    from keystores.pki.undecoded import RawCertificate  # here: listing from the DER holds none (start-up)

    if isinstance(cert, RawCertificate):
        try:
            return public_key_fingerprint(cert.public_key())
        except ValueError:
            spki = cert.parsed["tbs_certificate"]["subject_public_key_info"].dump() if cert.parsed else cert.der
            import hashlib

            return hashlib.sha256(spki).digest()
    return public_key_fingerprint(cert.public_key())


def _labelling_key(obj: Any) -> Any:
    """What derived_label hashes for an unnamed object: its public key, or a RawCertificate itself."""
    from keystores.pki.undecoded import RawCertificate

    return obj if isinstance(obj, RawCertificate) else obj.public_key()


def _fingerprint(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256())
