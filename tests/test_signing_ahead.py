"""Derivations started ahead in the signing commands (issue 15, bench/bench_core.py "certreq", "sign"): `sign` opens
the CA's sealed key on a worker (lazy_entries.KeysAhead) while it checks the request; `certreq` and `selfsign` into a
PKCS#12 tell the store what they will write (Pkcs12Store.expect_write), which derives that write's keys (key bag,
certificates, MAC: pkcs12/write.WriteAhead) on a worker while the key's request and certificate are made. What is
written and what is raised is what it was without: the same derivations at the same counts, each with a fresh salt;
the same errors, in the same order."""

from __future__ import annotations

import _thread
import subprocess
import threading
from pathlib import Path

import pytest
from helpers import threads_left
from test_keys_ahead import two_cores  # noqa: F401 - the fixture, shared

from keystores.backends.pkcs12 import mac as p12_mac
from keystores.backends.pkcs12 import read as p12_read
from keystores.backends.pkcs12 import store as p12_store
from keystores.backends.pkcs12 import write as p12_write
from keystores.crypto import kdf, kdf_pool, pbe, pbkdf2
from keystores.errors import CorruptStore, EntryNotFound, WrongPassword
from keystores.ops import lifecycle as lc
from keystores.ops import lifecycle_make, lifecycle_sign
from keystores.store import open_store

PW = "Ahead pw1"


def _cores(monkeypatch: pytest.MonkeyPatch, cores: int) -> None:
    monkeypatch.setattr(pbkdf2, "usable_cores", lambda: cores)
    monkeypatch.setattr(kdf_pool, "usable_cores", lambda: cores)


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    path = tmp_path / "ca.p12"
    lc.selfsign(path, "ca", "CN=Ahead CA", ca=True, key_spec="ec:p256", password=PW)
    return path


def _request(tmp_path: Path) -> bytes:
    result = lc.certreq(tmp_path / "web.p12", "web", "CN=web", key_spec="ec:p256", password=PW)
    return result.encoded.pem()


def _counted(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bytes, int]]:
    """Every PBKDF2 and PKCS#12 KDF run: (which, salt, iterations), in whatever thread."""
    runs: list[tuple[str, bytes, int]] = []
    real_pbkdf2, real_kdf = pbkdf2.pbkdf2_hmac, kdf.pkcs12_kdf

    def counted_pbkdf2(hash_name, password, salt, iterations, length):
        runs.append(("pbkdf2", salt, iterations))
        return real_pbkdf2(hash_name, password, salt, iterations, length)

    def counted_kdf(password, salt, purpose_id, iterations, size, hash_name="sha1"):
        runs.append(("pkcs12", salt, iterations))
        return real_kdf(password, salt, purpose_id, iterations, size, hash_name)

    monkeypatch.setattr(pbe, "pbkdf2_hmac", counted_pbkdf2)
    monkeypatch.setattr(pbe, "pkcs12_kdf", counted_kdf)
    monkeypatch.setattr(kdf, "pkcs12_kdf", counted_kdf)
    return runs


