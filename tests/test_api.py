"""The Python API a script author uses without reading the CLI: every operation, error class and secret source is
importable from `keystores`, `dir(keystores)` shows them, stores iterate, and `import keystores` stays cheap."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest
from helpers import key_pair_entry, trusted_entry

import keystores
from keystores import errors


def test_all_matches_the_export_table_and_every_name_resolves() -> None:
    assert sorted(keystores.__all__) == sorted(keystores._EXPORTS)
    for name in keystores.__all__:
        assert getattr(keystores, name) is not None, name
    assert set(keystores.__all__) <= set(dir(keystores))


def test_every_error_class_is_importable_from_keystores() -> None:
    classes = {name for name, value in vars(errors).items()
               if inspect.isclass(value) and issubclass(value, errors.KeystoreError)}
    assert classes <= set(keystores.__all__)
    from keystores import CapabilityError, KeystoreError, WrongPassword

    assert issubclass(WrongPassword, KeystoreError) and issubclass(CapabilityError, KeystoreError)
    assert keystores.ExitCode.WRONG_PASSWORD == 3


def test_operations_are_importable() -> None:
    from keystores import audit, certreq, convert, export_entry, import_entries, receive, sign

    assert all(callable(f) for f in (audit, certreq, convert, export_entry, import_entries, receive, sign))


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        keystores.no_such_thing  # noqa: B018


def test_secret_sources_are_public(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("KS_API_PW", "s3cret")
    assert keystores.secret("env:KS_API_PW") == "s3cret"
    (tmp_path / "pw").write_text("from-file\n")
    assert keystores.secret(f"file:{tmp_path / 'pw'}") == "from-file"
    with pytest.raises(keystores.UsageError) as caught:
        keystores.secret("env:KS_API_UNSET_VARIABLE")
    assert "s3cret" not in str(caught.value)


def test_a_store_iterates_over_its_entries(tmp_path) -> None:
    path = tmp_path / "trust.p12"
    with keystores.open_store(path, password="pw", create=True) as store:
        store.add(key_pair_entry("server"))
        store.add(trusted_entry("ca"))
    with keystores.open_store(path, password="pw") as store:
        assert sorted(e.label for e in store) == ["ca", "server"]
        assert [e.label for e in store] == [e.label for e in store.entries()]


def test_wrong_password_is_its_class_from_keystores(tmp_path) -> None:
    path = tmp_path / "a.p12"
    with keystores.open_store(path, password="right", create=True) as store:
        store.add(trusted_entry("ca"))
    with pytest.raises(keystores.WrongPassword) as caught:
        keystores.open_store(path, password="wrong")
    assert caught.value.exit_code == keystores.ExitCode.WRONG_PASSWORD


def test_import_keystores_imports_no_operation_or_crypto() -> None:
    code = ("import sys, keystores; dir(keystores); "
            "print(sorted(m for m in sys.modules if m.startswith(('keystores.', 'cryptography', 'asn1crypto'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_readme_lifecycle_runs_from_keystores_alone(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """README "Python API": certreq -> sign -> receive -> audit with nothing but `import keystores`."""
    import datetime as dt

    monkeypatch.chdir(tmp_path)
    with keystores.open_store("ca.p12", password="secret", create=True) as ca_store:
        keystores.selfsign(ca_store, "ca", "CN=Example CA,O=Example", ca=True, days=3650)
    with keystores.open_store("qm1.kdb", password="secret", create=True):
        pass
    with keystores.open_store("qm1.kdb", password="secret", writable=True) as kdb, \
            keystores.open_store("ca.p12", password="secret") as ca:
        requested = keystores.certreq(kdb, "ibmwebspheremqqm1", "CN=QM1,O=Example", key_spec="rsa:2048")
        issued = keystores.sign(ca, "ca", requested.request, days=365)
        keystores.receive(kdb, [issued.certificate], issued.chain[1:])
        at = issued.certificate.not_valid_after_utc - dt.timedelta(days=10)
        report = keystores.audit([("qm1.kdb", kdb)], within="30d", at=at)
    assert [(f.label, f.check) for f in report.findings if f.check == "expiring"] == [("ibmwebspheremqqm1",
                                                                                      "expiring")]
    with keystores.open_store("qm1.kdb", password="secret") as kdb:
        entry = kdb.get("ibmwebspheremqqm1")
        assert entry.kind is keystores.EntryKind.KEY_PAIR and entry.certificate == issued.certificate


def test_an_error_hint_names_the_keyword_in_python_and_the_option_in_the_cli() -> None:
    from keystores.cli.render import error_line

    refused = keystores.EntriesRefused([("aes", "a JKS store holds no secret keys")], store="x.jks")
    assert str(refused) == ("x.jks: cannot take 1 entry, so nothing was written ('aes': a JKS store holds no secret "
                            "keys); skip_unreadable=True writes the others and lists what it left out")
    assert error_line(refused) == ("x.jks: cannot take 1 entry, so nothing was written ('aes': a JKS store holds no "
                                   "secret keys); --skip-unreadable writes the others and lists what it left out")
    assert refused.hint == keystores.Hint("; {} writes the others and lists what it left out",
                                          option="--skip-unreadable", keyword="skip_unreadable=True")
