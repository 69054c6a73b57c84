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
from helpers import key_pair_entry, same_key, threads_left

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
    assert threads_left(before) == 0
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


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """Every PBKDF2 run (its salt), and the derivations started ahead when the source's parts are first read."""
    from keystores.crypto import pbe

    seen: dict[str, list] = {"pbkdf2": [], "ahead at read": []}
    real_pbkdf2, real_open_parts = pbe.pbkdf2_hmac, p12_read._open_parts

    def pbkdf2_hmac(hash_name, password, salt, *args):  # type: ignore[no-untyped-def]
        seen["pbkdf2"].append(salt)
        return real_pbkdf2(hash_name, password, salt, *args)

    def open_parts(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen["ahead at read"].append(sorted(derivation[3] for derivation in pbe._AHEAD  # their salts (the MAC's
                                            if derivation[0] == "pbkdf2"))  # PKCS#12 KDF aside)
        return real_open_parts(*args, **kwargs)

    monkeypatch.setattr(pbe, "pbkdf2_hmac", pbkdf2_hmac)
    monkeypatch.setattr(p12_read, "_open_parts", open_parts)
    return seen


@pytest.mark.parametrize("name", DESTINATIONS)
def test_a_transfer_s_source_starts_its_key_s_derivation_as_it_is_read_and_derives_it_once(
        source: Path, tmp_path: Path, two_cores: None, derivations: dict[str, list], name: str) -> None:
    """lazy_entries.KeysWanted: reading the source, before its MAC is checked, starts its part's key and its key bag's
    key (a listing starts the part's only); the key's opening takes it: PBKDF2 runs once for each, as on one core,
    nothing is left started, no thread is left, and the key is the source's."""
    from keystores.crypto import pbe

    before = _thread._count()
    transfer.convert(source, _dest(tmp_path, name), password=PASSWORD, dest_password=PASSWORD)
    assert [len(salts) for salts in derivations["ahead at read"]] == [2], derivations
    assert set(derivations["ahead at read"][0]) <= set(derivations["pbkdf2"])
    source_salts = set(derivations["ahead at read"][0])
    assert sorted(salt for salt in derivations["pbkdf2"] if salt in source_salts) == sorted(source_salts)  # once
    assert not pbe._AHEAD and threads_left(before) == 0
    with open_store(_dest(tmp_path, name), password=PASSWORD) as written, \
            open_store(source, password=PASSWORD) as read:
        assert same_key(written.get("server").key, read.get("server").key)
    derivations["ahead at read"].clear()
    with open_store(source, password=PASSWORD) as listed:
        assert "server" in listed.labels()
    assert [len(salts) for salts in derivations["ahead at read"]] == [1]  # a listing: the part's key only


def test_an_import_into_a_pkcs12_starts_the_source_s_keys_early_not_the_destination_s(
        source: Path, tmp_path: Path, two_cores: None, derivations: dict[str, list]) -> None:
    """The destination, opened after the source, carries its keys as read: nothing of its keys starts early."""
    dest = tmp_path / "dest.p12"
    with open_store(dest, password=PASSWORD, type="pkcs12", create=True) as store:
        store.add(key_pair_entry("other", index=2, use_ec=True))
    derivations["ahead at read"].clear()
    transfer.import_entries(source, dest, password=PASSWORD, dest_password=PASSWORD)
    source_salts, dest_salts = derivations["ahead at read"]
    # source, then destination: the destination's part's key alone (the source's key bag's key is there still
    # until the key's opening, begun on a worker, takes it: not the destination's)
    assert [len(source_salts), len(set(dest_salts) - set(source_salts))] == [2, 1], derivations
    with open_store(dest, password=PASSWORD) as written:
        assert {"other", "server"} <= set(written.labels())


def test_a_wrong_password_fails_a_transfer_as_on_one_core(source: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from keystores.crypto import pbe

    got = []
    for cores in (1, 2):
        monkeypatch.setattr(pbkdf2, "usable_cores", lambda cores=cores: cores)
        monkeypatch.setattr(kdf_pool, "usable_cores", lambda cores=cores: cores)
        before = _thread._count()
        with pytest.raises(WrongPassword) as caught:
            transfer.convert(source, tmp_path / f"w{cores}.pem", password="not the password")
        got.append((caught.value.reason, caught.value.store, caught.value.label, caught.value.exit_code))
        assert not (tmp_path / f"w{cores}.pem").exists() and not pbe._AHEAD and threads_left(before) == 0
    assert got[0] == got[1]
