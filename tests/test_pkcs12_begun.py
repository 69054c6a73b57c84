"""A new PKCS#12 file's write derivations begun ahead (keystores.backends.pkcs12.write.begin_new): taken by the
write of that file under the same password and profile, written as openssl and keytool read them, dropped
otherwise; begun by the CLI's convert."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import key_pair_entry
from test_pkcs12_interop import PASSWORD, judged_by_openssl, keytool_entries, needs_keytool, needs_openssl

from keystores.backends.pkcs12 import write
from keystores.crypto.pbkdf2 import usable_cores
from keystores.store import begin_opening, open_store

needs_two_cores = pytest.mark.skipif(usable_cores() < 2, reason="nothing is begun on one core")


@pytest.fixture(autouse=True)
def _nothing_left_begun():
    yield
    for path in list(write._begun):  # a test that fails midway leaves no worker for the next
        write._begun.pop(path).close()


def _salts(made: write.WriteAhead) -> list[bytes]:
    """The fresh salts of a begun write's key bag and certificates part (PBES2 parameters, as written)."""
    return [sealer._salt for sealer in (*made.keys, made.certificates)]  # type: ignore[union-attr]


@needs_two_cores
@needs_openssl
def test_a_new_file_takes_what_was_begun_and_openssl_reads_it(tmp_path: Path) -> None:
    """The key bag and certificates part are sealed by the derivations begun (their salts are in the file), and
    openssl checks the MAC, opens both and pairs the key with its certificate under the label."""
    location = tmp_path / "new.p12"
    begin_opening(location, password=PASSWORD, create=True)
    made = write._begun[str(location)]
    entry = key_pair_entry("server", use_ec=True)
    with open_store(location, password=PASSWORD, create=True) as store:
        store.expect_write(new_keys=1)
        assert str(location) not in write._begun  # taken
        store.add(entry)
    written = location.read_bytes()
    assert all(salt in written for salt in _salts(made))
    judged_by_openssl(str(location), PASSWORD, "server", entry.chain)


@needs_two_cores
@pytest.mark.parametrize("why", ["another password", "two keys"])
def test_what_was_begun_and_does_not_serve_the_write_is_dropped(tmp_path: Path, why: str) -> None:
    """Begun under another password, or for fewer keys than the write seals: dropped when the write is hinted, the
    file written with derivations of its own, and read back whole."""
    location = tmp_path / "new.p12"
    begin_opening(location, password="not-the-one" if why == "another password" else PASSWORD, create=True)
    made = write._begun[str(location)]
    keys = 2 if why == "two keys" else 1
    with open_store(location, password=PASSWORD, create=True) as store:
        store.expect_write(new_keys=keys)
        assert not write._begun
        for index in range(keys):
            store.add(key_pair_entry(f"k{index}", index=index, use_ec=True))
    written = location.read_bytes()
    assert not any(salt in written for salt in _salts(made))
    with open_store(location, password=PASSWORD) as store:
        assert all(store.get(f"k{index}").key is not None for index in range(keys))


def test_nothing_is_begun_for_an_existing_file_an_empty_password_a_read_or_an_open(tmp_path: Path) -> None:
    location = tmp_path / "new.p12"
    with open_store(location, password=PASSWORD, create=True) as store:  # open_store's own begin: not ahead
        assert not write._begun
        store.add(key_pair_entry("server", use_ec=True))
    begin_opening(location, password=PASSWORD, create=True)  # it exists now
    begin_opening(tmp_path / "other.p12", password="", create=True)
    begin_opening(tmp_path / "other.p12", password=PASSWORD)  # not to be created: a read's
    begin_opening(tmp_path / "other.jks", password=PASSWORD, create=True)  # a format that begins nothing
    assert not write._begun


@needs_two_cores
@needs_keytool
def test_the_cli_begins_a_new_file_for_convert_and_writes_it_whole(tmp_path: Path) -> None:
    """`convert SRC NEW.p12 --dest-password env:...` begins the new file's derivations once the command line is read
    (cli/main.py _CREATES), the write takes them, and keytool lists the key pair in the file written."""
    source = tmp_path / "src.p12"
    with open_store(source, password=PASSWORD, create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
    target = tmp_path / "new.p12"
    probe = ("from keystores.backends.pkcs12 import write\nimport keystores.cli.main as cli\n"
             "seen = []\nreal = write.take_begun\n"
             "def take(location, *rest):\n    seen.append(location in write._begun)\n"
             "    found = real(location, *rest)\n    seen.append(found is not None)\n    return found\n"
             "write.take_begun = take\n"
             "try:\n    cli.run()\nexcept SystemExit as exc:\n    print(exc.code, seen)\n")
    done = subprocess.run([sys.executable, "-c", probe, "convert", str(source), str(target), "--password",
                           "env:KS_PW", "--dest-password", "env:KS_PW"], capture_output=True, text=True,
                          env={**os.environ, "KS_PW": PASSWORD}, check=False)
    assert done.stdout.split() == ["0", "[True,", "True]"], done.stderr
    assert keytool_entries(target) == {"server": ("PrivateKeyEntry", 2)}
