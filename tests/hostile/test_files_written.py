"""No key left readable, nothing written where it should not be (issue 16).

Each case builds its files here (no committed fixture): a second, unprivileged user is a pair of numeric ids the
test switches to in a subprocess (tests/cli_as.py), so nothing is added to the machine. Those cases need root to
switch users (CI runs as root) and skip, saying why, only where that is impossible.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import cli_as
import pytest
from clirun import keystores
from hardening import PASSWORD, labels_of, make_store, temp_files
from helpers import key_pair_entry, trusted_entry

VICTIM, OTHER, MQM = 61616, 61617, 61618  # uids and a shared group: numbers only, no /etc/passwd entries
ENV = {"PW": PASSWORD, "NEWPW": "Hardening-Pw-2"}


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def open_folder(tmp_path_factory) -> Path:
    """A folder every test user can reach (pytest's own tmp folders are root's alone)."""
    reason = cli_as.root_can_drop()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("hostile-files")
    top = Path("/tmp") / f"keystores-hostile-{os.getpid()}-{base.name}"
    top.mkdir(mode=0o755)
    yield top
    subprocess.run(["rm", "-rf", str(top)], check=False)


def _victim_folder(top: Path) -> Path:
    folder = top / "victim"
    folder.mkdir()
    os.chown(folder, VICTIM, VICTIM)
    return folder


def _readable_source(top: Path, *entries) -> Path:
    src = top / "source.p12"
    make_store("pkcs12", str(src), list(entries) or [key_pair_entry("server", index=3, use_ec=True)])
    src.chmod(0o644)
    return src


# --- the temp file holding a clear key ----------------------------------------------------------------------------

def test_clear_key_written_over_a_0644_pem_the_user_cannot_chmod_is_owner_only(open_folder):
    folder = _victim_folder(open_folder)
    src = _readable_source(open_folder)
    dest = folder / "bundle.pem"
    make_store("pem", str(dest), [trusted_entry("partner root", index=4)], password="")
    os.chown(dest, OTHER, OTHER)  # someone else's world-readable file, in a folder the victim may write
    dest.chmod(0o644)
    done = cli_as.run("import", str(src), str(dest), "--password", "env:PW", uid=VICTIM, gid=VICTIM, env=ENV)
    assert done.code == 0, done.err
    assert b"PRIVATE KEY-----" in dest.read_bytes() and b"ENCRYPTED" not in dest.read_bytes()
    assert _mode(dest) & 0o077 == 0, f"a clear private key left {oct(_mode(dest))}"


# --- new NSS databases --------------------------------------------------------------------------------------------

def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("kill_at", [None, 1, 2, 3])
def test_new_nss_database_is_private_while_written_and_whole_or_absent_after_a_kill(tmp_path, kill_at):
    src = tmp_path / "source.p12"
    make_store("pkcs12", str(src), [key_pair_entry("server", index=3, use_ec=True)])
    db = tmp_path / "nssdb"
    proc = cli_as.start("convert", str(src), f"sql:{db}", "--password", "env:PW", "--dest-password", "env:PW",
                        kill_at_replace=kill_at, env=ENV)
    _out, err = proc.communicate(timeout=120)
    if kill_at is None:
        assert proc.returncode == 0, err
    else:
        assert proc.returncode == -9, f"the kill at rename {kill_at} did not land: {err}"
        # what the killed writer left: every file (temp files too) private, in a folder only its user can enter
        assert _mode(db) & 0o077 == 0, f"new NSS folder is {oct(_mode(db))}"
        for path in _files_under(db):
            assert _mode(path) & 0o077 == 0, f"{path.name} is {oct(_mode(path))} while a key is written"
    assert _mode(db) == 0o700
    if kill_at in (2, 3):  # killed after its commit was decided: a plain reader finishes it and sees it whole
        done = keystores("list", f"sql:{db}", "--password", "env:PW", env=ENV)
        assert done.code == 0 and "server" in done.out, done.all
    # the next writer leaves nothing behind, and the database is there whole or not at all
    from keystores.fileio import folder_lock

    with folder_lock(db):
        pass
    assert temp_files(db) == [], "a killed writer's files were left behind"
    present = {p.name for p in db.iterdir()}
    assert present in (set(), {"cert9.db", "key4.db"}), f"half a database: {present}"
    if present:
        assert "server" in labels_of(f"sql:{db}")
        for name in present:
            assert _mode(db / name) == 0o600


# --- FIFOs and devices at the destination -------------------------------------------------------------------------

def _node(kind: str, path: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path, 0o666)
        return
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a /dev/null of our own: replacing it harms nothing
    except PermissionError:
        pytest.skip("this container may not make device nodes")


@pytest.mark.parametrize("kind", ["fifo", "device"])
@pytest.mark.parametrize("through_link", [False, True])
def test_a_fifo_or_device_at_the_destination_is_refused_not_replaced(tmp_path, kind, through_link):
    src = tmp_path / "source.p12"
    make_store("pkcs12", str(src), [key_pair_entry("server", index=3, use_ec=True)])
    node = tmp_path / "node"
    _node(kind, node)
    target = node
    if through_link:
        target = tmp_path / "out.pem"
        target.symlink_to(node)
    before = os.lstat(node)
    for argv in (["convert", str(src), str(target), "--password", "env:PW", "--dest-password", "env:PW",
                  "--dest-type", "pem", "--force"],
                 ["export", str(src), "server", "-o", str(target), "--password", "env:PW", "--force"]):
        done = keystores(*argv, env=ENV, timeout=60)
        assert done.code != 0, f"{argv[0]} wrote into a {kind}: {done.err}"
        assert "not a regular file" in done.err and "Traceback" not in done.err
        after = os.lstat(node)
        assert stat.S_IFMT(after.st_mode) == stat.S_IFMT(before.st_mode) and after.st_ino == before.st_ino
    assert temp_files(tmp_path) == []


# --- key4.db.bak --------------------------------------------------------------------------------------------------

def test_no_copy_of_key4_db_keeps_old_password_or_deleted_keys(tmp_path):
    src = tmp_path / "source.p12"
    make_store("pkcs12", str(src), [key_pair_entry("server", index=3, use_ec=True),
                                    key_pair_entry("retired", index=5, use_ec=True)])
    db = tmp_path / "nssdb"
    loc = f"sql:{db}"
    assert keystores("convert", str(src), loc, "--password", "env:PW", "--dest-password", "env:PW", env=ENV).code == 0
    (db / "key4.db.bak").write_bytes((db / "key4.db").read_bytes())  # as an earlier keystores left it
    done = keystores("delete", loc, "retired", "--password", "env:PW", env=ENV)
    assert done.code == 0, done.err
    assert not (db / "key4.db.bak").exists(), "the deleted key lives on in key4.db.bak"
    done = keystores("passwd", loc, "--password", "env:PW", "--new-password", "env:NEWPW", env=ENV)
    assert done.code == 0, done.err
    assert not (db / "key4.db.bak").exists(), "every key lives on under the old password in key4.db.bak"
    assert (db / "cert9.db.bak").exists()  # certificates and trust only: kept, as before
    assert "server" in labels_of(loc, password=ENV["NEWPW"]) and "retired" not in labels_of(loc, password=ENV["NEWPW"])


# --- the store's group and mode survive an edit -------------------------------------------------------------------

def _group_store(folder: Path, name: str, fmt: str) -> Path:
    path = folder / name
    make_store(fmt, str(path), [key_pair_entry("server", index=3, use_ec=True), trusted_entry("root", index=4)])
    return path


def _share_with_group(*paths: Path) -> None:
    for path in paths:
        os.chown(path, VICTIM, MQM)
        path.chmod(0o640)


def test_non_root_rename_keeps_the_stores_group(open_folder):
    folder = _victim_folder(open_folder)
    store = _group_store(folder, "qm.p12", "pkcs12")
    _share_with_group(store)
    done = cli_as.run("rename", str(store), "server", "ibmwebspheremqqm1", "--password", "env:PW",
                      uid=VICTIM, gid=VICTIM, groups=(VICTIM, MQM), env=ENV)
    assert done.code == 0, done.err
    info = os.stat(store)
    assert (info.st_uid, info.st_gid, _mode(store)) == (VICTIM, MQM, 0o640), "the queue manager's group lost access"


def test_non_root_passwd_keeps_the_group_and_mode_of_database_and_stash(open_folder):
    folder = _victim_folder(open_folder)
    kdb = folder / "key.kdb"
    done = keystores("create", str(kdb), "--password", "env:PW", "--stash", env=ENV)
    assert done.code == 0, done.err
    companions = [p for p in folder.iterdir() if p.stem == "key"]
    _share_with_group(*companions)
    done = cli_as.run("passwd", str(kdb), "--password", "env:PW", "--new-password", "env:NEWPW",
                      uid=VICTIM, gid=VICTIM, groups=(VICTIM, MQM), env=ENV)
    assert done.code == 0, done.err
    for path in companions:
        info = os.stat(path)
        assert (info.st_gid, _mode(path)) == (MQM, 0o640), f"{path.name}: {info.st_gid} {oct(_mode(path))}"
    assert keystores("list", str(kdb), env=ENV).code == 0  # the stash opens the database


def test_non_root_edit_by_a_user_outside_the_group_still_succeeds(open_folder):
    folder = _victim_folder(open_folder)
    store = _group_store(folder, "qm.p12", "pkcs12")
    _share_with_group(store)
    done = cli_as.run("rename", str(store), "server", "renamed", "--password", "env:PW",
                      uid=VICTIM, gid=VICTIM, groups=(VICTIM,), env=ENV)
    assert done.code == 0, done.err
    assert os.stat(store).st_gid == VICTIM  # it may not give the file a group it is not in: the file becomes its own


# --- two writers, one through a symlink ---------------------------------------------------------------------------

def test_two_writers_through_a_symlinked_path_both_land(tmp_path):
    real_folder, link_folder = tmp_path / "real", tmp_path / "links"
    real_folder.mkdir()
    link_folder.mkdir()
    store = real_folder / "shared.p12"
    make_store("pkcs12", str(store), [trusted_entry("root", index=4)])
    (link_folder / "shared.p12").symlink_to(store)
    first, second = tmp_path / "a.p12", tmp_path / "b.p12"
    make_store("pkcs12", str(first), [key_pair_entry("from-a", index=3, use_ec=True)])
    make_store("pkcs12", str(second), [key_pair_entry("from-b", index=5, use_ec=True)])
    # each writer pauses inside its read-modify-write, so the second starts while the first holds the store
    one = cli_as.start("import", str(first), str(link_folder / "shared.p12"), "--password", "env:PW",
                       "--dest-password", "env:PW", pause_before_replace=1.5, env=ENV)
    time.sleep(0.5)
    two = cli_as.start("import", str(second), str(store), "--password", "env:PW", "--dest-password", "env:PW",
                       pause_before_replace=0.2, env=ENV)
    for proc in (one, two):
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert labels_of(str(store)) == {"root", "from-a", "from-b", "test root ca 0"}  # + the key pairs' chain CA
    assert (link_folder / "shared.p12").is_symlink()
