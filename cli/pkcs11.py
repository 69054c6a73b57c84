"""Commands that only make sense for pkcs11 stores; generic commands (list, import, ...) live in main.py.

    keystores tokens [--module M] [--json]        the module's tokens: labels, serials, login, key types
    keystores java-config URI --out DIR           a SunPKCS11 config + java.security override for keytool/Java
    keystores init-token URI --so-pin S --pin P   initialise a free token slot (optional PyKCS11, GPL)
"""

import re
from typing import Annotated

import typer

# The unconfigured SunPKCS11 provider sits at index 12 in JDK 9..25's java.security; an override of that index
# configures it instead of adding a second copy.
JAVA_PROVIDER_INDEX = 12


def _safe_name(label: str) -> str:
    """A token label as a SunPKCS11 `name` and a file name: letters, digits, '-', '_' and '.' only."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", label).strip("-.") or "token"


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    from keystores.cli.main import EXIT_CODES_HELP, JsonOpt, ModuleOpt

    @app.command("tokens", epilog=EXIT_CODES_HELP)
    def tokens_cmd(module: ModuleOpt = None, as_json: JsonOpt = False) -> None:
        """List the tokens a PKCS#11 module offers: slot, label, serial, whether a PIN is needed, and the key
        types each can make (from its mechanism list). No PIN is asked."""
        from keystores.cli.main import console, emit_json

        from keystores.backends.pkcs11_token import list_tokens, load_module, resolve_module

        path = resolve_module(None, None, module, store=None)
        infos = list_tokens(load_module(path))
        if as_json:
            emit_json({"schema": 1, "module": path, "tokens": [t.as_json() for t in infos]})
            return
        import sys

        if not sys.stdout.isatty():
            for t in infos:
                print("\t".join([str(t.slot_id), t.label, t.serial, f"{t.manufacturer} {t.model}",
                                 "login" if t.login_required else "no-login",
                                 "initialised" if t.initialized else "uninitialised", ",".join(t.key_types)]))
            return
        from rich.table import Table

        table = Table("slot", "label", "serial", "model", "PIN", "key types")
        for t in infos:
            pin = ("locked" if t.user_pin_locked else "needed" if t.login_required else "not needed") \
                if t.initialized else "(uninitialised)"
            table.add_row(str(t.slot_id), t.label, t.serial, t.model, pin, " ".join(t.key_types))
        console().print(table)

    @app.command("init-token", epilog=EXIT_CODES_HELP)
    def init_token_cmd(
        uri: Annotated[str, typer.Argument(help="pkcs11:token=NEW-LABEL [?module-path=...]")],
        so_pin: Annotated[str | None, typer.Option("--so-pin", help="Security officer PIN. Secret source: "
                                                   "env:VAR, file:PATH, fd:N, stdin, pass:VALUE.",
                                                   show_default=False)] = None,
        pin: Annotated[str | None, typer.Option("--pin", "--password", help="User PIN (the store password "
                                                "from then on). Same sources.", show_default=False)] = None,
        module: ModuleOpt = None,
    ) -> None:
        """Initialise a free (uninitialised) token slot as a new token with the label from the URI, and set its
        SO and user PINs (softhsm2-util --init-token --free). Needs the optional PyKCS11 (GPL):
        pip install 'keystores[admin]'. An existing token is never wiped."""
        import os

        from keystores.cli.main import err, secret_from

        from keystores.backends.pkcs11_admin import init_token
        from keystores.backends.pkcs11_token import resolve_module
        from keystores.backends.pkcs11_uri import Pkcs11Uri
        from keystores.errors import StoreNotFound, UsageError
        from keystores.secrets import prompt_secret

        parsed = Pkcs11Uri.parse(uri)
        if not parsed.token:
            raise UsageError("give the new token's label as pkcs11:token=LABEL")
        path = resolve_module(parsed.module_path, parsed.module_name, module, store=uri)
        if not os.path.exists(path):
            raise StoreNotFound(f"PKCS#11 module {path} does not exist", store=uri)

        def secret(source: str | None, what: str) -> str:
            value = secret_from(source, what)
            if value is None:
                value = prompt_secret(what.capitalize(), confirm=True)
            if not value:
                raise UsageError(f"give the {what} with --{'so-pin' if 'SO' in what else 'pin'} SOURCE")
            return value

        serial = init_token(path, parsed.token, so_pin=secret(so_pin, "SO PIN"), user_pin=secret(pin, "user PIN"),
                            store=uri)
        err(f"initialised token '{parsed.token}' (serial {serial or 'unknown'}) in {path}")

    @app.command("java-config", epilog=EXIT_CODES_HELP)
    def java_config_cmd(
        uri: Annotated[str, typer.Argument(help="pkcs11:token=LABEL (or serial=...) [?module-path=...]")],
        out: Annotated[str, typer.Option("--out", "-o", help="Folder for <token>.cfg and java.security.")],
        module: ModuleOpt = None,
    ) -> None:
        """Write DIR/<token>.cfg (SunPKCS11 configuration) and DIR/java.security (provider override) so keytool
        and Java programs use the token; print the -D options. SunPKCS11 cannot select a token by label, so the
        label is resolved to its slot now: run this again after re-initialising the token."""
        import os
        from pathlib import Path

        from keystores.cli.main import err

        from keystores.backends.pkcs11_token import find_token, load_module, resolve_module
        from keystores.backends.pkcs11_uri import Pkcs11Uri
        from keystores.errors import UsageError
        from keystores.fileio import atomic_write

        parsed = Pkcs11Uri.parse(uri)
        path = os.path.abspath(resolve_module(parsed.module_path, parsed.module_name, module, store=uri))
        token = find_token(load_module(path, store=uri), path, label=parsed.token, serial=parsed.serial,
                           store=uri)
        label = token.label.strip()
        slot = int(token.slot.slot_id)
        folder = Path(out)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--out {out}: cannot make this folder ({exc.strerror})") from exc
        name = _safe_name(label)
        cfg = (folder / f"{name}.cfg").resolve()
        security = (folder / "java.security").resolve()
        if any(c in str(cfg) for c in ' "\\'):
            raise UsageError(f"{cfg}: java.security cannot name a path with spaces, quotes or backslashes; "
                             "choose another --out folder")
        atomic_write(cfg, (
            f"# SunPKCS11 configuration written by `keystores java-config` for {parsed.format(with_module=False)}\n"
            f"# The slot below was resolved from token label '{label}' (serial {_serial(token)}) when this\n"
            "# file was written; slot numbers change when a token is re-initialised: write it again then.\n"
            f"name = {name}\n"
            f"library = {path}\n"
            f"slot = {slot}\n").encode())
        atomic_write(security, (
            "# java.security override written by `keystores java-config`: configures the SunPKCS11 provider\n"
            f"# with {cfg}. Use it with -Djava.security.properties={security}\n"
            f"security.provider.{JAVA_PROVIDER_INDEX}=SunPKCS11 {cfg}\n").encode())
        err(f"wrote {cfg} and {security}")
        err(f"token '{label}' is slot {slot}: resolved from its label now (SunPKCS11 has no label selector); "
            "run java-config again if the token is re-initialised")
        conf = os.environ.get("SOFTHSM2_CONF")
        if conf and "softhsm" in path.lower():
            err(f"Java needs the same SoftHSM configuration: export SOFTHSM2_CONF={conf}")
        print(f"-Djava.security.properties={security} -Djavax.net.ssl.keyStoreType=PKCS11 "
              "-Djavax.net.ssl.keyStore=NONE -Djavax.net.ssl.keyStorePassword=<user PIN>")
        print(f"keytool -J-Djava.security.properties={security} -list -keystore NONE -storetype PKCS11")


def _serial(token: object) -> str:
    serial = getattr(token, "serial", b"")
    return serial.decode("ascii", "replace").strip() if isinstance(serial, bytes) else str(serial)
