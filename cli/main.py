"""The `keystores` command: parse, resolve secrets, call one operation, render. No format logic here.

One error boundary (`run`) maps KeystoreError families to the documented exit codes and prints one line;
tracebacks only with --debug. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import warnings
from collections.abc import Callable, Iterator, MutableMapping
from typing import Annotated, Any, TypeVar

import typer

from keystores.errors import ExitCode, KeystoreError, PasswordRequired, UsageError

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

T = TypeVar("T")
_debug = False

EXIT_CODES_HELP = ("Exit codes: 0 ok, 1 failure (bad or damaged input, refused), 2 usage, 3 wrong password/PIN, "
                   "4 store/label/token not found, 5 checks found problems.")
SECRET_HELP = "Secret source: env:VAR, file:PATH, fd:N, stdin, or pass:VALUE (visible to others; warns)."

PasswordOpt = Annotated[str | None, typer.Option("--password", "--pin", "-p", help=f"Store password or PIN. "
                                                 f"{SECRET_HELP}", show_default=False)]
DestPasswordOpt = Annotated[str | None, typer.Option("--dest-password", help=f"Destination password. {SECRET_HELP}",
                                                     show_default=False)]
TypeOpt = Annotated[str | None, typer.Option("--type", "-t", help="Store type when the bytes don't tell: pkcs12, "
                                             "jks, jceks, bks, uber, bcfks, pem, der, cms, nss, pkcs11.",
                                             show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (schema in the README).")]
ProfileOpt = Annotated[str, typer.Option("--profile", help="Algorithms for what is written: modern, or compat "
                                         "(3DES/SHA-1 for old Java, Windows, macOS; weak, warns).")]
ModuleOpt = Annotated[str | None, typer.Option("--module", help="PKCS#11 module (default: module-path= in the URI "
                                               "or $KEYSTORES_PKCS11_MODULE).", show_default=False)]
UntrustedOpt = Annotated[str, typer.Option("--untrusted", help="Certificates held without trust, when DEST holds "
                                           "trusted ones only (JKS, JCEKS): skip (named on stderr), trust (for "
                                           "all purposes), or fail.")]
SkipUnreadableOpt = Annotated[bool, typer.Option("--skip-unreadable", help="Write the entries DEST can hold and "
                                                 "list those left out (default: fail, naming them, writing nothing).")]


# --- shared helpers for every command module ------------------------------------------------------------------
def err(message: str) -> None:
    """A diagnostic line on stderr (never data, never a secret); control characters a label or file name
    brought in are escaped, so it stays one line that cannot drive the terminal."""
    from keystores.text import printable

    print(f"keystores: {printable(message)}", file=sys.stderr)


def emit_json(data: Any) -> None:
    import json  # here, not at start-up: only --json output needs it

    # dumps, then one write: json.dump writes each of the (many thousand) pieces to stdout on its own.
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def secret_from(source: str | None, what: str) -> str | None:
    if source is None:
        return None
    from keystores.secrets import resolve_secret

    return resolve_secret(source, what=what)


def prompt_text(store: str, *, new: bool = False) -> str:
    """What a prompt for `store`'s secret says: "Password for qm1.kdb", "PIN for pkcs11:token=T", "New password
    for b.p12" (a token URI's query, which may name a module path, is left out)."""
    what = "PIN" if store.startswith("pkcs11:") else "password"
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
        err(note)


@contextlib.contextmanager
def skip_unreadable_hint() -> Iterator[None]:
    """A transfer that refused entries says how to write the others instead (the library names no CLI flags)."""
    from keystores.errors import EntriesRefused

    try:
        yield
    except EntriesRefused as exc:
        exc.reason += "; --skip-unreadable writes the others and lists what it left out"
        raise


def show_left_out(left_out: list[tuple[str, str]]) -> None:
    for label, reason in left_out:
        err(f"left out '{label}': {reason}")


def report_transfer(result: Any, dest: str, verb: str, as_json: bool,
                    what: tuple[str, str] = ("entry", "entries")) -> None:
    """What convert/import did: notes and each skipped certificate on stderr, the summary on stderr or as JSON."""
    from keystores.ops.describe import skipped_data

    show_notes(result.notes)
    skipped = skipped_data(result.skipped)
    for item in skipped:
        err(f"skipped '{item['label']}' ({item['subject']}): {item['reason']}")
    show_left_out(result.left_out)
    if as_json:
        emit_json({"schema": 1, "store": dest, "written": result.copied, "skipped": skipped,
                   "left_out": [{"label": label, "reason": reason} for label, reason in result.left_out]})
        return
    from keystores.cli.render import plural

    count = len(result.copied)
    err(f"{verb} {plural(count, *what)}" + (f" to {dest}" if verb == "wrote" else ": "
        + ", ".join(result.copied[:10]) + (" ..." if count > 10 else ""))
        + (f"; skipped {len(skipped)}" if skipped else "")
        + (f"; left out {len(result.left_out)}" if result.left_out else ""))


