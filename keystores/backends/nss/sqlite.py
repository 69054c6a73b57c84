"""The parts of the sqlite3 module the NSS backend uses, taken from its engine, `_sqlite3`, when there is one.

A speed device (issue 15): the sqlite3 package's dbapi2 module imports datetime, collections.abc and time to
register date adapters this backend never uses (it stores blobs and integers only), ~2.4 ms of every NSS command's
start-up. `sqlite3.connect`, `Connection`, `Error` and `OperationalError` are `_sqlite3`'s own objects re-exported
(`from _sqlite3 import *`), so these are the very same; where a Python has no `_sqlite3` (another implementation),
the package is imported. tests/test_nss_write_lean.py checks both points.
"""

from __future__ import annotations

try:
    from _sqlite3 import Connection, Error, OperationalError, connect
except ImportError:  # pragma: no cover - a Python whose sqlite3 is built otherwise
    from sqlite3 import Connection, Error, OperationalError, connect

__all__ = ["Connection", "Error", "OperationalError", "connect"]
