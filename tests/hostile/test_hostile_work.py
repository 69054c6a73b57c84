"""Inputs that made keystores do quadratic or unbounded work: chain building, duplicate labels, huge or endless
sources. Each ends within the hang guard, under the memory limit, with a clean result or a one-line error."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import generators
import pytest
from bounded import assert_clean_refusal, run

from keystores.pki import labels as labels_module
from keystores.pki.labels import UniqueLabels


def test_chain_candidates_with_absurd_rsa_keys_are_never_verified(tmp_path: Path) -> None:
    """40 key pairs x 40 candidate issuers with 16384-bit RSA keys and 64-bit exponents: 1,600 checks before."""
    store = tmp_path / "absurd.pem"
    store.write_bytes(generators.pem_chain_candidates(40, 40, 16384, 2**64 - 1))
    outcome = run("list", str(store), password=None)
    assert outcome.code == 0, outcome.err
    assert outcome.out.count("\tkey-pair\t") == 40


def test_chain_building_is_bounded_per_name_and_per_store(tmp_path: Path) -> None:
    """200 key pairs x 200 candidates with 16384-bit keys OpenSSL accepts: 40,000 checks before, now at most 16 per
    name and a budget per store, with a note saying chains were cut short."""
    store = tmp_path / "many.pem"
    store.write_bytes(generators.pem_chain_candidates(200, 200, 16384, 65537))
    outcome = run("list", str(store), password=None)
    assert outcome.code == 0, outcome.err
    assert outcome.out.count("\tkey-pair\t") == 200
    assert "chain building stopped" in outcome.err


def test_duplicate_labels_are_renamed_in_linear_time_with_one_note(tmp_path: Path) -> None:
    store = tmp_path / "same.p12"
    store.write_bytes(generators.p12_same_label(3000))
    outcome = run("list", str(store), password=None)
    assert outcome.code == 0, outcome.err
    assert outcome.out.count("same (") == 2999
    renaming = [line for line in outcome.err.splitlines() if "shown renamed" in line]
    assert len(renaming) == 1 and "2999 entries" in renaming[0], outcome.err


def test_unique_labels_cost_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def numbered(base: str, number: int) -> str:
        calls.append(number)
        return f"{base} ({number})"

    monkeypatch.setattr(labels_module, "numbered", numbered)  # counts the candidates tried
    labels = UniqueLabels()
    given = [labels.add("same") for _ in range(20_000)]
    assert len(set(given)) == 20_000 and given[-1] == "same (20000)"
    assert len(calls) < 2 * 20_000


def test_a_pem_of_newlines_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """128 MiB of newlines after a BEGIN line: 2.6 GB per 256 MiB before (a list of every line)."""
    store = tmp_path / "newlines.pem"
    with store.open("wb") as handle:
        handle.write(b"-----BEGIN CERTIFICATE-----\n")
        for _ in range(128):
            handle.write(b"\n" * (1 << 20))
    outcome = run("list", "--type", "pem", str(store), password=None, memory=1 << 30)
    assert_clean_refusal(outcome, "newlines.pem", "no END line")


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_as_a_source(source: str) -> None:
    """/dev/zero reports size 0: trusting st_size read it until memory ran out."""
    if not os.path.exists(source):
        pytest.skip(f"{source} is absent")
    for args in (["list", source], ["list", "--type", "pem", source]):
        assert_clean_refusal(run(*args, password=None), source, "device")


def test_a_device_is_refused_as_an_import_part(tmp_path: Path) -> None:
    dest = tmp_path / "new.p12"
    outcome = run("import", str(dest), "--cert", "/dev/zero", "--dest-password", "env:HOSTILE_PW", password=None)
    assert_clean_refusal(outcome, "/dev/zero", "device")
    assert not dest.exists()


def test_a_fifo_is_refused_as_a_source_instead_of_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "store.p12"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    for args in (["list", str(fifo)], ["list", "--type", "pkcs12", str(fifo)], ["list", "--type", "pem", str(fifo)]):
        assert_clean_refusal(run(*args, password=None), "store.p12", "FIFO")


def test_a_fifo_in_an_nss_folder_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "cert9.db")
    os.mkfifo(tmp_path / "key4.db")
    assert_clean_refusal(run("list", f"sql:{tmp_path}", password=None), "FIFO")
