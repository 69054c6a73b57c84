"""The lazy command table: typer builds the click object of the one command a run invokes, not of all of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from keystores.cli.main import app


class _LazyCommands(MutableMapping[str, Any]):
    """A click group's commands, each built by typer when first asked for (by name, or all of them for --help)."""

    def __init__(self, builders: dict[str, Callable[[], Any]]) -> None:
        self._builders = builders
        self._built: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            self._built[name] = self._builders[name]()
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._builders[name] = lambda: command
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._builders[name]
        self._built.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)


def click_app(lazy: bool = True) -> Any:
    """The click group typer makes of `app`; with `lazy`, each command's click object is made on first use.

    typer.main.get_command builds every command's parameters (signatures, type hints, defaults) on each run, which
    was a third of start-up; a run needs one. The group, its options, the command order, `--help` and the objects
    built stay typer's own (tests/test_cli_lazy.py compares every command's help with the eager build).
    """
    import typer.main as typer_main
    from keystores.cli.helptext import polish

    if not lazy:
        return polish(typer_main.get_command(app), "")
    commands, groups = app.registered_commands, app.registered_groups
    app.registered_commands, app.registered_groups = [], []
    try:
        group = typer_main.get_command(app)  # the group with its callback's options, without commands
    finally:
        app.registered_commands, app.registered_groups = commands, groups
    style = {"pretty_exceptions_short": app.pretty_exceptions_short, "rich_markup_mode": app.rich_markup_mode}
    builders: dict[str, Callable[[], Any]] = {}
    for info in commands:  # the order typer's get_group_from_info adds them in: commands, then groups
        name = info.name or typer_main.get_command_name(info.callback.__name__)  # type: ignore[union-attr]
        builders[name] = lambda info=info, name=name: polish(typer_main.get_command_from_info(info, **style), name)
    for info in groups:
        if not isinstance(info.name, str) or not info.name:
            return polish(typer_main.get_command(app), "")  # a nameless group merges its commands in
        builders[info.name] = lambda info=info: polish(typer_main.get_group_from_info(
            info, suggest_commands=app.suggest_commands, **style), info.name)
    group.commands = _LazyCommands(builders)
    return group
