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
from keystores.backends.nss import trust as nt
from keystores.backends.nss.db import sqlite3
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.limits import KdfBudget, LimitExceeded, VerificationBudget, suspicious
from keystores.model import Capabilities, Entry, EntryKind, KeyRef, Protection, ProtectionPart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any, ClassVar

    from keystores.backends.nss.macs import MacChecker
    from keystores.backends.nss.transaction import _PoolOnFirstUse
    from keystores.crypto.kdf_pool import KdfPool, Pending
    from keystores.fileio import folder_lock
    from keystores.model import Trust
    from keystores.pki.labels import UniqueLabels

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


# --- the sqlite side: connections over key4.db with cert9.db attached, what sqlite's errors mean to the user, the
# files' change counters, and the metaData MAC items read on first use ------------------------------------------
def _is_readonly(exc: BaseException | None) -> bool:
    """SQLite refusing a read-only connection because a hot journal must be rolled back first."""
    return isinstance(exc, sqlite3.Error) and "readonly" in str(exc).lower().replace(" ", "")


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Connection:
    """Opening sqlite connections to both files and reading what they say about themselves."""

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
            from keystores.errors import StoreLocked  # made on first use (keystores.errors._MADE_ON_USE)

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

    def _file_versions(self) -> tuple[bytes, bytes]:
        """SQLite's file change counters (header offset 24), which every committed write moves."""
        versions = []
        for path in (self.key_db, self.cert_db):
            try:
                with open(path, "rb") as handle:
                    versions.append(handle.read(28)[24:])
            except OSError as exc:
                from keystores.fileread import _io_error

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
            from keystores.errors import StoreLocked  # made on first use (keystores.errors._MADE_ON_USE)

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


# --- unlocking: the passKey from the password (or the empty one), checked against the password-check record; a new
# password's salt and check record -------------------------------------------------------------------------------
class Unlock:
    """The database password: trying it, putting off the empty one, setting a new one."""

    def _new_password(self, password: str, *, salt_length: int = 20, at_least: int = 1, ahead: bool = False) -> None:
        """A fresh global salt of `salt_length` bytes (48 means a SHA-384 passKey, as newer NSS makes) and NSS's
        iteration count, or `at_least` (a database's own count, kept when a password change would lower it);
        an empty password takes 1, as NSS writes it. With `ahead` (a new database), the password check record is
        made by a worker (its one derivation and AES) while the caller goes on, and waited for where it is first
        needed (_settled_check): a new database's first use of it is its write, and `convert` and `import` decrypt
        and lay out their entries meanwhile."""
        if ahead and password and salt_length == 20 and at_least <= nc.DEFAULT_ITERATIONS and not self._legacy:
            from keystores.backends.nss.begun import take

            begun = take(self.folder, password)  # begun before the backend's import (begun.py)
            if begun is not None:
                self._global_salt, self._pass_key = begun.global_salt, begun.pass_key
                self._iterations = begun.iterations
                self._check_pool, self._password_check, self._check_ahead = begun.pool, None, begun.check
                from keystores.backends.nss import adding

                adding.take_up(self, begun.derived)
                return
        self._global_salt = os.urandom(salt_length)
        self._pass_key = nc.pass_key(self._global_salt, password)
        self._iterations = max(nc.DEFAULT_ITERATIONS, at_least) if password else 1
        if ahead and password:
            from keystores.crypto.kdf_pool import KdfPool

            self._check_pool = KdfPool("nss-password-check")  # one call: one worker
            self._password_check, self._check_ahead = None, self._check_pool.submit(
                self._iterations, nc.encrypt_value, b"password-check", self._pass_key, iterations=self._iterations,
                legacy=self._legacy)
            return
        self._password_check = nc.encrypt_value(b"password-check", self._pass_key, iterations=self._iterations,
                                                legacy=self._legacy)

    def _settled_check(self) -> bytes | None:
        """_password_check, once a new database's has been made (_new_password's `ahead`). It is taken from the
        same outcome again after a failed write put the one before back."""
        if self._password_check is None and self._check_ahead is not None:
            self._password_check = self._check_ahead.result()
        return self._password_check

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
        # A read builds its entries next (LazyEntries._build): LazyEntry's module loads while the check derives.
        preload = () if self.writable else ("keystores.lazy_entries",)
        for candidate in candidates:
            key = nc.pass_key(self._global_salt, candidate)
            try:
                if nc.decrypt_value(self._password_check, key, self._kdf_budget, preload=preload) == b"password-check":
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

    def _need_key(self, what: str) -> bytes:
        key = self._unlocked()
        if key is None:
            raise PasswordRequired(f"the database password is needed to {what}", store=self.location)
        return key


