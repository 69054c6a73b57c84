"""keystores.backends.pem.lazy_read: a key with its certificate, and certificate bundles, read without decoding a
certificate give the entries read.py gives (labels, kinds, chains, keys, trust, notes, protection); every other
shape, a wrong password and damage go to read.py as before; `list` of such a file imports no cryptography.x509."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import cache
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


@pytest.mark.parametrize("shape", ["key matches no certificate", "request", "no common name"])
def test_other_shapes_are_read_by_read_py(tmp_path: Path, shape: str) -> None:
    key, other = ec_key(9), ec_key(10)
    ca_key, ca_cert = ca(0)
    leaf = certificate(key, "leaf.example", ca_key, ca_cert)
    data = {
        "key matches no certificate": key_pem(other) + pem_of(leaf),
        "request": key_pem(key) + x509.CertificateSigningRequestBuilder().subject_name(leaf.subject).sign(
            key, leaf.signature_hash_algorithm).public_bytes(serialization.Encoding.PEM),
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


def modules_listing(path: Path, *options: str) -> tuple[str, set[str]]:
    """(what `keystores list path` prints, the modules it loaded), in a fresh interpreter."""
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    env = {**os.environ, "LAZY_PW": PASSWORD}
    done = subprocess.run([sys.executable, "-c", probe, "list", str(path), "--password", "env:LAZY_PW", *options],
                          capture_output=True, text=True, env=env, check=True)
    return done.stdout, set(json.loads(done.stderr.strip().splitlines()[-1]))


UNUSED_BY_LIST = {"cryptography.x509", "cryptography.hazmat.primitives.serialization", "dataclasses", "typer",
                  "rich", "asn1crypto"}


def test_listing_a_key_and_its_certificate_decodes_no_certificate(tmp_path: Path) -> None:
    """`list` (table and --json) of an encrypted key with its certificate; the table imports no x509."""
    key = ec_key(12)
    path = tmp_path / "pair.pem"
    path.write_bytes(key_pem(key) + pem_of(certificate(key, "web.example")))
    printed, loaded = modules_listing(path)
    assert printed.split("\t")[:3] == ["web.example", "key-pair", "O=keystores tests,CN=web.example"]
    unused = UNUSED_BY_LIST | {"keystores.pki.chain"}
    assert unused.isdisjoint(loaded), unused & loaded
    listed = subprocess.run([sys.executable, "-m", "keystores", "list", str(path), "--password", "env:LAZY_PW",
                             "--json"], capture_output=True, text=True, env={**os.environ, "LAZY_PW": PASSWORD},
                            check=True)
    entry = json.loads(listed.stdout)["entries"][0]
    assert (entry["subject"], entry["key_type"], entry["chain_length"]) == ("O=keystores tests,CN=web.example",
                                                                           "EC-P256", 1)


def _mixed_keys() -> dict[str, bytes]:
    """PKCS#8 keys whose public half is ec_key(13)'s / rsa_key(13)'s but whose private values are not consistent
    with it (cryptography refuses both): an EC point that is not the private value's, an RSA d changed by one."""
    key, other = ec_key(13), ec_key(14)
    point = lambda k: k.public_key().public_bytes(serialization.Encoding.X962,  # noqa: E731
                                                  serialization.PublicFormat.UncompressedPoint)
    plain = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    mixed_ec = other.private_bytes(serialization.Encoding.DER, *plain).replace(point(other), point(key))
    rsa = rsa_key(13)
    d = rsa.private_numbers().d
    d_bytes = d.to_bytes((d.bit_length() + 8) // 8)
    good = rsa.private_bytes(serialization.Encoding.DER, *plain)
    assert good.count(d_bytes) == 1
    bad_d = (d + 2).to_bytes(len(d_bytes))
    return {"ec": mixed_ec, "rsa": good.replace(d_bytes, bad_d)}


@pytest.mark.parametrize("kind", ["ec", "rsa"])
def test_a_key_cryptography_refuses_is_kept_aside_as_read_py_keeps_it(tmp_path: Path, kind: str) -> None:
    """Listing checks a key's numbers (see lazy_read._private_key): a key whose public half is the certificate's
    but whose private values are not (cryptography refuses it) is declined, and read.py keeps it aside and lists
    the certificate alone, as it always did."""
    from keystores.crypto.pbe import encrypt_pkcs8

    plain = _mixed_keys()[kind]
    with pytest.raises(ValueError):  # cryptography itself refuses the mixed key
        serialization.load_der_private_key(plain, None)
    public = (ec_key(13) if kind == "ec" else rsa_key(13))
    path = tmp_path / "pair.pem"
    path.write_bytes(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + _base64_lines(encrypt_pkcs8(plain, PASSWORD))
                     + b"-----END ENCRYPTED PRIVATE KEY-----\n" + pem_of(certificate(public, "web")))
    lazy, full, said = read_both(path)
    assert_same(lazy, full)
    assert [e.kind.value for e in lazy] == ["trusted-cert"] and "cannot load" in said["notes"][0]


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
    same error, or the same rows and notes (a key whose private values are damaged is kept aside by both: see
    test_a_key_cryptography_refuses_is_kept_aside_as_read_py_keeps_it)."""
    import random

    key = ec_key(15)
    pair = key_pem(key) + pem_of(certificate(key, "web.example", *ca(0)))
    bundle = b"".join(pem_of(ca(i)[1]) for i in range(3))
    rng = random.Random(seed)
    for n in range(40):
        path = tmp_path / f"{n}.pem"
        path.write_bytes(_damaged(pair if n % 2 else bundle, rng))
        lazy, full = _outcome(path, False), _outcome(path, True)
        assert lazy == full, n


def _damaged(data: bytes, rng) -> bytes:
    """`data` with one base64 character of one PEM block changed."""
    lines = data.split(b"\n")
    body = [i for i, line in enumerate(lines) if line and not line.startswith(b"-----")]
    at = rng.choice(body)
    line = bytearray(lines[at])
    line[rng.randrange(len(line))] = rng.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    lines[at] = bytes(line)
    return b"\n".join(lines)


# --- a key with its chain --------------------------------------------------------------------------------------


@cache
def chain_pool() -> dict[str, x509.Certificate]:
    """A leaf under an issuing CA under a root, and the certificates that make chain building hard: a second
    issuing CA of the same name (another key), the root cross-signed by another root (same name and key, another
    issuer), that other root, an unrelated CA, and a CA whose name is the issuing CA's in another string type
    (equal as cryptography compares names, not in DER)."""
    from cryptography.x509.name import _ASN1Type
    from cryptography.x509.oid import NameOID

    root_key, issuing_key, other_key, cross_key = rsa_key(40), ec_key(41), ec_key(42), ec_key(43)
    root = certificate(root_key, "Chain Root", ca=True)
    issuing = certificate(issuing_key, "Chain Issuing CA", root_key, root, ca=True)
    printable = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Chain Issuing CA", _ASN1Type.PrintableString),
                           x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keystores tests")])
    other_root = certificate(cross_key, "Other Root", ca=True)
    return {
        "leaf": certificate(ec_key(44), "chain.example", issuing_key, issuing),
        "issuing": issuing,
        "root": root,
        "same name": certificate(other_key, "Chain Issuing CA", root_key, root, ca=True),
        "cross": certificate(root_key, "Chain Root", cross_key, other_root, ca=True),
        "other root": other_root,
        "unrelated": ca(3)[1],
        "other string type": _renamed(certificate(other_key, "x", root_key, root, ca=True), printable, root_key),
    }


def _renamed(cert: x509.Certificate, subject: x509.Name, issuer_key) -> x509.Certificate:
    from cryptography.hazmat.primitives import hashes

    return (x509.CertificateBuilder().subject_name(subject).issuer_name(cert.issuer).public_key(cert.public_key())
            .serial_number(cert.serial_number).not_valid_before(cert.not_valid_before_utc)
            .not_valid_after(cert.not_valid_after_utc).sign(issuer_key, hashes.SHA256()))


def chain_file(parts: list[str], *, password: str | None = PASSWORD, named: tuple[str, ...] = ()) -> bytes:
    """The PEM of `parts` in order: "key" is the leaf's key, any other name a certificate of chain_pool (a name
    in `named` gets a friendlyName)."""
    pool = chain_pool()
    out = b""
    for part in parts:
        if part == "key":
            out += key_pem(ec_key(44), password)
            continue
        if part in named:
            out += f"Bag Attributes\n    friendlyName: my {part}\n".encode()
        out += pem_of(pool[part])
    return out


def assert_same_chains(lazy: list, full: list) -> None:
    assert_same(lazy, full)
    assert [e.kind.value for e in lazy] == [e.kind.value for e in full]
    for one, other in zip(lazy, full, strict=True):
        assert [c.public_bytes(serialization.Encoding.DER) for c in one.chain] == \
            [c.public_bytes(serialization.Encoding.DER) for c in other.chain]


@pytest.mark.parametrize(("parts", "labels"), [
    (["key", "leaf", "issuing", "root"], [("chain.example", "key-pair", 3), ("Chain Issuing CA", "certificate", 1),
                                          ("Chain Root", "certificate", 1)]),
    (["root", "issuing", "leaf", "key"], [("Chain Root", "certificate", 1), ("Chain Issuing CA", "certificate", 1),
                                          ("chain.example", "key-pair", 3)]),
    (["issuing", "key", "root", "leaf", "issuing", "root"],
     [("Chain Issuing CA", "trusted-cert", 1), ("chain.example", "key-pair", 3), ("Chain Root", "trusted-cert", 1)]),
    (["key", "leaf", "same name", "issuing", "unrelated", "root"],
     [("chain.example", "key-pair", 3), ("Chain Issuing CA", "trusted-cert", 1),
      ("Chain Issuing CA (2)", "certificate", 1), ("Test Root CA 3", "trusted-cert", 1),
      ("Chain Root", "certificate", 1)]),
    (["key", "leaf", "issuing", "cross", "other root", "root"],
     [("chain.example", "key-pair", 4), ("Chain Issuing CA", "certificate", 1), ("Chain Root", "certificate", 1),
      ("Other Root", "certificate", 1), ("Chain Root (2)", "trusted-cert", 1)]),
    (["key", "leaf", "root"], [("chain.example", "key-pair", 1), ("Chain Root", "trusted-cert", 1)]),
], ids=["in order", "reversed", "shuffled with duplicates", "same-name CA", "cross-signed root", "chain gap"])
@pytest.mark.parametrize("password", [PASSWORD, None], ids=["encrypted", "plain"])
def test_a_key_with_its_chain(tmp_path: Path, parts: list[str], labels: list, password: str | None) -> None:
    """Chains read lazily are read.py's: the same order (signatures decide between a same-name CA and the real
    issuer, the cross-signed root or the self-signed one, as keystores.pki.chain does for both), the same
    untrusted chain members and trusted others, the same labels; no certificate decoded until asked."""
    path = tmp_path / "chain.pem"
    path.write_bytes(chain_file(parts, password=password))
    lazy, full, _ = read_both(path, password)
    assert all(isinstance(e, LazyEntry) for e in lazy)
    assert all(e.undecoded_leaf is not None for e in lazy)
    assert_same_chains(lazy, full)
    assert [(e.label, e.kind.value, len(e.chain)) for e in lazy] == labels


def test_named_chain_members_stay_trusted_entries(tmp_path: Path) -> None:
    path = tmp_path / "chain.pem"
    path.write_bytes(chain_file(["key", "leaf", "issuing", "root"], named=("issuing",)))
    lazy, full, _ = read_both(path)
    assert_same_chains(lazy, full)
    assert [(e.label, e.kind.value) for e in lazy] == [("chain.example", "key-pair"), ("my issuing", "trusted-cert"),
                                                       ("Chain Root", "certificate")]
    assert isinstance(lazy[0], LazyEntry)


def test_a_name_equal_only_as_cryptography_compares_names_goes_to_read_py(tmp_path: Path) -> None:
    """An issuer name in another string type than the CA's subject (or alike names in two spellings) is equal to
    cryptography and not in DER: read.py decides, as before."""
    path = tmp_path / "chain.pem"
    path.write_bytes(chain_file(["key", "leaf", "other string type", "issuing", "root"]))
    lazy, full, _ = read_both(path)
    assert_same_chains(lazy, full)
    assert not any(isinstance(e, LazyEntry) for e in lazy)


@pytest.mark.parametrize("seed", range(3))
def test_random_chain_files_read_the_same_either_way(tmp_path: Path, seed: int) -> None:
    """Seeded: the key and any of the pool's certificates, repeated, named or not, in any order; both readers
    give the same entries (chains certificate for certificate), notes and protection."""
    import random

    rng = random.Random(seed)
    names = list(chain_pool())  # the leaf too: a key matching two certificates
    lazily = 0
    for n in range(25):
        parts = ["key", "leaf"] + [rng.choice(names) for _ in range(rng.randrange(0, 6))]
        rng.shuffle(parts)
        named = tuple(name for name in set(parts) if rng.random() < 0.15)
        password = PASSWORD if n % 5 == 0 else None
        path = tmp_path / f"{n}.pem"
        path.write_bytes(chain_file(parts, password=password, named=named))
        lazy, full, _ = read_both(path, password)
        assert_same_chains(lazy, full)
        lazily += isinstance(lazy[0], LazyEntry)
    assert lazily > 10  # most shapes are read lazily (those with the other string type's CA are not)


@pytest.mark.parametrize("seed", range(3))
def test_damaged_chain_files_read_the_same_either_way(tmp_path: Path, seed: int) -> None:
    """One base64 character changed anywhere in a key (PKCS#8, or traditional and encrypted) with its chain: the
    same error, or the same rows and notes (a damaged signature drops the CA from the chain in both; a damaged
    traditional key is a wrong password to both)."""
    import random

    traditional = ec_key(44).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.BestAvailableEncryption(PASSWORD.encode()))
    forms = [chain_file(["key", "leaf", "issuing", "root"], password=None),
             traditional + chain_file(["leaf", "issuing", "root"])]
    rng = random.Random(seed)
    for n in range(60):
        path = tmp_path / f"{n}.pem"
        path.write_bytes(_damaged(forms[n % 2], rng))
        lazy, full = _outcome(path, False), _outcome(path, True)
        assert lazy == full, n


# What a key with its chain is listed without (bench/bench_pem.py's server.pem and server-ca.pem rows): cryptography
# at all (the key is decrypted by hashlib and the interpreter's libcrypto, and judged by them where it is an EC key;
# the chain's signatures are verified by libcrypto: keystores.pki.chain, keystores.crypto.verify), and datetime (no
# date is read to chain).
NOT_FOR_A_KEY_AND_ITS_CHAIN = {"datetime", "cryptography.hazmat.bindings._rust",
                               "cryptography.hazmat.backends.openssl.backend"}


def test_listing_a_key_and_its_chain_decodes_no_certificate(tmp_path: Path) -> None:
    """`list` of an encrypted key with its chain checks the chain's signatures by libcrypto, and imports no
    cryptography; --json prints what read.py's entries print."""
    path = tmp_path / "chain.pem"
    path.write_bytes(chain_file(["key", "leaf", "issuing", "root"]))
    printed, loaded = modules_listing(path)
    assert [line.split("\t")[:2] for line in printed.splitlines()] == [
        ["chain.example", "key-pair"], ["Chain Issuing CA", "certificate"], ["Chain Root", "certificate"]]
    unused = UNUSED_BY_LIST | NOT_FOR_A_KEY_AND_ITS_CHAIN
    assert unused.isdisjoint(loaded), unused & loaded
    assert "keystores.pki.chain" in loaded  # the one chain builder built it
    as_json = json.loads(modules_listing(path, "--json")[0])
    with open_store(path, password=PASSWORD, writable=True) as full:
        from keystores.ops.describe import store_data

        assert as_json == json.loads(json.dumps(store_data(full, list(full.entries()))))


# --- the other shapes a user lists ------------------------------------------------------------------------------


def test_a_der_certificate(tmp_path: Path) -> None:
    leaf = chain_pool()["leaf"]
    path = tmp_path / "cert.der"
    path.write_bytes(leaf.public_bytes(serialization.Encoding.DER))
    lazy, full, _ = read_both(path, None)
    assert isinstance(lazy[0], LazyEntry)
    assert_same_chains(lazy, full)
    assert [(e.label, e.kind.value) for e in lazy] == [("chain.example", "trusted-cert")]
    printed, loaded = modules_listing(path)
    assert printed.split("\t")[:2] == ["chain.example", "trusted-cert"]
    assert UNUSED_BY_LIST.isdisjoint(loaded), UNUSED_BY_LIST & loaded


@pytest.mark.parametrize("seed", range(2))
def test_damaged_der_files_read_the_same_either_way(tmp_path: Path, seed: int) -> None:
    """One byte of a DER certificate changed, or bytes added or cut at its end: both readers give the same error,
    or the same rows and notes."""
    import random

    data = chain_pool()["leaf"].public_bytes(serialization.Encoding.DER)
    rng = random.Random(seed)
    for n in range(60):
        damaged = bytearray(data)
        if n % 10 == 0:
            damaged = damaged + damaged[: rng.randrange(1, 40)] if n % 20 else damaged[: rng.randrange(len(data))]
        else:
            damaged[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"{n}.der"
        path.write_bytes(bytes(damaged))
        assert _outcome(path, False) == _outcome(path, True), n


def assert_same_password_errors(path: Path) -> None:
    """A wrong and a missing password fail alike whether the file is read lazily or by read.py."""
    for wrong in ("not it", None):
        errors = []
        for writable in (False, True):
            with pytest.raises((WrongPassword, PasswordRequired)) as caught:
                open_store(path, password=wrong, writable=writable)
            errors.append((type(caught.value), caught.value.reason))
        assert errors[0] == errors[1], path


@pytest.mark.parametrize("cipher", ["aes256", "des3", None])
@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_a_traditional_key_with_its_chain(tmp_path: Path, kind: str, cipher: str | None) -> None:
    """OpenSSL's 'BEGIN RSA PRIVATE KEY' / 'BEGIN EC PRIVATE KEY' blocks, plain or encrypted with a DEK-Info header
    (`openssl rsa -aes256 -traditional`), with a certificate or a chain: read lazily, the same entries, notes and
    protection as read.py's; a wrong or missing password fails as in read.py."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    pool = chain_pool()
    key = ec_key(44) if kind == "ec" else rsa_key(45)
    leaf = pool["leaf"] if kind == "ec" else certificate(key, "rsa.example", ec_key(41), pool["issuing"])
    plain = tmp_path / "plain.key"
    plain.write_bytes(key_pem(key, None))
    command = ["openssl", kind, "-in", str(plain), "-traditional"] if kind == "rsa" else ["openssl", "ec", "-in",
                                                                                           str(plain)]
    if cipher:
        command += [f"-{cipher}", "-passout", f"pass:{PASSWORD}"]
    traditional = subprocess.run(command, capture_output=True, check=True).stdout
    assert traditional.startswith(f"-----BEGIN {kind.upper()} PRIVATE KEY-----".encode())
    assert (b"DEK-Info" in traditional) is bool(cipher)
    for number, extra in enumerate([[], ["issuing", "root"]]):
        path = tmp_path / f"{number}.pem"
        path.write_bytes(traditional + pem_of(leaf) + b"".join(pem_of(pool[name]) for name in extra))
        password = PASSWORD if cipher else None
        lazy, full, said = read_both(path, password)
        assert all(isinstance(e, LazyEntry) for e in lazy)
        assert_same_chains(lazy, full)
        assert len(lazy[0].chain) == 1 + len(extra) and same_key(lazy[0].key, key)
        assert said["uses_password"] is bool(cipher)
        if cipher:
            assert_same_password_errors(path)
    printed, loaded = modules_listing(path)
    assert printed.splitlines()[0].split("\t")[1] == "key-pair"
    unused = UNUSED_BY_LIST | NOT_FOR_A_KEY_AND_ITS_CHAIN
    assert unused.isdisjoint(loaded), unused & loaded


def _key_forms(key) -> dict[str, bytes]:
    encrypted = serialization.BestAvailableEncryption(PASSWORD.encode())
    traditional, pkcs8 = serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    return {"pkcs8.pem": key_pem(key), "plain pkcs8.pem": key_pem(key, None),
            "traditional.pem": key.private_bytes(pem, traditional, encrypted),
            "plain traditional.pem": key.private_bytes(pem, traditional, serialization.NoEncryption()),
            "pkcs8.der": key.private_bytes(der, pkcs8, encrypted),
            "plain pkcs8.der": key.private_bytes(der, pkcs8, serialization.NoEncryption())}


@pytest.mark.parametrize("kind", ["rsa", "ec"])
def test_a_key_alone(tmp_path: Path, kind: str) -> None:
    """A private key alone, in every form a user keeps one (PKCS#8 or traditional, PEM or DER, plain or
    encrypted): read.py's loose key and note, the same protection; the key built from its numbers is the key; a
    wrong or missing password fails as in read.py; listing imports neither x509 nor serialization."""
    key = rsa_key(46) if kind == "rsa" else ec_key(46)
    for form, data in _key_forms(key).items():
        path = tmp_path / form.replace(" ", "-")
        path.write_bytes(data)
        stores = []
        for writable in (False, True):
            with open_store(path, password=PASSWORD, writable=writable) as store:
                stores.append((list(store.entries()), list(store.notes), store.protection().as_text(),
                               store.uses_password, len(store.loose_keys)))
                assert same_key(store.loose_keys[0], key)
        assert stores[0] == stores[1] and stores[0][0] == [] and stores[0][4] == 1, form
        assert "holds a private key (RSA-2048)" in stores[0][1][0] if kind == "rsa" else "(EC-P256)" in stores[0][1][0]
        if not form.startswith("plain"):
            assert_same_password_errors(path)
        printed, loaded = modules_listing(path)
        assert printed == ""
        assert UNUSED_BY_LIST.isdisjoint(loaded), (form, UNUSED_BY_LIST & loaded)


@pytest.mark.parametrize("seed", range(2))
def test_damaged_keys_alone_read_the_same_either_way(tmp_path: Path, seed: int) -> None:
    """A byte (DER) or base64 character (PEM) of a key alone changed: the same error, or the same notes. Here a
    damaged private value is refused by both: the key is built from its numbers, which cryptography checks."""
    import random

    rng = random.Random(seed)
    forms = [data for key in (rsa_key(46), ec_key(46)) for data in _key_forms(key).values()]
    for n in range(80):
        data = forms[n % len(forms)]
        if data.startswith(b"-----"):
            data = _damaged(data, rng)
        else:
            damaged = bytearray(data)
            damaged[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(damaged)
        path = tmp_path / f"{n}.{'pem' if data.startswith(b'-----') else 'der'}"
        path.write_bytes(data)
        assert _outcome(path, False) == _outcome(path, True), n


def test_a_chain_of_certificates_without_extensions(tmp_path: Path) -> None:
    """bench/bench_pem.py's file: keystores writes a key pair whose v3 certificates carry no extensions (as
    cryptography's builder makes them given none), certificates first; read lazily, as read.py reads it."""
    import datetime as dt

    from cryptography.hazmat.primitives import hashes

    from keystores.model import Entry, EntryKind

    def bare(key, subject: str, issuer: str, issuer_key) -> x509.Certificate:
        named = lambda cn: x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, cn)])  # noqa: E731
        when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        return (x509.CertificateBuilder().subject_name(named(subject)).issuer_name(named(issuer))
                .public_key(key.public_key()).serial_number(7).not_valid_before(when)
                .not_valid_after(when + dt.timedelta(days=30)).sign(issuer_key, hashes.SHA256()))

    root_key, leaf_key = ec_key(47), ec_key(48)
    root = bare(root_key, "Root", "Root", root_key)
    path = tmp_path / "server.pem"
    with open_store(path, create=True, password=PASSWORD) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(bare(leaf_key, "server", "Root", root_key), root),
                        key=leaf_key))
    lazy, full, _ = read_both(path)
    assert all(isinstance(e, LazyEntry) for e in lazy)
    assert_same_chains(lazy, full)
    assert [(e.label, e.kind.value, len(e.chain)) for e in lazy] == [("server", "key-pair", 2),
                                                                   ("Root", "certificate", 1)]


