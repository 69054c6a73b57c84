"""A write's side of an NSS database, its classes one module (a write loads it whole): the change log (ChangeLog: add,
remove, rename, trust and password changes checked and queued; an add's checks are adding.py's), the write
transaction (WriteTransaction: the queued changes applied in one sqlite transaction over both files, in memory and
committed whole for a new database, retrying while another writer holds a lock), the SQL writes that lay nothing out
(SqlWrites: deletes, renames, a trust removed, the password record, what an add left in the making; adding.py lays
out objects) and WritableNssStore, the NssStore a write opens.
"""

from __future__ import annotations

import os
import time

from keystores import paths
from keystores.backends.nss import db
from keystores.backends.nss import trust as nt
from keystores.backends.nss.db import sqlite3
from keystores.backends.nss.store import NssStore, _is_busy
from keystores.crypto.pbkdf2 import expect
from keystores.errors import (
    CorruptStore,
    EntryExists,
    KeystoreError,
    UsageError,
)
from keystores.lightweight import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from keystores.crypto.kdf_pool import KdfPool, Pending
    from keystores.model import Entry, Trust

    _T = TypeVar("_T")


class ChangeLog:
    """The editing API of a WritableNssStore: checks each change (NssStore.check_entry: what the format takes) and
    queues it. A store opened to read has BaseStore's add, remove and rename, which refuse as these do."""

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        from keystores.backends.nss import adding  # here: a rename, delete or trust change adds nothing

        adding.add(self, entry, replace=replace)

    def remove(self, label: str) -> None:
        self._require_writable()
        found = self._find(label)
        self._ops.append(("remove", (found, self._entry_cert.pop(found, None))))
        del self._entries[found]
        self._trust_set.pop(found, None)
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
        if entry is not None:  # an entry read from the database and not used yet is None: nothing to carry
            from keystores.lazy_entries import LazyEntry  # here: a rename or delete builds no entry (start-up)

            entry = None if isinstance(entry, LazyEntry) else entry.with_(label=new)
        self._entries = {(new if k == source else k): (v if k != source else entry) for k, v in self._entries.items()}
        if source in self._entry_cert:
            self._entry_cert[new] = self._entry_cert.pop(source)
        if source in self._trust_set:
            self._trust_set[new] = self._trust_set.pop(source)
        self._dirty = True

    def set_trust(self, label: str, trust: Trust | None) -> None:
        """certutil -M -t: a certificate read from the database keeps its object, and only its trust object is
        replaced (its MACs made again) or removed (off: NSS reads no trust object as ",,"); SqlWrites._set_trust.
        Laying the certificate out again (BaseStore.set_trust: remove and add) read and hashed it to write the same
        object under a new id. An entry added since the database was opened goes that way still."""
        self._check_trust(label, trust)
        self._require_writable()
        found = self._find(label)
        cert_id = self._entry_cert.get(found)
        if cert_id is None:
            super().set_trust(label, trust)  # type: ignore[misc]
            return
        # An entry not built yet is not built for this (keystores.lazy_entries, ~37 KB of bytecode: `trust LABEL off`
        # reads nothing of it): its kind comes from its objects as _build reads it, and get() applies the trust.
        entry = self._entries[found]
        try:
            kind = self._kind(self._certs[cert_id]) if entry is None else entry.kind
        except (TypeError, ValueError, IndexError, UnicodeError, AttributeError) as exc:  # as get() says it
            raise CorruptStore(f"the entry's objects are damaged ({exc})", store=self.location, label=found) from exc
        if not kind.is_certificate:
            raise UsageError(f"trust is set on certificate entries, and this is a {kind} entry",
                             store=self.location, label=found)
        # as for any entry written (check_entry): the password first, NSS authenticates trust with it
        self._need_key("add entries (NSS authenticates trust and keys with the password)")
        self._ops.append(("trust", (cert_id, nt.from_model(trust))))
        # Kept for the entry's next build too: a built one renamed is built again (ChangeLog.rename).
        self._trust_set[found] = trust
        if entry is not None:
            self._entries[found] = entry.with_(trust=trust)
        self._dirty = True

    def set_password(self, new_password: str) -> None:
        self._require_writable()
        self._need_key("change the password (the keys are re-encrypted with the new one)")
        self._ops.append(("password", new_password))
        self._dirty = True


