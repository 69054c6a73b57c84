"""Format detection and `open_store()` over the format records (keystores/formats.py); the KeyStore protocol
(kept in keystores.protocols, given here on first use).

Everything here that knows a format reads it from its record: names and aliases, extensions, the magic-byte
checks in their sniff order, address prefixes and folders, profiles and options. Backend classes are named there
by dotted path and imported on first use, so `keystores list x.p12` never imports the PKCS#11 or NSS code; a
missing optional dependency becomes an "install X" message.
"""

from __future__ import annotations

import os
import sys

from keystores import formats, paths
from keystores.errors import (
    Hint,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
)
from keystores.formats import FormatRecord, Profile, Storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from keystores.model import Capabilities
    from keystores.protocols import KeyStore as KeyStore


def __getattr__(name: str) -> object:
    """`KeyStore`, the protocol (typing's Protocol), lives in keystores.protocols, imported only when asked for:
    no command needs typing or the protocol at run time (start-up, issue 15)."""
    if name == "KeyStore":
        from keystores.protocols import KeyStore

        return KeyStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def normalize_type(name: str) -> str:
    """The canonical type name for a `type=` spelling (`p12` -> `pkcs12`); UsageError naming the known ones."""
    return formats.get(name).name


def backend_class(name: str) -> Any:
    """Import and return the backend class of the format `name` (or an alias of it)."""
    record = formats.get(name)
    module_name, _, attr = record.opener.partition(":")
    try:
        __import__(module_name)  # importlib.import_module, without importing importlib (start-up)
        module = sys.modules[module_name]
    except ImportError as exc:
        missing = exc.name or module_name
        advice = f"; install it with: {record.install}" if record.install else ""
        from keystores.errors import BackendUnavailable  # made on first use (keystores.errors._MADE_ON_USE)

        raise BackendUnavailable(f"the {name} backend needs the module '{missing}'{advice}") from exc
    return getattr(module, attr)


def backend_status() -> dict[str, str | None]:
    """name -> None when usable, else why not (for `keystores backends`): one line per backend, so a format read
    and written by another's backend (DER by PEM's) and addresses of other stores (`ams:`) are not listed. A
    format with an optional dependency says whether it is installed through its record's `unavailable` (pkcs11:
    python-pkcs11, found without importing it, which is what importing the backend's module told: that module
    imports python-pkcs11 only when a token is opened); the others need only keystores' own dependencies. No
    backend module is imported (importing them all was 3-5x a bare interpreter's start-up: issue 15)."""
    status: dict[str, str | None] = {}
    for record in formats.listed():
        if record.variant_of or record.storage is Storage.INDIRECT:
            continue
        status[record.name] = record.unavailable() if record.unavailable else None
    return status


def type_from_extension(location: str) -> str | None:
    """The format an address names by its prefix (`sql:`, `pkcs11:`) or its file extension, if any."""
    record = formats.by_prefix(location) or formats.by_extension(location)
    return record.name if record else None


def sniff(head: bytes) -> str | None:
    """The format of a file from its first bytes, or None when nothing matches."""
    record = formats.sniff(head)
    return record.name if record else None


def detect(location: str, *, explicit: str | None = None) -> tuple[str, list[str]]:
    """(backend name, notes) for an existing store. The bytes decide; the extension only breaks ties."""
    notes: list[str] = []
    if explicit:
        return normalize_type(explicit), notes
    addressed = formats.by_prefix(location)
    if addressed is not None:
        return addressed.name, notes
    if paths.is_dir(location):
        folder_format = formats.by_folder(location)
        if folder_format is not None:
            return folder_format.name, notes
        kinds = ", ".join(f"{'/'.join(r.folder_files)} ({r.title})" for r in formats.folder_formats())
        raise UnsupportedFormat(f"is a folder without {kinds}, not a store", store=location)
    if not paths.exists(location):
        from keystores.errors import StoreNotFound  # made on first use (keystores.errors._MADE_ON_USE)

        raise StoreNotFound("no such file", store=location)
    from keystores.fileread import _io_error, open_source

    with open_source(paths.normal(location)) as fd:  # as pathlib spells it: "x.p12/" is x.p12
        try:
            head = os.read(fd, 4096)
        except OSError as exc:
            raise _io_error(location, exc, "read") from exc
    by_name = formats.by_prefix(location) or formats.by_extension(location)
    if not head:
        if by_name is not None and by_name.empty_ok:
            return by_name.name, notes  # an empty PEM bundle is a valid, empty store (`keystores create x.pem`)
        raise UnsupportedFormat("file is empty", store=location)
    record = formats.sniff(head)
    if record is None:
        raise UnsupportedFormat(f"not a key store we recognise (not {formats.sniffed_titles()})", store=location)
    found = record.name
    if by_name is not None and by_name.opener != record.opener:  # PEM named .der: one backend reads both
        notes.append(f"{location}: read as {found.upper()} (the content says so), although its name suggests "
                     f"{by_name.name.upper()}")
    return found, notes


