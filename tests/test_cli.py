"""The CLI contract: exit codes, one-line errors, JSON schema, secrets never printed, nothing changed on failure."""

from __future__ import annotations

import json
import subprocess

import pytest
from clirun import keystores
from helpers import key_pair_entry, trusted_entry

from keystores.store import open_store

PW = "Str0ng pass"
ENV = {"KS_PW": PW, "KS_NEW": "n3w pass"}


@pytest.fixture
def p12(tmp_path):
    path = tmp_path / "server.p12"
    with open_store(path, password=PW, create=True) as store:
        store.add(key_pair_entry("server", index=1))
        store.add(trusted_entry("root"))
    return path


def test_list_json_schema(p12):
    result = keystores("list", str(p12), "--password", "env:KS_PW", "--json", env=ENV)
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert {e["label"] for e in data["entries"]} == {"server", "root"}
    server = next(e for e in data["entries"] if e["label"] == "server")
    for field in ("label", "kind", "subject", "issuer", "serial", "not_before", "not_after", "key_type", "default",
                  "sha256"):
        assert field in server
    assert server["kind"] == "key-pair"
    assert server["key_type"] == "RSA-2048"
    assert server["subject"] == "O=keystores tests,CN=server server"  # RFC 4514: last RDN first
    assert server["not_after"].endswith("Z")
    root = next(e for e in data["entries"] if e["label"] == "root")
    assert root["kind"] == "trusted-cert"


@pytest.mark.parametrize(("args", "code", "needle"), [
    (["list", "{p12}", "--password", "pass:wrong"], 3, "wrong password"),
    (["list", "{missing}", "--password", "env:KS_PW"], 4, "no such file"),
    (["show", "{p12}", "nope", "--password", "env:KS_PW"], 4, "'server'"),
    (["list", "{p12}", "--password", "nosuchsource"], 2, "source"),
    (["list", "{p12}", "--bogus"], 2, "bogus"),
    (["list", "{garbage}"], 1, "garbage.p12"),
])
def test_errors_are_one_line_with_distinct_codes(tmp_path, p12, args, code, needle):
    garbage = tmp_path / "garbage.p12"
    garbage.write_bytes(b"\x30\x82\x01\x00\x02\x01\x03" + bytes(200))
    fill = {"p12": str(p12), "missing": str(tmp_path / "missing.p12"), "garbage": str(garbage)}
    result = keystores(*[a.format(**fill) for a in args], env=ENV)
    assert result.code == code, result.all
    assert needle in result.err
    assert "Traceback" not in result.all
    error_lines = [line for line in result.err.splitlines() if "error" in line.lower()]
    assert len(error_lines) <= 1


def test_secrets_never_printed(tmp_path, p12):
    runs = [
        keystores("list", str(p12), "--password", f"pass:{PW}", "--json", env=ENV),
        keystores("list", str(p12), "--password", "pass:WrongSecret99", env=ENV),
        keystores("convert", str(p12), str(tmp_path / "x.p12"), "-p", "env:KS_PW", "--dest-password",
                  "env:KS_NEW", env=ENV),
        keystores("passwd", str(tmp_path / "x.p12"), "-p", "env:KS_NEW", "--new-password", "env:KS_PW", env=ENV),
    ]
    for result in runs:
        assert PW not in result.all and "WrongSecret99" not in result.all and "n3w pass" not in result.all
    assert "visible to other users" in runs[0].err


def test_convert_refuses_to_overwrite_without_force(tmp_path, p12):
    dest = tmp_path / "copy.p12"
    dest.write_bytes(b"precious")
    result = keystores("convert", str(p12), str(dest), "-p", "env:KS_PW", "--dest-password", "env:KS_PW", env=ENV)
    assert result.code == 1 and "--force" in result.err
    assert dest.read_bytes() == b"precious"
    result = keystores("convert", str(p12), str(dest), "-p", "env:KS_PW", "--dest-password", "env:KS_PW",
                       "--force", env=ENV)
    assert result.code == 0, result.err
    with open_store(dest, password=PW) as store:
        assert sorted(store.labels()) == ["root", "server"]


