"""Core jobs not covered by the per-format benches, with peak memory:

- convert a 2,000-entry JKS (1,990 trusted certificates + 10 EC keys) to PKCS#12: `keystores convert` against
  `keytool -importkeystore`, the everyday Java migration;
- CLI start-up: `keystores version` against a bare `python -c pass` (the floor any Python CLI pays), which is where
  lazy imports show.

(List of a small PKCS#12 and of 2,000-entry JKS stores against keytool are bench_pkcs12.py and bench_java.py.)
Rows carry six cells: job | keystores median | native median | ratio | peak RSS (ours / native) | goal; time and
peak memory come from the same interleaved runs (wait4), so memory costs no extra runs.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

COUNT = 2000
KEYS = 10
PASSWORD = "bench-core-pass"
ENV = {"BENCH_CORE_PW": PASSWORD}


def _make_jks(path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.store import open_store

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench core CA")])

    def issue(i: int, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bench core {i:04d}")])
        return (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name).public_key(key.public_key())
                .serial_number(1000 + i).not_valid_before(now).not_valid_after(now + dt.timedelta(days=90))
                .sign(ca_key, hashes.SHA256()))

    with open_store(path, password=PASSWORD, create=True) as store:
        for i in range(COUNT - KEYS):
            store.add(Entry(label=f"trusted {i:04d}", kind=EntryKind.TRUSTED_CERT, chain=(issue(i, leaf_key),),
                            trust=TRUST_ALL))
        for i in range(KEYS):
            key = ec.generate_private_key(ec.SECP256R1())
            store.add(Entry(label=f"key {i:04d}", kind=EntryKind.KEY_PAIR, chain=(issue(COUNT + i, key),), key=key))


GNU_TIME = "/usr/bin/time"


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one run of argv, output discarded; raises when it fails.

    The peak comes from GNU time, a small process, when present: a child forked from this (big) interpreter
    inherits its resident pages until exec, and Linux keeps that high-water mark across exec, so wait4's ru_maxrss
    would report the benchmark's own size rather than the command's.
    """
    with tempfile.NamedTemporaryFile(prefix="bench-rss-") as report:
        wrapped = [GNU_TIME, "-f", "%M", "-o", report.name, *argv] if os.access(GNU_TIME, os.X_OK) else argv
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execvpe(wrapped[0], wrapped, env)
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"{' '.join(argv[:4])} ... failed (status {status})")
        text = Path(report.name).read_text().strip().splitlines()
        kib = int(text[-1]) if wrapped is not argv and text and text[-1].isdigit() else usage.ru_maxrss
    return elapsed, kib / 1024


def measure(jobs: dict[str, list[str]], rounds: int, env: dict[str, str], *, warmup: int,
            before: dict[str, Path] | None = None) -> dict[str, tuple[float, float]]:
    """Interleaved like harness.interleaved, but one run gives both time and memory: name -> (median s, peak MiB).
    `before[name]` is a file removed before each run of that job (convert refuses to overwrite)."""
    times: dict[str, list[float]] = {name: [] for name in jobs}
    peaks: dict[str, float] = dict.fromkeys(jobs, 0.0)
    for i in range(warmup + rounds):
        for name, argv in jobs.items():
            if before and name in before:
                before[name].unlink(missing_ok=True)
            elapsed, rss = run_measured(argv, env)
            if i >= warmup:
                times[name].append(elapsed)
                peaks[name] = max(peaks[name], rss)
    return {name: (statistics.median(times[name]), peaks[name]) for name in jobs}


def row6(job: str, ours: tuple[float, float], theirs: tuple[float, float], native: str,
         goal: float | None = None) -> str:
    ratio = ours[0] / theirs[0] if theirs[0] else float("nan")
    verdict = "" if goal is None else (f"<= {goal}x ok" if ratio <= goal else f"<= {goal}x MISSED")
    return (f"| {job} | {ours[0] * 1000:.0f} ms | {native} {theirs[0] * 1000:.0f} ms | {ratio:.2f}x | "
            f"{ours[1]:.0f} / {theirs[1]:.0f} MiB | {verdict} |")


def main(quick: bool) -> list[str]:
    env = {**os.environ, **ENV}
    ours = [sys.executable, "-m", "keystores"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-core-") as tmp:
        folder = Path(tmp)
        src = folder / "src2000.jks"
        _make_jks(src)
        outputs = {"keystores": folder / "ks.p12", "keytool": folder / "kt.p12"}
        convert = {
            "keystores": [*ours, "convert", str(src), str(outputs["keystores"]), "--password", "env:BENCH_CORE_PW",
                          "--dest-password", "env:BENCH_CORE_PW"],
            "keytool": ["keytool", "-importkeystore", "-noprompt", "-srckeystore", str(src), "-srcstoretype", "JKS",
                        "-srcstorepass:env", "BENCH_CORE_PW", "-destkeystore", str(outputs["keytool"]),
                        "-deststoretype", "PKCS12", "-deststorepass:env", "BENCH_CORE_PW"],
        }
        # quick (CI): two rounds of the 2,000-entry convert, no warm-up; full: a warm-up and seven rounds
        got = measure(convert, 2 if quick else 7, env, warmup=0 if quick else 1, before=outputs)
        rows.append(row6(f"convert {COUNT}-entry JKS -> PKCS#12", got["keystores"], got["keytool"],
                         "keytool -importkeystore"))
        startup = {"keystores": [*ours, "version"], "python": [sys.executable, "-c", "pass"]}
        got = measure(startup, 5 if quick else 15, env, warmup=1)
        rows.append(row6("CLI start-up (keystores version)", got["keystores"], got["python"],
                         "bare python -c pass"))
    return rows


if __name__ == "__main__":
    print("\n".join(main(quick="--quick" in sys.argv)))
