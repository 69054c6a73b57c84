"""bench/bench_pem.py's PEM key floor (pem_key_floor): what listing a PEM file with an encrypted key costs whatever the
tool, counted by calls, never timed: the file's base64, the key's one derivation at the file's own parameters and its
AES-CBC through the interpreter's libcrypto, loading neither cryptography nor keystores; a wrong password fails it."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_pem  # noqa: E402
import harness  # noqa: E402

# What the floor's work calls, counted around it: PBKDF2 runs (with their counts), MD5 runs, modules loaded
COUNTED = ("import _hashlib, sys\npbkdf2, md5 = [], []\n"
           "real_pbkdf2, real_md5 = _hashlib.pbkdf2_hmac, _hashlib.openssl_md5\n"
           "_hashlib.pbkdf2_hmac = lambda *a: pbkdf2.append(a[3]) or real_pbkdf2(*a)\n"
           "_hashlib.openssl_md5 = lambda *a, **k: md5.append(1) or real_md5(*a, **k)\n"
           "{body}"
           "print(pbkdf2, len(md5), sorted(m for m in sys.modules if m.startswith(('cryptography', 'keystores', "
           "'_ctypes', 'ctypes', 'binascii')) and '.' not in m))\n")


def _files(folder: Path) -> dict[str, Path]:
    """An EC key with its certificate in the forms bench_pem lists: PKCS#8 under PBES2 (as openssl and keystores
    write it, at OpenSSL's 2,048 and at 100,000), OpenSSL's traditional DEK-Info form; and a key alone."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "floor")])
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(when).not_valid_after(when + dt.timedelta(days=30))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    plain = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    files = {}
    for iterations in (2048, 100_000):  # as `openssl genpkey -aes-256-cbc` writes it, at its count and another
        encrypted = subprocess.run(["openssl", "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", str(iterations),
                                    "-passout", "env:FLOOR_PW"], input=plain, capture_output=True, check=True,
                                   env={**os.environ, "FLOOR_PW": "floor-password"}).stdout
        files[f"pbes2-{iterations}"] = folder / f"pbes2-{iterations}.pem"
        files[f"pbes2-{iterations}"].write_bytes(encrypted + pem)
    files["traditional"] = folder / "traditional.pem"
    files["traditional"].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.BestAvailableEncryption(b"floor-password")) + pem)
    files["alone"] = folder / "alone.pem"
    files["alone"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.BestAvailableEncryption(b"floor-password")))
    return files


def _run(body: str, password: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", COUNTED.format(body=body)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "FLOOR_PW": password}, check=False)


@pytest.fixture
def floors() -> Iterator[None]:
    """The floors made here are left out of harness.FLOORS afterwards (test_bench_harness runs every floor there;
    these name files of this test's own)."""
    made = set(harness.FLOORS)
    yield
    for name in set(harness.FLOORS) - made:
        del harness.FLOORS[name], harness.FLOOR_WHAT[name]


def test_the_pem_key_floor_derives_once_at_the_files_count_and_decrypts_by_libcrypto(tmp_path: Path,
                                                                                     floors: None) -> None:
    for form, path in _files(tmp_path).items():
        name = bench_pem.pem_key_floor(path, "FLOOR_PW")
        assert name == f"PEM key floor ({path.name})" and "AES-CBC" in harness.FLOOR_WHAT[name]
        done = _run(harness.FLOORS[name], "floor-password", tmp_path)
        assert done.returncode == 0, (form, done.stderr)
        # PBES2: one PBKDF2 at the file's count; the traditional form: EVP_BytesToKey's two MD5 rounds (AES-256)
        derived = {"pbes2-2048": "[2048] 0", "pbes2-100000": "[100000] 0", "alone": None, "traditional": "[] 2"}[form]
        if derived is not None:
            assert done.stdout.startswith(derived + " "), (form, done.stdout)
        else:
            assert done.stdout.startswith("[") and done.stdout.split("]")[0].count(",") == 0, done.stdout
        assert done.stdout.rstrip().endswith("['_ctypes', 'binascii']"), (form, done.stdout)  # lean ctypes
        wrong = _run(harness.FLOORS[name], "wrong-password", tmp_path)
        assert wrong.returncode != 0 and "does not open the key" in wrong.stderr, (form, wrong.stdout)
