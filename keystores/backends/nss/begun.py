"""A new NSS database's derivations, begun before its backend is imported (its format record's `begin`).

A new database's password check and each new key pair's encrypted value and MAC are PBKDF2 derivations from the
passKey, which depends only on the password and a fresh global salt: none of them needs the entries. Begun when the
caller knows it will create the database (keystores.store.begin_opening, from the CLI once it has read `convert
SRC sql:DIR --dest-password ...`), they run on a worker while the caller reads its source and imports the backend,
where they started only once the new database was opened and its entries added (bench_commands "convert one.p12 to
sql:nss": the main thread then waited for the key pair's two at the write). The store's creation
(NssStore._new_password) takes them up for the same folder and password, or drops them.

One worker takes them in turn, the password check first (the write needs it first): the caller's thread, importing,
keeps the other core. Two derivations are begun for one key pair, what a write of one key pair takes (an EC key's
every one; adding.derive_ahead); a source of more keys has the rest derived as before, one of none leaves them
unused. Nothing is begun for an existing database, an empty password (1 iteration), or on one core.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.crypto.kdf_pool import KdfPool, Pending

# A key pair's derivations begun with the password check (adding.derive_ahead's count for one key pair)
KEY_PAIR_DERIVATIONS = 2


class Begun:
    """What was begun for one new database: its salt, passKey and count, and the derivations in the making on
    `pool` (the password check's record, then the key pair's (salt, key) pairs)."""

    __slots__ = ("check", "derived", "global_salt", "iterations", "pass_key", "password", "pool")

    def __init__(self, password: str, global_salt: bytes, pass_key: bytes, iterations: int, pool: KdfPool,
                 check: Pending[bytes], derived: list[Pending[tuple[bytes, bytes]]]) -> None:
        self.password, self.global_salt, self.pass_key, self.iterations = password, global_salt, pass_key, iterations
        self.pool, self.check, self.derived = pool, check, derived


_begun: dict[str, Begun] = {}  # the new database's folder (as NssStore spells it) -> what was begun for it


def begin(location: str, *, password: str | None, writable: bool, options: dict[str, Any], ahead: bool = False,
          create: bool = False) -> None:
    """The NSS format record's `begin`: begun `ahead` (the caller has its source to read and the backend to import
    meanwhile) with `create` and a password, where `location`'s folder holds no database yet, its password check
    and one key pair's derivations started on a worker. Not from open_store itself, whose store is created next:
    its key pair's derivations, unused by a database made empty (`create`), would be waited for at its close.
    Raises nothing."""
    if not (ahead and create and password) or options:
        return
    try:
        from keystores import paths

        folder = paths.normal(location[4:] if location.startswith("sql:") else location)
        if folder in _begun or paths.exists(paths.join(folder, "cert9.db")):
            return
        from keystores.crypto.pbkdf2 import usable_cores

        if usable_cores() < 2:
            return
        from keystores.backends.nss import crypto as nc
        from keystores.crypto.kdf_pool import KdfPool

        global_salt = os.urandom(20)  # as NssStore._new_password makes it (SHA-1 passKey)
        pass_key, iterations = nc.pass_key(global_salt, password), nc.DEFAULT_ITERATIONS
        pool = KdfPool("nss-new-ahead", spare_caller=True)  # one worker on two cores (`most` 1 would run them here)
        check = pool.submit(iterations, nc.encrypt_value, b"password-check", pass_key, iterations=iterations)
        derived = [pool.submit(iterations, nc.fresh_derivation, pass_key, iterations)
                   for _ in range(KEY_PAIR_DERIVATIONS)]
        _begun[folder] = Begun(password, global_salt, pass_key, iterations, pool, check, derived)
    except Exception:  # the store's creation derives its own, as it always has
        return


def take(folder: str, password: str) -> Begun | None:
    """What was begun for a new database in `folder` under `password`, handed out once; one begun under another
    password is dropped (a derivation under way is waited for: its pool's exit)."""
    begun = _begun.pop(folder, None)
    if begun is None or begun.password == password:
        return begun
    begun.pool.__exit__(None, None, None)
    return None
