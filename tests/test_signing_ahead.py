"""Derivations started ahead in the signing commands (issue 15, bench/bench_core.py "sign"): `sign` opens the CA's
sealed key on a worker (lazy_entries.KeysAhead) while it checks the request. What is written and what is raised is
what it was without: the same errors, in the same order."""

from __future__ import annotations

import _thread
import subprocess
import threading
from pathlib import Path

import pytest
from test_keys_ahead import _workers_left, two_cores  # noqa: F401 - the fixture, shared

from keystores.backends.pkcs12 import read as p12_read
from keystores.crypto import kdf_pool, pbkdf2
from keystores.errors import CorruptStore, EntryNotFound, WrongPassword
from keystores.ops import lifecycle as lc
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


# --- sign --------------------------------------------------------------------------------------------------------
@pytest.mark.usefixtures("two_cores")
def test_sign_opens_the_ca_key_on_a_worker_while_it_checks_the_request(ca: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The key's decryption waits until the request has been checked: on main, where the key was opened after the
    request's check in the same thread, this would wait in vain."""
    request = _request(tmp_path)
    checked, threads = threading.Event(), []
    real_decrypted, real_check = p12_read._decrypted_key, lc._request_to_sign

    def decrypted(*args, **kwargs):
        threads.append(threading.get_ident())
        assert checked.wait(10), "the CA key was opened before the request was checked, not beside"
        return real_decrypted(*args, **kwargs)

    def check(*args, **kwargs):
        found = real_check(*args, **kwargs)
        checked.set()
        return found

    monkeypatch.setattr(p12_read, "_decrypted_key", decrypted)
    monkeypatch.setattr(lc, "_request_to_sign", check)
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
        assert _workers_left(before) == 0
    assert got[0] == got[1]
    assert got[0][0] is {"request": CorruptStore, "label": EntryNotFound, "request and label": CorruptStore,
                         "key": WrongPassword}[damage]
