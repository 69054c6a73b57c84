"""`keystores export`: one entry's certificate, chain or key to a file. Its own module, apart from import and
convert (cli/transfer.py): an export builds none of their parameter declarations and loads none of their code
(start-up speed, issue 15)."""

from __future__ import annotations

import os

from keystores.cli.common import StorePrompts, err, refuse_binary_on_a_terminal, secret_from, show_notes, to_stdout
from keystores.cli.options import (
    SECRET_HELP,
    Annotated,
    Argument,
    ForceOpt,
    ModuleOpt,
    Option,
    PasswordOpt,
    ProfileOpt,
    TypeOpt,
)

# The parameters are named before the command: cli.quick_parse looks a name up where it compiles an inline
# annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_ExportStore = Annotated[str, Argument()]
_ExportLabel = Annotated[str, Argument()]
_ExportOut = Annotated[str, Option("--out", "-o", help="Output file ('-' for stdout: DER and PKCS#12 only when it is "
                                                       "not a terminal).")]
_ExportOutFormat = Annotated[str | None, Option("--format", "-f", help="pem, der or p12 (default: from the "
                                                      "extension: .p12/.pfx, .der/.cer, else pem).",
                                                      show_default=False)]
_ExportIncludeChain = Annotated[bool, Option("--chain", help="Include the CA chain.")]
_ExportIncludeKey = Annotated[bool, Option("--key", help="Include the private key (PEM: encrypted with "
                                                 "--out-password when given).")]
_ExportOutPassword = Annotated[str | None, Option("--out-password", "--dest-password",
                                                        help=f"Password for the output. {SECRET_HELP}")]


def export_cmd(
    store: _ExportStore,
    label: _ExportLabel,
    out: _ExportOut,
    out_format: _ExportOutFormat = None,
    include_chain: _ExportIncludeChain = False,
    include_key: _ExportIncludeKey = False,
    password: PasswordOpt = None,
    out_password: _ExportOutPassword = None,
    store_type: TypeOpt = None,
    force: ForceOpt = False,
    profile: ProfileOpt = "modern",
    module: ModuleOpt = None,
) -> None:
    """Export an entry's certificate, chain or key to PEM, DER or PKCS#12."""
    from keystores.ops import transfer

    if out == transfer.STDOUT:
        from keystores.ops.outputs import output_format

        refuse_binary_on_a_terminal(output_format(out, out_format))
    if module:
        os.environ.setdefault("KEYSTORES_PKCS11_MODULE", module)
    result = transfer.export_entry(store, label, out, password=secret_from(password, "password"),
                                   dest_password=secret_from(out_password, "output password"),
                                   out_format=out_format, include_chain=include_chain, include_key=include_key,
                                   type=store_type, force=force, profile=profile, ask=StorePrompts())
    show_notes(result.notes)
    if result.encoded is None:
        err(f"wrote {out}")
        return
    from keystores.ops.outputs import output_format

    to_stdout(result.encoded, output_format(out, out_format))
