"""What an NSS entry holds, read on first access (store.LazyEntries._build's loaders): its chain (certificates
decoded, or read from their DER), its trust (once the trust object's integrity MACs check out under the passKey) and
its private key (each value decrypted and MAC-checked). Functions of the store (`store`, an NssStore), not methods:
a list, rename, delete or trust change reads none of it, and imports none of it (issue 15)."""

from __future__ import annotations

from keystores.backends.nss import crypto as nc
from keystores.backends.nss import db
from keystores.backends.nss.store import _NSS_TRUST_ATTRS, _PKCS_TRUST_ATTRS
from keystores.errors import (
    CorruptStore,
    IntegrityError,
    PasswordRequired,
    UnsupportedFormat,
)
from keystores.lightweight import suppress
from keystores.limits import LimitExceeded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from keystores.backends.nss.macs import MacChecker
    from keystores.backends.nss.store import NssStore, _Cert

_TRUST_MACED = (*_NSS_TRUST_ATTRS.values(), *_PKCS_TRUST_ATTRS.values(), db.CKA_TRUST_STEP_UP_APPROVED,
                db.CKA_CERT_SHA1_HASH, db.CKA_CERT_MD5_HASH, db.CKA_HASH_OF_CERTIFICATE, db.CKA_NAME_HASH_ALGORITHM)


_ATTR_NAMES = {db.CKA_VALUE: "CKA_VALUE", db.CKA_MODULUS: "CKA_MODULUS", db.CKA_PUBLIC_EXPONENT:
               "CKA_PUBLIC_EXPONENT", db.CKA_PRIVATE_EXPONENT: "CKA_PRIVATE_EXPONENT", db.CKA_PRIME_1: "CKA_PRIME_1",
               db.CKA_PRIME_2: "CKA_PRIME_2", db.CKA_EXPONENT_1: "CKA_EXPONENT_1", db.CKA_EXPONENT_2: "CKA_EXPONENT_2",
               db.CKA_COEFFICIENT: "CKA_COEFFICIENT"}


def _trust_is_for(cert: _Cert, row: db.Row) -> bool:
    """Trust objects are found by issuer and serial; NSS also checks the certificate hash they carry."""
    sha1 = row.get(db.CKA_CERT_SHA1_HASH)
    if sha1 is not None and sha1 != nc.hash_constructor("sha1")(cert.der).digest():
        return False
    digest = row.get(db.CKA_HASH_OF_CERTIFICATE)
    if digest:
        mechanism = db.read_ulong(row.get(db.CKA_NAME_HASH_ALGORITHM))
        name = {0x220: "sha1", 0x255: "sha224", 0x250: "sha256", 0x260: "sha384", 0x270: "sha512"}.get(
            mechanism if mechanism is not None else 0x220)
        if name is not None and digest != nc.hash_new(name, cert.der).digest():
            return False
    return True


def _verify_trust(store: NssStore, row: db.Row, label: str) -> bool:
    """Check the trust object's MACs; False when they cannot be checked (no password: certutil shows such
    trust unchecked too)."""
    if store._unlocked() is None:
        if not store._unverified_noted:
            store._unverified_noted = True
            store.notes.append(f"{store.location}: trust is shown unverified: its integrity MACs need the database "
                              "password, and anyone who can write the database could have set it")
        return False
    values = [(attr, value) for attr in _TRUST_MACED if (value := row.get(attr)) is not None]
    try:
        failed = _mac_checker(store).first_failure(store._mac_items(), f"sig_cert_{row.id:08x}_", row.id,
                                                   values)
    except LimitExceeded as exc:
        exc.store, exc.label = store.location, label
        raise
    if failed is not None:  # _check_mac says what is wrong with it
        _check_mac(store, "cert", row.id, row.id, failed, dict(values)[failed], label, "trust")
    return True


def _mac_checker(store: NssStore) -> MacChecker:
    assert store._pass_key is not None
    checker = store._macs
    if checker is None or checker.key != store._pass_key:
        from keystores.backends.nss.macs import MacChecker  # here: a list, rename or delete checks no MAC

        checker = store._macs = MacChecker(store._pass_key, store._kdf_budget)
    return checker


