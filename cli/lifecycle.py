"""Certificate lifecycle commands: selfsign, certreq, sign, receive, dn normalize/compare (validate and audit:
cli.audit).

Thin: parse, resolve secrets through cli.common's helpers, call one operation in keystores.ops.lifecycle, render.
dn compare prints its report first and then raises ChecksFailed (exit 5) when it fails.
"""

from __future__ import annotations

import os
import sys

from keystores.cli.common import emit_json, err, show_notes, store_options, with_secret
from keystores.cli.options import (
    Annotated,
    Argument,
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


class _WrittenAfter:
    """The file a command writes after its store (certreq's request, selfsign's certificate with -o): staged
    once made, inside the store's block, by keystores.fileio.write_after (its fsync runs while the store is saved),
    and committed after the save, or dropped where the save fails. Where making or staging it fails (an output
    format refused, no folder, no permission), nothing is staged: write() then makes and writes it after the store
    as before (_write_output), with the same error, and the store is saved as before."""

    __slots__ = ("_path", "_staged")

    def __init__(self, path: str | None) -> None:
        """`path`: None (or empty) where nothing is written to a file."""
        self._path = path or None
        self._staged: list[Any] = []

    def stage(self, make: Any) -> None:
        """`make()`: the file's bytes (a retried attempt stages anew; the earlier one is dropped by write())."""
        if self._path is None:
            return
        from keystores.errors import KeystoreError
        from keystores.fileio import write_after
        from keystores.lightweight import suppress

        staged = None
        if os.path.exists(os.path.dirname(self._path.rstrip("/") or "/") or "."):
            with suppress(KeystoreError, OSError, ValueError):
                staged = write_after(self._path, make())
        self._staged.append(staged)

    def saved_with(self, made_by: Any, file_bytes: Any, store: str, password: str | None, store_type: str | None,
                   module: str | None, profile: str) -> Any:
        """_open_writable(..., create=True) of `made_by(store)`, this file staged as `file_bytes(made)` once made;
        dropped where the store is not saved."""

        def make(opened: Any) -> Any:
            made = made_by(opened)
            self.stage(lambda: file_bytes(made))
            return made

        try:
            return _open_writable(store, password, store_type, module, profile, make, create=True)
        except BaseException:
            self.drop()
            raise

    def drop(self) -> None:
        for file in self._staged:
            if file is not None:
                file.discard()
        self._staged.clear()

    def write(self, make: Any) -> None:
        """Commit the file staged last, else write `make()` as before."""
        assert self._path is not None
        last = self._staged.pop() if self._staged else None
        self.drop()  # (staged by an attempt that did not save: none so far)
        if last is not None:
            last.commit()
        else:
            _write_output(self._path, make())


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
                 action: Any, what: str = "password", *, key: str | None = None) -> Any:
    """`action` on the store opened for reading; `key`: the label of a key it will open (sign's CA key), whose
    derivation the read may start beside its own (lazy_entries.KeysWanted, as a transfer's source)."""
    from keystores.store import open_store

    def act(pw: str | None) -> Any:
        if key is not None:
            from keystores.lazy_entries import KeysWanted

            with KeysWanted((key,)) as wanted, open_store(store, password=pw, type=store_type,
                                                    **store_options(module)) as opened:
                wanted.stop()
                show_notes(opened.notes)
                return action(opened)
        with open_store(store, password=pw, type=store_type, **store_options(module)) as opened:
            show_notes(opened.notes)
            return action(opened)

    return with_secret(password, what, act)


# Each command's parameters are named before it: cli.quick_parse looks a name up where it compiles an inline
# annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_SelfsignStore = Annotated[str, Argument(help="The store (created if missing): file, sql:DIR or pkcs11: URI.")]
_SelfsignCa = Annotated[bool, Option("--ca", help="Make a CA certificate (keyCertSign, cRLSign) that "
                                           "`keystores sign` can use.")]
