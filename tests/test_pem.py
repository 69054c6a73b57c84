"""PEM/DER backend: the shared contract, what openssl writes read whole, what we write judged by openssl, bad input."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from helpers import ca, certificate, ec_key, key_pair_entry, rsa_key, same_key, trusted_entry
from hypothesis import given, settings
from hypothesis import strategies as st

from keystores.backends.pem import PemStore
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    ExitCode,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.model import Entry, EntryKind, Trust
from keystores.store import open_store

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
PASSWORD = "s3cret pw"


def judged_by_openssl(location: str, password: str, label: str, chain: Sequence[x509.Certificate]) -> None:
    """`openssl x509` reads the leaf first in the file, and `openssl pkey` the key that goes with it (a PEM file has
    no labels openssl shows)."""
    if OPENSSL is None:
        pytest.skip("openssl is not installed")
    leaf = subprocess.run(["openssl", "x509", "-in", location, "-outform", "DER"], capture_output=True, check=False)
    assert leaf.returncode == 0, leaf.stderr
    assert x509.load_der_x509_certificate(leaf.stdout) == chain[0]
    public = subprocess.run(["openssl", "pkey", "-in", location, "-passin", "env:KS_JUDGE_PW", "-pubout", "-outform",
                             "DER"], capture_output=True, env={**os.environ, "KS_JUDGE_PW": password}, check=False)
    assert public.returncode == 0, public.stderr
    assert public.stdout == chain[0].public_key().public_bytes(serialization.Encoding.DER,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo)


# what tests/test_lifecycle.py asks of a PEM file we wrote (tests/helpers.py, NativeJudge)
NATIVE_JUDGES = {"pem": judged_by_openssl}
LEGACY_CIPHERS = {"aes256": "AES-256-CBC", "aes192": "AES-192-CBC", "aes128": "AES-128-CBC", "des3": "DES-EDE3-CBC"}


def openssl(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KS_PW=PASSWORD)
    return subprocess.run([OPENSSL or "openssl", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          check=check)


def summary(store) -> list[tuple[str, str, int, bool]]:
    return [(e.label, e.kind.value, len(e.chain), e.key is not None) for e in store.entries()]


# --- reading what openssl writes ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def openssl_made(tmp_path_factory) -> Path:
    """A CA, an EC leaf signed by it, a PKCS#12 of both and its `openssl pkcs12 -nodes` dump, a CSR + keys."""
    if OPENSSL is None:
        pytest.skip("openssl is not installed")
    folder = tmp_path_factory.mktemp("openssl")
    run = lambda *args: openssl(*args, cwd=folder)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-keyout", "ca.key", "-out", "ca.crt", "-nodes", "-subj",
        "/CN=Demo Root CA", "-days", "30")
    run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-keyout", "leaf.key", "-out", "leaf.csr",
        "-nodes", "-subj", "/CN=leaf.example")
    run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-out", "leaf.crt", "-days", "10")
    run("pkcs12", "-export", "-in", "leaf.crt", "-inkey", "leaf.key", "-certfile", "ca.crt", "-name", "my server",
        "-passout", "env:KS_PW", "-out", "x.p12")
    run("pkcs12", "-in", "x.p12", "-nodes", "-passin", "env:KS_PW", "-out", "nodes.pem")
    run("req", "-newkey", "rsa:2048", "-keyout", "req-enc.key", "-out", "req.csr", "-passout", "env:KS_PW", "-subj",
        "/CN=pending.example/O=Demo")
    for cipher in LEGACY_CIPHERS:
        run("pkey", "-in", "leaf.key", f"-{cipher}", "-traditional", "-passout", "env:KS_PW", "-out",
            f"legacy-{cipher}.key")
    run("ecparam", "-name", "prime256v1", "-genkey", "-out", "ecparam.key")
    return folder


@needs_openssl
def test_reads_openssl_pkcs12_nodes_dump_whole(openssl_made):
    store = open_store(openssl_made / "nodes.pem")
    # the CA after the key pair's leaf is an entry of its own too, untrusted (a chain trusts nothing)
    assert summary(store) == [("my server", "key-pair", 2, True), ("Demo Root CA", "certificate", 1, False)]
    entry = store.get("my server")
    leaf = x509.load_pem_x509_certificate((openssl_made / "leaf.crt").read_bytes())
    root = x509.load_pem_x509_certificate((openssl_made / "ca.crt").read_bytes())
    assert entry.chain == (leaf, root)
    key = serialization.load_pem_private_key((openssl_made / "leaf.key").read_bytes(), None)
    assert same_key(entry.key, key)
    assert store.notes == []


