"""PKCS#12 against the native tools, interleaved: `keystores list` vs `keytool -list` on a 1-entry store that
keytool made (goal <= 0.2x, issue 15; bench_core times the same job beside start-up) and on a 200-key store
we wrote (keys stay encrypted until used), and
`keystores convert` vs `keytool -importkeystore` copying the 200-key store into a new PKCS#12.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import interleaved_cpu, row, user_install

PASSWORD_ENV = {"BENCH_PW": "bench-password"}
KEYS = 200


def _make_stores(folder: Path) -> tuple[Path, Path]:
    small = folder / "one.p12"
    subprocess.run(["keytool", "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=server", "-storetype", "PKCS12", "-keystore", str(small),
                    "-storepass:env", "BENCH_PW"], check=True, capture_output=True, env={**os.environ,
                                                                                          **PASSWORD_ENV})
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from keystores.model import Entry, EntryKind
    from keystores.store import open_store

    large = folder / "many.p12"
    now = dt.datetime.now(dt.UTC)
    with open_store(large, password=PASSWORD_ENV["BENCH_PW"], create=True) as store:
        for i in range(KEYS):
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"server {i:03d}")])
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                    .serial_number(x509.random_serial_number()).not_valid_before(now)
                    .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
            store.add(Entry(f"server {i:03d}", EntryKind.KEY_PAIR, chain=(cert,), key=key))
    return small, large


def main(quick: bool) -> list[str]:
    rounds = 3 if quick else 7
    ours = user_install().keystores
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small, large = _make_stores(folder)
        rows = []
        # the 1-entry list is cheap (keytool's 0.4 s is most of a round): five rounds in quick form
        for label, store, goal, its_rounds in (("list, 1-entry PKCS#12 (keytool-made)", small, 0.2, 5 if quick else 9),
                                               (f"list, {KEYS}-key PKCS#12", large, None, rounds)):
            times = interleaved_cpu({
                "keystores": [*ours, "list", str(store), "--password", "env:BENCH_PW"],
                "keytool": ["keytool", "-list", "-storetype", "PKCS12", "-keystore", str(store),
                            "-storepass:env", "BENCH_PW"],
            }, its_rounds, env=PASSWORD_ENV)
            rows.append(row(label, times["keystores"][0], times["keytool"][0], "keytool -list", goal,
                            cpu=(times["keystores"][1], times["keytool"][1])))
        script = f"""set -e
rm -f {folder}/out-ks.p12 {folder}/out-kt.p12
"""
        times = interleaved_cpu({
            "keystores": ["bash", "-c", script + " ".join([*ours, "convert", str(large), f"{folder}/out-ks.p12",
                                                           "--password", "env:BENCH_PW", "--dest-password",
                                                           "env:BENCH_PW"])],
            "keytool": ["bash", "-c", script + " ".join([
                "keytool", "-importkeystore", "-noprompt", "-srckeystore", str(large), "-srcstoretype", "PKCS12",
                "-srcstorepass:env", "BENCH_PW", "-destkeystore", f"{folder}/out-kt.p12", "-deststoretype",
                "PKCS12", "-deststorepass:env", "BENCH_PW"])],
        }, rounds, env=PASSWORD_ENV)
        rows.append(row(f"convert {KEYS}-key PKCS#12 -> PKCS#12", times["keystores"][0], times["keytool"][0],
                        "keytool -importkeystore", cpu=(times["keystores"][1], times["keytool"][1])))
    return rows


if __name__ == "__main__":
    print("\n".join(main(quick="--quick" in sys.argv)))
