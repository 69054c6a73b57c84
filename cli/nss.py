"""Commands that only make sense for nss stores; generic commands (list, import, ...) live in
stores.py and transfer.py.

    keystores nss add-module STORE --name NAME --library LIB [--mechanisms RSA:ECC]   modutil -add
    keystores nss remove-module STORE --name NAME                                     modutil -delete
    keystores nss modules STORE [--json]                                              modutil -list
"""

from __future__ import annotations

from keystores.cli.options import Annotated, Argument, JsonOpt, Option

NssStoreArg = Annotated[str, Argument(help="The NSS database: sql:DIR or DIR.")]


# Each command's parameters are named before it: cli.quick_parse looks a name up where it compiles an inline
# annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_AddModuleName = Annotated[str, Option("--name", help="The module's name (spaces are fine).")]
_AddModuleLibrary = Annotated[str, Option("--library", help="Path of the PKCS#11 library (.so).")]
_AddModuleMechanisms = Annotated[str | None, Option("--mechanisms", help="Mechanisms NSS should prefer this "
                                                          "module for, colon-separated (RSA:ECC).")]


def add_module_cmd(
    store: NssStoreArg,
    name: _AddModuleName,
    library: _AddModuleLibrary,
    mechanisms: _AddModuleMechanisms = None,
) -> None:
    """Register a PKCS#11 module (an HSM or smart card) with the database, as `modutil -add` does: browsers
    and NSS tools using this database then load it. Refused while a browser has the profile open."""
    from keystores.cli.common import err

    from keystores.backends.nss.modules import add_module

    add_module(store, name, library, mechanisms=mechanisms)
    err(f"module '{name}' registered in {store}")


_RemoveModuleName = Annotated[str, Option("--name", help="The module to unregister.")]


def remove_module_cmd(
    store: NssStoreArg,
    name: _RemoveModuleName,
) -> None:
    """Unregister a PKCS#11 module (`modutil -delete`)."""
    from keystores.cli.common import err

    from keystores.backends.nss.modules import remove_module

    remove_module(store, name)
    err(f"module '{name}' removed from {store}")

def modules_cmd(store: NssStoreArg, as_json: JsonOpt = False) -> None:
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
        print(f"{number:3}. {printable(module.name)}\n     {printable(kind)}")
