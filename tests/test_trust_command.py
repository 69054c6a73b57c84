"""`keystores trust` for every format that has trust, judged by the native tools: certutil -L for NSS, keytool
-list for PKCS#12 (Java's trust attribute) and JKS; a refusal (exit 1) where a format cannot say it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from clirun import keystores
from cryptography.hazmat.primitives import serialization
from helpers import ca

from softhsm import softhsm  # noqa: F401  (pytest fixture)

ENV = {"KS_PW": "trust cmd pw"}
PW = ["--password", "env:KS_PW"]
needs_certutil = pytest.mark.skipif(shutil.which("certutil") is None, reason="certutil (libnss3-tools) missing")


@pytest.fixture
def ca_pem(tmp_path) -> Path:
    path = tmp_path / "ca.pem"
    path.write_bytes(ca(3)[1].public_bytes(serialization.Encoding.PEM))
    return path


def _certutil_trust(folder: Path, nickname: str) -> str:
    listed = subprocess.run(["certutil", "-L", "-d", f"sql:{folder}"], capture_output=True, text=True, check=True)
    rows = [line for line in listed.stdout.splitlines() if line.startswith(nickname + " ")]
    assert len(rows) == 1, listed.stdout
    return rows[0].split()[-1]


@needs_certutil
def test_nss_trust_strings_as_certutil_takes_them(tmp_path, ca_pem):
    folder = tmp_path / "db"
    folder.mkdir()
    (tmp_path / "pw").write_text(ENV["KS_PW"] + "\n")
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "-f", str(tmp_path / "pw")], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{folder}", "-n", "ca", "-t", ",,", "-i", str(ca_pem), "-f",
                    str(tmp_path / "pw")], check=True)
    assert _certutil_trust(folder, "ca") == ",,"
    for wanted, shown in (("CT,C,C", "CT,C,C"), ("C,,", "C,,"), ("off", ",,"), ("p,p,p", "p,p,p"),
                          ("on", "CT,C,C")):
        done = keystores("trust", f"sql:{folder}", "ca", wanted, *PW, env=ENV)
        assert done.code == 0, done.all
        assert _certutil_trust(folder, "ca") == shown, wanted


def _keytool_entries(path: Path, store_type: str) -> list[str]:
    listed = subprocess.run(["keytool", "-list", "-keystore", str(path), "-storetype", store_type, "-storepass",
                             ENV["KS_PW"]], capture_output=True, text=True, check=True)
    return [line.split(",")[0] for line in listed.stdout.splitlines() if "trustedCertEntry" in line]


def test_pkcs12_trust_is_javas_attribute_as_keytool_reads_it(tmp_path, ca_pem):
    """openssl -nokeys writes no Java trust attribute: keytool lists nothing until `trust on`."""
    p12 = tmp_path / "t.p12"
    subprocess.run(["openssl", "pkcs12", "-export", "-nokeys", "-in", str(ca_pem), "-out", str(p12), "-passout",
                    "env:KS_PW"], check=True, env={**os.environ, **ENV}, capture_output=True)
    label = keystores("list", str(p12), *PW, env=ENV).out.split("\t")[0]
    assert _keytool_entries(p12, "PKCS12") == []
    done = keystores("trust", str(p12), label, "on", *PW, env=ENV)
    assert done.code == 0, done.all
    assert _keytool_entries(p12, "PKCS12") == [label.lower()]
    info = subprocess.run(["openssl", "pkcs12", "-in", str(p12), "-passin", "env:KS_PW", "-nokeys", "-info"],
                          capture_output=True, text=True, env={**os.environ, **ENV}, check=True)
    assert "2.16.840.1.113894.746875.1.1" in info.stdout + info.stderr
    done = keystores("trust", str(p12), label, "off", *PW, env=ENV)
    assert done.code == 0, done.all
    assert _keytool_entries(p12, "PKCS12") == []
    assert label in keystores("list", str(p12), *PW, env=ENV).out  # kept, not trusted


def test_jks_holds_trusted_certificates_only(tmp_path, ca_pem):
    jks = tmp_path / "t.jks"
    assert keystores("import", str(ca_pem), str(jks), "--label", "ca", "--dest-password", "env:KS_PW",
                     env=ENV).code == 0
    done = keystores("trust", str(jks), "ca", "off", *PW, env=ENV)
    assert done.code == 1 and "only trusted certificates" in done.err, done.all
    assert _keytool_entries(jks, "JKS") == ["ca"]
    done = keystores("trust", str(jks), "ca", "p,p,p", *PW, env=ENV)  # distrust is no trust: refused too
    assert done.code == 1, done.all
    assert keystores("trust", str(jks), "ca", "on", *PW, env=ENV).code == 0
    assert _keytool_entries(jks, "JKS") == ["ca"]


def test_a_format_without_trust_refuses_clearly(tmp_path, ca_pem):
    before = ca_pem.read_bytes()
    label = keystores("list", str(ca_pem)).out.split("\t")[0]
    done = keystores("trust", str(ca_pem), label, "on")
    assert done.code == 1 and "no trust flags" in done.err, done.all
    assert ca_pem.read_bytes() == before


def test_bad_trust_letters_are_a_usage_error(tmp_path, ca_pem):
    done = keystores("trust", str(ca_pem), "x", "CX,C")
    assert done.code == 2 and "CT,C,C" in done.err, done.all
    done = keystores("trust", str(ca_pem), "x", "Q,,")
    assert done.code == 2 and "trust letter" in done.err, done.all


def test_cms_trust_on_and_off_as_before(tmp_path, ca_pem):
    kdb = tmp_path / "k.kdb"
    assert keystores("create", str(kdb), *PW, "--stash", env=ENV).code == 0
    assert keystores("import", str(ca_pem), str(kdb), "--label", "ca", env=ENV).code == 0
    assert keystores("trust", str(kdb), "ca", "off").code == 0
    assert '"trust": null' in keystores("list", str(kdb), "--json").out
    done = keystores("trust", str(kdb), "ca", "C,,")  # one bit: trust for some purposes is refused, never raised
    assert done.code == 1 and "every purpose or for none" in done.err, done.all
    assert '"trust": null' in keystores("list", str(kdb), "--json").out


def test_a_token_trusts_for_every_purpose_or_none(softhsm, tmp_path, ca_pem):  # noqa: F811
    token = softhsm.make_token("trust-cmd")
    assert keystores("import", str(ca_pem), token.uri, "--label", "ca", "--dest-password", token.password,
                     env=token.env).code == 0

    def trust() -> object:
        listed = keystores("list", token.uri, "--pin", token.password, "--json", env=token.env)
        return json.loads(listed.out)["entries"][0]["trust"]

    assert keystores("trust", token.uri, "ca", "off", "--pin", token.password, env=token.env).code == 0
    assert trust() is None
    done = keystores("trust", token.uri, "ca", "C,,", "--pin", token.password, env=token.env)
    assert done.code == 1 and "every purpose or for none" in done.err, done.all
    assert trust() is None
    assert keystores("trust", token.uri, "ca", "on", "--pin", token.password, env=token.env).code == 0
    assert trust() is not None
