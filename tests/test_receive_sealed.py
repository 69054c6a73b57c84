"""receive writes a PKCS#12 key bag back as it read it (issue 15: start-up speed; one PBKDF2 run and the key's
encryption less), and nothing else changes: the MAC is still checked on reading, and the file is what the old path
(the key encrypted anew) wrote once both are decrypted, as openssl sees them. The key stays sealed: it is matched by
its certificate's key, as keytool -importcert matches a reply (a certificate for another key still matches nothing),
so its derivation is not paid either. A key bag weaker than the profile writes is still upgraded; other formats
still write the new chain beside the same key."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from asn1crypto import pkcs12 as apkcs12
from cryptography.hazmat.primitives.serialization import pkcs12
from helpers import NOW, same_key

from keystores.errors import NotFound, WrongPassword
from keystores.lazy_entries import SealedEntry
from keystores.ops import lifecycle as lc
from keystores.store import open_store

PW = "sealed receive 15"
KEYS = ["ec:p256", "ec:p384", "ec:p521", "rsa:2048", "ed25519"]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("sealed-ca") / "ca.p12")
    lc.selfsign(path, "ca", "CN=Sealed CA", ca=True, key_spec="ec:p256", password=PW, now=NOW - dt.timedelta(days=1))
    return path


def _key_bags(data: bytes) -> list[bytes]:
    """The shrouded key bags' EncryptedPrivateKeyInfo DER, in file order."""
    pfx = apkcs12.Pfx.load(data)
    found = []
    for info in pfx.authenticated_safe:
        if info["content_type"].native != "data":
            continue
        for bag in apkcs12.SafeContents.load(info["content"].native):
            if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                found.append(bag["bag_value"].dump())
    return found


def _openssl_view(path: Path) -> str:
    """What openssl reads from the file with the password (its MAC checked): the protection used, every bag's
    attributes, the key and the certificates, in order."""
    done = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-info", "-nodes", "-passin", "env:KS_SEALED_PW"],
                          capture_output=True, text=True, env={**os.environ, "KS_SEALED_PW": PW}, check=True)
    return done.stdout + done.stderr


def _receive_both_ways(folder: Path, ca: str, key_spec: str, placed: Path, request: bytes) -> tuple[Path, Path]:
    """The request signed by the CA and received into two copies of `placed`: as receive does now (new.p12), and
    with the key encrypted anew as it did before (old.p12: the key bag as read is never offered)."""
    issued = lc.sign(ca, "ca", request, password=PW, days=30, now=NOW)
    new, old = folder / "new.p12", folder / "old.p12"
    new.write_bytes(placed.read_bytes())
    old.write_bytes(placed.read_bytes())
    lc.receive(str(new), [issued.certificate], issued.chain[1:], password=PW, now=NOW)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SealedEntry, "key_as_read", lambda self, store: None)
        lc.receive(str(old), [issued.certificate], issued.chain[1:], password=PW, now=NOW)
    for path in (new, old):  # cryptography checks the MAC and finds the key with its certificate and the CA's
        key, cert, more = pkcs12.load_key_and_certificates(path.read_bytes(), PW.encode())
        assert cert is not None and same_key(key, cert.public_key())
        assert cert == issued.certificate and more == list(issued.chain[1:])
    return new, old


@pytest.mark.parametrize("key_spec", KEYS)
def test_receive_writes_the_key_bag_as_read(tmp_path: Path, ca: str, key_spec: str) -> None:
    placed = tmp_path / "web.p12"
    made = lc.certreq(str(placed), "web", "CN=web", key_spec=key_spec, password=PW, now=NOW)
    new, old = _receive_both_ways(tmp_path, ca, key_spec, placed, made.encoded.der)
    assert _key_bags(new.read_bytes()) == _key_bags(placed.read_bytes())  # byte for byte, salt and all
    assert _key_bags(old.read_bytes()) != _key_bags(placed.read_bytes())  # (the old path: a fresh salt)
    assert _openssl_view(new) == _openssl_view(old)  # the same file once decrypted, parameters and attributes too


def test_a_key_bag_weaker_than_the_profile_is_still_encrypted_anew(tmp_path: Path, ca: str) -> None:
    """openssl's own PKCS#12 (2048 iterations, under the modern profile's 10,000): the key bag is upgraded, as
    before."""
    key, cert, csr, placed = (tmp_path / name for name in ("key.pem", "cert.pem", "web.csr", "web.p12"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=openssl web", "-days", "2"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "req", "-new", "-key", str(key), "-subj", "/CN=openssl web", "-out", str(csr)],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(cert), "-name", "web", "-iter",
                    "2048", "-out", str(placed), "-passout", "env:KS_SEALED_PW"], check=True, capture_output=True,
                   env={**os.environ, "KS_SEALED_PW": PW})
    new, old = _receive_both_ways(tmp_path, ca, "ec:p256", placed, csr.read_bytes())
    assert _key_bags(new.read_bytes()) != _key_bags(placed.read_bytes())
    assert "Iteration 10000" in _openssl_view(new).split("Shrouded Keybag")[1].splitlines()[0]
    assert _openssl_view(new) == _openssl_view(old)


