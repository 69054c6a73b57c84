"""Key derivation parameters no real tool writes end at once with a one-line error naming the parameter."""

from __future__ import annotations

from pathlib import Path

import generators
import pytest
from bounded import assert_clean_refusal, run

FILE_CASES = [  # (generator, file name, the parameter the error names)
    (generators.p12_key_pbkdf2_iterations, "hostile.p12", "iteration count"),
    (generators.p12_key_pbkdf2_key_length, "hostile.p12", "key length"),
    (generators.p12_certs_kdf_iterations, "hostile.p12", "iteration count"),
    (generators.p12_mac_iterations, "hostile.p12", "iteration count"),
    (generators.p12_pbmac1_at_old_maxima, "hostile.p12", "iteration count"),
    (generators.p12_pbmac1_key_length, "hostile.p12", "key length"),
    (generators.p12_many_parts_at_ceiling, "hostile.p12", "iteration-blocks"),
    (generators.pem_key_iterations, "hostile.pem", "iteration count"),
    (generators.pem_scrypt_cost, "hostile.pem", "scrypt cost"),
    (generators.pem_many_keys_at_ceiling, "hostile.pem", "iteration-blocks"),
]


@pytest.mark.parametrize(("make", "name", "parameter"), FILE_CASES, ids=[c[0].__name__ for c in FILE_CASES])
def test_kdf_ceilings(tmp_path: Path, make, name: str, parameter: str) -> None:
    store = tmp_path / name
    store.write_bytes(make())
    assert_clean_refusal(run("list", str(store)), name, parameter)


def test_pkcs12_wrong_password_decrypts_one_part_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a failed MAC, telling damage from a wrong password costs one decryption, not one per part."""
    from keystores import open_store
    from keystores.crypto import pbe
    from keystores.errors import WrongPassword

    store = tmp_path / "three.p12"
    store.write_bytes(generators._pfx([generators._encrypted_part(generators._pbes2(2048)) for _ in range(3)]))
    calls = []
    real = pbe.decrypt_with
    monkeypatch.setattr(pbe, "decrypt_with", lambda *a, **k: calls.append(1) or real(*a, **k))
    with pytest.raises(WrongPassword):
        open_store(str(store), password="not the password")
    assert len(calls) == 1


def test_cms_key_is_decrypted_only_when_needed_and_within_the_ceiling(tmp_path: Path) -> None:
    kdb, sth = generators.cms_key_iterations()
    (tmp_path / "key.kdb").write_bytes(kdb)
    (tmp_path / "key.sth").write_bytes(sth)
    listed = run("list", str(tmp_path / "key.kdb"), password=None)  # the stash opens it; no key is decrypted
    assert listed.code == 0 and "k\tkey-pair" in listed.out, listed.err
    outcome = run("convert", str(tmp_path / "key.kdb"), str(tmp_path / "out.p12"), "--dest-password",
                  "env:HOSTILE_PW", password=None)
    assert_clean_refusal(outcome, "key.kdb", "entry 'k'", "iteration count")
    assert not (tmp_path / "out.p12").exists()


NSS_CASES = [
    (generators.nss_legacy_password_check, "iteration count 2147483647"),
    (generators.nss_password_check_key_length, "key length 16777216"),
    (generators.nss_trust_mac_iterations, "iteration count 6000000"),  # trust is read by list --json
]


@pytest.mark.parametrize(("make", "parameter"), NSS_CASES, ids=[c[0].__name__ for c in NSS_CASES])
def test_nss_kdf_ceilings(tmp_path: Path, make, parameter: str) -> None:
    folder = tmp_path / "nssdb"
    folder.mkdir()
    make(folder)
    assert_clean_refusal(run("list", "--json", f"sql:{folder}"), str(folder), parameter)



def test_pkcs12_key_above_the_ceiling_is_listed_and_refused_by_name_when_used(tmp_path: Path) -> None:
    store = tmp_path / "lazy.p12"
    store.write_bytes(generators.p12_lazy_key_iterations())
    listed = run("list", str(store))
    assert listed.code == 0 and "slow\tkey-pair" in listed.out, listed.err
    outcome = run("convert", str(store), str(tmp_path / "out.jks"), "--dest-password", "env:HOSTILE_PW")
    assert_clean_refusal(outcome, "lazy.p12", "entry 'slow'", "iteration count 1099511627776")
    assert not (tmp_path / "out.jks").exists()


def test_pkcs12_with_a_high_but_allowed_iteration_count_opens_with_a_note(tmp_path: Path) -> None:
    store = tmp_path / "slow.p12"
    store.write_bytes(generators.p12_suspicious_iterations())
    outcome = run("list", str(store))
    assert outcome.code == 0, outcome.err
    assert "1,500,000 iterations" in outcome.err and "suspicious" in outcome.err


def test_nss_budget_counts_only_derivations_above_nss_own_iteration_count() -> None:
    """A database NSS wrote (10,000 iterations everywhere) never runs out however many MACs it holds; one asking
    for more is refused once its total passes the budget, before the derivation that would pass it."""
    from keystores.backends.nss import crypto as nc
    from keystores.backends.nss import macs as nm
    from keystores.limits import KdfBudget, LimitExceeded

    budget = KdfBudget(limit=30_000)
    checker = nm.MacChecker(b"k" * 20, budget)
    for salt in range(100):
        checker.derive("sha256", bytes([salt]) * 32, nc.DEFAULT_ITERATIONS, 32)
    assert budget.spent == 0
    checker.derive("sha256", b"t" * 32, 20_000, 32)
    assert budget.spent == 20_000
    with pytest.raises(LimitExceeded, match="iteration-blocks"):
        checker.derive("sha256", b"u" * 32, 20_000, 32)
    assert budget.spent == 20_000
