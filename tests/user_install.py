"""keystores as a user's `pip install keystores` leaves it, for tests of what a run imports (issue 15).

The development venv's editable install makes every interpreter load pathlib, re, urllib and more before any code
runs (`python -c pass` included), so there a test that a command does not import `re` proves nothing. Here a wheel
of this tree is installed into a new venv with the `keystores` console script pip writes; the dependencies are the
running interpreter's site-packages on a plain path line, with no .pth hook of theirs (as /work/wt/userenv.sh and
bench/ do: bench/harness.install_wheel, offline). A second path file records `sys.modules` when the interpreter
exits, if the run asks for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from harness import install_wheel  # noqa: E402  (bench/'s one way to make a user's install)

MODULES_TO = "KEYSTORES_TEST_MODULES_TO"
# A path file's line that starts with "import" runs at start-up: it only registers the record, when asked for.
PROBE = (f"import os; {MODULES_TO!r} in os.environ and __import__('atexit').register(lambda: "
         f"open(os.environ[{MODULES_TO!r}], 'w').write(' '.join(__import__('sys').modules)))\n")


class UserInstall:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.python = folder / "venv" / "bin" / "python"
        self.script = folder / "venv" / "bin" / "keystores"

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str] | None = None,
            console_script: bool = True) -> tuple[subprocess.CompletedProcess[str], set[str]]:
        """Run `keystores ARGV` (the console script; else `python ARGV`) and return it and the modules it had
        loaded when it exited."""
        record = cwd / ".modules"
        record.unlink(missing_ok=True)
        command = [str(self.script)] if console_script else [str(self.python)]
        done = subprocess.run([*command, *argv], capture_output=True, text=True, cwd=cwd, check=False,
                              env={**os.environ, **(env or {}), MODULES_TO: str(record)})
        return done, set(record.read_text().split()) if record.exists() else set()


def user_install(folder: Path) -> UserInstall:
    _, _, site = install_wheel(ROOT, folder)
    (site / "zz_modules_record.pth").write_text(PROBE)
    return UserInstall(folder)
