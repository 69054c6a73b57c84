"""Entries as plain data: the stable JSON schema of `list --json` / `show --json` (README: "JSON schema")."""

from __future__ import annotations

from typing import Any

from keystores.chain import serial_of
from keystores.model import Entry, EntryKind, KeyRef, describe_key
from keystores.pki.columns import certificate_columns
from keystores.undecoded import RawCertificate, UndecodedPrivateKey, problem_of

SCHEMA_VERSION = 1


def _name(name: Any) -> str:
    """RFC 4514: the last RDN first, as keytool and runmqakm print a DN ("CN=x,O=y,C=GB" for a C,O,CN name)."""
    return name.rfc4514_string()


def _iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


_SHA256: list[Any] = []  # one hashes.SHA256(), made on first use (cryptography is not imported with this module)


def certificate_data(cert: Any) -> dict[str, Any]:
    if not _SHA256:
        from cryptography.hazmat.primitives import hashes

        _SHA256.append(hashes.SHA256())
    if isinstance(cert, RawCertificate):
        return _raw_certificate_data(cert)
    return {
        "subject": _name(cert.subject),
        "issuer": _name(cert.issuer),
        "serial": format(serial_of(cert), "x"),
        "not_before": _iso(cert.not_valid_before_utc),
        "not_after": _iso(cert.not_valid_after_utc),
        "key_type": _key_type(cert),
        "signature_algorithm": _signature_name(cert),
        "sha256": cert.fingerprint(_SHA256[0]).hex(":").upper(),
        "problem": None,
    }


def _key_type(cert: Any) -> str:
    """describe_key of the certificate's key; an RSA key restricted to RSASSA-PSS (cryptography loads it as a plain
    RSA key) is named for what its certificate says it is."""
    key_type = describe_key(cert.public_key())
    if key_type.startswith("RSA-") and cert.public_key_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10":
        return "RSASSA-PSS-" + key_type[4:]
    return key_type


def _raw_certificate_data(cert: RawCertificate) -> dict[str, Any]:
    """What a certificate cryptography refused says of itself, each field None where even its DER does not."""
    serial = cert.serial_number
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    data = {
        "subject": cert.subject.rfc4514_string() if cert.parsed is not None else None,
        "issuer": cert.issuer.rfc4514_string() if cert.parsed is not None else None,
        "serial": None if serial is None else format(serial, "x") if serial >= 0 else "-" + format(-serial, "x"),
        "not_before": None if not_before is None else _iso(not_before),
        "not_after": None if not_after is None else _iso(not_after),
        "key_type": cert.key_type,
        "signature_algorithm": cert.signature_algorithm_name,
        "sha256": cert.fingerprint(_SHA256[0]).hex(":").upper(),
        "problem": cert.problem,
    }
    return data


def entry_problem(entry: Entry) -> str | None:
    """What of the entry could not be decoded (its certificates, or a key already opened), in words; else None.
    A sealed key is not opened for this: listing never pays for decryption."""
    for index, cert in enumerate(entry.chain):
        problem = problem_of(cert)
        if problem is not None:
            return problem if index == 0 else f"certificate {index + 1} of the chain: {problem}"
    if entry.kind is EntryKind.KEY_PAIR and not getattr(entry, "sealed", False):
        problem = problem_of(entry.key)
        if problem is not None:
            return f"private key: {problem}"
    return None


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
    data.pop("problem", None)
    if cert is None:
        key = None if getattr(entry, "sealed", False) else entry.key
        public = entry.public_key if problem_of(key) is None else None
        if public is not None:
            data["key_type"] = describe_key(public)
        elif isinstance(key, UndecodedPrivateKey):
            data["key_type"] = key.key_type
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
    data["problem"] = entry_problem(entry)
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
    if cert is None or isinstance(cert, RawCertificate):
        full = entry_data(entry)
        return {key: full[key] for key in ("label", "kind", "subject", "not_after", "key_type", "default", "problem")}
    return {"label": entry.label, "kind": str(entry.kind), "subject": _name(cert.subject),
            "not_after": _iso(cert.not_valid_after_utc), "key_type": _key_type(cert),
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
