"""The sqlite side of an NSS "sql:" database: attribute numbers, row encoding, the columns NSS creates, reading the
object tables in one SELECT each. What writes them (transaction.py's Writer and create_schema) is a write's: a read
loads none of it (issue 15).
"""

from __future__ import annotations

import errno
import os

# The sqlite engine, `_sqlite3`, where there is one: the sqlite3 package's dbapi2 module imports datetime,
# collections.abc and time to register date adapters this backend never uses (it stores blobs and integers only),
# ~2.4 ms of every NSS command's start-up (issue 15). `sqlite3.connect`, `Connection`, `Error` and
# `OperationalError` are `_sqlite3`'s own objects re-exported (`from _sqlite3 import *`), so these are the very same;
# where a Python has no `_sqlite3` (another implementation), the package is imported. The other NSS modules take
# it from here (`from keystores.backends.nss.db import sqlite3`); tests/test_nss_write_lean.py checks both points.
try:
    import _sqlite3 as sqlite3
except ImportError:  # pragma: no cover - a Python whose sqlite3 is built otherwise
    import sqlite3  # type: ignore[no-redef]

# NSS stores PKCS#11 attributes as columns a<hex>. The standard numbers are keystores.pki.cka's (those of the
# mapping shared with the PKCS#11 backend, keystores.pki.key_attributes); the NSS modules name them through this
# module, beside NSS's own.
from keystores.pki.cka import (  # noqa: F401  (re-exported for the NSS modules)
    CKA_ALWAYS_SENSITIVE,
    CKA_BASE,
    CKA_CERTIFICATE_TYPE,
    CKA_CLASS,
    CKA_COEFFICIENT,
    CKA_EC_PARAMS,
    CKA_END_DATE,
    CKA_EXPONENT_1,
    CKA_EXPONENT_2,
    CKA_EXTRACTABLE,
    CKA_ID,
    CKA_ISSUER,
    CKA_KEY_TYPE,
    CKA_LABEL,
    CKA_LOCAL,
    CKA_MODIFIABLE,
    CKA_MODULUS,
    CKA_NEVER_EXTRACTABLE,
    CKA_PRIME,
    CKA_PRIME_1,
    CKA_PRIME_2,
    CKA_PRIVATE,
    CKA_PRIVATE_EXPONENT,
    CKA_PUBLIC_EXPONENT,
    CKA_SENSITIVE,
    CKA_SERIAL_NUMBER,
    CKA_START_DATE,
    CKA_SUBJECT,
    CKA_SUBPRIME,
    CKA_TOKEN,
    CKA_VALUE,
    CKO_CERTIFICATE,
    CKO_PRIVATE_KEY,
    CKO_PUBLIC_KEY,
)

CKA_NAME_HASH_ALGORITHM, CKA_HASH_OF_CERTIFICATE, CKA_SEED = 0x8C, 0x635, 0x637
CKA_PKCS_TRUST_SERVER_AUTH, CKA_PKCS_TRUST_CLIENT_AUTH = 0x62C, 0x62D
CKA_PKCS_TRUST_CODE_SIGNING, CKA_PKCS_TRUST_EMAIL_PROTECTION = 0x62E, 0x62F
CKA_NSS_DB = 0xD5A0DB00
CKA_TRUST_SERVER_AUTH, CKA_TRUST_CLIENT_AUTH = 0xCE536358, 0xCE536359
CKA_TRUST_CODE_SIGNING, CKA_TRUST_EMAIL_PROTECTION = 0xCE53635A, 0xCE53635B
CKA_TRUST_STEP_UP_APPROVED, CKA_CERT_SHA1_HASH, CKA_CERT_MD5_HASH = 0xCE536360, 0xCE5363B4, 0xCE5363B5

CKO_TRUST = 0x0B
CKO_NSS_TRUST = 0xCE534353

#: Private attributes NSS encrypts with the passKey (sftkdb_isPrivateAttribute).
ENCRYPTED = frozenset({CKA_VALUE, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2,
                       CKA_COEFFICIENT, CKA_SEED})
#: Public attributes NSS authenticates with a MAC (sftkdb_isAuthenticatedAttribute).
AUTHENTICATED = frozenset({CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_CERT_SHA1_HASH, CKA_CERT_MD5_HASH,
                           CKA_TRUST_SERVER_AUTH, CKA_TRUST_CLIENT_AUTH, CKA_TRUST_EMAIL_PROTECTION,
                           CKA_TRUST_CODE_SIGNING, CKA_TRUST_STEP_UP_APPROVED, CKA_HASH_OF_CERTIFICATE,
                           CKA_NAME_HASH_ALGORITHM, CKA_PKCS_TRUST_SERVER_AUTH, CKA_PKCS_TRUST_CLIENT_AUTH,
                           CKA_PKCS_TRUST_CODE_SIGNING, CKA_PKCS_TRUST_EMAIL_PROTECTION})

EMPTY = b"\xa5\x00\x5a"  # NSS's marker for "present but zero-length"
TRUE, FALSE = b"\x01", b"\x00"

PUBLIC_TABLE, PRIVATE_TABLE = "nssPublic", "nssPrivate"

