"""The generic CLI on PKCS#12 stores, run as users run it (a subprocess): list/show output, exit codes for a
wrong password and a damaged file, and a compat conversion that keytool reads."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from helpers import key_pair_entry, trusted_entry, warned_of

from keystores.store import open_store

PASSWORD = "changeit-42"


def cli(*args: str, password: str = PASSWORD) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KS_PW": password, "KS_DEST_PW": password}
    return subprocess.run([sys.executable, "-m", "keystores", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "mixed.p12"
    with warned_of("compat"), open_store(path, password=PASSWORD, create=True, profile="compat") as opened:
        opened.add(key_pair_entry("server", index=1))
        opened.add(trusted_entry("root"))
    return path


def test_list_json_names_kinds(store):
    done = cli("list", str(store), "--json", "--password", "env:KS_PW")
    assert done.returncode == 0, done.stderr
    entries = {e["label"]: e for e in json.loads(done.stdout)["entries"]}
    assert entries["server"]["kind"] == "key-pair" and entries["server"]["key_type"] == "RSA-2048"
    assert entries["root"]["kind"] == "trusted-cert"


def test_show_reports_the_algorithms(store):
    done = cli("show", str(store), "--password", "env:KS_PW")
    assert done.returncode == 0, done.stderr
    assert "mac: HMAC-SHA-1 (PKCS#12 KDF), 2048 iterations" in done.stdout
    assert "keys: PKCS#12 PBE SHA-1 3DES" in done.stdout


def test_wrong_password_exits_3_damage_exits_1(store, tmp_path):
    done = cli("list", str(store), "--password", "env:KS_PW", password="NotTheP4ss")
    assert done.returncode == 3 and str(store) in done.stderr
    assert "NotTheP4ss" not in done.stderr + done.stdout
    damaged = tmp_path / "damaged.p12"
    damaged.write_bytes(store.read_bytes()[:-40])
    done = cli("list", str(damaged), "--password", "env:KS_PW")
    assert done.returncode == 1 and str(damaged) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (JDK) is not installed")
def test_convert_to_modern_keytool_reads_it(store, tmp_path):
    dest = tmp_path / "modern.p12"
    done = cli("convert", str(store), str(dest), "--password", "env:KS_PW", "--dest-password", "env:KS_DEST_PW")
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(["keytool", "-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1", "-list",
                             "-storetype", "PKCS12", "-keystore", str(dest), "-storepass:env", "KS_PW"],
                            capture_output=True, text=True, env={**os.environ, "KS_PW": PASSWORD}, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "server, " in listed.stdout and "PrivateKeyEntry" in listed.stdout
    assert "root, " in listed.stdout and "trustedCertEntry" in listed.stdout
    with open_store(dest, password=PASSWORD) as converted:
        assert "AES-256-CBC" in converted.protection()["keys"].text
