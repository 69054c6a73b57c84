"""Issue 12: the exit code and every line the CLI prints are the truth. Interrupts, failed token imports, intent
(export format, passwords that do nothing, nothing to import), durations, secrets in errors, untrusted
certificates, certificates held on their own, library warnings, and the loose ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from clirun import keystores
from hardening import PASSWORD, bulk_entries, make_store

from softhsm import SoftHsm, softhsm  # noqa: F401  (pytest fixtures)

ENV = {"KS_PW": PASSWORD}
PW = ["-p", "env:KS_PW"]
DPW = ["--dest-password", "env:KS_PW"]


# --- 1. Ctrl-C exits 130, says what it left, and leaves nothing half-made ---------------------------------------
def _command_started(pid: int) -> bool:
    """True once the command itself runs: start-up never imports cryptography nor hashlib (CLI start-up is
    measured), the commands that read or write a store do (a PKCS#12 is read with hashlib's libcrypto alone,
    keystores.crypto.libcrypto), so one of their native libraries appears in the process's memory map."""
    try:
        maps = Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    return "cryptography" in maps or "libcrypto" in maps


def _interrupt(argv: list[str], ready: Callable[[subprocess.Popen[str]], bool], env: dict[str, str],
               reset: Callable[[], None] = lambda: None) -> subprocess.CompletedProcess[str]:
    """Run `keystores argv` and send SIGINT once `ready`; a run that ends before it is ready (a fast machine) is
    started again, so the outcome never depends on how long a run takes."""
    for _ in range(10):
        reset()
        proc = subprocess.Popen([sys.executable, "-m", "keystores", *argv], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**env, "NO_COLOR": "1"})
        while proc.poll() is None and not ready(proc):
            time.sleep(0.002)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=120)
            return subprocess.CompletedProcess(argv, proc.returncode, out, err)
        proc.communicate()
    raise AssertionError("the command always finished before it could be interrupted")


