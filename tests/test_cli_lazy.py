"""The CLI builds each command's click object on first use (cli.typer_app.click_app): what it builds must be
what typer's eager get_command builds, command for command, so that deferring changes no option, help text or order."""

from __future__ import annotations

from typing import Any

import pytest
from keystores.cli import typer_app


def _help(command: Any, path: list[str]) -> str:
    import typer

    click = typer.main._click  # the click typer vendors (0.26-0.28) and builds its commands with
    with click.Context(command, info_name=" ".join(["keystores", *path])) as ctx:
        return command.get_help(ctx)


def _walk(command: Any, path: list[str]) -> dict[str, str]:
    """Help text of `command` and of every subcommand below it, by command path."""
    found = {" ".join(path): _help(command, path)}
    names = getattr(command, "list_commands", None)
    if names is not None:
        with command.make_context("keystores", [], resilient_parsing=True) as ctx:
            for name in names(ctx):
                found.update(_walk(command.get_command(ctx, name), [*path, name]))
    return found


def test_lazy_group_builds_what_typer_builds() -> None:
    eager = _walk(typer_app.click_app(lazy=False), [])
    lazy = _walk(typer_app.click_app(), [])
    assert list(lazy) == list(eager)  # same commands, same order
    assert len(eager) > 20
    for path, text in eager.items():
        assert lazy[path] == text, path


@pytest.mark.parametrize("name", ["list", "nss", "version"])
def test_one_command_is_built_alone(name: str) -> None:
    group = typer_app.click_app()
    with group.make_context("keystores", [], resilient_parsing=True) as ctx:
        command = group.get_command(ctx, name)
    assert command is not None and command.name == name
    assert list(group.commands._built) == [name]  # the others stay unbuilt
    assert group.get_command(ctx, "no-such-command") is None
