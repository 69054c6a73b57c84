"""Token administration that is not a store operation: list a module's tokens and what each can make and sign
with (key types, which write.py's generate_key asks too), initialise one, and write the SunPKCS11 configuration that
lets Java use a token. The CLI renders; this decides and writes. Kept off the store's path: a token command that
makes no key loads none of it (bench/bench_core.py's token rows)."""

from __future__ import annotations

import os

from keystores.errors import Hint, StoreNotFound, UsageError, parameter
from keystores.frozen import FrozenValue, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The unconfigured SunPKCS11 provider sits at index 12 in JDK 9..25's java.security; an override of that index
# configures it instead of adding a second copy.
JAVA_PROVIDER_INDEX = 12


# Frozen values, not dataclasses: `keystores tokens` and `java-config` would import dataclasses (and with it
# inspect) for these two classes alone (start-up speed; tests/test_nss_modules_lean.py).
class TokenList(FrozenValue):
    __slots__ = ("module", "tokens")
    _fields = ("module", "tokens")

    def __init__(self, module: str, tokens: list[Any]) -> None:
        object.__setattr__(self, "module", module)
        object.__setattr__(self, "tokens", tokens)  # TokenInfo: slot_id, label, serial, model, key_types


class JavaConfig(FrozenValue):
    __slots__ = ("config", "label", "security", "slot", "softhsm_conf")
    _fields = ("config", "security", "label", "slot", "softhsm_conf")

    def __init__(self, config: str, security: str, label: str, slot: int, softhsm_conf: str | None) -> None:
        object.__setattr__(self, "config", config)
        object.__setattr__(self, "security", security)
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "slot", slot)
        object.__setattr__(self, "softhsm_conf", softhsm_conf)  # SOFTHSM2_CONF Java must see too, for SoftHSM

    @property
    def java_options(self) -> str:
        return (f"-Djava.security.properties={self.security} -Djavax.net.ssl.keyStoreType=PKCS11 "
                "-Djavax.net.ssl.keyStore=NONE -Djavax.net.ssl.keyStorePassword=<user PIN>")

    @property
    def keytool_command(self) -> str:
        return f"keytool -J-Djava.security.properties={self.security} -list -keystore NONE -storetype PKCS11"


class TokenInfo(Record):
    """What `keystores tokens` shows about one slot's token (a keystores.frozen.Record, not a dataclass, as the
    values above)."""

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


def token_infos(lib: Any) -> list[TokenInfo]:
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


def list_tokens(module: str | None) -> TokenList:
    from keystores.backends.pkcs11.tokens import load_module, resolve_module

    path = resolve_module(None, None, module, store=None)
    return TokenList(path, token_infos(load_module(path)))


def init_token(uri: str, module: str | None, *, so_pin: str, user_pin: str) -> tuple[str, str, str | None]:
    """Initialise a free slot as the token the URI names; (label, module path, serial)."""
    from keystores.backends.pkcs11.init_token import init_token as initialise
    from keystores.backends.pkcs11.tokens import resolve_module
    from keystores.backends.pkcs11.uri import Pkcs11Uri

    parsed = Pkcs11Uri.parse(uri)
    if not parsed.token:
        raise UsageError("give the new token's label as pkcs11:token=LABEL")
    path = resolve_module(parsed.module_path, parsed.module_name, module, store=uri)
    if not os.path.exists(path):
        raise StoreNotFound(f"PKCS#11 module {path} does not exist", store=uri)
    serial = initialise(path, parsed.token, so_pin=so_pin, user_pin=user_pin, store=uri)
    return parsed.token, path, serial


_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


def _safe_name(label: str) -> str:
    """A token label as a SunPKCS11 `name` and a file name: letters, digits, '-', '_' and '.' only; each run of
    other characters becomes one '-' (re.sub(r"[^A-Za-z0-9._-]+", "-", label), without importing re)."""
    kept: list[str] = []
    in_run = False
    for character in label:
        if character in _NAME_CHARACTERS:
            kept.append(character)
        elif not in_run:
            kept.append("-")
        in_run = character not in _NAME_CHARACTERS
    return "".join(kept).strip("-.") or "token"


def _serial(token: object) -> str:
    serial = getattr(token, "serial", b"")
    return serial.decode("ascii", "replace").strip() if isinstance(serial, bytes) else str(serial)


def write_java_config(uri: str, out: str, module: str | None) -> JavaConfig:
    """OUT/<token>.cfg and OUT/java.security for SunPKCS11. SunPKCS11 has no token-label selector, so the label is
    resolved to its slot now (the files say so)."""
    # os.path, not pathlib: pathlib imports urllib.parse and ipaddress (~1.5 ms of this command, bench_commands.py)
    from keystores.backends.pkcs11.tokens import find_token, load_module, resolve_module
    from keystores.backends.pkcs11.uri import Pkcs11Uri
    from keystores.fileio import atomic_write
    from keystores.text import printable

    parsed = Pkcs11Uri.parse(uri)
    path = os.path.abspath(resolve_module(parsed.module_path, parsed.module_name, module, store=uri))
    token = find_token(load_module(path, store=uri), path, label=parsed.token, serial=parsed.serial, store=uri)
    label = token.label.strip()
    slot = int(token.slot.slot_id)
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out}: cannot make this folder ({exc.strerror})", hint=parameter("--out", "out")) from exc
    name = _safe_name(label)
    cfg = os.path.realpath(os.path.join(out, f"{name}.cfg"))
    security = os.path.realpath(os.path.join(out, "java.security"))
    for named in (path, cfg, security):
        if printable(named) != named:  # a newline there would add a line of its own to the files below
            raise UsageError(f"{printable(named)}: a path holding control characters cannot be written into a "
                             "SunPKCS11 configuration")
    if any(c in cfg for c in ' "\\'):
        raise UsageError(f"{cfg}: java.security cannot name a path with spaces, quotes or backslashes",
                         hint=Hint("; choose another {} folder", option="--out", keyword="out"))
    atomic_write(cfg, (
        f"# SunPKCS11 configuration written by `keystores java-config` for {parsed.format(with_module=False)}\n"
        # The label and serial are the token's, any bytes at all: escaped, so that they stay inside the comment.
        f"# The slot below was resolved from token label '{printable(label)}' (serial {printable(_serial(token))})"
        " when this\n"
        "# file was written; slot numbers change when a token is re-initialised: write it again then.\n"
        f"name = {name}\n"
        f"library = {path}\n"
        f"slot = {slot}\n").encode())
    atomic_write(security, (
        "# java.security override written by `keystores java-config`: configures the SunPKCS11 provider\n"
        f"# with {cfg}. Use it with -Djava.security.properties={security}\n"
        f"security.provider.{JAVA_PROVIDER_INDEX}=SunPKCS11 {cfg}\n").encode())
    conf = os.environ.get("SOFTHSM2_CONF")
    return JavaConfig(cfg, security, label, slot, conf if conf and "softhsm" in path.lower() else None)


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