class SqlWrites:
    """The rows and MAC items one queued change becomes (an add's: adding.py)."""

    def _store_password(self, conn: sqlite3.Connection) -> None:
        conn.execute("INSERT OR REPLACE INTO main.metaData (id, item1, item2) VALUES ('password', ?, ?)",
                     (self._global_salt, self._settled_check()))

    # -- derivations ahead: the keys of the next write's MACs and encrypted values, derived while it is prepared --
    def expect_write(self, *, new_keys: int = 0) -> None:
        """A hint (the protocol's): the next save writes `new_keys` key pairs anew; the two derivations each takes
        at least (its value encrypted, that value's MAC) start now (adding.derive_ahead)."""
        from keystores.backends.nss import adding

        adding.derive_ahead(self, 2 * new_keys, hinted=True)

    def _drop_ahead(self) -> None:
        """The derivations ahead not taken are dropped (a running one is waited for: its pool's exit)."""
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.pool.__exit__(None, None, None)

    def _store_pending(self, writer: Writer) -> None:
        """Write the MAC items and encrypted attributes being made, once they are made. Until then the next
        objects are laid out while the pool derives, so it is never left without work between two objects; this
        runs before any row is deleted (Writer's hook: a deleted object's MACs must go with it), before an
        operation other than an add reads rows back, and at the end of the write."""
        # Taken last first: a derivation no worker has begun is run here (Pending.result), from the end of the
        # queue, while the workers take them from its front (adding._Ahead's pool, or the write's).
        pending = self._pending_macs
        made = [mac.result() for _, mac in reversed(pending)]
        self._pending_macs = []  # (after: one that raised leaves them listed, as before)
        items = [(name, mac) for (name, _), mac in zip(pending, reversed(made), strict=True)]
        writer.conn.executemany("INSERT OR REPLACE INTO main.metaData (id, item1) VALUES (?, ?)", items)
        values, self._pending_values = self._pending_values, []
        for schema, table, object_id, attrs in values:
            writer.update(schema, table, object_id, {attr: done.result() for attr, done in attrs.items()})

    @staticmethod
    def _cert_rows(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return conn.execute(f"SELECT id, a3, a11, a81, a82, a101, a102 FROM cert.nssPublic WHERE a0=? AND {where}",
                            (db.ulong(db.CKO_CERTIFICATE), *args)).fetchall()

    def _set_trust(self, writer: Writer, cert_id: int, levels: nt.Levels | None) -> None:
        """The certificate object `cert_id` trusted for `levels` (its trust object and MACs made again, as
        adding.insert_trust makes them), or no longer (None: its trust objects and their MACs removed); the
        certificate object is left as it is, as certutil -M leaves it."""
        rows = self._cert_rows(writer.conn, "id=?", (cert_id,))
        if not rows:
            from keystores.errors import StoreLocked  # made on first use (keystores.errors._MADE_ON_USE)

            raise StoreLocked("another program changed the database after it was opened; open it again",
                              store=self.location)
        _, _, value, issuer, serial, _, _ = rows[0]
        issuer, serial = db.plain(issuer) or b"", db.plain(serial) or b""
        if levels is not None:
            from keystores.backends.nss import adding

            # its first step removes the trust objects there are
            adding.insert_trust(self, writer, adding.Stored(db.plain(value) or b"", issuer, serial), levels)
            return
        for (trust_id,) in writer.conn.execute("SELECT id FROM cert.nssPublic WHERE a0 IN (?, ?) AND a81=? AND "
                                               "a82=?", (db.ulong(db.CKO_NSS_TRUST), db.ulong(db.CKO_TRUST),
                                                         issuer, serial)).fetchall():
            writer.delete("cert", db.PUBLIC_TABLE, trust_id, "main", "cert")

    def _entry_rows(self, conn: sqlite3.Connection, label: str, cert_id: int | None) -> list[tuple[Any, ...]]:
        """The certificate rows of an entry: one read from disk by its object id (its label may be a made-up one),
        one added in this session by the nickname it was written with."""
        if cert_id is not None:
            return self._cert_rows(conn, "id=?", (cert_id,))
        return self._cert_rows(conn, "a3=?", (label.encode("utf-8"),))

    def _delete_entry(self, writer: Writer, label: str, cert_id: int | None) -> None:
        conn = writer.conn
        for object_id, _label, _der, issuer, serial, _subject, ckaid in self._entry_rows(conn, label, cert_id):
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

    def _rename_entry(self, writer: Writer, old: str, new: str, cert_id: int | None) -> None:
        conn = writer.conn
        for object_id, _label, _der, _issuer, _serial, _subject, ckaid in self._entry_rows(conn, old, cert_id):
            conn.execute("UPDATE cert.nssPublic SET a3=? WHERE id=?", (new.encode("utf-8"), object_id))
            # Looked for before it is updated: an UPDATE write-locks key4.db even when it matches no row, and a
            # certificate without a key then commits cert9.db alone (transaction.py's _write_in_place).
            if ckaid and conn.execute("SELECT 1 FROM main.nssPrivate WHERE a102=? AND a3=?",
                                      (ckaid, old.encode("utf-8"))).fetchone() is not None:
                conn.execute("UPDATE main.nssPrivate SET a3=? WHERE a102=? AND a3=?",
                             (new.encode("utf-8"), ckaid, old.encode("utf-8")))


def create_schema(conn: sqlite3.Connection, schema: str, table: str, *, with_meta: bool) -> None:
    cols = ", ".join(f"a{a}" for a in db._SCHEMA_ATTRS)
    conn.execute(f"CREATE TABLE {schema}.{table} (id PRIMARY KEY UNIQUE ON CONFLICT ABORT, {cols})")
    for index, attr in (("issuer", "a81"), ("subject", "a101"), ("label", "a3"), ("ckaid", "a102")):
        conn.execute(f"CREATE INDEX {schema}.{index} ON {table} ({attr})")
    if with_meta:
        conn.execute(f"CREATE TABLE {schema}.metaData (id PRIMARY KEY UNIQUE ON CONFLICT REPLACE, item1, item2)")


class Writer:
    """Inserts and deletes inside the caller's transaction; adds a column when an attribute has none.
    `before_delete` runs before each delete (a writer finishing what it still has to write of the objects)."""

    def __init__(self, conn: sqlite3.Connection, before_delete: Callable[[], None] | None = None) -> None:
        self.conn = conn
        self._columns: dict[tuple[str, str], set[str]] = {}
        self._before_delete = before_delete

    def _ensure(self, schema: str, table: str, attrs: list[int]) -> None:
        key = (schema, table)
        if key not in self._columns:
            self._columns[key] = db.table_columns(self.conn, schema, table)
        for attr in attrs:
            name = db.column(attr)
            if name not in self._columns[key]:
                self.conn.execute(f"ALTER TABLE {schema}.{table} ADD COLUMN {name}")
                self._columns[key].add(name)

    def new_id(self, schema: str, table: str) -> int:
        while True:
            candidate = int.from_bytes(os.urandom(4), "big") & 0x3FFFFFFF
            if candidate and self.conn.execute(f"SELECT 1 FROM {schema}.{table} WHERE id=?",
                                               (candidate,)).fetchone() is None:
                return candidate

    def insert(self, schema: str, table: str, object_id: int, attrs: dict[int, bytes]) -> None:
        self._ensure(schema, table, list(attrs))
        names = ", ".join(["id", *(db.column(a) for a in attrs)])
        marks = ", ".join("?" * (len(attrs) + 1))
        self.conn.execute(f"INSERT INTO {schema}.{table} ({names}) VALUES ({marks})",
                          (object_id, *(db.stored(v) for v in attrs.values())))

    def update(self, schema: str, table: str, object_id: int, attrs: dict[int, bytes]) -> None:
        self._ensure(schema, table, list(attrs))
        sets = ", ".join(f"{db.column(a)}=?" for a in attrs)
        self.conn.execute(f"UPDATE {schema}.{table} SET {sets} WHERE id=?",
                          (*(db.stored(v) for v in attrs.values()), object_id))

    def delete(self, schema: str, table: str, object_id: int, meta_schema: str, kind: str) -> None:
        if self._before_delete is not None:
            self._before_delete()
        self.conn.execute(f"DELETE FROM {schema}.{table} WHERE id=?", (object_id,))
        self.conn.execute(f"DELETE FROM {meta_schema}.metaData WHERE id LIKE ?", (f"sig_{kind}_{object_id:08x}_%",))


class _Busy(Exception):
    """Another process holds a lock we need; the transaction was rolled back (internal: retried by _write)."""


class WriteTransaction:
    """Saving: one transaction, retried on lock contention."""

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
                    from keystores.errors import StoreLocked  # made on first use (keystores.errors._MADE_ON_USE)

                    raise StoreLocked(f"another process has been writing the database for {self.lock_wait:.0f}s; "
                                      "nothing was changed", store=self.location) from busy.__cause__
                import random  # only here: a write that waits for another writer

                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.25)
            except BaseException:
                self._global_salt, self._pass_key, self._password_check, self._iterations, self._meta = saved
                self._drop_ahead()
                raise
        self._drop_ahead()  # what this write did not take (the next one starts its own)
        self._ops.clear()
        # Our own commit moved the change counters: MAC items are read afresh, against the files as now written.
        self._meta = None
        self._versions = self._file_versions()

    def _write_new(self) -> None:
        """Build both databases in memory and commit them whole: no sqlite file or journal ever sits on disk
        with sqlite's default 0644 mode, and a kill leaves nothing but temp files the next writer sweeps."""
        # Folders made for this database are removed again if the write fails or is interrupted.
        from keystores.fileio import INTENT_PREFIX, TEMP_PREFIX, atomic_write_many, changed

        folder = self.folder
        made = []  # the folder and those of its parents that do not exist yet, innermost first (as Path.parents)
        each = folder
        while not paths.exists(each):
            made.append(each)
            if paths.parent(each) == each:
                break
            each = paths.parent(each)
        try:
            # Inside the try: a Ctrl-C that lands just after mkdir returns still removes what it made.
            os.makedirs(folder, mode=0o700, exist_ok=True)  # a new folder only its user can enter
            conn = sqlite3.connect(":memory:", isolation_level=None)
            try:
                conn.execute("ATTACH DATABASE ':memory:' AS cert")
                conn.execute("BEGIN")
                create_schema(conn, "main", db.PRIVATE_TABLE, with_meta=True)
                create_schema(conn, "cert", db.PUBLIC_TABLE, with_meta=False)
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
                with suppress(FileNotFoundError):  # interrupted before mkdir made it
                    ours += [paths.join(folder, name) for name in os.listdir(folder)
                             if name.startswith((TEMP_PREFIX, INTENT_PREFIX))]
                changed[:] = [c for c in changed if c not in (self.key_db, self.cert_db)]
                for path in ours:
                    with suppress(FileNotFoundError):
                        os.unlink(path)
                for empty in made:  # innermost first; one that holds anything else now is left alone
                    with suppress(OSError):
                        os.rmdir(empty)
            if isinstance(exc, sqlite3.Error):
                raise self._sql_error(exc, "create") from exc
            raise
        self._new = False

    def _write_in_place(self) -> None:
        """Apply the pending changes in one transaction over both files; _Busy when another writer is in the way.

        NSS writes cert9.db and key4.db in separate transactions, so waiting for one file while holding the
        other could deadlock with it: lock attempts here fail fast, roll back and release everything instead.
        The transaction is deferred, not IMMEDIATE: a file is write-locked when the change first writes it, so a
        change to cert9.db alone (a rename) commits that file alone, with no master journal over both (three
        syncs and two of the folder fewer: ~10 ms of a rename on a disk that syncs). What it reads it holds read-
        locked until it commits, so no writer commits to a file in between; a writer in the way makes a lock
        attempt fail (at once where this holds the file read-locked: sqlite calls no busy handler to upgrade a read
        lock), and that rolls back and retries here as before.
        """
        from keystores.fileio import changed

        conn, self._kept = self._kept or self._connect(writable=True), None  # _load's, for the first write
        backup: _Backup | None = None
        try:
            conn.execute("PRAGMA busy_timeout = 100")
            conn.execute("BEGIN")  # takes no lock: the statements below do
            try:
                # Through sqlite, never open()/close(): closing any descriptor of a database file drops this
                # process's POSIX locks on it, and another writer (certutil) would then write under our feet.
                backup = _Backup(self.cert_db + ".bak", conn.serialize(name="cert"))
                self._apply(conn)
                conn.execute("PRAGMA busy_timeout = 1000")  # COMMIT waits a little for readers to finish
                conn.execute("COMMIT")
                changed.append(self.location)
            except BaseException as exc:
                with suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
                    raise _Busy from exc
                raise
        except BaseException as exc:
            if backup is not None:
                backup.drop()
            if isinstance(exc, sqlite3.Error):
                raise self._sql_error(exc, "write") from exc
            if isinstance(exc, (ValueError, TypeError, IndexError)):
                raise CorruptStore(f"cert9.db/key4.db hold damaged objects; nothing was changed ({exc})",
                                   store=self.location) from exc
            raise
        finally:
            conn.close()
        # cert9.db (certificates and trust, nothing secret) is kept as it was before this write. key4.db is not:
        # a copy would keep every key under the old password after a password change, and keys the user deleted.
        backup.place()
        with suppress(FileNotFoundError):
            os.unlink(self.key_db + ".bak")  # one an earlier keystores left holds the same secrets

    def _apply(self, conn: sqlite3.Connection) -> None:
        self._chain_written = set()
        writer = Writer(conn, before_delete=lambda: self._store_pending(writer))
        ops = list(self._ops)
        # The password check record goes in last: a new database's is made by a worker beside the entries' own
        # derivations (Unlock._new_password's `ahead`), which are started before it is waited for.
        store_password = self._new or any(op == "init-password" for op, _ in ops)
        self._pending_macs, self._pending_values = [], []
        # a delete, a rename or a trust removed derives no key: no pool
        if all(op in ("remove", "rename") or (op == "trust" and arg[1] is None) for op, arg in ops):
            for op, arg in ops:
                if op == "remove":
                    self._delete_entry(writer, *arg)
                elif op == "rename":
                    self._rename_entry(writer, *arg)
                else:
                    self._set_trust(writer, *arg)
            if store_password:
                self._store_password(conn)
            return
        trusted = sum(1 for op, arg in ops if (op == "add" and nt.from_model(arg.trust) is not None)
                      or (op == "trust" and arg[1] is not None))
        if trusted:  # 7 MACs each: hashlib or cryptography is chosen for them all at once (crypto/pbkdf2.py)
            expect("sha256", self._iterations, 7 * trusted)
        with _PoolOnFirstUse() as self._kdf:
            for op, arg in ops:
                if op != "add":  # it reads back rows whose encrypted attributes and MACs may still be in the making
                    self._store_pending(writer)
                if op == "add":
                    from keystores.backends.nss import adding  # here: a rename, delete or trust off adds nothing

                    adding.insert_entry(self, writer, arg)
                elif op == "remove":
                    self._delete_entry(writer, *arg)
                elif op == "rename":
                    self._rename_entry(writer, *arg)
                elif op == "trust":
                    self._set_trust(writer, *arg)
                elif op == "password":
                    # here: only passwd re-encrypts; every other write (rename, delete, trust, import) loads none of it
                    from keystores.backends.nss.rekey import change_password

                    change_password(self, conn, writer, arg)
            if store_password:
                self._store_password(conn)
            self._store_pending(writer)


