"""An NSS write derives its MAC and encryption keys ahead (keystores.backends.nss.adding.derive_ahead):
an add of a key pair or a trusted entry starts the derivations its rows will take (a key's value and that value's
MAC, a trust object's 7 MACs), each a fresh salt and PBKDF2 key under the passKey, and the write takes each once
instead of deriving its own. Held here: what is written is what a write deriving in place writes (the same number
of derivations, every salt fresh, the keys and trust read back, certutil reads the database), and nothing made
under another passKey or iteration count is used.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import key_pair_entry, same_key, trusted_entry
from test_nss import PW, _protection_items, needs_nss, run

from keystores.backends.nss import crypto as nc
from keystores.store import open_store


@pytest.fixture
def pwfile(tmp_path: Path) -> Path:
    path = tmp_path / "pw.txt"
    path.write_text(PW + "\n")
    return path


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every PBKDF2 the NSS backend runs (iterations of each), in whatever thread."""
    calls: list[int] = []
    real = nc.pbkdf2_hmac

    def counted(hash_name: str, password: bytes, salt: bytes, iterations: int, size: int) -> bytes:
        calls.append(iterations)
        return real(hash_name, password, salt, iterations, size)

    monkeypatch.setattr(nc, "pbkdf2_hmac", counted)
    return calls


def test_an_add_starts_its_derivations_and_the_write_takes_each_once(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("keystores.crypto.pbkdf2.usable_cores", lambda: 2)
    calls = _counting(monkeypatch)
    folder = tmp_path / "db"
    pair = key_pair_entry("server", use_ec=True)
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(pair)
        assert store._ahead.started == 2  # the EC value encrypted, its MAC
        store.add(trusted_entry("root", index=3))
        assert store._ahead.started == 9  # and the trust object's 7 MACs
        store.add(trusted_entry("other", index=4))
        assert store._ahead.started == 9  # the write's first trusted entry's only: a bundle's others in the write
    assert store._ahead is None
    # the password check, the 2 made ahead, the trusts' 14: no more, no fewer than a write deriving in place
    assert calls == [10_000] * 17
    _, salts = _protection_items(folder)
    assert len(salts) == len(set(salts)) == 16  # each derivation served one attribute
    with open_store(f"sql:{folder}", password=PW) as store:
        assert same_key(store.get("server").key, pair.key)
        for label in ("root", "other"):  # their 7 MACs each
            assert store.get(label).trust.native == "CT,C,C" and store.get(label).trust.verified


def test_an_rsa_key_takes_two_made_ahead_and_derives_the_rest_in_the_write(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("keystores.crypto.pbkdf2.usable_cores", lambda: 2)
    calls = _counting(monkeypatch)
    folder = tmp_path / "db"
    pair = key_pair_entry("rsa")
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(pair)
        assert store._ahead.started == 2
    assert calls == [10_000] * (1 + 16)  # the password check; 6 values encrypted, 10 MACs (as pk12util)
    _, salts = _protection_items(folder)
    assert len(salts) == len(set(salts)) == 16
    with open_store(f"sql:{folder}", password=PW) as store:
        assert same_key(store.get("rsa").key, pair.key)


@pytest.mark.parametrize("order", ["add first", "password first"])
def test_nothing_made_under_the_old_password_serves_the_new_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 order: str) -> None:
    """A password change in the same write: an add queued before it is written under the old passKey (and
    re-encrypted), one after it under the new one; either way the keys read back under the new password only."""
    monkeypatch.setattr("keystores.crypto.pbkdf2.usable_cores", lambda: 2)
    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(trusted_entry("root", index=3))
    pair = key_pair_entry("server", use_ec=True)
    with open_store(f"sql:{folder}", password=PW, writable=True) as store:
        if order == "add first":
            store.add(pair)
            store.set_password("another-pw")
        else:
            store.set_password("another-pw")
            store.add(pair)
        assert store._ahead.started == 2
    with open_store(f"sql:{folder}", password="another-pw") as store:
        assert same_key(store.get("server").key, pair.key)
        assert store.get("root").trust.native == "CT,C,C" and store.get("root").trust.verified
    _, salts = _protection_items(folder)
    assert len(salts) == len(set(salts))


def test_no_derivation_ahead_on_one_core_nor_for_an_empty_password(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("keystores.crypto.pbkdf2.usable_cores", lambda: 1)
    with open_store(f"sql:{tmp_path / 'one'}", password=PW, create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
        assert store._ahead is None
    monkeypatch.setattr("keystores.crypto.pbkdf2.usable_cores", lambda: 2)
    with open_store(f"sql:{tmp_path / 'empty'}", password="", create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
        assert store._ahead is None  # 1 iteration: nothing worth a thread
    with open_store(f"sql:{tmp_path / 'empty'}", password="") as store:
        assert store.get("server").key is not None


def test_the_hint_and_the_add_start_the_same_two_and_a_store_closed_unsaved_drops_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("keystores.crypto.pbkdf2.usable_cores", lambda: 2)
    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(trusted_entry("root", index=3))
    store = open_store(f"sql:{folder}", password=PW, writable=True)
    store.expect_write(new_keys=1)
    assert store._ahead.started == 2
    store.add(key_pair_entry("server", use_ec=True))
    assert store._ahead.started == 2  # the add's two are the two hinted
    store.close()  # not saved
    assert store._ahead is None
    with open_store(f"sql:{folder}", password=PW) as store:
        assert store.labels() == ["root"]


@needs_nss
def test_certutil_reads_what_a_write_with_derivations_ahead_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  pwfile: Path) -> None:
    monkeypatch.setattr("keystores.crypto.pbkdf2.usable_cores", lambda: 2)
    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
        store.add(key_pair_entry("rsa", index=4))
        store.add(trusted_entry("root", index=3))
    keys = run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(pwfile)).stdout
    assert "server" in keys and "rsa" in keys, keys
    listed = run("certutil", "-L", "-d", f"sql:{folder}").stdout
    assert "CT,C,C" in listed, listed


def test_an_add_refused_for_a_taken_label_starts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from keystores.errors import EntryExists

    monkeypatch.setattr("keystores.crypto.pbkdf2.usable_cores", lambda: 2)
    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(trusted_entry("root", index=3))
    with open_store(f"sql:{folder}", password=PW, writable=True) as store:
        with pytest.raises(EntryExists):
            store.add(key_pair_entry("root", use_ec=True))
        assert store._ahead is None


def test_a_trusted_entry_s_derivations_take_one_worker_and_keys_one_per_core(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write of certificates leaves the main thread, busy laying the first out, a core of its own (it derives what
    no worker has begun when it asks); a write's keys, hinted or added, derive on every core, as before."""
    monkeypatch.setattr("keystores.crypto.pbkdf2.usable_cores", lambda: 2)
    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.expect_write(new_keys=0)  # as import's fill hints a write of certificates
        store.add(trusted_entry("root", index=3))
        assert store._ahead.pool._threads == 1
    with open_store(f"sql:{folder}", password=PW, writable=True) as store:
        store.expect_write(new_keys=5)
        assert store._ahead.started == 10 and store._ahead.pool._threads == 2
    with open_store(f"sql:{tmp_path / 'keys'}", password=PW, create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
        assert store._ahead.pool._threads == 2
