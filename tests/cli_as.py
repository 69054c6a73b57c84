"""Run the `keystores` CLI in a subprocess as another user, or with a kill or a pause injected at a file rename.

The hostile file-system tests need a second, unprivileged user and precise interruption points:
- `uid`/`gid`/`groups`: the child starts as root, imports everything the CLI can import (the interpreter may live
  where the unprivileged user cannot read, e.g. /root/.pyenv), then drops to those numeric ids with
  setgroups/setgid/setuid. Numbers need no /etc/passwd entry, so nothing on the machine is changed or left behind.
- `kill_at_replace=N`: the child SIGKILLs itself just before its Nth `os.replace` (a killed writer, at that step).
- `kill_at_unlink_of=PREFIX`: the child SIGKILLs itself just before it removes a file whose name starts so.
- `pause_before_replace=S`: the child sleeps S seconds before every `os.replace` (holding whatever it holds), so a
  second writer can be started inside the read-modify-write window.
Only test code patches anything here; the product has no test hooks.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

from clirun import Result

_CONFIG = "KS_TEST_RUNNER_CONFIG"


def root_can_drop() -> str | None:
    """None when these tests can switch to another user here; else the reason they cannot (for a skip)."""
    if os.geteuid() != 0:
        return "switching to an unprivileged user needs root (CI runs as root)"
    return None


def start(*args: str, uid: int | None = None, gid: int | None = None, groups: tuple[int, ...] = (),
          kill_at_replace: int | None = None, kill_at_unlink_of: str | None = None,
          pause_before_replace: float | None = None,
          env: dict[str, str] | None = None, cwd: str | None = None) -> subprocess.Popen[str]:
    config = {"uid": uid, "gid": gid, "groups": list(groups), "kill_at_replace": kill_at_replace,
              "kill_at_unlink_of": kill_at_unlink_of,
              "pause_before_replace": pause_before_replace, "args": list(args)}
    return subprocess.Popen([sys.executable, str(Path(__file__).resolve())], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, cwd=cwd,
                            env={**os.environ, **(env or {}), "NO_COLOR": "1", _CONFIG: json.dumps(config)})


def run(*args: str, timeout: float = 120, **options: object) -> Result:
    proc = start(*args, **options)  # type: ignore[arg-type]
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return Result(proc.returncode, out, err)


def _import_everything() -> None:
    """Import every module the CLI may import lazily, while the interpreter's files are still readable."""
    import encodings
    import importlib
    import pkgutil

    import keystores.cli

    import keystores

    for info in pkgutil.iter_modules(encodings.__path__, "encodings."):
        with contextlib.suppress(ImportError):  # platform codecs (mbcs...)
            importlib.import_module(info.name)
    for package in (keystores, keystores.cli):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):  # that one runs the CLI
                importlib.import_module(info.name)
    for name in ("cryptography.hazmat.primitives.serialization.pkcs12", "cryptography.hazmat.primitives.ciphers",
                 "cryptography.hazmat.primitives.kdf.pbkdf2", "cryptography.hazmat.primitives.hmac",
                 "cryptography.hazmat.primitives.asymmetric.rsa", "cryptography.hazmat.primitives.asymmetric.ec",
                 "cryptography.hazmat.primitives.asymmetric.ed25519", "cryptography.hazmat.primitives.padding",
                 "cryptography.hazmat.decrepit.ciphers.algorithms", "asn1crypto.keys", "asn1crypto.pkcs12",
                 "asn1crypto.cms", "asn1crypto.x509", "sqlite3", "json", "getpass", "tempfile", "shutil",
                 "secrets", "hmac", "hashlib", "random", "uuid", "base64", "zlib", "struct", "datetime",
                 "signal", "threading", "resource", "termios", "pty", "rich.console", "rich.table",
                 "rich.progress", "rich.markup", "unicodedata", "typer.main",
                 "click.termui", "click.formatting", "ctypes", "fcntl", "stat", "errno", "textwrap", "difflib"):
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _child() -> None:
    import signal
    import time

    config = json.loads(os.environ.pop(_CONFIG))
    # Python leaves SIGINT ignored when it starts ignored (a background job of a non-interactive shell): restore
    # the usual Ctrl-C, as a terminal user has it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from keystores.cli import main as cli_main

    if config["uid"] is not None:
        _import_everything()
        os.setgroups(config["groups"])
        os.setgid(config["gid"])
        os.setuid(config["uid"])
    real_replace = os.replace
    calls = 0

    def replace(src, dst, *args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        if calls == config["kill_at_replace"]:
            os.kill(os.getpid(), signal.SIGKILL)
        if config["pause_before_replace"]:
            time.sleep(config["pause_before_replace"])
        return real_replace(src, dst, *args, **kwargs)

    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        prefix = config["kill_at_unlink_of"]
        if prefix and os.path.basename(os.fspath(path)).startswith(prefix):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_unlink(path, *args, **kwargs)

    os.replace = replace  # type: ignore[assignment]
    os.unlink = unlink  # type: ignore[assignment]
    sys.argv = ["keystores", *config["args"]]
    cli_main.run(config["args"])


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    _child()
