"""`show` of a .kdb or NSS key pair reads its chain from the DER (keystores.pki.shown), as show of a PKCS#12 does,
without decoding a certificate with cryptography.x509 (issue 15 item 2); and model.describe_key imports only the
module of the key type it names. Each held to the old path: the same `show --json` data as with every chain decoded
first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
from test_audit_lean import _entry, _issue, _name, fixture_chains

from keystores.model import EntryKind, describe_key
from keystores.ops.describe import entry_data
from keystores.pki.certificates import decode_certificate
from keystores.store import open_store

PASSWORD = "show-lean-1"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """audit's fixture entries (chains through an intermediate, out of order, missing a link) in a .kdb with its
    stash and in an NSS database; and a key pair issued by a CA, with the CA trusted, in each."""
    folder = tmp_path_factory.mktemp("show-lean")
    (folder / "nss").mkdir()
    made = {"kdb": str(folder / "s.kdb"), "nss": f"sql:{folder / 'nss'}"}
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _issue(_name("Show CA"), ca_key, _name("Show CA"), ca_key, ca=True, days=400)
    leaf = _issue(_name("server"), key, _name("Show CA"), ca_key)
    for name, location in made.items():
        with open_store(location, password=PASSWORD, create=True, **({"stash": True} if name == "kdb" else {})) \
                as store:
            chains = fixture_chains()
            for label, kind, ders, entry_key in [*chains, ("server", EntryKind.KEY_PAIR, (leaf, ca), key),
                                                 ("ca", EntryKind.TRUSTED_CERT, (ca,), None)]:
                store.add(_entry(label, kind, tuple(decode_certificate(der) for der in ders), entry_key))
    return made


def _shown(location: str, *, decode_first: bool) -> list[Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_store(location, password=PASSWORD) as store:
            entries = list(store.entries())
            for entry in entries if decode_first else ():
                _ = entry.chain
            return [entry_data(e, detail=detail) for e in entries for detail in (False, True)]


@pytest.mark.parametrize("name", ["kdb", "nss"])
def test_show_of_key_pairs_reads_the_same_from_the_der(stores: dict[str, str], name: str) -> None:
    assert json.dumps(_shown(stores[name], decode_first=False)) == json.dumps(
        _shown(stores[name], decode_first=True))


def _modules_after(argv: list[str], cwd: Path) -> list[str]:
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=cwd,
                          check=False, env={**os.environ, "SHOW_PW": PASSWORD})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["kdb", "nss"])
def test_showing_a_key_pair_imports_no_x509(stores: dict[str, str], name: str, tmp_path: Path) -> None:
    password = [] if name == "kdb" else ["-p", "env:SHOW_PW"]
    for extra in ([], ["--json"]):
        loaded = _modules_after(["show", stores[name], "server", *password, *extra], tmp_path)
        assert "keystores.ops.describe" in loaded  # the probe saw the command's own imports
        assert "cryptography.x509" not in loaded, extra


@pytest.mark.filterwarnings("ignore:DSA is deprecated")  # a DSA key made on purpose, as keytool still makes them
def test_describe_key_names_every_key_type() -> None:
    keys = {"RSA-1024": rsa.generate_private_key(65537, 1024), "EC-P384": ec.generate_private_key(ec.SECP384R1()),
            "EC-secp256k1": ec.generate_private_key(ec.SECP256K1()), "Ed25519": ed25519.Ed25519PrivateKey.generate(),
            "Ed448": ed448.Ed448PrivateKey.generate(), "DSA-1024": dsa.generate_private_key(1024),
            "X25519": x25519.X25519PrivateKey.generate(), "X448": x448.X448PrivateKey.generate()}
    assert {expected: describe_key(key.public_key()) for expected, key in keys.items()} == {k: k for k in keys}
    assert describe_key(object()) == "unknown key type"


def test_describing_an_ec_key_imports_no_other_key_type() -> None:
    probe = ("import sys\nfrom cryptography.hazmat.primitives.asymmetric import ec\n"
             "from keystores.model import describe_key\n"
             "assert describe_key(ec.generate_private_key(ec.SECP256R1()).public_key()) == 'EC-P256'\n"
             "print(' '.join(sorted(sys.modules)))\n")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    asymmetric = "cryptography.hazmat.primitives.asymmetric."
    assert f"{asymmetric}ec" in loaded
    assert not [m for m in loaded if m in {f"{asymmetric}{t}" for t in ("rsa", "dsa", "ed25519", "ed448")}]
