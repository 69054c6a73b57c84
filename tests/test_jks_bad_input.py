"""JKS/JCEKS bad input: truncated, bit-flipped, wrong password, huge length fields, wrong magic, damaged keys.

Every case must end in a KeystoreError subclass that names the file (never a traceback, never the password),
and a wrong password must be told apart from damage where the format allows it.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from clirun import keystores
from cryptography.hazmat.primitives import serialization
from helpers import ca, key_pair_entry, trusted_entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keystores.backends.jks import JceksStore, JksStore
from keystores.crypto.decrepit.java import store_digest
from keystores.errors import (
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.model import Entry, EntryKind, SecretKey
from keystores.ops.describe import entry_row
from keystores.store import open_store

PASSWORD = "bad-input-pass"


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> dict[str, bytes]:
    """A JKS with a key and a trusted cert; a JCEKS with a trusted cert and a secret key (no private key, so a
    failed digest never costs a 200,000-iteration key decryption)."""
    folder = tmp_path_factory.mktemp("good")
    with open_store(folder / "g.jks", password=PASSWORD, create=True) as store:
        store.add(key_pair_entry("key", index=1, use_ec=True))
        store.add(trusted_entry("root"))
    with open_store(folder / "g.jceks", password=PASSWORD, create=True) as store:
        store.add(trusted_entry("root"))
        store.add(Entry(label="aes", kind=EntryKind.SECRET_KEY, secret=SecretKey("AES", bytes(16))))
    return {"jks": (folder / "g.jks").read_bytes(), "jceks": (folder / "g.jceks").read_bytes()}


CLASSES = {"jks": JksStore, "jceks": JceksStore}


def _open(path: Path, kind: str, password: str | None = PASSWORD):
    return CLASSES[kind].open(str(path), password=password)


def _expect_error(path: Path, kind: str, data: bytes, password: str | None = PASSWORD) -> KeystoreError:
    path.write_bytes(data)
    with pytest.raises(KeystoreError) as info, _open(path, kind, password) as store:
        for entry in store.entries():  # touch certificates and keys too: both are decoded on first use
            _ = entry.chain, entry.key, entry.secret
    assert str(path) in str(info.value)
    return info.value


def _redigest(data: bytes, password: str = PASSWORD) -> bytes:
    """The file with its last 20 bytes replaced by a correct digest: damage that the digest cannot see."""
    body = data[:-20]
    return body + store_digest(password, body)


@pytest.mark.parametrize("kind", ["jks", "jceks"])
def test_truncated_anywhere(good, tmp_path, kind):
    """Every offset of the header and the digest, and a stride through the entries (writing a file per case is
    the slow part)."""
    data = good[kind]
    path = tmp_path / f"t.{kind}"
    sizes = sorted({*range(40), *range(40, len(data) - 24, 7), *range(len(data) - 24, len(data))})
    for size in sizes:
        error = _expect_error(path, kind, data[:size])
        expected = UnsupportedFormat if size < 4 else CorruptStore
        assert isinstance(error, expected), (size, error)
        assert not isinstance(error, WrongPassword), size


def test_bit_flips_in_jks_are_caught(good, tmp_path):
    """A flip fails the parse or the digest. Outside the protected key the key still opens with the password, so a
    digest failure is reported as damage (IntegrityError); a flip inside the only key leaves "wrong password, or
    damaged" as the honest answer."""
    data = good["jks"]
    path = tmp_path / "f.jks"
    key_start = 12 + 4 + 5 + 8 + 4
    key_end = key_start + struct.unpack_from(">I", data, key_start - 4)[0]
    for offset in sorted({*range(4, 40), *range(40, len(data), 5)}):
        flipped = bytearray(data)
        flipped[offset] ^= 0x10
        error = _expect_error(path, "jks", bytes(flipped))
        if key_start <= offset < key_end:
            assert isinstance(error, WrongPassword | CorruptStore), (offset, error)
        else:
            assert isinstance(error, CorruptStore | UnsupportedFormat), (offset, error)


def test_bit_flips_in_jceks_are_caught(good, tmp_path):
    data = good["jceks"]
    path = tmp_path / "f.jceks"
    for offset in range(4, len(data), 3):
        flipped = bytearray(data)
        flipped[offset] ^= 0x01
        _expect_error(path, "jceks", bytes(flipped))


def test_wrong_password_is_told_apart(good, tmp_path):
    for kind in ("jks", "jceks"):
        error = _expect_error(tmp_path / f"w.{kind}", kind, good[kind], password="not-the-password")
        assert type(error) is WrongPassword
        assert error.exit_code == 3
        assert "not-the-password" not in str(error)


