"""Importing 100 certificates onto a SoftHSM2 token: one `keystores import bundle.pem pkcs11:...` against 100
`pkcs11-tool --write-object` calls (the DER files made beforehand, which favours pkcs11-tool). Goal: <= 0.4x.

Each job makes a fresh token, imports, and deletes the token again, so every round starts from the same state
and the token folder does not grow; both jobs pay that same set-up.

SoftHSM's floors are measured in the same rounds, each by a minimal python-pkcs11 loop in one logged-in session
(templates built beforehand; only the PKCS#11 calls are timed), with keystores' certificate template:
- create: COUNT C_CreateObject of token objects, what pkcs11-tool does. SoftHSM's file store rewrites the new
  object's file once per attribute it sets by default (about 26 open/ftruncate/write per certificate), so this
  follows the disk: on a busy machine it is most of pkcs11-tool's time, and no tool creating objects so is faster.
- copy: COUNT C_CreateObject of a session object (memory only), C_CopyObject onto the token (one file write: the
  copy is one transaction) and C_DestroyObject of the session object: what keystores does on SoftHSM, and what no
  tool writing these objects through SoftHSM can beat. "keystores above it" is the median over rounds of
  keystores' wall time less this floor's: start-up, reading the PEM bundle, opening the token, our own work.
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

from harness import row, run_once, user_install

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
        ours = _script(folder, f'{" ".join(user_install().keystores)} import bundle.pem "pkcs11:token=$label" '
                               f'--dest-password file:{pin_file}')
        writes = "\n".join(
            f'pkcs11-tool --module {module} --token-label "$label" --login --pin "$(cat {pin_file})" '
            f"--write-object cert{i:03d}.der --type cert --label cert{i:03d} --id {i + 1:04x} >/dev/null 2>&1"
            for i in range(COUNT))
        jobs = {"keystores": ours, "pkcs11-tool": _script(folder, writes)}
        for way in FLOORS:
            jobs[f"floor-{way}"] = _script(folder, f'{sys.executable} {Path(__file__).resolve()} --floor {way} '
                                                   f'"$label" {pin_file} >"{folder}/floor-{way}.out"')
        wall, cpu, floors = _interleaved_with_cpu(jobs, 3 if quick else 7, {**os.environ, **env}, folder)
    native = f"{COUNT}x pkcs11-tool --write-object"
    theirs = statistics.median(wall["pkcs11-tool"])
    above = statistics.median(k - f for k, f in zip(wall["keystores"], floors["copy"], strict=True))
    return [row(f"import {COUNT} certificates onto a token (wall)", statistics.median(wall["keystores"]), theirs,
                native, goal=0.4),
            row(f"import {COUNT} certificates onto a token (CPU)", statistics.median(cpu["keystores"]),
                statistics.median(cpu["pkcs11-tool"]), native, goal=0.4),
            row(f"SoftHSM's floor for pkcs11-tool's way: {COUNT} C_CreateObject in one session",
                statistics.median(floors["create"]), theirs, native),
            row(f"SoftHSM's floor for keystores' way: {COUNT} session objects copied onto the token (keystores "
                f"above it: {above * 1000:.0f} ms)", statistics.median(floors["copy"]), theirs, native)]


FLOORS = ("create", "copy")


def _floor(way: str, label: str, pin_file: str) -> float:
    """Seconds of COUNT certificate objects written onto the token `way` (see the module docstring)."""
    import struct
    import time

    import pkcs11
    from asn1crypto import x509 as asn1
    from pkcs11 import Attribute, CertificateType, ObjectClass
    from pkcs11.attributes import AttributeMapper

    templates = []
    for i, path in enumerate(sorted(Path.cwd().glob("cert*.der"))):
        der = path.read_bytes()
        tbs = asn1.Certificate.load(der)["tbs_certificate"]
        templates.append({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: way == "create", Attribute.PRIVATE: False, Attribute.LABEL: f"cert{i:03d}",
            Attribute.ID: (i + 1).to_bytes(2, "big"), Attribute.SUBJECT: tbs["subject"].dump(),
            Attribute.ISSUER: tbs["issuer"].dump(), Attribute.SERIAL_NUMBER: tbs["serial_number"].dump(),
            Attribute.VALUE: der, Attribute.CERTIFICATE_CATEGORY: 2})
    mapper = AttributeMapper()  # python-pkcs11 does not know CKA_CERTIFICATE_CATEGORY
    ulong = struct.Struct("L")
    mapper.register_handler(Attribute.CERTIFICATE_CATEGORY, ulong.pack, lambda v: ulong.unpack(v)[0])
    token = pkcs11.lib(os.environ["KEYSTORES_PKCS11_MODULE"]).get_token(token_label=label)
    with token.open(rw=True, user_pin=Path(pin_file).read_text().strip(), attribute_mapper=mapper) as session:
        start = time.perf_counter()
        for template in templates:
            made = session.create_object(template)
            if way == "copy":
                made.copy({Attribute.TOKEN: True})
                made.destroy()
        return time.perf_counter() - start


def _interleaved_with_cpu(jobs: dict[str, list[str]], rounds: int, env: dict[str, str], folder: Path
                          ) -> tuple[dict[str, list[float]], dict[str, list[float]], dict[str, list[float]]]:
    """harness.interleaved, also taking each run's CPU seconds (user + sys of the children): on a loaded
    machine the scheduler favours 100 short processes over one long one, so wall time alone misleads. Per job,
    the seconds of each round after the first (which warms caches); the floor jobs' own figures by way."""
    wall: dict[str, list[float]] = {name: [] for name in jobs}
    cpu: dict[str, list[float]] = {name: [] for name in jobs}
    floors: dict[str, list[float]] = {way: [] for way in FLOORS}
    for i in range(rounds + 1):
        for name, argv in jobs.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            elapsed = run_once(argv, env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if i:
                wall[name].append(elapsed)
                cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
                if name.startswith("floor-"):
                    floors[name.removeprefix("floor-")].append(float((folder / f"{name}.out").read_text()))
    return wall, cpu, floors


if __name__ == "__main__":
    if sys.argv[1:2] == ["--floor"]:  # one floor measurement, run by a floor job: seconds on stdout
        print(_floor(*sys.argv[2:5]))
    else:
        for line in main(quick="--quick" in sys.argv):
            print(line)
