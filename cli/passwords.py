"""The audit's per-store secrets: `--password-for STORE=SOURCE` and a `--passwords FILE` of such lines. CLI
options, so they live with the CLI; each SOURCE is read by keystores.secrets."""

from __future__ import annotations

import os

from keystores.errors import UsageError
from keystores.secrets import resolve_secret

_SOURCE_PREFIXES = ("env:", "file:", "fd:", "pass:")


def split_store_source(text: str, *, where: str) -> tuple[str, str]:
    """`STORE=SOURCE` as `--password-for` and a `--passwords` file line write it: split at the first '=' that is
    followed by a secret source (a pkcs11: URI holds '=' of its own). Errors never echo the text: it may hold
    a pass: secret."""
    for index, char in enumerate(text):
        if char == "=" and index > 0:
            rest = text[index + 1:]
            if rest == "stdin" or rest.startswith(_SOURCE_PREFIXES):
                return text[:index], rest
    raise UsageError(f"{where}: expected STORE=SOURCE, SOURCE being env:VAR, file:PATH, fd:N, stdin or pass:VALUE")


def _canonical(location: str) -> str:
    """A store address in one spelling, so that `./a.p12` and `/abs/a.p12` name the same store."""
    from keystores import formats

    addressed = formats.by_prefix(location)
    if addressed is None:
        return os.path.realpath(location)
    if addressed.folder_files:  # sql:DIR
        return f"{addressed.prefix}{os.path.realpath(addressed.folder_of(location))}"
    return location  # a token URI, an ams: keystore.conf


class StoreSecrets:
    """Which secret source belongs to which store, for commands that open many (`audit`): `--password-for
    STORE=SOURCE` (repeatable) first, then the lines of a `--passwords FILE` (`STORE=SOURCE` per line; blank
    lines and lines starting with '#' are skipped). STORE is a store as written on the command line, the same
    store by another path, or a shell pattern (`*.p12`); the first that matches wins. Each source is read once,
    so `stdin` can serve several stores."""

    def __init__(self, pairs: list[str], file: str | None = None) -> None:
        self._rules = [split_store_source(text, where="--password-for") for text in pairs]
        if file is not None:
            try:
                with open(file, encoding="utf-8") as handle:
                    lines = handle.read().splitlines()
            except OSError as exc:
                raise UsageError(f"--passwords: cannot read {file}: {exc.strerror}") from None
            for number, line in enumerate(lines, 1):
                if line.strip() and not line.lstrip().startswith("#"):
                    self._rules.append(split_store_source(line.strip(), where=f"{file} line {number}"))
        self._read: dict[str, str] = {}

    def source_for(self, location: str) -> str | None:
        if not self._rules:
            return None  # (fnmatch imports re: audit without --password-for loads neither, start-up speed)
        from fnmatch import fnmatchcase

        canonical = _canonical(location)
        for pattern, source in self._rules:
            if fnmatchcase(location, pattern) or fnmatchcase(canonical, _canonical(pattern)):
                return source
        return None

    def resolve(self, source: str, *, what: str) -> str:
        if source not in self._read:
            self._read[source] = resolve_secret(source, what=what)
        return self._read[source]