# --- sign --------------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("two_cores")
def test_sign_opens_the_ca_key_on_a_worker_while_it_checks_the_request(ca: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The key's decryption waits until the request has been checked: on main, where the key was opened after the
    request's check in the same thread, this would wait in vain."""
    request = _request(tmp_path)
    checked, threads = threading.Event(), []
    real_decrypted, real_check = p12_read._decrypted_key, lifecycle_sign._request_to_sign

    def decrypted(*args, **kwargs):
        threads.append(threading.get_ident())
        assert checked.wait(10), "the CA key was opened before the request was checked, not beside"
        return real_decrypted(*args, **kwargs)

    def check(*args, **kwargs):
        found = real_check(*args, **kwargs)
        checked.set()
        return found

    monkeypatch.setattr(p12_read, "_decrypted_key", decrypted)
    monkeypatch.setattr(lifecycle_sign, "_request_to_sign", check)
    issued = lc.sign(ca, "ca", request, password=PW)
    assert threads and threading.get_ident() not in threads
    out = tmp_path / "web.pem"
    out.write_bytes(issued.encoded[0].pem())
    ca_pem = tmp_path / "ca.pem"
    with open_store(ca, password=PW) as store:
        ca_pem.write_bytes(lc._chain_as_encoded(store.get("ca"))[0].pem())
    done = subprocess.run(["openssl", "verify", "-CAfile", str(ca_pem), str(out)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.usefixtures("two_cores")
@pytest.mark.parametrize("label", ["ca", "second", None])
def test_the_cli_s_sign_starts_the_ca_key_s_derivation_with_the_read(ca: Path, tmp_path: Path, label: str | None,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`keystores sign` opens the CA's store under lazy_entries.KeysWanted: the read starts the key bag's PBKDF2
    beside its own derivations, before the entries are made, and the key's first use takes it (no KeysAhead pool of
    its own, no second derivation). On main it started only after the read, on a pool of its own. In a store of two
    CA keys (`label` the one asked for), only that one's is started: no other key is derived."""
    from keystores.cli.main import run

    if label is not None:
        lc.selfsign(ca, "second", "CN=Second CA", ca=True, key_spec="ec:p256", password=PW)
    (tmp_path / "web.csr").write_bytes(_request(tmp_path))
    runs = _counted(monkeypatch)
    pools: list[str] = []
    started_at_assembly: list[int] = []
    real_init, real_early, real_assemble = kdf_pool.KdfPool.__init__, p12_store._derive_keys_early, p12_read._assemble
    early: dict[bytes, str] = {}

    def init(self, name, *args, **kwargs):
        pools.append(name)
        real_init(self, name, *args, **kwargs)

    def derive_early(parts, password, later, wanted):
        real_early(parts, password, later, wanted)
        early.update(wanted.started)

    def assemble(*args, **kwargs):
        started_at_assembly.append(len(early))
        return real_assemble(*args, **kwargs)

    monkeypatch.setattr(kdf_pool.KdfPool, "__init__", init)
    monkeypatch.setattr(p12_store, "_derive_keys_early", derive_early)
    monkeypatch.setattr(p12_read, "_assemble", assemble)
    monkeypatch.setenv("AHEAD_PW", PW)
    out = tmp_path / "web.pem"
    with pytest.raises(SystemExit) as done:
        run(["sign", str(ca), str(tmp_path / "web.csr"), "--label", label or "ca", "-o", str(out), "--chain",
             "--password", "env:AHEAD_PW"])
    assert not done.value.code
    assert started_at_assembly == [1]  # the CA's key bag, started before the entries were made
    assert "keys-ahead" not in pools and pools.count("pkcs12-read") == 1
    pbkdf2_salts = [salt for kind, salt, _ in runs if kind == "pbkdf2"]
    assert len(pbkdf2_salts) == 2 == len(set(pbkdf2_salts))  # the part's key and the key bag's, each once
    first, second = out.read_bytes().split(b"-----END CERTIFICATE-----\n", 1)
    (tmp_path / "leaf.pem").write_bytes(first + b"-----END CERTIFICATE-----\n")
    (tmp_path / "ca.pem").write_bytes(second)
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "ca.pem"), str(tmp_path / "leaf.pem")],
                              capture_output=True, text=True, check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.parametrize("damage", ["request", "label", "request and label", "key"])
def test_sign_fails_as_it_did_on_one_core(ca: Path, tmp_path: Path, damage: str,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The same error (type, message, store, label), the request's before the label's, on two cores, where the key
    opens ahead, as on one, where it opens when used; no thread is left."""
    request = _request(tmp_path)
    if "request" in damage:
        request = request.replace(request[40:48], b"AAAAAAAA")
    label = "nobody" if "label" in damage else "ca"
    if damage == "key":
        def refused(*args, **kwargs):
            raise WrongPassword("the key is protected with a password other than the store's", store=str(ca),
                                label="ca")

        monkeypatch.setattr(p12_read, "_decrypted_key", refused)
    got = []
    for cores in (1, 2):
        _cores(monkeypatch, cores)
        before = _thread._count()
        with pytest.raises((CorruptStore, EntryNotFound, WrongPassword)) as caught:
            lc.sign(ca, label, request, password=PW)
        got.append((type(caught.value), caught.value.reason, caught.value.store, caught.value.label))
        assert threads_left(before) == 0
    assert got[0] == got[1]
    assert got[0][0] is {"request": CorruptStore, "label": EntryNotFound, "request and label": CorruptStore,
                         "key": WrongPassword}[damage]


# --- certreq, selfsign: the write's derivations ahead ----------------------------------------------------------
@pytest.mark.parametrize("command", ["certreq", "selfsign"])
@pytest.mark.usefixtures("two_cores")
def test_the_write_derives_on_a_worker_while_the_key_is_made(tmp_path: Path, command: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The key is made once the write's first derivation has begun, on a worker: where the write derived its keys
    after the key was made, this would wait in vain. (At the write, this thread takes, from the last, what the worker
    has not begun: pkcs12 WriteAhead.take_share.) The file opens (openssl too), and its key is the one made."""
    began, threads = threading.Event(), []
    real_pbkdf2, real_new_key = pbkdf2.pbkdf2_hmac, lifecycle_make._new_key

    def derive(*args, **kwargs):
        threads.append(threading.get_ident())
        began.set()
        return real_pbkdf2(*args, **kwargs)

    def new_key(*args, **kwargs):
        assert began.wait(10), "the write's derivations began after the key was made, not beside"
        return real_new_key(*args, **kwargs)

    monkeypatch.setattr(pbe, "pbkdf2_hmac", derive)
    monkeypatch.setattr(lifecycle_make, "_new_key", new_key)
    path = tmp_path / "new.p12"
    if command == "certreq":
        result = lc.certreq(path, "me", "CN=me", key_spec="ec:p256", password=PW)
        public_der = result.encoded.spki_der
    else:
        result = lc.selfsign(path, "me", "CN=me", key_spec="ec:p256", password=PW)
        public_der = result.encoded[0].spki_der
    assert threads and threads[0] != threading.get_ident()
    with open_store(path, password=PW) as store:
        entry = store.get("me")
        from cryptography.hazmat.primitives import serialization

        assert entry.key.public_key().public_bytes(serialization.Encoding.DER,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo) == public_der
    done = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-passin", f"pass:{PW}", "-noout"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("cores", [1, 2])
def test_the_write_derives_what_it_did_each_with_a_fresh_salt(tmp_path: Path, cores: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """certreq into a new PKCS#12: 3 derivations at the profile's 10,000 (the key bag's and the certificates' PBKDF2,
    the MAC's PKCS#12 KDF), with ahead as without; the salts all differ, and differ from one write to the next."""
    _cores(monkeypatch, cores)
    runs = _counted(monkeypatch)
    lc.certreq(tmp_path / "a.p12", "me", "CN=me", key_spec="ec:p256", password=PW)
    first = list(runs)
    assert sorted((which, iterations) for which, _, iterations in first) == [
        ("pbkdf2", 10_000), ("pbkdf2", 10_000), ("pkcs12", 10_000)]
    lc.certreq(tmp_path / "b.p12", "me", "CN=me", key_spec="ec:p256", password=PW)
    salts = [salt for _, salt, _ in runs]
    assert len(salts) == 6 and len(set(salts)) == 6


@pytest.mark.usefixtures("two_cores")
def test_a_store_given_another_password_before_saving_derives_anew(tmp_path: Path) -> None:
    """What was derived ahead for one password is dropped when the store is saved under another: the file opens with
    the new password only."""
    path = tmp_path / "p.p12"
    with open_store(path, password=PW, type="pkcs12", create=True) as store:
        lc.certreq(store, "me", "CN=me", key_spec="ec:p256")
        store.set_password("Another pw2")
    with pytest.raises(WrongPassword):
        open_store(path, password=PW).close()
    with open_store(path, password="Another pw2") as store:
        assert store.get("me").key is not None


@pytest.mark.usefixtures("two_cores")
def test_a_failure_after_the_hint_leaves_no_thread_and_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """certreq failing once its write's derivations are under way: the error as raised, no file, no worker left."""
    before = _thread._count()

    def refused(*args, **kwargs):
        raise CorruptStore("refused by the test")

    from keystores.pki import builder

    monkeypatch.setattr(builder, "build_request", refused)
    with pytest.raises(CorruptStore, match="refused by the test"):
        lc.certreq(tmp_path / "f.p12", "me", "CN=me", key_spec="ec:p256", password=PW)
    assert not (tmp_path / "f.p12").exists()
    assert threads_left(before) == 0


@pytest.mark.usefixtures("two_cores")
def test_a_derivation_that_fails_ahead_fails_the_write_where_it_is_used(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The MAC's derivation raising on the worker: the write raises it, in the caller's thread; no file."""
    def broken(*args, **kwargs):
        raise ValueError("KDF broken by the test")

    monkeypatch.setattr(p12_mac, "_mac_key", broken)
    monkeypatch.setattr(p12_write, "_mac_key", broken)
    with pytest.raises(Exception, match="KDF broken by the test"):
        lc.certreq(tmp_path / "k.p12", "me", "CN=me", key_spec="ec:p256", password=PW)
    assert not (tmp_path / "k.p12").exists()


@pytest.mark.usefixtures("two_cores")
def test_an_interrupt_while_the_write_derives_ahead_leaves_no_thread_and_no_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _thread._count()
    deriving = threading.Event()
    real_pbkdf2 = pbkdf2.pbkdf2_hmac

    def derive(*args, **kwargs):
        deriving.set()
        return real_pbkdf2(*args, **kwargs)

    def interrupted(*args, **kwargs):
        assert deriving.wait(10)
        raise KeyboardInterrupt

    monkeypatch.setattr(pbe, "pbkdf2_hmac", derive)
    monkeypatch.setattr(lifecycle_make, "_new_key", interrupted)
    with pytest.raises(KeyboardInterrupt):
        lc.certreq(tmp_path / "i.p12", "me", "CN=me", key_spec="ec:p256", password=PW)
    assert threads_left(before) == 0
    assert not (tmp_path / "i.p12").exists()


def test_a_write_ahead_left_unused_ends_its_worker() -> None:
    """WriteAhead closed before any write: the worker begins nothing more and ends."""
    from keystores.backends.pkcs12.store import PROFILES

    before = _thread._count()
    ahead = p12_write.WriteAhead(PW, PROFILES["modern"], 2)
    ahead.close()
    assert threads_left(before) == 0


@pytest.mark.parametrize("profile", ["modern", "compat"])
@pytest.mark.usefixtures("two_cores")
def test_each_derivation_ahead_gives_what_deriving_it_now_gives(profile: str) -> None:
    """Whichever thread claims it: the worker's result, or the caller's when it claims one not yet begun."""
    from keystores.backends.pkcs12.store import PROFILES

    ahead = p12_write.WriteAhead(PW, PROFILES[profile], 1)
    try:
        salt, key = ahead.mac.result()
        assert key == kdf.pkcs12_kdf(kdf.bmp_password(PW), salt, 3, PROFILES[profile].mac_iterations, len(key),
                                     PROFILES[profile].mac_hash)
        for sealer in (*ahead.keys, ahead.certificates):
            alg, ciphertext = sealer.encrypt(b"sixteen bytes!!!" * 4)
            assert pbe.decrypt_with(alg, ciphertext, PW) == b"sixteen bytes!!!" * 4
    finally:
        ahead.close()


# --- receive: the write's derivations ahead ----------------------------------------------------------------------
def _signed_reply(ca: Path, tmp_path: Path) -> tuple[Path, list]:
    """web.p12 (certreq's key pair with its placeholder) and the CA's reply to its request, as receive reads it."""
    from keystores.ops.lifecycle_receive import read_certificates

    request = _request(tmp_path)
    issued = lc.sign(ca, "ca", request, password=PW)
    return tmp_path / "web.p12", read_certificates(b"".join(cert.pem() for cert in issued.encoded))


@pytest.mark.usefixtures("two_cores")
def test_receive_derives_its_write_on_a_worker_while_it_checks_the_chain(ca: Path, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """receive into a PKCS#12 starts its write's derivations (the certificates part's PBKDF2, the MAC's) once the
    store is open (Pkcs12Store.expect_write): the chain is checked once one has begun, on a worker; where the write
    derived them at the save, after the chain's check, this would wait in vain. The file opens (openssl too), with
    the reply's chain under the key's label. (At the write, this thread takes, from the last, what the worker has
    not begun: pkcs12 WriteAhead.take_share.)"""
    from keystores.pki import chain as pki_chain

    path, reply = _signed_reply(ca, tmp_path)
    began, threads = threading.Event(), []
    real_pbkdf2, real_order = pbkdf2.pbkdf2_hmac, pki_chain.order_chain

    def derive(*args, **kwargs):  # the read's (its certificates part), then the write's
        threads.append(threading.get_ident())
        if len(threads) == 2:
            began.set()
        return real_pbkdf2(*args, **kwargs)

    def order_chain(*args, **kwargs):
        assert began.wait(5), "the write's derivations began after the chain's check, not beside"
        return real_order(*args, **kwargs)

    monkeypatch.setattr(pbe, "pbkdf2_hmac", derive)
    monkeypatch.setattr(pki_chain, "order_chain", order_chain)
    # each pool's first derivation is begun by a worker however long a loaded machine takes to start it: else, past
    # kdf_pool.BEGUN_WAIT, this thread goes on and derives what no worker has begun when it needs it (Pending.result)
    monkeypatch.setattr(kdf_pool, "BEGUN_WAIT", 30.0)
    result = lc.receive(path, reply, password=PW)
    assert result.label == "web" and len(result.encoded) == 2
    assert len(threads) >= 2 and threading.get_ident() not in threads[:2]
    with open_store(path, password=PW) as store:
        assert list(store.get("web").chain_der()) == [cert.der for cert in result.encoded]
    done = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-passin", f"pass:{PW}", "-noout"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("cores", [1, 2])
def test_receive_derives_what_it_did_each_with_a_fresh_salt(ca: Path, tmp_path: Path, cores: int,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """receive into a PKCS#12 written by certreq: 4 derivations at 10,000 (the read's certificates part and MAC, the
    write's, each with a fresh salt; the key bag is written back as read, not derived), with ahead as without."""
    path, reply = _signed_reply(ca, tmp_path)
    _cores(monkeypatch, cores)
    runs = _counted(monkeypatch)
    lc.receive(path, reply, password=PW)
    assert sorted((which, iterations) for which, _, iterations in runs) == [
        ("pbkdf2", 10_000), ("pbkdf2", 10_000), ("pkcs12", 10_000), ("pkcs12", 10_000)]
    assert len({salt for _, salt, _ in runs}) == 4


@pytest.mark.usefixtures("two_cores")
def test_receive_of_a_certificate_no_key_matches_leaves_no_thread_and_the_file_as_it_was(
        ca: Path, tmp_path: Path) -> None:
    """Nothing matches: the error as before, what was derived ahead dropped, no worker left, the file unchanged."""
    from keystores.errors import NotFound

    _, reply = _signed_reply(ca, tmp_path)
    other = tmp_path / "other.p12"
    lc.certreq(other, "other", "CN=other", key_spec="ec:p256", password=PW)
    before_bytes, before = other.read_bytes(), _thread._count()
    with pytest.raises(NotFound, match="no key in the store matches"):
        lc.receive(other, reply, password=PW)
    assert threads_left(before) == 0
    assert other.read_bytes() == before_bytes
