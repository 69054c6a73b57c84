"""Run the real `keystores` command in a subprocess, as a user would, and keep everything it printed."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def all(self) -> str:
        return self.out + self.err


def keystores(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, cwd: str | None = None,
              timeout: float = 120) -> Result:
    done = subprocess.run([sys.executable, "-m", "keystores", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {}), "NO_COLOR": "1"}, input=stdin, cwd=cwd,
                          timeout=timeout, check=False)
    return Result(done.returncode, done.stdout, done.stderr)
