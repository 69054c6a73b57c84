"""The PKCS#12 backend: the shared contract under both write profiles, the bag -> entry rules, and bad input.

Interop with keytool and openssl lives in test_pkcs12_interop.py.
"""

from __future__ import annotations

import contextlib
import os
import random

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12 as crypto_pkcs12
from helpers import ca, certificate, key_pair_entry, rsa_key, same_key, trusted_entry, warned_of
from keystores.cli.common import said

from keystores.backends.pkcs12 import Pkcs12Store
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.model import TRUST_ALL, Entry, EntryKind, KeyRef, SecretKey, Trust
from keystores.store import open_store

PASSWORD = "s3cret-Pässword"


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory) -> bytes:
    """Two keys (RSA and EC, each with a chain) and two trusted certificates, written once with `modern`."""
    path = tmp_path_factory.mktemp("p12") / "mixed.p12"
    with open_store(path, password=PASSWORD, create=True) as store:
        store.add(key_pair_entry("server1", index=1))
        store.add(key_pair_entry("server2", index=2, use_ec=True))
        store.add(trusted_entry("root ca"))
        store.add(trusted_entry("other root", index=1))
    return path.read_bytes()


def _write(tmp_path, data: bytes, name: str = "store.p12"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_new_store_with_keys_is_private_and_detected_as_pkcs12(tmp_path, mixed_store):
    path = tmp_path / "new.p12"
    with open_store(path, password=PASSWORD, create=True) as store:
        store.add(key_pair_entry("k", index=1))
    assert os.stat(path).st_mode & 0o777 == 0o600
    renamed = _write(tmp_path, mixed_store, "truststore.jks")  # keytool's habit: PKCS#12 called .jks
    with open_store(renamed, password=PASSWORD) as store:
        assert store.format == "pkcs12"
        assert any("PKCS12" in note for note in store.notes)


def test_cryptography_reads_what_we_write(mixed_store):
    # cryptography keeps only the first key, but it must accept the file and its MAC.
    loaded = crypto_pkcs12.load_pkcs12(mixed_store, PASSWORD.encode())
    assert loaded.key is not None
    names = {c.friendly_name for c in loaded.additional_certs} | {loaded.cert.friendly_name}
    assert {b"root ca", b"other root"} <= names


def test_mixed_store_reads_back_whole(tmp_path, mixed_store):
    with open_store(_write(tmp_path, mixed_store), password=PASSWORD) as store:
        assert store.labels() == ["server1", "server2", "root ca", "other root"]
        server1 = store.get("server1")
        assert server1.kind is EntryKind.KEY_PAIR
        assert server1.chain[1] == ca(0)[1]
        assert same_key(server1.key, server1.chain[0].public_key())
        root = store.get("root ca")
        assert root.kind is EntryKind.TRUSTED_CERT and root.trust == TRUST_ALL


def test_protection_names_each_profile(tmp_path):
    for profile, expected in (("modern", ("HMAC-SHA-256", "AES-256-CBC")), ("compat", ("HMAC-SHA-1", "3DES"))):
        path = tmp_path / f"{profile}.p12"
        with warned_of(profile), open_store(path, password=PASSWORD, create=True, profile=profile) as store:
            store.add(key_pair_entry("k", index=1))
        with open_store(path, password=PASSWORD) as store:
            info = store.protection().as_text()
        assert expected[0] in info["mac"]
        assert expected[1] in info["keys"] and expected[1] in info["certificates"]
        assert "iterations" in info["mac"]


def test_rewriting_a_compat_store_with_modern_says_so(tmp_path):
    path = tmp_path / "old.p12"
    with warned_of("compat"), open_store(path, password=PASSWORD, create=True, profile="compat") as store:
        store.add(trusted_entry("a"))
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.add(trusted_entry("b", index=1))
        store.save()
        assert any("profile='compat'" in note for note in store.notes)  # as a script reads it
        assert any("--profile compat" in said(note) for note in store.notes)  # as the CLI prints it
    with open_store(path, password=PASSWORD) as store:
        assert "AES" in store.protection()["certificates"].text


def test_local_key_ids_survive_a_rewrite(tmp_path):
    key = rsa_key(3)
    cert = certificate(key, "lkid")
    data = crypto_pkcs12.serialize_key_and_certificates(
        b"lkid", key, cert, None, serialization.BestAvailableEncryption(PASSWORD.encode()))
    path = _write(tmp_path, data)

    def local_key_id() -> bytes:
        # The key bag sits in an unencrypted Data SafeContents in both cryptography's layout and ours.
        from asn1crypto import pkcs12

        pfx = pkcs12.Pfx.load(path.read_bytes())
        ids = [attribute["values"][0].native
               for info in pfx.authenticated_safe if info["content_type"].native == "data"
               for bag in pkcs12.SafeContents.load(info["content"].native)
               if bag["bag_id"].native == "pkcs8_shrouded_key_bag"
               for attribute in bag["bag_attributes"] if attribute["type"].native == "local_key_id"]
        assert len(ids) == 1
        return ids[0]

    before = local_key_id()
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.rename("lkid", "renamed")
    assert local_key_id() == before


def test_trust_purposes_round_trip(tmp_path):
    _, root = ca(2)
    narrow = Trust(tls_server=True, tls_client=False, email=False, code_signing=False)
    path = tmp_path / "t.p12"
    with open_store(path, password=PASSWORD, create=True) as store:
        store.add(Entry("tls only", EntryKind.TRUSTED_CERT, chain=(root,), trust=narrow))
        store.add(Entry("kept", EntryKind.TRUSTED_CERT, chain=(ca(1)[1],), trust=None))
    with open_store(path, password=PASSWORD) as store:
        got = store.get("tls only").trust
        assert got is not None and got.purposes == ["tls_server"]
        assert store.get("kept").trust is None
        assert any("no Java trust attribute" in note for note in store.notes)


def test_non_ascii_label_and_empty_password(tmp_path):
    path = tmp_path / "e.p12"
    with open_store(path, password="", create=True) as store:
        store.add(key_pair_entry("clé ü 鍵", index=1))
    assert crypto_pkcs12.load_pkcs12(path.read_bytes(), b"").key is not None
    with open_store(path, password="") as store:
        assert store.labels() == ["clé ü 鍵", "Test Root CA 0"]  # the key pair and its chain's CA
    with open_store(path, password=None) as store:  # no password given: the empty one is tried
        assert store.labels() == ["clé ü 鍵", "Test Root CA 0"]


def test_password_less_truststore(tmp_path):
    path = tmp_path / "trust.p12"
    with open_store(path, password=None, create=True) as store:
        store.add(trusted_entry("root"))
        assert store.protection()["mac"].text == "none"
    with open_store(path, password=None) as store:
        assert store.get("root").trust == TRUST_ALL
    with open_store(path, password="anything") as store:  # no MAC: nothing to check the password against
        assert store.labels() == ["root"]
    with pytest.raises(PasswordRequired), open_store(path, password=None, writable=True) as store:
        store.add(key_pair_entry("k", index=1))


def test_capabilities_refuse_token_keys_and_secret_keys_without_an_oid(tmp_path):
    path = tmp_path / "c.p12"
    store = open_store(path, password=PASSWORD, create=True, writable=True)
    try:
        with pytest.raises(CapabilityError, match="none is known for 'Twofish'"):
            store.add(Entry("twofish", EntryKind.SECRET_KEY, secret=SecretKey("Twofish", bytes(16))))
        store.add(Entry("aes", EntryKind.SECRET_KEY, secret=SecretKey("AES", bytes(16))))
        entry = key_pair_entry("hsm", index=1)
        ref = KeyRef("hsm", b"\x01", entry.chain[0].public_key(), extractable=True)
        with pytest.raises(CapabilityError):
            store.add(entry.with_(key=ref))
        assert store.capabilities.default_flag is False
    finally:
        store.close()


def test_openssl_style_bare_chain_certs_belong_to_the_key(tmp_path):
    # cryptography writes CA certificates as bags without attributes, as `openssl pkcs12 -export -certfile` does.
    entry = key_pair_entry("leaf", index=1)
    data = crypto_pkcs12.serialize_key_and_certificates(
        b"leaf", entry.key, entry.chain[0], [entry.chain[1]],
        serialization.BestAvailableEncryption(PASSWORD.encode()))
    with open_store(_write(tmp_path, data), password=PASSWORD) as store:
        assert store.labels() == ["leaf", "Test Root CA 0"]  # the CA bag is an entry too (openssl -info shows it)
        assert store.get("leaf").chain == entry.chain
        assert store.get("Test Root CA 0").kind is EntryKind.CERTIFICATE


def test_chain_is_built_by_signature_not_order(tmp_path):
    root_key, root = ca(0)
    mid_key = rsa_key(4)
    mid = certificate(mid_key, "Intermediate", root_key, root, ca=True)
    leaf_key = rsa_key(5)
    leaf = certificate(leaf_key, "deep leaf", mid_key, mid)
    # A decoy with the intermediate's name but another key: it must not be taken into the chain.
    decoy = certificate(rsa_key(6), "Intermediate", root_key, root, ca=True)
    data = crypto_pkcs12.serialize_key_and_certificates(
        b"deep", leaf_key, leaf, [root, decoy, mid], serialization.BestAvailableEncryption(PASSWORD.encode()))
    with open_store(_write(tmp_path, data), password=PASSWORD) as store:
        assert store.get("deep").chain == (leaf, mid, root)
        # Every bag is an entry, untrusted, in file order; the decoy is in no chain and is one too.
        others = [e for e in store.entries() if e.kind is EntryKind.CERTIFICATE]
        assert [e.chain[0] for e in others] == [root, decoy, mid]
        assert [e.trust for e in others] == [None, None, None]
        assert any("'Intermediate'" in note and "keytool does not list" in note for note in store.notes)


# --- bad input ---------------------------------------------------------------------------------------------

def _open_bytes(tmp_path, data: bytes, password: str | None = PASSWORD, name: str = "bad.p12"):
    path = _write(tmp_path, data, name)
    store = Pkcs12Store.open(str(path), password=password)
    store.close()
    return path


def test_wrong_password_is_told_apart(tmp_path, mixed_store):
    path = _write(tmp_path, mixed_store)
    with pytest.raises(WrongPassword) as info:
        Pkcs12Store.open(str(path), password="not it")
    assert str(path) in str(info.value) and "not it" not in str(info.value)
    assert info.value.exit_code == 3
    with pytest.raises(PasswordRequired):
        Pkcs12Store.open(str(path), password=None)


def test_damaged_mac_with_right_password_is_integrity_error(tmp_path, mixed_store):
    # The MAC value is the last OCTET STRING before the salt; flip a bit in it.
    data = bytearray(mixed_store)
    salt_header = data.rfind(bytes([0x04, 20]))  # OCTET STRING (20-byte salt)
    data[salt_header - 3] ^= 0x01
    with pytest.raises(IntegrityError) as info:
        _open_bytes(tmp_path, bytes(data))
    assert info.value.exit_code == 1


@pytest.mark.parametrize("cut", [0, 1, 2, 4, 10, 100, -1, -2, -20, -200])
def test_truncated(tmp_path, mixed_store, cut):
    data = mixed_store[:cut] if cut >= 0 else mixed_store[:len(mixed_store) + cut]
    with pytest.raises(KeystoreError) as info:
        _open_bytes(tmp_path, data)
    assert not isinstance(info.value, WrongPassword)
    assert "bad.p12" in str(info.value)


def test_trailing_garbage(tmp_path, mixed_store):
    with pytest.raises(CorruptStore):
        _open_bytes(tmp_path, mixed_store + b"\x00junk")


def test_bit_flips_raise_keystore_errors(tmp_path, mixed_store):
    rng = random.Random(1234)
    for _ in range(24):  # each open costs a 10000-iteration MAC; the --long fuzz does thousands
        data = bytearray(mixed_store)
        position = rng.randrange(len(data))
        data[position] ^= 1 << rng.randrange(8)
        try:
            _open_bytes(tmp_path, bytes(data))
        except KeystoreError as exc:
            assert "bad.p12" in str(exc)
        else:
            pytest.fail(f"a flipped bit at {position} went unnoticed")


def test_huge_lengths(tmp_path):
    # SEQUENCE claiming 2**62 bytes, then version 3.
    data = b"\x30\x88" + (2**62).to_bytes(8, "big") + b"\x02\x01\x03" + b"\x00" * 20
    with pytest.raises(CorruptStore):
        _open_bytes(tmp_path, data)
    inner = b"\x02\x01\x03\x30\x84\x7f\xff\xff\xff" + b"\x00" * 8
    with pytest.raises(CorruptStore):
        _open_bytes(tmp_path, b"\x30" + bytes([len(inner)]) + inner)


@pytest.mark.parametrize("data", [b"\xfe\xed\xfe\xed" + b"\x00" * 40, b"-----BEGIN CERTIFICATE-----\n",
                                  b"\x30\x03\x02\x01\x01", b"", os.urandom(64)])
def test_wrong_type(tmp_path, data):
    with pytest.raises((CorruptStore, UnsupportedFormat)) as info:
        _open_bytes(tmp_path, data)
    assert "bad.p12" in str(info.value)


def test_certificate_der_is_not_a_store(tmp_path):
    cert_der = ca()[1].public_bytes(serialization.Encoding.DER)
    with pytest.raises((CorruptStore, UnsupportedFormat)):
        _open_bytes(tmp_path, cert_der)


@pytest.mark.slow
def test_fuzz_random_mutations(tmp_path, mixed_store):
    rng = random.Random(99)
    for _ in range(2000):
        data = bytearray(mixed_store)
        for _ in range(rng.randrange(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        with contextlib.suppress(KeystoreError):  # any other exception fails the test
            _open_bytes(tmp_path, bytes(data))


def _key_bags(path) -> list[bytes]:
    """The EncryptedPrivateKeyInfo DER of every shrouded key bag, in file order."""
    from asn1crypto import pkcs12

    pfx = pkcs12.Pfx.load(path.read_bytes())
    return [bag["bag_value"].untag().dump()
            for info in pfx.authenticated_safe if info["content_type"].native == "data"
            for bag in pkcs12.SafeContents.load(info["content"].native)
            if bag["bag_id"].native == "pkcs8_shrouded_key_bag"]


def test_untouched_keys_are_written_back_without_decrypting(tmp_path, mixed_store):
    path = _write(tmp_path, mixed_store)
    before = _key_bags(path)
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.add(trusted_entry("third", index=2))
    assert _key_bags(path) == before  # same ciphertext: the keys were never decrypted or re-encrypted
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.set_password("new password")
    after = _key_bags(path)
    assert len(after) == 2 and not set(after) & set(before)
    with open_store(path, password="new password") as store:
        entry = store.get("server2")
        assert same_key(entry.key, entry.chain[0].public_key())


def test_compat_keys_are_re_encrypted_for_modern(tmp_path):
    path = tmp_path / "c.p12"
    with warned_of("compat"), open_store(path, password=PASSWORD, create=True, profile="compat") as store:
        store.add(key_pair_entry("k", index=1))
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.add(trusted_entry("t"))
    with open_store(path, password=PASSWORD) as store:
        assert "AES-256-CBC" in store.protection()["keys"].text
        assert same_key(store.get("k").key, key_pair_entry("k", index=1).key)


def test_pbmac1_mac_is_read(tmp_path, mixed_store):
    """RFC 9579 PBMAC1: the MacData built here with cryptography's PBKDF2 and HMAC, not the backend's code."""
    import hashlib
    import hmac

    from asn1crypto import algos, core, pkcs12
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    pfx = pkcs12.Pfx.load(mixed_store)
    content = pfx["auth_safe"]["content"].native
    salt = os.urandom(16)
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, 1000).derive(PASSWORD.encode("utf-8"))
    kdf = algos.KdfAlgorithm({"algorithm": "pbkdf2", "parameters": {
        "salt": {"specified": salt}, "iteration_count": 1000, "key_length": 32,
        "prf": {"algorithm": "sha256"}}})
    params = core.Sequence.load(core.Sequence(contents=kdf.dump() + algos.HmacAlgorithm(
        {"algorithm": "sha256"}).dump()).dump())

    def with_mac(digest: bytes) -> bytes:
        mac = pkcs12.MacData({"mac": {"digest_algorithm": {"algorithm": "1.2.840.113549.1.5.14",
                                                           "parameters": params},
                                      "digest": digest},
                              "mac_salt": b"NOT USED", "iterations": 1})
        return pkcs12.Pfx({"version": "v3", "auth_safe": pfx["auth_safe"], "mac_data": mac}).dump()

    good = with_mac(hmac.new(key, content, hashlib.sha256).digest())
    with open_store(_write(tmp_path, good), password=PASSWORD) as store:
        assert store.labels() == ["server1", "server2", "root ca", "other root"]
        assert store.protection()["mac"].text.startswith("PBMAC1 HMAC-SHA-256 (PBKDF2-HMAC-SHA-256), 1000")
    with pytest.raises(WrongPassword):
        open_store(_write(tmp_path, good, "again.p12"), password="other")
    bad = with_mac(bytes(32))
    with pytest.raises(IntegrityError):  # the right password opens the contents: the MAC itself is damaged
        open_store(_write(tmp_path, bad, "bad.p12"), password=PASSWORD)


def test_openssl_1_non_ascii_password_form_is_read_and_healed(tmp_path):
    # OpenSSL 1.x made each UTF-8 byte of a password one BMP character; simulate such a file by writing with
    # that form, then open it with the password the user actually typed.
    typed = "pässwörd"
    legacy_form = typed.encode("utf-8").decode("latin-1")
    path = tmp_path / "old-openssl.p12"
    with warned_of("compat"), open_store(path, password=legacy_form, create=True, profile="compat") as store:
        store.add(key_pair_entry("k", index=1))
    with open_store(path, password=typed, writable=True) as store:
        assert same_key(store.get("k").key, key_pair_entry("k", index=1).key)
        store.add(trusted_entry("t"))
    # Rewritten in the standard form: the typed password opens MAC and keys directly.
    assert crypto_pkcs12.load_pkcs12(path.read_bytes(), typed.encode()).key is not None


def test_ber_indefinite_lengths_and_constructed_octets(tmp_path, mixed_store):
    """Older Windows and Netscape-era tools wrote BER: indefinite lengths, the AuthenticatedSafe in chunks."""
    from asn1crypto import core, pkcs12

    pfx = pkcs12.Pfx.load(mixed_store)
    safe = pfx["auth_safe"]["content"].native
    chunks = b"".join(core.OctetString(safe[i:i + 1000]).dump() for i in range(0, len(safe), 1000))
    content_info = (b"\x30\x80" + core.ObjectIdentifier("1.2.840.113549.1.7.1").dump()
                    + b"\xa0\x80\x24\x80" + chunks + b"\x00\x00\x00\x00\x00\x00")
    ber = b"\x30\x80" + pfx["version"].dump() + content_info + pfx["mac_data"].dump() + b"\x00\x00"
    with open_store(_write(tmp_path, ber), password=PASSWORD) as store:
        assert store.labels() == ["server1", "server2", "root ca", "other root"]


def test_sealed_key_from_another_store_is_re_encrypted_under_the_destination_password(tmp_path):
    """A key still sealed as read from one file must not be copied as ciphertext into a file with another
    password: the destination must open it with its own password."""
    source, dest = tmp_path / "a.p12", tmp_path / "b.p12"
    with open_store(source, password="password-A", create=True) as store:
        store.add(key_pair_entry("moved", index=4))
    with open_store(dest, password="password-B", create=True) as store:
        store.add(trusted_entry("root"))
    with open_store(source, password="password-A") as src, open_store(dest, password="password-B",
                                                                      writable=True) as dst:
        dst.add(src.get("moved"))
    with open_store(dest, password="password-B") as store:
        assert same_key(store.get("moved").key, key_pair_entry("moved", index=4).key)