def _check_mac(store: NssStore, kind: str, object_id: int, mac_id: int, attr: int, value: bytes, label: str,
               what: str) -> None:
    assert store._pass_key is not None
    name = f"sig_{kind}_{object_id:08x}_{attr:08x}"
    blob = store._mac_items().get(name)
    if blob is not None:
        try:
            if _mac_checker(store).check(blob, mac_id, attr, value):
                return  # the common case, kept short: listing checks thousands of these
        except nc.DerError:
            pass  # reported below, with the reason
        except LimitExceeded as exc:
            exc.store, exc.label = store.location, label
            raise
    attr_name = _ATTR_NAMES.get(attr, f"0x{attr:x}")
    if blob is None:
        raise IntegrityError(f"the {what} attribute {attr_name} has no integrity MAC ({name} is missing)",
                             store=store.location, label=label)
    from keystores.backends.nss.macs import check_mac

    try:
        good = check_mac(blob, store._pass_key, mac_id, attr, value)
    except nc.DerError as exc:
        raise IntegrityError(f"the integrity MAC {name} is malformed ({exc})", store=store.location,
                             label=label) from exc
    if not good:
        raise IntegrityError(f"the integrity MAC of the {what} attribute {attr_name} does not match: the "
                             "database was altered outside NSS", store=store.location, label=label)


def _read_chain(store: NssStore, cert: _Cert, label: str, *, issuers: bool) -> tuple[Any, ...]:
    leaf = _certificate(store, cert, label)
    return _chain(store, leaf, cert) if issuers else (leaf,)


def _read_trust(store: NssStore, cert: _Cert, row: db.Row, label: str, *, user: bool) -> Any:
    """The entry's Trust from its trust object, once that object's MACs check out."""
    try:
        verified = _verify_trust(store, row, label)
        if _trust_is_for(cert, row):
            return store._trust_model(store._levels_of(row), user=user, verified=verified)
    except (TypeError, ValueError, IndexError) as exc:
        raise CorruptStore(f"the trust object is damaged ({exc})", store=store.location, label=label) from exc
    store.notes.append(f"{store.location}: '{label}': its trust object names another certificate (hash mismatch) "
                      "and is ignored, as NSS ignores it")
    return store._trust_model(None, user=user)


def _certificate(store: NssStore, cert: _Cert, label: str) -> Any:
    """The certificate object, once the parts cryptography decodes lazily (key, names, dates, extensions) are
    known to decode: NSS does not MAC certificate objects, so cert9.db can hold anything. Decoded once per
    object: a CA is in the chain of every key pair it issued."""
    decoded = store._decoded.get(cert.id)
    if decoded is not None:
        return decoded
    from cryptography.exceptions import UnsupportedAlgorithm

    from keystores.pki.certificates import decode_certificate  # here, as cryptography: a listing decodes none

    try:
        decoded = store._decoded[cert.id] = decode_certificate(cert.der)
        return decoded
    except UnsupportedAlgorithm as exc:
        raise UnsupportedFormat(f"the certificate has a public key of a type we do not read ({exc})",
                                store=store.location, label=label) from exc
    except (ValueError, TypeError) as exc:
        raise CorruptStore(f"the certificate is damaged ({exc.__class__.__name__} while decoding it)",
                           store=store.location, label=label) from exc


def _chain(store: NssStore, leaf: Any, cert: _Cert) -> tuple[Any, ...]:
    from keystores.pki.chain import order_chain

    candidates = []
    for parent in _chain_candidates(store, cert):
        with suppress(CorruptStore, UnsupportedFormat):  # a damaged issuer is no issuer
            candidates.append(_certificate(store, parent, parent.label or "chain certificate"))
    chain = order_chain(leaf, candidates, store._verifications)
    note = store._verifications.note(store.location)
    if note is not None and note not in store.notes:
        store.notes.append(note)
    return chain


def _chain_der(store: NssStore, cert: _Cert, *, issuers: bool) -> tuple[bytes, ...] | None:
    """The chain _read_chain reads, as DER, built over the certificates' DER (keystores.pki.shown: names
    compared as encoded, signatures verified over the bytes), so that show or audit of a small database decode
    no certificate (start-up speed); None where that could differ from _read_chain: a certificate in a form
    left to cryptography (one it refuses, or that _certificate would refuse), names equal only as
    cryptography compares them, this reading's own signature budget spent (its note is _chain's)."""
    from keystores.pki.shown import shown_certificates

    parents = _chain_candidates(store, cert) if issuers else []
    certificates = shown_certificates([cert.der, *(parent.der for parent in parents)])
    if certificates is None:
        return None
    if not issuers:
        return (cert.der,)
    from keystores.pki.chain import order_chain  # here: a certificate entry's chain is itself (trust, export)

    chain = order_chain(certificates[cert.der], [certificates[parent.der] for parent in parents],
                        store._der_verifications)
    return None if store._der_verifications.note(store.location) is not None else tuple(c.der for c in chain)


