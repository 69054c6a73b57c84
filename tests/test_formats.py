"""The format records (keystores/formats.py): one declaration per format from which detection, --type, help text,
`keystores backends`, profile and option checks and the test tables are derived.

A throw-away format (tests/throwaway/hexlines.py) registered at run time goes through the real CLI (detect, list,
convert, --type, `keystores backends`) with no other file touched; every write profile but the known ones is
refused by every format; records stay cheap to import. Issue 13's measure (a format touches its package, its tests
and its fixture, nothing else): no literal table of formats outside the records (test_no_hand_written_table_of_formats).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hardening import FILE_FORMATS, PASSWORD, base_entries, make_store, usable
from helpers import ca

from keystores import formats
from keystores.errors import UsageError
from keystores.formats import Profile, Storage
from keystores.store import detect, open_store, store_exists

THROWAWAY = Path(__file__).parent / "throwaway"


def _cli_with_hexlines(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess that registered the throw-away format first (as a plug-in would)."""
    code = ("import sys, hexlines\nfrom keystores import formats\nformats.register(hexlines.RECORD)\n"
            "from keystores.cli.main import run\nrun(sys.argv[1:])\n")
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd, check=False,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(THROWAWAY), "NO_COLOR": "1"})


def test_a_format_is_its_record_and_its_backend(tmp_path: Path) -> None:
    _, root = ca(0)
    (tmp_path / "ca.pem").write_bytes(root.public_bytes(Encoding.PEM))

    made = _cli_with_hexlines("convert", "ca.pem", "ca.hexl", cwd=tmp_path)  # the type from the extension
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "ca.hexl").read_bytes().startswith(b"#hexlines\n")

    (tmp_path / "ca.hexl").rename(tmp_path / "renamed.txt")  # the bytes decide, not the name
    listed = _cli_with_hexlines("list", "renamed.txt", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)["entries"]
    assert [(e["label"], e["kind"]) for e in entries] == [("Test Root CA 0", "trusted-cert")]

    back = _cli_with_hexlines("convert", "renamed.txt", "back.der", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert (tmp_path / "back.der").read_bytes() == root.public_bytes(Encoding.DER)

    typed = _cli_with_hexlines("convert", "ca.pem", "typed.out", "--dest-type", "hexl", cwd=tmp_path)  # an alias
    assert typed.returncode == 0, typed.stderr
    assert (tmp_path / "typed.out").read_bytes() == (tmp_path / "renamed.txt").read_bytes()

    backends = _cli_with_hexlines("backends", "--json", cwd=tmp_path)
    assert json.loads(backends.stdout)["hexlines"] == {"available": True, "reason": None}
    helped = _cli_with_hexlines("convert", "--help", cwd=tmp_path)
    assert "hexlines (hexl)" in helped.stdout and ".hexl" in helped.stdout


def test_register_refuses_a_taken_name_and_undoes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(THROWAWAY))
    import hexlines

    with pytest.raises(ValueError, match="taken"):
        formats.register(formats.get("p12"))
    undo = formats.register(hexlines.RECORD)
    try:
        assert formats.get(".HEXL") is hexlines.RECORD and "hexl" in formats.type_choices()
        assert formats.sniff(b"#hexlines\n") is hexlines.RECORD
    finally:
        undo()
    with pytest.raises(UsageError, match="unknown store type 'hexl'"):
        formats.get("hexl")


# --- what the records declare ----------------------------------------------------------------------------------
def test_every_spelling_names_one_format() -> None:
    spellings = [s for record in formats.records() for s in record.spellings]
    assert len(spellings) == len(set(spellings))
    extensions = [e for record in formats.records() for e in record.extensions]
    assert len(extensions) == len(set(extensions)) and all(e == e.lower() and e.startswith(".") for e in extensions)
    prefixes = [record.prefix for record in formats.records() if record.prefix]
    assert len(prefixes) == len(set(prefixes))


@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_each_format_is_detected_from_its_own_store(fmt: str, tmp_path: Path) -> None:
    usable(fmt)
    record = formats.get(fmt)
    location = record.address_in(tmp_path)
    if record.storage is Storage.FOLDER:
        record.folder_of(location).mkdir()
    make_store(fmt, location, base_entries())
    assert store_exists(location)
    assert detect(location) == (fmt, [])
    if record.storage is Storage.FILE:  # the bytes decide, whatever the name
        renamed = Path(location).rename(tmp_path / "no-extension")
        assert formats.sniff(renamed.read_bytes()[:4096]) is record
        assert detect(str(renamed)) == (fmt, [])


def test_address_forms_come_from_the_records(tmp_path: Path) -> None:
    assert detect("sql:/nowhere") == ("nss", []) and detect("pkcs11:token=T") == ("pkcs11", [])
    assert store_exists("pkcs11:token=T") and not store_exists(f"sql:{tmp_path}")
    (tmp_path / "cert9.db").touch()
    assert store_exists(f"sql:{tmp_path}") and store_exists(str(tmp_path)) and detect(str(tmp_path))[0] == "nss"


def test_cli_help_lists_what_the_records_declare() -> None:
    from keystores.cli.helptext import _filled

    text = _filled("types: {types}; names: {names}")
    for record in formats.listed():
        if record.storage is not Storage.INDIRECT:
            assert record.name in text
    assert "pkcs12 (p12/pfx)" in text and ".p12" in text and "sql:DIR" in text and "pkcs11:URI" in text
    assert "memory" not in text


def test_records_import_nothing_heavy() -> None:
    """Detection reads every record: they must not pull in a backend (tests/test_cli_lazy.py keeps start-up cheap)."""
    code = ("import sys\nfrom keystores import formats\nformats.records()\n"
            "loaded = sorted(m for m in sys.modules if m.startswith('keystores.backends.')\n"
            "                and m.rsplit('.', 1)[-1] != 'format' and m.count('.') > 2)\n"
            "heavy = sorted(m for m in ('pkcs11', 'sqlite3', 'cryptography', 'asn1crypto') if m in sys.modules)\n"
            "print(loaded, heavy)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] []"


def test_detection_loads_no_format_package_and_an_import_gets_the_records_module() -> None:
    """Reading the records imports no format's package (formats._RecordModules): `keystores list x.p12` imports
    PKCS#12's alone. A record module imported by name afterwards, in every spelling, is the module detection read
    (its RECORDS are formats.records()'), with its package imported first; the finder leaves once all are."""
    code = ("import sys\nfrom keystores import formats\nrecords = formats.records()\n"
            "print(sorted(m for m in sys.modules if m.startswith(('keystores.backends.', 'keystores.ams'))))\n"
            "import keystores.backends.nss.format as nss\n"
            "from keystores.backends.jks import format as jks\n"
            "import keystores.backends.pem.format\n"
            "import keystores.ams.format as ams\n"
            "assert nss.RECORDS[0] is formats.get('nss') and jks.RECORDS[0] is formats.get('jks')\n"
            "assert keystores.backends.pem.format.RECORDS[0] is formats.get('pem') and ams.RECORDS[0] is "
            "formats.get('ams')\n"
            "assert 'keystores.backends.nss' in sys.modules and nss.__spec__.loader is nss.__loader__\n"
            "for name in ('bcfks', 'bks', 'cms', 'memory', 'pkcs11', 'pkcs12'):\n"
            "    module = __import__(f'keystores.backends.{name}.format', fromlist=['RECORDS'])\n"
            "    assert all(any(r is s for s in records) for r in module.RECORDS), name\n"
            "print(sum(type(f).__module__ == 'keystores.formats' for f in sys.meta_path))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split("\n")[:2] == ["[]", "0"], done.stdout


def test_listing_a_pkcs12_imports_no_other_backend(tmp_path: Path) -> None:
    """`keystores list x.p12` reads every record (detection, --type's choices) and loads PKCS#12's code alone."""
    location = str(tmp_path / "x.p12")
    make_store("pkcs12", location, base_entries())
    code = ("import atexit, sys\n"
            "def loaded():\n"
            "    print(sorted({m.split('.')[2] for m in sys.modules if m.startswith('keystores.backends.')\n"
            "                  and m.count('.') > 2 and not m.endswith('.format')}), file=sys.stderr)\n"
            "atexit.register(loaded)\n"
            "from keystores.cli.main import run\nrun(sys.argv[1:])\n")
    done = subprocess.run([sys.executable, "-c", code, "list", location, "-p", "env:PW"], capture_output=True,
                          text=True, check=False, env={"PATH": "/usr/bin:/bin", "PW": PASSWORD, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "['pkcs12']"


# --- profiles and options, checked once in open_store ----------------------------------------------------------
@pytest.mark.parametrize("fmt", [r.name for r in formats.records() if r.storage is not Storage.INDIRECT])
def test_an_unknown_profile_is_refused_by_every_format(fmt: str, tmp_path: Path) -> None:
    record = formats.get(fmt)
    location = record.address_in(tmp_path) if record.extensions or record.test_address else f"{record.prefix}x"
    for writing in (True, False):
        with pytest.raises(UsageError, match="unknown write profile 'garbage'; profiles are modern, compat"):
            open_store(location, password=PASSWORD, type=fmt, create=writing, profile="garbage")
    assert not Path(location).exists()


def test_profile_enum_and_strings_alike(tmp_path: Path) -> None:
    with open_store(tmp_path / "a.p12", password=PASSWORD, create=True, profile=Profile.MODERN) as store:
        assert store.profile == "modern"


@pytest.mark.parametrize("fmt", ["jks", "pem", "cms"])
def test_compat_where_a_format_has_one_set_of_algorithms_is_a_note(fmt: str, tmp_path: Path) -> None:
    location = formats.get(fmt).address_in(tmp_path)
    with open_store(location, password=PASSWORD, create=True, profile="compat") as store:
        notes = list(store.notes)
    assert any("one set of algorithms; the compat profile changes nothing" in n for n in notes), notes


def test_an_option_the_format_does_not_declare_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="a PKCS#12 store takes no option module"):
        open_store(tmp_path / "a.p12", password=PASSWORD, create=True, module="/lib/x.so")
    with pytest.raises(UsageError, match=r"takes no option stash \(it takes key_password\)"):
        open_store(tmp_path / "a.jks", password=PASSWORD, create=True, stash=True)
    assert not any(tmp_path.iterdir())
    with open_store(tmp_path / "a.kdb", password=PASSWORD, create=True, stash=True):
        pass
    assert (tmp_path / "a.sth").exists()


def test_audit_gives_module_to_the_tokens_only(tmp_path: Path) -> None:
    """One --module for many stores: a .p12 among them is not refused for an option tokens take."""
    from clirun import keystores

    location = str(tmp_path / "a.p12")
    make_store("pkcs12", location, base_entries())
    done = keystores("audit", location, "-p", "env:PW", "--module", "/nowhere/libtoken.so", "--skip", "expiring",
                     env={"PW": PASSWORD})
    assert done.code == 0, done.err
    assert "audited 1 store(s)" in done.err
    refused = keystores("list", location, "-p", "env:PW", "--module", "/nowhere/libtoken.so", env={"PW": PASSWORD})
    assert refused.code == 2 and "a PKCS#12 store takes no option module" in refused.err


# --- the measure: a format is named in its own places only --------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("keystores", "cli", "tests", "bench", "fixtures", "ansible_collections", "setup.py")
#: a literal list, tuple, set or dict naming this many formats is a table of formats that a new format would have to
#: join (and, where it is missed, silently not be in): derive it from formats.records() instead
TABLE = 4
#: tables that are someone else's facts, not ours, so a new format of ours does not join them
NOT_OURS = {
    "keystores/ams/conf.py": "the store types MQ AMS's keystore.conf can name (IBM's list)",
    "tests/test_ams_doctor.py": "the keystore.conf store types the AMS doctor is tried with (IBM's list)",
    "tests/test_cli.py": "a floor: `keystores backends` lists every record and at least these; a new one need not join",
    "tests/test_startup_lean.py": "the backends whose lazy readers it holds to their eager ones (issue 15's start-up); "
                                  "a new format need not join",
}


def _format_tables() -> list[str]:
    """`file:line: formats` for every literal display naming TABLE or more formats outside the formats' own package."""
    spelled = {s: record for record in formats.records() for s in record.spellings}
    found = []
    paths = [p for name in SOURCES for p in [*sorted((ROOT / name).rglob("*.py")), ROOT / name] if p.is_file()]
    for path in paths:
        relative = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if isinstance(node, ast.List | ast.Tuple | ast.Set):
                items = node.elts
            elif isinstance(node, ast.Dict):
                items = [key for key in node.keys if key is not None]
            else:
                continue
            strings = [item.value for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)]
            named = {spelled[string.lower()] for string in strings if string.lower() in spelled}
            packages = {record.opener.partition(":")[0].replace(".", "/") for record in named}
            if len(named) >= TABLE and not (len(packages) == 1 and relative.startswith(packages.pop() + "/")):
                found.append(f"{relative}:{node.lineno}: {', '.join(sorted(r.name for r in named))}")
    return found


def test_no_hand_written_table_of_formats() -> None:
    """Issue 13's measure: adding a format touches its package, its tests and its fixture, nothing else. Every list
    of formats is derived from the records (tests/hardening.py, tests/backend_suite.py, the CLI's help and --type)
    and each format's native judge sits in its own test file (NATIVE_JUDGES), so a new table of formats shows here."""
    tables = _format_tables()
    assert [t for t in tables if t.partition(":")[0] not in NOT_OURS] == []
    assert {t.partition(":")[0] for t in tables} == set(NOT_OURS)  # each exception is still needed


def test_the_table_finder_sees_a_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The measure's finder is not blind: a table like the one test_lifecycle.py had is found, by name or alias."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_new.py").write_text('JUDGES = {"p12": 1, "jks": 2, "jceks": 3, "pem": 4}\n')
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _format_tables() == ["tests/test_new.py:1: jceks, jks, pem, pkcs12"]
