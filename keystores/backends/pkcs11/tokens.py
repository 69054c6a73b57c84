"""Loading a PKCS#11 module and finding a token by label or serial (what a token can do: admin.py).

Shared by the pkcs11 backend and the `keystores tokens` / `java-config` commands. python-pkcs11 is imported here,
never at CLI import time.

A module is loaded (C_Initialize) once per process and kept: initialising it twice is an error for many modules.
SoftHSM fixes its token list at C_Initialize, so when a token is not found and no session of ours is open on the
module, it is re-initialised once and the search repeated (a test that makes a token after the module was loaded
then still finds it).
"""

from __future__ import annotations

import os
from collections import Counter

# StoreNotFound, BackendUnavailable and TokenNotFound are imported where they are raised: keystores.errors makes them
# when first asked for (~10 us each), which a command that finds its module and token never does.
from keystores.errors import Hint, UnsupportedFormat, UsageError, parameter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MODULE_ENV = "KEYSTORES_PKCS11_MODULE"

# Where distributions put PKCS#11 modules; used for module-name= and to suggest modules in error messages.
MODULE_FOLDERS = ("/usr/lib/softhsm", "/usr/lib/x86_64-linux-gnu/softhsm", "/usr/lib/aarch64-linux-gnu/softhsm",
                  "/usr/lib/x86_64-linux-gnu/pkcs11", "/usr/lib/aarch64-linux-gnu/pkcs11", "/usr/lib/pkcs11",
                  "/usr/lib64/pkcs11", "/usr/local/lib/softhsm", "/usr/local/lib/pkcs11", "/usr/lib/x86_64-linux-gnu",
                  "/opt/homebrew/lib/softhsm", "/opt/homebrew/lib")

_LIBS: dict[str, Any] = {}
_OPEN_SESSIONS: Counter[str] = Counter()


def resolve_module(uri_path: str | None, uri_name: str | None, option: str | None, *, store: str | None) -> str:
    """The module file to load: URI `module-path=`, else `module=` option, else $KEYSTORES_PKCS11_MODULE."""
    if uri_path and option and os.path.realpath(uri_path) != os.path.realpath(option):
        raise UsageError(f"the URI names module {uri_path} and the module option names {option}; give one",
                         store=store, hint=parameter("--module", "module="))
    chosen = uri_path or option
    if not chosen and uri_name:
        chosen = _module_by_name(uri_name, store=store)
    chosen = chosen or os.environ.get(MODULE_ENV)
    if not chosen:
        found = candidate_modules()
        hint = f" (modules on this machine: {', '.join(found)})" if found else ""
        raise UsageError(f"no PKCS#11 module given: add ?module-path=/path/to/module.so to the URI, set {MODULE_ENV}"
                         f"{hint}", store=store, hint=Hint(", or pass {}", option="--module", keyword="module="))
    return chosen


def _module_by_name(name: str, *, store: str | None) -> str:
    for folder in MODULE_FOLDERS:
        for file_name in (f"lib{name}.so", f"{name}.so", f"{name}"):
            path = os.path.join(folder, file_name)
            if os.path.isfile(path):
                return path
    from keystores.errors import StoreNotFound

    raise StoreNotFound(f"no PKCS#11 module named '{name}' in {', '.join(MODULE_FOLDERS[:4])} ...; give "
                        "module-path= instead", store=store)


def candidate_modules() -> list[str]:
    """PKCS#11 modules that commonly exist on this machine (for hints only; none is loaded)."""
    import glob
    patterns = ("libsofthsm2.so", "opensc-pkcs11.so", "p11-kit-proxy.so", "libykcs11.so", "libsc-hsm-pkcs11.so")
    found: list[str] = []
    for folder in MODULE_FOLDERS:
        for pattern in patterns:
            for path in glob.glob(os.path.join(folder, pattern)):
                if os.path.realpath(path) not in {os.path.realpath(p) for p in found}:
                    found.append(path)
    return found


def load_module(path: str, *, store: str | None = None) -> Any:
    """The initialised python-pkcs11 `lib` for `path`; StoreNotFound (exit 4) or UnsupportedFormat (exit 1)."""
    real = os.path.realpath(path)
    if real in _LIBS:
        return _LIBS[real]
    check_module(path, store=store)
    return initialise(path, real, store=store)


