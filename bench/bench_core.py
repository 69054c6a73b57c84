"""Core jobs not covered by the per-format benches, with peak memory:

- convert a 2,000-entry JKS (1,990 trusted certificates + 10 EC keys) to PKCS#12: `keystores convert` against
  `keytool -importkeystore`, the everyday Java migration;
- CLI start-up (issue 15 item 2), as users get it: the `keystores` console script of a wheel installed in a clean
  venv (harness.user_install), every everyday command on a small store against that venv's bare `python -c pass`
  (the least any Python CLI pays; goal <= 2.5x), in one interleaved run with `keytool -list` (goal for `list
  one.p12`: <= 0.2x) and `openssl pkey` on the same files: `version`, `list`/`show` of a 1-key PKCS#12 keytool made,
  `list` of a PEM with an encrypted key and its certificate, `export` of a certificate, `convert` to PEM, and
  `certreq`, `sign`, `receive` one by one; then, in a second run (store_rows), what admins loop over on the other
  formats: `list` of a JKS, a .kdb opened by its stash, an NSS database, a BCFKS and a SoftHSM token, `import` of a
  certificate into the JKS and the token (and the `delete` undoing it), `show` and `export` of the token's key pair,
  `audit` of the .kdb.
- Each command also against its floor, measured in the same rounds (harness.FLOORS): pip's launcher alone for
  `version`; + hashlib/hmac and one HMAC for the JKS and .kdb; + the key derivations the file mandates at the
  count it holds for the PKCS#12 and PEM rows (harness.derivation_floor; the counts by each job); for the NSS
  database, its two files opened by `_sqlite3` with one query each, its password check's one derivation and
  AES-CBC through libcrypto (harness.nss_floor); +
  cryptography's EC module, a P-256 key and a signature, and the PKCS#12's derivations, for certreq/sign/receive;
  + Bouncy Castle's two PBKDF2 derivations (51,200 iterations) for the BCFKS;
  + python-pkcs11 imported as keystores imports it (keystores/backends/pkcs11/library.py), SoftHSM loaded and one
  login for the token (the eager `import pkcs11` beside it, and the same login through ctypes without python-pkcs11).
  Where the time goes: `python -X importtime <venv>/bin/keystores ...`; what keeps it small:
  cli/quick_parse.py (no typer for a plain command line) and cli/command_table.py; for certreq, sign and receive,
  keystores/pki/builder.py and pki/encoded.py (requests and certificates as DER, no cryptography.x509).

(List of a small PKCS#12 and of 2,000-entry JKS stores against keytool are bench_pkcs12.py and bench_java.py.)
Rows carry six cells: job | keystores median | native median | ratio | peak RSS (ours / native) | goal; time and
CPU time come from interleaved bare runs (wait4), peak memory from each job's warm-up run in GNU time, so memory
costs no extra runs and GNU time's own cost is not counted as the command's (harness.run_measured). The job's
name carries the CPU ratio (user + sys), which a busy machine disturbs less than the wall ratio the goals are set
in, and each median its CPU milliseconds. The start-up rows' cheap commands, `python -c pass` and the floors among
them, run in more rounds than the rest (harness.measure_runs), and each ratio is taken over the rounds both of its
sides ran in.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pem import pem_key_floor
from harness import (
    Install,
    command_rows,
    derivation_floor,
    measure,
    measure_runs,
    nss_floor,
    row6,
    startup_note,
    startup_row,
    user_install,
)

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


def main(quick: bool) -> list[str]:
    env = {**os.environ, **ENV}
    install = user_install()
    ours = install.keystores
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
        rows.append(startup_note(install))
        rows += startup_rows(folder, install, env, *STARTUP_ROUNDS[quick])
        rows += store_rows(folder, install, env, *STORE_ROUNDS[quick])
    return rows


# (rounds of every job, rounds of the cheap ones) by quick. Each ratio is a median over interleaved rounds of both
# sides; the chained and paired jobs (certreq/sign/receive, import/delete) run in the first number of rounds only.
# Quick: seven of those (four, before, moved a row near its goal by about 10% from one CI run to the next).
STARTUP_ROUNDS = {True: (7, 17), False: (15, 41)}
STORE_ROUNDS = {True: (7, 13), False: (11, 31)}


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


def startup_rows(folder: Path, install: Install, env: dict[str, str], rounds: int, cheap_rounds: int) -> list[str]:
    """Each command once per round, interleaved with `python -c pass`, its floor, keytool -list and openssl pkey;
    the cheap ones in more rounds (measure_runs), each ratio over the rounds both sides ran in."""
    ours = install.keystores
    files = _small_stores(folder, ours, env)
    pw = ["--password", "env:BENCH_CORE_PW"]
    flow = folder / "flow"
    flow.mkdir()
    commands = {
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
    }
    # certreq, sign and receive depend on each other's files: they run only in the rounds of every job
    chained = {"certreq (EC P-256, new PKCS#12)", "sign", "receive"}
    floor_of = {name: "libcrypto EC floor" if name in chained else "MAC floor" for name in commands}
    # What each must derive whatever the tool, at the counts the files hold (bench_commands.py says how counted):
    # keytool's one.p12 its MAC and certificate bag, and its key bag to convert the key; openssl's pair.pem its key
    # (PBKDF2 at 2,048, with the base64 and the AES-CBC that decrypt it: bench_pem.pem_key_floor); certreq writes a
    # PKCS#12 (key bag, certificate bag, MAC), sign reads ca.p12 (MAC, certificate and key bags), receive reads
    # web.p12's MAC and certificate bag and writes both again (its key bag is carried as read: keystores derives 4).
    # Their EC key is made, used and checked through libcrypto, without cryptography: the libcrypto EC floor.
    floor_of |= {"version": "console-script floor", "list one.p12": derivation_floor(2, ciphers=1),
                 "show one.p12 server": derivation_floor(2, ciphers=1),
                 "export one.p12 server -o cert.pem": derivation_floor(2, ciphers=1),
                 "convert one.p12 to PEM": derivation_floor(3, ciphers=2),
                 "list pair.pem (encrypted key)": pem_key_floor(files["pair.pem"], "BENCH_CORE_PW"),
                 "certreq (EC P-256, new PKCS#12)": derivation_floor(3, after="libcrypto EC floor"),
                 "sign": derivation_floor(3, after="libcrypto EC floor"),
                 "receive": derivation_floor(4, after="libcrypto EC floor")}
    floors = dict.fromkeys(["MAC floor", "cryptography floor", "libcrypto EC floor", *floor_of.values()])  # the first
    # three are shown beside (the cryptography floor for reference: what loading cryptography for them would cost)
    jobs = {"python": install.pass_(), **{name: install.floor(name) for name in floors}, **commands,
            "keytool -list": ["keytool", "-list", "-storetype", "PKCS12", "-keystore", str(files["one.p12"]),
                              "-storepass:env", "BENCH_CORE_PW"],
            "openssl pkey": ["openssl", "pkey", "-in", str(files["pair.pem"]), "-passin", "env:BENCH_CORE_PW",
                             "-noout"]}
    # certreq makes web.p12 and web.csr, sign web.pem, receive changes web.p12; convert refuses an existing DEST
    before = {"certreq (EC P-256, new PKCS#12)": flow / "web.p12", "convert one.p12 to PEM": flow / "conv.pem"}
    runs = measure_runs(jobs, rounds, env, warmup=1, before=before, repeatable=set(jobs) - chained,
                        cheap_rounds=cheap_rounds)
    rows = command_rows(install, runs, commands, floor_of, ("MAC floor", "cryptography floor", "libcrypto EC floor"))
    rows.append(startup_row("list one.p12 (keytool-made)", runs, "list one.p12", "keytool -list", "keytool -list",
                            0.2))
    rows.append(startup_row("list pair.pem (encrypted key + certificate)", runs, "list pair.pem (encrypted key)",
                            "openssl pkey", "openssl pkey -noout"))
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


def lean_pkcs11(install: Install) -> str:
    """A floor's lines that import python-pkcs11 as keystores imports it (its asn1crypto helpers deferred) as
    `pkcs11`: keystores' lean import is its file keystores/backends/pkcs11/library.py, which imports nothing of
    keystores, run alone. keystores' packages above it (keystores, keystores.backends, keystores.backends.pkcs11,
    ~0.5 ms) are keystores' own cost, not the least a token command must load."""
    import subprocess

    library = subprocess.run([install.python, "-c", "import keystores.backends.pkcs11.library as m; print(m.__file__)"],
                             check=True, capture_output=True, text=True).stdout.strip()
    return ("import importlib.util\n"
            f"spec = importlib.util.spec_from_file_location('keystores_pkcs11_library', {library!r})\n"
            "library = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(library)\n"
            "pkcs11 = library.import_pkcs11()\n")


