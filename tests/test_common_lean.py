"""What every store command carries (issue 15, start-up): the common commands (list, show, export and convert of a
PKCS#12, JKS, JCEKS, CMS and NSS store) load none of the modules split off the ones every command imports for what
only rarer commands run. Each module here was part of one of those (keystores.model, ...); a command that loads it
pays its unmarshalling and the classes it makes (~65-85,000 instructions each), which these commands never use.

The commands run as a user's install runs them (tests/test_store_lean.py: `python -S`, no editable finder).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from test_store_lean import ENV, PW, _as_user, installed, stores  # noqa: F401 (fixtures)

# module split off -> what it holds (and the module it came from)
SPLIT_OFF = {
    "keystores.strength": "Strength and ALGORITHM_STRENGTH (keystores.model): audit and a PKCS#12 rewrite judge them",
    "keystores.keyspec": "KeySpec (keystores.model): certreq, selfsign and a token's key generation parse it",
    "keystores.ops.calling": "on_store (keystores.ops): sign, receive, certreq, selfsign and validate are called so",
}


@pytest.mark.parametrize("name", ["s.p12", "one.p12", "s.jks", "s.jceks", "s.kdb", "nss"])
def test_the_common_commands_load_nothing_split_off(installed: str, stores: dict[str, str],  # noqa: F811
                                                    name: str) -> None:
    location = stores[name]
    pw = [] if name == "s.kdb" else PW  # the stash opens it
    shown = "server"
    out = os.path.join(stores["folder"], f"common-{name.replace(':', '')}")
    dest_pw = ["--dest-password", "env:LEAN_PW"]
    for args in (["list", location, *pw], ["show", location, shown, *pw],
                 ["export", location, shown, "-o", out + ".pem", "--force", *pw],
                 ["convert", location, out + ".pem", "--force", *pw],
                 ["convert", location, out + ".jks", "--force", *pw, *dest_pw],
                 ["convert", location, out + ".p12", "--force", *pw, *dest_pw]):
        modules, _ = _as_user(installed, args)
        assert not modules & set(SPLIT_OFF), (args, sorted(modules & set(SPLIT_OFF)))


def test_what_was_split_off_is_still_named_where_it_was() -> None:
    """`from keystores.model import Strength` (and the others) still works: the name is given on first use."""
    import keystores
    from keystores import keyspec, model, strength

    assert model.Strength is strength.Strength and model.ALGORITHM_STRENGTH is strength.ALGORITHM_STRENGTH
    assert model.KeySpec is keyspec.KeySpec is keystores.KeySpec
    assert str(model.KeySpec.parse("EC:P384")) == "ec:p384"
    from keystores import ops
    from keystores.ops import calling

    assert ops.on_store is calling.on_store


# Run the CLI as the console script does and report which error classes keystores.errors made.
_MADE = ("import sys\n"
         "from keystores.cli.main import run\n"
         "try:\n    code = run(sys.argv[1:])\n"
         "except SystemExit as exc:\n    code = exc.code\n"
         "from keystores import errors\n"
         "print(' '.join(sorted(name for name in ('NotFound', 'EntryNotFound', 'StoreNotFound', 'StoreLocked') "
         "if name in vars(errors))), "
         "file=sys.stderr)\n"
         "sys.exit(code)\n")


@pytest.mark.parametrize("name", ["s.p12", "one.p12", "s.jks", "s.jceks", "s.kdb", "nss"])
def test_reading_or_copying_makes_no_not_found_class(installed: str, stores: dict[str, str],  # noqa: F811
                                                       name: str) -> None:
    """NotFound and EntryNotFound are made when first raised or caught (keystores.errors._MADE_ON_USE): a list or
    show of an entry that is there, an export or a convert makes neither (~85,000 instructions each); a show of one
    that is not raises it, as before (NSS's store imports StoreNotFound and StoreLocked where it raises them)."""
    path = os.pathsep.join([installed, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env = {**os.environ, **ENV, "PYTHONPATH": path}
    pw = [] if name == "s.kdb" else PW
    out = os.path.join(stores["folder"], f"made-{name}")
    for args, status, made in ((["list", stores[name], *pw], 0, ""), (["show", stores[name], "server", *pw], 0, ""),
                               # an add looks its new label up without raising (BaseStore._lookup)
                               (["export", stores[name], "server", "-o", out + ".pem", "--force", *pw], 0, ""),
                               (["convert", stores[name], out + ".jks", "--force", *pw, "--dest-password",
                                 "env:LEAN_PW"], 0, ""),
                               (["show", stores[name], "servr", *pw], 4, "EntryNotFound NotFound")):
        run = subprocess.run([sys.executable, "-S", "-c", _MADE, *args], capture_output=True, text=True, env=env,
                             cwd=installed, timeout=120)
        *said, classes = run.stderr.splitlines()
        assert (run.returncode, classes) == (status, made), (args, run.stderr)
        if status == 4:
            assert "no such entry; did you mean 'server'?" in said[-1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from user_install import user_install

    return user_install(tmp_path_factory.mktemp("user-install"))


# record modules whose records sniff: every backend's but the token's and the in-memory store's (and ams:'s)
RECORD_FILES = len([path for path in (Path(__file__).resolve().parent.parent / "keystores" / "backends").glob(
    "*/format.py") if "sniff=" in path.read_text()])


def test_record_modules_come_through_the_module_finder(wheel: Any, tmp_path: Path) -> None:
    """formats._RecordModules loads each backend's record module with the loader sys.meta_path's finders give for
    it (formats._loader_found): in a user's install, keystores.cli.module_finder's, whose get_code has read the
    cached bytecode already. What runs is the same module: its file, its records, and the one an import by name
    gets (tests/test_formats.py)."""
    probe = ("import sys\nfrom keystores.cli import main\nfrom keystores import formats\n"
             "try:\n    main.run(['list', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
             "loaders = {type(r.sniff.__globals__['__loader__']).__name__ for r in formats.records() if r.sniff}\n"
             "files = sorted({r.sniff.__globals__['__file__'] for r in formats.records() if r.sniff})\n"
             "import keystores.backends.jks.format as jks\n"
             "print(sorted(loaders), len(files), all(f.endswith('format.py') for f in files),\n"
             "      jks.RECORDS[0] is formats.get('jks'), file=sys.stderr)\n")
    (tmp_path / "empty.pem").write_bytes(b"")  # an empty PEM bundle: detection reads every record
    done, _ = wheel.run(["-c", probe, str(tmp_path / "empty.pem")], cwd=tmp_path, console_script=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == f"['_ReadLoader'] {RECORD_FILES} True True", done.stderr


def test_a_module_that_names_some_things_on_first_use_is_still_no_package() -> None:
    """keystores.errors' and keystores.model's __getattr__ answer `__path__`, which every `from M import ...` asks
    first, with a bare AttributeError (no message made: ~2,000 instructions each, 20-40 a command); any other
    missing name gets the message Python gives."""
    from keystores import errors, model

    for module in (errors, model):
        assert not hasattr(module, "__path__")
        with pytest.raises(AttributeError, match=f"^module '{module.__name__}' has no attribute 'nope'$"):
            module.nope  # noqa: B018
