"""Every option and argument more than one command takes, defined once; `Option` and `Argument` for the rest.

A command's parameters read `password: PasswordOpt = None`: an Annotated (typing's, as type checkers see it) with
an `Option` record, which holds what `typer.Option` takes without importing typer. Typer sees its own objects only
when it builds a command (for --help, completion, and runs quick_parse leaves to it:
cli.typer_app.typer_ready), and cli.quick_parse reads the same records to run a command without typer at all.
An option peculiar to one command (its --out, say, whose help says what that command writes) is written in that
command's signature with the same `Option`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Annotated as Annotated  # what type checkers see; the class below is what runs
    from typing import Any
else:
    class Annotated:
        """typing.Annotated at run time without the typing module, whose import is ~10 ms of CPU (as much as
        Python's own start-up in a user's install; bench/bench_core.py, "start-up:" rows). `Annotated[T, record]`
        keeps what typing's keeps and what is read of it: T as `__origin__` and the records as
        `__metadata__` (cli.quick_parse). cli.typer_app.typer_ready makes typing's own Annotated of it when
        typer builds a command. Every command module takes its Annotated from here."""

        __slots__ = ("__metadata__", "__origin__")

        def __init__(self, origin: Any, metadata: tuple[Any, ...]) -> None:
            self.__origin__, self.__metadata__ = origin, metadata

        def __class_getitem__(cls, params: tuple[Any, ...]) -> Annotated:
            return cls(params[0], tuple(params[1:]))

        def __repr__(self) -> str:
            return f"Annotated[{self.__origin__!r}, {', '.join(map(repr, self.__metadata__))}]"


class Option:
    """What typer.Option takes: the option's names, then typer's settings (help, show_default, metavar...)."""

    __slots__ = ("decls", "settings")

    def __init__(self, *decls: str, **settings: Any) -> None:
        self.decls = decls
        self.settings = settings

    def typer(self) -> Any:
        import typer

        return typer.Option(*self.decls, **self.settings)


class Argument(Option):
    """What typer.Argument takes (a positional parameter: its settings only)."""

    def typer(self) -> Any:
        import typer

        return typer.Argument(*self.decls, **self.settings)


EXIT_CODES_HELP = ("Exit codes: 0 ok, 1 failure (bad or damaged input, refused), 2 usage, 3 wrong password/PIN, "
                   "4 store/label/token not found, 5 checks found problems.")
SECRET_HELP = "Secret source: env:VAR, file:PATH, fd:N, stdin, or pass:VALUE (visible to others; warns)."
WHEN_HELP = "ISO 8601 (2030-01-30, 2030-01-30T16:46:00Z) or openssl's 20300130164600Z."

# Enumerated values. --type's come from the format records (every spelling they accept, as the shell completes
# them).
HASHES = ("sha256", "sha384", "sha512", "sha1", "md5")
# Spelled here so that `keystores --help` imports neither the certificate builder nor the transfer operations;
# tests/test_cli_help.py checks them against keystores.pki.builder.PROFILES, ops.transfer.UNTRUSTED_CHOICES and
# ops.audit.SEVERITIES.
CERTIFICATE_PROFILES = ("server", "client", "server-client", "email", "codesign", "timestamp", "ocsp", "ca")
UNTRUSTED = ("skip", "trust", "fail")
SEVERITIES = ("error", "warning", "notice")
KEY_TYPES = ("rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384", "ec:p521", "ed25519")


def _store_types() -> list[str]:
    from keystores import formats

    return formats.type_choices()


def _write_profiles() -> list[str]:
    from keystores.formats import Profile

    return [profile.value for profile in Profile]


CHOICES: dict[str, Callable[[], list[str]]] = {
    "--type": _store_types, "--dest-type": _store_types, "--profile": _write_profiles,
    "--md": lambda: list(HASHES), "--untrusted": lambda: list(UNTRUSTED),
    "--fail-on": lambda: list(SEVERITIES),
}
CHOICE_OVERRIDES: dict[tuple[str, str], Callable[[], list[str]]] = {
    ("sign", "--profile"): lambda: list(CERTIFICATE_PROFILES),
    ("sign", "--format"): lambda: ["pem", "der"],
    ("export", "--format"): lambda: ["pem", "der", "p12", "pkcs12"],
    ("ams render", "--as"): lambda: ["setmqspl", "mqsc", "dspmqspl", "json"],
}


# --- stores and their secrets ---------------------------------------------------------------------------------------
StoreArg = Annotated[str, Argument(help="A file, sql:DIR, or a pkcs11: URI.")]
PasswordOpt = Annotated[str | None, Option("--password", "--pin", "-p", help=f"Store password or PIN. {SECRET_HELP}",
                                           show_default=False)]
DestPasswordOpt = Annotated[str | None, Option("--dest-password", help=f"Destination password. {SECRET_HELP}",
                                               show_default=False)]
# Its choices and the {types} in its help come from the format records (keystores/formats.py), as the command is
# built (cli.helptext) or checked (cli.quick_parse).
TypeOpt = Annotated[str | None, Option("--type", "-t", help="Store type when the bytes don't tell: {types}.",
                                       show_default=False)]
DestTypeOpt = Annotated[str | None, Option("--dest-type", help="Type of DEST (when it is created).")]
ModuleOpt = Annotated[str | None, Option("--module", help="PKCS#11 module (default: module-path= in the URI or "
                                         "$KEYSTORES_PKCS11_MODULE).", show_default=False)]
ProfileOpt = Annotated[str, Option("--profile", help="Algorithms for what is written: modern, or compat "
                                   "(3DES/SHA-1 for old Java, Windows, macOS; weak, warns).")]
JsonOpt = Annotated[bool, Option("--json", help="Print one JSON object (schema in the README).")]
ForceOpt = Annotated[bool, Option("--force", help="Replace the file or store it writes, if it exists.")]
ReplaceOpt = Annotated[bool, Option("--replace", help="Overwrite an entry with the same label.")]
KdbVersionOpt = Annotated[int | None, Option("--kdb-version", help="A new CMS database only: 4 (default, as GSKit's "
                                             "FIPS mode) or 6 (HMAC-SHA384, AES-256 keys).")]
StashOpt = Annotated[bool, Option("--stash", help="A new CMS database only: also write the .sth stash (0600).")]

# --- copying entries between stores --------------------------------------------------------------------------------
EntryOpt = Annotated[list[str] | None, Option("--entry", "-e", help="Only this entry of the source (repeatable).")]
UntrustedOpt = Annotated[str, Option("--untrusted", help="Certificates held without trust, when DEST holds trusted "
                                     "ones only (JKS, JCEKS): skip (named on stderr), trust (for all purposes), or "
                                     "fail.")]
SkipUnreadableOpt = Annotated[bool, Option("--skip-unreadable", help="Write the entries DEST can hold and list "
                                           "those left out (default: fail, naming them, writing nothing).")]
TrustUnverifiedOpt = Annotated[bool, Option("--trust-unverified", help="Take trust whose integrity could not be "
                                            "checked (NSS read without its password) as trust in DEST; without it "
                                            "such entries are refused.")]

# --- certificates: making, signing, judging ------------------------------------------------------------------------
LabelOpt = Annotated[str, Option("--label", "-l", help="Label (alias, friendly name, nickname, CKA_LABEL) of the "
                                 "entry.")]
DnOpt = Annotated[str, Option("--dn", help="Subject DN: \"CN=x,O=y,C=GB\" (RFC 4514/MQ), RACF's \"CN=x.O=y.C=GB\" "
                              "or openssl's \"/C=GB/O=y/CN=x\".")]
KeyTypeOpt = Annotated[str, Option("--key-type", help="rsa:2048|3072|4096, ec:p256|p384|p521, ed25519.")]
MdOpt = Annotated[str | None, Option("--md", help="Signature hash: sha256 (default; sha384/sha512 for big EC keys), "
                                     "sha384, sha512; sha1/md5 only for old software (warns).", show_default=False)]
SanOpt = Annotated[list[str] | None, Option("--san", help="Subject alternative names: DNS:x,IP:y,EMAIL:z,URI:u "
                                            "(repeatable).")]
DaysOpt = Annotated[int | None, Option("--days", help="Days of validity.", show_default=False)]
NotAfterOpt = Annotated[str | None, Option("--not-after", help=f"End of validity: {WHEN_HELP}", show_default=False)]
PathLengthOpt = Annotated[int | None, Option("--path-length", help="CA path length constraint (a CA certificate).",
                                             show_default=False)]
AtOpt = Annotated[str | None, Option("--at", help=f"Judge validity at this time, not now: {WHEN_HELP}",
                                     show_default=False)]
TrustStoresOpt = Annotated[list[str] | None, Option("--trust", help="A store whose certificates count as trusted "
                                                    "too (repeatable).", show_default=False)]
TrustPasswordOpt = Annotated[str | None, Option("--trust-password", help=f"Password of the --trust stores. "
                                                f"{SECRET_HELP}", show_default=False)]

# --- IBM MQ AMS ----------------------------------------------------------------------------------------------------
PoliciesOpt = Annotated[str, Option("--policies", help="Policy file: setmqspl lines, MQSC SET POLICY, or dspmqspl / "
                                    "DISPLAY POLICY output.")]
QmgrOpt = Annotated[str | None, Option("--qmgr", "-m", help="Queue manager: fills -m &QM placeholders and is "
                                       "written into rendered commands.", show_default=False)]
PolicyOpt = Annotated[str, Option("--policy", "-p", help="The policy (queue) name.")]
_PUTTER = Option("--putter", help="The putting application's keystore.conf.", show_default=False)
_GETTER = Option("--getter", help="The getting application's keystore.conf.", show_default=False)
PutterOpt = Annotated[str, _PUTTER]
GetterOpt = Annotated[str, _GETTER]
MaybePutterOpt = Annotated[str | None, _PUTTER]
MaybeGetterOpt = Annotated[str | None, _GETTER]
ConfPasswordOpt = Annotated[str | None, Option("--password", "--pin", help=f"Instead of the file's password or PIN. "
                                               f"{SECRET_HELP}", show_default=False)]