@needs_openssl
def test_reads_openssl_req_newkey_output(openssl_made, tmp_path):
    both = tmp_path / "both.pem"
    both.write_bytes((openssl_made / "req-enc.key").read_bytes() + (openssl_made / "req.csr").read_bytes())
    store = open_store(both, password=PASSWORD)
    assert summary(store) == [("pending.example", "request", 0, True)]
    entry = store.get("pending.example")
    assert entry.request.subject.rfc4514_string() == "O=Demo,CN=pending.example"
    assert same_key(entry.key, entry.request.public_key())
    assert "PBES2" in store.protection()["keys"].text
    with pytest.raises(PasswordRequired) as info:
        open_store(both)
    assert str(both) in str(info.value)
    with pytest.raises(WrongPassword) as info:
        open_store(both, password="not it")
    assert info.value.exit_code == ExitCode.WRONG_PASSWORD and "not it" not in str(info.value)


@needs_openssl
def test_csr_alone_and_key_alone(openssl_made):
    request = open_store(openssl_made / "req.csr")
    assert summary(request) == [("pending.example", "request", 0, False)]
    lone = open_store(openssl_made / "leaf.key")
    assert lone.labels() == [] and len(lone.loose_keys) == 1
    assert "matches no certificate" in lone.notes[0]


@needs_openssl
@pytest.mark.parametrize("cipher", sorted(LEGACY_CIPHERS))
def test_reads_legacy_encrypted_pem_key(openssl_made, tmp_path, cipher):
    legacy = (openssl_made / f"legacy-{cipher}.key").read_text()
    assert f"DEK-Info: {LEGACY_CIPHERS[cipher]}," in legacy
    bundle = tmp_path / "legacy.pem"
    bundle.write_bytes((openssl_made / "leaf.crt").read_bytes() + legacy.encode())
    store = open_store(bundle, password=PASSWORD)
    assert summary(store) == [("leaf.example", "key-pair", 1, True)]
    assert f"legacy PEM encryption {LEGACY_CIPHERS[cipher]}" in store.protection()["keys"].text
    with pytest.raises(WrongPassword):
        open_store(bundle, password="wrong")
    with pytest.raises(PasswordRequired):
        open_store(bundle)


@needs_openssl
def test_ec_parameters_block_is_skipped(openssl_made):
    assert "BEGIN EC PARAMETERS" in (openssl_made / "ecparam.key").read_text()
    store = open_store(openssl_made / "ecparam.key")
    assert len(store.loose_keys) == 1


@needs_openssl
def test_tolerates_crlf_comments_blank_lines_and_junk(openssl_made, tmp_path):
    text = (openssl_made / "nodes.pem").read_text()
    messy = ("# exported by hand, see ticket 42\r\n\r\n"
             + text.replace("-----END CERTIFICATE-----\n", "-----END CERTIFICATE-----\n\nsome junk here\n\n")
             .replace("\n", "\r\n") + "\r\ntrailing words\r\n")
    path = tmp_path / "messy.pem"
    path.write_bytes(messy.encode())
    assert summary(open_store(path)) == [("my server", "key-pair", 2, True), ("Demo Root CA", "certificate", 1, False)]


# Every character str.splitlines() breaks at, spaces str.strip() strips (Unicode ones too) and text around them
_LINE_PIECES = st.lists(st.sampled_from(["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85",
                                         "\u2028", "\u2029", " ", "\t", "\xa0", "\u3000", "a", "-----BEGIN X-----",
                                         "b c", "\u00e9"]), max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(_LINE_PIECES)
def test_small_texts_are_split_into_the_lines_the_scan_finds(text):
    """A small PEM text is split by str.splitlines() (no `re` at start-up), a large one scanned by a regular
    expression: both give the same numbered, stripped lines and blank-line marks."""
    from keystores.backends.pem.parse import _scanned_lines, _text_lines

    assert list(_text_lines(text)) == list(_scanned_lines(text))


def test_a_large_text_is_scanned_not_split(monkeypatch):
    from keystores.backends.pem import parse

    monkeypatch.setattr(parse, "_SPLIT_LIMIT", 4)
    assert list(parse._text_lines("a\n\n\n b \r\nc")) == [(1, "a", False), (4, "b", True), (5, "c", False)]
    monkeypatch.setattr(parse, "_scanned_lines", lambda text: iter([(9, "scanned", False)]))
    assert list(parse._text_lines("a\nb\nc")) == [(9, "scanned", False)]
    assert list(parse._text_lines("a\nb")) == [(1, "a", False), (2, "b", False)]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["AES-128-CBC", "DES-EDE3-CBC", ",", "0A", "ff", "g", "-", "\n", " ", "\u0660", "\xb2",
                                 "z", "9"]), max_size=8).map("".join))
