"""`pip install keystores` gives a working HSM backend; the GPL PyKCS11 stays an optional extra (issue 12)."""

import tomllib
from pathlib import Path

PYPROJECT = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())


def _names(requirements: list[str]) -> set[str]:
    return {req.split(";")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower() for req in requirements}


def test_python_pkcs11_is_a_core_dependency() -> None:
    assert "python-pkcs11" in _names(PYPROJECT["project"]["dependencies"])


def test_old_extras_still_resolve_and_pykcs11_stays_optional() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert "all" in extras and "pkcs11" in extras  # old install lines (`keystores[all]`) keep working
    assert "pykcs11" in _names(extras["admin"])
    assert "pykcs11" not in _names(PYPROJECT["project"]["dependencies"])


def test_every_package_goes_into_the_wheel() -> None:
    """setuptools installs the packages pyproject lists, no others: a format's new package must be listed there."""
    root = Path(__file__).parent.parent
    on_disk = {".".join(init.parent.relative_to(root).parts) for init in (root / "keystores").rglob("__init__.py")}
    assert on_disk - set(PYPROJECT["tool"]["setuptools"]["packages"]) == set()
