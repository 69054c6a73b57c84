"""Lifecycle benchmarks: keystores against the openssl commands an admin would chain for the same job.

1. request -> CA signs -> reply into a PKCS#12 store: `keystores certreq/sign/receive` against
   `openssl req -newkey` + `openssl x509 -req` + `openssl pkcs12 -export`.
2. a cron audit of 10 PKCS#12 stores: one `keystores audit` against, per store, `openssl pkcs12 -nokeys` piped to
   `openssl x509 -checkend -text` (expiry and signature algorithm only; keystores checks more).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from harness import interleaved, row, user_install

PW = "bench pass 1"


def _ks(*args: str) -> list[str]:
    return [*user_install().keystores, *args]


def main(quick: bool) -> list[str]:
    if shutil.which("openssl") is None:
        return ["| lifecycle | skipped: openssl absent | | |"]
    rounds = 3 if quick else 7
    env = {"BENCH_PW": PW}
    with tempfile.TemporaryDirectory(prefix="ks-bench-lc-") as folder:
        work = Path(folder)
        os.environ.update(env)
        subprocess.run(_ks("selfsign", str(work / "ca.p12"), "--label", "ca", "--dn", "CN=Bench CA", "--ca",
                           "--key-type", "ec:p256", "-o", str(work / "ca.pem"), "--password", "env:BENCH_PW"),
                       check=True, capture_output=True)
        subprocess.run(_ks("export", str(work / "ca.p12"), "ca", "-o", str(work / "ca.key"), "--key",
                           "--password", "env:BENCH_PW"), check=True, capture_output=True)
        ours_flow = work / "ours.sh"
        ours_flow.write_text(f"""set -e
cd {work}; rm -f o.p12 o.csr o.pem
{' '.join(_ks())} certreq o.p12 --label web --dn CN=web --key-type ec:p256 -o o.csr --password env:BENCH_PW
{' '.join(_ks())} sign ca.p12 o.csr --label ca -o o.pem --chain --password env:BENCH_PW
{' '.join(_ks())} receive o.p12 o.pem --password env:BENCH_PW
""")
        their_flow = work / "theirs.sh"
        their_flow.write_text(f"""set -e
cd {work}; rm -f t.key t.csr t.pem t.p12
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout t.key -subj /CN=web -out t.csr 2>/dev/null
openssl x509 -req -in t.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 365 -out t.pem 2>/dev/null
openssl pkcs12 -export -inkey t.key -in t.pem -certfile ca.pem -name web -out t.p12 -passout env:BENCH_PW
""")
        stores = []
        for index in range(10):
            path = work / f"s{index}.p12"
            subprocess.run(_ks("selfsign", str(path), "--label", f"k{index}", "--dn", f"CN=s{index}",
                               "--key-type", "ec:p256", "--password", "env:BENCH_PW"), check=True,
                           capture_output=True)
            stores.append(str(path))
        their_audit = work / "audit.sh"
        their_audit.write_text("set -e\n" + "".join(
            f"openssl pkcs12 -in {s} -nokeys -passin env:BENCH_PW | openssl x509 -noout -checkend 2592000 -text "
            ">/dev/null\n" for s in stores))
        flow = interleaved({"ours": ["bash", str(ours_flow)], "theirs": ["bash", str(their_flow)]}, rounds,
                           env=env)
        audit = interleaved({"ours": _ks("audit", *stores, "--within", "30d", "--password", "env:BENCH_PW"),
                             "theirs": ["bash", str(their_audit)]}, rounds, env=env)
    return [
        row("certreq + sign + receive (PKCS#12, EC P-256)", flow["ours"], flow["theirs"], "openssl req/x509/pkcs12"),
        row("audit 10 PKCS#12 stores", audit["ours"], audit["theirs"], "10x openssl pkcs12 | x509 -checkend"),
    ]


if __name__ == "__main__":
    for line in main(quick="--quick" in sys.argv):
        print(line)
