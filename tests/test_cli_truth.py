"""Issue 12: the exit code and every line the CLI prints are the truth. Interrupts, failed token imports, intent
(export format, passwords that do nothing, nothing to import), durations, secrets in errors, untrusted
certificates, certificates held on their own, library warnings, and the loose ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import keystores
from hardening import PASSWORD, bulk_entries, make_store

from softhsm import SoftHsm, softhsm  # noqa: F401  (pytest fixtures)

ENV = {"KS_PW": PASSWORD}
PW = ["-p", "env:KS_PW"]
DPW = ["--dest-password", "env:KS_PW"]


# --- 1. Ctrl-C exits 130, says what it left, and leaves nothing half-made ---------------------------------------
def _command_started(pid: int) -> bool:
    """True once the command itself runs: start-up never imports cryptography (CLI start-up is measured), the
    commands that read or write a store do, so its native library appears in the process's memory map."""
    try:
        return "cryptography" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _interrupt(argv: list[str], ready: Callable[[subprocess.Popen[str]], bool], env: dict[str, str],
               reset: Callable[[], None] = lambda: None) -> subprocess.CompletedProcess[str]:
    """Run `keystores argv` and send SIGINT once `ready`; a run that ends before it is ready (a fast machine) is
    started again, so the outcome never depends on how long a run takes."""
    for _ in range(10):
        reset()
        proc = subprocess.Popen([sys.executable, "-m", "keystores", *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**env, "NO_COLOR": "1"})
        while proc.poll() is None and not ready(proc):
            time.sleep(0.002)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)
            return subprocess.CompletedProcess(argv, proc.returncode, out, err)
        proc.communicate()
    raise AssertionError("the command always finished before it could be interrupted")


@pytest.fixture(scope="module")
def big_p12(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("src") / "big.p12"
    make_store("pkcs12", str(path), bulk_entries(1500))
    return path


@pytest.mark.parametrize("dest_name", ["out.jks", "out.p12", "out.kdb"])
def test_interrupted_convert_exits_130_and_writes_nothing(big_p12, tmp_path, dest_name):
    dest = tmp_path / dest_name
    done = _interrupt(["convert", str(big_p12), str(dest), *PW, *DPW], lambda p: _command_started(p.pid),
                      {**os.environ, **ENV})
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["keystores: interrupted; nothing was changed"], done.stderr
    assert sorted(os.listdir(tmp_path)) == []


def test_interrupted_convert_to_a_new_nss_folder_removes_it(big_p12, tmp_path):
    folder = tmp_path / "new" / "nssdb"
    done = _interrupt(["convert", str(big_p12), f"sql:{folder}", *PW, *DPW],
                      lambda p: folder.exists(), {**os.environ, **ENV})
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["keystores: interrupted; nothing was changed"], done.stderr
    assert sorted(os.listdir(tmp_path)) == []  # the folders made for the run are gone again


def test_interrupted_import_into_an_existing_store_keeps_it(big_p12, tmp_path):
    dest = tmp_path / "trust.jks"
    make_store("jks", str(dest), bulk_entries(3, "old"))
    before = dest.read_bytes()
    done = _interrupt(["import", str(big_p12), str(dest), *PW, *DPW], lambda p: _command_started(p.pid),
                      {**os.environ, **ENV})
    assert done.returncode == 130 and "nothing was changed" in done.stderr, done.stderr
    assert dest.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["trust.jks"]


def test_an_exit_code_typer_returns_is_passed_on():
    """Under standalone_mode=False typer returns (does not raise) an Exit's code: run() must not turn it into 0."""
    done = subprocess.run([sys.executable, "-c", "import sys, typer\nfrom keystores.cli import main\n"
                           "@main.app.command('exit-seven')\ndef seven() -> None:\n    raise typer.Exit(7)\n"
                           "main.run(['exit-seven'])"], capture_output=True, text=True, check=False)
    assert done.returncode == 7, done.stderr


# --- 2. a failed or interrupted import onto a token leaves the token as it was ---------------------------------
def _token_objects(token) -> int:
    return len(token.objects())


def test_failed_token_import_removes_what_it_created_and_a_rerun_works(softhsm, tmp_path):  # noqa: F811
    token = softhsm.make_token()
    src = tmp_path / "bulk.p12"
    make_store("pkcs12", str(src), bulk_entries(40))
    clash = tmp_path / "clash.p12"
    make_store("pkcs12", str(clash), [bulk_entries(1, "other")[0].with_(label="bulk-0030")])
    env = {**token.env, **ENV}
    first = keystores("import", str(clash), token.uri, *PW, "--dest-password", token.password, env=env)
    assert first.code == 0, first.all
    before = token.objects()
    failed = keystores("import", str(src), token.uri, *PW, "--dest-password", token.password, env=env)
    assert failed.code == 1 and "bulk-0030" in failed.err, failed.all  # 30 entries went in before this one
    assert token.objects() == before
    assert keystores("delete", token.uri, "bulk-0030", "-p", token.password, env=env).code == 0
    rerun = keystores("import", str(src), token.uri, *PW, "--dest-password", token.password, env=env)
    assert rerun.code == 0, rerun.all
    assert _token_objects(token) == 40


def test_interrupted_token_import_removes_what_it_created(softhsm, tmp_path):  # noqa: F811
    token = softhsm.make_token()
    src = tmp_path / "bulk.p12"
    make_store("pkcs12", str(src), bulk_entries(400))
    tokens = token.folder / "tokens"  # softhsm/mktoken's tokendir
    objects_at_start = len(list(tokens.rglob("*.object")))

    def some_written(proc: subprocess.Popen[str]) -> bool:  # SoftHSM keeps one file per token object
        return len(list(tokens.rglob("*.object"))) > objects_at_start + 5

    env = {**token.env, **ENV}
    done = _interrupt(["import", str(src), token.uri, *PW, "--dest-password", token.password], some_written, env)
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["keystores: interrupted; nothing was changed"], done.stderr
    assert token.objects() == []
    rerun = keystores("import", str(src), token.uri, *PW, "--dest-password", token.password, env=env)
    assert rerun.code == 0, rerun.all
    assert _token_objects(token) == 400
