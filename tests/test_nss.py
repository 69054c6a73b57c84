"""NSS sql: databases, judged by NSS's own tools (certutil, pk12util, modutil from libnss3-tools) and openssl."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from helpers import ca, key_pair_entry, same_key, trusted_entry, warned_of

from keystores.errors import (
    CorruptStore,
    EntryExists,
    IntegrityError,
    StoreLocked,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.model import Entry, EntryKind, Trust
from keystores.store import open_store

PW = "nss-test-pw"
NSS_TOOLS = all(shutil.which(t) for t in ("certutil", "pk12util", "modutil"))
needs_nss = pytest.mark.skipif(not NSS_TOOLS, reason="libnss3-tools (certutil, pk12util, modutil) not installed")


def judged_by_certutil(location: str, password: str, label: str, chain: Sequence[x509.Certificate]) -> None:
    """`certutil -L -n` gives back the leaf under its nickname, and `certutil -K` lists its key under the same one."""
    if not NSS_TOOLS:
        pytest.skip("libnss3-tools (certutil) not installed")
    leaf = subprocess.run(["certutil", "-L", "-d", location, "-n", label, "-a"], capture_output=True, text=True,
                          check=False)
    assert leaf.returncode == 0, leaf.stderr
    assert x509.load_pem_x509_certificate(leaf.stdout.encode()) == chain[0]
    with tempfile.NamedTemporaryFile("w", suffix=".pw") as pwfile:
        pwfile.write(password + "\n")
        pwfile.flush()
        keys = subprocess.run(["certutil", "-K", "-d", location, "-f", pwfile.name], capture_output=True, text=True,
                              check=False)
    assert keys.returncode == 0, keys.stderr
    assert any(line.rstrip().endswith(label) for line in keys.stdout.splitlines()), keys.stdout


# what tests/test_lifecycle.py asks of an NSS database we wrote (tests/helpers.py, NativeJudge)
NATIVE_JUDGES = {"nss": judged_by_certutil}
pytestmark = pytest.mark.interop


def run(*argv: str, ok: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, input=stdin, check=False)
    if ok:
        assert done.returncode == 0, f"{argv[0]} failed: {done.stdout}\n{done.stderr}"
    return done


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def certutil_trust(folder: Path) -> dict[str, str]:
    """nickname -> trust letters as `certutil -L` prints them."""
    out = run("certutil", "-L", "-d", f"sql:{folder}").stdout
    trust = {}
    for line in out.splitlines()[3:]:
        if line.strip():
            name, _, flags = line.rstrip().rpartition(" ")
            trust[name.strip()] = flags
    return trust


@pytest.fixture
def pwfile(tmp_path: Path) -> Path:
    path = tmp_path / "pw.txt"
    path.write_text(PW + "\n")
    return path


def _our_db(folder: Path, *, profile: str = "modern", password: str = PW) -> tuple[Entry, Entry, Entry]:
    """A database written from scratch by us: a trusted CA, an RSA and an EC key pair issued by it."""
    root = trusted_entry("Test Root")
    rsa_entry = key_pair_entry("rsa server", index=1)
    ec_entry = key_pair_entry("ec server", index=2, use_ec=True)
    with warned_of(profile), open_store(f"sql:{folder}", password=password, create=True, profile=profile) as store:
        store.add(root)
        store.add(rsa_entry)
        store.add(ec_entry)
    return root, rsa_entry, ec_entry


@needs_nss
class TestNssToolsReadWhatWeWrite:
    def test_certutil_lists_trust_and_keys(self, tmp_path, pwfile):
        folder = tmp_path / "ours"
        _our_db(folder)
        trust = certutil_trust(folder)
        assert trust["Test Root"] == "CT,C,C"
        assert trust["rsa server"] == "u,u,u"
        assert trust["ec server"] == "u,u,u"
        keys = run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(pwfile)).stdout
        assert "rsa server" in keys and "ec server" in keys
        assert " rsa " in keys and " ec " in keys
        # certutil validates our leaf against our CA (trust objects and chain as NSS needs them).
        done = run("certutil", "-V", "-u", "V", "-n", "rsa server", "-d", f"sql:{folder}")
        assert "certificate is valid" in done.stdout

    @pytest.mark.parametrize("profile", ["modern", "compat"])
    def test_pk12util_exports_our_keys_and_openssl_reads_them(self, tmp_path, pwfile, profile):
        # pk12util exports with 600,000 PBKDF2 iterations: one key per profile keeps this quick.
        folder = tmp_path / "ours"
        _, rsa_entry, ec_entry = _our_db(folder, profile=profile)
        entry = ec_entry if profile == "modern" else rsa_entry
        out = tmp_path / "export.p12"
        run("pk12util", "-o", str(out), "-n", entry.label, "-d", f"sql:{folder}", "-k", str(pwfile),
            "-W", "exportpw")
        pem = run("openssl", "pkcs12", "-in", str(out), "-passin", "pass:exportpw", "-nodes").stdout
        key = serialization.load_pem_private_key(pem[pem.index("-----BEGIN PRIVATE KEY"):].encode(), None)
        assert same_key(key, entry.key)
        assert entry.chain[0].public_bytes(serialization.Encoding.PEM).decode() in pem
        with open_store(f"sql:{folder}", password=PW) as store:
            scheme = store.protection()["keys"].text
            assert same_key(store.get(rsa_entry.label).key, rsa_entry.key)
        assert ("3DES" in scheme) == (profile == "compat")

    def test_rename_delete_and_password_change_seen_by_certutil(self, tmp_path, pwfile):
        folder = tmp_path / "ours"
        _our_db(folder)
        with open_store(f"sql:{folder}", password=PW, writable=True) as store:
            store.rename("rsa server", "renamed")
            store.remove("ec server")
            store.set_password("new-password")
        trust = certutil_trust(folder)
        assert set(trust) == {"Test Root", "renamed"}
        assert trust["renamed"] == "u,u,u"
        # cert9.db (nothing secret) is kept as it was; no copy of key4.db keeps the old password or deleted keys
        assert (folder / "cert9.db.bak").exists() and not (folder / "key4.db.bak").exists()
        new_pw = tmp_path / "new.txt"
        new_pw.write_text("new-password\n")
        keys = run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(new_pw)).stdout
        assert "renamed" in keys and "ec server" not in keys
        assert run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(pwfile), ok=False).returncode != 0
        out = tmp_path / "after.p12"
        run("pk12util", "-o", str(out), "-n", "renamed", "-d", f"sql:{folder}", "-k", str(new_pw), "-W", "x")
        with pytest.raises(WrongPassword):
            open_store(f"sql:{folder}", password=PW)
        with open_store(f"sql:{folder}", password="new-password") as store:
            assert same_key(store.get("renamed").key, key_pair_entry("x", index=1).key)

    def test_empty_password_database(self, tmp_path):
        folder = tmp_path / "empty"
        with open_store(f"sql:{folder}", password="", create=True) as store:
            store.add(key_pair_entry("k", index=1))
        keys = run("certutil", "-K", "-d", f"sql:{folder}").stdout  # no password asked
        assert "k" in keys
        with open_store(f"sql:{folder}") as store:
            assert same_key(store.get("k").key, key_pair_entry("k", index=1).key)
            assert "empty" in store.protection()["password"].text


    def test_empty_password_ca_list_checks_trust_macs_when_trust_is_read(self, tmp_path):
        """A browser-style CA list (empty password, no keys): listing tries no password, reading trust does and
        checks the MACs certutil wrote; tampering shows there and in list --json, not in the plain table."""
        folder = tmp_path / "cas"
        folder.mkdir()
        run("certutil", "-N", "-d", f"sql:{folder}", "--empty-password")
        _, root = ca(5)
        (tmp_path / "root.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
        run("certutil", "-A", "-d", f"sql:{folder}", "-n", "A Root", "-t", "C,,", "-i", str(tmp_path / "root.pem"))
        with open_store(f"sql:{folder}") as store:
            assert store.get("A Root").trust.native == "C,,"
            assert "empty" in store.protection()["password"].text
        with sqlite3.connect(folder / "cert9.db") as conn:  # server auth C -> P (a trusted peer), MAC left as it was
            conn.execute("UPDATE nssPublic SET ace536358=? WHERE ace536358 IS NOT NULL", (bytes.fromhex("ce534351"),))
        with open_store(f"sql:{folder}") as store, pytest.raises(IntegrityError) as info:
            _ = store.get("A Root").trust
        assert info.value.label == "A Root"
        table = subprocess.run([sys.executable, "-m", "keystores", "list", f"sql:{folder}"], capture_output=True,
                               text=True, check=False)
        assert table.returncode == 0 and table.stdout.startswith("A Root\t"), table.stderr
        as_json = subprocess.run([sys.executable, "-m", "keystores", "list", f"sql:{folder}", "--json"],
                                 capture_output=True, text=True, check=False)
        assert as_json.returncode == 1 and "A Root" in as_json.stderr and "MAC" in as_json.stderr


@pytest.fixture(scope="module")
def nss_made(tmp_path_factory):
    """certutil -N/-S/-A and pk12util -i: a CA with key, an EC leaf, a trusted-only CA, a PKCS#12 import."""
    if not NSS_TOOLS:
        pytest.skip("libnss3-tools not installed")
    folder = tmp_path_factory.mktemp("nss")
    (folder / "pw").write_text(PW + "\n")
    (folder / "noise").write_bytes(os.urandom(64))
    d, pw = f"sql:{folder}", str(folder / "pw")
    run("certutil", "-N", "-d", d, "-f", pw)
    run("certutil", "-S", "-d", d, "-f", pw, "-z", str(folder / "noise"), "-n", "Tool CA", "-s",
        "CN=Tool CA,O=NSS", "-x", "-t", "CT,C,C", "-k", "rsa", "-g", "2048", "-m", "1", "-v", "12")
    run("certutil", "-S", "-d", d, "-f", pw, "-z", str(folder / "noise"), "-n", "ec leaf", "-s",
        "CN=ec.example", "-c", "Tool CA", "-t", "u,u,u", "-k", "ec", "-q", "nistp256", "-m", "2", "-v", "12")
    _, other = ca(3)
    (folder / "other.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    run("certutil", "-A", "-d", d, "-f", pw, "-n", "Other CA", "-t", "C,,", "-i", str(folder / "other.pem"))
    entry = key_pair_entry("p12 import", index=4)
    blob = pkcs12.serialize_key_and_certificates(
        b"imported", entry.key, entry.chain[0], [entry.chain[1]],
        serialization.BestAvailableEncryption(b"p12pw"))
    (folder / "in.p12").write_bytes(blob)
    run("pk12util", "-i", str(folder / "in.p12"), "-d", d, "-k", pw, "-W", "p12pw")
    return folder, entry


@needs_nss
class TestWeReadWhatNssWrote:
    def test_reads_everything_with_trust(self, nss_made):
        folder, entry = nss_made
        with open_store(f"sql:{folder}", password=PW) as store:
            labels = set(store.labels())
            assert {"Tool CA", "ec leaf", "Other CA", "imported"} <= labels
            tool_ca = store.get("Tool CA")
            assert tool_ca.kind is EntryKind.KEY_PAIR and tool_ca.trust.native == "CTu,Cu,Cu"
            assert tool_ca.trust.tls_server and tool_ca.trust.tls_client
            other = store.get("Other CA")
            assert other.kind is EntryKind.TRUSTED_CERT and other.trust.native == "C,,"
            assert other.trust.tls_server and not other.trust.email
            ec_leaf = store.get("ec leaf")
            assert ec_leaf.trust.native == "u,u,u" and len(ec_leaf.chain) == 2
            assert ec_leaf.key.public_key().public_numbers() == ec_leaf.chain[0].public_key().public_numbers()
            imported = store.get("imported")
            assert same_key(imported.key, entry.key) and imported.chain == entry.chain
            assert "PBES2" in store.protection()["keys"].text

    def test_converts_to_pkcs12_that_openssl_reads(self, nss_made, tmp_path):
        folder, _ = nss_made
        target = tmp_path / "out.p12"
        with open_store(f"sql:{folder}", password=PW) as source, \
                open_store(target, password="outpw", create=True) as dest:
            for item in source.entries():
                dest.add(item)
        done = run("openssl", "pkcs12", "-in", str(target), "-passin", "pass:outpw", "-nodes", "-info")
        assert done.stdout.count("PRIVATE KEY-----") >= 6  # BEGIN and END of three keys

    def test_without_password_lists_and_keys_are_locked(self, nss_made):
        folder, _ = nss_made
        with open_store(f"sql:{folder}") as store:
            entry = store.get("imported")
            assert entry.kind is EntryKind.KEY_PAIR and not entry.key.extractable
            assert any("locked" in note for note in store.notes)

    def test_wrong_password(self, nss_made):
        folder, _ = nss_made
        before = snapshot(folder)
        with pytest.raises(WrongPassword):
            open_store(f"sql:{folder}", password="nope")
        assert snapshot(folder) == before

    def test_cli_lists_like_certutil(self, nss_made):
        folder, _ = nss_made
        done = subprocess.run([sys.executable, "-m", "keystores", "list", f"sql:{folder}", "--json"],
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr
        for name in ("Tool CA", "ec leaf", "Other CA", "imported"):
            assert name in done.stdout
        wrong = subprocess.run([sys.executable, "-m", "keystores", "list", f"sql:{folder}", "--password",
                                "env:NSS_WRONG"], capture_output=True, text=True, check=False,
                               env={**os.environ, "NSS_WRONG": "not-it"})
        assert wrong.returncode == 3 and "wrong password" in wrong.stderr


@needs_nss
class TestBadInput:
    def test_tampered_mac_names_the_entry_and_changes_nothing(self, tmp_path, pwfile):
        folder = tmp_path / "ours"
        _our_db(folder)
        with sqlite3.connect(folder / "key4.db") as conn:
            row = conn.execute("SELECT id, item1 FROM metaData WHERE id LIKE 'sig_key_%_00000123'").fetchone()
            blob = bytearray(row[1])
            blob[-1] ^= 1
            conn.execute("UPDATE metaData SET item1=? WHERE id=?", (bytes(blob), row[0]))
        # NSS itself refuses to export the key now: the tampering is real.
        assert run("pk12util", "-o", str(tmp_path / "x.p12"), "-n", "rsa server", "-d", f"sql:{folder}",
                   "-k", str(pwfile), "-W", "x", ok=False).returncode != 0
        before = snapshot(folder)
        with open_store(f"sql:{folder}", password=PW) as store, pytest.raises(IntegrityError) as info:
            _ = store.get("rsa server").key
        assert info.value.label == "rsa server"
        store = open_store(f"sql:{folder}", password=PW, writable=True)
        try:
            store.set_password("other")
            with pytest.raises(IntegrityError) as info:
                store.save()
            assert info.value.label == "rsa server"
        finally:
            store.close()
        assert snapshot(folder) == before

    def test_tampered_trust_value(self, tmp_path):
        folder = tmp_path / "ours"
        _our_db(folder)
        with sqlite3.connect(folder / "cert9.db") as conn:
            conn.execute("UPDATE nssPublic SET ace53635b=? WHERE a0=?", (bytes.fromhex("ce534353"),
                                                                           bytes.fromhex("ce534353")))
        with open_store(f"sql:{folder}", password=PW) as store:
            entry = store.get("Test Root")  # the certificate itself is not MACed; its trust is checked when read
            with pytest.raises(IntegrityError) as info:
                _ = entry.trust
        assert info.value.label == "Test Root"
        # What shows the trust (list --json, show, convert) fails naming the entry; nothing is written.
        before = snapshot(folder)
        done = subprocess.run([sys.executable, "-m", "keystores", "list", f"sql:{folder}", "--json", "--password",
                               "env:NSS_PW"], capture_output=True, text=True, check=False,
                              env={**os.environ, "NSS_PW": PW})
        assert done.returncode == 1 and "Test Root" in done.stderr and "MAC" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and snapshot(folder) == before

    def test_truncated_database(self, tmp_path):
        folder = tmp_path / "ours"
        _our_db(folder)
        data = (folder / "cert9.db").read_bytes()
        (folder / "cert9.db").write_bytes(data[: len(data) // 3])
        before = snapshot(folder)
        with pytest.raises(CorruptStore), open_store(f"sql:{folder}", password=PW) as store:
            list(store.entries())
        (folder / "key4.db").write_bytes(b"\x00" * 100)
        with pytest.raises(CorruptStore):
            open_store(f"sql:{folder}", password=PW)
        assert snapshot(folder) == {**before, "key4.db": b"\x00" * 100}

    def test_folder_that_is_not_nss(self, tmp_path):
        (tmp_path / "notes.txt").write_text("hello")
        with pytest.raises(UnsupportedFormat):
            open_store(f"sql:{tmp_path}", password=PW)
        sqlite3.connect(tmp_path / "cert9.db").execute("CREATE TABLE x (y)").connection.close()
        (tmp_path / "key4.db").write_bytes((tmp_path / "cert9.db").read_bytes())
        before = snapshot(tmp_path)
        with pytest.raises(UnsupportedFormat):
            open_store(f"sql:{tmp_path}", password=PW)
        assert snapshot(tmp_path) == before

@needs_nss
class TestConcurrency:
    def test_busy_database_is_refused_without_change(self, tmp_path, monkeypatch):
        from keystores.backends.nss import NssStore

        monkeypatch.setattr(NssStore, "lock_wait", 0.5)
        folder = tmp_path / "ours"
        _our_db(folder)
        before = snapshot(folder)
        other = sqlite3.connect(folder / "cert9.db", isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StoreLocked), open_store(f"sql:{folder}", password=PW, writable=True) as store:
                store.add(trusted_entry("another", index=2))
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert snapshot(folder) == before

    def test_running_browser_lock_refused(self, tmp_path):
        folder = tmp_path / "ours"
        _our_db(folder)
        os.symlink(f"127.0.0.1:+{os.getpid()}", folder / "lock")  # what Firefox leaves while running
        with pytest.raises(StoreLocked):
            open_store(f"sql:{folder}", password=PW, writable=True)
        with open_store(f"sql:{folder}", password=PW) as store:  # reading stays possible
            assert "Test Root" in store.labels()

    def test_trust_read_after_another_program_wrote_is_refused_not_misreported(self, tmp_path, pwfile):
        """MAC items are read when a trust or key is first read: if another program committed in between, the
        objects read at open may not match them, and the answer is "open it again", not an integrity failure."""
        folder = tmp_path / "ours"
        _our_db(folder)
        reader = open_store(f"sql:{folder}", password=PW)
        try:
            root = reader.get("Test Root")
            run("certutil", "-M", "-d", f"sql:{folder}", "-n", "Test Root", "-t", "C,C,C", "-f", str(pwfile))
            with pytest.raises(StoreLocked, match="open it again"):
                _ = root.trust
        finally:
            reader.close()
        with open_store(f"sql:{folder}", password=PW) as store:
            assert store.get("Test Root").trust.native == "C,C,C"

    def test_our_own_write_leaves_later_reads_working(self, tmp_path):
        folder = tmp_path / "ours"
        _our_db(folder)
        with open_store(f"sql:{folder}", password=PW, writable=True) as store:
            store.rename("rsa server", "rsa renamed")
            store.save()
            assert store.get("Test Root").trust.native == "CT,C,C"  # MAC items read after our own commit
            assert same_key(store.get("ec server").key, store.get("ec server").key)

    def test_extra_columns_of_newer_nss_tolerated(self, tmp_path, pwfile):
        folder = tmp_path / "ours"
        _our_db(folder)
        for name, table in (("cert9.db", "nssPublic"), ("key4.db", "nssPrivate")):
            with sqlite3.connect(folder / name) as conn:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN a1234")
        with sqlite3.connect(folder / "cert9.db") as conn:
            # An older schema without the MD5 hash column: the writer has to add it back.
            conn.execute("ALTER TABLE nssPublic DROP COLUMN ace5363b5")
        with open_store(f"sql:{folder}", password=PW, writable=True) as store:
            store.add(trusted_entry("added later", index=2))
        assert certutil_trust(folder)["added later"] == "CT,C,C"
        with open_store(f"sql:{folder}", password=PW) as store:  # MACs of every trust attribute check out
            assert store.get("added later").trust.native == "CT,C,C"
        with sqlite3.connect(folder / "cert9.db") as conn:
            assert conn.execute("SELECT count(*) FROM nssPublic WHERE ace5363b5 IS NOT NULL").fetchone()[0] == 1


@needs_nss
def test_pkcs11_trust_objects_are_read(tmp_path):
    """PKCS#11 3.2 CKO_TRUST (NSS >= 3.114) beside CKO_NSS_TRUST: convert our trust object and read it back."""
    from keystores.backends.nss import crypto as nc
    from keystores.backends.nss import db
    from keystores.backends.nss import macs as nm
    from keystores.backends.nss.transaction import Writer

    folder = tmp_path / "ours"
    _our_db(folder)
    with sqlite3.connect(folder / "key4.db") as conn:
        salt = conn.execute("SELECT item1 FROM metaData WHERE id='password'").fetchone()[0]
    key = nc.pass_key(salt, PW)
    conn = sqlite3.connect(folder / "key4.db", isolation_level=None)
    conn.execute("ATTACH DATABASE ? AS cert", (str(folder / "cert9.db"),))
    conn.execute("BEGIN")
    writer = Writer(conn)
    (trust_id,) = conn.execute("SELECT id FROM cert.nssPublic WHERE a0=?", (db.ulong(db.CKO_NSS_TRUST),)).fetchone()
    values = {db.CKA_CLASS: db.ulong(db.CKO_TRUST), db.CKA_PKCS_TRUST_SERVER_AUTH: db.ulong(2),
              db.CKA_PKCS_TRUST_CLIENT_AUTH: db.ulong(4), db.CKA_PKCS_TRUST_EMAIL_PROTECTION: db.ulong(2),
              db.CKA_PKCS_TRUST_CODE_SIGNING: db.ulong(3)}
    writer.update("cert", db.PUBLIC_TABLE, trust_id, values)
    conn.execute("UPDATE cert.nssPublic SET ace536358=NULL, ace536359=NULL, ace53635a=NULL, ace53635b=NULL, "
                 "ace536360=NULL WHERE id=?", (trust_id,))
    for attr, value in values.items():
        if attr != db.CKA_CLASS:
            conn.execute("INSERT INTO metaData (id, item1) VALUES (?, ?)",
                         (f"sig_cert_{trust_id:08x}_{attr:08x}", nm.make_mac(key, trust_id, attr, value,
                                                                              iterations=10)))
    conn.execute("COMMIT")
    conn.close()
    with open_store(f"sql:{folder}", password=PW) as store:
        trust = store.get("Test Root").trust
    assert trust == Trust(tls_server=True, tls_client=False, email=True, code_signing=False, native="C,C,p")


@needs_nss
class TestModules:
    LIB = "/usr/lib/softhsm/libsofthsm2.so"

    @pytest.fixture
    def nssdb(self, tmp_path):
        if not Path(self.LIB).exists():
            pytest.skip("softhsm2 not installed")
        folder = tmp_path / "db"
        folder.mkdir()
        run("certutil", "-N", "-d", f"sql:{folder}", "--empty-password")
        return folder

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "keystores", "nss", *args], capture_output=True, text=True,
                              check=False)

    def test_modutil_lists_what_we_registered(self, nssdb, tmp_path):
        conf = tmp_path / "softhsm2.conf"
        (tmp_path / "tokens").mkdir()
        conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\n")
        done = self.cli("add-module", f"sql:{nssdb}", "--name", "My HSM", "--library", self.LIB,
                        "--mechanisms", "RSA:ECC")
        assert done.returncode == 0, done.stderr
        listed = subprocess.run(["modutil", "-dbdir", f"sql:{nssdb}", "-list"], capture_output=True, text=True,
                                env={**os.environ, "SOFTHSM2_CONF": str(conf)}, check=True).stdout
        assert "My HSM" in listed and self.LIB in listed
        assert self.cli("add-module", f"sql:{nssdb}", "--name", "My HSM", "--library", self.LIB).returncode == 1
        done = self.cli("remove-module", f"sql:{nssdb}", "--name", "My HSM")
        assert done.returncode == 0, done.stderr
        listed = run("modutil", "-dbdir", f"sql:{nssdb}", "-list").stdout
        assert "My HSM" not in listed
        assert self.cli("remove-module", f"sql:{nssdb}", "--name", "My HSM").returncode == 4

    def test_we_list_what_modutil_added(self, nssdb, tmp_path):
        conf = tmp_path / "softhsm2.conf"
        (tmp_path / "tokens").mkdir()
        conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\n")
        subprocess.run(["modutil", "-dbdir", f"sql:{nssdb}", "-add", "Their HSM", "-libfile", self.LIB, "-force"],
                       capture_output=True, env={**os.environ, "SOFTHSM2_CONF": str(conf)}, check=True)
        done = self.cli("modules", f"sql:{nssdb}", "--json")
        assert done.returncode == 0, done.stderr
        import json

        modules = json.loads(done.stdout)["modules"]
        assert [m["name"] for m in modules] == ["NSS Internal PKCS #11 Module", "Their HSM"]
        assert modules[0]["internal"] and modules[1]["library"] == self.LIB

    def test_missing_library_refused(self, nssdb):
        before = (nssdb / "pkcs11.txt").read_bytes()
        done = self.cli("add-module", f"sql:{nssdb}", "--name", "x", "--library", "/nonexistent/lib.so")
        assert done.returncode == 4 and "/nonexistent/lib.so" in done.stderr  # not found, as the README says
        assert (nssdb / "pkcs11.txt").read_bytes() == before


def test_ckaid_is_sha1_of_modulus(tmp_path):
    folder = tmp_path / "ours"
    _, rsa_entry, _ = _our_db(folder)
    modulus = rsa_entry.key.private_numbers().public_numbers.n
    expected = hashlib.sha1(modulus.to_bytes((modulus.bit_length() + 7) // 8, "big")).digest()
    with sqlite3.connect(folder / "key4.db") as conn:
        ids = {bytes(r[0]) for r in conn.execute("SELECT a102 FROM nssPrivate")}
    assert expected in ids


def test_certificate_ckaid_follows_the_one_convention_for_ed25519_too(tmp_path):
    """cert9.db's CKA_ID is keystores.pki.key_attributes.key_id, as on tokens: SHA-1 of the Ed25519 key (it was
    empty before the mapping lived once; NSS 3.87's certutil cannot add such certificates, newer NSS hashes the
    public value alike)."""
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from helpers import certificate

    ca_key, ca_cert = ca(0)
    edwards = ed25519.Ed25519PrivateKey.generate()
    cert = certificate(edwards, "ed25519 issuer", ca_key, ca_cert, ca=True)
    folder = tmp_path / "ours"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(Entry(label="ed", kind=EntryKind.TRUSTED_CERT, chain=(cert,), trust=Trust()))
    raw = edwards.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    with sqlite3.connect(folder / "cert9.db") as conn:
        ids = {bytes(r[0]) for r in conn.execute("SELECT a102 FROM nssPublic WHERE a3=?", (b"ed",))}
    assert ids == {hashlib.sha1(raw).digest()}


@needs_nss
def test_cli_converts_certutil_database_to_jks_that_keytool_reads(nss_made, tmp_path):
    keytool = shutil.which("keytool")
    if not keytool:
        pytest.skip("keytool not installed")
    folder, _ = nss_made
    target = tmp_path / "out.jks"
    env = {**os.environ, "SRC_PW": PW, "DEST_PW": "jkspass"}
    done = subprocess.run([sys.executable, "-m", "keystores", "convert", f"sql:{folder}", str(target),
                           "--password", "env:SRC_PW", "--dest-password", "env:DEST_PW"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    listed = run(keytool, "-list", "-keystore", str(target), "-storepass", "jkspass").stdout.lower()
    assert "imported, " in listed and "privatekeyentry" in listed
    assert "other ca, " in listed and "trustedcertentry" in listed


@needs_nss
def test_removing_a_key_pair_leaves_its_issuers_as_certutil_does(nss_made, tmp_path):
    """The chain CA pk12util added is an entry of its own (kind "certificate", listed by certutil -L): deleting
    the key pair leaves it, as certutil -D -n imported does."""
    folder = tmp_path / "copy"
    shutil.copytree(nss_made[0], folder)
    with open_store(f"sql:{folder}", password=PW) as store:
        assert len(store.get("imported").chain) == 2
    before = certutil_trust(folder)
    assert "Test Root CA 0 - keystores tests" in before  # pk12util named the chain CA
    with open_store(f"sql:{folder}", password=PW, writable=True) as store:
        store.remove("imported")
    after = certutil_trust(folder)
    assert set(before) - set(after) == {"imported"}
    with open_store(f"sql:{folder}", password=PW) as store:
        assert store.get("Test Root CA 0 - keystores tests").kind is EntryKind.CERTIFICATE
    keys = run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(folder / "pw")).stdout
    assert "imported" not in keys and "Tool CA" in keys


@needs_nss
def test_firefox_parentlock_refused(tmp_path):
    folder = tmp_path / "profile"
    _our_db(folder)
    script = ("import fcntl, os, sys, time\n"
              f"fd = os.open({str(folder / '.parentlock')!r}, os.O_RDWR | os.O_CREAT)\n"
              "fcntl.lockf(fd, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(folder)
        with pytest.raises(StoreLocked):
            open_store(f"sql:{folder}", password=PW, writable=True)
        assert snapshot(folder) == before
    finally:
        holder.kill()
        holder.wait()
    with open_store(f"sql:{folder}", password=PW, writable=True) as store:  # free again once it exits
        store.remove("ec server")
    assert "ec server" not in certutil_trust(folder)


@needs_nss
def test_mechanism_flags_go_to_the_slots_the_module_reports(tmp_path):
    lib = TestModules.LIB
    if not Path(lib).exists() or not shutil.which("softhsm2-util"):
        pytest.skip("softhsm2 not installed")
    pytest.importorskip("pkcs11")
    folder = tmp_path / "db"
    folder.mkdir()
    run("certutil", "-N", "-d", f"sql:{folder}", "--empty-password")
    (tmp_path / "tokens").mkdir()
    conf = tmp_path / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tmp_path / 'tokens'}\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "t1", "--so-pin", "1234", "--pin", "1234"],
                   env=env, capture_output=True, check=True)
    shown = subprocess.run(["softhsm2-util", "--show-slots"], env=env, capture_output=True, text=True,
                           check=True).stdout
    slot_ids = {int(line.split()[1]) for line in shown.splitlines() if line.startswith("Slot ")}
    done = subprocess.run([sys.executable, "-m", "keystores", "nss", "add-module", f"sql:{folder}", "--name", "HSM",
                           "--library", lib, "--mechanisms", "RSA:ECC"], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    text = (folder / "pkcs11.txt").read_text()
    for slot in slot_ids:
        assert f"0x{slot:08x}=[slotFlags=RSA,ECC ]" in text
    listed = subprocess.run(["modutil", "-dbdir", f"sql:{folder}", "-list"], env=env, capture_output=True,
                            text=True, check=True).stdout
    assert "HSM" in listed and "token: t1" in listed


def _flip_and_read(source: Path, work: Path, seed: int) -> None:
    """Damage a copy of `source` (bit flips or truncation) and read all of it: only keystores errors may come out."""
    import random

    from keystores.errors import KeystoreError

    rng = random.Random(seed)
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work)
    name = rng.choice(["cert9.db", "key4.db"])
    data = bytearray((work / name).read_bytes())
    if rng.random() < 0.2:
        data = data[: rng.randrange(len(data))]
    else:
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(100, len(data))] ^= 1 << rng.randrange(8)
    (work / name).write_bytes(bytes(data))
    try:
        with open_store(f"sql:{work}", password="") as store:
            for entry in store.entries():
                _ = entry.key, entry.chain, entry.trust
            store.protection()
    except KeystoreError:
        pass


@pytest.mark.parametrize("rounds", [pytest.param(40, id="short"),
                                    pytest.param(2000, id="long", marks=pytest.mark.slow)])
def test_damaged_databases_give_clear_errors(tmp_path, rounds):
    source = tmp_path / "source"
    _our_db(source, password="")  # an empty password: one PBKDF2 iteration, so many rounds stay quick
    for seed in range(rounds):
        _flip_and_read(source, tmp_path / "work", seed)


@needs_nss
def test_trust_object_for_another_certificate_is_ignored_like_nss_does(tmp_path):
    from keystores.backends.nss import crypto as nc
    from keystores.backends.nss import db
    from keystores.backends.nss import macs as nm

    folder = tmp_path / "ours"
    _our_db(folder)
    with sqlite3.connect(folder / "key4.db") as conn:
        salt = conn.execute("SELECT item1 FROM metaData WHERE id='password'").fetchone()[0]
    key = nc.pass_key(salt, PW)
    wrong = hashlib.sha1(b"some other certificate").digest()
    with sqlite3.connect(folder / "cert9.db") as conn:
        (trust_id,) = conn.execute("SELECT id FROM nssPublic WHERE a0=?", (db.ulong(db.CKO_NSS_TRUST),)).fetchone()
        conn.execute("UPDATE nssPublic SET ace5363b4=? WHERE id=?", (wrong, trust_id))
    with sqlite3.connect(folder / "key4.db") as conn:  # a valid MAC: only the hash tells the objects apart
        conn.execute("UPDATE metaData SET item1=? WHERE id=?",
                     (nm.make_mac(key, trust_id, db.CKA_CERT_SHA1_HASH, wrong, iterations=10),
                      f"sig_cert_{trust_id:08x}_{db.CKA_CERT_SHA1_HASH:08x}"))
    assert certutil_trust(folder)["Test Root"] == ",,"  # NSS agrees: no trust
    with open_store(f"sql:{folder}", password=PW) as store:
        assert store.get("Test Root").trust is None
        assert any("hash mismatch" in note for note in store.notes)


def test_repeated_nicknames_are_numbered_in_the_order_the_objects_are_read(tmp_path):
    """Three certificate objects under one nickname: the labels every backend gives a repeated name (pki.labels)."""
    from keystores.backends.nss import db

    folder = tmp_path / "ours"
    _our_db(folder)
    with sqlite3.connect(folder / "cert9.db") as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM nssPublic WHERE a0=? ORDER BY rowid",
                                              (db.ulong(db.CKO_CERTIFICATE),))]
        conn.execute("UPDATE nssPublic SET a3=? WHERE a0=?", (b"same", db.ulong(db.CKO_CERTIFICATE)))
    with open_store(f"sql:{folder}", password=PW) as store:
        assert store.labels() == ["same", "same (2)", "same (3)"][:len(ids)]
        assert store.get("same (2)").kind is EntryKind.KEY_PAIR


