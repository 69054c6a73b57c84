"""Entries as plain data: the stable JSON schema of `list --json` / `show --json` (README: "JSON schema")."""

from __future__ import annotations

from keystores.errors import Hint, Naming, Note
from keystores.model import Entry, EntryKind, KeyRef, describe_key
from keystores.pki.columns import certificate_columns

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.pki.shown import Shown

# keystores.pki.undecoded, .certificates, .fingerprints and .shown are imported where used: `list` of a store whose
# certificates keystores.pki.columns and .shown read needs only those two, `show` of one only .shown (start-up).

SCHEMA_VERSION = 1


def _iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")


# Names as `openssl x509 -text` prints them, so that what `show` says reads the same as what admins know; in the
# order of the KeyUsage BIT STRING's bits (cryptography's attribute names beside them).
_KEY_USAGES = (("digital_signature", "Digital Signature"), ("content_commitment", "Non Repudiation"),
               ("key_encipherment", "Key Encipherment"), ("data_encipherment", "Data Encipherment"),
               ("key_agreement", "Key Agreement"), ("key_cert_sign", "Certificate Sign"), ("crl_sign", "CRL Sign"),
               ("encipher_only", "Encipher Only"), ("decipher_only", "Decipher Only"))
_KEY_AGREEMENT = 4
_EXTENDED_KEY_USAGES = {
    "1.3.6.1.5.5.7.3.1": "TLS Web Server Authentication", "1.3.6.1.5.5.7.3.2": "TLS Web Client Authentication",
    "1.3.6.1.5.5.7.3.3": "Code Signing", "1.3.6.1.5.5.7.3.4": "E-mail Protection",
    "1.3.6.1.5.5.7.3.8": "Time Stamping", "1.3.6.1.5.5.7.3.9": "OCSP Signing",
    "2.5.29.37.0": "Any Extended Key Usage", "1.3.6.1.5.5.7.3.17": "ipsec Internet Key Exchange",
    "1.3.6.1.4.1.311.20.2.2": "Microsoft Smartcard Login",
}


def _key_id(value: bytes | None) -> str | None:
    return value.hex(":").upper() if value else None


def _san_text(kind: str, value: Any) -> str:
    return f"{kind}:{value}"


def _key_usage_names(is_set: Any) -> list[str]:
    """The key usages whose bit `is_set(bit)` says is set; encipher/decipher only are asked only with key
    agreement (cryptography's KeyUsage refuses to say otherwise)."""
    bits = range(len(_KEY_USAGES)) if is_set(_KEY_AGREEMENT) else range(_KEY_AGREEMENT + 3)
    return [_KEY_USAGES[bit][1] for bit in bits if is_set(bit)]


def _extended_key_usage_names(dotted: list[str]) -> list[str]:
    return [_EXTENDED_KEY_USAGES.get(oid, oid) for oid in dotted]


def _basic_constraints(ca: bool, path_length: int | None, critical: bool) -> dict[str, Any]:
    return {"ca": ca, "path_length": path_length, "critical": critical}


def shown_certificate_data(shown: Shown) -> dict[str, Any]:
    """{**certificate_data, **certificate_details} of a certificate keystores.pki.shown read from its DER: the same
    fields in the same order with the same values (tests/test_shown.py), without importing cryptography.x509."""
    key_usage = shown.key_usage
    key_type, key_size = shown.key if shown.key is not None else (
        _named_key_type(shown.public_key, shown.public_key_algorithm), _key_bits(shown.public_key))
    return {
        "subject": shown.subject, "issuer": shown.issuer, "serial": _serial_text(shown.serial),
        "not_before": shown.not_before, "not_after": shown.not_after, "key_type": key_type,
        "signature_algorithm": shown.signature_algorithm,
        "sha256": shown.fingerprint("sha256").hex(":").upper(), "problem": None,
        "version": shown.version, "key_size": key_size,
        "sha1": shown.fingerprint("sha1").hex(":").upper(),
        "subject_alt_names": None if shown.subject_alt_names is None else [
            _san_text(kind, value) for kind, value in shown.subject_alt_names],
        "key_usage": None if key_usage is None else _key_usage_names(key_usage.__contains__),
        "extended_key_usage": None if shown.extended_key_usage is None else _extended_key_usage_names(
            shown.extended_key_usage),
        "basic_constraints": None if shown.basic_constraints is None else _basic_constraints(
            *shown.basic_constraints),
        "subject_key_identifier": _key_id(shown.subject_key_identifier),
        "authority_key_identifier": _key_id(shown.authority_key_identifier),
        "extensions_readable": True,
    }


def _serial_text(serial: int) -> str:
    return format(serial, "x")


def _key_bits(public_key: Any) -> int | None:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    # DSA is left out: naming cryptography's DSA class warns that DSA is deprecated (key_type still says DSA-N).
    if isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return public_key.key_size
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return 256
    if isinstance(public_key, ed448.Ed448PublicKey):
        return 456