def progress_callback(enabled: bool, doing: str = "working") -> tuple[Callable[[int, int], None] | None,
                                                                     Callable[[], None]]:
    """A progress bar (count and time left) on a terminal's stderr for long work (50 items or more); nothing when
    piped or for JSON output. It appears at the first item done, so any prompt has been answered by then."""
    if not enabled or not sys.stderr.isatty():
        return None, lambda: None
    shown: list[Any] = []  # [Progress, task] once the bar is up

    def update(done: int, total: int) -> None:
        if total < 50:
            return
        if not shown:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TextColumn("time left"), TimeRemainingColumn(), transient=True,
                           console=Console(stderr=True))
            shown.extend([bar, bar.add_task(doing, total=total)])
            bar.start()
        shown[0].update(shown[1], completed=done, total=total)

    def stop() -> None:
        if shown:
            shown[0].stop()

    return update, stop


# --- commands ---------------------------------------------------------------------------------------------------
def _print_version(asked: bool) -> None:
    if asked:
        from keystores import __version__

        print(f"keystores {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                          callback=_print_version)] = False,
) -> None:
    """keystores: one tool for certificates and keys in every store format."""
    global _debug
    _debug = debug


def _open_read(store: str, password: str | None, store_type: str | None, module: str | None = None):
    from keystores.store import open_store

    return with_secret(password, "password", lambda pw: open_store(store, password=pw, type=store_type,
                                                                     **store_options(module)))


@app.command("list", epilog=EXIT_CODES_HELP)
def list_entries(
    store: Annotated[str, typer.Argument(help="A file, sql:DIR, or a pkcs11: URI.")],
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    as_json: JsonOpt = False,
    module: ModuleOpt = None,
) -> None:
    """List the entries of a store."""
    from keystores.ops.describe import entry_row, store_data

    with _open_read(store, password, store_type, module) as opened:
        show_notes(opened.notes)
        shown = len(opened.notes)
        entries = list(opened.entries())
        if as_json:
            emit_json(store_data(opened, entries))
            show_notes(opened.notes[shown:])  # what reading the entries found (e.g. NSS trust left unverified)
            return
        rows = [entry_row(e) for e in entries]
        kind = opened.format
    from keystores.cli.render import plural, table

    undecoded = [row["label"] for row in rows if row.get("problem")]
    if undecoded:
        shown = ", ".join(repr(label) for label in undecoded[:5]) + (" ..." if len(undecoded) > 5 else "")
        err(f"{plural(len(undecoded), 'entry', 'entries')} could not be fully decoded ({shown}); "
            f"`keystores show {store} LABEL` says what")
    table(f"{store} ({kind}, {plural(len(rows), 'entry', 'entries')})", rows,
           [("label", "Label"), ("kind", "Kind"), ("subject", "Subject"), ("not_after", "Expires"),
            ("key_type", "Key"), ("default", "Default")])


