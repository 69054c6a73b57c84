"""`pip install keystores` gives a working HSM backend; the GPL PyKCS11 stays an optional extra (issue 12); the
wheel holds every source file and no other, and a new package needs no edit to get there (issue 13)."""

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {req.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for req in requirements}


def test_python_pkcs11_is_a_core_dependency() -> None:
    assert "python-pkcs11" in _names(PYPROJECT["project"]["dependencies"])


def test_old_extras_still_resolve_and_pykcs11_stays_optional() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "all" in extras and "pkcs11" in extras  # old install lines (`keystores[all]`) keep working
    assert "pykcs11" in _names(extras["admin"])
    assert "pykcs11" not in _names(PYPROJECT["project"]["dependencies"])


def _built_wheel(tmp_path: Path, added: tuple[str, ...] = ()) -> set[str]:
    """The file names in a wheel built from a copy of the tree (a build writes beside its sources), with the
    `added` files (paths from the top of the tree) made empty in the copy first."""
    source = tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build",
                                                                  "dist", ".*_cache", ".hypothesis"))
    for name in added:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).touch()
    import setuptools

    assert int(setuptools.__version__.split(".")[0]) >= 77, "the test extra wants setuptools>=77: run scripts/setup"
    out = tmp_path / "wheel"
    code = "import sys\nfrom setuptools import build_meta\nprint(build_meta.build_wheel(sys.argv[1]))\n"
    done = subprocess.run([sys.executable, "-c", code, str(out)], cwd=source, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with zipfile.ZipFile(out / done.stdout.strip().splitlines()[-1]) as wheel:
        return {name for name in wheel.namelist() if ".dist-info/" not in name}


def _installed_as(folder: str, path: Path) -> str:
    """Where a file of keystores/ or cli/ lands in the wheel: cli/ installs as keystores.cli."""
    return f"{INSTALLED_AS[folder]}/{path.relative_to(ROOT / folder).as_posix()}"


INSTALLED_AS = {"keystores": "keystores", "cli": "keystores/cli"}


def test_the_wheel_holds_every_source_file_and_nothing_else(tmp_path: Path) -> None:
    """Every file of keystores/ and cli/ (modules, and package data should any appear) goes into the wheel, cli/ as
    keystores.cli; nothing from tests/, bench/ or fixtures/ does."""
    expected = {_installed_as(folder, path) for folder in INSTALLED_AS for path in (ROOT / folder).rglob("*")
                if path.is_file() and "__pycache__" not in path.parts}
    installed = _built_wheel(tmp_path)
    assert expected - installed == set(), "source files the wheel leaves out"
    assert installed - expected == set(), "files in the wheel that are not keystores' sources"
    assert {"keystores/backends/pkcs12/format.py", "keystores/cli/main.py"} <= installed


def test_a_new_backend_package_goes_into_the_wheel_with_no_edit(tmp_path: Path) -> None:
    """Packages are found, not listed (setup.py): a format's new package needs no edit of pyproject.toml."""
    new = ("keystores/backends/newformat/__init__.py", "keystores/backends/newformat/format.py")
    assert set(new) <= _built_wheel(tmp_path, new)
