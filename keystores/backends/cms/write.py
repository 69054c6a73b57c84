"""Writing a CMS key database as GSKit does: unchanged records byte for byte, changed ones appended with a new id,
keys encrypted with the version's native scheme; the .rdb and .crl are rewritten with it.

The writing half of CmsStore (entries -> records, untouched ones byte for byte -> the .kdb, .rdb and .crl), as
functions of the store: CmsStore._write imports this module when it writes, so a command that only reads a .kdb
(list, show, export, validate, audit, ams) loads none of it (it was a base class of CmsStore: start-up).
"""

from __future__ import annotations

from keystores import paths
from keystores.backends.cms import container as fmt
from keystores.backends.cms import stash as cms_stash
from keystores.backends.cms.records import (
    _KINDS,
    _NATIVE_ITERATIONS,
    _NATIVE_SALT,
    NATIVE_KEY_SCHEME,
    _label_text,
    _Record,
)
from keystores.crypto import der
from keystores.lazy_entries import SealedEntry
from keystores.model import Entry, EntryKind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from keystores.backends.cms.store import CmsStore


def _primary(entry: Entry) -> object:
    """The object that identifies an entry's content across renames and flag changes: its request, secret key or
    certificate (its DER as read while the chain is undecoded, keystores.lazy_entries: a rename decodes nothing).
    Asked by kind: a key pair's sealed key is not opened to find it."""
    if entry.kind is EntryKind.REQUEST:
        return entry.request
    if entry.kind is EntryKind.SECRET_KEY:
        return entry.secret
    leaf = entry.undecoded_leaf
    if leaf is not None:
        return leaf
    return entry.chain[0] if entry.chain else entry


def _request_hash(record: _Record) -> bytes:
    """The SHA-1 GSKit keeps after a request record's label (the slot parser reads its length as the trailer)."""
    slot = record.slot
    start = 12 + len(slot.der) + 4 + len(slot.label) + 4
    return record.raw[start:start + 20]


def _holds_key(entry: Entry) -> bool:
    return entry.kind in (EntryKind.KEY_PAIR, EntryKind.REQUEST, EntryKind.SECRET_KEY)


def write_database(store: CmsStore) -> None:
    """Write `store`'s .kdb, and its .rdb, .crl and .sth where they change, as one commit."""
    from keystores.fileio_many import atomic_write_many

    assert store._kdb is not None
    password = store.password or ""
    kdb_slots, rdb_slots = _plan(store)
    files: dict[str, tuple[bytes, bool]] = {}
    store._kdb.slots = _fit(store._kdb, kdb_slots)
    if store._rekey:
        store._kdb.salt = fmt.new_salt()
    files[store.file] = (fmt.build_container(store._kdb, password), True)
    if store._rdb is None and rdb_slots:
        store._rdb = fmt.Container(store._kdb.version, fmt.KIND_OTHER, fmt.TAG_RDB, fmt.DEFAULT_SLOT,
                                   fmt.new_salt(), [])
    if store._rdb is not None:
        store._rdb.slots = _fit(store._rdb, rdb_slots)
        files[store.rdb_path] = (fmt.build_container(store._rdb, password), True)
    if store._crl is not None and (store._rekey or store.crl_path not in store._originals):
        crl = fmt.parse_container(store._crl, _crl_password(store), store=store.crl_path)
        files[store.crl_path] = (fmt.build_container(crl, password), True)
    if store._pending_stash is not None:
        files[store.stash_path] = (cms_stash.encode(password, version=store._pending_stash), True)
    changed = {p: v for p, v in files.items() if store._originals.get(p) != v[0] or not paths.exists(p)}
    if changed:
        atomic_write_many(changed)  # a new stash is 0600; an existing one keeps its mode and group, as the .kdb
    for path, (data, _) in files.items():
        store._originals[path] = data
    if store.crl_path in files:
        store._crl = files[store.crl_path][0]
    _refresh_records(store, files)


def _crl_password(store: CmsStore) -> str:
    """The password the .crl was written under: the one the database was opened with when it came from disk."""
    return store._loaded_password if store.crl_path in store._originals else (store.password or "")


