"""Reading a CMS key database: the .kdb's (and .rdb's) slots -> records -> entries; see container.py for the bytes.

The reading half of CmsStore, as functions of the store: CmsStore._load imports this module when it reads a
database, so a command that makes a new one (convert or import into a new .kdb) loads none of it (it was a base
class of CmsStore, ~34 KB of bytecode: start-up, bench/bench_commands.py "convert one.p12 to .kdb").
"""

from __future__ import annotations

from keystores import paths
from keystores.backends.base import KeyOpening
from keystores.backends.cms import container as fmt
from keystores.backends.cms.records import _KINDS, NATIVE_KEY_PROTECTION, _label_text, _Record
from keystores.errors import (
    CorruptStore,
    KeystoreError,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.lazy_entries import LazyEntry, sealed_entry
from keystores.lightweight import suppress
from keystores.limits import VerificationBudget
from keystores.model import TRUST_ALL, Entry, EntryKind, ProtectionPart, SecretKey

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from cryptography import x509

    from keystores.backends.cms.store import CmsStore


def _call(function: Callable[..., Any], *args: Any) -> Callable[[], Any]:
    """functools.partial(function, *args), without functools (start-up: keystores.lightweight)."""
    return lambda: function(*args)


def _once(function: Callable[[], Any]) -> Callable[[], Any]:
    """functools.cache of a function without arguments: called once, then its answer."""
    answer: list[Any] = []

    def cached() -> Any:
        if not answer:
            answer.append(function())
        return answer[0]

    return cached


def _guess_secret_algorithm(value: bytes) -> str:
    # The record carries no algorithm name; the length is all there is to go on.
    return "AES" if len(value) in (16, 24, 32) else "GENERIC"


def load(store: CmsStore, data: bytes) -> None:
    """Read `data` (the .kdb's bytes), and the .rdb and .crl beside it, into `store`: its records, entries and
    chains, keys sealed until first used.

    Old CA certificates with negative serial numbers are common in CMS databases: cryptography's warnings
    about them are kept from the user where a certificate or request is decoded (decode_certificate, _chains
    and the request below each decode under keystores.pki.certificates.quietly_decoding), not around the whole
    reading, which for a database read lazily decodes nothing (start-up: no cryptography, no contextlib)."""
    _load_files(store, data)


def _load_files(store: CmsStore, data: bytes) -> None:
    from keystores.fileread import read_bytes

    password = store.password or ""
    store._originals[store.file] = data
    kdb = fmt.parse_container(data, password, store=store.file)
    if kdb.tag != fmt.TAG_KDB:
        raise UnsupportedFormat("is a GSKit request or CRL database; open the .kdb beside it instead",
                                store=store.file)
    store._kdb = kdb
    for position, raw in enumerate(kdb.slots):
        _read_slot(store, "kdb", position, raw, store.file)
    if paths.is_file(store.rdb_path):
        try:
            _load_requests(store, read_bytes(store.rdb_path), password)
        except KeystoreError as exc:
            if store.writable:
                raise
            # Reading the key database does not need its requests: list what can be listed, and say so.
            store._rdb = None
            store._records = [r for r in store._records if r.source == "kdb"]
            store._entries = {r.entry.label: r.entry for r in store._records if r.entry is not None}
            store.notes.append(f"{store.rdb_path}: pending requests not read ({exc.reason})")
    if paths.is_file(store.crl_path) and store.writable:
        store._crl = read_bytes(store.crl_path)
        store._originals[store.crl_path] = store._crl
    _link_chains(store)


def _load_requests(store: CmsStore, rdb_bytes: bytes, password: str) -> None:
    store._originals[store.rdb_path] = rdb_bytes
    store._rdb = fmt.parse_container(rdb_bytes, password, store=store.rdb_path)
    for position, raw in enumerate(store._rdb.slots):
        _read_slot(store, "rdb", position, raw, store.rdb_path)


def _read_slot(store: CmsStore, source: str, position: int, raw: bytes, path: str) -> None:
    where = path
    if len(raw) >= 8 and raw[:4] != b"\0\0\0\1":
        # A slot type we do not know: its layout past the id is unknown, so it is kept whole.
        unknown = fmt.Slot(int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:8], "big"), b"", b"", 0, b"")
        store._skipped += 1
        store._records.append(_Record(source, position, raw, unknown, None, None))
        return
    slot = fmt.parse_slot(raw, store=where)
    record: fmt.Record | None = None
    entry: Entry | None = None
    if slot.slot_type == 1:
        record = fmt.parse_record(slot.der, store=where)
        if record.content_tag in _KINDS:
            entry = _entry_from(store, record, _label_text(slot.label), where)
    if entry is None:
        store._skipped += 1
    elif not entry.label:
        raise CorruptStore(f"record {record.record_id if record else '?'} has an empty label", store=where)
    elif entry.label in store._entries:
        raise CorruptStore("two records have the same label", store=where, label=entry.label)
    else:
        store._entries[entry.label] = entry
    store._records.append(_Record(source, position, raw, slot, record, entry))


