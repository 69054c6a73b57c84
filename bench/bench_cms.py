"""CMS .kdb against GSKit itself, interleaved, on a database of 2,000 signer certificates:

- `keystores list x.kdb` vs GSKit opening it and listing its labels (tests/gskit.py via ctypes, in a subprocess,
  so both sides pay their start-up), when the ibm-db wheel is installed;
- `keystores convert x.kdb x.p12` vs keytool copying the same 2,000 certificates from PKCS#12 to JKS;
- beside them, `keystores list` of the same certificates as PKCS#12 and as JKS, against `keytool -list`.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from harness import interleaved, row, user_install

PASSWORD = "bench-password"
ENV = {"BENCH_PW": PASSWORD}
SIGNERS = 2000


def _make_stores(folder: Path) -> dict[str, Path]:
    """The same 2,000 signer certificates as .kdb (v4, as GSKit's FIPS mode writes), PKCS#12 and JKS."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.ops.transfer import convert
    from keystores.store import open_store

    key = ec.generate_private_key(ec.SECP256R1())  # one key signs all: the certificates are what is measured
    now = dt.datetime.now(dt.UTC)
    kdb = folder / "signers.kdb"
    with open_store(kdb, password=PASSWORD, create=True) as store:
        for i in range(SIGNERS):
            name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Bench Root CA {i:04d}"),
                              x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keystores bench")])
            cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                    .serial_number(i + 1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=3650))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                    .sign(key, hashes.SHA256()))
            store.add(Entry(f"Bench Root CA {i:04d}", EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL))
    stores = {"kdb": kdb}
    for suffix in ("p12", "jks"):
        stores[suffix] = folder / f"signers.{suffix}"
        convert(str(kdb), str(stores[suffix]), password=PASSWORD, dest_password=PASSWORD)
    return stores


def main(quick: bool) -> list[str]:
    rounds = 3 if quick else 7
    ours = user_install().keystores
    pw = ["--password", "env:BENCH_PW"]
    rows: list[str] = []
    import gskit

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stores = _make_stores(folder)
        os.environ.update(ENV)  # the native jobs take the password from the environment too
        if gskit.available():
            times = interleaved({
                "ours": [*ours, "list", str(stores["kdb"]), *pw],
                "gskit": [sys.executable, str(Path(gskit.__file__)), "list", str(stores["kdb"]), PASSWORD],
            }, rounds)
            rows.append(row(f"list, {SIGNERS}-signer .kdb", times["ours"], times["gskit"],
                            "GSKit open+labels (ctypes)"))
        else:
            rows.append(f"| list, {SIGNERS}-signer .kdb | (GSKit not installed: pip install ibm-db) | | |")
        if shutil.which("keytool"):
            out_p12, out_jks = folder / "out.p12", folder / "out.jks"
            times = interleaved({
                "ours": [*ours, "convert", str(stores["kdb"]), str(out_p12), *pw, "--dest-password",
                         "env:BENCH_PW", "--force"],
                "keytool": ["keytool", "-importkeystore", "-noprompt", "-srckeystore", str(stores["p12"]),
                            "-srcstoretype", "PKCS12", "-srcstorepass:env", "BENCH_PW", "-destkeystore",
                            str(out_jks), "-deststoretype", "JKS", "-deststorepass:env", "BENCH_PW"],
                "cleanup": ["rm", "-f", str(out_jks)],
            }, rounds, env=ENV)
            rows.append(row(f"convert, {SIGNERS}-signer .kdb -> .p12", times["ours"], times["keytool"],
                            "keytool -importkeystore p12->jks"))
            for kind, store_type in (("p12", "PKCS12"), ("jks", "JKS")):
                times = interleaved({
                    "ours": [*ours, "list", str(stores[kind]), *pw],
                    "keytool": ["keytool", "-list", "-keystore", str(stores[kind]), "-storetype", store_type,
                                "-storepass:env", "BENCH_PW"],
                }, rounds, env=ENV)
                rows.append(row(f"list, {SIGNERS}-signer {store_type} (same certificates)", times["ours"],
                                times["keytool"], "keytool -list"))
    return rows


if __name__ == "__main__":
    print("| job | keystores | native | ratio |")
    print("|---|---|---|---|")
    for line in main(quick="--quick" in sys.argv):
        print(line)
