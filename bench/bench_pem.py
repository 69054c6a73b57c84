"""PEM against openssl, interleaved: `keystores list` on a CA bundle vs `openssl storeutl -certs` (both parse every
certificate), and on an encrypted key + chain vs `openssl pkey` decrypting the same key; and the start-up of `list`
on the other small PEM/DER files users list (issue 15 item 2) against `python -c pass`, goal 2.5x.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import _byte_compiled  # the one byte-compiling step of the start-up rows
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
    leaf = cert(leaf_key, "server", "Root", root_key)
    with open_store(server, create=True, password=PASSWORD_ENV["BENCH_PW"]) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(leaf, root), key=leaf_key))
    _small_files(folder, leaf, leaf_key)
    return bundle, server


def _small_files(folder: Path, leaf, leaf_key) -> None:  # type: ignore[no-untyped-def]
    """The other small files users list: a DER certificate, a key in OpenSSL's traditional encrypted form (DEK-Info)
    with its certificate, an encrypted PKCS#8 key alone."""
    from cryptography.hazmat.primitives import serialization

    encryption = serialization.BestAvailableEncryption(PASSWORD_ENV["BENCH_PW"].encode())
    (folder / "server.der").write_bytes(leaf.public_bytes(serialization.Encoding.DER))
    (folder / "traditional.pem").write_bytes(
        leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, encryption)
        + leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))


STARTUP = {"list server.pem (encrypted key + chain)": "server.pem", "list server.der (a DER certificate)": "server.der",
           "list traditional.pem (DEK-Info key + certificate)": "traditional.pem",
           "list key.pem (encrypted key alone)": "key.pem"}


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
            "python": [sys.executable, "-c", "pass"],
        }
        jobs.update({name: [*ours, "list", str(Path(tmp) / file), "--password", "env:BENCH_PW"]
                     for name, file in STARTUP.items() if file != "server.pem"})
        _byte_compiled()
        times = interleaved(jobs, rounds, env={**os.environ, **PASSWORD_ENV})
    times[next(iter(STARTUP))] = times["ours server"]
    return [
        row(f"list, {CAS}-CA PEM bundle", times["ours bundle"], times["openssl bundle"], "openssl storeutl -certs"),
        row("list, encrypted key + chain PEM", times["ours server"], times["openssl server"], "openssl pkey"),
        *(row(f"start-up: keystores {name}", times[name], times["python"], "python -c pass", 2.5)
          for name in STARTUP),
    ]


if __name__ == "__main__":
    for line in main(quick="--quick" in sys.argv):
        print(line)
