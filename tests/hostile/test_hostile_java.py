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