def check_module(path: str, *, store: str | None = None) -> None:
    """StoreNotFound (exit 4) or UnsupportedFormat (exit 1) where `path` is no file to load."""
    if not os.path.exists(path):
        found = candidate_modules()
        hint = f"; modules on this machine: {', '.join(found)}" if found else ""
        from keystores.errors import StoreNotFound

        raise StoreNotFound(f"PKCS#11 module {path} does not exist{hint}", store=store)
    if os.path.isdir(path):
        raise UnsupportedFormat(f"PKCS#11 module {path} is a folder, not a shared library", store=store)


def initialise(path: str, real: str, *, store: str | None = None) -> Any:
    """python-pkcs11's `lib` for the module at `path` (whose os.path.realpath is `real`), loaded and initialised
    (C_Initialize) and kept; UnsupportedFormat where it is no PKCS#11 module. Calls nothing that lets the GIL go
    before python-pkcs11's dlopen and C_Initialize do (keystores.backends.pkcs11.connecting)."""
    from keystores.backends.pkcs11.library import import_pkcs11

    try:
        pkcs11 = import_pkcs11()
    except ImportError as exc:
        from keystores.errors import BackendUnavailable

        raise BackendUnavailable("PKCS#11 tokens need python-pkcs11, a dependency of keystores missing here: "
                                 "pip install python-pkcs11", store=store) from exc
    try:
        lib = pkcs11.lib(path)
    except pkcs11.PKCS11Error as exc:
        detail = str(exc)
        if "C_GetFunctionList" in detail:
            why = "it has no C_GetFunctionList, so it is not a PKCS#11 module"
        elif "invalid ELF header" in detail or "file too short" in detail:
            why = "it is not a shared library"
        else:
            why = f"it could not be loaded ({type(exc).__name__}: {detail or 'no detail'})"
        raise UnsupportedFormat(f"{path}: {why}", store=store) from exc
    _LIBS[real] = lib
    return lib


def loaded(real: str) -> Any:
    """The `lib` of the module whose os.path.realpath is `real`, if it is loaded already."""
    return _LIBS.get(real)


def session_opened(path: str) -> None:
    _OPEN_SESSIONS[os.path.realpath(path)] += 1


def session_closed(path: str) -> None:
    real = os.path.realpath(path)
    if _OPEN_SESSIONS[real] > 0:
        _OPEN_SESSIONS[real] -= 1


def _serial(token: Any) -> str:
    return token.serial.decode("ascii", "replace").strip() if isinstance(token.serial, bytes) else str(token.serial)


def _describe_tokens(lib: Any) -> str:
    from keystores.backends.pkcs11.admin import token_infos

    shown = [f"'{t.label}' (serial {t.serial})" for t in token_infos(lib) if t.initialized]
    return ", ".join(shown) if shown else "(none initialised)"


def find_token(lib: Any, module_path: str, *, label: str | None, serial: str | None, store: str | None) -> Any:
    """The one token whose label/serial match; TokenNotFound lists the tokens that exist."""
    token = _match_token(lib, label=label, serial=serial, store=store)
    if token is None and _OPEN_SESSIONS[os.path.realpath(module_path)] == 0:
        # SoftHSM (and others) see tokens made after C_Initialize only after a re-initialisation.
        lib.reinitialize()
        token = _match_token(lib, label=label, serial=serial, store=store)
    if token is None:
        from keystores.errors import TokenNotFound

        wanted = " and ".join(f"{k} '{v}'" for k, v in (("label", label), ("serial", serial)) if v)
        raise TokenNotFound(f"no token with {wanted} in {module_path}; tokens: {_describe_tokens(lib)}",
                            store=store)
    return token


def _match_token(lib: Any, *, label: str | None, serial: str | None, store: str | None) -> Any:
    from pkcs11 import PKCS11Error, TokenFlag

    matches = []
    for slot in lib.get_slots(token_present=True):
        try:
            token = slot.get_token()
        except PKCS11Error:
            continue
        if not token.flags & TokenFlag.TOKEN_INITIALIZED:
            continue
        if label is not None and token.label.strip() != label:
            continue
        if serial is not None and _serial(token) != serial:
            continue
        matches.append(token)
    if label is None and serial is None and len(matches) > 1:
        raise UsageError(f"the module has several tokens; choose one with token=LABEL or serial=: "
                         f"{_describe_tokens(lib)}", store=store)
    if len(matches) > 1:
        raise UsageError(f"{len(matches)} tokens have this label; choose one by serial=: {_describe_tokens(lib)}",
                         store=store)
    return matches[0] if matches else None


def describe_error(exc: BaseException) -> str:
    """A PKCS#11 error as CKR-style text (python-pkcs11 exceptions carry the name in their class)."""
    name = type(exc).__name__
    detail = str(exc).strip()
    return f"{name}: {detail}" if detail else name

