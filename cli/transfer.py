"""Commands that copy entries between stores: import and convert (export: cli/transfer_export.py)."""

from __future__ import annotations

import os
import sys

from keystores.cli.common import (
    StorePrompts,
    cms_options,
    emit_json,
    err,
    secret_from,
    show_notes,
)
from keystores.cli.options import (
    Annotated,
    Argument,
    DestPasswordOpt,
    DestTypeOpt,
    EntryOpt,
    ForceOpt,
    JsonOpt,
    KdbVersionOpt,
    ModuleOpt,
    Option,
    PasswordOpt,
    ProfileOpt,
    ReplaceOpt,
    SkipUnreadableOpt,
    StashOpt,
    TrustUnverifiedOpt,
    TypeOpt,
    UntrustedOpt,
)

from keystores.errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


# Each command's parameters are named before it: cli.quick_parse looks a name up where it compiles an inline
# annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_ImportLocations = Annotated[list[str], Argument(help="SRC DEST; several SRC files or folders of files (labels "
                                                       "from the file names); or just DEST with --cert/--key.",
                                                       metavar="[SRC...] DEST")]
_ImportLabel = Annotated[str | None, Option("--label", "-l", help="Label for the imported entry.")]
_ImportKey = Annotated[str | None, Option("--key", help="Private key file (PEM or DER).")]
_ImportCert = Annotated[str | None, Option("--cert", help="Certificate file (PEM or DER).")]
_ImportChain = Annotated[list[str] | None, Option("--chain", help="CA certificates (PEM bundle or DER; "
                                                        "repeatable).")]


def import_cmd(
    locations: _ImportLocations,
    label: _ImportLabel = None,
    entry: EntryOpt = None,
    key: _ImportKey = None,
    cert: _ImportCert = None,
    chain: _ImportChain = None,
    password: PasswordOpt = None,
    dest_password: DestPasswordOpt = None,
    store_type: TypeOpt = None,
    dest_type: DestTypeOpt = None,
    replace: ReplaceOpt = False,
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
        many = len(sources) > 1 or transfer.is_file_folder(sources[0])
        if many and (entry or label):
            raise UsageError("--entry and --label choose within one source; several files are labelled by their "
                             "names")
        step, stop = progress_callback(True, "importing")

        def copy(pw: str | None, dpw: str | None) -> transfer.TransferResult:
            common = {"password": pw, "dest_password": dpw, "type": store_type, "dest_type": dest_type,
                      "replace": replace, "profile": profile, "progress": step, "untrusted": untrusted,
                      "trust_unverified": trust_unverified, "skip_unreadable": skip_unreadable,
                      "ask": StorePrompts()}
            if many:
                from keystores.ops import batch  # several files only (start-up)

                return batch.import_files(sources, dest, **common)
            return transfer.import_entries(sources[0], dest, labels=entry, new_label=label, **common)

        try:
            result = copy(secret_from(password, "password"), secret_from(dest_password, "destination password"))
        finally:
            stop()
    report_transfer(result, dest, "imported", as_json)


_ConvertLocations = Annotated[list[str], Argument(
    help="SRC DEST: DEST is a new store, its type from --dest-type or its name ({names}). Several SRC "
         "files or folders of files, or a DEST "
         "folder (an existing one, or a name ending in /), convert each file into DEST/<name>.<ext of "
         "--dest-type>.",
    metavar="SRC... DEST")]


def convert_cmd(
    locations: _ConvertLocations,
    password: PasswordOpt = None,
    dest_password: DestPasswordOpt = None,
    store_type: TypeOpt = None,
    dest_type: DestTypeOpt = None,
    profile: ProfileOpt = "modern",
    force: ForceOpt = False,
    module: ModuleOpt = None,
    kdb_version: KdbVersionOpt = None,
    stash: StashOpt = False,
    entry: EntryOpt = None,
    untrusted: UntrustedOpt = "skip",
    as_json: JsonOpt = False,
    trust_unverified: TrustUnverifiedOpt = False,
    skip_unreadable: SkipUnreadableOpt = False,
) -> None:
    """Convert a store to another format, keeping labels, chains, trust and the default flag where expressible."""
    from keystores.ops import transfer

    if len(locations) < 2:
        raise UsageError("give SRC and DEST")
    *sources, dest = locations
    if module:
        os.environ.setdefault("KEYSTORES_PKCS11_MODULE", module)
    many = transfer.converts_many(sources, dest, dest_type)
    if many and entry:
        raise UsageError("--entry chooses within one source; converting several files takes every entry of each")
    step, stop = progress_callback(True, "converting")
    if many:
        from keystores.ops import batch  # several files only (start-up)
    try:
        result = (batch.convert_files if many else transfer.convert)(
            sources if many else sources[0], dest, password=secret_from(password, "password"),
            dest_password=secret_from(dest_password, "destination password"), type=store_type,
            dest_type=dest_type, profile=profile, force=force, progress=step,
            dest_options=cms_options(kdb_version, stash), untrusted=untrusted,
            trust_unverified=trust_unverified, skip_unreadable=skip_unreadable, ask=StorePrompts(),
            **({} if many else {"labels": entry}))
    finally:
        stop()
    report_transfer(result, dest, "wrote", as_json, what=("file", "files") if many else ("entry", "entries"))


def show_left_out(left_out: list[tuple[str, str]]) -> None:
    for label, reason in left_out:
        err(f"left out '{label}': {reason}")


def report_transfer(result: Any, dest: str, verb: str, as_json: bool,
                    what: tuple[str, str] = ("entry", "entries")) -> None:
    """What convert/import did: notes and each skipped certificate on stderr, the summary on stderr or as JSON."""
    show_notes(result.notes)
    skipped: list[dict[str, Any]] = []
    if result.skipped:  # most runs skip none: then ops.describe is not imported (start-up: import, convert)
        from keystores.ops.describe import skipped_data

        skipped = skipped_data(result.skipped, "option")
    for item in skipped:
        err(f"skipped '{item['label']}' ({item['subject']}): {item['reason']}")
    show_left_out(result.left_out)
    if as_json:
        emit_json({"schema": 1, "store": dest, "written": result.copied, "skipped": skipped,
                   "left_out": [{"label": label, "reason": reason} for label, reason in result.left_out]})
        return
    count = len(result.copied)
    # cli.render.plural's words, without loading the table module for them (start-up: every convert and import)
    counted = f"{count} {what[0] if count == 1 else what[1]}"
    err(f"{verb} {counted}" + (f" to {dest}" if verb == "wrote" else ": "
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