def _named_key_type(public_key: Any, algorithm: str) -> str:
    """_key_type of a key and the dotted OID of its SubjectPublicKeyInfo's algorithm."""
    key_type = describe_key(public_key)
    return "RSASSA-PSS-" + key_type[4:] if key_type.startswith("RSA-") and algorithm == _RSA_PSS else key_type


_RSA_PSS = "1.2.840.113549.1.1.10"


def entry_problem(entry: Entry) -> str | None:
    """What of the entry could not be decoded (its certificates, or a key already opened), in words; else None.
    A sealed key is not opened for this: listing never pays for decryption."""
    from keystores.pki.undecoded import problem_of

    for index, cert in enumerate(entry.chain):
        problem = problem_of(cert)
        if problem is not None:
            return problem if index == 0 else f"certificate {index + 1} of the chain: {problem}"
    return _key_problem(entry)


def _key_problem(entry: Entry) -> str | None:
    if entry.kind is EntryKind.KEY_PAIR and not entry.sealed and not entry.key_known_loadable():
        from keystores.pki.undecoded import problem_of

        problem = problem_of(entry.key)
        if problem is not None:
            return f"private key: {problem}"
    return None


def entry_data(entry: Entry, *, detail: bool = False) -> dict[str, Any]:
    """One entry as the documented schema; `detail` adds the whole chain and key facts (for `show`)."""
    data: dict[str, Any] = {"label": entry.label, "kind": str(entry.kind)}
    shown = _shown_chain(entry)
    if shown is not None:  # every certificate read from its DER: none has a problem
        data.update({name: shown[0][name] for name in _LISTED})
        return _entry_rest(entry, data, detail, problem=_key_problem(entry), chain=shown)
    empty = {"subject": None, "issuer": None, "serial": None, "not_before": None, "not_after": None,
             "key_type": None, "signature_algorithm": None, "sha256": None}
    from keystores.ops.describe_decoded import _name, certificate_data

    cert = entry.certificate
    data.update(certificate_data(cert) if cert is not None else empty)
    data.pop("problem", None)
    if cert is None:
        from keystores.pki.undecoded import UndecodedPrivateKey, problem_of

        key = None if entry.sealed else entry.key
        public = entry.public_key if problem_of(key) is None else None
        if public is not None:
            data["key_type"] = describe_key(public)
        elif isinstance(key, UndecodedPrivateKey):
            data["key_type"] = key.key_type
        if entry.request is not None:
            data["subject"] = _name(entry.request.subject)
        # A sealed secret key (JCEKS) costs 400,000 MD5 rounds to open: `list` leaves its type out, `show` opens it.
        opened = detail or not entry.sealed
        if entry.kind is EntryKind.SECRET_KEY and opened and entry.secret is not None:
            data["key_type"] = f"{entry.secret.algorithm}-{entry.secret.size_bits}"
    return _entry_rest(entry, data, detail, problem=entry_problem(entry), chain=None)


# certificate_data's fields that entry_data lists for the leaf (its problem is the entry's, given last)
_LISTED = ("subject", "issuer", "serial", "not_before", "not_after", "key_type", "signature_algorithm", "sha256")


def _shown_chain(entry: Entry) -> list[dict[str, Any]] | None:
    """Every certificate of the chain as certificate_data and certificate_details give it, read from the DER its
    backend still holds (keystores.pki.shown), so that `show` imports no cryptography.x509; None when the backend
    holds no undecoded chain, or a certificate is in a form left to cryptography."""
    chain_der = entry.undecoded_chain
    if not chain_der:
        return None
    from keystores.pki.shown import read_shown

    shown = []
    for der in chain_der:
        facts = read_shown(der)
        if facts is None:
            return None
        shown.append(shown_certificate_data(facts))
    return shown


def _entry_rest(entry: Entry, data: dict[str, Any], detail: bool, *, problem: str | None,
                chain: list[dict[str, Any]] | None) -> dict[str, Any]:
    """entry_data's fields after the leaf's certificate facts; `chain` is the chain's data where already read."""
    data["default"] = entry.default
    data["trust"] = None if entry.trust is None else {"purposes": entry.trust.purposes, "native": entry.trust.native,
                                                      "verified": entry.trust.verified}
    # Asked of the kind, not of `entry.key`: backends decrypt keys lazily, and listing must not pay for that.
    data["has_private_key"] = entry.kind is EntryKind.KEY_PAIR
    data["on_token"] = entry.on_token
    data["chain_length"] = len(chain if chain is not None else entry.chain)
    data["created"] = _iso(entry.created) if entry.created else None
    data["problem"] = problem
    if detail:
        if chain is None:
            from keystores.ops.describe_decoded import certificate_data, certificate_details

            chain = [{**certificate_data(c), **certificate_details(c)} for c in entry.chain]
        data["chain"] = chain
        if entry.on_token and isinstance(entry.key, KeyRef):
            data["key"] = {"id": entry.key.key_id.hex(), "sensitive": entry.key.sensitive,
                           "extractable": entry.key.extractable}
    return data