def token_floors(install: Install, module: str, pin_file: str, label: str) -> tuple[str, str]:
    """The token floors' bodies: python-pkcs11 imported leanly (lean_pkcs11), else eagerly, then the token found and
    one login. The token is found as pkcs11-tool --token-label finds it (C_GetSlotList, C_GetTokenInfo per slot):
    python-pkcs11's get_token(token_label=) also reads every slot's mechanism list (C_GetMechanismList and an enum
    made of each mechanism), ~0.3 ms that finding a token does not need."""
    login = (f"t = next(t for t in (slot.get_token() for slot in pkcs11.lib({module!r}).get_slots("
             f"token_present=True)) if t.label == {label!r})\n"
             f"s = t.open(user_pin=open({pin_file!r}).read().strip())\ns.close()\n")
    return lean_pkcs11(install) + login, "import pkcs11\n" + login


def token_ctypes_floor(module: str, pin_file: str, label: str) -> str:
    """A reference floor's body, shown beside the token floors: the same token found and logged in to without
    python-pkcs11, through ctypes straight to the module's exported C_ functions (C_Initialize, C_GetSlotList,
    C_GetTokenInfo per slot, C_OpenSession, C_Login, C_CloseSession, C_Finalize). What a PKCS#11 binding of
    keystores' own would leave of a token command's floor: python-pkcs11's import (its enums) is most of the token
    floor's time over `python -c pass` (issue 15, the token rows). ctypes here is the package (the lean one keystores
    uses needs its own prototypes: ~1.7 ms less); a failed call raises (a wrong label or PIN)."""
    return ("import ctypes\n"
            f"lib = ctypes.CDLL({module!r})\n"
            "ul = ctypes.c_ulong\n"
            "assert lib.C_Initialize(None) == 0\n"
            "n = ul(0)\n"
            "assert lib.C_GetSlotList(1, None, ctypes.byref(n)) == 0\n"
            "slots = (ul * n.value)()\n"
            "assert lib.C_GetSlotList(1, slots, ctypes.byref(n)) == 0\n"
            "info = ctypes.create_string_buffer(512)  # CK_TOKEN_INFO (its label is the first 32 bytes)\n"
            "for slot in slots[:n.value]:\n"
            "    assert lib.C_GetTokenInfo(ul(slot), info) == 0\n"
            f"    if info.raw[:32].rstrip(b' ') == {label.encode()!r}:\n"
            "        break\n"
            "else:\n"
            "    raise SystemExit('no such token')\n"
            "session = ul()\n"
            "assert lib.C_OpenSession(ul(slot), ul(4), None, None, ctypes.byref(session)) == 0  # CKF_SERIAL_SESSION\n"
            f"pin = open({pin_file!r}).read().strip().encode()\n"
            "assert lib.C_Login(session, ul(1), pin, ul(len(pin))) == 0  # CKU_USER\n"
            "lib.C_CloseSession(session)\n"
            "lib.C_Finalize(None)\n")


