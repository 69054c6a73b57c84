"""Output and secrets (issue 16): no byte of a password in an error, no PIN from a URI, no echo, no core file.

Everything is made here: a small PKCS#12 store, password files in Latin-1, URIs with PINs typed the wrong way.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from clirun import keystores
from hardening import PASSWORD, make_store
from helpers import trusted_entry

from keystores.backends.pkcs11.uri import Pkcs11Uri
from keystores.errors import KeystoreError, UsageError

LATIN1 = "Zürich-Secret-é".encode("latin-1")  # not UTF-8: ü and é are single bytes
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("secrets") / "store.p12"
    make_store("pkcs12", str(path), [trusted_entry("root", index=4)])
    return path


def _leaks(text: str) -> list[str]:
    """The parts of the Latin-1 password (or the words Python uses to point at one of its bytes) in `text`."""
    found = [word for word in ("Secret", "Zürich", "Z\\xfc", "0xfc", "0xe9", "\\xe9", "position", "Traceback",
                               "internal error") if word in text]
    return found


def _run_bytes_env(store: Path, source: str, env: dict[bytes, bytes], stdin: bytes | None = None):
    return subprocess.run([sys.executable, "-m", "keystores", "list", str(store), "--password", source],
                          env={**os.environb, b"NO_COLOR": b"1", **env}, input=stdin, capture_output=True,
                          check=False, timeout=60)


@pytest.mark.parametrize("kind", ["file", "env", "fd", "stdin", "pass"])
def test_a_latin1_password_is_refused_without_naming_its_bytes(store, tmp_path, kind):
    secret_file = tmp_path / "pw.txt"
    secret_file.write_bytes(LATIN1 + b"\n")
    if kind == "file":
        done = _run_bytes_env(store, f"file:{secret_file}", {})
    elif kind == "env":
        done = _run_bytes_env(store, "env:KS_PW", {b"KS_PW": LATIN1})
    elif kind == "pass":
        done = subprocess.run([sys.executable.encode(), b"-m", b"keystores", b"list", str(store).encode(),
                               b"--password", b"pass:" + LATIN1], capture_output=True, check=False, timeout=60)
    elif kind == "stdin":
        done = _run_bytes_env(store, "stdin", {}, stdin=LATIN1 + b"\n")
    else:
        read_end, write_end = os.pipe()
        os.write(write_end, LATIN1 + b"\n")
        os.close(write_end)
        try:
            done = subprocess.run([sys.executable, "-m", "keystores", "list", str(store), "--password",
                                   f"fd:{read_end}"], pass_fds=(read_end,), capture_output=True, check=False,
                                  timeout=60)
        finally:
            os.close(read_end)
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, err
    assert "not UTF-8" in err
    assert _leaks(err) == [], err


# --- PKCS#11 URIs -------------------------------------------------------------------------------------------------

MISTYPED = ["pkcs11:token=t;pin-value:S3cr3tPin", "pkcs11:token=t;pin-value%3DS3cr3tPin",
            "pkcs11:token=t;pin=S3cr3tPin", "pkcs11:token=t?pin=S3cr3tPin", "pkcs11:token=t?PIN-Value=S3cr3tPin",
            "pkcs11:token=t?pin%2Dvalue=S3cr3tPin", "pkcs11:token=t?pin-source=file:/S3cr3tPin",
            "pkcs11:token=t;S3cr3tPin"]


@pytest.mark.parametrize("uri", MISTYPED)
def test_a_mistyped_pin_attribute_is_refused_without_echoing_it(uri):
    with pytest.raises(UsageError) as info:
        Pkcs11Uri.parse(uri)
    assert "S3cr3tPin" not in str(info.value)


@pytest.mark.parametrize("uri", MISTYPED[:3])
def test_the_cli_never_prints_a_pin_typed_into_a_uri(uri):
    for argv in (["list", uri, "--json", "--module", SOFTHSM], ["java-config", uri, "--out", "/nonexistent"]):
        done = keystores(*argv)
        assert done.code == 2, done.all
        assert "S3cr3tPin" not in done.all


def test_errors_about_a_uri_redact_its_pin():
    error = KeystoreError("no token", store="pkcs11:token=t;object=k?pin-value=S3cr3tPin&module-path=/x.so")
    assert "S3cr3tPin" not in str(error)
    assert "token=t;object=k" in str(error) and "module-path=/x.so" in str(error)


# --- the terminal and the core file -------------------------------------------------------------------------------

def _echo_on(fd: int) -> bool:
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)


def _core_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max core file size"):
            return line
    raise AssertionError("no core limit line")


def test_password_from_stdin_on_a_terminal_is_not_echoed_and_no_core_file_can_hold_it(store):
    leader, follower = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "keystores", "list", str(store), "--password", "stdin"],
                            stdin=follower, stdout=follower, stderr=follower, env={**os.environ, "NO_COLOR": "1"},
                            start_new_session=True)
    os.close(follower)
    try:
        deadline = time.monotonic() + 30
        while _echo_on(leader):  # the terminal settings are shared by both ends of the pty
            assert proc.poll() is None, "the CLI ended before reading the password"
            assert time.monotonic() < deadline, "echo was never turned off while the password is read"
            time.sleep(0.02)
        limit = _core_limit(proc.pid)
        os.write(leader, PASSWORD.encode() + b"\n")
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the other end closed
                break
            if not chunk:
                break
            seen += chunk
        assert proc.wait(timeout=30) == 0, seen
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
    assert PASSWORD.encode() not in seen, "the password was echoed to the terminal"
    assert b"root" in seen  # the listing itself
    assert limit.split()[4:6] == ["0", "0"], f"core dumps are possible: {limit}"


def test_a_prompted_password_that_is_not_utf8_is_refused_without_naming_its_bytes(store):
    """The prompt (getpass on the controlling terminal) typed in a Latin-1 terminal."""
    pid, leader = pty.fork()
    if pid == 0:  # the child: the pty is its controlling terminal, as a user's is
        try:
            os.execv(sys.executable, [sys.executable, "-m", "keystores", "list", str(store)])
        finally:
            os._exit(127)  # never back into pytest
    seen = b""
    deadline = time.monotonic() + 30
    try:
        while b"Password" not in seen:
            assert time.monotonic() < deadline, f"no prompt: {seen!r}"
            seen += os.read(leader, 1024)
        os.write(leader, LATIN1 + b"\n")
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            seen += chunk
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(leader)
    text = seen.decode("utf-8", "replace")
    assert os.waitstatus_to_exitcode(status) == 2, text
    assert "not UTF-8" in text and _leaks(text) == [], text
