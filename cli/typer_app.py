"""typer's objects for a run cli.quick_parse leaves to typer (--help, completion, a usage error): the application
made of cli.command_table's table, each command's click object built on first use (`click_app`), and the commands'
functions as typer reads them (`typer_ready`). Apart from the table, which every run reads: a run that quick_parse
reads loads none of this (tests/test_cli_quick.py).
"""

from __future__ import annotations

from keystores.cli import command_table
from keystores.cli.command_table import COMMANDS, GROUPS, NO_EPILOG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, MutableMapping
    from typing import Any

_typer_ready: dict[Callable[..., Any], Callable[..., Any]] = {}


def typer_ready(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command` as typer reads it: typer's own Option/Argument objects in its signature and annotations, made from
    the cli.options records there (the function itself keeps the records, which cli.quick_parse reads); made once
    per command."""
    made = _typer_ready.get(command)
    if made is None:
        made = _typer_ready[command] = _made_typer_ready(command)
    return made


def _made_typer_ready(command: Callable[..., Any]) -> Callable[..., Any]:
    import functools
    import inspect
    import typing

    from keystores.cli.options import Annotated, Option

    def typing_form(value: Any) -> Any:
        """typing's own Annotated of cli.options' run-time one (what typer and get_type_hints understand)."""
        if isinstance(value, Annotated):
            return typing.Annotated[(value.__origin__, *value.__metadata__)]
        return value

    namespace = {name: typing_form(value) for name, value in command.__globals__.items()}
    namespace["Annotated"] = typing.Annotated
    hints = typing.get_type_hints(command, globalns=namespace, include_extras=True)
    for name, hint in hints.items():
        extras = getattr(hint, "__metadata__", ())
        if extras and isinstance(extras[0], Option):
            hints[name] = typing.Annotated[hint.__origin__, extras[0].typer()]

    @functools.wraps(command)
    def ready(*args: Any, **kwargs: Any) -> Any:
        return command(*args, **kwargs)

    signature = inspect.signature(command)
    ready.__annotations__ = hints
    ready.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(annotation=hints[p.name]) for p in signature.parameters.values()],
        return_annotation=hints.get("return", signature.return_annotation))
    return ready


def typer_app() -> Any:
    """The typer application: the group's options, then every command of the table and its group."""
    import typer
    from keystores.cli.main import main_options
    from keystores.cli.options import EXIT_CODES_HELP

    app = typer.Typer(
        name="keystores",
        help="Certificates and keys in every store: CMS .kdb, JKS/JCEKS, PKCS#12, PKCS#11 tokens, NSS, PEM/DER.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        pretty_exceptions_show_locals=False,
        add_completion=True,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(typer_ready(main_options))
    groups: dict[str, Any] = {}
    for path in COMMANDS:
        *group, name = path.split(" ")
        target = app
        if group:
            if group[0] not in groups:
                groups[group[0]] = typer.Typer(help=GROUPS[group[0]], no_args_is_help=True)
                app.add_typer(groups[group[0]], name=group[0])
            target = groups[group[0]]
        target.command(name, epilog=None if path in NO_EPILOG else EXIT_CODES_HELP)(_Pending(path))
    return app


class _Pending:
    """A command registered by its path: its module is imported, and its function made typer_ready, when typer
    builds that command (`keystores list --help` imports no lifecycle or AMS code)."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path


def _ready(info: Any) -> Any:
    if isinstance(info.callback, _Pending):
        info.callback = typer_ready(command_table.function(info.callback.path))
    return info


def _ready_group(info: Any) -> Any:
    resolved(info.typer_instance)
    return info


def resolved(app: Any) -> Any:
    """`app` with every command's function in place, for typer's eager build of them all."""
    for info in app.registered_commands:
        _ready(info)
    for info in app.registered_groups:
        resolved(info.typer_instance)
    return app


def _lazy_commands(builders: dict[str, Callable[[], Any]]) -> MutableMapping[str, Any]:
    """A click group's commands, each built by typer when first asked for (by name, or all of them for --help).
    (The class is made here, on typer's path: its base, collections.abc, is one more import on every run.)"""
    from collections.abc import MutableMapping
    from typing import Any

    class LazyCommands(MutableMapping[str, Any]):
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

    return LazyCommands(builders)


def click_app(lazy: bool = True) -> Any:
    """The click group typer makes of the app; with `lazy`, each command's click object is made on first use.

    typer.main.get_command builds every command's parameters (signatures, type hints, defaults) on each run, which
    was a third of start-up; a run needs one. The group, its options, the command order, `--help` and the objects
    built stay typer's own (tests/test_cli_lazy.py compares every command's help with the eager build).
    """
    import typer.main as typer_main
    from keystores.cli.helptext import polish
    from keystores.cli.main import app

    if not lazy:
        return polish(typer_main.get_command(resolved(app)), "")
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
        builders[name] = lambda info=info, name=name: polish(typer_main.get_command_from_info(_ready(info), **style),
                                                             name)
    for info in groups:
        if not isinstance(info.name, str) or not info.name:
            return polish(typer_main.get_command(resolved(app)), "")  # a nameless group merges its commands in
        builders[info.name] = lambda info=info: polish(typer_main.get_group_from_info(
            _ready_group(info), suggest_commands=app.suggest_commands, **style), info.name)
    group.commands = _lazy_commands(builders)
    return group
