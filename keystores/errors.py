"""The error taxonomy. Every error carries the store (and label) it concerns and maps to one exit code.

Messages never contain a password or PIN: callers pass paths and labels, never secrets. A message never names a
command-line option either: what to give or change is a `Hint`, which the CLI renders as its option and the
library states as its keyword.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Literal

    from keystores.exit_codes import ExitCode

    Naming = Literal["keyword", "option"]
else:
    Naming = str  # a name other modules import; type checkers see the Literal


class Hint:
    """What to give or change to get past an error, naming the parameter as the reader knows it: `option` as the
    CLI spells it (`--replace`), `keyword` as a Python caller passes it (`replace=True`). `text` is the clause
    that follows the error's reason, with {} where the name goes.

    `str(error)` states the keyword; the CLI renders the option (cli/render.py: error_line). A plain class, not a
    dataclass: this module is imported by every command, and dataclasses (with inspect) is not."""

    __slots__ = ("keyword", "option", "text")

    def __init__(self, text: str, option: str, keyword: str) -> None:
        self.text, self.option, self.keyword = text, option, keyword

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Hint) and (self.text, self.option, self.keyword) == (other.text, other.option,
                                                                                       other.keyword)

    def __hash__(self) -> int:
        return hash((self.text, self.option, self.keyword))

    def __repr__(self) -> str:
        return f"Hint({self.text!r}, option={self.option!r}, keyword={self.keyword!r})"

    def render(self, naming: Naming = "keyword") -> str:
        return self.text.replace("{}", self.option if naming == "option" else self.keyword)


class Note(str):
    """A note for the user (an operation's `notes`) whose hint names a parameter. As a str it states the keyword,
    as a script reads it; the CLI prints `rendered("option")` (cli/common.py: said)."""

    text: str
    hint: Hint

    def __new__(cls, text: str, hint: Hint) -> Note:
        note = super().__new__(cls, text + hint.render())
        note.text, note.hint = text, hint
        return note

    def rendered(self, naming: Naming = "keyword") -> str:
        return self.text + self.hint.render(naming)


def spoken(text: str, naming: Naming = "keyword") -> str:
    """A message as `naming` says it: a Note's hint names the keyword or the option; other text as it is."""
    return text.rendered(naming) if isinstance(text, Note) else text


def parameter(option: str, keyword: str) -> Hint:
    """A hint that names the parameter the error is about: "bad subject alternative name 'x' (--san)"."""
    return Hint(" ({})", option=option, keyword=keyword)


# Hints more than one module gives.
REPLACE = Hint(" (use {} to overwrite it)", option="--replace", keyword="replace=True")
FORCE = Hint("; use {} to replace it", option="--force", keyword="force=True")


def __getattr__(name: str) -> Any:
    """`ExitCode` (keystores.exit_codes), imported when first asked for, and the error classes of `_MADE_ON_USE`,
    each made when first asked for (and kept: one class per name, whichever thread asks)."""
    if name == "__path__":  # what every `from keystores.errors import ...` asks first (a package?): no message made
        raise AttributeError(name)
    if name == "ExitCode":
        from keystores.exit_codes import ExitCode

        return ExitCode
    made = _MADE_ON_USE.get(name)
    if made is not None:
        base, doc, extras = made
        namespace = {"__module__": __name__, "__qualname__": name, "__doc__": doc, **extras}
        bases = (globals().get(base) or __getattr__(base),)  # (a base made on first use too: NotFound)
        return globals().setdefault(name, type(name, bases, namespace))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_MADE_ON_USE})


class _ExitCodeOf:
    """An error class's `exit_code`, read from the class or an instance: the ExitCode member of `code`. The enum
    module behind ExitCode is imported when one is first read (keystores.exit_codes says why)."""

    __slots__ = ("code",)

    def __init__(self, code: int) -> None:
        self.code = code

    def __get__(self, instance: object, owner: type | None = None) -> ExitCode:
        from keystores.exit_codes import ExitCode

        return ExitCode(self.code)


def exit_status(error: KeystoreError) -> int:
    """The process exit status of `error`, `int(error.exit_code)`, read without making its ExitCode member: the
    CLI's error boundary exits with it, so that a run that fails needs the enum module no more than one that
    succeeds (keystores.exit_codes)."""
    code = vars(error).get("exit_code")
    if code is None:
        code = next(vars(cls)["exit_code"] for cls in type(error).__mro__ if "exit_code" in vars(cls))
    return code.code if isinstance(code, _ExitCodeOf) else int(code)


