"""cli.quick_parse reads a command line without typer: it must read it exactly as typer does, or leave it to typer;
and a run it reads imports only what the command uses (which modules, not how long: start-up is bench_core's)."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from typing import Any

import pytest
from keystores.cli import command_table, quick_parse, typer_app
from keystores.cli.helptext import polish


def _typer_reading(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, Any]]:
    """(command path, keyword arguments) typer calls the command's function with for `argv`."""
    import typer.main

    recorded: dict[str, Any] = {}
    real = command_table.function

    def recording(path: str) -> Any:
        ready = typer_app.typer_ready(real(path))

        @functools.wraps(ready)
        def record(**kwargs: Any) -> None:
            recorded.update(path=path, kwargs=kwargs)

        return record

    with monkeypatch.context() as patch:
        patch.setattr(command_table, "function", recording)
        group = polish(typer.main.get_command(typer_app.resolved(typer_app.typer_app())), "")
    group.main(args=argv, prog_name="keystores", standalone_mode=False)
    return recorded["path"], recorded["kwargs"]


READ_ALIKE = [
    "list one.p12",
    "list one.p12 -p env:PW --json",
    "list --password=env:PW one.p12 -t pkcs12",
    "--debug list one.p12 --module /lib/x.so",
    "show s.p12 web -p pass:x",
    "show s.p12 -- -label-with-a-dash",
    "list -p -x one.p12",  # click takes the word after -p as its value, dash or not
    "create new.kdb --stash --kdb-version 6 --profile compat",
    "import a.pem b.pem dest.p12 --entry x --entry y --dest-password env:PW",
    "import dest.p12 --key k.pem --cert c.pem --chain ca1.pem --chain ca2.pem",
    "convert a.jks b.p12 --untrusted fail --skip-unreadable --trust-unverified --dest-type pkcs12",
    "export ks.jks a -o a.pem --chain --key --format pem",
    "selfsign ca.p12 --label ca --dn CN=x --ca --key-type ec:p256 --days 30 --san DNS:a --san IP:1.2.3.4",
    "sign ca.p12 req.csr --label ca -o - --profile server --md sha384",
    "audit a.p12 b.jks --within 30d --skip expired --password-for a.p12=env:PW --fail-on error",
    "nss modules sql:db --json",
    "dn compare CN=a CN=b",
    "ams render --policies pay.spl --qmgr QM1 --as mqsc",
    "stash key.kdb --version 1",
    "trust key.kdb CA off",
    "version",
    "backends --json",
]


