"""The KeyStore protocol, format detection, and `open_store()` over a lazy registry of backends.

Backends are registered by name as dotted-path strings and imported on first use, so `keystores list x.p12`
never imports the PKCS#11 or NSS code; a missing optional dependency becomes an "install X" message.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from keystores.errors import (
    BackendUnavailable,
    KeystoreError,
    PasswordRequired,
    StoreNotFound,
    UnsupportedFormat,
    UsageError,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from keystores.model import Capabilities, Decrypter, Entry, KeyRef, KeySpec, Signer, Trust


@runtime_checkable
class KeyStore(Protocol):
    """What every backend provides. Operations are written once against this and never ask the format."""

    format: str
    location: str
    capabilities: Capabilities
    notes: list[str]  # things the user should be told (format guessed, mapping applied); never secrets
    uses_password: bool  # the password opens or protects something here (False: a PEM without encrypted keys)

    def entries(self) -> Iterator[Entry]: ...
    def __iter__(self) -> Iterator[Entry]: ...  # the same as entries()
    def labels(self) -> list[str]: ...
    def get(self, label: str) -> Entry: ...  # EntryNotFound lists the labels that do exist
    def add(self, entry: Entry, *, replace: bool = False) -> None: ...
    def remove(self, label: str) -> None: ...
    def rename(self, old: str, new: str) -> None: ...
    def generate_key(self, label: str, spec: KeySpec) -> KeyRef: ...  # on the token; CapabilityError elsewhere
    def signer(self, label: str) -> Signer: ...
    def decrypter(self, label: str) -> Decrypter: ...  # RSA key transport, on the token for PKCS#11
    def set_password(self, new_password: str) -> None: ...
    def set_trust(self, label: str, trust: Trust | None) -> None: ...  # CapabilityError where there is no trust
    def save(self) -> None: ...  # atomic; also done by the context manager on success
    def close(self) -> None: ...
    def __enter__(self) -> KeyStore: ...
    def __exit__(self, *exc: object) -> None: ...


# name -> (dotted path, what to install when the import fails)
_REGISTRY: dict[str, tuple[str, str | None]] = {
    "pem": ("keystores.backends.pem:PemStore", None),
    "der": ("keystores.backends.pem:PemStore", None),
    "pkcs12": ("keystores.backends.pkcs12:Pkcs12Store", None),
    "jks": ("keystores.backends.jks:JksStore", None),
    "jceks": ("keystores.backends.jks:JceksStore", None),
    "bks": ("keystores.backends.bks:BksStore", None),
    "uber": ("keystores.backends.bks:UberStore", None),
    "bcfks": ("keystores.backends.bcfks:BcfksStore", None),
    "cms": ("keystores.backends.cms:CmsStore", None),
    "nss": ("keystores.backends.nss:NssStore", None),
    "pkcs11": ("keystores.backends.pkcs11:Pkcs11Store", "pip install python-pkcs11"),
    "memory": ("keystores.backends.memory:MemoryStore", None),
    # `ams:PATH` is no format: it opens the store an IBM MQ AMS keystore.conf names (keystores/ams/conf.py).
    "ams": ("keystores.ams.conf:ConfAddress", None),
}
BACKENDS: Mapping[str, tuple[str, str | None]] = MappingProxyType(_REGISTRY)

TYPE_ALIASES = {"p12": "pkcs12", "pfx": "pkcs12", "pkcs12": "pkcs12", "jks": "jks", "jceks": "jceks",
                "bks": "bks", "uber": "uber", "bcfks": "bcfks",
                "pem": "pem", "crt": "pem", "cer": "pem", "key": "pem", "der": "der", "kdb": "cms", "cms": "cms",
                "nss": "nss", "sql": "nss", "pkcs11": "pkcs11", "hsm": "pkcs11", "memory": "memory",
                "ams": "ams"}

_EXTENSIONS = {".p12": "pkcs12", ".pfx": "pkcs12", ".jks": "jks", ".jceks": "jceks", ".pem": "pem",
               ".crt": "pem", ".cer": "pem", ".key": "pem", ".csr": "pem", ".der": "der", ".kdb": "cms",
               ".ks": "jks", ".keystore": "jks", ".truststore": "jks", ".bks": "bks", ".uber": "uber",
               ".bcfks": "bcfks"}


def normalize_type(name: str) -> str:
    try:
        return TYPE_ALIASES[name.lower().lstrip(".")]
    except KeyError:
        known = ", ".join(sorted(set(TYPE_ALIASES.values()) - {"memory", "ams"}))
        raise UsageError(f"unknown store type '{name}'; known types: {known}") from None


def backend_class(name: str) -> Any:
    """Import and return the backend class registered as `name`."""
    dotted, hint = _REGISTRY[normalize_type(name)]
    module_name, _, attr = dotted.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = exc.name or module_name
        advice = f"; install it with: {hint}" if hint else ""
        raise BackendUnavailable(f"the {name} backend needs the module '{missing}'{advice}") from exc
    return getattr(module, attr)


def backend_status() -> dict[str, str | None]:
    """name -> None when usable, else why not (for `keystores backends`)."""
    status: dict[str, str | None] = {}
    for name in _REGISTRY:
        if name in ("der", "memory", "ams"):
            continue
        try:
            cls = backend_class(name)
            check = getattr(cls, "unavailable_reason", None)
            status[name] = check() if callable(check) else None
        except BackendUnavailable as exc:
            status[name] = exc.reason
    return status


def type_from_extension(location: str) -> str | None:
    if location.startswith("sql:"):
        return "nss"
    if location.startswith("pkcs11:"):
        return "pkcs11"
    if location.startswith("ams:"):
        return "ams"
    return _EXTENSIONS.get(Path(location).suffix.lower())


def sniff(head: bytes) -> str | None:
    """The format of a file from its first bytes, or None when nothing matches."""
    if head[:4] == b"\xfe\xed\xfe\xed":
        return "jks"
    if head[:4] == b"\xce\xce\xce\xce":
        return "jceks"
    if head[:2] == b"\x37\x48" and head[8:15] in (b"X509KEY", b"X509KYP", b"X509CRL"):
        return "cms"
    if head[:1] == b"\x30" and _looks_like_pkcs12(head):
        return "pkcs12"
    if head[:1] == b"\x30" and _looks_like_bcfks(head):
        return "bcfks"
    if head[:8] in (b"\x00\x00\x00\x00\x00\x00\x00\x14", b"\x00\x00\x00\x01\x00\x00\x00\x14",
                    b"\x00\x00\x00\x02\x00\x00\x00\x14"):
        # BKS and UBER: int version 0..2, int salt length 20 (what BC writes). A BKS body starts with an entry type
        # (1..4) or its end marker (0) right after the iteration count; UBER's is encrypted.
        return "bks" if len(head) > 32 and head[32] <= 4 and _bks_body_plausible(head) else "uber"
    stripped = head.lstrip()
    if b"-----BEGIN " in head or stripped.startswith((b"Bag Attributes", b"subject=", b"issuer=")):
        return "pem"
    if head[:1] == b"\x30":
        return "der"
    return None


def _looks_like_pkcs12(head: bytes) -> bool:
    # PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... }
    if len(head) < 8:
        return False
    length_byte = head[1]
    offset = 2 + (length_byte & 0x7F if length_byte & 0x80 else 0)
    return head[offset : offset + 3] == b"\x02\x01\x03"


# A BCFKS file opens SEQUENCE { SEQUENCE { SEQUENCE { OID PBES2 (1.2.840.113549.1.5.13) ... (EncryptedObjectStoreData).
_PBES2_OID = bytes.fromhex("06092a864886f70d01050d")


def _looks_like_bcfks(head: bytes) -> bool:
    from keystores.der import DerError, read

    try:
        _, start, _ = read(head, 0, len(head) + (1 << 31))
        _, start, _ = read(head, start, len(head) + (1 << 31))
        tag, start, _ = read(head, start, len(head) + (1 << 31))
    except (DerError, IndexError):
        return False
    return tag == 0x30 and head[start : start + len(_PBES2_OID)] == _PBES2_OID


def _bks_body_plausible(head: bytes) -> bool:
    """The first BKS entry after the header: type 0..4, an alias, a creation time in ms (before 2109), a chain
    length (small). Random UBER ciphertext passes this with a probability far below one in a million."""
    if head[32] == 0:
        return len(head) == 53  # an empty BKS: end marker and MAC only
    alias_end = 35 + int.from_bytes(head[33:35], "big")
    if alias_end + 12 > len(head):
        return alias_end < 4096
    millis = int.from_bytes(head[alias_end : alias_end + 8], "big")
    chain_length = int.from_bytes(head[alias_end + 8 : alias_end + 12], "big")
    return millis < 1 << 42 and chain_length < 1000


def detect(location: str, *, explicit: str | None = None) -> tuple[str, list[str]]:
    """(backend name, notes) for an existing store. The bytes decide; the extension only breaks ties."""
    notes: list[str] = []
    if explicit:
        return normalize_type(explicit), notes
    if location.startswith("sql:"):
        return "nss", notes
    if location.startswith(("pkcs11:", "ams:")):
        return location.split(":", 1)[0], notes
    path = Path(location)
    if path.is_dir():
        if (path / "cert9.db").exists() or (path / "key4.db").exists():
            return "nss", notes
        raise UnsupportedFormat("is a folder without cert9.db/key4.db, not an NSS database", store=location)
    if not path.exists():
        raise StoreNotFound("no such file", store=location)
    from keystores.fileio import _io_error, open_source

    with open_source(path) as fd:
        try:
            head = os.read(fd, 4096)
        except OSError as exc:
            raise _io_error(path, exc, "read") from exc
    if not head:
        if type_from_extension(location) == "pem":
            return "pem", notes  # an empty PEM bundle is a valid, empty store (`keystores create x.pem` makes one)
        raise UnsupportedFormat("file is empty", store=location)
    found = sniff(head)
    by_name = type_from_extension(location)
    if found is None:
        raise UnsupportedFormat("not a key store we recognise (not PKCS#12, JKS, JCEKS, BKS, UBER, BCFKS, CMS, PEM "
                                "or DER)", store=location)
    if found == "der" and by_name == "pem":
        found = "der"
    elif found in ("pem", "der") and by_name in ("pem", "der"):
        pass
    if by_name and by_name != found and {by_name, found} != {"pem", "der"}:
        notes.append(f"{location}: read as {found.upper()} (the content says so), although its name suggests "
                     f"{by_name.upper()}")
    return found, notes


def open_store(
    location: str | os.PathLike[str],
    *,
    password: str | None = None,
    type: str | None = None,
    writable: bool = False,
    create: bool = False,
    fresh: bool = False,
    profile: str = "modern",
    ask: Callable[[str, bool], str | None] | None = None,
    **options: Any,
) -> KeyStore:
    """Open (or, with `create`, make) a store. Use it as a context manager: it saves on success only.

    `create` makes the store when it does not exist; `fresh` (with `create`) starts a file store empty even when
    the file exists, replacing it atomically on save (`convert --force`); folders and tokens are added to instead.
    `profile` ("modern" or "compat") chooses the algorithms a writer uses; readers accept every profile.
    `options` are backend-specific (documented on each backend class), e.g. `module=` for pkcs11.
    `ask(location, new)` is called once when the store turns out to need a password and none was given (`new`:
    the store is being made, so the answer sets its password); the store is then opened with the answer, so
    nothing read before is read twice by the caller. It returns None when it cannot ask (no terminal).
    """
    loc = os.fspath(location)
    if profile == "compat" and (writable or create):
        import warnings

        from keystores.secrets import WeakCryptoWarning

        warnings.warn(f"{loc}: profile compat writes weak algorithms (3DES, SHA-1 MAC) for old Java, Windows and "
                      "macOS; use it only for software that cannot read the modern profile", WeakCryptoWarning,
                      stacklevel=2)
    if ask is not None and password is None:
        try:
            return _open_locked(loc, None, type, writable, create, fresh, profile, options)
        except PasswordRequired:
            answer = ask(loc, create and (fresh or not store_exists(loc)))
            if answer is None:
                raise
            password = answer
    return _open_locked(loc, password, type, writable, create, fresh, profile, options)


def _open_locked(loc: str, password: str | None, type: str | None, writable: bool, create: bool, fresh: bool,
                 profile: str, options: dict[str, Any]) -> KeyStore:
    if (writable or create) and _is_plain_path(loc):
        # Decide "new or existing" under the folder lock the backend will hold too, so two writers creating the
        # same store cannot both believe it is new (the lock is re-entrant within this process).
        from keystores.fileio import folder_lock

        with folder_lock(loc):
            return _open(loc, password, type, writable, create, fresh, profile, options)
    return _open(loc, password, type, writable, create, fresh, profile, options)


def _is_plain_path(location: str) -> bool:
    if location.startswith(("sql:", "pkcs11:", "ams:")):
        return False
    path = Path(location)
    return not path.is_dir() and path.parent.is_dir()


def _open(loc: str, password: str | None, type: str | None, writable: bool, create: bool, fresh: bool,
          profile: str, options: dict[str, Any]) -> KeyStore:
    exists = store_exists(loc)
    notes: list[str] = []
    if create and (not exists or fresh):
        name = normalize_type(type) if type else type_from_extension(loc)
        if name is None and exists:
            name, notes = detect(loc)
        if name is None:
            raise UsageError(f"cannot tell which type of store to create from '{loc}'; give --type/--dest-type")
        new = not exists or name not in ("nss", "pkcs11")
    else:
        name, notes = detect(loc, explicit=type)
        new = False
    cls = backend_class(name)
    store: KeyStore = cls.open(loc, password=password, writable=writable or create, create=new,
                               profile=profile, format_name=name, **options)
    store.notes[:0] = notes
    return store


def capabilities_of(location: str, *, type: str | None = None) -> Capabilities:
    """What the format of an existing store can do, from its address and bytes, without opening it (and so
    without its secret): e.g. whether it has a stash or takes a token PIN."""
    name, _ = detect(location, explicit=type)
    return backend_class(name).capabilities


def store_exists(location: str) -> bool:
    """Whether a store is at `location` (a token URI always counts: its token is checked on open; so does an
    `ams:` keystore.conf, whose store is checked on open)."""
    if location.startswith(("pkcs11:", "ams:")):
        return True
    try:
        if location.startswith("sql:"):
            return (Path(location[4:]) / "cert9.db").exists()
        path = Path(location)
        if path.is_dir():
            return (path / "cert9.db").exists()
        return path.exists()
    except PermissionError as exc:  # a folder on the way that we may not search
        raise KeystoreError("permission denied", store=location) from exc
