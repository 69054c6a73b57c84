"""What listing, showing and exporting the small PEM and DER files users list costs in a user's install (issue 15,
"start-up"; tests/user_install.py: in the development venv the editable install's finder loads most of these
modules in every run): a certificate, a key alone, a key with its certificate or chain (PKCS#8 or OpenSSL's
traditional form, encrypted), a DER certificate. Each run's output is checked too, so a run that failed early
cannot pass for a lean one.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from user_install import UserInstall, user_install

from keystores.model import Entry, EntryKind
from keystores.store import open_store

PASSWORD = "bench-password"  # bench/bench_pem.py's, which made key.pem and traditional.pem
ENV = {"BENCH_PW": PASSWORD}
PW = ["--password", "env:BENCH_PW"]
WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# The standard library's modules Python's start-up does not load and these commands do not need (each 0.5-6 ms of
# CPU of a run); re, enum, functools and collections came in with the line scan of a PEM file's text.
HEAVY = {"typing", "re", "enum", "collections", "functools", "contextlib", "importlib", "dataclasses", "inspect",
         "pathlib", "datetime", "json", "ipaddress", "urllib.parse"}


def _certificate(subject: str, key: Any, issuer: str, issuer_key: Any) -> x509.Certificate:
    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])

    return (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
            .public_key(key.public_key()).serial_number(11).not_valid_before(WHEN)
            .not_valid_after(WHEN + dt.timedelta(days=365)).sign(issuer_key, hashes.SHA256()))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> UserInstall:
    return user_install(tmp_path_factory.mktemp("user-install"))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bench/bench_pem.py's small files: cert.pem, server.pem (an encrypted key with its chain), pair.pem (an
    encrypted key with its certificate), key.pem (an encrypted key alone), traditional.pem (OpenSSL's DEK-Info form
    with its certificate), server.der."""
    from bench_pem import PASSWORD_ENV, _small_files  # (tests/user_install.py put bench/ on the path)

    assert PASSWORD_ENV == ENV
    folder = tmp_path_factory.mktemp("pem-files")
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = _certificate("Root", root_key, "Root", root_key)
    leaf = _certificate("server", leaf_key, "Root", root_key)
    with open_store(folder / "server.pem", create=True, password=PASSWORD) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(leaf, root), key=leaf_key))
    with open_store(folder / "pair.pem", create=True, password=PASSWORD) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(leaf,), key=leaf_key))
    (folder / "cert.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    _small_files(folder, leaf, leaf_key)  # server.der, traditional.pem, key.pem
    return folder


def _run(installed: UserInstall, files: Path, argv: list[str], stderr: str = "") -> tuple[str, set[str]]:
    done, loaded = installed.run(argv, cwd=files, env=ENV)
    assert done.returncode == 0 and done.stderr == stderr, done.stderr
    return done.stdout, loaded


def test_python_alone_loads_none_of_them(installed: UserInstall, tmp_path: Path) -> None:
    """Else the tests below would pass whatever keystores imports."""
    done, loaded = installed.run(["-c", "pass"], cwd=tmp_path, console_script=False)
    assert done.returncode == 0 and "sys" in loaded, done.stderr
    assert not HEAVY & loaded


@pytest.mark.parametrize("name", ["cert.pem", "server.der"])
def test_listing_a_certificate_loads_no_heavy_module(installed: UserInstall, files: Path, name: str) -> None:
    printed, loaded = _run(installed, files, ["list", name])
    assert printed.startswith("server\ttrusted-cert\tCN=server\t2027-01-01T00:00:00Z\tEC-P256")
    assert not HEAVY & loaded, HEAVY & loaded
    assert not {module for module in loaded if module.startswith("cryptography")}


LOOSE_KEY = ("keystores: key.pem: holds a private key (EC-P256) that matches no certificate or request; it is not an "
             "entry, but it is kept when the file is rewritten\n")


@pytest.mark.parametrize(("name", "first"), [("pair.pem", "server\tkey-pair\tCN=server\t"),
                                             ("traditional.pem", "server\tkey-pair\tCN=server\t"),
                                             ("key.pem", "")])
def test_listing_an_encrypted_ec_key_loads_no_heavy_module(installed: UserInstall, files: Path, name: str,
                                                           first: str) -> None:
    """The key is decrypted by hashlib and libcrypto (PBES2, or OpenSSL's DEK-Info header read without `re`) and
    judged by libcrypto: no cryptography either."""
    printed, loaded = _run(installed, files, ["list", name, *PW], "" if first else LOOSE_KEY)
    assert printed.startswith(first) and (first or printed == "")
    assert not HEAVY & loaded, HEAVY & loaded
    assert "keystores.backends.pem.lazy_chain" not in loaded  # a key with its one certificate: no chain to build
    assert not {module for module in loaded if module.startswith("cryptography")}


def test_showing_and_exporting_a_certificate_load_no_hashlib(installed: UserInstall, files: Path) -> None:
    """The fingerprints `show` prints are hashed by the interpreter's built-in SHA modules, and the PEM writer tells
    certificates apart by their DER: hashlib (which loads OpenSSL's libcrypto) is not imported."""
    printed, loaded = _run(installed, files, ["show", "cert.pem", "server"])
    leaf = x509.load_pem_x509_certificate((files / "cert.pem").read_bytes())
    assert f"  SHA-256 fingerprint: {leaf.fingerprint(hashes.SHA256()).hex(':').upper()}\n" in printed
    assert f"  SHA-1 fingerprint: {leaf.fingerprint(hashes.SHA1()).hex(':').upper()}\n" in printed
    assert not (HEAVY | {"hashlib"}) & loaded, (HEAVY | {"hashlib"}) & loaded
    assert not {module for module in loaded if module.startswith("cryptography")}
    _, loaded = _run(installed, files, ["export", "cert.pem", "server", "-o", "out.pem", "--force"],
                     "keystores: wrote out.pem\n")
    assert (files / "out.pem").read_bytes() == (files / "cert.pem").read_bytes()
    assert not (HEAVY | {"hashlib"}) & loaded, (HEAVY | {"hashlib"}) & loaded


def test_listing_a_key_with_its_chain_loads_no_cryptography(installed: UserInstall, files: Path) -> None:
    """The chain's signatures are verified by the interpreter's libcrypto, which decrypted the key already."""
    printed, loaded = _run(installed, files, ["list", "server.pem", *PW])
    assert [line.split("\t")[:2] for line in printed.splitlines()] == [["server", "key-pair"], ["Root", "certificate"]]
    assert not HEAVY & loaded, HEAVY & loaded
    assert not {module for module in loaded if module.startswith("cryptography")}
    assert "keystores.pki.chain" in loaded  # (the chain was built, not skipped)


@pytest.mark.parametrize(("name", "label"), [("pair.pem", "server"), ("server.pem", "server"),
                                             ("traditional.pem", "server")])
def test_showing_an_ec_key_pair_loads_no_cryptography(installed: UserInstall, files: Path, name: str, label: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The key, judged loadable by libcrypto while the file was read (an EC key), is not loaded to say it has no
    problem and is on no token; the store's protection is read from the DER (no asn1crypto)."""
    printed, loaded = _run(installed, files, ["show", name, label, *PW])
    assert "kind: key-pair\n" in printed and "private key: yes\non token: no\n" in printed
    assert "problem" not in printed
    assert not HEAVY & loaded, HEAVY & loaded
    assert not {module for module in loaded if module.startswith(("cryptography", "asn1crypto"))}
    monkeypatch.chdir(files)
    with open_store(name, password=PASSWORD, writable=True) as store:  # read.py's reading: the same facts
        from keystores.ops.describe import store_data

        full = store_data(store, [store.get(label)], detail=True)
    shown, _ = _run(installed, files, ["show", name, label, "--json", *PW])
    assert json.loads(shown) == json.loads(json.dumps(full, default=str))


@pytest.mark.parametrize("name", ["pair.pem", "server.pem", "traditional.pem"])
def test_exporting_an_ec_key_pair_with_its_key_loads_no_cryptography(installed: UserInstall, files: Path,
                                                                     name: str) -> None:
    """The key, judged by libcrypto while the file was read, is written from the PKCS#8 it gives as cryptography
    writes it (LazyEntry.held_pkcs8), not loaded; what is written is the key and chain read."""
    out = f"key-{name}"
    _, loaded = _run(installed, files, ["export", name, "server", "--key", "--chain", "-o", out, "--force", *PW],
                     f"keystores: wrote {out}\n")
    assert not HEAVY & loaded, HEAVY & loaded
    assert not {module for module in loaded if module.startswith(("cryptography", "asn1crypto"))}
    written = (files / out).read_bytes()
    with open_store(files / name, password=PASSWORD, writable=True) as store:  # read.py's reading
        entry = store.get("server")
        expected_key = entry.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption())
        expected_chain = [cert.public_bytes(serialization.Encoding.PEM) for cert in entry.chain]
    assert expected_key in written and all(cert in written for cert in expected_chain)


@pytest.mark.parametrize("name", ["pair.pem", "server.pem", "traditional.pem", "key.pem", "cert.pem", "server.der"])
def test_a_file_the_lazy_reader_reads_is_listed_without_the_decoders(installed: UserInstall, files: Path,
                                                                      name: str) -> None:
    """read.py's decoders (~40 KB of bytecode) read what lazy_read.py declines; a listing of the everyday shapes
    does not import them."""
    done, loaded = installed.run(["list", name, *PW], cwd=files, env=ENV)
    assert done.returncode == 0 and (done.stdout or name == "key.pem"), done.stderr
    assert "keystores.backends.pem.store" in loaded and "keystores.backends.pem.read" not in loaded
    assert "keystores.pki.labels" not in loaded  # no label repeats (pem.labels.TakenLabels)


def test_exporting_and_converting_into_a_new_pem_or_der_file_load_no_reader(installed: UserInstall, files: Path,
                                                                           tmp_path: Path) -> None:
    """A new PEM or DER file is written, never read: neither the PEM parser nor the decoders are imported."""
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    with open_store(tmp_path / "one.p12", create=True, password=PASSWORD) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(_certificate("server", leaf_key, "server", leaf_key),),
                        key=leaf_key))
    for argv in (["export", "one.p12", "server", "-o", "cert.pem"], ["export", "one.p12", "server", "-o", "cert.der"],
                 ["convert", "one.p12", "conv.pem"]):
        done, loaded = installed.run([*argv, *PW], cwd=tmp_path, env=ENV)
        assert done.returncode == 0 and done.stderr.rstrip().endswith(argv[-1]), done.stderr
        assert "keystores.backends.pem.write" in loaded, argv
        assert not {"keystores.backends.pem.parse", "keystores.backends.pem.read"} & loaded, argv
        assert "keystores.pki.labels" not in loaded, argv  # one entry: no label can repeat (pem.labels.TakenLabels)
    assert b"PRIVATE KEY-----" in (tmp_path / "conv.pem").read_bytes()  # (the key went too)


def test_a_der_certificate_is_listed_and_shown_without_binascii(installed: UserInstall, files: Path) -> None:
    """A DER file holds no base64: the PEM parser's decoder (binascii, a shared library to load) is not imported."""
    for argv in (["list", "server.der"], ["list", "server.der", "--json"], ["show", "server.der", "server"]):
        printed, loaded = _run(installed, files, argv)
        assert "server" in printed and "keystores.backends.pem.lazy_read" in loaded, argv
        assert "binascii" not in loaded, argv
