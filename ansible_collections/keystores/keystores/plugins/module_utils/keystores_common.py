# Copyright: keystores contributors
# MIT License (see the repository's pyproject.toml)
"""What the keystores modules share: importing keystores on the managed host, turning its errors into failed
tasks (message, `rc` = keystores' exit code, `error_kind` = the error class), entry summaries for diffs and
results (never key material), and the files a store consists of, for mode/owner/group.

The modules are clients of the keystores Python API (`import keystores`), never of the CLI's text.
"""

from __future__ import annotations

import contextlib
import os
import traceback
import warnings
from collections.abc import Iterator
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

KEYSTORES_IMPORT_ERROR: str | None = None
try:
    import keystores
except ImportError:
    keystores = None  # type: ignore[assignment]
    KEYSTORES_IMPORT_ERROR = traceback.format_exc()

# Options every module takes to reach one store.
STORE_OPTIONS: dict[str, Any] = {
    "store": {"type": "str", "required": True},
    "type": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "module": {"type": "path"},
}


def require_keystores(module: AnsibleModule) -> None:
    """Fail the task with a clear message when keystores is not importable by the interpreter running us."""
    if keystores is None:
        module.fail_json(msg=missing_required_lib("keystores", reason="to manage certificate stores")
                         + " (pip install keystores, in the Python that ansible_python_interpreter names)",
                         exception=KEYSTORES_IMPORT_ERROR, error_kind="MissingLibrary", rc=1)


def store_options(module: AnsibleModule) -> dict[str, Any]:
    """Backend options from the module's parameters (the PKCS#11 module library for `pkcs11:` URIs)."""
    return {"module": module.params["module"]} if module.params.get("module") else {}


@contextlib.contextmanager
def keystores_errors(module: AnsibleModule) -> Iterator[None]:
    """Run the block; keystores' warnings become task warnings, its errors a failed task with our message.

    `rc` is the exit code the CLI would have ended with (README: "Exit codes"), `error_kind` the error class, so a
    playbook can tell a wrong password (rc 3, WrongPassword) from a missing store (rc 4, StoreNotFound).
    """
    failure: dict[str, Any] | None = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except keystores.KeystoreError as exc:
            failure = {"msg": str(exc), "rc": int(exc.exit_code), "error_kind": type(exc).__name__}
        except OSError as exc:  # a filesystem refusal keystores did not expect: its words, not a traceback
            failure = {"msg": f"{exc.filename or 'store'}: {exc.strerror or exc}", "rc": 1, "error_kind": "OSError"}
    for warning in caught:  # ours only (weak algorithms asked for...): users see our words, not a library's
        if warning.category.__module__.startswith("keystores"):
            module.warn(str(warning.message))
    if failure is not None:
        module.fail_json(**failure)


def fingerprints(entry: Any) -> list[str]:
    """The SHA-256 fingerprints of an entry's chain, leaf first: what decides whether two entries hold the same."""
    return [data["sha256"] for data in keystores.entry_data(entry, detail=True).get("chain", [])]


def summary(entry: Any) -> dict[str, Any]:
    """An entry as results and diffs show it: the `list --json` fields and the chain's subjects and fingerprints.
    Nothing secret is in it (the schema has no key material), and no `created` time, which would differ on every
    rewrite of formats that stamp it."""
    data = keystores.entry_data(entry, detail=True)
    data.pop("created", None)
    data["trusted"] = data.get("trust") is not None
    data["chain"] = [{"subject": c["subject"], "sha256": c["sha256"], "not_after": c["not_after"]}
                     for c in data.get("chain", [])]
    return data


def diff_text(entry: dict[str, Any] | None) -> str:
    """A summary as the lines `--diff` compares: one fact per line, so a renewal shows as the lines that changed."""
    if not entry:
        return ""
    facts = ("label", "kind", "subject", "issuer", "serial", "not_after", "key_type", "sha256", "default", "trusted",
             "on_token")
    lines = [f"{name}: {entry.get(name)}" for name in facts]
    lines += ["chain:"] + [f"  - {c['subject']} (until {c['not_after']}) {c['sha256']}" for c in entry["chain"]]
    return "\n".join(lines) + "\n"


def store_files(location: str) -> list[str]:
    """The existing files a store consists of, for mode/owner/group: a file; a `.kdb` with its `.sth`, `.rdb` and
    `.crl`; an NSS folder's databases. A token (`pkcs11:`) has none."""
    if location.startswith(("pkcs11:", "ams:")):
        return []
    folder = location[4:] if location.startswith("sql:") else location
    if os.path.isdir(folder):
        candidates = [os.path.join(folder, name) for name in ("cert9.db", "key4.db", "pkcs11.txt")]
    elif location.lower().endswith(".kdb"):
        stem = location[:-4]
        candidates = [location] + [stem + suffix for suffix in (".sth", ".rdb", ".crl")]
    else:
        candidates = [location]
    return [path for path in candidates if os.path.exists(path)]


def apply_file_attributes(module: AnsibleModule, location: str, changed: bool, diff: dict[str, Any]) -> bool:
    """Set mode/owner/group (and SELinux context) as Ansible's file modules take them on every file of the store;
    in check mode only report whether they would change. Changes are added to the diff's text, a line a file."""
    for path in store_files(location):
        file_args = module.load_file_common_arguments(module.params, path=path)
        change: dict[str, Any] = {}
        changed = module.set_fs_attributes_if_different(file_args, changed, diff=change)
        for side in ("before", "after"):
            if change.get(side):
                facts = " ".join(f"{name}={value}" for name, value in sorted(change[side].items()))
                diff[side] = diff.get(side, "") + f"file {path}: {facts}\n"
    return changed
