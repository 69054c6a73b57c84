"""PKCS#12 interop judged by the real tools: keytool (JDK 17) and openssl (3.x) make stores we read whole, and
read every store we write with the same labels and entry types; `keytool -certreq` proves the keys work."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from helpers import ca, key_pair_entry, same_key, trusted_entry, warned_of

from keystores.errors import WrongPassword
from keystores.model import TRUST_ALL, EntryKind
from keystores.store import open_store

pytestmark = pytest.mark.interop

PASSWORD = "changeit-42"  # keytool refuses non-ASCII passwords for PBES2 ("Password is not ASCII")
NON_ASCII = "pässwörd-Ü鍵"  # for openssl: the BMPString and UTF-8 encodings must match the tool's
KEYTOOL = shutil.which("keytool")
OPENSSL = shutil.which("openssl")
needs_keytool = pytest.mark.skipif(KEYTOOL is None, reason="keytool (JDK) is not installed")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")


def _env(password: str = PASSWORD) -> dict[str, str]:
    return {**os.environ, "KS_PW": password, "LC_ALL": "C.UTF-8"}


def run(*args: str, password: str = PASSWORD, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, env=_env(password), timeout=120,
                            stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def judged_by_openssl(location: str, password: str, label: str, chain: Sequence[x509.Certificate]) -> None:
    """`openssl pkcs12` finds the chain with the label as its friendly name, and the key that goes with its leaf."""
    if OPENSSL is None:
        pytest.skip("openssl is not installed")
    certificates = run("openssl", "pkcs12", "-in", location, "-passin", "env:KS_PW", "-nokeys",
                       password=password).stdout
    assert f"friendlyName: {label}" in certificates
    assert set(chain) <= set(x509.load_pem_x509_certificates(certificates.encode()))
    key = run("openssl", "pkcs12", "-in", location, "-passin", "env:KS_PW", "-nocerts", "-nodes",
              password=password).stdout
    assert same_key(serialization.load_pem_private_key(key.encode(), None), chain[0].public_key())


# what tests/test_lifecycle.py asks of a PKCS#12 we wrote (tests/helpers.py, NativeJudge)
NATIVE_JUDGES = {"pkcs12": judged_by_openssl}


# A JVM that starts quickly: keytool's work is tiny, the JIT and GC set-up are most of its time.
FAST_JVM = ("-J-XX:+UseSerialGC", "-J-XX:TieredStopAtLevel=1", "-J-XX:-UsePerfData")


def keytool(*args: str, store: Path, password: str = PASSWORD, check: bool = True):
    return run(KEYTOOL, *FAST_JVM, *args, "-storetype", "PKCS12", "-keystore", str(store), "-storepass:env", "KS_PW",
               password=password, check=check)


def keytool_entries(store: Path, password: str = PASSWORD) -> dict[str, tuple[str, int]]:
    """alias -> (entry type, chain length) as `keytool -list -v` reports them."""
    out = keytool("-list", "-v", store=store, password=password).stdout
    entries: dict[str, tuple[str, int]] = {}
    for block in out.split("Alias name: ")[1:]:
        alias = block.splitlines()[0].strip()
        kind = re.search(r"Entry type: (\w+)", block).group(1)
        chain = re.search(r"Certificate chain length: (\d+)", block)
        entries[alias] = (kind, int(chain.group(1)) if chain else 1)
    return entries


def openssl_dump(store: Path, *extra: str, password: str = PASSWORD) -> str:
    """All bags as PEM with their attributes; fails unless the MAC and every cipher check out."""
    return run(OPENSSL, "pkcs12", "-in", str(store), "-passin", "env:KS_PW", "-nodes", *extra,
               password=password).stdout


# --- stores the tools make ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def keytool_store(tmp_path_factory, openssl_stores) -> Path:
    """A store JDK 17 keytool wrote: an RSA key pair with its CA (imported, since RSA key generation in a cold
    JVM takes seconds), an EC key pair it generated, and two trusted certificates."""
    if KEYTOOL is None:
        pytest.skip("keytool (JDK) is not installed")
    folder = tmp_path_factory.mktemp("keytool")
    store = folder / "java.p12"
    run(KEYTOOL, *FAST_JVM, "-importkeystore", "-noprompt", "-srckeystore", str(openssl_stores["default"]),
        "-srcstoretype", "PKCS12", "-srcstorepass:env", "KS_PW", "-srcalias", "web server",
        "-destalias", "rsa key", "-destkeystore", str(store), "-deststoretype", "PKCS12",
        "-deststorepass:env", "KS_PW")
    keytool("-genkeypair", "-alias", "ec-key", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=ec",
            "-validity", "30", store=store)
    for index, alias in ((0, "root zero"), (1, "root one")):
        pem = folder / f"{alias}.pem"
        pem.write_bytes(ca(index)[1].public_bytes(serialization.Encoding.PEM))
        keytool("-importcert", "-noprompt", "-alias", alias, "-file", str(pem), store=store)
    return store


@pytest.fixture(scope="session")
def pem_material(tmp_path_factory) -> dict[str, Path]:
    """A leaf key, its certificate and its CA as PEM files for openssl."""
    folder = tmp_path_factory.mktemp("pem")
    entry = key_pair_entry("openssl leaf", index=7)
    files = {"key": folder / "leaf.key", "cert": folder / "leaf.pem", "ca": folder / "ca.pem"}
    files["key"].write_bytes(entry.key.private_bytes(serialization.Encoding.PEM,
                                                     serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption()))
    files["cert"].write_bytes(entry.chain[0].public_bytes(serialization.Encoding.PEM))
    files["ca"].write_bytes(entry.chain[1].public_bytes(serialization.Encoding.PEM))
    return files


OPENSSL_VARIANTS = {
    "default": [],  # OpenSSL 3: PBES2 AES-256-CBC, HMAC-SHA256
    "legacy-rc2-40": ["-legacy"],  # RC2-40 certificates, 3DES key, SHA-1 MAC
    "aes-explicit": ["-certpbe", "AES-256-CBC", "-keypbe", "AES-256-CBC", "-macalg", "sha256"],
    "3des-sha1": ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"],
    "unencrypted": ["-certpbe", "NONE", "-keypbe", "NONE"],
    "no-mac": ["-nomac"],
}


@pytest.fixture(scope="session")
def openssl_stores(tmp_path_factory, pem_material) -> dict[str, Path]:
    if OPENSSL is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("openssl")
    stores = {}
    for variant, extra in OPENSSL_VARIANTS.items():
        out = folder / f"{variant}.p12"
        run(OPENSSL, "pkcs12", "-export", "-inkey", str(pem_material["key"]), "-in", str(pem_material["cert"]),
            "-certfile", str(pem_material["ca"]), "-name", "web server", "-out", str(out),
            "-passout", "env:KS_PW", *extra)
        stores[variant] = out
    return stores


# --- reading what the tools made ----------------------------------------------------------------------------

@needs_keytool
def test_reads_keytool_store_whole(keytool_store):
    with open_store(keytool_store, password=PASSWORD) as store:
        assert sorted(store.labels()) == ["ec-key", "root one", "root zero", "rsa key"]
        for label, chain_length in (("rsa key", 2), ("ec-key", 1)):
            entry = store.get(label)
            assert entry.kind is EntryKind.KEY_PAIR and len(entry.chain) == chain_length
            assert same_key(entry.key, entry.chain[0].public_key())
        assert store.get("rsa key").chain[1] == ca(0)[1]
        for index, label in ((0, "root zero"), (1, "root one")):
            entry = store.get(label)
            assert entry.kind is EntryKind.TRUSTED_CERT and entry.trust == TRUST_ALL
            assert entry.chain == (ca(index)[1],)
        info = store.protection().as_text()
        assert "HMAC-SHA-256" in info["mac"] and "AES-256-CBC" in info["keys"]
        assert store.notes == []


@needs_keytool
def test_keytool_store_wrong_password(keytool_store):
    with pytest.raises(WrongPassword):
        open_store(keytool_store, password="changeit")


@needs_openssl
@pytest.mark.parametrize("variant", list(OPENSSL_VARIANTS))
def test_reads_openssl_stores(openssl_stores, pem_material, variant):
    with open_store(openssl_stores[variant], password=PASSWORD) as store:
        assert store.labels() == ["web server", "Test Root CA 0"]  # -certfile's CA bag, as openssl -info shows it
        assert store.get("Test Root CA 0").kind is EntryKind.CERTIFICATE
        entry = store.get("web server")
        assert entry.kind is EntryKind.KEY_PAIR
        assert [c.public_bytes(serialization.Encoding.PEM) for c in entry.chain] == [
            pem_material["cert"].read_bytes(), pem_material["ca"].read_bytes()]
        assert same_key(entry.key, entry.chain[0].public_key())
        info = store.protection().as_text()
    expected = {"default": ("AES-256-CBC", "AES-256-CBC", "SHA-256"),
                "legacy-rc2-40": ("3DES", "RC2-40", "SHA-1"),
                "aes-explicit": ("AES-256-CBC", "AES-256-CBC", "SHA-256"),
                "3des-sha1": ("3DES", "3DES", "SHA-1"),
                "unencrypted": ("none", "none", "SHA-256"),
                "no-mac": ("AES-256-CBC", "none", "none")}[variant]  # -nomac also leaves certificates plain
    assert expected[0] in info["keys"] and expected[1] in info["certificates"]
    assert expected[2] in info["mac"]


@needs_openssl
def test_openssl_wrong_password_told_apart(openssl_stores):
    for variant in ("default", "legacy-rc2-40", "unencrypted"):
        with pytest.raises(WrongPassword):
            open_store(openssl_stores[variant], password="wrong")


@needs_openssl
def test_openssl_no_mac_wrong_password_still_caught(openssl_stores):
    # Without a MAC only the ciphers can tell; a wrong password must not pass as "no keys".
    with pytest.raises(WrongPassword):
        open_store(openssl_stores["no-mac"], password="wrong")


@needs_openssl
def test_openssl_cert_only_store_keeps_its_certificates(tmp_path, pem_material):
    out = tmp_path / "nokeys.p12"
    run(OPENSSL, "pkcs12", "-export", "-nokeys", "-in", str(pem_material["ca"]), "-out", str(out),
        "-passout", "env:KS_PW")
    with open_store(out, password=PASSWORD) as store:
        (entry,) = store.entries()
        assert entry.kind is EntryKind.CERTIFICATE and entry.trust is None  # no trust attribute: not trusted
        assert entry.label == "Test Root CA 0"
        assert any("keytool does not list" in note for note in store.notes)


# --- what we write, judged by the tools ---------------------------------------------------------------------

@pytest.fixture(scope="session", params=["modern", "compat"])
def our_store(request, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ours") / f"{request.param}.p12"
    with warned_of(request.param), open_store(path, password=PASSWORD, create=True, profile=request.param) as store:
        store.add(key_pair_entry("server one", index=1))
        store.add(key_pair_entry("server-ec", index=2, use_ec=True))
        store.add(trusted_entry("root zero"))
        store.add(trusted_entry("root one", index=1))
    return path


@needs_keytool
def test_keytool_lists_our_store_and_uses_its_keys(our_store):
    assert keytool_entries(our_store) == {"server one": ("PrivateKeyEntry", 2), "server-ec": ("PrivateKeyEntry", 2),
                                          "root zero": ("trustedCertEntry", 1),
                                          "root one": ("trustedCertEntry", 1)}
    # One key per profile is enough to prove keytool decrypts and uses what we wrote (EC and RSA each once).
    alias = "server-ec" if our_store.name.startswith("modern") else "server one"
    csr = keytool("-certreq", "-alias", alias, store=our_store).stdout
    assert "BEGIN NEW CERTIFICATE REQUEST" in csr


@needs_openssl
def test_openssl_reads_our_store(our_store):
    dump = openssl_dump(our_store)
    assert dump.count("-----BEGIN PRIVATE KEY-----") == 2
    # two leaves, two trusted roots: one of them is the leaves' CA, written once (trusted, in their chains)
    assert dump.count("-----BEGIN CERTIFICATE-----") == 4
    for name in ("server one", "server-ec", "root zero", "root one"):
        assert f"friendlyName: {name}" in dump
    info = run(OPENSSL, "pkcs12", "-in", str(our_store), "-passin", "env:KS_PW", "-info", "-noout").stderr
    if our_store.name.startswith("compat"):
        assert "pbeWithSHA1And3-KeyTripleDES-CBC" in info and "MAC: sha1" in info
    else:
        assert "AES-256-CBC" in info and "MAC: sha256" in info


@needs_keytool
def test_editing_a_keytool_store_keeps_everything(tmp_path, keytool_store):
    copy = tmp_path / "edit.p12"
    shutil.copyfile(keytool_store, copy)
    keytool("-genseckey", "-alias", "aes secret", "-keyalg", "AES", "-keysize", "256", store=copy)
    with open_store(copy, password=PASSWORD, writable=True) as store:
        secret = store.get("aes secret")
        assert secret.kind is EntryKind.SECRET_KEY and secret.secret.algorithm == "AES"
        assert secret.secret.size_bits == 256
        store.add(key_pair_entry("added", index=3))
        store.remove("root one")
        store.set_password(PASSWORD + "2")
    assert keytool_entries(copy, password=PASSWORD + "2") == {
        "rsa key": ("PrivateKeyEntry", 2), "ec-key": ("PrivateKeyEntry", 1), "root zero": ("trustedCertEntry", 1),
        "added": ("PrivateKeyEntry", 2), "aes secret": ("SecretKeyEntry", 1)}
    csr = keytool("-certreq", "-alias", "rsa key", store=copy, password=PASSWORD + "2").stdout
    assert "BEGIN NEW CERTIFICATE REQUEST" in csr


@needs_openssl
def test_empty_password_store_for_openssl(tmp_path):
    path = tmp_path / "empty.p12"
    with open_store(path, password="", create=True) as store:
        store.add(key_pair_entry("k", index=1))
    dump = openssl_dump(path, password="")
    assert "friendlyName: k" in dump and "BEGIN PRIVATE KEY" in dump


@needs_openssl
@pytest.mark.parametrize("legacy", [False, True])
def test_non_ascii_password_both_ways(tmp_path, pem_material, legacy):
    made = tmp_path / "openssl.p12"
    run(OPENSSL, "pkcs12", "-export", "-inkey", str(pem_material["key"]), "-in", str(pem_material["cert"]),
        "-name", "ü", "-out", str(made), "-passout", "env:KS_PW", *(["-legacy"] if legacy else []),
        password=NON_ASCII)
    with open_store(made, password=NON_ASCII) as store:
        assert store.labels() == ["ü"] and store.get("ü").key is not None
    ours = tmp_path / "ours.p12"
    profile = "compat" if legacy else "modern"
    with warned_of(profile), open_store(ours, password=NON_ASCII, create=True, profile=profile) as store:
        store.add(key_pair_entry("k", index=1))
    assert "BEGIN PRIVATE KEY" in openssl_dump(ours, password=NON_ASCII)


@needs_keytool
def test_keytool_reads_our_password_less_truststore(tmp_path):
    path = tmp_path / "trust.p12"
    with open_store(path, password=None, create=True) as store:
        store.add(trusted_entry("root zero"))
        store.add(trusted_entry("Root Zero", index=1))
        store.save()
        assert any("differ only in case" in note for note in store.notes)
    listed = run(KEYTOOL, *FAST_JVM, "-list", "-storetype", "PKCS12", "-keystore", str(path)).stdout
    assert "root zero, " in listed and "trustedCertEntry" in listed


@needs_keytool
def test_reads_keytool_legacy_format(tmp_path, keytool_store):
    """What JDK 8 wrote (and JDK 17 writes with -Dkeystore.pkcs12.legacy): RC2-40 certificates, 3DES keys,
    a SHA-1 MAC with 100000 iterations."""
    legacy = tmp_path / "jdk8.p12"
    run(KEYTOOL, *FAST_JVM, "-J-Dkeystore.pkcs12.legacy", "-importkeystore", "-noprompt",
        "-srckeystore", str(keytool_store), "-srcstoretype", "PKCS12", "-srcstorepass:env", "KS_PW",
        "-destkeystore", str(legacy), "-deststoretype", "PKCS12", "-deststorepass:env", "KS_PW")
    with open_store(legacy, password=PASSWORD) as store:
        assert sorted(store.labels()) == ["ec-key", "root one", "root zero", "rsa key"]
        info = store.protection().as_text()
        assert "RC2-40" in info["certificates"] and "3DES" in info["keys"] and "HMAC-SHA-1" in info["mac"]
        entry = store.get("ec-key")
        assert same_key(entry.key, entry.chain[0].public_key())
        assert store.get("root one").trust == TRUST_ALL
