"""IBM MQ Advanced Message Security: policies, the doctor and a rehearsal of protect/unprotect (keystore.conf and
the MQ identity of a certificate: cli.ams_store).

    keystores ams render    --policies FILE [--qmgr QM] [--as setmqspl|mqsc|dspmqspl|json]
    keystores ams check     --policies FILE [--qmgr QM] [--putter CONF] [--getter CONF] [--trust STORE]... [--json]
    keystores ams protect   --policies FILE --policy NAME --putter CONF [-i MESSAGE] -o OUT.p7m
    keystores ams unprotect --policies FILE --policy NAME --getter CONF [-i IN.p7m] -o MESSAGE
    keystores ams conf, keystores ams map: cli.ams_store

Nothing of keystores.ams is imported until one of these commands runs.
"""

from __future__ import annotations

import sys

from keystores.cli.options import (
    SECRET_HELP,
    Annotated,
    AtOpt,
    ConfPasswordOpt,
    GetterOpt,
    JsonOpt,
    MaybeGetterOpt,
    MaybePutterOpt,
    Option,
    PoliciesOpt,
    PolicyOpt,
    PutterOpt,
    QmgrOpt,
    TrustPasswordOpt,
    TrustStoresOpt,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    import contextlib
    from typing import Any

REHEARSAL_NOTE = ("It is not AMS's on-queue format (AMS adds its own header): it is standard CMS (RFC 5652) made "
                  "with the same cryptography and the same keys, so a key or certificate problem shows here and "
                  "not on SYSTEM.PROTECTION.ERROR.QUEUE.")


# Each command's parameters are named before it: cli.quick_parse looks a name up where it compiles an
# inline annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_RenderForm = Annotated[str, Option("--as", help="setmqspl, mqsc, dspmqspl or json.")]
_RenderOut = Annotated[str | None, Option("--out", "-o", help="Write here instead of stdout.",
                                                show_default=False)]


def render_cmd(
    policies: PoliciesOpt,
    qmgr: QmgrOpt = None,
    form: _RenderForm = "setmqspl",
    out: _RenderOut = None,
) -> None:
    """Write a policy set as commands for one queue manager (keep one file per set of queues, regenerate per
    queue manager), or as JSON. Problems found while reading are shown on stderr."""
    from keystores.cli.common import err

    from keystores.ams.policy import read_policies, render

    parsed = read_policies(policies, qmgr=qmgr)
    text = render(parsed, form, qmgr=qmgr)
    for problem in parsed.notes:
        err(problem.text(parsed.source))
    if out:
        from keystores.fileio import atomic_write

        atomic_write(out, text.encode())
        err(f"wrote {len(parsed.policies)} polic{'y' if len(parsed.policies) == 1 else 'ies'} to {out}")
    else:
        sys.stdout.write(text)


_CheckPutterPassword = Annotated[str | None, Option("--putter-password", help=f"Instead of the file's "
                                                          f"password or PIN. {SECRET_HELP}",
                                                          show_default=False)]
_CheckGetterPassword = Annotated[str | None, Option("--getter-password", help=f"Instead of the file's "
                                                          f"password or PIN. {SECRET_HELP}",
                                                          show_default=False)]


def check_cmd(
    policies: PoliciesOpt,
    qmgr: QmgrOpt = None,
    putter: MaybePutterOpt = None,
    getter: MaybeGetterOpt = None,
    trust: TrustStoresOpt = None,
    putter_password: _CheckPutterPassword = None,
    getter_password: _CheckGetterPassword = None,
    trust_password: TrustPasswordOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The doctor: are the policies valid by IBM's rules, does the putter hold a usable RSA certificate of
    its own and exactly one per recipient DN, can the getter decrypt and validate the signer? Where a DN
    matches nothing it names the nearest certificates and why each differs. Exit 5 when anything would fail."""
    from keystores.cli.common import emit_json, err

    from keystores.ams.doctor import check
    from keystores.ams.policy import read_policies
    from keystores.errors import ChecksFailed

    parsed = read_policies(policies, qmgr=qmgr)
    if not (putter or getter or trust or trust_password is not None):  # the policies alone: no store to open
        report = check(parsed, at=_when(at))
    else:
        import contextlib

        with contextlib.ExitStack() as stack:
            putter_side = _side(stack, "putter", putter, putter_password) if putter else None
            getter_side = _side(stack, "getter", getter, getter_password) if getter else None
            trusted = _trust_stores(stack, trust or [], trust_password)
            report = check(parsed, putter=putter_side, getter=getter_side, trust=trusted, at=_when(at))
    if as_json:
        emit_json(report.as_dict())
    else:
        _print_findings(report.findings, parsed.source)
        errors = sum(f.severity == "error" for f in report.findings)
        err(f"checked {report.policies} polic{'y' if report.policies == 1 else 'ies'}"
            + "".join(f", the {name}" for name, given in (("putter", putter), ("getter", getter)) if given)
            + f": {errors} error(s), {len(report.findings) - errors} warning(s)")
    if not report.ok:
        raise ChecksFailed("AMS protection would fail")


_ProtectMessage = Annotated[str, Option("--in", "-i", help="The message ('-' for stdin).")]
_ProtectOut = Annotated[str, Option("--out", "-o", help="The protected message (DER CMS; .p7m).")]


def protect_cmd(
    policies: PoliciesOpt,
    policy: PolicyOpt,
    putter: PutterOpt,
    message: _ProtectMessage = "-",
    out: _ProtectOut = "-",
    qmgr: QmgrOpt = None,
    password: ConfPasswordOpt = None,
    at: AtOpt = None,
) -> None:
    """Protect a message as the putter's AMS would under POLICY: signed with the putter's key and the
    policy's hash, and/or encrypted for every recipient's certificate with the policy's cipher (keys on a
    token sign on the token). """
    import contextlib

    from keystores.cli.common import err

    from keystores.ams.doctor import held_leaf
    from keystores.ams.policy import read_policies
    from keystores.ams.rehearse import protect, recipient_certificates

    chosen = read_policies(policies, qmgr=qmgr).get(policy)
    data = _read_input(message)
    when = _when(at)
    with contextlib.ExitStack() as stack:
        side = _side(stack, "putter", putter, password)
        signer = cert = None
        if chosen.signs:
            cert = held_leaf(side.store.get(side.label))
            signer = side.store.signer(side.label)
        recipients = recipient_certificates(chosen, side.certificates(), at=when) if chosen.encrypts else []
        protected = protect(data, chosen, signer=signer, signer_cert=cert, recipients=recipients, at=when)
    _write_output(out, protected)
    err(f"protected {len(data)} bytes under {chosen.name} ({chosen.quality}"
        + (f", {chosen.sign_algorithm}" if chosen.signs else "")
        + (f", {chosen.encrypt_algorithm} for {len(recipients)} recipient(s)" if chosen.encrypts else "")
        + f"){'' if out == '-' else ' into ' + out}")

protect_cmd.__doc__ = (protect_cmd.__doc__ or "") + REHEARSAL_NOTE


_UnprotectMessage = Annotated[str, Option("--in", "-i", help="The protected message: DER, PEM or S/MIME "
                                                "('-' for stdin).")]
_UnprotectOut = Annotated[str, Option("--out", "-o", help="The message ('-' for stdout).")]


def unprotect_cmd(
    policies: PoliciesOpt,
    policy: PolicyOpt,
    getter: GetterOpt,
    message: _UnprotectMessage = "-",
    out: _UnprotectOut = "-",
    trust: TrustStoresOpt = None,
    trust_password: TrustPasswordOpt = None,
    qmgr: QmgrOpt = None,
    password: ConfPasswordOpt = None,
    at: AtOpt = None,
) -> None:
    """Take a protected message as the getter's AMS would under POLICY: decrypt with the getter's key (on the
    token for PKCS#11), verify the signature, accept the signer only if the policy's -a list is empty or
    names it and the getter's store or --trust validates its certificate. Exit 5 when AMS would refuse the
    message. """
    import contextlib

    from keystores.cli.common import err, show_notes

    from keystores.ams.doctor import held_chain, held_leaf
    from keystores.ams.policy import read_policies
    from keystores.ams.rehearse import unprotect

    chosen = read_policies(policies, qmgr=qmgr).get(policy)
    data = _read_input(message)
    with contextlib.ExitStack() as stack:
        side = _side(stack, "getter", getter, password)
        own = held_leaf(side.store.get(side.label))
        decrypter = side.store.decrypter(side.label) if chosen.encrypts else None
        trusted = [cert for _, cert in side.certificates()]
        trusted += [c for store in _trust_stores(stack, trust or [], trust_password) for e in store.entries()
                    for c in held_chain(e)]
        result = unprotect(data, chosen, decrypter=decrypter, own_cert=own, trusted=trusted, at=_when(at))
    _write_output(out, result.message)
    show_notes(result.notes)
    err(f"unprotected {len(result.message)} bytes under {chosen.name}"
        + (f": decrypted ({result.encrypted_with})" if result.encrypted_with else "")
        + (f"; signed by {result.signer}, accepted" if result.signer else ""))

unprotect_cmd.__doc__ = (unprotect_cmd.__doc__ or "") + REHEARSAL_NOTE



# --- helpers (run only inside the commands) ----------------------------------------------------------------------
def _when(at: str | None) -> Any:
    import datetime as dt

    from keystores.pki.when import parse_when

    return parse_when(at) if at else dt.datetime.now(dt.UTC)


def _side(stack: contextlib.ExitStack, role: str, conf_path: str, password: str | None) -> Any:
    """Open the store a keystore.conf names (prompting on a terminal when its password cannot be read back) and
    the CMS database of other parties' certificates it names, if that exists."""
    from keystores.cli.common import show_notes, with_secret

    from keystores import paths
    from keystores.ams.conf import open_conf_store, read_conf
    from keystores.ams.doctor import Side
    from keystores.store import open_store

    conf = read_conf(conf_path or None)
    store = stack.enter_context(with_secret(password, f"{role} password",
                                            lambda pw: open_conf_store(conf, password=pw)))
    show_notes(store.notes)
    others = []
    if conf.secondary and paths.exists(conf.secondary):
        others.append(stack.enter_context(open_store(conf.secondary)))
    return Side(role, conf.path, store, conf.label, others)


def _trust_stores(stack: contextlib.ExitStack, locations: list[str], password: str | None) -> list[Any]:
    if not locations and password is None:
        return []  # nothing of the store machinery imported (a check of the policies alone: start-up)
    from keystores.cli.common import secret_from, show_notes

    from keystores.store import open_store

    secret = secret_from(password, "trust password")
    opened = []
    for location in locations:
        store = stack.enter_context(open_store(location, password=secret))
        show_notes(store.notes)
        opened.append(store)
    return opened


def _read_input(path: str) -> bytes:
    from keystores.errors import KeystoreError
    from keystores.fileio import read_bytes

    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return read_bytes(path, limit=64 * 1024 * 1024)
    except FileNotFoundError:
        from keystores.errors import StoreNotFound

        raise StoreNotFound("no such file", store=path) from None
    except OSError as exc:
        raise KeystoreError(f"cannot read: {exc.strerror}", store=path) from None


def _write_output(path: str, data: bytes) -> None:
    if path == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    from keystores.fileio import atomic_write

    atomic_write(path, data, private=True)


def _print_findings(findings: list[Any], source: str) -> None:
    """One line per finding (severity, side, policy, check, message), the nearest certificates indented below."""
    if not findings:
        print("no problems found")
        return
    rows = [(f.severity.upper(), f.side, f.policy or "-", f.check) for f in findings]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for row, finding in zip(rows, findings, strict=True):
        head = "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True))
        where = f"{source}:{finding.line}: " if finding.line and finding.side == "policy" else ""
        lines.append(f"{head}  {where}{finding.message}")
        for near in finding.nearest:
            lines.append(f"{'':{sum(widths) + 8}}nearest: '{near.label}' {near.dn}")
            lines += [f"{'':{sum(widths) + 10}}- {reason}" for reason in near.reasons]
    from keystores.text import printable

    sys.stdout.write("\n".join(printable(line) for line in lines) + "\n")  # labels and DNs come from stores
