"""Token administration that is not a store operation: list a module's tokens, initialise one, and write the
SunPKCS11 configuration that lets Java use a token. The CLI renders; this decides and writes."""

from __future__ import annotations

import os

from keystores.errors import Hint, StoreNotFound, UsageError, parameter
from keystores.frozen import FrozenValue

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
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
        object.__setattr__(self, "tokens", tokens)  # tokens.TokenInfo: slot_id, label, serial, model, key_types


class JavaConfig(FrozenValue):
    __slots__ = ("config", "label", "security", "slot", "softhsm_conf")
    _fields = ("config", "security", "label", "slot", "softhsm_conf")

    def __init__(self, config: Path, security: Path, label: str, slot: int, softhsm_conf: str | None) -> None:
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


def list_tokens(module: str | None) -> TokenList:
    from keystores.backends.pkcs11.tokens import list_tokens as tokens_of
    from keystores.backends.pkcs11.tokens import load_module, resolve_module

    path = resolve_module(None, None, module, store=None)
    return TokenList(path, tokens_of(load_module(path)))


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
    from pathlib import Path

    from keystores.backends.pkcs11.tokens import find_token, load_module, resolve_module
    from keystores.backends.pkcs11.uri import Pkcs11Uri
    from keystores.fileio import atomic_write
    from keystores.text import printable

    parsed = Pkcs11Uri.parse(uri)
    path = os.path.abspath(resolve_module(parsed.module_path, parsed.module_name, module, store=uri))
    token = find_token(load_module(path, store=uri), path, label=parsed.token, serial=parsed.serial, store=uri)
    label = token.label.strip()
    slot = int(token.slot.slot_id)
    folder = Path(out)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{out}: cannot make this folder ({exc.strerror})", hint=parameter("--out", "out")) from exc
    name = _safe_name(label)
    cfg = (folder / f"{name}.cfg").resolve()
    security = (folder / "java.security").resolve()
    for named in (path, str(cfg), str(security)):
        if printable(named) != named:  # a newline there would add a line of its own to the files below
            raise UsageError(f"{printable(named)}: a path holding control characters cannot be written into a "
                             "SunPKCS11 configuration")
    if any(c in str(cfg) for c in ' "\\'):
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
