"""Multi-file stores commit whole (issue 16): a CMS `passwd` rewrites the .kdb, .rdb, .crl and .sth together.

The writer is killed at every step of the commit (before each rename, and before it drops its intent record; the
kill is injected by tests/cli_as.py, not by the product), and interrupted with SIGINT inside it. Afterwards the
stash must open the database, the pending request must still be there, every file must be under one password (the
old one only when the kill came before the commit was decided), and GSKit must open the result.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
import time
from pathlib import Path

import cli_as
import gskit
import pytest
from clirun import keystores

from keystores.backends.cms import stash as cms_stash
from keystores.fileio import INTENT_PREFIX, TEMP_PREFIX, folder_lock

OLD, NEW = "Commit-Old-Pw-1", "Commit-New-Pw-2"
ENV = {"PW": OLD, "NEWPW": NEW}
FILES = ("key.kdb", "key.rdb", "key.crl", "key.sth")
# passwd's commit: 1 = the intent record is put in place, 2..5 = the four files are renamed into place
KILL_POINTS = [pytest.param({"kill_at_replace": n}, id=f"before-replace-{n}") for n in range(1, 6)]
KILL_POINTS.append(pytest.param({"kill_at_unlink_of": INTENT_PREFIX}, id="before-record-removed"))


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A CMS database with a stash, a key pair and a pending request (so .kdb, .rdb, .crl and .sth all exist)."""
    folder = tmp_path_factory.mktemp("cms-commit")
    kdb = folder / "key.kdb"
    for argv in (["create", str(kdb), "--password", "env:PW", "--stash"],
                 ["selfsign", str(kdb), "--label", "server", "--dn", "CN=server", "--password", "env:PW"],
                 ["certreq", str(kdb), "--label", "pending", "--dn", "CN=pending", "-o", str(folder / "req.pem"),
                  "--password", "env:PW"]):
        done = keystores(*argv, env=ENV)
        assert done.code == 0, done.err
    assert all((folder / name).is_file() for name in FILES)
    return folder


def _fresh_copy(made: Path, tmp_path: Path) -> Path:
    for name in FILES:
        (tmp_path / name).write_bytes((made / name).read_bytes())
        (tmp_path / name).chmod(0o600)
    return tmp_path / "key.kdb"


def _check_whole(kdb: Path, expected: str) -> None:
    """The store opens through its stash, holds both entries, and every file is under `expected`."""
    done = keystores("list", str(kdb), "--json", env=ENV)  # no password: the stash must open the database
    assert done.code == 0, f"the stash no longer opens the database: {done.err}"
    assert '"pending"' in done.out and '"server"' in done.out, done.out
    assert cms_stash.decode((kdb.with_suffix(".sth")).read_bytes()) == expected
    folder = kdb.parent
    with folder_lock(kdb):  # the next writer sweeps what a writer killed before its commit left
        pass
    assert not [p.name for p in folder.iterdir() if p.name.startswith((INTENT_PREFIX, TEMP_PREFIX))]
    for name in ("PW", "NEWPW"):
        done = keystores("list", str(kdb), "--password", f"env:{name}", env=ENV)
        assert (done.code == 0) == (ENV[name] == expected), f"password {name}: {done.code} {done.err}"
    if gskit.available():
        assert gskit.open_rc(kdb, expected) == 0
        with gskit.Database(kdb, expected) as db:
            assert "server" in db.labels() and "pending" in db.request_labels()


@pytest.mark.parametrize("kill", KILL_POINTS)
def test_passwd_killed_at_every_step_leaves_one_password(made, tmp_path, kill):
    kdb = _fresh_copy(made, tmp_path)
    proc = cli_as.start("passwd", str(kdb), "--password", "env:PW", "--new-password", "env:NEWPW", env=ENV, **kill)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"the kill did not land: {proc.returncode} {err}"
    decided = kill.get("kill_at_replace", 99) > 1  # the record in place: the commit must be completed
    _check_whole(kdb, NEW if decided else OLD)


def test_sigint_inside_the_commit_does_not_split_it(made, tmp_path):
    kdb = _fresh_copy(made, tmp_path)
    # every rename pauses 0.4 s, so a SIGINT at 1 s lands between two renames of the commit
    proc = cli_as.start("passwd", str(kdb), "--password", "env:PW", "--new-password", "env:NEWPW", env=ENV,
                        pause_before_replace=0.4)
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(INTENT_PREFIX) for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, "the commit never started"
        time.sleep(0.01)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    # the commit was decided: it finishes and says so (exit 0), never half of it with "interrupted"
    assert proc.returncode == 0, err
    _check_whole(kdb, NEW)


