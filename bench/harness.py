"""Interleaved timing of keystores against a native tool: ratios, not absolute times.

Each round runs every command once, in turn, so machine noise falls on all of them alike.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence


def run_once(argv: Sequence[str], env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> float:
    return run_timed(argv, env, stdin)[0]


def run_timed(argv: Sequence[str], env: Mapping[str, str] | None = None,
              stdin: bytes | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + sys of the command and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, env={**os.environ, **(env or {})}, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[:300]}")
    return elapsed, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def interleaved(jobs: Mapping[str, Sequence[str]], rounds: int = 7, *, env: Mapping[str, str] | None = None,
                warmup: int = 1) -> dict[str, float]:
    """Median seconds per job name."""
    return {name: wall for name, (wall, _) in interleaved_cpu(jobs, rounds, env=env, warmup=warmup).items()}


def interleaved_cpu(jobs: Mapping[str, Sequence[str]], rounds: int = 7, *, env: Mapping[str, str] | None = None,
                    warmup: int = 1) -> dict[str, tuple[float, float]]:
    """(median wall seconds, median CPU seconds) per job name, from the same runs."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}
    for i in range(warmup + rounds):
        for name, argv in jobs.items():
            measured = run_timed(argv, env)
            if i >= warmup:
                times[name].append(measured)
    return {name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
            for name, values in times.items()}


def row(job: str, ours: float, theirs: float, native: str, goal: float | None = None, *,
        cpu: tuple[float, float] | None = None) -> str:
    """A table row; `cpu` (ours, theirs) puts the CPU ratio beside the job's name, as bench_core's rows have it."""
    ratio = ours / theirs if theirs else float("nan")
    if cpu is not None and cpu[1]:
        job = f"{job} (CPU {cpu[0] / cpu[1]:.2f}x)"
    verdict = "" if goal is None else ("  ok" if ratio <= goal else f"  MISSES goal {goal}x")
    return f"| {job} | {ours * 1000:.0f} ms | {native} {theirs * 1000:.0f} ms | {ratio:.2f}x |{verdict}"

