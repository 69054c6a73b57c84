"""keystore.conf: read into the store and label it names for every prefix AMS knows, reached by every command as
`ams:PATH`; written 0600 for CMS, PKCS#11 (SoftHSM), JKS and JCEKS; passwords never printed."""

from __future__ import annotations

import os
import stat

import pytest
from ams_material import key_entry, person
from clirun import keystores

from keystores.ams.conf import read_conf, write_conf
from keystores.errors import PasswordRequired, StoreNotFound, UsageError
from keystores.store import open_store
from softhsm import softhsm, softhsm_token  # noqa: F401  (pytest fixtures)

SECRET = "Conf-Pa55word-xyzzy"


def _store(path, kind: str, label: str = "alice", **options):
    key, cert = person("alice", "MyOrg")
    with open_store(str(path), password=SECRET, type=kind, create=True, **options) as made:
        made.add(key_entry(label, key, cert, "MyOrg"))
    return str(path)


@pytest.fixture
def cms_store(tmp_path):
    return _store(tmp_path / "alicekey.kdb", "cms", stash=True)


@pytest.mark.parametrize("stem", [True, False])
def test_cms_conf_with_or_without_kdb_uses_the_stash(tmp_path, cms_store, stem: bool) -> None:
    conf = tmp_path / "keystore.conf"
    keystore = cms_store[:-4] if stem else cms_store
    conf.write_text(f"cms.keystore = {keystore}\ncms.certificate = alice\n")
    parsed = read_conf(conf)
    assert (parsed.kind, parsed.store, parsed.label) == ("cms", cms_store, "alice")
    with open_store(f"ams:{conf}") as opened:
        assert opened.format == "cms" and "alice" in opened.labels()
        assert any("stash" in n for n in opened.notes)
        assert any("certificate 'alice'" in n for n in opened.notes)


def test_every_command_takes_an_ams_address(tmp_path, cms_store) -> None:
    conf = tmp_path / "keystore.conf"
    conf.write_text(f"cms.keystore = {cms_store[:-4]}\ncms.certificate = alice\n")
    done = keystores("list", f"ams:{conf}")
    assert done.code == 0, done.err
    assert "alice\t" in done.out
    # ams: alone is $MQS_KEYSTORE_CONF, else $HOME/.mqs/keystore.conf
    done = keystores("list", "ams:", env={"MQS_KEYSTORE_CONF": str(conf)})
    assert done.code == 0 and "alice\t" in done.out, done.err
    home = tmp_path / "home"
    (home / ".mqs").mkdir(parents=True)
    (home / ".mqs" / "keystore.conf").write_text(conf.read_text())
    env = {k: v for k, v in os.environ.items() if k != "MQS_KEYSTORE_CONF"}
    done = keystores("show", "ams:", "alice", env={**env, "HOME": str(home)})
    assert done.code == 0 and "CN=alice,O=MyOrg,C=GB" in done.out, done.err


@pytest.mark.parametrize("kind", ["jks", "jceks"])
def test_java_conf_with_passwords_in_clear(tmp_path, kind: str) -> None:
    store = _store(tmp_path / f"alicekey.{kind}", kind)
    conf = tmp_path / "keystore.conf"
    # IBM's examples name the store without its extension; either form opens it
    conf.write_text(f"{kind}.keystore = {store[: -len(kind) - 1]}\n{kind}.certificate = alice\n"
                    f"{kind}.encrypted = no\n{kind}.keystore_pass = {SECRET}\n{kind}.key_pass = {SECRET}\n"
                    f"{kind}.provider = IBMJCE\n")
    with open_store(f"ams:{conf}") as opened:
        assert opened.format == kind and opened.get("alice").key is not None
    done = keystores("list", f"ams:{conf}", "--json")
    assert done.code == 0 and SECRET not in done.all
    assert SECRET not in repr(read_conf(conf)) and SECRET not in str(read_conf(conf).describe())


def test_runamscred_passwords_are_asked_for(tmp_path) -> None:
    store = _store(tmp_path / "alicekey.jks", "jks")
    conf = tmp_path / "keystore.conf"
    conf.write_text(f"jks.keystore = {store}\njks.certificate = alice\njks.encrypted = yes\n"
                    "jks.keystore_pass = <AMSCRED>!4B3C2D1E0F\namscred.keyfile = /var/mqm/ams.key\n")
    with pytest.raises(PasswordRequired, match="runamscred and cannot be read back"):
        open_store(f"ams:{conf}")
    with open_store(f"ams:{conf}", password=SECRET, key_password=SECRET) as opened:
        assert "alice" in opened.labels()
    done = keystores("list", f"ams:{conf}")
    assert done.code == 3 and "runamscred" in done.err and "4B3C2D1E0F" not in done.all
    done = keystores("list", f"ams:{conf}", "--password", "env:P", env={"P": SECRET})
    assert done.code == 0 and "alice" in done.out, done.err