def test_sigint_before_the_commit_changes_nothing(made, tmp_path):
    kdb = _fresh_copy(made, tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in FILES}
    proc = cli_as.start("passwd", str(kdb), "--password", "env:PW", "--new-password", "env:NEWPW", env=ENV,
                        pause_before_replace=2.0)  # the first replace is the record's: stop before it
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(TEMP_PREFIX) for p in tmp_path.iterdir()):
        assert proc.poll() is None and time.monotonic() < deadline, "the write never started"
        time.sleep(0.01)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert {name: (tmp_path / name).read_bytes() for name in FILES} == before
    _check_whole(kdb, OLD)


def test_a_change_to_the_kdb_alone_is_committed_by_its_one_rename(made, tmp_path):
    """A rename changes the .kdb alone: its rename is the whole commit, with no intent record (which costs four
    fsyncs). Killed before it, nothing changed; a kill at a second rename never comes, the run ends."""
    kdb = _fresh_copy(made, tmp_path)
    before = {name: (tmp_path / name).read_bytes() for name in FILES}
    proc = cli_as.start("rename", str(kdb), "server", "renamed", "--password", "env:PW", env=ENV, kill_at_replace=1)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert {name: (tmp_path / name).read_bytes() for name in FILES} == before
    proc = cli_as.start("rename", str(kdb), "server", "renamed", "--password", "env:PW", env=ENV, kill_at_replace=2)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    after = {name: (tmp_path / name).read_bytes() for name in FILES}
    assert [name for name in FILES if after[name] != before[name]] == ["key.kdb"]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith((INTENT_PREFIX, TEMP_PREFIX))]
    done = keystores("list", str(kdb), "--json", env=ENV)  # the stash opens it
    assert done.code == 0 and '"renamed"' in done.out and '"pending"' in done.out, done.err


def _folder_another_user_can_enter() -> Path:
    """A new folder (0755) in /tmp, which another user can reach (pytest's own temp folders are root's only), named
    afresh for each run: two suites at once must not share it (it was /tmp/keystores-commit-reader0 in every run)."""
    folder = Path(tempfile.mkdtemp(prefix="keystores-commit-reader-", dir="/tmp"))
    folder.chmod(0o755)
    return folder


def test_the_other_users_folder_is_new_for_each_run() -> None:
    folders = [_folder_another_user_can_enter() for _ in range(2)]
    try:
        assert folders[0] != folders[1]
        assert all(folder.parent == Path("/tmp") and folder.stat().st_mode & 0o777 == 0o755 for folder in folders)
    finally:
        for folder in folders:
            folder.rmdir()


def test_a_reader_who_may_not_finish_the_commit_is_told_why(made):
    """A killed root writer's commit, read by a user who may not rename in the folder: a clear error, no guess."""
    reason = cli_as.root_can_drop()
    if reason:
        pytest.skip(reason)
    folder = _folder_another_user_can_enter()
    try:
        kdb = _fresh_copy(made, folder)
        proc = cli_as.start("passwd", str(kdb), "--password", "env:PW", "--new-password", "env:NEWPW", env=ENV,
                            kill_at_replace=3)  # the record and the .kdb are in place, the rest is not
        proc.communicate(timeout=120)
        assert proc.returncode == -signal.SIGKILL
        for path in folder.iterdir():
            path.chmod(0o644)
        done = cli_as.run("list", str(kdb), "--password", "env:NEWPW", uid=61616, gid=61616, env=ENV)
        assert done.code == 1, done.err
        assert "cannot complete an interrupted write: permission denied" in done.err
        assert "Traceback" not in done.err
        _check_whole(kdb, NEW)  # root, who may, finishes it on open
    finally:
        subprocess.run(["rm", "-rf", str(folder)], check=False)


@pytest.mark.parametrize("line", ["../outside\tkey.kdb", f"{TEMP_PREFIX}x\t../../etc/motd", "key.sth\tkey.kdb",
                                  f"{TEMP_PREFIX}ok\tkey.kdb\nkey.sth\tkey.kdb",
                                  "no tab here", "\udcff"])
def test_a_planted_or_damaged_record_renames_nothing(tmp_path, line):
    """A record only ever renames our own temp files onto names in its own folder; anything else is refused."""
    (tmp_path / "key.kdb").write_bytes(b"database")
    (tmp_path / "key.sth").write_bytes(b"stash")
    (tmp_path / f"{TEMP_PREFIX}ok").write_bytes(b"planted")  # a good first line must not be acted on either
    (tmp_path / f"{INTENT_PREFIX}key.kdb").write_bytes(line.encode("utf-8", "surrogateescape") + b"\n")
    from keystores.errors import KeystoreError

    with pytest.raises(KeystoreError, match="cannot complete an interrupted write"), folder_lock(tmp_path / "key.kdb"):
        pass
    assert (tmp_path / "key.kdb").read_bytes() == b"database" and (tmp_path / "key.sth").read_bytes() == b"stash"
