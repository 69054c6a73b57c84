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
    assert not {"TYPE_CHECKING", "Any", "annotations", "_EXPORTS"} & set(dir(keystores))
    assert {name for name in dir(keystores) if not name.startswith("__")} == set(keystores.__all__)


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


def readme_python() -> str:
    """The code block of the README's "Python API" section, as a reader copies it."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## Python API"):readme.index("## Many servers")]
    return section[section.index("```python\n") + len("```python\n"):section.index("\n```\n")]


def test_the_readme_python_section_runs_as_written(tmp_path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """README "Python API": secret, iteration, convert, selfsign -> certreq -> sign -> receive -> audit and the
    errors, with nothing but `import keystores`, exactly as the README writes them."""
    code = readme_python()
    for shown in ("keystores.secret(", "for entry in store", "keystores.convert(", "keystores.certreq(",
                  "keystores.sign(", "keystores.receive(", "keystores.audit("):
        assert shown in code, shown
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KS_PW", "Str0ng pass")
    with keystores.open_store("server.p12", password="Str0ng pass", create=True) as store:
        store.add(key_pair_entry("server"))
    names: dict = {}
    exec(compile(code, "README.md", "exec"), names)  # the README's own code, run as written
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("server ") and "CN=server" in printed[0]
    with keystores.open_store("server.kdb", password="Str0ng pass") as kdb:
        assert kdb.get("server").kind is keystores.EntryKind.KEY_PAIR
    with keystores.open_store("qm1.kdb", password="Str0ng pass") as kdb:
        entry = kdb.get("ibmwebspheremqqm1")
        assert entry.kind is keystores.EntryKind.KEY_PAIR and entry.certificate == names["issued"].certificate
        assert entry.chain[1:] == names["issued"].chain[1:]
    report = names["report"]
    assert report.stores == 3 and not [f for f in report.findings if f.check == "unreadable"]
    exists = [line for line in printed if "an entry with this label exists" in line]
    assert exists == ["qm1.kdb: entry 'ibmwebspheremqqm1': an entry with this label exists (use replace=True to "
                      "overwrite it) 1"]
    assert printed[-1].startswith("server.p12: ") and "Str0ng" not in "\n".join(printed)
    assert not any("--" in line for line in printed if not line.startswith(("True", "False")))


def test_secret_from_a_file_descriptor() -> None:
    import os

    read, write = os.pipe()
    os.write(write, b"from-fd\n")
    os.close(write)
    try:
        assert keystores.secret(f"fd:{read}") == "from-fd"
    finally:
        os.close(read)


def test_an_operation_takes_a_location_or_an_open_store(tmp_path) -> None:
    """One calling convention: the store first, as a location opened with password= (and saved), or open."""
    ca = tmp_path / "ca.p12"
    made = keystores.selfsign(ca, "ca", "CN=Convention CA", ca=True, days=30, password="pw")
    with keystores.open_store(ca, password="pw") as opened:
        assert opened.get("ca").certificate == made.certificate
        by_store = keystores.validate(opened, "ca")
    by_location = keystores.validate(str(ca), "ca", password="pw")
    assert by_location.links == by_store.links and by_store.links[0].subject == "CN=Convention CA"
    with keystores.open_store(ca, password="pw") as opened, pytest.raises(keystores.UsageError, match="open already"):
        keystores.validate(opened, "ca", password="pw")
    for operation in (keystores.selfsign, keystores.certreq, keystores.sign, keystores.receive, keystores.validate):
        parameters = inspect.signature(operation).parameters
        assert next(iter(parameters)) in ("store", "ca_store") and {"password", "type"} <= set(parameters), operation
        assert "str" in str(next(iter(parameters.values())).annotation)


def test_audit_opens_locations_each_with_its_password(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name, password in (("a.p12", "pw-a"), ("b.p12", "pw-b")):
        with keystores.open_store(name, password=password, create=True) as store:
            store.add(trusted_entry("ca"))
    report = keystores.audit(["a.p12", "b.p12"], password="pw-a", passwords={"b.p12": "pw-b"})
    assert report.stores == 2 and not [f for f in report.findings if f.check == "unreadable"]
    report = keystores.audit(["a.p12", "b.p12"], passwords={"a.p12": "pw-a"})
    [unreadable] = [f for f in report.findings if f.check == "unreadable"]
    assert unreadable.store == "b.p12" and unreadable.severity == "error"
    assert unreadable.rendered().endswith("(give passwords={'b.p12': ...})")
    assert unreadable.rendered("option").endswith("(give --password-for b.p12=SOURCE)")
    assert report.as_dict()["findings"][0]["message"] == unreadable.rendered()
    with pytest.raises(keystores.StoreNotFound):
        keystores.audit(["a.p12", "missing.p12"], password="pw-a")


def test_no_library_error_names_a_command_line_option(tmp_path) -> None:
    """The errors a script meets name keywords; the CLI shows the same errors with options (tests/test_cli_*)."""
    from keystores.cli.render import error_line

    ca = tmp_path / "ca.p12"
    keystores.selfsign(ca, "ca", "CN=Hint CA", ca=True, days=30, password="pw")
    with pytest.raises(keystores.EntryExists) as exists:
        keystores.selfsign(ca, "ca", "CN=Hint CA", ca=True, days=30, password="pw")
    with pytest.raises(keystores.UsageError) as twice:
        keystores.selfsign(ca, "other", "CN=x", days=3, not_after="2099-01-01", password="pw")
    with pytest.raises(keystores.UsageError) as san:
        keystores.certreq(ca, "req", "CN=x", sans=["nonsense"], password="pw")
    with pytest.raises(keystores.StoreExists) as there:
        keystores.convert(ca, ca, password="pw", dest_password="pw")
    expected = [(exists, "replace=True", "--replace"), (twice, "days or not_after", "--days or --not-after"),
                (san, "(sans)", "(--san)"), (there, "force=True", "--force")]
    for caught, keyword, option in expected:
        assert keyword in str(caught.value) and "--" not in str(caught.value), str(caught.value)
        assert option in error_line(caught.value) and keyword not in error_line(caught.value)


def test_transfers_take_a_location_or_an_open_store(tmp_path) -> None:
    source = tmp_path / "s.p12"
    with keystores.open_store(source, password="pw", create=True) as store:
        store.add(key_pair_entry("server"))
        store.add(trusted_entry("ca"))
    with keystores.open_store(source, password="pw") as opened:
        keystores.convert(opened, tmp_path / "c.jks", dest_password="pw2")
        keystores.export_entry(opened, "ca", tmp_path / "ca.pem")
        with keystores.open_store(tmp_path / "t.p12", password="pw3", create=True) as dest:
            result = keystores.import_entries(opened, dest, labels=["ca"])
            assert result.copied == ["ca"]
        with pytest.raises(keystores.UsageError, match="open already"):
            keystores.convert(opened, tmp_path / "d.jks", password="pw", dest_password="pw2")
    with keystores.open_store(tmp_path / "c.jks", password="pw2") as jks:
        assert sorted(jks.labels()) == ["ca", "server"]
    with keystores.open_store(tmp_path / "t.p12", password="pw3") as saved:
        assert saved.labels() == ["ca"]
    assert b"-----BEGIN CERTIFICATE-----" in (tmp_path / "ca.pem").read_bytes()
    keystores.import_entries(source, tmp_path / "t.p12", password="pw", dest_password="pw3", labels=["server"])
    with keystores.open_store(tmp_path / "t.p12", password="pw3") as saved:
        assert sorted(saved.labels()) == ["ca", "server"]


def test_a_validate_problem_names_the_keyword_and_the_cli_the_option(tmp_path) -> None:
    from keystores.cli.common import said

    keystores.selfsign(tmp_path / "ca.p12", "ca", "CN=Lonely CA", ca=True, days=30, password="pw")
    report = keystores.validate(tmp_path / "ca.p12", "ca", password="pw")
    [problem] = report.links[-1].problems
    assert problem.endswith("(add it as a trusted certificate or pass trust_stores)")
    assert said(problem).endswith("(add it as a trusted certificate or pass --trust)")
    assert report.as_dict()["links"][-1]["problems"] == [str(problem)]
    assert report.as_dict("option")["links"][-1]["problems"] == [said(problem)]


def test_skipped_certificates_say_how_to_keep_them() -> None:
    from keystores.ops.describe import skipped_data

    [python] = skipped_data([trusted_entry("ca").with_(trust=None)])
    [cli] = skipped_data([trusted_entry("ca").with_(trust=None)], "option")
    assert python["reason"].endswith("(untrusted='trust' to keep it as trusted)")
    assert cli["reason"].endswith("(--untrusted trust to keep it as trusted)")


@pytest.mark.parametrize("name", ["s.p12", "s.jks", "s.jceks", "s.pem", "s.kdb", "s.bks", "s.bcfks", "nssdb"])
def test_every_format_iterates_over_its_entries(tmp_path, name) -> None:
    location = f"sql:{tmp_path / name}" if name == "nssdb" else tmp_path / name
    with keystores.open_store(location, password="pw", create=True, **({"type": "nss"} if name == "nssdb" else {})) \
            as store:
        store.add(key_pair_entry("server"))
    with keystores.open_store(location, password="pw") as store:
        assert [e.label.lower() for e in store] == [e.label.lower() for e in store.entries()]
        assert "server" in [e.label.lower() for e in store]


def test_pem_parts_go_into_a_location_or_an_open_store(tmp_path) -> None:
    from cryptography.hazmat.primitives import serialization

    entry = key_pair_entry("web", index=3)
    (tmp_path / "k.pem").write_bytes(entry.key.private_bytes(serialization.Encoding.PEM,
                                                             serialization.PrivateFormat.PKCS8,
                                                             serialization.NoEncryption()))
    (tmp_path / "c.pem").write_bytes(entry.chain[0].public_bytes(serialization.Encoding.PEM))
    keystores.import_pem_parts(tmp_path / "a.p12", key=tmp_path / "k.pem", cert=tmp_path / "c.pem", label="web",
                               dest_password="pw")
    with keystores.open_store(tmp_path / "b.jks", password="pw", create=True) as opened:
        done = keystores.import_pem_parts(opened, key=tmp_path / "k.pem", cert=tmp_path / "c.pem", label="web")
        assert done.copied == ["web"]
    for name in ("a.p12", "b.jks"):
        with keystores.open_store(tmp_path / name, password="pw") as store:
            assert store.get("web").kind is keystores.EntryKind.KEY_PAIR
