"""Writing PEM and DER: entries and loose keys -> clean PEM text, or exactly one DER object.

Keys are written as PKCS#8, encrypted with the store password when there is one (PBES2, PBKDF2-HMAC-SHA256,
AES-256-CBC, as cryptography's BestAvailableEncryption writes it; both profiles: every OpenSSL since 1.0 and Java 8+
read it); without a password they are written in the clear and the file is made 0600, even if it existed with a
wider mode. Only plain certificates are written, so a certificate whose trust is None or partial adds a note; a
certificate entry holding a chain (`export --chain` without the key) is written with its chain after it.
DER: more than one entry, or a key pair whose chain has more than the leaf, is a CapabilityError; a key pair is
written as its certificate (the note says the key stayed out) unless the store was opened with `der_key=True`,
which writes the private key (PKCS#8) instead.
"""

from __future__ import annotations

from keystores import paths
from keystores.backends.pem.labels import TakenLabels, _labelling_key, derived_label, name_label
from keystores.backends.pem.store import UNENCRYPTED
from keystores.crypto.der import pem_armor
from keystores.errors import (
    CapabilityError,
    UsageError,
)
from keystores.model import Entry, EntryKind, ProtectionPart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from keystores.backends.pem.store import PemStore
    from keystores.pki.undecoded import UndecodedPrivateKey


# As keystores.crypto.pbe.describe spells what cryptography's BestAvailableEncryption writes (checked by the tests).
WRITTEN_KEY_PROTECTION = ProtectionPart("PBES2 PBKDF2-HMAC-SHA-256 AES-256-CBC, 2048 iterations",
                                        ("PBES2", "PBKDF2", "SHA-256", "AES-256"), 2048)


def _key_der_or_pem(store: PemStore, key: PrivateKeyTypes, *, pem: bool) -> bytes:
    """A private key as PKCS#8, PEM or DER: encrypted under the store password when there is one (as
    BestAvailableEncryption protects it: WRITTEN_KEY_PROTECTION), else in the clear. Written by keystores.pki.pkcs8
    as cryptography writes it, without importing its serialization package (start-up speed)."""
    from keystores.pki.undecoded import UndecodedPrivateKey  # here: a PEM listing imports it for nothing

    if isinstance(key, UndecodedPrivateKey):
        from keystores.crypto import key_encoding

        return _undecoded_key(store, key, key_encoding.Encoding.PEM if pem else key_encoding.Encoding.DER)
    from keystores.pki.pkcs8 import encrypted_pkcs8_der, pkcs8_der

    data = encrypted_pkcs8_der(key, store.password) if store.password else pkcs8_der(key)
    if not pem:
        return data
    return pem_armor("ENCRYPTED PRIVATE KEY" if store.password else "PRIVATE KEY", data)


def _entry_key(store: PemStore, entry: Entry, *, pem: bool) -> bytes:
    """The entry's key as _key_der_or_pem writes it: from Entry.held_pkcs8 where the entry gives it without
    loading the key (a sealed PKCS#12 EC key: converting it to PEM loads no cryptography), else from `key`."""
    plain = entry.held_pkcs8()
    if plain is None:
        return _key_der_or_pem(store, entry.key, pem=pem)  # type: ignore[arg-type]
    from keystores.pki.held_pkcs8 import encrypted_as_cryptography

    data = encrypted_as_cryptography(plain, store.password) if store.password else plain
    return pem_armor("ENCRYPTED PRIVATE KEY" if store.password else "PRIVATE KEY", data) if pem else data


