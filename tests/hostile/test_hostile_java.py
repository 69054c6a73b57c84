"""Hostile JKS/JCEKS files end quickly with a one-line error, under a memory limit."""

from __future__ import annotations

from pathlib import Path

import generators
import pytest
from bounded import assert_clean_refusal, run


@pytest.mark.parametrize("make", [generators.jceks_self_superclass, generators.jceks_superclass_loop])
def test_jceks_class_hierarchy_loop_is_refused(tmp_path: Path, make) -> None:
    store = tmp_path / "loop.jceks"
    store.write_bytes(make())
    assert_clean_refusal(run("list", str(store)), "loop.jceks", "superclass")


def test_jceks_key_iterations_above_the_ceiling(tmp_path: Path) -> None:
    store = tmp_path / "slow.jceks"
    store.write_bytes(generators.jceks_key_iterations())
    assert run("list", str(store)).code == 0  # listing never opens the key
    outcome = run("convert", str(store), str(tmp_path / "out.p12"), "--dest-password", "env:HOSTILE_PW")
    assert_clean_refusal(outcome, "slow.jceks", "iteration count 2147483647")
    assert not (tmp_path / "out.p12").exists()


def test_jks_repeated_alias_gives_one_note(tmp_path: Path) -> None:
    store = tmp_path / "same.jks"
    store.write_bytes(generators.jks_same_alias(5000))
    outcome = run("list", str(store))
    assert outcome.code == 0, outcome.err
    assert outcome.out.startswith("same\ttrusted-cert\t") and len(outcome.out.splitlines()) == 1
    assert [line for line in outcome.err.splitlines() if "more than once" in line] == [
        f"keystores: {store}: alias(es) 'same' appear more than once; the later entry wins, as in keytool"]
