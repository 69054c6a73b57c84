"""keystores as a user's `pip install keystores` leaves it, for tests of what a run imports (issue 15).

The development venv's editable install makes every interpreter load pathlib, re, urllib and more before any code
runs (`python -c pass` included), so there a test that a command does not import `re` proves nothing. Here a wheel
of this tree is installed into a new venv with the `keystores` console script pip writes; the dependencies are the
running interpreter's site-packages on a plain path line, with no .pth hook of theirs (as /work/wt/userenv.sh and
bench/ do). A second path file records `sys.modules` when the interpreter exits, if the run asks for it.
Offline: the wheel is built with setuptools' own build_meta (as tests/test_install.py does), pip installs it by path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the wheel is built from (pyproject.toml reads README.md).
SOURCES = ("pyproject.toml", "setup.py", "README.md", "keystores", "cli")
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
    source, wheels = folder / "source", folder / "wheels"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            source.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / name, source / name)
    code = "import sys\nfrom setuptools import build_meta\nprint(build_meta.build_wheel(sys.argv[1]))\n"
    built = subprocess.run([sys.executable, "-c", code, str(wheels)], cwd=source, capture_output=True, text=True,
                           check=False)
    assert built.returncode == 0, built.stdout[-2000:] + built.stderr[-2000:]
    wheel = wheels / built.stdout.strip().splitlines()[-1]
    installed = UserInstall(folder)
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(folder / "venv")], check=True)
    site = Path(subprocess.run([str(installed.python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                                "['purelib'])"], capture_output=True, text=True, check=True).stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    (site / "zz_modules_record.pth").write_text(PROBE)
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(installed.python), "install", "-q",
                           "--no-deps", "--no-index", str(wheel)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return installed