@app.command("show", epilog=EXIT_CODES_HELP)
def show_entry(
    store: Annotated[str, typer.Argument(help="A file, sql:DIR, or a pkcs11: URI.")],
    label: Annotated[str | None, typer.Argument(help="Entry label; omit to show the store itself.")] = None,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    as_json: JsonOpt = False,
    module: ModuleOpt = None,
) -> None:
    """Show one entry in detail (its chain), or the store's type and protection algorithms."""
    from keystores.ops.describe import store_data

    with _open_read(store, password, store_type, module) as opened:
        show_notes(opened.notes)
        shown = len(opened.notes)
        entries = [opened.get(label)] if label else list(opened.entries())
        data = store_data(opened, entries, detail=True)
        show_notes(opened.notes[shown:])  # what reading the entries found (e.g. NSS trust left unverified)
    if as_json:
        emit_json(data)
        return
    from keystores.text import printable

    def say(line: str) -> None:  # every value from the store escaped (JSON above stays exact)
        print(printable(line))

    say(f"store: {data['store']}")
    say(f"type: {data['type']}")
    for key, value in data["protection"].items():
        say(f"{key}: {value}")
    if label is None:
        say(f"entries: {len(data['entries'])}")
        return
    entry = data["entries"][0]
    say(f"label: {entry['label']}")
    say(f"kind: {entry['kind']}")
    say(f"default: {_yes_no(entry['default'])}")
    say(f"private key: {_yes_no(entry['has_private_key'])}")
    say(f"on token: {_yes_no(entry['on_token'])}")
    if entry["created"]:
        say(f"created: {entry['created']}")
    if entry["problem"]:
        say(f"problem: {entry['problem']} (listed and carried as read)")
    if entry["trust"]:
        say(f"trust: {', '.join(entry['trust']['purposes']) or 'no purpose'}"
            + (f" ({entry['trust']['native']})" if entry["trust"]["native"] else "")
            + ("" if entry["trust"]["verified"] else " [unverified: read without the password]"))
    if entry.get("key"):
        say(f"key: id {entry['key']['id']}, sensitive {_yes_no(entry['key']['sensitive'])}, "
            f"extractable {_yes_no(entry['key']['extractable'])}")
    for depth, cert in enumerate(entry.get("chain", [])):
        say(f"certificate [{depth}]:")
        for line in certificate_lines(cert):
            say(f"  {line}")
    if not entry.get("chain") and entry["key_type"]:
        say(f"key type: {entry['key_type']}")


def _yes_no(value: Any) -> str:
    return "yes" if value else "no"


def certificate_lines(cert: dict[str, Any]) -> list[str]:
    """One certificate of `show --json`'s chain as `show` prints it: what keytool -list -v and openssl x509 -text
    show, with human values (yes/no, "none"), never Python's True/None."""
    constraints = cert["basic_constraints"]
    if constraints is None:
        constraints_text = "none"
    else:
        constraints_text = f"CA: {_yes_no(constraints['ca'])}" + (
            f", path length: {constraints['path_length']}" if constraints["path_length"] is not None else "") + (
            " (critical)" if constraints["critical"] else "")

    def listed(values: list[str] | None) -> str:
        return ", ".join(values) if values else "none"

    lines = [f"subject: {cert['subject']}", f"issuer: {cert['issuer']}", f"serial: {cert['serial']}",
             f"version: {cert['version']}", f"valid from: {cert['not_before']}", f"valid until: {cert['not_after']}",
             f"signature algorithm: {cert['signature_algorithm']}",
             f"key: {cert['key_type']}" + (f" ({cert['key_size']} bits)" if cert["key_size"] else ""),
             f"SHA-1 fingerprint: {cert['sha1']}", f"SHA-256 fingerprint: {cert['sha256']}",
             f"subject alternative names: {listed(cert['subject_alt_names'])}",
             f"key usage: {listed(cert['key_usage'])}",
             f"extended key usage: {listed(cert['extended_key_usage'])}",
             f"basic constraints: {constraints_text}",
             f"subject key identifier: {cert['subject_key_identifier'] or 'none'}",
             f"authority key identifier: {cert['authority_key_identifier'] or 'none'}"]
    if not cert["extensions_readable"]:
        lines.append("extensions: cannot be decoded (damaged)")
    if cert.get("problem"):
        lines.append(f"problem: {cert['problem']}")
    return lines


@app.command("create", epilog=EXIT_CODES_HELP)
def create_store(
    store: Annotated[str, typer.Argument(help="The new store: a file (type from its extension or --type) or sql:DIR.")],
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    profile: ProfileOpt = "modern",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing store.")] = False,
    kdb_version: Annotated[int | None, typer.Option("--kdb-version", help="CMS only: 4 (default, as GSKit's FIPS "
                                                    "mode) or 6 (HMAC-SHA384, AES-256 keys).")] = None,
    stash: Annotated[bool, typer.Option("--stash", help="CMS only: also write the .sth stash (0600).")] = False,
) -> None:
    """Create an empty store."""
    from keystores.errors import StoreExists
    from keystores.store import open_store, store_exists

    if store_exists(store) and not force:
        raise StoreExists("already exists; use --force to replace it", store=store)

    def make(pw: str | None) -> None:
        options = cms_options(kdb_version, stash)
        with open_store(store, password=pw, type=store_type, create=True, fresh=True, profile=profile,
                        **options) as made:
            show_notes(made.notes)

    with_secret(password, "new password", make, confirm=True)
    err(f"created {store}")


