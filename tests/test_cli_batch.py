"""Many files in one command: import several files or a folder (labels from file names), convert a folder of
files into another folder; all or nothing, the failing file named. A progress bar on a terminal, never piped."""

from __future__ import annotations

import re

import pytest
from clirun import keystores, keystores_tty
from cryptography.hazmat.primitives import serialization
from helpers import ca, certificate, key_pair_entry, rsa_key

from keystores.fileio import TEMP_PREFIX
from keystores.store import open_store

PW = "Str0ng pass"
ENV = {"KS_PW": PW}


def _cert(index: int):
    return certificate(rsa_key(40 + index % 3), f"Partner {index}", serial=1000 + index)


@pytest.fixture
def certs(tmp_path):
    """certs/ with three certificates: two PEM, one DER."""
    folder = tmp_path / "certs"
    folder.mkdir()
    (folder / "alpha.pem").write_bytes(_cert(1).public_bytes(serialization.Encoding.PEM))
    (folder / "beta.crt").write_bytes(_cert(2).public_bytes(serialization.Encoding.PEM))
    (folder / "gamma.der").write_bytes(_cert(3).public_bytes(serialization.Encoding.DER))
    return folder


def _labels(location, password=PW):
    with open_store(location, password=password) as store:
        return sorted(store.labels())


def test_import_many_files_labels_from_names(certs, tmp_path):
    dest = tmp_path / "trust.jks"
    files = sorted(str(p) for p in certs.iterdir())
    done = keystores("import", *files, str(dest), "--dest-password", "env:KS_PW", env=ENV)
    assert done.code == 0, done.err
    assert _labels(dest) == ["alpha", "beta", "gamma"]
    assert "imported 3 entries" in done.err
    folder = tmp_path / "trust.p12"
    done = keystores("import", str(certs), str(folder), "--dest-password", "env:KS_PW", env=ENV)
    assert done.code == 0, done.err
    assert _labels(folder) == ["alpha", "beta", "gamma"]


def test_a_file_holding_several_entries_keeps_their_labels(certs, tmp_path):
    bundle = b"".join(ca(i)[1].public_bytes(serialization.Encoding.PEM) for i in (1, 2))
    (certs / "bundle.pem").write_bytes(bundle)
    dest = tmp_path / "t.p12"
    done = keystores("import", str(certs), str(dest), "--dest-password", "env:KS_PW", env=ENV)
    assert done.code == 0, done.err
    assert _labels(dest) == ["Test Root CA 1", "Test Root CA 2", "alpha", "beta", "gamma"]


def test_a_label_clash_between_files_is_refused_naming_both(certs, tmp_path):
    (certs / "alpha.der").write_bytes(_cert(4).public_bytes(serialization.Encoding.DER))
    dest = tmp_path / "t.p12"
    done = keystores("import", str(certs), str(dest), "--dest-password", "env:KS_PW", env=ENV)
    assert done.code == 1
    assert "alpha.der" in done.err and "alpha.pem" in done.err and "'alpha'" in done.err
    assert not dest.exists()