@pytest.fixture(scope="module")
def big_p12(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("src") / "big.p12"
    make_store("pkcs12", str(path), bulk_entries(1500))
    return path


@pytest.mark.parametrize("dest_name", ["out.jks", "out.p12", "out.kdb"])
def test_interrupted_convert_exits_130_and_writes_nothing(big_p12, tmp_path, dest_name):
    dest = tmp_path / dest_name
    done = _interrupt(["convert", str(big_p12), str(dest), *PW, *DPW], lambda p: _command_started(p.pid),
                      {**os.environ, **ENV})
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["keystores: interrupted; nothing was changed"], done.stderr
    assert sorted(os.listdir(tmp_path)) == []


def test_interrupted_convert_to_a_new_nss_folder_removes_it(big_p12, tmp_path):
    folder = tmp_path / "new" / "nssdb"
    done = _interrupt(["convert", str(big_p12), f"sql:{folder}", *PW, *DPW],
                      lambda p: folder.exists(), {**os.environ, **ENV})
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["keystores: interrupted; nothing was changed"], done.stderr
    assert sorted(os.listdir(tmp_path)) == []  # the folders made for the run are gone again


def test_interrupted_import_into_an_existing_store_keeps_it(big_p12, tmp_path):
    dest = tmp_path / "trust.jks"
    make_store("jks", str(dest), bulk_entries(3, "old"))
    before = dest.read_bytes()
    done = _interrupt(["import", str(big_p12), str(dest), *PW, *DPW], lambda p: _command_started(p.pid),
                      {**os.environ, **ENV})
    assert done.returncode == 130 and "nothing was changed" in done.stderr, done.stderr
    assert dest.read_bytes() == before and sorted(os.listdir(tmp_path)) == ["trust.jks"]


def _kdf_threads_running(pid: int) -> bool:
    """True once a write's KDF pool (keystores/crypto/kdf_pool.py) runs: the process has more than one thread."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return any(line.startswith("Threads:") and int(line.split()[1]) > 1 for line in status.splitlines())


def test_interrupted_nss_password_change_keeps_the_database(tmp_path):
    """Ctrl-C while `passwd` re-encrypts and re-MACs an NSS database on the KDF pool: exit 130, both files as they
    were, the old password still opens it."""
    folder = tmp_path / "nssdb"
    make_store("nss", f"sql:{folder}", bulk_entries(100, "pw"))
    before = {path.name: path.read_bytes() for path in folder.iterdir()}

    def reset() -> None:  # a run that finished before it could be interrupted changed the password
        for path in folder.iterdir():
            path.unlink()
        for name, data in before.items():
            (folder / name).write_bytes(data)

    several_cores = len(os.sched_getaffinity(0)) > 1  # on one core the pool runs inline: no threads to wait for
    done = _interrupt(["passwd", f"sql:{folder}", *PW, "--new-password", "env:KS_NEW"],
                      lambda p: _kdf_threads_running(p.pid) if several_cores else _command_started(p.pid),
                      {**os.environ, **ENV, "KS_NEW": "another password"}, reset)
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["keystores: interrupted; nothing was changed"], done.stderr
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == before
    assert keystores("list", f"sql:{folder}", "--json", *PW, env=ENV).code == 0  # every trust MAC checks


def test_an_exit_code_typer_returns_is_passed_on():
    """Under standalone_mode=False typer returns (does not raise) an Exit's code: run() must not turn it into 0."""
    done = subprocess.run([sys.executable, "-c", "import sys, typer\nfrom keystores.cli import main\n"
                           "@main.app.command('exit-seven')\ndef seven() -> None:\n    raise typer.Exit(7)\n"
                           "main.run(['exit-seven'])"], capture_output=True, text=True, check=False)
    assert done.returncode == 7, done.stderr


# --- 2. a failed or interrupted import onto a token leaves the token as it was ---------------------------------
Objects = list[tuple[str, str, str]]


def _token_objects(token) -> Objects:
    """Every object on the token as `pkcs11-tool -O` lists it when logged in (private objects too): its class,
    label and ID, sorted, a repeated object repeated."""
    return sorted((o["type"], o.get("label", ""), o.get("ID", "")) for o in token.objects())


def _written_for(entries) -> Objects:
    """What importing these certificate entries puts on a token: one certificate object each, labelled as the
    entry, with the CKA_ID OpenSC, NSS and Java give it (SHA-1 of the RSA modulus or the EC point)."""
    import hashlib

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    def cka_id(public_key) -> str:
        if isinstance(public_key, rsa.RSAPublicKey):
            n = public_key.public_numbers().n
            return hashlib.sha1(n.to_bytes((n.bit_length() + 7) // 8, "big")).hexdigest()
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        return hashlib.sha1(public_key.public_bytes(serialization.Encoding.X962,
                                                    serialization.PublicFormat.UncompressedPoint)).hexdigest()

    return sorted(("Certificate", e.label, cka_id(e.chain[0].public_key())) for e in entries)


def test_failed_token_import_removes_what_it_created_and_a_rerun_works(softhsm, tmp_path):  # noqa: F811
    token = softhsm.make_token()
    src = tmp_path / "bulk.p12"
    entries = bulk_entries(40)
    make_store("pkcs12", str(src), entries)
    clash = tmp_path / "clash.p12"
    clashing = [bulk_entries(1, "other")[0].with_(label="bulk-0030")]
    make_store("pkcs12", str(clash), clashing)
    env = {**token.env, **ENV}
    first = keystores("import", str(clash), token.uri, *PW, "--dest-password", token.password, env=env)
    assert first.code == 0, first.all
    before = _token_objects(token)
    assert before == _written_for(clashing)
    failed = keystores("import", str(src), token.uri, *PW, "--dest-password", token.password, env=env)
    assert failed.code == 1 and "bulk-0030" in failed.err, failed.all  # 30 entries went in before this one
    assert _token_objects(token) == before
    assert keystores("delete", token.uri, "bulk-0030", "-p", token.password, env=env).code == 0
    assert _token_objects(token) == []
    rerun = keystores("import", str(src), token.uri, *PW, "--dest-password", token.password, env=env)
    assert rerun.code == 0, rerun.all
    assert _token_objects(token) == _written_for(entries)


def test_interrupted_token_import_removes_what_it_created(softhsm, tmp_path):  # noqa: F811
    token = softhsm.make_token()
    src = tmp_path / "bulk.p12"
    entries = bulk_entries(400)
    make_store("pkcs12", str(src), entries)
    env = {**token.env, **ENV}
    kept = bulk_entries(1, "kept")  # the token is not empty: what was there before must stay, exactly
    make_store("pkcs12", str(tmp_path / "kept.p12"), kept)
    assert keystores("import", str(tmp_path / "kept.p12"), token.uri, *PW, "--dest-password", token.password,
                     env=env).code == 0
    before = _token_objects(token)
    assert before == _written_for(kept)
    tokens = token.folder / "tokens"  # softhsm/mktoken's tokendir
    objects_at_start = len(list(tokens.rglob("*.object")))

    def some_written(proc: subprocess.Popen[str]) -> bool:  # SoftHSM keeps one file per token object
        return len(list(tokens.rglob("*.object"))) > objects_at_start + 5

    done = _interrupt(["import", str(src), token.uri, *PW, "--dest-password", token.password], some_written, env)
    assert done.returncode == 130, done.stderr
    assert done.stderr.splitlines() == ["keystores: interrupted; nothing was changed"], done.stderr
    assert _token_objects(token) == before
    rerun = keystores("import", str(src), token.uri, *PW, "--dest-password", token.password, env=env)
    assert rerun.code == 0, rerun.all
    assert _token_objects(token) == sorted(before + _written_for(entries))


# --- 3. export writes the format its file name says; a contradiction is an error ---------------------------------
@pytest.fixture(scope="module")
def server_p12(tmp_path_factory) -> Path:
    from helpers import key_pair_entry

    path = tmp_path_factory.mktemp("server") / "server.p12"
    make_store("pkcs12", str(path), [key_pair_entry("web", index=2)])
    return path


def _openssl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False, env={**os.environ, **ENV})


def test_export_format_follows_the_extension(server_p12, tmp_path):
    p12, der, pem = tmp_path / "x.p12", tmp_path / "x.der", tmp_path / "x.pem"
    assert keystores("export", str(server_p12), "web", "-o", str(p12), *PW, *DPW, env=ENV).code == 0
    info = _openssl("pkcs12", "-in", str(p12), "-info", "-noout", "-passin", "env:KS_PW")
    assert info.returncode == 0 and "MAC: sha256" in info.stdout + info.stderr, info.stderr
    assert keystores("export", str(server_p12), "web", "-o", str(der), *PW, env=ENV).code == 0
    assert _openssl("x509", "-inform", "DER", "-in", str(der), "-noout").returncode == 0
    assert not der.read_bytes().startswith(b"-----")
    assert keystores("export", str(server_p12), "web", "-o", str(pem), *PW, env=ENV).code == 0
    assert b"-----BEGIN CERTIFICATE-----" in pem.read_bytes()


def test_export_format_against_the_extension_is_refused(server_p12, tmp_path):
    out = tmp_path / "x.p12"
    done = keystores("export", str(server_p12), "web", "-o", str(out), "--format", "der", *PW, env=ENV)
    assert done.code == 2 and "format der" in done.err and ".p12" in done.err, done.all
    assert not out.exists()


# --- 4. a password for a store that uses none is an error naming the option meant --------------------------------
@pytest.fixture(scope="module")
def cert_pem(tmp_path_factory) -> Path:
    from cryptography.hazmat.primitives import serialization
    from helpers import ca

    path = tmp_path_factory.mktemp("pem") / "ca.pem"
    path.write_bytes(ca(5)[1].public_bytes(serialization.Encoding.PEM))
    return path


@pytest.mark.parametrize("command", ["convert", "import"])
def test_source_password_that_is_not_used_is_an_error(cert_pem, tmp_path, command):
    out = tmp_path / "out.p12"
    done = keystores(command, str(cert_pem), str(out), *PW, env=ENV)
    assert done.code == 2 and "--dest-password" in done.err and str(cert_pem) in done.err, done.all
    assert not out.exists()


def test_export_password_for_a_pem_is_an_error(cert_pem, tmp_path):
    out = tmp_path / "out.p12"
    done = keystores("export", str(cert_pem), "Test Root CA 5", "-o", str(out), *PW, env=ENV)
    assert done.code == 2 and "--dest-password" in done.err, done.all


@pytest.mark.parametrize("name", ["out.p12", "out.jks", "out.kdb"])
def test_new_store_without_a_password_names_the_option(cert_pem, tmp_path, name):
    out = tmp_path / name
    done = keystores("convert", str(cert_pem), str(out), env=ENV)
    assert done.code == 3 and "--dest-password" in done.err, done.all
    assert not out.exists()
    done = keystores("export", str(cert_pem), "Test Root CA 5", "-o", str(tmp_path / "x.p12"), env=ENV)
    assert done.code == 3 and "--dest-password" in done.err, done.all


# --- 5. nothing to import is an error, and no store is made -------------------------------------------------------
@pytest.fixture(scope="module")
def key_only_pem(tmp_path_factory) -> Path:
    from cryptography.hazmat.primitives import serialization
    from helpers import ec_key

    path = tmp_path_factory.mktemp("key") / "k.pem"
    path.write_bytes(ec_key(9).private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    return path


@pytest.mark.parametrize("dest", ["new.p12", "new.jks", "nssdb"])
def test_importing_a_lone_key_is_exit_1_and_creates_nothing(key_only_pem, tmp_path, dest):
    where = f"sql:{tmp_path / dest}" if dest == "nssdb" else str(tmp_path / dest)
    done = keystores("import", str(key_only_pem), where, *DPW, env=ENV)
    assert done.code == 1 and "nothing to import" in done.err, done.all
    assert os.listdir(tmp_path) == []


def test_importing_an_absent_label_is_exit_4_and_creates_nothing(cert_pem, tmp_path):
    done = keystores("import", str(cert_pem), str(tmp_path / "new.p12"), "--entry", "nope", *DPW, env=ENV)
    assert done.code == 4 and "'Test Root CA 5'" in done.err, done.all
    assert os.listdir(tmp_path) == []


# --- 8. certificates without trust into JKS: skip (named), trust, or fail; convert --entry ------------------------
@pytest.fixture(scope="module")
def nss_with_untrusted(tmp_path_factory, cert_pem) -> str:
    from cryptography.hazmat.primitives import serialization
    from helpers import ca

    folder = tmp_path_factory.mktemp("nss")
    other = folder / "anchor.pem"
    other.write_bytes(ca(6)[1].public_bytes(serialization.Encoding.PEM))
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{folder}", "-n", "plain", "-t", ",,", "-i", str(cert_pem)],
                   check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{folder}", "-n", "anchor", "-t", "CT,C,C", "-i", str(other)],
                   check=True)
    return f"sql:{folder}"


def _keytool_aliases(path: Path) -> set[str]:
    done = subprocess.run(["keytool", "-list", "-keystore", str(path), "-storepass", PASSWORD],
                          capture_output=True, text=True, check=True)
    return {line.split(",")[0] for line in done.stdout.splitlines() if "trustedCertEntry" in line}


def test_untrusted_certificates_are_skipped_by_name_by_default(nss_with_untrusted, tmp_path):
    out = tmp_path / "trust.jks"
    done = keystores("convert", nss_with_untrusted, str(out), *DPW, "--json", env=ENV)
    assert done.code == 0, done.all
    assert "keystores: skipped 'plain' (O=keystores tests,CN=Test Root CA 5): untrusted" in done.err, done.err
    import json

    report = json.loads(done.out)
    assert report["written"] == ["anchor"] and [s["label"] for s in report["skipped"]] == ["plain"]
    assert _keytool_aliases(out) == {"anchor"}


def test_untrusted_certificates_trusted_or_failing_on_request(nss_with_untrusted, tmp_path):
    out = tmp_path / "trust.jks"
    done = keystores("convert", nss_with_untrusted, str(out), *DPW, "--untrusted", "fail", env=ENV)
    assert done.code == 1 and "'plain'" in done.err and not out.exists(), done.all
    done = keystores("convert", nss_with_untrusted, str(out), *DPW, "--untrusted", "trust", env=ENV)
    assert done.code == 0 and "trusted for all purposes as asked" in done.err, done.all
    assert _keytool_aliases(out) == {"anchor", "plain"}


def test_openssl_nokeys_pkcs12_into_jks(cert_pem, tmp_path):
    """openssl -nokeys writes certificate bags without Java's trust attribute: untrusted, so skipped by name."""
    p12 = tmp_path / "certs.p12"
    made = _openssl("pkcs12", "-export", "-nokeys", "-in", str(cert_pem), "-out", str(p12), "-passout",
                    "env:KS_PW")
    assert made.returncode == 0, made.stderr
    done = keystores("import", str(p12), str(tmp_path / "t.jks"), *PW, *DPW, env=ENV)
    assert done.code == 1 and "every certificate is untrusted" in done.err, done.all
    assert not (tmp_path / "t.jks").exists()
    done = keystores("import", str(p12), str(tmp_path / "t.jks"), *PW, *DPW, "--untrusted", "trust", env=ENV)
    assert done.code == 0, done.all


def test_convert_takes_chosen_entries(nss_with_untrusted, tmp_path):
    out = tmp_path / "one.p12"
    done = keystores("convert", nss_with_untrusted, str(out), *DPW, "--entry", "anchor", env=ENV)
    assert done.code == 0, done.all
    listed = keystores("list", str(out), *PW, env=ENV)
    assert [line.split("\t")[0] for line in listed.out.splitlines()] == ["anchor"]
    done = keystores("convert", nss_with_untrusted, str(tmp_path / "two.p12"), *DPW, "--entry", "nope", env=ENV)
    assert done.code == 4 and not (tmp_path / "two.p12").exists(), done.all


# --- 6. audit --within counts days; months have a word; `m` is refused -------------------------------------------
@pytest.mark.parametrize(("text", "days"), [("30", 30), ("30d", 30), ("2w", 14), ("3mo", 90), ("1 month", 30),
                                            ("2months", 60), ("1y", 365), ("2 years", 730), ("7 days", 7)])
def test_durations_are_days_weeks_months_years(text, days):
    import datetime as dt

    from keystores.pki.when import parse_duration

    assert parse_duration(text) == dt.timedelta(days=days)


@pytest.mark.parametrize("text", ["1m", "5M", "12h", "30s", "1 fortnight", "-3d", "d"])
def test_ambiguous_or_unknown_units_are_refused(text):
    from keystores.errors import UsageError
    from keystores.pki.when import parse_duration

    with pytest.raises(UsageError, match=r"ambiguous|bad duration"):
        parse_duration(text)


def test_audit_within_a_month_finds_a_certificate_expiring_in_twenty_days(tmp_path):
    import datetime as dt

    from helpers import NOW, certificate, ec_key

    from keystores.model import TRUST_ALL, Entry, EntryKind

    soon = certificate(ec_key(11), "Soon", ca=True, not_after=NOW + dt.timedelta(days=20))
    path = tmp_path / "soon.p12"
    make_store("pkcs12", str(path), [Entry("soon", EntryKind.TRUSTED_CERT, chain=(soon,), trust=TRUST_ALL)])
    found = keystores("audit", str(path), *PW, "--within", "1mo", "--json", "--skip", "weak-protection", env=ENV)
    assert found.code == 5 and '"expiring"' in found.out, found.all
    refused = keystores("audit", str(path), *PW, "--within", "1m", env=ENV)
    assert refused.code == 2 and "minutes or months" in refused.err, refused.all


# --- 7. no part of a secret argument is ever echoed, even a malformed one -----------------------------------------
@pytest.mark.parametrize("source", ["Summer2024:Secret", "Summer2024Secret", "env:Summer2024Secret",
                                    "file:/nonexistent/Summer2024Secret", "fd:Summer2024Secret"])
def test_malformed_or_failing_sources_echo_nothing(cert_pem, tmp_path, source):
    for argv in (["list", str(cert_pem), "-p", source],
                 ["convert", str(cert_pem), str(tmp_path / "o.p12"), "--dest-password", source]):
        done = keystores(*argv)
        assert done.code == 2, done.all
        assert "Summer" not in done.all and "Secret" not in done.all and "2024" not in done.all, done.all


def test_a_secret_file_that_is_not_text_echoes_no_byte_of_it(cert_pem, tmp_path):
    secret = tmp_path / "pw"
    secret.write_bytes(b"Summer\xff2024")
    done = keystores("convert", str(cert_pem), str(tmp_path / "o.p12"), "--dest-password", f"file:{secret}")
    assert done.code == 2 and "not UTF-8" in done.err, done.all
    assert "0xff" not in done.all and "Summer" not in done.all and "internal error" not in done.all


# --- 10. users see our words, never a library's warning ----------------------------------------------------------
def _odd_certificates():
    """A root whose serial number is negative and one whose country name is three letters: cryptography warns
    about both when it reads them (the first is patched after signing: nothing here checks its signature)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    from helpers import ec_key

    key = ec_key(12)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def made(name: x509.Name, serial: int) -> bytes:
        return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(serial).not_valid_before(start).not_valid_after(start + dt.timedelta(days=36500))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256())).public_bytes(serialization.Encoding.DER)

    der = bytearray(made(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Negative serial")]), 0x05))
    at = der.index(bytes.fromhex("a003020102020105"))  # version 3, then the one-byte serial 5
    der[at + 7] = 0x85  # serial -123
    country = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "GBR", _validate=False),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Three-letter country")])
    return [x509.load_der_x509_certificate(bytes(der)), x509.load_der_x509_certificate(made(country, 6))]


@pytest.mark.parametrize("fmt", ["pkcs12", "jks", "pem"])
def test_certificates_cryptography_warns_about_list_quietly(tmp_path, fmt):
    import warnings

    from keystores.model import TRUST_ALL, Entry, EntryKind

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        odd = _odd_certificates()
        entries = [Entry(f"odd{i}", EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL)
                   for i, cert in enumerate(odd)]
    path = tmp_path / {"pkcs12": "s.p12", "jks": "s.jks", "pem": "s.pem"}[fmt]
    make_store(fmt, str(path), entries)
    for argv in (["list", str(path)], ["list", str(path), "--json"], ["show", str(path), "odd0"],
                 ["show", str(path), "odd1", "--json"], ["audit", str(path)], ["validate", str(path), "odd1"],
                 ["convert", str(path), str(tmp_path / "copy.p12"), "--dest-password", "env:KS_PW"]):
        done = keystores(*argv, *([] if fmt == "pem" else PW), env=ENV)
        assert done.code in (0, 5), done.all
        assert "warning" not in done.err.lower() and "deprecat" not in done.err.lower(), (argv, done.err)
        assert "Attribute's length" not in done.err, (argv, done.err)


def test_audit_says_nothing_about_dsa(tmp_path):
    """pki/certificates.py's weak-key check named cryptography's DSAPublicKey, which warns "DSA is deprecated" on every
    audit of any store."""
    from helpers import key_pair_entry

    path = tmp_path / "s.p12"
    make_store("pkcs12", str(path), [key_pair_entry("web", index=3, use_ec=True)])
    done = keystores("audit", str(path), *PW, env=ENV)
    assert "DSA" not in done.err and "warning" not in done.err, done.all


def test_our_own_warnings_still_reach_users(tmp_path, cert_pem):
    done = keystores("convert", str(cert_pem), str(tmp_path / "x.p12"), "--dest-password", "pass:visible-pw")
    assert done.code == 0 and "warning: destination password given as pass:VALUE" in done.err, done.all
    assert "visible-pw" not in done.all


# --- loose ends ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ca_and_request(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("loose")
    made = keystores("selfsign", str(work / "ca.p12"), "--label", "root", "--dn", "CN=Loose CA", "--ca",
                     "--key-type", "ec:p256", *DPW, env=ENV)
    assert made.code == 0, made.all
    made = keystores("certreq", str(work / "srv.p12"), "--label", "web", "--dn", "CN=web", "--key-type", "ec:p256",
                     "-o", str(work / "req.csr"), *DPW, env=ENV)
    assert made.code == 0, made.all
    return work


def test_selfsign_and_certreq_take_dest_password_for_a_new_store(ca_and_request):
    listed = keystores("list", str(ca_and_request / "ca.p12"), *PW, env=ENV)
    assert listed.code == 0 and listed.out.startswith("root\tkey-pair"), listed.all
    both = keystores("selfsign", str(ca_and_request / "other.p12"), "--label", "x", "--dn", "CN=x", *PW, *DPW,
                     env=ENV)
    assert both.code == 2 and "once" in both.err and not (ca_and_request / "other.p12").exists(), both.all


def test_sign_refuses_to_overwrite_without_force(ca_and_request):
    out = ca_and_request / "web.pem"
    out.write_text("keep me\n")
    argv = ["sign", str(ca_and_request / "ca.p12"), str(ca_and_request / "req.csr"), "--label", "root", "-o",
            str(out), *PW]
    done = keystores(*argv, env=ENV)
    assert done.code == 1 and "--force" in done.err and out.read_text() == "keep me\n", done.all
    done = keystores(*argv, "--force", env=ENV)
    assert done.code == 0 and "BEGIN CERTIFICATE" in out.read_text(), done.all


def test_signing_with_a_non_ca_exits_1(ca_and_request, tmp_path):
    done = keystores("sign", str(ca_and_request / "srv.p12"), str(ca_and_request / "req.csr"), "--label", "web",
                     "-o", str(tmp_path / "x.pem"), *PW, env=ENV)
    assert done.code == 1 and ("not a CA" in done.err or "is not a CA key pair" in done.err), done.all


@pytest.mark.parametrize("weak", ["rsa:1024", "rsa:1536"])
def test_weak_rsa_keys_are_refused_with_what_to_use(tmp_path, weak):
    done = keystores("certreq", str(tmp_path / "s.p12"), "--label", "k", "--dn", "CN=k", "--key-type", weak,
                     "-o", str(tmp_path / "k.csr"), *DPW, env=ENV)
    assert done.code == 2 and "rsa:2048" in done.err and "weak" in done.err, done.all
    assert os.listdir(tmp_path) == []


def test_nss_add_module_with_a_missing_library_exits_4(tmp_path):
    subprocess.run(["certutil", "-N", "-d", f"sql:{tmp_path}", "--empty-password"], check=True)
    done = keystores("nss", "add-module", f"sql:{tmp_path}", "--name", "HSM", "--library", "/nonexistent/lib.so")
    assert done.code == 4 and "/nonexistent/lib.so" in done.err, done.all


def test_tokens_show_the_slot_in_hex_as_pkcs11_tool_does(softhsm):  # noqa: F811
    token = softhsm.make_token()
    listed = subprocess.run(["pkcs11-tool", "--module", token.module, "-L"], capture_output=True, text=True,
                            env=token.env, check=True).stdout
    slot_line = next(line for line in listed.splitlines() if line.startswith("Slot ") and "(0x" in line
                     and token.label in listed.split(line, 1)[1].split("Slot ", 1)[0])
    hex_slot = slot_line.split("(", 1)[1].split(")", 1)[0]
    done = keystores("tokens", "--module", token.module, env=token.env)
    rows = [line.split("\t") for line in done.out.splitlines()]
    assert [row[0] for row in rows if row[1] == token.label] == [hex_slot], (listed, done.out)


# --- 9. every certificate a native tool lists is an entry; without trust and key its kind is "certificate" --------
@pytest.fixture(scope="module")
def nss_chain(tmp_path_factory) -> Path:
    """root (CT,C,C), inter (",,", only an issuer of the key pair's chain) and the key pair 'leaf', all made by
    certutil and pk12util."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from helpers import ca, certificate, ec_key

    folder = tmp_path_factory.mktemp("nsschain")
    root_key, root = ca(8)
    inter_key = ec_key(13)
    inter = certificate(inter_key, "Issuing CA", root_key, root, ca=True)
    leaf_key = ec_key(14)
    leaf = certificate(leaf_key, "leaf.example.com", inter_key, inter)
    for name, cert in (("root.pem", root), ("inter.pem", inter)):
        (folder / name).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "leaf.p12").write_bytes(pkcs12.serialize_key_and_certificates(
        b"leaf", leaf_key, leaf, None, serialization.BestAvailableEncryption(PASSWORD.encode())))
    db = folder / "db"
    db.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "root", "-t", "CT,C,C", "-i", str(folder / "root.pem")],
                   check=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "inter", "-t", ",,", "-i", str(folder / "inter.pem")],
                   check=True)
    subprocess.run(["pk12util", "-i", str(folder / "leaf.p12"), "-d", f"sql:{db}", "-W", PASSWORD, "-K", ""],
                   check=True, capture_output=True)
    return db


