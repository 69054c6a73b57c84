"""Which packages the wheel holds, found rather than listed: a format's new package (keystores/backends/<format>/)
installs with no edit here or in pyproject.toml, where everything else about the build is declared.

cli/ lives at the top, as the design card asks, but installs as keystores.cli, never as a bare `cli`; tests/,
bench/ and fixtures/ are never installed. pyproject.toml alone cannot say this: setuptools' `packages.find` names a
package after its folder, so it would install cli/ as `cli`. tests/test_install.py builds a wheel and checks both.
"""

from setuptools import find_packages, setup

setup(
    package_dir={"keystores": "keystores", "keystores.cli": "cli"},
    packages=[*find_packages(include=["keystores", "keystores.*"]),
              *(f"keystores.{name}" for name in find_packages(include=["cli", "cli.*"]))],
)
