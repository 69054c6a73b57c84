"""The real-world corpus (fixtures/corpus.py) made once per test session, and the CLI run in-process over it (a
subprocess per store would cost more CPU than the whole corpus test is allowed)."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))

import corpus


@dataclass
class Run:
    code: int
    out: str
    err: str


def cli(*argv: str) -> Run:
    """`keystores ARGV` in this process: the CLI's one error boundary, its exit code, what it printed."""
    from keystores.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    code: Any = 0
    handler = signal.getsignal(signal.SIGINT)
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            run(list(argv))
        except SystemExit as exc:
            code = exc.code or 0
        finally:
            signal.signal(signal.SIGINT, handler)  # run() installs the CLI's; the rest of the suite expects Python's
    return Run(int(code), out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def real_world(tmp_path_factory) -> tuple[Path, dict[str, dict]]:
    """(folder, manifest) of the corpus; the passwords are in the environment as the manifest names them."""
    os.environ.update(corpus.ENVIRONMENT)
    folder = tmp_path_factory.mktemp("corpus")
    return folder, corpus.make(folder)


def location(folder: Path, name: str, facts: dict) -> str:
    return f"sql:{folder / name}" if facts["type"] == "nss" else str(folder / name)


def password_args(facts: dict) -> list[str]:
    return ["-p", f"env:{facts['password']}"] if facts["password"] else []
