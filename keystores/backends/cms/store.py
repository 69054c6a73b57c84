"""IBM GSKit CMS key databases: the .kdb with its companions .rdb (pending requests), .crl and .sth (stash).

Reads format versions 3, 4 and 6 and every private-key encryption GSKit, z/OS gskkyman and IBM's Java tooling
write; writes as GSKit does: untouched records stay byte for byte, a changed record is removed and appended
with the next record id, keys are encrypted with the version's native scheme, and the .rdb/.crl/.sth are
rewritten with the database when the password changes.

Options (open_store(**options)): `cms_version=3|4|6` for a new database (4 by default, as GSKit's FIPS mode
writes; 6 as gskcapicmd does); `stash=True` writes a stash beside a new database; `stash_version=1|8`.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from keystores import der
from keystores.backends.base import FileStore
from keystores.backends.cms import container as fmt
from keystores.backends.cms import stash as cms_stash
from keystores.chain import build_chain, fully_decoded
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
)
from keystores.limits import KdfBudget, VerificationBudget
from keystores.model import (
    TRUST_ALL,
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
    SealedEntry,
    SecretKey,
    Trust,
    sealed_entry,
)

if TYPE_CHECKING:
    from cryptography import x509

#: The scheme GSKit writes keys with, per format version, and how `protection()` names it.
NATIVE_KEY_SCHEME = {3: "pkcs12-3des", 4: "pkcs12-3des", 6: "pbes2-aes256-sha384"}
NATIVE_KEY_DESCRIPTION = {
    3: "PKCS#12 PBE SHA-1 3DES (GSKit raw-ASCII password), 5 iterations",
    4: "PKCS#12 PBE SHA-1 3DES (GSKit raw-ASCII password), 5 iterations",
    6: "PBES2 PBKDF2-HMAC-SHA384 AES-256-CBC, 5 iterations",
}
_NATIVE_ITERATIONS = 5
_NATIVE_SALT = 8
_KINDS = {fmt.CERTIFICATE: EntryKind.TRUSTED_CERT, fmt.KEY_PAIR: EntryKind.KEY_PAIR,
          fmt.REQUEST: EntryKind.REQUEST, fmt.SECRET: EntryKind.SECRET_KEY}


@dataclass
class _Record:
    """A record as read: where it came from, its raw slot, its parsed parts and the Entry made from it."""

    source: str  # "kdb" or "rdb"
    position: int
    raw: bytes  # the whole slot as read, padding included
    slot: fmt.Slot
    record: fmt.Record | None  # None for a slot we do not understand (kept as it is)
    entry: Entry | None


def _label_text(raw: bytes) -> str:
    raw = raw[:-1] if raw.endswith(b"\0") else raw  # KeyStore Explorer writes a NUL terminator; GSKit does not
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _primary(entry: Entry) -> object:
    """The object that identifies an entry's content across renames and flag changes."""
    if entry.request is not None:
        return entry.request
    if entry.secret is not None:
        return entry.secret
    return entry.chain[0] if entry.chain else entry


