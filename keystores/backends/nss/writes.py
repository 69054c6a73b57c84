"""The SQL writes of a save that lay nothing out: deletes, renames, a trust removed, the password record, and the
MAC items and encrypted values an add (adding.py, which lays out certificate, trust and key objects) left in the
making. A rename, delete or trust off loads this and not adding.py (issue 15).
"""

from __future__ import annotations

from keystores.backends.nss import db
from keystores.backends.nss.db import sqlite3
from keystores.errors import StoreLocked

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.backends.nss import trust as nt


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

    def _store_pending(self, writer: db.Writer) -> None:
        """Write the MAC items and encrypted attributes being made, once they are made. Until then the next
        objects are laid out while the pool derives, so it is never left without work between two objects; this
        runs before any row is deleted (db.Writer's hook: a deleted object's MACs must go with it), before an
        operation other than an add reads rows back, and at the end of the write."""
        items = [(name, mac.result()) for name, mac in self._pending_macs]
        self._pending_macs = []
        writer.conn.executemany("INSERT OR REPLACE INTO main.metaData (id, item1) VALUES (?, ?)", items)
        values, self._pending_values = self._pending_values, []
        for schema, table, object_id, attrs in values:
            writer.update(schema, table, object_id, {attr: done.result() for attr, done in attrs.items()})

    @staticmethod
    def _cert_rows(conn: sqlite3.Connection, where: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        return conn.execute(f"SELECT id, a3, a11, a81, a82, a101, a102 FROM cert.nssPublic WHERE a0=? AND {where}",
                            (db.ulong(db.CKO_CERTIFICATE), *args)).fetchall()

    def _set_trust(self, writer: db.Writer, cert_id: int, levels: nt.Levels | None) -> None:
        """The certificate object `cert_id` trusted for `levels` (its trust object and MACs made again, as
        adding.insert_trust makes them), or no longer (None: its trust objects and their MACs removed); the
        certificate object is left as it is, as certutil -M leaves it."""
        rows = self._cert_rows(writer.conn, "id=?", (cert_id,))
        if not rows:
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

    def _rename_entry(self, writer: db.Writer, old: str, new: str, cert_id: int | None) -> None:
        conn = writer.conn
        if cert_id is not None:
            rows = self._cert_rows(conn, "id=?", (cert_id,))
        else:
            rows = self._cert_rows(conn, "a3=?", (old.encode("utf-8"),))
        for object_id, _label, _der, _issuer, _serial, _subject, ckaid in rows:
            conn.execute("UPDATE cert.nssPublic SET a3=? WHERE id=?", (new.encode("utf-8"), object_id))
            # Looked for before it is updated: an UPDATE write-locks key4.db even when it matches no row, and a
            # certificate without a key then commits cert9.db alone (transaction.py's _write_in_place).
            if ckaid and conn.execute("SELECT 1 FROM main.nssPrivate WHERE a102=? AND a3=?",
                                      (ckaid, old.encode("utf-8"))).fetchone() is not None:
                conn.execute("UPDATE main.nssPrivate SET a3=? WHERE a102=? AND a3=?",
                             (new.encode("utf-8"), ckaid, old.encode("utf-8")))
