"""Help that says what each value is: metavars (STORE, LABEL, SOURCE, FILE), enumerated options checked with a
clear message and completed by the shell, each command's description in full in `keystores --help`, and an
EXAMPLES section per command made of lines of the README's cheat sheet (tests/test_cli_help.py keeps them there).

Applied to a command's click object when it is built (cli.typer_app.click_app builds only the command a run
invokes), so none of this costs start-up; the choices of --type, and the lists of types and store names in help
text, are read from the format records (keystores/formats.py) when such a command is built. cli.quick_parse checks
values against the same choices, so typer is imported here only inside functions.
"""

from __future__ import annotations

from keystores.cli.options import CHOICE_OVERRIDES, CHOICES, KEY_TYPES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# What an option's value is, by option name; (command path, option) overrides the name.
METAVARS: dict[str, str] = {
    "--password": "SOURCE", "--dest-password": "SOURCE", "--new-password": "SOURCE", "--out-password": "SOURCE",
    "--so-pin": "SOURCE", "--pin": "SOURCE", "--trust-password": "SOURCE",
    "--label": "LABEL", "--entry": "LABEL", "--key": "FILE", "--cert": "FILE", "--chain": "FILE", "--out": "FILE",
    "--trust": "STORE", "--type": "TYPE", "--dest-type": "TYPE", "--module": "LIB", "--library": "LIB",
    "--name": "NAME", "--dn": "DN", "--key-type": "KEY_TYPE", "--days": "DAYS", "--not-after": "WHEN", "--at": "WHEN",
    "--san": "SAN", "--md": "HASH", "--path-length": "N", "--within": "DURATION", "--skip": "CHECK",
    "--kdb-version": "4|6", "--mechanisms": "LIST", "--version": "1|8",
    "--policies": "FILE", "--qmgr": "QM", "--putter": "CONF", "--getter": "CONF", "--putter-password": "SOURCE",
    "--getter-password": "SOURCE", "--policy": "NAME", "--in": "FILE", "--secondary": "KDB", "--user": "USER",
    "--channel": "CHANNEL", "--password-for": "STORE=SOURCE", "--passwords": "FILE",
}
METAVAR_OVERRIDES: dict[tuple[str, str], str] = {("java-config", "--out"): "DIR", ("init-token", "--pin"): "SOURCE"}
ARGUMENT_METAVARS: dict[str, str] = {"stores": "STORE...", "ca_store": "CA_STORE",
                                     "request": "REQUEST", "certificate": "CERT", "a": "DN_A", "b": "DN_B"}

def _filled(text: str) -> str:
    """Help text with the format records' current lists in place of {types} and {names} (keystores/formats.py)."""
    from keystores import formats

    return text.replace("{types}", formats.type_help()).replace("{names}", formats.naming_help())


SUGGESTIONS: dict[str, tuple[str, ...]] = {"--key-type": KEY_TYPES}  # completed, but checked by KeySpec.parse

# Lines of the README's cheat sheet ("with keystores") or of its worked examples, by command path.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "list": ("keystores list ks.jks -p env:PW", "keystores list key.kdb", "keystores list sql:DIR [-p file:pwfile]",
             "keystores list pkcs11:token=T --pin file:PINFILE"),
    "show": ("keystores show s.p12 -p env:PW",),
    "create": ("keystores create key.kdb -p env:PW --stash", "keystores create sql:DIR --type nss -p env:PW"),
    "delete": ("keystores delete ks.jceks a -p env:PW",),
    "rename": ("keystores rename ks.jks a b -p env:PW",),
    "passwd": ("keystores passwd ks.jks -p env:PW --new-password env:NEW",
               "keystores passwd key.kdb --new-password env:NEW"),
    "import": ("keystores import ca.pem trust.jks --label ca --dest-password env:PW",
               "keystores import s.p12 --key k.pem --cert c.pem --chain ca.pem --dest-password env:PW",
               "keystores import more.pem existing.p12 --dest-password env:PW",
               "keystores import x.p12 key.kdb -p env:PW",
               "keystores import c.pem pkcs11:token=T --dest-password file:PINFILE",
               "keystores import certs/ pkcs11:token=T --dest-password file:PINFILE"),
    "export": ("keystores export ks.jks a -o a.pem -p env:PW",
               "keystores export sql:DIR nick -o s.p12 --format p12 -p env:DBPW --out-password env:PW"),
    "convert": ("keystores convert a.jks b.p12 -p env:PW --dest-password env:PW",
                "keystores convert x.p12 x.pem -p env:PW", "keystores convert c.pem c.der",
                "keystores convert certs/ der/ --dest-type der",
                "keystores convert key.kdb x.p12 --dest-password env:PW",
                "keystores convert s.p12 old.p12 --profile compat -p env:PW --dest-password env:PW"),
    "backends": ("keystores backends",),
    "version": ("keystores version",),
    "stash": ("keystores stash key.kdb -p env:PW [--version 1]",),
    "set-default": ("keystores set-default key.kdb L",),
    "trust": ("keystores trust key.kdb CA off",),
    "tokens": ("keystores tokens --module M",),
    "init-token": ("keystores init-token pkcs11:token=L --so-pin file:SO --pin file:PIN",),
    "java-config": ("keystores java-config pkcs11:token=T --out java/",),
    "selfsign": ('keystores selfsign ca.p12 --label ca --dn "CN=My CA,O=HW,C=GB" --ca --key-type ec:p384 -p env:PW',),
    "certreq": ('keystores certreq qm1.kdb --label l --dn "CN=QM1,O=HW,C=GB" -o q.csr',
                'keystores certreq pkcs11:token=T --label k --dn "CN=x" --key-type ec:p256 -o k.csr '
                "--pin file:PINFILE"),
    "sign": ("keystores sign ca.p12 --label ca req.csr -o cert.pem --profile server --not-after 20300130164600Z "
             "--chain -p env:PW",),
    "receive": ("keystores receive ks.jks reply.pem -p env:PW", "keystores receive qm1.kdb c.pem",
                "keystores receive pkcs11:token=T signed.pem --pin file:PINFILE"),
    "validate": ("keystores validate srv.p12 web --trust ca.pem -p env:PW",),
    "audit": ("keystores audit *.p12 *.jks qm1.kdb --within 30d --json -p env:PW",),
    "nss add-module": ('keystores nss add-module sql:DIR --name "My HSM" --library LIB [--mechanisms RSA:ECC]',),
    "nss remove-module": ('keystores nss remove-module sql:DIR --name "My HSM"',),
    "nss modules": ("keystores nss modules sql:DIR [--json]",),
    "dn normalize": ('keystores dn normalize "c=GB, o=cpwebuser ,cn=ADCDC" --racf',),
    "dn compare": ('keystores dn compare "CN=QM1,O=HW,C=GB" "cn=QM1, o=HW, c=GB"',),
    "ams check": ("keystores ams check --policies pay.spl --putter alice.conf --getter bob.conf",),
    "ams render": ("keystores ams render --policies pay.spl --qmgr QM2",
                   "keystores ams render --policies pay.spl --qmgr QM1 --as mqsc"),
    "ams map": ("keystores ams map cert.pem --user U",),
    "ams conf": ("keystores ams conf bob.kdb --label bob -o bob.conf",
                 "keystores ams conf pkcs11:token=demo-hsm --label alice -o alice.conf --pin file:pin"),
    "ams protect": ("keystores ams protect --policies pay.spl --policy PAY.IN --putter alice.conf -i payment.txt "
                    "-o payment.p7m",),
    "ams unprotect": ("keystores ams unprotect --policies pay.spl --policy PAY.IN --getter bob.conf -i payment.p7m "
                      "-o received.txt",),
}