def _entry_from(store: CmsStore, record: fmt.Record, label: str, where: str) -> Entry:
    """The entry of one record. Keys stay sealed until a command uses them (`list` decrypts nothing); their
    parameters are checked against keystores.limits here."""
    password = store.password or ""
    try:
        parts = record.parts(store=where)
        kind = _KINDS[record.content_tag]
        if kind is EntryKind.SECRET_KEY:
            _note_protection(store, parts[0], label, where)
            return sealed_entry(_call(_open_secret, store, parts[0], label, where, password),
                                parts[0], store, label=label, kind=kind, default=record.default)
        if len(parts) != (1 if kind is EntryKind.TRUSTED_CERT else 2):
            raise CorruptStore("damaged record (unexpected number of parts)", store=where, label=label)
        if kind is EntryKind.REQUEST:
            from cryptography import x509

            from keystores.pki.certificates import fully_decoded, quietly_decoding

            with quietly_decoding():
                csr = fully_decoded(x509.load_der_x509_csr(parts[0]))
            _note_protection(store, parts[1], label, where)
            return sealed_entry(_call(_decrypt_key, store, parts[1], label, where, password),
                                parts[1], store, label=label, kind=kind, request=csr, default=record.default)
        if _plainly_signed(parts[0]):
            return _lazy_entry(store, record, parts, kind, label, where, password)
        cert = _load_certificate(store, parts[0], label, where)
        if kind is EntryKind.TRUSTED_CERT:
            return Entry(label=label, kind=kind, chain=(cert,), trust=TRUST_ALL if record.trusted else None,
                         default=record.default)
        _note_protection(store, parts[1], label, where)
        opening = _key_opening(store, parts[1], label, where, password)
        return sealed_entry(opening.key, parts[1], store, label=label, kind=kind, chain=(cert,),
                            default=record.default, held=opening.held)
    except KeystoreError:
        raise
    except Exception as exc:  # cryptography's classes are looked at only when something failed (start-up speed)
        from cryptography import x509
        from cryptography.exceptions import UnsupportedAlgorithm

        if isinstance(exc, UnsupportedAlgorithm):
            raise UnsupportedFormat(f"a key or signature algorithm we do not read ({exc})", store=where,
                                    label=label) from exc
        if isinstance(exc, (ValueError, TypeError, IndexError, x509.InvalidVersion)):
            raise CorruptStore(f"damaged record ({exc.__class__.__name__})", store=where, label=label) from exc
        raise


