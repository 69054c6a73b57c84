"""keystores.backends.pem.lazy_read: a key with its certificate, and certificate bundles, read without decoding a
certificate give the entries read.py gives (labels, kinds, chains, keys, trust, notes, protection); every other
shape, a wrong password and damage go to read.py as before; `list` of such a file imports no cryptography.x509."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from helpers import ca, certificate, ec_key, rsa_key, same_key

from keystores.errors import PasswordRequired, WrongPassword
from keystores.lazy_entries import LazyEntry
from keystores.store import open_store

PASSWORD = "lazy pass"


def pem_of(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key, password: str | None = PASSWORD) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def read_both(path: Path, password: str | None = PASSWORD) -> tuple[list, list, dict]:
    """(entries read lazily, entries read by read.py, what else the two stores said), for comparison."""
    with open_store(path, password=password) as lazy:
        lazy_entries = list(lazy.entries())
        said = {"notes": list(lazy.notes), "protection": lazy.protection().as_text(),
                "uses_password": lazy.uses_password}
    with open_store(path, password=password, writable=True) as full:  # read.py: writable stores decode all
        full_entries = list(full.entries())
        assert said == {"notes": list(full.notes), "protection": full.protection().as_text(),
                        "uses_password": full.uses_password}
    return lazy_entries, full_entries, said


def assert_same(lazy: list, full: list) -> None:
    assert [(e.label, e.kind, e.trust, e.default) for e in lazy] == [(e.label, e.kind, e.trust, e.default)
                                                                   for e in full]
    for one, other in zip(lazy, full, strict=True):
        assert one.chain == other.chain
        assert (one.key is None) == (other.key is None)
        if one.key is not None:
            assert same_key(one.key, other.key)


@pytest.mark.parametrize("make_key", [lambda: ec_key(7), lambda: rsa_key(7), ed25519.Ed25519PrivateKey.generate],
                         ids=["ec", "rsa", "ed25519"])
@pytest.mark.parametrize("password", [PASSWORD, None], ids=["encrypted", "plain"])
def test_a_key_with_its_certificate(tmp_path: Path, make_key, password: str | None) -> None:
    key = make_key()
    ca_key, ca_cert = ca(0)
    leaf = certificate(key, "web.example", ca_key, ca_cert)
    path = tmp_path / "pair.pem"
    path.write_bytes(key_pem(key, password) + pem_of(leaf))
    lazy, full, said = read_both(path, password)
    if isinstance(key, ed25519.Ed25519PrivateKey):  # its PKCS#8 holds no public key to pair by: read.py reads it
        assert not isinstance(lazy[0], LazyEntry)
    else:
        assert isinstance(lazy[0], LazyEntry)
        assert lazy[0].undecoded_leaf == leaf.public_bytes(serialization.Encoding.DER)  # not decoded until asked
    assert_same(lazy, full)
    assert [(e.label, e.kind.value, len(e.chain)) for e in lazy] == [("web.example", "key-pair", 1)]
    assert same_key(lazy[0].key, key)
    assert said["uses_password"] is bool(password)
    assert ("PBES2" in said["protection"]["keys"]) if password else said["protection"]["keys"].startswith("none")


def test_a_bundle_of_certificates_with_names_and_duplicates(tmp_path: Path) -> None:
    cas = [ca(i)[1] for i in range(3)]
    named = b"Bag Attributes\n    friendlyName: my root\n" + pem_of(cas[0])
    same_name = certificate(ec_key(8), "Test Root CA 1", ca=True)  # labelled "Test Root CA 1 (2)"
    path = tmp_path / "bundle.pem"
    path.write_bytes(b"# roots\n" + pem_of(cas[0]) + pem_of(cas[1]) + pem_of(cas[0]) + named + pem_of(cas[2])
                     + pem_of(same_name))
    lazy, full, said = read_both(path, None)
    assert_same(lazy, full)
    assert [e.label for e in lazy] == ["Test Root CA 0", "Test Root CA 1", "my root", "Test Root CA 2",
                                       "Test Root CA 1 (2)"]
    assert all(isinstance(e, LazyEntry) for e in lazy)
    assert said["notes"] == [f"{path}: 1 duplicate certificate(s) skipped"]


@pytest.mark.parametrize("shape", ["key matches no certificate", "two certificates", "request", "legacy key",
                                   "no common name"])
def test_other_shapes_are_read_by_read_py(tmp_path: Path, shape: str) -> None:
    key, other = ec_key(9), ec_key(10)
    ca_key, ca_cert = ca(0)
    leaf = certificate(key, "leaf.example", ca_key, ca_cert)
    data = {
        "key matches no certificate": key_pem(other) + pem_of(leaf),
        "two certificates": key_pem(key) + pem_of(leaf) + pem_of(ca_cert),
        "request": key_pem(key) + x509.CertificateSigningRequestBuilder().subject_name(leaf.subject).sign(
            key, leaf.signature_hash_algorithm).public_bytes(serialization.Encoding.PEM),
        "legacy key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.BestAvailableEncryption(PASSWORD.encode())) + pem_of(leaf),
        "no common name": key_pem(key) + pem_of(_no_name_certificate(key)),
    }[shape]
    path = tmp_path / "x.pem"
    path.write_bytes(data)
    lazy, full, _ = read_both(path)
    assert_same(lazy, full)
    assert not any(isinstance(e, LazyEntry) for e in lazy)


def _no_name_certificate(key) -> x509.Certificate:
    import datetime as dt

    from cryptography.hazmat.primitives import hashes

    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(x509.Name([]))
            .public_key(key.public_key()).serial_number(5).not_valid_before(when)
            .not_valid_after(when + dt.timedelta(days=30)).sign(key, hashes.SHA256()))


def test_a_wrong_or_missing_password_fails_as_before(tmp_path: Path) -> None:
    key = ec_key(11)
    path = tmp_path / "pair.pem"
    path.write_bytes(key_pem(key) + pem_of(certificate(key, "web")))
    with pytest.raises(WrongPassword, match="wrong password for the ENCRYPTED PRIVATE KEY block at line 1"):
        open_store(path, password="not it")
    with pytest.raises(PasswordRequired, match="is an encrypted private key; give the password"):
        open_store(path)


def test_a_damaged_certificate_beside_good_ones_is_skipped_as_before(tmp_path: Path) -> None:
    good = pem_of(ca(0)[1])
    damaged = good.replace(good.splitlines()[3], b"A" * len(good.splitlines()[3]))
    path = tmp_path / "bundle.pem"
    path.write_bytes(good + damaged)
    lazy, full, said = read_both(path, None)
    assert_same(lazy, full)
    assert len(lazy) == 1 and "skipped" in said["notes"][0]


def test_listing_a_key_and_its_certificate_decodes_no_certificate(tmp_path: Path) -> None:
    """`list` (table and --json) of an encrypted key with its certificate; the table imports no x509."""
    key = ec_key(12)
    path = tmp_path / "pair.pem"
    path.write_bytes(key_pem(key) + pem_of(certificate(key, "web.example")))
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    env = {**os.environ, "LAZY_PW": PASSWORD}
    done = subprocess.run([sys.executable, "-c", probe, "list", str(path), "--password", "env:LAZY_PW"],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split("\t")[:3] == ["web.example", "key-pair",
                                                 "O=keystores tests,CN=web.example"]
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    unused = {"cryptography.x509", "cryptography.hazmat.primitives.serialization", "keystores.pki.chain",
              "dataclasses", "typer", "rich"}
    assert unused.isdisjoint(loaded), unused & set(loaded)
    listed = subprocess.run([sys.executable, "-m", "keystores", "list", str(path), "--password", "env:LAZY_PW",
                             "--json"], capture_output=True, text=True, env=env, check=True)
    entry = json.loads(listed.stdout)["entries"][0]
    assert (entry["subject"], entry["key_type"], entry["chain_length"]) == ("O=keystores tests,CN=web.example",
                                                                           "EC-P256", 1)


def test_a_key_cryptography_refuses_fails_where_it_is_used(tmp_path: Path) -> None:
    """Listing reads a key only as far as pairing needs (its public key, from the decrypted PKCS#8), as a PKCS#12
    listing opens no key at all: a key whose public half is the certificate's but whose private value is not
    (cryptography refuses it) is listed as the key pair it claims to be, and the first use of the key fails naming
    its block. (read.py, which loads every key, keeps such a key aside and lists the certificate alone.)"""
    from keystores.crypto.pbe import encrypt_pkcs8
    from keystores.errors import CorruptStore

    key, other = ec_key(13), ec_key(14)
    point = lambda k: k.public_key().public_bytes(serialization.Encoding.X962,  # noqa: E731
                                                  serialization.PublicFormat.UncompressedPoint)
    plain = other.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).replace(point(other), point(key))
    with pytest.raises(ValueError):  # cryptography itself refuses the mixed key
        serialization.load_der_private_key(plain, None)
    path = tmp_path / "pair.pem"
    path.write_bytes(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + _base64_lines(encrypt_pkcs8(plain, PASSWORD))
                     + b"-----END ENCRYPTED PRIVATE KEY-----\n" + pem_of(certificate(key, "web")))
    with open_store(path, password=PASSWORD) as store:
        (entry,) = store.entries()
        assert entry.kind.value == "key-pair"
        with pytest.raises(CorruptStore, match="ENCRYPTED PRIVATE KEY block at line 1 decrypts to a key we cannot"):
            entry.key  # noqa: B018
    with open_store(path, password=PASSWORD, writable=True) as full:
        assert [e.kind.value for e in full.entries()] == ["trusted-cert"] and "cannot load" in full.notes[0]


def _base64_lines(der: bytes) -> bytes:
    import base64

    text = base64.b64encode(der)
    return b"".join(text[i:i + 64] + b"\n" for i in range(0, len(text), 64))


SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.mark.skipif(not SYSTEM_BUNDLE.exists(), reason="no system CA bundle here")
def test_the_system_ca_bundle_lists_the_same_either_way(tmp_path: Path) -> None:
    """Real certificates (names in every string type, roots without a CN): every row `list` prints is the same
    whether the certificates are decoded (read.py) or not."""
    from keystores.ops.describe import entry_row

    copy = tmp_path / "cas.pem"
    copy.write_bytes(SYSTEM_BUNDLE.read_bytes())
    with open_store(copy) as lazy:
        lazy_rows = [entry_row(e) for e in lazy.entries()]
        assert all(isinstance(e, LazyEntry) for e in lazy.entries())
    with open_store(copy, writable=True) as full:
        full_rows = [entry_row(e) for e in full.entries()]
    assert lazy_rows == full_rows and len(lazy_rows) > 10


def _outcome(path: Path, writable: bool) -> tuple:
    """What a reader makes of a file: its error, or its rows (without the problem column, which read.py fills
    only for certificates it decoded) and notes."""
    from keystores.errors import KeystoreError
    from keystores.ops.describe import entry_row

    try:
        with open_store(path, password=PASSWORD, writable=writable) as store:
            rows = [{k: v for k, v in entry_row(e).items() if k != "problem"} for e in store.entries()]
            return "ok", rows, list(store.notes)
    except KeystoreError as exc:
        return "error", type(exc).__name__, exc.reason


@pytest.mark.parametrize("seed", range(4))
def test_damaged_files_read_the_same_either_way(tmp_path: Path, seed: int) -> None:
    """One base64 character changed anywhere in a key with its certificate, or in a bundle: both readers give the
    same error, or the same rows and notes. The one difference allowed is the documented one: a key whose private
    value is damaged (cryptography refuses it) is listed as the key pair its public key says, where read.py keeps
    it aside (see test_a_key_cryptography_refuses_fails_where_it_is_used)."""
    import random

    key = ec_key(15)
    pair = key_pem(key) + pem_of(certificate(key, "web.example", *ca(0)))
    bundle = b"".join(pem_of(ca(i)[1]) for i in range(3))
    rng = random.Random(seed)
    for n in range(40):
        lines = (pair if n % 2 else bundle).split(b"\n")
        body = [i for i, line in enumerate(lines) if line and not line.startswith(b"-----")]
        at = rng.choice(body)
        line = bytearray(lines[at])
        line[rng.randrange(len(line))] = rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        lines[at] = bytes(line)
        path = tmp_path / f"{n}.pem"
        path.write_bytes(b"\n".join(lines))
        lazy, full = _outcome(path, False), _outcome(path, True)
        if lazy != full:
            assert lazy[0] == full[0] == "ok" and [r["kind"] for r in lazy[1]] == ["key-pair"], (n, lazy, full)
            assert "cryptography cannot load" in full[2][0], (n, lazy, full)
