"""What the native tools write, keystores reads: every store fixtures/make.py makes, with its labels and kinds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from keystores.store import open_store

ROOT = Path(__file__).resolve().parents[1]
PW = "fixture-pw-1"


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("fixtures")
    done = subprocess.run([sys.executable, str(ROOT / "fixtures" / "make.py"), str(out)], capture_output=True,
                          text=True, env={**os.environ, "FIXTURE_PW": PW}, check=False)
    assert done.returncode == 0, done.stderr
    return out, json.loads((out / "MANIFEST.json").read_text())


def test_native_store_read_whole(fixtures, subtests):
    """Every store the manifest names (a format's fixture is its section of fixtures/make.py, nothing to list here),
    each its own subtest; a folder (an NSS database) is detected as such."""
    out, manifest = fixtures
    assert manifest
    for name, facts in manifest.items():
        with subtests.test(store=name):
            if "skipped" in facts:
                pytest.skip(f"{name}: {facts['skipped']}")
            with open_store(str(out / name), password=PW) as store:
                kinds = {e.label.lower(): str(e.kind) for e in store.entries()}
            assert kinds == {label.lower(): kind for label, kind in facts["kinds"].items()}
