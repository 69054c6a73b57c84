"""keystores/backends/bcfks/structure.py, BCFKS's structures read and written with keystores.crypto.der, against
asn1crypto, which read and wrote them before (issue 15): on our stores and on ones Bouncy Castle wrote (keytool, and
BC's AES key wrap with SHA3), every structure reads the same both ways, whole stores list, show, open and rewrite
the same, damaged store data is read the same or handed to asn1crypto, and what is written is asn1crypto's
encoding of the same values, byte for byte."""

from __future__ import annotations

import datetime as dt
import functools
import random
import shutil
import types
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import algos, core, keys
from cryptography.hazmat.primitives import serialization
from helpers import ca, key_pair_entry, trusted_entry
from hypothesis import example, given
from hypothesis import strategies as st
from test_bouncycastle import BC_JAR, PASSWORD, java_tool, keytool

from keystores.backends.bcfks import asn1, structure
from keystores.backends.bcfks import store as bcfks
from keystores.crypto import der
from keystores.model import Entry, EntryKind, SecretKey
from keystores.ops.describe import entry_row, store_data
from keystores.store import open_store

WHEN = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def _declining(name: str) -> Any:
    raise der.DerError("declined by the test")


# keystores.crypto.der as structure.py sees it, but declining every structure: everything goes to asn1crypto
_ASN1CRYPTO_ONLY = types.SimpleNamespace(**{name: getattr(der, name) for name in dir(der) if not name.startswith("__")}
                                         | {"inside": lambda *args, **kwargs: _declining("inside")})


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Ours (RSA and EC key pairs with chains, a trusted CA, AES, DESede and HMAC keys, labels not ASCII, an entry of
    a type BC may add later), and where keytool with Bouncy Castle is installed, keytool's and BC's key-wrap one."""
    folder = tmp_path_factory.mktemp("bcfks-structure")
    ours = folder / "ours.bcfks"
    with open_store(ours, password=PASSWORD, create=True) as store:
        store.add(key_pair_entry("server", index=1))
        store.add(key_pair_entry("ec server", index=2, use_ec=True).with_(created=WHEN))
        store.add(trusted_entry("root ca"))
        store.add(Entry(label="aes", kind=EntryKind.SECRET_KEY, secret=SecretKey("AES", bytes(range(32)))))
        store.add(Entry(label="Ünïcode des", kind=EntryKind.SECRET_KEY, secret=SecretKey("DESede", bytes(24))))
        store.add(Entry(label="hmac", kind=EntryKind.SECRET_KEY, secret=SecretKey("HmacSHA256", b"k" * 32)))
    with bcfks.BcfksStore.open(str(ours), password=PASSWORD, writable=True) as store:
        store._carried.append(("future", structure.object_data_der(9, "future", WHEN, b"tomorrow's bytes")))
        store.rename("aes", "aes key")
    made = {"ours": ours}
    if shutil.which("keytool") is not None and BC_JAR.exists():
        path = folder / "keytool.bcfks"
        ca_file = folder / "ca.der"
        ca_file.write_bytes(ca(0)[1].public_bytes(serialization.Encoding.DER))
        common = ["-keystore", str(path), "-storetype", "BCFKS", "-storepass", PASSWORD]
        keytool("-genkeypair", *common, "-keypass", PASSWORD, "-alias", "clé ec", "-keyalg", "EC", "-groupname",
                "secp256r1", "-dname", "CN=ec,O=keystores tests", "-validity", "30")
        keytool("-genseckey", *common, "-keypass", PASSWORD, "-alias", "aes", "-keyalg", "AES", "-keysize", "256")
        keytool("-importcert", *common, "-noprompt", "-alias", "root ca", "-file", str(ca_file))
        made["keytool"] = path
        made["key wrap"] = folder / "kwp.bcfks"
        java_tool(folder, "kwp", str(path), "BCFKS", PASSWORD, str(made["key wrap"]))
    return made


def _both(read: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """(what `read()` gives, what it gives with asn1crypto reading everything); an exception counts as its type."""
    def outcome() -> Any:
        try:
            return read()
        except Exception as exc:  # the two readers must fail alike
            return type(exc)

    lean = outcome()
    with monkeypatch.context() as patch:
        patch.setattr(structure, "der", _ASN1CRYPTO_ONLY)
        full = outcome()
    return lean, full


def _structures(path: Path) -> dict[str, Any]:
    """Every structure of a store, as structure.py reads it (the store data decrypted with the password)."""
    data = path.read_bytes()
    _, body, end = der.read(data)
    _, _, data_end = der.read(data, body, end)
    mac_alg, kdf_der, mac = structure.integrity_check(data[data_end:end])
    alg, ciphertext = structure.encrypted_data(data[body:data_end])
    plain = bcfks._decrypt(alg, PASSWORD, "STORE_ENCRYPTION", ciphertext)
    found: dict[str, Any] = {"integrity check": (mac_alg, kdf_der, mac), "mac kdf": structure.kdf(kdf_der),
                             "mac algorithm": structure.algorithm_oid(mac_alg), "store pbes2": structure.pbes2(alg)}
    found["store data"] = _store_data(plain)
    for number, (type_, label, _, blob, _) in enumerate(found["store data"][2]):
        sealed = None
        if type_ in (1, 3):
            found[f"{number} key data"] = structure.key_data(blob)
            sealed = found[f"{number} key data"][0]
        elif type_ in (2, 4):
            sealed = blob
        if sealed is not None:
            sealed_alg, _ = found[f"{number} sealed"] = structure.encrypted_data(sealed)
            found[f"{number} pbes2"] = parts = structure.pbes2(sealed_alg)
            found[f"{number} kdf"] = structure.kdf(parts[1])
            if parts[2] == structure.AES256_CCM:
                found[f"{number} ccm"] = structure.ccm_parameters(parts[3])
        if type_ in (2, 4):
            secret = bcfks._decrypt(sealed_alg, PASSWORD, "SECRET_KEY_ENCRYPTION", found[f"{number} sealed"][1])
            found[f"{number} secret"] = structure.secret_key_data(secret)
        del label
    return found


@pytest.mark.parametrize("name", ["ours", "keytool", "key wrap"])
def test_every_structure_reads_as_asn1crypto_reads_it(stores: dict[str, Path], name: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if name not in stores:
        pytest.skip("keytool or Bouncy Castle (libbcprov-java) is not installed: run scripts/setup")
    lean, full = _both(lambda: _structures(stores[name]), monkeypatch)
    assert isinstance(lean, dict) and lean == full
    assert len(lean["store data"][2]) >= 3


@pytest.mark.parametrize("name", ["ours", "keytool", "key wrap"])
def test_a_store_lists_shows_opens_and_rewrites_as_read_by_asn1crypto(stores: dict[str, Path], name: str,
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Whole stores through BcfksStore: rows, `show --json`, notes, protection, every key and secret, and the bytes
    of a rewrite (randomness and time pinned)."""
    if name not in stores:
        pytest.skip("keytool or Bouncy Castle (libbcprov-java) is not installed: run scripts/setup")

    def seen(path: Path) -> Any:
        with bcfks.BcfksStore.open(str(path), password=PASSWORD, writable=True) as store:
            entries = list(store.entries())
            view = ([entry_row(e) for e in entries], store_data(store, entries, detail=True), list(store.notes),
                    store.protection(), [(e.label, e.created, e.chain_der(), e.secret) for e in entries],
                    [e.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
                     for e in entries if e.kind is EntryKind.KEY_PAIR])
            store.rename(entries[-1].label, "renamed")
        return view, path.read_bytes()

    counter = iter(range(1 << 30))
    monkeypatch.setattr(bcfks.os, "urandom", lambda size: bytes([next(counter) % 256]) * size)
    monkeypatch.setattr(bcfks, "_utc", lambda value: (value or WHEN).astimezone(dt.UTC).replace(microsecond=0))
    results = []
    for forced in (False, True):
        path = tmp_path / "s.bcfks"  # the same path: `show --json` and notes name it
        path.write_bytes(stores[name].read_bytes())
        counter = iter(range(1 << 30))
        with monkeypatch.context() as patch:
            if forced:
                patch.setattr(structure, "der", _ASN1CRYPTO_ONLY)
            results.append(seen(path))
    for part, (lean, full) in enumerate(zip(results[0][0], results[1][0], strict=True)):
        assert lean == full, part
    assert results[0][1] == results[1][1]