def test_an_nss_intermediate_certutil_lists_is_an_entry(nss_chain):
    import json

    listed = subprocess.run(["certutil", "-L", "-d", f"sql:{nss_chain}"], capture_output=True, text=True,
                            check=True).stdout
    assert "inter" in listed
    shown = keystores("show", f"sql:{nss_chain}", "inter")
    assert shown.code == 0 and "kind: certificate" in shown.out, shown.all
    kinds = {e["label"]: e["kind"] for e in json.loads(keystores("list", f"sql:{nss_chain}", "--json").out)["entries"]}
    assert kinds == {"root": "trusted-cert", "inter": "certificate", "leaf": "key-pair"}, kinds


def test_a_listed_intermediate_is_carried_once(nss_chain, tmp_path):
    out = tmp_path / "all.p12"
    done = keystores("convert", f"sql:{nss_chain}", str(out), *DPW, env=ENV)
    assert done.code == 0, done.all
    info = _openssl("pkcs12", "-in", str(out), "-nokeys", "-passin", "env:KS_PW")
    assert info.stdout.count("subject=CN = Issuing CA") == 1, info.stdout  # in leaf's chain, not again
    jks = tmp_path / "all.jks"
    done = keystores("convert", f"sql:{nss_chain}", str(jks), *DPW, env=ENV)
    assert done.code == 0 and "skipped" not in done.err, done.all  # inter travels in leaf's chain


