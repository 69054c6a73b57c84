"""What makes a format a format, declared once per backend: the `FormatRecord`.

Each backend package declares its records in `keystores/backends/<format>/format.py` (`RECORDS = (...)`); an
address that opens another format's store declares its own beside its code (`keystores/ams/format.py` for `ams:`).
They are found by looking for those files (one folder listing per package, no registration list to forget), and
everything that knows formats reads them: detection and its sniff order, `--type` spellings and help text, the
extensions a new store's name implies, address prefixes (`sql:`, `pkcs11:`), folders and companion files,
`keystores backends`, profile and option checks in `open_store`, and the tests' tables of formats.

Detection reads every record module, so they stay tiny: a record module imports nothing but this module (and the
standard library), and its package's `__init__` imports nothing heavy either (`keystores list x.p12` must not load
the NSS or PKCS#11 code; tests/test_formats.py checks it). A record module is loaded from its file without its
package (`_RecordModules`), which is imported, as always before its module, when something imports the module by
name. The backend class itself is named by a dotted path and imported on first use
(keystores.store.backend_class).

Adding a format: the README, "Design" -> "Adding a format".
"""

from __future__ import annotations

import os
import sys
from _thread import allocate_lock

from keystores import paths
from keystores.errors import UsageError
from keystores.frozen import FrozenValue
from keystores.named import NamedStr

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from pathlib import Path
    from typing import Any


class Profile(NamedStr):
    """The algorithms a writer uses. Readers accept every profile; a format lists the ones whose writes differ."""

    MODERN = "modern"  # the strongest the format has that current programs read
    COMPAT = "compat"  # 3DES and SHA-1 for old Java, Windows and macOS (weak; warns)

    @classmethod
    def parse(cls, value: str | Profile) -> Profile:
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(profile.value for profile in cls)
            raise UsageError(f"unknown write profile '{value}'; profiles are {names}") from None


class Storage(NamedStr):
    """Where a store of the format lives: what `exists`, locking and the test tables go by."""

    FILE = "file"  # one file (with companions such as a .kdb's .sth/.rdb/.crl)
    FOLDER = "folder"  # a folder of database files (NSS)
    TOKEN = "token"  # a device reached through an address (PKCS#11): it exists when it answers, and is added to
    INDIRECT = "indirect"  # an address naming another store (ams:PATH, a keystore.conf)
    MEMORY = "memory"  # the Python API's and tests' store that lives in memory only


