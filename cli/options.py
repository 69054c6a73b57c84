"""Every option and argument the commands share, defined once."""

from __future__ import annotations

from typing import Annotated

import typer

EXIT_CODES_HELP = ("Exit codes: 0 ok, 1 failure (bad or damaged input, refused), 2 usage, 3 wrong password/PIN, "
                   "4 store/label/token not found, 5 checks found problems.")
SECRET_HELP = "Secret source: env:VAR, file:PATH, fd:N, stdin, or pass:VALUE (visible to others; warns)."

PasswordOpt = Annotated[str | None, typer.Option("--password", "--pin", "-p", help=f"Store password or PIN. "
                                                 f"{SECRET_HELP}", show_default=False)]
DestPasswordOpt = Annotated[str | None, typer.Option("--dest-password", help=f"Destination password. {SECRET_HELP}",
                                                     show_default=False)]
TypeOpt = Annotated[str | None, typer.Option("--type", "-t", help="Store type when the bytes don't tell: {types}.",
                                             show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object (schema in the README).")]
ProfileOpt = Annotated[str, typer.Option("--profile", help="Algorithms for what is written: modern, or compat "
                                         "(3DES/SHA-1 for old Java, Windows, macOS; weak, warns).")]
ModuleOpt = Annotated[str | None, typer.Option("--module", help="PKCS#11 module (default: module-path= in the URI "
                                               "or $KEYSTORES_PKCS11_MODULE).", show_default=False)]
UntrustedOpt = Annotated[str, typer.Option("--untrusted", help="Certificates held without trust, when DEST holds "
                                           "trusted ones only (JKS, JCEKS): skip (named on stderr), trust (for "
                                           "all purposes), or fail.")]
SkipUnreadableOpt = Annotated[bool, typer.Option("--skip-unreadable", help="Write the entries DEST can hold and "
                                                 "list those left out (default: fail, naming them, writing nothing).")]

TrustUnverifiedOpt = Annotated[bool, typer.Option(
    "--trust-unverified", help="Take trust whose integrity could not be checked (NSS read without its password) "
    "as trust in DEST; without it such entries are refused.")]
