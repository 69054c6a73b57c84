"""NSS databases against NSS's own tools: reading (`keystores list` vs `certutil -L` on a 2,000-certificate
database) and writing into a password-protected database (`keystores import` vs `pk12util -i` of the same PKCS#12
file: 2,000 certificates, and 200 RSA key pairs; goals <= 0.5x, issue 15).

The list database (an empty password and "C,," trust on every certificate, as a browser profile's CA list looks) is
built once with certutil and cached in the temp folder; building it takes a minute or two. The import inputs (a
PKCS#12 of 2,000 CA certificates, one of 200 RSA key pairs, and the certificates as a PEM bundle) are cached there
too. Each import round writes into a new database: pk12util's, made by `certutil -N` with the password, untimed;
ours is made by the import itself.

Changing the password (`keystores passwd` vs `certutil -W`, reported: the issue sets no goal) of a database holding
200 of those key pairs (50 in --quick), made by certutil -N and pk12util -i and cached: each round changes a fresh
copy; both re-encrypt 6 attributes and re-make 10 MACs per key pair, checking each under the old password first.
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

from harness import interleaved, row, run_once, user_install  # noqa: E402

COUNT = 2000
KEYS = 200
TRUSTED = 100  # trusted CA certificates from PEM: 7 MACs each, as `certutil -A -t` writes them
WRITE_ENV = {"BENCH_NSS_PW": "bench-nss-password", "BENCH_P12_PW": "bench-p12-password",
             "BENCH_NSS_NEW": "bench-nss-new-password"}


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


def _password_files(work: Path) -> tuple[Path, Path, Path]:
    """Files holding the database password, the PKCS#12 password and the new database password (for -f, -k, -w,
    -@ of NSS's tools)."""
    files = []
    for name in ("BENCH_NSS_PW", "BENCH_P12_PW", "BENCH_NSS_NEW"):
        path = work / name.lower()
        path.write_text(WRITE_ENV[name] + "\n")
        files.append(path)
    return files[0], files[1], files[2]


def key_database(inputs: Path, keys: int) -> Path:
    """A database holding the first `keys` key pairs of keys.p12 under BENCH_NSS_PW, as NSS makes it (certutil -N,
    pk12util -i); cached beside the inputs."""
    folder = inputs / f"passwd-{keys}"
    if (folder / "key4.db").exists():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    with tempfile.TemporaryDirectory(prefix="keystores-bench-nss-") as work:
        pwfile, p12file, _ = _password_files(Path(work))
        source = inputs / "keys.p12"
        if keys < KEYS:
            source = Path(work) / "some.p12"
            entries = [arg for i in range(keys) for arg in ("--entry", f"server {i:03d}")]
            subprocess.run([sys.executable, "-m", "keystores", "convert", str(inputs / "keys.p12"), str(source),
                            "-p", "env:BENCH_P12_PW", "--dest-password", "env:BENCH_P12_PW", *entries],
                           env={**os.environ, **WRITE_ENV}, check=True, capture_output=True)
        subprocess.run(["certutil", "-N", "-d", f"sql:{partial}", "-f", str(pwfile)], check=True, capture_output=True)
        subprocess.run(["pk12util", "-i", str(source), "-d", f"sql:{partial}", "-k", str(pwfile), "-w", str(p12file)],
                       check=True, capture_output=True)
    partial.rename(folder)
    return folder