def test_listing_certificates_loads_no_cryptography_at_all(tmp_path: Path) -> None:
    """A certificate or a bundle (PEM or DER) is listed from its DER alone: neither cryptography (not even to quiet
    its warnings: nothing is decoded) nor threading (a store's KDF budget locks with _thread) is imported."""
    pool = chain_pool()
    bundle, der = tmp_path / "bundle.pem", tmp_path / "root.der"
    bundle.write_bytes(pem_of(pool["root"]) + pem_of(pool["issuing"]))
    der.write_bytes(pool["root"].public_bytes(serialization.Encoding.DER))
    for path in (bundle, der):
        printed, loaded = modules_listing(path)
        assert printed.splitlines()[0].split("\t")[:2] == ["Chain Root", "trusted-cert"]
        assert not {name for name in loaded if name.split(".")[0] in ("cryptography", "threading")}, path
        assert "keystores.pki.undecoded" not in loaded, path  # read.py's decoding path only


# What public CAs write (AIA, CRL distribution points, policies with a CPS and a user notice, an SCT list: the
# extnValue of badssl.com's certificate in cryptography-vectors, x509/badssl-sct.pem) besides the usual ones.
SCT_LIST = ("047a0078007600a7ce4a4e6207e0addee5fdaa4b1f86768767b5d002a55d47310e7e670a95eab2000001586fffceb400000403"
            "00473045022100b803ad34f6fc0f2cff84a086e5d7cf5af00a07626a7fb3a64464f195a448451102202f618d531b6f4ab80a67"
            "b207e18f6dadd1044a5eb389ef7c60c26853f93d1f6d")
