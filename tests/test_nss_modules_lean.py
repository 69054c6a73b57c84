"""Start-up of the admin commands (issue 15 item 2, in a user install): `keystores nss modules`, `nss add-module`,
`nss remove-module`, `tokens` and `java-config` import no dataclasses (nor inspect with it): pkcs11.txt's Module
is a frozen.Record and admin.py's results are FrozenValues; `nss add-module --mechanisms` imports python-pkcs11 as
the token backend does (keystores/backends/pkcs11/library.py: no asn1crypto). Each class is held here to the
dataclass it replaced; what the commands write is held to modutil and SoftHSM by tests/test_nss.py and
tests/test_pkcs11_cli.py."""

from __future__ import annotations

import dataclasses
import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keystores.backends.nss.modules import Module, parse
from keystores.backends.pkcs11.admin import JavaConfig, TokenList, _safe_name
from keystores.frozen import FrozenInstanceError
from softhsm import softhsm, softhsm_token  # noqa: F401 - pytest fixtures

LIB = "/usr/lib/softhsm/libsofthsm2.so"
PROBE = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
         "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
         "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")


def _modules_after(argv: list[str], env: dict[str, str]) -> tuple[list[str], str]:
    """(the modules `keystores ARGV` loaded, its stdout)."""
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1]), done.stdout


@pytest.fixture
def nssdb(tmp_path: Path) -> Path:
    if shutil.which("certutil") is None:
        pytest.skip("certutil (libnss3-tools) is not installed: run scripts/setup")
    folder = tmp_path / "db"
    folder.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True, capture_output=True)
    return folder


def test_nss_module_commands_import_no_dataclasses(nssdb: Path, softhsm_token) -> None:  # noqa: F811
    env = softhsm_token.env
    store = f"sql:{nssdb}"
    for argv in (["nss", "modules", store], ["nss", "modules", store, "--json"],
                 ["nss", "add-module", store, "--name", "HSM", "--library", softhsm_token.module],
                 ["nss", "remove-module", store, "--name", "HSM"]):
        loaded, _ = _modules_after(argv, env)
        assert "keystores.backends.nss.modules" in loaded  # the probe saw the command's own imports
        assert not {"dataclasses", "inspect", "pkcs11"} & set(loaded), argv
    loaded, _ = _modules_after(["nss", "add-module", store, "--name", "HSM", "--library", softhsm_token.module,
                                "--mechanisms", "RSA:AES"], env)
    assert "pkcs11" in loaded  # it asks the module for its slots, as modutil does
    assert not {"dataclasses", "inspect", "asn1crypto"} & set(loaded)
    assert "slotParams={0x" in (nssdb / "pkcs11.txt").read_text()


def test_token_admin_commands_import_no_dataclasses(softhsm_token, tmp_path: Path) -> None:  # noqa: F811
    for argv in (["tokens"], ["tokens", "--json"], ["java-config", softhsm_token.uri, "--out", str(tmp_path)]):
        loaded, out = _modules_after(argv, softhsm_token.env)
        assert "keystores.backends.pkcs11.admin" in loaded
        assert not {"dataclasses", "inspect", "asn1crypto"} & set(loaded), argv
        assert softhsm_token.label in out or "java.security" in out


@dataclasses.dataclass
class _DataclassModule:  # what backends/nss/modules.py's Module was
    name: str
    library: str = ""
    parameters: str = ""
    nss: str = ""
    lines: list[str] = dataclasses.field(default_factory=list, repr=False)


def test_module_is_what_the_dataclass_was() -> None:
    text = ("library=\nname=NSS Internal PKCS #11 Module\nNSS=Flags=internal,critical\n\n"
            "library=/lib/x.so\nname=My HSM\nparameters=a b\n\nname=bare\n")
    modules = parse(text)
    old = [_DataclassModule(m.name, m.library, m.parameters, m.nss, list(m.lines)) for m in modules]
    for module, was in zip(modules, old, strict=True):
        assert repr(module) == repr(was).replace("_DataclassModule", "Module")
        assert (module.name, module.library, module.parameters, module.nss, module.lines) == \
            (was.name, was.library, was.parameters, was.nss, was.lines)
    assert modules[0].internal and not modules[1].internal
    assert parse(text) == modules and modules[1] != modules[2]
    assert Module("x") == Module("x", "", "", "", []) and Module("x") != Module("x", lines=["name=x"])
    assert Module("x").lines is not Module("x").lines  # a fresh list each, as default_factory gave
    with pytest.raises(TypeError):
        hash(Module("x"))  # unhashable, as a dataclass with eq and without frozen


def test_admin_results_are_frozen_values() -> None:
    found = TokenList("/lib/x.so", [])
    assert found == TokenList("/lib/x.so", []) and found.module == "/lib/x.so"
    with pytest.raises(FrozenInstanceError):
        found.module = "y"  # type: ignore[misc]
    written = JavaConfig("/j/t.cfg", "/j/java.security", "t", 3, None)
    assert written.java_options.startswith("-Djava.security.properties=/j/java.security ")
    assert written.keytool_command == ("keytool -J-Djava.security.properties=/j/java.security -list -keystore NONE "
                                       "-storetype PKCS11")
    assert written == JavaConfig("/j/t.cfg", "/j/java.security", "t", 3, None)
    assert repr(written) == ("JavaConfig(config='/j/t.cfg', security='/j/java.security', label='t', slot=3, "
                             "softhsm_conf=None)")


def test_a_safe_name_is_what_the_regular_expression_made() -> None:
    rng = random.Random(15)
    alphabet = "aZ09._- /é\u00a0\n\\\"'-#=\x00"
    for label in ["", "-", "..", "a b", "a - b", "My HSM #1", "é", "-a-", *(
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(5000))]:
        assert _safe_name(label) == (re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "token"), label


def test_the_library_path_is_what_add_module_checks(nssdb: Path) -> None:
    """os.path replaced pathlib: a folder is no library, and a missing one is named."""
    from keystores.backends.nss.modules import add_module
    from keystores.errors import StoreNotFound

    with pytest.raises(StoreNotFound, match="no such PKCS#11 library"):
        add_module(f"sql:{nssdb}", "x", str(nssdb))
    with pytest.raises(StoreNotFound, match="is not an NSS database"):
        add_module(str(nssdb.parent), "x", LIB)
