"""Every command declares each parameter by a name (cli.options' `PasswordOpt`, or a module-level one defined before
the command: `within: _AuditWithin = "30d"`), never inline: cli.quick_parse looks a name up in the command's module,
where it would compile an inline `Annotated[...]` string on every run (~20-60 us a parameter; start-up speed,
issue 15). What the names hold is typer's reading, as test_cli_quick checks for every command."""

from __future__ import annotations

import builtins
from typing import Any

import pytest
from keystores.cli import command_table, quick_parse


@pytest.mark.parametrize("path", list(command_table.COMMANDS))
def test_reading_a_commands_parameters_compiles_nothing(path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    command = command_table.function(path)
    compiled: list[str] = []
    real = builtins.eval

    def recording(source: Any, *args: Any) -> Any:
        compiled.append(source)
        return real(source, *args)

    monkeypatch.setattr(builtins, "eval", recording)
    params = quick_parse._params(command)
    assert params is not None, path  # read here, not left to typer
    assert compiled == [], path
