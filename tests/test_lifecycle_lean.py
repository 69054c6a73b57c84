"""certreq, sign and receive as bench/bench_core.py's start-up rows run them (an EC P-256 key into a new PKCS#12, a
CA in a PKCS#12 signing with --chain, the reply received into the PKCS#12) import none of the modules they shed for
start-up speed (issue 15), and still do their work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# What each command no longer imports, and why it once did:
SHED = {
    # the package's __init__ imports serialization.ssh (dataclasses, inspect, RSA padding, ciphers): ~15 ms.
    # keystores.crypto.key_encoding and keystores.pki.pkcs8 reach the same objects without it.
    "cryptography.hazmat.primitives.serialization",
}


def _modules_after(folder: Path, *argv: str) -> list[str]:
    """`keystores ARGV --password env:KS_PW` in a fresh interpreter; the modules it imported."""
    probe = ("import atexit, json, sys\n"
             "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
             "sys.argv = ['keystores', *sys.argv[1:], '--password', 'env:KS_PW']\n"
             "from keystores.cli.main import run\nsys.exit(run())\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=folder,
                          env={**os.environ, "KS_PW": "lean pw 15"}, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    folder = tmp_path_factory.mktemp("lifelean")
    subprocess.run([sys.executable, "-m", "keystores", "selfsign", "ca.p12", "--label", "ca", "--dn", "CN=Lean CA",
                    "--ca", "--key-type", "ec:p256", "--password", "env:KS_PW"], cwd=folder, check=True,
                   capture_output=True, env={**os.environ, "KS_PW": "lean pw 15"})
    found = {
        "certreq": _modules_after(folder, "certreq", "web.p12", "--label", "web", "--dn", "CN=web", "--key-type",
                                  "ec:p256", "-o", "web.csr"),
        "sign": _modules_after(folder, "sign", "ca.p12", "web.csr", "--label", "ca", "-o", "web.pem", "--chain",
                               "--force"),
        "receive": _modules_after(folder, "receive", "web.p12", "web.pem"),
    }
    listed = subprocess.run([sys.executable, "-m", "keystores", "list", "web.p12", "--json", "--password",
                             "env:KS_PW"], cwd=folder, check=True, capture_output=True, text=True,
                            env={**os.environ, "KS_PW": "lean pw 15"})
    [web] = [entry for entry in json.loads(listed.stdout)["entries"] if entry["label"] == "web"]
    assert web["issuer"] == "CN=Lean CA" and web["chain_length"] == 2  # the reply and the CA went in
    return found


@pytest.mark.parametrize("command", ["certreq", "sign", "receive"])
def test_the_command_imports_nothing_it_shed(loaded: dict[str, list[str]], command: str) -> None:
    modules = loaded[command]
    assert "keystores.ops.lifecycle" in modules  # the probe saw the command's own imports
    assert not SHED & set(modules), SHED & set(modules)