def _chain_candidates(store: NssStore, cert: _Cert) -> list[_Cert]:
    """The certificates _chain offers order_chain as `cert`'s issuers, up the names the database records."""
    from keystores.limits import MAX_CANDIDATES_PER_NAME

    if store._by_subject is None:
        store._by_subject = {}
        for each in store._certs.values():
            store._by_subject.setdefault(each.subject, []).append(each)
    candidates = []
    issuer, seen = cert.issuer, {cert.subject}
    while issuer not in seen:
        seen.add(issuer)
        parents = store._by_subject.get(issuer, [])[:MAX_CANDIDATES_PER_NAME]
        if not parents:
            break
        candidates += parents
        issuer = parents[0].issuer
    return candidates


def _leaf_for_key(store: NssStore, cert: _Cert, label: str) -> Callable[[], Any]:
    """What gives a key's certificate (its curve, when the key record names none), decoded on first use: show
    of a key pair then decodes no certificate. One keystores.pki.shown does not read is decoded now, so that a
    certificate _certificate refuses fails reading the key as before."""
    from keystores.pki.shown import read_shown

    if read_shown(cert.der) is None:
        leaf = _certificate(store, cert, label)
        return lambda: leaf
    return lambda: _certificate(store, cert, label)


def _leaf_public_key(store: NssStore, cert: _Cert, label: str) -> Any:
    """The public key of a key's certificate, read from its DER where keystores.pki.shown reads it."""
    from keystores.pki.shown import shown_certificates

    found = shown_certificates([cert.der])
    return (found[cert.der] if found is not None else _certificate(store, cert, label)).public_key()


def _guarded_private_key(store: NssStore, row: db.Row, label: str, leaf: Callable[[], Any]) -> Any:
    try:
        return _private_key(store, row, label, leaf)
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        raise CorruptStore(f"the private key's objects are damaged ({exc})", store=store.location,
                           label=label) from exc


def _private_key(store: NssStore, row: db.Row, label: str, leaf: Callable[[], Any]) -> Any:
    """The key from its record (keystores.pki.key_attributes builds it), each private value decrypted and each
    value checked against its MAC as it is read."""
    if store._pass_key is None:
        raise PasswordRequired("the database password is needed to read private keys", store=store.location,
                               label=label)

    def value(attr: int) -> bytes:
        if attr not in db.ENCRYPTED and attr not in db.AUTHENTICATED:
            return row.get(attr) or b""  # e.g. DSA's domain parameters: public and not MACed
        blob = row.get(attr)
        if blob is None:
            raise CorruptStore(f"the private key lacks {_ATTR_NAMES.get(attr, hex(attr))}",
                               store=store.location, label=label)
        if attr in db.AUTHENTICATED:
            _check_mac(store, "key", row.id, row.id, attr, blob, label, "private key")
            return blob
        try:
            plain = nc.decrypt_value(blob, store._pass_key, store._kdf_budget)  # type: ignore[arg-type]
        except LimitExceeded as exc:
            exc.store, exc.label = store.location, label
            raise
        except nc.DecryptFailed as exc:
            raise IntegrityError(f"{_ATTR_NAMES.get(attr, hex(attr))} does not decrypt with the database "
                                 "password: the key record is damaged", store=store.location,
                                 label=label) from exc
        except nc.DerError as exc:
            raise CorruptStore(f"{_ATTR_NAMES.get(attr, hex(attr))} is malformed ({exc})",
                               store=store.location, label=label) from exc
        _check_mac(store, "key", row.id, 0, attr, plain, label, "private key")
        return plain

    # Here: listing, showing and writing without a key read none (key_attributes is ~23 KB of bytecode).
    from keystores.pki.key_attributes import private_key_from_attributes

    key_type = db.read_ulong(row.get(db.CKA_KEY_TYPE))
    try:
        key = private_key_from_attributes(key_type, value, curve=lambda: _curve(store, row, leaf, label))
    except ValueError as exc:
        raise CorruptStore(f"the private key is inconsistent ({exc})", store=store.location,
                           label=label) from exc
    if key is None:
        raise UnsupportedFormat(f"private keys of PKCS#11 key type {key_type} are not supported",
                                store=store.location, label=label)
    return key


def _curve(store: NssStore, row: db.Row, leaf: Callable[[], Any], label: str) -> Any:
    from keystores.crypto.der import read
    from keystores.pki.curves import curve_of_params

    params = row.get(db.CKA_EC_PARAMS)
    try:
        curve = curve_of_params(params) if params else None
        if curve is not None:
            return curve.cryptography_curve()
        if params:
            read(params)  # damaged parameters are damage, not an unknown curve
        return leaf().public_key().curve
    except (nc.DerError, AttributeError) as exc:
        raise CorruptStore("the EC key's curve is unknown or does not match its certificate",
                           store=store.location, label=label) from exc
