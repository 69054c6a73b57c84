"""Signature checks started ahead (keystores.crypto.verify_ahead; issue 15, bench/bench_core.py "sign"): `sign`
starts its request's check on a thread of its own (libcrypto lets the GIL go) while it imports the builder and reads
the CA, and its verify() takes that verdict. The verdict is the one verify() gives; a check the thread has not begun
is made by the caller; what nobody took is dropped, and no thread is left."""

from __future__ import annotations

import _thread
from pathlib import Path
from typing import Any

import pytest
from helpers import threads_left
from test_keys_ahead import two_cores  # noqa: F401 - the fixture, shared

from keystores.crypto import libcrypto, verify, verify_ahead
from keystores.errors import CorruptStore, IntegrityError
from keystores.ops import lifecycle as lc
from keystores.pki.encoded import EncodedRequest

PW = "Ahead pw1"


@pytest.fixture
def request_parts(tmp_path: Path) -> tuple[bytes, bytes, bytes, str]:
    """(SubjectPublicKeyInfo, signature, signed bytes, hash) of a P-256 request keystores made; libcrypto loaded."""
    made = lc.certreq(tmp_path / "web.p12", "web", "CN=web", key_spec="ec:p256", password=PW).encoded
    assert libcrypto.library() is not None
    encoded = EncodedRequest(made.der)
    return encoded.spki_der, encoded.signature, encoded.tbs_certrequest_bytes, encoded.signature_hash_name


def _tampered(parts: tuple[bytes, bytes, bytes, str]) -> tuple[bytes, bytes, bytes, str]:
    spki, signature, data, hash_name = parts
    return spki, signature, data[:-1] + bytes([data[-1] ^ 1]), hash_name


def _runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes, int]]:
    """Each check libcrypto makes: (its signature, the thread that made it)."""
    runs: list[tuple[bytes, int]] = []
    real = verify._verify

    def counted(spki_der: bytes, signature: bytes, data: bytes, hash_name: str) -> bool | None:
        runs.append((signature, _thread.get_ident()))
        return real(spki_der, signature, data, hash_name)

    monkeypatch.setattr(verify, "_verify", counted)
    return runs


@pytest.mark.usefixtures("two_cores")
@pytest.mark.parametrize("tamper", [False, True])
def test_a_check_started_ahead_is_made_by_its_thread_and_gives_verify_s_verdict(
        request_parts: tuple[bytes, bytes, bytes, str], tamper: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = _tampered(request_parts) if tamper else request_parts
    expected = verify._verify(*parts)
    assert expected is (not tamper)
    runs = _runs(monkeypatch)
    before = _thread._count()
    verify_ahead.verify_ahead(*parts)
    verify._AHEAD[parts].wait()  # until its thread has made it
    assert verify.verify(*parts) is expected
    assert [thread for _, thread in runs] != [_thread.get_ident()] and len(runs) == 1
    assert verify._AHEAD == {}
    assert threads_left(before) == 0


def _held_back(monkeypatch: pytest.MonkeyPatch, parts: tuple[bytes, bytes, bytes, str]) -> tuple[list[Any], list[Any]]:
    """verify_ahead(*parts) whose thread is not started (its run kept, to be called late): (that run, the checks)."""
    started: list[Any] = []
    monkeypatch.setattr(_thread, "start_new_thread", lambda run, args: started.append(run))
    runs = _runs(monkeypatch)
    verify_ahead.verify_ahead(*parts)
    return started, runs


@pytest.mark.usefixtures("two_cores")
def test_the_caller_makes_the_check_its_thread_has_not_begun_and_that_thread_then_does_nothing(
        request_parts: tuple[bytes, bytes, bytes, str], monkeypatch: pytest.MonkeyPatch) -> None:
    started, runs = _held_back(monkeypatch, request_parts)
    assert len(started) == 1 and runs == []
    assert verify.verify(*request_parts) is True
    started[0]()  # the thread begins late: claimed already
    assert runs == [(request_parts[1], _thread.get_ident())]


@pytest.mark.usefixtures("two_cores")
def test_forget_ahead_drops_a_check_not_begun_and_leaves_none(
        request_parts: tuple[bytes, bytes, bytes, str], monkeypatch: pytest.MonkeyPatch) -> None:
    started, runs = _held_back(monkeypatch, request_parts)
    verify_ahead.forget_ahead()
    started[0]()
    assert runs == [] and verify._AHEAD == {}


def test_nothing_is_started_on_one_core_or_for_a_key_not_in_the_ec_form(
        request_parts: tuple[bytes, bytes, bytes, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from keystores.crypto import pbkdf2

    monkeypatch.setattr(pbkdf2, "usable_cores", lambda: 1)
    verify_ahead.verify_ahead(*request_parts)
    assert verify._AHEAD == {}
    monkeypatch.setattr(pbkdf2, "usable_cores", lambda: 2)
    spki, *rest = request_parts
    verify_ahead.verify_ahead(spki[:-1] + b"\x00" + spki[-1:], *rest)  # not the length of a P-256 key's form
    verify_ahead.verify_ahead(spki, rest[0], rest[1], "sha3_256")  # a hash verify() does not name
    assert verify._AHEAD == {}


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    path = tmp_path / "ca.p12"
    lc.selfsign(path, "ca", "CN=Ahead CA", ca=True, key_spec="ec:p256", password=PW)
    return path


@pytest.mark.usefixtures("two_cores")
def test_sign_checks_its_request_once_ahead_and_leaves_no_thread(
        ca: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    request = EncodedRequest(lc.certreq(tmp_path / "web.p12", "web", "CN=web", key_spec="ec:p256",
                                        password=PW).encoded.der)
    started: list[bytes] = []
    real_ahead = verify_ahead.verify_ahead

    def ahead(spki_der: bytes, signature: bytes, data: bytes, hash_name: str) -> None:
        started.append(signature)
        real_ahead(spki_der, signature, data, hash_name)

    monkeypatch.setattr(verify_ahead, "verify_ahead", ahead)
    runs = _runs(monkeypatch)
    before = _thread._count()
    issued = lc.sign(ca, "ca", request.pem(), password=PW)
    assert started == [request.signature]
    assert [signature for signature, _ in runs].count(request.signature) == 1
    assert verify._AHEAD == {}
    assert threads_left(before) == 0
    assert issued.encoded[0].subject_der == request.subject_der


@pytest.mark.usefixtures("two_cores")
def test_sign_refuses_a_tampered_or_unreadable_request_as_before(ca: Path, tmp_path: Path) -> None:
    der = bytearray(lc.certreq(tmp_path / "w.p12", "web", "CN=web", key_spec="ec:p256", password=PW).encoded.der)
    der[-3] ^= 1  # inside the signature's last INTEGER
    with pytest.raises(IntegrityError, match="the request's signature does not verify"):
        lc.sign(ca, "ca", EncodedRequest(bytes(der)).pem(), password=PW)
    with pytest.raises(CorruptStore, match="not a certificate request"):
        lc.sign(ca, "ca", b"-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n",
                password=PW)
    assert verify._AHEAD == {}
