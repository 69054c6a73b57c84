"""The commands of cli/audit.py, cli/ams.py, cli/ams_store.py, cli/cms.py, cli/transfer.py and `passwd` declare each
parameter by a module-level name (`within: _AuditWithin = "30d"`): cli.quick_parse looks a name up in the command's
module, where it compiles an inline `Annotated[...]` string on every run (~20-60 us a parameter; start-up speed,
issue 15). What the names hold is typer's reading, as test_cli_quick checks for every command."""

from __future__ import annotations

import builtins
from typing import Any

import pytest
from keystores.cli import ams, ams_store, audit, cms, quick_parse, stores, transfer

COMMANDS = [audit.audit_cmd, audit.validate_cmd, ams.render_cmd, ams.check_cmd, ams.protect_cmd, ams.unprotect_cmd,
            ams_store.conf_cmd, ams_store.map_cmd, cms.stash_cmd, cms.set_default_cmd, cms.trust_cmd,
            stores.change_password, transfer.import_cmd, transfer.export_cmd, transfer.convert_cmd]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.__name__)
def test_reading_a_commands_parameters_compiles_nothing(command: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    compiled: list[str] = []
    real = builtins.eval

    def recording(source: Any, *args: Any) -> Any:
        compiled.append(source)
        return real(source, *args)

    monkeypatch.setattr(builtins, "eval", recording)
    params = quick_parse._params(command)
    assert params is not None and params, command.__name__  # read here, not left to typer
    assert compiled == [], command.__name__
