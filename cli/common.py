"""Helpers every command module shares: diagnostics, JSON output, secrets and prompts, notes. (What only the
transfer commands use, their report and progress bar, is in cli/transfer.py: every run loads this module.)"""

from __future__ import annotations

import sys

from keystores.errors import KeystoreError, PasswordRequired

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")


def printable(text: str) -> str:
    """keystores.text.printable(text), that module imported only for text that needs escaping: str.isprintable,
    the one scan printable starts with, passes nearly every value a command prints (labels, subjects, file names),
    and a run that prints only those loads no keystores.text (start-up: `list`, `show`, `export`)."""
    if text.isprintable():
        return text
    from keystores.text import printable as escaped

    return escaped(text)


def err(message: str) -> None:
    """A diagnostic line on stderr (never data, never a secret); control characters a label or file name
    brought in are escaped, so it stays one line that cannot drive the terminal."""
    print(f"keystores: {printable(message)}", file=sys.stderr)



def to_stdout(data: bytes, fmt: str) -> None:
    """Write an output file's bytes to stdout (`-o -`). DER and PKCS#12 are binary: written only where stdout is
    not a terminal (a pipe or a file), else a usage error before anything is written; PEM is text and goes
    anywhere. `fmt` is the output's format: pem, der or p12 (keystores.ops.outputs.output_format)."""
    refuse_binary_on_a_terminal(fmt)
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def refuse_binary_on_a_terminal(fmt: str) -> None:
    """UsageError when `fmt` (pem, der or p12) is binary and stdout is a terminal: asked before the work is done."""
    if fmt != "pem" and sys.stdout.isatty():
        from keystores.errors import UsageError

        raise UsageError(f"{'DER' if fmt == 'der' else 'PKCS#12'} is binary and stdout is a terminal: redirect it "
                         "(-o - > FILE, or a pipe) or give a file name with -o")

def emit_json(data: Any) -> None:
    from keystores.json_output import dumps  # json.dumps(data, indent=2, default=str), without json's `re`

    # dumps, then one write: json.dump writes each of the (many thousand) pieces to stdout on its own.
    sys.stdout.write(dumps(data) + "\n")


# Secrets read before the command asked for them (cli.main's _begin_opening, to begin a token's login while the
# command imports its code), by (source, what): each is handed to the command's own secret_from of the same source
# and purpose, once, and never read a second time (standard input and a file descriptor cannot be), or the error
# reading it raised, raised there again.
_read_ahead: dict[tuple[str, str], str | KeystoreError] = {}


def read_ahead(source: str, what: str) -> str | None:
    """secret_from(source, what) now, kept for the command's own secret_from; None where reading it failed."""
    try:
        secret = secret_from(source, what)
    except KeystoreError as exc:
        _read_ahead[(source, what)] = exc
        return None
    if secret is not None:
        _read_ahead[(source, what)] = secret
    return secret


def secret_from(source: str | None, what: str) -> str | None:
    if source is None:
        return None
    read = _read_ahead.pop((source, what), None)
    if read is not None:
        if isinstance(read, KeystoreError):
            raise read
        return read
    from keystores.secrets import resolve_secret

    return resolve_secret(source, what=what)


def prompt_text(store: str, *, new: bool = False) -> str:
    """What a prompt for `store`'s secret says: "Password for qm1.kdb", "PIN for pkcs11:token=T", "New password
    for b.p12" (a token URI's query, which may name a module path, is left out)."""
    from keystores import formats

    addressed = formats.by_prefix(store)
    what = "PIN" if addressed is not None and addressed.storage is formats.Storage.TOKEN else "password"
    return f"{'New ' + what if new else what[0].upper() + what[1:]} for {store.split('?', 1)[0]}"


class StorePrompts:
    """open_store's `ask` for one command: a prompt per store naming it, each store asked once (a command that
    runs again after a late PasswordRequired gets the earlier answers), a new store's password typed twice."""

    def __init__(self) -> None:
        self._answers: dict[str, str] = {}

    def __call__(self, store: str, new: bool) -> str | None:
        if store not in self._answers:
            from keystores.secrets import prompt_secret

            answer = prompt_secret(prompt_text(store, new=new), confirm=new)
            if answer is None:
                return None
            self._answers[store] = answer
        return self._answers[store]


def with_secret(source: str | None, what: str, action: Callable[[str | None], T], *, confirm: bool = False) -> T:
    """Run `action(secret)`; when the store needs a secret and none was given, prompt once on a terminal, naming
    the store the error names (`confirm`: the secret is new, typed twice)."""
    secret = secret_from(source, what)
    try:
        return action(secret)
    except PasswordRequired as exc:
        if source is not None:
            raise
        from keystores.secrets import prompt_secret

        text = prompt_text(exc.store, new=confirm) if exc.store else what[0].upper() + what[1:]
        asked = prompt_secret(text, confirm=confirm)
        if asked is None:
            raise
        return action(asked)


def store_options(module: str | None) -> dict[str, Any]:
    return {"module": module} if module else {}


def cms_options(kdb_version: int | None, stash: bool) -> dict[str, Any]:
    """Options a new CMS database takes; passed on only when given, so other formats never see them."""
    options: dict[str, Any] = {}
    if kdb_version is not None:
        options["cms_version"] = kdb_version
    if stash:
        options["stash"] = True
    return options


def show_notes(notes: list[str]) -> None:
    for note in dict.fromkeys(notes):
        err(said(note))


def said(note: str) -> str:
    """A note as the CLI says it: one with a hint (keystores.errors.Note) names the option. (Here, not in
    cli.render: a store command's notes, such as the stash a .kdb was opened by, load no renderer.)"""
    from keystores.errors import spoken

    return spoken(note, "option")
