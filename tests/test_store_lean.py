"""What opening a store costs in a user install (issue 15): list, show, export, convert, import and delete on small
PKCS#12, JKS, JCEKS, CMS (.kdb with its stash) and NSS stores import no pathlib (nor the urllib.parse and ipaddress it
brings), and not keystores.protocols (typing's Protocol classes, given by name only to type checkers and callers who
ask); deleting a PKCS#12 key pair decodes no certificate; listing an NSS database loads no cryptography (its
password check decrypts through libcrypto).

The commands run as a user's install runs them: `python -S` with this checkout and the dependencies on a plain
path, without the development venv's editable finder (which imports pathlib and re itself) or its .pth hooks.
NSS's CBC through libcrypto is held to cryptography's, both ways, and declines what cryptography refuses.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.store import open_store

PASSWORD = "lean-store-1"
ENV = {"LEAN_PW": PASSWORD}
PW = ["--password", "env:LEAN_PW"]
WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parent.parent
NEVER = ("pathlib", "urllib.parse", "ipaddress", "keystores.protocols")


def _unwanted(modules: set[str]) -> set[str]:
    """Those of NEVER a run loaded; urllib.parse and ipaddress are cryptography.x509's own where a command needs
    it (import decodes the certificate it is given)."""
    brought = {"urllib.parse", "ipaddress"} if "cryptography.x509" in modules else set()
    return modules & (set(NEVER) - brought)

# Runs the CLI as the console script does and reports the modules it loaded (sys.modules at exit).
_RUN = ("import sys\n"
        "from keystores.cli.main import run\n"
        "try:\n    code = run(sys.argv[1:])\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "loaded = sorted(sys.modules)\n"
        "import json\n"  # after: json imports re
        "print(json.dumps(loaded), file=sys.stderr)\n"
        "sys.exit(code)\n")


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _issue(subject: str, key: Any, issuer_key: Any, serial: int) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name("Lean CA"))
            .public_key(key.public_key()).serial_number(serial).not_valid_before(WHEN)
            .not_valid_after(WHEN + dt.timedelta(days=365)).sign(issuer_key, hashes.SHA256()))


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A key pair with its CA and the CA trusted, in each format; extra.pem, a certificate to import."""
    folder = tmp_path_factory.mktemp("lean-store")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _issue("Lean CA", ca_key, ca_key, 1)
    entries = [Entry("server", EntryKind.KEY_PAIR, chain=(_issue("server", key, ca_key, 2), ca), key=key),
               Entry("ca", EntryKind.TRUSTED_CERT, chain=(ca,), trust=TRUST_ALL)]
    (folder / "nss").mkdir()
    found = {name: str(folder / name) for name in ("s.p12", "s.jks", "s.jceks", "s.kdb")}
    found["nss"] = f"sql:{folder / 'nss'}"
    for name, location in found.items():
        with open_store(location, password=PASSWORD, create=True, **({"stash": True} if name == "s.kdb" else {})) \
                as store:
            for entry in entries:
                store.add(entry)
    with open_store(folder / "one.p12", password=PASSWORD, create=True) as store:  # as keytool -genkeypair makes
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(_issue("Lean CA", ca_key, ca_key, 4),), key=ca_key))
    found["one.p12"] = str(folder / "one.p12")
    (folder / "extra.pem").write_bytes(_issue("extra", key, ca_key, 3).public_bytes(serialization.Encoding.PEM))
    found["extra"] = str(folder / "extra.pem")
    found["folder"] = str(folder)
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The package laid out as a wheel installs it (cli/ inside keystores/), by symbolic links to this checkout."""
    site = tmp_path_factory.mktemp("site")
    package = site / "keystores"
    package.mkdir()
    for item in (ROOT / "keystores").iterdir():
        if item.name != "__pycache__":
            (package / item.name).symlink_to(item)
    (package / "cli").symlink_to(ROOT / "cli")
    return str(site)


def _as_user(installed: str, args: list[str]) -> tuple[set[str], subprocess.CompletedProcess[str]]:
    """Run `keystores ARGS` as a user's install would (see the module docstring); (modules loaded, the run)."""
    path = os.pathsep.join([installed, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {**os.environ, **ENV, "PYTHONPATH": path}
    run = subprocess.run([sys.executable, "-S", "-c", _RUN, *args], capture_output=True, text=True, env=env,
                         cwd=installed, timeout=120)
    assert run.returncode == 0, run.stderr
    *_, modules = run.stderr.strip().splitlines()
    return set(json.loads(modules)), run


def test_the_user_install_baseline_itself_loads_none_of_them(installed: str) -> None:
    """Without the editable finder, `pass` loads none of NEVER: what a command loads, the command loads."""
    path = os.pathsep.join([installed, sysconfig.get_paths()["purelib"]])
    run = subprocess.run([sys.executable, "-S", "-c", "import sys; print(' '.join(sys.modules))"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path}, check=True)
    assert not set(run.stdout.split()) & {*NEVER, "re", "typing"}


@pytest.mark.parametrize("name", ["s.p12", "s.jks", "s.jceks", "s.kdb", "nss"])
def test_reading_commands_load_no_pathlib(installed: str, stores: dict[str, str], name: str) -> None:
    location = stores[name]
    pw = [] if name == "s.kdb" else PW  # the stash opens it
    out = os.path.join(stores["folder"], f"out-{name.replace(':', '')}")
    for args in (["list", location, *pw], ["show", location, "server", *pw],
                 ["export", location, "server", "-o", out + ".pem", "--force", *pw],
                 ["convert", location, out + "-conv.pem", "--force", *pw]):
        modules, _ = _as_user(installed, args)
        assert not _unwanted(modules), (args, _unwanted(modules))


@pytest.mark.parametrize("name", ["s.p12", "s.jks", "s.jceks", "s.kdb", "nss"])
def test_import_and_delete_load_no_pathlib(installed: str, stores: dict[str, str], name: str) -> None:
    location = stores[name]
    pw = [] if name == "s.kdb" else PW
    dest_pw = [] if name == "s.kdb" else ["--dest-password", "env:LEAN_PW"]
    for args in (["import", stores["extra"], location, "--label", "extra", *dest_pw],
                 ["delete", location, "extra", *pw]):
        modules, _ = _as_user(installed, args)
        assert not _unwanted(modules), (args, _unwanted(modules))


def test_deleting_a_key_pair_decodes_no_certificate(installed: str, stores: dict[str, str], tmp_path: Path) -> None:
    """Which chain certificates go with a deleted key pair is decided on their DER (Entry.chain_der)."""
    copy = tmp_path / "two.p12"
    copy.write_bytes(Path(stores["s.p12"]).read_bytes())
    modules, _ = _as_user(installed, ["delete", str(copy), "server", *PW])
    assert "cryptography.x509" not in modules
    with open_store(copy, password=PASSWORD) as store:
        assert store.labels() == ["ca"]


# What opening a store must not need: each costs a share of starting Python (typing and re most, with enum,
# functools and collections behind them). The front of every command (cli/, keystores/__init__) keeps them out too.
BANNED = ("typing", "enum", "re", "contextlib", "functools", "collections", "collections.abc", "importlib",
          "dataclasses", "pathlib", "urllib.parse")
FRONT = ("keystores", "keystores.cli", "keystores.errors", "keystores.frozen", "keystores.secrets", "keystores.text",
         "keystores.exit_codes")


def _module_file(name: str) -> Path:
    parts = name.split(".")
    base = ROOT / "cli" if parts[:2] == ["keystores", "cli"] else ROOT / "keystores"
    rest = parts[2:] if parts[:2] == ["keystores", "cli"] else parts[1:]
    folder = base.joinpath(*rest)
    return folder / "__init__.py" if folder.is_dir() else folder.with_suffix(".py")


def _runtime_imports(path: Path) -> set[str]:
    """The modules `path` imports when it is imported (top level, outside `if TYPE_CHECKING:`)."""
    import ast

    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("name", ["one.p12", "s.jks", "s.jceks", "s.kdb", "nss"])
def test_the_modules_that_open_a_store_import_nothing_banned(installed: str, stores: dict[str, str],
                                                              name: str) -> None:
    """Every keystores module `list` and `show` load (the front's aside) imports none of BANNED when imported: so
    with a lean front, opening a store adds none of them (sqlite3 brings datetime and collections for NSS; JKS's
    dates need datetime). `show` of a key pair proves its chain by signature, which needs cryptography (and so
    typing): its certificate entry is shown here, and PKCS#12's self-signed key pair."""
    pw = [] if name == "s.kdb" else PW
    shown = "server" if name == "one.p12" else "ca"
    for args in (["list", stores[name], *pw], ["show", stores[name], shown, *pw]):
        modules, _ = _as_user(installed, args)
        ours = sorted(m for m in modules if m.startswith("keystores.") and m not in FRONT
                      and not m.startswith("keystores.cli"))
        offenders = {m: sorted(_runtime_imports(_module_file(m)) & set(BANNED)) for m in ours}
        assert not {m: found for m, found in offenders.items() if found}, args


@pytest.mark.parametrize("name", ["one.p12", "s.p12"])
def test_opening_a_pkcs12_loads_no_codec_module(installed: str, stores: dict[str, str], name: str) -> None:
    """Its password (bmp_password) and friendly names are UTF-16BE, encoded and decoded by the functions the codec
    calls, without importing encodings.utf_16_be (~0.9 M instructions)."""
    for args in (["list", stores[name], *PW], ["show", stores[name], "server", *PW]):
        modules, run = _as_user(installed, args)
        assert "server" in run.stdout
        assert "encodings.utf_16_be" not in modules, args


def test_listing_an_nss_database_loads_no_cryptography(installed: str, stores: dict[str, str]) -> None:
    modules, run = _as_user(installed, ["list", stores["nss"], *PW])
    assert "server\tkey-pair\tCN=server" in run.stdout
    assert not {m for m in modules if m.startswith("cryptography")}


@pytest.mark.parametrize("cipher, key_length, block", [("aes", 32, 16), ("aes", 16, 16), ("tripledes", 24, 8)])
def test_nss_cbc_by_libcrypto_is_cryptographys(cipher: str, key_length: int, block: int) -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    from keystores.backends.nss import crypto as nc
    from keystores.crypto import libcrypto
    from keystores.crypto.pbe import block_cipher

    assert libcrypto.library() is not None  # this interpreter's hashlib is OpenSSL's: the lean path is taken
    for size in (block, 3 * block, 64 * block):
        key, iv, data = os.urandom(key_length), os.urandom(block), os.urandom(size)
        reference = Cipher(block_cipher(cipher, key), modes.CBC(iv))
        encrypted = reference.encryptor().update(data)
        assert nc._cbc(cipher, key, iv, data, decrypt=False) == encrypted
        assert nc._cbc(cipher, key, iv, encrypted, decrypt=True) == data
    # what libcrypto declines goes to cryptography, which refuses it as before (DecryptFailed above it)
    with pytest.raises(ValueError):
        nc._cbc(cipher, os.urandom(key_length), os.urandom(block), os.urandom(block + 1), decrypt=True)


def test_a_pbe_scheme_is_the_namedtuple_it_was() -> None:
    from typing import NamedTuple

    from keystores.crypto.pbe import Scheme

    was = NamedTuple("Scheme", [("text", str), ("algorithms", tuple[str, ...]), ("iterations", int | None)])  # noqa: UP014
    for args in (("PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC, 10000 iterations", ("PBKDF2", "AES-256"), 10000),
                 ("unknown", (), None)):
        ours, theirs = Scheme(*args), was(*args)
        assert ours == theirs and hash(ours) == hash(theirs) and tuple(ours) == tuple(theirs)
        assert (ours.text, ours.algorithms, ours.iterations) == (theirs.text, theirs.algorithms, theirs.iterations)
        assert repr(ours) == repr(theirs)
        text, algorithms, iterations = ours
        assert (text, algorithms, iterations) == args


def test_a_store_named_with_a_trailing_slash_is_read_as_pathlib_names_it(stores: dict[str, str]) -> None:
    """`list x.p12/` read x.p12 when detection used pathlib (which drops the slash); it still does."""
    from keystores.store import detect

    assert detect(stores["one.p12"] + "/")[0] == "pkcs12"
    with open_store(stores["one.p12"] + "/", password=PASSWORD) as store:
        assert store.labels() == ["server"]


# What the whole command loads, front included, where it loads no cryptography (which itself imports typing, re ...).
FREE_OF = ("typing", "enum", "re", "contextlib", "functools", "collections", "importlib", "dataclasses", "pathlib",
           "urllib.parse", "ipaddress")


@pytest.mark.parametrize("name", ["one.p12", "s.jks", "s.jceks", "s.kdb"])
def test_commands_on_a_small_store_load_none_of_the_standard_librarys_heavy_modules(
        installed: str, stores: dict[str, str], name: str) -> None:
    """list, show of a certificate or self-signed key pair, export of a certificate to PEM and convert to PEM: with
    the front and the store layer lean, none of FREE_OF is loaded (a user's install; `python -S`). NSS's sqlite3
    brings collections and datetime, so an NSS listing is held to no typing, re or enum instead (below)."""
    pw = [] if name == "s.kdb" else PW
    shown = "server" if name == "one.p12" else "ca"
    out = os.path.join(stores["folder"], f"free-{name}")
    for args in (["list", stores[name], *pw], ["show", stores[name], shown, *pw],
                 ["export", stores[name], shown, "-o", out + ".pem", "--force", *pw],
                 ["convert", stores[name], out + "-conv.pem", "--force", *pw]):
        modules, _ = _as_user(installed, args)
        # (convert of a JKS or CMS key pair loaded cryptography to verify its chain; keystores.crypto.verify does)
        assert not modules & set(FREE_OF), (args, sorted(modules & set(FREE_OF)))


def test_reading_an_nss_database_loads_no_write_module(installed: str, stores: dict[str, str],
                                                       tmp_path: Path) -> None:
    """The change log, the write transaction and the SQL writes (nss/transaction.py; an add's, nss/adding.py) come
    with a store opened to be written (WritableNssStore), never with a read; a write still has them and writes."""
    writing = {"keystores.backends.nss.transaction", "keystores.backends.nss.adding"}
    for args in (["list", stores["nss"], *PW], ["show", stores["nss"], "server", *PW],
                 ["export", stores["nss"], "server", "-o", str(tmp_path / "server.pem"), *PW]):
        modules, _ = _as_user(installed, args)
        assert not modules & writing, args
    copy = tmp_path / "nss"
    shutil.copytree(stores["nss"].removeprefix("sql:"), copy)
    modules, _ = _as_user(installed, ["rename", f"sql:{copy}", "ca", "root", *PW])
    assert "keystores.backends.nss.transaction" in modules
    with open_store(f"sql:{copy}", password=PASSWORD) as store:
        assert sorted(store.labels()) == ["root", "server"]


def test_a_certificate_entry_of_an_nss_database_builds_no_chain(installed: str, stores: dict[str, str],
                                                                 tmp_path: Path) -> None:
    """A certificate entry's chain is itself: export and trust of the CA load no keystores.pki.chain (its chain
    building, certificates and spki); a key pair's export still builds its chain."""
    copy = tmp_path / "nss"
    shutil.copytree(stores["nss"].removeprefix("sql:"), copy)
    for args in (["export", f"sql:{copy}", "ca", "-o", str(tmp_path / "ca.pem"), *PW],
                 ["trust", f"sql:{copy}", "ca", "off", *PW]):
        modules, _ = _as_user(installed, args)
        assert "keystores.pki.chain" not in modules, args
    modules, _ = _as_user(installed, ["export", f"sql:{copy}", "server", "--chain", "-o",
                                      str(tmp_path / "server.pem"), *PW])
    assert "keystores.pki.chain" in modules
    assert (tmp_path / "server.pem").read_text().count("BEGIN CERTIFICATE") == 2
    with open_store(f"sql:{copy}", password=PASSWORD) as store:
        assert store.get("ca").trust is None or not store.get("ca").trust.purposes


def test_writing_an_nss_databases_macs_loads_no_hmac(installed: str, stores: dict[str, str],
                                                       tmp_path: Path) -> None:
    """The integrity MACs an import or a trust change writes are HMAC-SHA256 made by two hash calls
    (nss/macs.py _hmac, held to hmac by test_nss_mac): the hmac module is not imported for them."""
    copy = tmp_path / "nss"
    shutil.copytree(stores["nss"].removeprefix("sql:"), copy)
    for args in (["import", stores["extra"], f"sql:{copy}", "--label", "extra", "--dest-password", "env:LEAN_PW"],
                 ["trust", f"sql:{copy}", "ca", "C,,", *PW]):
        modules, _ = _as_user(installed, args)
        assert "hmac" not in modules, args
    with open_store(f"sql:{copy}", password=PASSWORD) as store:
        assert store.get("ca").trust.native == "C,,"  # its seven MACs verify


def test_listing_an_nss_database_loads_no_typing_re_or_enum(installed: str, stores: dict[str, str]) -> None:
    modules, _ = _as_user(installed, ["list", stores["nss"], *PW])
    assert not modules & {"typing", "re", "enum", "contextlib", "importlib", "pathlib"}


def test_showing_an_nss_database_loads_no_hashlib_nor_labels(installed: str, stores: dict[str, str]) -> None:
    """The passKey, the MACs and the trust objects' certificate hashes take _hashlib's own objects, which hashlib
    re-exports (nss/crypto.py): hashlib's import makes every digest's constructor and loads _blake2. Labels are made
    unique by keystores.pki.labels only where a nickname repeats (test_nss: ..._repeated_nicknames_...)."""
    for args in (["list", stores["nss"], *PW], ["show", stores["nss"], "ca", *PW]):
        modules, run = _as_user(installed, args)
        assert "_hashlib" in modules and not modules & {"hashlib", "_blake2", "keystores.pki.labels"}, args
        # Nor the key <-> attributes mapping: the objects are read by the numbers alone (keystores.pki.cka).
        assert "keystores.pki.cka" in modules and "keystores.pki.key_attributes" not in modules, args
        assert "ca" in run.stdout


def test_a_jks_entrys_date_is_read_on_first_use_and_is_the_same(installed: str, stores: dict[str, str],
                                                                 tmp_path: Path) -> None:
    """JKS keeps each entry's date as milliseconds until `created` is asked for: `list` imports no datetime; the
    date, a relabelled copy's date and a rewrite's bytes are as before."""
    from keystores.backends.java_data import from_millis

    modules, _ = _as_user(installed, ["list", stores["s.jks"], *PW])
    assert "datetime" not in modules
    copy = tmp_path / "copy.jks"
    copy.write_bytes(Path(stores["s.jks"]).read_bytes())
    with open_store(copy, password=PASSWORD, writable=True) as store:
        entries = {entry.label: entry for entry in store}
        for entry in entries.values():
            assert "_created" not in entry.__dict__  # still milliseconds
            assert entry.created is not None and entry.created == from_millis(int(entry.created.timestamp() * 1000))
            assert entry.with_(label="renamed").created == entry.created
        store.rename("ca", "ca2")
    with open_store(copy, password=PASSWORD) as store:
        assert store.get("ca2").created == entries["ca"].created and store.get("server").created == \
            entries["server"].created
