"""Certificate lifecycle commands: selfsign, certreq, sign, receive, validate, audit, dn normalize/compare.

Thin: parse, resolve secrets through cli.common's helpers, call one operation in keystores.ops.lifecycle (or
keystores.ops.audit for validate and audit), render.
validate, audit and dn compare print their report first and then raise ChecksFailed (exit 5) when it fails.
"""

from __future__ import annotations

import os
import sys

from keystores.cli.common import StorePrompts, emit_json, err, show_notes, store_options, with_secret
from keystores.cli.options import (
    SECRET_HELP,
    Annotated,
    Argument,
    AtOpt,
    DaysOpt,
    DestPasswordOpt,
    DnOpt,
    JsonOpt,
    KeyTypeOpt,
    LabelOpt,
    MdOpt,
    ModuleOpt,
    NotAfterOpt,
    Option,
    PasswordOpt,
    PathLengthOpt,
    ProfileOpt,
    ReplaceOpt,
    SanOpt,
    TrustPasswordOpt,
    TrustStoresOpt,
    TypeOpt,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# Paths are checked with os.path, not pathlib: pathlib imports re, urllib and ipaddress (~10 ms of CPU).


def _write_output(path: str, data: bytes) -> None:
    from keystores.errors import UsageError
    from keystores.fileio import atomic_write

    # pathlib's Path(path).parent: a trailing slash does not name the folder
    if not os.path.exists(os.path.dirname(path.rstrip("/") or "/") or "."):
        raise UsageError(f"cannot write {path}: its folder does not exist")
    atomic_write(path, data)


def _check_output_folder(path: str | None) -> None:
    from keystores.errors import UsageError

    if path and path != "-" and not os.path.isdir(os.path.dirname(os.path.realpath(path))):
        raise UsageError(f"cannot write {path}: its folder does not exist")


def _check_request_inputs(dn: str, key_type: str, sans: list[str] | None) -> None:
    """Refuse a bad DN, key type or SAN before a store is opened (and a password asked for)."""
    from keystores.model import KeySpec
    from keystores.pki.builder import parse_sans
    from keystores.pki.dn import parse_dn

    parse_dn(dn).to_der()
    KeySpec.parse(key_type)
    parse_sans(sans or [])


def _read_input(path: str, what: str) -> bytes:
    from keystores.errors import NotFound
    from keystores.fileio import read_bytes

    try:
        return read_bytes(path, limit=16 * 1024 * 1024)
    except NotFound:
        raise NotFound(f"no such {what} file", store=path) from None


def _pem_or_der(certs: list[Any], out: str | None, out_format: str | None) -> bytes:
    from keystores.ops.outputs import output_format
    from keystores.pki.encoded import Encoded

    fmt = output_format(out or "-", out_format, allowed=("pem", "der"))
    if all(isinstance(c, Encoded) for c in certs):  # as made or held: no cryptography import (start-up: sign)
        return certs[0].der if fmt == "der" else b"".join(c.pem() for c in certs)
    from keystores.crypto.key_encoding import Encoding

    if fmt == "der":
        return certs[0].public_bytes(Encoding.DER)
    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


def _open_audited(stores: list[str], secrets: Any, password: str | None, pin: str | None, module: str | None,
                  ask: Any, stack: Any) -> list[tuple[str, Any]]:
    """Open every store to audit, each with its own secret, before the audit starts (so every prompt comes
    first). A store that does not exist stops the command (exit 4) before any is opened; one that cannot be
    opened (wrong password, damage) is kept as its error, which the audit reports as `unreadable`.

    Whose secret: the store's own source (--password-for, --passwords) first; else a store with a stash (a .kdb)
    opens with it; else --password, or --pin for a token (a PIN counts failed tries, so a token is never sent a
    password given for other stores); else a prompt naming the store, on a terminal."""
    from keystores.errors import KeystoreError, NotFound, PasswordRequired, StoreNotFound, UsageError
    from keystores.lightweight import suppress
    from keystores.ops.audit import password_for
    from keystores.store import capabilities_of, open_store, options_for, store_exists

    missing = [location for location in stores if not store_exists(location)]
    if missing:
        raise StoreNotFound("no such store" + (f" (nor {', '.join(missing[1:])})" if len(missing) > 1 else ""),
                            store=missing[0])
    given = {"module": module} if module else {}
    opened: list[tuple[str, Any]] = []
    for location in stores:
        try:
            options = options_for(location, given)  # --module is for the tokens among the stores
            own = secrets.source_for(location)
            if own is not None:
                store = open_store(location, password=secrets.resolve(own, what=f"password for {location}"),
                                   **options)
            else:
                caps = capabilities_of(location)
                general = pin if caps.pin else password
                store = None
                if caps.stash:
                    with suppress(PasswordRequired):
                        store = open_store(location, password=None, **options)
                if store is None:
                    secret = secrets.resolve(general, what="PIN" if caps.pin else "password") if general else None
                    store = open_store(location, password=secret, ask=None if general else ask, **options)
            opened.append((location, stack.enter_context(store)))
        except (NotFound, UsageError):
            raise  # a token or module that is not there (exit 4, as a missing file), a bad secret source (exit 2)
        except KeystoreError as exc:
            if isinstance(exc, PasswordRequired):
                exc.hint = password_for(location)
            opened.append((location, exc))
    return opened


def _store_password(password: str | None, dest_password: str | None) -> str | None:
    """The store selfsign/certreq write is their destination: --dest-password names its password as well
    as -p does (as import and convert take a new store's password), but not both at once."""
    if password is not None and dest_password is not None:
        from keystores.errors import UsageError

        raise UsageError("give the store's password once: --password or --dest-password")
    return password if password is not None else dest_password

def _open_writable(store: str, password: str | None, store_type: str | None, module: str | None,
                  profile: str, action: Any, *, create: bool) -> Any:
    from keystores.store import open_store

    def act(pw: str | None) -> Any:
        with open_store(store, password=pw, type=store_type, writable=True, create=create, profile=profile,
                        **store_options(module)) as opened:
            show_notes(opened.notes)
            return action(opened)

    from keystores.store import store_exists

    return with_secret(password, "password", act, confirm=create and not store_exists(store))

def _open_reading(store: str, password: str | None, store_type: str | None, module: str | None,
                 action: Any, what: str = "password") -> Any:
    from keystores.store import open_store

    def act(pw: str | None) -> Any:
        with open_store(store, password=pw, type=store_type, **store_options(module)) as opened:
            show_notes(opened.notes)
            return action(opened)

    return with_secret(password, what, act)

def selfsign_cmd(
    store: Annotated[str, Argument(help="The store (created if missing): file, sql:DIR or pkcs11: URI.")],
    label: LabelOpt,
    dn: DnOpt,
    ca: Annotated[bool, Option("--ca", help="Make a CA certificate (keyCertSign, cRLSign) that "
                                     "`keystores sign` can use.")] = False,
    days: DaysOpt = None,
    not_after: NotAfterOpt = None,
    key_type: KeyTypeOpt = "rsa:2048",
    md: MdOpt = None,
    san: SanOpt = None,
    path_length: PathLengthOpt = None,
    out: Annotated[str | None, Option("--out", "-o", help="Also write the certificate (PEM) here.",
                                            show_default=False)] = None,
    replace: ReplaceOpt = False,
    password: PasswordOpt = None,
    dest_password: DestPasswordOpt = None,
    store_type: TypeOpt = None,
    profile: ProfileOpt = "modern",
    module: ModuleOpt = None,
) -> None:
    """A key pair and a self-signed certificate (runmqakm -cert -create, keytool -genkeypair)."""
    from keystores.ops.lifecycle import selfsign

    _check_output_folder(out)
    _check_request_inputs(dn, key_type, san)
    result = _open_writable(store, _store_password(password, dest_password), store_type, module, profile,
                           lambda s: selfsign(s, label, dn, ca=ca, days=days, not_after=not_after,
                                              key_spec=key_type, md=md, sans=san or [],
                                              path_length=path_length, replace=replace), create=True)
    show_notes(result.notes)
    if out:
        _write_output(out, _pem_or_der([result.encoded[0]], out, "pem"))
    from keystores.pki.when import iso_utc_seconds  # (no datetime: start-up speed)

    err(f"made '{result.label}': {'CA ' if ca else ''}certificate for {dn}, valid until "
        f"{iso_utc_seconds(result.encoded[0].validity_seconds()[1])}")

def certreq_cmd(
    store: Annotated[str, Argument(help="Store for the key (created if missing); on a pkcs11: URI the "
                                         "key is made on the token.")],
    label: LabelOpt,
    dn: DnOpt,
    out: Annotated[str, Option("--out", "-o", help="Request file to write (PEM; '-' for stdout).")],
    key_type: KeyTypeOpt = "rsa:2048",
    san: SanOpt = None,
    md: MdOpt = None,
    replace: ReplaceOpt = False,
    password: PasswordOpt = None,
    dest_password: DestPasswordOpt = None,
    store_type: TypeOpt = None,
    profile: ProfileOpt = "modern",
    module: ModuleOpt = None,
) -> None:
    """Make a key in the store and a certificate request signed by it; the key never leaves the store."""
    from keystores.ops.lifecycle import certreq

    _check_output_folder(out)
    _check_request_inputs(dn, key_type, san)
    result = _open_writable(store, _store_password(password, dest_password), store_type, module, profile,
                           lambda s: certreq(s, label, dn, key_spec=key_type, sans=san or [], md=md,
                                             replace=replace), create=True)
    pem = result.encoded.pem()  # as made: no cryptography import (start-up speed)
    if out == "-":
        sys.stdout.write(pem.decode("ascii"))
    else:
        _write_output(out, pem)
    show_notes(result.notes)
    if out != "-":
        err(f"wrote the request for '{result.label}' to {out}")

def sign_cmd(
    ca_store: Annotated[str, Argument(help="Store holding the CA key (any format, a token too).")],
    request: Annotated[str, Argument(help="The certificate request (PEM or DER).")],
    label: LabelOpt,
    out: Annotated[str, Option("--out", "-o", help="Certificate file to write ('-' for stdout).")],
    days: DaysOpt = None,
    not_after: NotAfterOpt = None,
    md: MdOpt = None,
    cert_profile: Annotated[str, Option("--profile", help="server, client, server-client, email, "
                                              "codesign, timestamp, ocsp or ca.")] = "server",
    copy_sans: Annotated[bool, Option("--copy-sans", help="Copy the SANs the request asks for.")] = False,
    san: SanOpt = None,
    path_length: PathLengthOpt = None,
    chain: Annotated[bool, Option("--chain", help="Write the CA chain after the certificate.")] = False,
    out_format: Annotated[str | None, Option("--format", "-f", help="pem or der (default: from "
                                                   "the extension, else pem).", show_default=False)] = None,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    module: ModuleOpt = None,
    force: Annotated[bool, Option("--force", help="Replace an existing output file.")] = False,
) -> None:
    """The CA signs a request (runmqakm -cert -sign, openssl ca); WHEN takes ISO 8601 or 20300130164600Z."""
    from keystores.ops.lifecycle import sign

    _check_output_folder(out)
    if out != "-" and not force:
        from keystores.errors import StoreExists

        if os.path.exists(out):
            raise StoreExists("already exists; use --force to replace it", store=out)
    data = _read_input(request, "request")
    result = _open_reading(ca_store, password, store_type, module, lambda s: sign(
        s, label, data, days=days, not_after=not_after, md=md, profile=cert_profile, copy_sans=copy_sans,
        sans=san or [], path_length=path_length, source=request))
    # as made and as the CA's store keeps them: printed without importing cryptography.x509 (start-up speed)
    certs = list(result.encoded) if chain else [result.encoded[0]]
    if chain and (out_format or "").lower() == "der":
        from keystores.errors import UsageError

        raise UsageError("DER holds one certificate: use PEM for --chain")
    blob = _pem_or_der(certs, None if out == "-" else out, out_format)
    if out == "-":
        from keystores.cli.common import to_stdout

        from keystores.ops.outputs import output_format

        # DER is binary: written as bytes (it was decoded as ASCII: an internal error), never to a terminal
        to_stdout(blob, output_format(out, out_format, allowed=("pem", "der")))
    else:
        _write_output(out, blob)
    show_notes(result.notes)
    if out != "-":
        from keystores.pki.certificates import describe
        from keystores.pki.when import iso_utc_seconds  # (no datetime: start-up speed)

        made = result.encoded[0]
        err(f"wrote {out}: {describe(made)}, serial {made.serial_number:x}, "
            f"valid until {iso_utc_seconds(made.validity_seconds()[1])}")

def receive_cmd(
    store: Annotated[str, Argument(help="Store holding the key (a .kdb with its .rdb, a token...).")],
    certificate: Annotated[str, Argument(help="The signed certificate (PEM, DER or PKCS#7; may "
                                               "carry its chain).")],
    chain: Annotated[list[str] | None, Option("--chain", help="CA certificates (PEM bundle, DER or "
                                                    "PKCS#7; repeatable).")] = None,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    profile: ProfileOpt = "modern",
    module: ModuleOpt = None,
) -> None:
    """Attach a signed certificate and its chain to the key it was made for (found by public key)."""
    from keystores.ops.lifecycle import read_certificates, receive

    certs = read_certificates(_read_input(certificate, "certificate"), source=certificate)
    extra = [c for path in chain or [] for c in read_certificates(_read_input(path, "chain"), source=path)]
    result = _open_writable(store, password, store_type, module, profile,
                           lambda s: receive(s, certs, extra), create=False)
    show_notes(result.notes)
    err(f"received into '{result.label}' with a chain of {len(result.encoded)}")

def validate_cmd(
    store: Annotated[str, Argument()],
    label: Annotated[str, Argument()],
    trust: TrustStoresOpt = None,
    trust_password: TrustPasswordOpt = None,
    at: AtOpt = None,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    as_json: JsonOpt = False,
    module: ModuleOpt = None,
) -> None:
    """Build and verify an entry's chain against the trusted certificates; exit 5 when it does not validate."""
    from keystores.errors import ChecksFailed
    from keystores.lightweight import ExitStack
    from keystores.ops.audit import validate
    from keystores.pki.when import parse_when
    from keystores.store import open_store

    when = parse_when(at) if at else None
    with ExitStack() as stack:
        others = []
        for location in trust or []:
            opened = with_secret(trust_password, "trust store password",
                                 lambda pw, loc=location: open_store(loc, password=pw))
            others.append(stack.enter_context(opened))
        report = _open_reading(store, password, store_type, module,
                              lambda s: validate(s, label, trust_stores=others, at=when))
    if as_json:
        emit_json(report.as_dict("option"))
    else:
        from keystores.cli.render import said

        from keystores.text import printable

        for index, link in enumerate(report.links):
            state = "trusted" if link.trusted and not link.problems else ("ok" if not link.problems else "FAIL")
            print(f"[{index}] {state:7} {printable(link.subject)}")
            print(f"          issuer {printable(link.issuer)}; valid {link.not_before:%Y-%m-%d} .. "
                  f"{link.not_after:%Y-%m-%d}")
            for problem in link.problems:
                print(f"          problem: {printable(said(problem))}")
            for warning in link.warnings:
                print(f"          warning: {printable(warning)}")
        print(f"{printable(report.label)}: {'valid' if report.ok else 'NOT valid'}")
    if not report.ok:
        raise ChecksFailed("the chain does not validate", store=store, label=report.label)

def audit_cmd(
    stores: Annotated[list[str], Argument(help="Stores of any formats.")],
    within: Annotated[str, Option("--within", help="Report certificates expiring within this "
                                        "window, in days unless a unit is given: 30, 30d, 12w, 3mo, 1y "
                                        "(m is refused: minutes or months?).")] = "30d",
    skip: Annotated[list[str] | None, Option("--skip", help="A check not to report (repeatable): "
                                                   "expired, expiring, weak-signature, weak-key, "
                                                   "weak-protection, missing-link, duplicate-label, "
                                                   "same-cn, unreadable.")] = None,
    fail_on: Annotated[str, Option("--fail-on", help="Exit 5 on findings of this severity or above: "
                                         "error, warning or notice.")] = "warning",
    password: Annotated[str | None, Option("--password", "-p", help="Password for every store without "
                                                 f"a source of its own; never sent to a token. {SECRET_HELP}",
                                                 show_default=False)] = None,
    pin: Annotated[str | None, Option("--pin", help="PIN for every token without a source of its own.",
                                            show_default=False)] = None,
    password_for: Annotated[list[str] | None, Option("--password-for", help="STORE=SOURCE: the secret "
                                                           "of one store (or a pattern: '*.p12=env:PW'); "
                                                           "repeatable.", show_default=False)] = None,
    passwords: Annotated[str | None, Option("--passwords", help="A file of STORE=SOURCE lines "
                                                  "('#' comments).", show_default=False)] = None,
    as_json: JsonOpt = False,
    module: ModuleOpt = None,
) -> None:
    """Expiring/expired certificates, MD5/SHA-1 signatures, RSA < 2048, weak store protection, missing chain
    links and duplicate labels across many stores; exit 5 when a finding reaches --fail-on (for cron and CI).
    Each store gets its own secret: --password-for/--passwords, a .kdb's stash, else --password (--pin for
    tokens), else a prompt naming it on a terminal."""
    from keystores.cli.passwords import StoreSecrets

    from keystores.errors import ChecksFailed
    from keystores.lightweight import ExitStack
    from keystores.ops.audit import SEVERITIES, audit
    from keystores.pki.when import parse_duration

    window = parse_duration(within)
    if fail_on not in SEVERITIES:
        from keystores.errors import UsageError

        raise UsageError(f"--fail-on takes error, warning or notice, not '{fail_on}'")
    secrets = StoreSecrets(password_for or [], passwords)
    with ExitStack() as stack:
        opened = _open_audited(stores, secrets, password, pin, module, StorePrompts(), stack)
        for _, store in opened:
            if not isinstance(store, Exception):
                show_notes(store.notes)
        report = audit(dict(opened), within=window, skip=skip or [], fail_on=fail_on)
    if as_json:
        emit_json(report.as_dict("option"))
    else:
        from keystores.cli.render import tsv

        tsv([[finding.store, finding.label or "-", finding.severity, finding.check, finding.rendered("option")]
             for finding in report.findings])
        counted = ", ".join(f"{n} {level}{'s' if n != 1 else ''}" for level in reversed(SEVERITIES)
                            if (n := sum(f.severity == level for f in report.findings)))
        err(f"audited {report.stores} store(s), {report.certificates} certificate(s): "
            f"{len(report.findings)} finding(s){f' ({counted})' if counted else ''}")
    if not report.ok:
        raise ChecksFailed(f"{len(report.failing)} finding(s) at or above {fail_on}")

def dn_normalize(
    dn: Annotated[str, Argument(help="A DN in RFC 4514/MQ, RACF dotted or openssl slash form.")],
    racf: Annotated[bool, Option("--racf", help="RACF's dotted CN-first form: CN=x.O=y.C=GB.")] = False,
) -> None:
    """Upper-case attribute names, commas between parts, padding blanks removed, inner blanks and case kept."""
    from keystores.pki.dn import normalize

    print(normalize(dn, racf=racf))

def dn_compare(
    a: Annotated[str, Argument(help="First DN.")],
    b: Annotated[str, Argument(help="Second DN.")],
    as_json: JsonOpt = False,
) -> None:
    """Whether two DNs are equal as AMS compares them and, if not, why; exit 5 when they differ."""
    from keystores.errors import ChecksFailed
    from keystores.pki.dn import compare

    result = compare(a, b)
    if as_json:
        emit_json(result.as_dict())
    else:
        print("equal" if result.equal else "not equal")
        print(f"  A: {result.normal_a}")
        print(f"  B: {result.normal_b}")
        for reason in result.reasons:
            print(f"  - {reason}")
        for note in result.notes:
            print(f"  ({note})")
    if not result.equal:
        raise ChecksFailed("the DNs differ")
