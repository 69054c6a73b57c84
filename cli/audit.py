"""Checking commands: validate (one entry's chain) and audit (many stores at once).

Thin: parse, resolve secrets through cli.common's helpers, call keystores.ops.validate or keystores.ops.audit,
render; each prints its report first and then raises ChecksFailed (exit 5) when it fails. Apart from
cli.lifecycle's commands, which write (start-up speed, issue 15: validate and audit load only this module of the
CLI's). The audit's per-store secrets (StoreSecrets) are here too: no other command takes them.
"""

from __future__ import annotations

import os

from keystores.cli.common import StorePrompts, emit_json, err, show_notes, store_options, with_secret
from keystores.cli.options import (
    SECRET_HELP,
    Annotated,
    Argument,
    AtOpt,
    JsonOpt,
    ModuleOpt,
    Option,
    PasswordOpt,
    TrustPasswordOpt,
    TrustStoresOpt,
    TypeOpt,
)

from keystores.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# --- the audit's per-store secrets: `--password-for STORE=SOURCE` and a `--passwords FILE` of such lines (CLI
# options, so they live with the CLI; each SOURCE is read by keystores.secrets) ------------------------------------
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
            from keystores.secrets import resolve_secret  # (validate without a source loads no secrets module)

            self._read[source] = resolve_secret(source, what=what)
        return self._read[source]


def _open_audited(stores: list[str], secrets: Any, password: str | None, pin: str | None, module: str | None,
                  ask: Any, stack: Any) -> list[tuple[str, Any]]:
    """Open every store to audit, each with its own secret, before the audit starts (so every prompt comes
    first). A store that does not exist stops the command (exit 4) before any is opened; one that cannot be
    opened (wrong password, damage) is kept as its error, which the audit reports as `unreadable`.

    Whose secret: the store's own source (--password-for, --passwords) first; else a store with a stash (a .kdb)
    opens with it; else --password, or --pin for a token (a PIN counts failed tries, so a token is never sent a
    password given for other stores); else a prompt naming the store, on a terminal."""
    from keystores.errors import KeystoreError, NotFound, PasswordRequired, StoreNotFound, UsageError
    from keystores.lightweight import suppress
    from keystores.ops.audit import password_for
    from keystores.store import capabilities_of, open_store, options_for, store_exists

    missing = [location for location in stores if not store_exists(location)]
    if missing:
        raise StoreNotFound("no such store" + (f" (nor {', '.join(missing[1:])})" if len(missing) > 1 else ""),
                            store=missing[0])
    given = {"module": module} if module else {}
    opened: list[tuple[str, Any]] = []
    for location in stores:
        try:
            options = options_for(location, given)  # --module is for the tokens among the stores
            own = secrets.source_for(location)
            if own is not None:
                store = open_store(location, password=secrets.resolve(own, what=f"password for {location}"),
                                   **options)
            else:
                caps = capabilities_of(location)
                general = pin if caps.pin else password
                store = None
                if caps.stash:
                    with suppress(PasswordRequired):
                        store = open_store(location, password=None, **options)
                if store is None:
                    secret = secrets.resolve(general, what="PIN" if caps.pin else "password") if general else None
                    store = open_store(location, password=secret, ask=None if general else ask, **options)
            opened.append((location, stack.enter_context(store)))
        except (NotFound, UsageError):
            raise  # a token or module that is not there (exit 4, as a missing file), a bad secret source (exit 2)
        except KeystoreError as exc:
            if isinstance(exc, PasswordRequired):
                exc.hint = password_for(location)
            opened.append((location, exc))
    return opened


# Each command's parameters are named before it: cli.quick_parse looks a name up where it compiles an
# inline annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_ValidateStore = Annotated[str, Argument()]
_ValidateLabel = Annotated[str, Argument()]