def entry_row(entry: Entry, *, link: bool = False) -> dict[str, Any]:
    """The columns `list` prints as a table, and the entry's problem: the same values as entry_data, without the
    fields only JSON shows (fingerprint, issuer, serial...), which cost two thirds of listing a 2,000-entry store. A
    certificate its backend has not decoded yet is read from its DER once, for its columns and its problem alike
    (_leaf_columns), and not decoded. A chain its backend links on first use (NSS, CMS key pairs: signatures
    checked) is linked only with `link`; without it only the leaf is judged (entry_rows says when to link)."""
    undecoded = entry.undecoded_leaf
    if undecoded is not None:
        columns = _leaf_columns(undecoded)
        if columns is not None:
            subject, not_after, key_type = columns
            return {"label": entry.label, "kind": str(entry.kind), "subject": subject, "not_after": not_after,
                    "key_type": key_type, "default": entry.default, "problem": _listed_problem(entry, undecoded,
                                                                                               link=link)}
    from keystores.ops.describe_decoded import _key_type, _name
    from keystores.pki.undecoded import RawCertificate

    cert = entry.certificate
    if cert is None or isinstance(cert, RawCertificate):
        full = entry_data(entry)
        return {key: full[key] for key in ("label", "kind", "subject", "not_after", "key_type", "default", "problem")}
    return {"label": entry.label, "kind": str(entry.kind), "subject": _name(cert.subject),
            "not_after": _iso(cert.not_valid_after_utc), "key_type": _key_type(cert),
            "default": entry.default, "problem": entry_problem(entry)}


def _leaf_columns(der: bytes) -> tuple[str, str, str] | None:
    """certificate_columns of a leaf its backend holds as DER, read once with what _listed_problem asks of it: where
    keystores.pki.shown reads the certificate (and remembers it), the same three facts from what it read (its
    columns come from the same readers), else keystores.pki.columns' lighter reading, which answers for some forms
    shown leaves to cryptography. A key type shown leaves to cryptography is one columns leaves to it too."""
    from keystores.pki.shown import read_shown

    shown = read_shown(der)
    if shown is None:
        return certificate_columns(der)
    return None if shown.key is None else (shown.subject, shown.not_after, shown.key[0])


def entry_rows(entries: list[Entry]) -> list[dict[str, Any]]:
    """entry_row of each entry, with the problem entry_data gives it (`list` and `list --json` name the same
    entries as not fully decoded). A chain its backend links from the store's own certificates (NSS, CMS) holds
    only certificates the store lists as entries: while none of those has a problem, no linked chain has one, and
    none is linked (linking checks signatures: `list` of a small NSS database or .kdb would load cryptography);
    once one has, every linked chain is linked and judged."""
    rows = [entry_row(entry) for entry in entries]
    if any(row["problem"] for row in rows):
        rows = [entry_row(entry, link=True) if entry.undecoded_leaf is not None and entry.held_chain_der is None
                else row for entry, row in zip(entries, rows, strict=True)]
    return rows


def _listed_problem(entry: Entry, leaf: bytes, *, link: bool) -> str | None:
    """entry_data's problem of an entry whose backend still holds its certificates as DER, without rendering them:
    None where keystores.pki.shown reads every certificate of the chain (it answers only where cryptography decodes
    one fully), else what decoding them finds (entry_problem, as entry_data asks it). Without `link`, a chain the
    backend has yet to link is judged by its leaf. A key is not opened for this (NSS's are read on first use):
    one cryptography cannot load is named by `show` and `list --json`, which open it."""
    from keystores.pki.shown import read_shown

    held = entry.held_chain_der
    ders = held if held is not None else entry.undecoded_chain if link else (leaf,)
    if ders and all(read_shown(der) is not None for der in ders):
        return None
    return entry_problem(entry)


def store_data(store: Any, entries: list[Entry], *, detail: bool = False) -> dict[str, Any]:
    return {
        "schema": SCHEMA_VERSION,
        "store": store.location,
        "type": store.format,
        "protection": store.protection().as_text(),
        "entries": [entry_data(e, detail=detail) for e in entries],
    }


def skipped_data(entries: list[Entry], naming: Naming = "keyword") -> list[dict[str, Any]]:
    """Certificates a convert/import left out (untrusted ones a JKS cannot hold): label, subject, sha256, reason
    (whose hint names the keyword, or the option for the CLI)."""
    from keystores.ops.describe_decoded import certificate_data

    reason = Note("untrusted certificate: the destination holds trusted certificates only",
                  Hint(" ({} to keep it as trusted)", option="--untrusted trust", keyword="untrusted='trust'"))
    skipped = []
    for entry in entries:
        cert = entry.certificate
        data = certificate_data(cert) if cert is not None else {}
        skipped.append({"label": entry.label, "subject": data.get("subject"), "sha256": data.get("sha256"),
                        "reason": reason.rendered(naming)})
    return skipped



# What describes a certificate cryptography decoded (keystores.ops.describe_decoded), by name from here as before
# that module was split off; this module imports it only where such a certificate is described.
_DECODED = frozenset({"certificate_data", "certificate_details", "_raw_certificate_data", "_general_name", "_key_type",
                      "_signature_name", "_name"})


def __getattr__(name: str) -> Any:
    if name in _DECODED:
        from keystores.ops import describe_decoded

        return getattr(describe_decoded, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
