"""Commands that only make sense for nss stores; generic commands (list, import, ...) live in main.py.

    keystores nss add-module STORE --name NAME --library LIB [--mechanisms RSA:ECC]   modutil -add
    keystores nss remove-module STORE --name NAME                                     modutil -delete
    keystores nss modules STORE [--json]                                              modutil -list
"""

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the `nss` command group to the main app."""
    from keystores.cli.options import EXIT_CODES_HELP, JsonOpt

    group = typer.Typer(help="NSS databases: register PKCS#11 modules (HSMs) as modutil does.",
                        no_args_is_help=True)
    app.add_typer(group, name="nss")
    StoreArg = Annotated[str, typer.Argument(help="The NSS database: sql:DIR or DIR.")]

    @group.command("add-module", epilog=EXIT_CODES_HELP)
    def add_module_cmd(
        store: StoreArg,
        name: Annotated[str, typer.Option("--name", help="The module's name (spaces are fine).")],
        library: Annotated[str, typer.Option("--library", help="Path of the PKCS#11 library (.so).")],
        mechanisms: Annotated[str | None, typer.Option("--mechanisms", help="Mechanisms NSS should prefer this "
                                                       "module for, colon-separated (RSA:ECC).")] = None,
    ) -> None:
        """Register a PKCS#11 module (an HSM or smart card) with the database, as `modutil -add` does: browsers
        and NSS tools using this database then load it. Refused while a browser has the profile open."""
        from keystores.cli.common import err

        from keystores.backends.nss.modules import add_module

        add_module(store, name, library, mechanisms=mechanisms)
        err(f"module '{name}' registered in {store}")

    @group.command("remove-module", epilog=EXIT_CODES_HELP)
    def remove_module_cmd(
        store: StoreArg,
        name: Annotated[str, typer.Option("--name", help="The module to unregister.")],
    ) -> None:
        """Unregister a PKCS#11 module (`modutil -delete`)."""
        from keystores.cli.common import err

        from keystores.backends.nss.modules import remove_module

        remove_module(store, name)
        err(f"module '{name}' removed from {store}")

    @group.command("modules", epilog=EXIT_CODES_HELP)
    def modules_cmd(store: StoreArg, as_json: JsonOpt = False) -> None:
        """List the PKCS#11 modules registered with the database (`modutil -list`, without loading them)."""
        from keystores.cli.common import emit_json

        from keystores.backends.nss.modules import list_modules

        modules = list_modules(store)
        if as_json:
            emit_json({"schema": 1, "store": store, "modules": [m.as_dict() for m in modules]})
            return
        from keystores.text import printable

        for number, module in enumerate(modules, 1):
            kind = "internal" if module.internal else module.library
            typer.echo(f"{number:3}. {printable(module.name)}\n     {printable(kind)}")