def test_a_dek_info_header_is_judged_as_the_regular_expression_judges_it(value):
    import re

    from keystores.backends.pem.reading import _DEK_INFO, dek_info_sound

    assert dek_info_sound(value) == bool(re.match(_DEK_INFO, value))


@needs_openssl
def test_pkcs7_bundle_read(openssl_made, tmp_path):
    p7 = tmp_path / "bundle.p7b"
    openssl("crl2pkcs7", "-nocrl", "-certfile", str(openssl_made / "leaf.crt"), "-certfile",
            str(openssl_made / "ca.crt"), "-out", str(p7))
    store = open_store(p7, type="pem")
    assert sorted(store.labels()) == ["Demo Root CA", "leaf.example"]


# --- labels ---------------------------------------------------------------------------------------------------
def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def test_labels_from_cn_deduplicated_and_friendly_name_wins(tmp_path):
    _, root = ca(0)
    twin = certificate(rsa_key(7), "Test Root CA 0")  # same CN, another key
    path = tmp_path / "bundle.pem"
    path.write_bytes(_pem(root) + _pem(twin) + b"Bag Attributes\n    friendlyName: chosen name\n" + _pem(ca(1)[1]))
    assert open_store(path).labels() == ["Test Root CA 0", "Test Root CA 0 (2)", "chosen name"]


def test_ca_bundle_written_as_pure_pem(tmp_path):
    path = tmp_path / "cas.pem"
    with open_store(path, create=True) as store:
        store.add(trusted_entry("Test Root CA 0", index=0))
        store.add(trusted_entry("Test Root CA 1", index=1))
    text = path.read_text()
    assert "Bag Attributes" not in text and text.count("-----BEGIN CERTIFICATE-----") == 2
    assert stat.S_IMODE(path.stat().st_mode) & 0o044  # no key: an ordinary readable file
    store = open_store(path)
    assert all(e.kind is EntryKind.TRUSTED_CERT and e.trust is not None for e in store.entries())


def test_duplicate_certificates_in_bundle_are_noted(tmp_path):
    _, root = ca(0)
    path = tmp_path / "dup.pem"
    path.write_bytes(_pem(root) * 2)
    store = open_store(path)
    assert store.labels() == ["Test Root CA 0"]
    assert "1 duplicate" in store.notes[0]


def test_untrusted_certificate_written_with_note(tmp_path):
    path = tmp_path / "t.pem"
    entry = trusted_entry("signer").with_(trust=None)
    partial = trusted_entry("email only", index=1).with_(trust=Trust(False, False, True, False))
    with open_store(path, create=True) as store:
        store.add(entry)
        store.add(partial)
    assert any("'signer' is not trusted" in note for note in store.notes)
    assert any("'email only' is trusted only for email" in note for note in store.notes)
    assert open_store(path).labels() == ["signer", "email only"]


def test_a_certificate_trusted_for_no_purpose_is_noted_as_not_trusted(tmp_path):
    """NSS's "P,," (a valid peer, no CA trust) read as a Trust with no purposes once gave "trusted only for ,"."""
    with open_store(tmp_path / "p.pem", create=True) as store:
        store.add(trusted_entry("peer").with_(trust=Trust(False, False, False, False)))
    assert [note for note in store.notes if "'peer'" in note] == [
        f"{tmp_path / 'p.pem'}: 'peer' is not trusted in its source, but PEM has no trust flags: a certificate in a "
        "PEM file is trusted by whoever uses the file as a bundle"]


