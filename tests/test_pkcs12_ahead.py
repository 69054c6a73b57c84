"""PKCS#12 derivations side by side (issue 15): reading derives the encrypted parts' keys on another core while the
MAC's is derived (keystores.crypto.pbe.Ahead on a keystores.crypto.kdf_pool pool). Nothing is decrypted before the
MAC matched, no derivation is added (a wrong password derives what it did), no derived key is kept after opening,
and threading is not imported."""

from __future__ import annotations

import _thread
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import threads_left

from keystores.backends.pkcs12 import mac as mac_module
from keystores.crypto import kdf, kdf_pool, pbe, pbkdf2
from keystores.errors import IntegrityError, WrongPassword
from keystores.store import open_store

PASSWORD = "ahead-pass-1"


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """keytool's file (PBES2 parts, HMAC-SHA256 MAC), openssl's compat-style file (PKCS#12 3DES parts, SHA-1 MAC)
    and one with its MAC damaged."""
    folder = tmp_path_factory.mktemp("ahead")
    env = {**os.environ, "PW": PASSWORD}
    keytool = folder / "kt.p12"
    subprocess.run(["keytool", "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=server", "-storetype", "PKCS12", "-keystore", str(keytool), "-storepass:env", "PW"],
                   check=True, capture_output=True, env=env)
    key, cert, triple = folder / "k.pem", folder / "c.pem", folder / "3des.p12"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=o", "-keyout", str(key), "-out", str(cert), "-days", "2"], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(cert), "-name", "o", "-keypbe",
                    "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1", "-out", str(triple), "-passout",
                    "env:PW"], check=True, capture_output=True, env=env)
    damaged = folder / "damaged.p12"
    data = bytearray(keytool.read_bytes())
    data[-40] ^= 1  # inside the MAC's digest
    damaged.write_bytes(bytes(data))
    return {"keytool": keytool, "3des": triple, "damaged": damaged}


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Side by side on any machine."""
    monkeypatch.setattr(pbkdf2, "usable_cores", lambda: 2)
    monkeypatch.setattr(kdf_pool, "usable_cores", lambda: 2)


@pytest.fixture
def log(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every derivation (its kind and the thread it ran on), every decryption and every MAC check, in order."""
    events: list[tuple[str, int]] = []
    real_pbkdf2, real_p12, real_cbc, real_verify = pbkdf2.pbkdf2_hmac, kdf.pkcs12_kdf, pbe._cbc, mac_module._verify_mac

    def logged(name, call):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            events.append((name, _thread.get_ident()))
            return call(*args, **kwargs)
        return run

    def verify(*args, **kwargs):  # type: ignore[no-untyped-def]
        events.append(("mac checked?", _thread.get_ident()))
        found = real_verify(*args, **kwargs)
        events.append(("mac matched", _thread.get_ident()))
        return found

    monkeypatch.setattr(pbe, "pbkdf2_hmac", logged("pbkdf2", real_pbkdf2))
    part_or_mac = {3: logged("mac-kdf", real_p12)}  # the PKCS#12 KDF's purpose 3 is a MAC key
    monkeypatch.setattr(pbe, "pkcs12_kdf", lambda *args: part_or_mac.get(args[2], logged("part-kdf", real_p12))(*args))
    monkeypatch.setattr(kdf, "pkcs12_kdf", logged("mac-kdf", real_p12))  # mac.py imports it when it writes
    monkeypatch.setattr(pbe, "_cbc", logged("decrypt", real_cbc))
    from keystores.backends.pkcs12 import read

    monkeypatch.setattr(read, "_verify_mac", verify)
    return events


