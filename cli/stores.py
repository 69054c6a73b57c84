"""Commands on one store and its entries: list, show, create, delete, rename, passwd."""

from __future__ import annotations

from keystores.cli.common import (
    StorePrompts,
    cms_options,
    emit_json,
    err,
    printable,
    prompt_text,
    secret_from,
    show_notes,
    store_options,
    with_secret,
)
from keystores.cli.options import (
    SECRET_HELP,
    Annotated,
    Argument,
    ForceOpt,
    JsonOpt,
    KdbVersionOpt,
    ModuleOpt,
    Option,
    PasswordOpt,
    ProfileOpt,
    StashOpt,
    StoreArg,
    TypeOpt,
)

from keystores.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _open_read(store: str, password: str | None, store_type: str | None, module: str | None = None):
    from keystores.store import open_store

    return with_secret(password, "password", lambda pw: open_store(store, password=pw, type=store_type,
                                                                     **store_options(module)))


def list_entries(
    store: StoreArg,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    as_json: JsonOpt = False,
    module: ModuleOpt = None,
) -> None:
    """List the entries of a store."""
    from keystores.ops.describe import entry_rows, store_data

    with _open_read(store, password, store_type, module) as opened:
        show_notes(opened.notes)
        shown = len(opened.notes)
        entries = list(opened.entries())
        if as_json:
            emit_json(store_data(opened, entries))
            show_notes(opened.notes[shown:])  # what reading the entries found (e.g. NSS trust left unverified)
            return
        rows = entry_rows(entries)
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


# Each command's parameters are named before it: cli.quick_parse looks a name up where it compiles an inline
# annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_ShowEntryLabel = Annotated[str | None, Argument(help="Entry label; omit to show the store itself.")]


def show_entry(
    store: StoreArg,
    label: _ShowEntryLabel = None,
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


_CreateStoreStore = Annotated[str, Argument(help="The new store: a file (type from its extension or --type) or "
                                                 "sql:DIR.")]


def create_store(
    store: _CreateStoreStore,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    profile: ProfileOpt = "modern",
    force: ForceOpt = False,
    kdb_version: KdbVersionOpt = None,
    stash: StashOpt = False,
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


_DeleteEntryStore = Annotated[str, Argument()]
_DeleteEntryLabel = Annotated[str, Argument()]


def delete_entry(
    store: _DeleteEntryStore,
    label: _DeleteEntryLabel,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    module: ModuleOpt = None,
) -> None:
    """Delete an entry."""
    _edit(store, password, store_type, module, lambda opened: opened.remove(label))
    err(f"deleted '{label}'")


_RenameEntryStore = Annotated[str, Argument()]
_RenameEntryOld = Annotated[str, Argument()]
_RenameEntryNew = Annotated[str, Argument()]


def rename_entry(
    store: _RenameEntryStore,
    old: _RenameEntryOld,
    new: _RenameEntryNew,
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


# passwd's own parameters, named (cli.quick_parse looks a name up where it compiles an inline annotation: ~20-60 us
# a parameter on every run; start-up speed, issue 15)
_PasswdStore = Annotated[str, Argument()]
_PasswdNewPassword = Annotated[str | None, Option("--new-password", help=f"The new password. {SECRET_HELP}",
                                                  show_default=False)]


def change_password(
    store: _PasswdStore,
    password: PasswordOpt = None,
    new_password: _PasswdNewPassword = None,
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
