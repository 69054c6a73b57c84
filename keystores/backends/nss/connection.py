"""The sqlite side of NssStore: connections over key4.db with cert9.db attached, what sqlite's errors mean to the user,
the files' change counters, and the metaData MAC items read on first use.
"""

from __future__ import annotations

import os

from keystores.backends.nss import db
from keystores.backends.nss import sqlite as sqlite3
from keystores.errors import (
    CorruptStore,
    KeystoreError,
    StoreLocked,
)


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
