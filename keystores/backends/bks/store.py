"""Bouncy Castle's own key stores BKS and UBER, read and written here (BKS) or read (UBER) without Java.

The format is defined by org.bouncycastle.jcajce.provider.keystore.bc.BcKeyStoreSpi (BKS: the Std and Version1
inner classes; UBER: the BouncyCastleStore inner class). Checked against bcprov 1.72 (Debian's libbcprov-java)
through keytool, and against the BcKeyStoreSpi source of bc-java 1.7x, which has not changed the layout since
version 2 appeared (BC 1.47, 2012).

BKS layout: int version (0, 1 or 2; BC writes 2), int salt length, salt, int iteration count, the entries, a zero
byte, then an HMAC-SHA1 over the entries (from the first entry to the zero byte included). The MAC key comes from the
PKCS#12 key derivation (RFC 7292 appendix B, SHA-1, purpose 3) over the password as a BMPString; version 2 derives a
20-byte key, versions 0 and 1 a 2-byte key (BC passed the MAC size in bytes where bits were meant: BKS-V1's
well-known weakness). BC checks the MAC only when a password is given; so do we (see `_load`).

An entry: byte type, modified-UTF-8 alias, long creation time (ms), int chain length, the chain (each certificate:
UTF type "X.509", int length, DER), then by type: 1 certificate: one more certificate; 2 key: the key in the clear;
3 secret: int length and bytes an application protected itself (KeyStore.setKeyEntry(alias, byte[], chain)); 4
sealed: int length and [int salt length, salt, int iterations, PBEWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 KDF, SHA-1,
3-key 3DES-CBC) over the key]. A key (clear or sealed) is: byte 0 private / 1 public / 2 secret, UTF format
("PKCS#8", "X.509" or "RAW"), UTF algorithm, int length, encoding.

UBER is the same entry list, followed by a SHA-1 digest of it, all encrypted with PBEWithSHAAndTwofish-CBC (PKCS#12
KDF, SHA-1, 256-bit key, 128-bit IV) after the clear header (version, salt, iterations); BC refuses more than
65,536 iterations and a salt that is not 20 bytes, and so do we. cryptography has no Twofish: keystores.twofish
decrypts it. UBER stores are read only (written as BKS or BCFKS instead).

What is not read: BC's "Broken"/"Old" key ciphers (a KDF bug in BC releases before 2002), and UBER version 0 (the
same era): these are refused with a message naming them. Entries holding a bare public key (type 2/4 with key type
1) have no place in the keystores model: they are named in the notes and written back unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import time
from typing import Any, ClassVar

from keystores.backends.base import FileStore
from keystores.backends.java_data import _cert_bytes, _from_millis, _read_utf, _utf
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
    one_line,
)
from keystores.limits import MAX_ITERATIONS  # the ceiling every parser applies (a header cannot ask for 2**31)
from keystores.model import (
    TRUST_ALL,
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
    LazyEntry,
    SealedEntry,
    SecretKey,
    sealed_entry,
)

_CERTIFICATE, _KEY, _SECRET, _SEALED = 1, 2, 3, 4
_KEY_PRIVATE, _KEY_PUBLIC, _KEY_SECRET = 0, 1, 2
_MAC_SIZE = 20
#: Keys tried to tell a wrong password from damage cost at most this many rounds (BC writes 1024..2047, we 10,000).
_PROOF_MAX_ITERATIONS = 100_000
#: BouncyCastleStore refuses more than MIN_ITERATIONS << 6 for UBER.
UBER_MAX_ITERATIONS = 1024 << 6
#: What we write: PKCS#12 (modern profile) uses the same count; BC itself writes 1024..2047.
WRITE_ITERATIONS = 10_000
_SALT_SIZE = 20
# Errors a parser of untrusted bytes may hit; all of them mean "damaged".
_PARSE_ERRORS = (struct.error, IndexError, ValueError, UnicodeDecodeError, TypeError, KeyError, RecursionError)


class _Reader:
    """java.io.DataInputStream over bytes, refusing lengths that run past the end."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def int(self) -> int:
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def long(self) -> int:
        (value,) = struct.unpack_from(">q", self.data, self.pos)
        self.pos += 8
        return value

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ValueError("the entry list runs past the end of the file (no end marker)")
        self.pos += 1
        return self.data[self.pos - 1]

    def utf(self) -> str:
        text, self.pos = _read_utf(self.data, self.pos)
        return text

    def chunk(self) -> bytes:
        size = self.int()
        if size < 0 or size > len(self.data) - self.pos:
            raise ValueError(f"length field {size} at offset {self.pos - 4} runs past the end of the data")
        self.pos += size
        return self.data[self.pos - size : self.pos]