def validate_cmd(
    store: _ValidateStore,
    label: _ValidateLabel,
    trust: TrustStoresOpt = None,
    trust_password: TrustPasswordOpt = None,
    at: AtOpt = None,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    as_json: JsonOpt = False,
    module: ModuleOpt = None,
) -> None:
    """Build and verify an entry's chain against the trusted certificates; exit 5 when it does not validate."""
    from keystores.errors import ChecksFailed
    from keystores.lightweight import ExitStack
    from keystores.ops.validate import validate
    from keystores.store import open_store

    when = None
    if at:
        from keystores.pki.when import parse_when  # (only for --at: start-up speed)

        when = parse_when(at)
    with ExitStack() as stack:
        others = []
        for location in trust or []:
            opened = with_secret(trust_password, "trust store password",
                                 lambda pw, loc=location: open_store(loc, password=pw))
            others.append(stack.enter_context(opened))

        def act(pw: str | None) -> Any:
            with open_store(store, password=pw, type=store_type, **store_options(module)) as opened:
                show_notes(opened.notes)
                return validate(opened, label, trust_stores=others, at=when)

        report = with_secret(password, "password", act)
    if as_json:
        emit_json(report.as_dict("option"))
    else:
        from keystores.cli.common import said

        from keystores.text import printable

        for index, link in enumerate(report.links):
            state = "trusted" if link.trusted and not link.problems else ("ok" if not link.problems else "FAIL")
            print(f"[{index}] {state:7} {printable(link.subject)}")
            print(f"          issuer {printable(link.issuer)}; valid {link.not_before:%Y-%m-%d} .. "
                  f"{link.not_after:%Y-%m-%d}")
            for problem in link.problems:
                print(f"          problem: {printable(said(problem))}")
            for warning in link.warnings:
                print(f"          warning: {printable(warning)}")
        print(f"{printable(report.label)}: {'valid' if report.ok else 'NOT valid'}")
    if not report.ok:
        raise ChecksFailed("the chain does not validate", store=store, label=report.label)


_AuditStores = Annotated[list[str], Argument(help="Stores of any formats.")]
_AuditWithin = Annotated[str, Option("--within", help="Report certificates expiring within this "
                                           "window, in days unless a unit is given: 30, 30d, 12w, 3mo, 1y "
                                           "(m is refused: minutes or months?).")]
_AuditSkip = Annotated[list[str] | None, Option("--skip", help="A check not to report (repeatable): "
                                                      "expired, expiring, weak-signature, weak-key, "
                                                      "weak-protection, missing-link, duplicate-label, "
                                                      "same-cn, unreadable.")]
_AuditFailOn = Annotated[str, Option("--fail-on", help="Exit 5 on findings of this severity or above: "
                                           "error, warning or notice.")]
_AuditPassword = Annotated[str | None, Option("--password", "-p", help="Password for every store without "
                                                    f"a source of its own; never sent to a token. {SECRET_HELP}",
                                                    show_default=False)]
_AuditPin = Annotated[str | None, Option("--pin", help="PIN for every token without a source of its own.",
                                               show_default=False)]
_AuditPasswordFor = Annotated[list[str] | None, Option("--password-for", help="STORE=SOURCE: the secret "
                                                             "of one store (or a pattern: '*.p12=env:PW'); "
                                                             "repeatable.", show_default=False)]
_AuditPasswords = Annotated[str | None, Option("--passwords", help="A file of STORE=SOURCE lines "
                                                     "('#' comments).", show_default=False)]


def audit_cmd(
    stores: _AuditStores,
    within: _AuditWithin = "30d",
    skip: _AuditSkip = None,
    fail_on: _AuditFailOn = "warning",
    password: _AuditPassword = None,
    pin: _AuditPin = None,
    password_for: _AuditPasswordFor = None,
    passwords: _AuditPasswords = None,
    as_json: JsonOpt = False,
    module: ModuleOpt = None,
) -> None:
    """Expiring/expired certificates, MD5/SHA-1 signatures, RSA < 2048, weak store protection, missing chain
    links and duplicate labels across many stores; exit 5 when a finding reaches --fail-on (for cron and CI).
    Each store gets its own secret: --password-for/--passwords, a .kdb's stash, else --password (--pin for
    tokens), else a prompt naming it on a terminal."""
    from keystores.errors import ChecksFailed
    from keystores.lightweight import ExitStack
    from keystores.ops.audit import SEVERITIES, audit, window_of

    window = window_of(within)
    if fail_on not in SEVERITIES:
        from keystores.errors import UsageError

        raise UsageError(f"--fail-on takes error, warning or notice, not '{fail_on}'")
    secrets = StoreSecrets(password_for or [], passwords)
    with ExitStack() as stack:
        opened = _open_audited(stores, secrets, password, pin, module, StorePrompts(), stack)
        for _, store in opened:
            if not isinstance(store, Exception):
                show_notes(store.notes)
        report = audit(dict(opened), within=window, skip=skip or [], fail_on=fail_on)
    if as_json:
        emit_json(report.as_dict("option"))
    else:
        from keystores.cli.render import tsv

        tsv([[finding.store, finding.label or "-", finding.severity, finding.check, finding.rendered("option")]
             for finding in report.findings])
        counted = ", ".join(f"{n} {level}{'s' if n != 1 else ''}" for level in reversed(SEVERITIES)
                            if (n := sum(f.severity == level for f in report.findings)))
        err(f"audited {report.stores} store(s), {report.certificates} certificate(s): "
            f"{len(report.findings)} finding(s){f' ({counted})' if counted else ''}")
    if not report.ok:
        raise ChecksFailed(f"{len(report.failing)} finding(s) at or above {fail_on}")
