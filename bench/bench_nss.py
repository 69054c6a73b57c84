"""NSS databases against NSS's own tools: reading (`keystores list` vs `certutil -L` on a 2,000-certificate
database) and writing into a password-protected database (`keystores import` vs `pk12util -i` of the same PKCS#12
file: 2,000 certificates, and 200 RSA key pairs; goals <= 0.5x, issue 15).

The list database (an empty password and "C,," trust on every certificate, as a browser profile's CA list looks) is
built once with certutil and cached in the temp folder; building it takes a minute or two. The import inputs (a
PKCS#12 of 2,000 CA certificates, one of 200 RSA key pairs, and the certificates as a PEM bundle) are cached there
too. Each import round writes into a new database: pk12util's, made by `certutil -N` with the password, untimed;
ours is made by the import itself.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import interleaved, row, run_once  # noqa: E402

COUNT = 2000
KEYS = 200
TRUSTED = 100  # trusted CA certificates from PEM: 7 MACs each, as `certutil -A -t` writes them
WRITE_ENV = {"BENCH_NSS_PW": "bench-nss-password", "BENCH_P12_PW": "bench-p12-password"}


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


def import_inputs() -> Path:
    """certs.p12 (COUNT CA certificates, no keys), certs.pem (the first TRUSTED of them) and keys.p12 (KEYS RSA-2048
    key pairs with their certificates), made once and cached; both PKCS#12 files under BENCH_P12_PW."""
    folder = Path(tempfile.gettempdir()) / f"keystores-bench-nss-import-{COUNT}-{KEYS}"
    if (folder / "keys.p12").exists():
        return folder
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    from keystores.model import Entry, EntryKind
    from keystores.store import open_store

    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    now = dt.datetime.now(dt.UTC)

    def certificate(subject: str, serial: int, public_key: object, signer: object, ca: bool) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keystores bench")])
        return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public_key)  # type: ignore[arg-type]
                .serial_number(serial).not_valid_before(now - dt.timedelta(days=1))
                .not_valid_after(now + dt.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
                .sign(signer, hashes.SHA256()))  # type: ignore[arg-type]

    ca_key = ec.generate_private_key(ec.SECP256R1())
    cas = [certificate(f"Import CA {i:04d}", i + 1, ca_key.public_key(), ca_key, True) for i in range(COUNT)]
    password = WRITE_ENV["BENCH_P12_PW"]
    bags = [pkcs12.PKCS12Certificate(cert, f"Import CA {i:04d}".encode()) for i, cert in enumerate(cas)]
    (partial / "certs.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        None, None, None, bags, serialization.BestAvailableEncryption(password.encode())))
    (partial / "certs.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in cas[:TRUSTED]))
    for i, cert in enumerate(cas[:TRUSTED]):
        (partial / f"trusted-{i:04d}.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    with open_store(partial / "keys.p12", password=password, create=True) as store:
        for i in range(KEYS):
            key = rsa.generate_private_key(65537, 2048)
            cert = certificate(f"Import server {i:03d}", 10_000 + i, key.public_key(), key, False)
            store.add(Entry(f"server {i:03d}", EntryKind.KEY_PAIR, chain=(cert,), key=key))
    partial.rename(folder)
    return folder


def _imports(inputs: Path, work: Path, rounds: int, *, trusted: bool) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU (user + sys) seconds of each import job, interleaved; every job writes into a database of
    its own each round. Wall time is the goal's measure: pk12util derives one key after another, keystores on every
    core. CPU time, which a busy machine disturbs less (pk12util's commit per object waits on the disk), shows the
    work itself: the same derivations (17 per key pair), cheaper each."""
    import resource
    import statistics

    env = {**os.environ, **WRITE_ENV}
    pwfile = work / "nss-password"
    pwfile.write_text(WRITE_ENV["BENCH_NSS_PW"] + "\n")
    p12file = work / "p12-password"
    p12file.write_text(WRITE_ENV["BENCH_P12_PW"] + "\n")
    ours = [sys.executable, "-m", "keystores", "import"]
    jobs: dict[str, tuple[str, list[str]]] = {}  # name -> (native or ours, argv with {db} for the new database)
    for name, source in (("certs", "certs.p12"), ("keys", "keys.p12")):
        jobs[f"{name} ours"] = ("ours", [*ours, str(inputs / source), "sql:{db}", "-p", "env:BENCH_P12_PW",
                                         "--dest-password", "env:BENCH_NSS_PW", "--dest-type", "nss"])
        jobs[f"{name} pk12util"] = ("native", ["pk12util", "-i", str(inputs / source), "-d", "sql:{db}",
                                               "-k", str(pwfile), "-w", str(p12file)])
    if trusted:  # the native way to write trusted CAs: certutil -A -t once per certificate
        jobs["trusted ours"] = ("ours", [*ours, str(inputs / "certs.pem"), "sql:{db}", "--dest-password",
                                         "env:BENCH_NSS_PW", "--dest-type", "nss"])
        loop = (f'for f in "{inputs}"/trusted-*.der; do certutil -A -d "sql:$0" -f "{pwfile}" -t CT,C,C '
                '-n "$(basename "$f" .der)" -i "$f" || exit 1; done')
        jobs["trusted certutil"] = ("native", ["sh", "-c", loop, "{db}"])
    times: dict[str, list[float]] = {name: [] for name in jobs}
    cpu: dict[str, list[float]] = {name: [] for name in jobs}
    for number in range(rounds):
        for name, (side, argv) in jobs.items():
            db = work / f"{name.replace(' ', '-')}-{number}"
            if side == "native":
                db.mkdir()
                subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "-f", str(pwfile)], check=True,
                               capture_output=True)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            times[name].append(run_once([a.replace("{db}", str(db)) for a in argv], env))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if number == 0:
                listed = subprocess.run(["certutil", "-L", "-d", f"sql:{db}"], check=True, capture_output=True)
                expected = {"certs": COUNT, "keys": KEYS, "trusted": TRUSTED}[name.split()[0]]
                found = listed.stdout.count(b"\n") - 4  # four lines of heading
                if found != expected:
                    raise RuntimeError(f"{name}: certutil -L lists {found} certificates, not {expected}")
            shutil.rmtree(db)
    return ({name: statistics.median(values) for name, values in times.items()},
            {name: statistics.median(values) for name, values in cpu.items()})


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
    inputs = import_inputs()
    with tempfile.TemporaryDirectory(prefix="keystores-bench-nss-") as work:
        # --quick: one round; pk12util alone takes a minute or more here (a commit per object).
        written, cpu = _imports(inputs, Path(work), rounds=1 if quick else 5, trusted=not quick)
    return [row(f"nss import {COUNT:,} certs from PKCS#12 into a password-protected database", written["certs ours"],
                written["certs pk12util"], "pk12util -i", goal=0.5),
            row(f"nss import {KEYS} RSA key pairs from PKCS#12 into a password-protected database",
                written["keys ours"], written["keys pk12util"], "pk12util -i", goal=0.5),
            row(f"nss import {KEYS} RSA key pairs from PKCS#12 into a password-protected database, CPU user+sys",
                cpu["keys ours"], cpu["keys pk12util"], "pk12util -i CPU"),
            *([row(f"nss import {TRUSTED} trusted CA certs from PEM (7 MACs each at the database's iteration count)",
                   written["trusted ours"], written["trusted certutil"], f"{TRUSTED} x certutil -A -t CT,C,C")]
              if "trusted ours" in written else []),
            row("nss list 2,000 certs", times["keystores"], times["certutil"], "certutil -L", goal=0.2),
            row("nss list --json 2,000 certs (all decoded, all trust MACs checked)", times["json"],
                times["certutil"], "certutil -L"),
            row("nss library: open + every entry's trust (14,000 MACs checked)", times["library"],
                times["certutil"], "certutil -L")]

if __name__ == "__main__":
    for line in main("--quick" in sys.argv):
        print(line)