@needs_nss
def test_writing_while_certutil_writes_loses_nothing(tmp_path):
    """NSS tools and we write the same database at once: sqlite's locking serialises us, nothing is lost."""
    folder = tmp_path / "shared"
    with open_store(f"sql:{folder}", password="", create=True):
        pass
    pems = []
    for i in range(8):
        _, cert = ca(10 + i)
        path = tmp_path / f"theirs{i}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        pems.append(path)
    script = " && ".join(f"certutil -A -d sql:{folder} -n theirs{i} -t C,, -i {p}" for i, p in enumerate(pems))
    theirs = subprocess.Popen(["sh", "-c", script])
    try:
        for i in range(6):
            with open_store(f"sql:{folder}", password="", writable=True) as store:
                store.add(trusted_entry(f"ours{i}", index=20 + i))
    finally:
        assert theirs.wait(timeout=120) == 0
    names = set(certutil_trust(folder))
    assert {f"ours{i}" for i in range(6)} | {f"theirs{i}" for i in range(8)} <= names
    for name in ("cert9.db", "key4.db"):
        with sqlite3.connect(folder / name) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with open_store(f"sql:{folder}") as store:
        assert all(store.get(f"theirs{i}").trust.native == "C,," for i in range(8))


def test_password_needed_to_add_but_not_to_rename_or_delete(tmp_path):
    from keystores.errors import PasswordRequired

    folder = tmp_path / "ours"
    _our_db(folder)
    with open_store(f"sql:{folder}", writable=True) as store:
        with pytest.raises(PasswordRequired):
            store.add(trusted_entry("new", index=2))
        store.rename("Test Root", "Root renamed")
        store.remove("ec server")
    with open_store(f"sql:{folder}", password=PW) as store:
        assert sorted(store.labels()) == ["Root renamed", "rsa server"]
        assert store.get("Root renamed").trust.native == "CT,C,C"  # its MACs still verify


