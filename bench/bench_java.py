"""`keystores list` against `keytool -list` on 2,000-entry JKS stores, interleaved. Goal: <= 0.35x keytool.

Two stores, both written by keystores and checked once by keytool before timing:
- a truststore: 2,000 trusted certificates (what a cacerts-style store looks like);
- a key store: 2,000 private-key entries (EC P-256 key + certificate), to show that listing never decrypts keys.
A third row times the library alone (`open_store` + decode every certificate, in `python -c`), without the CLI;
`list` itself reads its columns from the trusted certificates without decoding them (keystores.pki.columns).

Wall-clock ratios flatter us on a busy machine: the JVM spreads its start-up (JIT, GC) over several threads and
suffers more from contention than one Python thread does. So the CPU time (user + sys) of each run is reported
too; on an idle machine the wall-clock ratio lies between the two.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import interleaved, row, user_install

COUNT = 2000
PASSWORD = "bench-java-pass"


def _make_stores(folder: Path) -> dict[str, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.store import open_store

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench issuing CA")])

    def issue(i: int, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bench entry {i:04d}"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keystores bench")])
        return (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now)
                .not_valid_after(now + dt.timedelta(days=90))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(ca_key, hashes.SHA256()))

    stores = {"trust": folder / "trust2000.jks", "keys": folder / "keys2000.jks"}
    pairs = []
    for i in range(COUNT):
        key = ec.generate_private_key(ec.SECP256R1())
        pairs.append((key, issue(i, key)))
    # One writer at a time: a writable store holds its folder's lock until it is closed.
    with open_store(stores["trust"], password=PASSWORD, create=True) as trust:
        for i, (_, cert) in enumerate(pairs):
            trust.add(Entry(label=f"trusted {i:04d}", kind=EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL))
    with open_store(stores["keys"], password=PASSWORD, create=True) as keys:
        for i, (key, cert) in enumerate(pairs):
            keys.add(Entry(label=f"key {i:04d}", kind=EntryKind.KEY_PAIR, chain=(cert,), key=key))
    for path in stores.values():
        listed = subprocess.run(["keytool", "-J-Duser.language=en", "-list", "-keystore", str(path), "-storetype",
                                 "JKS", "-storepass", PASSWORD], capture_output=True, text=True, check=True)
        found = sum(line.endswith(("trustedCertEntry, ", "PrivateKeyEntry, ")) for line in listed.stdout.splitlines())
        if found != COUNT:
            raise RuntimeError(f"keytool does not see {COUNT} entries in {path}")
    return stores


LIBRARY_LISTING = """
import sys
from keystores.store import open_store
with open_store(sys.argv[1], password=sys.argv[2]) as store:
    rows = [(e.label, e.kind.value, e.certificate.subject.rfc4514_string()) for e in store.entries()]
print(len(rows))
"""


def cpu_seconds(argv: list[str], env: dict[str, str], rounds: int) -> float:
    """Median user+sys CPU seconds of `argv` (all its threads and children), from wait4's rusage."""
    samples = []
    for _ in range(rounds):
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execvpe(argv[0], argv, env)
        _, status, usage = os.wait4(pid, 0)
        if status != 0:
            raise RuntimeError(f"{argv[0]} failed while timing CPU")
        samples.append(usage.ru_utime + usage.ru_stime)
    return statistics.median(samples)


def main(quick: bool) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="bench-java-") as tmp:
        stores = _make_stores(Path(tmp))
        env = {**os.environ, "KS_BENCH_PASS": PASSWORD}
        jobs = {}
        install = user_install()
        for name, path in stores.items():
            jobs[f"ours-{name}"] = [*install.keystores, "list", str(path),
                                    "--password", "env:KS_BENCH_PASS"]
            jobs[f"keytool-{name}"] = ["keytool", "-list", "-keystore", str(path), "-storetype", "JKS",
                                       "-storepass", PASSWORD]
        jobs["library-trust"] = install.code(LIBRARY_LISTING, str(stores["trust"]), PASSWORD)
        times = interleaved(jobs, rounds=3 if quick else 7, env=env)
        cpu = {name: cpu_seconds(list(jobs[name]), env, 3 if quick else 5) for name in ("ours-trust", "keytool-trust")}
    return [
        row(f"list, {COUNT} trusted certificates (JKS)", times["ours-trust"], times["keytool-trust"],
            "keytool -list", goal=0.35),
        row(f"list, {COUNT} key entries (JKS)", times["ours-keys"], times["keytool-keys"], "keytool -list",
            goal=0.35),
        row(f"library open + entries, {COUNT} trusted (JKS)", times["library-trust"], times["keytool-trust"],
            "keytool -list"),
        row(f"list, {COUNT} trusted certificates (JKS), CPU user+sys", cpu["ours-trust"], cpu["keytool-trust"],
            "keytool -list CPU"),
    ]


if __name__ == "__main__":
    for line in main(quick="--quick" in sys.argv):
        print(line)