class FormatRecord(FrozenValue):
    """One format (or one address form) as everything above its backend knows it. Frozen; equal when every field
    is (keystores.frozen: a plain class rather than a dataclass, for start-up)."""

    name: str  # the canonical type name: `type=`/`--type` value, Entry/KeyStore.format, JSON
    title: str  # as people write it in messages: "PKCS#12"
    opener: str  # "module:Class" whose classmethod open() opens a store; imported on first use
    storage: Storage  # FILE by default
    aliases: tuple[str, ...]  # other `type=`/`--type` spellings ("p12", "pfx")
    extensions: tuple[str, ...]  # lower case with the dot; the first is what a new store of the format is named
    #: whether the first bytes of a file are this format: cheap, no backend import, no exceptions
    sniff: Callable[[bytes], bool] | None
    #: lower is tried first; formats whose checks could both match a file get different ranks (DER, the
    #: catch-all for a leading SEQUENCE, comes last)
    sniff_rank: int
    empty_ok: bool  # an empty file is an empty store of this format (a PEM bundle)
    prefix: str | None  # the address prefix: "sql:", "pkcs11:", "ams:"
    #: files that make a folder a store of this format; the first one's presence is what makes the store exist
    folder_files: tuple[str, ...]
    companions: tuple[str, ...]  # suffixes of files beside the store that belong to it (".sth", ".rdb")
    profiles: tuple[Profile, ...]  # the write profiles whose writes differ (default: modern); () writes nothing
    options: tuple[str, ...]  # keyword options open_store passes on to the opener
    install: str | None  # what to install when the opener's import fails
    unavailable: Callable[[], str | None] | None  # why the format cannot be used here, or None
    #: called by open_store once it knows the format, before the backend's import, with the open's location and
    #: keywords (password=, writable=, options=, create=: the open makes a new store): starts what the backend's
    #: open takes up (a token's login, on a thread of its own while the backend is imported; a new NSS database's
    #: derivations); raises nothing. Called with ahead=True by store.begin_opening, before the caller knows the
    #: password or mode: what needs neither (a token found), or, given them, what they allow
    begin: Callable[..., None] | None
    variant_of: str | None  # another record's name whose backend reads and writes this one (DER: PEM)
    listed: bool  # in --type choices, help text and `keystores backends` (not: the in-memory store)
    #: where the test tables put a store of this format; "{}" is a folder (default: "{}/store" + first extension)
    test_address: str
    _fields = ("name", "title", "opener", "storage", "aliases", "extensions", "sniff", "sniff_rank", "empty_ok",
               "prefix", "folder_files", "companions", "profiles", "options", "install", "unavailable", "begin",
               "variant_of", "listed", "test_address")

    def __init__(self, name: str, title: str, opener: str, storage: Storage = Storage.FILE,
                 aliases: tuple[str, ...] = (), extensions: tuple[str, ...] = (),
                 sniff: Callable[[bytes], bool] | None = None, sniff_rank: int = 0, empty_ok: bool = False,
                 prefix: str | None = None, folder_files: tuple[str, ...] = (), companions: tuple[str, ...] = (),
                 profiles: tuple[Profile, ...] = (Profile.MODERN,), options: tuple[str, ...] = (),
                 install: str | None = None, unavailable: Callable[[], str | None] | None = None,
                 begin: Callable[..., None] | None = None,
                 variant_of: str | None = None, listed: bool = True, test_address: str = "") -> None:
        given = locals()
        for field in self._fields:
            object.__setattr__(self, field, given[field])

    @property
    def writes(self) -> bool:
        return bool(self.profiles)

    @property
    def spellings(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def address_in(self, folder: Path | str) -> str:
        """A store of this format in `folder`, as the test tables name it."""
        return (self.test_address or "{}/store" + self.extensions[0]).format(folder)

    def folder_of(self, location: str) -> Path:
        """The folder named by a folder-format address (`sql:DIR` or `DIR`), as a Path."""
        from pathlib import Path

        return Path(self.folder_path(location))

    def folder_path(self, location: str) -> str:
        """The folder named by a folder-format address, as `str(folder_of(location))` spells it (no pathlib)."""
        return paths.normal(location.removeprefix(self.prefix or ""))


# --- the records --------------------------------------------------------------------------------------------------
# Packages holding a record module, searched in this order: each format's own package, then addresses that open
# another format's store.
_HOMES = ("keystores.backends", "keystores")
_added: list[FormatRecord] = []  # records registered at run time (register()): a test's throw-away format
_found: tuple[FormatRecord, ...] | None = None
_discovering = allocate_lock()  # two threads asking first make one set of record modules


def _discover() -> tuple[FormatRecord, ...]:
    """The RECORDS of every `<home>/<package>/format.py`, packages in name order.

    Found by file name rather than listed: a list of record modules would be one more place to edit for a new
    format, and forgetting it fails silently (the format is simply never detected). Entry points would need a
    reinstall before a new in-tree format is seen and read every installed distribution's metadata on each run;
    a folder listing per home costs microseconds. register() is the door for formats from elsewhere."""
    found: list[FormatRecord] = []
    alone = _RecordModules()
    for home in _HOMES:
        package = _module(home)
        for folder in package.__path__:
            with os.scandir(folder) as entries:
                names = sorted(e.name for e in entries if e.is_dir() and os.path.isfile(os.path.join(e.path,
                                                                                                     "format.py")))
            for name in names:
                module_name = f"{home}.{name}.format"
                if module_name in sys.modules or f"{home}.{name}" in sys.modules:  # its package is imported
                    found.extend(_module(module_name).RECORDS)
                else:
                    found.extend(alone.load(module_name, os.path.join(folder, name, "format.py")).RECORDS)
    alone.hand_over()
    return tuple(found)


class _RecordModules:
    """Record modules loaded from their files without their packages, and the import system's finder and loader
    that hands each over when something imports it by name (its package is imported first then, as for any module).

    A speed device (issue 15, a user install): importing a record module imports its package first, and those
    packages are what a run does not need: `keystores list x.p12` imports PKCS#12's alone. Loading the 10 record
    files alone halves detection's cost (~2.2 -> ~1.0 ms a run, ~4% of `keystores list one.p12`; the import
    system's own work for their 10 packages and a finder per package folder). Each module is made once and is the
    one an import by name gets (tests/test_formats.py), so `formats.records()` and the module's RECORDS are the
    same objects. The finder stands first in sys.meta_path while a module waits (a dictionary look-up per
    import) and leaves when none does."""

    def __init__(self) -> None:
        self._waiting: dict[str, Any] = {}

    def load(self, name: str, path: str) -> Any:
        """The module `name` run from the file at `path` (its cached bytecode where current, as any import reads
        it): the file's own SourceFileLoader gets the code, which runs in a plain module object. No module spec
        is made for it until something imports it by name (find_spec): importlib.util's spec_from_file_location
        and module_from_spec cost ~17 us a module, a third of loading one (~0.17 ms of every command that opens a
        store)."""
        loader = _loader_found(name, path)
        if loader is None:
            source_file_loader, _ = _import_system()
            loader = source_file_loader(name, path)
        module = type(sys)(name)
        module.__file__, module.__loader__, module.__package__ = path, loader, name.rpartition(".")[0]
        exec(loader.get_code(name), module.__dict__)  # what the loader's exec_module does
        self._waiting[name] = module
        return module

    def hand_over(self) -> None:
        """Stand in sys.meta_path while a module waits for its import by name."""
        if self._waiting:
            sys.meta_path.insert(0, self)  # type: ignore[arg-type]

    # The finder and loader protocol (importlib.abc.MetaPathFinder and Loader), for the waiting modules only.
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        module = self._waiting.get(name)
        if module is None:
            return None
        _, spec_from_file_location = _import_system()
        # The import system asks this for the module; exec_module gives the spec back the module's own loader.
        return spec_from_file_location(name, module.__file__, loader=self)

    def create_module(self, spec: Any) -> Any:
        module = self._waiting.pop(spec.name)
        if not self._waiting:
            sys.meta_path.remove(self)  # type: ignore[arg-type]
        return module

    def exec_module(self, module: Any) -> None:
        """Nothing to run: the module ran when it was loaded."""
        module.__spec__.loader = module.__loader__


def _loader_found(name: str, path: str) -> Any:
    """The loader the finders of sys.meta_path give for the module `name` at `path`, asked with its folder as the
    search path (so its package is not imported), or None. In the CLI that is keystores.cli.module_finder's, which
    has read the module's cached bytecode as it checked it: its get_code costs a third of SourceFileLoader's, which
    works the cache file's name out, stats the source again and reads through the io module (~25 us of ~40 a record
    module, 10 of them in every command that opens a store: start-up, issue 15). Elsewhere the path finder answers,
    with the SourceFileLoader it would have used."""
    folder = path.rpartition(os.sep)[0]
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec(name, [folder]) if find_spec is not None else None
        if spec is not None:
            loader = spec.loader
            return loader if spec.origin == path and hasattr(loader, "get_code") else None
    return None


def _import_system() -> tuple[Any, Any]:
    """importlib.machinery.SourceFileLoader and importlib.util.spec_from_file_location: the import system's own
    classes and functions, which those modules re-export (importing importlib.util imports functools, collections
    and more)."""
    try:
        external = sys.modules["_frozen_importlib_external"]
    except KeyError:  # an interpreter whose import system is not these
        import importlib.machinery
        import importlib.util

        return importlib.machinery.SourceFileLoader, importlib.util.spec_from_file_location
    return external.SourceFileLoader, external.spec_from_file_location


def _module(name: str) -> Any:
    """importlib.import_module(name) for an absolute name, without importing importlib (start-up, issue 15)."""
    __import__(name)
    return sys.modules[name]


def records() -> tuple[FormatRecord, ...]:
    """Every record: the declared ones, then those registered at run time."""
    global _found
    if _found is None:
        with _discovering:
            if _found is None:
                _found = _discover()
    return (*_found, *_added)


def register(record: FormatRecord) -> Callable[[], None]:
    """Add a format at run time (a plug-in, or a test's throw-away format); returns the function that removes it."""
    if any(name in by_spelling() for name in record.spellings):
        raise ValueError(f"format name '{record.name}' or one of its aliases is taken")
    _added.append(record)
    return lambda: _added.remove(record)


def by_spelling() -> Mapping[str, FormatRecord]:
    """Every `type=`/`--type` spelling (names and aliases, lower case) -> its record."""
    return {spelling: record for record in records() for spelling in record.spellings}


def get(name: str) -> FormatRecord:
    """The record for a type name or alias (`p12`, `.pfx`, `PKCS12`); UsageError listing the known ones."""
    record = by_spelling().get(name.lower().lstrip("."))
    if record is None:
        known = ", ".join(sorted(r.name for r in listed() if r.storage is not Storage.INDIRECT))
        raise UsageError(f"unknown store type '{name}'; known types: {known}")
    return record


def listed() -> Iterator[FormatRecord]:
    """The records a user sees: --type choices, help text, `keystores backends`."""
    return (record for record in records() if record.listed)


def type_choices() -> list[str]:
    """Every --type spelling a user may write (what the shell completes)."""
    return sorted(spelling for record in listed() for spelling in record.spellings)


def type_help() -> str:
    """The --type values for help text: each format's name, aliases in parentheses."""
    return ", ".join(record.name + (f" ({'/'.join(record.aliases)})" if record.aliases else "")
                     for record in listed() if record.storage is not Storage.INDIRECT)


def by_prefix(location: str) -> FormatRecord | None:
    """The record whose address prefix `location` starts with (`sql:DIR` -> NSS)."""
    return next((r for r in records() if r.prefix and location.startswith(r.prefix)), None)


def by_extension(location: str) -> FormatRecord | None:
    suffix = paths.suffix(location).lower()
    return next((r for r in records() if suffix in r.extensions), None) if suffix else None


def by_folder(folder: str | os.PathLike[str]) -> FormatRecord | None:
    """The folder format whose files are in `folder` (a folder holding cert9.db is an NSS database)."""
    return next((r for r in records() if any(paths.exists(paths.join(folder, name)) for name in r.folder_files)),
                None)


def folder_formats() -> list[FormatRecord]:
    return [r for r in records() if r.folder_files]


def sniff(head: bytes) -> FormatRecord | None:
    """The format of a file from its first bytes (up to 4096), tried in sniff order; None when nothing matches."""
    ordered = sorted((r for r in records() if r.sniff is not None), key=lambda r: r.sniff_rank)
    return next((r for r in ordered if r.sniff(head)), None)  # type: ignore[misc]


def sniffed_titles() -> str:
    """The formats detection recognises from bytes, for the message when none matches: "PKCS#12, JKS ... or DER"."""
    ordered = sorted((r for r in records() if r.sniff is not None), key=lambda r: r.sniff_rank)
    titles = [r.title for r in ordered]
    return ", ".join(titles[:-1]) + " or " + titles[-1] if len(titles) > 1 else "".join(titles)


def file_formats() -> list[FormatRecord]:
    """The stores the hardening tests make and damage: local files and folders we write, one per backend."""
    return [r for r in records() if r.storage in (Storage.FILE, Storage.FOLDER) and r.writes and not r.variant_of]


def naming_help() -> str:
    """How a new store's name says its type, for help text: ".p12 .jks ... .kdb, sql:DIR, pkcs11:URI"."""
    named = [r for r in listed() if r.writes and r.storage is not Storage.INDIRECT]
    extensions = " ".join(r.extensions[0] for r in named if r.extensions)
    prefixes = ", ".join(f"{r.prefix}{'DIR' if r.folder_files else 'URI'}" for r in named if r.prefix)
    return f"{extensions}, {prefixes}" if prefixes else extensions


def lazy_classes(package: str, **modules: str) -> Callable[[str], Any]:
    """A backend package's module `__getattr__` (PEP 562) that imports its classes on first use, e.g.
    `__getattr__ = lazy_classes(__name__, NssStore="store")`: importing the package for its record (format.py)
    then loads no backend code, and `from keystores.backends.nss import NssStore` still works."""

    def __getattr__(name: str) -> Any:
        if name not in modules:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(_module(f"{package}.{modules[name]}"), name)

    return __getattr__