class KeystoreError(Exception):
    """Base of every error keystores raises on purpose; `str()` is a one-line message for the user."""

    exit_code = _ExitCodeOf(1)  # ExitCode.FAILURE

    def __init__(self, message: str, *, store: str | None = None, label: str | None = None,
                 hint: Hint | None = None) -> None:
        self.store = store
        self.label = label
        self.reason = message
        self.hint = hint
        super().__init__(message)

    def __str__(self) -> str:
        return self.rendered()

    def rendered(self, naming: Naming = "keyword") -> str:
        """The one-line message: store, entry, reason, and the hint naming its parameter as `naming` says."""
        store = self.store
        if store and store[:7].lower() == "pkcs11:":  # a PIN typed into the URI never reaches a message
            from keystores.secrets import redact_uri_pins

            store = redact_uri_pins(store)
        where = f"{store}: " if store else ""
        what = f"entry '{self.label}': " if self.label else ""
        hint = self.hint.render(naming) if self.hint is not None else ""
        return f"{where}{what}{self.reason}{hint}"


class UsageError(KeystoreError):
    """The request itself is wrong (conflicting options, unknown type)."""

    exit_code = _ExitCodeOf(2)  # ExitCode.USAGE


class WrongPassword(KeystoreError):
    """The password or PIN does not open the store or key."""

    exit_code = _ExitCodeOf(3)  # ExitCode.WRONG_PASSWORD


class PasswordRequired(WrongPassword):
    """A password is needed and none was given; the CLI prompts on a terminal and retries once."""


class CorruptStore(KeystoreError):
    """The bytes are damaged, truncated, tampered with, or not what the format says."""


class IntegrityError(CorruptStore):
    """A MAC or integrity check failed although the password was right."""


class UnsupportedFormat(KeystoreError):
    """The file is not a store we know, or a variant we do not read."""


class CapabilityError(KeystoreError):
    """The format cannot express what was asked (a secret key in PKCS#12, a second default in CMS...)."""

    def __init__(self, capability: str, message: str, *, store: str | None = None, label: str | None = None,
                 hint: Hint | None = None) -> None:
        self.capability = capability
        super().__init__(message, store=store, label=label, hint=hint)


def _entry_not_found(error: KeystoreError, label: str, existing: Iterable[str], *, store: str | None = None) -> None:
    """EntryNotFound's __init__ (the class is made on first use: _MADE_ON_USE)."""
    KeystoreError.__init__(error, "", store=store, label=label)
    error._existing = existing  # type: ignore[attr-defined]
    error._message = None  # type: ignore[attr-defined]


def _entry_not_found_reason(error: Any) -> str:
    if error._message is None:
        error._message = _entry_not_found_message(error)
    return error._message  # type: ignore[no-any-return]


def _set_entry_not_found_reason(error: Any, value: str) -> None:  # KeystoreError sets it, callers may add to it
    error._message = value or None


def _entry_not_found_existing(error: Any) -> list[str]:
    return sorted(error._existing)


def _entry_not_found_suggestions(error: Any) -> list[str]:
    """A typo's likely targets, as git does for commands; case differences count as close."""
    import difflib  # only when a message is wanted

    by_case = {n.lower(): n for n in error._existing}
    return [by_case[n] for n in difflib.get_close_matches((error.label or "").lower(), list(by_case), n=3,
                                                            cutoff=0.6)]


