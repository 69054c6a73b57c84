"""Start-up of every command a user runs on a small store that bench_core.py does not time (issue 15 item 2), as
users get it (the `keystores` console script of a wheel in a clean venv, harness.user_install), each against that
venv's `python -c pass` (goal <= 2.5x) and against its floor, in one interleaved run:

- writes on bench_core's small stores (a key pair with its CA and the CA trusted; keytool's one.p12; extra.pem, one
  certificate): `import` into the .kdb (opened by its stash) and NSS, `convert one.p12` to .kdb, JKS, PKCS#12 and
  NSS, `passwd` of the JKS, .kdb and NSS, `rename` (JKS, NSS), `trust` (.kdb, NSS), `set-default` and `delete` on
  the .kdb, `delete` on NSS, `create` of a .kdb with its stash, of a PKCS#12 and of an NSS database, `stash`,
  `selfsign` into a new PKCS#12, `nss add-module`, `ams conf` (a keystore.conf for the .kdb's key pair);
- the rest: `validate` on the .kdb, `dn normalize` and `compare`, `backends`, `ams render`, `ams check` (the
  policies alone), `ams map` of the .kdb's key pair, `nss modules`, and with SoftHSM `tokens` and `java-config`.
Not here: `--help` and completion (typer's, allowed to be slow) and NOT_TIMED.

A write starts from a fresh copy every round: each write job has a folder of its own, emptied and filled with
the store's files by the harness before each run, outside the timed span (harness.measure_runs' `before`), so the
copy is in no row; what the copy costs is measured beside them as rows of its own (`cp -a` of the same files).

Floors (harness.FLOORS, made the same way as the console script and run in the same rounds): pip's launcher alone
for commands that read no store; + the built-in SHA-1 and one HMAC (the MAC floor) for the JKS and .kdb, whose
derivations are negligible (JKS: one SHA-1 over the file; .kdb v4: the stash, and GSKit's 5-iteration PKCS#12 KDF
for a key); and where the format mandates key derivations at the counts the native tool writes (PBKDF2 and the
PKCS#12 KDF at 10,000: keytool's PKCS#12 and our modern profile, certutil's NSS), that many PBKDF2-HMAC-SHA256 at
10,000 done the cheapest way (harness.derivation_floor), counted as below. The counts are what keystores derives today
(counted by wrapping keystores.crypto.pbkdf2.pbkdf2_hmac and keystores.crypto.kdf.pkcs12_kdf): reading keytool's
one.p12 derives 3 (its MAC, its certificate bag, its key bag), writing a PKCS#12 3 (key bag, certificate bag, MAC),
opening a password-protected NSS database 1 (its password check); NSS's import of a trusted certificate 7 more (a
MAC per trust attribute, each with its own salt, as NSS writes them), a key pair's EC key written into a new NSS
database 2 (its encrypted value and that value's MAC), a new password over the small NSS database 19 (its password
check made again; its one key decrypted and encrypted again; its 8 MACs checked and made again). These counts were
9 and 34 until 2026-12-07 (measured again by wrapping, as above: too kind to us). An NSS write on the small database
(rename, trust off, delete, import) is held to the NSS floor (harness.nss_floor: its password check's derivation,
with both files opened by `_sqlite3` and the check's AES-CBC through libcrypto, which no tool skips) + what the change
itself must do whatever the tool (harness.nss_change_floor), on a fresh copy of its own made before each run as the
command's: the rows certutil writes for it, a transaction per file written, committed with SQLite's defaults, and a
derivation per MAC item certutil adds or changes for it (counted in what certutil writes: import's trusted
certificate 7; rename and delete none; trust off none, as its trust object is removed: certutil -M rewrites the
object and its 7 MACs, which a tool need not do for the same ",,"). `create sql:new` is held to what `certutil -N`
must do (harness.nss_create_floor: both files' schema, the password check's one derivation and AES-CBC), and
`convert one.p12 to sql:nss` to that + one.p12's read (3 derivations and 2 AES-CBC, as derivation_floor stands them
in) + the rows pk12util -i writes for its key pair in the same transactions (private key, public key, certificate)
with the 2 derivations NSS makes for them (harness.nss_convert_floor). passwd on NSS is held to the NSS floor + what
certutil -W must do (harness.nss_passwd_floor): its 19 derivations, the key's value decrypted and encrypted again,
the MAC items checked and made again, and the rows it changes in one transaction on key4.db, on a fresh copy. certreq
is held to the libcrypto EC floor + its own derivations.
`selfsign` into a new PKCS#12 is held to the libcrypto EC floor (bench_core) + its 3. A count that is more than the
format mandates makes the floor too kind to us, never too strict.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_core import ENV, _format_stores, _small_stores, _token, lean_pkcs11
from harness import (
    FLOOR_WHAT,
    Install,
    command_rows,
    derivation_floor,
    measure_runs,
    nss_change_floor,
    nss_convert_floor,
    nss_create_floor,
    nss_passwd_floor,
    startup_row,
    user_install,
)

FLOOR_WHAT["token library floor"] = ("the launcher + python-pkcs11 as keystores imports it (its library.py alone) + "
                                     "SoftHSM's slots (no login)")

# The commands no bench module times, and why (tests/test_bench_harness.py holds every other command of the CLI to
# a row in bench_core.py or here)
NOT_TIMED = {
    "ams protect": "needs an AMS putter and getter with RSA keys (bench_core's small stores hold EC keys)",
    "ams unprotect": "needs a message `ams protect` made for an RSA getter",
    "nss remove-module": "needs a module registered first: `nss add-module` is timed",
    "init-token": "needs a free SoftHSM slot, and each run makes a token",
}

# (rounds of every job, rounds of the cheap ones) by quick; the writes run in the first number only (each needs its
# fresh copy, and a write is rarely cheap). Quick: seven, where four (a median of the middle two) moved a row near its
# goal by about 10% from one CI run to the next, on the same code.
ROUNDS = {True: (7, 13), False: (11, 25)}


def _certificate_of(p12: Path) -> bytes:
    """The DER of the certificate in `p12` (bench_core's one.p12, its password BENCH_CORE_PW's)."""
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

    _, certificate, _ = pkcs12.load_key_and_certificates(p12.read_bytes(), ENV["BENCH_CORE_PW"].encode())
    assert certificate is not None
    return certificate.public_bytes(Encoding.DER)


def _fresh(folder: Path, sources: list[Path]) -> Callable[[], None]:
    """What runs before each run of a write job: `folder` emptied and given a copy of `sources` (files or folders)."""

    def prepare() -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir()
        for source in sources:
            if source.is_dir():
                shutil.copytree(source, folder / source.name)
            else:
                shutil.copy2(source, folder / source.name)

    return prepare


def main(quick: bool) -> list[str]:
    env = {**os.environ, **ENV}
    install = user_install()
    with tempfile.TemporaryDirectory(prefix="bench-commands-") as tmp:
        return [*command_rows_of(Path(tmp), install, env, *ROUNDS[quick])]


def command_rows_of(folder: Path, install: Install, env: dict[str, str], rounds: int,
                    cheap_rounds: int) -> list[str]:
    ours = install.keystores
    files = _small_stores(folder, ours, env)
    stores = _format_stores(folder, env)
    token = _token(folder, ours, env, files["one.p12"])
    pw = ["--password", "env:BENCH_CORE_PW"]
    dest_pw = ["--dest-password", "env:BENCH_CORE_PW"]
    new_pw = ["--new-password", "env:BENCH_CORE_PW"]
    kdb = [folder / name for name in ("s.kdb", "s.rdb", "s.sth")]
    jks, nss = [folder / "s.jks"], [folder / "nss"]
    one, extra = str(files["one.p12"]), str(folder / "extra.pem")
    policies = folder / "pay.spl"
    module = token["module"] if token is not None else "/usr/lib/softhsm/libsofthsm2.so"  # registered, not loaded
    policies.write_text('setmqspl -m QM1 -p PAY.Q -s SHA256 -a "CN=alice,O=bank" -e AES256 -r "CN=bob,O=bank"\n')

    # name -> (argv made from the job's own folder, the files copied into it before each run, floor)
    mac, launcher = "MAC floor", "console-script floor"
    p12_read, p12_write = 3, 3
    # An NSS write's floor writes its own fresh copy of that database, made before each of its runs as the command's
    floors = folder / "floors"
    floors.mkdir()
    changed = {change: nss_change_floor(floors / change.replace(" ", "-") / "nss", "BENCH_CORE_PW", change, **what)
               for change, what in (("rename", {"label": b"ca", "new": b"root"}), ("trust off", {"label": b"ca"}),
                                    ("delete", {"label": b"ca"}),
                                    ("import", {"label": b"extra", "pem": str(folder / "extra.pem")}))}
    fresh_floors = {name: _fresh(floors / change.replace(" ", "-"), nss) for change, name in changed.items()}
    created = nss_create_floor(floors / "create" / "new", "BENCH_CORE_PW")
    fresh_floors[created] = _fresh(floors / "create", [])
    # one.p12's key pair into a new database: its certificate is what the floor writes (the key's value stands in)
    converted = nss_convert_floor(floors / "convert" / "c", "BENCH_CORE_PW", _certificate_of(files["one.p12"]),
                                  source_derivations=p12_read, source_ciphers=2)
    fresh_floors[converted] = _fresh(floors / "convert", [])
    fresh_floors["passwd"] = _fresh(floors / "passwd", nss)
    fresh_floors["passwd"]()  # the floor counts the copy's encrypted values and MAC items
    new_password = nss_passwd_floor(floors / "passwd" / "nss", "BENCH_CORE_PW", "BENCH_CORE_PW")
    fresh_floors[new_password] = fresh_floors.pop("passwd")
    writes: dict[str, tuple[Callable[[Path], list[str]], list[Path], str]] = {
        "import extra.pem s.kdb (stash)": (lambda w: [*ours, "import", extra, str(w / "s.kdb"), "--label", "extra"],
                                           kdb, mac),
        "import extra.pem sql:nss": (lambda w: [*ours, "import", extra, f"sql:{w / 'nss'}", "--label", "extra",
                                                *dest_pw], nss, changed["import"]),
        "convert one.p12 to .kdb (stash)": (lambda w: [*ours, "convert", one, str(w / "c.kdb"), *pw, *dest_pw,
                                                       "--stash"], [], derivation_floor(p12_read, ciphers=2)),
        "convert one.p12 to JKS": (lambda w: [*ours, "convert", one, str(w / "c.jks"), *pw, *dest_pw], [],
                                   derivation_floor(p12_read, ciphers=2)),
        "convert one.p12 to PKCS#12": (lambda w: [*ours, "convert", one, str(w / "c.p12"), *pw, *dest_pw], [],
                                       derivation_floor(p12_read + p12_write, ciphers=4)),
        "convert one.p12 to sql:nss": (lambda w: [*ours, "convert", one, f"sql:{w / 'c'}", *pw, *dest_pw], [],
                                       converted),
        "passwd s.jks": (lambda w: [*ours, "passwd", str(w / "s.jks"), *pw, *new_pw], jks, mac),
        "passwd s.kdb (and its stash)": (lambda w: [*ours, "passwd", str(w / "s.kdb"), *pw, *new_pw], kdb, mac),
        "passwd sql:nss": (lambda w: [*ours, "passwd", f"sql:{w / 'nss'}", *pw, *new_pw], nss, new_password),
        "rename s.jks": (lambda w: [*ours, "rename", str(w / "s.jks"), "ca", "root", *pw], jks, mac),
        "rename sql:nss": (lambda w: [*ours, "rename", f"sql:{w / 'nss'}", "ca", "root", *pw], nss,
                           changed["rename"]),
        "trust s.kdb ca off": (lambda w: [*ours, "trust", str(w / "s.kdb"), "ca", "off"], kdb, mac),
        "trust sql:nss ca off": (lambda w: [*ours, "trust", f"sql:{w / 'nss'}", "ca", "off", *pw], nss,
                                 changed["trust off"]),
        "set-default s.kdb server": (lambda w: [*ours, "set-default", str(w / "s.kdb"), "server"], kdb, mac),
        "delete s.kdb ca": (lambda w: [*ours, "delete", str(w / "s.kdb"), "ca"], kdb, mac),
        "delete sql:nss ca": (lambda w: [*ours, "delete", f"sql:{w / 'nss'}", "ca", *pw], nss,
                              changed["delete"]),
        "create new.kdb --stash": (lambda w: [*ours, "create", str(w / "new.kdb"), *pw, "--stash"], [], mac),
        "create new.p12": (lambda w: [*ours, "create", str(w / "new.p12"), *pw], [], derivation_floor(1)),
        "create sql:new": (lambda w: [*ours, "create", f"sql:{w / 'new'}", *pw], [], created),
        "stash s.kdb": (lambda w: [*ours, "stash", str(w / "s.kdb"), *pw], kdb, mac),
        "nss add-module sql:nss": (lambda w: [*ours, "nss", "add-module", f"sql:{w / 'nss'}", "--name", "Bench HSM",
                                              "--library", module], nss, launcher),
        "ams conf s.kdb server": (lambda w: [*ours, "ams", "conf", stores["s.kdb"], "--label", "server", "-o",
                                             str(w / "keystore.conf")], [], mac),
        "selfsign new.p12 (EC P-256)": (lambda w: [*ours, "selfsign", str(w / "new.p12"), "--label", "me", "--dn",
                                                   "CN=me", "--key-type", "ec:p256", *pw], [],
                                        derivation_floor(p12_write, after="libcrypto EC floor")),
    }
    reads: dict[str, tuple[list[str], str]] = {
        "validate s.kdb server (stash)": ([*ours, "validate", stores["s.kdb"], "server"], mac),
        "dn normalize": ([*ours, "dn", "normalize", "cn=web, o=bank , c=GB"], launcher),
        "dn compare": ([*ours, "dn", "compare", "CN=web,O=bank,C=GB", "cn=web, o=bank , c=GB"], launcher),
        "backends": ([*ours, "backends"], launcher),
        "ams render (one policy)": ([*ours, "ams", "render", "--policies", str(policies), "--qmgr", "QM1"],
                                    launcher),
        "ams check (one policy)": ([*ours, "ams", "check", "--policies", str(policies), "--qmgr", "QM1"], launcher),
        "ams map s.kdb server": ([*ours, "ams", "map", stores["s.kdb"], "server", "--user", "BOB"], mac),
        "nss modules sql:nss": ([*ours, "nss", "modules", stores["sql:nss"]], launcher),
    }
    jobs: dict[str, list[str]] = {"python": install.pass_()}
    before: dict[str, Callable[[], None]] = {}
    floor_of: dict[str, str] = {}
    commands: dict[str, list[str]] = {}
    java_config = folder / "java-config"
    if token is not None:
        slots = lean_pkcs11(install) + f"list(pkcs11.lib({token['module']!r}).get_slots(token_present=True))\n"
        jobs["token library floor"] = install.floor("token library floor", slots)
        reads["tokens"] = ([*ours, "tokens", "--module", token["module"]], "token library floor")
        reads["java-config pkcs11:token=bench"] = ([*ours, "java-config", token["uri"], "--out", str(java_config)],
                                                  "token library floor")
        before["java-config pkcs11:token=bench"] = _fresh(java_config, [])
    work = folder / "work"
    work.mkdir()
    for index, (name, (argv, sources, floor)) in enumerate(writes.items()):
        own = work / f"w{index}"
        commands[name], floor_of[name] = argv(own), floor
        before[name] = _fresh(own, sources)
    for name, (argv, floor) in reads.items():
        commands[name], floor_of[name] = argv, floor
    copies = {"copy s.jks": jks, "copy s.kdb, .rdb, .sth": kdb, "copy sql:nss": nss}
    for index, (name, sources) in enumerate(copies.items()):
        own = work / f"copy{index}"
        jobs[name] = ["cp", "-a", *map(str, sources), str(own)]
        before[name] = _fresh(own, [])
    jobs |= {name: install.floor(name) for name in dict.fromkeys(floor_of.values()) if name not in jobs}
    jobs |= commands
    before |= fresh_floors
    # the writes and their floors (each made afresh before its run) run only in the rounds of every job
    runs = measure_runs(jobs, rounds, env, warmup=1, before=before,
                        repeatable=set(jobs) - set(writes) - set(fresh_floors), cheap_rounds=cheap_rounds)
    rows = command_rows(install, runs, commands, floor_of)
    rows += [startup_row(f"{name} (made before each write, outside its time)", runs, name, "python",
                         install.baseline) for name in copies]
    return rows


if __name__ == "__main__":
    print("\n".join(main(quick="--quick" in sys.argv)))
