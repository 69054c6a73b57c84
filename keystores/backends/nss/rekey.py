"""An NSS database's password change (certutil -W): every private attribute re-encrypted and every integrity MAC made
again under the new password, each checked under the old one first."""

from __future__ import annotations

from keystores.backends.nss import crypto as nc
from keystores.backends.nss import db
from keystores.crypto.pbkdf2 import expect
from keystores.errors import IntegrityError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from keystores.backends.nss.db import sqlite3
    from keystores.backends.nss.transaction import WritableNssStore, Writer
    from keystores.crypto.kdf_pool import Pending


def change_password(store: WritableNssStore, conn: sqlite3.Connection, writer: Writer, new_password: str) -> None:
    """Re-encrypt every private attribute and re-MAC every authenticated one under the new password, as
    `certutil -W` does: fresh salts, NSS's iteration count (the database's own when it is higher). Each
    attribute is checked (decrypted, its MAC verified) under the old password and sealed under the new one in
    one job on the KDF pool, all jobs side by side; the first that fails stops the change, and the transaction
    is rolled back whole."""
    import keystores.backends.nss.macs  # noqa: F401  # loaded here for _remac, not by the pool's workers

    old_key = store._need_key("change the password")
    meta = {r[0]: bytes(r[1]) for r in conn.execute("SELECT id, item1 FROM main.metaData WHERE id LIKE 'sig_%'")
            if r[1] is not None}
    private = db.select_rows(conn, "main", db.PRIVATE_TABLE, sorted({db.CKA_LABEL, *db.ENCRYPTED,
                                                                      *db.AUTHENTICATED}))
    public = db.select_rows(conn, "cert", db.PUBLIC_TABLE, sorted({db.CKA_LABEL, *db.AUTHENTICATED}))
    old_iterations = store._iterations
    # Each encrypted attribute is decrypted and encrypted again, each MAC checked and made again, after the new
    # password check is made: the derivation engine is chosen for them all before the first (crypto/pbkdf2.py).
    sealed = sum(row.get(attr) is not None for row in private for attr in db.ENCRYPTED)
    expect("sha256", old_iterations, 1 + 2 * (len(meta) + sealed))
    store._new_password(new_password, salt_length=len(store._global_salt), at_least=old_iterations)
    new_key, iterations, legacy = store._pass_key, store._iterations, store._legacy
    assert new_key is not None
    store._store_password(conn)
    costliest = max(old_iterations, iterations)

    def remac(kind: str, object_id: int, mac_id: int, attr: int, value: bytes) -> tuple[str, Pending[bytes]]:
        name = f"sig_{kind}_{object_id:08x}_{attr:08x}"
        return name, store._kdf.submit(costliest, _remac, meta.get(name), old_key, new_key, name, mac_id, attr,
                                       value, iterations)

    # Every job is queued before the first result is awaited: the pool never waits for this thread.
    work: list[tuple[str, int, dict[int, Pending[tuple[bytes, bytes]]], list[tuple[str, Pending[bytes]]]]] = []
    for row in private:
        sealed = {attr: store._kdf.submit(costliest, _reseal, blob, meta.get(f"sig_key_{row.id:08x}_{attr:08x}"),
                                          old_key, new_key, f"sig_key_{row.id:08x}_{attr:08x}", attr, iterations,
                                          legacy)
                  for attr in db.ENCRYPTED if (blob := row.get(attr)) is not None}
        macs = [remac("key", row.id, row.id, attr, value)
                for attr in db.AUTHENTICATED if (value := row.get(attr)) is not None]
        work.append(((row.get(db.CKA_LABEL) or b"").decode("utf-8", "replace"), row.id, sealed, macs))
    for row in public:
        macs = [remac("cert", row.id, row.id, attr, value) for attr in db.AUTHENTICATED
                if (value := row.get(attr)) is not None and f"sig_cert_{row.id:08x}_{attr:08x}" in meta]
        if macs:
            work.append(("", row.id, {}, macs))
    for label, object_id, sealed, macs in work:
        try:
            values = {attr: done.result() for attr, done in sealed.items()}
            items = [(f"sig_key_{object_id:08x}_{attr:08x}", mac) for attr, (_, mac) in values.items()]
            items += [(name, done.result()) for name, done in macs]
        except _Refused as exc:
            raise IntegrityError(f"{exc}; the password is left unchanged", store=store.location,
                                 label=label) from exc
        if values:
            writer.update("main", db.PRIVATE_TABLE, object_id, {attr: blob for attr, (blob, _) in values.items()})
        conn.executemany("INSERT OR REPLACE INTO main.metaData (id, item1) VALUES (?, ?)", items)
    store._meta = None


class _Refused(Exception):
    """An attribute that does not decrypt, or whose integrity MAC does not match, under the old password (raised
    in a KDF pool thread; _change_password names the entry)."""


def _remac(old_mac: bytes | None, old_key: bytes, new_key: bytes, name: str, mac_id: int, attr: int, value: bytes,
           iterations: int) -> bytes:
    """The attribute's MAC under `new_key`, once its MAC under `old_key` (where it has one) is checked."""
    from keystores.backends.nss.macs import check_mac, make_mac  # loaded by _change_password

    if old_mac is not None and not check_mac(old_mac, old_key, mac_id, attr, value):
        raise _Refused(f"the integrity MAC {name} does not match")
    return make_mac(new_key, mac_id, attr, value, iterations=iterations)


def _reseal(blob: bytes, old_mac: bytes | None, old_key: bytes, new_key: bytes, name: str, attr: int,
            iterations: int, legacy: bool) -> tuple[bytes, bytes]:
    """A private attribute decrypted and MAC-checked under `old_key`, then (encrypted, MAC) under `new_key`.
    NSS MACs a private attribute's plaintext with object id 0."""
    try:
        value = nc.decrypt_value(blob, old_key)
    except (nc.DecryptFailed, nc.DerError) as exc:
        raise _Refused("a private key attribute does not decrypt") from exc
    mac = _remac(old_mac, old_key, new_key, name, 0, attr, value, iterations)
    return nc.encrypt_value(value, new_key, iterations=iterations, legacy=legacy), mac
