"""Mozilla NSS "sql:" databases (cert9.db + key4.db), read and written in pure Python.

Address: `sql:DIR` or a folder holding cert9.db/key4.db. Opening takes one SELECT per object table; entries are
LazyEntry objects whose chain, key and trust are read on first access: a certificate is decoded when the chain is
read, a private key decrypted when the key is, and integrity MACs are checked when what they cover is read (the
MAC items themselves on the first check), whenever the password (or an empty one) is known, as NSS checks them.
Without the password the keys show as locked KeyRefs (listing needs no password, as with certutil -L).

Writes happen in place inside one sqlite transaction over both files (key4.db with cert9.db attached), so a
process that has the database open (certutil, a browser) keeps a consistent view. Another writer makes us roll
back, release every lock and retry for `lock_wait` seconds before StoreLocked; Firefox's profile lock is refused
outright. The previous cert9.db is kept as cert9.db.bak; key4.db never is (a copy would keep keys the user deleted
or re-protected), and a key4.db.bak an earlier version left is removed.
Chain certificates without trust that only serve a key pair's chain are shown inside that chain, not as entries.
Options: none (profile "compat" encrypts keys as NSS < 3.49 did: SHA-1 + 3DES).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from keystores.backends.base import BaseStore
from keystores.backends.nss import crypto as nc
from keystores.backends.nss import db
from keystores.backends.nss import trust as nt
from keystores.chain import decode_certificate, fully_decoded, serial_of
from keystores.der import integer as der_integer
from keystores.der import oid as der_oid
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    EntryExists,
    EntryNotFound,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    StoreLocked,
    StoreNotFound,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
)
from keystores.limits import KdfBudget, LimitExceeded, VerificationBudget, suspicious
from keystores.model import Capabilities, Entry, EntryKind, KeyRef, LazyEntry, UniqueLabels

_PUBLIC_WANTED = [db.CKA_CLASS, db.CKA_LABEL, db.CKA_VALUE, db.CKA_ISSUER, db.CKA_SERIAL_NUMBER, db.CKA_SUBJECT,
                  db.CKA_ID, db.CKA_TRUST_SERVER_AUTH, db.CKA_TRUST_CLIENT_AUTH, db.CKA_TRUST_EMAIL_PROTECTION,
                  db.CKA_TRUST_CODE_SIGNING, db.CKA_TRUST_STEP_UP_APPROVED, db.CKA_CERT_SHA1_HASH,
                  db.CKA_CERT_MD5_HASH, db.CKA_PKCS_TRUST_SERVER_AUTH, db.CKA_PKCS_TRUST_CLIENT_AUTH,
                  db.CKA_PKCS_TRUST_EMAIL_PROTECTION, db.CKA_PKCS_TRUST_CODE_SIGNING, db.CKA_HASH_OF_CERTIFICATE,
                  db.CKA_NAME_HASH_ALGORITHM]
_PRIVATE_WANTED = [db.CKA_CLASS, db.CKA_LABEL, db.CKA_KEY_TYPE, db.CKA_ID, db.CKA_VALUE, db.CKA_MODULUS,
                   db.CKA_PUBLIC_EXPONENT, db.CKA_PRIVATE_EXPONENT, db.CKA_PRIME_1, db.CKA_PRIME_2,
                   db.CKA_EXPONENT_1, db.CKA_EXPONENT_2, db.CKA_COEFFICIENT, db.CKA_EC_PARAMS, db.CKA_NSS_DB,
                   db.CKA_PRIME, db.CKA_SUBPRIME, db.CKA_BASE]
_NSS_TRUST_ATTRS = {"server": db.CKA_TRUST_SERVER_AUTH, "client": db.CKA_TRUST_CLIENT_AUTH,
                    "email": db.CKA_TRUST_EMAIL_PROTECTION, "code": db.CKA_TRUST_CODE_SIGNING}
_PKCS_TRUST_ATTRS = {"server": db.CKA_PKCS_TRUST_SERVER_AUTH, "client": db.CKA_PKCS_TRUST_CLIENT_AUTH,
                     "email": db.CKA_PKCS_TRUST_EMAIL_PROTECTION, "code": db.CKA_PKCS_TRUST_CODE_SIGNING}
_LEVEL_ATTRS = (*_NSS_TRUST_ATTRS.values(), *_PKCS_TRUST_ATTRS.values(), db.CKA_TRUST_STEP_UP_APPROVED)
_TRUST_MACED = (*_NSS_TRUST_ATTRS.values(), *_PKCS_TRUST_ATTRS.values(), db.CKA_TRUST_STEP_UP_APPROVED,
                db.CKA_CERT_SHA1_HASH, db.CKA_CERT_MD5_HASH, db.CKA_HASH_OF_CERTIFICATE, db.CKA_NAME_HASH_ALGORITHM)
_ATTR_NAMES = {db.CKA_VALUE: "CKA_VALUE", db.CKA_MODULUS: "CKA_MODULUS", db.CKA_PUBLIC_EXPONENT:
               "CKA_PUBLIC_EXPONENT", db.CKA_PRIVATE_EXPONENT: "CKA_PRIVATE_EXPONENT", db.CKA_PRIME_1: "CKA_PRIME_1",
               db.CKA_PRIME_2: "CKA_PRIME_2", db.CKA_EXPONENT_1: "CKA_EXPONENT_1", db.CKA_EXPONENT_2: "CKA_EXPONENT_2",
               db.CKA_COEFFICIENT: "CKA_COEFFICIENT"}
_CURVES = {"secp256r1": "1.2.840.10045.3.1.7", "secp384r1": "1.3.132.0.34", "secp521r1": "1.3.132.0.35"}


class _Cert:
    __slots__ = ("ckaid", "der", "id", "issuer", "label", "serial", "subject")

    def __init__(self, row: db.Row) -> None:
        self.id = row.id
        self.label = (row.get(db.CKA_LABEL) or b"").decode("utf-8", "replace")
        self.der = row.get(db.CKA_VALUE) or b""
        self.issuer = row.get(db.CKA_ISSUER) or b""
        self.serial = row.get(db.CKA_SERIAL_NUMBER) or b""
        self.subject = row.get(db.CKA_SUBJECT) or b""
        self.ckaid = row.get(db.CKA_ID) or b""


def _folder_of(location: str) -> Path:
    return Path(location[4:] if location.startswith("sql:") else location)


def browser_lock(folder: Path) -> str | None:
    """Why a running application holds this profile folder (Firefox's lock files), or None."""
    link = folder / "lock"
    if link.is_symlink():
        target = os.readlink(link)
        pid_text = target.rpartition("+")[2]
        if pid_text.isdigit():
            try:
                os.kill(int(pid_text), 0)
                return f"a running browser (pid {pid_text}) holds the profile lock"
            except ProcessLookupError:
                pass
            except PermissionError:
                return f"a running browser (pid {pid_text}) holds the profile lock"
    parent = folder / ".parentlock"
    if parent.exists():
        try:
            fd = os.open(parent, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.lockf(fd, fcntl.LOCK_UN)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EAGAIN):
                return "a running browser holds the profile lock (.parentlock)"
        finally:
            os.close(fd)
    return None


class NssStore(BaseStore):
    """An NSS sql: database as a key store."""

    format: ClassVar[str] = "nss"
    capabilities: ClassVar[Capabilities] = Capabilities(private_keys=True, extractable_keys=True, secret_keys=False,
                                                        trust=True, trust_purposes=True, default_flag=False,
                                                        pending_requests=False, bare_keys=True)
    #: Seconds a write waits for other writers (NSS tools, browsers) before StoreLocked.
    lock_wait: ClassVar[float] = 10.0

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        super().__init__(location, writable=writable, profile=profile)
        self.folder = _folder_of(location)
        self.cert_db = self.folder / "cert9.db"
        self.key_db = self.folder / "key4.db"
        self._password = password
        self._lock: contextlib.ExitStack | None = None
        self._ops: list[tuple[str, Any]] = []
        self._pass_key: bytes | None = None
        self._empty_password_untried = False  # see _check_password
        self._macs: nc.MacChecker | None = None  # checks MACs under _pass_key (made again when that changes)
        self._kdf_budget = KdfBudget()  # derivations above NSS's own iteration count, for this database in total
        self._verifications = VerificationBudget()  # signature checks of chain building, for all entries
        self._by_subject: dict[bytes, list[_Cert]] | None = None  # _certs by subject, made on first use
        self._levels_cache: dict[tuple[bytes | None, ...], nt.Levels] = {}
        self._trust_models: dict[tuple[nt.Levels | None, bool, bool], Any] = {}
        self._unverified_noted = False
        self._global_salt = b""
        self._iterations = nc.DEFAULT_ITERATIONS
        self._password_check: bytes | None = None
        self._meta: dict[str, bytes] | None = None  # MAC items, read on first use (_mac_items)
        self._versions: tuple[bytes, bytes] | None = None  # file change counters when the objects were read
        self._certs: dict[int, _Cert] = {}
        self._decoded: dict[int, Any] = {}  # certificate object id -> its decoded certificate
        self._trust: dict[tuple[bytes, bytes], db.Row] = {}
        self._keys: dict[bytes, db.Row] = {}
        self._pubkeys: dict[bytes, list[int]] = {}
        self._entry_cert: dict[str, int] = {}  # label -> certificate object id (for entries read from disk)
        self._chain_only: set[int] = set()  # chain-only certificates read from disk
        self._chain_written: set[int] = set()  # chain certificates this write inserted (no entry of their own)
        self._new = create
        try:
            if not create and self.folder.is_dir():
                from keystores.fileio import finish_interrupted_commit

                finish_interrupted_commit(self.folder)  # a killed writer's cert9.db/key4.db commit
            if writable:
                from keystores.fileio import folder_lock

                self._lock = contextlib.ExitStack()
                self._lock.enter_context(folder_lock(self.folder if self.folder.is_dir() else self.folder.parent))
                reason = browser_lock(self.folder) if self.folder.is_dir() else None
                if reason:
                    raise StoreLocked(f"{reason}; close it before changing the database", store=location)
            if create:
                self._init_new(password)
            else:
                self._load()
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, location: str, *, password: str | None = None, writable: bool = False, create: bool = False,
             profile: str = "modern", format_name: str | None = None, **options: Any) -> NssStore:
        if options:
            raise UsageError(f"nss stores take no option(s) {', '.join(sorted(options))}")
        return cls(location, password=password, writable=writable, create=create, profile=profile)

    # --- opening -------------------------------------------------------------------------------------------
    def _init_new(self, password: str | None) -> None:
        if self.cert_db.exists():
            raise KeystoreError("a database exists already", store=self.location)
        self._new_password(password or "")
        self._meta = {}
        self._dirty = True

    def _new_password(self, password: str) -> None:
        self._global_salt = os.urandom(20)
        self._pass_key = nc.pass_key(self._global_salt, password)
        self._iterations = nc.DEFAULT_ITERATIONS if password else 1
        self._password_check = nc.encrypt_value(b"password-check", self._pass_key, iterations=self._iterations,
                                                legacy=self._legacy)

    @property
    def uses_password(self) -> bool:
        """NSS databases may have an empty password (certutil -N --empty-password): then none is used."""
        return bool(self._password)

    @property
    def _legacy(self) -> bool:
        return self.profile == "compat"

    def _connect(self, *, writable: bool) -> sqlite3.Connection:
        try:
            # Readers (and ATTACH) wait for a commit in progress; writers shorten this in _write_in_place.
            conn = sqlite3.connect(db.db_uri(self.key_db, writable=writable), uri=True, timeout=5.0,
                                   isolation_level=None)
            conn.execute("ATTACH DATABASE ? AS cert", (db.db_uri(self.cert_db, writable=writable),))
            return conn
        except sqlite3.Error as exc:
            raise self._sql_error(exc, "open") from exc
        except UnicodeError as exc:  # a damaged header can declare a text encoding the file does not use
            raise CorruptStore(f"cert9.db/key4.db is damaged ({exc})", store=self.location) from exc

    def _sql_error(self, exc: sqlite3.Error, doing: str) -> KeystoreError:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            return StoreLocked(f"another process is writing the database ({exc}); try again when it is done",
                               store=self.location)
        if "not a database" in text or "malformed" in text or "no such table" in text or "corrupt" in text:
            return CorruptStore(f"cert9.db/key4.db is damaged or not an NSS database ({exc})", store=self.location)
        if "readonly" in text.replace(" ", ""):
            return KeystoreError(f"cannot {doing} the database: {exc} (no write access; an interrupted write "
                                 "can only be rolled back by a process that may write the files)", store=self.location)
        if "unable to open" in text:
            return KeystoreError(f"cannot {doing} the database: {exc}", store=self.location)
        return CorruptStore(f"cannot {doing} the database: {exc}", store=self.location)

    def _load(self) -> None:
        if not self.folder.is_dir():
            raise StoreNotFound("no such folder", store=self.location)
        if not self.cert_db.exists():
            if (self.folder / "cert8.db").exists():
                raise UnsupportedFormat("is a legacy DBM database (cert8.db/key3.db); upgrade it first with "
                                        f"certutil -K -d sql:{self.folder}", store=self.location)
            raise UnsupportedFormat("is not an NSS database: the folder has no cert9.db", store=self.location)
        if not self.key_db.exists():
            raise CorruptStore("cert9.db has no key4.db beside it", store=self.location)
        from keystores.fileio import _io_error, open_source

        for path in (self.cert_db, self.key_db):
            with open_source(path) as fd:  # a FIFO or device in the folder is refused, never waited on
                try:
                    head = os.pread(fd, 16, 0)
                except OSError as exc:
                    raise _io_error(path, exc, "read") from exc
            if head != b"SQLite format 3\x00":
                raise CorruptStore(f"{path.name} is not an SQLite database (damaged or truncated)",
                                   store=self.location)
        # Read-only first; a writer killed mid-transaction leaves a hot journal that only a read-write connection
        # may roll back (as NSS does on open), so then read through one when the files allow it.
        for writable in (False, True):
            try:
                conn = self._connect(writable=writable)
            except KeystoreError as exc:
                if not writable and _is_readonly(exc.__cause__) and self._files_writable():
                    continue
                raise
            try:
                conn.execute("BEGIN")
                tables = {r[0] for r in conn.execute("SELECT name FROM main.sqlite_master WHERE type='table'")}
                cert_tables = {r[0] for r in conn.execute(
                    "SELECT name FROM cert.sqlite_master WHERE type='table'")}
                if "nssPrivate" not in tables or "metaData" not in tables or "nssPublic" not in cert_tables:
                    raise UnsupportedFormat("is not an NSS database (cert9.db/key4.db lack NSS's tables)",
                                            store=self.location)
                found = conn.execute("SELECT item1, item2 FROM main.metaData WHERE id='password'").fetchone()
                public = db.select_rows(conn, "cert", db.PUBLIC_TABLE, _PUBLIC_WANTED)
                private = db.select_rows(conn, "main", db.PRIVATE_TABLE, _PRIVATE_WANTED)
                keyed = any(db.read_ulong(row.get(db.CKA_CLASS)) == db.CKO_PRIVATE_KEY for row in private)
                self._check_password(found, now=keyed or self._password is not None)
                self._versions = self._file_versions()  # the lock this transaction holds keeps writers out
                conn.execute("COMMIT")
                break
            except sqlite3.Error as exc:
                if not writable and _is_readonly(exc) and self._files_writable():
                    continue
                raise self._sql_error(exc, "read") from exc
            except (ValueError, TypeError, IndexError) as exc:  # UnicodeError is a ValueError
                raise CorruptStore(f"cert9.db/key4.db hold damaged objects ({exc})", store=self.location) from exc
            finally:
                conn.close()
        try:
            self._index(public, private)
        except (TypeError, ValueError, IndexError, UnicodeError) as exc:
            raise CorruptStore(f"an object in cert9.db/key4.db is damaged ({exc})", store=self.location) from exc

    def _file_versions(self) -> tuple[bytes, bytes]:
        """SQLite's file change counters (header offset 24), which every committed write moves."""
        versions = []
        for path in (self.key_db, self.cert_db):
            try:
                with open(path, "rb") as handle:
                    versions.append(handle.read(28)[24:])
            except OSError as exc:
                from keystores.fileio import _io_error

                raise _io_error(path, exc, "read") from exc
        return versions[0], versions[1]

    def _mac_items(self) -> dict[str, bytes]:
        """The metaData MAC items (sig_...), read on the first MAC check rather than at open: a CA list of 2,000
        certificates has 14,000, a third of the time to open it, and listing checks none. They must belong to the
        objects read at open, so the files' change counters are compared inside both read transactions."""
        if self._meta is not None:
            return self._meta
        conn = self._connect(writable=False)
        try:
            conn.execute("BEGIN")
            # dict() over the cursor: a large database has a MAC row per authenticated attribute.
            meta = dict(conn.execute("SELECT id, item1 FROM main.metaData WHERE id LIKE 'sig_%' "
                                     "AND item1 IS NOT NULL"))
            versions = self._file_versions()
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._sql_error(exc, "read") from exc
        finally:
            conn.close()
        if versions != self._versions:
            raise StoreLocked("another program changed the database after it was opened; open it again",
                              store=self.location)
        try:
            if not all(type(blob) is bytes for blob in meta.values()):
                meta = {name: bytes(blob) for name, blob in meta.items()}
        except TypeError as exc:
            raise CorruptStore(f"key4.db holds a damaged MAC item ({exc})", store=self.location) from exc
        self._meta = meta
        return meta

    def _files_writable(self) -> bool:
        return all(os.access(p, os.W_OK) for p in (self.folder, self.cert_db, self.key_db))

    def _check_password(self, found: tuple[bytes, bytes] | None, *, now: bool = True) -> None:
        """Sets _pass_key from the password given, or from the empty one when none was given and the database
        has one. Without `now` (no password given, no private keys) trying the empty one waits for the first
        MAC check: listing a CA list needs neither it nor the AES it takes."""
        if found is None or found[0] is None or found[1] is None:
            # Never initialised (NSS made the files but no password was ever set): nothing is encrypted yet.
            self._new_password(self._password or "")
            self._ops.append(("init-password", None))
            return
        self._global_salt, self._password_check = bytes(found[0]), bytes(found[1])
        self._iterations = nc.describe_value(self._password_check)[1] or nc.DEFAULT_ITERATIONS
        note = suspicious(self._iterations, "the database password")
        if note is not None:
            self.notes.append(f"{self.location}: {note}")
        if not now:
            self._empty_password_untried = True
            return
        self._try_passwords()

    def _unlocked(self) -> bytes | None:
        """_pass_key, once the empty password has been tried if that was put off."""
        if self._empty_password_untried:
            self._empty_password_untried = False
            self._try_passwords()
        return self._pass_key

    def _try_passwords(self) -> None:
        assert self._password_check is not None
        candidates = [self._password] if self._password is not None else [""]
        for candidate in candidates:
            key = nc.pass_key(self._global_salt, candidate)
            try:
                if nc.decrypt_value(self._password_check, key, self._kdf_budget) == b"password-check":
                    self._pass_key = key
                    return
            except nc.DecryptFailed:
                pass
            except LimitExceeded as exc:
                exc.store = self.location
                raise
            except nc.DerError as exc:
                raise CorruptStore(f"the password check record is malformed ({exc})", store=self.location) from exc
        if self._password is not None:
            raise WrongPassword("wrong password for the NSS database", store=self.location)

    def _index(self, public: list[db.Row], private: list[db.Row]) -> None:
        self._by_subject = None
        certs: list[_Cert] = []
        for row in public:
            klass = db.read_ulong(row.get(db.CKA_CLASS))
            if klass == db.CKO_CERTIFICATE:
                cert = _Cert(row)
                if cert.der:
                    certs.append(cert)
                    self._certs[cert.id] = cert
            elif klass in (db.CKO_NSS_TRUST, db.CKO_TRUST):
                key = (row.get(db.CKA_ISSUER) or b"", row.get(db.CKA_SERIAL_NUMBER) or b"")
                self._trust[key] = row
            elif klass == db.CKO_PUBLIC_KEY:
                self._pubkeys.setdefault(row.get(db.CKA_ID) or b"", []).append(row.id)
        for row in private:
            if db.read_ulong(row.get(db.CKA_CLASS)) == db.CKO_PRIVATE_KEY:
                self._keys[row.get(db.CKA_ID) or b""] = row
        # Untrusted, keyless certificates that only serve as issuers in some key pair's chain.
        by_subject: dict[bytes, list[_Cert]] = {}
        for cert in certs:
            by_subject.setdefault(cert.subject, []).append(cert)
        for cert in certs:
            if cert.ckaid not in self._keys:
                continue
            issuer, seen = cert.issuer, {cert.subject}
            while issuer not in seen:
                seen.add(issuer)
                parents = by_subject.get(issuer, [])
                nxt = None
                for parent in parents:
                    if parent.ckaid not in self._keys and not self._trust_levels_raw(parent):
                        self._chain_only.add(parent.id)
                    nxt = parent.issuer
                if nxt is None:
                    break
                issuer = nxt
        # Chain-only certificates are entries too (kind "certificate"), as certutil -L lists them: `_chain_only` only
        # says that writing may treat them as part of the key pairs they serve.
        labels = UniqueLabels(lambda base, number: f"{base} ({number})")
        labels.taken.update(self._entry_cert)
        for cert in certs:
            label = labels.add(cert.label or cert.subject.hex()[:16])
            self._entry_cert[label] = cert.id
            self._entries[label] = None  # type: ignore[assignment]  # built on demand
        if self._pass_key is None and self._keys:
            self.notes.append(f"{self.location}: the private keys are locked; give the database password to "
                              "read or copy them")
        with_certificate = {c.ckaid for c in certs}  # a set: keys x certificates was quadratic
        orphans = [k for k in self._keys if k not in with_certificate]
        if orphans:
            self.notes.append(f"{self.location}: {len(orphans)} private key(s) have no certificate and are not "
                              "shown (certutil -K lists them as orphans)")

    # --- building entries ----------------------------------------------------------------------------------
    def _trust_levels_raw(self, cert: _Cert) -> nt.Levels | None:
        row = self._trust.get((cert.issuer, cert.serial))
        if row is None:
            return None
        levels = self._levels_of(row)
        return levels if levels.trusted_anything else None

    def _levels_of(self, row: db.Row) -> nt.Levels:
        """The trust object's levels; objects holding the same values share one Levels (a CA list has a handful)."""
        raw = (row.get(db.CKA_CLASS), *(row.get(attr) for attr in _LEVEL_ATTRS))
        levels = self._levels_cache.get(raw)
        if levels is None:
            levels = self._levels_cache[raw] = self._decode_levels(row)
        return levels

    def _trust_model(self, levels: nt.Levels | None, *, user: bool, verified: bool = True) -> Any:
        """nt.to_model, once per distinct (levels, user, verified): Trust is frozen, so entries may share one."""
        key = (levels, user, verified)
        if key not in self._trust_models:
            trust = nt.to_model(levels, user=user)
            if trust is not None and not verified:
                trust = dataclasses.replace(trust, verified=False)
            self._trust_models[key] = trust
        return self._trust_models[key]

    @staticmethod
    def _decode_levels(row: db.Row) -> nt.Levels:
        values = {}
        if db.read_ulong(row.get(db.CKA_CLASS)) == db.CKO_TRUST:
            for purpose, attr in _PKCS_TRUST_ATTRS.items():
                raw = db.read_ulong(row.get(attr))
                values[purpose] = nt.PKCS_LEVELS.get(raw, nt.UNKNOWN) if raw is not None else nt.UNKNOWN
            return nt.Levels(**values)
        for purpose, attr in _NSS_TRUST_ATTRS.items():
            raw = db.read_ulong(row.get(attr))
            values[purpose] = raw if raw is not None else nt.UNKNOWN
        step = row.get(db.CKA_TRUST_STEP_UP_APPROVED)
        return nt.Levels(**values, step_up=step == db.TRUE)

    @staticmethod
    def _trust_is_for(cert: _Cert, row: db.Row) -> bool:
        """Trust objects are found by issuer and serial; NSS also checks the certificate hash they carry."""
        sha1 = row.get(db.CKA_CERT_SHA1_HASH)
        if sha1 is not None and sha1 != hashlib.sha1(cert.der).digest():
            return False
        digest = row.get(db.CKA_HASH_OF_CERTIFICATE)
        if digest:
            mechanism = db.read_ulong(row.get(db.CKA_NAME_HASH_ALGORITHM))
            name = {0x220: "sha1", 0x255: "sha224", 0x250: "sha256", 0x260: "sha384", 0x270: "sha512"}.get(
                mechanism if mechanism is not None else 0x220)
            if name is not None and digest != hashlib.new(name, cert.der).digest():
                return False
        return True

    def _verify_trust(self, row: db.Row, label: str) -> bool:
        """Check the trust object's MACs; False when they cannot be checked (no password: certutil shows such
        trust unchecked too)."""
        if self._unlocked() is None:
            if not self._unverified_noted:
                self._unverified_noted = True
                self.notes.append(f"{self.location}: trust is shown unverified: its integrity MACs need the database "
                                  "password, and anyone who can write the database could have set it")
            return False
        values = [(attr, value) for attr in _TRUST_MACED if (value := row.get(attr)) is not None]
        try:
            failed = self._mac_checker().first_failure(self._mac_items(), f"sig_cert_{row.id:08x}_", row.id,
                                                       values)
        except LimitExceeded as exc:
            exc.store, exc.label = self.location, label
            raise
        if failed is not None:  # _check_mac says what is wrong with it
            self._check_mac("cert", row.id, row.id, failed, dict(values)[failed], label, "trust")
        return True

    def _mac_checker(self) -> nc.MacChecker:
        assert self._pass_key is not None
        checker = self._macs
        if checker is None or checker.key != self._pass_key:
            checker = self._macs = nc.MacChecker(self._pass_key, self._kdf_budget)
        return checker

    def _check_mac(self, kind: str, object_id: int, mac_id: int, attr: int, value: bytes, label: str,
                   what: str) -> None:
        assert self._pass_key is not None
        name = f"sig_{kind}_{object_id:08x}_{attr:08x}"
        blob = self._mac_items().get(name)
        if blob is not None:
            try:
                if self._mac_checker().check(blob, mac_id, attr, value):
                    return  # the common case, kept short: listing checks thousands of these
            except nc.DerError:
                pass  # reported below, with the reason
            except LimitExceeded as exc:
                exc.store, exc.label = self.location, label
                raise
        attr_name = _ATTR_NAMES.get(attr, f"0x{attr:x}")
        if blob is None:
            raise IntegrityError(f"the {what} attribute {attr_name} has no integrity MAC ({name} is missing)",
                                 store=self.location, label=label)
        try:
            good = nc.check_mac(blob, self._pass_key, mac_id, attr, value)
        except nc.DerError as exc:
            raise IntegrityError(f"the integrity MAC {name} is malformed ({exc})", store=self.location,
                                 label=label) from exc
        if not good:
            raise IntegrityError(f"the integrity MAC of the {what} attribute {attr_name} does not match: the "
                                 "database was altered outside NSS", store=self.location, label=label)

    def _build(self, label: str) -> Entry:
        cert = self._certs[self._entry_cert[label]]
        trust_row = self._trust.get((cert.issuer, cert.serial))
        key_row = self._keys.get(cert.ckaid) if cert.ckaid else None
        user = key_row is not None
        loaders: dict[str, Callable[[], Any]] = {"chain": lambda: self._read_chain(cert, label, issuers=user)}
        # The kind from the trust flags as stored; their MAC is checked when the trust itself is read.
        kind = EntryKind.KEY_PAIR if user else \
            EntryKind.TRUSTED_CERT if self._trust_levels_raw(cert) else EntryKind.CERTIFICATE
        fields: dict[str, Any] = {"label": label, "kind": kind}
        if trust_row is None:
            fields["trust"] = self._trust_model(None, user=user)
        else:
            loaders["trust"] = lambda: self._read_trust(cert, trust_row, label, user=user)
        if key_row is not None and self._pass_key is None:
            # Locked: the key is there but unreadable without the password (certutil -L needs none either).
            loaders["key"] = lambda: KeyRef(label=label, key_id=cert.ckaid, signer=None, sensitive=True,
                                            public_key=self._certificate(cert, label).public_key(),
                                            extractable=False, locked=True)
        elif key_row is not None:
            loaders["key"] = lambda: self._guarded_private_key(key_row, label, self._certificate(cert, label))
        return LazyEntry.lazy(loaders, leaf_der=cert.der, **fields)

    def _read_chain(self, cert: _Cert, label: str, *, issuers: bool) -> tuple[Any, ...]:
        leaf = self._certificate(cert, label)
        return self._chain(leaf, cert) if issuers else (leaf,)

    def _read_trust(self, cert: _Cert, row: db.Row, label: str, *, user: bool) -> Any:
        """The entry's Trust from its trust object, once that object's MACs check out."""
        try:
            verified = self._verify_trust(row, label)
            if self._trust_is_for(cert, row):
                return self._trust_model(self._levels_of(row), user=user, verified=verified)
        except (TypeError, ValueError, IndexError) as exc:
            raise CorruptStore(f"the trust object is damaged ({exc})", store=self.location, label=label) from exc
        self.notes.append(f"{self.location}: '{label}': its trust object names another certificate (hash mismatch) "
                          "and is ignored, as NSS ignores it")
        return self._trust_model(None, user=user)

    def _certificate(self, cert: _Cert, label: str) -> Any:
        """The certificate object, once the parts cryptography decodes lazily (key, names, dates, extensions) are
        known to decode: NSS does not MAC certificate objects, so cert9.db can hold anything. Decoded once per
        object: a CA is in the chain of every key pair it issued."""
        decoded = self._decoded.get(cert.id)
        if decoded is not None:
            return decoded
        from cryptography.exceptions import UnsupportedAlgorithm

        try:
            decoded = self._decoded[cert.id] = decode_certificate(cert.der)
            return decoded
        except UnsupportedAlgorithm as exc:
            raise UnsupportedFormat(f"the certificate has a public key of a type we do not read ({exc})",
                                    store=self.location, label=label) from exc
        except (ValueError, TypeError) as exc:
            raise CorruptStore(f"the certificate is damaged ({exc.__class__.__name__} while decoding it)",
                               store=self.location, label=label) from exc

    def _chain(self, leaf: Any, cert: _Cert) -> tuple[Any, ...]:
        from keystores.chain import order_chain
        from keystores.limits import MAX_CANDIDATES_PER_NAME

        if self._by_subject is None:
            self._by_subject = {}
            for each in self._certs.values():
                self._by_subject.setdefault(each.subject, []).append(each)
        candidates = []
        issuer, seen = cert.issuer, {cert.subject}
        while issuer not in seen:
            seen.add(issuer)
            parents = self._by_subject.get(issuer, [])[:MAX_CANDIDATES_PER_NAME]
            if not parents:
                break
            for parent in parents:
                with contextlib.suppress(CorruptStore, UnsupportedFormat):  # a damaged issuer is no issuer
                    candidates.append(self._certificate(parent, parent.label or "chain certificate"))
            issuer = parents[0].issuer
        chain = order_chain(leaf, candidates, self._verifications)
        note = self._verifications.note(self.location)
        if note is not None and note not in self.notes:
            self.notes.append(note)
        return chain

    def _guarded_private_key(self, row: db.Row, label: str, leaf: Any) -> Any:
        try:
            return self._private_key(row, label, leaf)
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise CorruptStore(f"the private key's objects are damaged ({exc})", store=self.location,
                               label=label) from exc

    def _private_key(self, row: db.Row, label: str, leaf: Any) -> Any:
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        if self._pass_key is None:
            raise PasswordRequired("the database password is needed to read private keys", store=self.location,
                                   label=label)

        def secret(attr: int) -> int:
            blob = row.get(attr)
            if blob is None:
                raise CorruptStore(f"the private key lacks {_ATTR_NAMES.get(attr, hex(attr))}",
                                   store=self.location, label=label)
            try:
                value = nc.decrypt_value(blob, self._pass_key, self._kdf_budget)  # type: ignore[arg-type]
            except LimitExceeded as exc:
                exc.store, exc.label = self.location, label
                raise
            except nc.DecryptFailed as exc:
                raise IntegrityError(f"{_ATTR_NAMES.get(attr, hex(attr))} does not decrypt with the database "
                                     "password: the key record is damaged", store=self.location,
                                     label=label) from exc
            except nc.DerError as exc:
                raise CorruptStore(f"{_ATTR_NAMES.get(attr, hex(attr))} is malformed ({exc})",
                                   store=self.location, label=label) from exc
            self._check_mac("key", row.id, 0, attr, value, label, "private key")
            return int.from_bytes(value, "big")

        def public(attr: int) -> int:
            value = row.get(attr)
            if value is None:
                raise CorruptStore(f"the private key lacks {_ATTR_NAMES.get(attr, hex(attr))}",
                                   store=self.location, label=label)
            self._check_mac("key", row.id, row.id, attr, value, label, "private key")
            return int.from_bytes(value, "big")

        key_type = db.read_ulong(row.get(db.CKA_KEY_TYPE))
        try:
            if key_type == db.CKK_RSA:
                n, e = public(db.CKA_MODULUS), public(db.CKA_PUBLIC_EXPONENT)
                numbers = rsa.RSAPrivateNumbers(
                    p=secret(db.CKA_PRIME_1), q=secret(db.CKA_PRIME_2), d=secret(db.CKA_PRIVATE_EXPONENT),
                    dmp1=secret(db.CKA_EXPONENT_1), dmq1=secret(db.CKA_EXPONENT_2),
                    iqmp=secret(db.CKA_COEFFICIENT), public_numbers=rsa.RSAPublicNumbers(e, n))
                return numbers.private_key()
            if key_type == db.CKK_EC:
                return ec.derive_private_key(secret(db.CKA_VALUE), self._curve(row, leaf, label))
            if key_type == db.CKK_DSA:  # certutil -k dsa; the domain parameters are public and not MACed
                return _dsa_key(*(int.from_bytes(row.get(attr) or b"", "big")
                                  for attr in (db.CKA_PRIME, db.CKA_SUBPRIME, db.CKA_BASE)), secret(db.CKA_VALUE))
        except ValueError as exc:
            raise CorruptStore(f"the private key is inconsistent ({exc})", store=self.location,
                               label=label) from exc
        raise UnsupportedFormat(f"private keys of PKCS#11 key type {key_type} are not supported",
                                store=self.location, label=label)

    def _curve(self, row: db.Row, leaf: Any, label: str) -> Any:
        from cryptography.hazmat.primitives.asymmetric import ec

        params = row.get(db.CKA_EC_PARAMS)
        names = {oid: name for name, oid in _CURVES.items()}
        try:
            if params:
                tag, value, _, _ = nc.der_read(params)
                name = names.get(nc.oid_text(value)) if tag == 0x06 else None
                if name:
                    return {"secp256r1": ec.SECP256R1, "secp384r1": ec.SECP384R1, "secp521r1": ec.SECP521R1}[name]()
            return leaf.public_key().curve
        except (nc.DerError, AttributeError) as exc:
            raise CorruptStore("the EC key's curve is unknown or does not match its certificate",
                               store=self.location, label=label) from exc

    # --- reading API ---------------------------------------------------------------------------------------
    def get(self, label: str) -> Entry:
        found = self._find(label)
        entry = self._entries[found]
        if entry is None:
            try:
                entry = self._build(found)
            except (TypeError, ValueError, IndexError, UnicodeError, AttributeError) as exc:
                raise CorruptStore(f"the entry's objects are damaged ({exc})", store=self.location,
                                   label=found) from exc
            self._entries[found] = entry
        return entry

    def entries(self) -> Iterator[Entry]:
        return iter([self.get(label) for label in list(self._entries)])

    def protection(self) -> dict[str, str]:
        info: dict[str, str] = {}
        self._unlocked()
        if self._password_check is not None:
            scheme, iterations = nc.describe_value(self._password_check)
            for row in self._keys.values():
                blob = row.get(db.CKA_PRIVATE_EXPONENT) or row.get(db.CKA_VALUE)
                if blob:
                    scheme, iterations = nc.describe_value(blob)
                    break
            info["keys"] = f"{scheme}, {iterations} iterations"
            info["password"] = "empty (anyone can read the keys)" if self._pass_key is not None and \
                self._pass_key == nc.pass_key(self._global_salt, "") else "set"
        meta = self._mac_items() if self._pass_key is not None and not self._new else {}
        if meta:
            blob = next(iter(meta.values()))
            scheme, iterations = nc.describe_mac(blob)
            info["mac"] = f"{scheme}, {iterations} iterations"
        elif self._pass_key is None and self._password_check is not None:
            info["mac"] = "PBMAC1 HMAC-SHA-256 (not checked: no password given)"
        return info

    # --- editing -------------------------------------------------------------------------------------------
    def _need_key(self, what: str) -> bytes:
        key = self._unlocked()
        if key is None:
            raise PasswordRequired(f"the database password is needed to {what}", store=self.location)
        return key

    def check_entry(self, entry: Entry) -> None:
        """Also refuses keys this writer does not lay out (DSA, curves other than P-256/384/521) by name, before
        a transfer writes anything (it reads DSA keys certutil made)."""
        super().check_entry(entry)
        # Every entry needs the password (asked for before the first add, not half-way through).
        self._need_key("add entries (NSS authenticates trust and keys with the password)")
        if entry.kind is EntryKind.KEY_PAIR and not isinstance(entry.key, KeyRef):
            from cryptography.hazmat.primitives.asymmetric import ec, rsa

            key = entry.key
            if not (isinstance(key, rsa.RSAPrivateKey)
                    or (isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _CURVES)):
                from keystores.model import describe_key
                from keystores.undecoded import UndecodedPrivateKey

                kind = key.key_type if isinstance(key, UndecodedPrivateKey) else describe_key(key.public_key())
                raise CapabilityError("private_keys", f"NSS databases get RSA and EC (P-256, P-384, P-521) keys "
                                      f"from keystores, not {kind}",
                                      store=self.location, label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        self._require_writable()
        self.check_entry(entry)
        if entry.default:
            self.notes.append(f"{self.location}: NSS databases have no default entry; '{entry.label}' is stored "
                              "without the flag")
            entry = entry.with_(default=False)
        for cert in entry.chain:
            try:
                _checked(cert)
            except (ValueError, TypeError, _NotReadable) as exc:
                raise CorruptStore(f"a certificate of the entry is damaged ({exc.__class__.__name__} while "
                                   "decoding it)", store=self.location, label=entry.label) from exc
        if entry.kind is EntryKind.KEY_PAIR and isinstance(entry.key, KeyRef):
            raise UsageError("the private key lives on a token and cannot be copied", store=self.location,
                             label=entry.label)
        if entry.key is not None and entry.chain:
            from keystores.model import public_key_fingerprint

            if public_key_fingerprint(entry.key.public_key()) != public_key_fingerprint(entry.chain[0].public_key()):
                raise UsageError("the private key does not belong to the certificate", store=self.location,
                                 label=entry.label)
        if entry.label in self._entries:
            if not replace:
                raise EntryExists("an entry with this label exists (use --replace to overwrite it)",
                                  store=self.location, label=entry.label)
            self.remove(entry.label)
        self._entries[entry.label] = entry
        self._ops.append(("add", entry))
        self._dirty = True

    def remove(self, label: str) -> None:
        self._require_writable()
        found = self._find(label)
        self._ops.append(("remove", (found, self._entry_cert.pop(found, None))))
        del self._entries[found]
        self._dirty = True

    def rename(self, old: str, new: str) -> None:
        self._require_writable()
        source = self._find(old)
        if new in self._entries and new != source:
            raise EntryExists("an entry with the new label exists", store=self.location, label=new)
        if not new:
            raise UsageError("an entry needs a non-empty label", store=self.location)
        self._ops.append(("rename", (source, new, self._entry_cert.get(source))))
        entry = self._entries[source]
        self._entries = {(new if k == source else k): (v if k != source else
                          (entry.with_(label=new) if entry is not None and not isinstance(entry, LazyEntry)
                           else None))
                         for k, v in self._entries.items()}
        if source in self._entry_cert:
            self._entry_cert[new] = self._entry_cert.pop(source)
        self._dirty = True

    def set_password(self, new_password: str) -> None:
        self._require_writable()
        self._need_key("change the password (the keys are re-encrypted with the new one)")
        self._ops.append(("password", new_password))
        self._dirty = True

    # --- writing -------------------------------------------------------------------------------------------
    def _write(self) -> None:
        # A password change swaps these while applying; a failed write must leave them as they were.
        saved = (self._global_salt, self._pass_key, self._password_check, self._iterations, self._meta)
        deadline = time.monotonic() + self.lock_wait
        delay = 0.01
        while True:
            try:
                if self._new:
                    self._write_new()
                else:
                    self._write_in_place()
                break
            except _Busy as busy:
                # Everything was rolled back and every lock released, so the other writer can finish; then retry.
                self._global_salt, self._pass_key, self._password_check, self._iterations, self._meta = saved
                if time.monotonic() > deadline:
                    raise StoreLocked(f"another process has been writing the database for {self.lock_wait:.0f}s; "
                                      "nothing was changed", store=self.location) from busy.__cause__
                import random  # only here: a write that waits for another writer

                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.25)
            except BaseException:
                self._global_salt, self._pass_key, self._password_check, self._iterations, self._meta = saved
                raise
        self._ops.clear()
        # Our own commit moved the change counters: MAC items are read afresh, against the files as now written.
        self._meta = None
        self._versions = self._file_versions()

    def _write_new(self) -> None:
        """Build both databases in memory and commit them whole: no sqlite file or journal ever sits on disk
        with sqlite's default 0644 mode, and a kill leaves nothing but temp files the next writer sweeps."""
        from keystores.fileio import INTENT_PREFIX, TEMP_PREFIX, atomic_write_many, changed

        # Folders made for this database are removed again if the write fails or is interrupted.
        made = [f for f in (self.folder, *self.folder.parents) if not f.exists()]
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new folder only its user can enter
        try:
            conn = sqlite3.connect(":memory:", isolation_level=None)
            try:
                conn.execute("ATTACH DATABASE ':memory:' AS cert")
                conn.execute("BEGIN")
                db.create_schema(conn, "main", db.PRIVATE_TABLE, with_meta=True)
                db.create_schema(conn, "cert", db.PUBLIC_TABLE, with_meta=False)
                self._apply(conn)
                conn.execute("COMMIT")
                images = {self.key_db: (conn.serialize(name="main"), True),
                          self.cert_db: (conn.serialize(name="cert"), True)}
            finally:
                conn.close()
            atomic_write_many(images)
        except BaseException as exc:
            if made:  # a folder made for this database holds nothing of anyone else's, even half a commit
                ours = [self.key_db, self.cert_db]
                ours += [p for p in self.folder.iterdir() if p.name.startswith((TEMP_PREFIX, INTENT_PREFIX))]
                changed[:] = [c for c in changed if c not in (str(self.key_db), str(self.cert_db))]
                for path in ours:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                for folder in made:  # innermost first; one that holds anything else now is left alone
                    with contextlib.suppress(OSError):
                        folder.rmdir()
            if isinstance(exc, sqlite3.Error):
                raise self._sql_error(exc, "create") from exc
            raise
        self._new = False

    def _write_in_place(self) -> None:
        """Apply the pending changes in one transaction over both files; _Busy when another writer is in the way.

        NSS writes cert9.db and key4.db in separate transactions, so waiting for one file while holding the
        other could deadlock with it: lock attempts here fail fast, roll back and release everything instead.
        """
        from keystores.fileio import atomic_write, changed

        conn = self._connect(writable=True)
        try:
            conn.execute("PRAGMA busy_timeout = 100")
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    raise _Busy from exc
                raise
            try:
                # Through sqlite, never open()/close(): closing any descriptor of a database file drops this
                # process's POSIX locks on it, and another writer (certutil) would then write under our feet.
                cert_before = conn.serialize(name="cert")
                self._apply(conn)
                conn.execute("PRAGMA busy_timeout = 1000")  # COMMIT waits a little for readers to finish
                conn.execute("COMMIT")
                changed.append(self.location)
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                    raise _Busy from exc
                raise
        except sqlite3.Error as exc:
            raise self._sql_error(exc, "write") from exc
        except (ValueError, TypeError, IndexError) as exc:
            raise CorruptStore(f"cert9.db/key4.db hold damaged objects; nothing was changed ({exc})",
                               store=self.location) from exc
        finally:
            conn.close()
        # cert9.db (certificates and trust, nothing secret) is kept as it was before this write. key4.db is not:
        # a copy would keep every key under the old password after a password change, and keys the user deleted.
        with contextlib.suppress(KeystoreError):
            atomic_write(self.cert_db.with_name("cert9.db.bak"), cert_before, private=True, record=False)
        with contextlib.suppress(FileNotFoundError):
            (self.key_db.with_name("key4.db.bak")).unlink()  # one an earlier keystores left holds the same secrets

    def _apply(self, conn: sqlite3.Connection) -> None:
        self._chain_written = set()
        writer = db.Writer(conn)
        ops = list(self._ops)
        if self._new or any(op == "init-password" for op, _ in ops):
            self._store_password(conn)
        for op, arg in ops:
            if op == "add":
                self._insert_entry(writer, arg)
            elif op == "remove":
                self._delete_entry(writer, *arg)
            elif op == "rename":
                self._rename_entry(writer, *arg)
            elif op == "password":
                self._change_password(conn, writer, arg)

    def _store_password(self, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT OR REPLACE INTO main.metaData (id, item1, item2) VALUES ('password', ?, ?)",
                     (self._global_salt, self._password_check))

    def _mac(self, conn: sqlite3.Connection, kind: str, object_id: int, mac_id: int, attr: int, value: bytes) -> None:
        assert self._pass_key is not None
        blob = nc.make_mac(self._pass_key, mac_id, attr, value, iterations=self._iterations)
        conn.execute("INSERT OR REPLACE INTO main.metaData (id, item1) VALUES (?, ?)",
                     (f"sig_{kind}_{object_id:08x}_{attr:08x}", blob))

    # -- live lookups inside the transaction (the database may hold more than we loaded) --
    @staticmethod
    def _cert_rows(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return conn.execute(f"SELECT id, a3, a11, a81, a82, a101, a102 FROM cert.nssPublic WHERE a0=? AND {where}",
                            (db.ulong(db.CKO_CERTIFICATE), *args)).fetchall()

    def _insert_entry(self, writer: db.Writer, entry: Entry) -> None:
        conn = writer.conn
        if not entry.chain:  # a key without a certificate (PKCS#12 and PEM hold those too): the key alone
            self._insert_key(writer, entry.key, None, entry.label)
            return
        leaf = entry.chain[0]
        same = self._cert_rows(conn, "a11=?", (leaf.public_bytes(_der()),))
        if same:
            object_id, nickname = same[0][0], (db.plain(same[0][1]) or b"").decode("utf-8", "replace")
            if nickname and object_id not in self._chain_only | self._chain_written and nickname != entry.label:
                raise EntryExists(f"this certificate is already in the database as '{nickname}' (NSS keeps one "
                                  "nickname per certificate)", store=self.location, label=entry.label)
            # A chain certificate becomes an entry of its own: give it the entry's nickname.
            conn.execute("UPDATE cert.nssPublic SET a3=? WHERE id=?", (entry.label.encode("utf-8"), object_id))
            leaf_id = object_id
        else:
            leaf_id = self._insert_cert(writer, leaf, entry.label)
        if entry.kind is EntryKind.KEY_PAIR:
            ckaid = self._insert_key(writer, entry.key, leaf, entry.label)
            conn.execute("UPDATE cert.nssPublic SET a102=? WHERE id=?", (ckaid, leaf_id))
            for cert in entry.chain[1:]:
                if not self._cert_rows(conn, "a11=?", (cert.public_bytes(_der()),)):
                    self._chain_written.add(self._insert_cert(writer, cert, self._free_nickname(conn, cert)))
        levels = nt.from_model(entry.trust)
        if levels is not None:
            self._insert_trust(writer, leaf, levels)

    def _free_nickname(self, conn: sqlite3.Connection, cert: Any) -> str:
        """A nickname for a chain certificate, built from its subject as NSS does ("CN - O")."""
        from cryptography.x509.oid import NameOID

        same_subject = self._cert_rows(conn, "a101=?", (cert.subject.public_bytes(),))
        if same_subject and same_subject[0][1]:
            return db.plain(same_subject[0][1]).decode("utf-8", "replace")  # type: ignore[union-attr]
        cn = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        org = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        base = " - ".join(str(v) for v in (cn[:1] + org[:1])) or cert.subject.rfc4514_string()
        name, number = base, 2
        while self._cert_rows(conn, "a3=?", (name.encode(),)) or name in self._entries:
            name, number = f"{base} #{number}", number + 1
        return name

    def _insert_cert(self, writer: db.Writer, cert: Any, label: str) -> int:
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        der = cert.public_bytes(_der())
        pub = cert.public_key()
        ckaid = b""
        if isinstance(pub, rsa.RSAPublicKey):
            ckaid = hashlib.sha1(_int_bytes(pub.public_numbers().n)).digest()
        elif isinstance(pub, ec.EllipticCurvePublicKey):
            ckaid = hashlib.sha1(_ec_point(pub)).digest()
        object_id = writer.new_id("cert", db.PUBLIC_TABLE)
        writer.insert("cert", db.PUBLIC_TABLE, object_id, {
            db.CKA_CLASS: db.ulong(db.CKO_CERTIFICATE), db.CKA_TOKEN: db.TRUE, db.CKA_PRIVATE: db.FALSE,
            db.CKA_LABEL: label.encode("utf-8"), db.CKA_VALUE: der, db.CKA_CERTIFICATE_TYPE: db.ulong(0),
            db.CKA_ISSUER: cert.issuer.public_bytes(), db.CKA_SERIAL_NUMBER: der_integer(serial_of(cert)),
            db.CKA_SUBJECT: cert.subject.public_bytes(), db.CKA_ID: ckaid, db.CKA_MODIFIABLE: db.TRUE,
        })
        return object_id

    def _insert_trust(self, writer: db.Writer, cert: Any, levels: nt.Levels) -> None:
        from cryptography.hazmat.primitives import hashes

        conn = writer.conn
        issuer, serial = cert.issuer.public_bytes(), der_integer(serial_of(cert))
        for (old_id,) in conn.execute("SELECT id FROM cert.nssPublic WHERE a0 IN (?, ?) AND a81=? AND a82=?",
                                      (db.ulong(db.CKO_NSS_TRUST), db.ulong(db.CKO_TRUST), issuer, serial)):
            writer.delete("cert", db.PUBLIC_TABLE, old_id, "main", "cert")
        object_id = writer.new_id("cert", db.PUBLIC_TABLE)
        authenticated = {
            db.CKA_TRUST_SERVER_AUTH: db.ulong(levels.server), db.CKA_TRUST_CLIENT_AUTH: db.ulong(levels.client),
            db.CKA_TRUST_CODE_SIGNING: db.ulong(levels.code),
            db.CKA_TRUST_EMAIL_PROTECTION: db.ulong(levels.email),
            db.CKA_TRUST_STEP_UP_APPROVED: db.TRUE if levels.step_up else db.FALSE,
            db.CKA_CERT_SHA1_HASH: cert.fingerprint(hashes.SHA1()),
            db.CKA_CERT_MD5_HASH: cert.fingerprint(hashes.MD5()),
        }
        writer.insert("cert", db.PUBLIC_TABLE, object_id, {
            db.CKA_CLASS: db.ulong(db.CKO_NSS_TRUST), db.CKA_TOKEN: db.TRUE, db.CKA_PRIVATE: db.FALSE,
            db.CKA_LABEL: b"", db.CKA_ISSUER: issuer, db.CKA_SERIAL_NUMBER: serial, db.CKA_MODIFIABLE: db.TRUE,
            **authenticated,
        })
        for attr, value in authenticated.items():
            self._mac(conn, "cert", object_id, object_id, attr, value)

    def _insert_key(self, writer: db.Writer, key: Any, leaf: Any, label: str) -> bytes:
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        conn = writer.conn
        assert self._pass_key is not None
        subject = leaf.subject.public_bytes() if leaf is not None else b""
        common_private = {db.CKA_CLASS: db.ulong(db.CKO_PRIVATE_KEY), db.CKA_TOKEN: db.TRUE,
                          db.CKA_PRIVATE: db.TRUE, db.CKA_LABEL: label.encode("utf-8"), db.CKA_SUBJECT: subject,
                          db.CKA_SENSITIVE: db.TRUE, db.CKA_START_DATE: b"", db.CKA_END_DATE: b"",
                          db.CKA_EXTRACTABLE: db.TRUE, db.CKA_LOCAL: db.FALSE, db.CKA_NEVER_EXTRACTABLE: db.FALSE,
                          db.CKA_ALWAYS_SENSITIVE: db.FALSE, db.CKA_MODIFIABLE: db.TRUE}
        common_public = {db.CKA_CLASS: db.ulong(db.CKO_PUBLIC_KEY), db.CKA_TOKEN: db.TRUE, db.CKA_PRIVATE: db.FALSE,
                         db.CKA_LABEL: b"", db.CKA_SUBJECT: b"", db.CKA_START_DATE: b"", db.CKA_END_DATE: b"",
                         db.CKA_LOCAL: db.FALSE, db.CKA_MODIFIABLE: db.TRUE}
        clear: dict[int, bytes] = {}
        secret: dict[int, bytes] = {}
        if isinstance(key, rsa.RSAPrivateKey):
            numbers = key.private_numbers()
            modulus = _int_bytes(numbers.public_numbers.n)
            exponent = _int_bytes(numbers.public_numbers.e)
            ckaid = hashlib.sha1(modulus).digest()
            clear = {db.CKA_MODULUS: modulus, db.CKA_PUBLIC_EXPONENT: exponent}
            secret = {db.CKA_PRIVATE_EXPONENT: _int_bytes(numbers.d), db.CKA_PRIME_1: _int_bytes(numbers.p),
                      db.CKA_PRIME_2: _int_bytes(numbers.q), db.CKA_EXPONENT_1: _int_bytes(numbers.dmp1),
                      db.CKA_EXPONENT_2: _int_bytes(numbers.dmq1), db.CKA_COEFFICIENT: _int_bytes(numbers.iqmp)}
            private_attrs = {**common_private, db.CKA_KEY_TYPE: db.ulong(db.CKK_RSA), db.CKA_ID: ckaid,
                             db.CKA_DECRYPT: db.TRUE, db.CKA_UNWRAP: db.TRUE, db.CKA_SIGN: db.TRUE,
                             db.CKA_SIGN_RECOVER: db.TRUE, db.CKA_DERIVE: db.FALSE, **clear, db.CKA_NSS_DB: modulus}
            public_attrs = {**common_public, db.CKA_KEY_TYPE: db.ulong(db.CKK_RSA), db.CKA_ID: ckaid,
                            db.CKA_ENCRYPT: db.TRUE, db.CKA_WRAP: db.TRUE, db.CKA_VERIFY: db.TRUE,
                            db.CKA_VERIFY_RECOVER: db.TRUE, db.CKA_DERIVE: db.FALSE, **clear}
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            curve_oid = _CURVES.get(key.curve.name)
            if curve_oid is None:
                raise UsageError(f"NSS stores EC keys on P-256/P-384/P-521, not {key.curve.name}",
                                 store=self.location, label=label)
            point = _ec_point(key.public_key())
            ckaid = hashlib.sha1(point).digest()
            size = (key.curve.key_size + 7) // 8
            secret = {db.CKA_VALUE: key.private_numbers().private_value.to_bytes(size, "big")}
            params = der_oid(curve_oid)
            private_attrs = {**common_private, db.CKA_KEY_TYPE: db.ulong(db.CKK_EC), db.CKA_ID: ckaid,
                             db.CKA_DECRYPT: db.FALSE, db.CKA_UNWRAP: db.FALSE, db.CKA_SIGN: db.TRUE,
                             db.CKA_SIGN_RECOVER: db.FALSE, db.CKA_DERIVE: db.TRUE, db.CKA_EC_PARAMS: params,
                             db.CKA_NSS_DB: point}
            public_attrs = {**common_public, db.CKA_KEY_TYPE: db.ulong(db.CKK_EC), db.CKA_ID: ckaid,
                            db.CKA_ENCRYPT: db.FALSE, db.CKA_WRAP: db.FALSE, db.CKA_VERIFY: db.TRUE,
                            db.CKA_VERIFY_RECOVER: db.FALSE, db.CKA_DERIVE: db.TRUE, db.CKA_EC_PARAMS: params,
                            db.CKA_EC_POINT: nc.der_octets(point)}
        else:
            raise UsageError(f"NSS databases hold RSA and EC keys here, not {type(key).__name__}",
                             store=self.location, label=label)
        # Replace a key already stored under this CKA_ID (same key imported again).
        for (old_id,) in conn.execute("SELECT id FROM main.nssPrivate WHERE a102=?", (ckaid,)).fetchall():
            writer.delete("main", db.PRIVATE_TABLE, old_id, "main", "key")
        for (old_id,) in conn.execute("SELECT id FROM cert.nssPublic WHERE a0=? AND a102=?",
                                      (db.ulong(db.CKO_PUBLIC_KEY), ckaid)).fetchall():
            writer.delete("cert", db.PUBLIC_TABLE, old_id, "main", "cert")
        key_id = writer.new_id("main", db.PRIVATE_TABLE)
        encrypted = {attr: nc.encrypt_value(value, self._pass_key, iterations=self._iterations, legacy=self._legacy)
                     for attr, value in secret.items()}
        writer.insert("main", db.PRIVATE_TABLE, key_id, {**private_attrs, **encrypted})
        for attr, value in secret.items():
            self._mac(conn, "key", key_id, 0, attr, value)
        for attr, value in clear.items():
            self._mac(conn, "key", key_id, key_id, attr, value)
        pub_id = writer.new_id("cert", db.PUBLIC_TABLE)
        writer.insert("cert", db.PUBLIC_TABLE, pub_id, public_attrs)
        for attr, value in clear.items():
            self._mac(conn, "cert", pub_id, pub_id, attr, value)
        return ckaid

    def _delete_entry(self, writer: db.Writer, label: str, cert_id: int | None) -> None:
        conn = writer.conn
        # Entries read from disk are addressed by object id (their label may be a made-up one);
        # entries added in this session by the nickname they were written with.
        if cert_id is not None:
            rows = self._cert_rows(conn, "id=?", (cert_id,))
        else:
            rows = self._cert_rows(conn, "a3=?", (label.encode("utf-8"),))
        for object_id, _label, _der, issuer, serial, _subject, ckaid in rows:
            writer.delete("cert", db.PUBLIC_TABLE, object_id, "main", "cert")
            for (trust_id,) in conn.execute("SELECT id FROM cert.nssPublic WHERE a0 IN (?, ?) AND a81=? AND a82=?",
                                            (db.ulong(db.CKO_NSS_TRUST), db.ulong(db.CKO_TRUST), issuer, serial)):
                writer.delete("cert", db.PUBLIC_TABLE, trust_id, "main", "cert")
            if ckaid and db.plain(ckaid) and not conn.execute(
                    "SELECT 1 FROM cert.nssPublic WHERE a0=? AND a102=?",
                    (db.ulong(db.CKO_CERTIFICATE), ckaid)).fetchone():
                # The last certificate of this key is gone: the key and its public half go with it.
                for (key_id,) in conn.execute("SELECT id FROM main.nssPrivate WHERE a102=?", (ckaid,)).fetchall():
                    writer.delete("main", db.PRIVATE_TABLE, key_id, "main", "key")
                for (pub_id,) in conn.execute("SELECT id FROM cert.nssPublic WHERE a0=? AND a102=?",
                                              (db.ulong(db.CKO_PUBLIC_KEY), ckaid)).fetchall():
                    writer.delete("cert", db.PUBLIC_TABLE, pub_id, "main", "cert")
                # Its issuers stay: they are entries of their own (kind "certificate"), as certutil -D leaves them.

    def _rename_entry(self, writer: db.Writer, old: str, new: str, cert_id: int | None) -> None:
        conn = writer.conn
        if cert_id is not None:
            rows = self._cert_rows(conn, "id=?", (cert_id,))
        else:
            rows = self._cert_rows(conn, "a3=?", (old.encode("utf-8"),))
        for object_id, _label, _der, _issuer, _serial, _subject, ckaid in rows:
            conn.execute("UPDATE cert.nssPublic SET a3=? WHERE id=?", (new.encode("utf-8"), object_id))
            if ckaid:
                conn.execute("UPDATE main.nssPrivate SET a3=? WHERE a102=? AND a3=?",
                             (new.encode("utf-8"), ckaid, old.encode("utf-8")))

    def _change_password(self, conn: sqlite3.Connection, writer: db.Writer, new_password: str) -> None:
        """Re-encrypt every private attribute and re-MAC every authenticated one under the new password."""
        old_key = self._need_key("change the password")
        meta = {r[0]: bytes(r[1]) for r in conn.execute("SELECT id, item1 FROM main.metaData WHERE id LIKE 'sig_%'")
                if r[1] is not None}
        private = db.select_rows(conn, "main", db.PRIVATE_TABLE, sorted({db.CKA_LABEL, *db.ENCRYPTED,
                                                                          *db.AUTHENTICATED}))
        public = db.select_rows(conn, "cert", db.PUBLIC_TABLE, sorted({db.CKA_LABEL, *db.AUTHENTICATED}))
        self._new_password(new_password)
        new_key = self._pass_key
        assert new_key is not None
        self._store_password(conn)

        def verified(kind: str, object_id: int, mac_id: int, attr: int, value: bytes, label: str) -> None:
            name = f"sig_{kind}_{object_id:08x}_{attr:08x}"
            blob = meta.get(name)
            if blob is not None and not nc.check_mac(blob, old_key, mac_id, attr, value):
                raise IntegrityError(f"the integrity MAC {name} does not match; the password is left unchanged",
                                     store=self.location, label=label)
            self._mac(conn, kind, object_id, mac_id, attr, value)

        for row in private:
            label = (row.get(db.CKA_LABEL) or b"").decode("utf-8", "replace")
            updates: dict[int, bytes] = {}
            for attr in db.ENCRYPTED:
                blob = row.get(attr)
                if blob is None:
                    continue
                try:
                    value = nc.decrypt_value(blob, old_key)
                except (nc.DecryptFailed, nc.DerError) as exc:
                    raise IntegrityError("a private key attribute does not decrypt; the password is left "
                                         "unchanged", store=self.location, label=label) from exc
                updates[attr] = nc.encrypt_value(value, new_key, iterations=self._iterations, legacy=self._legacy)
                verified("key", row.id, 0, attr, value, label)
            for attr in db.AUTHENTICATED:
                value = row.get(attr)
                if value is not None:
                    verified("key", row.id, row.id, attr, value, label)
            if updates:
                writer.update("main", db.PRIVATE_TABLE, row.id, updates)
        for row in public:
            for attr in db.AUTHENTICATED:
                value = row.get(attr)
                if value is not None and f"sig_cert_{row.id:08x}_{attr:08x}" in meta:
                    verified("cert", row.id, row.id, attr, value, "")
        self._meta = None

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        super().close()

    def labels(self) -> list[str]:
        return list(self._entries)

    def _find(self, label: str) -> str:
        if label in self._entries:
            return label
        raise EntryNotFound(label, self._entries, store=self.location)


class _NotReadable(Exception):
    """A certificate's public key is of a type cryptography does not read."""


def _checked(cert: Any) -> Any:
    """`cert` after decoding everything cryptography decodes lazily; ValueError/TypeError when damaged."""
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        return fully_decoded(cert)
    except UnsupportedAlgorithm as exc:
        raise _NotReadable(str(exc)) from exc


class _Busy(Exception):
    """Another process holds a lock we need; the transaction was rolled back (internal: retried by _write)."""


def _dsa_key(p: int, q: int, g: int, x: int) -> Any:
    """A DSA private key from NSS's attributes; y, which NSS does not keep with the private key, is g^x mod p."""
    import warnings

    from cryptography.hazmat.primitives.asymmetric import dsa
    from cryptography.utils import CryptographyDeprecationWarning

    if not (p and q and g):
        raise ValueError("the DSA domain parameters are missing")
    with warnings.catch_warnings():  # "DSA is deprecated": cryptography's plan, not the user's concern
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        parameters = dsa.DSAParameterNumbers(p, q, g)
        return dsa.DSAPrivateNumbers(x, dsa.DSAPublicNumbers(pow(g, x, p), parameters)).private_key()


def _is_readonly(exc: BaseException | None) -> bool:
    """SQLite refusing a read-only connection because a hot journal must be rolled back first."""
    return isinstance(exc, sqlite3.Error) and "readonly" in str(exc).lower().replace(" ", "")


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _der() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _int_bytes(value: int) -> bytes:
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def _ec_point(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
