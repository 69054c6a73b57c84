"""Core jobs not covered by the per-format benches, with peak memory:

- convert a 2,000-entry JKS (1,990 trusted certificates + 10 EC keys) to PKCS#12: `keystores convert` against
  `keytool -importkeystore`, the everyday Java migration;
- CLI start-up (issue 15 item 2): every everyday command on a small store against a bare `python -c pass` (the
  floor any Python CLI pays; goal <= 2.5x), in one interleaved run with `keytool -list` (goal for `list one.p12`:
  <= 0.2x) and `openssl pkey` on the same files: `version`, `list`/`show` of a 1-key PKCS#12 keytool made, `list`
  of a PEM with an encrypted key and its certificate, `export` of a certificate, `convert` to PEM, and `certreq`,
  `sign`, `receive` one by one; then, in a second run (store_rows), what admins loop over on the other formats:
  `list` of a JKS, a .kdb opened by its stash, an NSS database, a BCFKS and a SoftHSM token, `import` of a
  certificate into the JKS and the token (and the `delete` undoing it), `show` and `export` of the token's key pair,
  `audit` of the .kdb; token commands also against their floor: python-pkcs11 imported as keystores imports it
  (keystores/backends/pkcs11/library.py) that loads SoftHSM and logs in (the floor row and the eager `import pkcs11`
  one are shown against `python -c pass` too); and the BCFKS list against a bare python running its two PBKDF2
  derivations (Bouncy Castle's 51,200 iterations: its floor).
  Where the time goes: `python -X importtime -m keystores ...`; what keeps it small:
  cli/quick_parse.py (no typer for a plain command line) and cli/command_table.py; for certreq, sign and receive,
  keystores/pki/builder.py and pki/encoded.py (requests and certificates as DER, no cryptography.x509).

(List of a small PKCS#12 and of 2,000-entry JKS stores against keytool are bench_pkcs12.py and bench_java.py.)
Rows carry six cells: job | keystores median | native median | ratio | peak RSS (ours / native) | goal; time,
CPU time and peak memory come from the same interleaved runs (wait4), so memory costs no extra runs. The job's
name carries the CPU ratio (user + sys), which a busy machine disturbs less than the wall ratio the goals are set
in. The start-up rows' cheap commands, `python -c pass` among them, run in more rounds than the rest
(measure_runs), and each ratio is taken over the rounds both of its sides ran in.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

COUNT = 2000
KEYS = 10
PASSWORD = "bench-core-pass"
ENV = {"BENCH_CORE_PW": PASSWORD}


def _make_jks(path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.store import open_store

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench core CA")])

    def issue(i: int, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"bench core {i:04d}")])
        return (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name).public_key(key.public_key())
                .serial_number(1000 + i).not_valid_before(now).not_valid_after(now + dt.timedelta(days=90))
                .sign(ca_key, hashes.SHA256()))

    with open_store(path, password=PASSWORD, create=True) as store:
        for i in range(COUNT - KEYS):
            store.add(Entry(label=f"trusted {i:04d}", kind=EntryKind.TRUSTED_CERT, chain=(issue(i, leaf_key),),
                            trust=TRUST_ALL))
        for i in range(KEYS):
            key = ec.generate_private_key(ec.SECP256R1())
            store.add(Entry(label=f"key {i:04d}", kind=EntryKind.KEY_PAIR, chain=(issue(COUNT + i, key),), key=key))


GNU_TIME = "/usr/bin/time"


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one run of argv, output discarded; raises when it fails.

    The peak comes from GNU time, a small process, when present: a child forked from this (big) interpreter
    inherits its resident pages until exec, and Linux keeps that high-water mark across exec, so wait4's ru_maxrss
    would report the benchmark's own size rather than the command's.
    """
    with tempfile.NamedTemporaryFile(prefix="bench-rss-") as report:
        wrapped = [GNU_TIME, "-f", "%M", "-o", report.name, *argv] if os.access(GNU_TIME, os.X_OK) else argv
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # child
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execvpe(wrapped[0], wrapped, env)
        _, status, usage = os.wait4(pid, 0)
        elapsed = time.perf_counter() - started
        if status != 0:
            raise RuntimeError(f"{' '.join(argv[:4])} ... failed (status {status})")
        text = Path(report.name).read_text().strip().splitlines()
        kib = int(text[-1]) if wrapped is not argv and text and text[-1].isdigit() else usage.ru_maxrss
    return elapsed, kib / 1024, usage.ru_utime + usage.ru_stime