@needs_nss
def test_p384_key_pair_read_by_certutil_and_back(tmp_path, pwfile):
    from helpers import certificate, ec_key

    ca_key, ca_cert = ca()
    key = ec_key(7, "secp384r1")
    entry = Entry(label="p384", kind=EntryKind.KEY_PAIR, chain=(certificate(key, "p384 leaf", ca_key, ca_cert),
                                                                 ca_cert), key=key)
    folder = tmp_path / "p384"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(entry)
    keys = run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(pwfile)).stdout
    assert "p384" in keys and " ec " in keys
    assert certutil_trust(folder)["p384"] == "u,u,u"
    with open_store(f"sql:{folder}", password=PW) as store:
        got = store.get("p384")
        assert same_key(got.key, key) and got.chain == entry.chain


@needs_nss
def test_chain_ca_then_the_same_ca_as_trusted_entry(tmp_path):
    """As a CMS or JKS conversion adds them: a key pair whose chain holds a CA, then that CA as a signer entry."""
    folder = tmp_path / "conv"
    leaf = key_pair_entry("server", index=1)
    root = trusted_entry("root")  # ca(0): the CA in the key pair's chain
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(leaf)
        store.add(root)
    trust = certutil_trust(folder)
    assert trust == {"server": "u,u,u", "root": "CT,C,C"}
    with open_store(f"sql:{folder}", password=PW) as store:
        assert len(store.get("server").chain) == 2
        with pytest.raises(EntryExists):  # one nickname per certificate in NSS
            store_w = open_store(f"sql:{folder}", password=PW, writable=True)
            try:
                store_w.add(trusted_entry("root again"))
                store_w.save()
            finally:
                store_w.close()