def _plan(store: CmsStore) -> tuple[list[bytes], list[bytes]]:
    """The slots of the .kdb and the .rdb, as GSKit would lay them out after this session's changes.

    Untouched records keep their bytes, id and place; a changed record gets the next id at the end.
    """
    by_entry = {id(r.entry): r for r in store._records if r.entry is not None}
    by_primary = {id(_primary(r.entry)): r for r in store._records if r.entry is not None}
    used: set[int] = set()
    kept: list[tuple[_Record, bytes]] = []
    changed: list[tuple[str, Entry, _Record | None]] = []
    for entry in store._entries.values():
        target = "rdb" if entry.kind is EntryKind.REQUEST else "kdb"
        record = by_entry.get(id(entry))
        if record is not None and id(record) not in used and record.source == target:
            used.add(id(record))
            if store._rekey and _holds_key(entry):
                changed.append((target, entry, record))
            else:
                kept.append((record, record.raw))
            continue
        changed.append((target, entry, None))
    # Second pass: renamed or re-flagged entries keep their content (and its encryption) when possible.
    resolved: list[tuple[str, Entry, _Record | None]] = []
    for target, entry, record in changed:
        if record is None:
            candidate = by_primary.get(id(_primary(entry)))
            if (candidate is not None and id(candidate) not in used and candidate.entry is not None
                    and candidate.entry.kind is entry.kind and _same_key(store, candidate.entry, entry)
                    and candidate.source == target):
                used.add(id(candidate))
                record = candidate
        resolved.append((target, entry, record))
    for record in store._records:
        if record.entry is None:  # unknown record types survive untouched
            kept.append((record, record.raw))
    kept.sort(key=lambda item: (item[0].source, item[0].position))
    slots: dict[str, list[bytes]] = {"kdb": [], "rdb": []}
    next_id: dict[str, int] = {}
    zos: dict[str, bool] = {}
    for source in ("kdb", "rdb"):
        ids = [r.slot.record_id for r in store._records if r.source == source]
        next_id[source] = max(ids, default=0) + 1
        zos[source] = bool(ids) and all(r.slot.trailer == r.slot.record_id
                                        for r in store._records if r.source == source)
    for record, raw in kept:
        slots[record.source].append(raw)
    for target, entry, record in resolved:
        record_id = next_id[target]
        next_id[target] += 1
        slots[target].append(_encode(store, entry, record, record_id, zos[target]))
    return slots["kdb"], slots["rdb"]


def _same_key(store: CmsStore, a: Entry, b: Entry) -> bool:
    """Whether two entries hold the same key object, without decrypting a sealed one."""
    def identity(entry: Entry) -> object:
        if isinstance(entry, SealedEntry) and entry.sealed:
            return entry.sealed_blob(store)
        return entry.secret if entry.kind is EntryKind.SECRET_KEY else entry.key

    return identity(a) is identity(b)


def _encode(store: CmsStore, entry: Entry, old: _Record | None, record_id: int, zos: bool) -> bytes:
    """The slot body of `entry` with the new id; `old` is the record it came from (content kept if it can)."""
    label = entry.label.encode("utf-8")
    keep_content = old is not None and old.record is not None and not (store._rekey and _holds_key(entry))
    trailer = record_id if zos else 0
    if keep_content:
        assert old is not None and old.record is not None
        content, hashes, trusted = old.record.content, old.slot.hashes, old.record.trusted
        if old.slot.trailer == 20 and entry.kind is EntryKind.REQUEST:
            trailer, hashes = 20, _request_hash(old)
    else:
        hashes, trusted = b"", True
        if entry.kind.is_certificate:
            cert_der = entry.chain_der()[0]
            content = der.tlv(0xA1, cert_der)
            hashes = fmt.certificate_hashes(cert_der, store=store.location)
        elif entry.kind is EntryKind.KEY_PAIR:
            if old is not None and old.record is not None and old.entry is not None \
                    and _primary(old.entry) is _primary(entry):  # its DER as read: passwd decodes nothing
                # Re-keyed only: keep the certificate's own bytes (a non-DER original stays as it was).
                cert_der, hashes = old.record.parts(store=store.location)[0], old.slot.hashes
            else:
                cert_der = entry.chain_der()[0]
                hashes = fmt.certificate_hashes(cert_der, store=store.location)
            content = der.tlv(0xA2, der.tlv(0x30, cert_der + _encrypt_key(store, entry)))
        elif entry.kind is EntryKind.REQUEST:
            from cryptography.hazmat.primitives import serialization

            assert entry.request is not None
            csr_der = entry.request.public_bytes(serialization.Encoding.DER)
            content = der.tlv(0xA0, der.tlv(0x30, csr_der + _encrypt_key(store, entry)))
            trailer, hashes = fmt.request_tail(csr_der, store=store.location)
        else:
            assert entry.secret is not None
            content = der.tlv(0xA3, _encrypt_secret(store, entry.secret.value))
    if entry.kind.is_certificate:
        trusted = entry.trust is not None
    record = fmt.Record(record_id, content[0] & 0x1F, content, label, trusted, entry.default)
    slot = fmt.Slot(1, record_id, fmt.build_record(record), label, trailer, hashes)
    return fmt.slot_body(slot)


