"""Writing into an NSS database lays certificates out from the DER their source holds (keystores.backends.nss.adding
held_chain) where keystores.pki.shown reads them, instead of from cryptography's decoded certificate: an import or
a trust change then imports no cryptography.x509 (issue 15: a third of such a write's start-up).

Held to the decoded reading: over every certificate of the cryptography-vectors x509/ folder and damaged copies of
them, each one shown reads gives the same issuer, subject, serial, CKA_ID, fingerprints and nickname parts from its
DER as from cryptography's certificate; and a database written from DER-held entries holds the same certificate
and trust objects as one written from decoded ones.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from test_shown import _damaged, vector_certificates
from test_store_lean import PW, _as_user, _issue, installed, stores  # noqa: F401 - fixtures

from keystores.backends.nss.adding import _Held, held_chain
from keystores.lazy_entries import made_entry
from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.pki.certificates import decode_certificate
from keystores.pki.shown import read_shown
from keystores.pki.undecoded import RawCertificate
from keystores.store import open_store

PASSWORD = "nss-write-1"


def _readable() -> list[bytes]:
    ders = [der for _, der in vector_certificates()]
    rng = random.Random(15)
    ders += [_damaged(der, rng) for der in list(ders) for _ in range(3)]
    return [der for der in ders if read_shown(der) is not None]


def _facts(held: _Held) -> tuple[object, ...]:
    return (held.issuer, held.subject, held.serial, held.key_id(), held.fingerprint("sha1"),
            held.fingerprint("md5"), held.nickname_parts())


def test_a_certificate_is_laid_out_from_its_der_as_from_its_decoding() -> None:
    ders = _readable()
    if len(ders) < 100:
        pytest.skip("cryptography-vectors is not installed")
    compared = 0
    for der in ders:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cert = decode_certificate(der)
            if isinstance(cert, RawCertificate):  # shown reads only what cryptography decodes fully
                pytest.fail(f"shown read a certificate cryptography refuses: {der.hex()[:80]}")
            decoded = _facts(_Held(der, cert=cert))
        assert _facts(_Held(der, read_shown(der))) == decoded
        compared += 1
    assert compared > 100


def test_the_chain_is_held_as_der_only_where_shown_reads_every_certificate() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    der = _issue("held", key, key, 7).public_bytes(serialization.Encoding.DER)
    held = held_chain(made_entry((der,), label="held", kind=EntryKind.TRUSTED_CERT, trust=TRUST_ALL))
    assert held[0].cert is None and held[0].der == der
    decoded = held_chain(Entry("held", EntryKind.TRUSTED_CERT, chain=(decode_certificate(der),), trust=TRUST_ALL))
    assert decoded[0].cert is not None and _facts(decoded[0]) == _facts(held[0])


def _objects(folder: Path) -> list[tuple[object, ...]]:
    """Every certificate and trust object of cert9.db, by its attributes (object ids and MAC salts aside)."""
    with sqlite3.connect(folder / "cert9.db") as conn:
        columns = [c[1] for c in conn.execute("PRAGMA table_info(nssPublic)") if c[1] != "id"]
        return sorted(conn.execute(f"SELECT {', '.join(columns)} FROM nssPublic").fetchall(),
                      key=lambda row: repr(row))


def test_a_database_written_from_der_holds_what_one_written_from_decoded_certificates_holds(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca, leaf = _issue("Lean CA", ca_key, ca_key, 1), _issue("server", key, ca_key, 2)
    ders = tuple(c.public_bytes(serialization.Encoding.DER) for c in (leaf, ca))
    written = {}
    for how in ("der", "decoded"):
        folder = tmp_path / how
        with open_store(f"sql:{folder}", password=PASSWORD, create=True) as store:
            if how == "der":
                store.add(made_entry(ders[1:], label="ca", kind=EntryKind.TRUSTED_CERT, trust=TRUST_ALL))
                store.add(made_entry(ders, label="server", kind=EntryKind.KEY_PAIR, key=key))
            else:
                store.add(Entry("ca", EntryKind.TRUSTED_CERT, chain=(decode_certificate(ders[1]),), trust=TRUST_ALL))
                store.add(Entry("server", EntryKind.KEY_PAIR, chain=tuple(map(decode_certificate, ders)), key=key))
        written[how] = _objects(folder)
        with open_store(f"sql:{folder}", password=PASSWORD) as store:
            assert store.labels() == ["ca", "server"]
            assert store.get("server").key.private_numbers() == key.private_numbers()
    assert written["der"] == written["decoded"]


@pytest.mark.parametrize("count, loaded", [(1, False), (7, False), (11, True)])
def test_derivations_expected_together_go_to_cryptography_from_the_first(count: int, loaded: bool) -> None:
    """crypto/pbkdf2.expect: 11 derivations of 10,000 cost hashlib more than loading cryptography, so the first
    goes to cryptography; one does not, nor do the 7 MACs of a trusted certificate written into NSS (on this
    session's machine hashlib is cheaper up to ~13: _LOAD_WORTH)."""
    import subprocess
    import sys

    probe = ("import sys\nfrom keystores.crypto import pbkdf2\n"
             f"pbkdf2.expect('sha256', 10000, {count})\n"
             "import hashlib\nassert pbkdf2.pbkdf2_hmac('sha256', b'k', b's' * 16, 10000, 32) == "
             "hashlib.pbkdf2_hmac('sha256', b'k', b's' * 16, 10000, 32)\n"
             "print('cryptography.hazmat.bindings._rust' in sys.modules)\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == str(loaded)


def _copy(made: dict[str, str], tmp_path: Path) -> str:
    copy = tmp_path / "nss"
    shutil.copytree(made["nss"].removeprefix("sql:"), copy)
    return f"sql:{copy}"


def test_rename_and_delete_start_no_derivation_threads_and_load_no_typing(
        installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """Neither derives a key after the password check: no KDF pool, no threading, no typing (issue 15); nor
    reads a curve (keystores.pki.key_attributes imports pki.curves where a key is laid out or read), nor builds an
    entry (keystores.lazy_entries: entries.py and transaction.py import it where one is built or carried)."""
    location = _copy(stores, tmp_path)
    for args in (["rename", location, "server", "renamed", *PW], ["delete", location, "renamed", *PW]):
        modules, _ = _as_user(installed, args)
        assert not modules & {"threading", "typing", "re", "enum", "keystores.crypto.kdf_pool",
                              "keystores.pki.curves", "keystores.lazy_entries"}, args
    with open_store(location, password="lean-store-1") as store:
        assert store.labels() == ["ca"]


def test_writes_that_lay_out_no_key_load_no_key_mapping(
        installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """rename, delete and trust off write objects by the PKCS#11 numbers alone (keystores.pki.cka): the key <->
    attributes mapping (keystores.pki.key_attributes, ~23 KB of bytecode) is loaded where a key is read or laid out;
    a certificate's CKA_ID (import) is read from its DER by keystores.pki.cka, and its fingerprints in the trust
    object are _hashlib's, without hashlib."""
    for args in (["rename", "@", "server", "renamed", *PW], ["trust", "@", "ca", "off", *PW],
                 ["delete", "@", "server", *PW]):
        location = _copy(stores, tmp_path / args[0])
        modules, run = _as_user(installed, [location if arg == "@" else arg for arg in args])
        assert "keystores.pki.cka" in modules and "keystores.pki.key_attributes" not in modules, (args, run.stderr)
    location = _copy(stores, tmp_path / "import")
    modules, _ = _as_user(installed, ["import", stores["extra"], location, "--label", "extra", "--dest-password",
                                      "env:LEAN_PW"])
    assert "keystores.pki.cka" in modules and not modules & {"keystores.pki.key_attributes", "hashlib"}


def test_writes_that_add_nothing_load_no_adding_module(
        installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """rename, delete and trust off lay out no object: what an add becomes (keystores.backends.nss.adding, its
    objects, MACs and derivations ahead) is loaded by an add or a trust set, not by them (issue 15)."""
    for args in (["rename", "@", "server", "renamed", *PW], ["trust", "@", "ca", "off", *PW],
                 ["delete", "@", "server", *PW]):
        location = _copy(stores, tmp_path / args[0])
        modules, run = _as_user(installed, [location if arg == "@" else arg for arg in args])
        assert run.returncode == 0, (args, run.stderr)
        assert "keystores.backends.nss.transaction" in modules and "keystores.backends.nss.adding" not in modules, args
    for args in (["import", stores["extra"], "@", "--label", "extra", "--dest-password", "env:LEAN_PW"],
                 ["trust", "@", "ca", "C,C,C", *PW]):
        location = _copy(stores, tmp_path / f"{args[0]}-on")
        modules, run = _as_user(installed, [location if arg == "@" else arg for arg in args])
        assert run.returncode == 0 and "keystores.backends.nss.adding" in modules, (args, run.stderr)


def test_a_write_deriving_nothing_in_threads_loads_no_threading(
        installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """Taking trust away writes no MAC: no derivation is submitted, so the write's pool is never made
    (transaction._PoolOnFirstUse) and neither kdf_pool nor threading is imported."""
    location = _copy(stores, tmp_path)
    modules, run = _as_user(installed, ["trust", location, "ca", "off", *PW])
    assert "keystores.crypto.kdf_pool" not in modules and "threading" not in modules, run.stderr
    with open_store(location, password="lean-store-1") as store:
        assert store.get("ca").trust is None


def test_the_kdf_pool_locks_are_threading_s() -> None:
    import threading

    from keystores.crypto.kdf_pool import Pending

    assert type(Pending(sum, ((),), {})._done) is type(threading.Lock())


def test_converting_a_key_pair_into_a_new_database_loads_no_pathlib_or_serialization_package(
        installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """A new database's folders are made with os and keystores.paths; the key's attributes are read without the
    serialization package (its ssh module, ~15 ms), which only an Ed25519 key's seed needs, nor an EC key the rsa
    module (which imports random) (issue 15)."""
    dest = f"sql:{tmp_path / 'new' / 'nss'}"
    modules, _ = _as_user(installed, ["convert", stores["one.p12"], dest, *PW, "--dest-password", "env:LEAN_PW"])
    assert not modules & {"pathlib", "cryptography.hazmat.primitives.serialization", "random"}
    # The EC key is laid out from the PKCS#8 it is sealed as (adding.key_values): no cryptography at all, and its
    # derivations go to hashlib.
    assert not {name for name in modules if name.startswith("cryptography")}
    # Its CKA_ID (SHA-1 of the point) is _hashlib's, as its PBKDF2: hashlib's import (its constructors, _blake2) not.
    assert "hashlib" not in modules and "_blake2" not in modules
    with open_store(dest, password="lean-store-1") as store:
        assert store.labels() == ["server"] and store.get("server").key is not None


def test_a_trust_change_decodes_no_certificate(installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """The trust object is laid out from the certificate's DER (its 7 MACs load cryptography's PBKDF2, no x509)."""
    location = _copy(stores, tmp_path)
    modules, run = _as_user(installed, ["trust", location, "ca", "C,C,C", *PW])
    assert "cryptography.x509" not in modules, run.stderr
    assert "keystores.crypto.kdf_pool" in modules and not modules & {"queue", "heapq", "_queue"}  # a deque
    with open_store(location, password="lean-store-1") as store:
        assert store.get("ca").trust.native == "C,C,C"


def test_importing_a_certificate_decodes_none(installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """The certificate is laid out from its DER (adding.held_chain), judged decodable from it (check_decodable)."""
    location = _copy(stores, tmp_path)
    modules, run = _as_user(installed, ["import", stores["extra"], location, "--label", "extra",
                                        "--dest-password", "env:LEAN_PW"])
    assert "cryptography.x509" not in modules, run.stderr
    with open_store(location, password="lean-store-1") as store:
        assert store.get("extra").trust is not None and store.get("extra").certificate.subject.rfc4514_string() \
            == "CN=extra"


def test_the_nss_backend_takes_sqlite3_s_own_objects() -> None:
    import sqlite3

    from keystores.backends.nss.db import sqlite3 as engine

    assert (engine.connect, engine.Connection, engine.Error, engine.OperationalError) == (
        sqlite3.connect, sqlite3.Connection, sqlite3.Error, sqlite3.OperationalError)


def test_opening_a_database_imports_no_sqlite3_package(installed: str, stores: dict[str, str]) -> None:  # noqa: F811
    """Its dbapi2 module imports datetime and collections for adapters the backend never uses (nss/db.py)."""
    modules, _ = _as_user(installed, ["list", stores["nss"], *PW])
    assert not modules & {"sqlite3", "sqlite3.dbapi2", "datetime"}


def test_the_kdf_pool_loads_no_queue_module() -> None:
    """Its calls wait in a list, not _queue's SimpleQueue (a shared library to load) nor a deque (_collections)."""
    from keystores.crypto.kdf_pool import KdfPool

    with KdfPool() as pool:
        pool._cores = pool._threads = 2  # threads even on one core
        assert pool.submit(None, sum, (1, 2)).result() == 3
        assert type(pool._jobs) is list
    probe = ("import sys\nfrom keystores.crypto.kdf_pool import KdfPool\nwith KdfPool() as pool:\n"
             "    pool._cores = pool._threads = 2\n    assert pool.submit(None, sum, (1, 2)).result() == 3\n"
             "print(sorted(set(sys.modules) & {'_queue', 'queue', 'threading'}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


def test_the_nss_backend_takes_hmac_s_own_compare_digest() -> None:
    import hmac

    from keystores.backends.nss import macs

    assert macs.compare_digest is hmac.compare_digest


@pytest.mark.parametrize("command", ["list", "rename", "delete", "trust off"])
def test_reading_or_relabelling_a_database_loads_no_pbe_hmac_or_profile_lock(
        installed: str, stores: dict[str, str], tmp_path: Path, command: str) -> None:  # noqa: F811
    """The password check's AES goes to libcrypto without keystores.crypto.pbe (and its KDF modules), MACs are
    checked without the hmac module, and only a write looks for a browser's profile lock (fcntl): ~6 M instructions
    of every NSS command's start-up (issue 15). None of these checks or makes a MAC: keystores.backends.nss.macs
    (~0.7 M instructions) is not loaded."""
    location = stores["nss"]
    if command != "list":
        shutil.copytree(location.removeprefix("sql:"), tmp_path / "db")
        location = f"sql:{tmp_path / 'db'}"
    args = {"list": ["list", location], "rename": ["rename", location, "ca", "root"],
            "delete": ["delete", location, "ca"], "trust off": ["trust", location, "ca", "off"]}[command]
    modules, _ = _as_user(installed, [*args, *PW])
    assert "keystores.crypto.libcrypto" in modules  # the key was decrypted (the password checked) here
    assert not modules & {"keystores.crypto.pbe", "keystores.crypto.kdf", "keystores.crypto.pbe_params", "hmac",
                          "keystores.backends.nss.macs"}
    if command == "list":
        assert not modules & {"keystores.backends.nss.profile_lock", "fcntl"}


def test_a_damaged_decoded_certificate_is_refused_naming_the_entry(tmp_path: Path) -> None:
    """A certificate cryptography loads but cannot fully decode (a subject that is no UTF-8) is refused as damaged
    before the writer reads its names (adding._Held reads a decoded certificate's names on first use)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    from keystores.errors import CorruptStore

    key = ec.generate_private_key(ec.SECP256R1())
    der = _issue("AAAAZZZZ", key, key, 9).public_bytes(serialization.Encoding.DER)
    cert = x509.load_der_x509_certificate(der.replace(b"AAAAZZZZ", b"\xff\xfeAAZZZZ"))
    with (open_store(f"sql:{tmp_path / 'nss'}", password=PASSWORD, create=True) as store,
          pytest.raises(CorruptStore, match="a certificate of the entry is damaged")):
        store.add(Entry("bad", EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL))


def test_an_import_reads_each_certificate_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pki.shown remembers what it read: an import into NSS asks about each certificate several times (decodable?
    its columns, its names and serial), and importing 2,000 read each five times (bench_nss's import row doubled)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from keystores.pki import shown

    key = ec.generate_private_key(ec.SECP256R1())
    ders = [_issue(f"Read once {i}", key, key, 7000 + i).public_bytes(serialization.Encoding.DER) for i in range(12)]
    reads: list[bytes] = []
    real_read = shown._read

    def counted(der: bytes) -> shown.Shown:
        reads.append(der)
        return real_read(der)

    monkeypatch.setattr(shown, "_read", counted)
    monkeypatch.setattr(shown, "_READ", {})  # room for these, whatever the tests before read
    with open_store(f"sql:{tmp_path}", password=PASSWORD, create=True) as store:
        for index, der in enumerate(ders):
            store.add(made_entry((der,), label=f"read once {index}", kind=EntryKind.TRUSTED_CERT))
    assert sorted(reads) == sorted(ders)


def _key_objects(folder: Path) -> list[tuple[object, ...]]:
    """Every key object of key4.db and public key object of cert9.db, by the attributes that are not encrypted
    (object ids and salts aside)."""
    found = []
    for name, table in (("key4.db", "nssPrivate"), ("cert9.db", "nssPublic")):
        with sqlite3.connect(folder / name) as conn:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")
                       if c[1] not in ("id", "a11", "a122", "a123", "a124", "a125", "a126", "a127", "a128")]
            found += conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE a0 IN (?, ?)",
                                  (bytes.fromhex("00000002"), bytes.fromhex("00000003"))).fetchall()
    return sorted(found, key=repr)


@pytest.mark.parametrize("curve", ["secp256r1", "secp384r1", "secp521r1"])
def test_a_key_held_as_pkcs8_is_laid_out_as_the_loaded_key(curve: str) -> None:
    """adding.key_values of an EC key the entry holds as PKCS#8 (not loaded) equals what key_attributes gives of
    the loaded key, and its SubjectPublicKeyInfo what cryptography writes, whichever PKCS#8 layout it came in."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from keystores.backends.nss.adding import _held_ec_values, held_ec_spki
    from keystores.crypto.key_encoding import spki_der
    from keystores.pki import key_attributes as ka
    from keystores.pki.curves import curve_named
    from keystores.pki.pkcs8 import pkcs8_der, pkcs8_of_ec_der

    for _ in range(25):
        key = ec.generate_private_key(curve_named(curve).cryptography_curve())
        public = key.public_key()
        expected = (ka.private_key_attributes(key), ka.public_key_attributes(public), ka.key_id(public))
        for plain in (pkcs8_der(key), key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption())):
            held = pkcs8_of_ec_der(plain)
            assert held is not None
            assert _held_ec_values(held) == expected
            assert held_ec_spki(held) == spki_der(public)


def test_a_pkcs8_of_another_layout_is_left_to_the_loaded_key() -> None:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    from keystores.backends.nss.adding import _held_ec, held_ec_spki
    from keystores.pki.pkcs8 import pkcs8_der

    held = pkcs8_der(ec.generate_private_key(ec.SECP256R1()))
    assert _held_ec(held) is not None
    for other in (pkcs8_der(rsa.generate_private_key(65537, 2048)), held[:-1], held + b"\x00", held[:40], b"",
                  pkcs8_der(ec.generate_private_key(ec.SECP256K1()))):
        assert _held_ec(other) is None and held_ec_spki(other) is None


def test_a_sealed_ec_key_is_written_from_its_pkcs8_as_from_the_loaded_key(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Converting a PKCS#12's EC key pair into NSS lays the key out from the PKCS#8 it holds sealed, without
    loading it: the database holds the same key objects as when the key is loaded (adding._held_ec declining)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from keystores.backends.nss import adding

    key = ec.generate_private_key(ec.SECP384R1())
    p12 = tmp_path / "one.p12"
    with open_store(p12, password=PASSWORD, create=True) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(_issue("server", key, key, 9),), key=key))
    written = {}
    for how in ("held", "loaded"):
        if how == "loaded":
            monkeypatch.setattr(adding, "_held_ec", lambda pkcs8: None)
        folder = tmp_path / how
        with open_store(p12, password=PASSWORD) as source, \
                open_store(f"sql:{folder}", password=PASSWORD, create=True) as store:
            entry = source.get("server")
            assert entry.sealed and entry.held_pkcs8() is not None
            store.add(entry)
            assert entry.sealed == (how == "held")  # the held way never loads it
        written[how] = (_key_objects(folder), _objects(folder))
        with open_store(f"sql:{folder}", password=PASSWORD) as store:
            assert store.get("server").key.private_numbers() == key.private_numbers()
    assert written["held"] == written["loaded"] and written["held"][0]


def _certs_and_trust(folder: Path) -> tuple[dict[int, bytes], dict[int, bytes], set[str]]:
    """cert9.db's certificate objects (id: nickname) and trust objects (id: issuer + serial), and key4.db's MAC
    item names."""
    with sqlite3.connect(folder / "cert9.db") as conn:
        rows = conn.execute("SELECT id, a0, a3, a81, a82 FROM nssPublic").fetchall()
    with sqlite3.connect(folder / "key4.db") as conn:
        macs = {name for (name,) in conn.execute("SELECT id FROM metaData WHERE id LIKE 'sig_%'")}
    certs = {row[0]: row[2] for row in rows if row[1] == b"\x00\x00\x00\x01"}
    trusts = {row[0]: row[3] + row[4] for row in rows if row[1] == b"\xce\x53\x43\x53"}
    return certs, trusts, macs


def test_trust_changes_the_trust_object_alone_as_certutil_m_does(
        installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """`trust` on a certificate read from the database leaves its object as it is (id, nickname) and removes
    (off) or replaces (on, CT,C,C) its trust object and that object's 7 MAC items; off derives nothing after the
    password check (no KDF pool) and reads no certificate (no keystores.pki.shown)."""
    location = _copy(stores, tmp_path)
    folder = Path(location.removeprefix("sql:"))
    certs, trusts, macs = _certs_and_trust(folder)
    (trust_id,) = trusts
    modules, _ = _as_user(installed, ["trust", location, "ca", "off", *PW])
    assert not modules & {"keystores.pki.shown", "keystores.crypto.kdf_pool", "threading", "keystores.pki.curves"}
    after = _certs_and_trust(folder)
    assert after[0] == certs and after[1] == {}
    assert after[2] == {name for name in macs if not name.startswith(f"sig_cert_{trust_id:08x}_")}
    with open_store(location, password="lean-store-1") as store:
        assert store.get("ca").trust is None and store.get("server").trust is not None
    _as_user(installed, ["trust", location, "ca", "CT,C,C", *PW])
    certs_on, trusts_on, macs_on = _certs_and_trust(folder)
    (new_id,) = trusts_on
    assert certs_on == certs and list(trusts_on.values()) == list(trusts.values())
    assert {name for name in macs_on if name.startswith(f"sig_cert_{new_id:08x}_")} == {
        f"sig_cert_{new_id:08x}_{attr:08x}" for attr in (0xCE536358, 0xCE536359, 0xCE53635A, 0xCE53635B,
                                                           0xCE536360, 0xCE5363B4, 0xCE5363B5)}
    with open_store(location, password="lean-store-1") as store:  # its MACs checked as the trust is read
        assert store.get("ca").trust.native == "CT,C,C"
    if shutil.which("certutil") is not None:
        listed = subprocess.run(["certutil", "-L", "-d", location], capture_output=True, text=True,
                                check=True).stdout
        assert any(line.split()[:1] == ["ca"] and line.split()[-1] == "CT,C,C" for line in listed.splitlines())


def test_trust_off_builds_no_entry(installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """`trust LABEL off` reads nothing of the entry: its kind comes from its objects as read (store._kind), so
    keystores.lazy_entries (~37 KB of bytecode) is not loaded (issue 15); the trust is gone after it."""
    location = _copy(stores, tmp_path)
    modules, run = _as_user(installed, ["trust", location, "ca", "off", *PW])
    assert run.returncode == 0 and "keystores.lazy_entries" not in modules, run.stderr
    with open_store(location, password="lean-store-1") as store:
        assert store.get("ca").trust is None and store.get("ca").kind is EntryKind.CERTIFICATE


def test_trust_set_on_an_entry_not_built_is_what_get_gives_before_and_after_the_save(tmp_path: Path) -> None:
    """A trust set on an entry not read yet (ChangeLog.set_trust leaves it unbuilt) is what get() gives before the
    save, after a rename and after the save, as when the entry was built first (a built entry renamed is built
    again: it read the trust as stored before); a key pair is refused by its kind as read, with the same error."""
    from helpers import key_pair_entry, trusted_entry

    from keystores.errors import UsageError
    from keystores.model import Trust

    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password="lean-store-1", create=True) as store:
        store.add(trusted_entry("root", index=3))
        store.add(key_pair_entry("server", use_ec=True))
    email = Trust(tls_server=False, tls_client=False, email=True, code_signing=False)
    for built_first in (False, True):
        with open_store(f"sql:{folder}", password="lean-store-1", writable=True) as store:
            if built_first:
                store.get("root"), store.get("server")
            with pytest.raises(UsageError, match="this is a key-pair entry"):
                store.set_trust("server", None)
            store.set_trust("root", None)
            assert store.get("root").trust is None and store.get("root").kind is EntryKind.CERTIFICATE
        with open_store(f"sql:{folder}", password="lean-store-1", writable=True) as store:
            if built_first:
                store.get("root")
            store.set_trust("root", email)
            store.rename("root", "mail")
            assert store.get("mail").trust.email and not store.get("mail").trust.tls_server
            store.save()
            assert store.get("mail").trust.email and store.get("mail").kind is EntryKind.TRUSTED_CERT
        with open_store(f"sql:{folder}", password="lean-store-1", writable=True) as store:
            assert store.get("mail").trust.email and not store.get("mail").trust.tls_server
            store.rename("mail", "root")
            store.save()


def test_a_new_database_in_a_new_folder_looks_for_no_profile_lock(
        installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """A folder made for a new database holds no browser's profile: `create` and `convert` into one do not load
    keystores.backends.nss.profile_lock; a database made in an existing folder is still checked (a Firefox profile
    folder may hold no cert9.db yet)."""
    for args in (["create", f"sql:{tmp_path / 'new'}", *PW],
                 ["convert", stores["one.p12"], f"sql:{tmp_path / 'conv'}", *PW, "--dest-password", "env:LEAN_PW"]):
        modules, run = _as_user(installed, args)
        assert run.returncode == 0 and "keystores.backends.nss.profile_lock" not in modules, (args, run.stderr)
    (tmp_path / "profile").mkdir()
    modules, run = _as_user(installed, ["create", f"sql:{tmp_path / 'profile'}", *PW])
    assert run.returncode == 0 and "keystores.backends.nss.profile_lock" in modules, run.stderr
