"""Interleaved timing of keystores against a native tool: ratios, not absolute times.

Each round runs every command once, in turn, so machine noise falls on all of them alike.

Start-up rows (issue 15 item 2) are measured as users get them, one way for every bench module:
- `user_install()` builds a wheel of this checkout offline (`pip wheel --no-deps --no-build-isolation`) and installs
  it into a clean venv made from the base interpreter, whose dependencies come from the development venv through a
  plain path line in a .pth (so no editable finder, no ibm_db or setuptools .pth hooks run at start-up: the
  development venv's `python -c pass` carries ~20 ms of them, which flattered every ratio about 2x). Commands run
  as the `keystores` console script pip wrote; the baseline is that venv's own `python -c pass`. If the wheel
  cannot be built or does not work, the development venv is used and every start-up row says so.
- `Install.floor()` writes a floor script beside the console script, its launcher with keystores' import replaced
  by the least work a command of a kind must do (FLOORS), so that each command is also measured against its floor.
- `measure_runs()` runs jobs interleaved, keeping each run's wall time, CPU time (user + sys) and peak memory; the
  cheap ones in more rounds; `startup_row()` is the one row format: wall ratio, CPU ratio beside it.
"""

from __future__ import annotations

import atexit
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(argv: Sequence[str], env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> float:
    return run_timed(argv, env, stdin)[0]


def run_timed(argv: Sequence[str], env: Mapping[str, str] | None = None,
              stdin: bytes | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + sys of the command and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, input=stdin, capture_output=True, env={**os.environ, **(env or {})}, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({done.returncode}): {done.stderr.decode(errors='replace')[:300]}")
    return elapsed, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def interleaved(jobs: Mapping[str, Sequence[str]], rounds: int = 7, *, env: Mapping[str, str] | None = None,
                warmup: int = 1) -> dict[str, float]:
    """Median seconds per job name."""
    return {name: wall for name, (wall, _) in interleaved_cpu(jobs, rounds, env=env, warmup=warmup).items()}


def interleaved_cpu(jobs: Mapping[str, Sequence[str]], rounds: int = 7, *, env: Mapping[str, str] | None = None,
                    warmup: int = 1) -> dict[str, tuple[float, float]]:
    """(median wall seconds, median CPU seconds) per job name, from the same runs."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in jobs}
    for i in range(warmup + rounds):
        for name, argv in jobs.items():
            measured = run_timed(argv, env)
            if i >= warmup:
                times[name].append(measured)
    return {name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
            for name, values in times.items()}


def row(job: str, ours: float, theirs: float, native: str, goal: float | None = None, *,
        cpu: tuple[float, float] | None = None) -> str:
    """A table row; `cpu` (ours, theirs) puts the CPU ratio beside the job's name, as the start-up rows have it."""
    ratio = ours / theirs if theirs else float("nan")
    if cpu is not None and cpu[1]:
        job = f"{job} (CPU {cpu[0] / cpu[1]:.2f}x)"
    verdict = "" if goal is None else ("  ok" if ratio <= goal else f"  MISSES goal {goal}x")
    return f"| {job} | {ours * 1000:.0f} ms | {native} {theirs * 1000:.0f} ms | {ratio:.2f}x |{verdict}"


# --- keystores as users get it -------------------------------------------------------------------------------------

# What each floor script does between its launcher's `import sys` and its exit: the least a command of that kind
# must load and do, whatever the tool (each command row is also shown against its floor).
# Work on a second core, the cheapest way: a thread of _thread's (the threading module costs ~3.6 ms to import, and
# keystores.crypto.kdf_pool starts its workers this way since 2026-12-07), `done` released when it returns; the
# floor's last line waits for it with done.acquire().
_SIDE_BY_SIDE = ("import _thread\ndone = _thread.allocate_lock()\ndone.acquire()\n"
                 "def beside(work):\n    def run():\n        try:\n            work()\n        finally:\n"
                 "            done.release()\n    _thread.start_new_thread(run, ())\n")

# keystores' own lean ctypes (keystores/crypto/lean_ctypes.py: ctypes' types and CDLL made from _ctypes, without the
# ~7.5 M instructions of ctypes/__init__.py), as `ctypes`, once per floor: a floor reaches the interpreter's libcrypto
# the cheapest way keystores knows. Its file runs alone (it imports nothing of keystores) through importlib's frozen
# loader, so the floor imports nothing else for it (no braces here: _AES_CBC is formatted); in the development venv,
# whose editable install puts no keystores folder on sys.path, found by its finder (keystores is not imported).
LEAN_CTYPES = (
    "try:\n    ctypes\nexcept NameError:\n"
    "    import _frozen_importlib as _floor_bootstrap, _frozen_importlib_external as _floor_external\n"
    "    import sys as _floor_sys\n"
    "    _floor_file = next((file for file in (folder + '/keystores/crypto/lean_ctypes.py'\n"
    "                                          for folder in _floor_sys.path) if os.path.isfile(file)), None)\n"
    "    if _floor_file is None:  # the development venv's editable finder knows where keystores is\n"
    "        _floor_spec = next(spec for spec in (finder.find_spec('keystores', None)\n"
    "                                             for finder in _floor_sys.meta_path if hasattr(finder, 'find_spec'))\n"
    "                           if spec is not None)\n"
    "        _floor_file = _floor_spec.submodule_search_locations[0] + '/crypto/lean_ctypes.py'\n"
    "    _floor_loader = _floor_external.SourceFileLoader('lean_ctypes', _floor_file)\n"
    "    ctypes = _floor_bootstrap.module_from_spec(_floor_bootstrap.spec_from_loader('lean_ctypes', _floor_loader))\n"
    "    _floor_loader.exec_module(ctypes)\n"
)

FLOORS = {
    # pip's console-script launcher alone (whatever it imports: `re` in older pips, `sys` in newer)
    "console-script floor": "",
    # a store's MAC or keyed digest (a small .kdb's HMAC-SHA1, JKS's keyed SHA-1), the cheapest way: the
    # interpreter's built-in SHA-1 and one HMAC by hand (RFC 2104). hashlib and hmac would also load libcrypto,
    # which keystores no longer loads for a small .kdb (keystores.crypto.digests)
    "MAC floor": ("import _sha1\nkey = b'key'.ljust(64, b'\\0')\n"
                  "inner = _sha1.sha1(bytes(b ^ 0x36 for b in key) + b'store').digest()\n"
                  "_sha1.sha1(bytes(b ^ 0x5C for b in key) + inner).digest()\n"),
    # certreq/sign/receive: cryptography's EC module (its Rust binding, hashes, serialization with it), one P-256
    # key made and one signature, with an ECDSA that skips ECDSA.__init__'s import of the openssl backend module
    # (it is needed only for deterministic signing; keystores/crypto/signatures.py does the same)
    "cryptography floor": (
        "from cryptography.hazmat.primitives import hashes\n"
        "from cryptography.hazmat.primitives.asymmetric import ec\n"
        "class ECDSA(ec.ECDSA):\n"
        "    def __init__(self, algorithm):\n        self._algorithm = algorithm\n"
        "    algorithm = property(lambda self: self._algorithm)\n"
        "    deterministic_signing = property(lambda self: False)\n"
        "ec.generate_private_key(ec.SECP256R1()).sign(b'request', ECDSA(hashes.SHA256()))\n"),
    # certreq/sign/receive/selfsign with an EC key in a file, the cheapest way there is: the interpreter's own
    # libcrypto (loaded with hashlib, reached through ctypes, as keystores.crypto.ec_keys does), one P-256 key made
    # and one signature. The cryptography floor above costs more; keystores no longer loads cryptography for these
    # (2026-12-07), so they are held to this one.
    "libcrypto EC floor": (
        "import _hashlib, os\n" + LEAN_CTYPES +
        "lib = ctypes.CDLL('libcrypto.so.3', mode=os.RTLD_NOLOAD)\n"
        "p, n, size_p = ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_size_t)\n"
        "for name, args, res in (('EVP_PKEY_CTX_new_id', [n, p], p), ('EVP_PKEY_keygen_init', [p], n),\n"
        "        ('EVP_PKEY_CTX_set_ec_paramgen_curve_nid', [p, n], n),\n"
        "        ('EVP_PKEY_keygen', [p, ctypes.POINTER(p)], n),\n"
        "        ('EVP_sha256', [], p), ('EVP_MD_CTX_new', [], p), ('EVP_DigestSignInit', [p, p, p, p, p], n),\n"
        "        ('EVP_DigestSign', [p, ctypes.c_char_p, size_p, ctypes.c_char_p, ctypes.c_size_t], n)):\n"
        "    getattr(lib, name).argtypes, getattr(lib, name).restype = args, res\n"
        "ctx, key, size = lib.EVP_PKEY_CTX_new_id(408, None), p(), ctypes.c_size_t(0)\n"
        "lib.EVP_PKEY_keygen_init(ctx); lib.EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, 415)\n"
        "lib.EVP_PKEY_keygen(ctx, ctypes.byref(key))\n"
        "md = lib.EVP_MD_CTX_new()\nlib.EVP_DigestSignInit(md, None, lib.EVP_sha256(), None, key)\n"
        "lib.EVP_DigestSign(md, None, ctypes.byref(size), b'request', 7)\n"
        "signature = ctypes.create_string_buffer(size.value)\n"
        "assert lib.EVP_DigestSign(md, signature, ctypes.byref(size), b'request', 7) == 1\n"),
    # what opening any BCFKS costs whatever the reader: Bouncy Castle's two PBKDF2-HMAC-SHA512 runs at the 51,200
    # iterations it writes (the MAC key and the store key), side by side as keystores derives them, with
    # cryptography's PBKDF2 (the one keystores.crypto.pbkdf2 uses at that count)
    "BCFKS floor": (
        "from cryptography.hazmat.primitives import hashes\n"
        "from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC\n"
        "def derive(purpose):\n    PBKDF2HMAC(hashes.SHA512(), 64, bytes(64), 51200).derive(purpose)\n"
        + _SIDE_BY_SIDE + "beside(lambda: derive(b'store'))\nderive(b'mac')\ndone.acquire()\n"),
}


# From this many derivations on, loading cryptography for its PBKDF2 is the cheaper way. On this session's AMD EPYC
# (SHA-NI; 2026-12-07, CPU time in one process): hashlib 2.25-2.37 ms per PBKDF2-HMAC-SHA256 at 10,000, cryptography
# 1.19-1.21 ms after ~15 ms of CPU to load it: even at 13-14 derivations one after the other, more side by side
# (the load is not shared between cores). 7 derivations two side by side: 30.4 ms by _hashlib against 39.9 ms by
# cryptography (cpu.py, 21 rounds, pass 10.0 ms). It was 6, from the Intel machine (hashlib 3.2 ms, load ~8 ms)
CRYPTOGRAPHY_FROM = 14
# The floors whose work loads cryptography anyway: derivations after them use its PBKDF2
_LOADS_CRYPTOGRAPHY = {"cryptography floor", "BCFKS floor"}


# `ciphers` AES-256-CBC decryptions of 1 KiB by the interpreter's libcrypto (loaded by _hashlib, reached through
# ctypes):
# what a floor pays to decrypt a store's encrypted parts without cryptography (derivation_floor's `ciphers`)
_AES_CBC = (
    "import _hashlib, os\n" + LEAN_CTYPES +
    "lib = ctypes.CDLL('libcrypto.so.3', mode=os.RTLD_NOLOAD)\n"
    "p, n = ctypes.c_void_p, ctypes.c_int\n"
    "lib.EVP_CIPHER_CTX_new.restype = lib.EVP_aes_256_cbc.restype = p\n"
    "lib.EVP_DecryptInit_ex.argtypes = [p, p, p, ctypes.c_char_p, ctypes.c_char_p]\n"
    "lib.EVP_DecryptUpdate.argtypes = [p, ctypes.c_char_p, ctypes.POINTER(n), ctypes.c_char_p, n]\n"
    "for _ in range({count}):\n"
    "    context, out, size = lib.EVP_CIPHER_CTX_new(), ctypes.create_string_buffer(1040), n()\n"
    "    lib.EVP_DecryptInit_ex(context, lib.EVP_aes_256_cbc(), None, bytes(32), bytes(16))\n"
    "    assert lib.EVP_DecryptUpdate(context, out, ctypes.byref(size), bytes(1024), 1024) == 1\n"
)


def derivation_floor(count: int, iterations: int = 10_000, *, after: str | None = None, ciphers: int = 0) -> str:
    """The name of a floor (made on first use) that does `count` key derivations at `iterations`, the least a
    command on a password-protected store must derive whatever the tool: PBKDF2-HMAC-SHA256, standing in for each
    PBKDF2 and PKCS#12 KDF the format mandates at that count (a PKCS#12 KDF round hashes one block, a PBKDF2 round
    two: the stand-in is no cheaper), the cheapest way: through hashlib, or cryptography's PBKDF2 from
    CRYPTOGRAPHY_FROM derivations on or when `after` loads cryptography anyway
    (_LOADS_CRYPTOGRAPHY); two side by side (each releases the
    GIL: two cores) where there are two or more, as keystores derives them. Which count each command is held to is
    the caller's (bench_commands.py says why for each). `after` names a floor whose work comes first (a command that
    must also load cryptography). `ciphers`: how many AES-256-CBC operations on the store's encrypted parts the
    format mandates besides (keytool's PKCS#12: its certificate bag to list it, its key bag too to read it whole,
    both again to write one), done as any tool must without cryptography: by the interpreter's libcrypto through
    ctypes (the NSS and PEM key floors decrypt the same way), each over 1 KiB (one.p12's bags are smaller)."""
    derived = f"{count} derivation{'s' if count != 1 else ''}" + (f" at {iterations:,}" if iterations != 10_000 else "")
    if ciphers:
        derived += f" + {ciphers} AES-CBC"
    name = f"{after} + {derived}" if after else f"{derived} floor"
    if name in FLOORS:
        return name
    work, how = _derivations(count, iterations, after)
    if ciphers:
        work += _AES_CBC.format(count=ciphers)
    FLOORS[name] = (FLOORS[after] if after else "") + work
    what = f"{count} PBKDF2-HMAC-SHA256 at {iterations:,} ({how}{', two side by side' if count > 1 else ''})"
    if ciphers:
        what += f" + {ciphers} AES-256-CBC (libcrypto through ctypes)"
    FLOOR_WHAT[name] = f"the {after} + {what}" if after else f"the launcher + {what}"
    return name


def _derivations(count: int, iterations: int, after: str | None, *, secret: str = "b'benchpass1'",
                 salt: str = "salt.to_bytes(16, 'big')") -> tuple[str, str]:
    """(code, engine's name) of `count` PBKDF2-HMAC-SHA256 at `iterations` as derivation_floor does them, each key
    kept in `derived` by its number `salt` (a floor that writes what it derived, nss_change_floor, uses them); the
    password and salt are the code expressions `secret` and `salt`."""
    if after in _LOADS_CRYPTOGRAPHY or count >= CRYPTOGRAPHY_FROM:
        engine = ("from cryptography.hazmat.primitives import hashes\n"
                  "from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC\n"
                  "derived = {}\n"
                  f"derive = lambda salt: derived.__setitem__(salt, PBKDF2HMAC(hashes.SHA256(), 32, {salt}, "
                  f"{iterations}).derive({secret}))\n")
        how = "cryptography's PBKDF2"
    else:
        engine = ("import _hashlib\nderived = {}\n"
                  f"derive = lambda salt: derived.__setitem__(salt, _hashlib.pbkdf2_hmac('sha256', {secret}, {salt}, "
                  f"{iterations}, 32))\n")
        how = "_hashlib"
    if count > 1:
        work = (_SIDE_BY_SIDE + f"beside(lambda: [derive(s) for s in range(0, {count}, 2)])\n"
                f"for salt in range(1, {count}, 2):\n    derive(salt)\ndone.acquire()\n")
    else:
        work = "derive(0)\n"
    return engine + work, how


# A floor script's DER reader, the least a floor needs to find a value in a structure it knows: children(der) gives
# (contents, whole TLV) of each value in `der` (the NSS floor here, bench_pem's PEM key floor).
DER_CHILDREN = (
    "def children(der):  # (contents, whole TLV) of each DER value in `der`\n"
    "    found, at = [], 0\n"
    "    while at < len(der):\n"
    "        size, start = der[at + 1], at + 2\n"
    "        if size & 0x80:\n"
    "            start += size & 0x7F\n"
    "            size = int.from_bytes(der[at + 2:start], 'big')\n"
    "        found.append((der[start:start + size], der[at:start + size]))\n"
    "        at = start + size\n"
    "    return found\n"
)

NSS_FLOOR = "NSS floor"


def nss_floor(folder: Path, password_variable: str) -> str:
    """The name of the floor (made again for each `folder`) of a command that opens a password-protected NSS
    database, the cheapest way whatever the tool: `_sqlite3` (the engine alone, not the sqlite3 package) opening
    folder's key4.db and cert9.db with one query each (the password-check record; the certificate objects), the one
    derivation of its password check (NSS's passKey, SHA-1 of global salt and password, through PBKDF2-HMAC-SHA256
    at the record's own count, by _hashlib) and the check's AES-256-CBC decryption by the interpreter's libcrypto
    through ctypes; it fails unless the password in `password_variable` (as the command is given it) opens the
    database. The 1-derivation NSS commands are held to it rather than to the plain 1-derivation floor, whose
    PBKDF2 alone leaves out what no tool can skip (~2.2x of `python -c pass` before any tool's own code). A
    command that changes the database is held to this + its change (nss_change_floor), one that makes one to what
    certutil -N must do (nss_create_floor)."""
    FLOORS[NSS_FLOOR] = _nss_open(folder, password_variable)
    FLOOR_WHAT[NSS_FLOOR] = ("the launcher + _sqlite3 opening key4.db and cert9.db (one query each) + 1 PBKDF2-HMAC-"
                             "SHA256 at the database's 10,000 (_hashlib) + its password check's AES-256-CBC (libcrypto "
                             "through ctypes)")
    return NSS_FLOOR


def _nss_open(folder: Path, password_variable: str) -> str:
    """The NSS floor's code (nss_floor): `keys` and `certs` are its connections to key4.db and cert9.db, `objects`
    cert9.db's objects as (id, class, nickname, value, issuer, serial), `count` the password check's iterations."""
    return (
        "import _sqlite3, _hashlib, os\n" + LEAN_CTYPES +
        f"folder = {str(folder)!r}\n"
        "keys, certs = _sqlite3.connect(folder + '/key4.db'), _sqlite3.connect(folder + '/cert9.db')\n"
        "salt, check = keys.execute(\"SELECT item1, item2 FROM metaData WHERE id = 'password'\").fetchone()\n"
        "objects = certs.execute('SELECT id, a0, a3, a11, a81, a82 FROM nssPublic').fetchall()\n"
        + DER_CHILDREN +
        "# SEQ{ SEQ{ PBES2, SEQ{ SEQ{ PBKDF2, SEQ{ salt, count, ... } }, SEQ{ AES-256-CBC, iv } } }, ciphertext }\n"
        "(algorithm, _), (ciphertext, _) = children(children(check)[0][0])\n"
        "kdf, cipher = (contents for contents, _ in children(children(algorithm)[1][0]))\n"
        "kdf_salt, count = (contents for contents, _ in children(children(kdf)[1][0])[:2])\n"
        "iv = children(cipher)[1][1][:16]  # NSS's quirk: the IV parameter's whole encoding\n"
    f"pass_key = _hashlib.openssl_sha1(salt + os.environ[{password_variable!r}].encode()).digest()\n"
        "key = _hashlib.pbkdf2_hmac('sha256', pass_key, kdf_salt, int.from_bytes(count, 'big'), 32)\n"
        "lib = ctypes.CDLL('libcrypto.so.3', mode=os.RTLD_NOLOAD)\n"
        "p, n = ctypes.c_void_p, ctypes.c_int\n"
        "lib.EVP_CIPHER_CTX_new.restype = lib.EVP_aes_256_cbc.restype = p\n"
        "lib.EVP_DecryptInit_ex.argtypes = [p, p, p, ctypes.c_char_p, ctypes.c_char_p]\n"
        "lib.EVP_DecryptUpdate.argtypes = [p, ctypes.c_char_p, ctypes.POINTER(n), ctypes.c_char_p, n]\n"
        "lib.EVP_DecryptFinal_ex.argtypes = [p, p, ctypes.POINTER(n)]\n"
        "context, out, size, last = lib.EVP_CIPHER_CTX_new(), ctypes.create_string_buffer(len(ciphertext) + 16), "
        "n(), n()\n"
        "lib.EVP_DecryptInit_ex(context, lib.EVP_aes_256_cbc(), None, key, iv)\n"
        "lib.EVP_DecryptUpdate(context, out, ctypes.byref(size), ciphertext, len(ciphertext))\n"
        "if (lib.EVP_DecryptFinal_ex(context, ctypes.addressof(out) + size.value, ctypes.byref(last)) != 1\n"
        "        or out.raw[:size.value + last.value] != b'password-check'):\n"
        "    raise SystemExit('NSS floor: the password does not open the database')\n")


# A floor's DER writer (values under 256 bytes): tlv(tag, *parts) and oid(hex of the OID's contents)
_TLV = (
    "def tlv(tag, *parts):\n"
    "    body = b''.join(parts)\n"
    "    return (bytes([tag, len(body)]) if len(body) < 128 else bytes([tag, 0x81, len(body)])) + body\n"
    "oid = lambda text: tlv(6, bytes.fromhex(text))\n"
)

# What each NSS change writes on top of the NSS floor's read, the cheapest way whatever the tool: the rows certutil
# changes for it (or fewer, where a tool may write less for the same result), through the floor's own connections,
# one transaction per file written, committed with SQLite's defaults (a rollback journal, synchronous FULL), as NSS
# commits each file on its own. `objects` rows are (id, class, nickname, value, issuer, serial); {label}, {new} and
# {pem} are the change's.
_NSS_FIND = (
    "cert = next(o for o in objects if o[1] == b'\\x00\\x00\\x00\\x01' and o[2] == {label!r})\n"
    "trust = [o for o in objects if o[1] == b'\\xceSCS' and o[4:6] == cert[4:6]]\n"
)
_NSS_CHANGES = {
    # certutil --rename: the certificate's nickname (no key here, no authenticated attribute: no MAC)
    "rename": "cert = next(o for o in objects if o[1] == b'\\x00\\x00\\x00\\x01' and o[2] == {label!r})\n"
              "certs.execute('UPDATE nssPublic SET a3 = ? WHERE id = ?', ({new!r}, cert[0]))\ncerts.commit()\n",
    # the trust object and its 7 MAC items removed: NSS reads no trust object as ",," (certutil -M -t ",," rewrites
    # the object instead, and makes its 7 MACs again: 7 derivations a tool need not make)
    "trust off": _NSS_FIND +
                 "certs.execute('DELETE FROM nssPublic WHERE id = ?', (trust[0][0],))\ncerts.commit()\n"
                 "keys.execute('DELETE FROM metaData WHERE id LIKE ?', ('sig_cert_%08x_%%' % trust[0][0],))\n"
                 "keys.commit()\n",
    # certutil -D: the certificate, its trust object and the trust object's 7 MAC items
    "delete": _NSS_FIND +
              "certs.execute('DELETE FROM nssPublic WHERE id IN (?, ?)', (cert[0], trust[0][0]))\ncerts.commit()\n"
              "keys.execute('DELETE FROM metaData WHERE id LIKE ?', ('sig_cert_%08x_%%' % trust[0][0],))\n"
              "keys.commit()\n",
    # certutil -A -t "C,C,C" of one PEM certificate: its object and its trust object (four trust levels, step-up, its
    # SHA-1 and MD5) inserted, and the trust object's 7 MAC items, each an HMAC-SHA256 under its own derived key
    # (`derived`, by the derivations before this) over the object id, attribute and value, with its salt
    "import" : (
        "import binascii, _hashlib\n"
        "with open({pem!r}, 'rb') as handle:\n"
        "    der = binascii.a2b_base64(handle.read().split(b'-----')[2])\n"
        "fields = children(children(children(der)[0][0])[0][0])  # version, serial, signature, issuer, _, subject\n"
        "serial, issuer, subject = fields[1][1], fields[3][1], fields[5][1]\n"
        "cert_id, trust_id = (int.from_bytes(os.urandom(4), 'big') & 0x3FFFFFFF for _ in range(2))\n"
        "trusted = ((0xCE536358, b'\\xceSCR'), (0xCE536359, b'\\xceSCR'), (0xCE53635A, b'\\xceSCR'),\n"
        "           (0xCE53635B, b'\\xceSCR'), (0xCE536360, b'\\x00'),\n"
        "           (0xCE5363B4, _hashlib.openssl_sha1(der).digest()),\n"
        "           (0xCE5363B5, _hashlib.openssl_md5(der).digest()))\n"
        "certs.execute('INSERT INTO nssPublic (id, a0, a1, a2, a3, a11, a81, a82, a101) VALUES (?, ?, ?, ?, ?, ?, ?, "
        "?, ?)', (cert_id, b'\\x00\\x00\\x00\\x01', b'\\x01', b'\\x00', {label!r}, der, issuer, serial, subject))\n"
        "certs.execute('INSERT INTO nssPublic (id, a0, a1, a2, a81, a82, ace536358, ace536359, ace53635a, '\n"
        "              'ace53635b, ace536360, ace5363b4, ace5363b5) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',\n"
        "              (trust_id, b'\\xceSCS', b'\\x01', b'\\x00', issuer, serial, *(value for _, value in trusted)))\n"
        "certs.commit()\n"
        + _TLV +
        "def mac(number, attr, value):  # PBMAC1 (PBKDF2 (salt, count, 32, HMAC-SHA256), HMAC-SHA256), the MAC\n"
        "    code = _hashlib.hmac_digest(derived[number], trust_id.to_bytes(4, 'big') + attr.to_bytes(4, 'big') "
        "+ value, 'sha256')\n"
        "    hmac_sha256 = tlv(0x30, oid('2a864886f70d0209'))\n"
        "    kdf = tlv(0x30, oid('2a864886f70d01050c'), tlv(0x30, tlv(4, salts[number]), tlv(2, count), tlv(2, b' '),\n"
        "                                                    hmac_sha256))\n"
        "    return tlv(0x30, tlv(0x30, oid('2a864886f70d01050e'), tlv(0x30, kdf, hmac_sha256)), tlv(4, code))\n"
        "keys.executemany('INSERT INTO metaData (id, item1) VALUES (?, ?)', [\n"
        "    ('sig_cert_%08x_%08x' % (trust_id, attr), mac(number, attr, value))\n"
        "    for number, (attr, value) in enumerate(trusted)])\n"
        "keys.commit()\n"),
}
# The derivations each change makes: one per MAC item certutil adds or changes for it, counted in what it writes
# (tests/test_bench_harness.py counts them again in the floor)
NSS_CHANGE_DERIVATIONS = {"rename": 0, "trust off": 0, "delete": 0, "import": 7}


def nss_change_floor(folder: Path, password_variable: str, change: str, *, label: bytes, new: bytes = b"",
                     pem: str = "") -> str:
    """The name of the floor of an NSS write (`change`, one of _NSS_CHANGES) on the database in `folder`, the
    cheapest way whatever the tool: the NSS floor's read of that folder (nss_floor), the change's derivations
    (NSS_CHANGE_DERIVATIONS: as derivation_floor does them) and the rows it writes (_NSS_CHANGES). It writes the
    database: the caller gives it the same fresh copy before each run as the command (a job's `before`)."""
    derivations = NSS_CHANGE_DERIVATIONS[change]
    name = f"{NSS_FLOOR} + {derivations} derivations + {change}'s write" if derivations else \
        f"{NSS_FLOOR} + {change}'s write"
    # each under the passKey with a fresh salt, as NSS makes a MAC item's key
    work, how = _derivations(derivations, 10_000, NSS_FLOOR, secret="pass_key", salt="salts[salt]") \
        if derivations else ("", "")
    work = f"salts = [os.urandom(32) for _ in range({derivations})]\n" + work if derivations else work
    FLOORS[name] = (_nss_open(folder, password_variable) + work
                    + _NSS_CHANGES[change].format(label=label, new=new, pem=pem))
    derived = f" + {derivations} PBKDF2-HMAC-SHA256 at 10,000 ({how}, two side by side)" if derivations else ""
    FLOOR_WHAT[name] = (f"the {NSS_FLOOR}{derived} + what `{change}` writes with _sqlite3, a commit per file written"
                        " (on a fresh copy)")
    return name


NSS_CREATE_FLOOR = "NSS create floor"

# A floor's AES-256-CBC through the interpreter's libcrypto (reached through ctypes): encrypt(key, iv, data) and
# decrypt(key, iv, data), PKCS#7 padded as NSS pads
_AES_CBC_BOTH = (
    "lib = ctypes.CDLL('libcrypto.so.3', mode=os.RTLD_NOLOAD)\n"
    "p, n = ctypes.c_void_p, ctypes.c_int\n"
    "lib.EVP_CIPHER_CTX_new.restype = lib.EVP_aes_256_cbc.restype = p\n"
    "for way in ('Encrypt', 'Decrypt'):\n"
    "    getattr(lib, f'EVP_{way}Init_ex').argtypes = [p, p, p, ctypes.c_char_p, ctypes.c_char_p]\n"
    "    getattr(lib, f'EVP_{way}Update').argtypes = [p, ctypes.c_char_p, ctypes.POINTER(n), ctypes.c_char_p, n]\n"
    "    getattr(lib, f'EVP_{way}Final_ex').argtypes = [p, p, ctypes.POINTER(n)]\n"
    "def cbc(way, key, iv, data):\n"
    "    context, out, size, last = lib.EVP_CIPHER_CTX_new(), ctypes.create_string_buffer(len(data) + 16), n(), n()\n"
    "    getattr(lib, f'EVP_{way}Init_ex')(context, lib.EVP_aes_256_cbc(), None, key, iv)\n"
    "    getattr(lib, f'EVP_{way}Update')(context, out, ctypes.byref(size), data, len(data))\n"
    "    if getattr(lib, f'EVP_{way}Final_ex')(context, ctypes.addressof(out) + size.value, ctypes.byref(last)) != 1:\n"
    "        raise SystemExit('NSS floor: a value does not decrypt')\n"
    "    lib.EVP_CIPHER_CTX_free(ctypes.c_void_p(context))\n"
    "    return out.raw[:size.value + last.value]\n"
    "encrypt = lambda key, iv, data: cbc('Encrypt', key, iv, data)\n"
    "decrypt = lambda key, iv, data: cbc('Decrypt', key, iv, data)\n"
)
# A floor's NSS structures (after _TLV): pbes2(salt, iv, ciphertext), an encrypted value as NSS writes it (PBES2:
# PBKDF2 (salt, 10,000, 32, HMAC-SHA256), AES-256-CBC; the IV an OCTET STRING of 14 random bytes whose whole 16-byte
# encoding the cipher takes, NSS's quirk), and pbmac1(salt, code), a MAC item (PBMAC1: PBKDF2 (salt, 10,000, 32,
# HMAC-SHA256), HMAC-SHA256)
_NSS_DER = (
    "hmac_sha256 = tlv(0x30, oid('2a864886f70d0209'))\n"
    "pbkdf2 = lambda salt, prf: tlv(0x30, oid('2a864886f70d01050c'), tlv(0x30, tlv(4, salt), tlv(2, b\"'\\x10\"), "
    "tlv(2, b' '), prf))\n"
    "pbes2 = lambda salt, iv, ciphertext: tlv(0x30, tlv(0x30, oid('2a864886f70d01050d'), tlv(0x30, pbkdf2(salt, "
    "tlv(0x30, oid('2a864886f70d0209'), tlv(5))), tlv(0x30, oid('60864801650304012a'), iv))), tlv(4, ciphertext))\n"
    "pbmac1 = lambda salt, code: tlv(0x30, tlv(0x30, oid('2a864886f70d01050e'), tlv(0x30, pbkdf2(salt, hmac_sha256), "
    "hmac_sha256)), tlv(4, code))\n"
    "fresh_iv = lambda: b'\\x04\\x0e' + os.urandom(14)\n"
)


def _nss_new(folder: Path, password_variable: str, derivations: int, *, before: str = "", keys: str = "",
             certs: str = "") -> str:
    """The code making a password-protected NSS database in `folder`, as nss_create_floor describes it, with
    `derivations` PBKDF2-HMAC-SHA256 at 10,000 under its passKey, each with its own fresh salt (`salts`), side by
    side as derivation_floor does them, before anything else: `derived[0]` is the password check's key, the others
    are the caller's: `before` runs after them, `keys` and `certs` inside key4.db's and cert9.db's transactions,
    after the schema, through the connections `keys` and `certs`."""
    from keystores.backends.nss.db import _SCHEMA_ATTRS  # NSS's list, made here only (the floor loads no keystores)

    columns = ", ".join(f"a{attr}" for attr in _SCHEMA_ATTRS)
    tables = "".join(
        f"{handle} = _sqlite3.connect(folder + '/{file}', isolation_level=None)\n"
        f"{handle}.execute('BEGIN')\n"
        f"{handle}.execute('CREATE TABLE {table} (id PRIMARY KEY UNIQUE ON CONFLICT ABORT, {columns})')\n"
        + "".join(f"{handle}.execute('CREATE INDEX {index} ON {table} ({attr})')\n"
                  for index, attr in (("issuer", "a81"), ("subject", "a101"), ("label", "a3"), ("ckaid", "a102")))
        + (f"{handle}.execute('CREATE TABLE metaData (id PRIMARY KEY UNIQUE ON CONFLICT REPLACE, item1, item2)')\n"
           f"{handle}.execute(\"INSERT INTO metaData (id, item1, item2) VALUES ('password', ?, ?)\", "
           "(global_salt, check))\n"
           if table == "nssPrivate" else "")
        + (keys if table == "nssPrivate" else certs)
        + f"{handle}.execute('COMMIT')\n"
        for handle, file, table in (("keys", "key4.db", "nssPrivate"), ("certs", "cert9.db", "nssPublic")))
    work, _ = _derivations(derivations, 10_000, None, secret="pass_key", salt="salts[salt]")
    return (
        "import _sqlite3, _hashlib, os\n" + LEAN_CTYPES +
        f"folder = {str(folder)!r}\n"
        "os.mkdir(folder, 0o700)\n"
        f"global_salt, salts = os.urandom(20), [os.urandom(32) for _ in range({derivations})]\n"
        f"pass_key = _hashlib.openssl_sha1(global_salt + os.environ[{password_variable!r}].encode()).digest()\n"
        + work + before + _AES_CBC_BOTH + _TLV + _NSS_DER +
        "iv = fresh_iv()\n"
        "check = pbes2(salts[0], iv, encrypt(derived[0], iv, b'password-check'))\n"
        + tables)


def nss_create_floor(folder: Path, password_variable: str) -> str:
    """The name of the floor of making a password-protected NSS database in `folder` (which must not exist), what
    `certutil -N` must do, the cheapest way: the folder, key4.db's and cert9.db's schema as NSS creates them (the
    columns of sdb.c's known attributes, as keystores.backends.nss.db has them) with _sqlite3, a transaction per
    file committed with SQLite's defaults, and the password check (metaData's 'password' row): a fresh global salt,
    the passKey, one PBKDF2-HMAC-SHA256 at NSS's 10,000 by _hashlib, 'password-check' encrypted with AES-256-CBC by
    libcrypto through ctypes, in its PBES2 structure. Left out: the pkcs11.txt certutil writes beside them, which
    keystores does not write."""
    FLOORS[NSS_CREATE_FLOOR] = _nss_new(folder, password_variable, 1)
    FLOOR_WHAT[NSS_CREATE_FLOOR] = ("the launcher + a folder, key4.db and cert9.db made with NSS's schema by _sqlite3 "
                                    "(a transaction per file) + the password check: 1 PBKDF2-HMAC-SHA256 at 10,000 "
                                    "(_hashlib) + AES-256-CBC (libcrypto through ctypes)")
    return NSS_CREATE_FLOOR


# The derivations NSS makes to write one EC key pair (pk12util -i): its private value encrypted (one) and that
# value's MAC item (one); the public key and the certificate carry no MAC. Counted in what pk12util -i writes
# (tests/test_bench_harness.py): one encrypted attribute, one metaData item.
NSS_KEY_PAIR_DERIVATIONS = 2

def nss_convert_floor(folder: Path, password_variable: str, certificate: bytes, *, source_derivations: int,
                      source_ciphers: int) -> str:
    """The name of the floor of converting a PKCS#12 holding one EC P-256 key pair (its certificate's DER is
    `certificate`) into a new password-protected NSS database in `folder` (which must not exist), the cheapest way
    whatever the tool: the PKCS#12's read as derivation_floor stands it in (`source_derivations` derivations,
    `source_ciphers` AES-256-CBC decryptions of 1 KiB), the new database as nss_create_floor makes it, and in the same
    transactions the rows pk12util -i writes for the key pair (its private key with the value encrypted and that
    value's MAC item, its public key, its certificate), with the NSS_KEY_PAIR_DERIVATIONS derivations NSS makes for
    them; all derivations side by side from the start (none waits for another's result). It writes `folder`: the
    caller removes it before each run, as the command's."""
    derivations = 1 + NSS_KEY_PAIR_DERIVATIONS + source_derivations
    # The rows pk12util -i writes, inside the new files' transactions: the private key (key4.db: its value encrypted
    # under derived[1], the value's MAC item under derived[2], over the value with object id 0 as NSS MACs a private
    # attribute), the public key and the certificate (cert9.db), their
    # attributes as pk12util sets them (NSS's columns a<PKCS#11 number in hex>). The private value and public point
    # stand in for the key bag's, which the stand-in ciphers decrypt.
    name = f"{NSS_CREATE_FLOOR} + {source_derivations} derivations + {source_ciphers} AES-CBC + a key pair's write"
    keys = (
        "key_iv = fresh_iv()\n"
        "keys.execute('INSERT INTO nssPrivate (id, a0, a1, a2, a3, a11, a100, a101, a102, a103, a105, a107, a108, "
        "a109, a10c, a110, a111, a162, a163, a164, a165, a170, a180) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', (key_id, ulong(3), yes, yes, label, pbes2(salts[1], key_iv, "
        "encrypt(derived[1], key_iv, value)), ulong(3), subject, ckaid, yes, no, no, yes, yes, yes, empty, empty, "
        "yes, no, no, no, yes, params))\n"
        "keys.execute('INSERT INTO metaData (id, item1) VALUES (?, ?)', ('sig_key_%08x_%08x' % (key_id, 0x11), "
        "pbmac1(salts[2], _hashlib.hmac_digest(derived[2], ulong(0) + ulong(0x11) + value, 'sha256'))))\n")
    certs = (
        "certs.execute('INSERT INTO nssPublic (id, a0, a1, a2, a3, a100, a101, a102, a104, a106, a10a, a10b, a10c, "
        "a110, a111, a163, a170, a180, a181) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', "
        "(public_id, ulong(2), yes, no, empty, ulong(3), empty, ckaid, no, no, yes, no, yes, empty, empty, no, yes, "
        "params, tlv(4, point)))\n"
        "certs.execute('INSERT INTO nssPublic (id, a0, a1, a2, a3, a11, a80, a81, a82, a101, a102, a170) VALUES (?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', (cert_id, ulong(1), yes, no, label, der, ulong(0), issuer, serial, "
        "subject, ckaid, yes))\n")
    source = _AES_CBC.format(count=source_ciphers) if source_ciphers else ""
    FLOORS[name] = (
        _nss_new(folder, password_variable, derivations, keys=keys, certs=certs, before=(
            source + DER_CHILDREN +
            "import _hashlib\n"
            f"der, label = {certificate!r}, b'server'\n"
            "fields = children(children(children(der)[0][0])[0][0])  # version, serial, signature, issuer, _, subject\n"
            "serial, issuer, subject = fields[1][1], fields[3][1], fields[5][1]\n"
            "value, point = os.urandom(32), b'\\x04' + os.urandom(64)  # the key bag's private value and public point\n"
            "ckaid, params = _hashlib.openssl_sha1(point).digest(), bytes.fromhex('06082a8648ce3d030107')  # P-256\n"
            "key_id, public_id, cert_id = (int.from_bytes(os.urandom(4), 'big') & 0x3FFFFFFF for _ in range(3))\n"
            "ulong = lambda number: number.to_bytes(4, 'big')\n"
            "yes, no, empty = b'\\x01', b'\\x00', b'\\xa5\\x00\\x5a'  # NSS's booleans and its empty value\n")))
    FLOOR_WHAT[name] = (f"the launcher + {derivations} PBKDF2-HMAC-SHA256 at 10,000 (_hashlib, two side by side: "
                        f"{source_derivations} the PKCS#12's, 1 the new database's password check, "
                        f"{NSS_KEY_PAIR_DERIVATIONS} its key pair's) + {source_ciphers} AES-256-CBC (the PKCS#12's) + "
                        "a new NSS database as the NSS create floor makes it, with the key pair's rows as pk12util -i "
                        "writes them in the same transactions")
    return name


# What a new password (certutil -W) derives on a database: its password check made again (one), and per encrypted
# value and per MAC item, one to check or decrypt it under the old passKey and one to make it again under the new
# (NSS's sftk_updateMacs reads each authenticated attribute through its MAC check before signing it again). On the
# small database (one key's value, its MAC item, a trust object's 7): 1 + 2 * (1 + 8) = 19, counted in what certutil
# -W writes (tests/test_bench_harness.py).
def nss_passwd_derivations(values: int, macs: int) -> int:
    return 1 + 2 * (values + macs)


def nss_passwd_floor(folder: Path, password_variable: str, new_variable: str) -> str:
    """The name of the floor of a new password on the NSS database in `folder`, what certutil -W must do whatever
    the tool, the cheapest way: the NSS floor's read of that folder (nss_floor), every encrypted value (nssPrivate's
    a11, CKA_VALUE) decrypted and every MAC item (metaData's sig_*) checked over its attribute (one query per object
    that has them) under the old passKey, then under the new one (the global salt kept, as certutil keeps it) the
    password check, the values and the MAC items made again with fresh salts, and written in one transaction on
    key4.db (cert9.db is unchanged), committed with SQLite's defaults; nss_passwd_derivations of them, side by side as
    derivation_floor does them. It writes the database: the caller gives it the same fresh copy before each run as
    the command (a job's `before`)."""
    import sqlite3

    with sqlite3.connect(folder / "key4.db") as conn:
        values = conn.execute("SELECT COUNT(*) FROM nssPrivate WHERE a11 IS NOT NULL").fetchone()[0]
        macs = conn.execute("SELECT COUNT(*) FROM metaData WHERE id LIKE 'sig_%'").fetchone()[0]
    derivations = nss_passwd_derivations(values, macs)
    name = f"{NSS_FLOOR} + {derivations} derivations + passwd's write"
    work, how = _derivations(derivations, 10_000, None, secret="secrets[salt]", salt="salts[salt]")
    FLOORS[name] = (
        _nss_open(folder, password_variable)
        + _AES_CBC_BOTH + _TLV + _NSS_DER +
        "import _hashlib\n"
        f"new_key = _hashlib.openssl_sha1(salt + os.environ[{new_variable!r}].encode()).digest()\n"
        "values = keys.execute('SELECT id, a11 FROM nssPrivate WHERE a11 IS NOT NULL').fetchall()\n"
        "items = keys.execute(\"SELECT id, item1 FROM metaData WHERE id LIKE 'sig_%'\").fetchall()\n"
        "def pbe(der):  # (salt, count, iv, the rest) of an encrypted value (PBES2) or a MAC item (PBMAC1)\n"
        "    (algorithm, _), (rest, _) = children(children(der)[0][0])\n"
        "    kdf, second = (contents for contents, _ in children(children(algorithm)[1][0]))\n"
        "    kdf_salt, count = (contents for contents, _ in children(children(kdf)[1][0])[:2])\n"
        "    iv = children(second)[1][1][:16] if len(children(second)) > 1 else b''\n"
        "    return kdf_salt, int.from_bytes(count, 'big'), iv, rest\n"
        "old = [pbe(value) for _, value in values] + [pbe(item) for _, item in items]\n"
        "# old passKey: each value's and item's own salt; new passKey: fresh salts for the check, values and items\n"
        "salts = [kdf_salt for kdf_salt, *_ in old] + [os.urandom(32) for _ in range(1 + len(old))]\n"
        "secrets = [pass_key] * len(old) + [new_key] * (1 + len(old))\n"
        + work +
        "fresh = len(old)  # derived[fresh] is the new check's key, then the values', then the items'\n"
        "plain = [decrypt(derived[number], iv, rest) for number, (_, _, iv, rest) in enumerate(old[:len(values)])]\n"
        "rows, plain_of = {}, {(object_id, '00000011'): value for (object_id, _), value in zip(values, plain)}\n"
        "for (item, _), (_, _, _, code), number in zip(items, old[len(values):], range(len(values), len(old))):\n"
        "    _, kind, object_id, attr = item.split('_')\n"
        "    table = 'nssPrivate' if kind == 'key' else 'nssPublic'\n"
        "    if (table, object_id) not in rows:\n"
        "        cursor = (keys if kind == 'key' else certs).execute(f'SELECT * FROM {table} WHERE id = ?', "
        "(int(object_id, 16),))\n"
        "        rows[table, object_id] = dict(zip((d[0] for d in cursor.description), cursor.fetchone()))\n"
        "    # an encrypted attribute's MAC is over its plain value, with object id 0 (NSS's)\n"
        "    signed = bytes.fromhex(('00000000' if kind == 'key' else object_id) + attr) + plain_of.get(\n"
        "        (int(object_id, 16), attr), rows[table, object_id]['a' + attr.lstrip('0')])\n"
        "    if not _hashlib.compare_digest(_hashlib.hmac_digest(derived[number], signed, 'sha256'), code):\n"
        "        raise SystemExit('NSS floor: a MAC does not verify')\n"
        "    rows[item] = signed\n"
        "keys.isolation_level = None\n"
        "keys.execute('BEGIN')\n"
        "iv = fresh_iv()\n"
        "keys.execute(\"UPDATE metaData SET item2 = ? WHERE id = 'password'\", (pbes2(salts[fresh], iv, "
        "encrypt(derived[fresh], iv, b'password-check')),))\n"
        "for number, ((object_id, _), value) in enumerate(zip(values, plain), fresh + 1):\n"
        "    iv = fresh_iv()\n"
        "    keys.execute('UPDATE nssPrivate SET a11 = ? WHERE id = ?', (pbes2(salts[number], iv, "
        "encrypt(derived[number], iv, value)), object_id))\n"
        "keys.executemany('UPDATE metaData SET item1 = ? WHERE id = ?', [\n"
        "    (pbmac1(salts[number], _hashlib.hmac_digest(derived[number], rows[item], 'sha256')), item)\n"
        "    for number, (item, _) in enumerate(items, fresh + 1 + len(values))])\n"
        "keys.execute('COMMIT')\n")
    FLOOR_WHAT[name] = (f"the {NSS_FLOOR} + {derivations} PBKDF2-HMAC-SHA256 at 10,000 ({how}, two side by side: "
                        "each encrypted value decrypted and each MAC item checked under the old password, the "
                        "password check, the values and the MAC items made again under the new) + their AES-256-CBC "
                        "(libcrypto through ctypes) + the rows certutil -W changes, one transaction on key4.db (on a "
                        "fresh copy)")
    return name


# The cyclic collector as keystores' command line sets it (cli/main.py: _YOUNG_OBJECTS), before a floor's body.
GC_AS_KEYSTORES = "import gc as _floor_gc\n_floor_gc.set_threshold(50_000)"

def _floor_end() -> str:
    """The source of keystores' own end of a command-line run (cli/main.py _exit_at_once), for a floor to end the
    same way: one function, so a floor never ends more cheaply or dearly than keystores does."""
    import inspect

    from keystores.cli.main import _exit_at_once

    return inspect.getsource(_exit_at_once)


# pip's launcher as pip 24 writes it; used to make floor scripts when keystores runs from the development venv
PIP_LAUNCHER = ("# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom keystores.cli import entry\n"
                "if __name__ == '__main__':\n    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
                "    sys.exit(entry())\n")


class Install:
    """Where the start-up rows run keystores: `keystores` is the command's argv prefix, `python` that
    environment's interpreter (its `python -c pass` is the baseline), `where` what the table says about it."""

    def __init__(self, python: str, keystores: list[str], where: str, launcher: str, folder: Path,
                 wheel: bool) -> None:
        self.python, self.keystores, self.where, self.wheel = python, keystores, where, wheel
        self._launcher, self._folder = launcher, folder

    @property
    def baseline(self) -> str:
        """The baseline's name in a row: the dev venv's is labelled, as its `pass` carries the editable finder."""
        return "python -c pass" if self.wheel else "python -c pass (dev venv)"

    def pass_(self) -> list[str]:
        return [self.python, "-c", "pass"]

    def code(self, source: str, *args: str) -> list[str]:
        """argv running `source` with keystores as installed (-P: not the checkout's keystores/ from the working
        directory, which `python -c` would put first on sys.path)."""
        return [self.python, "-P", "-c", source, *args]

    def floor(self, name: str, body: str | None = None) -> list[str]:
        """argv of a floor script: the launcher with its keystores import and call replaced by `body` (default
        FLOORS[name]), run with the same interpreter the same way as the console script. The body runs with the
        cyclic collector as keystores' command line runs (cli.main.run: a threshold of 50,000 young objects, and
        what was made frozen before exit, so the interpreter's last collection walks none of it): the cheapest way
        is the floor's too, and without it a floor that imports much (python-pkcs11) spent ~10% of its
        instructions in collections keystores does not make (callgrind). It ends as keystores' command line ends,
        by cli.main's own _exit_at_once (its source, run in the floor): without Python's teardown where that has
        nothing left to do, through it where keystores' would go through it too (a token floor's python-pkcs11)."""
        lines = self._launcher.splitlines()
        index = next(i for i, line in enumerate(lines) if line.startswith(("from keystores", "import keystores")))
        entry = lines[index].split()[-1]
        text = "\n".join([*lines[:index], GC_AS_KEYSTORES, (FLOORS[name] if body is None else body).rstrip("\n"),
                          "_floor_gc.freeze()", _floor_end(),
                          *(line.replace(f"{entry}()", "_exit_at_once(0)") for line in lines[index + 1:])]) + "\n"
        path = self._folder / ("floor-" + "".join(c if c.isalnum() else "-" for c in name))
        path.write_text(text)
        if self.wheel:
            path.chmod(0o755)
            return [str(path)]
        return [self.python, str(path)]


_INSTALL: Install | None = None


def user_install() -> Install:
    """keystores installed from a wheel of this checkout into a clean venv (made once per process, removed at
    exit); the development venv, labelled, when that cannot be done."""
    global _INSTALL
    if _INSTALL is None:
        folder = Path(tempfile.mkdtemp(prefix="bench-install-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _INSTALL = build_install(ROOT, folder)
    return _INSTALL


def build_install(root: Path, folder: Path) -> Install:
    """`root`'s wheel installed into folder/venv (see the module docstring), or the development venv with the
    reason it had to be used."""
    try:
        return _wheel_install(root, folder)
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        reason = " ".join(str(exc).split())[:160]
        print(f"bench: keystores could not be installed from a wheel ({reason}); start-up rows run in the dev venv",
              file=sys.stderr)
        _byte_compiled()
        return Install(sys.executable, [sys.executable, "-m", "keystores"],
                       f"development venv (`python -m keystores`; the wheel failed: {reason})", PIP_LAUNCHER, folder,
                       wheel=False)


def _run(argv: list[str], folder: Path) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=folder)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(argv[0]).name} {' '.join(argv[1:4])}: {(done.stderr or done.stdout)[-300:]}")
    return done.stdout


def install_wheel(root: Path, folder: Path) -> tuple[Path, Path, Path]:
    """A wheel of `root` built offline and installed into folder/venv, a clean venv of the base interpreter whose
    dependencies are the running interpreter's site-packages on a plain path line (their .pth files do not run):
    (its python, its `keystores` console script, its site-packages). RuntimeError when a step fails. The one way
    bench/ and tests/user_install.py make a user's install."""
    source = folder / "source"  # a copy: a build writes build/ and *.egg-info beside its sources
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):  # pyproject.toml reads README.md
        shutil.copy2(root / name, source / name)
    for name in ("keystores", "cli"):
        shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    _run([*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(folder / "wheel"),
          str(source)], folder)
    wheels = sorted((folder / "wheel").glob("keystores-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"pip wheel made {len(wheels)} keystores wheels")
    venv = folder / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", str(venv)], folder)
    python = venv / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], folder).strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # pip byte-compiles what it installs, as for a user
    _run([*pip, "--python", str(python), "install", "-q", "--no-deps", "--no-index", str(wheels[0])], folder)
    return python, venv / "bin" / "keystores", site


def _wheel_install(root: Path, folder: Path) -> Install:
    python, script, _ = install_wheel(root, folder)
    venv = str(python.parent.parent)
    where = _run([str(python), "-P", "-c", "import keystores, sys; print(keystores.__file__); "
                  "print(any('editable' in name for name in sys.modules))"], folder).split()
    if not where[0].startswith(venv) or where[1] != "False":
        raise RuntimeError(f"the venv imports keystores from {where[0]}, editable finder loaded: {where[1]}")
    _run([str(script), "version"], folder)
    return Install(str(python), [str(script)], "wheel installed in a clean venv (`keystores` console script)",
                   script.read_text(), folder, wheel=True)


def _byte_compiled() -> None:
    """Start-up as an installed package has it: byte-compiled. A checkout run with PYTHONDONTWRITEBYTECODE (as CI
    and these sessions set it) would otherwise compile every changed module from source on every run."""
    import compileall

    import keystores.cli  # binds keystores too

    for folder in {*keystores.__path__, *keystores.cli.__path__}:
        compileall.compile_dir(folder, quiet=1)


# --- interleaved runs with CPU time and peak memory ---------------------------------------------------------------

GNU_TIME = "/usr/bin/time"


def run_measured(argv: list[str], env: Mapping[str, str], *, peak: bool = True) -> tuple[float, float | None, float]:
    """(wall seconds, peak RSS MiB or None when not `peak`, CPU seconds) of one run of argv, output discarded;
    raises when it fails.

    The peak comes from GNU time, a small process, when present: a child forked from this (big) interpreter
    inherits its resident pages until exec, and Linux keeps that high-water mark across exec, so wait4's ru_maxrss
    would report the benchmark's own size rather than the command's. GNU time costs about 1 ms of CPU and more of
    wall time of its own, which would be counted as the command's (a tenth of `python -c pass`), so a run whose time
    is kept is not wrapped (`peak` False) where another run gives the peak (measure_runs).
    """
    with tempfile.NamedTemporaryFile(prefix="bench-rss-") as report:
        wrapped = [GNU_TIME, "-f", "%M", "-o", report.name, *argv] if peak and os.access(GNU_TIME, os.X_OK) else argv
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
    return elapsed, kib / 1024 if peak else None, usage.ru_utime + usage.ru_stime


class Runs:
    """What interleaved runs measured: per job, each round's (wall s, CPU s) by round number, and its peak RSS."""

    def __init__(self) -> None:
        self.by_round: dict[str, dict[int, tuple[float, float]]] = {}
        self.peaks: dict[str, float] = {}

    def add(self, name: str, round_number: int | None, elapsed: float, used: float, rss: float | None) -> None:
        """One run; a warm-up (round None) gives only its peak."""
        if round_number is not None:
            self.by_round.setdefault(name, {})[round_number] = (elapsed, used)
        if rss is not None:
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


Before = dict[str, Path] | dict[str, Path | Callable[[], None]]


def measure(jobs: dict[str, list[str]], rounds: int, env: Mapping[str, str], *, warmup: int,
            before: Before | None = None) -> dict[str, tuple[float, float, float]]:
    """Interleaved like interleaved(), but one run gives time, memory and CPU: name -> (median s, peak MiB,
    median CPU s). `before[name]` is a file removed before each run of that job (convert refuses to overwrite), or
    a callable that prepares the job's files before each run, outside the timed span (a write's fresh copy)."""
    runs = measure_runs(jobs, rounds, env, warmup=warmup, before=before)
    return {name: runs.summary(name) for name in jobs}


def measure_runs(jobs: dict[str, list[str]], rounds: int, env: Mapping[str, str], *, warmup: int,
                 before: Before | None = None, repeatable: Iterable[str] = (), cheap_rounds: int = 0,
                 cheap: float = 8.0, base: str = "python") -> Runs:
    """`rounds` interleaved rounds of every job (after `warmup` unmeasured ones); then, up to `cheap_rounds` in
    all, more rounds of the `repeatable` jobs whose median is under `cheap` times the `base` job's (`python -c
    pass`): a start-up row is cheap, noise is most of what it measures, and more runs cost a second or two
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


def _rounds(jobs: dict[str, list[str]], numbers: Iterable[int], env: Mapping[str, str],
            before: Before | None, runs: Runs) -> None:
    """Each job once per round, in order; negative round numbers are a warm-up, whose times are not kept. The peak
    memory comes from the warm-up runs (in GNU time), the kept times from bare runs; a job with no warm-up gets its
    peak from its first kept run, wrapped (about 1 ms more: only for jobs that take far longer than that)."""
    for number in numbers:
        for name, argv in jobs.items():
            prepare = before.get(name) if before else None
            if callable(prepare):
                prepare()
            elif prepare is not None:
                prepare.unlink(missing_ok=True)
            elapsed, rss, used = run_measured(argv, env, peak=number < 0 or name not in runs.peaks)
            runs.add(name, number if number >= 0 else None, elapsed, used, rss)


def row6(job: str, ours: tuple[float, ...], theirs: tuple[float, ...], native: str,
         goal: float | None = None) -> str:
    """A table row of six cells; the CPU ratio beside the job's name where both sides' CPU time was measured (CPU
    time is disturbed less than wall time by a busy machine; wall time is what the goals are set in)."""
    ratio = ours[0] / theirs[0] if theirs[0] else float("nan")
    verdict = "" if goal is None else (f"<= {goal}x ok" if ratio <= goal else f"<= {goal}x MISSED")
    mine, other = f"{ours[0] * 1000:.0f} ms", f"{theirs[0] * 1000:.0f} ms"
    if len(ours) > 2 and len(theirs) > 2 and theirs[2]:
        job = f"{job} (CPU {ours[2] / theirs[2]:.2f}x)"
        mine, other = f"{mine} (CPU {ours[2] * 1000:.0f})", f"{other} (CPU {theirs[2] * 1000:.0f})"
    return f"| {job} | {mine} | {native} {other} | {ratio:.2f}x | {ours[1]:.0f} / {theirs[1]:.0f} MiB | {verdict} |"


def startup_row(job: str, runs: Runs, name: str, base: str, native: str, goal: float | None = None) -> str:
    """The one start-up row: `name` against `base` over the rounds both ran in, wall ratio (the goal's measure)
    and CPU ratio beside it."""
    return row6(job, *runs.pair(name, base), native, goal)


def startup_note(install: Install) -> str:
    """The row that says where the start-up rows below it ran."""
    return f"| start-up rows below: {install.where}; baseline: that environment's `python -c pass` | | | | | |"


# What each floor row says it is (FLOORS holds what each does; the token floors' code is the caller's)
FLOOR_WHAT = {
    "console-script floor": "pip's `keystores` launcher without keystores",
    "MAC floor": "the launcher + the built-in SHA-1 (_sha1) and one HMAC-SHA1 by hand",
    "cryptography floor": "the launcher + cryptography's EC module, one P-256 key made, one signature",
    "libcrypto EC floor": "the launcher + _hashlib's libcrypto through ctypes, one P-256 key made, one signature",
    "BCFKS floor": "the launcher + two PBKDF2-HMAC-SHA512 (51,200) side by side",
    "token floor": "the launcher + python-pkcs11 as keystores imports it (its library.py alone) + SoftHSM login",
    "token floor, eager": "the launcher + python-pkcs11 as its authors import it + SoftHSM login",
    "token floor, ctypes": "the launcher + SoftHSM found and logged in to through ctypes, without python-pkcs11",
}


def command_rows(install: Install, runs: Runs, commands: dict[str, list[str]], floor_of: dict[str, str],
                 shown: tuple[str, ...] = ()) -> list[str]:
    """Each command against `python -c pass` (goal 2.5x), each floor it is held to (and the `shown` ones) against
    `python -c pass`, and each command against its floor: goal 1.25x where the floor alone is over 2.0x of `python
    -c pass` (issue 15: then the command's mandatory work alone misses 2.5x); `runs` holds them all, `python -c
    pass` as "python"."""
    rows = [startup_row(f"start-up: keystores {name}", runs, name, "python", install.baseline, 2.5)
            for name in commands]
    rows += [startup_row(f"{floor} ({FLOOR_WHAT[floor]})", runs, floor, "python", install.baseline)
             for floor in dict.fromkeys([*floor_of.values(), *shown])]
    rows += [startup_row(f"{name} vs its floor", runs, name, floor, floor,
                         FLOOR_GOAL if over_floor(runs, floor) else None) for name, floor in floor_of.items()]
    return rows


FLOOR_GOAL = 1.25  # a command whose floor alone is over FLOOR_LIMIT x `python -c pass`: at most this x its floor
FLOOR_LIMIT = 2.0


_CPU_SUFFIX = re.compile(r" \(CPU [\d.]+x\)$")


def goal_tally(rows: list[list[str]]) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """The goals of a whole table (bench/run's rows of six cells) as (name, ratio, goal cell) triples, met where the
    goal cell ends in "ok": first one per start-up command, held to the goal its floor row carries where it carries
    one (its floor alone over FLOOR_LIMIT x `python -c pass`: FLOOR_GOAL x the floor), else to its own row's 2.5x
    of `python -c pass` (command_rows: issue 15's start-up goal); then every other row that carries a goal."""
    jobs = [_CPU_SUFFIX.sub("", row[0]) for row in rows]
    held = {job.removesuffix(" vs its floor"): row for job, row in zip(jobs, rows, strict=True)
            if job.endswith(" vs its floor") and row[5]}
    start_up, other = [], []
    for job, row in zip(jobs, rows, strict=True):
        if job.startswith("start-up: keystores "):
            name = job.removeprefix("start-up: keystores ")
            floor = held.get(name)
            start_up.append((name, f"{floor[3]} of its floor", floor[5]) if floor is not None else
                            (name, f"{row[3]} of `python -c pass`", row[5]))
        elif row[5] and not job.endswith(" vs its floor"):
            other.append((job, row[3], row[5]))
    return start_up, other


def over_floor(runs: Runs, floor: str) -> bool:
    """Whether `floor` alone takes over FLOOR_LIMIT x `python -c pass` (wall, over the rounds both ran in)."""
    ours, base = runs.pair(floor, "python")
    return bool(base[0]) and ours[0] / base[0] > FLOOR_LIMIT