def _protection_items(folder: Path) -> tuple[dict[tuple[str, int, int], tuple], list[bytes]]:
    """Every integrity MAC and encrypted attribute of the database, by (kind, object class, attribute): the DER
    layout of its parameters (OIDs, iteration count, key length, salt and IV lengths; salts and MACs left out),
    and every salt. Made with keystores.crypto.der only, so it reads NSS's files and ours the same way."""
    from keystores.backends.nss import db
    from keystores.crypto import der

    salts: list[bytes] = []

    def layout(blob: bytes) -> tuple:
        found: list[bytes] = []

        def walk(tlv: bytes) -> object:
            tag, value = der.value(tlv)
            if tag & 0x20:
                return tuple(walk(whole) for _, _, whole in der.children(value))
            if tag == 0x06:
                return der.oid_text(value)
            if tag == 0x02:
                return int.from_bytes(value, "big")
            found.append(value)
            return ("octets", len(value))

        parameters, _sealed = walk(blob)  # the MAC or ciphertext itself is left out
        salts.append(found[0])  # the first OCTET STRING inside is the PBKDF2 salt
        return parameters

    items: dict[tuple[str, int, int], tuple] = {}
    key_db = sqlite3.connect(folder / "key4.db")
    cert_db = sqlite3.connect(folder / "cert9.db")
    try:
        classes = {("key", oid): db.read_ulong(cls) for oid, cls in key_db.execute("SELECT id, a0 FROM nssPrivate")}
        classes |= {("cert", oid): db.read_ulong(cls) for oid, cls in cert_db.execute("SELECT id, a0 FROM nssPublic")}
        for name, blob in key_db.execute("SELECT id, item1 FROM metaData WHERE id LIKE 'sig_%'"):
            _, kind, object_id, attr = name.split("_")
            items[("mac " + kind, classes[(kind, int(object_id, 16))], int(attr, 16))] = layout(bytes(blob))
        for row in db.select_rows(key_db, "main", db.PRIVATE_TABLE, sorted(db.ENCRYPTED)):
            for attr in db.ENCRYPTED:
                if row.get(attr) is not None:
                    items[("encrypted", db.CKO_PRIVATE_KEY, attr)] = layout(row.get(attr))
    finally:
        key_db.close()
        cert_db.close()
    return items, salts