def _pkcs12_password(password: str) -> bytes:
    """BC's PBEParametersGenerator.PKCS12PasswordToBytes: BMPString with a NUL terminator, empty for ""."""
    from keystores.legacy import bmp_password

    return bmp_password(password) if password else b""


def _bks_mac(password: str, salt: bytes, iterations: int, version: int, body: bytes | memoryview) -> bytes:
    from keystores.legacy import pkcs12_kdf

    key = pkcs12_kdf(_pkcs12_password(password), salt, 3, iterations, _MAC_SIZE if version == 2 else _MAC_SIZE // 8)
    return hmac.new(key, body, hashlib.sha1).digest()


def _decode_key(data: bytes) -> tuple[int, str, str, bytes]:
    """(key type, format, algorithm, encoding) of an encoded key (BcKeyStoreSpi.encodeKey)."""
    reader = _Reader(data)
    key_type = reader.byte()
    key_format = reader.utf()
    algorithm = reader.utf()
    encoding = reader.chunk()
    return key_type, key_format, algorithm, encoding


def _encode_key(key_type: int, key_format: str, algorithm: str, encoding: bytes) -> bytes:
    return bytes([key_type]) + _utf(key_format) + _utf(algorithm) + struct.pack(">i", len(encoding)) + encoding


def _tdes_alg(salt: bytes, iterations: int) -> Any:
    from asn1crypto import algos

    return algos.EncryptionAlgorithm({"algorithm": "pkcs12_sha1_tripledes_3key",
                                      "parameters": {"salt": salt, "iterations": iterations}})


def _unseal(blob: bytes, password: str) -> tuple[int, str, str, bytes]:
    """The encoded key inside a sealed (type 4) entry; WrongPassword when the password does not open it."""
    from keystores import pbe

    reader = _Reader(blob)
    salt = reader.chunk()
    iterations = reader.int()
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"implausible key iteration count {iterations}")
    plain = pbe.decrypt_with(_tdes_alg(salt, iterations), blob[reader.pos :], password)
    try:
        decoded = _decode_key(plain)
    except _PARSE_ERRORS as exc:
        # 3DES padding comes out right by chance for 1 in 256 wrong passwords: then the key encoding does not parse.
        raise WrongPassword("wrong password (the decrypted key is not a key)") from exc
    if decoded[0] not in (_KEY_PRIVATE, _KEY_PUBLIC, _KEY_SECRET):
        raise WrongPassword("wrong password (the decrypted key is not a key)")
    return decoded


def _seal(encoded_key: bytes, password: str) -> bytes:
    """A sealed entry's bytes: PBEWithSHAAnd3-KeyTripleDES-CBC with a 20-byte salt, as BC writes it."""
    from asn1crypto import algos

    from keystores import pbe

    # BC turns an empty password into no bytes at all, not a BMPString's terminator: raw "" is exactly that.
    alg_der, encrypted = pbe.encrypt_with("pkcs12-3des", encoded_key, password, iterations=WRITE_ITERATIONS,
                                          salt_length=_SALT_SIZE, raw_password=password == "")
    params = algos.EncryptionAlgorithm.load(alg_der)["parameters"]
    salt = params["salt"].native
    return struct.pack(">i", len(salt)) + salt + struct.pack(">i", params["iterations"].native) + encrypted


