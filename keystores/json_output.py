"""JSON text exactly as `json.dumps(data, indent=2, default=str)` writes it, without importing json.

A speed device (bench/bench_core.py, "start-up:" rows; issue 15): json's encoder module compiles regular
expressions when it is imported, and with them `re` is ~7 ms of CPU in a user's install, more than half of Python's
own start-up, paid by every `--json` run, which is what scripts calling keystores in loops ask for. Strings are
escaped by the C function json uses for them (`_json.encode_basestring_ascii`); the rest is json's own
`_make_iterencode` for an indent of 2: dict, list, tuple, str, int, float, bool and None as json writes them (a
subclass as its base), dict keys converted as json converts them, anything else as its str(), as `default=str` makes
it. tests/test_json_output.py holds the text to json.dumps'.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    from _json import encode_basestring_ascii as _string
except ImportError:  # an interpreter without json's C part: its Python one (this imports re)
    from json.encoder import encode_basestring_ascii as _string


def dumps(data: Any) -> str:
    """`json.dumps(data, indent=2, default=str)`."""
    out: list[str] = []
    _write(data, 0, out)
    return "".join(out)


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == float("inf"):
        return "Infinity"
    if value == float("-inf"):
        return "-Infinity"
    return float.__repr__(value)


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, float):
        return _float(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return int.__repr__(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")


def _write(value: Any, level: int, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_string(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, list | tuple):
        if not value:
            out.append("[]")
            return
        inner = "\n" + "  " * (level + 1)
        for index, item in enumerate(value):
            out.append(("[" if index == 0 else ",") + inner)
            _write(item, level + 1, out)
        out.append("\n" + "  " * level + "]")
    elif isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        inner = "\n" + "  " * (level + 1)
        for index, (key, item) in enumerate(value.items()):
            out.append(("{" if index == 0 else ",") + inner + _string(_key(key)) + ": ")
            _write(item, level + 1, out)
        out.append("\n" + "  " * level + "}")
    else:
        _write(str(value), level, out)