def _lazy_entry(store: CmsStore, record: fmt.Record, parts: list[bytes], kind: EntryKind, label: str, where: str,
                password: str) -> Entry:
    """A certificate or key pair whose certificate is decoded (and a key pair's chain linked, _linked_chain)
    on first use of `chain`: `list` of a small database, and a rename, delete or set-default, then import no
    cryptography.x509 (start-up speed, bench/bench_core.py "start-up: keystores list s.kdb"). Each chain is
    decoded once, whichever copy of the entry asks (cms.write finds a record by its certificate object)."""
    der = parts[0]
    if kind is EntryKind.TRUSTED_CERT:
        decoded = _once(lambda: (_load_certificate(store, der, label, where),))
        return LazyEntry.lazy({"chain": decoded}, leaf_der=der,
                              chain_der=(der,), label=label,
                              kind=EntryKind.TRUSTED_CERT if record.trusted else EntryKind.CERTIFICATE,
                              trust=TRUST_ALL if record.trusted else None, default=record.default)
    _note_protection(store, parts[1], label, where)
    store._lazy_leaves.append(der)
    opening = _key_opening(store, parts[1], label, where, password)
    return sealed_entry(opening.key, parts[1], store, chain_loader=_call(_linked_chain, store, der), leaf_der=der,
                        label=label, find_chain_der=_call(_linked_chain_der, store, der), kind=kind,
                        default=record.default, held=opening.held)


def _note_protection(store: CmsStore, epki: bytes, label: str, where: str) -> None:
    """Note how a key is protected (parameters are checked against keystores.limits when it is opened). Plain
    DER is read by keystores.crypto.pbe_params (no asn1crypto: start-up speed), anything else by asn1crypto."""
    standard = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where)
    if standard is not None:
        store._key_schemes.add(NATIVE_KEY_PROTECTION[4])
        return  # GSKit's own scheme (v3/v4): crypto.pbe is not imported (start-up: list, rename of a .kdb)
    from keystores.crypto import pbe, pbe_params

    parts = pbe_params.encrypted_private_key_info(epki)
    with suppress(ValueError, KeyError, TypeError):
        if parts is not None:
            algorithm: Any = parts[0]
        else:
            from asn1crypto import keys

            algorithm = keys.EncryptedPrivateKeyInfo.load(epki)["encryption_algorithm"]
        store._key_schemes.add(ProtectionPart(*pbe.scheme(algorithm)))


def _load_certificate(store: CmsStore, der: bytes, label: str, where: str) -> Any:
    """The record's certificate; one cryptography refuses is kept as its bytes (keystores.pki.undecoded), which
    are also what is written back: a certificate with NULL ECDSA parameters (some Java tooling writes them) is
    decoded through a repaired copy and keeps its bytes and its verifiable signature."""
    from keystores.pki.certificates import decode_certificate
    from keystores.pki.undecoded import RawCertificate

    cert = decode_certificate(der)
    if isinstance(cert, RawCertificate) and cert.problem is None:
        kind = "ECDSA" if "ecdsa" in (cert.signature_algorithm_name or "").lower() else "DSA"
        store.notes.append(f"{where}: the certificate of '{label}' carries NULL {kind} parameters, which strict "
                          "parsers refuse; it is read as openssl reads it and kept as it is")
    return cert


def _decrypt_key(store: CmsStore, epki: bytes, label: str, where: str, password: str) -> Any:
    """The private key of a record, under the password the database was read with."""
    return _load_key(store, _decrypt_pkcs8(store, epki, label, where, password), label, where)


def _key_opening(store: CmsStore, epki: bytes, label: str, where: str, password: str) -> KeyOpening:
    """A key pair's key, sealed (KeyOpening: `held` gives an EC key's PKCS#8 without loading it)."""
    return KeyOpening(_call(_decrypt_pkcs8, store, epki, label, where, password),
                      lambda plain: _load_key(store, plain, label, where))


def _decrypt_pkcs8(store: CmsStore, epki: bytes, label: str, where: str, password: str) -> bytes:
    """A record's PKCS#8 PrivateKeyInfo, decrypted under the password the database was read with."""
    from keystores.crypto import pbe

    # GSKit marks its raw-password 3DES scheme with its own OID; pbe knows the standard one.
    standard = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where)
    try:
        # GSKit feeds the password to the PKCS#12 KDF as raw bytes; IBM's Java tooling as a BMPString.
        plain = pbe.decrypt_pkcs8(standard or epki, password, raw_password=True, budget=store._kdf_budget)
    except WrongPassword:
        try:
            plain = pbe.decrypt_pkcs8(epki, password, raw_password=False, budget=store._kdf_budget)
        except WrongPassword as exc:
            raise CorruptStore("the private key does not decrypt with the database's password",
                               store=where, label=label) from exc
    except KeystoreError as exc:
        exc.store, exc.label = where, label
        raise
    return plain