def test_token_issuer_certificates_pkcs11_tool_lists_are_entries(softhsm, tmp_path):  # noqa: F811
    import json

    from helpers import key_pair_entry

    token = softhsm.make_token()
    src = tmp_path / "kp.p12"
    make_store("pkcs12", str(src), [key_pair_entry("web", index=4)])  # leaf + its CA
    env = {**token.env, **ENV}
    assert keystores("import", str(src), token.uri, *PW, "--dest-password", token.password, env=env).code == 0
    on_token = {o["label"] for o in token.objects() if o["type"] == "Certificate"}
    listed = json.loads(keystores("list", token.uri, "--json", "-p", token.password, env=env).out)["entries"]
    assert {e["label"] for e in listed} == on_token
    issuer = next(e for e in listed if e["label"] != "web")
    assert issuer["kind"] == "certificate"
    shown = keystores("show", token.uri, issuer["label"], "-p", token.password, env=env)
    assert shown.code == 0 and "kind: certificate" in shown.out, shown.all


def test_pkcs12_certificates_without_trust_are_of_kind_certificate(cert_pem, tmp_path):
    import json

    p12 = tmp_path / "certs.p12"
    assert _openssl("pkcs12", "-export", "-nokeys", "-in", str(cert_pem), "-out", str(p12), "-passout",
                    "env:KS_PW").returncode == 0
    listed = json.loads(keystores("list", str(p12), "--json", *PW, env=ENV).out)["entries"]
    assert [(e["kind"], e["trust"]) for e in listed] == [("certificate", None)]


