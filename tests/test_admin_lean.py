"""Start-up of the commands outside the stores' core (issue 15 item 2, in a user install): `keystores backends`
imports no backend and says what importing every backend says; `dn`, `ams map` and the `nss` module commands
import no re or pathlib."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keystores import formats
from keystores.errors import BackendUnavailable
from keystores.store import backend_class, backend_status


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory):
    from user_install import user_install

    return user_install(tmp_path_factory.mktemp("user-install"))


def test_backends_says_what_importing_every_backend_says() -> None:
    imported: dict[str, str | None] = {}
    for record in formats.listed():
        if record.variant_of or record.storage is formats.Storage.INDIRECT:
            continue
        try:
            backend_class(record.name)
            imported[record.name] = record.unavailable() if record.unavailable else None
        except BackendUnavailable as exc:
            imported[record.name] = exc.reason
    assert backend_status() == imported


def test_backends_in_a_user_install_imports_no_store_backend(installed, tmp_path: Path) -> None:
    done, loaded = installed.run(["backends", "--json"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {name: {"available": reason is None, "reason": reason}
                                       for name, reason in backend_status().items()}
    assert not [m for m in loaded if m.startswith("keystores.backends.") and m.endswith(".store")]
    assert "pkcs11" not in loaded  # python-pkcs11 is found, not imported


def test_dn_commands_and_ams_map_in_a_user_install_import_no_re(installed, tmp_path: Path) -> None:
    """keystores.pki.dn imports `re` only for a dotted OID keyword, RACF's dotted form and openssl's slash form."""
    from ams_material import cert_entry, make_cert, rsa_key

    from keystores.store import open_store

    with open_store(tmp_path / "s.kdb", password="lean-dn-1", create=True, stash=True) as store:
        store.add(cert_entry("web", make_cert(rsa_key("lean-dn"), "CN=web,OU=MQ,O=MyOrg,C=GB")))
    for argv, out in ((["dn", "normalize", "cn=Alice , o=MyOrg,c=GB"], "CN=Alice,O=MyOrg,C=GB\n"),
                      (["dn", "compare", "CN=a,O=b", "cn=a, o=b"], None),
                      (["ams", "map", "s.kdb", "web", "--user", "WEB"], None)):
        done, loaded = installed.run(argv, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert out is None or done.stdout == out
        assert "re" not in loaded, argv
    done, loaded = installed.run(["dn", "normalize", "/C=GB/O=MyOrg/CN=Alice"], cwd=tmp_path)
    assert done.stdout == "CN=Alice,O=MyOrg,C=GB\n" and "re" in loaded  # the slash form still splits with re


def test_nss_module_commands_in_a_user_install_import_no_pathlib_or_re(installed, tmp_path: Path) -> None:
    from keystores.store import open_store

    (tmp_path / "db").mkdir()
    store = f"sql:{tmp_path / 'db'}"
    with open_store(store, password="lean-nss-1", create=True):
        pass
    library = "/usr/lib/softhsm/libsofthsm2.so"
    for argv in (["nss", "add-module", store, "--name", "HSM", "--library", library], ["nss", "modules", store],
                 ["nss", "remove-module", store, "--name", "HSM"]):
        done, loaded = installed.run(argv, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "keystores.backends.nss.modules" in loaded and not {"pathlib", "re"} & loaded, argv
    assert "HSM" not in (tmp_path / "db" / "pkcs11.txt").read_text()