@pytest.mark.parametrize("name", ["keytool", "3des"])
def test_parts_keys_are_derived_beside_the_mac_and_used_only_after_it_matched(
        stores: dict[str, Path], two_cores: None, log: list[tuple[str, int]], name: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    main = _thread.get_ident()
    # the reading waits until a worker has begun the part's key, however long a loaded machine takes to start it
    # (else, past kdf_pool.BEGUN_WAIT, it goes on, and derives the key itself if no worker has begun it by then)
    monkeypatch.setattr(kdf_pool, "BEGUN_WAIT", 30.0)
    with open_store(stores[name], password=PASSWORD) as store:
        assert store.labels()
    part = "pbkdf2" if name == "keytool" else "part-kdf"
    derived_elsewhere = [event for event in log if event[0] == part and event[1] != main]
    assert derived_elsewhere, log  # on a worker thread
    assert len([event for event in log if event[0] == part]) == (1 if name == "keytool" else 2), log  # no more
    # the MAC's, once, queued ahead of what else waits (store._derivations_ahead): a free worker takes it while
    # read.py's import runs here, else this thread derives it when it checks the MAC, beside the worker's part key
    assert len([event for event in log if event[0] == "mac-kdf"]) == 1, log
    kinds = [kind for kind, _ in log]
    assert kinds.index("mac matched") < kinds.index("decrypt"), log  # nothing decrypted before the MAC matched
    assert not pbe._AHEAD  # no derived key kept


@pytest.mark.parametrize(("name", "cipher"), [("keytool", ("aes", 32)), ("3des", ("tripledes", 24))])
def test_the_parts_cipher_is_readied_on_a_worker_with_zeros_only(
        stores: dict[str, Path], two_cores: None, log: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch,
        name: str, cipher: tuple[str, int]) -> None:
    """libcrypto's first use of a cipher looks it up in OpenSSL's providers: reading hands the parts' cipher to the
    pool, to be readied on a worker while the MAC's key is derived here, by decrypting a block of zeros under a zero
    key (nothing of the file), and the file reads as it did. (Handed, and run if a worker takes it before the read
    is done: a busy machine may not give a worker a core in time; the pool then drops it, and the part's
    decryption looks the cipher up itself.)"""
    from keystores.crypto import libcrypto

    handed: list[tuple[object, ...]] = []
    readied: list[tuple[tuple[str, int], int]] = []
    real_ready, real_cbc, real_submit = libcrypto.ready, libcrypto.cbc, kdf_pool.KdfPool.submit

    def submit(pool, iterations, call, *args, **kwargs):  # type: ignore[no-untyped-def]
        if call is ready:
            handed.append(args)
        return real_submit(pool, iterations, call, *args, **kwargs)

    def ready(*args):  # type: ignore[no-untyped-def]
        readied.append((args, _thread.get_ident()))
        return real_ready(*args)

    def cbc(cipher, key, iv, data, *, decrypt):  # type: ignore[no-untyped-def]
        if readied and readied[-1][1] == _thread.get_ident():
            assert key == bytes(len(key)) and iv == bytes(len(iv)) and data == bytes(len(data)) and decrypt
        return real_cbc(cipher, key, iv, data, decrypt=decrypt)

    monkeypatch.setattr(libcrypto, "ready", ready)
    monkeypatch.setattr(libcrypto, "cbc", cbc)
    monkeypatch.setattr(kdf_pool.KdfPool, "submit", submit)
    assert libcrypto.library() is not None  # its ciphers in use even where an earlier test loaded cryptography's
    with open_store(stores[name], password=PASSWORD) as store:
        assert store.labels()
    assert handed == [cipher], handed
    assert all(args == cipher and ident != _thread.get_ident() for args, ident in readied), readied  # on a worker
    assert not pbe._AHEAD


def test_ready_decrypts_nothing_it_is_given_and_declines_what_cbc_declines() -> None:
    from keystores.crypto import libcrypto

    assert libcrypto.ready("aes", 32) is None and libcrypto.ready("tripledes", 24) is None
    assert libcrypto.ready("aes", 7) is None and libcrypto.ready("rc2", 16) is None  # nothing to ready


@pytest.mark.parametrize("name", ["keytool", "3des"])
def test_a_wrong_password_fails_as_before_deriving_at_most_the_part_s_key_more(
        stores: dict[str, Path], log: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """The MAC fails; the check that tells a wrong password from a damaged file (read._password_opens_contents)
    tries what it tried, in file order: openssl's file holds its encrypted part first, whose key it takes as derived
    ahead (no derivation more); keytool's holds its key bag first, so the part's key derived beside the MAC is one
    derivation more, on the other core (the time of the MAC's)."""
    def derivations(cores: int) -> list[str]:
        log.clear()
        with monkeypatch.context() as patch:
            patch.setattr(pbkdf2, "usable_cores", lambda: cores)
            patch.setattr(kdf_pool, "usable_cores", lambda: cores)
            with pytest.raises(WrongPassword, match="wrong password"):
                open_store(stores[name], password="not the password")
        assert not pbe._AHEAD
        return sorted(kind for kind, _ in log if kind in ("pbkdf2", "part-kdf", "mac-kdf"))

    alone = derivations(1)
    side_by_side = derivations(2)
    if name == "3des":
        assert side_by_side == alone
    else:  # (none more when the pool was left before a worker took the call: it is then dropped)
        assert side_by_side in (alone, sorted([*alone, "pbkdf2"]))


def test_a_damaged_mac_is_still_an_integrity_error(stores: dict[str, Path], two_cores: None,
                                                   log: list[tuple[str, int]]) -> None:
    with pytest.raises(IntegrityError):
        open_store(stores["damaged"], password=PASSWORD)
    assert "mac matched" not in [kind for kind, _ in log]
    assert not pbe._AHEAD


def test_the_same_entries_on_one_core_and_on_two(stores: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    def read(location: Path) -> list[tuple[str, str, bytes]]:
        with open_store(location, password=PASSWORD) as store:
            return [(entry.label, str(entry.kind), entry.chain_der()[0]) for entry in store.entries()]

    for location in stores.values():
        if location.name == "damaged.p12":
            continue
        with monkeypatch.context() as patch:
            patch.setattr(pbkdf2, "usable_cores", lambda: 1)
            alone = read(location)
        with monkeypatch.context() as patch:
            patch.setattr(pbkdf2, "usable_cores", lambda: 2)
            patch.setattr(kdf_pool, "usable_cores", lambda: 2)
            assert read(location) == alone


def test_a_listing_as_users_run_it_imports_no_threading(stores: dict[str, Path]) -> None:
    probe = ("import atexit, json, sys\n"
             "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
             "from keystores.crypto import kdf_pool, pbkdf2\n"
             "pbkdf2.usable_cores = kdf_pool.usable_cores = lambda: 2\n"
             "from keystores.cli.main import run\nrun(sys.argv[1:])\n")
    for name in ("keytool", "3des"):
        done = subprocess.run([sys.executable, "-c", probe, "list", str(stores[name]), "-p", "env:PW"],
                              capture_output=True, text=True, check=False,
                              env={"PATH": os.environ["PATH"], "PW": PASSWORD, "NO_COLOR": "1"})
        assert done.returncode == 0, done.stderr
        loaded = json.loads(done.stderr.strip().splitlines()[-1])
        assert "keystores.crypto.kdf_pool" in loaded and "threading" not in loaded, name


@pytest.mark.parametrize("profile", ["modern", "compat"])
def test_a_write_derives_its_bags_keys_beside_the_mac_with_fresh_salts(
        tmp_path: Path, two_cores: None, log: list[tuple[str, int]], profile: str) -> None:
    """Writing a key pair and a trusted certificate: the key bag's and the certificates' keys are handed to the
    pool while this thread derives the MAC's; as many derivations as one after the other (PBKDF2 once per bag, or
    the PKCS#12 KDF's key and IV for 3DES), each salt its own, and the file reads back (openssl reads what this
    writes: test_pkcs12_interop). Where they ran is the scheduler's: one no worker has begun when the write needs
    it, this thread derives (kdf_pool.Pending.result; test_kdf_pool holds that), so a test cannot say which."""
    from hardening import PASSWORD as STORE_PASSWORD
    from hardening import base_entries
    from helpers import warned_of

    from keystores.backends.pkcs12 import structure
    from keystores.crypto import pbe_params

    path = tmp_path / f"{profile}.p12"
    main = _thread.get_ident()
    with warned_of(profile), open_store(path, password=STORE_PASSWORD, type="pkcs12", create=True,
                                        profile=profile) as store:
        for entry in base_entries():
            store.add(entry)
    bags = [(kind, ident) for kind, ident in log if kind in ("pbkdf2", "part-kdf")]
    assert len(bags) == (2 if profile == "modern" else 4), log
    assert [event for event in log if event[0] == "mac-kdf"] == [("mac-kdf", main)], log
    assert not pbe._AHEAD
    pfx = structure.read_pfx(path.read_bytes(), "x")
    salts = [pfx.mac.salt]  # type: ignore[union-attr]
    for part in structure.read_authenticated_safe(pfx.safe):
        if part.kind == "encrypted_data":
            salts.append(pbe_params.common(part.algorithm).salt)  # type: ignore[union-attr]
        else:
            for bag in structure.read_safe_contents(part.data):
                algorithm, _ = pbe_params.encrypted_private_key_info(bag.value)  # type: ignore[misc]
                salts.append(pbe_params.common(algorithm).salt)  # type: ignore[union-attr]
    assert len(salts) == 3 and len(set(salts)) == 3
    with open_store(path, password=STORE_PASSWORD) as store:
        assert {"old-anchor", "old-key"} <= set(store.labels()) and store.get("old-key").key is not None


def test_a_rename_derives_no_key_bag_anew(tmp_path: Path, two_cores: None, log: list[tuple[str, int]]) -> None:
    """A key bag written back as read derives nothing: the certificates' part and the MAC only."""
    from hardening import PASSWORD as STORE_PASSWORD
    from hardening import base_entries

    path = tmp_path / "r.p12"
    with open_store(path, password=STORE_PASSWORD, type="pkcs12", create=True) as store:
        for entry in base_entries():
            store.add(entry)
    with open_store(path, password=STORE_PASSWORD, writable=True) as store:
        log.clear()
        store.rename("old-key", "renamed")
    written = [kind for kind, _ in log if kind in ("pbkdf2", "part-kdf", "mac-kdf")]
    assert sorted(written) == ["mac-kdf", "pbkdf2"], log


def test_a_sealer_encrypts_once() -> None:
    sealer = pbe.Sealer("pbes2-aes256-sha256", "pw", iterations=1000)
    algorithm, ciphertext = sealer.encrypt(b"data")
    assert pbe.decrypt_with(algorithm, ciphertext, "pw") == b"data"
    with pytest.raises(ValueError, match="once"):
        sealer.encrypt(b"again")


def test_an_interrupt_while_a_write_derives_on_the_pool_exits_130_and_changes_nothing(tmp_path: Path) -> None:
    """Ctrl-C while `passwd` of a 30-key PKCS#12 derives on the pool's threads (reading derives its part's key ahead,
    writing every key bag's): exit 130, the file as it was, nothing beside it."""
    import signal
    import time

    from hardening import PASSWORD as STORE_PASSWORD
    from helpers import key_pair_entry

    path = tmp_path / "keys.p12"
    with open_store(path, password=STORE_PASSWORD, type="pkcs12", create=True) as store:
        for index in range(30):
            store.add(key_pair_entry(f"key-{index}", index=index, use_ec=True))
    before = path.read_bytes()

    def threads(pid: int) -> int:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("Threads:"))

    env = {**os.environ, "PW": STORE_PASSWORD, "NEW": "another-pass-2", "NO_COLOR": "1"}
    for _ in range(20):  # a run that ends before its threads are seen is started again
        proc = subprocess.Popen([sys.executable, "-m", "keystores", "passwd", str(path), "-p", "env:PW",
                                 "--new-password", "env:NEW"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        while proc.poll() is None and threads(proc.pid) < 2:
            time.sleep(0.0005)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 130, err
            assert err.splitlines() == ["keystores: interrupted; nothing was changed"], err
            break
        proc.communicate()
        path.write_bytes(before)  # it finished: the password changed; again from the same file
    else:
        raise AssertionError("the command always finished before it could be interrupted")
    assert path.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["keys.p12"]
    with open_store(path, password=STORE_PASSWORD) as store:
        assert len(store.labels()) >= 30


def test_creating_an_empty_file_loads_no_pbe_module(tmp_path: Path) -> None:
    """A new empty PKCS#12 encrypts nothing: its MAC's KDF is keystores.crypto.kdf's, and keystores.crypto.pbe (with
    pbe_params and pbkdf2) is not loaded, nor the KDF pool (one derivation)."""
    probe = ("import atexit, json, sys\n"
             "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
             "from keystores.cli.main import run\nrun(sys.argv[1:])\n")
    path = tmp_path / "new.p12"
    done = subprocess.run([sys.executable, "-c", probe, "create", str(path), "-p", "env:PW"], capture_output=True,
                          text=True, check=False, env={"PATH": os.environ["PATH"], "PW": PASSWORD, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert not {"keystores.crypto.pbe", "keystores.crypto.pbkdf2", "keystores.crypto.kdf_pool"} & set(loaded)
    with open_store(path, password=PASSWORD) as store:
        assert store.labels() == []
    with pytest.raises(WrongPassword):
        open_store(path, password="not the password")


# Runs the CLI on two cores as users run it and prints, at exit, each call handed to a kdf_pool pool: its function's
# name (the derivation's own, where it was handed wrapped to wait until a worker began it: pbe._begun_then, which
# a free worker gets and a busy one does not), whether it was queued last (submit) or first (submit_next), and
# whether read.py was imported by then.
HANDED_PROBE = ("import atexit, json, sys\n"
                "from keystores.crypto import kdf_pool, pbkdf2\n"
                "pbkdf2.usable_cores = kdf_pool.usable_cores = lambda: 2\n"
                "handed = []\n"
                "def recording(method, where):\n"
                "    def record(pool, iterations, call, *args, **kwargs):\n"
                "        name = args[1].__name__ if call.__name__ == '_begun_then' else call.__name__\n"
                "        handed.append([name, where, 'keystores.backends.pkcs12.read' in sys.modules])\n"
                "        return method(pool, iterations, call, *args, **kwargs)\n"
                "    return record\n"
                "kdf_pool.KdfPool.submit = recording(kdf_pool.KdfPool.submit, 'last')\n"
                "kdf_pool.KdfPool.submit_next = recording(kdf_pool.KdfPool.submit_next, 'first')\n"
                "atexit.register(lambda: print(json.dumps(handed), file=sys.stderr))\n"
                "from keystores.cli.main import run\nrun(sys.argv[1:])\n")


def test_a_listing_starts_the_mac_s_and_the_part_s_keys_before_importing_the_reader(stores: dict[str, Path]) -> None:
    """keystores.backends.pkcs12.store._derivations_ahead: as users run it, the part's key, the MAC's and the
    cipher's readying are handed to the pool before read.py (and lazy_entries, pki.labels) is imported, which then
    loads while they run; the listing is as before."""
    # (the part's key, or its key and IV; the MAC's, ahead of anything else queued; the cipher's readying)
    for name, first in (("keytool", ["pbkdf2_hmac"]), ("3des", ["pkcs12_kdf", "pkcs12_kdf"])):
        done = subprocess.run([sys.executable, "-c", HANDED_PROBE, "list", str(stores[name]), "-p", "env:PW"],
                              capture_output=True, text=True, check=False,
                              env={"PATH": os.environ["PATH"], "PW": PASSWORD, "NO_COLOR": "1"})
        assert done.returncode == 0, done.stderr
        handed = json.loads(done.stderr.strip().splitlines()[-1])
        assert handed == [*([call, "last", False] for call in first), ["pkcs12_kdf", "first", False],
                          ["ready", "last", False]], (name, handed)
        assert done.stdout.split("\t")[1] == "key-pair", done.stdout


def test_a_convert_starts_its_key_bag_s_key_with_the_mac_s_before_importing_the_reader(
        stores: dict[str, Path], tmp_path: Path) -> None:
    """store._derivations_ahead, for a transfer (lazy_entries.KeysWanted): as users run it, the key bag's key is
    handed to the pool with the part's and the MAC's, before read.py is imported (it was handed by read._parse,
    after that import), and before the MAC's, which is handed only once libcrypto is loaded (its PKCS#12 KDF):
    a worker free meanwhile derives it (it was queued behind the MAC's); the MAC's is queued ahead of it, as it is
    needed first. The key is then opened (KeysAhead) and written as before."""
    out = tmp_path / "c.pem"
    done = subprocess.run([sys.executable, "-c", HANDED_PROBE, "convert", str(stores["keytool"]), str(out), "-p",
                           "env:PW"], capture_output=True, text=True, check=False,
                          env={"PATH": os.environ["PATH"], "PW": PASSWORD, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    handed = json.loads(done.stderr.strip().splitlines()[-1])
    # (the part's, the key bag's, the MAC's ahead of it; then the cipher's readying)
    assert handed[:4] == [["pbkdf2_hmac", "last", False], ["pbkdf2_hmac", "last", False],
                          ["pkcs12_kdf", "first", False], ["ready", "last", False]], handed
    assert [call for call, *_ in handed[4:]] == ["_open_ahead"], handed  # the key opens taking that derivation
    assert b"PRIVATE KEY" in out.read_bytes()


def test_reading_leaves_no_thread_and_nothing_started(stores: dict[str, Path], two_cores: None) -> None:
    for name in ("keytool", "3des"):
        before = _thread._count()
        with open_store(stores[name], password=PASSWORD) as store:
            assert store.labels()
        assert not pbe._AHEAD and threads_left(before) == 0, name
    before = _thread._count()
    with pytest.raises(WrongPassword):
        open_store(stores["keytool"], password="not the password")
    assert not pbe._AHEAD and threads_left(before) == 0


def test_a_count_over_the_limit_starts_nothing_and_fails_as_on_one_core(stores: dict[str, Path],
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """store._derivations_ahead checks the counts as reading does: a file reading refuses derives nothing ahead."""
    from keystores import limits
    from keystores.limits import LimitExceeded

    monkeypatch.setattr(limits, "MAX_ITERATIONS", 5000)  # keytool's file: 10,000
    handed: list[object] = []
    real_submit = kdf_pool.KdfPool.submit

    def submit(pool, iterations, call, *args, **kwargs):  # type: ignore[no-untyped-def]
        handed.append(call)
        return real_submit(pool, iterations, call, *args, **kwargs)

    monkeypatch.setattr(kdf_pool.KdfPool, "submit", submit)
    got = []
    for cores in (1, 2):
        monkeypatch.setattr(pbkdf2, "usable_cores", lambda cores=cores: cores)
        monkeypatch.setattr(kdf_pool, "usable_cores", lambda cores=cores: cores)
        before = _thread._count()
        with pytest.raises(LimitExceeded) as caught:
            open_store(stores["keytool"], password=PASSWORD)
        got.append((str(caught.value), caught.value.exit_code))
        assert handed == [] and not pbe._AHEAD and threads_left(before) == 0
    assert got[0] == got[1]