@app.command("delete", epilog=EXIT_CODES_HELP)
def delete_entry(
    store: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Argument()],
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    module: ModuleOpt = None,
) -> None:
    """Delete an entry."""
    _edit(store, password, store_type, module, lambda opened: opened.remove(label))
    err(f"deleted '{label}'")


@app.command("rename", epilog=EXIT_CODES_HELP)
def rename_entry(
    store: Annotated[str, typer.Argument()],
    old: Annotated[str, typer.Argument()],
    new: Annotated[str, typer.Argument()],
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    module: ModuleOpt = None,
) -> None:
    """Rename an entry (its label, alias, friendlyName, nickname or CKA_LABEL)."""
    _edit(store, password, store_type, module, lambda opened: opened.rename(old, new))
    err(f"renamed '{old}' to '{new}'")


def _edit(store: str, password: str | None, store_type: str | None, module: str | None,
          change: Callable[[Any], None]) -> None:
    """Open `store` for writing, apply `change`, save on success (the store's context manager)."""
    from keystores.store import open_store

    def act(pw: str | None) -> None:
        with open_store(store, password=pw, type=store_type, writable=True, **store_options(module)) as opened:
            show_notes(opened.notes)
            change(opened)

    with_secret(password, "password", act)


@app.command("passwd", epilog=EXIT_CODES_HELP)
def change_password(
    store: Annotated[str, typer.Argument()],
    password: PasswordOpt = None,
    new_password: Annotated[str | None, typer.Option("--new-password", help=f"The new password. {SECRET_HELP}",
                                                     show_default=False)] = None,
    store_type: TypeOpt = None,
    profile: ProfileOpt = "modern",
) -> None:
    """Change a store's password (re-encrypting its keys; a CMS stash beside it is rewritten)."""
    from keystores.secrets import prompt_secret
    from keystores.store import open_store

    new = secret_from(new_password, "new password")
    current = secret_from(password, "password")
    # The current password first, then the new one twice, as keytool -storepasswd asks.
    with open_store(store, password=current, type=store_type, writable=True, profile=profile,
                    ask=StorePrompts()) as opened:
        show_notes(opened.notes)
        if new is None:
            new = prompt_secret(prompt_text(store, new=True), confirm=True)
            if new is None:
                raise UsageError("give the new password with --new-password SOURCE (no terminal to ask on)")
        opened.set_password(new)
    err("password changed")


TrustUnverifiedOpt = Annotated[bool, typer.Option(
    "--trust-unverified", help="Take trust whose integrity could not be checked (NSS read without its password) "
    "as trust in DEST; without it such entries are refused.")]


@app.command("import", epilog=EXIT_CODES_HELP)
def import_cmd(
    locations: Annotated[list[str], typer.Argument(help="SRC DEST; several SRC files or folders of files (labels "
                                                   "from the file names); or just DEST with --cert/--key.",
                                                   metavar="[SRC...] DEST")],
    label: Annotated[str | None, typer.Option("--label", "-l", help="Label for the imported entry.")] = None,
    entry: Annotated[list[str] | None, typer.Option("--entry", "-e", help="Import only this source entry "
                                                    "(repeatable).")] = None,
    key: Annotated[str | None, typer.Option("--key", help="Private key file (PEM or DER).")] = None,
    cert: Annotated[str | None, typer.Option("--cert", help="Certificate file (PEM or DER).")] = None,
    chain: Annotated[list[str] | None, typer.Option("--chain", help="CA certificates (PEM bundle or DER; "
                                                    "repeatable).")] = None,
    password: PasswordOpt = None,
    dest_password: DestPasswordOpt = None,
    store_type: TypeOpt = None,
    dest_type: Annotated[str | None, typer.Option("--dest-type", help="Type of DEST if it is created.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Overwrite entries with the same label.")] = False,
    profile: ProfileOpt = "modern",
    module: ModuleOpt = None,
    untrusted: UntrustedOpt = "skip",
    as_json: JsonOpt = False,
    trust_unverified: TrustUnverifiedOpt = False,
    skip_unreadable: SkipUnreadableOpt = False,
) -> None:
    """Import a whole store, chosen entries, or a key + certificate (+ chain) into a store (created if missing)."""
    from keystores.ops import transfer

    if cert or key:
        if len(locations) != 1 or not cert:
            raise UsageError("with --key/--cert give only DEST, and --cert is required")
        dest = locations[0]
        result = transfer.import_pem_parts(
            dest, key=key, cert=cert, chain=chain or [], label=label,
            key_password=secret_from(password, "key password"),
            dest_password=secret_from(dest_password, "destination password"), dest_type=dest_type, replace=replace,
            profile=profile, ask=StorePrompts())
    else:
        if len(locations) < 2:
            raise UsageError("give SRC and DEST (or DEST with --cert/--key)")
        *sources, dest = locations
        if module:
            os.environ.setdefault("KEYSTORES_PKCS11_MODULE", module)
        from keystores.ops import batch

        many = len(sources) > 1 or batch.is_file_folder(sources[0])
        if many and (entry or label):
            raise UsageError("--entry and --label choose within one source; several files are labelled by their "
                             "names")
        step, stop = progress_callback(True, "importing")

        def copy(pw: str | None, dpw: str | None) -> transfer.TransferResult:
            common = {"password": pw, "dest_password": dpw, "src_type": store_type, "dest_type": dest_type,
                      "replace": replace, "profile": profile, "progress": step, "untrusted": untrusted,
                      "trust_unverified": trust_unverified, "skip_unreadable": skip_unreadable,
                      "ask": StorePrompts()}
            if many:
                return batch.import_files(sources, dest, **common)
            return transfer.import_entries(sources[0], dest, labels=entry, new_label=label, **common)

        with skip_unreadable_hint():
            try:
                result = copy(secret_from(password, "password"), secret_from(dest_password, "destination password"))
            finally:
                stop()
    report_transfer(result, dest, "imported", as_json)


