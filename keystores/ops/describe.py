"""Entries as plain data: the stable JSON schema of `list --json` / `show --json` (README: "JSON schema")."""

from __future__ import annotations

from typing import Any

from keystores.chain import serial_of
from keystores.model import Entry, EntryKind, KeyRef, describe_key
from keystores.pki.columns import certificate_columns

SCHEMA_VERSION = 1


def _name(name: Any) -> str:
    """RFC 4514: the last RDN first, as keytool and runmqakm print a DN ("CN=x,O=y,C=GB" for a C,O,CN name)."""
    return name.rfc4514_string()


def _iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


_SHA256: list[Any] = []  # one hashes.SHA256(), made on first use (cryptography is not imported with this module)


def fingerprint(cert: Any) -> str:
    """The SHA-256 fingerprint as every output of keystores writes it: upper-case hex pairs joined by colons
    (`AB:CD:...`), as keytool -list -v and openssl x509 -fingerprint print it."""
    if not _SHA256:
        from cryptography.hazmat.primitives import hashes

        _SHA256.append(hashes.SHA256())
    return cert.fingerprint(_SHA256[0]).hex(":").upper()


def certificate_data(cert: Any) -> dict[str, Any]:
    return {
        "subject": _name(cert.subject),
        "issuer": _name(cert.issuer),
        "serial": format(serial_of(cert), "x"),
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
        "key_type": describe_key(cert.public_key()),
        "signature_algorithm": _signature_name(cert),
        "sha256": fingerprint(cert),
    }


def _signature_name(cert: Any) -> str:
    oid = cert.signature_algorithm_oid
    return getattr(oid, "_name", None) or oid.dotted_string


def entry_data(entry: Entry, *, detail: bool = False) -> dict[str, Any]:
    """One entry as the documented schema; `detail` adds the whole chain and key facts (for `show`)."""
    data: dict[str, Any] = {"label": entry.label, "kind": str(entry.kind)}
    empty = {"subject": None, "issuer": None, "serial": None, "not_before": None, "not_after": None,
             "key_type": None, "signature_algorithm": None, "sha256": None}
    cert = entry.certificate
    data.update(certificate_data(cert) if cert is not None else empty)
    if cert is None:
        public = entry.public_key
        if public is not None:
            data["key_type"] = describe_key(public)
        if entry.request is not None:
            data["subject"] = _name(entry.request.subject)
        # A sealed secret key (JCEKS) costs 400,000 MD5 rounds to open: `list` leaves its type out, `show` opens it.
        opened = detail or not getattr(entry, "sealed", False)
        if entry.kind is EntryKind.SECRET_KEY and opened and entry.secret is not None:
            data["key_type"] = f"{entry.secret.algorithm}-{entry.secret.size_bits}"
    data["default"] = entry.default
    data["trust"] = None if entry.trust is None else {"purposes": entry.trust.purposes, "native": entry.trust.native,
                                                      "verified": entry.trust.verified}
    # Asked of the kind, not of `entry.key`: backends decrypt keys lazily, and listing must not pay for that.
    data["has_private_key"] = entry.kind is EntryKind.KEY_PAIR
    data["on_token"] = entry.on_token
    data["chain_length"] = len(entry.chain)
    data["created"] = _iso(entry.created) if entry.created else None
    if detail:
        data["chain"] = [certificate_data(c) for c in entry.chain]
        if entry.on_token and isinstance(entry.key, KeyRef):
            data["key"] = {"id": entry.key.key_id.hex(), "sensitive": entry.key.sensitive,
                           "extractable": entry.key.extractable}
    return data


def entry_row(entry: Entry) -> dict[str, Any]:
    """The columns `list` prints as a table: the same values as entry_data, without the fields only JSON shows
    (fingerprint, issuer, serial...), which cost two thirds of listing a 2,000-entry store. A certificate its
    backend has not decoded yet is read by keystores.pki.columns, which does not decode the rest of it."""
    undecoded = entry.undecoded_leaf
    if undecoded is not None:
        columns = certificate_columns(undecoded)
        if columns is not None:
            subject, not_after, key_type = columns
            return {"label": entry.label, "kind": str(entry.kind), "subject": subject, "not_after": not_after,
                    "key_type": key_type, "default": entry.default}
    cert = entry.certificate
    if cert is None:
        full = entry_data(entry)
        return {key: full[key] for key in ("label", "kind", "subject", "not_after", "key_type", "default")}
    return {"label": entry.label, "kind": str(entry.kind), "subject": _name(cert.subject),
            "not_after": _iso(cert.not_valid_after_utc), "key_type": describe_key(cert.public_key()),
            "default": entry.default}


def store_data(store: Any, entries: list[Entry], *, detail: bool = False) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "store": store.location,
        "type": store.format,
        "protection": store.protection() if hasattr(store, "protection") else {},
        "entries": [entry_data(e, detail=detail) for e in entries],
    }


def skipped_data(entries: list[Entry]) -> list[dict[str, Any]]:
    """Certificates a convert/import left out (untrusted ones a JKS cannot hold): label, subject, sha256, reason."""
    skipped = []
    for entry in entries:
        cert = entry.certificate
        data = certificate_data(cert) if cert is not None else {}
        skipped.append({"label": entry.label, "subject": data.get("subject"), "sha256": data.get("sha256"),
                        "reason": "untrusted certificate: the destination holds trusted certificates only "
                                  "(--untrusted trust to keep it as trusted)"})
    return skipped