class _Record:
    """One entry as read: type, alias, time, chain DERs, and the type's own bytes (a certificate or a key)."""

    __slots__ = ("alias", "chain", "millis", "payload", "raw", "type")

    def __init__(self, type_: int, alias: str, millis: int, chain: list[bytes], payload: bytes, raw: bytes) -> None:
        self.type = type_
        self.alias = alias
        self.millis = millis
        self.chain = chain
        self.payload = payload
        self.raw = raw


def _parse_entries(data: bytes, pos: int) -> tuple[list[_Record], int]:
    """The entries from `pos` to the zero end marker; returns them and the position after the marker."""
    reader = _Reader(data, pos)
    records = []
    while True:
        start = reader.pos
        type_ = reader.byte()
        if type_ == 0:
            return records, reader.pos
        alias = reader.utf()
        millis = reader.long()
        chain_length = reader.int()
        if not 0 <= chain_length <= (len(data) - reader.pos) // 6:
            raise ValueError(f"chain length {chain_length} is more than the data can hold")
        chain = [_certificate_der(reader, alias) for _ in range(chain_length)]
        if type_ == _CERTIFICATE:
            payload = _certificate_der(reader, alias)
        elif type_ in (_KEY, _SECRET, _SEALED):
            payload = _decode_key_span(reader) if type_ == _KEY else reader.chunk()
        else:
            raise ValueError(f"unknown entry type {type_} (entry '{alias}')")
        records.append(_Record(type_, alias, millis, chain, payload, data[start : reader.pos]))


def _certificate_der(reader: _Reader, alias: str) -> bytes:
    cert_type = reader.utf()
    der = reader.chunk()
    if cert_type != "X.509":
        raise UnsupportedFormat(f"certificate type '{cert_type}' is not supported (only X.509)", label=alias)
    return der


def _decode_key_span(reader: _Reader) -> bytes:
    """The bytes of a clear key (type 2) entry's encoded key, which has no length prefix of its own."""
    start = reader.pos
    reader.byte()
    reader.utf()
    reader.utf()
    reader.chunk()
    return reader.data[start : reader.pos]