@app.command("export", epilog=EXIT_CODES_HELP)
def export_cmd(
    store: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Argument()],
    out: Annotated[str, typer.Option("--out", "-o", help="Output file.")],
    out_format: Annotated[str | None, typer.Option("--format", "-f", help="pem, der or p12 (default: from the "
                                                   "extension: .p12/.pfx, .der/.cer, else pem).",
                                                   show_default=False)] = None,
    include_chain: Annotated[bool, typer.Option("--chain", help="Include the CA chain.")] = False,
    include_key: Annotated[bool, typer.Option("--key", help="Include the private key (PEM: encrypted with "
                                              "--out-password when given).")] = False,
    password: PasswordOpt = None,
    out_password: Annotated[str | None, typer.Option("--out-password", "--dest-password",
                                                     help=f"Password for the output. {SECRET_HELP}")] = None,
    store_type: TypeOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
    profile: ProfileOpt = "modern",
    module: ModuleOpt = None,
) -> None:
    """Export an entry's certificate, chain or key to PEM, DER or PKCS#12."""
    from keystores.ops import transfer

    if module:
        os.environ.setdefault("KEYSTORES_PKCS11_MODULE", module)
    result = transfer.export_entry(store, label, out, password=secret_from(password, "password"),
                                   out_password=secret_from(out_password, "output password"),
                                   out_format=out_format, include_chain=include_chain, include_key=include_key,
                                   store_type=store_type, force=force, profile=profile, ask=StorePrompts())
    show_notes(result.notes)
    err(f"wrote {out}")


@app.command("convert", epilog=EXIT_CODES_HELP)
def convert_cmd(
    locations: Annotated[list[str], typer.Argument(
        help="SRC DEST: DEST is a new store, its type from --dest-type or its extension (.p12 .pfx .jks .jceks "
             ".bks .bcfks .pem .der .kdb, sql:DIR, pkcs11: URI). Several SRC files or folders of files, or a DEST "
             "folder (an existing one, or a name ending in /), convert each file into DEST/<name>.<ext of "
             "--dest-type>.",
        metavar="SRC... DEST")],
    password: PasswordOpt = None,
    dest_password: DestPasswordOpt = None,
    store_type: TypeOpt = None,
    dest_type: Annotated[str | None, typer.Option("--dest-type", help="Type of DEST.")] = None,
    profile: ProfileOpt = "modern",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing DEST.")] = False,
    module: ModuleOpt = None,
    kdb_version: Annotated[int | None, typer.Option("--kdb-version", help="CMS DEST only: 4 (default) or 6.")] = None,
    stash: Annotated[bool, typer.Option("--stash", help="CMS DEST only: also write the .sth stash.")] = False,
    entry: Annotated[list[str] | None, typer.Option("--entry", "-e", help="Convert only this entry "
                                                    "(repeatable).")] = None,
    untrusted: UntrustedOpt = "skip",
    as_json: JsonOpt = False,
    trust_unverified: TrustUnverifiedOpt = False,
    skip_unreadable: SkipUnreadableOpt = False,
) -> None:
    """Convert a store to another format, keeping labels, chains, trust and the default flag where expressible."""
    from keystores.ops import batch, transfer

    if len(locations) < 2:
        raise UsageError("give SRC and DEST")
    *sources, dest = locations
    if module:
        os.environ.setdefault("KEYSTORES_PKCS11_MODULE", module)
    many = batch.converts_many(sources, dest, dest_type)
    if many and entry:
        raise UsageError("--entry chooses within one source; converting several files takes every entry of each")
    step, stop = progress_callback(True, "converting")
    with skip_unreadable_hint():
        try:
            result = (batch.convert_files if many else transfer.convert)(
                sources if many else sources[0], dest, password=secret_from(password, "password"),
                dest_password=secret_from(dest_password, "destination password"), src_type=store_type,
                dest_type=dest_type, profile=profile, force=force, progress=step,
                dest_options=cms_options(kdb_version, stash), untrusted=untrusted,
                trust_unverified=trust_unverified, skip_unreadable=skip_unreadable, ask=StorePrompts(),
                **({} if many else {"labels": entry}))
        finally:
            stop()
    report_transfer(result, dest, "wrote", as_json, what=("file", "files") if many else ("entry", "entries"))


