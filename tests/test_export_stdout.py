"""`export ... -o -` writes to stdout, as `openssl x509` without -out and `keytool -exportcert` without -file do: PEM
anywhere, DER and PKCS#12 only when stdout is not a terminal (else a one-line usage error and nothing shown). No
file named "-" is made, and the bytes are those `-o FILE` writes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import keystores_tty
from cryptography.hazmat.primitives.serialization import Encoding
from hardening import PASSWORD, base_entries, make_store

ENV = {"KS_PW": PASSWORD, "NO_COLOR": "1"}
PW = ("-p", "env:KS_PW")
DER = Encoding.DER


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("stdout") / "s.p12"
    make_store("pkcs12", str(path), base_entries())
    return path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "keystores", *args], capture_output=True, cwd=cwd,
                          env={**os.environ, **ENV}, timeout=120, check=False)


@pytest.mark.parametrize(("options", "name"), [((), "c.pem"), (("--chain",), "c.pem"), (("--format", "der"), "c.der")])
def test_the_certificate_goes_to_stdout_as_the_file_would_hold_it(store, tmp_path, options, name) -> None:
    piped = run("export", str(store), "old-key", "-o", "-", *options, *PW, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert b"wrote" not in piped.stderr
    assert os.listdir(tmp_path) == []  # no file named "-", nothing else
    written = run("export", str(store), "old-key", "-o", str(tmp_path / name), *options, *PW, cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert piped.stdout == (tmp_path / name).read_bytes()
    if "der" in options:
        assert piped.stdout.startswith(b"0\x82")
    else:  # after openssl's "Bag Attributes" lines, as in the file
        assert piped.stdout.count(b"-----BEGIN CERTIFICATE-----\n") == (2 if "--chain" in options else 1)


def test_a_pkcs12_goes_to_stdout_when_it_is_not_a_terminal(store, tmp_path) -> None:
    from keystores.store import open_store

    piped = run("export", str(store), "old-key", "-o", "-", "--format", "p12", "--key", "--out-password",
                "env:KS_PW", *PW, cwd=tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert os.listdir(tmp_path) == []
    (tmp_path / "out.p12").write_bytes(piped.stdout)
    with open_store(tmp_path / "out.p12", password=PASSWORD) as exported, open_store(store, password=PASSWORD) as src:
        got, want = exported.get("old-key"), src.get("old-key")
        assert got.key is not None
        assert [c.public_bytes(DER) for c in got.chain] == [c.public_bytes(DER) for c in want.chain]


@pytest.mark.parametrize("fmt", ["der", "p12"])
def test_binary_output_to_a_terminal_is_one_line_refusing_it(store, tmp_path, fmt) -> None:
    done = keystores_tty("export", str(store), "old-key", "-o", "-", "--format", fmt, "--out-password", "env:KS_PW",
                         *PW, env=ENV, cwd=str(tmp_path))
    assert done.code == 2, done.out
    lines = [line for line in done.out.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("keystores: error: "), done.out
    assert "is binary and stdout is a terminal" in lines[0]
    assert os.listdir(tmp_path) == []


def test_pem_to_a_terminal_is_shown(store, tmp_path) -> None:
    done = keystores_tty("export", str(store), "old-key", "-o", "-", *PW, env=ENV, cwd=str(tmp_path))
    assert done.code == 0, done.out
    assert "-----BEGIN CERTIFICATE-----" in done.out and "-----END CERTIFICATE-----" in done.out
    assert os.listdir(tmp_path) == []


@pytest.fixture(scope="module")
def request_and_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sign")
    for argv in (("selfsign", "ca.p12", "--label", "ca", "--dn", "CN=Stdout CA", "--ca", "--key-type", "ec:p256"),
                 ("certreq", "web.p12", "--label", "web", "--dn", "CN=web", "--key-type", "ec:p256", "-o",
                  "web.csr")):
        done = run(*argv, "--password", "env:KS_PW", cwd=folder)
        assert done.returncode == 0, done.stderr
    return folder / "ca.p12", folder / "web.csr"


def test_sign_writes_der_to_stdout_as_bytes(request_and_ca, tmp_path) -> None:
    """`sign -o - --format der` decoded the DER as ASCII: an internal error."""
    ca, csr = request_and_ca
    done = run("sign", str(ca), str(csr), "--label", "ca", "-o", "-", "--format", "der", *PW, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    from cryptography import x509

    assert x509.load_der_x509_certificate(done.stdout).subject.rfc4514_string() == "CN=web"
    terminal = keystores_tty("sign", str(ca), str(csr), "--label", "ca", "-o", "-", "--format", "der", *PW, env=ENV,
                             cwd=str(tmp_path))
    assert terminal.code == 2 and "DER is binary and stdout is a terminal" in terminal.out, terminal.out