class BouncyCastleFileStore(FileStore):
    """What Bouncy Castle's stores (BKS, UBER, BCFKS) share: one password for the store and its keys (keytool's
    default; a key under another password fails alone, as a wrong password); Java's trusted-certificate entries,
    trusted for everything; keys held on tokens refused."""

    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=True, untrusted_certificates=False,
                                                        undecoded_entries=True)
    display: ClassVar[str]

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        self._read_password = password  # the password the sealed keys as read are protected with
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    def _init_new(self) -> None:
        if self.password is None:
            raise PasswordRequired("a new store needs a password", store=self.location)

    def _certificate(self, der: bytes, label: str) -> Any:
        from cryptography.exceptions import UnsupportedAlgorithm

        from keystores.chain import decode_certificate

        try:
            return decode_certificate(der)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise CorruptStore(f"damaged certificate ({one_line(exc)})", store=self.location, label=label) from exc

    def _reusable_blob(self, entry: Entry) -> bytes | None:
        """The entry's protected key as this store read it, while unopened and the password unchanged."""
        blob = entry.sealed_blob(self) if isinstance(entry, SealedEntry) else None
        return blob if blob is not None and self.password == self._read_password else None

    def _pkcs8(self, entry: Entry) -> bytes:
        from cryptography.hazmat.primitives import serialization

        key = entry.key
        try:
            return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,  # type: ignore[union-attr]
                                     serialization.NoEncryption())
        except (AttributeError, ValueError, TypeError) as exc:
            raise CapabilityError("private_keys", f"cannot store a {type(key).__name__} in {self.display}",
                                  store=self.location, label=entry.label) from exc

    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if entry.kind is EntryKind.CERTIFICATE:
            raise CapabilityError("trust", f"{self.display} holds only trusted certificates (trustedCertEntry); "
                                  "this certificate is not trusted", store=self.location, label=entry.label)
        if entry.kind is EntryKind.KEY_PAIR and isinstance(entry.key, KeyRef):
            raise CapabilityError("extractable_keys", "the key is held on a token; export it first",
                                  store=self.location, label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        if entry.kind is EntryKind.TRUSTED_CERT and entry.trust is not None and len(entry.trust.purposes) < 4:
            self.notes.append(f"{self.location}: '{entry.label}' is trusted for "
                              f"{', '.join(entry.trust.purposes) or 'no purpose'} only; {self.display} trusts it "
                              "for all purposes")
        super().add(entry, replace=replace)


class _BcStore(BouncyCastleFileStore):
    """What BKS and UBER share: the entry list and how entries become keystores entries."""

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        self._carried: list[_Record] = []  # entries keystores cannot list, written back as they were
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    def _take_entries(self, records: list[_Record]) -> None:
        self._entries = {}
        self._carried = []
        for record in records:
            try:
                entry = self._entry(record)
            except UnsupportedFormat as exc:
                raise UnsupportedFormat(exc.reason, store=self.location, label=record.alias) from exc
            if entry is None:
                self._carried.append(record)
                self.notes.append(f"{self.location}: entry '{record.alias}' holds a bare public key, which keystores "
                                  "does not list; it is kept unchanged when the store is rewritten")
                continue
            if entry.label in self._entries:  # a Java Hashtable keeps the last one too
                self.notes.append(f"{self.location}: alias '{entry.label}' appears twice; the later entry wins")
            self._entries[entry.label] = entry

    def _entry(self, record: _Record) -> Entry | None:
        created = _from_millis(record.millis)
        label = record.alias
        if record.type == _CERTIFICATE:
            der = record.payload
            return LazyEntry.lazy({"chain": lambda: (self._certificate(der, label),)}, leaf_der=der, label=label,
                                  kind=EntryKind.TRUSTED_CERT, trust=TRUST_ALL, created=created)
        chain = tuple(self._certificate(der, label) for der in record.chain)
        password = self.password
        blob = bytes([record.type]) + record.payload
        if record.type == _KEY:  # a key in the clear: decoded on first use, like a sealed one, so that a damaged
            # one fails alone; it is sealed when the store is written
            if record.payload[0] == _KEY_PUBLIC:
                return None
            kind = EntryKind.SECRET_KEY if record.payload[0] == _KEY_SECRET else EntryKind.KEY_PAIR

            def unseal() -> Any:
                return self._open_key(_decode_key(record.payload), label)
        elif record.type == _SECRET:
            # BC stores a private key only with its chain: an entry without one is a secret key.
            kind = EntryKind.KEY_PAIR if chain else EntryKind.SECRET_KEY

            def unseal() -> Any:
                raise UnsupportedFormat("this entry holds key bytes that the application which stored it protected "
                                        "itself (a BKS 'secret' entry); only that application can open them",
                                        store=self.location, label=label)
        else:
            kind = EntryKind.KEY_PAIR if chain else EntryKind.SECRET_KEY

            def unseal() -> Any:
                return self._open_sealed(record.payload, password, label)
        return sealed_entry(unseal, blob, self, label=label, kind=kind, chain=chain, created=created)

    def _open_sealed(self, payload: bytes, password: str | None, label: str) -> Any:
        if password is None:
            raise PasswordRequired("opening a key needs the store password", store=self.location, label=label)
        try:
            decoded = _unseal(payload, password)
        except WrongPassword as exc:
            raise WrongPassword("the store password does not open this key (or the key is damaged)",
                                store=self.location, label=label) from exc
        except (CorruptStore, *_PARSE_ERRORS) as exc:
            raise CorruptStore(f"damaged sealed key ({one_line(exc)})", store=self.location, label=label) from exc
        if decoded[0] == _KEY_PUBLIC:
            raise UnsupportedFormat("the sealed key is a bare public key", store=self.location, label=label)
        return self._open_key(decoded, label)

    def _open_key(self, decoded: tuple[int, str, str, bytes], label: str) -> Any:
        key_type, key_format, algorithm, encoding = decoded
        if key_type == _KEY_SECRET:
            if key_format != "RAW":
                raise UnsupportedFormat(f"secret key in format '{key_format}' (only RAW is read)",
                                        store=self.location, label=label)
            return SecretKey(algorithm, encoding)
        if key_format not in ("PKCS#8", "PKCS8"):
            raise UnsupportedFormat(f"private key in format '{key_format}' (only PKCS#8 is read)",
                                    store=self.location, label=label)
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.serialization import load_der_private_key

        try:
            return load_der_private_key(encoding, None)
        except UnsupportedAlgorithm as exc:
            raise UnsupportedFormat(f"key type not supported ({one_line(exc)})", store=self.location,
                                    label=label) from exc
        except (ValueError, TypeError) as exc:
            raise CorruptStore(f"damaged private key ({one_line(exc)})", store=self.location, label=label) from exc

    def _prove_password(self, records: list[_Record]) -> str | None:
        """The alias of a sealed key the store password opens, if any: proof that the password is right. At most
        two keys are tried, and only keys of ordinary cost: a damaged file must not make the diagnosis expensive."""
        tries = 2
        for record in records:
            if record.type != _SEALED or self.password is None or tries == 0:
                continue
            try:
                reader = _Reader(record.payload)
                reader.chunk()
                if reader.int() > _PROOF_MAX_ITERATIONS:
                    continue
                tries -= 1
                _unseal(record.payload, self.password)
            except (KeystoreError, *_PARSE_ERRORS):
                continue
            return record.alias
        return None


class BksStore(_BcStore):
    """Bouncy Castle's BKS (versions 0, 1 and 2 read; version 2 written): key pairs, trusted certificates and
    secret keys, keys sealed with PBEWithSHAAnd3-KeyTripleDES-CBC, the store under an HMAC-SHA1."""

    format: ClassVar[str] = "bks"
    display: ClassVar[str] = "BKS"

    _read_version = 2
    _mac_iterations = WRITE_ITERATIONS

    def _load(self, data: bytes) -> None:
        try:
            reader = _Reader(data)
            version = reader.int()
            if version not in (0, 1, 2):
                raise UnsupportedFormat(f"BKS version {version} is unknown (0, 1 and 2 exist)", store=self.location)
            salt = reader.chunk()
            iterations = reader.int()
            if not salt or not 1 <= iterations <= MAX_ITERATIONS:
                raise CorruptStore(f"implausible BKS header (salt of {len(salt)} bytes, {iterations} iterations)",
                                   store=self.location)
            body_start = reader.pos
            records, body_end = _parse_entries(data, body_start)
        except KeystoreError as exc:
            if exc.store is None:
                raise type(exc)(exc.reason, store=self.location, label=exc.label) from exc
            raise
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged or truncated BKS store ({one_line(exc)})", store=self.location) from exc
        mac = data[body_end : body_end + _MAC_SIZE]
        if len(mac) != _MAC_SIZE:
            raise CorruptStore("truncated: the store MAC is missing", store=self.location)
        if self.password is None:
            # BcKeyStoreSpi checks nothing without a password, and keytool -list then warns; we do the same.
            self.notes.append(f"{self.location}: no password given: the store's integrity was not checked")
        elif not hmac.compare_digest(_bks_mac(self.password, salt, iterations, version,
                                              memoryview(data)[body_start:body_end]), mac):
            opened = self._prove_password(records)
            if opened is not None:
                raise IntegrityError(f"the password is right (it opens key '{opened}') but the store MAC does not "
                                     "match: the file is damaged or was altered", store=self.location)
            raise WrongPassword("wrong store password, or the file is damaged (the store MAC does not match)",
                                store=self.location)
        if len(data) > body_end + _MAC_SIZE:
            raise CorruptStore(f"{len(data) - body_end - _MAC_SIZE} unexpected bytes after the store MAC",
                               store=self.location)
        if version < 2:
            self.notes.append(f"{self.location}: BKS version {version}: its MAC key is 16 bits; rewriting "
                              "the store makes it version 2")
        self._read_version = version
        self._mac_iterations = iterations
        self._take_entries(records)

    def _dump(self) -> bytes:
        if self.password is None:
            raise PasswordRequired("writing the store needs its password", store=self.location)
        body = b"".join(self._record(label, entry) for label, entry in self._entries.items())
        labels = set(self._entries)
        body += b"".join(record.raw for record in self._carried if record.alias not in labels) + b"\x00"
        salt = os.urandom(_SALT_SIZE)
        header = struct.pack(">ii", 2, len(salt)) + salt + struct.pack(">i", WRITE_ITERATIONS)
        return header + body + _bks_mac(self.password, salt, WRITE_ITERATIONS, 2, body)

    def _record(self, label: str, entry: Entry) -> bytes:
        millis = int(entry.created.timestamp() * 1000) if entry.created else int(time.time() * 1000)
        head = _utf(label) + struct.pack(">q", millis)
        if entry.kind is EntryKind.TRUSTED_CERT:
            return bytes([_CERTIFICATE]) + head + struct.pack(">i", 0) + _cert_bytes(entry.chain[0])
        chain = entry.chain if entry.kind is EntryKind.KEY_PAIR else ()
        # A sealed key unchanged since it was read under the same password is written back as it was; a "secret"
        # entry's bytes were protected by the application that stored them, so they travel under any password.
        blob = entry.sealed_blob(self) if isinstance(entry, SealedEntry) else None
        if blob is None or blob[0] != _SECRET:
            blob = self._reusable_blob(entry)
        if blob is not None and blob[0] != _KEY:
            type_, payload = blob[0], blob[1:]
        else:
            type_, payload = _SEALED, _seal(self._encoded_key(entry), self.password or "")
        return (bytes([type_]) + head + struct.pack(">i", len(chain)) + b"".join(_cert_bytes(c) for c in chain)
                + struct.pack(">i", len(payload)) + payload)

    def _encoded_key(self, entry: Entry) -> bytes:
        if entry.kind is EntryKind.SECRET_KEY:
            if entry.secret is None:
                raise UsageError("a secret-key entry needs its key", store=self.location, label=entry.label)
            return _encode_key(_KEY_SECRET, "RAW", entry.secret.algorithm, entry.secret.value)
        pkcs8 = self._pkcs8(entry)
        return _encode_key(_KEY_PRIVATE, "PKCS#8", _java_key_algorithm(pkcs8), pkcs8)

    def protection(self) -> dict[str, str]:
        """The MAC and key protection as read (BC writes 1024..2047 iterations), or what we write for a new store."""
        counts = set()
        for entry in self._entries.values():
            blob = entry.sealed_blob(self) if isinstance(entry, SealedEntry) else None
            if blob is not None and blob[0] == _SEALED:
                try:
                    reader = _Reader(blob, 1)
                    reader.chunk()
                    counts.add(reader.int())
                except _PARSE_ERRORS:
                    continue  # a damaged key is reported when it is opened, not here
        low, high = (min(counts), max(counts)) if counts else (WRITE_ITERATIONS, WRITE_ITERATIONS)
        key_counts = f"{low}" + (f"-{high}" if high != low else "")
        mac_key = "16-bit key (BKS version 1)" if self._read_version < 2 else "PKCS#12 KDF"
        return {"mac": f"HMAC-SHA1 ({mac_key}), {self._mac_iterations} iterations",
                "keys": f"PBEWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 KDF, SHA-1, 3DES), {key_counts} iterations"}


def _java_key_algorithm(pkcs8: bytes) -> str:
    """The algorithm name Java's key factories know a PKCS#8 key by (what BC's encodeKey writes)."""
    from asn1crypto import keys

    oid = keys.PrivateKeyInfo.load(pkcs8)["private_key_algorithm"]["algorithm"].dotted
    return {"1.2.840.113549.1.1.1": "RSA", "1.2.840.10045.2.1": "EC", "1.2.840.10040.4.1": "DSA",
            "1.3.101.112": "Ed25519", "1.3.101.113": "Ed448", "1.3.101.110": "X25519", "1.3.101.111": "X448",
            "1.2.840.113549.1.1.10": "RSASSA-PSS"}.get(oid, oid)


class UberStore(_BcStore):
    """Bouncy Castle's UBER: the BKS entry list with a SHA-1 digest, encrypted whole with Twofish. Read only: a
    store read from UBER is written as BKS or BCFKS (`keystores convert x.uber x.bcfks`)."""

    format: ClassVar[str] = "uber"
    display: ClassVar[str] = "UBER"

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        if writable or create:
            raise CapabilityError("write", "UBER stores are read only here; convert to BKS or BCFKS to write "
                                  "(`keystores convert STORE new.bcfks`)", store=location)
        self._iterations = 0
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    def _load(self, data: bytes) -> None:
        from keystores.legacy import pkcs12_kdf
        from keystores.twofish import Twofish

        try:
            reader = _Reader(data)
            version = reader.int()
            salt = reader.chunk()
            iterations = reader.int()
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"truncated UBER header ({one_line(exc)})", store=self.location) from exc
        if version == 0:
            raise UnsupportedFormat("UBER version 0 (Bouncy Castle before 2002, OldPBEWithSHAAndTwofish-CBC) is not "
                                    "read", store=self.location)
        if version not in (1, 2):
            raise UnsupportedFormat(f"UBER version {version} is unknown (0, 1 and 2 exist)", store=self.location)
        if len(salt) != _SALT_SIZE or not 0 <= iterations <= UBER_MAX_ITERATIONS:
            raise CorruptStore("damaged UBER header (Bouncy Castle writes a 20-byte salt and at most 65,536 "
                               "iterations)", store=self.location)
        if self.password is None:
            raise PasswordRequired("an UBER store is encrypted whole: reading it needs the store password",
                                   store=self.location)
        encrypted = data[reader.pos :]
        if not encrypted or len(encrypted) % 16:
            raise CorruptStore("damaged or truncated UBER store (the encrypted part is not whole Twofish blocks)",
                               store=self.location)
        secret = _pkcs12_password(self.password)
        key = pkcs12_kdf(secret, salt, 1, iterations, 32)
        iv = pkcs12_kdf(secret, salt, 2, iterations, 16)
        padded = Twofish(key).decrypt_cbc(iv, encrypted)
        pad = padded[-1]
        plain = padded[:-pad] if 1 <= pad <= 16 and padded[-pad:] == bytes([pad]) * pad else None
        try:
            if plain is None:
                raise ValueError("bad padding")
            records, end = _parse_entries(plain, 0)
        except KeystoreError:
            raise
        except _PARSE_ERRORS as exc:
            if _plausible_start(padded):
                raise IntegrityError(f"the password is right (the store decrypts to entries) but the store is "
                                     f"damaged ({one_line(exc)})", store=self.location) from exc
            raise WrongPassword("wrong store password, or the file is damaged (the store does not decrypt)",
                                store=self.location) from exc
        if plain[end:] != hashlib.sha1(plain[:end]).digest():
            raise IntegrityError("the password is right (the store decrypts to entries) but the store digest "
                                 "does not match: the file is damaged or was altered", store=self.location)
        self._iterations = iterations
        self._take_entries(records)

    def protection(self) -> dict[str, str]:
        return {"store": f"PBEWithSHAAndTwofish-CBC (PKCS#12 KDF, SHA-1, Twofish-256), {self._iterations} "
                         "iterations; SHA-1 digest",
                "keys": "PBEWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 KDF, SHA-1, 3DES)"}


def _plausible_start(plain: bytes) -> bool:
    """Whether decrypted bytes begin like an entry list (type, alias, time, chain length), which a wrong key
    produces with a probability far below one in a million: then damage, not the password, spoilt the rest."""
    try:
        reader = _Reader(plain)
        type_ = reader.byte()
        if type_ == 0:
            return len(plain) >= 21
        if type_ > 4:
            return False
        reader.utf()
        return 0 <= reader.long() < 1 << 42 and 0 <= reader.int() < 1000
    except _PARSE_ERRORS:
        return False