def _entry_not_found_message(error: Any) -> str:
    names = error.existing
    shown = ", ".join(repr(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")
    close = error.suggestions
    hint = f"did you mean {' or '.join(repr(n) for n in close)}? " if close else ""
    return f"no such entry; {hint}entries are: {shown or '(none)'}"


def _entries_refused(error: CapabilityError, refused: list[tuple[str, str]], *, store: str | None = None) -> None:
    """EntriesRefused's __init__ (the class is made on first use: _MADE_ON_USE)."""
    error.refused = refused  # type: ignore[attr-defined]
    listed = "; ".join(f"'{label}': {reason}" for label, reason in refused)
    count = f"{len(refused)} entr{'y' if len(refused) == 1 else 'ies'}"
    CapabilityError.__init__(error, "entries", f"cannot take {count}, so nothing was written ({listed})", store=store,
                             hint=Hint("; {} writes the others and lists what it left out",
                                       option="--skip-unreadable", keyword="skip_unreadable=True"))


# Error classes that only some commands raise or catch, made on first use by __getattr__ (`from keystores.errors
# import StoreLocked` makes it): an exception class costs ~10 us to make (~90,000 instructions, most of them its
# slots looked up along its MRO), and a command that opens a store to read it needs none of these (start-up, issue
# 15): keystores.store and backends.base import the ones they raise where they raise them.
# name -> (base class, docstring, what the class body held besides).
_MADE_ON_USE: dict[str, tuple[str, str | None, dict[str, Any]]] = {
    "NotFound": ("KeystoreError", None, {"exit_code": _ExitCodeOf(4)}),  # ExitCode.NOT_FOUND
    # Listing or showing a store raises none: a label is looked up only where it was asked for, and it is there
    # (backends/base.py imports it where it raises or catches it).
    "EntryNotFound": ("NotFound", "No entry has the label. The message, with its \"did you mean\", is made when "
                      "first read, from the labels as\n    they were then: stores raise this to test whether a label "
                      "is free, and comparing it with every label each time\n    made adding 2,000 entries take "
                      "minutes (bench_cms).",
                      {"__init__": _entry_not_found,
                       "reason": property(_entry_not_found_reason, _set_entry_not_found_reason),
                       "existing": property(_entry_not_found_existing),
                       "suggestions": property(_entry_not_found_suggestions, doc=_entry_not_found_suggestions.__doc__),
                       "_describe": _entry_not_found_message}),
    "StoreNotFound": ("NotFound", None, {}),
    "TokenNotFound": ("NotFound", None, {}),
    "EntryExists": ("KeystoreError", None, {}),
    "StoreExists": ("KeystoreError", None, {}),
    "StoreLocked": ("KeystoreError", None, {}),
    "BackendUnavailable": ("KeystoreError", "An optional dependency or native library is missing; the message says "
                           "what to install.", {}),
    "EntriesRefused": ("CapabilityError", "The destination cannot hold some entries of a transfer; `refused` is "
                       "(label, reason) for every one of them.\n    Nothing was written; the hint names the "
                       "transfer's `skip_unreadable`, which writes the others.", {"__init__": _entries_refused}),
    "KeyNotExtractable": ("KeystoreError", "The key lives on a token that marks it sensitive or non-extractable.",
                          {}),
    "ChecksFailed": ("KeystoreError", "validate/audit found problems; the report has already been printed.",
                     {"exit_code": _ExitCodeOf(5)}),  # ExitCode.CHECKS_FAILED
}

if TYPE_CHECKING:  # what type checkers see of them

    class NotFound(KeystoreError): ...

    class EntryNotFound(NotFound):
        _existing: Iterable[str]
        _message: str | None

        def __init__(self, label: str, existing: Iterable[str], *, store: str | None = None) -> None: ...

        @property
        def existing(self) -> list[str]: ...

        @property
        def suggestions(self) -> list[str]: ...

    class StoreNotFound(NotFound): ...

    class TokenNotFound(NotFound): ...

    class EntryExists(KeystoreError): ...

    class StoreExists(KeystoreError): ...

    class BackendUnavailable(KeystoreError): ...

    class EntriesRefused(CapabilityError):
        refused: list[tuple[str, str]]

        def __init__(self, refused: list[tuple[str, str]], *, store: str | None = None) -> None: ...

    class StoreLocked(KeystoreError): ...

    class KeyNotExtractable(KeystoreError): ...

    class ChecksFailed(KeystoreError): ...


def one_line(exc: BaseException, limit: int = 160) -> str:
    """A library exception as a short clause for our messages: its first line (asn1crypto appends "while parsing"
    lines), or its class name when it says nothing."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:limit]


def path_error(exc: OSError) -> KeystoreError | None:
    """An OSError about a named file that reached the CLI's boundary unexplained (e.g. a stat of a name longer than
    the file system allows, ENAMETOOLONG) as our error naming the file, with the exit code an unreadable or
    unwritable path gets (1); None when it names no file, which stays an internal error."""
    if exc.filename is None:
        return None
    import errno

    reason = {errno.ENAMETOOLONG: "file name too long", errno.EACCES: "permission denied",
              errno.EPERM: "permission denied"}.get(exc.errno or 0, (exc.strerror or type(exc).__name__).lower())
    return KeystoreError(reason, store=str(exc.filename))
