"""bench/harness.py measures start-up as users get it (issue 15 item 2): keystores from a wheel installed in a clean
venv, run as its console script, against that venv's `python -c pass` and against floor scripts made from the same
launcher; and says so when it had to fall back to the development venv. What is measured, not how long it takes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import harness  # noqa: E402

from softhsm import softhsm  # noqa: E402,F401  (pytest fixture)


@pytest.fixture(scope="module")
def install(tmp_path_factory: pytest.TempPathFactory) -> harness.Install:
    return harness.build_install(ROOT, tmp_path_factory.mktemp("bench-install"))


def _modules(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """The modules a run imports, from `-X importtime` (argv[0] is a script run by its shebang's python, or a
    python), in `env` (default: this one's)."""
    script = Path(argv[0])
    if script.name != "python" and not script.name.startswith("python"):
        argv = [script.read_text().splitlines()[0].removeprefix("#!"), *argv]
    done = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], capture_output=True, text=True, cwd=cwd,
                          env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


def test_keystores_runs_from_a_wheel_in_a_clean_venv_as_its_console_script(install: harness.Install,
                                                                          tmp_path: Path) -> None:
    assert install.wheel and install.baseline == "python -c pass"
    venv = Path(install.python).parent.parent
    assert install.keystores == [str(venv / "bin" / "keystores")]
    where = subprocess.run(install.code("import keystores, sys; print(keystores.__file__); print(sorted(sys.modules))"),
                           capture_output=True, text=True, cwd=ROOT, check=True).stdout.splitlines()
    # not the checkout (-P: even from the top of the tree), byte-compiled as pip installs it
    assert where[0].startswith(str(venv)) and not where[0].startswith(str(ROOT))
    assert list((Path(where[0]).parent / "__pycache__").glob("*.pyc"))
    # none of the development venv's .pth hooks: no editable finder, no setuptools distutils hack, no ibm_db
    loaded = _modules(install.pass_(), tmp_path)
    assert not {name for name in loaded if "editable" in name or "distutils" in name or "ibm_db" in name}
    assert "pathlib" not in loaded and "urllib" not in loaded
    ours = subprocess.run([*install.keystores, "version"], capture_output=True, text=True, check=True)
    dev = subprocess.run([sys.executable, "-m", "keystores", "version"], capture_output=True, text=True, check=True)
    assert ours.stdout == dev.stdout and ours.stdout.strip()


def test_each_floor_is_the_launcher_without_keystores(install: harness.Install, tmp_path: Path) -> None:
    launcher = Path(install.keystores[0]).read_text()
    for name in harness.FLOORS:
        argv = install.floor(name)
        text = Path(argv[0]).read_text()
        assert text.splitlines()[0] == launcher.splitlines()[0]  # the same interpreter, started the same way
        # keystores is named only in the text of the end it shares with keystores (harness._floor_end) and of the
        # lean ctypes it runs from keystores' file alone (harness.LEAN_CTYPES), never imported
        body = text.split("\n", 1)[1].replace(harness._floor_end(), "").replace(harness.LEAN_CTYPES, "")
        assert "keystores" not in body
        loaded = _modules(argv, tmp_path)
        assert not {module for module in loaded if module.startswith("keystores")}, name
    # the cryptography floor signs without ECDSA.__init__'s import of the openssl backend, as keystores does
    loaded = _modules(install.floor("cryptography floor"), tmp_path)
    assert "cryptography.hazmat.primitives.asymmetric.ec" in loaded
    assert not {module for module in loaded if "backends.openssl" in module}
    # the libcrypto EC floor makes its key and signs through the interpreter's libcrypto, loading no cryptography,
    # and its derivations go to _hashlib, not hashlib (whose import makes every constructor: keystores no longer
    # imports it on these paths)
    loaded = _modules(install.floor("libcrypto EC floor"), tmp_path)
    assert "_ctypes" in loaded and "ctypes" not in loaded  # keystores' lean ctypes (harness.LEAN_CTYPES)
    assert not {module for module in loaded if module.startswith("cryptography")}
    lean = harness.derivation_floor(3, after="libcrypto EC floor")
    loaded = _modules(install.floor(lean), tmp_path)
    assert "_hashlib" in loaded and "hashlib" not in loaded
    assert not {module for module in loaded if module.startswith("cryptography")}
    # a floor with a body of the caller's own
    argv = install.floor("token floor", "import hashlib\n")
    assert "hashlib" in _modules(argv, tmp_path)


def test_a_floor_runs_with_the_cyclic_collector_set_as_keystores_sets_it(install: harness.Install,
                                                                        tmp_path: Path) -> None:
    """Install.floor: the body runs under keystores' threshold (cli.main._YOUNG_OBJECTS) and what it made is frozen
    before the interpreter's last collection, as cli.main.run does: the cheapest way, so the floor's way too."""
    from keystores.cli.main import _YOUNG_OBJECTS

    body = ("import atexit, gc\nprint(gc.get_threshold()[0])\n"
            "atexit.register(lambda: print(gc.get_freeze_count() > 0))\n")
    done = subprocess.run(install.floor("token floor", body), capture_output=True, text=True, cwd=tmp_path,
                          check=True)
    assert done.stdout.split() == [str(_YOUNG_OBJECTS), "True"]


