"""keystores: certificates and keys in every store a middleware admin meets.

    import keystores
    password = keystores.secret("env:P12_PW")
    with keystores.open_store("server.p12", password=password) as store:
        for entry in store:
            print(entry.label, entry.kind, entry.certificate.subject.rfc4514_string())
    keystores.convert("server.p12", "server.jks", password=password, dest_password=password)

Everything a script needs is importable from here (`dir(keystores)` lists it): stores (`open_store`), the data
(`Entry`...), the operations (convert, import/export, certreq/sign/receive, validate, audit), secret sources
(`secret`) and every error class. Every operation takes the store it works on first, open or as a location opened
with `password=` (keystores/ops/__init__.py says the whole convention); an error's `hint` names the keyword that
gets past it. Names are imported lazily so that `import keystores` stays cheap.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

_ERRORS = ("ExitCode", "Hint", "Note", "KeystoreError", "UsageError", "WrongPassword", "PasswordRequired", "NotFound",
           "StoreNotFound", "EntryNotFound", "TokenNotFound", "CorruptStore", "IntegrityError", "UnsupportedFormat",
           "EntryExists", "StoreExists", "StoreLocked", "BackendUnavailable", "CapabilityError", "KeyNotExtractable",
           "ChecksFailed", "EntriesRefused")

# public name -> (module, attribute there)
_EXPORTS: dict[str, tuple[str, str]] = {
    "open_store": ("keystores.store", "open_store"),
    "store_exists": ("keystores.store", "store_exists"),
    "KeyStore": ("keystores.store", "KeyStore"),
    "Entry": ("keystores.model", "Entry"),
    "EntryKind": ("keystores.model", "EntryKind"),
    "Trust": ("keystores.model", "Trust"),
    "KeySpec": ("keystores.model", "KeySpec"),
    "secret": ("keystores.secrets", "resolve_secret"),
    "WeakCryptoWarning": ("keystores.secrets", "WeakCryptoWarning"),
    "VisibleSecretWarning": ("keystores.secrets", "VisibleSecretWarning"),
    "convert": ("keystores.ops.transfer", "convert"),
    "import_entries": ("keystores.ops.transfer", "import_entries"),
    "import_pem_parts": ("keystores.ops.transfer", "import_pem_parts"),
    "export_entry": ("keystores.ops.transfer", "export_entry"),
    "copy_entries": ("keystores.ops.transfer", "copy_entries"),
    "selfsign": ("keystores.ops.lifecycle", "selfsign"),
    "certreq": ("keystores.ops.lifecycle", "certreq"),
    "sign": ("keystores.ops.lifecycle", "sign"),
    "receive": ("keystores.ops.lifecycle", "receive"),
    "validate": ("keystores.ops.validate", "validate"),
    "audit": ("keystores.ops.audit", "audit"),
    "load_certificates": ("keystores.ops.lifecycle", "load_certificates"),
    "load_request": ("keystores.ops.lifecycle", "load_request"),
    "entry_data": ("keystores.ops.describe", "entry_data"),
    **{name: ("keystores.errors", name) for name in _ERRORS},
}

if TYPE_CHECKING:
    from keystores.errors import (
        BackendUnavailable,
        CapabilityError,
        ChecksFailed,
        CorruptStore,
        EntriesRefused,
        EntryExists,
        EntryNotFound,
        ExitCode,
        Hint,
        IntegrityError,
        KeyNotExtractable,
        KeystoreError,
        Note,
        NotFound,
        PasswordRequired,
        StoreExists,
        StoreLocked,
        StoreNotFound,
        TokenNotFound,
        UnsupportedFormat,
        UsageError,
        WrongPassword,
    )
    from keystores.model import Entry, EntryKind, KeySpec, Trust
    from keystores.ops.audit import audit
    from keystores.ops.describe import entry_data
    from keystores.ops.lifecycle import certreq, load_certificates, load_request, receive, selfsign, sign
    from keystores.ops.transfer import convert, copy_entries, export_entry, import_entries, import_pem_parts
    from keystores.ops.validate import validate
    from keystores.secrets import VisibleSecretWarning, WeakCryptoWarning
    from keystores.secrets import resolve_secret as secret
    from keystores.store import KeyStore, open_store, store_exists

__all__ = [
    "BackendUnavailable", "CapabilityError", "ChecksFailed", "CorruptStore", "EntriesRefused", "Entry",
    "EntryExists", "EntryKind", "EntryNotFound", "ExitCode", "Hint", "IntegrityError", "KeyNotExtractable",
    "KeySpec", "KeyStore", "KeystoreError", "NotFound", "Note", "PasswordRequired", "StoreExists", "StoreLocked",
    "StoreNotFound", "TokenNotFound", "Trust", "UnsupportedFormat", "UsageError", "VisibleSecretWarning",
    "WeakCryptoWarning", "WrongPassword", "audit", "certreq", "convert", "copy_entries", "entry_data",
    "export_entry", "import_entries", "import_pem_parts", "load_certificates", "load_request", "open_store",
    "receive", "secret", "selfsign", "sign", "store_exists", "validate"
]  # the names of _EXPORTS (tests/test_api.py keeps the two equal)


def __getattr__(name: str) -> Any:
    found = _EXPORTS.get(name)
    if found is None:
        raise AttributeError(f"module 'keystores' has no attribute '{name}'")
    value = getattr(__import__(found[0], fromlist=[found[1]]), found[1])
    globals()[name] = value  # the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    """The API and the module's own dunders; not the helpers this file imports (TYPE_CHECKING, Any...)."""
    return sorted({*__all__, *(name for name in globals() if name.startswith("__"))})
