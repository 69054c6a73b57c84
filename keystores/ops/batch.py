"""Many files in one call: `import_files(["a.pem", "b.pem", "certs/"], DEST)` and
`convert_files(["certs/"], "out/", dest_type="der")` (the CLI's `import a.pem b.pem certs/ DEST` and
`convert certs/ out/ --dest-type der`).

Labels come from file names: a file holding one entry gives it its name without the extension (`ca1.pem` ->
`ca1`); a file holding several (a CA bundle, a PKCS#12 with two keys) keeps their own labels. Two files giving one
label is refused before anything is written, naming both files. Every source is read before the destination is
touched, and the destination is saved once: if any file fails, the error names it and nothing is written (an
import into one store, and a convert into a folder alike, are all or nothing).
"""

from __future__ import annotations

import os
import sys

from keystores import formats, paths
from keystores.errors import EntryExists, Hint, KeystoreError, StoreExists, UsageError
from keystores.formats import Storage
from keystores.ops.transfer import (
    TransferResult,
    _refuse_unprotected,
    _write_asking,
    check_password_used,
    chosen_entries,
    convert,
    copy_entries,
    destination,
    is_file_folder,
)
from keystores.store import backend_class, normalize_type, open_store, store_exists

TYPE_CHECKING = False
if TYPE_CHECKING:
    from keystores.ops.transfer import Ask, Progress
    from keystores.protocols import KeyStore


def file_extensions() -> dict[str, str]:
    """The file a converted store becomes in a folder, by destination type: each file format we write, named by
    its record's first extension."""
    return {r.name: r.extensions[0] for r in formats.listed()
            if r.storage is Storage.FILE and r.writes and r.extensions}


def _dest_type() -> Hint:
    return Hint(f" (give {{}} as one of {', '.join(file_extensions())})", option="--dest-type", keyword="dest_type")


def expand(locations: list[str]) -> list[str]:
    """Each folder of files replaced by the regular, non-hidden files in it (sorted, not recursive)."""
    files: list[str] = []
    for location in locations:
        if not is_file_folder(location):
            files.append(location)
            continue
        from pathlib import Path  # a folder of files only: one store needs no pathlib (keystores.paths)

        inside = sorted(p for p in Path(location).iterdir() if p.is_file() and not p.name.startswith("."))
        if not inside:
            raise UsageError("the folder holds no files to read", store=location)
        files += [str(p) for p in inside]
    return files


def _label_from_name(path: str) -> str:
    name = paths.name(path)
    suffix = paths.suffix(name)
    stem = name[:-len(suffix)] if suffix else name  # Path(name).stem
    return stem or name


def import_files(sources: list[str], dest: str, *, password: str | None = None, dest_password: str | None = None,
                 type: str | None = None, dest_type: str | None = None, replace: bool = False,
                 profile: str = "modern", progress: Progress | None = None, untrusted: str = "fail",
                 trust_unverified: bool = False, ask: Ask | None = None,
                 skip_unreadable: bool = False) -> TransferResult:
    """Every entry of every file in `sources` (folders expanded) into `dest`, saved once, labelled by file name;
    `untrusted` as copy_entries takes it. A password given is for the sources that use one (PEM files mostly
    do not)."""
    files = expand(sources)
    result = TransferResult()
    opened: list[KeyStore] = []  # each source stays open until the import is written (contextlib's ExitStack
    try:                         # did this; not imported: start-up, keystores.lightweight)
        gathered = backend_class("memory")(f"{len(files)} files", writable=True)
        came_from: dict[str, str] = {}
        for path in files:
            source = open_store(path, password=password, type=type, ask=ask).__enter__()
            opened.append(source)
            result.notes += source.notes
            entries = chosen_entries(source)  # nothing to import in one file is an error naming it
            if len(entries) == 1:
                entries = [entries[0].with_(label=_label_from_name(path))]
            for entry in entries:
                if entry.label in came_from:
                    raise EntryExists(f"both {came_from[entry.label]} and {path} give the label '{entry.label}'",
                                      store=dest, hint=Hint(": rename one of the files, or import it on its own "
                                                            "with {}", option="--label", keyword="new_label"))
                came_from[entry.label] = path
                gathered.add(entry)
        if not any(source.uses_password for source in opened):
            check_password_used(opened[0], password)  # a -p no source uses was meant for the destination
        new = not store_exists(dest)

        def fill(target: KeyStore, secret: str | None) -> list[str]:
            _refuse_unprotected(target, new, secret)
            result.skipped.clear()  # a second try (after the password was asked for) starts afresh
            result.left_out.clear()
            return copy_entries(gathered, target, replace=replace, progress=progress, untrusted=untrusted,
                                skipped=result.skipped, notes=result.notes, trust_unverified=trust_unverified,
                                skip_unreadable=skip_unreadable, left_out=result.left_out)

        with destination(dest, dest_password):
            result.copied, notes = _write_asking(
                lambda pw, asking: open_store(dest, password=pw, type=dest_type, writable=True, create=True,
                                              profile=profile, ask=asking), fill, dest_password, ask, new)
        result.notes += notes
    finally:
        failure = sys.exc_info()
        for source in reversed(opened):
            source.__exit__(*failure)
    return result