def store_rows(folder: Path, install: Install, env: dict[str, str], rounds: int, cheap_rounds: int) -> list[str]:
    """Start-up of the commands admins run in loops on a small store of the other formats (README's cheat sheet:
    keytool -list, runmqakm -cert -list with the stash, certutil -L, pkcs11-tool -O and --write-object, a cron
    audit), each against `python -c pass` (goal 2.5x) and against its floor: the MAC floor for the file stores,
    BCFKS's two derivations for the BCFKS, and for the token python-pkcs11 imported as keystores imports it (its
    asn1crypto helpers deferred, backends/pkcs11/library.py) that loads SoftHSM and logs in, which python-pkcs11 and
    SoftHSM cost whatever we do (the eager import beside it).
    An import is followed by the delete that undoes it, so each round starts from the same store."""
    env = dict(env)
    ours = install.keystores
    stores = _format_stores(folder, env)
    token = _token(folder, ours, env, folder / "one.p12")
    pw = ["--password", "env:BENCH_CORE_PW"]
    extra = str(folder / "extra.pem")
    commands = {
        "list s.jks": [*ours, "list", stores["s.jks"], *pw],
        "import extra.pem s.jks": [*ours, "import", extra, stores["s.jks"], "--label", "extra", "--dest-password",
                                   "env:BENCH_CORE_PW"],
        "delete s.jks extra": [*ours, "delete", stores["s.jks"], "extra", *pw],
        "list s.kdb (stash)": [*ours, "list", stores["s.kdb"]],
        "audit s.kdb (stash)": [*ours, "audit", stores["s.kdb"]],
        "list sql:nss": [*ours, "list", stores["sql:nss"], *pw],
        "list s.bcfks": [*ours, "list", stores["s.bcfks"], *pw],
    }
    floor_of = {name: "BCFKS floor" if name == "list s.bcfks" else "MAC floor" for name in commands}
    # its two files opened and its password check (one derivation at certutil's 10,000 and an AES-CBC)
    floor_of["list sql:nss"] = nss_floor(folder / "nss", "BENCH_CORE_PW")
    jobs = {"python": install.pass_(), "MAC floor": install.floor("MAC floor"), floor_of["list sql:nss"]:
            install.floor(floor_of["list sql:nss"]),
            "BCFKS floor": install.floor("BCFKS floor")}
    if token is not None:
        lean, eager = token_floors(install, token["module"], token["pin"][5:], "bench")
        jobs |= {"token floor": install.floor("token floor", lean),
                 "token floor, eager": install.floor("token floor, eager", eager),
                 "token floor, ctypes": install.floor("token floor, ctypes", token_ctypes_floor(
                     token["module"], token["pin"][5:], "bench"))}
        tokens = {"list token": [*ours, "list", token["uri"], "--pin", token["pin"]],
                  "show token server": [*ours, "show", token["uri"], "server", "--pin", token["pin"]],
                  "export token server": [*ours, "export", token["uri"], "server", "--pin", token["pin"], "-o",
                                          str(folder / "token-server.pem"), "--force"],
                  "import extra.pem token": [*ours, "import", extra, token["uri"], "--label", "extra",
                                             "--dest-password", token["pin"]],
                  "delete token extra": [*ours, "delete", token["uri"], "extra", "--pin", token["pin"]]}
        commands |= tokens
        floor_of |= dict.fromkeys(tokens, "token floor")
    jobs |= commands
    # an import is undone by the delete after it: both run only in the rounds of every job
    paired = {"import extra.pem s.jks", "delete s.jks extra", "import extra.pem token", "delete token extra"}
    runs = measure_runs(jobs, rounds, env, warmup=1, before={}, repeatable=set(jobs) - paired,
                        cheap_rounds=cheap_rounds)
    return command_rows(install, runs, commands, floor_of,
                        ("token floor, eager", "token floor, ctypes") if token is not None else ())


if __name__ == "__main__":
    print("\n".join(main(quick="--quick" in sys.argv)))
