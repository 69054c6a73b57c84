"""Commands that only make sense for pkcs11 stores; generic commands (list, import, ...) live in
stores.py and transfer.py.

    keystores tokens [--module M] [--json]        the module's tokens: labels, serials, login, key types
    keystores java-config URI --out DIR           a SunPKCS11 config + java.security override for keytool/Java
    keystores init-token URI --so-pin S --pin P   initialise a free token slot (optional PyKCS11, GPL)
"""

from __future__ import annotations

from keystores.cli.options import Annotated, Argument, JsonOpt, ModuleOpt, Option


def tokens_cmd(module: ModuleOpt = None, as_json: JsonOpt = False) -> None:
    """List the tokens a PKCS#11 module offers: slot (in hex, as pkcs11-tool -L shows it), label, serial,
    whether a PIN is needed, and the key types each can make (from its mechanism list). No PIN is asked."""
    from keystores.cli.common import emit_json
    from keystores.cli.terminal import print_columns

    from keystores.backends.pkcs11.admin import list_tokens

    found = list_tokens(module)
    infos = found.tokens
    if as_json:
        emit_json({"schema": 1, "module": found.module, "tokens": [t.as_json() for t in infos]})
        return
    import sys

    if not sys.stdout.isatty():
        from keystores.cli.render import tsv

        tsv([[f"0x{t.slot_id:x}", t.label, t.serial, f"{t.manufacturer} {t.model}",
              "login" if t.login_required else "no-login", "initialised" if t.initialized else "uninitialised",
              ",".join(t.key_types)] for t in infos])
        return
    rows = []
    for t in infos:
        pin = ("locked" if t.user_pin_locked else "needed" if t.login_required else "not needed") \
            if t.initialized else "(uninitialised)"
        rows.append([f"0x{t.slot_id:x}", t.label, t.serial, t.model, pin, " ".join(t.key_types)])
    print_columns(None, ["slot", "label", "serial", "model", "PIN", "key types"], rows)


# Each command's parameters are named before it: cli.quick_parse looks a name up where it compiles an inline
# annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_InitTokenUri = Annotated[str, Argument(help="pkcs11:token=NEW-LABEL [?module-path=...]")]
_InitTokenSoPin = Annotated[str | None, Option("--so-pin", help="Security officer PIN. Secret source: "
                                                     "env:VAR, file:PATH, fd:N, stdin, pass:VALUE.",
                                                     show_default=False)]
_InitTokenPin = Annotated[str | None, Option("--pin", "--password", help="User PIN (the store password "
                                                   "from then on). Same sources.", show_default=False)]


def init_token_cmd(
    uri: _InitTokenUri,
    so_pin: _InitTokenSoPin = None,
    pin: _InitTokenPin = None,
    module: ModuleOpt = None,
) -> None:
    """Initialise a free (uninitialised) token slot as a new token with the label from the URI, and set its
    SO and user PINs (softhsm2-util --init-token --free). Needs the optional PyKCS11 (GPL):
    pip install 'keystores[admin]'. An existing token is never wiped."""
    from keystores.cli.common import err, secret_from

    from keystores.backends.pkcs11.admin import init_token
    from keystores.errors import UsageError
    from keystores.secrets import prompt_secret

    def secret(source: str | None, what: str) -> str:
        value = secret_from(source, what)
        if value is None:
            value = prompt_secret(f"{what[0].upper()}{what[1:]} for {uri.split('?', 1)[0]}", confirm=True)
        if not value:
            raise UsageError(f"give the {what} with --{'so-pin' if 'SO' in what else 'pin'} SOURCE")
        return value

    label, path, serial = init_token(uri, module, so_pin=secret(so_pin, "SO PIN"),
                                     user_pin=secret(pin, "user PIN"))
    err(f"initialised token '{label}' (serial {serial or 'unknown'}) in {path}")


_JavaConfigUri = Annotated[str, Argument(help="pkcs11:token=LABEL (or serial=...) [?module-path=...]")]
_JavaConfigOut = Annotated[str, Option("--out", "-o", help="Folder for <token>.cfg and java.security.")]


def java_config_cmd(
    uri: _JavaConfigUri,
    out: _JavaConfigOut,
    module: ModuleOpt = None,
) -> None:
    """Write DIR/<token>.cfg (SunPKCS11 configuration) and DIR/java.security (provider override) so keytool
    and Java programs use the token; print the -D options. SunPKCS11 cannot select a token by label, so the
    label is resolved to its slot now: run this again after re-initialising the token."""
    from keystores.cli.common import err

    from keystores.backends.pkcs11.admin import write_java_config

    written = write_java_config(uri, out, module)
    err(f"wrote {written.config} and {written.security}")
    err(f"token '{written.label}' is slot {written.slot}: resolved from its label now (SunPKCS11 has no label "
        "selector); run java-config again if the token is re-initialised")
    if written.softhsm_conf:
        err(f"Java needs the same SoftHSM configuration: export SOFTHSM2_CONF={written.softhsm_conf}")
    print(written.java_options)
    print(written.keytool_command)