def test_a_floor_ends_as_keystores_command_line_ends(install: harness.Install, tmp_path: Path) -> None:
    """Install.floor ends by cli.main's _exit_at_once: without Python's teardown (python-pkcs11 loaded too, as in the
    token floors), and through it where keystores' run would go through it too (a profiler)."""
    probe = ("import os, sys\n"
             "def _hook(event, args, write=os.write):\n"
             "    if event == 'cpython.PyInterpreterState_Clear':\n"
             "        write(1, b'teardown\\n')\n"
             "sys.addaudithook(_hook)\n")
    extras = ("", "import pkcs11\n", "sys.setprofile(lambda *args: None)\n")
    ended = [subprocess.run(install.floor("MAC floor", probe + extra), capture_output=True, text=True, cwd=tmp_path,
                            check=True).stdout for extra in extras]
    assert ended == ["", "", "teardown\n"]


def test_the_token_floors_log_in_importing_no_keystores_package_and_the_lean_one_no_asn1crypto(
        install: harness.Install, softhsm, tmp_path: Path) -> None:  # noqa: F811
    """bench_core.token_floors: the lean floor runs keystores' library.py alone (no keystores package is imported)
    and defers python-pkcs11's asn1crypto helpers; the eager one imports them; both find the token by label and log
    in (a wrong label or PIN fails them)."""
    import bench_core

    token = softhsm.make_token()
    lean, eager = bench_core.token_floors(install, token.module, str(token.pin_file), token.label)
    loaded = _modules(install.floor("token floor", lean), tmp_path, token.env)
    assert "pkcs11._pkcs11" in loaded and not {m for m in loaded if m.startswith(("keystores", "asn1crypto"))}
    loaded = _modules(install.floor("token floor, eager", eager), tmp_path, token.env)
    assert "pkcs11._pkcs11" in loaded and "asn1crypto" in loaded
    assert not {m for m in loaded if m.startswith("keystores")}
    (tmp_path / "wrong-pin").write_text("00000000\n")
    for body in (bench_core.token_floors(install, token.module, str(token.pin_file), "no such token")[0],
                 bench_core.token_floors(install, token.module, str(tmp_path / "wrong-pin"), token.label)[0]):
        done = subprocess.run(install.floor("token floor", body), capture_output=True, env=token.env, check=False)
        assert done.returncode != 0


def test_the_ctypes_token_floor_logs_in_without_python_pkcs11(install: harness.Install, softhsm,  # noqa: F811
                                                               tmp_path: Path) -> None:
    """bench_core.token_ctypes_floor, the reference row beside the token floors: the same token found by its label
    and logged in to through ctypes alone (no pkcs11, no keystores module loaded); a wrong label or PIN fails it."""
    import bench_core

    token = softhsm.make_token()
    body = bench_core.token_ctypes_floor(token.module, str(token.pin_file), token.label)
    loaded = _modules(install.floor("token floor, ctypes", body), tmp_path, token.env)
    assert "ctypes" in loaded and not {m for m in loaded if m.startswith(("pkcs11", "keystores", "asn1crypto"))}
    (tmp_path / "wrong-pin").write_text("00000000\n")
    for label, pin in (("no such token", str(token.pin_file)), (token.label, str(tmp_path / "wrong-pin"))):
        done = subprocess.run(install.floor("token floor, ctypes", bench_core.token_ctypes_floor(token.module, pin,
                                                                                                 label)),
                              capture_output=True, env=token.env, check=False)
        assert done.returncode != 0


def test_without_a_wheel_the_rows_say_they_ran_in_the_development_venv(tmp_path: Path) -> None:
    empty = tmp_path / "not-a-project"
    empty.mkdir()
    fallback = harness.build_install(empty, tmp_path)
    assert not fallback.wheel
    assert fallback.keystores == [sys.executable, "-m", "keystores"]
    assert fallback.where.startswith("development venv") and "wheel failed" in fallback.where
    assert fallback.baseline == "python -c pass (dev venv)"
    assert "development venv" in harness.startup_note(fallback)
    argv = fallback.floor("MAC floor")
    assert argv[0] == sys.executable
    assert subprocess.run(argv, check=False).returncode == 0


def test_a_start_up_row_compares_the_rounds_both_sides_ran_in_and_shows_cpu_beside_wall() -> None:
    runs = harness.Runs()
    for number in range(5):  # python ran in five rounds, the command in the first two only
        runs.add("python", number, 0.010 if number < 2 else 0.100, 0.008, 8.0)
    for number in range(2):
        runs.add("cmd", number, 0.030, 0.024, 17.0)
    line = harness.startup_row("start-up: keystores cmd", runs, "cmd", "python", "python -c pass", 2.5)
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    assert cells == ["start-up: keystores cmd (CPU 3.00x)", "30 ms (CPU 24)", "python -c pass 10 ms (CPU 8)",
                     "3.00x", "17 / 8 MiB", "<= 2.5x MISSED"]


