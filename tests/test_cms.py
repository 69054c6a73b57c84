"""The cms backend on its own: real IBM-made vectors, the backend contract, GSKit-style rewrites, companions,
stash, requests, damage told apart from a wrong password, and the CLI commands.

GSKit itself judges our output in test_cms_gskit.py; the parsers are fuzzed in test_cms_fuzz.py.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
import struct
from pathlib import Path

import pytest
from clirun import keystores
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from helpers import ca, certificate, key_pair_entry, name, rsa_key, same_key, trusted_entry
from hypothesis import given, settings
from hypothesis import strategies as st

from keystores.backends.cms import container as fmt
from keystores.backends.cms import stash as cms_stash
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.model import TRUST_ALL, Entry, EntryKind, SecretKey
from keystores.store import open_store

PASSWORD = "kdb-pass1"

# --- the real vectors (../shared/vectors/cms; passwords from its README) ------------------------------------------
VECTORS = {
    # path: (password, version, {label: kind}, key encryption named by protection())
    "kse/CryptoFileUtilTest/keystore.kdb": ("password", 6, {}, None),
    "kse/KdbKeyStoreSpiTest/mixed.kdb": ("password", 6, {
        "rsa-keypair": "key-pair", "ec-keypair": "key-pair", "trusted-root-ca": "trusted-cert",
        "trusted-intermediate-ca": "trusted-cert"}, "PBES2 PBKDF2-HMAC-SHA-384 AES-256-CBC, 5 iterations"),
    "kse/KdbKeyStoreSpiTest/chained.kdb": ("password", 6, {
        "root-ca": "trusted-cert", "intermediate-ca": "trusted-cert", "server-cert": "key-pair"},
        "PBES2 PBKDF2-HMAC-SHA-384 AES-256-CBC, 5 iterations"),
    "lchudinov_tls-examples/key.kdb": ("password", 3, None, "PBES1 MD5 DES, 5 iterations"),
    "robert0714_vagrant_ihs_liberty_sticky-session/ssl/ihsserverkey.kdb": (
        "1qaz2wsx", 4, {"localhost": "key-pair"}, "PKCS#12 PBE SHA-1 3DES, 10 iterations"),
    "robert0714_vagrant_ihs_liberty_sticky-session/docker-compose-ihs/plugin-key.kdb": (
        "1qaz2wsx", 4, {"default": "key-pair"}, "PKCS#12 PBE SHA-1 3DES, 10 iterations"),
    "desamsett_bank/key.kdb": ("123", 3, {}, None),
    "alexandrezanetti_claro/key.kdb": ("senha", 4, {"AD Root CA": "trusted-cert"}, None),
    "alexandrezanetti_claro/old/key.kdb": ("senha", 4, {"AD Root CA": "trusted-cert"}, None),
}


@pytest.fixture(scope="session")
def cms_vectors(shared_vectors) -> Path:
    folder = shared_vectors / "cms"
    if not folder.is_dir():
        pytest.skip("../shared/vectors/cms is absent")
    return folder


def test_every_vector_file_is_covered(cms_vectors):
    kdbs = {str(p.relative_to(cms_vectors)) for p in cms_vectors.rglob("*.kdb")}
    assert kdbs == set(VECTORS)


@pytest.mark.parametrize("relative", sorted(VECTORS))
def test_vector_reads_whole(cms_vectors, relative):
    password, version, expected, key_scheme = VECTORS[relative]
    with open_store(cms_vectors / relative, password=password) as store:
        assert store.format == "cms"
        assert store.version == version
        entries = list(store.entries())
        kinds = {e.label: e.kind.value for e in entries}
        if expected is not None:
            assert kinds == expected
        for entry in entries:
            if entry.kind is EntryKind.KEY_PAIR:
                assert same_key(entry.key, entry.chain[0].public_key())
            if entry.kind is EntryKind.TRUSTED_CERT:
                assert entry.trust is TRUST_ALL  # every native sample has the trusted bit on
        protection = store.protection().as_text()
        assert protection["mac"].startswith({3: "MD5", 4: "HMAC-SHA1", 6: "HMAC-SHA384"}[version])
        if key_scheme:
            assert protection["keys"] == key_scheme


def test_zos_vector_has_seventeen_signers_and_two_personal_certs(cms_vectors):
    with open_store(cms_vectors / "lchudinov_tls-examples/key.kdb", password="password") as store:
        kinds = [e.kind for e in store.entries()]
    assert kinds.count(EntryKind.TRUSTED_CERT) == 17
    assert kinds.count(EntryKind.KEY_PAIR) == 2


def test_chained_vector_links_leaf_intermediate_root(cms_vectors):
    with open_store(cms_vectors / "kse/KdbKeyStoreSpiTest/chained.kdb", password="password") as store:
        chain = store.get("server-cert").chain
        assert [c.subject for c in chain[1:]] == [store.get("intermediate-ca").chain[0].subject,
                                                  store.get("root-ca").chain[0].subject]


@pytest.mark.parametrize("relative", sorted(VECTORS))
def test_vector_stash_is_used_and_said(cms_vectors, relative):
    password = VECTORS[relative][0]
    stash = (cms_vectors / relative).with_suffix(".sth")
    assert cms_stash.decode(stash.read_bytes()) == password
    with open_store(cms_vectors / relative) as store:
        assert any("stash" in note for note in store.notes)
        assert len(store.labels()) == len(VECTORS[relative][2] or store.labels())


@pytest.mark.parametrize("relative", sorted(VECTORS))
def test_vector_wrong_password(cms_vectors, relative):
    with pytest.raises(WrongPassword):
        open_store(cms_vectors / relative, password="not-the-password")


def test_vector_companions_are_checked(cms_vectors):
    for rdb in cms_vectors.rglob("*.rdb"):
        relative = str(rdb.with_suffix(".kdb").relative_to(cms_vectors))
        container = fmt.parse_container(rdb.read_bytes(), VECTORS[relative][0], store=str(rdb))
        assert container.tag == fmt.TAG_RDB and container.slots == []
    for crl in cms_vectors.rglob("*.crl"):
        relative = str(crl.with_suffix(".kdb").relative_to(cms_vectors))
        assert fmt.parse_container(crl.read_bytes(), VECTORS[relative][0], store=str(crl)).tag == fmt.TAG_CRL


@pytest.mark.parametrize("relative", sorted(VECTORS))
def test_vector_codec_round_trips_byte_for_byte(cms_vectors, relative):
    data = (cms_vectors / relative).read_bytes()
    password = VECTORS[relative][0]
    container = fmt.parse_container(data, password, store=relative)
    assert fmt.build_container(container, password) == data
    for raw in container.slots:
        slot = fmt.parse_slot(raw, store=relative)
        record = fmt.parse_record(slot.der, store=relative)
        assert fmt.build_record(record) == slot.der
        assert fmt.pad_slot(fmt.slot_body(slot), container.slot_size) == raw
        # The five hashes we would write are the ones IBM's tools wrote.
        assert fmt.certificate_hashes(record.parts(store=relative)[0]) == slot.hashes


@pytest.mark.parametrize("relative", ["lchudinov_tls-examples/key.kdb", "kse/KdbKeyStoreSpiTest/mixed.kdb",
                                      "robert0714_vagrant_ihs_liberty_sticky-session/ssl/ihsserverkey.kdb"])
def test_rewrite_keeps_untouched_records_byte_for_byte(cms_vectors, tmp_path, relative):
    password = VECTORS[relative][0]
    path = tmp_path / "copy.kdb"
    shutil.copy(cms_vectors / relative, path)
    before = fmt.parse_container(path.read_bytes(), password, store=None)
    with open_store(path, password=password, writable=True) as store:
        first = store.labels()[0]
        store.rename(first, "renamed by us")
    after = fmt.parse_container(path.read_bytes(), password, store=None)
    assert after.slots[:-1] == before.slots[1:]  # the others, untouched, in their order
    old = fmt.parse_slot(before.slots[0], store=None)
    new = fmt.parse_slot(after.slots[-1], store=None)
    ids = [fmt.parse_slot(s, store=None).record_id for s in before.slots]
    assert new.record_id == max(ids) + 1  # GSKit: a changed record is appended with the next id
    assert fmt.parse_record(new.der, store=None).record_id == new.record_id
    assert new.label == b"renamed by us"
    assert new.hashes == old.hashes
    if relative.startswith("lchudinov"):
        assert new.trailer == new.record_id  # z/OS files number the trailer word; we follow the file's habit
    else:
        assert new.trailer == 0
    with open_store(path, password=password) as store:
        assert "renamed by us" in store.labels() and first not in store.labels()


def test_nothing_changed_means_nothing_written(cms_vectors, tmp_path):
    path = tmp_path / "same.kdb"
    shutil.copy(cms_vectors / "kse/KdbKeyStoreSpiTest/mixed.kdb", path)
    data = path.read_bytes()
    with open_store(path, password="password", writable=True) as store:
        store._dirty = True  # force the write path: unchanged records must give the same bytes
    assert path.read_bytes() == data


# --- writing ----------------------------------------------------------------------------------------------------
def _made(tmp_path: Path, *entries: Entry, version: int = 4, **options) -> Path:
    path = tmp_path / f"made{version}.kdb"
    with open_store(path, password=PASSWORD, create=True, cms_version=version, **options) as store:
        for entry in entries:
            store.add(entry)
    return path


@pytest.mark.parametrize("version", [3, 4, 6])
def test_new_database_and_companions(tmp_path, version):
    path = _made(tmp_path, trusted_entry("root ca"), key_pair_entry("server", index=1), version=version)
    for suffix, tag in ((".kdb", fmt.TAG_KDB), (".rdb", fmt.TAG_RDB), (".crl", fmt.TAG_CRL)):
        companion = path.with_suffix(suffix)
        assert stat.S_IMODE(companion.stat().st_mode) == 0o600
        container = fmt.parse_container(companion.read_bytes(), PASSWORD, store=None)
        assert (container.version, container.tag, container.slot_size) == (version, tag, 5000)
        assert container.kind == (2 if suffix == ".kdb" else 1)
        assert container.salt[-1] == 0 and all(container.salt[:23])
    assert not path.with_suffix(".sth").exists()
    kdb = fmt.parse_container(path.read_bytes(), PASSWORD, store=None)
    ids = [fmt.parse_slot(s, store=None).record_id for s in kdb.slots]
    assert ids == [1, 2]


@pytest.mark.parametrize(("version", "oid"), [(4, "1.2.840.113549.1.12.5.1.3"), (6, "1.2.840.113549.1.5.13")])
def test_native_key_encryption_per_version(tmp_path, version, oid):
    from asn1crypto import keys

    path = _made(tmp_path, key_pair_entry("server", index=1), version=version)
    slots = [fmt.parse_slot(raw, store=None) for raw in fmt.parse_container(path.read_bytes(), PASSWORD,
                                                                             store=None).slots]
    slot = next(s for s in slots if s.label == b"server")
    epki = keys.EncryptedPrivateKeyInfo.load(fmt.parse_record(slot.der, store=None).parts(store=None)[1])
    assert epki["encryption_algorithm"]["algorithm"].dotted == oid
    params = epki["encryption_algorithm"]["parameters"]
    if version == 6:
        kdf = params["key_derivation_func"]["parameters"]
        assert kdf["iteration_count"].native == 5 and len(kdf["salt"].native) == 8
        assert kdf["prf"]["algorithm"].native == "sha384"
    else:
        from asn1crypto import algos

        pbe_params = algos.Pbes1Params.load(params.dump())  # SEQUENCE { salt, iterations }, as PKCS#12's
        assert pbe_params["iterations"].native == 5 and len(pbe_params["salt"].native) == 8


def test_flags_encoding_and_one_default(tmp_path):
    path = _made(tmp_path, trusted_entry("root ca"), key_pair_entry("a", index=1, default=True))
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.add(key_pair_entry("b", index=2, default=True))
        store.set_trust("root ca", None)
    container = fmt.parse_container(path.read_bytes(), PASSWORD, store=None)
    flags = {}
    for raw in container.slots:
        slot = fmt.parse_slot(raw, store=None)
        flags[slot.label.decode()] = slot.der[-4:] if slot.der[-3] == 2 else slot.der[-3:]
    assert flags == {"a": b"\x03\x02\x07\x80", "b": b"\x03\x02\x06\xc0", "root ca": b"\x03\x01\x00"}
    with open_store(path, password=PASSWORD) as store:
        assert [e.label for e in store.entries() if e.default] == ["b"]
        assert store.get("root ca").trust is None
        assert store.get("a").chain[1] == store.get("root ca").chain[0]


def test_chain_certificates_become_signers_unless_given(tmp_path):
    leaf_key = rsa_key(7)
    root_key, root = ca(3)
    inter_key = rsa_key(8)
    inter = certificate(inter_key, "Issuing CA 3", root_key, root, ca=True)
    leaf = certificate(leaf_key, "leaf", inter_key, inter)
    pair = Entry(label="leaf", kind=EntryKind.KEY_PAIR, chain=(leaf, inter, root), key=leaf_key)
    path = tmp_path / "chain.kdb"
    with open_store(path, password=PASSWORD, create=True) as store:
        store.add(pair)
        assert sorted(store.labels()) == ["Issuing CA 3", "Test Root CA 3", "leaf"]
        # The same root added under its own label takes the place of the one made from the chain.
        store.add(Entry(label="my root", kind=EntryKind.TRUSTED_CERT, chain=(root,), trust=TRUST_ALL))
        assert sorted(store.labels()) == ["Issuing CA 3", "leaf", "my root"]
        # The issuing CA under the very label we gave it: it replaces ours rather than clashing with it.
        store.add(Entry(label="Issuing CA 3", kind=EntryKind.TRUSTED_CERT, chain=(inter,), trust=None))
        assert store.get("Issuing CA 3").trust is None
        store.remove("my root")
        store.add(pair, replace=True)  # the root comes back from the chain
        assert sorted(store.labels()) == ["Issuing CA 3", "Test Root CA 3", "leaf"]
    with open_store(path, password=PASSWORD) as store:
        assert store.get("leaf").chain == (leaf, inter, root)


def test_slot_grows_for_a_big_record(tmp_path):
    key = rsa_key(9)
    builder = (x509.CertificateBuilder().subject_name(name("many names")).issuer_name(name("many names"))
               .public_key(key.public_key()).serial_number(77)
               .not_valid_before(ca()[1].not_valid_before_utc).not_valid_after(ca()[1].not_valid_after_utc)
               .add_extension(x509.SubjectAlternativeName(
                   [x509.DNSName(f"host{i:04d}.example.com") for i in range(300)]), critical=False))
    big = builder.sign(key, hashes.SHA256())
    path = _made(tmp_path, trusted_entry("small"))
    before = fmt.parse_container(path.read_bytes(), PASSWORD, store=None)
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.add(Entry(label="big", kind=EntryKind.KEY_PAIR, chain=(big,), key=key))
    after = fmt.parse_container(path.read_bytes(), PASSWORD, store=None)
    needed = len(big.public_bytes(serialization.Encoding.DER))
    assert after.slot_size > needed and after.slot_size % 1000 == 0 and after.slot_size > 5000
    assert after.slots[0].rstrip(b"\0") == before.slots[0].rstrip(b"\0")  # the old record, re-padded only
    with open_store(path, password=PASSWORD) as store:
        assert store.get("big").chain[0] == big


def _unknown_slots(version: int = 4) -> tuple[bytes, bytes]:
    """A record with content tag [5] and a slot of type 7: things a newer GSKit might write."""
    record = fmt.Record(1, 5, fmt.tlv(0xA5, fmt.tlv(0x04, b"future")), b"future", True, False)
    tagged = fmt.slot_body(fmt.Slot(1, 1, fmt.build_record(record), b"future", 0, b""))
    odd = struct.pack(">III", 7, 2, 3) + b"abc" + b"\x99" * 40
    return fmt.pad_slot(tagged, 5000), fmt.pad_slot(odd, 5000)


def test_unknown_records_survive_a_rewrite(tmp_path):
    tagged, odd = _unknown_slots()
    path = tmp_path / "future.kdb"
    container = fmt.Container(4, 2, fmt.TAG_KDB, 5000, fmt.new_salt(), [tagged, odd])
    path.write_bytes(fmt.build_container(container, PASSWORD))
    with open_store(path, password=PASSWORD, writable=True) as store:
        assert store.labels() == []
        assert any("do not know" in note for note in store.notes)
        store.add(trusted_entry("root ca"))
    after = fmt.parse_container(path.read_bytes(), PASSWORD, store=None)
    assert after.slots[:2] == [tagged, odd]
    assert fmt.parse_slot(after.slots[2], store=None).record_id == 3


def test_secret_key_records_are_read_and_writing_them_is_refused(tmp_path):
    from keystores.crypto import pbe

    alg, ciphertext = pbe.encrypt_with("pbes2-aes256-sha384", bytes(range(32)), PASSWORD, iterations=5,
                                       salt_length=8)
    epki = fmt.tlv(0x30, alg + fmt.tlv(0x04, ciphertext))
    record = fmt.Record(1, 3, fmt.tlv(0xA3, epki), b"aes key", True, False)
    slot = fmt.pad_slot(fmt.slot_body(fmt.Slot(1, 1, fmt.build_record(record), b"aes key", 0, b"")), 5000)
    path = tmp_path / "secret.kdb"
    path.write_bytes(fmt.build_container(fmt.Container(6, 2, fmt.TAG_KDB, 5000, fmt.new_salt(), [slot]),
                                         PASSWORD))
    with open_store(path, password=PASSWORD, writable=True) as store:
        secret = store.get("aes key")
        assert secret.kind is EntryKind.SECRET_KEY and secret.secret.value == bytes(range(32))
        with pytest.raises(CapabilityError):
            store.add(Entry(label="new", kind=EntryKind.SECRET_KEY, secret=SecretKey("AES", b"k" * 16)))
        store.rename("aes key", "renamed key")
        store.set_password("other-pass")
    with open_store(path, password="other-pass") as store:
        assert store.get("renamed key").secret.value == bytes(range(32))


# --- requests (.rdb) ------------------------------------------------------------------------------------------
def _request(label: str, index: int) -> Entry:
    key = rsa_key(index)
    csr = x509.CertificateSigningRequestBuilder().subject_name(name(label)).sign(key, hashes.SHA256())
    return Entry(label=label, kind=EntryKind.REQUEST, request=csr, key=key)


def test_request_lands_in_rdb_and_receive_moves_it(tmp_path):
    path = _made(tmp_path, trusted_entry("root ca"))
    pending = _request("web server", 11)
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.add(pending)
    rdb = fmt.parse_container(path.with_suffix(".rdb").read_bytes(), PASSWORD, store=None)
    slot = fmt.parse_slot(rdb.slots[0], store=None)
    spki = pending.request.public_key().public_bytes(serialization.Encoding.DER,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
    assert (slot.trailer, slot.record_id) == (20, 1)
    tail_at = 12 + len(slot.der) + 4 + len(slot.label) + 4
    assert rdb.slots[0][tail_at:tail_at + 20] == hashlib.sha1(spki).digest()  # as GSKit writes a request
    with open_store(path, password=PASSWORD, writable=True) as store:
        got = store.get("web server")
        assert got.kind is EntryKind.REQUEST and got.request == pending.request
        assert same_key(got.key, pending.key)
        root_key, root = ca(0)
        issued = certificate(pending.key, "web server", root_key, root)
        store.add(Entry(label="web server", kind=EntryKind.KEY_PAIR, chain=(issued,), key=got.key),
                  replace=True)
    assert fmt.parse_container(path.with_suffix(".rdb").read_bytes(), PASSWORD, store=None).slots == []
    with open_store(path, password=PASSWORD) as store:
        entry = store.get("web server")
        assert entry.kind is EntryKind.KEY_PAIR and len(entry.chain) == 2


# --- password, stash ------------------------------------------------------------------------------------------
def test_set_password_rewrites_everything_and_the_stash(tmp_path):
    path = _made(tmp_path, trusted_entry("root ca"), key_pair_entry("server", index=1), stash=True)
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.add(_request("pending", 12))
    stash = path.with_suffix(".sth")
    assert cms_stash.version_of(stash.read_bytes()) == 8
    with open_store(path, writable=True) as store:  # the stash opens it
        store.set_password("brand-new-pass")
    assert cms_stash.decode(stash.read_bytes()) == "brand-new-pass"
    assert stat.S_IMODE(stash.stat().st_mode) == 0o600
    for suffix in (".kdb", ".rdb", ".crl"):
        with pytest.raises(WrongPassword):
            fmt.parse_container(path.with_suffix(suffix).read_bytes(), PASSWORD, store=None)
        fmt.parse_container(path.with_suffix(suffix).read_bytes(), "brand-new-pass", store=None)
    with open_store(path) as store:
        assert store.get("server").key is not None and store.get("pending").key is not None


def test_stale_stash_is_named(tmp_path):
    path = _made(tmp_path, trusted_entry("root ca"))
    path.with_suffix(".sth").write_bytes(cms_stash.encode("old password"))
    with pytest.raises(WrongPassword, match="stash"):
        open_store(path)


def test_no_password_no_stash(tmp_path):
    path = _made(tmp_path, trusted_entry("root ca"))
    with pytest.raises(PasswordRequired):
        open_store(path)


@pytest.mark.parametrize("version", [1, 8])
@pytest.mark.parametrize("password", ["p", "pässwörd", "x" * 128])
def test_stash_round_trip(version, password):
    data = cms_stash.encode(password, version=version)
    assert len(data) == (129 if version == 1 else 193)
    assert cms_stash.decode(data) == password


def test_stash_limits():
    with pytest.raises(KeystoreError):
        cms_stash.encode("x" * 129)
    with pytest.raises(UnsupportedFormat):
        cms_stash.decode(b"\0" * 50)
    damaged = bytearray(cms_stash.encode("secret"))
    damaged[40] ^= 1
    with pytest.raises(CorruptStore):
        cms_stash.decode(bytes(damaged))


# --- damage is not a wrong password -------------------------------------------------------------------------
@pytest.mark.parametrize("version", [3, 4, 6])
def test_damage_is_integrity_error_wrong_password_is_not(tmp_path, version):
    path = _made(tmp_path, trusted_entry("root ca"), version=version)
    data = bytearray(path.read_bytes())
    data[fmt.header_size(version) + 200] ^= 0x01  # inside the certificate
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        open_store(path, password=PASSWORD)
    with pytest.raises(WrongPassword):
        open_store(path, password="wrong")


@pytest.mark.parametrize("cut", [0x10, 0x40, 200, -1])
def test_truncated(tmp_path, cut):
    path = _made(tmp_path, trusted_entry("root ca"))
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises((CorruptStore, UnsupportedFormat)):
        open_store(path, password=PASSWORD, type="cms")


def test_rdb_given_as_store_is_refused(tmp_path):
    path = _made(tmp_path, trusted_entry("root ca"))
    with pytest.raises(UnsupportedFormat, match=r"\.kdb"):
        open_store(path.with_suffix(".rdb"), password=PASSWORD)


def test_a_kdb_version_gskit_does_not_write_is_refused(tmp_path):
    with pytest.raises(KeystoreError):
        open_store(tmp_path / "x.kdb", password=PASSWORD, create=True, cms_version=5)


# --- CLI --------------------------------------------------------------------------------------------------------
def test_cli_stash_set_default_trust_and_exit_codes(tmp_path):
    path = _made(tmp_path, trusted_entry("root ca"), key_pair_entry("a", index=1), key_pair_entry("b", index=2))
    env = {"KDB_PW": PASSWORD}
    done = keystores("stash", str(path), "--version", "1", "--password", "env:KDB_PW", env=env)
    assert done.code == 0, done.all
    assert cms_stash.version_of(path.with_suffix(".sth").read_bytes()) == 1
    assert stat.S_IMODE(path.with_suffix(".sth").stat().st_mode) == 0o600
    assert keystores("set-default", str(path), "b").code == 0  # password from the stash
    assert keystores("trust", str(path), "root ca", "off").code == 0
    with open_store(path, password=PASSWORD) as store:
        assert store.get("b").default and store.get("root ca").trust is None
    assert keystores("trust", str(path), "root ca", "maybe").code == 2
    listed = keystores("list", str(path))
    assert listed.code == 0 and "stash" in listed.err
    assert keystores("list", str(path), "--password", "env:BAD", env={"BAD": "nope"}).code == 3
    env["NEW_PW"] = "cli-new-pass"
    changed = keystores("passwd", str(path), "--new-password", "env:NEW_PW", env=env)  # old one from the stash
    assert changed.code == 0, changed.all
    assert cms_stash.decode(path.with_suffix(".sth").read_bytes()) == "cli-new-pass"
    assert cms_stash.version_of(path.with_suffix(".sth").read_bytes()) == 1  # the stash keeps its version
    p12 = tmp_path / "out.p12"
    converted = keystores("convert", str(path), str(p12), "--dest-password", "env:NEW_PW", env=env)
    assert converted.code == 0, converted.all
    with open_store(p12, password="cli-new-pass") as exported:
        # 'root ca' was set untrusted above: PKCS#12 keeps it as the key pairs' chain certificate, once, listed as
        # an untrusted certificate by its common name (the bag has no friendlyName, as openssl -certfile writes it).
        assert sorted(exported.labels()) == ["Test Root CA 0", "a", "b"]
        assert exported.get("Test Root CA 0").kind is EntryKind.CERTIFICATE
        assert exported.get("a").chain[1] == trusted_entry("x").chain[0]
    data = bytearray(path.read_bytes())
    data[-5000 + 300] ^= 0x40
    path.write_bytes(bytes(data))
    damaged = keystores("list", str(path), "--password", "env:NEW_PW", env=env)
    assert damaged.code == 1 and "integrity" in damaged.err


def test_unreadable_rdb_does_not_stop_listing_but_stops_writing(tmp_path):
    path = _made(tmp_path, trusted_entry("root ca"))
    rdb = fmt.Container(4, 1, fmt.TAG_RDB, 5000, fmt.new_salt(), [])
    path.with_suffix(".rdb").write_bytes(fmt.build_container(rdb, "some other password"))
    with open_store(path, password=PASSWORD) as store:
        assert store.labels() == ["root ca"]
        assert any("pending requests not read" in note for note in store.notes)
    with pytest.raises(WrongPassword):
        open_store(path, password=PASSWORD, writable=True)


def test_password_change_keeps_a_non_der_certificate_as_it_was(cms_vectors, tmp_path):
    """mixed.kdb's EC certificate carries NULL ECDSA parameters: re-keying must not rewrite the certificate."""
    path = tmp_path / "mixed.kdb"
    shutil.copy(cms_vectors / "kse/KdbKeyStoreSpiTest/mixed.kdb", path)

    def certificate_bytes(password: str) -> bytes:
        for raw in fmt.parse_container(path.read_bytes(), password, store=None).slots:
            slot = fmt.parse_slot(raw, store=None)
            if slot.label == b"ec-keypair":
                return fmt.parse_record(slot.der, store=None).parts(store=None)[0]
        raise AssertionError("ec-keypair is missing")

    before = certificate_bytes("password")
    with open_store(path, password="password", writable=True) as store:
        assert any("NULL ECDSA" in note for note in store.notes)
        store.set_password("re-keyed")
    assert certificate_bytes("re-keyed") == before
    with open_store(path, password="re-keyed") as store:
        assert same_key(store.get("ec-keypair").key, store.get("ec-keypair").chain[0].public_key())