_SelfsignOut = Annotated[str | None, Option("--out", "-o", help="Also write the certificate (PEM) here.",
                                                  show_default=False)]


def selfsign_cmd(
    store: _SelfsignStore,
    label: LabelOpt,
    dn: DnOpt,
    ca: _SelfsignCa = False,
    days: DaysOpt = None,
    not_after: NotAfterOpt = None,
    key_type: KeyTypeOpt = "rsa:2048",
    md: MdOpt = None,
    san: SanOpt = None,
    path_length: PathLengthOpt = None,
    out: _SelfsignOut = None,
    replace: ReplaceOpt = False,
    password: PasswordOpt = None,
    dest_password: DestPasswordOpt = None,
    store_type: TypeOpt = None,
    profile: ProfileOpt = "modern",
    module: ModuleOpt = None,
) -> None:
    """A key pair and a self-signed certificate (runmqakm -cert -create, keytool -genkeypair)."""
    from keystores.ops.lifecycle_make import selfsign

    _check_output_folder(out)
    _check_request_inputs(dn, key_type, san)
    cert_file = _WrittenAfter(out)  # it lands after the store is saved, its fsync beside the save
    result = cert_file.saved_with(
        lambda s: selfsign(s, label, dn, ca=ca, days=days, not_after=not_after, key_spec=key_type, md=md,
                           sans=san or [], path_length=path_length, replace=replace),
        lambda made: _pem_or_der([made.encoded[0]], out, "pem"),
        store, _store_password(password, dest_password), store_type, module, profile)
    show_notes(result.notes)
    if out:
        cert_file.write(lambda: _pem_or_der([result.encoded[0]], out, "pem"))
    from keystores.pki.when import iso_utc_seconds  # (no datetime: start-up speed)

    err(f"made '{result.label}': {'CA ' if ca else ''}certificate for {dn}, valid until "
        f"{iso_utc_seconds(result.encoded[0].validity_seconds()[1])}")


_CertreqStore = Annotated[str, Argument(help="Store for the key (created if missing); on a pkcs11: URI the "
                                              "key is made on the token.")]
_CertreqOut = Annotated[str, Option("--out", "-o", help="Request file to write (PEM; '-' for stdout).")]


