"""The entry list BKS and UBER share (BcKeyStoreSpi's loadStore/saveStore), and _BcStore, which turns it into entries.

An entry: byte type, modified-UTF-8 alias, long creation time (ms), int chain length, the chain (each certificate:
UTF type "X.509", int length, DER), then by type: 1 certificate: one more certificate; 2 key: the key in the clear;
3 secret: int length and bytes an application protected itself (KeyStore.setKeyEntry(alias, byte[], chain)); 4
sealed: int length and [int salt length, salt, int iterations, PBEWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 KDF, SHA-1,
3-key 3DES-CBC) over the key]. A key (clear or sealed) is: byte 0 private / 1 public / 2 secret, UTF format
("PKCS#8", "X.509" or "RAW"), UTF algorithm, int length, encoding.

Entries holding a bare public key (type 2/4 with key type 1) have no place in the keystores model: they are named
in the notes and written back unchanged.
"""

from __future__ import annotations

import struct
from typing import Any

from keystores.backends.bouncycastle import BouncyCastleFileStore
from keystores.backends.java_data import PARSE_ERRORS, JavaDate, read_utf, write_utf
from keystores.errors import (
    CorruptStore,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    WrongPassword,
    one_line,
)
from keystores.lazy_entries import LazyEntry, sealed_entry
from keystores.limits import MAX_ITERATIONS  # the ceiling every parser applies (a header cannot ask for 2**31)
from keystores.model import TRUST_ALL, Entry, EntryKind, SecretKey

_CERTIFICATE, _KEY, _SECRET, _SEALED = 1, 2, 3, 4
_KEY_PRIVATE, _KEY_PUBLIC, _KEY_SECRET = 0, 1, 2


#: Keys tried to tell a wrong password from damage cost at most this many rounds (BC writes 1024..2047, we 10,000).
_PROOF_MAX_ITERATIONS = 100_000


#: What we write: PKCS#12 (modern profile) uses the same count; BC itself writes 1024..2047.
WRITE_ITERATIONS = 10_000
_SALT_SIZE = 20


# What BKS and UBER protect each key with: PBEWithSHAAnd3-KeyTripleDES-CBC.
_KEY_ALGORITHMS = ("PKCS#12 KDF", "SHA-1", "3DES")


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
        text, self.pos = read_utf(self.data, self.pos)
        return text

    def chunk(self) -> bytes:
        size = self.int()
        if size < 0 or size > len(self.data) - self.pos:
            raise ValueError(f"length field {size} at offset {self.pos - 4} runs past the end of the data")
        self.pos += size
        return self.data[self.pos - size : self.pos]


def _pkcs12_password(password: str) -> bytes:
    """BC's PBEParametersGenerator.PKCS12PasswordToBytes: BMPString with a NUL terminator, empty for ""."""
    from keystores.crypto.kdf import bmp_password

    return bmp_password(password) if password else b""


def _decode_key(data: bytes) -> tuple[int, str, str, bytes]:
    """(key type, format, algorithm, encoding) of an encoded key (BcKeyStoreSpi.encodeKey)."""
    reader = _Reader(data)
    key_type = reader.byte()
    key_format = reader.utf()
    algorithm = reader.utf()
    encoding = reader.chunk()
    return key_type, key_format, algorithm, encoding


_PKCS12_3DES = "1.2.840.113549.1.12.1.3"  # pbeWithSHAAnd3-KeyTripleDES-CBC


def _encode_key(key_type: int, key_format: str, algorithm: str, encoding: bytes) -> bytes:
    return (bytes([key_type]) + write_utf(key_format) + write_utf(algorithm)
            + struct.pack(">i", len(encoding)) + encoding)


def _tdes_alg(salt: bytes, iterations: int) -> bytes:
    """The AlgorithmIdentifier (DER) of PBEWithSHAAnd3-KeyTripleDES-CBC with these parameters, for
    keystores.crypto.pbe (which reads it without asn1crypto: keystores.crypto.pbe_params)."""
    from keystores.crypto import der

    return der.sequence(der.oid(_PKCS12_3DES), der.sequence(der.octet_string(salt), der.integer(iterations)))


def _unseal(blob: bytes, password: str) -> tuple[int, str, str, bytes]:
    """The encoded key inside a sealed (type 4) entry; WrongPassword when the password does not open it."""
    from keystores.crypto import pbe

    reader = _Reader(blob)
    salt = reader.chunk()
    iterations = reader.int()
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise ValueError(f"implausible key iteration count {iterations}")
    plain = pbe.decrypt_with(_tdes_alg(salt, iterations), blob[reader.pos :], password)
    try:
        decoded = _decode_key(plain)
    except PARSE_ERRORS as exc:
        # 3DES padding comes out right by chance for 1 in 256 wrong passwords: then the key encoding does not parse.
        raise WrongPassword("wrong password (the decrypted key is not a key)") from exc
    if decoded[0] not in (_KEY_PRIVATE, _KEY_PUBLIC, _KEY_SECRET):
        raise WrongPassword("wrong password (the decrypted key is not a key)")
    return decoded


def _seal(encoded_key: bytes, password: str) -> bytes:
    """A sealed entry's bytes: PBEWithSHAAnd3-KeyTripleDES-CBC with a 20-byte salt, as BC writes it."""
    from keystores.crypto import pbe
    from keystores.crypto.pbe_params import common

    # BC turns an empty password into no bytes at all, not a BMPString's terminator: raw "" is exactly that.
    alg_der, encrypted = pbe.encrypt_with("pkcs12-3des", encoded_key, password, iterations=WRITE_ITERATIONS,
                                          salt_length=_SALT_SIZE, raw_password=password == "")
    params = common(alg_der)  # what encrypt_with wrote: read by keystores.crypto.pbe_params, always
    assert params is not None
    return struct.pack(">i", len(params.salt)) + params.salt + struct.pack(">i", params.iterations) + encrypted


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
        # the date is made on first use, and a rewrite writes it back as read (java_data.written_millis)
        created = JavaDate(record.millis)
        label = record.alias
        if record.type == _CERTIFICATE:
            der = record.payload
            return LazyEntry.lazy({"chain": lambda: (self._certificate(der, label),), "created": created},
                                  leaf_der=der, chain_der=(der,), label=label, kind=EntryKind.TRUSTED_CERT,
                                  trust=TRUST_ALL)
        chain = tuple(record.chain)  # DER, decoded on first use of the entry's `chain` (as above)
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
        if not chain:
            return sealed_entry(unseal, blob, self, label=label, kind=kind, created_loader=created)
        return sealed_entry(unseal, blob, self, chain_loader=lambda: tuple(self._certificate(der, label)
                                                                           for der in chain),
                            leaf_der=chain[0], chain_der=chain, label=label, kind=kind, created_loader=created)

    def _open_sealed(self, payload: bytes, password: str | None, label: str) -> Any:
        if password is None:
            raise PasswordRequired("opening a key needs the store password", store=self.location, label=label)
        try:
            decoded = _unseal(payload, password)
        except WrongPassword as exc:
            raise WrongPassword("the store password does not open this key (or the key is damaged)",
                                store=self.location, label=label) from exc
        except (CorruptStore, *PARSE_ERRORS) as exc:
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

        from keystores.crypto.key_encoding import load_der_private_key

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
            except (KeystoreError, *PARSE_ERRORS):
                continue
            return record.alias
        return None
