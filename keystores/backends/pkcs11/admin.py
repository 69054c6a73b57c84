"""Token administration that is not a store operation: list a module's tokens, initialise one, and write the
SunPKCS11 configuration that lets Java use a token. The CLI renders; this decides and writes."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keystores.errors import Hint, StoreNotFound, UsageError, parameter

# The unconfigured SunPKCS11 provider sits at index 12 in JDK 9..25's java.security; an override of that index
# configures it instead of adding a second copy.
JAVA_PROVIDER_INDEX = 12


@dataclass(frozen=True)
class TokenList:
    module: str
    tokens: list[Any]  # tokens.TokenInfo: slot_id, label, serial, model, key_types, as_json()


@dataclass(frozen=True)
class JavaConfig:
    config: Path
    security: Path
    label: str
    slot: int
    softhsm_conf: str | None  # SOFTHSM2_CONF Java must see too, when the module is SoftHSM

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


def _safe_name(label: str) -> str:
    """A token label as a SunPKCS11 `name` and a file name: letters, digits, '-', '_' and '.' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "token"


def _serial(token: object) -> str:
    serial = getattr(token, "serial", b"")
    return serial.decode("ascii", "replace").strip() if isinstance(serial, bytes) else str(serial)


def write_java_config(uri: str, out: str, module: str | None) -> JavaConfig:
    """OUT/<token>.cfg and OUT/java.security for SunPKCS11. SunPKCS11 has no token-label selector, so the label is
    resolved to its slot now (the files say so)."""
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