def test_loose_key_kept_on_rewrite(tmp_path):
    path = tmp_path / "k.pem"
    path.write_bytes(ec_key(5).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    with open_store(path, writable=True) as store:
        store.add(trusted_entry("root"))
    again = open_store(path)
    assert again.labels() == ["root"] and same_key(again.loose_keys[0], ec_key(5))


def test_key_and_matching_certificate_added_later_become_a_key_pair(tmp_path):
    """A key file that later receives its certificate reads back as one key pair (PEM has no entries)."""
    entry = key_pair_entry("web", index=3)
    path = tmp_path / "k.pem"
    path.write_bytes(entry.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    with open_store(path, writable=True) as store:
        store.add(Entry("web", EntryKind.TRUSTED_CERT, chain=entry.chain[:1], trust=Trust()))
    assert summary(open_store(path)) == [("web", "key-pair", 1, True)]


def test_request_entry_round_trip(tmp_path):
    from cryptography.hazmat.primitives import hashes

    key = ec_key(6)
    csr = (x509.CertificateSigningRequestBuilder().subject_name(certificate(key, "req.example").subject)
           .sign(key, hashes.SHA256()))
    path = tmp_path / "r.pem"
    with open_store(path, create=True, password=PASSWORD) as store:
        store.add(Entry("pending", EntryKind.REQUEST, key=key, request=csr))
    got = open_store(path, password=PASSWORD).get("pending")
    assert got.kind is EntryKind.REQUEST and got.request == csr and same_key(got.key, key)


def test_secret_and_token_keys_refused(tmp_path):
    from keystores.model import KeyRef

    with open_store(tmp_path / "s.pem", create=True) as store:
        ref = KeyRef("hsm", b"\x01", rsa_key(1).public_key(), extractable=True)
        with pytest.raises(CapabilityError):
            store.add(key_pair_entry("hsm", index=1).with_(key=ref))
        store.add(trusted_entry("root"))


# --- what we write, judged by openssl -------------------------------------------------------------------------
@needs_openssl
def test_openssl_reads_what_we_write(tmp_path):
    store_path = tmp_path / "server.pem"
    bundle_path = tmp_path / "cas.pem"
    with open_store(store_path, create=True, password=PASSWORD) as store:
        store.add(key_pair_entry("server one", index=1))
        store.add(key_pair_entry("server two", index=2, use_ec=True))
        store.add(trusted_entry("root", index=1))
    with open_store(bundle_path, create=True) as bundle:
        bundle.add(trusted_entry("Test Root CA 0"))
    assert stat.S_IMODE(store_path.stat().st_mode) == 0o600
    subject = openssl("x509", "-in", str(store_path), "-noout", "-subject").stdout
    assert "server one server" in subject
    key_text = openssl("pkey", "-in", str(store_path), "-passin", "env:KS_PW", "-noout", "-text").stdout
    assert "Private-Key: (2048 bit" in key_text
    # storeutl exits 2 on any PEM that holds a key besides the certificates (it does so on its own pkcs12 dumps)
    listing = openssl("storeutl", "-noout", "-certs", "-passin", "env:KS_PW", str(store_path), check=False).stdout
    assert "Total found: 4" in listing  # 2 leaves + their CA once (in the first chain) + the trusted root 1
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(_pem(open_store(store_path, password=PASSWORD).get("server one").chain[0]))
    verified = openssl("verify", "-CAfile", str(bundle_path), str(leaf))
    assert verified.stdout.strip().endswith("OK")
    wrong = openssl("pkey", "-in", str(store_path), "-passin", "pass:nope", "-noout", check=False)
    assert wrong.returncode != 0


@needs_openssl
def test_written_key_encryption_is_pbes2_aes256(tmp_path):
    path = tmp_path / "k.pem"
    with open_store(path, create=True, password=PASSWORD) as store:
        store.add(key_pair_entry("k", index=1))
    assert "BEGIN ENCRYPTED PRIVATE KEY" in path.read_text()
    structure = subprocess.run(["sh", "-c", f"sed -n '/BEGIN ENCRYPTED/,/END ENCRYPTED/p' '{path}' | "
                                f"{OPENSSL} asn1parse"], capture_output=True, text=True).stdout
    assert "PBES2" in structure and "hmacWithSHA256" in structure and "aes-256-cbc" in structure
    keys = open_store(path, password=PASSWORD).protection()["keys"].text
    assert keys.startswith("PBES2 PBKDF2-HMAC-SHA-256 AES-256-CBC")


def test_clear_key_makes_existing_file_private(tmp_path):
    path = tmp_path / "shared.pem"
    with open_store(path, create=True) as store:
        store.add(trusted_entry("root"))
    os.chmod(path, 0o644)
    with open_store(path, writable=True) as store:
        store.add(key_pair_entry("srv", index=1))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "BEGIN PRIVATE KEY" in path.read_text()


# --- DER ------------------------------------------------------------------------------------------------------
def test_der_single_certificate_round_trip(tmp_path):
    path = tmp_path / "root.der"
    with open_store(path, create=True) as store:
        store.add(trusted_entry("root"))
        with pytest.raises(CapabilityError) as info:
            store.add(trusted_entry("other", index=1))
        assert "'root'" in str(info.value)
    data = path.read_bytes()
    assert data == ca(0)[1].public_bytes(serialization.Encoding.DER)
    assert open_store(path).format == "der"
    assert summary(open_store(path)) == [("Test Root CA 0", "trusted-cert", 1, False)]


def test_der_key_pair_with_chain_refused_leaf_only_writes_certificate(tmp_path):
    path = tmp_path / "srv.der"
    with open_store(path, create=True) as store, pytest.raises(CapabilityError) as info:
        store.add(key_pair_entry("srv", index=1))
    assert "2 certificates" in str(info.value) and not path.exists()
    leaf_only = key_pair_entry("srv", index=1)
    leaf_only = leaf_only.with_(chain=leaf_only.chain[:1])
    with open_store(path, create=True) as store:
        store.add(leaf_only)
    assert any("private key is not in the DER file" in note for note in store.notes)
    assert path.read_bytes() == leaf_only.chain[0].public_bytes(serialization.Encoding.DER)
    assert stat.S_IMODE(path.stat().st_mode) & 0o044  # no key written


@needs_openssl
def test_der_key_option_writes_encrypted_pkcs8(tmp_path):
    entry = key_pair_entry("srv", index=1)
    path = tmp_path / "srv-key.der"
    with open_store(path, create=True, password=PASSWORD, der_key=True) as store:
        store.add(entry.with_(chain=entry.chain[:1]))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = openssl("pkey", "-inform", "DER", "-in", str(path), "-passin", "env:KS_PW", "-pubout").stdout
    assert out.startswith("-----BEGIN PUBLIC KEY-----")
    again = open_store(path, password=PASSWORD, type="der")
    assert same_key(again.loose_keys[0], entry.key)


@needs_openssl
def test_der_reads_openssl_key_csr_and_cert(openssl_made, tmp_path):
    for args, name, expected in (
        (["x509", "-in", "leaf.crt", "-outform", "DER"], "c.der", [("leaf.example", "trusted-cert", 1, False)]),
        (["req", "-in", "leaf.csr", "-outform", "DER"], "r.der", [("leaf.example", "request", 0, False)]),
        (["pkey", "-in", "leaf.key", "-outform", "DER"], "k.der", []),
        (["ec", "-in", "leaf.key", "-outform", "DER"], "sec1.der", []),
        (["rsa", "-in", "ca.key", "-outform", "DER", "-traditional"], "pkcs1.der", []),
    ):
        out = tmp_path / name
        openssl(*args, "-out", str(out), cwd=openssl_made)
        store = open_store(out)
        assert store.format == "der" and summary(store) == expected, name
        if not expected:
            assert len(store.loose_keys) == 1


# --- bad input ------------------------------------------------------------------------------------------------
def _cert_pem_lines() -> list[str]:
    return _pem(ca(0)[1]).decode().splitlines(keepends=True)


BAD_PEM = {
    "truncated base64": lambda lines: "".join(lines[:5]) + "AAA\n" + lines[-1],
    "bad base64": lambda lines: "".join(lines[:3]) + "!!!!" + "".join(lines[4:]),
    "truncated: the CERTIFICATE block": lambda lines: "".join(lines[:-3]),
    "ends with END": lambda lines: "".join(lines[:-1]) + "-----END PRIVATE KEY-----\n",
    "not a valid certificate": lambda lines: lines[0] + "MAMCAQE=\n" + lines[-1],
}


@pytest.mark.parametrize("damage", sorted(BAD_PEM))
def test_damaged_pem_named_clearly(tmp_path, damage):
    path = tmp_path / "bad.pem"
    path.write_text(BAD_PEM[damage](_cert_pem_lines()))
    before = path.read_bytes()
    with pytest.raises(CorruptStore) as info:
        open_store(path)
    assert str(path) in str(info.value)
    assert info.value.exit_code == ExitCode.FAILURE
    assert path.read_bytes() == before


def test_wrong_label_and_foreign_blocks(tmp_path):
    key_pem = rsa_key(1).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()).decode()
    cases = {
        "key in a CERTIFICATE block": (key_pem.replace("PRIVATE KEY", "CERTIFICATE"), CorruptStore),
        "certificate in a key block": (_pem(ca(0)[1]).decode().replace("CERTIFICATE", "PRIVATE KEY"), CorruptStore),
        "public key": (rsa_key(1).public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
                       UnsupportedFormat),
        "no block at all": ("just some text\n", UnsupportedFormat),
    }
    for what, (text, error) in cases.items():
        path = tmp_path / "x.pem"
        path.write_text(text)
        with pytest.raises(error) as info:
            PemStore.open(str(path))
        assert str(path) in str(info.value), what


@needs_openssl
def test_damaged_legacy_header_is_corrupt_not_a_crash(openssl_made, tmp_path):
    legacy = (openssl_made / "legacy-aes256.key").read_text()
    iv = legacy.split("DEK-Info: AES-256-CBC,")[1].split("\n")[0]
    path = tmp_path / "short-iv.pem"
    path.write_text(legacy.replace(iv, iv[:16]))  # an 8-byte IV made cryptography's own loader panic
    with pytest.raises(CorruptStore):
        open_store(path, password=PASSWORD)
    path.write_text(legacy.replace("AES-256-CBC", "CAMELLIA-256-CBC"))
    with pytest.raises(UnsupportedFormat):
        open_store(path, password=PASSWORD)


def test_garbage_der_is_refused(tmp_path):
    path = tmp_path / "junk.der"
    path.write_bytes(b"\x30\x82\x01\x00" + os.urandom(64))
    with pytest.raises(KeystoreError) as info:
        open_store(path)
    assert str(path) in str(info.value) and info.value.exit_code == ExitCode.FAILURE


def test_damaged_encrypted_key_is_not_a_traceback(tmp_path):
    entry = key_pair_entry("k", index=1)
    path = tmp_path / "k.pem"
    with open_store(path, create=True, password=PASSWORD) as store:
        store.add(entry)
    text = path.read_text()
    start = text.index("-----BEGIN ENCRYPTED PRIVATE KEY-----") + 40
    damaged = text[:start] + ("B" if text[start] != "B" else "C") + text[start + 1:]
    path.write_text(damaged)
    with pytest.raises(KeystoreError) as info:
        open_store(path, password=PASSWORD)
    assert str(path) in str(info.value) and PASSWORD not in str(info.value)


# --- real-world bundle and the command line -------------------------------------------------------------------
SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.mark.skipif(not SYSTEM_BUNDLE.exists(), reason="no system CA bundle")
@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # roots with serial <= 0
def test_system_ca_bundle_read_whole_and_rewritten_as_pure_pem(tmp_path):
    expected = x509.load_pem_x509_certificates(SYSTEM_BUNDLE.read_bytes())
    store = open_store(SYSTEM_BUNDLE)
    assert [e.chain[0] for e in store.entries()] == expected
    assert all(e.kind is EntryKind.TRUSTED_CERT for e in store.entries())
    copy = tmp_path / "copy.pem"
    with open_store(copy, create=True) as target:
        for entry in store.entries():
            target.add(entry)
    assert "Bag Attributes" not in copy.read_text()  # labels are the CAs' names: nothing to add
    assert x509.load_pem_x509_certificates(copy.read_bytes()) == expected
    assert open_store(copy).labels() == store.labels()


def test_cli_create_import_list_and_errors(tmp_path):
    from clirun import keystores

    source = tmp_path / "src.pem"
    with open_store(source, create=True, password=PASSWORD) as store:
        store.add(key_pair_entry("web", index=1))
    env = {"KS_PW": PASSWORD}
    bundle = tmp_path / "bundle.pem"
    assert keystores("create", str(bundle)).code == 0
    assert bundle.read_bytes() == b""
    done = keystores("import", str(source), str(bundle), "--password", "env:KS_PW", "--dest-password", "env:KS_PW",
                     env=env)
    assert done.code == 0, done.all
    listed = keystores("list", str(bundle), "--json", "--password", "env:KS_PW", env=env)
    assert listed.code == 0, listed.all
    import json

    entries = json.loads(listed.out)["entries"]
    assert [(e["label"], e["kind"], e["key_type"]) for e in entries] == [("web", "key-pair", "RSA-2048"),
                                                                         ("Test Root CA 0", "certificate", "RSA-2048")]
    wrong = keystores("list", str(bundle), "--password", "env:WRONG", env={"WRONG": "nope"})
    assert wrong.code == ExitCode.WRONG_PASSWORD and "Traceback" not in wrong.all and "nope" not in wrong.all
    damaged = tmp_path / "damaged.pem"
    damaged.write_bytes(bundle.read_bytes()[:-200])
    broken = keystores("list", str(damaged), "--password", "env:KS_PW", env=env)
    assert broken.code == ExitCode.FAILURE and str(damaged) in broken.err and "Traceback" not in broken.all


def test_content_decides_between_pem_and_der(tmp_path):
    der = tmp_path / "actually-der.pem"
    der.write_bytes(ca(0)[1].public_bytes(serialization.Encoding.DER))
    store = open_store(der, type="pem")
    assert store.format == "der" and store.labels() == ["Test Root CA 0"]
    pem = tmp_path / "actually-pem.der"
    pem.write_bytes(_pem(ca(0)[1]) + _pem(ca(1)[1]))
    store = open_store(pem, type="der")
    assert store.format == "pem" and len(store.labels()) == 2


PKCS8_SCHEMES = {
    "pbes2-aes128-sha512": (["-v2", "aes128", "-v2prf", "hmacWithSHA512"], "PBES2 PBKDF2-HMAC-SHA-512 AES-128-CBC"),
    "pbes2-3des": (["-v2", "des3"], "3DES-CBC"),
    "pkcs12-3des": (["-v1", "PBE-SHA1-3DES"], "PKCS#12 PBE SHA-1 3DES"),
    "pkcs12-rc2-40": (["-v1", "PBE-SHA1-RC2-40", "-provider", "legacy", "-provider", "default"], "RC2-40"),
    "pbes1-md5-des": (["-v1", "PBE-MD5-DES", "-provider", "legacy", "-provider", "default"], "PBES1 MD5 DES"),
    "scrypt": (["-scrypt"], "PBES2 scrypt"),
}


@needs_openssl
@pytest.mark.parametrize("scheme", sorted(PKCS8_SCHEMES))
def test_reads_every_pkcs8_encryption_openssl_writes(openssl_made, tmp_path, scheme):
    args, described = PKCS8_SCHEMES[scheme]
    key = tmp_path / "p8.key"
    made = openssl("pkcs8", "-topk8", "-in", str(openssl_made / "leaf.key"), *args, "-passout", "env:KS_PW",
                   "-out", str(key), check=False)
    if made.returncode != 0:
        pytest.skip(f"this openssl cannot write {scheme} (legacy provider missing?)")
    bundle = tmp_path / "b.pem"
    bundle.write_bytes((openssl_made / "leaf.crt").read_bytes() + key.read_bytes())
    store = open_store(bundle, password=PASSWORD)
    assert summary(store) == [("leaf.example", "key-pair", 1, True)]
    assert described in store.protection()["keys"].text
    if scheme != "scrypt":  # described from the DER where it is a common scheme: in asn1crypto's words
        from asn1crypto import keys

        from keystores.backends.pem.parse import split_pem
        from keystores.crypto import pbe
        from keystores.model import ProtectionPart

        epki = keys.EncryptedPrivateKeyInfo.load(split_pem(key.read_bytes(), str(key))[0].der)
        as_asn1crypto_reads_it = ProtectionPart(*pbe.scheme(epki["encryption_algorithm"]))
        assert store.protection()["keys"].text == ProtectionPart.joined({as_asn1crypto_reads_it}).text
    with pytest.raises(WrongPassword):
        open_store(bundle, password="wrong")


def test_non_ascii_labels_round_trip_and_a_trusted_chain_is_written(tmp_path):
    """A certificate entry holding a chain is written with its chain after it (`export --chain` of a key pair
    without its key makes one), each certificate once: here the chain's root is the key pair's already."""
    path = tmp_path / "u.pem"
    pair = key_pair_entry("Zoë's server — ünïcode", index=1)
    with open_store(path, create=True) as store:
        store.add(pair)
        store.add(Entry("root with chain", EntryKind.TRUSTED_CERT, chain=(ca(1)[1], ca(0)[1]), trust=Trust()))
    assert not any("chain" in note for note in store.notes)
    assert open_store(path).labels() == ["Zoë's server — ünïcode", "Test Root CA 0", "root with chain"]
    other = tmp_path / "other.pem"
    with open_store(other, create=True) as store:
        store.add(Entry("root with chain", EntryKind.TRUSTED_CERT, chain=(ca(1)[1], ca(0)[1]), trust=Trust()))
    assert x509.load_pem_x509_certificates(other.read_bytes()) == [ca(1)[1], ca(0)[1]]
    assert open_store(other).labels() == ["root with chain", "Test Root CA 0"]


@needs_openssl
def test_openssl_trusted_certificate_alias_and_trust_settings(openssl_made, tmp_path):
    ca_file = str(openssl_made / "ca.crt")
    cases = {
        "server+client": (["-addtrust", "serverAuth", "-addtrust", "clientAuth", "-setalias", "my alias"],
                          "my alias", ["tls_server", "tls_client"]),
        "alias only": (["-setalias", "only alias"], "only alias", ["tls_server", "tls_client", "email",
                                                                   "code_signing"]),
        "no email": (["-addreject", "emailProtection"], "Demo Root CA", ["tls_server", "tls_client",
                                                                         "code_signing"]),
        "rejected": (["-addreject", "anyExtendedKeyUsage"], "Demo Root CA", None),
    }
    for what, (args, label, purposes) in cases.items():
        path = tmp_path / "trusted.pem"
        openssl("x509", "-in", ca_file, *args, "-trustout", "-out", str(path))
        assert "BEGIN TRUSTED CERTIFICATE" in path.read_text()
        entry = open_store(path).get(label)
        assert entry.kind is (EntryKind.TRUSTED_CERT if purposes else EntryKind.CERTIFICATE), what
        assert (entry.trust.purposes if entry.trust else None) == purposes, what
        with open_store(tmp_path / f"{what}.pem", create=True) as copy:  # written back as plain PEM, with a note
            copy.add(entry)
        if purposes is None or len(purposes) < 4:
            assert copy.notes, what


def test_passwd_reencrypts_keys(tmp_path):
    path = tmp_path / "k.pem"
    with open_store(path, create=True) as store:
        store.add(key_pair_entry("k", index=1))
    assert "BEGIN PRIVATE KEY" in path.read_text()
    with open_store(path, writable=True) as store:
        store.set_password(PASSWORD)
    assert "BEGIN ENCRYPTED PRIVATE KEY" in path.read_text()
    assert summary(open_store(path, password=PASSWORD)) == [("k", "key-pair", 2, True),
                                                            ("Test Root CA 0", "certificate", 1, False)]
    with pytest.raises(PasswordRequired):
        open_store(path)


def test_byte_order_marks_from_windows_editors(tmp_path):
    text = _pem(ca(0)[1]).decode().replace("\n", "\r\n")
    notepad = tmp_path / "notepad.pem"
    notepad.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert open_store(notepad).labels() == ["Test Root CA 0"]
    powershell = tmp_path / "powershell.pem"
    powershell.write_bytes(text.encode("utf-16"))  # `Out-File` / `>` in Windows PowerShell 5
    assert open_store(powershell, type="pem").labels() == ["Test Root CA 0"]


def test_pem_framing_reads_as_the_regular_expressions_did() -> None:
    """parse.py reads BEGIN/END lines and base64 bodies with string tests instead of regular expressions (compiling
    them cost more than reading a small file): the same labels, and the same verdict and bytes for every body, on
    seeded random lines and bodies near the edges (dashes, padding, other characters, lengths)."""
    import base64
    import binascii
    import random
    import re

    from keystores.backends.pem.parse import _armour_label, _decode_base64
    from keystores.errors import CorruptStore

    begin, end = re.compile(r"^-----BEGIN ([^-]*)-----\s*$"), re.compile(r"^-----END ([^-]*)-----\s*$")
    old_base64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")

    def old_decode(joined: str) -> str | bytes:
        if not old_base64.match(joined):
            return "bad"
        if len(joined) % 4:
            return "truncated"
        try:
            return base64.b64decode(joined, validate=True)
        except (binascii.Error, ValueError):
            return "bad"

    def new_decode(joined: str) -> str | bytes:
        try:
            return _decode_base64([joined], "X", 1, "f")
        except CorruptStore as exc:
            return "truncated" if "truncated" in exc.reason else "bad"

    rng = random.Random(11)
    pieces = ["-----", "BEGIN ", "END ", "CERTIFICATE", "-", " ", "X", "", "BEGIN", "\t", "é"]
    for _ in range(20000):
        line = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 7))).strip()
        for kind, pattern in (("BEGIN ", begin), ("END ", end)):
            found = pattern.match(line)
            assert _armour_label(line, kind) == (found.group(1) if found else None), (line, kind)
    alphabet = "AB+/=z9 -é\u00a0"
    for _ in range(20000):
        joined = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 13)))
        assert new_decode(joined) == old_decode(joined), joined
    for data in (rng.randbytes(n) for n in range(1, 40)):
        joined = base64.b64encode(data).decode()
        assert new_decode(joined) == data
