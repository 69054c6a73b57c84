"""List a 2,000-certificate NSS database made by certutil: `keystores list` against `certutil -L`.

The database (an empty password and "C,," trust on every certificate, as a browser profile's CA list looks) is
built once with certutil and cached in the temp folder; building it takes a minute or two.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import interleaved, row  # noqa: E402

COUNT = 2000


def build(folder: Path, count: int) -> None:
    """certutil -N, then certutil -A of `count` CA certificates with trust C,,."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{partial}", "--empty-password"], check=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    for i in range(count):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Bench CA {i:04d}"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keystores bench")])
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(i + 1).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        subprocess.run(["certutil", "-A", "-d", f"sql:{partial}", "-n", f"Bench CA {i:04d}", "-t", "C,,"],
                       input=cert.public_bytes(serialization.Encoding.DER), check=True)
    partial.rename(folder)


def database(count: int = COUNT) -> Path:
    folder = Path(tempfile.gettempdir()) / f"keystores-bench-nss-{count}"
    if not (folder / "cert9.db").exists():
        build(folder, count)
    return folder


def main(quick: bool) -> list[str]:
    if not shutil.which("certutil"):
        return ["| nss list 2,000 certs | skipped: certutil (libnss3-tools) not installed |"]
    folder = database()
    # `list` prints no trust, so it checks no MAC and decodes no certificate in full (NSS, too, checks a MAC when
    # its attribute is read). The other two jobs do all of that work: `list --json` shows every certificate and
    # trust; the library job reads every entry's trust (14,000 MACs), without the CLI's start-up and rendering.
    library = ("from keystores.store import open_store\n"
               f"entries = list(open_store('sql:{folder}').entries())\n"
               "print(len(entries), sum(e.trust is not None for e in entries))")
    jobs = {"keystores": [sys.executable, "-m", "keystores", "list", f"sql:{folder}"],
            "json": [sys.executable, "-m", "keystores", "list", f"sql:{folder}", "--json"],
            "library": [sys.executable, "-c", library],
            "certutil": ["certutil", "-L", "-d", f"sql:{folder}"]}
    times = interleaved(jobs, rounds=3 if quick else 7)
    return [row("nss list 2,000 certs", times["keystores"], times["certutil"], "certutil -L", goal=0.2),
            row("nss list --json 2,000 certs (all decoded, all trust MACs checked)", times["json"],
                times["certutil"], "certutil -L"),
            row("nss library: open + every entry's trust (14,000 MACs checked)", times["library"],
                times["certutil"], "certutil -L")]

if __name__ == "__main__":
    for line in main("--quick" in sys.argv):
        print(line)
