"""Password and PIN sources: `env:VAR`, `file:PATH`, `fd:N`, `stdin`, `pass:VALUE` (warned), or a prompt.

A secret never comes from an argument value unless the user writes `pass:` and accepts the warning.
"""

from __future__ import annotations

import os
import sys
import warnings

from keystores.errors import UsageError


class WeakCryptoWarning(UserWarning):
    """A write with legacy algorithms (3DES, RC2, SHA-1 MACs) that was asked for explicitly."""


class VisibleSecretWarning(UserWarning):
    """`pass:VALUE` puts the secret on the command line, where `ps` and shell history show it."""


def resolve_secret(source: str, *, what: str = "password") -> str:
    """Turn a SOURCE as the README documents it into the secret itself. Errors never echo any part of it: a
    malformed source may be the password itself (`-p 'Summer2024:Secret'`), so not even the part before the colon
    or a variable's or file's name is repeated."""
    kind, sep, rest = source.partition(":")
    if source == "stdin":
        try:
            line = sys.stdin.readline()
        except UnicodeDecodeError:
            raise UsageError(f"{what}: standard input is not UTF-8 text") from None
        if not line:
            raise UsageError(f"{what}: standard input is empty")
        return line.rstrip("\r\n")
    if not sep:
        raise UsageError(f"{what}: source must be env:VAR, file:PATH, fd:N, stdin or pass:VALUE")
    if kind == "env":
        value = os.environ.get(rest)
        if value is None:
            raise UsageError(f"{what}: the environment variable named after env: is not set")
        return value
    if kind == "file":
        try:
            with open(rest, encoding="utf-8") as handle:
                return handle.readline().rstrip("\r\n")
        except OSError as exc:
            raise UsageError(f"{what}: the file named after file: cannot be read ({exc.strerror})") from None
        except UnicodeDecodeError:  # its message would show a byte of the secret
            raise UsageError(f"{what}: the file named after file: is not UTF-8 text") from None
    if kind == "fd":
        if not rest.isdigit():
            raise UsageError(f"{what}: fd: needs a file descriptor number")
        try:
            with os.fdopen(int(rest), encoding="utf-8", closefd=False) as handle:
                return handle.readline().rstrip("\r\n")
        except OSError as exc:
            raise UsageError(f"{what}: the file descriptor after fd: cannot be read ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise UsageError(f"{what}: what the file descriptor after fd: holds is not UTF-8 text") from None
    if kind == "pass":
        warnings.warn(f"{what} given as pass:VALUE is visible to other users (ps, shell history); "
                      "prefer env:, file: or fd:", VisibleSecretWarning, stacklevel=2)
        return rest
    raise UsageError(f"{what}: not a secret source; use env:VAR, file:PATH, fd:N, stdin or pass:VALUE (the value "
                     "given is not shown: it may be the secret itself)")


def prompt_secret(prompt: str, *, confirm: bool = False) -> str | None:
    """Ask on the terminal; None when there is no terminal to ask on."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    import getpass

    first = getpass.getpass(f"{prompt}: ", stream=sys.stderr)
    if confirm:
        again = getpass.getpass(f"{prompt} (again): ", stream=sys.stderr)
        if again != first:
            raise UsageError("the two entries differ")
    return first