@pytest.mark.parametrize("line", READ_ALIKE)
def test_quick_reading_is_typers(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = line.split()
    call = quick_parse.parse(argv)
    assert call is not None, line
    path, kwargs = _typer_reading(argv, monkeypatch)
    assert call.function is command_table.function(path)
    assert call.kwargs == kwargs
    assert call.debug == ("--debug" in argv[:1])


LEFT_TO_TYPER = [
    [], ["--help"], ["-h"], ["list", "--help"], ["list", "one.p12", "-h"], ["--version"], ["nss"],
    ["nss", "no-such"], ["no-such-command"], ["list"], ["list", "a", "b"], ["list", "one.p12", "--bogus"],
    ["list", "one.p12", "-pVALUE"], ["list", "one.p12", "-p"], ["list", "one.p12", "--json=yes"],
    ["list", "one.p12", "--type", "PKCS12"], ["list", "one.p12", "--type", "no-such-type"],
    ["create", "x.kdb", "--kdb-version", "six"], ["export", "ks.jks", "a"],  # --out is required
    ["import"], ["selfsign", "ca.p12", "--label", "ca"],  # --dn is required
    ["--install-completion"],
]


@pytest.mark.parametrize("argv", LEFT_TO_TYPER, ids=" ".join)
def test_what_quick_reading_leaves_to_typer(argv: list[str]) -> None:
    assert quick_parse.parse(argv) is None


def test_completion_is_typers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_KEYSTORES_COMPLETE", "complete_bash")
    assert quick_parse.parse(["list", "one.p12"]) is None


def test_every_command_is_read_quickly() -> None:
    """Every command's parameters are of kinds quick_parse reads: none falls back to typer for being unusual."""
    for path in command_table.COMMANDS:
        assert quick_parse._params(command_table.function(path)) is not None, path


def _modules_after(argv: list[str], tmp_path: Any, env: dict[str, str] | None = None) -> list[str]:
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=tmp_path,
                          check=False, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_a_run_imports_no_typer_nor_rich(tmp_path: Any) -> None:
    for argv in (["version"], ["backends"], ["dn", "compare", "CN=a", "cn=a"]):
        loaded = _modules_after(argv, tmp_path)
        assert not [m for m in loaded if m.split(".")[0] in ("typer", "click", "rich")], argv
        assert "keystores.cli.helptext" not in loaded, argv  # help text is for --help
        assert "keystores.cli.lifecycle" not in loaded or argv[0] == "dn"


def test_a_quick_run_loads_no_typer_machinery(tmp_path: Any) -> None:
    """A run cli.quick_parse reads takes the command table (cli.command_table) and not the typer machinery beside it
    (cli.typer_app), which --help and usage errors use."""
    for argv in (["version"], ["dn", "compare", "CN=a", "cn=a"]):
        loaded = _modules_after(argv, tmp_path)
        assert "keystores.cli.command_table" in loaded and "keystores.cli.typer_app" not in loaded, argv


def test_help_still_uses_typer(tmp_path: Any) -> None:
    loaded = _modules_after(["list", "--help"], tmp_path)
    assert "typer" in loaded and "keystores.cli.typer_app" in loaded


def test_listing_a_pkcs12_decodes_no_certificate(tmp_path: Any) -> None:
    """`list` of a PKCS#12 key pair and a trusted certificate reads its columns from the DER: no x509 decoding, no
    key decrypted (the MAC is checked); `show` reads its details from the DER too (keystores.pki.shown)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.store import open_store

    key = ec.generate_private_key(ec.SECP256R1())
    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

    def certificate(name: str) -> x509.Certificate:
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(1).not_valid_before(when).not_valid_after(when + dt.timedelta(days=30))
                .sign(key, hashes.SHA256()))

    with open_store(tmp_path / "s.p12", password="quick-pw", create=True) as store:
        store.add(Entry("web", EntryKind.KEY_PAIR, chain=(certificate("web"),), key=key))
        store.add(Entry("root", EntryKind.TRUSTED_CERT, chain=(certificate("root"),), trust=TRUST_ALL))
    pw = {"QUICK_PW": "quick-pw"}
    listed = _modules_after(["list", "s.p12", "-p", "env:QUICK_PW"], tmp_path, pw)
    assert "cryptography.x509" not in listed
    assert "keystores.pki.columns" in listed
    shown = _modules_after(["show", "s.p12", "web", "-p", "env:QUICK_PW"], tmp_path, pw)
    assert "cryptography.x509" not in shown and "keystores.pki.shown" in shown
    # what links and checks chains (keystores.pki.encoded, pki.shown's ShownCertificate) and what only `receive`
    # asks of a certificate (EncodedCertificate.is_plain's checks) stay out of both; piped, the listing's table is
    # tab-separated lines, without the terminal's layout
    assert "keystores.pki.encoded" not in listed + shown and "keystores.pki.plain" not in listed + shown
    assert "keystores.cli.render" in listed and "keystores.cli.terminal" not in listed
    # every value printed is printable as it is: keystores.text (its escaping) is not loaded (cli.common.printable)
    assert "keystores.text" not in listed + shown
    # nor what describes a certificate cryptography decoded: pki.shown read every one from its DER
    assert "keystores.ops.describe_decoded" not in listed + shown
    # the Signer and Decrypter over a key in memory are for signing and decrypting, not for reading a store
    assert "keystores.model" in listed and "keystores.held_keys" not in listed + shown


def test_no_command_module_imports_typer() -> None:
    """Every command's module (and cli.options, which declares their parameters) loads without typer, rich or the
    help text: a new command written with typer.Option would put typer back into every run of its module."""
    modules = sorted({f"keystores.cli.{target.split(':')[0]}" for target in command_table.COMMANDS.values()})
    probe = (f"import sys\nfor name in {modules!r} + ['keystores.cli.main', 'keystores.cli.quick_parse']:\n"
             "    __import__(name)\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('typer', 'click', 'rich') "
             "or m == 'keystores.cli.helptext'))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_start_up_every_command_pays_is_small(tmp_path: Any) -> None:
    """`version` shows what every run imports before a command works: no cryptography, no model of entries, no
    dataclasses, datetime or hashlib, nor the signal module's enums (bench/bench_core.py, the "start-up:" rows)."""
    loaded = _modules_after(["version"], tmp_path)
    heavy = {"cryptography", "keystores.model", "dataclasses", "inspect", "datetime", "hashlib", "signal",
             "asn1crypto", "keystores.formats"}
    assert heavy.isdisjoint(loaded), heavy & set(loaded)
