"""Prompts as a person at a terminal sees them: each names its store, each store is asked once, a new password is
typed twice, and no prompt appears under a running progress bar. Run on a pseudo-terminal (tests/ptyrun.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import keystores
from helpers import certificate, key_pair_entry, rsa_key
from ptyrun import on_terminal

from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.store import open_store

PW = "prompt test pw"
ANY_PROMPT = r"(assword|PIN)[^\n]*: $"


@pytest.fixture
def two_keys(tmp_path) -> Path:
    path = tmp_path / "s.p12"
    with open_store(path, password=PW, create=True) as store:
        store.add(key_pair_entry("a", index=0))
        store.add(key_pair_entry("b", index=1))
    return path


def test_convert_asks_each_store_once_by_name_and_confirms_the_new_password(two_keys, tmp_path):
    done = on_terminal("convert", "s.p12", "d.p12", answers=[(ANY_PROMPT, PW)] * 3, cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for s.p12:", "New password for d.p12:", "New password for d.p12 (again):"]
    with open_store(tmp_path / "d.p12", password=PW) as made:
        assert sorted(made.labels()) == ["Test Root CA 0", "a", "b"]  # + the key pairs' chain CA


def test_convert_decrypts_each_key_once_when_the_destination_password_is_asked_late(two_keys, tmp_path,
                                                                                     monkeypatch):
    """A key into a PKCS#12 file without a password needs one: the destination is asked for and started again,
    and the source, still open, is not decrypted again (it was: every key twice, and the source asked twice)."""
    from keystores.crypto import pbe
    from keystores.ops import transfer

    decrypted: list[int] = []
    original = pbe.decrypt_pkcs8
    monkeypatch.setattr(pbe, "decrypt_pkcs8", lambda *a, **k: decrypted.append(1) or original(*a, **k))
    asked: list[tuple[str, bool]] = []

    def ask(store: str, new: bool) -> str:
        asked.append((store, new))
        return PW

    dest = str(tmp_path / "d.p12")
    result = transfer.convert(str(two_keys), dest, ask=ask)
    assert sorted(result.copied) == ["a", "b"]
    assert asked == [(str(two_keys), False), (dest, True)]
    assert len(decrypted) == 2


def test_confirmation_that_differs_writes_nothing(two_keys, tmp_path):
    done = on_terminal("convert", "s.p12", "d.p12", answers=[(ANY_PROMPT, PW), (ANY_PROMPT, "one"),
                                                            (ANY_PROMPT, "other")], cwd=str(tmp_path))
    assert done.code == 2, done.transcript
    assert "the two entries differ" in done.transcript
    assert not (tmp_path / "d.p12").exists()


def test_import_into_an_existing_store_asks_its_password_once_without_confirmation(two_keys, tmp_path):
    with open_store(tmp_path / "t.p12", password="dest pw", create=True) as store:
        store.add(key_pair_entry("c", index=2))
    done = on_terminal("import", "s.p12", "t.p12", answers=[(ANY_PROMPT, PW), (ANY_PROMPT, "dest pw")],
                       cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for s.p12:", "Password for t.p12:"]


def test_no_prompt_under_a_running_progress_bar(tmp_path):
    """60 certificates show a progress bar; the new store's password is asked before it starts."""
    key = rsa_key(0)
    with open_store(tmp_path / "many.pem", create=True) as store:
        for index in range(60):
            cert = certificate(key, f"cert {index}")
            store.add(Entry(label=f"c{index}", kind=EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL))
    done = on_terminal("convert", "many.pem", "many.jks", answers=[(ANY_PROMPT, PW)] * 2, cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["New password for many.jks:", "New password for many.jks (again):"]
    first_prompt = done.transcript.index("New password")
    assert "━" not in done.transcript[:first_prompt]
    assert "━" in done.transcript  # the bar did run, after the prompts


def test_single_store_commands_name_the_store(two_keys, tmp_path):
    done = on_terminal("list", "s.p12", answers=[(ANY_PROMPT, PW)], cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for s.p12:"]


def test_without_a_terminal_no_prompt_and_exit_3(two_keys, tmp_path):
    done = keystores("convert", str(two_keys), str(tmp_path / "d.p12"), stdin="")
    assert done.code == 3, done.all
    assert not (tmp_path / "d.p12").exists()


def test_prompt_names_a_token_pin_without_the_module_path():
    from keystores.cli.common import prompt_text

    assert prompt_text("pkcs11:token=T?module-path=/usr/lib/softhsm/libsofthsm2.so") == "PIN for pkcs11:token=T"
    assert prompt_text("qm1.kdb") == "Password for qm1.kdb"
    assert prompt_text("b.p12", new=True) == "New password for b.p12"




def test_export_to_pkcs12_asks_the_source_then_the_new_file_twice(two_keys, tmp_path):
    done = on_terminal("export", "s.p12", "a", "-o", "a.p12", "--format", "p12", answers=[(ANY_PROMPT, PW)] * 3,
                       cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for s.p12:", "New password for a.p12:", "New password for a.p12 (again):"]
    with open_store(tmp_path / "a.p12", password=PW) as made:
        assert made.labels() == ["a", "Test Root CA 0"]  # + its chain CA


def test_an_encrypted_key_file_is_asked_for_by_its_name(tmp_path):
    from cryptography.hazmat.primitives import serialization

    key = rsa_key(3)
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.BestAvailableEncryption(b"key pw")))
    (tmp_path / "c.pem").write_bytes(certificate(key, "web").public_bytes(serialization.Encoding.PEM))
    done = on_terminal("import", "d.p12", "--key", "k.pem", "--cert", "c.pem", "--label", "web",
                       answers=[(ANY_PROMPT, "key pw"), (ANY_PROMPT, PW), (ANY_PROMPT, PW)], cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for k.pem:", "New password for d.p12:", "New password for d.p12 (again):"]
    assert "bundle" not in done.transcript


def test_selfsign_into_an_existing_store_asks_its_password_once(two_keys, tmp_path):
    done = on_terminal("selfsign", "s.p12", "--label", "c", "--dn", "CN=c", "--key-type", "ec:p256",
                       answers=[(ANY_PROMPT, PW)], cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for s.p12:"]


def test_an_nss_source_whose_keys_are_locked_is_asked_for_first(two_keys, tmp_path):
    """NSS opens without its password (as certutil -L does) but keeps the keys locked: converting them asks for
    the database's password, before the destination's, instead of failing on "non-extractable" keys."""
    (tmp_path / "db").mkdir()
    done = keystores("import", str(two_keys), f"sql:{tmp_path / 'db'}", "-p", "env:PW", "--dest-password", "env:PW",
                     env={"PW": PW})
    assert done.code == 0, done.all
    done = on_terminal("convert", "sql:db", "out.p12", answers=[(ANY_PROMPT, PW)] * 3, cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for sql:db:", "New password for out.p12:", "New password for out.p12 (again):"]
    with open_store(tmp_path / "out.p12", password=PW) as made:
        assert sorted(made.labels()) == ["Test Root CA 0", "a", "b"]


def test_an_nss_destination_is_asked_for_its_password_before_the_first_entry(two_keys, tmp_path):
    (tmp_path / "db").mkdir()
    assert keystores("create", f"sql:{tmp_path / 'db'}", "-p", "env:PW", env={"PW": PW}).code == 0
    done = on_terminal("import", "s.p12", "sql:db", answers=[(ANY_PROMPT, PW)] * 2, cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for s.p12:", "Password for sql:db:"]
    with open_store(f"sql:{tmp_path / 'db'}", password=PW) as made:
        assert {"a", "b"} <= set(made.labels())  # beside the CA both chains name, listed on its own as certutil does


def test_passwd_asks_the_current_password_then_the_new_one_twice(two_keys, tmp_path):
    done = on_terminal("passwd", "s.p12", answers=[(ANY_PROMPT, PW), (ANY_PROMPT, "new pw"), (ANY_PROMPT, "new pw")],
                       cwd=str(tmp_path))
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for s.p12:", "New password for s.p12:", "New password for s.p12 (again):"]
    with open_store(two_keys, password="new pw") as store:
        assert sorted(store.labels()) == ["Test Root CA 0", "a", "b"]