def test_the_mac_is_still_checked_and_the_key_still_matched(tmp_path: Path, ca: str) -> None:
    """A file changed after its MAC was made is refused before anything is written; a certificate for another key
    matches nothing (the key pair's certificate, which the MAC covers with its key, names another key)."""
    placed = tmp_path / "web.p12"
    made = lc.certreq(str(placed), "web", "CN=web", key_spec="ec:p256", password=PW, now=NOW)
    issued = lc.sign(ca, "ca", made.encoded.der, password=PW, days=30, now=NOW)
    data = bytearray(placed.read_bytes())
    [bag] = _key_bags(bytes(data))
    at = data.index(bag) + len(bag) - 5  # inside the key bag's ciphertext: only the MAC can tell
    data[at] ^= 0x01
    placed.write_bytes(bytes(data))
    with pytest.raises(WrongPassword, match="MAC"):
        lc.receive(str(placed), [issued.certificate], password=PW, now=NOW)
    assert placed.read_bytes() == bytes(data)
    other = tmp_path / "other.p12"
    lc.certreq(str(other), "web", "CN=web", key_spec="ec:p256", password=PW, now=NOW)
    before = other.read_bytes()
    with pytest.raises(NotFound, match="no key in the store matches"):
        lc.receive(str(other), [issued.certificate], password=PW, now=NOW)
    assert other.read_bytes() == before


def test_a_key_set_anew_is_not_written_as_read(tmp_path: Path) -> None:
    placed = tmp_path / "web.p12"
    lc.certreq(str(placed), "web", "CN=web", key_spec="ec:p256", password=PW, now=NOW)
    with open_store(str(placed), password=PW) as store:
        entry = store.get("web")
        assert isinstance(entry, SealedEntry)
        assert entry.key_as_read(store) is not None and entry.key_as_read(object()) is None
        key = entry.key  # opened: still the key as read
        assert entry.key_as_read(store) is not None
        renamed = entry.with_(label="renamed")
        assert isinstance(renamed, SealedEntry) and renamed.key_as_read(store) is not None
        changed = entry.with_(key=key)  # set anew (even to the same key): no longer
        assert not isinstance(changed, SealedEntry) or changed.key_as_read(store) is None


@pytest.mark.parametrize("key_spec", ["ec:p256", "rsa:2048"])
def test_receive_opens_no_key(tmp_path: Path, ca: str, key_spec: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The key certreq left in the PKCS#12 is neither decrypted to be matched nor to be written back: receive pays
    the file's MAC (read and written) and its certificates' encryption only (4 derivations, 5 before)."""
    placed = tmp_path / "web.p12"
    made = lc.certreq(str(placed), "web", "CN=web", key_spec=key_spec, password=PW, now=NOW)
    issued = lc.sign(ca, "ca", made.encoded.der, password=PW, days=30, now=NOW)
    before = _key_bags(placed.read_bytes())
    opened = []
    monkeypatch.setattr(SealedEntry, "_open", lambda self: opened.append(self.label))
    lc.receive(str(placed), [issued.certificate], issued.chain[1:], password=PW, now=NOW)
    assert opened == []
    monkeypatch.undo()
    assert _key_bags(placed.read_bytes()) == before
    key, cert, more = pkcs12.load_key_and_certificates(placed.read_bytes(), PW.encode())
    assert cert == issued.certificate and same_key(key, cert.public_key()) and more == list(issued.chain[1:])


@pytest.mark.parametrize("location", ["web.jks", "web.bcfks", "web.kdb", "web.bks"])
def test_other_formats_write_the_new_chain_with_the_same_key(tmp_path: Path, ca: str, location: str) -> None:
    """Formats whose encrypted key is not a PKCS#12 key bag (BCFKS's holds the chain as well) encrypt it anew, as
    before: the new chain is what they hold."""
    path = str(tmp_path / location)
    try:
        made = lc.certreq(path, "web", "CN=web", key_spec="ec:p256", password=PW, now=NOW)
    except Exception as exc:  # a format this machine cannot write
        pytest.skip(f"{location}: {exc}")
    issued = lc.sign(ca, "ca", made.encoded.der, password=PW, days=30, now=NOW)
    lc.receive(path, [issued.certificate], issued.chain[1:], password=PW, now=NOW)
    with open_store(path, password=PW) as store:
        entry = store.get("web")
        assert tuple(entry.chain) == tuple(issued.chain)
        assert same_key(entry.key, issued.certificate.public_key())