class Runs:
    """What interleaved runs measured: per job, each round's (wall s, CPU s) by round number, and its peak RSS."""

    def __init__(self) -> None:
        self.by_round: dict[str, dict[int, tuple[float, float]]] = {}
        self.peaks: dict[str, float] = {}

    def add(self, name: str, round_number: int, elapsed: float, used: float, rss: float) -> None:
        self.by_round.setdefault(name, {})[round_number] = (elapsed, used)
        self.peaks[name] = max(self.peaks.get(name, 0.0), rss)

    def summary(self, name: str, rounds: Iterable[int] | None = None) -> tuple[float, float, float]:
        """(median s, peak MiB, median CPU s) of `name`, over `rounds` (default: every round it ran in)."""
        runs = self.by_round[name]
        chosen = [runs[r] for r in (runs if rounds is None else rounds) if r in runs]
        return (statistics.median(w for w, _ in chosen), self.peaks[name], statistics.median(c for _, c in chosen))

    def pair(self, name: str, base: str) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
        """`name` and `base` over the rounds both ran in: a ratio compares runs that met the same machine."""
        shared = [r for r in self.by_round[name] if r in self.by_round[base]]
        return self.summary(name, shared), self.summary(base, shared)


def measure(jobs: dict[str, list[str]], rounds: int, env: dict[str, str], *, warmup: int,
            before: dict[str, Path] | None = None) -> dict[str, tuple[float, float, float]]:
    """Interleaved like harness.interleaved, but one run gives time, memory and CPU: name -> (median s, peak MiB,
    median CPU s). `before[name]` is a file removed before each run of that job (convert refuses to overwrite)."""
    runs = measure_runs(jobs, rounds, env, warmup=warmup, before=before)
    return {name: runs.summary(name) for name in jobs}


def measure_runs(jobs: dict[str, list[str]], rounds: int, env: dict[str, str], *, warmup: int,
                 before: dict[str, Path] | None = None, repeatable: Iterable[str] = (), cheap_rounds: int = 0,
                 cheap: float = 6.0, base: str = "python") -> Runs:
    """`rounds` interleaved rounds of every job (after `warmup` unmeasured ones); then, up to `cheap_rounds` in
    all, more rounds of the `repeatable` jobs whose median is under `cheap` times the `base` job's (`python -c
    pass`): a start-up row is cheap, noise is most of what it measures, and a dozen more runs cost a second or two
    (keytool's 0.4 s is left out). Still interleaved, with `base` among them, so that each ratio compares runs
    that met the same machine (Runs.pair). Jobs that depend on each other's files or undo each other
    (certreq/sign/receive, import/delete) are left out of `repeatable`."""
    runs = Runs()
    _rounds(jobs, range(-warmup, rounds), env, before, runs)
    limit = cheap * runs.summary(base)[0] if base in jobs else 0.0
    fast = {name: argv for name, argv in jobs.items() if name in set(repeatable) and runs.summary(name)[0] < limit}
    if len(fast) > 1:
        _rounds(fast, range(rounds, max(rounds, cheap_rounds)), env, before, runs)
    return runs


def _rounds(jobs: dict[str, list[str]], numbers: Iterable[int], env: dict[str, str],
            before: dict[str, Path] | None, runs: Runs) -> None:
    """Each job once per round, in order; negative round numbers are a warm-up, not kept."""
    for number in numbers:
        for name, argv in jobs.items():
            if before and name in before:
                before[name].unlink(missing_ok=True)
            elapsed, rss, used = run_measured(argv, env)
            if number >= 0:
                runs.add(name, number, elapsed, used, rss)


