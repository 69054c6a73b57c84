"""BKS and BCFKS keys are opened with keystores.crypto.key_encoding's loader and written by keystores.pki.pkcs8
(a sealed PKCS#12 EC key from its decrypted bytes, Entry.held_pkcs8) instead of through cryptography's serialization
package, whose ssh module (dataclasses, inspect, every key type) costs ~15-30 ms CPU of a small convert in a user
install (issue 15); a .kdb's key likewise (backends/cms/read.py, `keystores ams conf`). Held to what cryptography
writes: the PKCS#8 each store holds after a rewrite is cryptography's private_bytes of the key, for every key type."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from helpers import ca, certificate

from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.store import open_store

PASSWORD = "bc-lean-1"
KEYS = {"rsa": lambda: rsa.generate_private_key(65537, 2048),
        "p256": lambda: ec.generate_private_key(ec.SECP256R1()),
        "p384": lambda: ec.generate_private_key(ec.SECP384R1()),
        "p521": lambda: ec.generate_private_key(ec.SECP521R1()),
        "ed25519": ed25519.Ed25519PrivateKey.generate}


def _pkcs8(key: object) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                             serialization.NoEncryption())


@pytest.mark.parametrize("name", ["bks", "bcfks"])
def test_every_key_type_is_written_as_cryptography_writes_it(tmp_path: Path, name: str) -> None:
    ca_key, ca_cert = ca(0)
    keys = {label: make() for label, make in KEYS.items()}
    path = tmp_path / f"k.{name}"
    with open_store(path, password=PASSWORD, create=True) as store:
        for label, key in keys.items():
            leaf = certificate(key, label, ca_key, ca_cert)
            store.add(Entry(label=label, kind=EntryKind.KEY_PAIR, chain=(leaf, ca_cert), key=key))
    # through a PKCS#12 too: its sealed EC key is written from its decrypted bytes, never loaded
    p12 = tmp_path / "k.p12"
    with open_store(path, password=PASSWORD) as source, open_store(p12, password=PASSWORD, create=True) as dest:
        for entry in source.entries():
            dest.add(entry)
    again = tmp_path / f"again.{name}"
    with open_store(p12, password=PASSWORD) as source, open_store(again, password=PASSWORD, create=True) as dest:
        for entry in source.entries():
            if entry.kind is EntryKind.KEY_PAIR:  # the chains' CAs come back untrusted, which BKS cannot hold
                dest.add(entry)
    for written in (path, again):
        with open_store(written, password=PASSWORD) as store:
            assert {entry.label: _pkcs8(entry.key) for entry in store.entries()} == \
                {label: _pkcs8(key) for label, key in keys.items()}


def _modules_after(argv: list[str], cwd: Path) -> list[str]:
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=False,
                          cwd=cwd, env={**os.environ, "LEAN_PW": PASSWORD})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_convert_export_and_ams_conf_import_no_serialization_package(tmp_path: Path) -> None:
    ca_key, ca_cert = ca(0)
    key = ec.generate_private_key(ec.SECP256R1())
    with open_store(tmp_path / "one.p12", password=PASSWORD, create=True) as store:
        store.add(Entry(label="server", kind=EntryKind.KEY_PAIR, chain=(certificate(key, "s", ca_key, ca_cert),),
                        key=key))
    with open_store(tmp_path / "s.kdb", password=PASSWORD, create=True, stash=True) as store:
        store.add(Entry(label="server", kind=EntryKind.KEY_PAIR, chain=(certificate(key, "s", ca_key, ca_cert),),
                        key=key))
    pw = ["-p", "env:LEAN_PW"]
    runs = []
    for name in ("bks", "bcfks"):
        runs += [["convert", "one.p12", f"c.{name}", *pw, "--dest-password", "env:LEAN_PW"],
                 ["export", f"c.{name}", "server", "--key", "-o", f"{name}.key.pem", *pw]]
    runs.append(["ams", "conf", "s.kdb", "--label", "server", "-o", "k.conf"])
    for argv in runs:
        loaded = _modules_after(argv, tmp_path)
        assert "cryptography.hazmat.primitives.serialization" not in loaded, argv
    for name in ("bks", "bcfks"):
        written = serialization.load_pem_private_key((tmp_path / f"{name}.key.pem").read_bytes(), None)
        assert _pkcs8(written) == _pkcs8(key)


# --- opening a BCFKS (bench/bench_core.py's "list s.bcfks", held to its floor: Bouncy Castle's two derivations) ---

# What reading a BCFKS needs none of: the standard library's hmac (which loads hashlib and a second OpenSSL) for the
# store MAC, cryptography's ciphers package for the AES-CCM it re-exports from its compiled module; and a listing
# needs no datetime
NOT_FOR_A_BCFKS = ("hmac", "hashlib", "_hashlib", "cryptography.hazmat.primitives.ciphers", "encodings.utf_16_be")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory):
    from user_install import user_install

    return user_install(tmp_path_factory.mktemp("user-install"))


def test_the_store_cipher_is_cryptographys_aesccm() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESCCM

    from keystores.backends.bcfks.store import _aes_ccm

    assert _aes_ccm() is AESCCM


def test_listing_a_bcfks_in_a_user_install_loads_no_stdlib_hmac_nor_cipher_package(installed, tmp_path: Path) -> None:
    """bench_core's BCFKS (a key pair with its CA, and the CA trusted), listed and shown by the console script of a
    user's install, and a wrong password still told from damage."""
    ca_key, ca_cert = ca(0)
    key = ec.generate_private_key(ec.SECP256R1())
    with open_store(tmp_path / "s.bcfks", password=PASSWORD, create=True) as store:
        store.add(Entry(label="server", kind=EntryKind.KEY_PAIR, key=key,
                        chain=(certificate(key, "s", ca_key, ca_cert), ca_cert)))
        store.add(Entry(label="ca", kind=EntryKind.TRUSTED_CERT, chain=(ca_cert,), trust=TRUST_ALL))
    env = {"LEAN_PW": PASSWORD, "WRONG_PW": PASSWORD + "x"}
    for argv in (["list", "s.bcfks", "-p", "env:LEAN_PW"], ["show", "s.bcfks", "server", "-p", "env:LEAN_PW"]):
        done, loaded = installed.run(argv, cwd=tmp_path, env=env)
        assert done.returncode == 0, (argv, done.stderr)
        assert "keystores.backends.bcfks.store" in loaded, argv
        assert not set(NOT_FOR_A_BCFKS) & loaded, (argv, set(NOT_FOR_A_BCFKS) & loaded)
        # the table shows no entry's date: a listing keeps them as the file has them (structure.when)
        assert ("datetime" in loaded) is (argv[0] == "show"), argv
    assert [line.split("\t")[:2] for line in installed.run(["list", "s.bcfks", "-p", "env:LEAN_PW"], cwd=tmp_path,
                                                           env=env)[0].stdout.splitlines()] == \
        [["server", "key-pair"], ["ca", "trusted-cert"]]
    done, _ = installed.run(["list", "s.bcfks", "-p", "env:WRONG_PW"], cwd=tmp_path, env=env)
    assert done.returncode == 3 and "wrong store password" in done.stderr, done.stderr