def test_pkcs11_conf_opens_the_token(tmp_path, softhsm) -> None:  # noqa: F811
    token = softhsm.make_token()
    key, cert = person("alice", "MyOrg")
    with open_store(token.uri, password=token.pin, writable=True) as opened:
        opened.add(key_entry("alice", key, cert, "MyOrg"))
    conf = tmp_path / "keystore.conf"
    conf.write_text(f"pkcs11.library = {token.module}\npkcs11.token = {token.label}\npkcs11.token_pin = {token.pin}\n"
                    "pkcs11.certificate = alice\npkcs11.secondary_keystore = /home/alice/.mqs/signers\n"
                    "pkcs11.encrypted = no\n")
    parsed = read_conf(conf)
    assert parsed.secondary == "/home/alice/.mqs/signers.kdb"
    with open_store(f"ams:{conf}") as opened:
        assert opened.format == "pkcs11" and opened.get("alice").on_token
    done = keystores("list", f"ams:{conf}", env=token.env)
    assert done.code == 0 and token.pin not in done.all and "alice" in done.out, done.err


@pytest.mark.parametrize(("text", "fragment"), [
    ("cms.keystore = /x\ncms.colour = red\n", "line 2: unknown key 'cms.colour'"),
    ("nss.keystore = /x\n", "line 1: unknown prefix 'nss.'"),
    ("just words\n", "line 1: expected 'prefix.key = value'"),
    ("amscred.keyfile = /x\n", "names no store"),
])
def test_bad_conf_names_the_line(tmp_path, text: str, fragment: str) -> None:
    conf = tmp_path / "keystore.conf"
    conf.write_text(text)
    with pytest.raises(UsageError, match=fragment.replace(".", r"\.").replace("(", r"\(")):
        read_conf(conf)
    done = keystores("list", f"ams:{conf}")
    assert done.code == 2 and str(conf) in done.err and "Traceback" not in done.err


def test_missing_conf_is_not_found(tmp_path) -> None:
    with pytest.raises(StoreNotFound):
        read_conf(tmp_path / "none.conf")
    assert keystores("list", f"ams:{tmp_path}/none.conf").code == 4


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_write_cms_conf(tmp_path, cms_store) -> None:
    out = tmp_path / "out" / "keystore.conf"
    out.parent.mkdir()
    done = keystores("ams", "conf", cms_store, "--label", "alice", "-o", str(out))
    assert done.code == 0, done.err
    assert _mode(out) == 0o600
    assert out.read_text().splitlines()[1:] == [f"cms.keystore = {cms_store[:-4]}", "cms.certificate = alice"]
    with open_store(f"ams:{out}") as opened:
        assert opened.get("alice").key is not None
    assert keystores("ams", "conf", cms_store, "--label", "alice", "-o", str(out)).code == 1  # exists
    assert keystores("ams", "conf", cms_store, "--label", "bob", "-o", str(tmp_path / "x.conf")).code == 4


@pytest.mark.parametrize("kind", ["jks", "jceks"])
def test_write_java_conf_reads_back(tmp_path, kind: str) -> None:
    store = _store(tmp_path / f"k.{kind}", kind)
    out = tmp_path / "keystore.conf"
    done = keystores("ams", "conf", store, "--label", "alice", "-o", str(out), "--password", "env:P",
                     env={"P": SECRET})
    assert done.code == 0, done.err
    assert _mode(out) == 0o600 and SECRET not in done.all
    assert f"{kind}.keystore_pass = {SECRET}" in out.read_text()
    with open_store(f"ams:{out}") as opened:
        assert opened.format == kind and opened.get("alice").key is not None


def test_write_pkcs11_conf_reads_back(tmp_path, softhsm) -> None:  # noqa: F811
    token = softhsm.make_token()
    key, cert = person("alice", "MyOrg")
    with open_store(token.uri, password=token.pin, writable=True) as opened:
        opened.add(key_entry("alice", key, cert, "MyOrg"))
    out = tmp_path / "keystore.conf"
    write_conf(token.uri, "alice", out, password=token.pin)
    assert _mode(out) == 0o600
    text = out.read_text()
    assert f"pkcs11.library = {token.module}" in text and f"pkcs11.token = {token.label}" in text
    with open_store(f"ams:{out}") as opened:
        assert opened.get("alice").on_token


def test_pem_conf_names_the_private_file_and_the_public_one(tmp_path) -> None:
    private = _store(tmp_path / "alice.pem", "pem")
    conf = tmp_path / "keystore.conf"
    conf.write_text(f"pem.private = {private}\npem.public = others.pem\npem.password = {SECRET}\n")
    parsed = read_conf(conf)
    assert parsed.kind == "pem" and parsed.store == private and parsed.secondary == str(tmp_path / "others.pem")
    assert any("relative" in note for note in parsed.notes)


def test_write_cms_conf_never_writes_the_password(tmp_path) -> None:
    store = _store(tmp_path / "nostash.kdb", "cms")  # no stash
    out = tmp_path / "keystore.conf"
    done = keystores("ams", "conf", store, "--label", "alice", "-o", str(out), "--password", "env:P",
                     env={"P": SECRET})
    assert done.code == 0, done.err
    assert SECRET not in out.read_text() and SECRET not in done.all
    assert "no stash beside it" in done.err
