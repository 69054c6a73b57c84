"""What the writing commands load in a user's install (issue 15): changing a password, renaming, trusting or
converting on small stores decodes no certificate it carries (cryptography.x509 is ~30 ms of start-up), and writes
the same stores as before (each command's own tests check the contents; here the bytes that must be carried)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_store_lean import PASSWORD, _as_user, installed, stores  # noqa: F401 - fixtures

from keystores.store import open_store

NEW_PASSWORD = "lean-store-2"


def _copy(stores: dict[str, str], name: str, folder: Path) -> Path:  # noqa: F811
    source = Path(stores[name])
    for sibling in source.parent.glob(source.stem + ".*"):  # a .kdb's .sth, .rdb and .crl
        (folder / sibling.name).write_bytes(sibling.read_bytes())
    return folder / source.name


def _chains(location: Path, password: str) -> dict[str, tuple[bytes, ...]]:
    with open_store(location, password=password) as store:
        return {entry.label: entry.chain_der() for entry in store.entries()}


@pytest.mark.parametrize("name", ["s.kdb"])
def test_passwd_decodes_no_certificate(installed: str, stores: dict[str, str], name: str,  # noqa: F811
                                       tmp_path: Path) -> None:
    copy = _copy(stores, name, tmp_path)
    before = _chains(copy, PASSWORD)
    os.environ["LEAN_NEW_PW"] = NEW_PASSWORD
    try:
        modules, _ = _as_user(installed, ["passwd", str(copy), "--password", "env:LEAN_PW", "--new-password",
                                          "env:LEAN_NEW_PW"])
    finally:
        del os.environ["LEAN_NEW_PW"]
    assert "cryptography.x509" not in modules
    assert _chains(copy, NEW_PASSWORD) == before
