#!/usr/bin/python
# Copyright: keystores contributors
# MIT License (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: store
short_description: A certificate store of any format created, converted, re-passworded or removed
version_added: "0.1.0"
description:
  - Makes sure a store exists - an IBM GSKit CMS key database (C(.kdb), with its C(.sth) stash when asked), JKS,
    JCEKS, PKCS#12, PEM, an NSS database (C(sql:DIR)) - or does not.
  - With I(source), the store holds exactly the entries of another store, in the format its name or I(type) says
    (a conversion); it is rewritten only when labels or fingerprints differ.
  - With I(new_password), the store's password is changed (keys are re-encrypted; a CMS stash follows); nothing
    happens when I(new_password) already opens it.
author:
  - keystores contributors (@keystores)
requirements:
  - keystores (the Python package) on the managed host, in the interpreter Ansible runs modules with
extends_documentation_fragment:
  - ansible.builtin.files
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    description: Reports what would be created, converted or changed without writing.
  diff_mode:
    support: full
    description: Shows the store's format and labels before and after.
  platform:
    platforms: posix
    description: Runs on the managed host, where the store is.
options:
  store:
    description:
      - The store - a path (the format of a new store from its name or I(type)) or C(sql:DIR) for an NSS
        database.
    type: str
    required: true
  type:
    description:
      - The store's format when its name does not say it (C(pkcs12), C(jks), C(jceks), C(cms), C(nss), C(pem),
        C(der)).
    type: str
  password:
    description:
      - The store's password (for a new store, its password). For a C(.kdb) with a stash beside it, may be
        omitted.
    type: str
    aliases: [dest_password]
  module:
    description:
      - The PKCS#11 library for a C(pkcs11:) URI that names none.
    type: path
  state:
    description:
      - C(present) creates the store when missing; C(absent) removes its files (a C(.kdb) with its C(.sth),
        C(.rdb), C(.crl); an NSS folder's databases).
    type: str
    choices: [present, absent]
    default: present
  profile:
    description:
      - The algorithms writes use - C(modern), or C(compat) for software that cannot read modern PKCS#12.
    type: str
    choices: [modern, compat]
    default: modern
  kdb_version:
    description:
      - For a new CMS key database, its version - 4 (GSKit's FIPS default) or 6 (HMAC-SHA384, AES-256 keys).
    type: int
    choices: [4, 6]
  stash:
    description:
      - For a CMS key database, write the C(.sth) stash when there is none or it no longer opens the database.
    type: bool
    default: false
  new_password:
    description:
      - Change the store's password to this one.
    type: str
  source:
    description:
      - Make the store a conversion of this store (any format keystores reads).
    type: str
  source_password:
    description:
      - The password of I(source).
    type: str
  source_type:
    description:
      - The format of I(source) when its name does not say it.
    type: str
notes:
  - Passwords are module parameters marked C(no_log); they never appear in results, diffs or logs.
  - A failed task has the keystores message in I(msg), keystores' exit code in I(rc) and the error class in
    I(error_kind).
seealso:
  - module: keystores.keystores.entry
  - module: keystores.keystores.info
"""

EXAMPLES = r"""
- name: A queue manager's key database, version 6, with its stash, owned by mqm
  keystores.keystores.store:
    store: /var/mqm/qmgrs/QM1/ssl/key.kdb
    password: "{{ kdb_password }}"
    kdb_version: 6
    stash: true
    owner: mqm
    group: mqm
    mode: "0600"

- name: The Java clients' truststore as PKCS#12, converted from the JKS they used
  keystores.keystores.store:
    store: /opt/app/truststore.p12
    password: "{{ truststore_password }}"
    source: /opt/app/truststore.jks
    source_password: "{{ old_truststore_password }}"

- name: Rotate the truststore password
  keystores.keystores.store:
    store: /opt/app/truststore.p12
    password: "{{ old_truststore_password }}"
    new_password: "{{ truststore_password }}"
"""

RETURN = r"""
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
  sample: [created, stash written]
format:
  description: The store's format, as keystores names it (cms, jks, pkcs12, nss ...); null when absent.
  returned: always
  type: str
  sample: cms
labels:
  description: The labels the store holds afterwards.
  returned: always
  type: list
  elements: str
notes:
  description: What keystores told about the store.
  returned: always
  type: list
  elements: str
rc:
  description: On failure, keystores' exit code (2 usage, 3 wrong password, 4 not found, 1 other).
  returned: failed
  type: int
error_kind:
  description: On failure, the keystores error class.
  returned: failed
  type: str
"""

import os  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.keystores.keystores.plugins.module_utils.keystores_common import (  # noqa: E402
    STORE_OPTIONS,
    apply_file_attributes,
    fingerprints,
    keystores,
    keystores_errors,
    require_keystores,
    store_files,
    store_options,
)


def _contents(location: str, password: str | None, store_type: str | None, options: dict) -> tuple[str, dict]:
    """(format, {label: (fingerprints, default)}) of a store: what decides whether a conversion is up to date."""
    with keystores.open_store(location, password=password, type=store_type, **options) as opened:
        return opened.format, {entry.label: (fingerprints(entry), entry.default) for entry in opened}


def _describe(fmt: str | None, contents: dict | None) -> str:
    if fmt is None:
        return ""
    return f"format: {fmt}\n" + "".join(f"entry: {label}\n" for label in sorted(contents or {}))


def _opens(location: str, password: str | None, store_type: str | None, options: dict) -> bool:
    try:
        _contents(location, password, store_type, options)
    except keystores.WrongPassword:
        return False
    return True


def _cms_options(params: dict) -> dict:
    return {"cms_version": params["kdb_version"]} if params["kdb_version"] else {}


def _stash_opens(location: str) -> bool:
    """Whether a `.sth` is beside the database and opens it (a stale stash does not)."""
    if not os.path.isfile(os.path.splitext(location)[0] + ".sth"):
        return False
    return _opens(location, None, "cms", {})


def present(module: AnsibleModule, result: dict) -> None:
    params, check = module.params, module.check_mode
    location, store_type, options = params["store"], params["type"], store_options(module)
    password, new_password = params["password"], params["new_password"]
    target_password = new_password or password
    exists = keystores.store_exists(location)
    password_done = bool(exists and new_password and _opens(location, new_password, store_type, options))
    before = _contents(location, new_password if password_done else password, store_type, options) if exists \
        else None
    after = before
    if params["source"]:
        source = _contents(params["source"], params["source_password"], params["source_type"], options)
        have = {label.lower(): value[0] for label, value in before[1].items()} if before else None
        if have != {label.lower(): value[0] for label, value in source[1].items()}:
            result["actions"].append("converted")
            password_done, after = True, (before[0] if before else store_type or "new", source[1])
            if not check:
                converted = keystores.convert(params["source"], location, password=params["source_password"],
                                              dest_password=target_password, type=params["source_type"],
                                              dest_type=store_type, profile=params["profile"], force=exists,
                                              dest_options=_cms_options(params) or None)
                result["notes"] += converted.notes
    elif not exists:
        result["actions"].append("created")
        password_done, after = True, (store_type or "new", {})
        if not check:
            with keystores.open_store(location, password=target_password, type=store_type, create=True,
                                      fresh=True, profile=params["profile"], **_cms_options(params),
                                      **options) as made:
                result["notes"] += made.notes
    if new_password and not password_done:
        result["actions"].append("password changed")
        if not check:
            with keystores.open_store(location, password=password, type=store_type, writable=True,
                                      profile=params["profile"], **options) as opened:
                opened.set_password(new_password)
    if not check:
        after = _contents(location, target_password, store_type, options)
    if params["stash"]:
        if after is not None and after[0] not in ("cms", "new"):
            raise keystores.CapabilityError("stash", "only CMS key databases have a stash file", store=location)
        if not (keystores.store_exists(location) and _stash_opens(location)):
            result["actions"].append("stash written")
            if not check:
                with keystores.open_store(location, password=target_password, type="cms",
                                          writable=True) as opened:
                    opened.write_stash()
    result["format"] = after[0] if after else None
    result["labels"] = sorted(after[1]) if after else []
    result["diff"]["before"] = _describe(*before) if before else ""
    result["diff"]["after"] = _describe(result["format"], after[1] if after else None)


def absent(module: AnsibleModule, result: dict) -> None:
    location = module.params["store"]
    if location.startswith("pkcs11:"):
        raise keystores.UsageError("a token is not removed here: delete its entries with keystores.keystores.entry "
                                   "state=absent", store=location)
    files = store_files(location)
    result["format"], result["labels"] = None, []
    if files:
        result["actions"].append("removed")
        result["diff"] = {"before": "".join(f"file: {path}\n" for path in files), "after": ""}
        if not module.check_mode:
            for path in files:
                os.unlink(path)


def main() -> None:
    spec = dict(
        STORE_OPTIONS,
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        profile={"type": "str", "choices": ["modern", "compat"], "default": "modern"},
        kdb_version={"type": "int", "choices": [4, 6]},
        stash={"type": "bool", "default": False},
        new_password={"type": "str", "no_log": True},
        source={"type": "str"},
        source_password={"type": "str", "no_log": True},
        source_type={"type": "str"},
    )
    spec["password"] = dict(spec["password"], aliases=["dest_password"])
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, add_file_common_args=True)
    require_keystores(module)
    result: dict = {"changed": False, "store": module.params["store"], "actions": [], "notes": [],
                    "diff": {"before": "", "after": "", "before_header": module.params["store"],
                             "after_header": module.params["store"]}}
    with keystores_errors(module):
        if module.params["state"] == "present":
            present(module, result)
        else:
            absent(module, result)
    result["changed"] = bool(result["actions"])
    if module.params["state"] == "present":
        result["changed"] = apply_file_attributes(module, module.params["store"], result["changed"], result["diff"])
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
