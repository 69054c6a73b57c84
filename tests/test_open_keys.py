"""lazy_entries.open_keys: the sealed keys a transfer is about to open anyway are opened side by side, in worker
threads, where their backend allows it; a key that does not open stays sealed and raises where it is first used, as
without open_keys; keys of backends that may ask for a key password are left to be opened one by one."""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives import serialization
from helpers import ec_key, same_key

from keystores.crypto import pbe
from keystores.crypto.pbkdf2 import usable_cores
from keystores.errors import WrongPassword
from keystores.lazy_entries import open_keys, sealed_entry
from keystores.model import EntryKind

PASSWORD = "open-keys-pw"


def _sealed(index: int, *, encrypted_with: str = PASSWORD, in_threads: bool = True, threads: set[str]):
    key = ec_key(index)
    pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    blob = pbe.encrypt_pkcs8(pkcs8, encrypted_with, iterations=10_000)

    def unseal():
        threads.add(threading.current_thread().name)
        return serialization.load_der_private_key(pbe.decrypt_pkcs8(blob, PASSWORD), None)

    return key, sealed_entry(unseal, blob, None, in_threads=in_threads, label=f"key {index}",
                             kind=EntryKind.KEY_PAIR, key=None)


def test_keys_open_side_by_side_and_a_bad_one_fails_where_it_is_used():
    threads: set[str] = set()
    good = [_sealed(i, threads=threads) for i in range(4)]
    _, bad = _sealed(4, encrypted_with="another password", threads=threads)  # last: every good one has started
    _, asking = _sealed(5, in_threads=False, threads=threads)  # a backend that may prompt for this key's password
    entries = [entry for _, entry in good] + [bad, asking, good[0][1]]  # an entry given twice is opened once
    open_keys(entries)
    several_cores = usable_cores() >= 2
    assert all(entry.sealed is not several_cores for _, entry in good)
    assert bad.sealed and asking.sealed
    # On one core nothing is opened ahead; on more, each in a worker thread.
    assert (bool(threads) and all(name.startswith("open-keys") for name in threads)) is several_cores
    for key, entry in good:
        assert same_key(entry.key, key)
    with pytest.raises(WrongPassword):
        _ = bad.key
    assert bad.sealed  # still: a later use raises again
    assert same_key(asking.key, ec_key(5))
    assert threading.current_thread().name in threads  # the one left out was opened here, when used