def certreq_cmd(
    store: _CertreqStore,
    label: LabelOpt,
    dn: DnOpt,
    out: _CertreqOut,
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
    from keystores.ops.lifecycle_make import certreq

    _check_output_folder(out)
    _check_request_inputs(dn, key_type, san)
    request_file = _WrittenAfter(None if out == "-" else out)  # after the save, synced beside it
    result = request_file.saved_with(
        lambda s: certreq(s, label, dn, key_spec=key_type, sans=san or [], md=md, replace=replace),
        lambda made: made.encoded.pem(), store, _store_password(password, dest_password), store_type, module,
        profile)
    pem = result.encoded.pem()  # as made: no cryptography import (start-up speed)
    if out == "-":
        sys.stdout.write(pem.decode("ascii"))
    else:
        request_file.write(lambda: pem)
    show_notes(result.notes)
    if out != "-":
        err(f"wrote the request for '{result.label}' to {out}")


_SignCaStore = Annotated[str, Argument(help="Store holding the CA key (any format, a token too).")]
_SignRequest = Annotated[str, Argument(help="The certificate request (PEM or DER).")]
_SignOut = Annotated[str, Option("--out", "-o", help="Certificate file to write ('-' for stdout).")]
_SignCertProfile = Annotated[str, Option("--profile", help="server, client, server-client, email, "
                                               "codesign, timestamp, ocsp or ca.")]
_SignCopySans = Annotated[bool, Option("--copy-sans", help="Copy the SANs the request asks for.")]
_SignChain = Annotated[bool, Option("--chain", help="Write the CA chain after the certificate.")]
_SignOutFormat = Annotated[str | None, Option("--format", "-f", help="pem or der (default: from "
                                                    "the extension, else pem).", show_default=False)]
_SignForce = Annotated[bool, Option("--force", help="Replace an existing output file.")]


def sign_cmd(
    ca_store: _SignCaStore,
    request: _SignRequest,
    label: LabelOpt,
    out: _SignOut,
    days: DaysOpt = None,
    not_after: NotAfterOpt = None,
    md: MdOpt = None,
    cert_profile: _SignCertProfile = "server",
    copy_sans: _SignCopySans = False,
    san: SanOpt = None,
    path_length: PathLengthOpt = None,
    chain: _SignChain = False,
    out_format: _SignOutFormat = None,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    module: ModuleOpt = None,
    force: _SignForce = False,
) -> None:
    """The CA signs a request (runmqakm -cert -sign, openssl ca); WHEN takes ISO 8601 or 20300130164600Z."""
    from keystores.ops.lifecycle_sign import sign

    _check_output_folder(out)
    if out != "-" and not force:
        from keystores.errors import StoreExists

        if os.path.exists(out):
            raise StoreExists("already exists; use --force to replace it", store=out)
    data = _read_input(request, "request")
    result = _open_reading(ca_store, password, store_type, module, lambda s: sign(
        s, label, data, days=days, not_after=not_after, md=md, profile=cert_profile, copy_sans=copy_sans,
        sans=san or [], path_length=path_length, source=request), key=label)
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
        from keystores.pki.dn import describe  # (loaded already: sign read the request's subject)
        from keystores.pki.when import iso_utc_seconds  # (no datetime: start-up speed)

        made = result.encoded[0]
        err(f"wrote {out}: {describe(made)}, serial {made.serial_number:x}, "
            f"valid until {iso_utc_seconds(made.validity_seconds()[1])}")


_ReceiveStore = Annotated[str, Argument(help="Store holding the key (a .kdb with its .rdb, a token...).")]
_ReceiveCertificate = Annotated[str, Argument(help="The signed certificate (PEM, DER or PKCS#7; may "
                                                    "carry its chain).")]
_ReceiveChain = Annotated[list[str] | None, Option("--chain", help="CA certificates (PEM bundle, DER or "
                                                         "PKCS#7; repeatable).")]


def receive_cmd(
    store: _ReceiveStore,
    certificate: _ReceiveCertificate,
    chain: _ReceiveChain = None,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
    profile: ProfileOpt = "modern",
    module: ModuleOpt = None,
) -> None:
    """Attach a signed certificate and its chain to the key it was made for (found by public key)."""
    from keystores.ops.lifecycle_receive import read_certificates, receive

    certs = read_certificates(_read_input(certificate, "certificate"), source=certificate)
    extra = [c for path in chain or [] for c in read_certificates(_read_input(path, "chain"), source=path)]
    result = _open_writable(store, password, store_type, module, profile,
                           lambda s: receive(s, certs, extra), create=False)
    show_notes(result.notes)
    err(f"received into '{result.label}' with a chain of {len(result.encoded)}")


_DnNormalizeDn = Annotated[str, Argument(help="A DN in RFC 4514/MQ, RACF dotted or openssl slash form.")]
_DnNormalizeRacf = Annotated[bool, Option("--racf", help="RACF's dotted CN-first form: CN=x.O=y.C=GB.")]


def dn_normalize(
    dn: _DnNormalizeDn,
    racf: _DnNormalizeRacf = False,
) -> None:
    """Upper-case attribute names, commas between parts, padding blanks removed, inner blanks and case kept."""
    from keystores.pki.dn_compare import normalize

    print(normalize(dn, racf=racf))


_DnCompareA = Annotated[str, Argument(help="First DN.")]
_DnCompareB = Annotated[str, Argument(help="Second DN.")]


def dn_compare(
    a: _DnCompareA,
    b: _DnCompareB,
    as_json: JsonOpt = False,
) -> None:
    """Whether two DNs are equal as AMS compares them and, if not, why; exit 5 when they differ."""
    from keystores.errors import ChecksFailed
    from keystores.pki.dn_compare import compare

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
