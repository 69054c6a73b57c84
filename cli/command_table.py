"""The lazy command table: which function runs each command, and typer's objects made only for the one a run needs.

A speed device (bench/bench_core.py, "CLI start-up"): building every command's click object (signatures, type
hints, defaults) was a third of start-up, and importing typer itself most of what was left. A run that
cli.quick_parse can read imports one command module and no typer; a run it cannot (--help, completion, a usage
error) gets typer's full machinery from cli.typer_app's `click_app`, which still builds only the command invoked
(tests/test_cli_lazy.py compares every command's help with typer's eager build). That module is apart from this
table, which every run reads.

To add a command: write its function (parameters from cli.options) in the module of its group and add a line here.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

# Command path -> "module in keystores.cli:function", in the order `keystores --help` lists them.
COMMANDS: dict[str, str] = {
    "list": "stores:list_entries",
    "show": "stores:show_entry",
    "create": "stores:create_store",
    "delete": "stores:delete_entry",
    "rename": "stores:rename_entry",
    "passwd": "stores:change_password",
    "import": "transfer:import_cmd",
    "export": "transfer_export:export_cmd",
    "convert": "transfer:convert_cmd",
    "backends": "about:backends_cmd",
    "version": "about:version_cmd",
    "stash": "cms:stash_cmd",
    "set-default": "cms:set_default_cmd",
    "trust": "cms:trust_cmd",
    "nss add-module": "nss:add_module_cmd",
    "nss remove-module": "nss:remove_module_cmd",
    "nss modules": "nss:modules_cmd",
    "tokens": "pkcs11:tokens_cmd",
    "init-token": "pkcs11:init_token_cmd",
    "java-config": "pkcs11:java_config_cmd",
    "selfsign": "lifecycle:selfsign_cmd",
    "certreq": "lifecycle:certreq_cmd",
    "sign": "lifecycle:sign_cmd",
    "receive": "lifecycle:receive_cmd",
    "validate": "audit:validate_cmd",
    "audit": "audit:audit_cmd",
    "dn normalize": "lifecycle:dn_normalize",
    "dn compare": "lifecycle:dn_compare",
    "ams render": "ams:render_cmd",
    "ams check": "ams:check_cmd",
    "ams protect": "ams:protect_cmd",
    "ams unprotect": "ams:unprotect_cmd",
    "ams conf": "ams_store:conf_cmd",
    "ams map": "ams_store:map_cmd",
}
# Command groups and the help `keystores GROUP --help` gives.
GROUPS: dict[str, str] = {
    "nss": "NSS databases: register PKCS#11 modules (HSMs) as modutil does.",
    "dn": "Distinguished names as MQ, AMS and RACF want them.",
    "ams": "IBM MQ Advanced Message Security: policies, keystore.conf, a doctor for 'missing certificate', and a "
           "rehearsal of protect/unprotect.",
}
NO_EPILOG = frozenset({"backends", "version"})  # commands that cannot fail, so without the exit codes


def function(path: str) -> Callable[..., Any]:
    """The function that runs the command at `path` (importing its module, and nothing else)."""
    module, name = COMMANDS[path].split(":")
    # __import__ rather than importlib.import_module: importlib is one more module on every run.
    return getattr(__import__(f"keystores.cli.{module}", fromlist=[name]), name)