def test_failed_import_changes_nothing(tmp_path, p12):
    before = p12.read_bytes()
    other = tmp_path / "other.p12"
    with open_store(other, password=PW, create=True) as store:
        store.add(key_pair_entry("server", index=2))
    result = keystores("import", str(other), str(p12), "-p", "env:KS_PW", "--dest-password", "env:KS_PW", env=ENV)
    assert result.code == 1 and "exists" in result.err
    assert p12.read_bytes() == before


def test_import_key_and_cert_then_export_pem_judged_by_openssl(tmp_path):
    from cryptography.hazmat.primitives import serialization

    entry = key_pair_entry("web", index=3)
    key_file, cert_file, chain_file = tmp_path / "k.pem", tmp_path / "c.pem", tmp_path / "ca.pem"
    key_file.write_bytes(entry.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    cert_file.write_bytes(entry.chain[0].public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(entry.chain[1].public_bytes(serialization.Encoding.DER))  # DER works too
    dest = tmp_path / "new.p12"
    result = keystores("import", str(dest), "--key", str(key_file), "--cert", str(cert_file), "--chain",
                       str(chain_file), "--label", "web", "--dest-password", "env:KS_PW", env=ENV)
    assert result.code == 0, result.err
    assert (dest.stat().st_mode & 0o777) == 0o600
    out = tmp_path / "web.pem"
    result = keystores("export", str(dest), "web", "-o", str(out), "--chain", "-p", "env:KS_PW", env=ENV)
    assert result.code == 0, result.err
    ca_pem = tmp_path / "root.pem"
    ca_pem.write_bytes(entry.chain[1].public_bytes(serialization.Encoding.PEM))
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(ca_pem), str(out)], capture_output=True,
                            text=True, check=False)
    assert verify.returncode == 0, verify.stderr


def test_backends_lists_every_format():
    result = keystores("backends", "--json")
    assert result.code == 0
    data = json.loads(result.out)
    from keystores import formats

    backends = {r.name for r in formats.listed() if not r.variant_of and r.storage is not formats.Storage.INDIRECT}
    assert set(data) == backends and {"pem", "pkcs12", "jks", "jceks", "cms", "nss", "pkcs11"} <= backends
    assert data["pkcs12"]["available"] is True


@pytest.mark.parametrize("kind", ["pkcs12", "nss", "jks"])
def test_table_rows_agree_with_the_json_schema(p12, tmp_path, kind):
    """`list` without --json prints a cheaper row; its values must be the JSON ones. NSS entries, PKCS#12 entries of a
    file with a MAC and JKS entries are still undecoded when the row is made (keystores.pki.columns reads it)."""
    from keystores.ops.describe import entry_data, entry_row

    location = str(p12)
    if kind != "pkcs12":
        location = f"sql:{tmp_path / 'nss'}" if kind == "nss" else str(tmp_path / "s.jks")
        with open_store(location, password=PW, create=True) as copy, open_store(p12, password=PW) as source:
            for entry in source.entries():
                copy.add(entry)
    with open_store(location, password=PW) as store:
        for entry in store.entries():
            assert entry.undecoded_leaf is not None
            row = entry_row(entry)
            full = entry_data(entry)
            assert row == {key: full[key] for key in row}
    listed = keystores("list", location, "--password", "env:KS_PW", env=ENV)
    assert listed.code == 0
    assert sorted(line.split("\t")[0] for line in listed.out.splitlines()) == ["root", "server"]


def test_table_on_a_terminal_fits_the_window(p12):
    """On a terminal: a header, aligned columns cut to the window's width, no column that is empty throughout."""
    from clirun import keystores_tty

    done = keystores_tty("list", str(p12), "--password", "env:KS_PW", env=ENV, columns=72)
    assert done.code == 0, done.out
    lines = done.out.splitlines()
    assert lines[1].split() == ["Label", "Kind", "Subject", "Expires", "Key"]  # "Default": no entry has it
    assert all(len(line) <= 72 for line in lines[1:])
    assert {line.split()[0] for line in lines[3:]} == {"root", "server"}
    assert any("…" in line for line in lines[3:])  # the subject was cut to fit
