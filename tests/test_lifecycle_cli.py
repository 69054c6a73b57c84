"""The lifecycle commands as a user types them: exit codes, files written (or not), openssl as the judge."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from clirun import keystores
from helpers import LATER, openssl_enddate

ENV = {"KS_PW": "cli lifecycle pw"}
PW = ["--password", "env:KS_PW"]


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


def _digest(path: Path) -> bytes:
    return hashlib.sha256(path.read_bytes()).digest()


@pytest.fixture(scope="module")
def flow(tmp_path_factory) -> Path:
    """ca.p12 (a CA made by selfsign, ca.pem beside it) and srv.p12 holding 'web' with a pending key (req.csr)."""
    work = tmp_path_factory.mktemp("cli")
    done = keystores("selfsign", str(work / "ca.p12"), "--label", "root", "--dn", "CN=CLI Root,O=HW,C=GB", "--ca",
                     "--key-type", "ec:p256", "--days", "3650", "-o", str(work / "ca.pem"), *PW, env=ENV)
    assert done.code == 0, done.all
    done = keystores("certreq", str(work / "srv.p12"), "--label", "web", "--dn", "CN=web.example.com,O=HW,C=GB",
                     "--key-type", "ec:p256", "--san", "DNS:web.example.com,IP:10.0.0.1", "-o",
                     str(work / "req.csr"), *PW, env=ENV)
    assert done.code == 0, done.all
    return work


def test_request_file_verifies(flow):
    done = _openssl("req", "-in", str(flow / "req.csr"), "-verify", "-noout", "-text")
    assert done.returncode == 0 and "verify OK" in done.stdout + done.stderr
    assert "DNS:web.example.com, IP Address:10.0.0.1" in done.stdout


def test_sign_receive_validate_audit(flow):
    signed = flow / "web.pem"
    done = keystores("sign", str(flow / "ca.p12"), "--label", "root", str(flow / "req.csr"), "-o", str(signed),
                     "--not-after", f"{LATER:%Y%m%d%H%M%S}Z", "--profile", "server", "--copy-sans", "--chain", *PW,
                     env=ENV)
    assert done.code == 0, done.all
    assert signed.read_text().count("BEGIN CERTIFICATE") == 2
    verify = _openssl("verify", "-CAfile", str(flow / "ca.pem"), "-purpose", "sslserver", str(signed))
    assert verify.stdout.strip().endswith("OK"), verify.stdout + verify.stderr
    assert _openssl("x509", "-in", str(signed), "-noout", "-enddate").stdout.strip() == openssl_enddate(LATER)

    done = keystores("receive", str(flow / "srv.p12"), str(signed), *PW, env=ENV)
    assert done.code == 0, done.all
    assert "received into 'web' with a chain of 2" in done.err

    untrusted = keystores("validate", str(flow / "srv.p12"), "web", *PW, env=ENV)
    assert untrusted.code == 5 and "not trusted" in untrusted.out, untrusted.all
    trusted = keystores("validate", str(flow / "srv.p12"), "web", "--trust", str(flow / "ca.pem"), "--json", *PW,
                        env=ENV)
    assert trusted.code == 0, trusted.all
    report = json.loads(trusted.out)
    assert report["valid"] is True and [link["trusted"] for link in report["links"]] == [False, True]

    clean = keystores("audit", str(flow / "ca.p12"), str(flow / "srv.p12"), "--within", "30d", "--json", *PW,
                      env=ENV)
    assert clean.code == 0, clean.all
    assert json.loads(clean.out)["findings"] == []
    soon = keystores("audit", str(flow / "ca.p12"), str(flow / "srv.p12"), "--within", "20y", "--json", *PW,
                     env=ENV)
    assert soon.code == 5, soon.all
    checks = {(f["store"], f["label"], f["check"]) for f in json.loads(soon.out)["findings"]}
    assert (str(flow / "srv.p12"), "web", "expiring") in checks


def test_bad_requests_exit_1_and_write_nothing(flow, tmp_path):
    garbage = tmp_path / "garbage.csr"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
    out = tmp_path / "out.pem"
    done = keystores("sign", str(flow / "ca.p12"), str(garbage), "--label", "root", "-o", str(out), *PW, env=ENV)
    assert done.code == 1 and "not a certificate request" in done.err and str(garbage) in done.err, done.all
    raw = subprocess.run(["openssl", "req", "-in", str(flow / "req.csr"), "-outform", "DER"], capture_output=True,
                         check=True).stdout
    der = bytearray(raw)
    at = raw.index(b"web.example.com")
    der[at] = ord("X")
    tampered = tmp_path / "tampered.csr"
    tampered.write_bytes(bytes(der))
    done = keystores("sign", str(flow / "ca.p12"), str(tampered), "--label", "root", "-o", str(out), *PW, env=ENV)
    assert done.code == 1 and "signature does not verify" in done.err, done.all
    assert not out.exists()
    assert "Traceback" not in done.all


def test_mismatched_reply_exits_4_lists_keys_and_changes_nothing(flow, tmp_path):
    signed = tmp_path / "s.pem"  # web's certificate, received into the CA's store, which lacks web's key
    assert keystores("sign", str(flow / "ca.p12"), str(flow / "req.csr"), "--label", "root", "-o", str(signed),
                     *PW, env=ENV).code == 0
    target = flow / "ca.p12"
    before = _digest(target)
    done = keystores("receive", str(target), str(signed), *PW, env=ENV)
    assert done.code == 4, done.all
    assert "keys tried: 'root' (key, EC-P256" in done.err and "Nothing was written" in done.err
    assert _digest(target) == before


def test_sign_with_a_non_ca_is_refused(flow, tmp_path):
    out = tmp_path / "x.pem"
    done = keystores("sign", str(flow / "srv.p12"), str(flow / "req.csr"), "--label", "web", "-o", str(out), *PW,
                     env=ENV)
    assert done.code == 1 and "not a CA certificate" in done.err, done.all  # what the store holds: exit 1
    assert not out.exists()


def test_hints_name_options(flow, tmp_path):
    """The library's hints (tests/test_api.py) reach the user as options: in a note and in an error line."""
    done = keystores("sign", str(flow / "ca.p12"), "--label", "root", str(flow / "req.csr"), "-o",
                     str(tmp_path / "plain.pem"), "--days", "30", *PW, env=ENV)
    assert done.code == 0 and "not copied without --copy-sans" in done.err and "copy_sans" not in done.err, done.all
    again = keystores("selfsign", str(flow / "ca.p12"), "--label", "root", "--dn", "CN=again", *PW, env=ENV)
    assert again.code == 1 and again.err.strip().endswith("an entry with this label exists (use --replace to "
                                                          "overwrite it)"), again.all