# --- indexing the objects read at open: certificates, trust objects, public and private keys; entries and their
# labels; chain-only certificates --------------------------------------------------------------------------------
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


class Index:
    """Building the store's indexes from the rows read at open."""

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
        labels: UniqueLabels | None = None  # made when a nickname repeats: most databases have none twice
        for cert in certs:
            label = cert.label or cert.subject.hex()[:16]
            if labels is not None or label in self._entry_cert:
                if labels is None:
                    from keystores.pki.labels import UniqueLabels

                    labels = UniqueLabels()
                    labels.taken.update(self._entry_cert)  # every label so far
                label = labels.add(label)
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


def _is_rsa(key: Any) -> bool:
    """isinstance(key, rsa.RSAPrivateKey), the rsa module (which imports random) imported only for a key that is no
    EC key."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return isinstance(key, rsa.RSAPrivateKey)


# --- trust objects' levels as stored -------------------------------------------------------------------------------
_NSS_TRUST_ATTRS = {"server": db.CKA_TRUST_SERVER_AUTH, "client": db.CKA_TRUST_CLIENT_AUTH,
                    "email": db.CKA_TRUST_EMAIL_PROTECTION, "code": db.CKA_TRUST_CODE_SIGNING}


_PKCS_TRUST_ATTRS = {"server": db.CKA_PKCS_TRUST_SERVER_AUTH, "client": db.CKA_PKCS_TRUST_CLIENT_AUTH,
                     "email": db.CKA_PKCS_TRUST_EMAIL_PROTECTION, "code": db.CKA_PKCS_TRUST_CODE_SIGNING}


_LEVEL_ATTRS = (*_NSS_TRUST_ATTRS.values(), *_PKCS_TRUST_ATTRS.values(), db.CKA_TRUST_STEP_UP_APPROVED)


_LEVEL_KEY = (db.CKA_CLASS, *_LEVEL_ATTRS)  # what a trust object's levels are decoded from


class TrustAndMacs:
    """Reading trust levels as stored (reading.py checks their integrity MACs when an entry's trust is read)."""

    def _trust_levels_raw(self, cert: _Cert) -> nt.Levels | None:
        row = self._trust.get((cert.issuer, cert.serial))
        if row is None:
            return None
        levels = self._levels_of(row)
        return levels if levels.trusted_anything else None

    def _levels_of(self, row: db.Row) -> nt.Levels:
        """The trust object's levels; objects holding the same values share one Levels (a CA list has a handful)."""
        raw = row.raw(_LEVEL_KEY)
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
                trust = trust.with_(verified=False)
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


# --- lazy entries ------------------------------------------------------------------------------------------------
class LazyEntries:
    """Building LazyEntry objects and the loaders behind them."""

    def _kind(self, cert: _Cert) -> EntryKind:
        """The kind of the entry of certificate object `cert`: a key pair where its key is there, else from the trust
        flags as stored (their MAC is checked when the trust itself is read)."""
        if cert.ckaid and self._keys.get(cert.ckaid) is not None:
            return EntryKind.KEY_PAIR
        trust_row = self._trust.get((cert.issuer, cert.serial))
        return EntryKind.TRUSTED_CERT if trust_row is not None and self._levels_of(trust_row).trusted_anything \
            else EntryKind.CERTIFICATE

    def _build(self, label: str) -> Entry:
        cert = self._certs[self._entry_cert[label]]
        trust_row = self._trust.get((cert.issuer, cert.serial))
        key_row = self._keys.get(cert.ckaid) if cert.ckaid else None
        user = key_row is not None
        loaders: dict[str, Callable[[], Any]] = {
            "chain": lambda: _reading()._read_chain(self, cert, label, issuers=user)}
        fields: dict[str, Any] = {"label": label, "kind": self._kind(cert)}
        if trust_row is None:
            fields["trust"] = self._trust_model(None, user=user)
        else:
            loaders["trust"] = lambda: _reading()._read_trust(self, cert, trust_row, label, user=user)
        if key_row is not None and self._pass_key is None:
            # Locked: the key is there but unreadable without the password (certutil -L needs none either).
            loaders["key"] = lambda: KeyRef(label=label, key_id=cert.ckaid, signer=None, sensitive=True,
                                            public_key=_reading()._leaf_public_key(self, cert, label),
                                            extractable=False, locked=True)
        elif key_row is not None:
            loaders["key"] = lambda: _reading()._guarded_private_key(self, key_row, label,
                                                                      _reading()._leaf_for_key(self, cert, label))
        from keystores.lazy_entries import LazyEntry  # here: a rename, delete or trust change builds no entry

        return LazyEntry.lazy(loaders, leaf_der=cert.der,
                              find_chain_der=lambda: _reading()._chain_der(self, cert, issuers=user), **fields)


def _reading() -> Any:
    """keystores.backends.nss.reading, which reads an entry's chain, trust and key when first asked for: a list,
    rename, delete or trust change reads none of them (its ~15 KB of bytecode stays unloaded; issue 15)."""
    from keystores.backends.nss import reading

    return reading


class NssStore(Connection, Unlock, Index, TrustAndMacs, LazyEntries, BaseStore):
    """An NSS sql: database as a key store. One opened to be written (or made) is a WritableNssStore
    (transaction.py), which adds the change log, the write transaction and the SQL writes: a read loads none."""

    format: ClassVar[str] = "nss"
    capabilities: ClassVar[Capabilities] = Capabilities(private_keys=True, extractable_keys=True, secret_keys=False,
                                                        trust=True, trust_purposes=True, default_flag=False,
                                                        pending_requests=False, bare_keys=True)
    #: Seconds a write waits for other writers (NSS tools, browsers) before StoreLocked.
    lock_wait: ClassVar[float] = 10.0

    def __new__(cls, location: str, *, writable: bool = False, create: bool = False, **options: Any) -> NssStore:
        """A WritableNssStore where the store may be written: its module is ~40 KB of bytecode that a list
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
        self._macs: MacChecker | None = None  # checks MACs under _pass_key (made again when that changes)
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
        self._check_ahead: Pending[bytes] | None = None  # a new database's password check in the making
        self._check_pool: KdfPool | None = None  # where it is made
        self._ahead: Any = None  # adding._Ahead: a writable store's derivations started ahead of its write
        self._meta: dict[str, bytes] | None = None  # MAC items, read on first use (_mac_items)
        self._kept: sqlite3.Connection | None = None  # a writable store's connection, from _load to its first write
        self._versions: tuple[bytes, bytes] | None = None  # file change counters when the objects were read
        self._certs: dict[int, _Cert] = {}
        self._decoded: dict[int, Any] = {}  # certificate object id -> its decoded certificate
        self._trust: dict[tuple[bytes, bytes], db.Row] = {}
        self._keys: dict[bytes, db.Row] = {}
        self._pubkeys: dict[bytes, list[int]] = {}
        self._entry_cert: dict[str, int] = {}  # label -> certificate object id (for entries read from disk)
        self._trust_set: dict[str, Trust | None] = {}  # trust set on an entry not built yet, applied by get()
        self._chain_only: set[int] = set()  # chain-only certificates read from disk
        self._chain_written: set[int] = set()  # chain certificates this write inserted (no entry of their own)
        self._kdf: _PoolOnFirstUse | None = None  # a write's PBKDF2 work, on every core (made by each write)
        self._pending_macs: list[tuple[str, Any]] = []  # MAC items being made (Pending, adding._Then), by metaData id
        # Encrypted attributes being made, for rows inserted without them: (schema, table, object id, {attr: value})
        self._pending_values: list[tuple[str, str, int, dict[int, Any]]] = []
        self._new = create
        try:
            if not create and paths.is_dir(self.folder):
                from keystores.fileread import finish_interrupted_commit

                finish_interrupted_commit(self.folder)  # a killed writer's cert9.db/key4.db commit
            if writable:
                from keystores.fileio import folder_lock

                here = paths.is_dir(self.folder)
                self._lock = folder_lock(self.folder if here else paths.parent(self.folder))
                self._lock.__enter__()  # held until close()
                if here:  # a folder made for a new database holds no browser's profile
                    from keystores.backends.nss.profile_lock import browser_lock  # here: reading needs no fcntl

                    reason = browser_lock(self.folder)
                    if reason:
                        from keystores.errors import StoreLocked  # made on first use (keystores.errors._MADE_ON_USE)

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
        self._new_password(password or "", ahead=True)
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
            from keystores.errors import StoreNotFound  # made on first use (keystores.errors._MADE_ON_USE)

            raise StoreNotFound("no such folder", store=self.location)
        if not paths.exists(self.cert_db):
            if paths.exists(paths.join(self.folder, "cert8.db")):
                raise UnsupportedFormat("is a legacy DBM database (cert8.db/key3.db); upgrade it first with "
                                        f"certutil -K -d sql:{self.folder}", store=self.location)
            raise UnsupportedFormat("is not an NSS database: the folder has no cert9.db", store=self.location)
        if not paths.exists(self.key_db):
            raise CorruptStore("cert9.db has no key4.db beside it", store=self.location)
        from keystores.fileread import _io_error, open_source

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
        # may roll back (as NSS does on open), so then read through one when the files allow it. A store opened to
        # be written reads through the read-write connection its write takes next (_kept: opening and attaching
        # both files again was ~1.6 M instructions of every rename, delete or trust change; issue 15). sqlite opens
        # a file the process may not write read-only even so: that write fails as it did.
        for writable in (True,) if self.writable else (False, True):
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
                if self.writable:  # for WriteTransaction._write_in_place, which closes it (or close() does)
                    self._kept = conn
                break
            except sqlite3.Error as exc:
                if not writable and _is_readonly(exc) and self._files_writable():
                    continue
                raise self._sql_error(exc, "read") from exc
            except (ValueError, TypeError, IndexError) as exc:  # UnicodeError is a ValueError
                raise CorruptStore(f"cert9.db/key4.db hold damaged objects ({exc})", store=self.location) from exc
            finally:
                if conn is not self._kept:
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
            if found in self._trust_set:  # set since the database was read (ChangeLog.set_trust), not saved yet
                entry = entry.with_(trust=self._trust_set.pop(found))
            self._entries[found] = entry
        return entry

    def entries(self) -> Iterator[Entry]:
        return iter([self.get(label) for label in list(self._entries)])

    def protection(self) -> Protection:
        info: dict[str, ProtectionPart] = {}
        self._unlocked()
        check = self._settled_check()
        if check is not None:
            scheme, iterations, algorithms = nc.describe_value(check)
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
            from keystores.backends.nss.macs import describe_mac

            blob = next(iter(meta.values()))
            scheme, iterations, algorithms = describe_mac(blob)
            info["mac"] = ProtectionPart(f"{scheme}, {iterations} iterations", algorithms, iterations)
        elif self._pass_key is None and self._password_check is not None:
            info["mac"] = ProtectionPart("PBMAC1 HMAC-SHA-256 (not checked: no password given)",
                                         ("PBMAC1", "HMAC", "SHA-256", "PBKDF2"))
        return self._protection(info)

    # -- live lookups inside the transaction (the database may hold more than we loaded) --

                # Its issuers stay: they are entries of their own (kind "certificate"), as certutil -D leaves them.

    def close(self) -> None:
        if self._kept is not None:  # opened by _load and not taken by a write
            kept, self._kept = self._kept, None
            kept.close()
        if self._ahead is not None:  # derivations started for a write that did not take them (adding._Ahead)
            ahead, self._ahead = self._ahead, None
            ahead.pool.__exit__(None, None, None)
        if self._check_pool is not None:  # waits for a password check still in the making (never written then)
            pool, self._check_pool = self._check_pool, None
            pool.__exit__(None, None, None)
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.__exit__(None, None, None)
        super().close()

    def labels(self) -> list[str]:
        return list(self._entries)

    def _find(self, label: str) -> str:
        if label in self._entries:
            return label
        from keystores.errors import EntryNotFound  # made on first use (keystores.errors._MADE_ON_USE)

        raise EntryNotFound(label, self._entries, store=self.location)

    # --- what the format takes (the editing API itself is transaction.ChangeLog's, a base of WritableNssStore) --
    def check_entry(self, entry: Entry) -> None:
        """Also refuses keys this writer does not lay out (DSA, curves other than P-256/384/521) by name, before
        a transfer writes anything (it reads DSA keys certutil made)."""
        super().check_entry(entry)
        # Every entry needs the password (asked for before the first add, not half-way through).
        self._need_key("add entries (NSS authenticates trust and keys with the password)")
        # A key the entry holds as PKCS#8 without loading it is an EC key on a keystores.pki.curves curve, which
        # NSS takes (adding.key_values lays it out from those bytes): it is not loaded to be judged.
        if entry.kind is EntryKind.KEY_PAIR and entry.held_pkcs8() is None and not isinstance(entry.key, KeyRef):
            from cryptography.hazmat.primitives.asymmetric import ec

            from keystores.pki.curves import curve_named

            key = entry.key
            if not ((isinstance(key, ec.EllipticCurvePrivateKey) and curve_named(key.curve.name) is not None)
                    or _is_rsa(key)):
                from keystores.model import describe_key
                from keystores.pki.undecoded import UndecodedPrivateKey

                kind = key.key_type if isinstance(key, UndecodedPrivateKey) else describe_key(key.public_key())
                raise CapabilityError("private_keys", f"NSS databases get RSA and EC (P-256, P-384, P-521) keys "
                                      f"from keystores, not {kind}",
                                      store=self.location, label=entry.label)

    def set_password(self, new_password: str) -> None:
        """Refused where the store was opened to read (WritableNssStore has ChangeLog.set_password)."""
        self._require_writable()