@pytest.mark.parametrize("password", ["", "bc-lean-1", "clé", "\U0001f511 key", "\ud800lone", "\udfff", "a\x00b"])
def test_a_password_is_encoded_as_the_utf_16_be_codec_encodes_it(password: str) -> None:
    """(Bouncy Castle writes each char as it is: a lone surrogate too.)"""
    from keystores.backends.bcfks.store import _password_bytes

    assert _password_bytes(password) == (password.encode("utf-16-be", "surrogatepass") + b"\x00\x00" if password
                                         else b"")


def test_a_bcfks_derives_its_second_key_through_kdf_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a BCFKS hands the store key to keystores.crypto.kdf_pool (the one way derivations run side by side)
    while it derives the MAC key; writing one hands the MAC key: no thread of its own. A wrong password is still
    told from damage."""
    from keystores.crypto import kdf_pool

    submitted: list[int | None] = []
    submit = kdf_pool.KdfPool.submit

    def counted(self: kdf_pool.KdfPool, iterations: int | None, call: object, /, *args: object,
                **kwargs: object) -> object:
        submitted.append(iterations)
        return submit(self, iterations, call, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kdf_pool.KdfPool, "submit", counted)
    _, ca_cert = ca(0)
    path = tmp_path / "s.bcfks"
    with open_store(path, password=PASSWORD, create=True) as store:
        store.add(Entry(label="ca", kind=EntryKind.TRUSTED_CERT, chain=(ca_cert,), trust=TRUST_ALL))
    assert submitted == [51_200]
    submitted.clear()
    with open_store(path, password=PASSWORD) as store:
        assert [entry.chain_der() for entry in store.entries()] == [(ca_cert.public_bytes(serialization.Encoding.DER),)]
    assert submitted == [51_200]
    from keystores.errors import WrongPassword

    with pytest.raises(WrongPassword):
        open_store(path, password=PASSWORD + "x")