def test_an_interrupt_after_a_store_was_written_says_which(tmp_path, monkeypatch):
    """A command that wrote one store (atomically: whole) before the interrupt names it, and no other change."""
    from keystores.cli import main

    from keystores import fileio

    monkeypatch.setattr(fileio, "changed", [])
    assert main._interrupted_line() == "interrupted; nothing was changed"
    fileio.atomic_write(tmp_path / "a.pem", b"x")
    fileio.atomic_write(tmp_path / "a.pem.bak", b"x", record=False)
    assert main._interrupted_line() == f"interrupted after writing {tmp_path / 'a.pem'}; nothing else was changed"


def test_an_interrupt_wrapped_by_python_still_exits_130(monkeypatch, capsys):
    """Ctrl-C while a module defines a class with a descriptor (lazy_entries' LazyEntry): Python reports what
    __set_name__ raised as a RuntimeError caused by it. That is an interrupt (exit 130, the interrupted line), not
    "internal error" with exit 1, as it was."""
    from keystores.cli import main

    def interrupted_while_defining(argv: list[str]) -> None:
        try:
            raise main._Interrupted
        except main._Interrupted as exc:
            raise RuntimeError("Error calling __set_name__ on '_Field' instance 'kind' in 'LazyEntry'") from exc

    from keystores import fileio

    monkeypatch.setattr(fileio, "changed", [])  # (what earlier tests in this process wrote)
    monkeypatch.setattr(main, "_dispatch", interrupted_while_defining)
    handler = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as ended:
            main.run(["list", "x.p12"])
    finally:
        signal.signal(signal.SIGINT, handler)  # run() installs the CLI's: later tests expect Python's
    assert ended.value.code == 130
    assert capsys.readouterr().err.splitlines() == ["keystores: interrupted; nothing was changed"]