OPENSSL_EXTENSIONS = f"""[ca]
basicConstraints=critical,CA:true
keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
authorityInfoAccess=OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://crt.example.com/root.crt
crlDistributionPoints=URI:http://crl.example.com/root.crl
certificatePolicies=2.5.29.32.0
[leaf]
basicConstraints=critical,CA:false
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:web.example
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
authorityInfoAccess=OCSP;URI:http://ocsp.example.com,caIssuers;URI:http://crt.example.com/issuing.crt
crlDistributionPoints=URI:http://crl.example.com/issuing.crl
certificatePolicies=2.23.140.1.2.2,@cps
1.3.6.1.4.1.11129.2.4.2=DER:{SCT_LIST}
[cps]
policyIdentifier=1.3.6.1.4.1.44947.1.1.1
CPS.1="https://www.example.com/cps"
userNotice.1=@notice
[notice]
explicitText="UTF8:Relying parties: see the CPS"
"""


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_files_openssl_writes_read_the_same_either_way(tmp_path: Path) -> None:
    """What users list: a root, an issuing CA and a leaf made by `openssl req`/`x509 -req`, the key as `openssl
    pkcs8 -topk8 -v2 aes-256-cbc` and `openssl ec -aes256` write it, with its chain in any order, `openssl pkcs12`
    turned back into PEM (Bag Attributes, friendlyName, localKeyID; the key encrypted or not), and the key `openssl
    ecparam -genkey` writes (an EC PARAMETERS block first), with its certificate or alone. The CAs and the leaf
    carry the extensions public CAs write (OPENSSL_EXTENSIONS); listing the key with its chain imports no x509."""
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "ext.cnf").write_text(OPENSSL_EXTENSIONS)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "root.key", "-subj",
            "/O=Example/CN=Example Root CA", "-days", "3650", "-out", "root.crt")
    for name, issuer, subject, extensions in (("inter", "root", "/O=Example/CN=Example Issuing CA", "ca"),
                                              ("leaf", "inter", "/O=Example/CN=web.example", "leaf")):
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
                "-subj", subject, "-out", f"{name}.csr")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.crt", "-CAkey", f"{issuer}.key",
                "-set_serial", "7", "-days", "365", "-extfile", "ext.cnf", "-extensions", extensions, "-out",
                f"{name}.crt")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-out", "ecparam.key")  # EC PARAMETERS, EC PRIVATE KEY
    openssl("req", "-new", "-x509", "-key", "ecparam.key", "-subj", "/CN=ecparam.example", "-days", "30", "-out",
            "ecparam.crt")
    openssl("pkcs8", "-topk8", "-v2", "aes-256-cbc", "-in", "leaf.key", "-passout", f"pass:{PASSWORD}", "-out",
            "leaf.p8")
    openssl("ec", "-in", "leaf.key", "-aes256", "-passout", f"pass:{PASSWORD}", "-out", "leaf.traditional")
    openssl("pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.crt", "-certfile", "inter.crt", "-name",
            "my server", "-passout", f"pass:{PASSWORD}", "-out", "chain.p12")
    openssl("pkcs12", "-in", "chain.p12", "-passin", f"pass:{PASSWORD}", "-passout", f"pass:{PASSWORD}", "-out",
            "from-p12.pem")
    openssl("pkcs12", "-in", "chain.p12", "-passin", f"pass:{PASSWORD}", "-nodes", "-out", "from-p12-plain.pem")
    read = lambda name: (tmp_path / name).read_bytes()  # noqa: E731
    files = {
        "key + chain": read("leaf.p8") + read("leaf.crt") + read("inter.crt") + read("root.crt"),
        "chain, then the key": read("root.crt") + read("inter.crt") + read("leaf.crt") + read("leaf.p8"),
        "traditional key + chain": read("leaf.traditional") + read("leaf.crt") + read("inter.crt") + read("root.crt"),
        "plain key + chain": read("leaf.key") + read("leaf.crt") + read("inter.crt"),
        "openssl pkcs12 out": read("from-p12.pem"),
        "openssl pkcs12 -nodes out": read("from-p12-plain.pem"),
        "bundle": read("root.crt") + read("inter.crt"),
        "openssl ecparam -genkey key + certificate": read("ecparam.key") + read("ecparam.crt"),
        "openssl ecparam -genkey key alone": read("ecparam.key"),
    }
    assert read("ecparam.key").startswith(b"-----BEGIN EC PARAMETERS-----")
    public_ca_extensions = {"1.3.6.1.5.5.7.1.1", "2.5.29.31", "2.5.29.32"}  # AIA, CRL DP, policies
    assert {e.oid.dotted_string for e in x509.load_pem_x509_certificate(read("leaf.crt")).extensions} >= {
        *public_ca_extensions, "1.3.6.1.4.1.11129.2.4.2"}
    assert {e.oid.dotted_string for e in x509.load_pem_x509_certificate(read("inter.crt")).extensions} >= \
        public_ca_extensions
    for shape, data in files.items():
        path = tmp_path / "listed.pem"
        path.write_bytes(data)
        lazy, full, said = read_both(path)
        assert all(isinstance(e, LazyEntry) for e in lazy), shape
        assert_same_chains(lazy, full)
        if shape.endswith("alone"):
            assert lazy == [] and "holds a private key (EC-P256)" in said["notes"][0]
        elif shape != "bundle":
            pair = next(e for e in lazy if e.kind.value == "key-pair")
            assert len(pair.chain) == (1 if "ecparam" in shape else 2 if "pkcs12" in shape or shape.startswith("plain")
                                       else 3), shape
    path.write_bytes(files["key + chain"])
    printed, loaded = modules_listing(path)
    assert [line.split("\t")[:2] for line in printed.splitlines()] == [
        ["web.example", "key-pair"], ["Example Issuing CA", "certificate"], ["Example Root CA", "certificate"]]
    assert UNUSED_BY_LIST.isdisjoint(loaded), UNUSED_BY_LIST & loaded


