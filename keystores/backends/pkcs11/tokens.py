"""Loading a PKCS#11 module, finding a token by label or serial, and reading what the token can do.

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

from keystores.errors import (
    BackendUnavailable,
    Hint,
    StoreNotFound,
    TokenNotFound,
    UnsupportedFormat,
    UsageError,
    parameter,
)
from keystores.frozen import Record

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
    if not os.path.exists(path):
        found = candidate_modules()
        hint = f"; modules on this machine: {', '.join(found)}" if found else ""
        raise StoreNotFound(f"PKCS#11 module {path} does not exist{hint}", store=store)
    if os.path.isdir(path):
        raise UnsupportedFormat(f"PKCS#11 module {path} is a folder, not a shared library", store=store)
    from keystores.backends.pkcs11.library import import_pkcs11

    try:
        pkcs11 = import_pkcs11()
    except ImportError as exc:
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


def session_opened(path: str) -> None:
    _OPEN_SESSIONS[os.path.realpath(path)] += 1


def session_closed(path: str) -> None:
    real = os.path.realpath(path)
    if _OPEN_SESSIONS[real] > 0:
        _OPEN_SESSIONS[real] -= 1


class TokenInfo(Record):
    """What `keystores tokens` shows about one slot's token (a keystores.frozen.Record, not a dataclass: this
    module is on every token command's start-up path, bench/bench_core.py's token rows)."""

    _fields = ("slot_id", "label", "serial", "manufacturer", "model", "initialized", "login_required",
               "user_pin_initialized", "user_pin_locked", "write_protected", "key_types")

    def __init__(self, slot_id: int, label: str, serial: str, manufacturer: str, model: str, initialized: bool,
                 login_required: bool, user_pin_initialized: bool, user_pin_locked: bool, write_protected: bool,
                 key_types: list[str] | None = None) -> None:
        self.slot_id = slot_id
        self.label = label
        self.serial = serial
        self.manufacturer = manufacturer
        self.model = model
        self.initialized = initialized
        self.login_required = login_required
        self.user_pin_initialized = user_pin_initialized
        self.user_pin_locked = user_pin_locked
        self.write_protected = write_protected
        self.key_types: list[str] = [] if key_types is None else key_types

    def as_json(self) -> dict[str, Any]:
        return {"slot": self.slot_id, "label": self.label, "serial": self.serial,
                "manufacturer": self.manufacturer, "model": self.model, "initialized": self.initialized,
                "login_required": self.login_required, "user_pin_initialized": self.user_pin_initialized,
                "user_pin_locked": self.user_pin_locked, "write_protected": self.write_protected,
                "key_types": self.key_types}


def _serial(token: Any) -> str:
    return token.serial.decode("ascii", "replace").strip() if isinstance(token.serial, bytes) else str(token.serial)


def list_tokens(lib: Any) -> list[TokenInfo]:
    """Every slot that has a token; uninitialised tokens are listed too (SoftHSM always has a free one)."""
    from pkcs11 import PKCS11Error, TokenFlag

    infos: list[TokenInfo] = []
    for slot in lib.get_slots(token_present=True):
        try:
            token = slot.get_token()
            flags = token.flags
            mechanisms = slot.get_mechanisms()
        except PKCS11Error:
            continue
        initialized = bool(flags & TokenFlag.TOKEN_INITIALIZED)
        infos.append(TokenInfo(
            slot_id=int(slot.slot_id), label=token.label.strip(), serial=_serial(token),
            manufacturer=token.manufacturer_id.strip(), model=token.model.strip(), initialized=initialized,
            login_required=bool(flags & TokenFlag.LOGIN_REQUIRED),
            user_pin_initialized=bool(flags & TokenFlag.USER_PIN_INITIALIZED),
            user_pin_locked=bool(flags & TokenFlag.USER_PIN_LOCKED),
            write_protected=bool(flags & TokenFlag.WRITE_PROTECTED),
            key_types=key_types(slot, mechanisms) if initialized else []))
    return infos


def _describe_tokens(lib: Any) -> str:
    shown = [f"'{t.label}' (serial {t.serial})" for t in list_tokens(lib) if t.initialized]
    return ", ".join(shown) if shown else "(none initialised)"


def find_token(lib: Any, module_path: str, *, label: str | None, serial: str | None, store: str | None) -> Any:
    """The one token whose label/serial match; TokenNotFound lists the tokens that exist."""
    token = _match_token(lib, label=label, serial=serial, store=store)
    if token is None and _OPEN_SESSIONS[os.path.realpath(module_path)] == 0:
        # SoftHSM (and others) see tokens made after C_Initialize only after a re-initialisation.
        lib.reinitialize()
        token = _match_token(lib, label=label, serial=serial, store=store)
    if token is None:
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


# --- what the token can make and sign with ----------------------------------------------------------------------

def _mechanism_names() -> dict[str, Any]:
    from pkcs11 import Mechanism

    return {"rsa_gen": Mechanism.RSA_PKCS_KEY_PAIR_GEN, "rsa_sign": Mechanism.RSA_PKCS,
            "rsa_sha256": Mechanism.SHA256_RSA_PKCS, "ec_gen": Mechanism.EC_KEY_PAIR_GEN,
            "ecdsa": Mechanism.ECDSA, "ecdsa_sha256": Mechanism.ECDSA_SHA256,
            "ed_gen": Mechanism.EC_EDWARDS_KEY_PAIR_GEN, "eddsa": Mechanism.EDDSA}


def missing_for(spec: Any, slot: Any, mechanisms: set[Any]) -> list[str]:
    """The CKM_ names (or size limits) the token lacks to make and sign with a `spec` key; [] when it can."""
    m = _mechanism_names()
    needs: list[tuple[str, ...]]
    if spec.algorithm == "rsa":
        needs = [("rsa_gen",), ("rsa_sign", "rsa_sha256")]
    elif spec.algorithm == "ec":
        needs = [("ec_gen",), ("ecdsa", "ecdsa_sha256")]
    else:
        needs = [("ed_gen",), ("eddsa",)]
    lacking = []
    for alternatives in needs:
        if not any(m[name] in mechanisms for name in alternatives):
            lacking.append(" or ".join(f"CKM_{m[name].name}" for name in alternatives))
    if lacking:
        return lacking
    from keystores.pki.curves import curve_named

    curve = curve_named(spec.curve) if spec.algorithm == "ec" else None
    bits = spec.size if spec.algorithm == "rsa" else curve.bits if curve is not None else 0
    if bits:
        generator = m["rsa_gen"] if spec.algorithm == "rsa" else m["ec_gen"]
        try:
            info = slot.get_mechanism_info(generator)
            low, high = int(info.min_key_length), int(info.max_key_length)
        except Exception:  # a token without mechanism info: trust the mechanism list
            return []
        if high and not low <= bits <= high:
            return [f"{bits}-bit keys (CKM_{generator.name} makes {low}..{high} bits)"]
    return []


def key_types(slot: Any, mechanisms: set[Any] | None = None) -> list[str]:
    """The key types among rsa:2048/3072/4096, ec:p256/p384/p521, ed25519 that this token can make and use."""
    from keystores.model import KeySpec

    mechanisms = slot.get_mechanisms() if mechanisms is None else mechanisms
    candidates = ("rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384", "ec:p521", "ed25519")
    return [text for text in candidates if not missing_for(KeySpec.parse(text), slot, mechanisms)]


def describe_error(exc: BaseException) -> str:
    """A PKCS#11 error as CKR-style text (python-pkcs11 exceptions carry the name in their class)."""
    name = type(exc).__name__
    detail = str(exc).strip()
    return f"{name}: {detail}" if detail else name

