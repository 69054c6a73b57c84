"""Reading a JKS or JCEKS file into its store: the file split into raw entries, the store digest checked,
entries made (certificates decoded on first use, keys opened when first touched), and the key protection undone.

Functions of the store rather than methods of _JavaStore (as PEM's and CMS's reading halves are): a convert into
a new Java store reads nothing, and loads none of it (start-up speed, issue 15)."""

from __future__ import annotations

import struct

from keystores.backends.base import KeyOpening
from keystores.backends.java_data import PARSE_ERRORS, JavaDate, read_utf
from keystores.backends.jks.epki import _read_epki, _read_pbe_parameter
from keystores.backends.jks.store import _DIGEST_SIZE, _MIN_ENTRY, _TAG_PRIVATE_KEY, _TAG_SECRET_KEY, _TAG_TRUSTED_CERT
from keystores.errors import (
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
)
from keystores.lazy_entries import LazyEntry, sealed_entry
from keystores.limits import LimitExceeded
from keystores.model import TRUST_ALL, Entry, EntryKind, SecretKey

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.backends.jks.store import _JavaStore


def load(store: _JavaStore, data: bytes) -> None:
    if data[:4] != store.magic:
        raise UnsupportedFormat(f"not a {store.format.upper()} store (magic {data[:4].hex()})",
                                store=store.location)
    try:
        entries, end = _parse(store, data)
    except KeystoreError:
        raise
    except PARSE_ERRORS as exc:
        raise CorruptStore(f"damaged or truncated {store.format.upper()} store ({exc})",
                           store=store.location) from exc
    digest = data[end : end + _DIGEST_SIZE]
    if len(digest) != _DIGEST_SIZE:
        raise CorruptStore("truncated: the store digest is missing", store=store.location)
    from keystores.crypto.decrepit.java import store_digest

    if store.password is None:
        # As keytool -list without -storepass: certificates and labels are shown unchecked; keys and writing
        # ask for the password (PasswordRequired when they are first needed).
        store.notes.append(f"{store.location}: opened without the password: the store's integrity (its digest) "
                          "was not checked")
    elif store_digest(store.password, memoryview(data)[:end]) != digest:
        _explain_digest_failure(store, entries)
    if len(data) > end + _DIGEST_SIZE:
        store.notes.append(f"{store.location}: {len(data) - end - _DIGEST_SIZE} stray bytes after the store "
                          "digest were ignored (keytool ignores them too)")
    store._read_key_password = store._key_password if store._key_password is not None else store.password
    store._entries = {}
    repeated: dict[str, None] = {}
    for alias, entry in entries:
        finished = _finish(store, alias, entry)
        if finished.label in store._entries:  # Java keeps the last one too (a Hashtable put)
            repeated[finished.label] = None
        store._entries[finished.label] = finished
    if repeated:
        shown = ", ".join(f"'{label}'" for label in list(repeated)[:3])
        more = f" and {len(repeated) - 3} more" if len(repeated) > 3 else ""
        store.notes.append(f"{store.location}: alias(es) {shown}{more} appear more than once; the later entry "
                          "wins, as in keytool")


def _parse(store: _JavaStore, data: bytes) -> tuple[list[tuple[str, tuple[Any, ...]]], int]:
    """Split the file into raw entries; nothing is decrypted or parsed as ASN.1 here."""
    version, count = struct.unpack_from(">II", data, 4)
    if version not in (1, 2):
        raise UnsupportedFormat(f"{store.format.upper()} version {version} is unknown (1 and 2 exist)",
                                store=store.location)
    if count > (len(data) - 12) // _MIN_ENTRY:
        raise CorruptStore(f"entry count {count} is more than the file can hold", store=store.location)
    pos = 12
    size = len(data)
    unpack = struct.unpack_from

    def chunk(at: int) -> tuple[bytes, int]:
        (length,) = unpack(">I", data, at)
        at += 4
        if length > size - at:
            raise CorruptStore(f"length field {length} at offset {at - 4} runs past the end of the file",
                               store=store.location)
        return data[at : at + length], at + length

    def certificate(at: int) -> tuple[tuple[str, bytes], int]:
        cert_type = "X.509"
        if version == 2:
            if data[at : at + 7] == b"\x00\x05X.509":  # nearly always: skip the general string reader
                at += 7
            else:
                cert_type, at = read_utf(data, at)
        der, at = chunk(at)
        return (cert_type, der), at

    entries = []
    for _ in range(count):
        tag, = unpack(">I", data, pos)
        alias, pos = read_utf(data, pos + 4)
        (millis,) = unpack(">q", data, pos)
        pos += 8
        if tag == _TAG_PRIVATE_KEY:
            blob, pos = chunk(pos)
            (chain_length,) = unpack(">I", data, pos)
            pos += 4
            if chain_length > (size - pos) // 4:
                raise CorruptStore(f"chain length {chain_length} is more than the file can hold",
                                   store=store.location, label=alias)
            chain = []
            for _ in range(chain_length):
                cert, pos = certificate(pos)
                chain.append(cert)
            entries.append((alias, (tag, millis, blob, chain)))
        elif tag == _TAG_TRUSTED_CERT:
            cert, pos = certificate(pos)
            entries.append((alias, (tag, millis, None, [cert])))
        elif tag == _TAG_SECRET_KEY and store.format == "jceks":
            from keystores.backends.jks.javaser import _JavaReader  # only stores with secret keys need it

            start = pos
            reader = _JavaReader(data, pos)
            sealed = reader.stream()
            pos = reader.pos
            entries.append((alias, (tag, millis, (sealed, data[start:pos]), [])))
        else:
            raise CorruptStore(f"unknown entry tag {tag} in a {store.format.upper()} store",
                               store=store.location, label=alias)
    return entries, pos