def open_store(
    location: str | os.PathLike[str],
    *,
    password: str | None = None,
    type: str | None = None,
    writable: bool = False,
    create: bool = False,
    fresh: bool = False,
    profile: str | Profile = "modern",
    ask: Callable[[str, bool], str | None] | None = None,
    **options: Any,
) -> KeyStore:
    """Open (or, with `create`, make) a store. Use it as a context manager: it saves on success only.

    `create` makes the store when it does not exist; `fresh` (with `create`) starts a file store empty even when
    the file exists, replacing it atomically on save (what `convert(..., force=True)` does); folders and tokens are
    added to instead.
    `profile` ("modern" or "compat", a `Profile`) chooses the algorithms a writer uses; readers accept every
    profile, and a format with one set of algorithms writes it under either (with a note under "compat").
    `options` are those the format's record declares (documented on each backend class), e.g. `module=` for
    pkcs11; any other is a UsageError, as is an unknown profile.
    `ask(location, new)` is called once when the store turns out to need a password and none was given (`new`:
    the store is being made, so the answer sets its password); the store is then opened with the answer, so
    nothing read before is read twice by the caller. It returns None when it cannot ask (no terminal).
    """
    loc = os.fspath(location)
    profile = Profile.parse(profile)
    if ask is not None and password is None:
        try:
            return _open_locked(loc, None, type, writable, create, fresh, profile, options)
        except PasswordRequired:
            answer = ask(loc, create and (fresh or not store_exists(loc)))
            if answer is None:
                raise
            password = answer
    return _open_locked(loc, password, type, writable, create, fresh, profile, options)


def begin_opening(location: str | os.PathLike[str], *, password: str | None = None, create: bool = False,
                  **options: Any) -> None:
    """Start what opening the store at the address `location` will take up, for a caller that knows which store it
    opens (the CLI, as soon as it has read the command line): where the address's format record has a `begin`,
    while the caller imports and reads what it needs first (a token: its module loaded and the token found, on a
    thread of its own; given its PIN as `password`, also logged in to, read-only; with `create`, a store the caller
    will create with `password`: a new NSS database's derivations, a new PKCS#12 file's). The open itself
    (open_store with the same location and `options`) goes on from there; without a `password`, nothing is logged in
    to that the open would not. Raises nothing: what is wrong, the open says."""
    try:
        loc = os.fspath(location)
        # a store to be created is of the format its address names; an existing file's, its bytes say (detect)
        record = formats.by_prefix(loc) or (formats.by_extension(loc) if create else None)
        if record is None or record.begin is None or set(options) - set(record.options):
            return
        record.begin(loc, password=password, writable=create, options=options, ahead=True, create=create)
    except Exception:
        pass


def _open_locked(loc: str, password: str | None, type: str | None, writable: bool, create: bool, fresh: bool,
                 profile: Profile, options: dict[str, Any]) -> KeyStore:
    if (writable or create) and _is_plain_path(loc):
        # Decide "new or existing" under the folder lock the backend will hold too, so two writers creating the
        # same store cannot both believe it is new (the lock is re-entrant within this process).
        from keystores.fileio import folder_lock

        with folder_lock(loc):
            return _open(loc, password, type, writable, create, fresh, profile, options)
    return _open(loc, password, type, writable, create, fresh, profile, options)