@needs_nss
def test_we_write_the_salts_iterations_and_macs_nss_writes(nss_made, tmp_path):
    """What certutil and pk12util wrote (NSS 3.x: PBES2/PBMAC1 with PBKDF2-HMAC-SHA-256, the password record's
    10,000 iterations, a fresh 32-byte salt for every encrypted attribute and every MAC), we write too: the same
    parameter layout per attribute, a MAC for every attribute NSS MACs, and no salt used twice."""
    folder, _ = nss_made
    ours = tmp_path / "ours"
    with open_store(f"sql:{folder}", password=PW) as source, \
            open_store(f"sql:{ours}", password=PW, create=True) as dest:
        for item in source.entries():
            dest.add(item)
    theirs, their_salts = _protection_items(folder)
    mine, my_salts = _protection_items(ours)
    # Every (object class, attribute) NSS protects in this database, we protect, with the same parameters.
    assert set(theirs) <= set(mine)
    for what, parameters in theirs.items():
        assert mine[what] == parameters, what
    assert {parameters[1][0][1][1] for parameters in mine.values()} == {10_000}  # PBKDF2 iteration count
    # A fresh salt for each item, as NSS makes them (no derived key shared between attributes).
    assert len(their_salts) == len(set(their_salts)) > 20
    assert len(my_salts) == len(set(my_salts)) > 20


@needs_nss
def test_a_key_replaced_within_one_write_leaves_no_stray_mac(tmp_path, pwfile):
    """A write lays out the next objects while the MACs and encrypted attributes of the last ones are still being
    made. The same key added twice in one write (a second certificate for it) replaces the key objects the first
    add made: what was still being made for them goes with them, the new key gets all of its own, and NSS reads
    the database."""
    from keystores.backends.nss import db

    folder = tmp_path / "ours"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(key_pair_entry("first", index=1))
        store.add(key_pair_entry("second", index=1))  # the same RSA key, another certificate
    with sqlite3.connect(folder / "key4.db") as key_db, sqlite3.connect(folder / "cert9.db") as cert_db:
        objects = {("key", i) for (i,) in key_db.execute("SELECT id FROM nssPrivate")}
        objects |= {("cert", i) for (i,) in cert_db.execute("SELECT id FROM nssPublic")}
        macs = [name.split("_")[1:3] for (name,) in key_db.execute("SELECT id FROM metaData WHERE id LIKE 'sig_%'")]
        keys = db.select_rows(key_db, "main", db.PRIVATE_TABLE, sorted(db.ENCRYPTED))
    assert all((kind, int(object_id, 16)) in objects for kind, object_id in macs)
    # One RSA key: 6 encrypted attributes, 8 MACs on the private key object, 2 on the public one (as pk12util).
    assert len(keys) == 1 and sum(keys[0].get(attr) is not None for attr in db.ENCRYPTED) == 6
    assert sorted(kind for kind, _ in macs) == ["cert"] * 2 + ["key"] * 8
    listed = run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(pwfile)).stdout
    assert listed.count("rsa") == 1, listed


def test_ctrl_c_just_after_the_folder_is_made_leaves_no_folder(tmp_path, monkeypatch):
    """A Ctrl-C can land between mkdir returning and the write's cleanup taking charge (a loaded machine showed it
    in test_cli_truth): the folders made for a new database go again, whenever the interrupt comes."""
    real_makedirs = os.makedirs

    def makedirs_then_interrupt(*args, **kwargs) -> None:
        real_makedirs(*args, **kwargs)
        raise KeyboardInterrupt

    folder = tmp_path / "new" / "nssdb"
    monkeypatch.setattr(os, "makedirs", makedirs_then_interrupt)  # the new database's folders are made by it
    with pytest.raises(KeyboardInterrupt), open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(trusted_entry("Test Root"))
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == []


def _password_record(folder: Path) -> tuple[int, int]:
    """(global salt length, iteration count of the password check) of key4.db."""
    from keystores.backends.nss import crypto as nc

    with sqlite3.connect(folder / "key4.db") as conn:
        salt, check = conn.execute("SELECT item1, item2 FROM metaData WHERE id='password'").fetchone()
    return len(salt), nc.describe_value(bytes(check))[1]