def row6(job: str, ours: tuple[float, ...], theirs: tuple[float, ...], native: str,
         goal: float | None = None) -> str:
    """A table row; the CPU ratio beside the job's name, where both sides' CPU time was measured (CPU time is
    disturbed less than wall time by a busy machine; wall time is what the goal is set in)."""
    ratio = ours[0] / theirs[0] if theirs[0] else float("nan")
    verdict = "" if goal is None else (f"<= {goal}x ok" if ratio <= goal else f"<= {goal}x MISSED")
    if len(ours) > 2 and len(theirs) > 2 and theirs[2]:
        job = f"{job} (CPU {ours[2] / theirs[2]:.2f}x)"
    return (f"| {job} | {ours[0] * 1000:.0f} ms | {native} {theirs[0] * 1000:.0f} ms | {ratio:.2f}x | "
            f"{ours[1]:.0f} / {theirs[1]:.0f} MiB | {verdict} |")


def main(quick: bool) -> list[str]:
    env = {**os.environ, **ENV}
    ours = [sys.executable, "-m", "keystores"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-core-") as tmp:
        folder = Path(tmp)
        src = folder / "src2000.jks"
        _make_jks(src)
        outputs = {"keystores": folder / "ks.p12", "keytool": folder / "kt.p12"}
        convert = {
            "keystores": [*ours, "convert", str(src), str(outputs["keystores"]), "--password", "env:BENCH_CORE_PW",
                          "--dest-password", "env:BENCH_CORE_PW"],
            "keytool": ["keytool", "-importkeystore", "-noprompt", "-srckeystore", str(src), "-srcstoretype", "JKS",
                        "-srcstorepass:env", "BENCH_CORE_PW", "-destkeystore", str(outputs["keytool"]),
                        "-deststoretype", "PKCS12", "-deststorepass:env", "BENCH_CORE_PW"],
        }
        # quick (CI): two rounds of the 2,000-entry convert, no warm-up; full: a warm-up and seven rounds
        got = measure(convert, 2 if quick else 7, env, warmup=0 if quick else 1, before=outputs)
        rows.append(row6(f"convert {COUNT}-entry JKS -> PKCS#12", got["keystores"], got["keytool"],
                         "keytool -importkeystore"))
        # quick: 5 rounds of every start-up job, 15 of the cheap ones (3 and 11 for the other formats, whose token
        # jobs take 0.2 s each); full: 15 and 31 (11 and 21)
        rows += startup_rows(folder, ours, env, *((5, 15) if quick else (15, 31)))
        rows += store_rows(folder, ours, env, *((3, 11) if quick else (11, 21)))
    return rows


def _small_stores(folder: Path, ours: list[str], env: dict[str, str]) -> dict[str, Path]:
    """one.p12 (keytool's, one EC key), pair.pem (an AES-256 encrypted PKCS#8 key and its certificate, openssl's),
    ca.p12 (our CA for sign) and a request."""
    import subprocess

    def run(argv: list[str]) -> None:
        subprocess.run(argv, check=True, capture_output=True, env=env, cwd=folder)

    files = {name: folder / name for name in ("one.p12", "pair.pem", "key.pem", "cert.pem", "ca.p12", "web.csr")}
    run(["keytool", "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
         "CN=server", "-storetype", "PKCS12", "-keystore", str(files["one.p12"]), "-storepass:env", "BENCH_CORE_PW"])
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-aes-256-cbc", "-pass",
         "env:BENCH_CORE_PW", "-out", str(files["key.pem"])])
    run(["openssl", "req", "-new", "-x509", "-key", str(files["key.pem"]), "-passin", "env:BENCH_CORE_PW", "-subj",
         "/CN=pem", "-days", "30", "-out", str(files["cert.pem"])])
    files["pair.pem"].write_bytes(files["key.pem"].read_bytes() + files["cert.pem"].read_bytes())
    run([*ours, "selfsign", str(files["ca.p12"]), "--label", "ca", "--dn", "CN=Bench CA", "--ca", "--key-type",
         "ec:p256", "--password", "env:BENCH_CORE_PW"])
    return files