def _load_key(store: CmsStore, plain: bytes, label: str, where: str) -> Any:
    from keystores.crypto.key_encoding import load_der_private_key

    try:
        # The integrity check has passed, so these are the bytes the database's writer stored; cryptography's
        # RSA validation would cost over a second per 4096-bit key (the z/OS sample) and proves nothing more.
        return load_der_private_key(plain, None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError) as exc:
        raise UnsupportedFormat(f"private key type not supported ({exc})", store=where, label=label) from exc


def _open_secret(store: CmsStore, epki: bytes, label: str, where: str, password: str) -> SecretKey:
    from asn1crypto import keys

    from keystores.crypto import pbe

    epki = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where) or epki
    try:
        info = keys.EncryptedPrivateKeyInfo.load(epki)
        alg, data = info["encryption_algorithm"], info["encrypted_data"].native
    except (ValueError, KeyError, TypeError) as exc:
        raise CorruptStore("damaged secret key record", store=where, label=label) from exc
    try:
        value = pbe.decrypt_with(alg, data, password, raw_password=True, budget=store._kdf_budget)
    except WrongPassword as exc:
        raise CorruptStore("the secret key does not decrypt with the database's password",
                           store=where, label=label) from exc
    except KeystoreError as exc:
        exc.store, exc.label = where, label
        raise
    return SecretKey(_guess_secret_algorithm(value), value)


def _link_chains(store: CmsStore) -> None:
    """Key pairs get their chain: the leaf, then the certificates in this database that issued it (signer
    records, or a CA's own personal certificate). Key pairs read lazily (_lazy_entry) are linked when a chain
    is first asked for, unless one was read eagerly or chain building could run out of its budget (its note
    is due now)."""
    key_pairs = sum(e.kind is EntryKind.KEY_PAIR for e in store._entries.values())
    if not key_pairs:
        return
    if len(store._lazy_leaves) == key_pairs and _budget_cannot_run_out(store):
        return
    store._lazy_chains = {}
    for record, chain in _chains(store):
        assert record.entry is not None
        if record.entry.undecoded_leaf is not None:
            store._lazy_chains[record.entry.undecoded_leaf] = chain
            continue
        linked = record.entry.with_(chain=chain)
        record.entry = linked
        store._entries[linked.label] = linked


def _chains(store: CmsStore) -> list[tuple[_Record, tuple[Any, ...]]]:
    """Every key pair's record and chain, noting when the budget ran out."""
    from keystores.pki.certificates import quietly_decoding
    from keystores.pki.chain import build_chain

    with quietly_decoding():
        leaves: dict[bytes, Any] = {}  # a lazily read key pair's certificate, by its DER

        def leaf_of(entry: Entry) -> Any:
            der = entry.undecoded_leaf if entry.kind is EntryKind.KEY_PAIR else None
            if der is None:
                return entry.chain[0]
            if der not in leaves:
                leaves[der] = _load_certificate(store, der, entry.label, store.location)
            return leaves[der]

        signers: dict[bytes, list[x509.Certificate]] = {}  # the database as read, whatever was edited since
        for entry in [r.entry for r in store._records if r.entry is not None]:
            if entry.kind is EntryKind.KEY_PAIR or entry.kind.is_certificate:
                cert = leaf_of(entry)
                signers.setdefault(cert.subject.public_bytes(), []).append(cert)
        verifications = VerificationBudget()
        chains = []
        for record in store._records:
            entry = record.entry
            if entry is None or entry.kind is not EntryKind.KEY_PAIR:
                continue
            chains.append((record, build_chain(leaf_of(entry),
                                               lambda cert: signers.get(cert.issuer.public_bytes(), []),
                                               verifications)))
    note = verifications.note(store.location)
    if note is not None:
        store.notes.append(note)
    return chains


