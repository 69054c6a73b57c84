"""Issue 12, item 9 for PKCS#12 and PEM: a certificate that sits only inside a key pair's chain (an intermediate
bag `openssl pkcs12 -export -certfile` writes, the CAs after the leaf of a PEM bundle) is an entry of its own, as
`openssl pkcs12 -info` shows every bag: listed, shown, exported; deleting its key pair removes it as keytool -delete
does; convert and import carry each certificate once. Judged by openssl's listing and certificate counts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from clirun import keystores
from hardening import PASSWORD

ENV = {"KS_PW": PASSWORD}
PW = ["-p", "env:KS_PW"]
DPW = ["--dest-password", "env:KS_PW"]
ROOT, INTER, LEAF = "Test Root CA 9", "Issuing CA", "web.example.com"

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True, env={**os.environ, **ENV})


def _p12_subjects(path: Path) -> list[str]:
    """The subject of every certificate bag, as `openssl pkcs12 -info` prints them."""
    out = _openssl("pkcs12", "-in", str(path), "-nokeys", "-passin", "env:KS_PW").stdout
    return [line for line in out.splitlines() if line.startswith("subject=")]


def _listed(store: Path, *password: str) -> dict[str, str]:
    done = keystores("list", str(store), "--json", *password, env=ENV)
    assert done.code == 0, done.all
    return {e["label"]: e["kind"] for e in json.loads(done.out)["entries"]}


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> dict[str, Path]:
    """root -> "Issuing CA" -> leaf with its key; a PEM bundle (key, leaf, intermediate, root) and the PKCS#12
    `openssl pkcs12 -export -certfile chain.pem` makes of them, with and without -caname."""
    from cryptography.hazmat.primitives import serialization
    from helpers import ca, certificate, ec_key

    folder = tmp_path_factory.mktemp("chain")
    root_key, root = ca(9)
    inter_key = ec_key(15)
    inter = certificate(inter_key, INTER, root_key, root, ca=True)
    leaf_key = ec_key(16)
    leaf = certificate(leaf_key, LEAF, inter_key, inter)
    pem = serialization.Encoding.PEM
    files = {name: folder / f"{name}.pem" for name in ("key", "leaf", "inter", "root", "chain", "bundle")}
    files["key"].write_bytes(leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                    serialization.NoEncryption()))
    files["leaf"].write_bytes(leaf.public_bytes(pem))
    files["inter"].write_bytes(inter.public_bytes(pem))
    files["root"].write_bytes(root.public_bytes(pem))
    files["chain"].write_bytes(inter.public_bytes(pem) + root.public_bytes(pem))
    files["bundle"].write_bytes(files["key"].read_bytes() + files["leaf"].read_bytes() + files["chain"].read_bytes())
    for name, extra in (("p12", []), ("named_p12", ["-caname", "my issuer", "-caname", "my root"])):
        files[name] = folder / f"{name}.p12"
        _openssl("pkcs12", "-export", "-inkey", str(files["key"]), "-in", str(files["leaf"]), "-certfile",
                 str(files["chain"]), "-name", "web", *extra, "-out", str(files[name]), "-passout", "env:KS_PW")
    return files


def test_pkcs12_chain_bags_openssl_shows_are_entries(chain, tmp_path):
    assert len(_p12_subjects(chain["p12"])) == 3
    assert _listed(chain["p12"], *PW) == {"web": "key-pair", INTER: "certificate", ROOT: "certificate"}
    shown = keystores("show", str(chain["p12"]), INTER, *PW, env=ENV)
    assert shown.code == 0 and "kind: certificate" in shown.out, shown.all
    out = tmp_path / "inter.pem"
    done = keystores("export", str(chain["p12"]), INTER, "-o", str(out), *PW, env=ENV)
    assert done.code == 0, done.all
    assert out.read_bytes() == chain["inter"].read_bytes()


def test_pkcs12_chain_bags_are_labelled_by_their_friendly_name(chain):
    assert _listed(chain["named_p12"], *PW) == {"web": "key-pair", "my issuer": "certificate", "my root": "certificate"}
    assert keystores("show", str(chain["named_p12"]), "my issuer", *PW, env=ENV).code == 0


@pytest.mark.parametrize("dest", ["copy.p12", "copy.pem"])
def test_a_pkcs12_chain_is_carried_once(chain, tmp_path, dest):
    out = tmp_path / dest
    done = keystores("convert", str(chain["p12"]), str(out), *PW, *DPW, env=ENV)
    assert done.code == 0, done.all
    if dest.endswith(".p12"):
        assert len(_p12_subjects(out)) == 3  # leaf, intermediate, root: each once
    else:
        assert out.read_text().count("BEGIN CERTIFICATE") == 3
    assert _listed(out, *PW) == {"web": "key-pair", INTER: "certificate", ROOT: "certificate"}


def test_nss_trusted_root_in_a_chain_is_written_once_to_pkcs12(tmp_path):
    """NSS root (CT,C,C) that also completes the key pair's chain: one bag, with Java's trust attribute and its
    nickname; keytool still sees the trusted entry and the key pair's whole chain."""
    folder = _nss_chain_db(tmp_path / "db")
    out = tmp_path / "all.p12"
    done = keystores("convert", f"sql:{folder}", str(out), *DPW, env=ENV)
    assert done.code == 0, done.all
    subjects = _p12_subjects(out)
    assert len(subjects) == 3, subjects  # leaf, "Issuing CA", root: the root no longer twice
    assert sum("Test Root CA 8" in s and "Issuing" not in s for s in subjects) == 1, subjects
    assert _listed(out, *PW) == {"leaf": "key-pair", "root": "trusted-cert", INTER: "certificate"}
    keytool = shutil.which("keytool")
    if keytool:
        listing = subprocess.run([keytool, "-list", "-v", "-keystore", str(out), "-storetype", "PKCS12",
                                  "-storepass:env", "KS_PW"], capture_output=True, text=True,
                                 env={**os.environ, **ENV}, check=True).stdout
        assert "Alias name: root\n" in listing and "trustedCertEntry" in listing
        assert "Certificate chain length: 3" in listing


