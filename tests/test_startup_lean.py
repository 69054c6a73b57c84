"""Start-up of everyday commands on small stores of the formats other than PKCS#12 and PEM (issue 15 item 2;
bench/bench_core.py's "start-up:" rows): JKS, JCEKS, BKS and BCFKS list, delete and rename, and a CMS database's list,
import neither cryptography.x509 nor asn1crypto nor dataclasses; certificates are read from their DER and written
back as read. Each lean path is held to the eager one it replaces: same listing, same `show --json`, same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.ops.describe import entry_row, store_data
from keystores.store import open_store

PASSWORD = "lean-start-1"
ENV = {"LEAN_PW": PASSWORD}
HEAVY = ("cryptography.x509", "asn1crypto", "dataclasses")
WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(subject: str, key: Any, issuer: str, issuer_key: Any, serial: int, *, ca: bool = False) -> x509.Certificate:
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(serial).not_valid_before(WHEN)
               .not_valid_after(WHEN + dt.timedelta(days=365)))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    """A key pair with its chain (leaf, intermediate, root), the root as a trusted certificate, and an RSA key
    pair signed by the root."""
    root_key, inter_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP384R1())
    leaf_key, rsa_key = ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 2048)
    root = _issue("Lean Root", root_key, "Lean Root", root_key, 1, ca=True)
    inter = _issue("Lean Issuing", inter_key, "Lean Root", root_key, 2, ca=True)
    leaf = _issue("web.example", leaf_key, "Lean Issuing", inter_key, 3)
    other = _issue("rsa.example", rsa_key, "Lean Root", root_key, 4)
    return [Entry("web", EntryKind.KEY_PAIR, chain=(leaf, inter, root), key=leaf_key, created=WHEN),
            Entry("root", EntryKind.TRUSTED_CERT, chain=(root,), trust=TRUST_ALL, created=WHEN),
            Entry("rsa", EntryKind.KEY_PAIR, chain=(other, root), key=rsa_key, created=WHEN)]


@pytest.fixture(scope="module")
def stores(entries: list[Entry], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("lean")
    made = {}
    for name, options in (("jks", {}), ("jceks", {}), ("bks", {}), ("bcfks", {}), ("kdb", {"stash": True}),
                          ("pem", {})):
        path = folder / f"s.{name}"
        with open_store(path, password=PASSWORD, create=True, **options) as store:
            for entry in entries:
                store.add(entry)
        made[name] = path
    return made


def _modules_after(argv: list[str], cwd: Path) -> list[str]:
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=cwd,
                          check=False, env={**os.environ, **ENV})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["jks", "jceks", "bks", "bcfks", "kdb"])
def test_listing_a_small_store_imports_no_x509_asn1crypto_nor_dataclasses(stores: dict[str, Path], name: str,
                                                                          tmp_path: Path) -> None:
    """(BCFKS's structures are read with keystores.crypto.der since backends/bcfks/structure.py.)"""
    password = [] if name == "kdb" else ["-p", "env:LEAN_PW"]  # the stash opens the .kdb
    loaded = _modules_after(["list", str(stores[name]), *password], tmp_path)
    assert not [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY], name
    # The probe sees what a command loads: show describes the entry (since pki/shown.py, without x509 for most).
    assert "keystores.ops.describe" in _modules_after(["show", str(stores[name]), "web", *password], tmp_path)


@pytest.mark.parametrize("name", ["jks", "jceks", "bks", "bcfks"])
def test_delete_and_rename_import_no_x509(stores: dict[str, Path], name: str, tmp_path: Path) -> None:
    path = tmp_path / stores[name].name
    path.write_bytes(stores[name].read_bytes())
    for argv in (["rename", str(path), "rsa", "other"], ["delete", str(path), "root"]):
        loaded = _modules_after([*argv, "-p", "env:LEAN_PW"], tmp_path)
        assert not [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY], argv
    with open_store(path, password=PASSWORD) as store:
        assert sorted(store.labels()) == ["other", "web"]
        assert len(store.get("web").chain) == 3 and store.get("other").key is not None


@pytest.mark.parametrize(("source", "argv"), [
    ("bks", ["export", "{src}", "web", "--key", "-o", "{out}.pem"]),
    ("bcfks", ["export", "{src}", "web", "--key", "-o", "{out}.pem"]),
    ("bcfks", ["convert", "{src}", "{out}.bks", "--dest-password", "env:LEAN_PW"]),
    ("bks", ["convert", "{src}", "{out}.bcfks", "--dest-password", "env:LEAN_PW"]),
])
def test_bouncy_castle_keys_open_and_seal_without_asn1crypto(stores: dict[str, Path], source: str, argv: list[str],
                                                            tmp_path: Path) -> None:
    """A BKS key is opened and sealed, and a BCFKS written, through keystores.crypto.der (issue 15)."""
    out = tmp_path / "out"
    loaded = _modules_after([part.format(src=stores[source], out=out) for part in argv] + ["-p", "env:LEAN_PW"],
                            tmp_path)
    assert not [m for m in loaded if m.split(".")[0] == "asn1crypto"], argv
    written = next(tmp_path.glob("out.*"))
    if written.suffix != ".pem":
        with open_store(written, password=PASSWORD) as copy, open_store(stores[source], password=PASSWORD) as original:
            assert copy.get("web").chain == original.get("web").chain
            assert copy.get("rsa").key.private_numbers() == original.get("rsa").key.private_numbers()


def _decoded(store: Any) -> None:
    """Every entry's chain read as the eager readers did."""
    for entry in store.entries():
        _ = entry.chain


@pytest.mark.parametrize("name", ["jks", "jceks"])
def test_a_rewrite_writes_what_the_eager_reader_wrote(stores: dict[str, Path], name: str, tmp_path: Path) -> None:
    """Rename and delete write the certificates as read: the same bytes as after decoding every chain first."""
    written = []
    for decode_first in (False, True):
        path = tmp_path / f"{decode_first}.{name}"
        path.write_bytes(stores[name].read_bytes())
        with open_store(path, password=PASSWORD, writable=True) as store:
            if decode_first:
                _decoded(store)
            store.rename("rsa", "other")
            store.remove("root")
        written.append(path.read_bytes())
    assert written[0] == written[1]


def test_importing_a_pem_certificate_into_a_jks_decodes_none(stores: dict[str, Path], entries: list[Entry],
                                                            tmp_path: Path) -> None:
    """The PEM's certificate is written into the JKS as its DER (keystores.backends.pem.lazy_read gives it)."""
    from cryptography.hazmat.primitives.serialization import Encoding

    path, pem = tmp_path / "s.jks", tmp_path / "root.pem"
    path.write_bytes(stores["jks"].read_bytes())
    pem.write_bytes(entries[1].chain[0].public_bytes(Encoding.PEM))
    loaded = _modules_after(["import", str(pem), str(path), "--label", "copy", "--dest-password", "env:LEAN_PW"],
                            tmp_path)
    assert "cryptography.x509" not in loaded
    with open_store(path, password=PASSWORD) as store:
        assert store.get("copy").chain == entries[1].chain


@pytest.mark.parametrize("name", ["jks", "jceks", "bks", "bcfks", "kdb"])
def test_the_lean_listing_is_the_eager_one(stores: dict[str, Path], name: str) -> None:
    """`list` rows and `show --json` of every entry, read lazily, equal those of the entries decoded first."""
    with open_store(stores[name], password=PASSWORD) as lean:
        rows = [entry_row(e) for e in lean.entries()]
        shown = store_data(lean, list(lean.entries()), detail=True)
        notes = list(lean.notes)
    with open_store(stores[name], password=PASSWORD) as eager:
        _decoded(eager)
        assert [entry_row(e) for e in eager.entries()] == rows
        assert store_data(eager, list(eager.entries()), detail=True) == shown
        assert eager.notes == notes


def test_a_cms_database_read_only_is_read_as_one_opened_for_writing(cms_copies: list[tuple[Path, str]]) -> None:
    """A .kdb opened read-only (certificates decoded and chains linked on first use) gives the same entries,
    chains, `show --json` and notes as one opened for writing (read eagerly): over the shared GSKit, KeyStore
    Explorer and field vectors and one of ours with a chain."""
    for path, password in cms_copies:
        with open_store(path, password=password) as lean:
            shown = store_data(lean, list(lean.entries()), detail=True)
            notes = list(lean.notes)
        with open_store(path, password=password, writable=True) as eager:
            assert store_data(eager, list(eager.entries()), detail=True) == shown, path
            assert eager.notes == notes, path


@pytest.fixture
def cms_copies(stores: dict[str, Path], shared_vectors: Path, tmp_path: Path) -> list[tuple[Path, str]]:
    from test_cms import VECTORS

    copies = [(stores["kdb"], PASSWORD)]
    folder = shared_vectors / "cms"
    for relative, (password, *_) in sorted(VECTORS.items()):
        source = folder / relative
        if not source.is_file():
            continue
        target = tmp_path / relative.replace("/", "_")
        target.write_bytes(source.read_bytes())
        for companion in (".rdb", ".crl"):
            if source.with_suffix(companion).is_file():
                target.with_suffix(companion).write_bytes(source.with_suffix(companion).read_bytes())
        copies.append((target, password))
    return copies


def _cms_record_contents(path: Path) -> dict[bytes, bytes]:
    from keystores.backends.cms import container as fmt

    kdb = fmt.parse_container(path.read_bytes(), PASSWORD, store=None)
    slots = [fmt.parse_slot(raw, store=None) for raw in kdb.slots]
    return {slot.label: fmt.parse_record(slot.der, store=None).content for slot in slots}


EDITS = {"rename": lambda store: store.rename("web", "site"), "delete": lambda store: store.remove("root"),
         "set-default": lambda store: store.set_default("rsa"),
         "trust off": lambda store: store.set_trust("root", None)}


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_cms_edit_writes_what_the_eager_reader_wrote(stores: dict[str, Path], edit: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Rename, delete, set-default and trust of a .kdb read lazily write the same bytes as when every record is
    read eagerly (as a certificate with NULL (EC)DSA parameters still is)."""
    from keystores.backends.cms import read

    written = []
    for eager in (False, True):
        path = tmp_path / f"{eager}.kdb"
        for suffix in (".kdb", ".sth", ".rdb", ".crl"):
            if stores["kdb"].with_suffix(suffix).is_file():
                path.with_suffix(suffix).write_bytes(stores["kdb"].with_suffix(suffix).read_bytes())
        with monkeypatch.context() as patch:
            if eager:
                patch.setattr(read, "_plainly_signed", lambda der: False)
            with open_store(path, writable=True) as store:
                EDITS[edit](store)
        written.append(path.read_bytes())
    assert written[0] == written[1]


def test_renaming_a_cms_key_pair_keeps_its_record_as_it_was(stores: dict[str, Path], tmp_path: Path) -> None:
    """The key pair's record keeps its content (certificate and encrypted key) under the new label, as GSKit's
    -rename does: the key is neither opened nor encrypted anew (it was, before the record was found by its
    certificate without opening the key)."""
    path = tmp_path / "r.kdb"
    path.write_bytes(stores["kdb"].read_bytes())
    before = _cms_record_contents(path)
    loaded = _modules_after(["rename", str(path), "web", "site", "-p", "env:LEAN_PW"], tmp_path)
    assert not [m for m in loaded if m in HEAVY]
    after = _cms_record_contents(path)
    assert after == {(b"site" if label == b"web" else label): content for label, content in before.items()}


@pytest.mark.parametrize(("name", "state"), [("kdb", "off"), ("jceks", "on"), ("bcfks", "on")])
def test_trusting_a_certificate_decodes_none(stores: dict[str, Path], entries: list[Entry], name: str, state: str,
                                            tmp_path: Path) -> None:
    """A trust change copies the entry with its parts unread (lazy_entries' with_), as a rename does."""
    path = tmp_path / stores[name].name
    for suffix in (".sth", ".rdb", ".crl", path.suffix):
        if stores[name].with_suffix(suffix).is_file():
            path.with_suffix(suffix).write_bytes(stores[name].with_suffix(suffix).read_bytes())
    assert "cryptography.x509" not in _modules_after(["trust", str(path), "root", state, "-p", "env:LEAN_PW"],
                                                     tmp_path)
    with open_store(path, password=PASSWORD) as store:
        root = store.get("root")
        assert (root.kind, root.trust) == ((EntryKind.CERTIFICATE, None) if state == "off" else
                                           (EntryKind.TRUSTED_CERT, TRUST_ALL))
        assert root.chain == entries[1].chain


def test_a_renamed_cms_key_pair_finds_its_chain_after_a_save(stores: dict[str, Path], entries: list[Entry],
                                                              tmp_path: Path) -> None:
    """A lazily read key pair's chain is found by its certificate, not its label: asked for after a rename and a
    save (which re-reads the records), it is the whole chain."""
    path = tmp_path / "s.kdb"
    path.write_bytes(stores["kdb"].read_bytes())
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.rename("web", "site")
        store.save()
        assert store.get("site").chain == entries[0].chain
        store.rename("site", "web2")
    with open_store(path, password=PASSWORD) as store:
        assert store.get("web2").chain == entries[0].chain


HASHLIB = ("hashlib", "hmac", "_hashlib", "struct")  # (struct: container.py reads its words with int)


def test_a_small_cms_database_is_checked_and_written_without_hashlib(stores: dict[str, Path], entries: list[Entry],
                                                                     tmp_path: Path) -> None:
    """A small .kdb's password and integrity checks, its records' hashes and its v8 stash are computed by the
    interpreter's built-in hash modules (keystores.crypto.digests): hashlib loads OpenSSL (~3 ms of each such
    command, bench/bench_commands.py); nor is struct imported. What they write, this process (whose hashlib is
    loaded) reads and checks."""
    from cryptography.hazmat.primitives.serialization import Encoding

    path, pem = tmp_path / "s.kdb", tmp_path / "root.pem"
    for suffix in (".kdb", ".sth", ".rdb", ".crl"):
        if stores["kdb"].with_suffix(suffix).is_file():
            path.with_suffix(suffix).write_bytes(stores["kdb"].with_suffix(suffix).read_bytes())
    pem.write_bytes(entries[1].chain[0].public_bytes(Encoding.PEM))
    with open_store(path) as store:
        labels = sorted(store.labels())
    for argv in (["list", str(path)], ["show", str(path), "root"], ["import", str(pem), str(path), "--label", "copy"],
                 ["rename", str(path), "copy", "again"], ["trust", str(path), "again", "off"],
                 ["set-default", str(path), "rsa"], ["delete", str(path), "again"],
                 ["stash", str(path), "-p", "env:LEAN_PW"]):
        loaded = _modules_after(argv, tmp_path)
        assert not [m for m in loaded if m in HASHLIB], argv
    with open_store(path) as store:  # through the stash the last command wrote
        assert sorted(store.labels()) == labels and store.get("rsa").default
        assert store.get("web").chain == entries[0].chain and store.get("web").key is not None


def test_the_built_in_hashes_check_every_cms_vector_as_hashlib_does(cms_copies: list[tuple[Path, str]],
                                                                    shared_vectors: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """GSKit's, KeyStore Explorer's and the field's databases (versions 3, 4 and 6: MD5, HMAC-SHA1, HMAC-SHA384)
    and stashes (v1, v8) are checked and decoded by the built-in hash modules as by hashlib, which this process
    has loaded (so that the other tests of the backend check them by hashlib)."""
    from keystores.backends.cms import container as fmt
    from keystores.backends.cms import stash
    from keystores.crypto import digests

    stashes = sorted((shared_vectors / "cms").rglob("*.sth"))
    by_hashlib = ([fmt.parse_container(path.read_bytes(), password, store=None).slots for path, password in cms_copies],
                  [stash.decode(path.read_bytes()) for path in stashes])
    versions = {path.read_bytes()[2] for path, _ in cms_copies}
    assert versions == {3, 4, 6} and len(stashes) >= 9
    monkeypatch.delitem(sys.modules, "hashlib")
    monkeypatch.delitem(sys.modules, "_hashlib", raising=False)  # (a process that loaded it hashes by OpenSSL)
    monkeypatch.setattr(digests, "_hashed", 0)
    monkeypatch.setattr(digests, "SMALL", 1 << 30)  # (all of them: in a command, only its own store)
    built_in = ([fmt.parse_container(path.read_bytes(), password, store=None).slots for path, password in cms_copies],
                [stash.decode(path.read_bytes()) for path in stashes])
    assert "hashlib" not in sys.modules and digests._hashed > 0  # (the built-in modules hashed them)
    assert built_in == by_hashlib
    with pytest.raises(fmt.WrongPassword):
        fmt.parse_container(cms_copies[0][0].read_bytes(), "not " + cms_copies[0][1], store=None)
    damaged = bytearray(cms_copies[0][0].read_bytes())
    damaged[-1] ^= 1
    with pytest.raises(fmt.IntegrityError):
        fmt.parse_container(bytes(damaged), cms_copies[0][1], store=None)


def test_a_cms_command_given_no_secret_source_loads_no_secrets_module(stores: dict[str, Path],
                                                                      tmp_path: Path) -> None:
    """A .kdb opened by its stash is given no password: neither the CLI's start (its core-file limit is set by
    cli.main itself) nor validate's command module loads keystores.secrets for it. A source given still does."""
    path = tmp_path / "s.kdb"
    for suffix in (".kdb", ".sth", ".rdb", ".crl"):
        if stores["kdb"].with_suffix(suffix).is_file():
            path.with_suffix(suffix).write_bytes(stores["kdb"].with_suffix(suffix).read_bytes())
    for argv in (["list", str(path)], ["validate", str(path), "web"],
                 ["ams", "conf", str(path), "--label", "web", "-o", str(tmp_path / "k.conf")]):
        assert "keystores.secrets" not in _modules_after(argv, tmp_path), argv
    assert "keystores.secrets" in _modules_after(["list", str(path), "-p", "env:LEAN_PW"], tmp_path)


@pytest.mark.parametrize("name", ["jks", "jceks", "bks", "bcfks", "kdb", "pem"])
def test_a_read_loads_no_writer(stores: dict[str, Path], name: str, tmp_path: Path) -> None:
    """Listing and showing a store read it through keystores.fileread: neither the atomic writes nor the folder
    locks of keystores.fileio are loaded (validate of a .kdb neither)."""
    password = [] if name == "kdb" else ["-p", "env:LEAN_PW"]
    for argv in (["list", str(stores[name])], ["show", str(stores[name]), "web"],
                 *([["validate", str(stores[name]), "web"]] if name == "kdb" else [])):
        loaded = _modules_after([*argv, *password], tmp_path)
        assert "keystores.fileread" in loaded and "keystores.fileio" not in loaded, argv


def test_commands_that_use_libcrypto_on_a_cms_database_load_no_hashlib(stores: dict[str, Path],
                                                                       tmp_path: Path) -> None:
    """validate, audit (signatures) and ams conf (the key's decryption) reach libcrypto through ctypes; _hashlib is
    what loads it (keystores.crypto.libcrypto), and hashlib's own module, whose constructors none of them uses, is
    not imported: the database's checks and the fingerprints are hashed by keystores.crypto.digests."""
    path = tmp_path / "s.kdb"
    for suffix in (".kdb", ".sth", ".rdb", ".crl"):
        if stores["kdb"].with_suffix(suffix).is_file():
            path.with_suffix(suffix).write_bytes(stores["kdb"].with_suffix(suffix).read_bytes())
    for argv in (["validate", str(path), "web"], ["ams", "conf", str(path), "--label", "web", "-o",
                                                  str(tmp_path / "k.conf")]):
        loaded = _modules_after(argv, tmp_path)
        assert "_hashlib" in loaded and "keystores.crypto.lean_ctypes" in loaded, argv
        assert "ctypes" not in loaded, argv  # its lean part (keystores.crypto.lean_ctypes) only
        assert "hashlib" not in loaded and "hmac" not in loaded, argv
