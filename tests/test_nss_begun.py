"""A new NSS database's derivations begun ahead (keystores.backends.nss.begun): taken up by its creation for the same
folder and password, written as NSS reads them (certutil, pk12util), dropped otherwise; begun by the CLI's convert."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import key_pair_entry
from test_nss import NSS_TOOLS, PW, needs_nss, run

from keystores.backends.nss import begun
from keystores.crypto.pbkdf2 import usable_cores
from keystores.store import begin_opening, open_store

needs_two_cores = pytest.mark.skipif(usable_cores() < 2, reason="nothing is begun on one core")


@pytest.fixture(autouse=True)
def _nothing_left_begun():
    yield
    for folder in list(begun._begun):  # a test that fails midway leaves no worker for the next
        leftover = begun._begun.pop(folder)
        leftover.pool.__exit__(None, None, None)


def _salt(folder: Path) -> bytes:
    import sqlite3

    with sqlite3.connect(folder / "key4.db") as conn:
        return conn.execute("SELECT item1 FROM metaData WHERE id = 'password'").fetchone()[0]


@needs_two_cores
@needs_nss
def test_a_new_database_takes_what_was_begun_and_nss_reads_it(tmp_path: Path) -> None:
    """The password check and the key pair's value and MAC come from the derivations begun: the database's global
    salt is the one begun, and certutil lists the key and pk12util exports it under the password (the check, the
    encrypted value and its MAC as NSS checks them)."""
    folder = tmp_path / "db"
    begin_opening(f"sql:{folder}", password=PW, create=True)
    made = begun._begun[str(folder)]
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        assert str(folder) not in begun._begun  # taken
        store.add(key_pair_entry("server", use_ec=True))
    assert _salt(folder) == made.global_salt
    written = (folder / "key4.db").read_bytes()
    assert made.check.result() in written  # the password check record begun
    assert all(derived.result()[0] in written for derived in made.derived)  # each begun salt serves one attribute
    pwfile = tmp_path / "pw"
    pwfile.write_text(PW + "\n")
    assert "server" in run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(pwfile)).stdout
    run("pk12util", "-o", str(tmp_path / "out.p12"), "-n", "server", "-d", f"sql:{folder}", "-k", str(pwfile),
        "-W", "exportpw")
    with open_store(f"sql:{folder}", password=PW) as store:
        assert store.get("server").key is not None


@needs_two_cores
def test_what_was_begun_under_another_password_is_dropped(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    begin_opening(f"sql:{folder}", password="not-the-one", create=True)
    made = begun._begun[str(folder)]
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
    assert str(folder) not in begun._begun and _salt(folder) != made.global_salt
    with open_store(f"sql:{folder}", password=PW) as store:
        assert store.get("server").key is not None


def test_nothing_is_begun_for_an_existing_database_an_empty_password_or_an_open(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:  # open_store's own begin: not ahead
        assert not begun._begun
        store.add(key_pair_entry("server", use_ec=True))
    begin_opening(f"sql:{folder}", password=PW, create=True)  # it exists now
    begin_opening(f"sql:{tmp_path / 'other'}", password="", create=True)
    begin_opening(f"sql:{tmp_path / 'other'}", password=PW)  # not to be created: a read's
    assert not begun._begun


@needs_two_cores
@pytest.mark.skipif(not NSS_TOOLS, reason="libnss3-tools not installed")
def test_the_cli_begins_a_new_database_for_convert_and_writes_it_whole(tmp_path: Path) -> None:
    """`convert SRC sql:DIR --dest-password env:...` begins the new database's derivations once the command line is
    read (cli/main.py _CREATES); the database written is NSS's (certutil lists the key under the password)."""
    source = tmp_path / "src.p12"
    with open_store(source, password=PW, create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
    folder = tmp_path / "db"
    probe = ("import sys\nfrom keystores.backends.nss import begun\nimport keystores.cli.main as cli\n"
             "seen = []\nreal = begun.take\n"
             "begun.take = lambda folder, password: seen.append(folder in begun._begun) or real(folder, password)\n"
             "try:\n    cli.run()\nexcept SystemExit as exc:\n    print(exc.code, seen)\n")
    done = subprocess.run([sys.executable, "-c", probe, "convert", str(source), f"sql:{folder}", "--password",
                           "env:KS_PW", "--dest-password", "env:KS_PW"], capture_output=True, text=True,
                          env={**os.environ, "KS_PW": PW}, check=False)
    assert done.stdout.split() == ["0", "[True]"], done.stderr
    pwfile = tmp_path / "pw"
    pwfile.write_text(PW + "\n")
    assert "server" in run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(pwfile)).stdout
