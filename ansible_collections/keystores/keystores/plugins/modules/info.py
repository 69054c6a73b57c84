#!/usr/bin/python
# Copyright: keystores contributors
# MIT License (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: info
short_description: The entries of certificate stores and the audit's findings, as facts
version_added: "0.1.0"
description:
  - Reads one or many stores of any format keystores opens on the managed host and returns their entries in the
    C(keystores list --json) schema.
  - Audits them together as C(keystores audit) does - certificates expired or expiring within I(within), MD5 and
    SHA-1 signatures, RSA keys under 2048 bits, weak store protection, missing chain links, duplicate labels - so a
    playbook can report on, or fail on, expiring certificates across the fleet.
  - A store that cannot be opened (wrong password, damaged, missing) does not fail the task; it is listed with its
    error and is an C(unreadable) finding.
author:
  - keystores contributors (@keystores)
requirements:
  - keystores (the Python package) on the managed host, in the interpreter Ansible runs modules with
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  store:
    description:
      - One store - a path, C(sql:DIR) or a C(pkcs11:) URI.
    type: str
  stores:
    description:
      - Many stores, each with its own password.
    type: list
    elements: dict
    suboptions:
      store:
        description: The store.
        type: str
        required: true
      password:
        description: Its password or PIN; omitted, the module's I(password) (or a C(.kdb)'s stash).
        type: str
      type:
        description: Its format when its name does not say it.
        type: str
  password:
    description:
      - The password of I(store), and of every store in I(stores) that gives none.
    type: str
  type:
    description:
      - The format of I(store) when its name does not say it.
    type: str
  module:
    description:
      - The PKCS#11 library for C(pkcs11:) URIs that name none.
    type: path
  audit:
    description:
      - Audit the stores and return the findings in I(audit).
    type: bool
    default: true
  within:
    description:
      - Report certificates expiring within this window - C(30d), C(12w), C(1y).
    type: str
    default: 30d
  skip:
    description:
      - Checks not to report - C(expired), C(expiring), C(weak-signature), C(weak-key), C(weak-protection),
        C(missing-link), C(duplicate-label), C(same-cn), C(unreadable).
    type: list
    elements: str
    default: []
  at:
    description:
      - The moment to audit at (ISO 8601, e.g. C(2027-01-01T00:00:00Z)); now when omitted.
    type: str
  detail:
    description:
      - Add each entry's whole chain and key facts (the C(keystores show --json) fields).
    type: bool
    default: false
notes:
  - Passwords are module parameters marked C(no_log); they never appear in results or logs.
seealso:
  - module: keystores.keystores.entry
  - module: keystores.keystores.store
"""

EXAMPLES = r"""
- name: Expiry report across the fleet
  hosts: mq_servers
  tasks:
    - name: Audit every store of the queue managers and their clients
      keystores.keystores.info:
        stores:
          - store: /var/mqm/qmgrs/{{ qmgr }}/ssl/key.kdb
          - store: /opt/app/truststore.jks
            password: "{{ truststore_password }}"
          - store: sql:/etc/pki/nssdb
        within: 60d
      register: certs

    - name: Report what expires within 60 days
      ansible.builtin.debug:
        msg: "{{ inventory_hostname }} {{ item.store }} {{ item.label }}: {{ item.message }}"
      loop: "{{ certs.audit.findings | selectattr('check', 'in', ['expired', 'expiring']) }}"

    - name: Fail the run when anything is found
      ansible.builtin.assert:
        that: certs.audit.ok
        fail_msg: "{{ certs.audit.findings | length }} finding(s) on {{ inventory_hostname }}"

- name: The labels of one truststore
  keystores.keystores.info:
    store: /opt/app/truststore.p12
    password: "{{ truststore_password }}"
    audit: false
  register: truststore
"""

RETURN = r"""
stores:
  description:
    - One item per store in the C(keystores list --json) schema (C(schema), C(store), C(type), C(protection),
      C(entries)); a store that could not be opened has C(error), C(rc) and C(error_kind) instead.
  returned: always
  type: list
  elements: dict
  sample:
    - schema: 1
      store: /var/mqm/qmgrs/QM1/ssl/key.kdb
      type: cms
      entries:
        - label: ibmwebspheremqqm1
          kind: key-pair
          subject: CN=QM1,O=Example
          not_after: "2027-12-01T00:00:00Z"
          sha256: "3A:1F:..."
          default: true
audit:
  description: The audit's report, as C(keystores audit --json) prints it; absent when I(audit=false).
  returned: when audit is true
  type: dict
  contains:
    ok:
      description: Nothing was found.
      type: bool
    stores:
      description: How many stores were audited.
      type: int
    certificates:
      description: How many certificates were looked at.
      type: int
    within_days:
      description: The expiry window in days.
      type: float
    at:
      description: The moment audited at.
      type: str
    findings:
      description: One item per finding - C(store), C(label), C(check), C(message).
      type: list
      elements: dict
"""

import contextlib  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.keystores.keystores.plugins.module_utils.keystores_common import (  # noqa: E402
    STORE_OPTIONS,
    keystores,
    keystores_errors,
    require_keystores,
    store_options,
)


def _targets(params: dict) -> list[dict]:
    targets = [{"store": params["store"], "password": params["password"], "type": params["type"]}] \
        if params["store"] else []
    for item in params["stores"] or []:
        targets.append({"store": item["store"], "password": item.get("password") or params["password"],
                        "type": item.get("type")})
    return targets


def run(module: AnsibleModule) -> dict:
    from keystores.ops.describe import store_data
    from keystores.pki.when import parse_when

    params = module.params
    at = parse_when(params["at"]) if params["at"] else None
    result: dict = {"changed": False, "stores": []}
    with contextlib.ExitStack() as stack:
        opened: dict = {}  # name -> open store, or the error that stopped it opening
        for target in _targets(params):
            try:
                store = stack.enter_context(keystores.open_store(target["store"], password=target["password"],
                                                                 type=target["type"], **store_options(module)))
                result["stores"].append(store_data(store, list(store), detail=params["detail"]))
                for note in store.notes:
                    module.warn(note)
                opened[target["store"]] = store
            except keystores.KeystoreError as exc:
                result["stores"].append({"store": target["store"], "error": str(exc), "rc": int(exc.exit_code),
                                         "error_kind": type(exc).__name__})
                opened[target["store"]] = exc
        if params["audit"]:
            result["audit"] = keystores.audit(opened, within=params["within"], at=at, skip=params["skip"]).as_dict()
    return result


def main() -> None:
    spec = dict(
        STORE_OPTIONS,
        store={"type": "str"},
        stores={"type": "list", "elements": "dict", "options": {
            "store": {"type": "str", "required": True},
            "password": {"type": "str", "no_log": True},
            "type": {"type": "str"},
        }},
        audit={"type": "bool", "default": True},
        within={"type": "str", "default": "30d"},
        skip={"type": "list", "elements": "str", "default": []},
        at={"type": "str"},
        detail={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True, required_one_of=[("store", "stores")])
    require_keystores(module)
    result: dict = {}
    with keystores_errors(module):
        result = run(module)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
