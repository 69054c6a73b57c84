"""Interleaved timing of keystores against a native tool: ratios, not absolute times.

Each round runs every command once, in turn, so machine noise falls on all of them alike.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence


def run_once(argv: Sequence[str], env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, env={**os.environ, **(env or {})}, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[:300]}")
    return elapsed


def interleaved(jobs: Mapping[str, Sequence[str]], rounds: int = 7, *, env: Mapping[str, str] | None = None,
                warmup: int = 1) -> dict[str, float]:
    """Median seconds per job name."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for i in range(warmup + rounds):
        for name, argv in jobs.items():
            elapsed = run_once(argv, env)
            if i >= warmup:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


def row(job: str, ours: float, theirs: float, native: str, goal: float | None = None) -> str:
    ratio = ours / theirs if theirs else float("nan")
    verdict = "" if goal is None else ("  ok" if ratio <= goal else f"  MISSES goal {goal}x")
    return f"| {job} | {ours * 1000:.0f} ms | {native} {theirs * 1000:.0f} ms | {ratio:.2f}x |{verdict}"