class CmsStore(FileStore):
    """A GSKit CMS key database (.kdb) and its companions beside it."""

    format: ClassVar[str] = "cms"
    capabilities: ClassVar[Capabilities] = Capabilities(default_flag=True, pending_requests=True, stash=True)

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern", cms_version: int = 4, stash: bool = False,
                 stash_version: int = 8) -> None:
        kdb = Path(location)
        self.rdb_path = kdb.with_suffix(".rdb")
        self.crl_path = kdb.with_suffix(".crl")
        self.stash_path = kdb.with_suffix(".sth")
        if cms_version not in fmt.CHECK_SIZE:
            raise UsageError(f"cms_version must be 3, 4 or 6, not {cms_version}", store=location)
        if stash_version not in (1, 8):
            raise UsageError("stash_version must be 1 or 8", store=location)
        self._new_version = cms_version
        self._stash_on_create = stash
        self._stash_version = stash_version
        self._records: list[_Record] = []
        self._kdb: fmt.Container | None = None
        self._rdb: fmt.Container | None = None
        self._originals: dict[Path, bytes] = {}
        self._crl: bytes | None = None
        self._rekey = False
        self._pending_stash: int | None = None
        self._key_schemes: set[str] = set()
        self._skipped = 0
        self._chain_labels: set[str] = set()  # signer records made from a key pair's chain this session
        self._kdf_budget = KdfBudget()  # keys are charged when their records are read, decrypted when first used
        used_stash = False
        self._loaded_password = password or ""
        if not create:
            from keystores.fileio import finish_interrupted_commit

            finish_interrupted_commit(kdb)  # a killed writer's .kdb/.rdb/.sth commit, before any of them is read
        if password is None and not create and self.stash_path.is_file():
            from keystores.fileio import read_bytes

            password = cms_stash.decode(read_bytes(self.stash_path), store=str(self.stash_path))
            self._loaded_password = password
            used_stash = True
        if password is None:
            raise PasswordRequired("a password is needed (and no stash file sits beside the database)",
                                   store=location)
        if create and not password:
            raise UsageError("a CMS key database needs a non-empty password", store=location)
        try:
            super().__init__(location, password=password, writable=writable, create=create, profile=profile)
        except WrongPassword as exc:
            if used_stash:
                raise WrongPassword(f"the password in the stash file {self.stash_path.name} does not open the "
                                    "database (stale stash?)", store=location) from exc
            raise
        if used_stash:
            self.notes.append(f"{location}: password taken from the stash file {self.stash_path}")
        if self._skipped:
            self.notes.append(f"{location}: {self._skipped} record(s) of a type we do not know are kept as they "
                              "are but not listed")

    @classmethod
    def open(cls, location: str, *, password: str | None = None, writable: bool = False, create: bool = False,
             profile: str = "modern", format_name: str | None = None, **options: Any) -> CmsStore:
        known = {"cms_version", "stash", "stash_version"}
        unknown = set(options) - known
        if unknown:
            raise UsageError(f"cms stores take no option(s) {', '.join(sorted(unknown))}; known: "
                             f"{', '.join(sorted(known))}")
        return cls(location, password=password, writable=writable, create=create, profile=profile,
                   cms_version=int(options.get("cms_version", 4)), stash=bool(options.get("stash", False)),
                   stash_version=int(options.get("stash_version", 8)))

    # --- reading -------------------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        assert self._kdb is not None
        return self._kdb.version

    def _init_new(self) -> None:
        version = self._new_version
        self._kdb = fmt.Container(version, fmt.KIND_KEYS, fmt.TAG_KDB, fmt.DEFAULT_SLOT, fmt.new_salt(), [])
        self._rdb = fmt.Container(version, fmt.KIND_OTHER, fmt.TAG_RDB, fmt.DEFAULT_SLOT, fmt.new_salt(), [])
        # GSKit creates an empty .crl beside every new database; nothing else ever fills it.
        crl = fmt.Container(version, fmt.KIND_OTHER, fmt.TAG_CRL, fmt.DEFAULT_SLOT, fmt.new_salt(), [])
        self._crl = fmt.build_container(crl, self.password or "")
        if self._stash_on_create:
            self._pending_stash = self._stash_version
        elif self.stash_path.is_file():
            # Replacing a database (convert --force): a stash left beside it must hold the new password.
            with contextlib.suppress(OSError):
                self._pending_stash = cms_stash.version_of(self.stash_path.read_bytes()) or 8

    def _load(self, data: bytes) -> None:
        from keystores.chain import quietly_decoding

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

        from keystores import pbe

        standard = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where)
        if standard is not None:
            self._key_schemes.add(NATIVE_KEY_DESCRIPTION[4])
            return
        with contextlib.suppress(ValueError, KeyError, TypeError):
            self._key_schemes.add(pbe.describe(keys.EncryptedPrivateKeyInfo.load(epki)["encryption_algorithm"]))

    def _load_certificate(self, der: bytes, label: str, where: str) -> Any:
        """The record's certificate; one cryptography refuses is kept as its bytes (keystores.undecoded), which
        are also what is written back: a certificate with NULL ECDSA parameters (some Java tooling writes them) is
        decoded through a repaired copy and keeps its bytes and its verifiable signature."""
        from keystores.chain import decode_certificate
        from keystores.undecoded import RawCertificate

        cert = decode_certificate(der)
        if isinstance(cert, RawCertificate) and cert.problem is None:
            kind = "ECDSA" if "ecdsa" in (cert.signature_algorithm_name or "").lower() else "DSA"
            self.notes.append(f"{where}: the certificate of '{label}' carries NULL {kind} parameters, which strict "
                              "parsers refuse; it is read as openssl reads it and kept as it is")
        return cert

    def _decrypt_key(self, epki: bytes, label: str, where: str, password: str) -> Any:
        """The private key of a record, under the password the database was read with."""
        from cryptography.hazmat.primitives.serialization import load_der_private_key

        from keystores import pbe

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

        from keystores import pbe

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

    # --- editing -------------------------------------------------------------------------------------------
    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if isinstance(entry.key, KeyRef):
            raise CapabilityError("extractable_keys", "the key is held on a token; a CMS database stores the key "
                                  "itself", store=self.location, label=entry.label)
        if entry.kind is EntryKind.REQUEST and (entry.request is None or entry.key is None):
            raise UsageError("a pending request needs its CSR and its private key", store=self.location,
                             label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        """Add as GSKit imports: a key pair's issuer certificates not yet present become signer records.

        An entry added later with the same certificate takes the place of a signer made from a chain this
        session (a CA's own key pair, or the CA under its own label).
        """
        self._chain_labels &= set(self._entries)  # forget ones removed or renamed since
        displaced = {label: self._entries[label] for label in self._chain_labels
                     if entry.chain and self._entries[label].chain[0] == entry.chain[0]}
        for label in displaced:
            del self._entries[label]
        try:
            super().add(entry, replace=replace)
        except BaseException:
            self._entries.update(displaced)
            raise
        for label in displaced:
            self._chain_labels.discard(label)
            self.notes[:] = [n for n in self.notes if f"signer certificate '{label}' from" not in n]
        self._chain_labels.discard(entry.label)
        if entry.kind is EntryKind.KEY_PAIR:
            present = {e.chain[0] for e in self._entries.values() if e.chain}
            for cert in entry.chain[1:]:
                if cert in present:
                    continue
                label = self._free_label(_cert_label(cert))
                self._entries[label] = Entry(label=label, kind=EntryKind.TRUSTED_CERT, chain=(cert,),
                                             trust=TRUST_ALL)
                present.add(cert)
                self._chain_labels.add(label)
                self.notes.append(f"{self.location}: added signer certificate '{label}' from the chain of "
                                  f"'{entry.label}'")

    def _free_label(self, wanted: str) -> str:
        label, n = wanted, 2
        while label in self._entries:
            label, n = f"{wanted} ({n})", n + 1
        return label

    def set_trust(self, label: str, trust: Trust | None) -> None:
        """GSKit's -modify -trust on|off for a signer certificate: one bit, for all purposes or none."""
        self._check_trust(label, trust)
        self._require_writable()
        entry = self.get(label)
        if not entry.kind.is_certificate:
            raise UsageError("trust is set on signer (CA) certificates only", store=self.location, label=label)
        trusted = trust is not None and bool(trust.purposes)  # NSS's p,p,p (distrusted) is no trust
        self._entries[entry.label] = entry.with_(trust=TRUST_ALL if trusted else None)
        self._dirty = True

    def set_password(self, new_password: str) -> None:
        """Re-encrypt every key under the new password; the .rdb, .crl and an existing stash follow on save."""
        if not new_password:
            raise UsageError("a CMS key database needs a non-empty password", store=self.location)
        super().set_password(new_password)
        self._rekey = True
        if self.stash_path.is_file() and self._pending_stash is None:
            with contextlib.suppress(OSError):
                self._pending_stash = cms_stash.version_of(self.stash_path.read_bytes()) or 8

    def write_stash(self, version: int = 8) -> None:
        """Write the stash file (on save): the database password in thin disguise, 0600."""
        self._require_writable()
        if version not in (1, 8):
            raise UsageError("stash version must be 1 or 8", store=self.location)
        self._pending_stash = version
        self._dirty = True

    def protection(self) -> dict[str, str]:
        assert self._kdb is not None
        version = self._kdb.version
        keys = sorted(self._key_schemes) or [NATIVE_KEY_DESCRIPTION[version] + " (native for new keys)"]
        found = {"format": f"GSKit CMS key database v{version}",
                 "mac": fmt.INTEGRITY_NAME[version] + " (password check and integrity check)",
                 "keys": "; ".join(keys)}
        if self.stash_path.is_file():
            with contextlib.suppress(OSError):
                found["stash"] = (f"v{cms_stash.version_of(self.stash_path.read_bytes()) or '?'} stash beside it "
                                  f"({cms_stash.WARNING})")
        return found

    # --- writing -------------------------------------------------------------------------------------------
    def _write(self) -> None:
        from keystores.fileio import atomic_write_many

        assert self._kdb is not None
        password = self.password or ""
        kdb_slots, rdb_slots = self._plan()
        files: dict[Path, tuple[bytes, bool]] = {}
        self._kdb.slots = self._fit(self._kdb, kdb_slots)
        if self._rekey:
            self._kdb.salt = fmt.new_salt()
        files[self.path] = (fmt.build_container(self._kdb, password), True)
        if self._rdb is None and rdb_slots:
            self._rdb = fmt.Container(self._kdb.version, fmt.KIND_OTHER, fmt.TAG_RDB, fmt.DEFAULT_SLOT,
                                      fmt.new_salt(), [])
        if self._rdb is not None:
            self._rdb.slots = self._fit(self._rdb, rdb_slots)
            files[self.rdb_path] = (fmt.build_container(self._rdb, password), True)
        if self._crl is not None and (self._rekey or self.crl_path not in self._originals):
            crl = fmt.parse_container(self._crl, self._crl_password(), store=str(self.crl_path))
            files[self.crl_path] = (fmt.build_container(crl, password), True)
        if self._pending_stash is not None:
            files[self.stash_path] = (cms_stash.encode(password, version=self._pending_stash), True)
        changed = {p: v for p, v in files.items() if self._originals.get(p) != v[0] or not p.exists()}
        if changed:
            atomic_write_many(changed)  # a new stash is 0600; an existing one keeps its mode and group, as the .kdb
        for path, (data, _) in files.items():
            self._originals[path] = data
        if self.crl_path in files:
            self._crl = files[self.crl_path][0]
        self._refresh_records(files)

    def _crl_password(self) -> str:
        """The password the .crl was written under: the one the database was opened with when it came from disk."""
        return self._loaded_password if self.crl_path in self._originals else (self.password or "")

    def _plan(self) -> tuple[list[bytes], list[bytes]]:
        """The slots of the .kdb and the .rdb, as GSKit would lay them out after this session's changes.

        Untouched records keep their bytes, id and place; a changed record gets the next id at the end.
        """
        by_entry = {id(r.entry): r for r in self._records if r.entry is not None}
        by_primary = {id(_primary(r.entry)): r for r in self._records if r.entry is not None}
        used: set[int] = set()
        kept: list[tuple[_Record, bytes]] = []
        changed: list[tuple[str, Entry, _Record | None]] = []
        for entry in self._entries.values():
            target = "rdb" if entry.kind is EntryKind.REQUEST else "kdb"
            record = by_entry.get(id(entry))
            if record is not None and id(record) not in used and record.source == target:
                used.add(id(record))
                if self._rekey and _holds_key(entry):
                    changed.append((target, entry, record))
                else:
                    kept.append((record, record.raw))
                continue
            changed.append((target, entry, None))
        # Second pass: renamed or re-flagged entries keep their content (and its encryption) when possible.
        resolved: list[tuple[str, Entry, _Record | None]] = []
        for target, entry, record in changed:
            if record is None:
                candidate = by_primary.get(id(_primary(entry)))
                if (candidate is not None and id(candidate) not in used and candidate.entry is not None
                        and candidate.entry.kind is entry.kind and self._same_key(candidate.entry, entry)
                        and candidate.source == target):
                    used.add(id(candidate))
                    record = candidate
            resolved.append((target, entry, record))
        for record in self._records:
            if record.entry is None:  # unknown record types survive untouched
                kept.append((record, record.raw))
        kept.sort(key=lambda item: (item[0].source, item[0].position))
        slots: dict[str, list[bytes]] = {"kdb": [], "rdb": []}
        next_id: dict[str, int] = {}
        zos: dict[str, bool] = {}
        for source in ("kdb", "rdb"):
            ids = [r.slot.record_id for r in self._records if r.source == source]
            next_id[source] = max(ids, default=0) + 1
            zos[source] = bool(ids) and all(r.slot.trailer == r.slot.record_id
                                            for r in self._records if r.source == source)
        for record, raw in kept:
            slots[record.source].append(raw)
        for target, entry, record in resolved:
            record_id = next_id[target]
            next_id[target] += 1
            slots[target].append(self._encode(entry, record, record_id, zos[target]))
        return slots["kdb"], slots["rdb"]

    def _same_key(self, a: Entry, b: Entry) -> bool:
        """Whether two entries hold the same key object, without decrypting a sealed one."""
        def identity(entry: Entry) -> object:
            if isinstance(entry, SealedEntry) and entry.sealed:
                return entry.sealed_blob(self)
            return entry.secret if entry.kind is EntryKind.SECRET_KEY else entry.key

        return identity(a) is identity(b)

    def _encode(self, entry: Entry, old: _Record | None, record_id: int, zos: bool) -> bytes:
        """The slot body of `entry` with the new id; `old` is the record it came from (content kept if it can)."""
        from cryptography.hazmat.primitives import serialization

        label = entry.label.encode("utf-8")
        keep_content = old is not None and old.record is not None and not (self._rekey and _holds_key(entry))
        trailer = record_id if zos else 0
        if keep_content:
            assert old is not None and old.record is not None
            content, hashes, trusted = old.record.content, old.slot.hashes, old.record.trusted
            if old.slot.trailer == 20 and entry.kind is EntryKind.REQUEST:
                trailer, hashes = 20, _request_hash(old)
        else:
            hashes, trusted = b"", True
            if entry.kind.is_certificate:
                cert_der = entry.chain[0].public_bytes(serialization.Encoding.DER)
                content = der.tlv(0xA1, cert_der)
                hashes = fmt.certificate_hashes(cert_der, store=self.location)
            elif entry.kind is EntryKind.KEY_PAIR:
                if old is not None and old.record is not None and old.entry is not None \
                        and old.entry.chain[0] is entry.chain[0]:
                    # Re-keyed only: keep the certificate's own bytes (a non-DER original stays as it was).
                    cert_der, hashes = old.record.parts(store=self.location)[0], old.slot.hashes
                else:
                    cert_der = entry.chain[0].public_bytes(serialization.Encoding.DER)
                    hashes = fmt.certificate_hashes(cert_der, store=self.location)
                content = der.tlv(0xA2, der.tlv(0x30, cert_der + self._encrypt_key(entry)))
            elif entry.kind is EntryKind.REQUEST:
                assert entry.request is not None
                csr_der = entry.request.public_bytes(serialization.Encoding.DER)
                content = der.tlv(0xA0, der.tlv(0x30, csr_der + self._encrypt_key(entry)))
                trailer, hashes = fmt.request_tail(csr_der, store=self.location)
            else:
                assert entry.secret is not None
                content = der.tlv(0xA3, self._encrypt_secret(entry.secret.value))
        if entry.kind.is_certificate:
            trusted = entry.trust is not None
        record = fmt.Record(record_id, content[0] & 0x1F, content, label, trusted, entry.default)
        slot = fmt.Slot(1, record_id, fmt.build_record(record), label, trailer, hashes)
        return fmt.slot_body(slot)

    def _encrypt_key(self, entry: Entry) -> bytes:
        from cryptography.hazmat.primitives import serialization

        from keystores import pbe

        assert self._kdb is not None
        pkcs8 = entry.key.private_bytes(serialization.Encoding.DER,  # type: ignore[union-attr]
                                        serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        scheme = NATIVE_KEY_SCHEME[self._kdb.version]
        epki = pbe.encrypt_pkcs8(pkcs8, self.password or "", scheme=scheme, iterations=_NATIVE_ITERATIONS,
                                 salt_length=_NATIVE_SALT, raw_password=True)
        if scheme == "pkcs12-3des":  # GSKit's own OID says "raw password"; the standard one means BMPString
            epki = fmt.replace_epki_oid(epki, fmt.PKCS12_3DES_OID, fmt.GSKIT_3DES_OID) or epki
            note = (f"{self.location}: keys in a v{self._kdb.version} CMS database are encrypted as GSKit does "
                    "(3DES, SHA-1 key derivation, 5 iterations); a v6 database (cms_version=6) uses AES-256")
            if note not in self.notes:
                self.notes.append(note)
        return epki

    def _encrypt_secret(self, value: bytes) -> bytes:
        from keystores import pbe

        assert self._kdb is not None
        scheme = NATIVE_KEY_SCHEME[self._kdb.version]
        alg, ciphertext = pbe.encrypt_with(scheme, value, self.password or "", iterations=_NATIVE_ITERATIONS,
                                           salt_length=_NATIVE_SALT, raw_password=True)
        epki = der.tlv(0x30, alg + der.tlv(0x04, ciphertext))
        if scheme == "pkcs12-3des":
            epki = fmt.replace_epki_oid(epki, fmt.PKCS12_3DES_OID, fmt.GSKIT_3DES_OID) or epki
        return epki

    def _fit(self, container: fmt.Container, slots: list[bytes]) -> list[bytes]:
        """Pad every slot to one size, growing the size (as GSKit does) when a record needs more room."""
        needed = max((len(s) for s in slots), default=0)
        container.slot_size = fmt.grown_slot_size(container.slot_size, needed)
        return [fmt.pad_slot(s, container.slot_size) for s in slots]

    def _refresh_records(self, files: dict[Path, tuple[bytes, bool]]) -> None:
        """After a write the files on disk are the new baseline (a second save writes only new changes)."""
        self._records = []
        self._loaded_password = self.password
        saved = dict(self._entries)
        self._entries = {}
        self._skipped = 0
        for source, path in (("kdb", self.path), ("rdb", self.rdb_path)):
            if path not in files:
                continue
            container = self._kdb if source == "kdb" else self._rdb
            assert container is not None
            for position, raw in enumerate(container.slots):
                if raw[:4] != b"\0\0\0\1":
                    kept = fmt.Slot(int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:8], "big"), b"", b"", 0,
                                    b"")
                    self._records.append(_Record(source, position, raw, kept, None, None))
                    continue
                slot = fmt.parse_slot(raw, store=str(path))
                record = fmt.parse_record(slot.der, store=str(path)) if slot.slot_type == 1 else None
                label = _label_text(slot.label)
                entry = saved.get(label) if record is not None and record.content_tag in _KINDS else None
                self._records.append(_Record(source, position, raw, slot, record, entry))
        self._entries = saved
        self._rekey = False
        self._pending_stash = None


def _request_hash(record: _Record) -> bytes:
    """The SHA-1 GSKit keeps after a request record's label (the slot parser reads its length as the trailer)."""
    slot = record.slot
    start = 12 + len(slot.der) + 4 + len(slot.label) + 4
    return record.raw[start:start + 20]



def _holds_key(entry: Entry) -> bool:
    return entry.kind in (EntryKind.KEY_PAIR, EntryKind.REQUEST, EntryKind.SECRET_KEY)


def _guess_secret_algorithm(value: bytes) -> str:
    # The record carries no algorithm name; the length is all there is to go on.
    return "AES" if len(value) in (16, 24, 32) else "GENERIC"


def _cert_label(cert: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    text = names[0].value if names else cert.subject.rfc4514_string()
    return str(text) or "signer"



__all__ = ["CmsStore"]
