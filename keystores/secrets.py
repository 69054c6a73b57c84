"""Password and PIN sources: `env:VAR`, `file:PATH`, `fd:N`, `stdin`, `pass:VALUE` (warned), or a prompt.

A secret never comes from an argument value unless the user writes `pass:` and accepts the warning.
"""

from __future__ import annotations

import os
import sys

from keystores.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The two warning classes, each made when first asked for (module __getattr__) and kept: one class per name, whichever
# thread asks. A class deriving from an exception costs ~90,000 instructions to make (its slots looked up along the
# MRO, as keystores.errors' _MADE_ON_USE says), and a command warns with neither unless it writes the compat profile
# or is given pass:VALUE; every command that opens a store with a password imports this module.
_WARNINGS = {
    "WeakCryptoWarning": "A write with legacy algorithms (3DES, RC2, SHA-1 MACs) that was asked for explicitly.",
    "VisibleSecretWarning": "`pass:VALUE` puts the secret on the command line, where `ps` and shell history show it.",
}


def __getattr__(name: str) -> Any:
    if name not in _WARNINGS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _warning_class(name)


def _warning_class(name: str) -> type[UserWarning]:
    made = globals().get(name)
    if made is None:
        namespace = {"__module__": __name__, "__qualname__": name, "__doc__": _WARNINGS[name]}
        made = globals().setdefault(name, type(name, (UserWarning,), namespace))
    return made  # type: ignore[no-any-return]


def __dir__() -> list[str]:
    return sorted({*globals(), *_WARNINGS})


def resolve_secret(source: str, *, what: str = "password") -> str:
    """Turn a SOURCE as the README documents it into the secret itself. Errors never echo any part of it: a
    malformed source may be the password itself (`-p 'Summer2024:Secret'`), so not even the part before the colon
    or a variable's or file's name is repeated."""
    kind, sep, rest = source.partition(":")
    if source == "stdin":
        line = _read_stdin_line()
        if not line:
            raise UsageError(f"{what}: standard input is empty")
        return _text(line, what, "standard input").rstrip("\r\n")
    if not sep:
        raise UsageError(f"{what}: source must be env:VAR, file:PATH, fd:N, stdin or pass:VALUE")
    if kind == "env":
        value = os.environb.get(os.fsencode(rest)) if os.supports_bytes_environ else None
        if value is None:
            text = os.environ.get(rest)
            if text is None:
                raise UsageError(f"{what}: the environment variable named after env: is not set")
            value = os.fsencode(text)
        return _text(value, what, "the environment variable named after env:")
    if kind == "file":
        try:
            with open(rest, "rb") as handle:
                line = handle.readline()
        except OSError as exc:
            raise UsageError(f"{what}: the file named after file: cannot be read ({exc.strerror})") from None
        return _text(line, what, "the file named after file:").rstrip("\r\n")
    if kind == "fd":
        if not rest.isdigit():
            raise UsageError(f"{what}: fd: needs a file descriptor number")
        try:
            with os.fdopen(int(rest), "rb", closefd=False) as handle:
                line = handle.readline()
        except OSError as exc:
            raise UsageError(f"{what}: the file descriptor after fd: cannot be read ({exc.strerror})") from None
        return _text(line, what, "what the file descriptor after fd: holds").rstrip("\r\n")
    if kind == "pass":
        import warnings

        warnings.warn(f"{what} given as pass:VALUE is visible to other users (ps, shell history); "
                      "prefer env:, file: or fd:", _warning_class("VisibleSecretWarning"), stacklevel=2)
        return _text(os.fsencode(rest), what, "the pass: value")  # argv bytes that are not UTF-8 arrive escaped
    raise UsageError(f"{what}: not a secret source; use env:VAR, file:PATH, fd:N, stdin or pass:VALUE (the value "
                     "given is not shown: it may be the secret itself)")


def _text(raw: bytes, what: str, where: str) -> str:
    """A secret's bytes as UTF-8 text. The error names where it came from, never a byte of it or its position
    (Python's own UnicodeDecodeError says both); guessing Latin-1 instead would silently use another password."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{what}: {where} is not UTF-8 text; keystores reads secrets as UTF-8 (re-encode it, "
                         "e.g. iconv -f latin1 -t utf-8)") from None


def _read_stdin_line() -> bytes:
    """One line of standard input as bytes; not echoed when standard input is a terminal (as a prompt would)."""
    stream = sys.stdin.buffer
    if not sys.stdin.isatty():
        return stream.readline()
    import termios

    fd = sys.stdin.fileno()
    old = termios.tcgetattr(fd)
    quiet = list(old)
    quiet[3] &= ~termios.ECHO
    termios.tcsetattr(fd, termios.TCSAFLUSH, quiet)
    try:
        return stream.readline()
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, old)
        sys.stderr.write("\n")  # the newline the user typed was not echoed either


def is_pin_part(part: str) -> bool:
    """Whether a `pkcs11:` URI part names a PIN, however spelled: case, percent-encoding, a typo for '='
    (`pin-value:X`, `pin-value%3DX`, `pin=X`)."""
    data = part.strip().encode("utf-8")
    if b"%" in data:  # else unquote_to_bytes gives these bytes: keystores.percent is loaded only to decode an escape
        from keystores.percent import unquote_to_bytes

        data = unquote_to_bytes(part.strip())
    return data.decode("utf-8", "replace").strip().lower().startswith("pin")


def redact_uri_pins(uri: str) -> str:
    """`uri` with every PIN-like part replaced by '...' (errors name the store they concern)."""
    head, sep, body = uri.partition(":")
    path, qmark, query = body.partition("?")

    def clean(section: str, separator: str) -> str:
        return separator.join("..." if is_pin_part(item) else item for item in section.split(separator))

    return head + sep + clean(path, ";") + (qmark + clean(query, "&") if qmark else "")


def prompt_secret(prompt: str, *, confirm: bool = False) -> str | None:
    """Ask on the terminal; None when there is no terminal to ask on."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    first = _ask(f"{prompt}: ")
    if confirm:
        again = _ask(f"{prompt} (again): ")
        if again != first:
            raise UsageError("the two entries differ")
    return first


def _ask(prompt: str) -> str:
    """getpass, without its UnicodeDecodeError (which shows a byte of what was typed, and where)."""
    import getpass

    try:
        return getpass.getpass(prompt, stream=sys.stderr)
    except UnicodeDecodeError:
        raise UsageError("what was typed is not UTF-8 text; keystores reads secrets as UTF-8 (set a UTF-8 "
                         "terminal encoding)") from None
