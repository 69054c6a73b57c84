"""The lifecycle with keys on a SoftHSM2 token: requests and certificates signed on the token verify with
openssl; receive puts the certificate beside its key (pkcs11-tool judges the CKA_ID and label); a reply for another
key writes nothing. Skips when SoftHSM2 is absent."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from clirun import keystores
from cryptography.hazmat.primitives import serialization

from keystores.backends.memory import MemoryStore
from keystores.errors import NotFound
from keystores.model import EntryKind, KeyRef
from keystores.ops import lifecycle as lc
from keystores.ops.audit import audit
from keystores.store import open_store
from softhsm import softhsm  # noqa: F401  (pytest fixture)

pytestmark = [pytest.mark.interop,
              pytest.mark.skipif(shutil.which("pkcs11-tool") is None, reason="pkcs11-tool (opensc) absent")]


def _openssl(*args: str) -> str:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _pem(*objs) -> bytes:
    return b"".join(o.public_bytes(serialization.Encoding.PEM) for o in objs)


def _objects(token) -> list[dict[str, str]]:
    done = token.tool("-O")
    assert done.returncode == 0, done.stderr
    objects: list[dict[str, str]] = []
    for line in done.stdout.splitlines():
        if re.match(r"^(Private Key|Public Key|Certificate|Data) Object", line):
            objects.append({"type": line.split(" Object")[0]})
        elif objects and ":" in line:
            name, _, value = line.strip().partition(":")
            objects[-1].setdefault(name.strip(), value.strip())
    return objects


@pytest.fixture(scope="module")
def file_ca() -> MemoryStore:
    store = MemoryStore.open("file-ca")
    lc.selfsign(store, "root", "CN=File CA,O=keystores tests", ca=True, key_spec="ec:p256")
    return store


@pytest.mark.parametrize("key_type", ["rsa:2048", "ec:p256"])
def test_request_made_and_signed_on_the_token_then_received(softhsm, file_ca, tmp_path, key_type):  # noqa: F811
    token = softhsm.make_token()
    with open_store(token.uri, password=token.pin, writable=True) as store:
        made = lc.certreq(store, "my_key3", "CN=colinpaice,O=HW,C=GB", key_spec=key_type)
        assert made.kept_as == "on the token"
    (tmp_path / "req.csr").write_bytes(_pem(made.request))
    assert "verify OK" in _openssl("req", "-in", str(tmp_path / "req.csr"), "-verify", "-noout")
    issued = lc.sign(file_ca, "root", made.request, profile="client")

    # a reply for a key that is not on the token: nothing is written
    other = lc.certreq(MemoryStore.open("elsewhere"), "x", "CN=x", key_spec="ec:p256")
    foreign = lc.sign(file_ca, "root", other.request).certificate
    before = _objects(token)
    with pytest.raises(NotFound, match="'my_key3' \\(key"), \
            open_store(token.uri, password=token.pin, writable=True) as store:
        lc.receive(store, [foreign])
    assert _objects(token) == before

    with open_store(token.uri, password=token.pin, writable=True) as store:
        got = lc.receive(store, [issued.certificate], issued.chain[1:])
    assert got.label == "my_key3"
    objects = _objects(token)
    keys = [o for o in objects if o["type"] == "Private Key"]
    certs = [o for o in objects if o["type"] == "Certificate" and o.get("label") == "my_key3"]
    assert len(keys) == 1 and len(certs) == 1
    assert certs[0]["ID"] == keys[0]["ID"]
    with open_store(token.uri, password=token.pin) as store:
        entry = store.get("my_key3")
        assert entry.kind is EntryKind.KEY_PAIR and isinstance(entry.key, KeyRef)
        assert entry.certificate == issued.certificate
        report = audit({token.uri: store}, within="30d")
        assert report.ok, report.findings
        assert report.certificates == 2


def test_a_ca_on_the_token_signs_requests(softhsm, tmp_path):  # noqa: F811
    token = softhsm.make_token()
    with open_store(token.uri, password=token.pin, writable=True) as store:
        root = lc.selfsign(store, "hsm-ca", "CN=HSM Root CA,O=HW,C=GB", ca=True, key_spec="ec:p256").certificate
    with open_store(token.uri, password=token.pin) as store:
        assert isinstance(store.get("hsm-ca").key, KeyRef)
        requester = MemoryStore.open("r")
        made = lc.certreq(requester, "web", "CN=web.example.com", key_spec="rsa:2048", sans=["DNS:web.example.com"])
        issued = lc.sign(store, "hsm-ca", made.request, profile="server", copy_sans=True)
    (tmp_path / "ca.pem").write_bytes(_pem(root))
    (tmp_path / "leaf.pem").write_bytes(_pem(issued.certificate))
    assert _openssl("verify", "-CAfile", str(tmp_path / "ca.pem"), "-purpose", "sslserver",
                    str(tmp_path / "leaf.pem")).strip().endswith("OK")


def test_cli_certreq_sign_receive_on_a_token(softhsm, tmp_path):  # noqa: F811
    token = softhsm.make_token()
    work = Path(tmp_path)
    env = {**token.env, "KS_PW": "ca pass 1"}
    assert keystores("selfsign", str(work / "ca.p12"), "--label", "ca", "--dn", "CN=CLI CA", "--ca",
                     "--key-type", "ec:p256", "-o", str(work / "ca.pem"), "--password", "env:KS_PW",
                     env=env).code == 0
    done = keystores("certreq", token.uri, "--label", "my_key3", "--dn", "CN=colinpaice,O=HW,C=GB",
                     "--key-type", "ec:p256", "-o", str(work / "req.csr"), "--password", token.password, env=env)
    assert done.code == 0, done.all
    assert "verify OK" in _openssl("req", "-in", str(work / "req.csr"), "-verify", "-noout")
    done = keystores("sign", str(work / "ca.p12"), "--label", "ca", str(work / "req.csr"), "-o",
                     str(work / "signed.pem"), "--chain", "--profile", "client", "--password", "env:KS_PW", env=env)
    assert done.code == 0, done.all
    assert _openssl("verify", "-CAfile", str(work / "ca.pem"), str(work / "signed.pem")).strip().endswith("OK")
    done = keystores("receive", token.uri, str(work / "signed.pem"), "--password", token.password, env=env)
    assert done.code == 0, done.all
    assert "my_key3" in done.err
    certs = [o for o in _objects(token) if o["type"] == "Certificate"]
    assert any(o.get("label") == "my_key3" for o in certs)
