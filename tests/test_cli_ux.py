"""What a person sees: tables cut to the window, dates and colours, plurals, escaped labels, suggestions.

Terminal behaviour is checked under a pseudo-terminal (clirun.keystores_tty), pipes through subprocess pipes.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from clirun import keystores, keystores_tty
from helpers import key_pair_entry, rsa_key, trusted_entry

from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.store import open_store
from keystores.text import printable

PW = "Str0ng pass"
ENV = {"KS_PW": PW}
EVIL = "evil\tforged\nrow\x1b]52;c;QUFB\x07\u202egnp.exe\x85"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _trusted(label: str, cn: str, not_after: dt.datetime) -> Entry:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from helpers import name

    key = rsa_key(7)
    cert = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(name(cn)).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(not_after - dt.timedelta(days=800))
            .not_valid_after(not_after).sign(key, hashes.SHA256()))
    return Entry(label=label, kind=EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL)


@pytest.fixture
def p12(tmp_path):
    path = tmp_path / "server.p12"
    with open_store(path, password=PW, create=True) as store:
        store.add(key_pair_entry("server", index=1))
        store.add(trusted_entry("root"))
    return path


@pytest.fixture
def evil(tmp_path):
    path = tmp_path / "evil.p12"
    with open_store(path, password=PW, create=True) as store:
        store.add(key_pair_entry(EVIL, index=1))
    return path


def test_printable_escapes_controls_and_bidi_and_keeps_the_rest():
    assert printable("plain label é 日本 🔑") == "plain label é 日本 🔑"
    assert printable("a\tb\nc\x1b[31m\x00\x7f\x85\u202e\u2066") == "a\\tb\\nc\\e[31m\\x00\\x7f\\x85\\u202e\\u2066"


def test_piped_list_is_one_row_per_entry_whatever_the_label(evil):
    listed = keystores("list", str(evil), "-p", "env:KS_PW", env=ENV)
    assert listed.code == 0, listed.err
    lines = listed.out.splitlines()
    # the key pair's row, its CA's row (a chain certificate is an entry of its own) and nothing forged
    assert len(lines) == 2 and lines[0].startswith("evil\\tforged\\nrow") and lines[1].startswith("Test Root CA 0\t")
    assert all(line.count("\t") == 5 for line in lines)
    assert "\x1b" not in listed.all and "\u202e" not in listed.all and "\x85" not in listed.all
    assert printable(EVIL) in listed.out
    data = json.loads(keystores("list", str(evil), "-p", "env:KS_PW", "--json", env=ENV).out)
    assert EVIL in {e["label"] for e in data["entries"]}  # JSON stays exact


def test_table_show_and_errors_escape_labels(evil):
    table = keystores_tty("list", str(evil), "-p", "env:KS_PW", env=ENV, columns=200)
    assert table.code == 0, table.out
    assert "\x1b]" not in table.out and "\u202e" not in table.out and "\x07" not in table.out
    assert printable(EVIL) in table.out
    shown = keystores("show", str(evil), EVIL, "-p", "env:KS_PW", env=ENV)
    assert shown.code == 0, shown.err
    assert f"label: {printable(EVIL)}" in shown.out.splitlines()
    assert "\x1b" not in shown.out
    missing = keystores("delete", str(evil), EVIL + "x", "-p", "env:KS_PW", env=ENV)
    assert missing.code == 4
    assert len(missing.err.splitlines()) == 1 and "\x1b" not in missing.err


def test_table_fits_80_columns_dates_without_time_and_one_entry(tmp_path):
    store = tmp_path / "long.p12"
    with open_store(store, password=PW, create=True) as opened:
        opened.add(_trusted("ibm websphere mq queue manager qm1 signer certificate", "A long common name for an MQ "
                            "queue manager's certificate", dt.datetime(2040, 5, 6, 7, 8, 9,
                                                                                         tzinfo=dt.UTC)))
    shown = keystores_tty("list", str(store), "-p", "env:KS_PW", env=ENV, columns=80)
    assert shown.code == 0, shown.out
    lines = [ANSI.sub("", line) for line in shown.out.splitlines()]
    assert all(len(line) <= 80 for line in lines), lines
    assert lines[0].endswith("(pkcs12, 1 entry)")
    assert "2040-05-06" in shown.out and "07:08:09" not in shown.out
    piped = keystores("list", str(store), "-p", "env:KS_PW", env=ENV)
    assert "2040-05-06T07:08:09Z" in piped.out  # pipes keep the exact time


def test_expired_and_expiring_rows_coloured_on_a_terminal_only(tmp_path):
    now = dt.datetime.now(dt.UTC)  # relative: the colours depend on today, the certificates are made from it
    store = tmp_path / "mixed.p12"
    with open_store(store, password=PW, create=True) as opened:
        opened.add(_trusted("gone", "Gone", now - dt.timedelta(days=3)))
        opened.add(_trusted("soon", "Soon", now + dt.timedelta(days=10)))
        opened.add(_trusted("fine", "Fine", now + dt.timedelta(days=400)))
    coloured = keystores_tty("list", str(store), "-p", "env:KS_PW", env=ENV, columns=120)
    assert coloured.code == 0, coloured.out
    rows = {ANSI.sub("", line).split()[0]: line for line in coloured.out.splitlines()[3:]}
    assert rows["gone"].startswith("\x1b[31m") and rows["soon"].startswith("\x1b[33m")
    assert "\x1b[" not in rows["fine"]
    plain = keystores_tty("list", str(store), "-p", "env:KS_PW", env={**ENV, "NO_COLOR": "1"}, columns=120)
    assert "\x1b[" not in plain.out
    piped = keystores("list", str(store), "-p", "env:KS_PW", env=ENV)
    assert "\x1b" not in piped.out


def test_a_mistyped_label_is_suggested_with_exit_4(p12):
    done = keystores("show", str(p12), "sever", "-p", "env:KS_PW", env=ENV)
    assert done.code == 4
    assert "did you mean 'server'?" in done.err


def test_java_config_keeps_a_hostile_token_label_inside_its_comment(softhsm, tmp_path):  # noqa: F811
    token = softhsm.make_token("ks\nshowInfo=true\x1b")
    done = keystores("java-config", token.uri, "--out", str(tmp_path / "java"), env=token.env)
    assert done.code == 0, done.err
    (cfg,) = (tmp_path / "java").glob("*.cfg")
    settings = [line for line in cfg.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert [line.split("=")[0].strip() for line in settings] == ["name", "library", "slot"]
    assert "\x1b" not in cfg.read_text() and "\x1b" not in done.all
    security = (tmp_path / "java" / "java.security").read_text().splitlines()
    assert [line.split("=")[0] for line in security if not line.startswith("#")] == ["security.provider.12"]


from softhsm import softhsm  # noqa: E402,F401  (pytest fixture)


def test_import_key_cert_chain_reads_in_memory_and_names_the_users_files(tmp_path):
    """No bundle under $TMPDIR: a wrong key password or a damaged chain names the user's file and line."""
    from cryptography.hazmat.primitives import serialization

    entry = key_pair_entry("web", index=3)
    key_file, cert_file, chain_file = tmp_path / "k.pem", tmp_path / "c.pem", tmp_path / "ca.pem"
    key_file.write_bytes(b"# the web server's key\n" + entry.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"key pass")))
    cert_file.write_bytes(entry.chain[0].public_bytes(serialization.Encoding.DER))  # DER works too
    chain_file.write_bytes(b"\n\n" + entry.chain[1].public_bytes(serialization.Encoding.PEM))
    dest = tmp_path / "new.p12"
    base = ["import", str(dest), "--key", str(key_file), "--cert", str(cert_file), "--chain", str(chain_file),
            "--label", "web", "--dest-password", "env:KS_PW"]
    wrong = keystores(*base, "-p", "pass:not it", env=ENV)
    assert wrong.code == 3
    assert f"{key_file}: wrong password for the ENCRYPTED PRIVATE KEY block at line 2" in wrong.err
    assert not dest.exists()
    chain_file.write_bytes(b"\n\n-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
    damaged = keystores(*base, "-p", "env:KEY_PW", env={**ENV, "KEY_PW": "key pass"})
    assert damaged.code == 1
    assert f"{chain_file}: bad base64 in the CERTIFICATE block at line 3" in damaged.err
    chain_file.write_bytes(entry.chain[1].public_bytes(serialization.Encoding.PEM))
    done = keystores(*base, "-p", "env:KEY_PW", env={**ENV, "KEY_PW": "key pass"})
    assert done.code == 0, done.err
    with open_store(dest, password=PW) as made:
        assert made.get("web").chain == entry.chain


def test_wide_labels_fit_the_window(tmp_path):
    """East Asian labels take two columns a character: the table still fits 60 columns."""
    store = tmp_path / "wide.p12"
    with open_store(store, password=PW, create=True) as opened:
        opened.add(_trusted("日本語のとても長いラベルの証明書です本当に長い", "Wide", dt.datetime(2040, 1, 2,
                                                                                  tzinfo=dt.UTC)))
    shown = keystores_tty("list", str(store), "-p", "env:KS_PW", env=ENV, columns=60)
    assert shown.code == 0, shown.out
    from keystores.cli.terminal import _width

    lines = [ANSI.sub("", line) for line in shown.out.splitlines()]
    assert all(_width(line) <= 60 for line in lines), lines
    assert lines[0].startswith("…") and lines[0].endswith("wide.p12 (pkcs12, 1 entry)")
    assert "日本語" in lines[3] and "…" in lines[3]


def test_a_missing_label_costs_nothing_until_its_message_is_read():
    """Stores raise EntryNotFound to test whether a label is free: comparing it with every label each time (the
    "did you mean") made adding 2,000 entries quadratic. The labels are read only when the message is."""
    from keystores.errors import EntryNotFound

    class Untouchable:
        def __iter__(self):
            raise AssertionError("the labels were read before the message was wanted")

    EntryNotFound("serverr", Untouchable(), store="s.p12")  # raised and caught as control flow: no work
    wanted = EntryNotFound("serverr", ["server", "client"], store="s.p12")
    assert "did you mean 'server'?" in str(wanted) and wanted.suggestions == ["server"]