def test_damaged_certificate_with_right_password_is_integrity_error(good, tmp_path):
    data = bytearray(good["jks"])
    der = ca(0)[1].public_bytes(serialization.Encoding.DER)
    at = bytes(data).rindex(der)
    data[at + len(der) // 2] ^= 0xFF
    error = _expect_error(tmp_path / "i.jks", "jks", bytes(data))
    assert type(error) is IntegrityError and "damaged" in str(error)


def test_damaged_certificate_behind_a_valid_digest_is_an_entry_with_a_problem(good, tmp_path):
    """Entries are independent: the digest vouches for the store, so a certificate that is no certificate is that
    entry's problem, listed with its fingerprint and carried as the bytes it is; the other entries are whole."""
    from keystores.ops.describe import entry_data

    data = bytearray(good["jks"])
    der = ca(0)[1].public_bytes(serialization.Encoding.DER)
    at = bytes(data).rindex(der)
    data[at : at + 4] = b"\x04\x82\x00\x01"  # no longer a certificate's SEQUENCE
    path = tmp_path / "c.jks"
    path.write_bytes(_redigest(bytes(data)))
    with _open(path, "jks") as store:
        root = entry_data(store.get("root"))
        assert root["problem"].startswith("not a readable X.509 certificate") and root["subject"] is None
        assert entry_data(store.get("key"))["problem"] is None
        assert entry_row(store.get("root"))["label"] == "root"
    env = {"KS_PW": PASSWORD}
    assert keystores("list", str(path), "-p", "env:KS_PW", env=env).code == 0
    validated = keystores("validate", str(path), "root", "-p", "env:KS_PW", env=env)
    assert validated.code == 1 and "cannot be validated" in validated.err and "Traceback" not in validated.err
    audited = keystores("audit", str(path), "-p", "env:KS_PW", env=env)
    assert audited.code == 5 and "root\twarning\tunreadable" in audited.out


def test_damaged_key_behind_a_valid_digest_names_the_entry(good, tmp_path):
    data = bytearray(good["jks"])
    at = bytes(data).index(b"\x04\x81") + 40  # inside the protected key of the first entry
    data[at] ^= 0x01
    path = tmp_path / "k.jks"
    path.write_bytes(_redigest(bytes(data)))
    with _open(path, "jks") as store:
        assert store.labels() == ["key", "root"]  # listing needs no key
        with pytest.raises(KeystoreError) as info:
            _ = store.get("key").key
    assert info.value.label == "key" and str(path) in str(info.value)


def _with_int(data: bytes, offset: int, value: int, fmt: str = ">I") -> bytes:
    return _redigest(data[:offset] + struct.pack(fmt, value) + data[offset + struct.calcsize(fmt):])


@pytest.mark.parametrize("field", ["count", "alias", "key_length", "chain_length", "cert_length"])
def test_huge_length_fields(good, tmp_path, field):
    data = good["jks"]
    # Layout of the first entry: magic 4, version 4, count 4, tag 4, alias (2 + 3), date 8, key length 4, key...
    key_length = struct.unpack_from(">I", data, 12 + 4 + 5 + 8)[0]
    chain_at = 12 + 4 + 5 + 8 + 4 + key_length
    offsets = {"count": (8, ">I"), "alias": (16, ">H"), "key_length": (29, ">I"), "chain_length": (chain_at, ">I"),
               "cert_length": (chain_at + 4 + 7, ">I")}
    offset, fmt = offsets[field]
    huge = 0xFFFF if fmt == ">H" else 0x7FFFFFFF
    error = _expect_error(tmp_path / "h.jks", "jks", _with_int(data, offset, huge, fmt))
    assert isinstance(error, CorruptStore)


def test_huge_java_array_length_in_sealed_object(good, tmp_path):
    data = good["jceks"]
    at = data.index(b"\x75\x72\x00\x02[B")  # the first byte[] (encodedParams) of the SealedObject
    length_at = at + 2 + 2 + 2 + 8 + 1 + 2 + 2
    error = _expect_error(tmp_path / "h.jceks", "jceks", _with_int(data, length_at, 0x7FFFFFFF))
    assert isinstance(error, CorruptStore)


def test_wrong_magic_and_version(good, tmp_path):
    error = _expect_error(tmp_path / "m.jks", "jks", good["jceks"])
    assert isinstance(error, UnsupportedFormat) and "not a JKS store" in str(error)
    error = _expect_error(tmp_path / "v.jks", "jks", _with_int(good["jks"], 4, 3))
    assert isinstance(error, UnsupportedFormat) and "version 3" in str(error)
    path = tmp_path / "junk.jks"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(UnsupportedFormat):
        open_store(path, password=PASSWORD)


def test_no_password_lists_unchecked_and_asks_for_it_for_keys_and_writing(good, tmp_path):
    """keytool -list without -storepass: labels and certificates, a warning that integrity was not checked."""
    path = tmp_path / "n.jks"
    path.write_bytes(good["jks"])
    with _open(path, "jks", password=None) as store:
        assert store.labels() == ["key", "root"] and store.get("root").chain
        assert any("integrity" in note and "not checked" in note for note in store.notes)
        with pytest.raises(PasswordRequired):
            _ = store.get("key").key
    store = CLASSES["jks"].open(str(path), password=None, writable=True)
    try:
        store.rename("root", "ca")
        with pytest.raises(PasswordRequired):
            store.save()
    finally:
        store.close()
    listed = keystores("list", str(path))
    assert listed.code == 0 and "root" in listed.out and "not checked" in listed.err
    exported = keystores("export", str(path), "key", "-o", str(tmp_path / "k.pem"), "--key")
    assert exported.code == 3 and not (tmp_path / "k.pem").exists()


def test_cli_one_line_errors(good, tmp_path):
    path = tmp_path / "cli.jks"
    path.write_bytes(good["jks"][:-7])
    env = {"KS_PASS": PASSWORD, "KS_WRONG": "wrong-one"}
    damaged = keystores("list", str(path), "--password", "env:KS_PASS", env=env)
    assert damaged.code == 1 and str(path) in damaged.err and "Traceback" not in damaged.all
    path.write_bytes(good["jks"])
    wrong = keystores("list", str(path), "--password", "env:KS_WRONG", env=env)
    assert wrong.code == 3 and "wrong-one" not in wrong.all and "Traceback" not in wrong.all
    before = path.read_bytes()
    refused = keystores("delete", str(path), "nope", "--password", "env:KS_PASS", env=env)
    assert refused.code == 4 and path.read_bytes() == before


def _fuzz_once(good, tmp_path, kind, edits, redigest, open_keys):
    data = bytearray(good[kind])
    for offset, value in edits:
        data[offset % len(data)] = value
    mutated = _redigest(bytes(data)) if redigest else bytes(data)
    path = tmp_path / f"fuzz.{kind}"
    path.write_bytes(mutated)
    try:
        with _open(path, kind) as store:
            for entry in store.entries():
                entry_row(entry)  # the list row, read from the undecoded certificate where it can be
                _ = entry.chain  # trusted certificates are decoded here
                if open_keys:
                    _ = entry.key
    except KeystoreError as error:
        assert str(path) in str(error)


EDITS = st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS, redigest=st.booleans(), kind=st.sampled_from(["jks", "jceks"]))
def test_random_damage_never_escapes(good, tmp_path, edits, redigest, kind):
    """Random byte edits, with the digest left stale or recomputed (to reach the parsers behind it). JCEKS secret
    keys are not opened here: each costs 400,000 MD5 rounds; the slow run below opens them."""
    _fuzz_once(good, tmp_path, kind, edits, redigest, open_keys=kind == "jks")