def _byte_compiled() -> None:
    """Start-up as an installed package has it: byte-compiled. A checkout run with PYTHONDONTWRITEBYTECODE (as CI
    and these sessions set it) would otherwise compile every changed module from source on every run."""
    import compileall

    import keystores.cli  # binds keystores too

    for folder in {*keystores.__path__, *keystores.cli.__path__}:
        compileall.compile_dir(folder, quiet=1)


def startup_rows(folder: Path, ours: list[str], env: dict[str, str], rounds: int, cheap_rounds: int) -> list[str]:
    """Each command once per round, interleaved with `python -c pass`, keytool -list and openssl pkey; the cheap
    ones in more rounds (measure_runs), each ratio over the rounds both sides ran in."""
    _byte_compiled()
    files = _small_stores(folder, ours, env)
    pw = ["--password", "env:BENCH_CORE_PW"]
    flow = folder / "flow"
    flow.mkdir()
    jobs = {
        "python": [sys.executable, "-c", "pass"],
        "version": [*ours, "version"],
        "list one.p12": [*ours, "list", str(files["one.p12"]), *pw],
        "show one.p12 server": [*ours, "show", str(files["one.p12"]), "server", *pw],
        "list pair.pem (encrypted key)": [*ours, "list", str(files["pair.pem"]), *pw],
        "export one.p12 server -o cert.pem": [*ours, "export", str(files["one.p12"]), "server", "-o",
                                              str(flow / "out.pem"), "--force", *pw],
        "convert one.p12 to PEM": [*ours, "convert", str(files["one.p12"]), str(flow / "conv.pem"), *pw],
        "certreq (EC P-256, new PKCS#12)": [*ours, "certreq", str(flow / "web.p12"), "--label", "web", "--dn",
                                            "CN=web", "--key-type", "ec:p256", "-o", str(flow / "web.csr"), *pw],
        "sign": [*ours, "sign", str(files["ca.p12"]), str(flow / "web.csr"), "--label", "ca", "-o",
                 str(flow / "web.pem"), "--chain", "--force", *pw],
        "receive": [*ours, "receive", str(flow / "web.p12"), str(flow / "web.pem"), *pw],
        "keytool -list": ["keytool", "-list", "-storetype", "PKCS12", "-keystore", str(files["one.p12"]),
                          "-storepass:env", "BENCH_CORE_PW"],
        "openssl pkey": ["openssl", "pkey", "-in", str(files["pair.pem"]), "-passin", "env:BENCH_CORE_PW",
                         "-noout"],
    }
    # certreq makes web.p12 and web.csr, sign web.pem, receive changes web.p12; convert refuses an existing DEST
    before = {"certreq (EC P-256, new PKCS#12)": flow / "web.p12", "convert one.p12 to PEM": flow / "conv.pem"}
    # certreq, sign and receive depend on each other's files: they run only in the rounds of every job
    chained = {"certreq (EC P-256, new PKCS#12)", "sign", "receive"}
    runs = _measure_chained(jobs, rounds, env, before, repeatable=set(jobs) - chained, cheap_rounds=cheap_rounds)
    # Wall time is the goal's measure; CPU time, which a busy machine disturbs less, is given beside the name.
    rows = [row6(f"start-up: keystores {name}", *runs.pair(name, "python"), "python -c pass", 2.5)
            for name in jobs if name not in ("python", "keytool -list", "openssl pkey")]
    rows.append(row6("list one.p12 (keytool-made)", *runs.pair("list one.p12", "keytool -list"), "keytool -list",
                     0.2))
    rows.append(row6("list pair.pem (encrypted key + certificate)",
                     *runs.pair("list pair.pem (encrypted key)", "openssl pkey"), "openssl pkey -noout"))
    return rows