def _undecoded_key(store: PemStore, key: UndecodedPrivateKey, encoding: Any) -> bytes:
    """A key cryptography does not load, as its PKCS#8 bytes (encrypted with PBES2 AES-256 under the store
    password when there is one, as BestAvailableEncryption does for the others)."""
    from keystores.crypto import key_encoding as serialization
    from keystores.crypto import pbe

    plain = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
    if not store.password:
        return plain if encoding is serialization.Encoding.DER else key.private_bytes(
            encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    der = pbe.encrypt_pkcs8(plain, store.password, iterations=2048)
    if encoding is serialization.Encoding.DER:
        return der
    return pem_armor("ENCRYPTED PRIVATE KEY", der)


def _trust_note(store: PemStore, entry: Entry) -> None:
    # A trust with no purpose (NSS "P,," on a peer's certificate) is, for a bundle's reader, no trust at all.
    if entry.trust is None or not entry.trust.purposes:
        store.notes.append(f"{store.location}: '{entry.label}' is not trusted in its source, but PEM has no trust "
                          "flags: a certificate in a PEM file is trusted by whoever uses the file as a bundle")
    elif len(entry.trust.purposes) < 4:
        store.notes.append(f"{store.location}: '{entry.label}' is trusted only for "
                          f"{', '.join(entry.trust.purposes)}, but PEM has no trust flags: it is written as a "
                          "plain certificate")


def dump(store: PemStore) -> bytes:
    """The file's bytes: PEM text, or the one DER object."""
    store._has_keys = bool(store.loose_keys) or any(e.held_pkcs8() is not None or e.key is not None
                                                   for e in store._entries.values())
    store.private_file = store._has_keys  # type: ignore[misc]  # (the DER writer may clear it: key left out)
    if store._has_keys:
        store._key_protection = {WRITTEN_KEY_PROTECTION if store.password else UNENCRYPTED}
        store._encrypted_pkcs8 = []
    if store.format == "der":
        return _dump_der(store)
    return _dump_pem(store)


def _dump_pem(store: PemStore) -> bytes:
    """Certificates are written from their DER, as the source holds them (Entry.chain_der): a chain its store
    has not decoded yet is written without decoding it, so export and convert of a small store import no
    cryptography.x509 (start-up speed, bench/bench_core.py; tests/test_export_lean.py)."""
    out: list[bytes] = []
    derived_labels = TakenLabels()
    chains = {label: tuple(map(bytes, entry.chain_der())) for label, entry in store._entries.items()}  # (hashable)
    has_key_pairs = any(e.kind is EntryKind.KEY_PAIR for e in store._entries.values())
    trusted_written: set[bytes] = set()

    def attributes(label: str | None) -> None:
        if label is not None:
            out.append(f"Bag Attributes\n    friendlyName: {label}\n".encode())

    # Each chain member is written once, in the first chain holding it (reading finds it for the others). A
    # certificate entry that is also a chain member is written there: a trusted one labelled (so it reads back
    # as trusted), an untrusted one bare (so it reads back as a chain member, kind "certificate"). Certificates
    # are told apart by their DER itself (no hashlib to import: export's start-up).
    in_chains = {der for e in store._entries.values() if e.kind is EntryKind.KEY_PAIR
                 for der in chains[e.label][1:]}
    chain_entries: dict[bytes, Entry] = {}
    for entry in store._entries.values():
        if entry.kind.is_certificate and chains[entry.label][0] in in_chains:
            chain_entries.setdefault(chains[entry.label][0], entry)
    chain_written: set[bytes] = set()

    for entry in store._entries.values():
        chain = chains[entry.label]
        if not chain and entry.request is None:  # a key without a certificate: the key alone, under its label
            attributes(entry.label)
            out.append(_entry_key(store, entry, pem=True))
            derived_labels.taken.add(entry.label)
            continue
        if entry.kind.is_certificate and chain_entries.get(chain[0]) is entry:
            continue
        derived = derived_labels.peek(_derived_label(entry))
        named = entry.label if entry.label != derived else None
        if entry.kind is EntryKind.KEY_PAIR:
            attributes(named)
            out.append(_certificate_pem(chain[0]))
            derived_labels.taken.add(entry.label)
            for cert in chain[1:]:
                if cert in chain_written:
                    continue
                own = chain_entries.get(cert)
                chain_written.add(cert)
                if own is not None:
                    attributes(own.label if own.trust is not None else None)
                    derived_labels.taken.add(own.label)
                    trusted_written.add(cert)
                out.append(_certificate_pem(cert))
            attributes(named)
            out.append(_entry_key(store, entry, pem=True))
        elif entry.kind is EntryKind.REQUEST:
            if entry.key is not None:
                attributes(named)
                out.append(_entry_key(store, entry, pem=True))
            attributes(named)
            out.append(_request_bytes(entry, pem=True))
        else:
            _trust_note(store, entry)
            # Unlabelled certificates may be read back as part of a key pair's chain, and unlabelled
            # duplicates are skipped: label those so that the file reads back as the same entries.
            if named is None and (has_key_pairs or chain[0] in trusted_written):
                named = entry.label
            trusted_written.add(chain[0])
            attributes(named)
            out.append(_certificate_pem(chain[0]))
            # A certificate with its chain (`export --chain` of a key pair without its key): the chain follows,
            # each certificate once, as `openssl pkcs12 -nokeys` writes one; read back, each is a certificate.
            for cert in chain[1:]:
                if cert not in trusted_written and cert not in chain_written:
                    trusted_written.add(cert)
                    out.append(_certificate_pem(cert))
        derived_labels.taken.add(entry.label)
    out.extend(_key_der_or_pem(store, key, pem=True) for key in store.loose_keys)
    return b"".join(out)


def _dump_der(store: PemStore) -> bytes:
    entries = list(store._entries.values())
    if len(entries) + len(store.loose_keys) > 1:
        raise CapabilityError("multiple_entries", f"a DER file holds one object, not {len(entries)} entries "
                              "and keys: write PEM or PKCS#12", store=store.location)
    if store.loose_keys:
        return _key_der_or_pem(store, store.loose_keys[0], pem=False)
    if not entries:
        raise UsageError("nothing to write: a DER file holds exactly one certificate, key or request "
                         "(delete the file instead of emptying it)", store=store.location)
    entry = entries[0]
    store._check_fits_der(entry)
    if entry.kind is EntryKind.KEY_PAIR:
        if not entry.chain_der():  # a key without a certificate (PKCS#12 allows it): the key is the one object
            return _entry_key(store, entry, pem=False)
        if store.der_key:
            store.notes.append(f"{store.location}: '{entry.label}' written as its private key only; the "
                              "certificate is not in the DER file")
            return _entry_key(store, entry, pem=False)
        store.notes.append(f"{store.location}: '{entry.label}' written as its certificate only; the private key "
                          "is not in the DER file (open the store with der_key=True to write the key)")
        store._has_keys = store.private_file = False  # type: ignore[misc]
        return entry.chain_der()[0]
    if entry.kind is EntryKind.REQUEST:
        if entry.key is not None:
            store.notes.append(f"{store.location}: '{entry.label}' written as its certificate request only; the "
                              "private key is not in the DER file")
        store._has_keys = store.private_file = False  # type: ignore[misc]
        return _request_bytes(entry, pem=False)
    _trust_note(store, entry)
    return entry.chain_der()[0]


def write(store: PemStore) -> None:
    """Write the store's file (PemStore._write)."""
    from keystores.fileio import atomic_write

    if store.format == "der" and not store._entries and not store.loose_keys and not paths.exists(store.file):
        # A new DER store stays a promise until it holds its one object: an empty file is not DER.
        store.notes.append(f"{store.location}: not written yet: a DER file holds exactly one object")
        return
    data = dump(store)
    clear_key = store._has_keys and not store.password
    if not store._has_keys:
        store._key_protection, store._encrypted_pkcs8 = set(), []
    # An unencrypted key must not land in a file others can read: the new file is owner-only from its first
    # byte, whatever the old file's mode (which the user may not even be allowed to change).
    atomic_write(store.file, data, private=store.private_file, clear_secret=clear_key)


def _certificate_pem(der: bytes) -> bytes:
    return pem_armor("CERTIFICATE", der)


def _derived_label(entry: Entry) -> str:
    """The label reading derives for an entry's leaf (or request): while the chain is still DER, from its bytes
    (labels.name_label, as lazy_read labels a file it reads) where the name is in the plain form read there, else
    from the decoded certificate."""
    ders = entry.undecoded_chain
    if ders is not None:
        label = name_label(ders[0])
        if label is not None:
            return label
    subject_obj = entry.chain[0] if entry.chain else entry.request
    return derived_label(subject_obj.subject, _labelling_key(subject_obj))  # type: ignore[union-attr]


def _request_bytes(entry: Entry, *, pem: bool) -> bytes:
    from keystores.crypto.key_encoding import Encoding

    return entry.request.public_bytes(Encoding.PEM if pem else Encoding.DER)  # type: ignore[union-attr, no-any-return]
