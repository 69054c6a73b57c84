"""`keystores` against real SoftHSM2 tokens, end to end, judged by openssl, pkcs11-tool and keytool."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from helpers import ca, certificate, ec_key

from softhsm import SoftHsm, softhsm, softhsm_token  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.interop
needs_tools = pytest.mark.skipif(not all(shutil.which(t) for t in ("pkcs11-tool", "openssl")),
                                 reason="pkcs11-tool (opensc) or openssl absent")


def ks(token, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "keystores", *args], capture_output=True, text=True,
                          env=token.env, cwd=cwd, check=False)


@pytest.fixture
def token(softhsm):  # noqa: F811
    return softhsm.make_token()


@needs_tools
def test_certreq_receive_and_java_see_the_token_key(token, tmp_path):
    """certreq makes the key on the token; openssl verifies the request and signs it; receive writes the
    certificate with the key's CKA_ID and label; keytool (SunPKCS11, our config) lists a PrivateKeyEntry."""
    made = ks(token, "certreq", token.uri, "--label", "my_key3", "--dn", "CN=colinpaice,O=HW,C=GB",
              "--key-type", "ec:p256", "-o", str(tmp_path / "req.csr"), "--password", token.password)
    assert made.returncode == 0, made.stderr
    verified = subprocess.run(["openssl", "req", "-in", "req.csr", "-verify", "-noout"], cwd=tmp_path,
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0 and "verify OK" in verified.stdout + verified.stderr
    ca_key, ca_cert = ca()
    (tmp_path / "ca.key").write_bytes(ca_key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    (tmp_path / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    signed = subprocess.run(["openssl", "x509", "-req", "-in", "req.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                             "-CAcreateserial", "-days", "30", "-out", "signed.pem"], cwd=tmp_path,
                            capture_output=True, text=True, check=False)
    assert signed.returncode == 0, signed.stderr
    received = ks(token, "receive", token.uri, str(tmp_path / "signed.pem"), "--chain", str(tmp_path / "ca.pem"),
                  "--password", token.password)
    assert received.returncode == 0, received.stderr

    mine = [o for o in token.objects() if o.get("label") == "my_key3"]
    assert sorted(o["type"] for o in mine) == ["Certificate", "Private Key", "Public Key"]
    assert len({o["ID"] for o in mine}) == 1  # paired by one CKA_ID, as SunPKCS11 and NSS need

    listed = json.loads(ks(token, "list", token.uri, "--json", "--password", token.password).stdout)
    mine = [e for e in listed["entries"] if e["label"] == "my_key3"]
    assert mine and mine[0]["kind"] == "key-pair" and mine[0]["chain_length"] == 2

    if shutil.which("keytool") is None:
        pytest.skip("keytool absent")
    java = ks(token, "java-config", token.uri, "--out", str(tmp_path / "java"))  # the folder is made
    assert java.returncode == 0, java.stderr
    assert "resolved from its label" in java.stderr
    assert (tmp_path / "java" / f"{token.label}.cfg").read_text().count("slot = ") == 1
    security = tmp_path / "java" / "java.security"
    listing = subprocess.run(["keytool", f"-J-Djava.security.properties={security}", "-list",
                              "-keystore", "NONE", "-storetype", "PKCS11", "-storepass:file", str(token.pin_file)],
                             capture_output=True, text=True, env=token.env, check=False)
    assert listing.returncode == 0, listing.stdout + listing.stderr
    assert "my_key3, PrivateKeyEntry" in listing.stdout


@needs_tools
def test_import_pem_bundle_and_der_in_one_command(token, tmp_path):
    """The old "convert .pem to .der, then pkcs11-tool --write-object" is one import, and pkcs11-tool sees it."""
    bundle = b"".join(ca(i)[1].public_bytes(serialization.Encoding.PEM) for i in range(3))
    (tmp_path / "bundle.pem").write_bytes(bundle)
    (tmp_path / "one.der").write_bytes(certificate(ca(0)[0], "Lone DER")
                                       .public_bytes(serialization.Encoding.DER))
    for source in ("bundle.pem", "one.der"):
        done = ks(token, "import", str(tmp_path / source), token.uri, "--dest-password", token.password)
        assert done.returncode == 0, done.stderr
    objects = token.tool("-O", login=False).stdout
    for name in ("Test Root CA 0", "Test Root CA 1", "Test Root CA 2", "Lone DER"):
        assert f"CN={name}" in objects
    exported = ks(token, "export", token.uri, "Test Root CA 1", "--out", str(tmp_path / "back.der"),
                  "--format", "der", "--password", token.password)
    assert exported.returncode == 0, exported.stderr
    assert x509.load_der_x509_certificate((tmp_path / "back.der").read_bytes()) == ca(1)[1]


def test_wrong_pin_exits_3_without_echoing_it(token, tmp_path):
    (tmp_path / "bad").write_text("4242424242\n")
    done = ks(token, "list", token.uri, "--password", f"file:{tmp_path / 'bad'}")
    assert done.returncode == 3, done.stderr
    assert "wrong user PIN" in done.stderr and "4242424242" not in done.stderr + done.stdout
    assert ks(token, "list", token.uri, "--password", token.password).returncode == 0  # not locked


def test_unknown_token_and_module(token, tmp_path):
    missing = ks(token, "list", f"pkcs11:token=no-such-token?module-path={token.module}",
                 "--password", token.password)
    assert missing.returncode == 4 and token.label in missing.stderr
    no_module = ks(token, "list", "pkcs11:token=x?module-path=/nonexistent/libp11.so", "--password",
                   token.password)
    assert no_module.returncode == 4 and "does not exist" in no_module.stderr
    import pkcs11._pkcs11 as binding  # a real shared library, but not a PKCS#11 module

    foreign = ks(token, "list", f"pkcs11:token=x?module-path={binding.__file__}", "--password", token.password)
    assert foreign.returncode == 1 and "not a PKCS#11 module" in foreign.stderr, foreign.stderr


def test_tokens_lists_labels_serials_and_key_types(token):
    done = ks(token, "tokens", "--json")
    assert done.returncode == 0, done.stderr
    found = {t["label"]: t for t in json.loads(done.stdout)["tokens"]}
    assert found[token.label]["login_required"] and "ec:p256" in found[token.label]["key_types"]
    assert found[token.label]["serial"]


def test_a_token_without_the_mechanism_says_what_it_lacks(tmp_path):
    """SoftHSM can switch mechanisms off (slots.mechanisms): a real token that cannot make Ed25519 keys."""
    hsm = SoftHsm(tmp_path / "hsm")
    with open(hsm.conf, "a") as conf:
        conf.write("slots.mechanisms = -CKM_EC_EDWARDS_KEY_PAIR_GEN,CKM_EDDSA\n")
    token = hsm.shared
    listed = json.loads(ks(token, "tokens", "--json").stdout)["tokens"]
    assert "ed25519" not in next(t for t in listed if t["label"] == token.label)["key_types"]
    done = ks(token, "certreq", token.uri, "--label", "k", "--dn", "CN=x", "--key-type", "ed25519",
              "-o", str(tmp_path / "x.csr"), "--password", token.password)
    assert done.returncode == 1 and "lacks CKM_EDDSA" in done.stderr, done.stderr
    assert "ec:p256" in done.stderr  # and says what it can make instead
    assert not (tmp_path / "x.csr").exists()


def test_init_token_makes_a_token_keystores_then_opens(tmp_path):
    pytest.importorskip("PyKCS11", reason="token initialisation is the optional keystores[admin] extra")
    hsm = SoftHsm(tmp_path / "hsm")
    (tmp_path / "user-pin").write_text("13572468\n")
    first = hsm.shared
    made = ks(first, "init-token", "pkcs11:token=fresh%20one", "--so-pin", f"file:{hsm.folder / 'so-pin'}",
              "--pin", f"file:{tmp_path / 'user-pin'}")
    assert made.returncode == 0, made.stderr
    listed = ks(first, "list", "pkcs11:token=fresh%20one", "--json", "--pin", f"file:{tmp_path / 'user-pin'}")
    assert listed.returncode == 0 and json.loads(listed.stdout)["entries"] == [], listed.stderr
    again = ks(first, "init-token", f"pkcs11:token={first.label}", "--so-pin", f"file:{hsm.folder / 'so-pin'}",
               "--pin", f"file:{tmp_path / 'user-pin'}")
    assert again.returncode == 1 and "exists already" in again.stderr  # an existing token is never wiped
    assert ks(first, "list", first.uri, "--pin", first.password).returncode == 0


@needs_tools
def test_key_without_a_certificate_goes_onto_the_token(token, tmp_path):
    """Issue 11 case 7: a PKCS#12 key without a certificate is carried where bare keys live; pkcs11-tool sees it."""
    vectors = pytest.importorskip("cryptography_vectors")
    source = Path(vectors.__file__).parent / "pkcs12" / "no-cert-key-aes256cbc.p12"
    done = subprocess.run([sys.executable, "-m", "keystores", "import", str(source), token.uri, "-p", "env:SRC_PW",
                           "--dest-password", token.password], capture_output=True, text=True,
                          env={**token.env, "SRC_PW": "cryptography"}, check=False)
    assert done.returncode == 0, done.stderr
    objects = token.objects()
    assert [o["type"] for o in objects].count("Private Key") == 1
    assert "Certificate" not in [o["type"] for o in objects]


def test_export_chain_of_a_token_key_pair_writes_the_chain(token, tmp_path):
    """`export --chain` of a key pair whose key stays on the token writes its certificate and then its chain, each
    as a certificate (as `openssl pkcs12 -nokeys` does), and says nothing about "a trusted certificate": it used to
    write the certificate alone, saying "'server' is a trusted certificate: only it is written"."""
    from keystores.model import Entry, EntryKind
    from keystores.store import open_store

    root_key, root = ca(0)
    inter_key = ec_key(1)
    inter = certificate(inter_key, "Chain Inter", root_key, root, ca=True)
    leaf_key = ec_key(2)
    leaf = certificate(leaf_key, "chain.example", inter_key, inter)
    with open_store(token.uri, password=token.pin, writable=True) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(leaf, inter, root), key=leaf_key))
    out = tmp_path / "chain.pem"
    done = ks(token, "export", token.uri, "server", "--chain", "-o", str(out), "--password", token.password)
    assert done.returncode == 0, done.stderr
    assert "only it is written" not in done.stderr and "trusted certificate" not in done.stderr
    written = x509.load_pem_x509_certificates(out.read_bytes())
    assert written == [leaf, inter, root]
    alone = ks(token, "export", token.uri, "server", "-o", str(tmp_path / "leaf.pem"), "--password", token.password)
    assert alone.returncode == 0 and x509.load_pem_x509_certificates((tmp_path / "leaf.pem").read_bytes()) == [leaf]