# --- a certificate cryptography refuses whole, as a chain issuer ---------------------------------------------------


def _resigned(cert: x509.Certificate, issuer_key, change) -> bytes:
    """`cert`'s DER with `change` applied to its TBSCertificate's fields (a list of their DER), signed again by
    `issuer_key` (ECDSA or RSA PKCS#1 v1.5 with SHA-256, the algorithm `cert` names)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding

    from keystores.crypto import der

    data = cert.public_bytes(serialization.Encoding.DER)
    (_, _, tbs_start, tbs_end), (_, alg_at, _, alg_end), _ = der.elements(data, *der.read(data)[1:])
    fields = [data[at:end] for _, at, _, end in der.elements(data, tbs_start, tbs_end)]
    tbs = der.sequence(*change(fields))
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        signature = issuer_key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    else:
        signature = issuer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    return der.sequence(tbs, data[alg_at:alg_end], der.tlv(0x03, b"\x00" + signature))


@cache
def refused_issuer_chain() -> dict[str, bytes]:
    """A leaf under an issuing CA under a root, where cryptography refuses the issuing CA whole (its version is
    the INTEGER 3, "v4": load_der_x509_certificate raises InvalidVersion), so read.py holds it as a RawCertificate
    whose names are RawNames; everything else about it (names, key, signature) is sound."""
    root_key, issuing_key, leaf_key = ec_key(60), ec_key(61), ec_key(62)
    root = certificate(root_key, "Refused Root", ca=True)
    issuing = certificate(issuing_key, "Refused Issuing CA", root_key, root, ca=True)
    v4 = _resigned(issuing, root_key, lambda fields: [bytes.fromhex("a003020103"), *fields[1:]])
    with pytest.raises(x509.InvalidVersion):
        x509.load_der_x509_certificate(v4)
    return {"key": key_pem(leaf_key, None), "leaf": pem_of(certificate(leaf_key, "refused.example", issuing_key,
                                                                          issuing)),
            "issuing": _pem_block("CERTIFICATE", v4), "root": pem_of(root)}


def _pem_block(label: str, der: bytes) -> bytes:
    return f"-----BEGIN {label}-----\n".encode() + _base64_lines(der) + f"-----END {label}-----\n".encode()


@pytest.mark.parametrize("order", [["key", "leaf", "issuing", "root"], ["root", "issuing", "leaf", "key"],
                                   ["issuing", "key", "root", "leaf"]])
def test_a_certificate_cryptography_refuses_is_found_as_a_chain_issuer(tmp_path: Path, order: list[str]) -> None:
    """read.py looked issuers up in a dict keyed by x509.Name, where a RawCertificate's RawName (equal to the name
    of the same DER, hashed differently) was never found: the chain stopped at the leaf and the issuing CA was a
    trusted certificate of its own. read.py now chains through it to the root. The lazy reader leaves such a file
    to read.py (only decoding tells that `list` must say an entry "could not be fully decoded"), and so agrees."""
    from keystores.pki.undecoded import RawCertificate

    parts = refused_issuer_chain()
    path = tmp_path / "chain.pem"
    path.write_bytes(b"".join(parts[name] for name in order))
    lazy, full, _ = read_both(path, None)
    pair = next(e for e in full if e.kind.value == "key-pair")
    assert [c.subject.rfc4514_string() for c in pair.chain] == [
        "O=keystores tests,CN=refused.example", "O=keystores tests,CN=Refused Issuing CA",
        "O=keystores tests,CN=Refused Root"]
    assert isinstance(pair.chain[1], RawCertificate)
    assert sorted((e.label, e.kind.value) for e in full) == [
        ("Refused Issuing CA", "certificate"), ("Refused Root", "certificate"), ("refused.example", "key-pair")]
    assert_same_chains(lazy, full)
    assert not any(isinstance(e, LazyEntry) for e in lazy)


# --- real-world certificates in a key's chain ----------------------------------------------------------------------


def _transplanted(data: bytes, subject_key, issuer_name: bytes, issuer_key, subject_name: bytes | None = None) -> bytes:
    """A real certificate's TBSCertificate as it is (version, serial, validity, subject, every extension, byte for
    byte) but for the key (`subject_key`'s), the issuer (`issuer_name`, DER) and, given, the subject; signed by
    `issuer_key` with ECDSA-SHA256. What public CAs write, in a chain whose keys the test holds."""
    from keystores.crypto import der

    spki = subject_key.public_key().public_bytes(serialization.Encoding.DER,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo)
    algorithm = der.sequence(der.oid("1.2.840.10045.4.3.2"))

    def change(fields: list[bytes]) -> list[bytes]:
        at = 1 if fields[0][:1] == b"\xa0" else 0  # [0] version, absent in v1
        fields = list(fields)
        fields[at + 1], fields[at + 2], fields[at + 5] = algorithm, issuer_name, spki
        if subject_name is not None:
            fields[at + 4] = subject_name
        return fields

    (_, _, tbs_start, tbs_end), _, _ = der.elements(data, *der.read(data)[1:])
    fields = [data[at:end] for _, at, _, end in der.elements(data, tbs_start, tbs_end)]
    tbs = der.sequence(*change(fields))
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    return der.sequence(tbs, algorithm, der.tlv(0x03, b"\x00" + issuer_key.sign(tbs, ec.ECDSA(hashes.SHA256()))))


def _real_world_certificates() -> list[tuple[str, bytes]]:
    """Every certificate of the cryptography-vectors x509/ folder (public CAs' and the odd ones cryptography refuses)
    but PKITS' (test_shown reads those), and the system CA bundle's."""
    from test_shown import PEM_BLOCK, vector_certificates

    found = [(name, der) for name, der in vector_certificates() if not name.startswith("PKITS_data")]
    if SYSTEM_BUNDLE.exists():
        import base64

        found += [(f"system#{n}", base64.b64decode(block))
                  for n, block in enumerate(PEM_BLOCK.findall(SYSTEM_BUNDLE.read_bytes()))]
    return found


@cache
def _real_world_files() -> list[tuple[str, bytes]]:
    """(name, PEM) of a key with its chain, for each real certificate in turn as the leaf and as the issuing CA
    (_transplanted: its names, extensions and encodings in a chain of the test's keys), under a root of ours."""
    from keystores.crypto import der

    root_key, issuing_key, leaf_key = ec_key(63), ec_key(64), ec_key(65)
    root = certificate(root_key, "Real Root", ca=True)
    issuing = certificate(issuing_key, "Real Issuing CA", root_key, root, ca=True)
    template = certificate(leaf_key, "real.example", issuing_key, issuing).public_bytes(serialization.Encoding.DER)
    ours = key_pem(leaf_key)
    files = []
    for name, data in _real_world_certificates():
        try:
            _, tbs_start, tbs_end = der.read(data, der.read(data)[1])
            fields = der.elements(data, tbs_start, tbs_end)
            _, at, _, end = fields[(1 if fields[0][0] == 0xA0 else 0) + 4]
            subject = data[at:end]
            leaf = _transplanted(data, leaf_key, issuing.subject.public_bytes(), issuing_key)
            their_ca = _transplanted(data, issuing_key, root.subject.public_bytes(), root_key)
        except (ValueError, IndexError):
            continue  # not a certificate (a request, a CRL, damage)
        under_it = _transplanted(template, leaf_key, subject, issuing_key)
        files.append((f"{name} as the leaf", ours + _pem_block("CERTIFICATE", leaf) + pem_of(issuing) + pem_of(root)))
        files.append((f"{name} as the issuing CA", ours + _pem_block("CERTIFICATE", under_it)
                      + _pem_block("CERTIFICATE", their_ca) + pem_of(root)))
    return files


def test_real_world_certificates_in_a_chain_read_the_same_either_way(tmp_path: Path) -> None:
    """Every certificate of cryptography-vectors' x509/ folder and of the system CA bundle, as a key's leaf and as
    its issuing CA (with AIA, CRL distribution points, policies, SCT lists, name constraints, unusual names and
    encodings, and what cryptography refuses in part or whole): both readers give the same entries, chains
    certificate for certificate, notes and protection; most are read lazily, and none that holds a certificate
    cryptography refuses (read.py's RawCertificate, which `list` says could not be fully decoded)."""
    from keystores.pki.undecoded import RawCertificate

    files = _real_world_files()
    if len(files) < 100:
        pytest.skip("neither cryptography_vectors nor a system CA bundle is here")
    lazily = []
    for number, (name, data) in enumerate(files):
        path = tmp_path / f"{number}.pem"
        path.write_bytes(data)
        lazy, full, _ = read_both(path)
        assert_same_chains(lazy, full)
        if all(isinstance(e, LazyEntry) for e in lazy):
            lazily.append(name)
            assert not any(isinstance(c, RawCertificate) for e in full for c in e.chain), name
    assert len(lazily) > 0.7 * len(files), (len(lazily), len(files))
    assert {"cryptography-scts.pem#0 as the leaf", "badssl-sct.pem#0 as the leaf",
            "letsencryptx3.pem#0 as the issuing CA", "custom/cp_cps_uri.pem#0 as the issuing CA"} <= set(lazily)


@pytest.mark.parametrize("seed", range(3))
def test_damaged_real_world_chain_files_read_the_same_either_way(tmp_path: Path, seed: int) -> None:
    """One base64 character changed anywhere in a key with a chain of public CAs' certificates (SCT lists, AIA,
    CRL distribution points, policies; _real_world_files): both readers give the same error, or the same rows and
    notes (a damaged extension makes the certificate one cryptography refuses in part, chained alike by both)."""
    import random

    wanted = ("cryptography-scts.pem#0 as the leaf", "badssl-sct.pem#0 as the leaf",
              "letsencryptx3.pem#0 as the issuing CA", "rapidssl_sha256_ca_g3.pem#0 as the issuing CA")
    forms = [data for name, data in _real_world_files() if name in wanted]
    if len(forms) < len(wanted):
        pytest.skip("cryptography_vectors is not installed")
    rng = random.Random(seed)
    for n in range(80):
        path = tmp_path / f"{n}.pem"
        path.write_bytes(_damaged(forms[n % len(forms)], rng))
        assert _outcome(path, False) == _outcome(path, True), n


def test_listing_a_key_with_a_public_ca_chain_imports_no_x509(tmp_path: Path) -> None:
    """`list` of an encrypted key with a chain whose leaf carries an SCT list, AIA, CRL distribution points and
    policies, and whose issuing CA is Let's Encrypt's (as _real_world_files makes them): table and --json as
    read.py's entries print them, and neither x509 nor serialization imported."""
    wanted = {"cryptography-scts.pem#0 as the leaf", "letsencryptx3.pem#0 as the issuing CA"}
    files = {name: data for name, data in _real_world_files() if name in wanted}
    if len(files) < len(wanted):
        pytest.skip("cryptography_vectors is not installed")
    from keystores.ops.describe import store_data

    for name, data in files.items():
        path = tmp_path / "chain.pem"
        path.write_bytes(data)
        printed, loaded = modules_listing(path)
        assert [line.split("\t")[1] for line in printed.splitlines()] == ["key-pair", "certificate", "certificate"]
        unused = UNUSED_BY_LIST | NOT_FOR_A_KEY_AND_ITS_CHAIN
        assert unused.isdisjoint(loaded), (name, unused & loaded)
        with open_store(path, password=PASSWORD, writable=True) as full:
            assert json.loads(modules_listing(path, "--json")[0]) == json.loads(json.dumps(
                store_data(full, list(full.entries())))), name


def test_pbe_compiles_no_annotation() -> None:
    """keystores.crypto.pbe's Scheme is a NamedTuple made from types, not a class body of annotation strings
    (typing would compile each: ~11 M instructions of an encrypted PEM key's listing): importing it compiles
    no annotation."""
    probe = ("import sys\nimport keystores.crypto.kdf, keystores.crypto.pbe_params, keystores.crypto.pbkdf2\n"
             "compiled = []\nsys.addaudithook(lambda event, args: compiled.append(args[0]) if event == 'compile' "
             "else None)\nimport keystores.crypto.pbe\nprint(compiled)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    import ast

    compiled = {source if isinstance(source, bytes) else source.encode() for source in
                ast.literal_eval(done.stdout)}  # (and the module itself, where no byte-compiled copy is written)
    assert not compiled & {b"str", b"tuple[str, ...]", b"int | None"}, compiled


def test_a_chain_of_ec_keys_is_listed_without_the_rsa_module(tmp_path: Path) -> None:
    """bench/bench_pem.py's server.pem: an EC key under an EC root, listed without cryptography's rsa module (and
    the `random` it imports): keystores.pki.certificates.is_rsa_public_key answers isinstance(key,
    rsa.RSAPublicKey) without it, which it does for every kind of key."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from keystores.pki.certificates import is_rsa_public_key

    root_key, leaf_key = ec_key(71), ec_key(72)
    root = certificate(root_key, "EC Root", ca=True)
    path = tmp_path / "server.pem"
    path.write_bytes(key_pem(leaf_key) + pem_of(certificate(leaf_key, "ec.example", root_key, root)) + pem_of(root))
    printed, loaded = modules_listing(path)
    assert [line.split("\t")[:2] for line in printed.splitlines()] == [["ec.example", "key-pair"],
                                                                     ["EC Root", "certificate"]]
    unused = UNUSED_BY_LIST | NOT_FOR_A_KEY_AND_ITS_CHAIN | {"cryptography.hazmat.primitives.asymmetric.rsa", "random"}
    assert unused.isdisjoint(loaded), unused & loaded
    keys = [rsa_key(3).public_key(), rsa_key(3), ec_key(3).public_key(), ed25519.Ed25519PrivateKey.generate(),
            "not a key", None]
    assert [is_rsa_public_key(key) for key in keys] == [isinstance(key, rsa.RSAPublicKey) for key in keys] == [
        True, False, False, False, False, False]


def test_sct_lists_are_read_only_where_cryptography_decodes_them() -> None:
    """keystores.pki.shown reads SCT lists (for the listing's check that cryptography decodes a chain fully): every
    byte of the SCT extension of the vector certificates that carry one changed in turn (lengths, version, hash and
    signature algorithms, the signature), and the vectors cryptography refuses in part (another SCT version,
    length, hash or algorithm): where shown answers, cryptography decodes the certificate fully."""
    from keystores.pki.certificates import decode_certificate
    from keystores.pki.encoded import EncodedCertificate
    from keystores.pki.shown import read_shown
    from keystores.pki.undecoded import RawCertificate

    carrying = {name: der for name, der in _real_world_certificates() if name.split("#")[0] in (
        "cryptography-scts.pem", "badssl-sct.pem", "badssl-sct-none-hash.der", "badssl-sct-anonymous-sig.der",
        "custom/invalid-sct-length.der", "custom/invalid-sct-version.der")}
    if len(carrying) < 6:
        pytest.skip("cryptography_vectors is not installed")
    answered = {name for name, der in carrying.items() if read_shown(der) is not None}
    assert answered == {"cryptography-scts.pem#0", "badssl-sct.pem#0"}
    still_read = declined = 0
    for name in sorted(answered):
        der = carrying[name]
        value = EncodedCertificate(der).extension("1.3.6.1.4.1.11129.2.4.2")[1]
        at = der.index(value)
        for offset in range(len(value)):
            for change in (1, 0x80):
                damaged = bytearray(der)
                damaged[at + offset] ^= change
                if read_shown(bytes(damaged)) is not None:
                    assert not isinstance(decode_certificate(bytes(damaged)), RawCertificate), (name, offset, change)
                    still_read += 1
                else:
                    declined += 1
    assert still_read > 100 and declined > 50, (still_read, declined)  # log IDs, times, signatures; the framing


@cache
def refused_files() -> dict[str, bytes]:
    """Files of each shape read lazily holding a certificate cryptography refuses whole (its version is "v4", as
    refused_issuer_chain's issuing CA): a bundle, a key with that certificate (its own), the certificate alone in
    PEM and in DER."""
    key = ec_key(66)
    leaf = _resigned(certificate(key, "refused leaf.example", *ca(0)), ca(0)[0],
                     lambda fields: [bytes.fromhex("a003020103"), *fields[1:]])
    parts = refused_issuer_chain()
    return {"bundle": parts["root"] + parts["issuing"] + pem_of(ca(1)[1]),
            "key with its certificate": key_pem(key) + _pem_block("CERTIFICATE", leaf),
            "certificate alone": _pem_block("CERTIFICATE", leaf), "der": leaf}


@pytest.mark.parametrize("shape", ["bundle", "key with its certificate", "certificate alone", "der"])
def test_a_certificate_cryptography_refuses_is_listed_as_not_fully_decoded(tmp_path: Path, shape: str) -> None:
    """`list` says "1 entry could not be fully decoded" of a file holding a certificate cryptography refuses,
    whichever reader reads it: the lazy reader, which printed no such line for a bundle, a key with one certificate
    or a certificate alone (it read their columns from the DER), leaves the file to read.py."""
    from keystores.ops.describe import entry_row

    path = tmp_path / ("refused.der" if shape == "der" else "refused.pem")
    path.write_bytes(refused_files()[shape])
    rows = {}
    for writable in (False, True):  # a writable store is read by read.py
        with open_store(path, password=PASSWORD, writable=writable) as store:
            rows[writable] = [entry_row(e) for e in store.entries()]
    assert rows[False] == rows[True]
    assert [row["label"] for row in rows[False] if row.get("problem")] != []
    listed = subprocess.run([sys.executable, "-m", "keystores", "list", str(path), "--password", "env:LAZY_PW"],
                            capture_output=True, text=True, env={**os.environ, "LAZY_PW": PASSWORD}, check=False)
    assert listed.returncode == 0, listed.stderr
    assert "1 entry could not be fully decoded" in listed.stderr


def test_listing_an_ec_key_with_its_certificate_loads_no_cryptography(tmp_path: Path) -> None:
    """bench_core's pair.pem and bench_pem's traditional.pem: an EC key with its certificate, as PKCS#8 (encrypted or
    not, PEM or DER-in-PEM as openssl and cryptography write it) or OpenSSL's traditional form (encrypted with AES
    or 3DES, or not), is listed without loading cryptography at all: decrypted by hashlib and the interpreter's
    libcrypto, the key's private value checked against its point by libcrypto (keystores.pki.pkcs8.pkcs8_of_ec_der,
    cryptography's check). The entries are read.py's (the same key, loaded when used)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key = ec_key(67)
    cert = pem_of(certificate(key, "pair.example"))
    plain = tmp_path / "plain.key"
    plain.write_bytes(key_pem(key, None))
    forms = {"pkcs8 encrypted": (key_pem(key), PASSWORD), "pkcs8": (key_pem(key, None), None)}
    for cipher in ("aes256", "des3", None):
        command = ["openssl", "ec", "-in", str(plain)] + ([f"-{cipher}", "-passout", f"pass:{PASSWORD}"] if cipher
                                                          else [])
        forms[f"traditional {cipher}"] = (subprocess.run(command, capture_output=True, check=True).stdout,
                                          PASSWORD if cipher else None)
    for form, (data, password) in forms.items():
        path = tmp_path / f"{form.replace(' ', '-')}.pem"
        path.write_bytes(data + cert)
        lazy, full, _ = read_both(path, password)
        assert_same(lazy, full)
        assert isinstance(lazy[0], LazyEntry) and same_key(lazy[0].key, key)
        printed, loaded = modules_listing(path)
        assert printed.split("\t")[:2] == ["pair.example", "key-pair"], form
        assert not [name for name in loaded if name.split(".")[0] == "cryptography"], form
        assert "keystores.pki.undecoded" not in loaded, form  # read.py's decoding path only
        assert "keystores.backends.pem.write" not in loaded, form  # a listing writes nothing


def test_listing_an_ec_key_alone_loads_no_cryptography(tmp_path: Path) -> None:
    """bench_pem's key.pem: an EC key alone (encrypted or plain PKCS#8, PEM or DER) is listed with read.py's note
    without loading cryptography; the key itself is loaded when `loose_keys` is first used, and is the key (here,
    where cryptography is loaded already, it is loaded at once; the loader's way is held to read.py by the probe
    below, which also loads it)."""
    key = ec_key(68)
    encrypted = key_pem(key)
    plain_der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
    for name, data in {"key.pem": encrypted, "plain.pem": key_pem(key, None), "key.der": plain_der}.items():
        path = tmp_path / name
        path.write_bytes(data)
        with open_store(path, password=PASSWORD) as lazy:
            notes = list(lazy.notes)
            assert same_key(lazy.loose_keys[0], key)
        with open_store(path, password=PASSWORD, writable=True) as full:
            assert notes == list(full.notes) and "(EC-P256)" in notes[0]
        printed, loaded = modules_listing(path)
        assert printed == ""
        assert not [module for module in loaded if module.split(".")[0] == "cryptography"], name
        probe = ("import sys\nfrom keystores.store import open_store\n"
                 "with open_store(sys.argv[1], password=sys.argv[2]) as store:\n"
                 "    assert store._loose_key_loaders and 'cryptography.hazmat.bindings._rust' not in sys.modules\n"
                 "    print(store.loose_keys[0].private_numbers().private_value)\n")
        done = subprocess.run([sys.executable, "-c", probe, str(path), PASSWORD], capture_output=True, text=True,
                              check=True)
        assert int(done.stdout) == key.private_numbers().private_value


def test_what_shown_reads_with_its_key_is_well_framed() -> None:
    """lazy_read skips _well_framed for a certificate keystores.pki.shown read with its key (it walked every
    constructed element in DER's shortest lengths): held over cryptography-vectors' certificates, the system
    bundle's and damaged copies of each."""
    import random

    from test_shown import _damaged

    from keystores.backends.pem.lazy_read import _well_framed
    from keystores.pki.shown import read_shown

    rng = random.Random(7)
    checked = 0
    for _, der in _real_world_certificates():
        for data in [der, *(_damaged(der, rng) for _ in range(8))]:
            shown = read_shown(data)
            if shown is not None and shown.key is not None:
                assert _well_framed(data, 0, len(data)), data.hex()
                checked += 1
    assert checked > 300


def test_pem_token_and_certificate_modules_import_no_typing_at_run_time() -> None:
    """The PEM and token backends and the certificate readers they use name typing's types in annotations only
    (the house convention: `TYPE_CHECKING = False` / `if TYPE_CHECKING:`), so that a command that loads nothing
    else of typing (its import costs about one `python -c pass`) does not load it for them; nor do they import
    pathlib, dataclasses or enum at their top (os.path does what they need)."""
    import ast

    root = Path(__file__).resolve().parents[1] / "keystores"
    modules = [*sorted((root / "backends" / "pem").glob("*.py")),
               *(path for path in sorted((root / "backends" / "pkcs11").glob("*.py")) if path.name != "admin.py"),
               *(root / "pki" / f"{name}.py" for name in ("shown", "encoded", "undecoded", "chain", "certificates"))]
    for path in modules:
        for node in ast.parse(path.read_text()).body:  # top-level statements: an `if TYPE_CHECKING:` body is not
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module]
            assert not {"typing", "pathlib", "dataclasses", "enum"} & set(names), path
