"""cli.main._exit_at_once: a command-line run ends without Python's teardown only where that teardown has nothing
left to do, with the exit status and every line it printed intact."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Python's teardown raises this audit event as it clears the interpreter; os._exit never gets there.
PROBE = """if True:
    import os, sys
    def _hook(event, args, write=os.write):
        if event == "cpython.PyInterpreterState_Clear":
            write(2, b"teardown\\n")
    sys.addaudithook(_hook)
"""


def _run(args: list[str], before: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    source = PROBE + before + "\nfrom keystores.cli.main import main\nmain()\n"
    return subprocess.run([sys.executable, "-c", source, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "NO_COLOR": "1"}, check=False)


def test_a_run_that_succeeds_ends_at_once_with_its_output_whole(tmp_path: Path) -> None:
    done = _run(["create", str(tmp_path / "new.kdb"), "--stash", "--password", "env:KS_TEST_PW"], cwd=tmp_path,
                before="os.environ['KS_TEST_PW'] = 'exit-at-once-1'")
    assert done.returncode == 0, done.stderr
    assert "teardown" not in done.stderr
    listed = _run(["list", str(tmp_path / "new.kdb")])
    assert (listed.returncode, "teardown" in listed.stderr) == (0, False)
    assert "stash" in listed.stderr  # what it printed before it ended is all there


def test_a_run_that_fails_ends_at_once_with_its_exit_code_and_error_line(tmp_path: Path) -> None:
    done = _run(["list", str(tmp_path / "absent.p12")])
    assert done.returncode == 4  # ExitCode.NOT_FOUND
    assert done.stderr.splitlines() == [f"keystores: error: {tmp_path / 'absent.p12'}: no such file"]


@pytest.mark.parametrize("before", [
    "import atexit; atexit.register(lambda: print('callback ran'))",
    "import threading",
    "sys.setprofile(lambda *args: None)",
    "import pkcs11",
])
def test_python_s_own_exit_runs_where_something_still_needs_it(before: str) -> None:
    """An atexit callback (a caller's, coverage's), threading's joins, a profiler, python-pkcs11's C_Finalize."""
    done = _run(["version"], before=before)
    assert done.returncode == 0
    assert "teardown" in done.stderr
    assert ("callback ran" in done.stdout) == ("atexit" in before)


def test_run_returns_to_its_caller_only_main_ends_the_process() -> None:
    """run(), as tests and programs that go on call it, raises SystemExit as always; only main(), the console
    script's and `python -m keystores`'s entry, ends the process."""
    source = PROBE + ("\nfrom keystores.cli.main import run\ntry:\n    run()\nexcept SystemExit as exc:\n"
                      "    print('went on after', exc.code)\n")
    went_on = subprocess.run([sys.executable, "-c", source, "version"], capture_output=True, text=True, check=True)
    assert went_on.stdout.splitlines()[-1] == "went on after 0"
    assert "teardown" in went_on.stderr
    module = subprocess.run([sys.executable, "-c", PROBE + "\nimport runpy\nrunpy.run_module('keystores', "
                             "run_name='__main__')\nprint('went on')\n", "version"], capture_output=True, text=True,
                            check=True)
    assert "went on" not in module.stdout and "teardown" not in module.stderr