@pytest.mark.slow
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS, redigest=st.booleans())
def test_random_damage_in_jceks_keys_never_escapes(good, tmp_path, edits, redigest):
    data = good["jceks"]
    start = data.index(b"\xac\xed\x00\x05")
    edits = [(start + offset % (len(data) - 20 - start), value) for offset, value in edits]
    _fuzz_once(good, tmp_path, "jceks", edits, redigest, open_keys=True)


def _without_first_chain(data: bytes) -> bytes:
    """The store with its first (key) entry's certificate chain removed, as keytool's own test stores have one."""
    at = 12 + 4  # magic, version, count; the entry's tag
    at += 2 + struct.unpack(">H", data[at : at + 2])[0] + 8  # alias, creation time
    at += 4 + struct.unpack(">I", data[at : at + 4])[0]  # the protected key
    count = struct.unpack(">I", data[at : at + 4])[0]
    end = at + 4
    for _ in range(count):
        end += 2 + struct.unpack(">H", data[end : end + 2])[0]
        end += 4 + struct.unpack(">I", data[end : end + 4])[0]
    return _redigest(data[:at] + struct.pack(">I", 0) + data[end:])


def test_key_entry_without_a_chain_lists_and_is_refused_by_name_where_a_key_needs_its_certificate(good, tmp_path):
    path = tmp_path / "nochain.jks"
    path.write_bytes(_without_first_chain(good["jks"]))
    with _open(path, "jks") as store:
        entry = store.get("key")
        assert entry.kind is EntryKind.KEY_PAIR and entry.chain == () and entry.key is not None
        assert entry_row(entry)["key_type"] == "EC-P256"
    listed = keystores("list", str(path), "-p", "env:KS_PW", env={"KS_PW": PASSWORD})
    assert listed.code == 0 and "key\tkey-pair" in listed.out
    refused = keystores("convert", str(path), str(tmp_path / "out.jks"), "-p", "env:KS_PW", "--dest-password",
                        "env:KS_PW", env={"KS_PW": PASSWORD})
    assert refused.code == 1 and "'key'" in refused.err and "certificate" in refused.err
    assert not (tmp_path / "out.jks").exists()
    carried = keystores("convert", str(path), str(tmp_path / "out.p12"), "-p", "env:KS_PW", "--dest-password",
                        "env:KS_PW", env={"KS_PW": PASSWORD})
    assert carried.code == 0
    with open_store(tmp_path / "out.p12", password=PASSWORD) as store:
        assert store.get("key").chain == () and store.get("root").kind is EntryKind.TRUSTED_CERT