def _suggested(values: tuple[str, ...]) -> Any:
    """A free-form value whose usual forms the shell completes (the command checks it)."""
    from typer._click.shell_completion import CompletionItem
    from typer._click.types import ParamType

    class Suggested(ParamType):
        name = "text"

        def convert(self, value: Any, param: Any, ctx: Any) -> Any:
            return value

        def shell_complete(self, ctx: Any, param: Any, incomplete: str) -> list[Any]:
            return [CompletionItem(v) for v in values if v.startswith(incomplete)]

    return Suggested()


def first_sentence(text: str | None) -> str | None:
    """A docstring's first sentence on one line: what `keystores --help` lists, in full (click would cut it)."""
    if not text:
        return None
    import re

    return re.split(r"(?<=\.)\s+(?=[A-Z])", " ".join(text.split()), maxsplit=1)[0]


def examples_epilog(path: str, epilog: str | None) -> str | None:
    """The command's EXAMPLES (kept as written: click's \\b keeps a paragraph from being re-wrapped) above its
    epilog (the exit codes)."""
    examples = EXAMPLES.get(path)
    if not examples:
        return epilog
    block = "\b\nExamples:\n" + "\n".join(f"  {line}" for line in examples)
    return f"{block}\n\n{epilog}" if epilog else block


def polish(command: Any, path: str) -> Any:
    """Metavars, choices, completions, the full description and the examples on a built click command (and on
    the commands of a group below it)."""
    # What typer (0.26-0.28, as pyproject pins) builds its commands with: its vendored click and its choice type.
    from typer._click.types import StringParamType
    from typer._types import TyperChoice
    from typer.core import TyperGroup

    if path:
        command.short_help = command.short_help or first_sentence(command.help)
        command.epilog = examples_epilog(path, command.epilog)
    for param in command.params:
        if param.help and "{" in param.help:
            param.help = _filled(param.help)
        if param.param_type_name == "argument":
            metavar = param.metavar or ARGUMENT_METAVARS.get(param.name or "")
            if metavar is None:
                metavar = (param.name or "").upper() + ("..." if param.nargs == -1 else "")
            param.metavar = metavar
            # typer writes a required argument as {NAME} in the usage line; we write NAME, as man pages do.
            optional = f"[{metavar}]" if not param.required and not metavar.startswith("[") else metavar
            param.make_metavar = (  # type: ignore[method-assign]
                lambda ctx=None, usage=False, metavar=metavar, optional=optional: optional if usage else metavar)
            continue
        if param.param_type_name != "option" or param.is_flag or param.count:
            continue
        long_name = next((o for o in param.opts if o.startswith("--")), "")
        choices = CHOICE_OVERRIDES.get((path, long_name)) or CHOICES.get(long_name)
        if choices is not None and isinstance(param.type, StringParamType):
            param.type = TyperChoice(choices(), case_sensitive=False)
            if long_name in ("--type", "--dest-type"):
                param.metavar = "TYPE"
            continue
        if long_name in SUGGESTIONS:
            param.type = _suggested(SUGGESTIONS[long_name])
        metavar = METAVAR_OVERRIDES.get((path, long_name)) or METAVARS.get(long_name)
        if metavar and param.metavar is None:
            param.metavar = metavar
    if isinstance(command, TyperGroup):
        for name in list(command.commands):
            polish(command.commands[name], f"{path} {name}".strip())
    return command