# The columns NSS 3.87 creates (sdb.c's known attribute list); newer versions add more on open.
_SCHEMA_TEXT = (
    "0 1 2 3 10 11 12 80 81 82 83 84 85 86 87 88 89 8a 8b 90 100 101 102 103 104 105 106 107 108 109 10a 10b 10c "
    "110 111 120 121 122 123 124 125 126 127 128 129 130 131 132 133 134 160 161 162 163 164 165 166 170 180 181 "
    "200 201 202 210 300 301 302 400 401 402 403 404 405 406 480 481 482 500 501 502 503 40000211 40000212 80000001 "
    "ce534351 ce534352 ce534353 ce534354 ce534355 ce534356 ce534357 ce534358 ce534364 ce534365 ce534366 ce534367 "
    "ce534368 ce534369 ce534373 ce534374 ce536351 ce536352 ce536353 ce536354 ce536355 ce536356 ce536357 ce536358 "
    "ce536359 ce53635a ce53635b ce53635c ce53635d ce53635e ce53635f ce536360 ce5363b4 ce5363b5 d5a0db00"
)
_SCHEMA_ATTRS = tuple(_SCHEMA_TEXT.split())


def column(attr: int) -> str:
    return f"a{attr:x}"


def ulong(value: int) -> bytes:
    return value.to_bytes(4, "big")


def read_ulong(value: bytes | None) -> int | None:
    if value is None or len(value) != 4:
        return None
    return int.from_bytes(value, "big")


def plain(value: bytes | None) -> bytes | None:
    """A stored value as the PKCS#11 attribute value (the empty marker becomes b"")."""
    if value is None:
        return None
    value = bytes(value)
    return b"" if value == EMPTY else value


def stored(value: bytes) -> bytes:
    return value if value else EMPTY


# What keystores.percent.quote(path) keeps as it is: RFC 3986's unreserved characters and its default safe '/'
_URI_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/")


def db_uri(path: str, *, writable: bool) -> str:
    """sqlite's URI of the database file at `path`, resolved, as `quote(str(Path(path).resolve()))` spells it
    (without pathlib and urllib.parse, which cost more to import than opening a small database: issue 15).
    A path quote would leave as it is (most are) is taken as it is: keystores.percent is imported only for one
    that needs escaping (~0.1 ms of every NSS command otherwise)."""
    resolved = os.path.realpath(path)
    try:
        os.stat(resolved)
    except OSError as exc:  # Path.resolve's check: a symlink loop raises, anything else is sqlite's to report
        if exc.errno == errno.ELOOP:
            raise RuntimeError(f"Symlink loop from {exc.filename!r}") from None
    if not _URI_PLAIN.issuperset(resolved):
        from keystores.percent import quote

        resolved = quote(resolved)
    return f"file:{resolved}?mode={'rw' if writable else 'ro'}"


def table_columns(conn: sqlite3.Connection, schema: str, table: str) -> set[str]:
    """The table's column names, from a SELECT * that returns no row (its description): the names PRAGMA table_info
    gives, for a sixth of the time (it makes a row of six values per column, and NSS's tables have ~100)."""
    return {column[0] for column in conn.execute(f"SELECT * FROM {schema}.{table} LIMIT 0").description}


class Row:
    """One object: its id and the attributes that were asked for (stored form; None when absent).

    Values stay in the tuple sqlite returned, addressed through one shared attribute -> position map, so
    reading thousands of objects builds no per-row dictionaries.
    """

    __slots__ = ("_index", "_values", "id")

    def __init__(self, object_id: int, values: tuple[object, ...], index: dict[int, int]) -> None:
        self.id = object_id
        self._values = values
        self._index = index

    def get(self, attr: int) -> bytes | None:
        position = self._index.get(attr)
        if position is None:
            return None
        value = self._values[position]
        if value is None:
            return None
        if not isinstance(value, bytes):
            raise ValueError(f"attribute 0x{attr:x} of object {self.id} is not a blob")
        return b"" if value == EMPTY else value

    def raw(self, attrs: tuple[int, ...]) -> tuple[object, ...]:
        """The values of `attrs` as sqlite returned them, unchecked (None where there is no column): a cache key for
        what is decoded from them, cheaper than a get() per attribute; the decoding reads them through get()."""
        index, values = self._index, self._values
        found = []
        for attr in attrs:  # a loop: Python 3.11 runs a comprehension as a function call
            found.append(values[index[attr]] if attr in index else None)
        return tuple(found)


def select_rows(conn: sqlite3.Connection, schema: str, table: str, wanted: list[int]) -> list[Row]:
    """All objects of `table` with the `wanted` attributes that have columns: one SELECT."""
    present = table_columns(conn, schema, table)
    attrs = [a for a in wanted if column(a) in present]
    cols = ", ".join(["id", *(column(a) for a in attrs)])
    index = {attr: position for position, attr in enumerate(attrs, 1)}
    rows = []
    for record in conn.execute(f"SELECT {cols} FROM {schema}.{table}"):
        if not isinstance(record[0], int):
            raise ValueError(f"an object of {table} has no numeric id")
        rows.append(Row(record[0], record, index))
    return rows
