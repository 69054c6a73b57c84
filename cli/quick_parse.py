"""Read a run's command line without typer, when it is one typer would read the same way, and say what to call.

A speed device (bench/bench_core.py, "CLI start-up"; issue 15): importing typer and its click is 40-50 ms of CPU,
more than Python's own start-up, paid by every `keystores` run in a script's loop. The commands' parameters are
declared once (cli.options records in each function's annotations), and this reads them as click would: long and
short options, `--opt=value`, repeatable options, flags, positionals between options, `--`. It reads a narrow,
plain subset and gives up (returns None) on anything else: --help, completion, group options other than --debug,
an unknown or unsure option, a missing value or argument, a value outside an option's choices, a number that is
not one. Then typer reads the line and says what is wrong in its own words (cli.main.run), so users see typer's
messages and help exactly as before. tests/test_cli_quick.py holds both readers to the same result, command line
by command line, and checks which modules a run imports.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class Call:
    """What a command line asks for: the command's function and its keyword arguments, and --debug.
    (Plain classes here: a NamedTuple costs more to define than this module's whole work.)"""

    __slots__ = ("debug", "function", "kwargs")

    def __init__(self, function: Callable[..., Any], kwargs: dict[str, Any], debug: bool) -> None:
        self.function, self.kwargs, self.debug = function, kwargs, debug


class _Param:
    __slots__ = ("decls", "default", "kind", "name", "positional", "required")

    def __init__(self, name: str, decls: tuple[str, ...], kind: str, positional: bool, required: bool,
                 default: Any) -> None:
        self.name, self.decls, self.positional, self.required, self.default = name, decls, positional, required, default
        self.kind = kind  # "flag", "text", "int", "texts" (repeatable option, or an argument taking the rest)


def _params(function: Callable[..., Any]) -> list[_Param] | None:
    """The function's parameters from its annotations (cli.options records), without evaluating typing hints
    beyond the names in its module; None when one is not of a kind read here."""
    from keystores.cli.options import Argument, Option

    code = function.__code__
    names = code.co_varnames[:code.co_argcount]
    defaults = function.__defaults__ or ()
    first_default = len(names) - len(defaults)
    found = []
    for index, name in enumerate(names):
        annotation = function.__annotations__.get(name)
        if isinstance(annotation, str):  # a name from cli.options is looked up: eval compiles (~20 us a parameter)
            alias = function.__globals__.get(annotation)
            annotation = alias if alias is not None else eval(annotation, function.__globals__)
        extras = getattr(annotation, "__metadata__", ())
        if not extras or not isinstance(extras[0], Option):
            return None
        record = extras[0]
        kind = _KINDS.get(repr(annotation.__origin__))
        if kind is None:
            return None
        required = index < first_default
        found.append(_Param(name, record.decls, kind, isinstance(record, Argument), required,
                            None if required else defaults[index - first_default]))
    return found


_KINDS = {"<class 'bool'>": "flag", "<class 'str'>": "text", "str | None": "text", "<class 'int'>": "int",
          "int | None": "int", "list[str]": "texts", "list[str] | None": "texts"}


def _choices(path: str, long_name: str) -> Callable[[], list[str]] | None:
    from keystores.cli.options import CHOICE_OVERRIDES, CHOICES

    return CHOICE_OVERRIDES.get((path, long_name)) or CHOICES.get(long_name)


def parse(argv: list[str]) -> Call | None:
    """The call `argv` asks for, or None when typer must read it."""
    from keystores.cli.command_table import COMMANDS, GROUPS

    if "_KEYSTORES_COMPLETE" in os.environ:
        return None
    args = list(argv)
    debug = False
    while args and args[0] == "--debug":
        debug = True
        args.pop(0)
    if not args:
        return None
    path = args.pop(0)
    if path in GROUPS:
        if not args:
            return None
        path = f"{path} {args.pop(0)}"
    if path not in COMMANDS:
        return None
    from keystores.cli.command_table import function

    command = function(path)
    params = _params(command)
    if params is None:
        return None
    kwargs = _read(path, params, args)
    return None if kwargs is None else Call(command, kwargs, debug)


def _read(path: str, params: list[_Param], args: list[str]) -> dict[str, Any] | None:
    options = {decl: p for p in params if not p.positional for decl in p.decls}
    values: dict[str, Any] = {}
    positionals: list[str] = []
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--":
            positionals.extend(args[index:])
            break
        if not token.startswith("-") or token == "-":
            positionals.append(token)
            continue
        name, equals, attached = token.partition("=")
        if not name.startswith("--"):
            if equals or len(token) != 2:  # -pVALUE, -abc, -p=x: click reads these too, but in ways of its own
                return None
            name = token
        param = options.get(name)
        if param is None:  # --help, -h, or an option this command has not: typer says what it is
            return None
        if param.kind == "flag":
            if equals:
                return None
            values[param.name] = True
            continue
        if equals:
            value = attached
        elif index < len(args):
            value = args[index]  # click takes the next word as the value, whatever it looks like
            index += 1
        else:
            return None
        converted = _convert(path, param, value)
        if converted is None:
            return None
        if param.kind == "texts":
            values.setdefault(param.name, []).append(converted)
        else:
            values[param.name] = converted
    return _place(params, positionals, values)


def _convert(path: str, param: _Param, value: str) -> Any:
    if param.kind == "int":
        try:
            return int(value)
        except ValueError:
            return None
    long_name = next((d for d in param.decls if d.startswith("--")), "")
    choices = _choices(path, long_name)
    if choices is not None and value not in choices():
        return None  # typer takes other spellings (any case) or refuses: either way, its reading
    return value


def _place(params: list[_Param], positionals: list[str], values: dict[str, Any]) -> dict[str, Any] | None:
    """Positionals to the arguments in order; every parameter given or defaulted; None where typer would refuse."""
    arguments = [p for p in params if p.positional]
    if any(p.kind == "texts" for p in arguments):
        if len(arguments) != 1 or not positionals:
            return None
        values[arguments[0].name] = positionals
    else:
        if not sum(p.required for p in arguments) <= len(positionals) <= len(arguments):
            return None
        for param, value in zip(arguments, positionals, strict=False):
            if param.kind == "int":
                return None
            values[param.name] = value
    kwargs = {}
    for param in params:
        if param.name in values:
            kwargs[param.name] = values[param.name]
        elif param.required:
            return None
        else:
            kwargs[param.name] = param.default
    return kwargs
