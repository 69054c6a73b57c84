#!/usr/bin/python
# Copyright: keystores contributors
# MIT License (see the repository's pyproject.toml)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: entry
short_description: A certificate or key entry present or absent in any certificate store
version_added: "0.1.0"
description:
  - Makes sure an entry with a given label is in a store with the content given, or is not there.
  - Works on every store the keystores library opens on the managed host - IBM GSKit CMS key databases (C(.kdb),
    the C(.sth) stash beside it is used when no I(password) is given), JKS, JCEKS, PKCS#12, PEM and DER files,
    NSS databases (C(sql:DIR)) and PKCS#11 tokens (C(pkcs11:) URIs).
  - The content comes from PEM or DER files, from inline PEM text, or from an entry of another store.
  - Idempotent - the chain's SHA-256 fingerprints and the entry's flags (default, trusted) are compared with what
    the store holds; the store is not rewritten when nothing changes.
  - Diffs show labels, subjects, fingerprints, expiry and flags; never key material or passwords.
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
    description: Reports what would be added, replaced or removed without writing.
  diff_mode:
    support: full
    description: Shows the entry before and after (subjects, fingerprints, flags; no key material).
  platform:
    platforms: posix
    description: Runs on the managed host, where the store is.
options:
  store:
    description:
      - The store - a path (format from its content, or from its name when it is created), C(sql:DIR) for an NSS
        database, or a C(pkcs11:) URI.
    type: str
    required: true
  type:
    description:
      - The store's format when its name does not say it (C(pkcs12), C(jks), C(jceks), C(cms), C(nss), C(pem),
        C(der), C(pkcs11)).
    type: str
  password:
    description:
      - The store's password or token PIN. For a C(.kdb) with a stash beside it, may be omitted.
    type: str
  module:
    description:
      - The PKCS#11 library for a C(pkcs11:) URI that names none.
    type: path
  label:
    description:
      - The entry's label (alias, friendly name, nickname or C(CKA_LABEL)).
    type: str
    required: true
  state:
    description:
      - C(present) adds the entry or replaces it when its content differs; C(absent) removes it.
    type: str
    choices: [present, absent]
    default: present
  certificate:
    description:
      - The certificate as PEM text (more than one when a I(private_key) picks the leaf among them).
      - Mutually exclusive with I(certificate_path) and I(source).
    type: str
  certificate_path:
    description:
      - A file on the managed host holding the certificate (PEM, DER or PKCS#7).
    type: path
  private_key:
    description:
      - The private key as PEM text; the entry becomes a key pair whose leaf is the certificate it matches.
    type: str
  private_key_path:
    description:
      - A file on the managed host holding the private key (PEM or DER, PKCS#8 or traditional).
    type: path
  private_key_password:
    description:
      - The password of an encrypted private key.
    type: str
  chain:
    description:
      - The issuing certificates as PEM text, nearest issuer first.
    type: str
  chain_path:
    description:
      - Files on the managed host holding the issuing certificates, nearest issuer first.
    type: list
    elements: path
  source:
    description:
      - Another store to copy the entry from (any format, same address forms as I(store)).
    type: str
  source_password:
    description:
      - The password of I(source).
    type: str
  source_type:
    description:
      - The format of I(source) when its name does not say it.
    type: str
  source_label:
    description:
      - The label of the entry in I(source); defaults to I(label).
    type: str
  trusted:
    description:
      - For a certificate entry without a private key, whether it is trusted as an issuer (CMS trust bit, NSS
        C(CT,C,C), PKCS#12 trusted key usage). A new certificate entry is trusted unless this is C(false); an
        existing one keeps its flag unless this is given. Java keystores hold trusted certificates only, so
        C(false) fails there.
    type: bool
  default:
    description:
      - C(true) makes the entry the store's default (CMS key databases; other formats have no default and fail
        the task). C(false) clears the flag. Omitted, a replaced entry keeps the flag it had.
    type: bool
  create:
    description:
      - Create the store when it does not exist (its format from I(type) or its name). C(false) fails instead.
    type: bool
    default: true
  profile:
    description:
      - The algorithms a write uses - C(modern), or C(compat) for software that cannot read modern PKCS#12.
    type: str
    choices: [modern, compat]
    default: modern
notes:
  - Passwords are module parameters marked C(no_log); they never appear in results, diffs or logs.
  - A failed task has the keystores message in I(msg), keystores' exit code in I(rc) (2 usage, 3 wrong password,
    4 not found, 1 other) and the error class in I(error_kind).
  - I(mode), I(owner) and I(group) apply to every file of the store (a C(.kdb) with its C(.sth), C(.rdb) and
    C(.crl); an NSS folder's C(cert9.db), C(key4.db) and C(pkcs11.txt)).
seealso:
  - module: keystores.keystores.store
  - module: keystores.keystores.info
"""

EXAMPLES = r"""
- name: Roll the renewed queue-manager certificate into every .kdb and make it the default
  keystores.keystores.entry:
    store: /var/mqm/qmgrs/{{ qmgr }}/ssl/key.kdb
    label: ibmwebspheremq{{ qmgr | lower }}
    private_key_path: /etc/pki/mq/{{ qmgr }}.key
    certificate_path: /etc/pki/mq/{{ qmgr }}.crt
    chain_path:
      - /etc/pki/mq/issuing-ca.crt
      - /etc/pki/mq/root-ca.crt
    default: true
    owner: mqm
    group: mqm
    mode: "0640"

- name: Add the new CA to every Java truststore
  keystores.keystores.entry:
    store: "{{ item }}"
    password: "{{ truststore_password }}"
    label: corp-root-2026
    certificate: "{{ lookup('ansible.builtin.file', 'files/corp-root-2026.pem') }}"
  loop: "{{ java_truststores }}"

- name: And to every NSS database, trusted
  keystores.keystores.entry:
    store: sql:{{ item }}
    label: corp-root-2026
    certificate_path: /etc/pki/ca/corp-root-2026.pem
    trusted: true
  loop: "{{ nss_databases }}"

- name: Copy the client identity from the PKCS#12 the CA sent into the application's JKS
  keystores.keystores.entry:
    store: /opt/app/client.jks
    password: "{{ jks_password }}"
    label: app-client
    source: /tmp/app-client.p12
    source_password: "{{ p12_password }}"
    source_label: "1"

- name: Retire the old CA
  keystores.keystores.entry:
    store: /var/mqm/qmgrs/QM1/ssl/key.kdb
    label: corp-root-2016
    state: absent
"""

RETURN = r"""
action:
  description: What was done (or would be, in check mode).
  returned: always
  type: str
  sample: replaced
  choices: [added, replaced, flags, removed, none]
entry:
  description:
    - The entry as the store holds it afterwards, in the C(keystores list --json) schema with its chain's
      subjects and fingerprints and a C(trusted) flag; null when absent. Never key material.
  returned: always
  type: dict
  sample:
    label: ibmwebspheremqqm1
    kind: key-pair
    subject: CN=QM1,O=Example
    sha256: "3A:1F:..."
    not_after: "2027-12-01T00:00:00Z"
    default: true
    trusted: false
notes:
  description: What keystores told about the store (format guessed from content, mappings applied).
  returned: always
  type: list
  elements: str
rc:
  description: On failure, keystores' exit code (2 usage, 3 wrong password, 4 not found, 1 other).
  returned: failed
  type: int
  sample: 3
error_kind:
  description: On failure, the keystores error class.
  returned: failed
  type: str
  sample: WrongPassword
"""

import contextlib  # noqa: E402

from ansible.module_utils.basic import AnsibleModule  # noqa: E402

from ansible_collections.keystores.keystores.plugins.module_utils.keystores_common import (  # noqa: E402
    STORE_OPTIONS,
    apply_file_attributes,
    diff_text,
    fingerprints,
    keystores,
    keystores_errors,
    require_keystores,
    store_options,
    summary,
)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise keystores.StoreNotFound(f"cannot read: {exc.strerror}", store=path) from None


def _private_key(params: dict) -> object | None:
    """The private key from a file or inline text (PEM or DER), decrypted in memory: inline keys never touch disk."""
    from cryptography.hazmat.primitives import serialization

    where = params["private_key_path"] or "private_key"
    if params["private_key_path"]:
        data = _read(params["private_key_path"])
    elif params["private_key"]:
        data = params["private_key"].encode("utf-8")
    else:
        return None
    secret = params["private_key_password"].encode("utf-8") if params["private_key_password"] else None
    load = serialization.load_pem_private_key if b"-----BEGIN" in data else serialization.load_der_private_key
    try:
        return load(data, password=secret)
    except TypeError:
        if secret is None:
            raise keystores.PasswordRequired("the private key is encrypted: give private_key_password",
                                             store=where) from None
        raise keystores.UsageError("the private key is not encrypted: leave private_key_password out",
                                   store=where) from None
    except ValueError:
        if secret is not None:
            raise keystores.WrongPassword("cannot decrypt the private key: wrong private_key_password, or not a "
                                          "private key", store=where) from None
        raise keystores.CorruptStore("not a private key (PEM or DER), or it is damaged", store=where) from None


def _certificates(text: str | None, paths: list[str] | None, what: str) -> list:
    found = []
    if text:
        found += keystores.load_certificates(text.encode("utf-8"), source=what)
    for path in paths or []:
        found += keystores.load_certificates(_read(path), source=path)
    return found


def _public_der(key: object) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.public_bytes(serialization.Encoding.DER,  # type: ignore[attr-defined]
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def desired_from_files(params: dict) -> object:
    """The entry the parameters describe: a key pair (leaf = the certificate the key matches, then the rest in the
    order given) or one certificate."""
    label = params["label"]
    path = params["certificate_path"]
    certs = _certificates(params["certificate"], [path] if path else None, "certificate")
    chain = _certificates(params["chain"], params["chain_path"], "chain")
    key = _private_key(params)
    if key is None:
        if len(certs) + len(chain) > 1:
            raise keystores.UsageError("a certificate entry without a private key holds one certificate: add each "
                                       "CA under its own label", label=label)
        return keystores.Entry(label=label, kind=keystores.EntryKind.TRUSTED_CERT, chain=(certs[0],))
    wanted = _public_der(key.public_key())  # type: ignore[attr-defined]
    leaves = [c for c in certs if _public_der(c.public_key()) == wanted]
    if not leaves:
        raise keystores.UsageError("the private key matches none of the certificates given",
                                   store=params["private_key_path"] or "private_key", label=label)
    leaf = leaves[0]
    sha256 = _sha256()
    ordered, seen = [leaf], {leaf.fingerprint(sha256)}
    for cert in certs + chain:
        fp = cert.fingerprint(sha256)
        if fp not in seen:
            seen.add(fp)
            ordered.append(cert)
    return keystores.Entry(label=label, kind=keystores.EntryKind.KEY_PAIR, chain=tuple(ordered), key=key)


def _sha256() -> object:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def plan(store: object | None, desired: object | None, params: dict) -> tuple[str, object | None, object | None]:
    """(action, the entry before, the entry to write) for `store` (None: it does not exist yet)."""
    label = params["label"]
    before = None
    if store is not None:
        with contextlib.suppress(keystores.EntryNotFound):
            before = store.get(label)  # type: ignore[attr-defined]
    if params["state"] == "absent":
        return ("removed" if before is not None else "none"), before, None
    capabilities = store.capabilities if store is not None else None  # type: ignore[attr-defined]
    if params["default"] and capabilities is not None and not capabilities.default_flag:
        raise keystores.CapabilityError("default_flag", f"{store.format} stores have no default entry",  # type: ignore[attr-defined]
                                        store=params["store"], label=label)
    default = params["default"] if params["default"] is not None else (before.default if before else desired.default)  # type: ignore[attr-defined]
    trust = desired.trust  # type: ignore[attr-defined]
    # A certificate without a key is a TRUSTED_CERT with trust or a CERTIFICATE without: the trust decides the kind.
    if desired.kind.is_certificate:  # type: ignore[attr-defined]
        if params["trusted"] is not None:
            trust = keystores.Trust() if params["trusted"] else None
        elif before is not None and before.kind.is_certificate:
            trust = before.trust
        elif not params["source"]:
            trust = keystores.Trust()
    want = desired.with_(label=label, default=default, trust=trust)  # type: ignore[attr-defined]
    if before is None:
        return "added", None, want
    have, need = fingerprints(before), fingerprints(want)
    same_kind = before.kind is want.kind or (before.kind.is_certificate and want.kind.is_certificate)
    if not same_kind or have[: len(need)] != need:
        return "replaced", before, want
    trust_differs = (want.kind.is_certificate and capabilities.trust
                     and (before.trust is None) != (want.trust is None))
    if bool(before.default) != bool(want.default) or trust_differs:
        return "flags", before, before.with_(default=want.default, trust=want.trust if trust_differs else before.trust)
    return "none", before, before


def apply(store: object, action: str, before: object | None, after: object | None, label: str) -> None:
    if action == "removed":
        store.remove(label)  # type: ignore[attr-defined]
    elif action in ("added", "replaced"):
        store.add(after, replace=action == "replaced")  # type: ignore[attr-defined]
    elif action == "flags":
        if after.default and not before.default and after.trust is before.trust:  # type: ignore[union-attr]
            store.set_default(label)  # type: ignore[attr-defined]
        else:
            store.add(after, replace=True)  # type: ignore[attr-defined]


def run(module: AnsibleModule) -> dict:
    params = module.params
    location = params["store"]
    result: dict = {"changed": False, "store": location, "label": params["label"], "notes": []}
    with contextlib.ExitStack() as stack:
        desired = None
        if params["state"] == "present":
            if params["source"]:
                source = stack.enter_context(keystores.open_store(
                    params["source"], password=params["source_password"], type=params["source_type"],
                    **store_options(module)))
                result["notes"] += source.notes
                desired = source.get(params["source_label"] or params["label"])
            else:
                desired = desired_from_files(params)
        exists = keystores.store_exists(location)
        if not exists and (params["state"] == "absent" or not params["create"]):
            if params["state"] == "absent":
                result.update(action="none", entry=None)
                return result
            raise keystores.StoreNotFound("no such store (create: false)", store=location)
        store = None
        if module.check_mode and exists:
            store = stack.enter_context(keystores.open_store(
                location, password=params["password"], type=params["type"], **store_options(module)))
        elif not module.check_mode:
            store = stack.enter_context(keystores.open_store(
                location, password=params["password"], type=params["type"], writable=True, create=True,
                profile=params["profile"], **store_options(module)))
        if store is not None:
            result["notes"] += store.notes
        action, before, after = plan(store, desired, params)
        result["action"] = action
        result["changed"] = action != "none" or not exists
        result["entry"] = summary(after) if after is not None else None
        result["diff"] = {"before": diff_text(summary(before) if before is not None else None),
                          "after": diff_text(result["entry"]),
                          "before_header": f"{location} [{params['label']}]",
                          "after_header": f"{location} [{params['label']}]"}
        if result["changed"] and not module.check_mode:
            apply(store, action, before, after, params["label"])
    # Saved on leaving the block (only when something changed); attributes are set on the files as written.
    result["changed"] = apply_file_attributes(module, location, result["changed"], result["diff"])
    return result


def main() -> None:
    spec = dict(
        STORE_OPTIONS,
        label={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        certificate={"type": "str"},
        certificate_path={"type": "path"},
        private_key={"type": "str", "no_log": True},
        private_key_path={"type": "path"},
        private_key_password={"type": "str", "no_log": True},
        chain={"type": "str"},
        chain_path={"type": "list", "elements": "path"},
        source={"type": "str"},
        source_password={"type": "str", "no_log": True},
        source_type={"type": "str"},
        source_label={"type": "str"},
        trusted={"type": "bool"},
        default={"type": "bool"},
        create={"type": "bool", "default": True},
        profile={"type": "str", "choices": ["modern", "compat"], "default": "modern"},
    )
    module = AnsibleModule(
        argument_spec=spec,
        supports_check_mode=True,
        add_file_common_args=True,
        mutually_exclusive=[("certificate", "certificate_path", "source"),
                            ("private_key", "private_key_path", "source"),
                            ("chain", "chain_path", "source")],
        required_if=[("state", "present", ("certificate", "certificate_path", "source"), True)],
    )
    require_keystores(module)
    result: dict = {}
    with keystores_errors(module):
        result = run(module)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
