"""selfsign, certreq, sign and receive with EC keys in PKCS#12 files, as bench/bench_core.py's start-up rows run
them, in a user's install (tests/user_install.py; issue 15): none loads cryptography or datetime (the keys are
made and used by the interpreter's libcrypto, keystores.crypto.ec_keys; times are POSIX seconds read from the DER),
and what they write is what openssl accepts: the request's signature, and the certificate sign made, verified
against the CA certificate selfsign made."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from user_install import UserInstall, user_install

PW = ["--password", "env:KS_LIFECYCLE_PW"]
ENV = {"KS_LIFECYCLE_PW": "user lean 15"}
NOT_LOADED = ("cryptography", "datetime", "_datetime")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> UserInstall:
    return user_install(tmp_path_factory.mktemp("user-install"))


def test_the_ec_lifecycle_loads_no_cryptography_nor_datetime(installed: UserInstall, tmp_path: Path) -> None:
    steps = {
        "selfsign": ["selfsign", "ca.p12", "--label", "ca", "--dn", "CN=User CA", "--ca", "--key-type", "ec:p384",
                     "-o", "ca.pem", *PW],
        "certreq": ["certreq", "web.p12", "--label", "web", "--dn", "CN=web,O=Lean", "--key-type", "ec:p256", "-o",
                    "web.csr", *PW],
        "sign": ["sign", "ca.p12", "web.csr", "--label", "ca", "-o", "web.pem", "--chain", *PW],
        "receive": ["receive", "web.p12", "web.pem", *PW],
    }
    for name, argv in steps.items():
        done, loaded = installed.run(argv, cwd=tmp_path, env=ENV)
        assert done.returncode == 0, (name, done.stderr)
        assert "keystores.ops.lifecycle" in loaded, name  # the record is the command's
        assert not {module for module in loaded if module.startswith(NOT_LOADED)}, (name, sorted(loaded))
    subprocess.run(["openssl", "req", "-in", "web.csr", "-verify", "-noout"], cwd=tmp_path, check=True,
                   capture_output=True)
    subprocess.run(["openssl", "verify", "-CAfile", "ca.pem", "web.pem"], cwd=tmp_path, check=True,
                   capture_output=True)
    done, _ = installed.run(["list", "web.p12", "--json", *PW], cwd=tmp_path, env=ENV)
    [web] = [entry for entry in json.loads(done.stdout)["entries"] if entry["label"] == "web"]
    assert (web["issuer"], web["chain_length"], web["key_type"]) == ("CN=User CA", 2, "EC-P256")