def _interrupting(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """fileio's os.`name` does its work, then a Ctrl-C arrives as it returns (SIGINT to this process), as one that
    lands during the slow system call is raised."""
    from keystores import fileio

    real = getattr(os, name)

    class _Os:
        def __getattr__(self, attr: str) -> object:
            return getattr(os, attr)

        def __dir__(self) -> list[str]:
            return dir(os)

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = real(*args, **kwargs)
        if name != "open" or args[1] & os.O_CREAT:  # (not the folder's open, to sync it)
            os.kill(os.getpid(), signal.SIGINT)
        return found

    patched = _Os()
    patched.__dict__[name] = interrupted
    monkeypatch.setattr(fileio, "os", patched)


@pytest.mark.parametrize("call", ["replace", "open"])
def test_ctrl_c_as_a_write_renames_or_creates_its_file_is_not_a_denied_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str) -> None:
    """Ctrl-C landing during atomic_write's rename was raised as the rename returned, before the file was counted as
    changed: the CLI said "interrupted; nothing was changed" of a file it had replaced (1 of 80 random Ctrl-Cs of
    `receive`). During the temp file's creation, the file was left behind. Both are now too late to stop and ignored:
    the write completes and is counted; nothing is left beside it."""
    from keystores import fileio

    monkeypatch.setattr(fileio, "changed", [])
    target = tmp_path / "a.pem"
    target.write_bytes(b"old")
    _interrupting(monkeypatch, call)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        fileio.atomic_write(target, b"new")
    finally:
        signal.signal(signal.SIGINT, handler)
    assert target.read_bytes() == b"new" and fileio.changed == [os.fspath(target)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pem"]


def _interrupted_while_loading(tmp_path: Path, interrupt: str,
                               module: str = "keystores.cli.options") -> subprocess.CompletedProcess[str]:
    """`keystores version` through the console script's entry, with `interrupt` (Python lines; os, signal and
    weakref imported) run as the command line looks for `module` (by default one of the modules cli/main.py
    imports)."""
    probe = ("import os, signal, sys, weakref\n"
             "class Interrupting:\n"
             "    def find_spec(self, name, path=None, target=None):\n"
             f"        if name == {module!r}:\n"
             + "".join(f"            {line}\n" for line in interrupt.splitlines()) +
             "        return None\n"
             "sys.argv = ['keystores', 'version']\n"
             "from keystores.cli import entry\n"
             "sys.meta_path.insert(0, Interrupting())\n"
             "entry()\n")
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=tmp_path)