@needs_nss
def test_a_password_change_writes_what_certutil_w_writes(nss_made, tmp_path):
    """On two copies of one certutil/pk12util-made database, `keystores` and `certutil -W` leave the same
    protection items with the same parameters (iteration counts, lengths), every salt fresh; NSS reads ours with
    the new password and refuses the old one."""
    folder, entry = nss_made
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for copy in (ours, theirs):
        copy.mkdir()
        for name in ("cert9.db", "key4.db", "pkcs11.txt"):
            shutil.copy(folder / name, copy / name)
    new_pw = tmp_path / "new-pw"
    new_pw.write_text("new-password\n")
    run("certutil", "-W", "-d", f"sql:{theirs}", "-f", str(folder / "pw"), "-@", str(new_pw))
    with open_store(f"sql:{ours}", password=PW, writable=True) as store:
        store.set_password("new-password")
    before, old_salts = _protection_items(folder)
    mine, my_salts = _protection_items(ours)
    their_items, _ = _protection_items(theirs)
    assert mine == their_items == before
    assert _password_record(ours) == _password_record(theirs) == _password_record(folder) == (20, 10_000)
    assert len(my_salts) == len(set(my_salts)) == len(old_salts) > 20
    assert not set(my_salts) & set(old_salts)
    listed = run("certutil", "-K", "-d", f"sql:{ours}", "-f", str(new_pw)).stdout
    assert listed.splitlines()[1:] == run("certutil", "-K", "-d", f"sql:{theirs}", "-f", str(new_pw)).stdout \
        .splitlines()[1:]
    assert "imported" in listed and "ec leaf" in listed
    refused = run("certutil", "-K", "-d", f"sql:{ours}", "-f", str(folder / "pw"), ok=False)
    assert refused.returncode != 0 and "SEC_ERROR_BAD_PASSWORD" in refused.stderr
    out = tmp_path / "ec.p12"
    run("pk12util", "-o", str(out), "-n", "ec leaf", "-d", f"sql:{ours}", "-k", str(new_pw), "-W", "x")
    assert run("pk12util", "-o", str(tmp_path / "refused.p12"), "-n", "ec leaf", "-d", f"sql:{ours}", "-k",
               str(folder / "pw"), "-W", "x", ok=False).returncode != 0
    with open_store(f"sql:{ours}", password="new-password") as store:
        assert same_key(store.get("imported").key, entry.key)
        assert store.get("Other CA").trust.native == "C,,"  # its trust MACs hold under the new password


@needs_nss
@pytest.mark.parametrize("stop", ["interrupt", "failure"])
def test_a_password_change_stopped_half_way_changes_nothing(tmp_path, pwfile, monkeypatch, stop):
    """A Ctrl-C while the re-encrypted rows are being written (the main thread), or a derivation failing in a
    pool thread, leaves both files byte for byte as they were: NSS still reads them with the old password."""
    from keystores.backends.nss import macs as nm
    from keystores.backends.nss.transaction import Writer

    folder = tmp_path / "ours"
    _, rsa_entry, _ = _our_db(folder)
    before = snapshot(folder)
    if stop == "interrupt":
        real_update, updates = Writer.update, iter(range(1000))

        def update_then_interrupt(self, *args, **kwargs) -> None:
            if next(updates) == 1:  # the first key's new values are written: half way
                raise KeyboardInterrupt
            real_update(self, *args, **kwargs)

        monkeypatch.setattr(Writer, "update", update_then_interrupt)
        expected: type[BaseException] = KeyboardInterrupt
    else:
        real_make_mac, macs = nm.make_mac, iter(range(1000))

        def make_mac_failing(*args, **kwargs) -> bytes:
            if next(macs) == 5:
                raise OSError("no randomness left")
            return real_make_mac(*args, **kwargs)

        monkeypatch.setattr(nm, "make_mac", make_mac_failing)
        expected = OSError
    store = open_store(f"sql:{folder}", password=PW, writable=True)
    try:
        store.set_password("other")
        with pytest.raises(expected):
            store.save()
    finally:
        store.close()
    monkeypatch.undo()
    assert snapshot(folder) == before
    assert "rsa server" in run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(pwfile)).stdout
    with open_store(f"sql:{folder}", password=PW) as reopened:
        assert same_key(reopened.get("rsa server").key, rsa_entry.key)


@needs_nss
def test_a_password_change_keeps_a_higher_iteration_count(tmp_path):
    """A database made with more PBKDF2 iterations than NSS's default (NSS_MIN_MP_PBE_ITERATION_COUNT) keeps them
    through a password change: certutil -W would write 10,000; we never write fewer than were there."""
    folder = tmp_path / "strong"
    folder.mkdir()
    (tmp_path / "pw").write_text(PW + "\n")
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "-f", str(tmp_path / "pw")], check=True,
                   env={**os.environ, "NSS_MIN_MP_PBE_ITERATION_COUNT": "20000"})
    with open_store(f"sql:{folder}", password=PW, writable=True) as store:
        store.add(key_pair_entry("k", index=1, use_ec=True))
    with open_store(f"sql:{folder}", password=PW, writable=True) as store:
        store.set_password("new-password")
    assert _password_record(folder) == (20, 20_000)
    items, _ = _protection_items(folder)
    assert {parameters[1][0][1][1] for parameters in items.values()} == {20_000}
    (tmp_path / "new").write_text("new-password\n")
    assert " k" in run("certutil", "-K", "-d", f"sql:{folder}", "-f", str(tmp_path / "new")).stdout


@needs_nss
def test_listing_a_ca_list_imports_no_dataclasses_nor_x509(tmp_path):
    """`list` of a browser-style CA list (empty password, "C,," trust) reads its columns from the stored DER and
    its trust levels as stored: no cryptography, no dataclasses (and inspect) for trust levels (bench_nss's
    "nss list 2,000 certs")."""
    folder = tmp_path / "cas"
    folder.mkdir()
    run("certutil", "-N", "-d", f"sql:{folder}", "--empty-password")
    for number in (5, 6):
        _, root = ca(number)
        (tmp_path / "ca.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
        run("certutil", "-A", "-d", f"sql:{folder}", "-n", f"CA {number}", "-t", "C,,", "-i", str(tmp_path / "ca.pem"))
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, "list", f"sql:{folder}"], capture_output=True, text=True,
                          check=True)
    assert "CA 5" in done.stdout and "CA 6" in done.stdout
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert not [m for m in loaded if m.split(".")[0] in ("cryptography", "dataclasses", "inspect", "asn1crypto")]


def test_the_kdf_pool_hands_back_what_a_call_raised_threaded_or_inline():
    """A derivation that fails is reported by its Future whether it ran in a thread or inline (cheap iteration
    counts, one core): a password change collects results after queueing every job. An interrupt is not held back."""
    from keystores.crypto.kdf_pool import KdfPool

    def failing() -> bytes:
        raise ValueError("bad blob")

    def interrupted() -> bytes:
        raise KeyboardInterrupt

    with KdfPool() as pool:
        for iterations in (1, 10_000):
            done = pool.submit(iterations, failing)
            with pytest.raises(ValueError, match="bad blob"):
                done.result()
            assert pool.submit(iterations, bytes, 3).result() == b"\0\0\0"
        with pytest.raises(KeyboardInterrupt):
            pool.submit(1, interrupted)


def test_leaving_the_kdf_pool_waits_for_running_calls_and_drops_queued_ones():
    """A write that stops (an error, an interrupt) leaves the pool: calls already running finish, the queued ones
    never run."""
    import threading
    import time

    from keystores.crypto.kdf_pool import Cancelled, KdfPool

    gate, started = threading.Event(), threading.Semaphore(0)

    def held() -> bool:
        started.release()
        return gate.wait()

    pool = KdfPool()
    pool._cores = pool._threads = 2  # two worker threads, on any machine
    with pool:
        running = [pool.submit(10_000, held) for _ in range(2)]  # one per worker, each held at the gate
        queued = pool.submit(10_000, bytes, 1)
        for _ in running:
            started.acquire()  # both workers run a call: `queued` waits in the queue
        leaving = threading.Thread(target=pool.__exit__, args=(None, None, None))
        leaving.start()
        while not pool._closing:
            time.sleep(0.001)
        gate.set()
        leaving.join()
        assert [done.result() for done in running] == [True, True]
        with pytest.raises(Cancelled):
            queued.result()


@needs_nss
def test_a_small_nss_write_imports_no_concurrent_futures(tmp_path):
    """Writing one trusted certificate into a password-protected database (7 MACs on the KDF pool's threads) loads
    neither concurrent.futures nor the logging it imports: they cost more than the derivations."""
    folder = tmp_path / "db"
    folder.mkdir()
    (tmp_path / "pw").write_text(PW + "\n")
    run("certutil", "-N", "-d", f"sql:{folder}", "-f", str(tmp_path / "pw"))
    _, root = ca(5)
    (tmp_path / "ca.pem").write_bytes(root.public_bytes(serialization.Encoding.PEM))
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, "import", str(tmp_path / "ca.pem"), f"sql:{folder}",
                           "--dest-password", "env:NSS_PW"], capture_output=True, text=True, check=True,
                          env={**os.environ, "NSS_PW": PW})
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert "concurrent.futures" not in loaded and "logging" not in loaded
    assert list(certutil_trust(folder).values()) == ["CT,C,C"], certutil_trust(folder)
    with open_store(f"sql:{folder}", password=PW) as store:  # every MAC the threads made checks
        assert [entry.trust.verified for entry in store.entries()] == [True]


