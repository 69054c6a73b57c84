"""Moving entries between stores: convert, import, export. Written once against the protocol.

What a destination cannot express raises CapabilityError before anything is written; a store is saved only when
every entry went in, so a failed transfer leaves the destination as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from keystores.errors import CapabilityError, StoreExists, UsageError
from keystores.model import Entry, EntryKind, KeyRef
from keystores.store import KeyStore, open_store, store_exists

Progress = Callable[[int, int], None]  # (done, total)


@dataclass
class TransferResult:
    copied: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _portable(entry: Entry, dest: KeyStore) -> Entry:
    """The entry as `dest` can hold it, or CapabilityError naming what it cannot."""
    caps = dest.capabilities
    if entry.default and not caps.default_flag:
        entry = entry.with_(default=False)  # a default flag has no meaning there; dropping it loses no data
    if entry.kind is EntryKind.KEY_PAIR and isinstance(entry.key, KeyRef) and not entry.key.extractable:
        raise CapabilityError("extractable_keys", "the private key is on a token and marked non-extractable: "
                              "it cannot be copied; export its certificate instead", store=dest.location,
                              label=entry.label)
    return entry


def copy_entries(source: KeyStore, dest: KeyStore, *, labels: Iterable[str] | None = None,
                 rename: dict[str, str] | None = None, replace: bool = False,
                 progress: Progress | None = None) -> list[str]:
    """Add the chosen entries of `source` to `dest` (not saved here). Returns the labels written."""
    chosen = [source.get(label) for label in labels] if labels is not None else list(source.entries())
    prepared = []
    for entry in chosen:
        new_label = (rename or {}).get(entry.label, entry.label)
        prepared.append(_portable(entry.with_(label=new_label), dest))
    if not dest.capabilities.multiple_entries and len(prepared) > 1:
        raise CapabilityError("multiple_entries", f"a {dest.format} file holds one entry, {len(prepared)} given",
                              store=dest.location)
    written = []
    for done, entry in enumerate(prepared, 1):
        dest.add(entry, replace=replace)
        written.append(entry.label)
        if progress:
            progress(done, len(prepared))
    return written


def convert(src: str, dest: str, *, password: str | None = None, dest_password: str | None = None,
            src_type: str | None = None, dest_type: str | None = None, profile: str = "modern",
            force: bool = False, progress: Progress | None = None, dest_options: dict | None = None) -> TransferResult:
    """Write every entry of `src` into a new store `dest` (its type from `dest_type` or its name)."""
    result = TransferResult()
    if store_exists(dest) and not force and not dest.startswith("pkcs11:"):
        raise StoreExists("already exists; use --force to replace it", store=dest)
    with open_store(src, password=password, type=src_type) as source:
        result.notes += source.notes
        target = open_store(dest, password=dest_password, type=dest_type, create=True, fresh=force,
                            profile=profile, **(dest_options or {}))
        with target:
            result.copied = copy_entries(source, target, replace=force, progress=progress)
            result.notes += target.notes
    return result


def import_entries(src: str, dest: str, *, password: str | None = None, dest_password: str | None = None,
                   src_type: str | None = None, dest_type: str | None = None, labels: list[str] | None = None,
                   new_label: str | None = None, replace: bool = False, profile: str = "modern",
                   progress: Progress | None = None) -> TransferResult:
    """Add entries of `src` (all, or `labels`) to `dest`, creating `dest` if it does not exist."""
    result = TransferResult()
    with open_store(src, password=password, type=src_type) as source:
        result.notes += source.notes
        rename = None
        if new_label:
            picked = labels or source.labels()
            if len(picked) != 1:
                raise UsageError("--label NAME renames one entry; the source holds several (choose one with "
                                 "--entry)", store=src)
            rename = {picked[0]: new_label}
            labels = picked
        with open_store(dest, password=dest_password, type=dest_type, writable=True, create=True,
                        profile=profile) as target:
            result.copied = copy_entries(source, target, labels=labels, rename=rename, replace=replace,
                                         progress=progress)
            result.notes += target.notes
    return result


def import_pem_parts(dest: str, *, key: str | None, cert: str, chain: list[str], label: str | None,
                     key_password: str | None = None, dest_password: str | None = None,
                     dest_type: str | None = None, replace: bool = False, profile: str = "modern") -> TransferResult:
    """`import --key k.pem --cert c.pem --chain ca.pem DEST`: the parts as one bundle, paired by public key."""
    with tempfile.TemporaryDirectory(prefix="keystores-") as folder:
        bundle = Path(folder) / "bundle.pem"
        parts = [p for p in (key, cert, *chain) if p]
        data = b""
        for part in parts:
            content = Path(part).read_bytes() if Path(part).exists() else None
            if content is None:
                from keystores.errors import StoreNotFound

                raise StoreNotFound("no such file", store=part)
            if not content.lstrip().startswith(b"-----") and b"-----BEGIN" not in content:
                content = _der_to_pem(content, part)
            data += content.rstrip(b"\n") + b"\n"
        fd = os.open(bundle, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        with open_store(str(bundle), password=key_password, type="pem") as source:
            entries = list(source.entries())
            wanted = [e for e in entries if e.kind is EntryKind.KEY_PAIR] if key else entries
            if key and not wanted:
                raise UsageError("the key matches none of the certificates given", store=key)
            names = [e.label for e in wanted[:1]] if key else [e.label for e in wanted]
            rename = {names[0]: label} if label and names else None
            result = TransferResult()
            with open_store(dest, password=dest_password, type=dest_type, writable=True, create=True,
                            profile=profile) as target:
                result.copied = copy_entries(source, target, labels=names, rename=rename, replace=replace)
                result.notes += target.notes
            return result


def _der_to_pem(content: bytes, name: str) -> bytes:
    """A DER part becomes PEM so the bundle parser sees one format; the kind is found by parsing."""
    import base64

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        x509.load_der_x509_certificate(content)
        kind = "CERTIFICATE"
    except ValueError:
        try:
            serialization.load_der_private_key(content, None)
            kind = "PRIVATE KEY"
        except (ValueError, TypeError):
            from keystores.errors import UnsupportedFormat

            raise UnsupportedFormat("neither a PEM file nor a DER certificate or key", store=name) from None
    body = base64.encodebytes(content).replace(b"\n", b"")
    lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return b"-----BEGIN " + kind.encode() + b"-----\n" + lines + b"\n-----END " + kind.encode() + b"-----\n"


def export_entry(store_location: str, label: str, out: str, *, password: str | None = None,
                 out_password: str | None = None, out_format: str = "pem", include_chain: bool = False,
                 include_key: bool = False, store_type: str | None = None, force: bool = False,
                 profile: str = "modern") -> TransferResult:
    """One entry to a file: its certificate (and chain, and key when asked) as PEM, DER or PKCS#12."""
    if out_format not in ("pem", "der", "p12", "pkcs12"):
        raise UsageError(f"unknown export format '{out_format}'; use pem, der or p12")
    if store_exists(out) and not force:
        raise StoreExists("already exists; use --force to replace it", store=out)
    with open_store(store_location, password=password, type=store_type) as store:
        entry = store.get(label)
        notes = list(store.notes)
    if out_format in ("p12", "pkcs12"):
        include_key = include_key or entry.kind is EntryKind.KEY_PAIR
        include_chain = True if include_key else include_chain
    if entry.kind is EntryKind.SECRET_KEY:
        raise CapabilityError("secret_keys", "a secret key has no certificate to export", store=store_location,
                              label=label)
    if entry.certificate is None:
        raise UsageError("entry has no certificate to export", store=store_location, label=label)
    chain = entry.chain if include_chain else entry.chain[:1]
    if include_key:
        if entry.key is None:
            raise UsageError("entry has no private key", store=store_location, label=label)
        exported = entry.with_(chain=chain, default=False)
    else:
        exported = Entry(label=entry.label, kind=EntryKind.TRUSTED_CERT, chain=chain, trust=entry.trust)
    if out_format == "der" and (include_key or len(chain) > 1):
        raise CapabilityError("multiple_entries", "DER holds one object: export the certificate alone, or use "
                              "--format pem or p12 for a chain or key", store=out)
    dest_type = {"p12": "pkcs12", "pkcs12": "pkcs12"}.get(out_format, out_format)
    target = open_store(out, password=out_password, type=dest_type, create=True, fresh=True, profile=profile)
    with target:
        target.add(_portable(exported, target), replace=True)
        notes += target.notes
    return TransferResult(copied=[entry.label], notes=notes)