def test_a_wrong_password_whose_padding_passes_by_chance_is_still_a_wrong_password(tmp_path, monkeypatch):
    """A bad JCEKS digest is explained by trying a key: PBEWithMD5AndTripleDES's padding passes for about 1 wrong
    password in 256, and that chance used to be taken for "the password is right: the file is damaged" (exit 1;
    test_secrets_leak failed so now and then). The decryption must also be a PKCS#8 PrivateKeyInfo."""
    from functools import partial

    from keystores.backends.jks.epki import _read_epki
    from keystores.backends.jks.store import _read_pbe_parameter
    from keystores.crypto.decrepit import java

    # A few iterations for the key (the reader takes any count), so that the search below is quick
    monkeypatch.setattr(java, "sun_pbe_encrypt", partial(java.sun_pbe_encrypt, iterations=8))
    path = tmp_path / "k.jceks"
    with open_store(path, password=PASSWORD, create=True) as store:
        store.add(key_pair_entry("key", index=1, use_ec=True))
    data = path.read_bytes()
    start = data.index(b"\x30", data.index(b"key") + 3 + 8)  # the EncryptedPrivateKeyInfo after alias and date
    oid, params, encrypted = _read_epki(data[start:])
    assert oid == java.SUN_PBE_MD5_3DES_OID
    salt, iterations = _read_pbe_parameter(params)
    assert iterations == 8

    def padding_passes(password: str) -> bool:
        try:
            java.sun_pbe_decrypt(encrypted, password, salt, iterations)
        except WrongPassword:
            return False
        return True

    lucky = next(f"wrong-{n}" for n in range(100_000) if padding_passes(f"wrong-{n}"))
    error = _expect_error(path, "jceks", data, password=lucky)
    assert type(error) is WrongPassword and error.exit_code == 3


def test_a_rewrite_carries_every_date_as_read(good, tmp_path):
    """Bug: a rewrite (here a delete of another entry) wrote a date no datetime can hold as the time of the rewrite,
    and moved about half the dates after ~2242 by a millisecond (the datetime round trip). Dates are carried as
    read."""
    data = good["jks"]
    # The first entry: tag (4 bytes), its alias (2-byte length, then the bytes), then its date (8 bytes).
    (alias_length,) = struct.unpack_from(">H", data, 16)
    at = 18 + alias_length
    alias = data[18:at].decode()
    for millis in (2**62, 2**33 * 1000 * 3 + 7, -(2**40) * 1000 - 3):
        path = tmp_path / "dated.jks"
        path.write_bytes(_redigest(_with_int(data, at, millis, ">q")))
        with open_store(path, password=PASSWORD) as store:
            other = next(entry.label for entry in store.entries() if entry.label != alias)
        assert keystores("delete", str(path), other, "--password", "env:JKS_PW", env={"JKS_PW": PASSWORD}).code == 0
        written = path.read_bytes()
        assert written[16:at] == data[16:at]  # the same entry is still first
        assert struct.unpack_from(">q", written, at)[0] == millis
