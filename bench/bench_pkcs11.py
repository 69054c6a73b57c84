"""Importing 100 certificates onto a SoftHSM2 token: one `keystores import bundle.pem pkcs11:...` against 100
`pkcs11-tool --write-object` calls (the DER files made beforehand, which favours pkcs11-tool). Goal: <= 0.5x.

Each job makes a fresh token, imports, and deletes the token again, so every round starts from the same state
and the token folder does not grow; both jobs pay that same set-up.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import row, run_once

ROOT = Path(__file__).resolve().parents[1]
COUNT = 100


def _make_certificates(folder: Path) -> Path:
    """COUNT self-signed EC certificates as one PEM bundle and as numbered DER files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    bundle = b""
    for i in range(COUNT):
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bench CA {i:03d}")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now)
                .not_valid_after(now + dt.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        bundle += cert.public_bytes(serialization.Encoding.PEM)
        (folder / f"cert{i:03d}.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    (folder / "bundle.pem").write_bytes(bundle)
    return folder / "bundle.pem"


def _script(folder: Path, body: str) -> list[str]:
    pin = (folder / "hsm" / "pin").read_text().strip()
    so_pin = (folder / "hsm" / "so-pin").read_text().strip()
    text = f"""set -e
label="bench-$$-$RANDOM"
softhsm2-util --init-token --free --label "$label" --pin {pin} --so-pin {so_pin} >/dev/null
trap 'softhsm2-util --delete-token --token "$label" >/dev/null' EXIT
cd {folder}
{body}
"""
    return ["bash", "-c", text]


def main(quick: bool) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-pkcs11-") as tmp:
        folder = Path(tmp)
        done = subprocess.run([str(ROOT / "softhsm" / "mktoken"), "--dir", str(folder / "hsm"), "--label", "base"],
                              capture_output=True, text=True, check=True)
        env = {k: v.strip("'") for k, _, v in (line[7:].partition("=") for line in done.stdout.splitlines()
                                               if line.startswith("export "))}
        module = env["KEYSTORES_PKCS11_MODULE"]
        _make_certificates(folder)
        pin_file = folder / "hsm" / "pin"
        ours = _script(folder, f'{sys.executable} -m keystores import bundle.pem "pkcs11:token=$label" '
                               f'--dest-password file:{pin_file}')
        writes = "\n".join(
            f'pkcs11-tool --module {module} --token-label "$label" --login --pin "$(cat {pin_file})" '
            f"--write-object cert{i:03d}.der --type cert --label cert{i:03d} --id {i + 1:04x} >/dev/null 2>&1"
            for i in range(COUNT))
        theirs = _script(folder, writes)
        times, cpu = _interleaved_with_cpu({"keystores": ours, "pkcs11-tool": theirs}, 3 if quick else 7,
                                           {**os.environ, **env})
    return [row(f"import {COUNT} certificates onto a token (wall)", times["keystores"], times["pkcs11-tool"],
                f"{COUNT}x pkcs11-tool --write-object", goal=0.5),
            row(f"import {COUNT} certificates onto a token (CPU)", cpu["keystores"], cpu["pkcs11-tool"],
                f"{COUNT}x pkcs11-tool --write-object", goal=0.5)]


def _interleaved_with_cpu(jobs: dict[str, list[str]], rounds: int,
                          env: dict[str, str]) -> tuple[dict[str, float], dict[str, float]]:
    """harness.interleaved, also taking each run's CPU seconds (user + sys of the children): on a loaded
    machine the scheduler favours 100 short processes over one long one, so wall time alone misleads."""
    wall: dict[str, list[float]] = {name: [] for name in jobs}
    cpu: dict[str, list[float]] = {name: [] for name in jobs}
    for i in range(rounds + 1):
        for name, argv in jobs.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            elapsed = run_once(argv, env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i:  # the first round warms caches
                wall[name].append(elapsed)
                cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return ({n: statistics.median(v) for n, v in wall.items()}, {n: statistics.median(v) for n, v in cpu.items()})

if __name__ == "__main__":
    for line in main(quick="--quick" in sys.argv):
        print(line)
