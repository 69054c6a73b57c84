"""Help that says what things are: full descriptions, metavars, checked and completed choices, -h, --version,
and an EXAMPLES section in every command's help made of lines of the README's cheat sheet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import keystores
from keystores.cli import helptext, typer_app
from test_cli_lazy import _walk

from keystores import __version__

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    return _walk(typer_app.click_app(), [])


def test_every_command_has_examples_from_the_readme(helps):
    commands = {path for path, text in helps.items() if path and "Commands:" not in text}  # leaves, not groups
    assert commands == set(helptext.EXAMPLES)
    for path in commands:
        text = helps[path]
        assert "Examples:\n" in text, path
        for line in helptext.EXAMPLES[path]:
            assert f"    {line}" in text.splitlines(), (path, line)  # kept on one line, not re-wrapped
            assert line.startswith(f"keystores {path} ") or line == f"keystores {path}", line
            assert f"`{line}`" in README or f"\n$ {line}" in README, f"not in the README: {line}"


def test_metavars_say_what_a_value_is(helps):
    for path, text in helps.items():
        assert "<str>" not in text and "<int>" not in text and "{" not in text.split("\n")[0], (path, text)
    assert "Usage: keystores list [OPTIONS] STORE\n" in helps["list"]
    assert "Usage: keystores rename [OPTIONS] STORE OLD NEW\n" in helps["rename"]
    assert "Usage: keystores show [OPTIONS] STORE [LABEL]\n" in helps["show"]
    assert "Usage: keystores import [OPTIONS] [SRC...] DEST\n" in helps["import"]
    assert "-p, --password, --pin SOURCE" in helps["list"]
    assert "--key FILE" in helps["import"] and "--label LABEL" in helps["import"]
    assert "--out DIR" in helps["java-config"]
    assert "--profile <modern|compat>" in helps["convert"]


def test_descriptions_are_not_cut(helps):
    listing = helps[""]
    assert "..." not in listing.split("Commands:")[1]
    assert "Show one entry in detail (its chain), or the store's type and\n" in listing


@pytest.mark.parametrize(("args", "needle"), [
    (["list", "x.p12", "--type", "pkcs13"], "'pkcs13' is not one of"),
    (["convert", "a.p12", "b.p12", "--profile", "legacy"], "'legacy' is not one of 'modern', 'compat'"),
    (["export", "a.p12", "x", "-o", "x.pem", "--format", "crt"], "'crt' is not one of"),
    (["sign", "ca.p12", "r.csr", "--label", "ca", "-o", "c.pem", "--profile", "modern"], "'server'"),
])
def test_enumerated_options_are_checked_with_exit_2(tmp_path, args, needle):
    done = keystores(*args, cwd=str(tmp_path))
    assert done.code == 2, done.all
    assert needle in done.err
    assert "Traceback" not in done.all


def test_choices_are_case_insensitive(tmp_path):
    done = keystores("create", str(tmp_path / "x.jks"), "--type", "JKS", "-p", "env:KS_PW", env={"KS_PW": "pw123456"})
    assert done.code == 0, done.err


@pytest.mark.parametrize(("words", "expected"), [
    ("keystores list x --type pk", {"pkcs11", "pkcs12"}),
    ("keystores convert a b --profile ", {"modern", "compat"}),
    ("keystores certreq x --key-type ec", {"ec:p256", "ec:p384", "ec:p521"}),
    ("keystores sign ca r --profile serv", {"server", "server-client"}),
])
def test_the_shell_completes_choices(words, expected):
    done = subprocess.run([sys.executable, "-m", "keystores"], capture_output=True, text=True, check=False,
                          env={**os.environ, "_KEYSTORES_COMPLETE": "complete_bash", "COMP_WORDS": words,
                               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))})
    assert set(done.stdout.split()) == expected, done.stdout + done.stderr


def test_h_and_version():
    assert keystores("-h").out.startswith("Usage: keystores [OPTIONS] COMMAND")
    assert keystores("list", "-h").out.startswith("Usage: keystores list [OPTIONS] STORE")
    assert keystores("nss", "modules", "-h").code == 0
    done = keystores("--version")
    assert done.code == 0 and done.out == f"keystores {__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


def test_choices_spelled_in_the_help_are_the_operations_own():
    from keystores.cli import options

    from keystores.ops.audit import SEVERITIES
    from keystores.ops.transfer import UNTRUSTED_CHOICES
    from keystores.pki.builder import PROFILES

    assert tuple(PROFILES) == options.CERTIFICATE_PROFILES
    assert options.UNTRUSTED == UNTRUSTED_CHOICES
    assert set(options.SEVERITIES) == set(SEVERITIES)


def test_help_imports_no_operation():
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "keystores", "--help"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line}
    assert not {"keystores.ops.transfer", "keystores.pki.builder", "keystores.model", "cryptography"} & imported
