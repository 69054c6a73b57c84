"""lazy_entries.KeysAhead (issue 15): a transfer starts its sealed keys' derivations on a worker as soon as the source
is open and opens or creates its destination meanwhile, instead of deriving each key alone just before it is used.
A key that does not open fails the transfer where it is used, with the same error as without, and nothing is
written; an interrupt meanwhile leaves no thread and nothing written."""

from __future__ import annotations

import _thread
import threading
from pathlib import Path

import pytest
from hardening import PASSWORD
from helpers import key_pair_entry, same_key

from keystores.backends.pkcs12 import read as p12_read
from keystores.crypto import kdf_pool, pbkdf2
from keystores.errors import WrongPassword
from keystores.lazy_entries import KeysAhead, SealedEntry
from keystores.ops import transfer
from keystores.store import open_store

# where bench/bench_commands.py converts one.p12 to, and PEM
DESTINATIONS = ["c.pem", "c.jks", "c.kdb", "c.p12", "sql:{}/nss"]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "src" / "one.p12"
    path.parent.mkdir()
    with open_store(path, password=PASSWORD, type="pkcs12", create=True) as store:
        store.add(key_pair_entry("server", index=1, use_ec=True))
    return path


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker on any machine."""
    monkeypatch.setattr(pbkdf2, "usable_cores", lambda: 2)
    monkeypatch.setattr(kdf_pool, "usable_cores", lambda: 2)


def _dest(tmp_path: Path, name: str) -> str:
    return name.format(tmp_path) if name.startswith("sql:") else str(tmp_path / name)


def _workers_left(before: int) -> int:
    """Threads more than `before` still running (kdf_pool's are _thread's), given a few seconds to end."""
    import time

    deadline = time.monotonic() + 5
    while _thread._count() > before and time.monotonic() < deadline:
        time.sleep(0.001)
    return _thread._count() - before


def test_a_convert_derives_its_key_on_a_worker_while_the_destination_is_opened(
        source: Path, tmp_path: Path, two_cores: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key's decryption waits until the destination has been opened: on main, where the key was opened before
    the destination, this would wait in vain."""
    dest_opened, threads = threading.Event(), []
    real_decrypted, real_open = p12_read._decrypted_key, transfer.open_store

    def decrypted(*args, **kwargs):
        threads.append(threading.get_ident())
        assert dest_opened.wait(10), "the key was opened before the destination, not beside"
        return real_decrypted(*args, **kwargs)

    def opened(location, **kwargs):
        store = real_open(location, **kwargs)
        if kwargs.get("create"):
            dest_opened.set()
        return store

    monkeypatch.setattr(p12_read, "_decrypted_key", decrypted)
    monkeypatch.setattr(transfer, "open_store", opened)
    out = tmp_path / "c.pem"
    transfer.convert(source, out, password=PASSWORD)
    assert threads and threading.get_ident() not in threads
    with open_store(out) as written, open_store(source, password=PASSWORD) as read:
        assert same_key(written.get("server").key, read.get("server").key)


@pytest.mark.parametrize("name", DESTINATIONS)
def test_a_key_that_does_not_open_fails_as_without_it_and_writes_nothing(
        source: Path, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same error (type, message, store, label) on two cores, where the key opens ahead, as on one, where it
    opens when used; no destination is left."""

    def refused(*args, **kwargs):
        raise WrongPassword("the key is protected with a password other than the store's", store=str(source),
                            label="server")

    monkeypatch.setattr(p12_read, "_decrypted_key", refused)
    got = []
    for cores in (1, 2):
        monkeypatch.setattr(pbkdf2, "usable_cores", lambda cores=cores: cores)
        monkeypatch.setattr(kdf_pool, "usable_cores", lambda cores=cores: cores)
        folder = tmp_path / f"on{cores}"
        folder.mkdir()
        with pytest.raises(WrongPassword) as caught:
            transfer.convert(source, _dest(folder, name), password=PASSWORD, dest_password=PASSWORD)
        got.append((caught.value.reason, caught.value.store, caught.value.label, caught.value.exit_code))
        assert list(folder.iterdir()) == []
    assert got[0] == got[1]


def test_an_interrupt_while_the_key_derives_ahead_leaves_no_thread_and_writes_nothing(
        source: Path, tmp_path: Path, two_cores: None, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _thread._count()
    deriving = threading.Event()
    real_decrypted, real_open = p12_read._decrypted_key, transfer.open_store

    def decrypted(*args, **kwargs):
        deriving.set()
        return real_decrypted(*args, **kwargs)

    def opened(location, **kwargs):
        if kwargs.get("create"):
            assert deriving.wait(10)
            raise KeyboardInterrupt
        return real_open(location, **kwargs)

    monkeypatch.setattr(p12_read, "_decrypted_key", decrypted)
    monkeypatch.setattr(transfer, "open_store", opened)
    out = tmp_path / "c.jks"
    with pytest.raises(KeyboardInterrupt):
        transfer.convert(source, out, password=PASSWORD, dest_password=PASSWORD)
    assert _workers_left(before) == 0
    assert not out.exists()


def test_keys_ahead_opens_in_a_worker_and_a_bad_key_raises_where_it_is_used(
        source: Path, two_cores: None, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real_decrypted = p12_read._decrypted_key

    def decrypted(*args, **kwargs):
        threads.append(threading.get_ident())
        return real_decrypted(*args, **kwargs)

    monkeypatch.setattr(p12_read, "_decrypted_key", decrypted)
    with open_store(source, password=PASSWORD) as store, KeysAhead() as ahead:
        entry = store.get("server")
        assert isinstance(entry, SealedEntry)
        ahead.start([entry])
        assert list(ahead.started.values()) == [entry]
        held = entry.held_pkcs8()  # waits for the worker's opening, and takes it
        assert held is not None and threads and threading.get_ident() not in threads
        assert len(threads) == 1  # derived once

    def refused(*args, **kwargs):
        threads.append(threading.get_ident())
        raise WrongPassword("the key is protected with a password other than the store's")

    monkeypatch.setattr(p12_read, "_decrypted_key", refused)
    threads.clear()
    with open_store(source, password=PASSWORD) as store, KeysAhead() as ahead:
        entry = store.get("server")
        ahead.start([entry])
        with pytest.raises(WrongPassword):
            entry.held_pkcs8()
        assert entry.sealed
        assert threads[-1] == threading.get_ident()  # raised again here, where the key is used


def test_on_one_core_nothing_is_started(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pbkdf2, "usable_cores", lambda: 1)
    with open_store(source, password=PASSWORD) as store, KeysAhead() as ahead:
        entry = store.get("server")
        ahead.start([entry])
        assert ahead.started == {} and "_ahead" not in entry.__dict__
