"""What every command pays before it opens a store (issue 15, "start-up"): the console script, keystores/__init__,
cli.main, cli.quick_parse, cli.command_table and the modules they import load none of typing, re, enum,
collections, functools, contextlib or importlib in a user's install (tests/user_install.py: in the development
venv the editable install's finder loads most of them in every run). Each stand-in is held to what it replaced:
text.printable to its regular expression, ExitCode's laziness to the enum, the warnings filter to
filterwarnings', cli.options' Annotated to typer's reading (tests/test_cli_quick.py, tests/test_cli_lazy.py).
"""

from __future__ import annotations

import enum
import re
import subprocess
import sys
from pathlib import Path

import pytest
from keystores.cli.command_table import COMMANDS
from user_install import UserInstall, user_install

import keystores
from keystores import errors
from keystores.text import UNSAFE, printable

# Modules Python's own start-up does not load (test_python_alone_loads_none_of_them) and no command needs before it
# works; each was 0.5-10 ms of CPU of every run (bench/bench_core.py, "start-up:" rows).
FRONT_NEVER = {"typing", "re", "enum", "collections", "functools", "contextlib", "importlib", "dataclasses",
               "inspect", "pathlib", "keystores.exit_codes", "keystores.text"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> UserInstall:
    return user_install(tmp_path_factory.mktemp("user-install"))


def test_python_alone_loads_none_of_them(installed: UserInstall, tmp_path: Path) -> None:
    """Else the tests below would pass whatever keystores imports."""
    done, loaded = installed.run(["-c", "pass"], cwd=tmp_path, console_script=False)
    assert done.returncode == 0 and "sys" in loaded, done.stderr
    assert not FRONT_NEVER & loaded


def test_version_loads_only_the_front(installed: UserInstall, tmp_path: Path) -> None:
    done, loaded = installed.run(["version"], cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{keystores.__version__}\n", "")
    assert "keystores.cli.about" in loaded
    assert not FRONT_NEVER & loaded, FRONT_NEVER & loaded


def test_no_command_module_loads_them(installed: UserInstall, tmp_path: Path) -> None:
    """Every command's module as cli.command_table imports it to run the command, with cli.main and quick_parse."""
    probe = ("import sys\nfrom keystores.cli import main, quick_parse\nfrom keystores.cli.command_table import "
             f"COMMANDS, function\nfor path in COMMANDS:\n    function(path)\n"
             f"print(sorted(set({sorted(FRONT_NEVER)!r}) & set(sys.modules)))\n")
    done, _ = installed.run(["-c", probe], cwd=tmp_path, console_script=False)
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr
    assert len(COMMANDS) > 30


def _selfsigned(installed: UserInstall, folder: Path) -> dict[str, str]:
    """s.p12 in `folder` with one key pair, `web`; the environment that holds its password, FRONT_PW."""
    env = {"FRONT_PW": "front-pw-1"}
    made, _ = installed.run(["selfsign", "s.p12", "--label", "web", "--dn", "CN=web", "--key-type", "ec:p256", "-p",
                             "env:FRONT_PW"], cwd=folder, env=env)
    assert made.returncode == 0, made.stderr
    return env


def test_a_command_is_called_with_only_the_front_loaded(installed: UserInstall, tmp_path: Path) -> None:
    """`list s.p12` as the console script runs it: what is loaded when cli.quick_parse hands over to the command
    (what happens after is the store's: its own tests)."""
    env = _selfsigned(installed, tmp_path)
    probe = ("import sys\nfrom keystores.cli import main, quick_parse\nparse = quick_parse.parse\n"
             "def recorded(argv):\n    call = parse(argv)\n"
             "    print(sorted(set(sys.modules) & {names!r}), file=sys.stderr)\n    return call\n"
             "quick_parse.parse = recorded\nmain.run(sys.argv[1:])\n").replace("{names!r}", repr(FRONT_NEVER))
    done, _ = installed.run(["-c", probe, "list", "s.p12", "-p", "env:FRONT_PW"], cwd=tmp_path,
                            console_script=False, env=env)
    assert done.returncode == 0 and done.stdout.startswith("web\tkey-pair\tCN=web\t"), done.stderr
    assert done.stderr == "[]\n"


def test_reading_a_store_makes_none_of_the_rarely_raised_error_classes(installed: UserInstall,
                                                                      tmp_path: Path) -> None:
    """keystores.errors makes the classes of _MADE_ON_USE when first asked for: `list` and `show` of a PKCS#12 ask
    for none of them (each ~10 us to make); once asked for, the class is the one every later look-up gets."""
    env = _selfsigned(installed, tmp_path)
    probe = ("import sys\nfrom keystores import errors\nfrom keystores.cli import main\n"
             "try:\n    main.run(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print(sorted(set(errors._MADE_ON_USE) & set(vars(errors))), file=sys.stderr)\n")
    for argv in (["list", "s.p12", "-p", "env:FRONT_PW"], ["show", "s.p12", "web", "-p", "env:FRONT_PW"]):
        done, _ = installed.run(["-c", probe, *argv], cwd=tmp_path, console_script=False, env=env)
        assert done.returncode == 0 and "web" in done.stdout, done.stderr
        assert done.stderr == "[]\n", argv
    from keystores.errors import StoreLocked

    assert errors.StoreLocked is StoreLocked and issubclass(StoreLocked, errors.KeystoreError)
    assert set(errors._MADE_ON_USE) <= set(dir(errors)) and StoreLocked.__qualname__ == "StoreLocked"


def test_a_failing_command_exits_with_its_code(installed: UserInstall, tmp_path: Path) -> None:
    """The error boundary reads an error's exit status without making its ExitCode (errors.exit_status)."""
    done, loaded = installed.run(["list", "missing.p12"], cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (4, "", "keystores: error: missing.p12: no such file\n")
    assert "keystores.exit_codes" not in loaded
    done, _ = installed.run(["list", "missing.p12", "--type", "nonesuch"], cwd=tmp_path)
    assert done.returncode == 2 and "Invalid value for '--type'" in done.stderr


ERRORS = [getattr(errors, name) for name in dir(errors)
          if isinstance(getattr(errors, name), type) and issubclass(getattr(errors, name), errors.KeystoreError)]
CODES = {"UsageError": "USAGE", "WrongPassword": "WRONG_PASSWORD", "PasswordRequired": "WRONG_PASSWORD",
         "NotFound": "NOT_FOUND", "StoreNotFound": "NOT_FOUND", "EntryNotFound": "NOT_FOUND",
         "TokenNotFound": "NOT_FOUND", "ChecksFailed": "CHECKS_FAILED"}


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: error.__name__)
def test_every_errors_exit_code_is_the_enums_member(error: type[errors.KeystoreError]) -> None:
    """As when ExitCode was made with errors.py: read from the class or an error, it is the IntEnum's member."""
    expected = errors.ExitCode[CODES.get(error.__name__, "FAILURE")]
    assert error.exit_code is expected
    made = error.__new__(error)
    assert made.exit_code is expected and isinstance(made.exit_code, enum.IntEnum)


@pytest.mark.parametrize("error", ERRORS, ids=lambda error: error.__name__)
def test_every_errors_exit_status_is_its_exit_code(error: type[errors.KeystoreError]) -> None:
    made = error.__new__(error)
    assert errors.exit_status(made) == int(made.exit_code) and type(errors.exit_status(made)) is int


def test_an_exit_code_set_by_a_caller_is_the_exit_status() -> None:
    from keystores.exit_codes import ExitCode

    class Mine(errors.KeystoreError):
        exit_code = ExitCode.CHECKS_FAILED

    class Plain(errors.UsageError):
        exit_code = 7  # a plain number, as a caller may write it

    assert (errors.exit_status(Mine("x")), errors.exit_status(Plain("x"))) == (5, 7)
    error = errors.UsageError("x")
    error.exit_code = ExitCode.NOT_FOUND  # on the instance
    assert errors.exit_status(error) == 4 and error.exit_code is ExitCode.NOT_FOUND


def test_exit_code_is_the_same_enum_everywhere() -> None:
    from keystores.exit_codes import ExitCode

    assert keystores.ExitCode is errors.ExitCode is ExitCode
    assert issubclass(ExitCode, enum.IntEnum) and [(c.name, int(c)) for c in ExitCode] == [
        ("OK", 0), ("FAILURE", 1), ("USAGE", 2), ("WRONG_PASSWORD", 3), ("NOT_FOUND", 4), ("CHECKS_FAILED", 5)]
    assert repr(errors.UsageError("x").exit_code) == "<ExitCode.USAGE: 2>" and str(ExitCode.USAGE) == "2"

    class Mine(errors.KeystoreError):  # a caller's own error still sets its code as before
        exit_code = ExitCode.CHECKS_FAILED

    assert Mine("x").exit_code is ExitCode.CHECKS_FAILED
    with pytest.raises(AttributeError):
        errors.NoSuchName  # noqa: B018


def _old_printable(text: str) -> str:
    """keystores/text.py's printable before it left `re` (the reference)."""
    unsafe = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
    named = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\e"}

    def escape(match: re.Match[str]) -> str:
        char = match.group()
        if char in named:
            return named[char]
        return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"

    return unsafe.sub(escape, text)


def test_printable_escapes_what_the_regular_expression_escaped() -> None:
    """Every code point alone, and between other text (where the fast path must not skip it)."""
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert printable(char) == _old_printable(char), hex(code)
    every = "".join(chr(code) for code in range(0x3000)) + "\U0001f600\ud800x\u202eevil\x1b]52;c;\x07"
    assert printable(every) == _old_printable(every)
    assert printable("web\tserver") == "web\\tserver" and printable("naïve 名前 😀") == "naïve 名前 😀"


def test_the_cli_s_printable_is_keystores_text_s() -> None:
    """cli.common.printable (keystores.text loaded only for text that needs escaping) gives what keystores.text's
    gives, for every code point alone and between other text."""
    from keystores.cli.common import printable as cli_printable

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert cli_printable(char) == printable(char), hex(code)
    every = "".join(chr(code) for code in range(0x3000)) + "\U0001f600\ud800x\u202eevil\x1b]52;c;\x07"
    assert cli_printable(every) == printable(every) and cli_printable("naïve 名前 😀") == "naïve 名前 😀"


def test_every_unsafe_character_is_one_isprintable_refuses() -> None:
    """printable's fast path (str.isprintable) never lets one through."""
    assert len(UNSAFE) == 79 and not any(chr(code).isprintable() for code in UNSAFE)


def test_the_dsa_filter_reads_as_filterwarnings_would() -> None:
    """main's filter entry matches as `re.compile("DSA is deprecated", re.I).match`; in a run, cryptography's DSA
    note is dropped and other warnings still reach the user in our words."""
    from keystores.cli.main import _StartsWith

    pattern, standin = re.compile("DSA is deprecated", re.I), _StartsWith("DSA is deprecated")
    for text in ("DSA is deprecated and will be removed", "dsa IS DEPRECATED", "DSA is", "a DSA is deprecated", "",
                 "DSA is deprecatedly"):
        assert bool(standin.match(text)) == bool(pattern.match(text)), text
    probe = ("import warnings\nfrom keystores.cli import main\ntry:\n    main.run(['version'])\nexcept SystemExit:\n"
             "    pass\nwarnings.warn('DSA is deprecated and will be removed', UserWarning)\n"
             "warnings.warn('something else', UserWarning)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stderr == "keystores: warning: something else\n"


def test_a_run_loads_the_warnings_module_only_when_something_warns(installed: UserInstall, tmp_path: Path) -> None:
    """main's filter goes into the list the warnings module shares with its C part, and showwarning is set when the
    module is first imported (by whatever warns): in a user's install a run that warns of nothing imports no warnings
    module, and one that does shows the warning in our words, its DSA filter in place."""
    done, loaded = installed.run(["version"], cwd=tmp_path)
    assert done.returncode == 0 and "warnings" not in loaded
    probe = ("import sys\nfrom keystores.cli import main\ntry:\n    main.run(['version'])\nexcept SystemExit:\n"
             "    pass\nprint('warnings' in sys.modules)\nimport warnings\n"
             "warnings.warn('DSA is deprecated and will be removed', UserWarning)\n"
             "warnings.warn('something else', UserWarning)\n"
             "print(warnings.showwarning is main._warning_line, warnings.filters[0][1].__class__.__name__)\n")
    done, _ = installed.run(["-c", probe], cwd=tmp_path, console_script=False)
    assert done.stdout.split()[-3:] == ["False", "True", "_StartsWith"]  # (after the version line)
    assert done.stderr == "keystores: warning: something else\n"


@pytest.mark.parametrize("path", ["x", "d/x", "d/e/x", "nope/x", "d/e/", "d/nope/", "/", "/tmp/", "d//x", "d/./x",
                                  "d/../x", "nope/../x", "../x", "//x", "/nope/x", "d/e//"])
def test_output_folders_are_checked_as_pathlib_did(path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """certreq/sign/selfsign check where they write with os.path (pathlib imports re, urllib and ipaddress)."""
    from keystores.cli import lifecycle

    from keystores.errors import UsageError

    (tmp_path / "d" / "e").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    for check, expected in ((lambda: lifecycle._write_output(path, b""), Path(path).parent.exists()),
                            (lambda: lifecycle._check_output_folder(path), Path(path).resolve().parent.is_dir())):
        monkeypatch.setattr("keystores.fileio.atomic_write", lambda *args: None)
        try:
            check()
            passed = True
        except UsageError:
            passed = False
        assert passed == expected


def test_json_output_loads_neither_json_nor_re(installed: UserInstall, tmp_path: Path) -> None:
    """--json output (cli.common.emit_json) is written by keystores.json_output (tests/test_json_output.py)."""
    probe = ("import sys\nfrom keystores.cli.common import emit_json\nemit_json({'schema': 1, 'entries': [None]})\n"
             "print(sorted({'json', 're', 'json.encoder'} & set(sys.modules)), file=sys.stderr)\n")
    done, _ = installed.run(["-c", probe], cwd=tmp_path, console_script=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, '{\n  "schema": 1,\n  "entries": [\n    null\n  ]\n}\n',
                                                           "[]\n")


def test_a_run_of_the_process_command_line_leaves_the_collector_nothing_to_walk_at_exit(tmp_path: Path) -> None:
    """main.run() without argv (the console script, `python -m keystores`) freezes what the run made, so Python's
    collection at exit walks nothing of it; run(argv), as tests and scripts call it in a process that goes on,
    leaves what the command made to the collector."""
    probe = ("import gc, sys\nfrom keystores.cli import main\nsys.argv[1:] = ['list', 'missing.p12']\n"
             "made = [[] for _ in range(1000)]\ntry:\n    main.run({})\nexcept SystemExit as exc:\n"
             "    assert exc.code == 4\nprint(len(gc.get_objects()), file=sys.stderr)\n")
    counts = []
    for argv in ("", "['list', 'missing.p12']"):
        done = subprocess.run([sys.executable, "-c", probe.format(argv)], capture_output=True, text=True,
                              cwd=tmp_path, check=True)
        counts.append(int(done.stderr.strip().splitlines()[-1]))
    # what the command made after start-up's freeze: a few hundred objects (fewer as opening a store imports
    # less; the 1,000 lists made before the run are frozen with start-up)
    assert counts[0] < 100 < counts[1]


def test_a_run_of_the_process_command_line_walks_nothing_at_start_up(tmp_path: Path) -> None:
    """main.run() without argv starts no collection while a small command imports what it needs: at Python's
    threshold the collector walked start-up's long-lived objects several times (3 collections for `list
    missing.p12`, 7 for `list cert.pem`; ~1.5% of a listing's instructions)."""
    probe = ("import gc, sys\nfrom keystores.cli import main\nsys.argv[1:] = ['list', 'missing.p12']\nstarted = []\n"
             "gc.callbacks.append(lambda phase, info: phase == 'start' and started.append(info))\ntry:\n"
             "    main.run()\nexcept SystemExit as exc:\n    assert exc.code == 4\n"
             "print(len(started), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert done.stderr.strip().splitlines()[-1] == "0"


@pytest.mark.parametrize("columns_env", [None, "120", "0", "-3", "wide", ""])
@pytest.mark.parametrize("terminal", [None, (100, 40), (0, 0), (0, 30)])
def test_terminal_columns_are_shutils(columns_env: str | None, terminal: tuple[int, int] | None,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """cli.render's tables measure the terminal as shutil.get_terminal_size did, without importing shutil."""
    import os
    import shutil

    from keystores.cli.terminal import terminal_columns

    for name, value in (("COLUMNS", columns_env), ("LINES", None)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)

    def measured(fd: int) -> os.terminal_size:
        if terminal is None:
            raise OSError("not a terminal")
        return os.terminal_size(terminal)

    monkeypatch.setattr(os, "get_terminal_size", measured)
    assert terminal_columns() == shutil.get_terminal_size().columns


def test_a_terminal_table_loads_no_shutil(installed: UserInstall, tmp_path: Path) -> None:
    probe = ("import sys\nfrom keystores.cli.terminal import print_columns\nprint_columns('t', ['a'], [['x']])\n"
             "print(sorted({'shutil', 'bz2', 'lzma', 'fnmatch'} & set(sys.modules)), file=sys.stderr)\n")
    done, _ = installed.run(["-c", probe], cwd=tmp_path, console_script=False, env={"COLUMNS": "40"})
    assert (done.returncode, done.stdout, done.stderr) == (0, "t\na\n─\nx\n", "[]\n")


def test_describe_still_names_what_describe_decoded_holds() -> None:
    """keystores.ops.describe imports describe_decoded only where a decoded certificate is described; its names are
    still found from describe, as the very functions describe_decoded holds."""
    from keystores.ops import describe, describe_decoded

    for name in ("certificate_data", "certificate_details", "_raw_certificate_data", "_general_name", "_key_type",
                 "_signature_name", "_name"):
        assert getattr(describe, name) is getattr(describe_decoded, name)
    with pytest.raises(AttributeError):
        describe.no_such_name  # noqa: B018
