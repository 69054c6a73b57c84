"""cli.main._exit_at_once: a command-line run ends without Python's teardown only where that teardown has nothing
left to do, with the exit status and every line it printed intact."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from softhsm import softhsm, softhsm_token  # noqa: F401  (pytest fixtures)

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
    "import threading; threading.Thread(target=__import__('time').sleep, args=(0.3,)).start()",
    "sys.setprofile(lambda *args: None)",
    "sys.modules['PyKCS11'] = sys",
])
def test_python_s_own_exit_runs_where_something_still_needs_it(before: str) -> None:
    """A thread threading still waits for, a profiler, PyKCS11 (whose library objects finalize as Python frees
    them)."""
    done = _run(["version"], before=before)
    assert done.returncode == 0
    assert "teardown" in done.stderr


def test_what_python_s_exit_would_still_do_is_done_before_the_end() -> None:
    """An atexit callback (a caller's, coverage's) runs, once; threading imported with no thread of its own still
    running waits for nothing; python-pkcs11's loaded libraries are finalized (C_Finalize), as freeing them would."""
    before = ("import atexit, threading, pkcs11\n"
              "atexit.register(lambda: print('callback ran'))\n"
              "class Library:\n"
              "    def finalize(self):\n"
              "        print('finalized')\n"
              "pkcs11._loaded['module.so'] = Library()\n")
    done = _run(["version"], before=before)
    assert (done.returncode, "teardown" in done.stderr) == (0, False)
    assert done.stdout.splitlines()[-2:] == ["callback ran", "finalized"]


def test_a_token_command_ends_at_once_with_its_output_whole(softhsm_token) -> None:  # noqa: F811
    """A token command loads python-pkcs11 (and threading with it) and registers an atexit callback (a connection
    no store took is closed): it ends without Python's teardown (~3-4 ms of `list pkcs11:...`, qpair of 60 rounds)."""
    done = subprocess.run([sys.executable, "-c", PROBE + "\nfrom keystores.cli.main import main\nmain()\n", "list",
                           softhsm_token.uri, "--password", softhsm_token.password], capture_output=True, text=True,
                          env={**os.environ, **softhsm_token.env, "NO_COLOR": "1"}, check=False)
    assert (done.returncode, "teardown" in done.stderr) == (0, False), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("args", "status"), [(["version"], 0), (["list", "/nonexistent/absent.p12"], 4)])
def test_ctrl_c_at_the_end_of_a_run_ends_it_with_the_command_s_status(args: list[str], status: int) -> None:
    """The command has done what it reported: Ctrl-C then (here, in an atexit callback that runs before the end)
    ends the process at once with its status, where it met Python's teardown (a threading._shutdown traceback, or
    death by SIGINT once Python had restored the default handler)."""
    before = ("import atexit, signal, time\n"
              "def _interrupt():\n"
              "    os.kill(os.getpid(), signal.SIGINT)\n"
              "    time.sleep(5)\n"
              "    print('not ended')\n"
              "atexit.register(_interrupt)\n")
    done = _run(args, before=before)
    assert (done.returncode, "not ended" in done.stdout, "Traceback" in done.stderr) == (status, False, False)


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
