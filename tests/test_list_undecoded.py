"""`list` as a table names the entries `list --json` gives a problem ("N entries could not be fully decoded"),
whichever format holds them: a certificate cryptography refuses (a "v4" certificate) in a PKCS#12, JKS, JCEKS, BCFKS
or PEM file, as an entry of its own or inside a key pair's chain. The table once read its columns from the DER and
asked nothing more (PKCS#12, JKS, JCEKS, BCFKS), or judged the leaf alone (PEM), and said nothing or less."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from clirun import keystores
from test_pem_lazy import refused_files, refused_issuer_chain

from keystores.store import open_store

PW = "undecoded-pw-1"
ENV = {"UNDECODED_PW": PW}


def _source(tmp_path: Path, shape: str) -> Path:
    """A PEM file of `shape`: a key pair whose issuing CA cryptography refuses (with that CA and its root), or a
    bundle of certificates one of which it refuses."""
    path = tmp_path / f"{shape}.pem"
    if shape == "chain":
        parts = refused_issuer_chain()
        path.write_bytes(parts["key"] + parts["leaf"] + parts["issuing"] + parts["root"])
    else:
        path.write_bytes(refused_files()["bundle"])
    return path


def _problems(location: str, *password: str) -> list[str]:
    listed = keystores("list", location, *(password or ("--password", "env:UNDECODED_PW")), "--json", env=ENV)
    assert listed.code == 0, listed.err
    return [entry["label"] for entry in json.loads(listed.out)["entries"] if entry["problem"]]


@pytest.mark.parametrize("suffix", [".p12", ".jks", ".jceks", ".bcfks", ".pem"])
@pytest.mark.parametrize("shape", ["chain", "bundle"])
def test_the_table_names_the_entries_json_gives_a_problem(tmp_path: Path, suffix: str, shape: str) -> None:
    source = _source(tmp_path, shape)
    location = source if suffix == ".pem" else tmp_path / f"store{suffix}"
    if suffix != ".pem":
        made = keystores("convert", str(source), str(location), "--dest-password", "env:UNDECODED_PW", env=ENV)
        assert made.code == 0, made.err
    problems = _problems(str(location))
    assert problems  # the refused certificate, and in a chain also the key pair holding it
    listed = keystores("list", str(location), "--password", "env:UNDECODED_PW", env=ENV)
    assert listed.code == 0, listed.err
    count = f"{len(problems)} entry could" if len(problems) == 1 else f"{len(problems)} entries could"
    assert f"{count} not be fully decoded ({', '.join(repr(label) for label in problems)})" in listed.err
    from keystores.ops.describe import entry_data, entry_rows

    with open_store(location, password=PW) as store:
        entries = list(store.entries())
        rows = entry_rows(entries)
        assert [row["problem"] for row in rows] == [entry_data(entry)["problem"] for entry in entries]


def test_a_store_whose_certificates_all_decode_lists_no_problem_and_links_no_chain(tmp_path: Path) -> None:
    """The rows of a store without problems judge each certificate from its DER: a chain its backend links on
    first use (NSS) stays unlinked, so `list` loads no cryptography for it."""
    from helpers import ca, certificate, ec_key

    from keystores.model import Entry, EntryKind

    root_key, root = ca(3)
    key = ec_key(5)
    location = f"sql:{tmp_path / 'nss'}"
    with open_store(location, password=PW, create=True) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(certificate(key, "server.example", root_key, root), root),
                        key=key))
    from keystores.ops.describe import entry_rows

    with open_store(location, password=PW) as store:
        entries = list(store.entries())
        rows = entry_rows(entries)
        assert [row["problem"] for row in rows] == [None] * len(entries)
        assert all(entry.undecoded_leaf is not None for entry in entries)  # nothing was decoded
        assert [entry.held_chain_der for entry in entries if entry.kind is EntryKind.KEY_PAIR] == [None]  # unlinked


def test_an_nss_database_pk12util_filled_names_the_certificate_nss_took(tmp_path: Path) -> None:
    """NSS takes a certificate cryptography refuses (pk12util imports the key pair and its "v4" issuing CA): the
    table names the entries JSON gives a problem, judging the key pair's chain, which NSS links on first use,
    once a certificate of the database has one."""
    if shutil.which("pk12util") is None or shutil.which("certutil") is None:
        pytest.skip("NSS's tools are not installed")
    source = _source(tmp_path, "chain")
    p12 = tmp_path / "chain.p12"
    made = keystores("convert", str(source), str(p12), "--dest-password", "env:UNDECODED_PW", env=ENV)
    assert made.code == 0, made.err
    folder = tmp_path / "nss"
    folder.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["pk12util", "-i", str(p12), "-d", f"sql:{folder}", "-W", PW], check=True, capture_output=True)
    location = f"sql:{folder}"
    problems = _problems(location, "--password", "pass:")  # the database's password is empty
    assert problems == ["Refused Issuing CA - keystores tests"]
    listed = keystores("list", location, "--password", "pass:", env=ENV)
    assert listed.code == 0, listed.err
    assert "1 entry could not be fully decoded ('Refused Issuing CA - keystores tests')" in listed.err
    from keystores.ops.describe import entry_data, entry_rows

    with open_store(location, password="") as store:
        entries = list(store.entries())
        assert [row["problem"] for row in entry_rows(entries)] == [entry_data(e)["problem"] for e in entries]


@pytest.mark.parametrize("location", ["store.jks", "store.p12", "store.kdb", "nss"])
def test_a_listing_reads_each_certificate_once(tmp_path: Path, location: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table's columns and its problem come from one reading of each certificate's DER: judging whether it
    decodes with keystores.pki.shown and reading its columns again with keystores.pki.columns made listing a
    2,000-entry JKS, NSS database, .kdb or PKCS#12 take 2.5-5 times as long (bench_java, bench_nss, bench_cms)."""
    from helpers import ca, certificate, ec_key

    from keystores.model import TRUST_ALL, Entry, EntryKind
    from keystores.ops import describe
    from keystores.pki import shown

    root_key, root = ca(3)
    key = ec_key(5)
    trusted = [certificate(ec_key(6), f"Read once {index}", root_key, root) for index in range(4)]
    where = f"sql:{tmp_path / location}" if location == "nss" else str(tmp_path / location)
    if location == "nss":
        (tmp_path / location).mkdir()
    with open_store(where, password=PW, create=True) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(certificate(key, "server.example", root_key, root), root),
                        key=key))
        for index, cert in enumerate(trusted):
            store.add(Entry(f"trusted {index}", EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL))
    reads: list[bytes] = []
    real_read, real_columns = shown._read, describe.certificate_columns

    def read(der: bytes) -> shown.Shown:
        reads.append(der)
        return real_read(der)

    def columns(der: bytes) -> tuple[str, str, str] | None:
        reads.append(der)
        return real_columns(der)

    monkeypatch.setattr(shown, "_read", read)
    monkeypatch.setattr(describe, "certificate_columns", columns)
    monkeypatch.setattr(shown, "_READ", {})  # whatever the tests before read
    with open_store(where, password=PW) as store:
        entries = list(store.entries())
        rows = describe.entry_rows(entries)
    assert [row["problem"] for row in rows] == [None] * len(entries)
    leaves = [entry.undecoded_leaf for entry in entries]
    assert None not in leaves  # read from the DER: nothing was decoded
    assert sorted(set(reads)) == sorted(reads)  # none read twice
    assert set(leaves) <= set(reads)