def test_measure_runs_gives_the_cheap_jobs_more_rounds_and_keeps_chained_ones_to_the_first() -> None:
    true = ["true"]
    runs = harness.measure_runs({"python": true, "cheap": true, "chained": true}, 2, {}, warmup=1,
                                repeatable={"python", "cheap"}, cheap_rounds=5)
    assert sorted(runs.by_round["python"]) == sorted(runs.by_round["cheap"]) == [0, 1, 2, 3, 4]
    assert sorted(runs.by_round["chained"]) == [0, 1]
    assert all(runs.peaks[name] > 0 for name in ("python", "cheap", "chained"))  # from the warm-up round


def test_a_run_whose_time_is_kept_is_not_wrapped_in_gnu_time() -> None:
    """GNU time's own millisecond of CPU would be counted as the command's; peaks come from other runs."""
    assert harness.run_measured(["true"], {}, peak=False)[1] is None
    assert harness.run_measured(["true"], {})[1] > 0


def test_a_write_starts_from_a_fresh_copy_made_before_each_run_outside_its_time(tmp_path: Path) -> None:
    """A write job's `before` callable makes its files afresh before every run (the write below fails on a store it
    has already written); the copy is not in the job's time: the callable runs outside run_measured."""
    store = tmp_path / "work" / "store"
    prepared = []

    def fresh() -> None:
        store.parent.mkdir(exist_ok=True)
        store.write_text("pristine")
        prepared.append(True)

    write = ["sh", "-c", f"grep -q pristine {store} && echo written > {store}"]
    runs = harness.measure_runs({"python": ["true"], "write": write}, 3, {}, warmup=1, before={"write": fresh})
    assert sorted(runs.by_round["write"]) == [0, 1, 2] and len(prepared) == 4  # the warm-up's too
    assert store.read_text() == "written\n"


