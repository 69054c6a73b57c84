"""Shared material for the cross-cutting hardening tests (crash safety, concurrency, fuzz, secrets, file system).

Every test here is parameterised over the FILE formats and skips a format whose backend is not usable yet, so the
suite grows as backends land. Stores are made through the library (fast, no subprocess) and judged by reopening.
"""

from __future__ import annotations

import datetime as dt
import os
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID
from helpers import ec_key, key_pair_entry, trusted_entry

from keystores import formats
from keystores.fileio import TEMP_PREFIX
from keystores.model import TRUST_ALL, Entry, EntryKind

PASSWORD = "Hardening-Pw-1"

# format -> how a store of that format is named inside a folder ("{}" is the folder): every local store we write,
# from the format records (keystores/formats.py), so a new format is hardened as soon as its record exists
FILE_FORMATS: dict[str, str] = {record.name: record.address_in("{}") for record in formats.file_formats()}


def usable(fmt: str) -> None:
    """Skip unless the backend for `fmt` imports and reports itself usable here."""
    from keystores.store import backend_status

    reason = backend_status().get(fmt, "unknown format")
    if reason is not None:
        pytest.skip(f"{fmt} backend not usable here: {reason}")


def location(fmt: str, folder: Path) -> str:
    return FILE_FORMATS[fmt].format(folder)


def files_of(loc: str) -> list[Path]:
    """The files on disk that make up the store at `loc` (a CMS .kdb has companions, NSS is two databases)."""
    addressed = formats.by_prefix(loc)
    if addressed is not None:
        folder = addressed.folder_of(loc)
        return [folder / name for name in addressed.folder_files]
    path = Path(loc)
    record = formats.by_extension(loc)
    companions = record.companions if record else ()
    return [p for p in (path, *(path.with_suffix(suffix) for suffix in companions)) if p.exists()]


def folder_of(loc: str) -> Path:
    addressed = formats.by_prefix(loc)
    return addressed.folder_of(loc) if addressed is not None else Path(loc).parent


def temp_files(folder: Path) -> list[str]:
    """Temporary files our writers leave if they die (fileio.TEMP_PREFIX), anywhere under `folder`."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(f"{TEMP_PREFIX}*"))


def snapshot(loc: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in files_of(loc)}


@cache
def _ca() -> tuple[object, x509.Certificate]:
    key = ec_key(900)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Hardening bulk CA")])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


@cache
def bulk_certificates(count: int, tag: str = "bulk") -> tuple[x509.Certificate, ...]:
    """`count` distinct CA certificates (one EC key, distinct subjects and serials): cheap to make by the hundred."""
    ca_key, ca_cert = _ca()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    made = []
    for i in range(count):
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{tag} trust anchor {i}"),
                             x509.NameAttribute(NameOID.ORGANIZATION_NAME, "keystores hardening")])
        made.append(x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
                    .public_key(ec_key(901).public_key()).serial_number(10_000 + i)
                    .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
                    .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                    .sign(ca_key, hashes.SHA256()))
    return tuple(made)


def bulk_entries(count: int, tag: str = "bulk") -> list[Entry]:
    return [Entry(label=f"{tag}-{i:04d}", kind=EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL)
            for i, cert in enumerate(bulk_certificates(count, tag))]


def make_store(fmt: str, loc: str, entries: list[Entry], *, password: str = PASSWORD) -> None:
    """Create a store of `fmt` at `loc` holding `entries` (through the library, as `create` + `import` would)."""
    from keystores.store import open_store

    with open_store(loc, password=password, type=fmt, create=True) as store:
        for entry in entries:
            store.add(entry)


def labels_of(loc: str, *, password: str = PASSWORD) -> set[str]:
    """The labels of the store at `loc`, lower-cased (JKS lower-cases its aliases); raises if it does not open."""
    from keystores.store import open_store

    with open_store(loc, password=password) as store:
        return {e.label.lower() for e in store.entries()}


def base_entries() -> list[Entry]:
    """A key pair and a trusted certificate: what the "old" store holds before a bulk write."""
    return [key_pair_entry("old-key", index=7, use_ec=True), trusted_entry("old-anchor", index=3)]


def no_core_dump_env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