def _explain_digest_failure(store: _JavaStore, entries: list[tuple[str, tuple[Any, ...]]]) -> None:
    """A bad digest is a wrong password or damage; a key that opens with the password proves damage.

    JKS keys open in microseconds, so every one is tried; a JCEKS key costs 400,000 MD5 rounds (up to 20 million
    in a hostile file), so only one.
    """
    tries = len(entries) if store.format == "jks" else 1
    for alias, (tag, _, blob, _) in entries:
        if tag != _TAG_PRIVATE_KEY or tries <= 0:
            continue
        tries -= 1
        try:
            _unprotect(store, blob, store.password or "", alias)
        except KeystoreError:
            continue
        raise IntegrityError(f"the password is right (it opens key '{alias}') but the store digest does not "
                             "match: the file is damaged or was altered", store=store.location)
    raise WrongPassword("wrong store password, or the file is damaged (the store digest does not match)",
                        store=store.location)


def _finish(store: _JavaStore, alias: str, raw: tuple[Any, ...]) -> Entry:
    tag, millis, blob, chain_raw = raw
    label = alias.lower()
    # Certificates are decoded on first use of `chain`: a store of thousands lists without decoding any, and
    # a rewrite (delete, rename) writes them back as read (a certificate cryptography refuses is reported
    # then, as keystores.pki.certificates.decode_certificate degrades).
    ders = tuple(der for cert_type, der in chain_raw if cert_type == "X.509")
    lazy = bool(ders) and len(ders) == len(chain_raw)

    def decoded() -> tuple[Any, ...]:
        return tuple(_certificate(store, "X.509", der, label) for der in ders)

    date = JavaDate(millis)
    if tag == _TAG_TRUSTED_CERT and lazy and len(ders) == 1:
        return LazyEntry.lazy({"chain": decoded, "created": date}, leaf_der=ders[0], chain_der=ders, label=label,
                              kind=EntryKind.TRUSTED_CERT, trust=TRUST_ALL)
    if tag == _TAG_PRIVATE_KEY:
        opening = KeyOpening(lambda: _unprotect(store, blob, _key_password_for(store, label), label),
                             lambda pkcs8: _load_private_key(store, pkcs8, label, blob))
    if tag == _TAG_PRIVATE_KEY and lazy:
        return sealed_entry(opening.key, blob, store, chain_loader=decoded, leaf_der=ders[0], chain_der=ders,
                            created_loader=date, label=label, kind=EntryKind.KEY_PAIR, held=opening.held)
    created = date()
    chain = tuple(_certificate(store, cert_type, der, label) for cert_type, der in chain_raw)
    if tag == _TAG_TRUSTED_CERT:
        return Entry(label=label, kind=EntryKind.TRUSTED_CERT, chain=chain, trust=TRUST_ALL, created=created)
    if tag == _TAG_PRIVATE_KEY:
        # A key entry with no chain (keytool's own test stores have one) is listed as the key it is.
        return sealed_entry(opening.key, blob, store, label=label, kind=EntryKind.KEY_PAIR, chain=chain,
                            created=created, held=opening.held)
    sealed, raw_bytes = blob
    return sealed_entry(lambda: _open_secret_key(store, sealed, _key_password_for(store, label), label), raw_bytes,
                        store, label=label, kind=EntryKind.SECRET_KEY, created=created)


def _key_password_for(store: _JavaStore, label: str) -> str:
    if store._read_key_password is None:
        raise PasswordRequired("the key needs the store password", store=store.location, label=label)
    return store._read_key_password


def _certificate(store: _JavaStore, cert_type: str, der: bytes, label: str) -> Any:
    if cert_type != "X.509":
        raise UnsupportedFormat(f"certificate type '{cert_type}' is not supported (only X.509)",
                                store=store.location, label=label)
    from cryptography.exceptions import UnsupportedAlgorithm

    from keystores.pki.certificates import decode_certificate

    try:
        return decode_certificate(der)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CorruptStore(f"damaged certificate ({exc})", store=store.location, label=label) from exc


