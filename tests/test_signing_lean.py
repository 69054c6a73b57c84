"""audit and validate of a small store in a user install (issue 15; bench/bench_core.py "start-up: keystores audit
s.kdb"): chain links are verified by the interpreter's libcrypto (keystores.crypto.verify), fingerprints by hashlib,
weak keys read from the DER, so that auditing or validating the .kdb, PKCS#12, JKS and NSS stores of
tests/test_store_lean.py loads no cryptography at all (NSS: none but its PBKDF2), and none of re, contextlib,
collections, functools or typing (NSS: sqlite3 and that PBKDF2 load them); and the findings are those of the
development venv's run, where cryptography is loaded and verifies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig

import pytest
from test_store_lean import _RUN, ENV, PW, installed, stores  # noqa: F401 - fixtures

UNUSED = {"re", "contextlib", "collections", "functools", "typing", "enum"}


@pytest.mark.parametrize("name", ["s.kdb", "s.p12", "s.jks", "s.jceks", "nss"])
def test_audit_and_validate_load_no_cryptography(installed: str, stores: dict[str, str], name: str) -> None:  # noqa: F811
    location = stores[name]
    pw = [] if name == "s.kdb" else PW  # the stash opens it
    # (the stores' certificates are valid through 2026: what audit and validate find changes with the date, so each
    # run is compared with the development venv's run of the same moment; validate --at would load re to parse it)
    for args in (["audit", location, *pw, "--within", "30d", "--json"], ["validate", location, "server", *pw]):
        modules, run = _as_user(installed, args)
        assert "keystores.crypto.verify" in modules, args  # the links were checked, by libcrypto
        # (NSS's PBKDF2 of its trust MACs, above hashlib's rounds, is cryptography's: no key or certificate of it)
        checked_by = ("cryptography.x509", "cryptography.hazmat.primitives.asymmetric") if name == "nss" else (
            "cryptography",)
        assert not {m for m in modules if m.startswith(checked_by)}, (args, sorted(modules))
        unused = set() if name == "nss" else UNUSED  # sqlite3 and cryptography's KDF import them
        assert not modules & unused, (args, modules & unused)
        ours = json.dumps(json.loads(run.stdout) | {"at": None}) if args[0] == "audit" else run.stdout
        assert ours == _in_the_dev_venv(args, installed), args


def _as_user(site: str, args: list[str]) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """test_store_lean's run as a user's install, whatever the findings (exit 0, or 5 for audit's)."""
    path = os.pathsep.join([site, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    run = subprocess.run([sys.executable, "-S", "-c", _RUN, *args], capture_output=True, text=True, cwd=site,
                         env={**os.environ, **ENV, "PYTHONPATH": path}, timeout=120)
    assert run.returncode in (0, 5), run.stderr
    *_, modules = run.stderr.strip().splitlines()
    return set(json.loads(modules)), run


def _in_the_dev_venv(args: list[str], cwd: str) -> str:
    """The same command's output where cryptography is loaded (the development venv's -c probe imports it)."""
    probe = ("import sys\nimport cryptography.x509\nfrom keystores.cli.main import run\n"
             "try:\n    run(sys.argv[1:])\nexcept SystemExit as exc:\n    assert exc.code in (None, 0, 5), exc.code\n")
    done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **ENV}, check=True)
    return json.dumps(json.loads(done.stdout) | {"at": None}) if args[0] == "audit" else done.stdout
