"""Reading a CMS key database: the .kdb's (and .rdb's) slots -> records -> entries; see container.py for the bytes."""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keystores.backends.cms import container as fmt
from keystores.backends.cms.records import _KINDS, NATIVE_KEY_DESCRIPTION, _label_text, _Record
from keystores.errors import (
    CorruptStore,
    KeystoreError,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.lazy_entries import sealed_entry
from keystores.limits import VerificationBudget
from keystores.model import TRUST_ALL, Entry, EntryKind, SecretKey
from keystores.pki.certificates import fully_decoded
from keystores.pki.chain import build_chain

if TYPE_CHECKING:
    from cryptography import x509


def _guess_secret_algorithm(value: bytes) -> str:
    # The record carries no algorithm name; the length is all there is to go on.
    return "AES" if len(value) in (16, 24, 32) else "GENERIC"


class CmsReading:
    """The reading half of CmsStore: the .kdb (and .rdb) slots -> records -> entries, keys decrypted on first use."""

    def _load(self, data: bytes) -> None:
        from keystores.pki.certificates import quietly_decoding

        with quietly_decoding():  # old CA certificates with negative serial numbers are common in CMS databases
            self._load_files(data)

    def _load_files(self, data: bytes) -> None:
        from keystores.fileio import read_bytes

        password = self.password or ""
        self._originals[self.path] = data
        kdb = fmt.parse_container(data, password, store=str(self.path))
        if kdb.tag != fmt.TAG_KDB:
            raise UnsupportedFormat("is a GSKit request or CRL database; open the .kdb beside it instead",
                                    store=str(self.path))
        self._kdb = kdb
        for position, raw in enumerate(kdb.slots):
            self._read_slot("kdb", position, raw, self.path)
        if self.rdb_path.is_file():
            try:
                self._load_requests(read_bytes(self.rdb_path), password)
            except KeystoreError as exc:
                if self.writable:
                    raise
                # Reading the key database does not need its requests: list what can be listed, and say so.
                self._rdb = None
                self._records = [r for r in self._records if r.source == "kdb"]
                self._entries = {r.entry.label: r.entry for r in self._records if r.entry is not None}
                self.notes.append(f"{self.rdb_path}: pending requests not read ({exc.reason})")
        if self.crl_path.is_file() and self.writable:
            self._crl = read_bytes(self.crl_path)
            self._originals[self.crl_path] = self._crl
        self._link_chains()

    def _load_requests(self, rdb_bytes: bytes, password: str) -> None:
        self._originals[self.rdb_path] = rdb_bytes
        self._rdb = fmt.parse_container(rdb_bytes, password, store=str(self.rdb_path))
        for position, raw in enumerate(self._rdb.slots):
            self._read_slot("rdb", position, raw, self.rdb_path)

    def _read_slot(self, source: str, position: int, raw: bytes, path: Path) -> None:
        where = str(path)
        if len(raw) >= 8 and raw[:4] != b"\0\0\0\1":
            # A slot type we do not know: its layout past the id is unknown, so it is kept whole.
            unknown = fmt.Slot(int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:8], "big"), b"", b"", 0, b"")
            self._skipped += 1
            self._records.append(_Record(source, position, raw, unknown, None, None))
            return
        slot = fmt.parse_slot(raw, store=where)
        record: fmt.Record | None = None
        entry: Entry | None = None
        if slot.slot_type == 1:
            record = fmt.parse_record(slot.der, store=where)
            if record.content_tag in _KINDS:
                entry = self._entry_from(record, _label_text(slot.label), where)
        if entry is None:
            self._skipped += 1
        elif not entry.label:
            raise CorruptStore(f"record {record.record_id if record else '?'} has an empty label", store=where)
        elif entry.label in self._entries:
            raise CorruptStore("two records have the same label", store=where, label=entry.label)
        else:
            self._entries[entry.label] = entry
        self._records.append(_Record(source, position, raw, slot, record, entry))

    def _entry_from(self, record: fmt.Record, label: str, where: str) -> Entry:
        """The entry of one record. Keys stay sealed until a command uses them (`list` decrypts nothing); their
        parameters are checked against keystores.limits here."""
        from cryptography import x509
        from cryptography.exceptions import UnsupportedAlgorithm

        password = self.password or ""
        try:
            parts = record.parts(store=where)
            kind = _KINDS[record.content_tag]
            if kind is EntryKind.SECRET_KEY:
                self._note_protection(parts[0], label, where)
                return sealed_entry(functools.partial(self._open_secret, parts[0], label, where, password),
                                    parts[0], self, label=label, kind=kind, default=record.default)
            if len(parts) != (1 if kind is EntryKind.TRUSTED_CERT else 2):
                raise CorruptStore("damaged record (unexpected number of parts)", store=where, label=label)
            if kind is EntryKind.REQUEST:
                csr = fully_decoded(x509.load_der_x509_csr(parts[0]))
                self._note_protection(parts[1], label, where)
                return sealed_entry(functools.partial(self._decrypt_key, parts[1], label, where, password),
                                    parts[1], self, label=label, kind=kind, request=csr, default=record.default)
            cert = self._load_certificate(parts[0], label, where)
            if kind is EntryKind.TRUSTED_CERT:
                return Entry(label=label, kind=kind, chain=(cert,), trust=TRUST_ALL if record.trusted else None,
                             default=record.default)
            self._note_protection(parts[1], label, where)
            return sealed_entry(functools.partial(self._decrypt_key, parts[1], label, where, password),
                                parts[1], self, label=label, kind=kind, chain=(cert,), default=record.default)
        except KeystoreError:
            raise
        except UnsupportedAlgorithm as exc:
            raise UnsupportedFormat(f"a key or signature algorithm we do not read ({exc})", store=where,
                                    label=label) from exc
        except (ValueError, TypeError, IndexError, x509.InvalidVersion) as exc:
            raise CorruptStore(f"damaged record ({exc.__class__.__name__})", store=where, label=label) from exc

    def _note_protection(self, epki: bytes, label: str, where: str) -> None:
        """Note how a key is protected (parameters are checked against keystores.limits when it is opened)."""
        from asn1crypto import keys

        from keystores.crypto import pbe

        standard = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where)
        if standard is not None:
            self._key_schemes.add(NATIVE_KEY_DESCRIPTION[4])
            return
        with contextlib.suppress(ValueError, KeyError, TypeError):
            self._key_schemes.add(pbe.describe(keys.EncryptedPrivateKeyInfo.load(epki)["encryption_algorithm"]))

    def _load_certificate(self, der: bytes, label: str, where: str) -> Any:
        """The record's certificate; one cryptography refuses is kept as its bytes (keystores.pki.undecoded), which
        are also what is written back: a certificate with NULL ECDSA parameters (some Java tooling writes them) is
        decoded through a repaired copy and keeps its bytes and its verifiable signature."""
        from keystores.pki.certificates import decode_certificate
        from keystores.pki.undecoded import RawCertificate

        cert = decode_certificate(der)
        if isinstance(cert, RawCertificate) and cert.problem is None:
            kind = "ECDSA" if "ecdsa" in (cert.signature_algorithm_name or "").lower() else "DSA"
            self.notes.append(f"{where}: the certificate of '{label}' carries NULL {kind} parameters, which strict "
                              "parsers refuse; it is read as openssl reads it and kept as it is")
        return cert

    def _decrypt_key(self, epki: bytes, label: str, where: str, password: str) -> Any:
        """The private key of a record, under the password the database was read with."""
        from cryptography.hazmat.primitives.serialization import load_der_private_key

        from keystores.crypto import pbe

        # GSKit marks its raw-password 3DES scheme with its own OID; pbe knows the standard one.
        standard = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where)
        try:
            # GSKit feeds the password to the PKCS#12 KDF as raw bytes; IBM's Java tooling as a BMPString.
            plain = pbe.decrypt_pkcs8(standard or epki, password, raw_password=True, budget=self._kdf_budget)
        except WrongPassword:
            try:
                plain = pbe.decrypt_pkcs8(epki, password, raw_password=False, budget=self._kdf_budget)
            except WrongPassword as exc:
                raise CorruptStore("the private key does not decrypt with the database's password",
                                   store=where, label=label) from exc
        except KeystoreError as exc:
            exc.store, exc.label = where, label
            raise
        try:
            # The integrity check has passed, so these are the bytes the database's writer stored; cryptography's
            # RSA validation would cost over a second per 4096-bit key (the z/OS sample) and proves nothing more.
            return load_der_private_key(plain, None, unsafe_skip_rsa_key_validation=True)
        except (ValueError, TypeError) as exc:
            raise UnsupportedFormat(f"private key type not supported ({exc})", store=where, label=label) from exc

    def _open_secret(self, epki: bytes, label: str, where: str, password: str) -> SecretKey:
        from asn1crypto import keys

        from keystores.crypto import pbe

        epki = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where) or epki
        try:
            info = keys.EncryptedPrivateKeyInfo.load(epki)
            alg, data = info["encryption_algorithm"], info["encrypted_data"].native
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStore("damaged secret key record", store=where, label=label) from exc
        try:
            value = pbe.decrypt_with(alg, data, password, raw_password=True, budget=self._kdf_budget)
        except WrongPassword as exc:
            raise CorruptStore("the secret key does not decrypt with the database's password",
                               store=where, label=label) from exc
        except KeystoreError as exc:
            exc.store, exc.label = where, label
            raise
        return SecretKey(_guess_secret_algorithm(value), value)

    def _link_chains(self) -> None:
        """Key pairs get their chain: the leaf, then the certificates in this database that issued it (signer
        records, or a CA's own personal certificate)."""
        if not any(e.kind is EntryKind.KEY_PAIR for e in self._entries.values()):
            return
        signers: dict[bytes, list[x509.Certificate]] = {}
        for entry in self._entries.values():
            if entry.kind is EntryKind.KEY_PAIR or entry.kind.is_certificate:
                cert = entry.chain[0]
                signers.setdefault(cert.subject.public_bytes(), []).append(cert)
        verifications = VerificationBudget()
        for record in self._records:
            entry = record.entry
            if entry is None or entry.kind is not EntryKind.KEY_PAIR:
                continue
            linked = entry.with_(chain=build_chain(entry.chain[0],
                                                   lambda cert: signers.get(cert.issuer.public_bytes(), []),
                                                   verifications))
            record.entry = linked
            self._entries[entry.label] = linked
        note = verifications.note(self.location)
        if note is not None:
            self.notes.append(note)