def test_one_bad_file_names_it_and_writes_nothing(certs, tmp_path):
    dest = tmp_path / "t.p12"
    with open_store(dest, password=PW, create=True) as store:
        store.add(key_pair_entry("server", index=1))
    before = dest.read_bytes()
    (certs / "broken.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    done = keystores("import", str(certs), str(dest), "-p", "env:KS_PW", "--dest-password", "env:KS_PW", env=ENV)
    assert done.code == 1
    assert "broken.pem" in done.err and len(done.err.splitlines()) == 1
    assert dest.read_bytes() == before
    one = keystores("import", str(certs / "alpha.pem"), str(dest), "--label", "alpha", "--dest-password",
                    "env:KS_PW", env=ENV)
    assert one.code == 0, one.err
    again = keystores("import", str(certs / "alpha.pem"), str(certs / "beta.crt"), str(dest),
                      "--dest-password", "env:KS_PW", env=ENV)
    assert again.code == 1 and "exists" in again.err  # 'alpha' is now in the store: nothing of beta written
    assert "beta" not in _labels(dest)


def test_a_password_no_file_uses_names_dest_password(certs, tmp_path):
    done = keystores("import", str(certs), str(tmp_path / "t.p12"), "-p", "env:KS_PW", env=ENV)
    assert done.code == 2 and "--dest-password" in done.err
    assert not (tmp_path / "t.p12").exists()


def test_entry_and_label_are_for_one_source(certs, tmp_path):
    done = keystores("import", str(certs), str(tmp_path / "t.p12"), "--label", "x", "--dest-password",
                     "env:KS_PW", env=ENV)
    assert done.code == 2 and "--label" in done.err


def test_convert_a_folder_to_der_then_import_it_onto_the_hsm(certs, tmp_path, softhsm):  # noqa: F811
    out = tmp_path / "der"
    done = keystores("convert", str(certs), f"{out}/", "--dest-type", "der")
    assert done.code == 0, done.err
    assert sorted(p.name for p in out.iterdir()) == ["alpha.der", "beta.der", "gamma.der"]
    assert "wrote 3 files" in done.err
    for name, index in (("alpha", 1), ("beta", 2), ("gamma", 3)):
        assert (out / f"{name}.der").read_bytes() == _cert(index).public_bytes(serialization.Encoding.DER)
    token = softhsm.make_token()
    done = keystores("import", str(out), token.uri, "--dest-password", token.password, env=token.env)
    assert done.code == 0, done.err
    labels = {o.get("label") for o in token.objects() if o["type"] == "Certificate"}
    assert labels == {"alpha", "beta", "gamma"}


def test_convert_into_a_folder_is_all_or_nothing(certs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "beta.p12").write_bytes(b"precious")
    base = ["convert", str(certs), str(out), "--dest-type", "pkcs12", "--dest-password", "env:KS_PW"]
    refused = keystores(*base, env=ENV)
    assert refused.code == 1 and "beta.p12" in refused.err and "--force" in refused.err
    assert sorted(p.name for p in out.iterdir()) == ["beta.p12"] and (out / "beta.p12").read_bytes() == b"precious"
    (certs / "zeta.pem").write_bytes(b"not a certificate at all")
    failed = keystores(*base, "--force", env=ENV)
    assert failed.code == 1 and "zeta.pem" in failed.err and TEMP_PREFIX not in failed.err
    assert sorted(p.name for p in out.iterdir()) == ["beta.p12"]
    (certs / "zeta.pem").unlink()
    done = keystores(*base, "--force", env=ENV)
    assert done.code == 0, done.err
    assert sorted(p.name for p in out.iterdir()) == ["alpha.p12", "beta.p12", "gamma.p12"]
    assert _labels(out / "beta.p12") == ["Partner 2"]
    new = tmp_path / "new"
    (certs / "zeta.pem").write_bytes(b"not a certificate at all")
    failed = keystores("convert", str(certs), f"{new}/", "--dest-type", "der")
    assert failed.code == 1 and not new.exists()  # the folder the command made went with it


def test_convert_into_a_folder_needs_a_file_type(certs, tmp_path):
    done = keystores("convert", str(certs), f"{tmp_path / 'out'}/")
    assert done.code == 2 and "--dest-type" in done.err
    done = keystores("convert", str(certs), f"{tmp_path / 'out'}/", "--dest-type", "nss")
    assert done.code == 2 and "import" in done.err
    assert not (tmp_path / "out").exists()


def test_progress_on_a_terminal_only(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(60):
        (folder / f"c{index:02}.pem").write_bytes(_cert(index).public_bytes(serialization.Encoding.PEM))
    shown = keystores_tty("import", str(folder), str(tmp_path / "t.p12"), "--dest-password", "env:KS_PW",
                          env=ENV, columns=100)
    assert shown.code == 0, shown.out
    assert re.search(r"importing ━+ +\d+/60 time left \d+:\d\d:\d\d", re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "",
                                                                                  shown.out)), shown.out
    piped = keystores("import", str(folder), str(tmp_path / "u.p12"), "--dest-password", "env:KS_PW", env=ENV)
    assert piped.code == 0 and "/60" not in piped.err and "\x1b" not in piped.err
    assert len(_labels(tmp_path / "u.p12")) == 60


from softhsm import softhsm  # noqa: E402,F401  (pytest fixture)


def test_prompts_come_before_the_progress_bar(tmp_path):
    """A prompt is never drawn under a running bar: the bar appears with the first entry done."""
    from keystores.model import TRUST_ALL, Entry, EntryKind

    source = tmp_path / "many.p12"
    with open_store(source, password=PW, create=True) as store:
        for index in range(55):
            store.add(Entry(f"c{index:02}", EntryKind.TRUSTED_CERT, chain=(_cert(index),), trust=TRUST_ALL))
    dest = tmp_path / "t.jks"
    shown = keystores_tty("import", str(source), str(dest), "--dest-password", "env:KS_PW", env=ENV, columns=100,
                          answers=[PW], timeout=60)
    assert shown.code == 0, shown.out
    plain = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", shown.out)
    assert PW not in plain  # not echoed
    assert plain.lower().index("password") < plain.index("importing") < plain.index("imported 55 entries")
    assert len(_labels(dest)) == 55