@app.command("backends")
def backends_cmd(as_json: JsonOpt = False) -> None:
    """Which store formats are usable here, and why not where they are not."""
    from keystores.store import backend_status

    status = backend_status()
    if as_json:
        emit_json({name: {"available": reason is None, "reason": reason} for name, reason in status.items()})
        return
    for name, reason in status.items():
        print(f"{name:8} {'available' if reason is None else 'unavailable: ' + reason}")


@app.command("version")
def version_cmd() -> None:
    """Print the version."""
    from keystores import __version__

    print(__version__)


def _register_groups() -> None:
    from keystores.cli import ams, cms, lifecycle, nss, pkcs11

    for module in (cms, nss, pkcs11, lifecycle, ams):
        module.register(app)


_register_groups()


def _warning_line(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Any = None) -> None:
    err(f"warning: {message}")


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


class _Interrupted(BaseException):
    """Ctrl-C, raised by our SIGINT handler. Not a KeyboardInterrupt: typer turns that into a silent return of
    130, which the caller of main() cannot tell from a command's result. A BaseException, so that no
    `except Exception` on the way up swallows it, while every `finally` and rollback still runs."""


def _on_interrupt(signum: int, frame: Any) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the clean-up of the first
    raise _Interrupted


def _interrupted_line() -> str:
    """What an interrupt left: the stores already written (atomic writes are whole or absent), else nothing."""
    fileio = sys.modules.get("keystores.fileio")
    written = list(dict.fromkeys(fileio.changed)) if fileio is not None else []
    if written:
        return f"interrupted after writing {', '.join(written)}; nothing else was changed"
    return "interrupted; nothing was changed"


def run(argv: list[str] | None = None) -> None:
    """Console entry point: the one error boundary."""
    from keystores.secrets import no_core_dumps

    no_core_dumps()  # first: a crash's core file would hold every password read
    import signal

    signal.signal(signal.SIGINT, _on_interrupt)
    warnings.showwarning = _warning_line
    # keytool still makes DSA keys and stores hold them; cryptography's plan to drop DSA is not the user's concern.
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    try:
        command = click_app()
        # What start-up made (modules, the command tree) lives until exit: the cyclic collector need not walk it
        # again on every full collection while a command reads thousands of entries.
        gc.freeze()
        code = command.main(args=argv, prog_name="keystores", standalone_mode=False)
        if isinstance(code, int) and code:  # typer returns (rather than raises) an Exit's code here
            sys.exit(code)
    except _Interrupted:
        err(_interrupted_line())
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err("aborted")
        sys.exit(ExitCode.FAILURE)
    except typer.TyperException as exc:  # typer's (vendored click's) usage errors carry exit code 2
        exc.show()
        sys.exit(exc.exit_code)
    except KeystoreError as exc:
        if _debug:
            raise
        err(f"error: {exc}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:  # before our handler was installed, or raised by a library itself
        err(_interrupted_line())
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except Exception as exc:  # the last line of defence: one line, no traceback, no locals
        if _debug:
            raise
        err(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback; please report it)")
        sys.exit(ExitCode.FAILURE)
    sys.exit(ExitCode.OK)