# --- key protection --------------------------------------------------------------------------------------
def _unprotect(store: _JavaStore, epki_der: bytes, password: str, label: str) -> bytes:
    """PKCS#8 PrivateKeyInfo DER from a tag-1 blob. Both formats' algorithms are accepted in either store."""
    from keystores.crypto.decrepit import java
    from keystores.crypto.pbe_params import private_key_info_algorithm

    try:
        oid, params, encrypted = _read_epki(epki_der)
        if oid == java.JKS_KEY_PROTECTOR_OID:
            return java.jks_unprotect_key(encrypted, password)
        if oid == java.SUN_PBE_MD5_3DES_OID:
            if params is None:
                raise ValueError("PBEWithMD5AndTripleDES without parameters")
            salt, iterations = _read_pbe_parameter(params)
            pkcs8 = java.sun_pbe_decrypt(encrypted, password, salt, iterations)
            if private_key_info_algorithm(pkcs8) is None:
                # 3DES padding passes by chance for 1 in 256 wrong passwords; a PrivateKeyInfo does not
                raise WrongPassword("the decrypted key is no PKCS#8 PrivateKeyInfo")
            return pkcs8
    except WrongPassword as exc:
        raise WrongPassword(f"the {_key_password_name(store)} does not open this key", store=store.location,
                            label=label) from exc
    except (UsageError, LimitExceeded) as exc:
        raise type(exc)(exc.reason, store=store.location, label=label) from exc
    except PARSE_ERRORS as exc:
        raise CorruptStore(f"damaged protected key ({exc})", store=store.location, label=label) from exc
    raise UnsupportedFormat(f"key protection algorithm {oid} is not one Java stores use", store=store.location,
                            label=label)


def _load_private_key(store: _JavaStore, pkcs8: bytes, label: str, epki_der: bytes) -> Any:
    """The key of a PKCS#8 PrivateKeyInfo _unprotect gave from `epki_der`."""
    from keystores.crypto.decrepit import java
    from keystores.pki.undecoded import load_private_key

    # JKS's key protector ends with SHA-1(password || key), which _unprotect checked: these are the bytes the
    # writer protected, loaded as keytool loads them. cryptography's RSA validation (~55 ms of CPU per 2048-bit
    # key, a third of `keystores ams protect`) proves nothing more, as for a PKCS#12 whose MAC passed and a .kdb
    # whose integrity check did. JCEKS's 3DES carries no such check: its key is still validated on load.
    vouched = _read_epki(epki_der)[0] == java.JKS_KEY_PROTECTOR_OID
    try:
        return load_private_key(pkcs8, skip_rsa_validation=vouched)
    except (ValueError, TypeError) as exc:
        # _unprotect checks the PrivateKeyInfo's frame; its contents (a wrong password's luck twice over, or
        # damage) are checked only by loading them.
        raise WrongPassword(f"the {_key_password_name(store)} does not open this key (or the key is damaged)",
                            store=store.location, label=label) from exc


def _open_secret_key(store: _JavaStore, sealed: Any, password: str, label: str) -> SecretKey:
    from keystores.backends.jks.javaser import _JavaObject, _JavaReader
    from keystores.crypto.decrepit import java

    try:
        if not isinstance(sealed, _JavaObject) or "encryptedContent" not in sealed.fields:
            raise ValueError(f"a secret key entry holds a {type(sealed).__name__}, not a SealedObject")
        algorithm = sealed.fields.get("sealAlg")
        if algorithm != java.SUN_PBE_NAME:
            raise UnsupportedFormat(f"secret key sealed with '{algorithm}', not {java.SUN_PBE_NAME}",
                                    store=store.location, label=label)
        salt, iterations = _read_pbe_parameter(sealed.fields["encodedParams"])
        plain = java.sun_pbe_decrypt(sealed.fields["encryptedContent"], password, salt, iterations)
    except WrongPassword as exc:
        raise WrongPassword(f"the {_key_password_name(store)} does not open this key", store=store.location,
                            label=label) from exc
    except (UsageError, LimitExceeded) as exc:
        raise type(exc)(exc.reason, store=store.location, label=label) from exc
    except PARSE_ERRORS as exc:
        raise CorruptStore(f"damaged secret key entry ({exc})", store=store.location, label=label) from exc
    try:
        key = _JavaReader(plain, 0).stream()
        if not isinstance(key, _JavaObject):
            raise ValueError("not an object")
        if key.class_name == "javax.crypto.spec.SecretKeySpec":
            return SecretKey(str(key.fields["algorithm"]), bytes(key.fields["key"]))
        if key.class_name == "java.security.KeyRep":
            key_type = key.fields.get("type")
            if not (isinstance(key_type, tuple) and key_type[1] == "SECRET") or key.fields["format"] != "RAW":
                raise ValueError(f"KeyRep of type {key_type} in format {key.fields.get('format')}")
            return SecretKey(str(key.fields["algorithm"]), bytes(key.fields["encoded"]))
        raise ValueError(f"unexpected key class {key.class_name}")
    except PARSE_ERRORS as exc:
        raise WrongPassword(f"the {_key_password_name(store)} does not open this key (or the key is damaged)",
                            store=store.location, label=label) from exc


def _key_password_name(store: _JavaStore) -> str:
    return "key password" if store._key_password is not None else "store password (used for keys)"