def _password_changes(inputs: Path, work: Path, keys: int, rounds: int) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU (user + sys) seconds of `keystores passwd` and `certutil -W` on copies of one database of
    `keys` key pairs, interleaved; the first round checks that NSS lists every key under the new password and
    refuses the old one."""
    import resource
    import statistics

    source = key_database(inputs, keys)
    env = {**os.environ, **WRITE_ENV}
    pwfile, _, newfile = _password_files(work)
    jobs = {"ours": [*user_install().keystores, "passwd", "sql:{db}", "-p", "env:BENCH_NSS_PW",
                     "--new-password", "env:BENCH_NSS_NEW"],
            "certutil": ["certutil", "-W", "-d", "sql:{db}", "-f", str(pwfile), "-@", str(newfile)]}
    times: dict[str, list[float]] = {name: [] for name in jobs}
    cpu: dict[str, list[float]] = {name: [] for name in jobs}
    for number in range(rounds):
        for name, argv in jobs.items():
            db = work / f"passwd-{name}-{number}"
            shutil.copytree(source, db)
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            times[name].append(run_once([a.replace("{db}", str(db)) for a in argv], env))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[name].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
            if number == 0:
                listed = subprocess.run(["certutil", "-K", "-d", f"sql:{db}", "-f", str(newfile)], check=True,
                                        capture_output=True)
                if listed.stdout.count(b" rsa ") != keys:
                    raise RuntimeError(f"{name}: certutil -K does not list {keys} keys under the new password")
                if subprocess.run(["certutil", "-K", "-d", f"sql:{db}", "-f", str(pwfile)],
                                  capture_output=True).returncode == 0:
                    raise RuntimeError(f"{name}: certutil -K still takes the old password")
            shutil.rmtree(db)
    return ({name: statistics.median(values) for name, values in times.items()},
            {name: statistics.median(values) for name, values in cpu.items()})


def _imports(inputs: Path, work: Path, rounds: int, *, trusted: bool) -> tuple[dict[str, float], dict[str, float]]:
    """Median wall and CPU (user + sys) seconds of each import job, interleaved; every job writes into a database of
    its own each round. Wall time is the goal's measure: pk12util derives one key after another, keystores on every
    core. CPU time, which a busy machine disturbs less (pk12util's commit per object waits on the disk), shows the
    work itself: the same derivations (17 per key pair), cheaper each."""
    import resource
    import statistics

    env = {**os.environ, **WRITE_ENV}
    pwfile, p12file, _ = _password_files(work)
    ours = [*user_install().keystores, "import"]
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
    install = user_install()
    jobs = {"keystores": [*install.keystores, "list", f"sql:{folder}"],
            "json": [*install.keystores, "list", f"sql:{folder}", "--json"],
            "library": install.code(library),
            "certutil": ["certutil", "-L", "-d", f"sql:{folder}"]}
    times = interleaved(jobs, rounds=3 if quick else 7)
    inputs = import_inputs()
    with tempfile.TemporaryDirectory(prefix="keystores-bench-nss-") as work:
        # --quick: one round; pk12util alone takes a minute or more here (a commit per object).
        written, cpu = _imports(inputs, Path(work), rounds=1 if quick else 5, trusted=not quick)
        changed_keys = 50 if quick else KEYS
        changed, changed_cpu = _password_changes(inputs, Path(work), changed_keys, rounds=3)
    return [row(f"nss import {COUNT:,} certs from PKCS#12 into a password-protected database", written["certs ours"],
                written["certs pk12util"], "pk12util -i", goal=0.5),
            row(f"nss import {KEYS} RSA key pairs from PKCS#12 into a password-protected database",
                written["keys ours"], written["keys pk12util"], "pk12util -i", goal=0.5),
            row(f"nss import {KEYS} RSA key pairs from PKCS#12 into a password-protected database, CPU user+sys",
                cpu["keys ours"], cpu["keys pk12util"], "pk12util -i CPU"),
            *([row(f"nss import {TRUSTED} trusted CA certs from PEM (7 MACs each at the database's iteration count)",
                   written["trusted ours"], written["trusted certutil"], f"{TRUSTED} x certutil -A -t CT,C,C")]
              if "trusted ours" in written else []),
            row(f"nss passwd of a database with {changed_keys} RSA key pairs (decrypt, check, re-encrypt, re-MAC)",
                changed["ours"], changed["certutil"], "certutil -W"),
            row(f"nss passwd of a database with {changed_keys} RSA key pairs, CPU user+sys", changed_cpu["ours"],
                changed_cpu["certutil"], "certutil -W CPU"),
            row("nss list 2,000 certs", times["keystores"], times["certutil"], "certutil -L", goal=0.2),
            row("nss list --json 2,000 certs (all decoded, all trust MACs checked)", times["json"],
                times["certutil"], "certutil -L"),
            row("nss library: open + every entry's trust (14,000 MACs checked)", times["library"],
                times["certutil"], "certutil -L")]

if __name__ == "__main__":
    for line in main("--quick" in sys.argv):
        print(line)
