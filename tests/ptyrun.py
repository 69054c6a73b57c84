"""Run the real `keystores` command on a pseudo-terminal, as a person at a terminal sees it: prompts appear on
the terminal and are answered by typing, and the transcript holds everything the terminal showed."""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field


@dataclass
class Session:
    code: int
    transcript: str
    prompts: list[str] = field(default_factory=list)  # each prompt line answered, in order


def on_terminal(*args: str, answers: list[tuple[str, str]] = (), env: dict[str, str] | None = None,
                cwd: str | None = None, timeout: float = 60, columns: int = 120) -> Session:
    """Run `keystores ARGS` with stdin, stdout and stderr on one pseudo-terminal. `answers` are (regex, reply)
    pairs: each time the terminal shows text matching the next regex since the last answer, `reply` and a newline
    are typed. A prompt that shows up unexpected stays unanswered and the run ends at `timeout` (a failure)."""
    import fcntl
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "keystores", *args], stdin=follower, stdout=follower,
                               stderr=follower, env={**os.environ, **(env or {}), "NO_COLOR": "1"}, cwd=cwd,
                               start_new_session=True, close_fds=True)
    os.close(follower)
    shown = b""
    since = 0
    pending = list(answers)
    prompts: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # EIO: the child closed its side
                    chunk = b""
                if not chunk:
                    break
                shown += chunk
            elif process.poll() is not None:
                break
            if pending:
                text = shown[since:].decode("utf-8", "replace")
                found = re.search(pending[0][0], text)
                if found:
                    line = text[: found.end()].rsplit("\n", 1)[-1]
                    prompts.append(line.strip())
                    os.write(leader, pending.pop(0)[1].encode() + b"\n")
                    since = len(shown)
        else:
            process.kill()
        code = process.wait(timeout=10)
    finally:
        os.close(leader)
    return Session(code, shown.decode("utf-8", "replace").replace("\r\n", "\n"), prompts)