def _format_stores(folder: Path, env: dict[str, str]) -> dict[str, str]:
    """A small store of each other format an admin lists in a loop, made in-process (a key pair with its CA, and
    the CA trusted): s.jks, s.kdb (with its stash), sql:nss, s.bcfks; and ca.pem, a certificate to import."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.store import open_store

    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def issue(cn: str, subject_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        return (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
                .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench CA")]))
                .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now).not_valid_after(now + dt.timedelta(days=90)).sign(ca_key, hashes.SHA256()))

    ca = issue("bench CA", ca_key)
    entries = [Entry("server", EntryKind.KEY_PAIR, chain=(issue("server", key), ca), key=key),
               Entry("ca", EntryKind.TRUSTED_CERT, chain=(ca,), trust=TRUST_ALL)]
    (folder / "nss").mkdir()
    stores = {name: str(folder / name) for name in ("s.jks", "s.kdb", "s.bcfks")} | {"sql:nss": f"sql:{folder / 'nss'}"}
    for name, location in stores.items():
        with open_store(location, password=PASSWORD, create=True, **({"stash": True} if name == "s.kdb" else {})) \
                as store:
            for entry in entries:
                store.add(entry)
    (folder / "extra.pem").write_bytes(issue("extra", key).public_bytes(serialization.Encoding.PEM))
    return stores


def _token(folder: Path, ours: list[str], env: dict[str, str], p12: Path) -> dict[str, str] | None:
    """A SoftHSM token holding one.p12's key pair (softhsm/mktoken); its variables are added to `env`. None when
    SoftHSM is not installed."""
    import shutil
    import subprocess

    if shutil.which("softhsm2-util") is None:
        return None
    made = subprocess.run([str(Path(__file__).resolve().parents[1] / "softhsm" / "mktoken"), "--dir",
                           str(folder / "hsm"), "--label", "bench"], check=True, capture_output=True, text=True)
    for line in made.stdout.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip("'")
    pin = f"file:{folder / 'hsm' / 'pin'}"
    subprocess.run([*ours, "import", str(p12), "pkcs11:token=bench", "--password", "env:BENCH_CORE_PW",
                    "--dest-password", pin], check=True, capture_output=True, env=env)
    return {"uri": "pkcs11:token=bench", "pin": pin, "module": env["KEYSTORES_PKCS11_MODULE"]}


# What opening any BCFKS costs whatever the reader: Bouncy Castle's two PBKDF2-HMAC-SHA512 runs at the 51,200
# iterations it writes (the MAC key and the store key), side by side as keystores derives them, in a bare python
# with cryptography's PBKDF2 (the one keystores.crypto.pbkdf2 uses)
_BCFKS_FLOOR = ("import threading\nfrom cryptography.hazmat.primitives import hashes\n"
                "from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC\n"
                "def derive(purpose):\n    PBKDF2HMAC(hashes.SHA512(), 64, bytes(64), 51200).derive(purpose)\n"
                "worker = threading.Thread(target=derive, args=(b'store',))\nworker.start()\nderive(b'mac')\n"
                "worker.join()\n")


def store_rows(folder: Path, ours: list[str], env: dict[str, str], rounds: int, cheap_rounds: int) -> list[str]:
    """Start-up of the commands admins run in loops on a small store of the other formats (README's cheat sheet:
    keytool -list, runmqakm -cert -list with the stash, certutil -L, pkcs11-tool -O and --write-object, a cron
    audit), each against `python -c pass` (goal 2.5x); token commands also against their floor, python-pkcs11
    imported as keystores imports it (its asn1crypto helpers deferred, backends/pkcs11/library.py) that loads SoftHSM
    and logs in, which python-pkcs11 and SoftHSM cost whatever we do.
    An import is followed by the delete that undoes it, so each round starts from the same store."""
    env = dict(env)
    stores = _format_stores(folder, env)
    token = _token(folder, ours, env, folder / "one.p12")
    pw = ["--password", "env:BENCH_CORE_PW"]
    extra = str(folder / "extra.pem")
    jobs = {
        "python": [sys.executable, "-c", "pass"],
        "list s.jks": [*ours, "list", stores["s.jks"], *pw],
        "import extra.pem s.jks": [*ours, "import", extra, stores["s.jks"], "--label", "extra", "--dest-password",
                                   "env:BENCH_CORE_PW"],
        "delete s.jks extra": [*ours, "delete", stores["s.jks"], "extra", *pw],
        "list s.kdb (stash)": [*ours, "list", stores["s.kdb"]],
        "audit s.kdb (stash)": [*ours, "audit", stores["s.kdb"]],
        "list sql:nss": [*ours, "list", stores["sql:nss"], *pw],
        "list s.bcfks": [*ours, "list", stores["s.bcfks"], *pw],
        "bcfks floor": [sys.executable, "-c", _BCFKS_FLOOR],
    }
    if token is not None:
        login = (f".lib({token['module']!r}).get_token(token_label='bench')"
                 f".open(user_pin=open({token['pin'][5:]!r}).read().strip()); s.close()")
        jobs |= {"token floor": [sys.executable, "-c", "from keystores.backends.pkcs11.library import import_pkcs11; "
                                 f"s = import_pkcs11(){login}"],
                 "token floor, eager": [sys.executable, "-c", f"import pkcs11; s = pkcs11{login}"],
                 "list token": [*ours, "list", token["uri"], "--pin", token["pin"]],
                 "show token server": [*ours, "show", token["uri"], "server", "--pin", token["pin"]],
                 "export token server": [*ours, "export", token["uri"], "server", "--pin", token["pin"], "-o",
                                         str(folder / "token-server.pem"), "--force"],
                 "import extra.pem token": [*ours, "import", extra, token["uri"], "--label", "extra",
                                            "--dest-password", token["pin"]],
                 "delete token extra": [*ours, "delete", token["uri"], "extra", "--pin", token["pin"]]}
    # an import is undone by the delete after it: both run only in the rounds of every job
    paired = {"import extra.pem s.jks", "delete s.jks extra", "import extra.pem token", "delete token extra"}
    runs = _measure_chained(jobs, rounds, env, {}, repeatable=set(jobs) - paired, cheap_rounds=cheap_rounds)
    floors = ("token floor", "token floor, eager")
    rows = [row6(f"start-up: keystores {name}", *runs.pair(name, "python"), "python -c pass", 2.5)
            for name in jobs if name != "python" and name not in floors and name != "bcfks floor"]
    rows += [row6("BCFKS floor: two PBKDF2-HMAC-SHA512 (51,200) side by side", *runs.pair("bcfks floor", "python"),
                  "python -c pass"),
             row6("list s.bcfks vs its floor", *runs.pair("list s.bcfks", "bcfks floor"), "the two derivations alone")]
    if token is not None:
        rows += [row6(f"{name} (python-pkcs11 {how} + SoftHSM login)", *runs.pair(name, "python"), "python -c pass")
                 for name, how in zip(floors, ("as keystores imports it", "as its authors import it"), strict=True)]
        rows += [row6(f"{name} vs its floor", *runs.pair(name, "token floor"), "token floor")
                 for name in ("list token", "show token server", "export token server", "import extra.pem token",
                              "delete token extra")]
    return rows


def _measure_chained(jobs: dict[str, list[str]], rounds: int, env: dict[str, str], before: dict[str, Path], *,
                     repeatable: set[str], cheap_rounds: int) -> Runs:
    """measure_runs() with a warm-up round, the jobs in the given order each round (certreq, sign, receive depend
    on each other), files in `before` removed before their job runs; the cheap `repeatable` ones (`python -c
    pass` among them) in more rounds, up to `cheap_rounds`."""
    return measure_runs(jobs, rounds, env, warmup=1, before=before, repeatable=repeatable, cheap_rounds=cheap_rounds)


if __name__ == "__main__":
    print("\n".join(main(quick="--quick" in sys.argv)))