def convert_files(sources: list[str], folder: str, *, password: str | None = None,
                  dest_password: str | None = None, type: str | None = None, dest_type: str | None = None,
                  profile: str = "modern", force: bool = False, progress: Progress | None = None,
                  dest_options: dict | None = None, untrusted: str = "fail",
                  trust_unverified: bool = False, ask: Ask | None = None,
                  skip_unreadable: bool = False) -> TransferResult:
    """Each file of `sources` (folders expanded) into `folder` as `<name><extension of dest_type>`.

    Written into a hidden staging folder inside `folder` first and moved into place only when every file
    converted, so a failure leaves `folder` as it was."""
    import shutil
    import tempfile

    from keystores.fileio import TEMP_PREFIX

    if dest_type is None:
        raise UsageError("converting into a folder needs the type of the files to write", store=folder,
                         hint=_dest_type())
    kind = normalize_type(dest_type)
    extensions = file_extensions()
    if kind not in extensions:
        raise UsageError("converting into a folder writes files; a token or NSS database takes the files by "
                         "import instead", store=folder, hint=_dest_type())
    from pathlib import Path

    target = Path(folder)
    files = expand(sources)
    names: dict[str, str] = {}
    for path in files:
        name = _label_from_name(path) + extensions[kind]
        if name in names:
            raise StoreExists(f"both {names[name]} and {path} would be written as {name}: rename one of them",
                              store=folder)
        names[name] = path
    result = TransferResult()
    made = not target.is_dir()  # a folder this command makes goes again if the command fails
    try:
        if made:
            target.mkdir()
        staging = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=target))
    except OSError as exc:
        raise KeystoreError(f"cannot write into this folder ({exc.strerror})", store=folder) from None
    def ours_to_theirs(text: str) -> str:  # the user sees the file that will be written, never our staging folder
        return text.replace(str(staging), str(target))

    try:
        for done, (name, path) in enumerate(names.items(), 1):
            try:
                one = convert(path, str(staging / name), password=password, dest_password=dest_password,
                              type=type, dest_type=kind, profile=profile, dest_options=dest_options,
                              untrusted=untrusted, trust_unverified=trust_unverified, ask=ask,
                              skip_unreadable=skip_unreadable)
            except KeystoreError as exc:
                exc.store = ours_to_theirs(exc.store) if exc.store else exc.store
                raise
            result.notes += [ours_to_theirs(note) for note in one.notes]
            result.skipped += one.skipped
            result.left_out += [(f"{path}: {label}", reason) for label, reason in one.left_out]
            result.copied.append(str(target / name))
            if progress:
                progress(done, len(names))
        written = sorted(os.listdir(staging))  # with a .kdb's .sth and .rdb
        taken = [name for name in written if (target / name).exists()]
        if taken and not force:
            raise StoreExists(f"{', '.join(taken)} already exist(s) there", store=folder,
                              hint=Hint("; use {} to replace them", option="--force", keyword="force=True"))
        for name in written:
            os.replace(staging / name, target / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if made:
            shutil.rmtree(target, ignore_errors=True)
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return result
