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


def keystores_tty(*args: str, env: dict[str, str] | None = None, columns: int = 80, rows: int = 24,
                  stdin_tty: bool = True, cwd: str | None = None, timeout: float = 120,
                  answers: list[str] | None = None) -> Result:
    """Run `keystores` as a person at a terminal sees it: stdout and stderr (and stdin unless `stdin_tty` is
    False) on one pseudo-terminal of `columns` x `rows`; `out` is everything the terminal showed (with its
    escape sequences), `err` is empty. `answers` are typed one per prompt, each after the next ": " shows."""
    import fcntl
    import pty
    import struct
    import termios
    import threading
    import time

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    environment.update({"TERM": "xterm-256color", **(env or {})})
    chunks: list[bytes] = []
    pending = list(answers or [])

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                return
            if not chunk:
                return
            chunks.append(chunk)
            if pending and b"".join(chunks).rstrip().endswith(b":"):
                time.sleep(0.2)  # as a person types: after the prompt has turned echo off and flushed input
                os.write(leader, (pending.pop(0) + "\n").encode())

    def own_terminal() -> None:  # the pty becomes the child's controlling terminal: /dev/tty is it (getpass)
        os.setsid()
        fcntl.ioctl(1, termios.TIOCSCTTY, 0)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with subprocess.Popen([sys.executable, "-m", "keystores", *args], stdin=follower if stdin_tty else
                          subprocess.DEVNULL, stdout=follower, stderr=follower, env=environment, cwd=cwd,
                          preexec_fn=own_terminal) as process:
        os.close(follower)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"keystores {' '.join(args)} hung; the terminal showed: "
                                 f"{b''.join(chunks)!r}") from None
        finally:
            reader.join(timeout=10)
            os.close(leader)
    return Result(code, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n"), "")