def _linked_chain(store: CmsStore, leaf_der: bytes) -> tuple[Any, ...]:
    """A lazily read key pair's chain, found by its certificate's DER (whatever it was renamed to since): every
    one is linked on the first request (one signer index)."""
    if store._lazy_chains is None:
        store._lazy_chains = {record.entry.undecoded_leaf: chain  # type: ignore[union-attr, misc]
                             for record, chain in _chains(store) if record.entry.undecoded_leaf is not None}
    return store._lazy_chains[leaf_der]


def _linked_chain_der(store: CmsStore, leaf_der: bytes) -> tuple[bytes, ...] | None:
    """A lazily read key pair's chain as DER, linked as _chains links it but over the certificates' DER
    (keystores.pki.shown.shown_certificates: names compared as encoded, signatures verified over the bytes),
    so that audit, show or export of a small database decode no certificate (start-up speed, bench_core's
    "start-up: keystores audit s.kdb"); None where that could differ from _chains: a record read eagerly or
    decoded since, a certificate in a form left to cryptography, names equal only as cryptography compares
    them, a signature budget that ran out (whose note _chains adds)."""
    if store._lazy_chain_ders is None:
        store._lazy_chain_ders = _chains_over_der(store) or {}
    return store._lazy_chain_ders.get(leaf_der)


def _chains_over_der(store: CmsStore) -> dict[bytes, tuple[bytes, ...]] | None:
    """_chains over the DER of the database as read: each lazily read key pair's chain by its certificate's DER,
    or None (see _linked_chain_der)."""
    from keystores.pki.chain import build_chain
    from keystores.pki.shown import ShownCertificate, shown_certificates

    entries = [r.entry for r in store._records if r.entry is not None
               and (r.entry.kind is EntryKind.KEY_PAIR or r.entry.kind.is_certificate)]
    leaves: list[bytes] = []
    for entry in entries:
        if entry.undecoded_leaf is None:
            return None
        leaves.append(entry.undecoded_leaf)
    certificates = shown_certificates(leaves)
    if certificates is None:
        return None
    signers: dict[bytes, list[ShownCertificate]] = {}
    for der in leaves:  # one candidate per record, as _chains has (each charged to the budget)
        signers.setdefault(certificates[der].subject_der, []).append(certificates[der])
    verifications = VerificationBudget()
    chains = {}
    for entry, der in zip(entries, leaves, strict=True):
        if entry.kind is EntryKind.KEY_PAIR:
            chain = build_chain(certificates[der], lambda cert: signers.get(cert.issuer_der, []), verifications)
            chains[der] = tuple(cert.der for cert in chain)
    return None if verifications.note(store.location) is not None else chains


def _budget_cannot_run_out(store: CmsStore) -> bool:
    """Whether linking every key pair's chain is sure to stay within keystores.limits' verification budget, so
    that leaving it for later loses no note: at most (certificates)² checks per key pair, each costing at most
    what an RSA key as long as the longest certificate would (VerificationBudget.spend)."""
    from keystores.limits import MAX_VERIFICATION_WORK

    ders = [e.undecoded_leaf for e in store._entries.values()
            if e.kind is EntryKind.KEY_PAIR or e.kind.is_certificate]
    if any(der is None for der in ders):
        return False
    longest = max(len(der) for der in ders if der is not None)
    worst_check = max(1, longest * 8 // 2048) ** 2
    return len(store._lazy_leaves) * len(ders) ** 2 * worst_check <= MAX_VERIFICATION_WORK


_RSA_SIGNATURES = "1.2.840.113549.1.1."


def _plainly_signed(cert_der: bytes) -> bool:
    """Whether a certificate's signature algorithm is one keystores.pki.certificates.decode_certificate takes as
    it is: an RSA one, or another without parameters. One with NULL (EC)DSA parameters is decoded through a
    repaired copy, with a note, so its record is read eagerly, as are certificates this DER reader cannot read."""
    from keystores.crypto import der

    try:
        top = der.inside(cert_der, whole=True)
        algorithm = der.inside_element(cert_der, top[1])
    except (der.DerError, IndexError):
        return False
    return len(algorithm) == 1 or der.element_oid(cert_der, algorithm[0]).startswith(_RSA_SIGNATURES)