def _is_plain_path(location: str) -> bool:
    if formats.by_prefix(location) is not None:
        return False
    return not paths.is_dir(location) and paths.is_dir(paths.parent(location))


def _open(loc: str, password: str | None, type: str | None, writable: bool, create: bool, fresh: bool,
          profile: Profile, options: dict[str, Any]) -> KeyStore:
    exists = store_exists(loc)
    notes: list[str] = []
    if create and (not exists or fresh):
        name = normalize_type(type) if type else type_from_extension(loc)
        if name is None and exists:
            name, notes = detect(loc)
        if name is None:
            raise UsageError(f"cannot tell which type of store to create from '{loc}'",
                             hint=Hint("; give {}", option="--type/--dest-type", keyword="type= or dest_type="))
        new = not exists or formats.get(name).storage not in (Storage.FOLDER, Storage.TOKEN)  # added to
    else:
        name, notes = detect(loc, explicit=type)
        new = False
    record = formats.get(name)
    notes += _checked(record, loc, profile, options, writing=writable or create)
    if record.begin is not None:  # what the backend's open takes up, begun before its import (a token's login, a
        # new NSS database's derivations)
        record.begin(loc, password=password, writable=writable or create, options=options, create=new)
    cls = backend_class(name)
    store: KeyStore = cls.open(loc, password=password, writable=writable or create, create=new,
                               profile=profile, format_name=name, **options)
    store.notes[:0] = notes
    return store


def _checked(record: FormatRecord, loc: str, profile: Profile, options: Mapping[str, Any], *,
             writing: bool) -> list[str]:
    """Refuse options the format does not declare; warn of a weak profile it honours, note one it cannot."""
    if record.storage is not Storage.INDIRECT:  # an address of another store passes them on to that store
        unknown = sorted(set(options) - set(record.options))
        if unknown:
            takes = f" (it takes {', '.join(record.options)})" if record.options else ""
            raise UsageError(f"a {record.title} store takes no option {', '.join(unknown)}{takes}", store=loc)
    if not writing or profile is Profile.MODERN or not record.writes or record.storage is Storage.INDIRECT:
        return []
    if profile not in record.profiles:
        return [f"{loc}: {record.title} has one set of algorithms; the {profile} profile changes nothing"]
    if profile is Profile.COMPAT:
        import warnings

        from keystores.secrets import WeakCryptoWarning

        warnings.warn(f"{loc}: profile compat writes weak algorithms (3DES, SHA-1 MAC) for old Java, Windows and "
                      "macOS; use it only for software that cannot read the modern profile", WeakCryptoWarning,
                      stacklevel=5)
    return []


def options_for(location: str, options: Mapping[str, Any], *, type: str | None = None) -> dict[str, Any]:
    """Those of `options` the format of the store at `location` takes, for commands that open many stores with
    one set of options (audit's `module=` applies to the tokens among them, not to a .p12 beside them)."""
    name, _ = detect(location, explicit=type)
    record = formats.get(name)
    if record.storage is Storage.INDIRECT:  # the store it names takes them or refuses them
        return dict(options)
    return {key: value for key, value in options.items() if key in record.options}


def capabilities_of(location: str, *, type: str | None = None) -> Capabilities:
    """What the format of an existing store can do, from its address and bytes, without opening it (and so
    without its secret): e.g. whether it has a stash or takes a token PIN."""
    name, _ = detect(location, explicit=type)
    return backend_class(name).capabilities


def store_exists(location: str) -> bool:
    """Whether a store is at `location`. An address that names no folder always counts (a token URI: its token is
    checked on open; an `ams:` keystore.conf, whose store is checked on open); a folder format's store exists when
    its first database file does (NSS: cert9.db)."""
    addressed = formats.by_prefix(location)
    if addressed is not None and not addressed.folder_files:
        return True
    try:
        if addressed is not None:
            return paths.exists(paths.join(addressed.folder_path(location), addressed.folder_files[0]))
        if paths.is_dir(location):
            return any(paths.exists(paths.join(location, r.folder_files[0])) for r in formats.folder_formats())
        return paths.exists(location)
    except PermissionError as exc:  # a folder on the way that we may not search
        raise KeystoreError("permission denied", store=location) from exc
