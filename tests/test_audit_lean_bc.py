"""Audit and validate of Bouncy Castle's BKS and BCFKS read certificates from the DER the backend holds, as
tests/test_audit_lean.py holds the other formats to: trusted certificates and key pairs' chains carry their DER
(backends/bks/entries.py, backends/bcfks/store.py), so the report is read without cryptography.x509, and it is the
report the decoded path gives (JSON, every rendered finding, at a pinned time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_audit_lean import (
    PASSWORD,
    _entry,
    _modules_after_audit,
    both_ways,
    fixture_chains,
    rendered,
    validate_both_ways,
)

from keystores.ops.chains import chains_from_der as _chains_from_der
from keystores.pki.certificates import decode_certificate
from keystores.store import open_store

NAMES = ["s.bks", "s.bcfks"]


@pytest.fixture(scope="module")
def bc_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audit-lean-bc")
    chains = fixture_chains()
    made = {}
    for name in NAMES:
        with open_store(folder / name, password=PASSWORD, create=True) as store:
            for label, kind, ders, key in chains:
                store.add(_entry(label, kind, tuple(decode_certificate(der) for der in ders), key))
        made[name] = folder / name
    return made


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("options", [{}, {"within": "400d"}, {"skip": ["weak-signature"], "fail_on": "notice"}])
def test_audit_of_bks_and_bcfks_reads_the_der_and_says_what_the_decoded_path_says(bc_stores: dict[str, Path],
                                                                                 name: str,
                                                                                 options: dict[str, Any]) -> None:
    from_der, decoded, lean = both_ways(bc_stores[name], PASSWORD, **options)
    assert lean
    assert rendered(from_der) == rendered(decoded)
    if not options:
        assert {f.check for f in decoded.findings} >= {"expired", "expiring", "weak-signature", "weak-key",
                                                       "same-cn", "missing-link"}


@pytest.mark.parametrize("name", NAMES)
def test_every_bks_and_bcfks_entry_holds_its_der(bc_stores: dict[str, Path], name: str) -> None:
    """Trusted certificates and key pairs alike: nothing makes audit take the decoded path."""
    with open_store(bc_stores[name], password=PASSWORD) as store:
        entries = list(store.entries())
        assert all(entry.undecoded_chain for entry in entries)
        chains = _chains_from_der(entries)
        assert chains is not None
        assert [len(chain) for chain in chains] == [len(ders) for _, _, ders, _ in fixture_chains()]


@pytest.mark.parametrize("name", NAMES)
def test_validate_of_bks_and_bcfks_reads_the_same_from_the_der(bc_stores: dict[str, Path], name: str) -> None:
    from_der, decoded = validate_both_ways(bc_stores[name], PASSWORD)
    assert from_der == decoded and len(from_der) >= 5


@pytest.mark.parametrize("name", NAMES)
def test_audit_and_validate_of_bks_and_bcfks_import_no_x509(bc_stores: dict[str, Path], name: str,
                                                            tmp_path: Path) -> None:
    for argv in (["audit", str(bc_stores[name])], ["audit", str(bc_stores[name]), "--json"],
                 ["validate", str(bc_stores[name]), "web"]):
        loaded = _modules_after_audit([*argv, "-p", "env:LEAN_PW"], tmp_path)
        assert f"keystores.ops.{argv[0]}" in loaded
        assert "cryptography.x509" not in loaded, argv