def test_an_interrupt_while_the_kdf_pool_starts_its_threads_leaves_none_running(monkeypatch):
    import _thread
    import time

    from keystores.crypto import kdf_pool
    from keystores.crypto.kdf_pool import KdfPool

    real_start, starts, before = kdf_pool.start_new_thread, iter(range(10)), _thread._count()

    def start_then_interrupt(*args: object) -> int:
        started = real_start(*args)
        if next(starts) == 0:  # the first worker runs, the second is never started
            raise KeyboardInterrupt
        return started

    monkeypatch.setattr(kdf_pool, "start_new_thread", start_then_interrupt)
    pool = KdfPool()
    pool._cores = pool._threads = 2
    with pytest.raises(KeyboardInterrupt), pool:
        pool.submit(10_000, bytes, 1)
    monkeypatch.undo()
    deadline = time.monotonic() + 5  # (its workers are _thread's, which threading does not list)
    while _thread._count() > before and time.monotonic() < deadline:
        time.sleep(0.001)
    assert _thread._count() == before


def test_a_compat_database_opens_the_same_with_libcrypto_s_sha1_rounds_and_python_s(tmp_path, monkeypatch):
    """NSS's legacy PBE (the compat profile; NSS < 3.49 wrote it) derives its keys with PBKDF1's SHA-1 rounds, which
    libcrypto does where loaded (keystores.crypto.kdf.iterated_digest): every key of a compat database we wrote, and
    of any old NSS database ../shared/vectors holds (nss*/ folders, password in their README), opens to the same key
    both ways."""
    from keystores.crypto import libcrypto

    folder = tmp_path / "compat"
    _our_db(folder, profile="compat")
    databases = [(f"sql:{folder}", PW)]
    vectors = Path(__file__).resolve().parents[1].parent / "shared" / "vectors"
    for old in sorted(vectors.glob("nss*/*/key4.db")) if vectors.is_dir() else []:
        readme = old.parent.parent / "README.md"
        password = next((line.split("`")[1] for line in readme.read_text().splitlines()
                         if "password" in line.lower() and "`" in line), "") if readme.exists() else ""
        databases.append((f"sql:{old.parent}", password))

    def keys(location: str, password: str) -> dict[str, bytes]:
        with open_store(location, password=password) as store:
            return {entry.label: entry.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption())
                    for entry in store.entries() if entry.kind is EntryKind.KEY_PAIR}

    for location, password in databases:
        assert libcrypto.library() is not None
        by_library = keys(location, password)
        with monkeypatch.context() as patch:
            patch.setattr(libcrypto, "_LOADED", [None])
            assert keys(location, password) == by_library, location
        assert by_library
    with open_store(f"sql:{folder}", password=PW) as store:
        assert "3DES" in store.protection()["keys"].text


def test_table_columns_are_the_names_pragma_table_info_gives(tmp_path):
    """db.table_columns reads a table's columns from an empty SELECT *: the same names as PRAGMA table_info, on our
    tables, on a column a newer NSS adds (ALTER TABLE, as transaction.Writer does) and on an empty table."""
    from keystores.backends.nss import db

    with open_store(f"sql:{tmp_path}", password=PW, create=True) as store:
        store.add(key_pair_entry("server", index=2))
    conn = sqlite3.connect(tmp_path / "key4.db")
    conn.execute("ATTACH DATABASE ? AS cert", (str(tmp_path / "cert9.db"),))
    conn.execute("ALTER TABLE cert.nssPublic ADD COLUMN a62c")
    conn.execute("CREATE TABLE main.empty (id PRIMARY KEY, a0)")
    for schema, table in (("main", "nssPrivate"), ("cert", "nssPublic"), ("main", "metaData"), ("main", "empty")):
        named = {row[1] for row in conn.execute(f"PRAGMA {schema}.table_info({table})")}
        assert db.table_columns(conn, schema, table) == named and len(named) > 1
    assert "a62c" in db.table_columns(conn, "cert", "nssPublic")
    conn.close()


def test_renaming_a_certificate_without_a_key_leaves_key4_db_to_its_writer(tmp_path, monkeypatch):
    """A change that writes cert9.db alone write-locks cert9.db alone (the transaction is deferred; the key's label
    is looked for before it is updated): a rename of a CA goes through while another program holds key4.db's write
    lock, and commits with no master journal over both files. A rename of a key pair needs key4.db: refused, and
    nothing changed."""
    from keystores.backends.nss import NssStore

    monkeypatch.setattr(NssStore, "lock_wait", 0.3)
    _our_db(tmp_path)
    other = sqlite3.connect(tmp_path / "key4.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with open_store(f"sql:{tmp_path}", password=PW, writable=True) as store:
            store.rename("Test Root", "Root renamed")
        key4 = (tmp_path / "key4.db").read_bytes()
        with pytest.raises(StoreLocked), open_store(f"sql:{tmp_path}", password=PW, writable=True) as store:
            store.rename("ec server", "ec renamed")
        assert (tmp_path / "key4.db").read_bytes() == key4
    finally:
        other.execute("ROLLBACK")
        other.close()
    with open_store(f"sql:{tmp_path}", password=PW) as store:
        assert sorted(store.labels()) == ["Root renamed", "ec server", "rsa server"]
        assert store.get("Root renamed").trust.native == "CT,C,C"  # its MACs still verify


def test_a_database_opened_to_read_refuses_every_change_as_before(tmp_path):
    """A store opened to read is an NssStore without the change log (WritableNssStore has it): every change is
    refused as read-only, as the change log refused it, and check_entry still says what the format takes."""
    from keystores.errors import CapabilityError, UsageError

    _our_db(tmp_path)
    with open_store(f"sql:{tmp_path}", password=PW) as store:
        assert type(store).__name__ == "NssStore"
        for change in (lambda: store.add(trusted_entry("new", index=5)), lambda: store.remove("Test Root"),
                       lambda: store.rename("Test Root", "other"), lambda: store.set_password("new-password"),
                       lambda: store.set_trust("Test Root", None)):
            with pytest.raises(UsageError, match="read-only"):
                change()
        store.check_entry(trusted_entry("fine", index=6))
        from cryptography.hazmat.primitives.asymmetric import ec

        entry = key_pair_entry("secp256k1", index=7)
        odd = Entry("odd", EntryKind.KEY_PAIR, chain=entry.chain, key=ec.generate_private_key(ec.SECP256K1()))
        with pytest.raises(CapabilityError, match="RSA and EC"):
            store.check_entry(odd)
    with open_store(f"sql:{tmp_path}", password=PW, writable=True) as store:
        assert type(store).__name__ == "WritableNssStore"
        store.set_password("new-password")
    with open_store(f"sql:{tmp_path}", password="new-password") as store:
        assert "Test Root" in store.labels()


def test_the_backup_is_the_cert9_db_before_a_write_and_a_failed_write_leaves_it_and_no_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """cert9.db.bak is staged beside the database while the write's transaction runs (transaction._Backup) and put
    in place once the write has committed: it is then the cert9.db before the write; a write that fails leaves the
    backup of the write before it, and no temp file."""
    from keystores.backends.nss.transaction import WritableNssStore

    folder = tmp_path / "db"
    _our_db(folder)
    before = (folder / "cert9.db").read_bytes()
    with open_store(f"sql:{folder}", password=PW, writable=True) as store:
        store.rename("rsa server", "renamed")
    assert (folder / "cert9.db.bak").read_bytes() == before
    backup = (folder / "cert9.db.bak").read_bytes()
    written = (folder / "cert9.db").read_bytes()

    def failing(self: WritableNssStore, conn: object) -> None:
        raise OSError("the disk went away")

    monkeypatch.setattr(WritableNssStore, "_apply", failing)
    with pytest.raises(OSError, match="went away"), open_store(f"sql:{folder}", password=PW, writable=True) as store:
        store.rename("renamed", "again")
    assert (folder / "cert9.db.bak").read_bytes() == backup and (folder / "cert9.db").read_bytes() == written
    assert sorted(path.name for path in folder.iterdir()) == ["cert9.db", "cert9.db.bak", "key4.db"]


def test_the_password_check_loads_libcrypto_on_a_thread_while_its_key_is_derived(tmp_path: Path) -> None:
    """crypto._cipher_ahead: the first AES-CBC of a process (the password check, a key) starts loading
    keystores.crypto.libcrypto on a thread of _thread's before its PBKDF2, which lets the GIL go, and waits for it
    before the cipher; the same plaintext comes back, the wrong key still fails; an empty password's 1 iteration,
    and a process that has libcrypto already, start none."""
    probe = """if True:
        import _thread, sys
        started = []
        real = _thread.start_new_thread
        _thread.start_new_thread = lambda *args: started.append(1) or real(*args)
        from keystores.backends.nss import crypto as nc
        key = nc.pass_key(b"salt" * 5, "pw")
        blob = nc.encrypt_value(b"password-check", key, iterations=10000)
        print(len(started), "keystores.crypto.libcrypto" in sys.modules)
        assert nc.decrypt_value(blob, key) == b"password-check"
        try:
            nc.decrypt_value(blob, nc.pass_key(b"salt" * 5, "other"))
        except nc.DecryptFailed:
            pass
        else:
            raise SystemExit("the wrong key decrypted")
        print(len(started))
        """
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["1", "True", "1"]  # the first cipher only: then libcrypto is loaded
    empty = probe.replace("iterations=10000", "iterations=1")
    done = subprocess.run([sys.executable, "-c", empty], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "True", "0"]


def test_the_password_check_s_thread_fetches_its_cipher_while_the_key_is_derived(tmp_path: Path) -> None:
    """While the password check derives its key, _cipher_ahead's thread also has libcrypto fetch the check's cipher
    (libcrypto.ready, one block of zeros under a key of zeros): the main thread's AES then finds it cached. For a
    read, it then imports keystores.lazy_entries, which building the entries takes next; a store opened to be
    written (rename, delete) imports no lazy_entries. The wrong password is refused as before."""
    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
    probe = """if True:
        import _thread, sys
        main, events = _thread.get_ident(), []
        sys.addaudithook(lambda event, args: events.append((event, args, _thread.get_ident() == main))
                         if event in ("import", "ctypes.create_string_buffer") else None)
        from keystores.errors import WrongPassword
        from keystores.store import open_store
        try:
            open_store(FOLDER, password="wrong", writable=WRITABLE).close()
        except WrongPassword:
            pass
        else:
            raise SystemExit("the wrong password opened the database")
        print(sorted((on_main, args[1]) for event, args, on_main in events if event == "ctypes.create_string_buffer"),
              sorted(on_main for event, args, on_main in events if args[0] == "keystores.lazy_entries"))
        """.replace("FOLDER", repr(f"sql:{folder}"))
    for writable in (False, True):
        done = subprocess.run([sys.executable, "-c", probe.replace("WRITABLE", str(writable))], capture_output=True,
                              text=True, check=True)
        # libcrypto.cbc's output buffers: the thread's is the look-up's (one block: 16 + 16 bytes), the main
        # thread's the check's own (the 16-byte ciphertext of "password-check" + 16)
        assert done.stdout.strip() == "[(False, 32), (True, 32)] " + ("[]" if writable else "[False]"), done.stdout


def test_a_new_databases_password_check_is_made_beside_the_callers_work_and_written_once_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pwfile: Path) -> None:
    """A new database's password check (one derivation and its AES) is made by a worker while the caller adds its
    entries (store._check_ahead), and its write waits for it: certutil-compatible records that open with the
    password. A write that fails puts the check back as it was; the next one writes the same record."""
    from keystores.backends.nss.transaction import WritableNssStore

    folder = tmp_path / "db"
    real = WritableNssStore._write_new
    failures = [OSError("the disk went away")]

    def failing_once(self: WritableNssStore) -> None:
        if failures:
            raise failures.pop()
        real(self)

    monkeypatch.setattr(WritableNssStore, "_write_new", failing_once)
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        assert store._password_check is None and store._check_ahead is not None  # type: ignore[attr-defined]
        store.add(trusted_entry("Test Root"))
        with pytest.raises(OSError, match="went away"):
            store.save()
        assert store._password_check is None  # type: ignore[attr-defined]
        made = store._check_ahead.result()  # type: ignore[attr-defined]
    with sqlite3.connect(folder / "key4.db") as conn:
        assert conn.execute("SELECT item2 FROM metaData WHERE id = 'password'").fetchone()[0] == made
    with open_store(f"sql:{folder}", password=PW) as store:
        assert store.labels() == ["Test Root"]
    with pytest.raises(WrongPassword), open_store(f"sql:{folder}", password="not-it"):
        pass
    if shutil.which("certutil") is None:
        pytest.skip("certutil (libnss3-tools) is not installed: run scripts/setup")
    for password, opens in ((pwfile, True), (tmp_path / "wrong.txt", False)):
        (tmp_path / "wrong.txt").write_text("not-it\n")
        # certutil -K checks the password against the record before it lists keys
        listed = subprocess.run(["certutil", "-K", "-d", f"sql:{folder}", "-f", str(password)],
                                capture_output=True, text=True, check=False)
        assert ("Incorrect password" not in listed.stderr + listed.stdout) == opens, listed.stderr