class _Backup:
    """cert9.db.bak, as cert9.db was before the write, written and synced beside it by a thread of _thread's while
    the write's transaction is applied and committed (sqlite lets the GIL go while it syncs the databases: each of
    them costs ~3 ms on a disk that syncs, and the backup's own sync no longer waits for them), and put in place
    once the write has committed (`place`: renamed, the folder synced, as fileio.atomic_write does); `drop` when
    the write failed. A backup that cannot be written is left out, as before: it is no part of the write."""

    def __init__(self, path: str, data: bytes) -> None:
        import _thread

        self._done = _thread.allocate_lock()
        self._done.acquire()
        self._staged: Any = None
        self._target = path
        _thread.start_new_thread(self._stage, (data,))

    def _stage(self, data: bytes) -> None:
        from keystores.fileio import _stage, _write_target

        try:
            self._target = _write_target(self._target)
            self._staged = _stage(self._target, data, private=True, clear_secret=False)
        except KeystoreError:
            pass
        finally:
            self._done.release()

    def place(self) -> None:
        from keystores.fileio import _fsync_folder

        staged = self._settled()
        if staged is None:
            return
        try:
            os.replace(staged.tmp, self._target)
        except OSError:
            return
        finally:
            staged.discard()
        _fsync_folder(paths.parent(self._target))

    def drop(self) -> None:
        staged = self._settled()
        if staged is not None:
            staged.discard()

    def _settled(self) -> Any:
        """The staged file, once the thread is done with it (None when it could not be written)."""
        with self._done:
            pass
        return self._staged


class _PoolOnFirstUse:
    """The write's keystores.crypto.kdf_pool.KdfPool, made on the first derivation submitted to it: a write that
    derives nothing (a certificate laid out again without trust, as `trust LABEL off` writes it) imports none of it
    (~0.9 M instructions)."""

    def __init__(self) -> None:
        self._pool: KdfPool | None = None

    def submit(self, iterations: int | None, call: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Pending[_T]:
        if self._pool is None:
            from keystores.crypto.kdf_pool import KdfPool

            self._pool = KdfPool()
        return self._pool.submit(iterations, call, *args, **kwargs)

    def __enter__(self) -> _PoolOnFirstUse:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:  # waits for the running calls, drops the queued ones (KdfPool.__exit__)
            self._pool.__exit__(*exc_info)


class WritableNssStore(WriteTransaction, SqlWrites, ChangeLog, NssStore):
    """An NssStore opened to be written or made (NssStore.__new__ makes one): the reading store with the change log,
    its save (the write transaction) and the rows and MACs SqlWrites and adding.py lay out, which reading never
    loads."""