def _certreq_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                        command: str = "certreq") -> tuple[int, list[tuple[str, str]]]:
    """certreq (or selfsign -o n.csr) run in this process: its exit code, and what it synced and renamed, in order:
    ("fsync", file or folder name), ("thread", which synced it), ("rename", final name), and ("started", the
    function) when a thread is started to run a staged file's fsync (keystores.fileio.WriteAfter._sync)."""
    import _thread
    import os
    import threading

    from keystores.cli.main import run

    steps: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)
        steps.append(("fsync", name.split(".keystores-tmp-")[-1].rsplit(".", 1)[0] if "tmp" in name else name))
        steps.append(("thread", "main" if threading.current_thread() is threading.main_thread() else "other"))

    def replace(src: str, dst: str) -> None:
        real_replace(src, dst)
        steps.append(("rename", os.path.basename(dst)))

    real_start = _thread.start_new_thread

    def start_new_thread(function: object, *args: object, **kwargs: object) -> int:
        if getattr(function, "__qualname__", "") == "WriteAfter._sync":
            steps.append(("started", "WriteAfter._sync"))
        return real_start(function, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(_thread, "start_new_thread", start_new_thread)
    monkeypatch.setenv("KS_PW", ENV["KS_PW"])
    with pytest.raises(SystemExit) as done:
        run([command, str(tmp_path / "n.p12"), "--label", "n", "--dn", "CN=n", "--key-type", "ec:p256",
             "-o", str(tmp_path / "n.csr"), *PW])
    return done.value.code or 0, steps


@pytest.mark.parametrize("command", ["certreq", "selfsign"])
def test_certreq_syncs_its_request_beside_the_store_s_save_and_renames_it_after(tmp_path: Path, command: str,
                                                                                   monkeypatch: pytest.MonkeyPatch):
    """The request's (selfsign: the certificate's) temp file is synced on a thread of its own while the store is
    saved (its fsync was a fourth wait after the store's); it is renamed into place only after the store's file is
    renamed and its folder synced, and its folder is synced after, as before: it never lands before its key."""
    code, steps = _certreq_in_process(tmp_path, monkeypatch, command)
    assert code == 0
    renames = [name for step, name in steps if step == "rename"]
    assert renames == ["n.p12", "n.csr"]
    at = {step: i for i, step in enumerate(steps)}
    folder = tmp_path.name
    csr_synced = steps.index(("fsync", "n.csr"))
    assert steps[csr_synced + 1] == ("thread", "other")
    # beside the save, not after it: its thread is set going before the store is renamed (when the thread's fsync
    # returns is the scheduler's: under load it may be after the store's rename, and the request still waits for it)
    assert at[("started", "WriteAfter._sync")] < at[("rename", "n.p12")]
    p12_rename, csr_rename = steps.index(("rename", "n.p12")), steps.index(("rename", "n.csr"))
    assert csr_synced < csr_rename
    assert ("fsync", folder) in steps[p12_rename:csr_rename]  # the store's rename is on disk before the request's
    assert steps[csr_rename + 1] == ("fsync", folder)
    kind = ["req", "-verify"] if command == "certreq" else ["x509"]
    assert _openssl(kind[0], "-in", str(tmp_path / "n.csr"), "-noout", *kind[1:]).returncode == 0
    assert oct((tmp_path / "n.csr").stat().st_mode & 0o777) == oct(0o644 & ~_umask())


def test_a_certreq_whose_store_is_not_saved_leaves_no_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A save that fails drops the staged request: neither file is written, and no temp file is left."""
    from keystores.backends.pkcs12 import store as p12_store
    from keystores.errors import KeystoreError

    def refused(*args, **kwargs):
        raise KeystoreError("refused for the test")

    monkeypatch.setattr(p12_store.Pkcs12Store, "save", refused)
    code, steps = _certreq_in_process(tmp_path, monkeypatch)
    assert code == 1
    assert ("fsync", "n.csr") in steps  # staged, and then dropped
    assert not [step for step in steps if step[0] == "rename"]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask
