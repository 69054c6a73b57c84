"""Run the `keystores` CLI on a hostile file in a subprocess under a memory limit and a hang guard.

The hang guard is no speed goal: a bounded parser ends far sooner; only a loop or a runaway derivation trips it.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

MEMORY_LIMIT = 1536 * 1024 * 1024  # address space for the whole CLI process (Python + cryptography need ~300 MiB)
HANG_GUARD_S = 60
PASSWORD = "hostile-pw"


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def _limits(memory: int) -> Callable[[], None]:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def run(*args: str, password: str | None = PASSWORD, memory: int = MEMORY_LIMIT) -> Outcome:
    """`keystores ARGS [-p env:HOSTILE_PW]`, bounded; a hang or an out-of-memory kill fails the test."""
    env = {**os.environ, "NO_COLOR": "1", "HOSTILE_PW": password or ""}
    extra = ["-p", "env:HOSTILE_PW"] if password is not None else []
    done = subprocess.run([sys.executable, "-m", "keystores", *args, *extra], capture_output=True, text=True,
                          env=env, timeout=HANG_GUARD_S, preexec_fn=_limits(memory), check=False,
                          stdin=subprocess.DEVNULL)
    return Outcome(done.returncode, done.stdout, done.stderr)


def assert_clean_refusal(outcome: Outcome, *words: str, code: int = 1) -> None:
    """Exit `code`, one line on stderr naming `words`, no traceback, nothing on stdout."""
    lines = [line for line in outcome.err.splitlines() if line.strip()]
    assert outcome.code == code, (outcome.code, outcome.err[-2000:])
    assert "Traceback" not in outcome.err and "MemoryError" not in outcome.err, outcome.err[-2000:]
    assert len(lines) == 1, outcome.err[-2000:]
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
