"""PEM against openssl, interleaved: `keystores list` on a CA bundle vs `openssl storeutl -certs` (both parse every
certificate), and on an encrypted key + chain vs `openssl pkey` decrypting the same key.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import interleaved, row

PASSWORD_ENV = {"BENCH_PW": "bench-password"}
CAS = 300


def _make_files(folder: Path) -> tuple[Path, Path]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.store import open_store

    now = dt.datetime.now(dt.UTC)

    def cert(key, subject: str, issuer: str, issuer_key) -> x509.Certificate:
        return (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
                .sign(issuer_key, hashes.SHA256()))

    bundle = folder / "cas.pem"
    with open_store(bundle, create=True) as store:
        for i in range(CAS):
            key = ec.generate_private_key(ec.SECP256R1())
            store.add(Entry(f"CA {i:03d}", EntryKind.TRUSTED_CERT, chain=(cert(key, f"CA {i:03d}", f"CA {i:03d}",
                                                                               key),), trust=TRUST_ALL))
    server = folder / "server.pem"
    root_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = cert(root_key, "Root", "Root", root_key)
    with open_store(server, create=True, password=PASSWORD_ENV["BENCH_PW"]) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(cert(leaf_key, "server", "Root", root_key), root),
                        key=leaf_key))
    return bundle, server


def main(quick: bool) -> list[str]:
    rounds = 3 if quick else 7
    ours = [sys.executable, "-m", "keystores"]
    with tempfile.TemporaryDirectory() as tmp:
        bundle, server = _make_files(Path(tmp))
        jobs = {
            "ours bundle": [*ours, "list", str(bundle)],
            "openssl bundle": ["openssl", "storeutl", "-noout", "-certs", str(bundle)],
            "ours server": [*ours, "list", str(server), "--password", "env:BENCH_PW"],
            "openssl server": ["openssl", "pkey", "-in", str(server), "-passin", "env:BENCH_PW", "-noout"],
        }
        times = interleaved(jobs, rounds, env={**os.environ, **PASSWORD_ENV})
    return [
        row(f"list, {CAS}-CA PEM bundle", times["ours bundle"], times["openssl bundle"], "openssl storeutl -certs"),
        row("list, encrypted key + chain PEM", times["ours server"], times["openssl server"], "openssl pkey"),
    ]


if __name__ == "__main__":
    for line in main(quick="--quick" in sys.argv):
        print(line)