def _encrypt_key(store: CmsStore, entry: Entry) -> bytes:
    from keystores.crypto import pbe

    assert store._kdb is not None
    pkcs8 = store._pkcs8(entry)  # type: ignore[attr-defined]  # FileStore's
    scheme = NATIVE_KEY_SCHEME[store._kdb.version]
    epki = pbe.encrypt_pkcs8(pkcs8, store.password or "", scheme=scheme, iterations=_NATIVE_ITERATIONS,
                             salt_length=_NATIVE_SALT, raw_password=True)
    if scheme == "pkcs12-3des":  # GSKit's own OID says "raw password"; the standard one means BMPString
        epki = fmt.replace_epki_oid(epki, fmt.PKCS12_3DES_OID, fmt.GSKIT_3DES_OID) or epki
        note = (f"{store.location}: keys in a v{store._kdb.version} CMS database are encrypted as GSKit does "
                "(3DES, SHA-1 key derivation, 5 iterations); a v6 database (cms_version=6) uses AES-256")
        if note not in store.notes:
            store.notes.append(note)
    return epki


def _encrypt_secret(store: CmsStore, value: bytes) -> bytes:
    from keystores.crypto import pbe

    assert store._kdb is not None
    scheme = NATIVE_KEY_SCHEME[store._kdb.version]
    alg, ciphertext = pbe.encrypt_with(scheme, value, store.password or "", iterations=_NATIVE_ITERATIONS,
                                       salt_length=_NATIVE_SALT, raw_password=True)
    epki = der.tlv(0x30, alg + der.tlv(0x04, ciphertext))
    if scheme == "pkcs12-3des":
        epki = fmt.replace_epki_oid(epki, fmt.PKCS12_3DES_OID, fmt.GSKIT_3DES_OID) or epki
    return epki


def _fit(container: fmt.Container, slots: list[bytes]) -> list[bytes]:
    """Pad every slot to one size, growing the size (as GSKit does) when a record needs more room."""
    needed = max((len(s) for s in slots), default=0)
    container.slot_size = fmt.grown_slot_size(container.slot_size, needed)
    return [fmt.pad_slot(s, container.slot_size) for s in slots]


def _refresh_records(store: CmsStore, files: dict[str, tuple[bytes, bool]]) -> None:
    """After a write the files on disk are the new baseline (a second save writes only new changes)."""
    store._records = []
    store._loaded_password = store.password
    saved = dict(store._entries)
    store._entries = {}
    store._skipped = 0
    for source, path in (("kdb", store.file), ("rdb", store.rdb_path)):
        if path not in files:
            continue
        container = store._kdb if source == "kdb" else store._rdb
        assert container is not None
        for position, raw in enumerate(container.slots):
            if raw[:4] != b"\0\0\0\1":
                kept = fmt.Slot(int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:8], "big"), b"", b"", 0,
                                b"")
                store._records.append(_Record(source, position, raw, kept, None, None))
                continue
            slot = fmt.parse_slot(raw, store=str(path))
            record = fmt.parse_record(slot.der, store=str(path)) if slot.slot_type == 1 else None
            label = _label_text(slot.label)
            entry = saved.get(label) if record is not None and record.content_tag in _KINDS else None
            store._records.append(_Record(source, position, raw, slot, record, entry))
    store._entries = saved
    store._rekey = False
    store._pending_stash = None