def _nss_chain_db(db: Path) -> Path:
    """root (CT,C,C), inter (",,") and the key pair 'leaf', made by certutil and pk12util."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from helpers import ca, certificate, ec_key

    if shutil.which("certutil") is None:
        pytest.skip("certutil (NSS tools) is not installed")
    root_key, root = ca(8)
    inter_key = ec_key(13)
    inter = certificate(inter_key, INTER, root_key, root, ca=True)
    leaf_key = ec_key(14)
    leaf = certificate(leaf_key, "leaf.example.com", inter_key, inter)
    folder = db.parent
    for name, cert in (("root.pem", root), ("inter.pem", inter)):
        (folder / name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "leaf.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"leaf", leaf_key, leaf, None, serialization.BestAvailableEncryption(PASSWORD.encode())))
    db.mkdir()
    certutil = ["certutil", "-d", f"sql:{db}"]
    subprocess.run([*certutil, "-N", "--empty-password"], check=True)
    subprocess.run([*certutil, "-A", "-n", "root", "-t", "CT,C,C", "-i", str(folder / "root.pem")], check=True)
    subprocess.run([*certutil, "-A", "-n", "inter", "-t", ",,", "-i", str(folder / "inter.pem")], check=True)
    subprocess.run(["pk12util", "-i", str(folder / "leaf.p12"), "-d", f"sql:{db}", "-W", PASSWORD, "-K", ""],
                   check=True, capture_output=True)
    return db


def test_deleting_a_pkcs12_key_pair_removes_the_chain_only_it_used(tmp_path):
    """keytool -delete's rule: an untrusted chain certificate goes with the last key pair whose chain holds it;
    a trusted certificate stays."""
    from helpers import key_pair_entry, trusted_entry

    from keystores import open_store

    path = tmp_path / "two.p12"
    with open_store(path, password=PASSWORD, create=True) as store:
        store.add(key_pair_entry("one", index=1))  # both chains end in "Test Root CA 0"
        store.add(key_pair_entry("two", index=2))
        store.add(trusted_entry("anchor", index=1))
    assert _listed(path, *PW) == {"one": "key-pair", "two": "key-pair", "Test Root CA 0": "certificate",
                             "anchor": "trusted-cert"}
    assert keystores("delete", str(path), "one", *PW, env=ENV).code == 0
    assert _listed(path, *PW) == {"two": "key-pair", "Test Root CA 0": "certificate", "anchor": "trusted-cert"}
    assert len(_p12_subjects(path)) == 3
    assert keystores("delete", str(path), "two", *PW, env=ENV).code == 0
    assert _listed(path, *PW) == {"anchor": "trusted-cert"}
    assert len(_p12_subjects(path)) == 1


def test_pem_bundle_chain_certificates_are_entries(chain, tmp_path):
    bundle = tmp_path / "bundle.pem"
    shutil.copyfile(chain["bundle"], bundle)
    assert bundle.read_text().count("BEGIN CERTIFICATE") == 3
    assert _listed(bundle) == {LEAF: "key-pair", INTER: "certificate", ROOT: "certificate"}
    shown = keystores("show", str(bundle), ROOT, env=ENV)
    assert shown.code == 0 and "kind: certificate" in shown.out, shown.all
    out = tmp_path / "root.pem"
    assert keystores("export", str(bundle), ROOT, "-o", str(out), env=ENV).code == 0
    assert out.read_bytes() == chain["root"].read_bytes()
    p12 = tmp_path / "bundle.p12"
    done = keystores("convert", str(bundle), str(p12), *DPW, env=ENV)
    assert done.code == 0, done.all
    assert len(_p12_subjects(p12)) == 3
    again = tmp_path / "again.pem"
    assert keystores("convert", str(bundle), str(again), env=ENV).code == 0
    assert again.read_text().count("BEGIN CERTIFICATE") == 3
    # Deleting the key pair takes its chain along (a PEM chain member would read back as a trusted certificate)
    assert keystores("delete", str(bundle), LEAF, env=ENV).code == 0
    assert "CERTIFICATE" not in bundle.read_text() and _listed(bundle) == {}