def test_an_empty_password_or_an_existing_database_makes_its_check_at_once(tmp_path: Path) -> None:
    """Only a new database with a password makes its check on a worker: an empty password's (1 iteration) is made
    at once."""
    with open_store(f"sql:{tmp_path / 'empty'}", password="", create=True) as store:
        assert store._password_check is not None and store._check_ahead is None  # type: ignore[attr-defined]


def test_a_database_s_uri_is_its_resolved_path_as_percent_quote_spells_it(tmp_path: Path) -> None:
    """db.db_uri takes a path quote would leave as it is without quoting it (keystores.percent is not imported
    then): the same URI as quote(realpath) for plain names and for names that need escaping, seeded at random."""
    import random

    from keystores.backends.nss.db import db_uri
    from keystores.percent import quote

    rng = random.Random(15)
    pool = "abcXYZ019_.-~/ %?#&=+:;@!$'()*,[]\\\"<>|^`{}\té€😀"
    names = ["key4.db", "a b/key4.db", "100%/key4.db", "x?mode=rw#/cert9.db", "é/key4.db", "~user/key4.db"]
    names += ["".join(rng.choice(pool) for _ in range(rng.randint(1, 12))).strip("/") or "n" for _ in range(300)]
    for name in names:
        path = str(tmp_path / name)
        for writable in (False, True):
            mode = "rw" if writable else "ro"
            assert db_uri(path, writable=writable) == f"file:{quote(os.path.realpath(path))}?mode={mode}", name


def test_opening_a_database_at_a_plain_path_imports_no_percent_encoder(tmp_path: Path) -> None:
    """`list` of a database whose path needs no escaping loads no keystores.percent; one whose path does (a space,
    a '%') is opened and listed the same."""
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    for name, escaped in (("plain", False), ("with space 100%", True)):
        folder = tmp_path / name
        with open_store(f"sql:{folder}", password=PW, create=True) as store:
            store.add(trusted_entry("Test Root"))
        done = subprocess.run([sys.executable, "-c", probe, "list", f"sql:{folder}", "--password", "env:NSS_PW"],
                              capture_output=True, text=True, check=True, env={**os.environ, "NSS_PW": PW})
        assert "Test Root" in done.stdout
        loaded = json.loads(done.stderr.strip().splitlines()[-1])
        assert ("keystores.percent" in loaded) is escaped, name


def test_list_rename_delete_and_trust_load_no_entry_reading_and_show_does(tmp_path: Path) -> None:
    """keystores.backends.nss.reading (an entry's chain, trust and key read on first access, with their MAC checks)
    is imported where an entry's contents are read: show, validate, export and list --json load it; list (kinds
    from the trust levels as stored), rename, delete and trust off read no entry's contents and do not."""
    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
        store.add(trusted_entry("Test Root"))
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    code = exc.code\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
             "sys.exit(code)\n")
    commands = {("list",): False, ("list", "--json"): True, ("show", "server"): True, ("validate", "server"): True,
                ("export", "server", "-o", "-"): True, ("rename", "Test Root", "Root 2"): False,
                ("trust", "Root 2", "off"): False, ("delete", "Root 2"): False}
    for command, reads in commands.items():
        argv = [command[0], f"sql:{folder}", *command[1:], "--password", "env:NSS_PW"]
        done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                              env={**os.environ, "NSS_PW": PW})
        assert done.returncode == 0, (command, done.stderr[:400])
        loaded = json.loads(done.stderr.strip().splitlines()[-1])
        assert ("keystores.backends.nss.reading" in loaded) is reads, command


def test_only_a_password_change_loads_the_rekeying(tmp_path: Path) -> None:
    """keystores.backends.nss.rekey (every private attribute and MAC made again under a new password) is imported by
    passwd alone: rename, trust off, delete and import write without it."""
    folder = tmp_path / "db"
    with open_store(f"sql:{folder}", password=PW, create=True) as store:
        store.add(key_pair_entry("server", use_ec=True))
        store.add(trusted_entry("Test Root"))
    (tmp_path / "extra.pem").write_bytes(
        trusted_entry("Extra Root").chain[0].public_bytes(serialization.Encoding.PEM))
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    code = exc.code\nprint(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
             "sys.exit(code)\n")
    given = ["--password", "env:NSS_PW"]
    commands = [(["rename", f"sql:{folder}", "Test Root", "Root 2", *given], False),
                (["trust", f"sql:{folder}", "Root 2", "off", *given], False),
                (["delete", f"sql:{folder}", "Root 2", *given], False),
                (["import", str(tmp_path / "extra.pem"), f"sql:{folder}", "--dest-password", "env:NSS_PW"], False),
                (["passwd", f"sql:{folder}", "--new-password", "env:NEW_PW", *given], True)]
    for argv, rekeys in commands:
        done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                              env={**os.environ, "NSS_PW": PW, "NEW_PW": "new-password"})
        assert done.returncode == 0, (argv, done.stderr[:400])
        loaded = json.loads(done.stderr.strip().splitlines()[-1])
        assert ("keystores.backends.nss.rekey" in loaded) is rekeys, argv
    with open_store(f"sql:{folder}", password="new-password") as store:
        assert len(store.labels()) == 2 and "server" in store.labels()  # the imported root beside the key pair