def _struct_slot(raw: bytes) -> tuple[int, int, bytes, bytes, int, bytes] | None:
    """parse_slot as it read the words with struct before container.py stopped importing it; None for truncated."""
    try:
        slot_type, record_id, der_len = struct.unpack_from(">III", raw, 0)
        if 12 + der_len > len(raw):
            return None
        pos = 12 + der_len
        (label_len,) = struct.unpack_from(">I", raw, pos)
        if pos + 4 + label_len > len(raw):
            return None
        label = raw[pos + 4:pos + 4 + label_len]
        pos += 4 + label_len
        (trailer,) = struct.unpack_from(">I", raw, pos) if pos + 4 <= len(raw) else (0,)
        return slot_type, record_id, raw[12:12 + der_len], label, trailer, raw[pos + 4:]
    except struct.error:
        return None


@given(st.binary(max_size=80), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 40),
       st.integers(0, 40), st.integers(0, 2**32 - 1))
@settings(max_examples=300, deadline=None)
def test_slot_words_are_read_and_written_as_struct_did(tail: bytes, slot_type: int, record_id: int, der_len: int,
                                                       label_len: int, trailer: int) -> None:
    """The slot's 32-bit words by int.from_bytes: the same fields (or the same refusal) as struct.unpack_from
    gave, over whole, short and lying slots; slot_body's words are struct.pack's."""
    for raw in (struct.pack(">III", slot_type, record_id, der_len) + tail,
                struct.pack(">III", slot_type, record_id, der_len) + b"d" * der_len
                + struct.pack(">I", label_len) + b"l" * label_len + struct.pack(">I", trailer) + tail):
        for cut in (len(raw), 11, 12, 12 + der_len + 3, len(raw) - 1):
            piece = raw[:cut]
            expected = _struct_slot(piece)
            if expected is None:
                with pytest.raises(CorruptStore):
                    fmt.parse_slot(piece, store=None)
                continue
            slot = fmt.parse_slot(piece, store=None)
            assert (slot.slot_type, slot.record_id, slot.der, slot.label, slot.trailer) == expected[:5]
            assert expected[5].startswith(slot.hashes)
    slot = fmt.Slot(slot_type, record_id, b"d" * der_len, b"l" * label_len, trailer, b"")
    assert fmt.slot_body(slot) == (struct.pack(">III", slot_type, record_id, der_len) + slot.der
                                   + struct.pack(">I", label_len) + slot.label + struct.pack(">I", trailer))
