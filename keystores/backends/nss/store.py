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

import os

from keystores import paths
from keystores.backends.base import BaseStore
from keystores.backends.nss import crypto as nc
from keystores.backends.nss import db
from keystores.backends.nss import sqlite as sqlite3
from keystores.backends.nss import trust as nt
from keystores.backends.nss.changes import ChangeLog
from keystores.backends.nss.connection import Connection, _is_readonly
from keystores.backends.nss.entries import LazyEntries
from keystores.backends.nss.index import Index, _Cert
from keystores.backends.nss.trust_macs import TrustAndMacs
from keystores.backends.nss.unlock import Unlock
from keystores.errors import (
    CorruptStore,
    EntryNotFound,
    KeystoreError,
    StoreLocked,
    StoreNotFound,
    UnsupportedFormat,
)
from keystores.limits import KdfBudget, VerificationBudget
from keystores.model import Capabilities, Entry, Protection, ProtectionPart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any, ClassVar

    from keystores.crypto.kdf_pool import KdfPool, Pending
    from keystores.fileio import folder_lock

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


def _folder_of(location: str) -> str:
    """The database's folder, as `str(Path(...))` spells it (keystores.paths: no pathlib on opening)."""
    return paths.normal(location[4:] if location.startswith("sql:") else location)


class NssStore(Connection, Unlock, Index, TrustAndMacs, LazyEntries, ChangeLog, BaseStore):
    """An NSS sql: database as a key store. One opened to be written (or made) is a WritableNssStore
    (transaction.py), which adds the write transaction and the SQL writes: a read loads neither."""

    format: ClassVar[str] = "nss"
    capabilities: ClassVar[Capabilities] = Capabilities(private_keys=True, extractable_keys=True, secret_keys=False,
                                                        trust=True, trust_purposes=True, default_flag=False,
                                                        pending_requests=False, bare_keys=True)
    #: Seconds a write waits for other writers (NSS tools, browsers) before StoreLocked.
    lock_wait: ClassVar[float] = 10.0

    def __new__(cls, location: str, *, writable: bool = False, create: bool = False, **options: Any) -> NssStore:
        """A WritableNssStore where the store may be written: its two modules are ~60 KB of bytecode that a list
        or show (issue 15) need not load."""
        if (writable or create) and cls is NssStore:
            from keystores.backends.nss.transaction import WritableNssStore

            cls = WritableNssStore
        return super().__new__(cls)

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        super().__init__(location, writable=writable, profile=profile)
        self.folder = _folder_of(location)
        self.cert_db = paths.join(self.folder, "cert9.db")
        self.key_db = paths.join(self.folder, "key4.db")
        self._password = password
        self._lock: folder_lock | None = None
        self._ops: list[tuple[str, Any]] = []
        self._pass_key: bytes | None = None
        self._empty_password_untried = False  # see _check_password
        self._macs: nc.MacChecker | None = None  # checks MACs under _pass_key (made again when that changes)
        self._kdf_budget = KdfBudget()  # derivations above NSS's own iteration count, for this database in total
        self._verifications = VerificationBudget()  # signature checks of chain building, for all entries
        self._der_verifications = VerificationBudget()  # the same, of chains built over the DER (_chain_der)
        self._by_subject: dict[bytes, list[_Cert]] | None = None  # _certs by subject, made on first use
        self._levels_cache: dict[tuple[object, ...], nt.Levels] = {}  # by the values as stored (db.Row.raw)
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
        self._kdf: KdfPool | None = None  # a write's PBKDF2 work, on every core (made by each write)
        self._pending_macs: list[tuple[str, Pending[bytes]]] = []  # MAC items being made, by metaData id
        # Encrypted attributes being made, for rows inserted without them: (schema, table, object id, {attr: value})
        self._pending_values: list[tuple[str, str, int, dict[int, Pending[bytes]]]] = []
        self._new = create
        try:
            if not create and paths.is_dir(self.folder):
                from keystores.fileio import finish_interrupted_commit

                finish_interrupted_commit(self.folder)  # a killed writer's cert9.db/key4.db commit
            if writable:
                from keystores.backends.nss.profile_lock import browser_lock  # here: reading needs no fcntl
                from keystores.fileio import folder_lock

                here = paths.is_dir(self.folder)
                self._lock = folder_lock(self.folder if here else paths.parent(self.folder))
                self._lock.__enter__()  # held until close()
                reason = browser_lock(self.folder) if here else None
                if reason:
                    raise StoreLocked(f"{reason}; close it before changing the database", store=location)
            if create:
                self._init_new(password)
            else:
                self._load()
        except BaseException:
            self.close()
            raise

    # --- opening -------------------------------------------------------------------------------------------
    def _init_new(self, password: str | None) -> None:
        if paths.exists(self.cert_db):
            raise KeystoreError("a database exists already", store=self.location)
        self._new_password(password or "")
        self._meta = {}
        self._dirty = True

    @property
    def uses_password(self) -> bool:
        """NSS databases may have an empty password (certutil -N --empty-password): then none is used."""
        return bool(self._password)

    @property
    def _legacy(self) -> bool:
        return self.profile == "compat"

    def _load(self) -> None:
        if not paths.is_dir(self.folder):
            raise StoreNotFound("no such folder", store=self.location)
        if not paths.exists(self.cert_db):
            if paths.exists(paths.join(self.folder, "cert8.db")):
                raise UnsupportedFormat("is a legacy DBM database (cert8.db/key3.db); upgrade it first with "
                                        f"certutil -K -d sql:{self.folder}", store=self.location)
            raise UnsupportedFormat("is not an NSS database: the folder has no cert9.db", store=self.location)
        if not paths.exists(self.key_db):
            raise CorruptStore("cert9.db has no key4.db beside it", store=self.location)
        from keystores.fileio import _io_error, open_source

        for path in (self.cert_db, self.key_db):
            with open_source(path) as fd:  # a FIFO or device in the folder is refused, never waited on
                try:
                    head = os.pread(fd, 16, 0)
                except OSError as exc:
                    raise _io_error(path, exc, "read") from exc
            if head != b"SQLite format 3\x00":
                raise CorruptStore(f"{paths.name(path)} is not an SQLite database (damaged or truncated)",
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

    def protection(self) -> Protection:
        info: dict[str, ProtectionPart] = {}
        self._unlocked()
        if self._password_check is not None:
            scheme, iterations, algorithms = nc.describe_value(self._password_check)
            for row in self._keys.values():
                blob = row.get(db.CKA_PRIVATE_EXPONENT) or row.get(db.CKA_VALUE)
                if blob:
                    scheme, iterations, algorithms = nc.describe_value(blob)
                    break
            info["keys"] = ProtectionPart(f"{scheme}, {iterations} iterations", algorithms, iterations)
            empty = self._pass_key is not None and self._pass_key == nc.pass_key(self._global_salt, "")
            info["password"] = ProtectionPart("empty (anyone can read the keys)", open_to_all=True) if empty \
                else ProtectionPart("set")
        meta = self._mac_items() if self._pass_key is not None and not self._new else {}
        if meta:
            blob = next(iter(meta.values()))
            scheme, iterations, algorithms = nc.describe_mac(blob)
            info["mac"] = ProtectionPart(f"{scheme}, {iterations} iterations", algorithms, iterations)
        elif self._pass_key is None and self._password_check is not None:
            info["mac"] = ProtectionPart("PBMAC1 HMAC-SHA-256 (not checked: no password given)",
                                         ("PBMAC1", "HMAC", "SHA-256", "PBKDF2"))
        return self._protection(info)

    # -- live lookups inside the transaction (the database may hold more than we loaded) --

                # Its issuers stay: they are entries of their own (kind "certificate"), as certutil -D leaves them.

    def close(self) -> None:
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.__exit__(None, None, None)
        super().close()

    def labels(self) -> list[str]:
        return list(self._entries)

    def _find(self, label: str) -> str:
        if label in self._entries:
            return label
        raise EntryNotFound(label, self._entries, store=self.location)