def test_ctrl_c_that_lands_in_a_weakref_callback_is_still_the_command_s_interrupt(tmp_path: Path) -> None:
    """Ctrl-C raised where Python cannot raise (a weakref callback, through which importlib drops each module's
    lock) is raised again once the callback returns: exit 130 with the one line, where Python printed "Exception
    ignored in ..." and the command ran on to exit 0."""
    done = _interrupted_while_loading(tmp_path, "held = type('Held', (), {})()\n"
                                      "kept = weakref.ref(held, lambda ref: os.kill(os.getpid(), signal.SIGINT))\n"
                                      "del held")
    assert (done.returncode, done.stderr, done.stdout) == (130, "keystores: interrupted; nothing was changed\n", "")


def test_ctrl_c_while_the_command_line_loads_is_the_command_s_interrupt(tmp_path: Path) -> None:
    """The console script's entry (keystores.cli.entry, pyproject's [project.scripts]) takes Ctrl-C before cli/main.py
    and what it imports load: an interrupt there exits 130 with the one line, where Python's handler printed a
    traceback and exited 1."""
    done = _interrupted_while_loading(tmp_path, "os.kill(os.getpid(), signal.SIGINT)")
    assert (done.returncode, done.stderr, done.stdout) == (130, "keystores: interrupted; nothing was changed\n", "")


def test_ctrl_c_while_a_run_prepares_is_the_command_s_interrupt(tmp_path: Path) -> None:
    """What a run sets up before it reads its command line (no core files: `import resource`; the handler; the
    warning filters) is inside its error boundary: an interrupt there exits 130 with the one line, where it came up
    as a traceback and exit 1."""
    done = _interrupted_while_loading(tmp_path, "os.kill(os.getpid(), signal.SIGINT)", module="resource")
    assert (done.returncode, done.stderr, done.stdout) == (130, "keystores: interrupted; nothing was changed\n", "")