def test_a_derivation_floor_derives_as_many_keys_as_it_is_named_for(install: harness.Install,
                                                                    tmp_path: Path) -> None:
    name = harness.derivation_floor(3)
    assert name == "3 derivations floor" and harness.derivation_floor(1) == "1 derivation floor"
    assert "3 PBKDF2-HMAC-SHA256 at 10,000 (_hashlib, two side by side)" in harness.FLOOR_WHAT[name]
    counted = ("import _hashlib\ncalls = []\nreal = _hashlib.pbkdf2_hmac\n"
               "_hashlib.pbkdf2_hmac = lambda *a: calls.append(a[3]) or real(*a)\n"
               + harness.FLOORS[name] + "import sys\nprint(calls, 'threading' in sys.modules)\n")
    done = subprocess.run([*install.floor(name, counted)], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    # every derivation done before the floor ends, the second core's by a thread of _thread's, as keystores'
    # kdf_pool starts them: importing threading is no part of the least a command must do
    assert done.stdout.strip() == "[10000, 10000, 10000] False"
    signed = harness.derivation_floor(3, after="cryptography floor")
    assert signed == "cryptography floor + 3 derivations"
    assert harness.FLOORS[signed].startswith(harness.FLOORS["cryptography floor"])
    many = harness.derivation_floor(harness.CRYPTOGRAPHY_FROM)  # then cryptography's PBKDF2 is the cheaper
    counted = ("from cryptography.hazmat.primitives.kdf import pbkdf2\ncalls = []\nreal = pbkdf2.PBKDF2HMAC\n"
               "pbkdf2.PBKDF2HMAC = lambda *args: calls.append(args[3]) or real(*args)\n"  # one made per derivation
               + harness.FLOORS[many] + "print(len(calls))\n")
    for floor in (many, signed):
        body = counted.replace(harness.FLOORS[many], harness.FLOORS[floor])
        done = subprocess.run([*install.floor(floor, body)], capture_output=True, text=True, cwd=tmp_path,
                              check=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(harness.CRYPTOGRAPHY_FROM if floor == many else 3)


def test_a_floor_with_ciphers_decrypts_that_many_times_through_libcrypto(install: harness.Install,
                                                                         tmp_path: Path) -> None:
    """keytool's PKCS#12 mandates AES-256-CBC besides its derivations (its certificate bag to list it): the floor
    pays it as any tool must without cryptography, by libcrypto through ctypes, as many times as it is named for."""
    name = harness.derivation_floor(2, ciphers=1)
    assert name == "2 derivations + 1 AES-CBC floor" and "+ 1 AES-256-CBC" in harness.FLOOR_WHAT[name]
    counted = harness.FLOORS[name].replace(
        "for _ in range(1):\n", "calls = []\nfor _ in range(1):\n    calls.append(1)\n") + (
        "import sys\nprint(len(calls), '_ctypes' in sys.modules, 'cryptography' in sys.modules)\n")
    done = subprocess.run([*install.floor(name, counted)], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1 True False"
    assert harness.derivation_floor(3, ciphers=2) != harness.derivation_floor(3)


def test_the_nss_floor_opens_both_files_with_one_query_each_and_checks_the_password_once(
        install: harness.Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The NSS floor does what opening a password-protected NSS database costs whatever the tool, counted: two
    `_sqlite3` connections (key4.db, cert9.db) with one query each, one PBKDF2 at the database's own count, the
    password check's AES-CBC by libcrypto (a wrong password fails it); it loads _sqlite3, _hashlib and ctypes, and
    neither the sqlite3 package, cryptography nor keystores."""
    from test_store_lean import _issue

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.store import open_store

    monkeypatch.setattr(harness, "FLOORS", dict(harness.FLOORS))  # the floor names a folder of this test only
    monkeypatch.setattr(harness, "FLOOR_WHAT", dict(harness.FLOOR_WHAT))
    key = ec.generate_private_key(ec.SECP256R1())
    folder = tmp_path / "nss"
    folder.mkdir()
    with open_store(f"sql:{folder}", password="floor-pass", create=True) as store:
        store.add(Entry("ca", EntryKind.TRUSTED_CERT, chain=(_issue("Lean CA", key, key, 1),), trust=TRUST_ALL))
    name = harness.nss_floor(folder, "FLOOR_PW")
    assert name == harness.NSS_FLOOR and "_sqlite3 opening key4.db and cert9.db" in harness.FLOOR_WHAT[name]
    counted = ("import _sqlite3, _hashlib\nconnected, queries, derived = [], [], []\nconnect = _sqlite3.connect\n"
               "def counted(path, *args, **kwargs):\n"
               "    connection = connect(path, *args, **kwargs)\n"
               "    connected.append(path.rsplit('/', 1)[-1])\n"
               "    connection.set_trace_callback(queries.append)\n"
               "    return connection\n"
               "_sqlite3.connect = counted\npbkdf2 = _hashlib.pbkdf2_hmac\n"
               "_hashlib.pbkdf2_hmac = lambda *args: derived.append(args[3]) or pbkdf2(*args)\n"
               + harness.FLOORS[name] + "print(sorted(connected), len(queries), derived, len(objects))\n")
    right = {**os.environ, "FLOOR_PW": "floor-pass"}
    done = subprocess.run(install.floor(name, counted), capture_output=True, text=True, cwd=tmp_path, check=False,
                          env=right)
    assert done.returncode == 0, done.stderr
    # one query each, one derivation at the count certutil (and keystores) write; the certificate and its trust
    assert done.stdout.strip() == "['cert9.db', 'key4.db'] 2 [10000] 2"
    wrong = subprocess.run(install.floor(name), capture_output=True, text=True, cwd=tmp_path, check=False,
                           env={**os.environ, "FLOOR_PW": "not-it"})
    assert wrong.returncode != 0 and "the password does not open the database" in wrong.stderr
    loaded = _modules(install.floor(name), tmp_path, right)
    assert {"_sqlite3", "_hashlib", "_ctypes"} <= loaded and not {"hashlib", "ctypes"} & loaded
    assert not {module for module in loaded if module.split(".")[0] in ("sqlite3", "cryptography", "keystores")}



def _small_nss(folder: Path) -> Path:
    """An NSS database in `folder` (password floor-pass) holding "ca", a trusted certificate, as bench_core's has
    it; beside it extra.pem, a certificate to import."""
    from cryptography.hazmat.primitives import serialization
    from test_store_lean import _issue

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.store import open_store

    key = ec.generate_private_key(ec.SECP256R1())
    folder.mkdir()
    with open_store(f"sql:{folder}", password="floor-pass", create=True) as store:
        store.add(Entry("ca", EntryKind.TRUSTED_CERT, chain=(_issue("Lean CA", key, key, 1),), trust=TRUST_ALL))
    pem = folder.parent / "extra.pem"
    pem.write_bytes(_issue("extra", key, key, 3).public_bytes(serialization.Encoding.PEM))
    return pem


def _mac_items(folder: Path) -> dict[str, bytes]:
    import sqlite3

    with sqlite3.connect(folder / "key4.db") as conn:
        return dict(conn.execute("SELECT id, item1 FROM metaData WHERE id LIKE 'sig_%'"))


# A floor's work counted: connections, the statements that write, commits, and every derivation (_hashlib's and
# cryptography's PBKDF2), printed after the floor's own code
_COUNTED = (
    "import _sqlite3, _hashlib\nconnected, statements, derived_at = [], [], []\nconnect = _sqlite3.connect\n"
    "def counted(path, *args, **kwargs):\n"
    "    connection = connect(path, *args, **kwargs)\n"
    "    connected.append(path.rsplit('/', 1)[-1])\n"
    "    connection.set_trace_callback(statements.append)\n"
    "    return connection\n"
    "_sqlite3.connect = counted\npbkdf2 = _hashlib.pbkdf2_hmac\n"
    "_hashlib.pbkdf2_hmac = lambda *args: derived_at.append(args[3]) or pbkdf2(*args)\n"
    "from cryptography.hazmat.primitives.kdf import pbkdf2 as kdf\nreal = kdf.PBKDF2HMAC\n"
    "kdf.PBKDF2HMAC = lambda *args: derived_at.append(args[3]) or real(*args)\n"
    "{floor}"
    "writes = [s.split()[0] for s in statements if s.split()[0] in ('INSERT', 'UPDATE', 'DELETE', 'CREATE')]\n"
    "print(sorted(connected), sorted(set(writes)), sum(s.strip() == 'COMMIT' for s in statements), derived_at)\n"
)


@pytest.mark.parametrize("change", ["rename", "trust off", "delete", "import"])
def test_an_nss_write_floor_is_the_nss_floor_then_its_change_with_a_derivation_per_mac_item_it_writes(
        install: harness.Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    """An NSS write's floor reads as the NSS floor does, then makes the change on its copy of the database through
    the same two connections, a commit per file written, deriving one key per MAC item it adds or changes
    (NSS_CHANGE_DERIVATIONS, counted here by wrapping every PBKDF2) and none besides: keystores reads the change."""
    from keystores.store import open_store

    monkeypatch.setattr(harness, "FLOORS", dict(harness.FLOORS))
    monkeypatch.setattr(harness, "FLOOR_WHAT", dict(harness.FLOOR_WHAT))
    folder = tmp_path / "nss"
    pem = _small_nss(folder)
    before = _mac_items(folder)
    label = b"extra" if change == "import" else b"ca"
    name = harness.nss_change_floor(folder, "FLOOR_PW", change, label=label, new=b"root", pem=str(pem))
    assert f"what `{change}` writes" in harness.FLOOR_WHAT[name]
    done = subprocess.run(install.floor(name, _COUNTED.replace("{floor}", harness.FLOORS[name])),
                          capture_output=True, text=True, cwd=tmp_path, check=False,
                          env={**os.environ, "FLOOR_PW": "floor-pass"})
    assert done.returncode == 0, done.stderr
    after = _mac_items(folder)
    made = {item for item in after if before.get(item) != after[item]}
    derivations = harness.NSS_CHANGE_DERIVATIONS[change]
    assert len(made) == derivations
    files = {"rename": 1}.get(change, 2)  # rename writes cert9.db alone
    writes = {"rename": ["UPDATE"], "import": ["INSERT"]}.get(change, ["DELETE"])
    assert done.stdout.strip() == f"['cert9.db', 'key4.db'] {writes} {files} {[10000] * (1 + derivations)}"
    with open_store(f"sql:{folder}", password="floor-pass") as store:
        found = {entry.label: entry for entry in store.entries()}
    expected = {"rename": {"root"}, "delete": set()}.get(change, {"ca", "extra"} if change == "import" else {"ca"})
    assert set(found) == expected
    if change in ("trust off", "import"):
        assert bool(found[label.decode()].trust) == (change == "import")


def test_the_nss_write_floors_derive_as_many_keys_as_certutil_writes_mac_items(tmp_path: Path) -> None:
    """NSS_CHANGE_DERIVATIONS is counted in what certutil writes for each change: the metaData MAC items it adds or
    changes. trust off is the one below certutil's count: certutil -M rewrites the trust object and its 7 MACs,
    where removing the object (as the floor and keystores do) leaves the certificate as certutil -L shows it."""
    if shutil.which("certutil") is None:
        pytest.skip("certutil (libnss3-tools) is not installed: run scripts/setup")
    pristine = tmp_path / "nss"
    pem = _small_nss(pristine)
    password = tmp_path / "pw"
    password.write_text("floor-pass")
    argv = {"rename": ["--rename", "-n", "ca", "--new-n", "root"], "trust off": ["-M", "-n", "ca", "-t", ",,"],
            "delete": ["-D", "-n", "ca"], "import": ["-A", "-n", "extra", "-t", "C,C,C", "-i", str(pem)]}
    for change, args in argv.items():
        folder = tmp_path / change.replace(" ", "-")
        shutil.copytree(pristine, folder)
        subprocess.run(["certutil", *args, "-d", f"sql:{folder}", "-f", str(password)], check=True,
                       capture_output=True)
        before, after = _mac_items(pristine), _mac_items(folder)
        made = {item for item in after if before.get(item) != after[item]}
        assert len(made) == (7 if change == "trust off" else harness.NSS_CHANGE_DERIVATIONS[change]), change
    assert harness.NSS_CHANGE_DERIVATIONS["trust off"] == 0


def test_the_nss_create_floor_makes_a_database_certutil_and_keystores_open_with_its_password(
        install: harness.Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `certutil -N` must do, counted: two files made through one connection each, one transaction each, one
    derivation (the password check's, AES-encrypted by libcrypto); keystores opens the result with the password and
    refuses another, and its tables have the columns certutil's have."""
    import sqlite3

    from keystores.errors import WrongPassword
    from keystores.store import open_store

    monkeypatch.setattr(harness, "FLOORS", dict(harness.FLOORS))
    monkeypatch.setattr(harness, "FLOOR_WHAT", dict(harness.FLOOR_WHAT))
    folder = tmp_path / "new"
    name = harness.nss_create_floor(folder, "FLOOR_PW")
    done = subprocess.run(install.floor(name, _COUNTED.replace("{floor}", harness.FLOORS[name])),
                          capture_output=True, text=True, cwd=tmp_path, check=False,
                          env={**os.environ, "FLOOR_PW": "floor-pass"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['cert9.db', 'key4.db'] ['CREATE', 'INSERT'] 2 [10000]"
    with open_store(f"sql:{folder}", password="floor-pass") as store:
        assert list(store.entries()) == []
    with pytest.raises(WrongPassword), open_store(f"sql:{folder}", password="not-it") as store:
        pass
    if shutil.which("certutil") is None:
        pytest.skip("certutil (libnss3-tools) is not installed: run scripts/setup")
    made = tmp_path / "certutil"
    made.mkdir()
    (tmp_path / "pw").write_text("floor-pass")
    subprocess.run(["certutil", "-N", "-d", f"sql:{made}", "-f", str(tmp_path / "pw")], check=True)
    for file, table in (("key4.db", "nssPrivate"), ("cert9.db", "nssPublic")):
        schemas = []
        for where in (folder, made):
            with sqlite3.connect(where / file) as conn:
                schemas.append(sorted(conn.execute("SELECT type, name, sql FROM sqlite_master")))
        assert schemas[0] == schemas[1], (file, table)


def _key_pair_p12(folder: Path) -> tuple[Path, bytes]:
    """A PKCS#12 (password floor-pass) holding one EC P-256 key pair labelled "server", and its certificate's DER."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from test_store_lean import _issue

    key = ec.generate_private_key(ec.SECP256R1())
    certificate = _issue("server", key, key, 2)
    p12 = folder / "one.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"server", key, certificate, None, serialization.BestAvailableEncryption(b"floor-pass")))
    return p12, certificate.public_bytes(serialization.Encoding.DER)


def _classes(folder: Path) -> dict[str, list[bytes]]:
    import sqlite3

    found = {}
    for file, table in (("key4.db", "nssPrivate"), ("cert9.db", "nssPublic")):
        with sqlite3.connect(folder / file) as conn:
            found[file] = sorted(row[0] for row in conn.execute(f"SELECT a0 FROM {table}"))
    return found


def _encrypted_values(folder: Path) -> dict[int, bytes]:
    import sqlite3

    with sqlite3.connect(folder / "key4.db") as conn:
        return dict(conn.execute("SELECT id, a11 FROM nssPrivate WHERE a11 IS NOT NULL"))


def test_the_nss_convert_floor_makes_a_new_database_with_the_key_pair_rows_pk12util_writes(
        install: harness.Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Converting a PKCS#12's key pair into a new NSS database, counted: the source's stand-in derivations, the new
    database's password check and the key pair's NSS_KEY_PAIR_DERIVATIONS, all by _hashlib; two files, a transaction
    each; certutil and keystores open the result with the password and find the key pair, whose rows have the
    classes pk12util -i writes, with as many encrypted values and MAC items (NSS_KEY_PAIR_DERIVATIONS counted)."""
    from keystores.model import EntryKind
    from keystores.store import open_store

    monkeypatch.setattr(harness, "FLOORS", dict(harness.FLOORS))
    monkeypatch.setattr(harness, "FLOOR_WHAT", dict(harness.FLOOR_WHAT))
    p12, der = _key_pair_p12(tmp_path)
    folder = tmp_path / "c"
    name = harness.nss_convert_floor(folder, "FLOOR_PW", der, source_derivations=3, source_ciphers=2)
    assert "+ 2 AES-256-CBC (the PKCS#12's)" in harness.FLOOR_WHAT[name]
    done = subprocess.run(install.floor(name, _COUNTED.replace("{floor}", harness.FLOORS[name])),
                          capture_output=True, text=True, cwd=tmp_path, check=False,
                          env={**os.environ, "FLOOR_PW": "floor-pass"})
    assert done.returncode == 0, done.stderr
    derivations = 3 + 1 + harness.NSS_KEY_PAIR_DERIVATIONS
    assert done.stdout.strip() == f"['cert9.db', 'key4.db'] ['CREATE', 'INSERT'] 2 {[10000] * derivations}"
    with open_store(f"sql:{folder}", password="floor-pass") as store:
        found = [(entry.label, entry.kind) for entry in store.entries()]
    assert found == [("server", EntryKind.KEY_PAIR)]
    assert len(_mac_items(folder)) == len(_encrypted_values(folder)) == 1
    if shutil.which("pk12util") is None:
        pytest.skip("pk12util (libnss3-tools) is not installed: run scripts/setup")
    made = tmp_path / "pk12util"
    made.mkdir()
    password = tmp_path / "pw"
    password.write_text("floor-pass")
    subprocess.run(["certutil", "-N", "-d", f"sql:{made}", "-f", str(password)], check=True, capture_output=True)
    subprocess.run(["pk12util", "-i", str(p12), "-d", f"sql:{made}", "-k", str(password), "-w", str(password)],
                   check=True, capture_output=True)
    assert _classes(made) == _classes(folder)
    # a derivation per encrypted value and per MAC item pk12util writes
    assert len(_mac_items(made)) + len(_encrypted_values(made)) == harness.NSS_KEY_PAIR_DERIVATIONS
    listed = subprocess.run(["certutil", "-K", "-d", f"sql:{folder}", "-f", str(password)], check=True,
                            capture_output=True, text=True)
    assert "server" in listed.stdout


def _small_nss_with_key(folder: Path) -> None:
    """_small_nss's database with a key pair ("server", issued by its CA) besides, as bench_core's has them."""
    from test_store_lean import _issue

    from keystores.model import Entry, EntryKind
    from keystores.store import open_store

    _small_nss(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    with open_store(f"sql:{folder}", password="floor-pass", writable=True) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(_issue("server", key, key, 2),), key=key))


def test_the_nss_passwd_floor_checks_and_makes_again_what_certutil_w_changes(
        install: harness.Install, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new password on an NSS database, counted: the NSS floor's derivation, then for each encrypted value and
    MAC item one derivation under the old password and one under the new, and the new password check's
    (nss_passwd_derivations); writes on key4.db alone, in one transaction; keystores opens the result with the new
    password (its key decrypts, its MACs verify) and not with the old. certutil -W changes as many values and MAC
    items, and the password check."""
    from keystores.errors import WrongPassword
    from keystores.store import open_store

    monkeypatch.setattr(harness, "FLOORS", dict(harness.FLOORS))
    monkeypatch.setattr(harness, "FLOOR_WHAT", dict(harness.FLOOR_WHAT))
    pristine = tmp_path / "pristine"
    _small_nss_with_key(pristine)
    values, macs = _encrypted_values(pristine), _mac_items(pristine)
    assert (len(values), len(macs)) == (1, 8)  # the key's value and its MAC; the trust object's 7
    folder = tmp_path / "nss"
    shutil.copytree(pristine, folder)
    name = harness.nss_passwd_floor(folder, "FLOOR_PW", "NEW_PW")
    derivations = harness.nss_passwd_derivations(1, 8)
    assert derivations == 19 and f"+ {derivations} derivations" in name
    done = subprocess.run(install.floor(name, _COUNTED.replace("{floor}", harness.FLOORS[name])),
                          capture_output=True, text=True, cwd=tmp_path, check=False,
                          env={**os.environ, "FLOOR_PW": "floor-pass", "NEW_PW": "new-pass"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"['cert9.db', 'key4.db'] ['UPDATE'] 1 {[10000] * (1 + derivations)}"
    with open_store(f"sql:{folder}", password="new-pass") as store:
        entries = {entry.label: entry for entry in store.entries()}
        assert set(entries) == {"ca", "server"} and entries["server"].key is not None
    with pytest.raises(WrongPassword), open_store(f"sql:{folder}", password="floor-pass"):
        pass
    changed = {item for item in macs if _mac_items(folder)[item] != macs[item]}
    assert changed == set(macs) and _encrypted_values(folder).keys() == values.keys()
    assert all(_encrypted_values(folder)[key] != value for key, value in values.items())
    tampered = tmp_path / "tampered"
    shutil.copytree(pristine, tampered)
    import sqlite3

    with sqlite3.connect(tampered / "cert9.db") as conn:  # a trust attribute changed under its MAC
        conn.execute("UPDATE nssPublic SET ace536358 = ? WHERE ace536358 IS NOT NULL", (b"\xceSCP",))
    refused = harness.nss_passwd_floor(tampered, "FLOOR_PW", "NEW_PW")
    failed = subprocess.run(install.floor(refused), capture_output=True, text=True, cwd=tmp_path, check=False,
                            env={**os.environ, "FLOOR_PW": "floor-pass", "NEW_PW": "new-pass"})
    assert failed.returncode != 0 and "a MAC does not verify" in failed.stderr
    if shutil.which("certutil") is None:
        pytest.skip("certutil (libnss3-tools) is not installed: run scripts/setup")
    made = tmp_path / "certutil"
    shutil.copytree(pristine, made)
    (tmp_path / "pw").write_text("floor-pass")
    (tmp_path / "new").write_text("new-pass")
    subprocess.run(["certutil", "-W", "-d", f"sql:{made}", "-f", str(tmp_path / "pw"), "-@", str(tmp_path / "new")],
                   check=True, capture_output=True)
    after = _mac_items(made)
    assert {item for item in macs if after[item] != macs[item]} == set(macs)  # every MAC item made again
    assert _encrypted_values(made).keys() == values.keys()
    assert all(_encrypted_values(made)[key] != value for key, value in values.items())


def test_a_command_over_a_floor_above_2x_is_held_to_1_25x_of_it() -> None:
    runs = harness.Runs()
    for number in range(3):
        runs.add("python", number, 0.010, 0.010, 8.0)
        runs.add("heavy floor", number, 0.030, 0.030, 9.0)  # 3x python: the command is held to 1.25x of it
        runs.add("light floor", number, 0.015, 0.015, 9.0)
        runs.add("cmd", number, 0.040, 0.040, 10.0)
    assert harness.over_floor(runs, "heavy floor") and not harness.over_floor(runs, "light floor")
    harness.FLOOR_WHAT.setdefault("heavy floor", "heavy")
    harness.FLOOR_WHAT.setdefault("light floor", "light")
    install = harness.Install("python", ["keystores"], "here", harness.PIP_LAUNCHER, Path("."), wheel=True)
    heavy = harness.command_rows(install, runs, {"cmd": []}, {"cmd": "heavy floor"})[-1]
    light = harness.command_rows(install, runs, {"cmd": []}, {"cmd": "light floor"})[-1]
    assert heavy.endswith("| 1.33x | 10 / 9 MiB | <= 1.25x MISSED |")
    assert light.endswith("| 2.67x | 10 / 9 MiB |  |")  # no goal: 2.5x of python -c pass is the command's


def test_every_command_of_the_cli_has_a_start_up_row_or_says_why_not() -> None:
    """bench_core.py and bench_commands.py run `[*ours, "COMMAND", ...]`: each command of cli/command_table.py is
    among them, or in bench_commands.NOT_TIMED with its reason."""
    import re

    import bench_commands
    from keystores.cli.command_table import COMMANDS

    timed = set()
    for module in ("bench_core.py", "bench_commands.py"):
        for words in re.findall(r'\[\*ours, "([a-z-]+)"(?:, "([a-z-]+)")?', (ROOT / "bench" / module).read_text()):
            timed |= {words[0], " ".join(words).strip()}
    missing = set(COMMANDS) - timed - set(bench_commands.NOT_TIMED)
    assert not missing, missing
    assert set(bench_commands.NOT_TIMED) <= set(COMMANDS)


def test_the_mac_floor_is_an_hmac_sha1_by_the_built_in_sha1_without_hashlib() -> None:
    """The cheapest keyed digest a small .kdb or JKS needs: keystores checks those without hashlib (and so without
    libcrypto), so the floor may not load it either (never kinder than honest)."""
    import hashlib
    import hmac

    code = harness.FLOORS["MAC floor"] + "import sys\nprint('hashlib' in sys.modules, '_hashlib' in sys.modules)\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
    names: dict[str, object] = {}
    exec(harness.FLOORS["MAC floor"], names)  # the floor's own text
    import _sha1

    outer = _sha1.sha1(bytes(b ^ 0x5C for b in names["key"]) + names["inner"]).digest()  # type: ignore[union-attr]
    assert outer == hmac.new(b"key", b"store", hashlib.sha1).digest()


def test_the_goal_tally_holds_a_command_to_its_floor_where_its_floor_row_carries_a_goal() -> None:
    """bench/run's summary after the table: one verdict per start-up command (the floor's goal where the floor row
    carries one, else the 2.5x of `python -c pass` its own row carries), then every other row with a goal."""
    rows = [
        ["start-up: keystores list one.p12 (CPU 2.14x)", "33 ms (CPU 32)", "python -c pass 18 ms", "1.87x", "",
         "<= 2.5x ok"],
        ["start-up: keystores list token (CPU 4.01x)", "54 ms (CPU 54)", "python -c pass 16 ms", "3.30x", "",
         "<= 2.5x MISSED"],
        ["start-up: keystores sign (CPU 2.91x)", "41 ms", "python -c pass 16 ms", "2.61x", "", "<= 2.5x MISSED"],
        ["token floor (the launcher + ...) (CPU 3.09x)", "43 ms", "python -c pass 15 ms", "2.98x", "", ""],
        ["list one.p12 vs its floor (CPU 1.28x)", "33 ms", "2 derivations floor 25 ms", "1.31x", "", ""],
        ["list token vs its floor (CPU 1.35x)", "54 ms", "token floor 44 ms", "1.23x", "", "<= 1.25x ok"],
        ["sign vs its floor (CPU 1.72x)", "41 ms", "libcrypto EC floor 27 ms", "1.54x", "", ""],
        ["list one.p12 (keytool-made) (CPU 0.05x)", "33 ms", "keytool -list 395 ms", "0.08x", "", "<= 0.2x ok"],
        ["nss list 2,000 certs", "149 ms", "certutil -L 709 ms", "0.21x", "", "MISSED"],
        ["list, 300-CA PEM bundle (CPU 1.00x)", "37 ms", "openssl storeutl -certs 38 ms", "0.98x", "", ""],
    ]
    start_up, other = harness.goal_tally(rows)
    assert start_up == [("list one.p12", "1.87x of `python -c pass`", "<= 2.5x ok"),
                        ("list token", "1.23x of its floor", "<= 1.25x ok"),
                        ("sign", "2.61x of `python -c pass`", "<= 2.5x MISSED")]
    assert other == [("list one.p12 (keytool-made)", "0.08x", "<= 0.2x ok"),
                     ("nss list 2,000 certs", "0.21x", "MISSED")]