def test_damaged_store_data_reads_as_asn1crypto_reads_it_or_goes_to_it(stores: dict[str, Path],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Seeded flips, insertions and cuts in decrypted store data (and in one key's data): the DER reader gives what
    asn1crypto gives, or declines and asn1crypto reads it (the same error), never another answer."""
    found = _structures(stores["ours"])
    data = stores["ours"].read_bytes()
    _, body, end = der.read(data)
    _, _, data_end = der.read(data, body, end)
    alg, ciphertext = structure.encrypted_data(data[body:data_end])
    plain = bcfks._decrypt(alg, PASSWORD, "STORE_ENCRYPTION", ciphertext)
    key_blob = next(blob for type_, _, _, blob, _ in found["store data"][2] if type_ == 1)
    rng = random.Random(15)
    for seed in (plain, key_blob, der.tlv(0x30, b"")):
        for _ in range(300):
            damaged = bytearray(seed)
            for _ in range(rng.randint(1, 3)):
                at = rng.randrange(len(damaged) or 1)
                choice = rng.random()
                if choice < 0.6 and damaged:
                    damaged[at] = rng.choice([0x00, 0x02, 0x04, 0x0C, 0x18, 0x30, 0x80, 0x81, 0xFF,
                                              rng.randrange(256)])
                elif choice < 0.8:
                    damaged[at:at] = bytes([rng.randrange(256)])
                else:
                    del damaged[at:]
            blob = bytes(damaged)
            for read in (_store_data, structure.key_data, structure.encrypted_data, structure.secret_key_data,
                         structure.kdf, structure.pbes2, structure.ccm_parameters, structure.integrity_check,
                         structure.algorithm_oid):
                lean, full = _both(functools.partial(read, blob), monkeypatch)
                assert lean == full, (read.__name__, blob.hex())


def _store_data(plain: bytes) -> Any:
    """store_data and object_data, each date made a datetime (structure.when): the lean reader keeps a date's text
    until it is asked for, asn1crypto gives the datetime."""
    integrity, created, objects = structure.store_data(plain)
    read = [structure.object_data(item) for item in objects]
    return integrity, structure.when(created), [(*each[:2], structure.when(each[2]), *each[3:]) for each in read]


@pytest.mark.parametrize("text", ["20260304050607Z", "20260304050607.5Z", "20260304050607.123456Z",
                                  "20260304050607.000Z", "20260304050607.1234567Z", "20260304050607,5Z",
                                  "202603040506Z", "2026030405Z", "20260304050607+0100", "20260304050607",
                                  "00000101000000Z", "20261304050607Z", "20260230050607Z", "２0260304050607Z"])
def test_times_read_as_asn1crypto_reads_them(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    item = der.sequence(der.integer(0), der.tlv(0x0C, b"x"), der.tlv(0x18, b"20260304050607Z"),
                        der.tlv(0x18, text.encode("utf-8")), der.octet_string(b""))
    plain = der.sequence(der.integer(1), der.sequence(der.oid("1.2.840.113549.2.11")), der.tlv(0x18, text.encode()),
                         der.tlv(0x18, b"20260304050607Z"), der.sequence(item))
    lean, full = _both(lambda: _store_data(plain), monkeypatch)
    assert lean == full


@pytest.mark.parametrize("when", [WHEN, WHEN.replace(microsecond=120000), WHEN.replace(year=999),
                                  WHEN.astimezone(dt.timezone(dt.timedelta(hours=-5)))])
@pytest.mark.parametrize("label", ["server", "Ünïcode des", ""])
def test_what_is_written_is_asn1crypto_s_encoding(when: dt.datetime, label: str) -> None:
    """Each structure the writer makes, against asn1crypto's encoding of the same values (what store.py wrote)."""
    salt, nonce, mac = bytes(range(64)), bytes(range(12)), b"m" * 64
    kdf = algos.KdfAlgorithm({"algorithm": "pbkdf2", "parameters": {
        "salt": {"specified": salt}, "iteration_count": bcfks.WRITE_ITERATIONS, "key_length": 32,
        "prf": {"algorithm": "sha512", "parameters": None}}})
    assert structure.pbkdf2_der(salt, bcfks.WRITE_ITERATIONS, 32) == kdf.dump()
    pbes2 = algos.EncryptionAlgorithm({"algorithm": "pbes2", "parameters": {
        "key_derivation_func": kdf, "encryption_scheme": {"algorithm": "aes256_ccm", "parameters": {
            "aes_nonce": nonce, "aes_icvlen": bcfks._TAG_SIZE}}}})
    assert structure.pbes2_ccm_der(kdf.dump(), nonce, bcfks._TAG_SIZE) == pbes2.dump()
    assert structure.encrypted_data_der(pbes2.dump(), b"sealed") == asn1.EncryptedData(
        {"algorithm": core.Any.load(pbes2.dump()), "content": b"sealed"}).dump()
    epki = keys.EncryptedPrivateKeyInfo({"encryption_algorithm": pbes2, "encrypted_data": b"sealed"}).dump()
    assert structure.encrypted_data_der(pbes2.dump(), b"sealed") == epki
    chain = tuple(cert.public_bytes(serialization.Encoding.DER) for cert in (ca(0)[1], ca(1)[1]))
    for certificates in (chain, ()):
        assert structure.key_data_der(epki, certificates) == asn1.EncryptedPrivateKeyData(
            {"encrypted_private_key_info": core.Any.load(epki),
             "certificates": [core.Any.load(cert) for cert in certificates]}).dump()
    assert structure.secret_key_data_der("2.16.840.1.101.3.4.1", b"k" * 32) == asn1.SecretKeyData(
        {"key_algorithm": "2.16.840.1.101.3.4.1", "key_bytes": b"k" * 32}).dump()
    assert structure.integrity_check_der(bcfks._HMAC_SHA512_DER, kdf.dump(), mac) == asn1.PbkdMacIntegrityCheck(
        {"mac_algorithm": core.Any.load(bcfks._HMAC_SHA512_DER), "pbkd_algorithm": core.Any.load(kdf.dump()),
         "mac": mac}).dump()
    item = structure.object_data_der(1, label, when, b"data")
    assert item == asn1.ObjectData({"type": 1, "identifier": label, "creation_date": when,
                                    "last_modified_date": when, "data": b"data"}).dump()
    for objects in ([item, item], []):
        assert structure.store_data_der(bcfks._HMAC_SHA512_DER, when, WHEN, objects) == asn1.ObjectStoreData({
            "version": 1, "integrity_algorithm": core.Any.load(bcfks._HMAC_SHA512_DER), "creation_date": when,
            "last_modified_date": WHEN, "objects": [asn1.ObjectData.load(o) for o in objects]}).dump()


@given(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
       st.integers(0, 99))
@example(2000, 2, 29, 23, 59, 59)
@example(1900, 2, 29, 0, 0, 0)
@example(2024, 2, 29, 0, 0, 0)
@example(2023, 2, 29, 0, 0, 0)
@example(1, 1, 1, 0, 0, 0)
@example(9999, 12, 31, 23, 59, 59)
@example(2026, 4, 31, 0, 0, 0)
@example(2026, 1, 1, 24, 0, 0)
@example(2026, 1, 1, 0, 0, 60)
def test_a_moment_is_checked_as_datetime_checks_it(year: int, month: int, day: int, hour: int, minute: int,
                                                   second: int) -> None:
    """structure._real_moment, which keeps a date as text without importing datetime, takes what datetime's
    constructor takes."""
    whole = f"{year:04d}{month:02d}{day:02d}{hour:02d}{minute:02d}{second:02d}".encode()
    try:
        dt.datetime(year, month, day, hour, minute, second)
        takes = True
    except ValueError:
        takes = False
    assert structure._real_moment(whole) is takes
