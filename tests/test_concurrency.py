"""Concurrency: many processes importing into one store at once lose no entry, for every file format, and a
reader looping meanwhile never sees a half-written store (it opens whole, with the old entries and some of the new).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hardening import (
    FILE_FORMATS,
    PASSWORD,
    base_entries,
    bulk_certificates,
    bulk_entries,
    folder_of,
    labels_of,
    location,
    make_store,
    temp_files,
    usable,
)

from keystores.fileio import folder_lock

WRITERS = 5
# A bigger store makes every rewrite longer, so the reader has a real chance to catch one half-way (NSS is slow
# per entry).
PREFILL = {"nss": 0}
PREFILL_DEFAULT = 30


@pytest.fixture(scope="module")
def pem_sources(tmp_path_factory) -> list[Path]:
    """One PEM certificate per writer."""
    folder = tmp_path_factory.mktemp("conc-src")
    paths = []
    for i, cert in enumerate(bulk_certificates(WRITERS, "concurrent")):
        path = folder / f"w{i}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        paths.append(path)
    return paths


def _import(src: Path, dest: str, label: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "keystores", "import", str(src), dest, "--label", label,
                             "--dest-password", "env:KS_PW"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "KS_PW": PASSWORD, "NO_COLOR": "1"})


def _has_open(pid: int, folder: Path) -> bool:
    """True when process `pid` holds a file descriptor on `folder` itself (fileio.folder_lock opens it)."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.readlink(fd) == str(folder) for fd in fds.iterdir())
    except OSError:  # the process or one of its fds went away while we looked
        return False


def _read_loop(dest: str, stop: threading.Event, seen: list[set[str]], problems: list[str]) -> None:
    while not stop.is_set():
        try:
            seen.append(labels_of(dest))
        except Exception as exc:  # any failure to open whole is what this test exists to find
            problems.append(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_parallel_imports_lose_nothing_and_readers_see_whole_stores(fmt, tmp_path, pem_sources):
    usable(fmt)
    dest = location(fmt, tmp_path)
    make_store(fmt, dest, base_entries() + bulk_entries(PREFILL.get(fmt, PREFILL_DEFAULT), "prefill"))
    before = labels_of(dest)
    wanted = {f"writer-{i}" for i in range(WRITERS)}

    stop = threading.Event()
    seen: list[set[str]] = []
    problems: list[str] = []
    reader = threading.Thread(target=_read_loop, args=(dest, stop, seen, problems), daemon=True)
    reader.start()
    procs = [_import(src, dest, f"writer-{i}") for i, src in enumerate(pem_sources)]
    try:
        results = [(p.wait(timeout=240), p.stderr.read() if p.stderr else "") for p in procs]
    finally:
        stop.set()
        reader.join(timeout=120)
    assert [code for code, _ in results] == [0] * WRITERS, results
    after = labels_of(dest)
    assert after == before | wanted
    assert problems == []
    assert seen, "the reader never completed a read"
    for labels in seen:
        assert before <= labels <= after
    assert temp_files(folder_of(dest)) == []


@pytest.mark.parametrize("fmt", [f if f == "pkcs12" else pytest.param(f, marks=pytest.mark.slow)
                                 for f in FILE_FORMATS if f != "nss"])  # the race was in the shared core
def test_parallel_imports_into_a_store_that_does_not_exist_yet(fmt, tmp_path, pem_sources):
    """`import` into a missing DEST creates it; several at once must still all land."""
    usable(fmt)
    dest = location(fmt, tmp_path)
    # Hold the folder lock until every writer waits on it (it has the folder open: it decided "create" already),
    # so the race is made certain rather than hoped for; then they run one after the other.
    with folder_lock(tmp_path / "x"):
        procs = [_import(src, dest, f"writer-{i}") for i, src in enumerate(pem_sources)]
        deadline = time.monotonic() + 120
        while not all(_has_open(p.pid, tmp_path) for p in procs):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "writers never queued"
            time.sleep(0.05)
    results = [(p.wait(timeout=240), p.stderr.read() if p.stderr else "") for p in procs]
    assert [code for code, _ in results] == [0] * WRITERS, results
    assert labels_of(dest) == {f"writer-{i}" for i in range(WRITERS)}
