"""Reading a CMS key database: the .kdb's (and .rdb's) slots -> records -> entries; see container.py for the bytes."""

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


class CmsReading:
    """The reading half of CmsStore: the .kdb (and .rdb) slots -> records -> entries, keys decrypted on first use."""

    def _load(self, data: bytes) -> None:
        """Old CA certificates with negative serial numbers are common in CMS databases: cryptography's warnings
        about them are kept from the user where a certificate or request is decoded (decode_certificate, _chains
        and the request below each decode under keystores.pki.certificates.quietly_decoding), not around the whole
        reading, which for a database read lazily decodes nothing (start-up: no cryptography, no contextlib)."""
        self._load_files(data)

    def _load_files(self, data: bytes) -> None:
        from keystores.fileread import read_bytes

        password = self.password or ""
        self._originals[self.file] = data
        kdb = fmt.parse_container(data, password, store=self.file)
        if kdb.tag != fmt.TAG_KDB:
            raise UnsupportedFormat("is a GSKit request or CRL database; open the .kdb beside it instead",
                                    store=self.file)
        self._kdb = kdb
        for position, raw in enumerate(kdb.slots):
            self._read_slot("kdb", position, raw, self.file)
        if paths.is_file(self.rdb_path):
            try:
                self._load_requests(read_bytes(self.rdb_path), password)
            except KeystoreError as exc:
                if self.writable:
                    raise
                # Reading the key database does not need its requests: list what can be listed, and say so.
                self._rdb = None
                self._records = [r for r in self._records if r.source == "kdb"]
                self._entries = {r.entry.label: r.entry for r in self._records if r.entry is not None}
                self.notes.append(f"{self.rdb_path}: pending requests not read ({exc.reason})")
        if paths.is_file(self.crl_path) and self.writable:
            self._crl = read_bytes(self.crl_path)
            self._originals[self.crl_path] = self._crl
        self._link_chains()

    def _load_requests(self, rdb_bytes: bytes, password: str) -> None:
        self._originals[self.rdb_path] = rdb_bytes
        self._rdb = fmt.parse_container(rdb_bytes, password, store=self.rdb_path)
        for position, raw in enumerate(self._rdb.slots):
            self._read_slot("rdb", position, raw, self.rdb_path)

    def _read_slot(self, source: str, position: int, raw: bytes, path: str) -> None:
        where = path
        if len(raw) >= 8 and raw[:4] != b"\0\0\0\1":
            # A slot type we do not know: its layout past the id is unknown, so it is kept whole.
            unknown = fmt.Slot(int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:8], "big"), b"", b"", 0, b"")
            self._skipped += 1
            self._records.append(_Record(source, position, raw, unknown, None, None))
            return
        slot = fmt.parse_slot(raw, store=where)
        record: fmt.Record | None = None
        entry: Entry | None = None
        if slot.slot_type == 1:
            record = fmt.parse_record(slot.der, store=where)
            if record.content_tag in _KINDS:
                entry = self._entry_from(record, _label_text(slot.label), where)
        if entry is None:
            self._skipped += 1
        elif not entry.label:
            raise CorruptStore(f"record {record.record_id if record else '?'} has an empty label", store=where)
        elif entry.label in self._entries:
            raise CorruptStore("two records have the same label", store=where, label=entry.label)
        else:
            self._entries[entry.label] = entry
        self._records.append(_Record(source, position, raw, slot, record, entry))

    def _entry_from(self, record: fmt.Record, label: str, where: str) -> Entry:
        """The entry of one record. Keys stay sealed until a command uses them (`list` decrypts nothing); their
        parameters are checked against keystores.limits here."""
        password = self.password or ""
        try:
            parts = record.parts(store=where)
            kind = _KINDS[record.content_tag]
            if kind is EntryKind.SECRET_KEY:
                self._note_protection(parts[0], label, where)
                return sealed_entry(_call(self._open_secret, parts[0], label, where, password),
                                    parts[0], self, label=label, kind=kind, default=record.default)
            if len(parts) != (1 if kind is EntryKind.TRUSTED_CERT else 2):
                raise CorruptStore("damaged record (unexpected number of parts)", store=where, label=label)
            if kind is EntryKind.REQUEST:
                from cryptography import x509

                from keystores.pki.certificates import fully_decoded, quietly_decoding

                with quietly_decoding():
                    csr = fully_decoded(x509.load_der_x509_csr(parts[0]))
                self._note_protection(parts[1], label, where)
                return sealed_entry(_call(self._decrypt_key, parts[1], label, where, password),
                                    parts[1], self, label=label, kind=kind, request=csr, default=record.default)
            if _plainly_signed(parts[0]):
                return self._lazy_entry(record, parts, kind, label, where, password)
            cert = self._load_certificate(parts[0], label, where)
            if kind is EntryKind.TRUSTED_CERT:
                return Entry(label=label, kind=kind, chain=(cert,), trust=TRUST_ALL if record.trusted else None,
                             default=record.default)
            self._note_protection(parts[1], label, where)
            opening = self._key_opening(parts[1], label, where, password)
            return sealed_entry(opening.key, parts[1], self, label=label, kind=kind, chain=(cert,),
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

    def _lazy_entry(self, record: fmt.Record, parts: list[bytes], kind: EntryKind, label: str, where: str,
                    password: str) -> Entry:
        """A certificate or key pair whose certificate is decoded (and a key pair's chain linked, _linked_chain)
        on first use of `chain`: `list` of a small database, and a rename, delete or set-default, then import no
        cryptography.x509 (start-up speed, bench/bench_core.py "start-up: keystores list s.kdb"). Each chain is
        decoded once, whichever copy of the entry asks (cms.write finds a record by its certificate object)."""
        der = parts[0]
        if kind is EntryKind.TRUSTED_CERT:
            decoded = _once(lambda: (self._load_certificate(der, label, where),))
            return LazyEntry.lazy({"chain": decoded}, leaf_der=der,
                                  chain_der=(der,), label=label,
                                  kind=EntryKind.TRUSTED_CERT if record.trusted else EntryKind.CERTIFICATE,
                                  trust=TRUST_ALL if record.trusted else None, default=record.default)
        self._note_protection(parts[1], label, where)
        self._lazy_leaves.append(der)
        opening = self._key_opening(parts[1], label, where, password)
        return sealed_entry(opening.key, parts[1], self, chain_loader=_call(self._linked_chain, der), leaf_der=der,
                            label=label, find_chain_der=_call(self._linked_chain_der, der), kind=kind,
                            default=record.default, held=opening.held)

    def _note_protection(self, epki: bytes, label: str, where: str) -> None:
        """Note how a key is protected (parameters are checked against keystores.limits when it is opened). Plain
        DER is read by keystores.crypto.pbe_params (no asn1crypto: start-up speed), anything else by asn1crypto."""
        standard = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where)
        if standard is not None:
            self._key_schemes.add(NATIVE_KEY_PROTECTION[4])
            return  # GSKit's own scheme (v3/v4): crypto.pbe is not imported (start-up: list, rename of a .kdb)
        from keystores.crypto import pbe, pbe_params

        parts = pbe_params.encrypted_private_key_info(epki)
        with suppress(ValueError, KeyError, TypeError):
            if parts is not None:
                algorithm: Any = parts[0]
            else:
                from asn1crypto import keys

                algorithm = keys.EncryptedPrivateKeyInfo.load(epki)["encryption_algorithm"]
            self._key_schemes.add(ProtectionPart(*pbe.scheme(algorithm)))

    def _load_certificate(self, der: bytes, label: str, where: str) -> Any:
        """The record's certificate; one cryptography refuses is kept as its bytes (keystores.pki.undecoded), which
        are also what is written back: a certificate with NULL ECDSA parameters (some Java tooling writes them) is
        decoded through a repaired copy and keeps its bytes and its verifiable signature."""
        from keystores.pki.certificates import decode_certificate
        from keystores.pki.undecoded import RawCertificate

        cert = decode_certificate(der)
        if isinstance(cert, RawCertificate) and cert.problem is None:
            kind = "ECDSA" if "ecdsa" in (cert.signature_algorithm_name or "").lower() else "DSA"
            self.notes.append(f"{where}: the certificate of '{label}' carries NULL {kind} parameters, which strict "
                              "parsers refuse; it is read as openssl reads it and kept as it is")
        return cert

    def _decrypt_key(self, epki: bytes, label: str, where: str, password: str) -> Any:
        """The private key of a record, under the password the database was read with."""
        return self._load_key(self._decrypt_pkcs8(epki, label, where, password), label, where)

    def _key_opening(self, epki: bytes, label: str, where: str, password: str) -> KeyOpening:
        """A key pair's key, sealed (KeyOpening: `held` gives an EC key's PKCS#8 without loading it)."""
        return KeyOpening(_call(self._decrypt_pkcs8, epki, label, where, password),
                          lambda plain: self._load_key(plain, label, where))

    def _decrypt_pkcs8(self, epki: bytes, label: str, where: str, password: str) -> bytes:
        """A record's PKCS#8 PrivateKeyInfo, decrypted under the password the database was read with."""
        from keystores.crypto import pbe

        # GSKit marks its raw-password 3DES scheme with its own OID; pbe knows the standard one.
        standard = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where)
        try:
            # GSKit feeds the password to the PKCS#12 KDF as raw bytes; IBM's Java tooling as a BMPString.
            plain = pbe.decrypt_pkcs8(standard or epki, password, raw_password=True, budget=self._kdf_budget)
        except WrongPassword:
            try:
                plain = pbe.decrypt_pkcs8(epki, password, raw_password=False, budget=self._kdf_budget)
            except WrongPassword as exc:
                raise CorruptStore("the private key does not decrypt with the database's password",
                                   store=where, label=label) from exc
        except KeystoreError as exc:
            exc.store, exc.label = where, label
            raise
        return plain

    def _load_key(self, plain: bytes, label: str, where: str) -> Any:
        from keystores.crypto.key_encoding import load_der_private_key

        try:
            # The integrity check has passed, so these are the bytes the database's writer stored; cryptography's
            # RSA validation would cost over a second per 4096-bit key (the z/OS sample) and proves nothing more.
            return load_der_private_key(plain, None, unsafe_skip_rsa_key_validation=True)
        except (ValueError, TypeError) as exc:
            raise UnsupportedFormat(f"private key type not supported ({exc})", store=where, label=label) from exc

    def _open_secret(self, epki: bytes, label: str, where: str, password: str) -> SecretKey:
        from asn1crypto import keys

        from keystores.crypto import pbe

        epki = fmt.replace_epki_oid(epki, fmt.GSKIT_3DES_OID, fmt.PKCS12_3DES_OID, store=where) or epki
        try:
            info = keys.EncryptedPrivateKeyInfo.load(epki)
            alg, data = info["encryption_algorithm"], info["encrypted_data"].native
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStore("damaged secret key record", store=where, label=label) from exc
        try:
            value = pbe.decrypt_with(alg, data, password, raw_password=True, budget=self._kdf_budget)
        except WrongPassword as exc:
            raise CorruptStore("the secret key does not decrypt with the database's password",
                               store=where, label=label) from exc
        except KeystoreError as exc:
            exc.store, exc.label = where, label
            raise
        return SecretKey(_guess_secret_algorithm(value), value)

    def _link_chains(self) -> None:
        """Key pairs get their chain: the leaf, then the certificates in this database that issued it (signer
        records, or a CA's own personal certificate). Key pairs read lazily (_lazy_entry) are linked when a chain
        is first asked for, unless one was read eagerly or chain building could run out of its budget (its note
        is due now)."""
        key_pairs = sum(e.kind is EntryKind.KEY_PAIR for e in self._entries.values())
        if not key_pairs:
            return
        if len(self._lazy_leaves) == key_pairs and self._budget_cannot_run_out():
            return
        self._lazy_chains = {}
        for record, chain in self._chains():
            assert record.entry is not None
            if record.entry.undecoded_leaf is not None:
                self._lazy_chains[record.entry.undecoded_leaf] = chain
                continue
            linked = record.entry.with_(chain=chain)
            record.entry = linked
            self._entries[linked.label] = linked

    def _chains(self) -> list[tuple[_Record, tuple[Any, ...]]]:
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
                    leaves[der] = self._load_certificate(der, entry.label, self.location)
                return leaves[der]

            signers: dict[bytes, list[x509.Certificate]] = {}  # the database as read, whatever was edited since
            for entry in [r.entry for r in self._records if r.entry is not None]:
                if entry.kind is EntryKind.KEY_PAIR or entry.kind.is_certificate:
                    cert = leaf_of(entry)
                    signers.setdefault(cert.subject.public_bytes(), []).append(cert)
            verifications = VerificationBudget()
            chains = []
            for record in self._records:
                entry = record.entry
                if entry is None or entry.kind is not EntryKind.KEY_PAIR:
                    continue
                chains.append((record, build_chain(leaf_of(entry),
                                                   lambda cert: signers.get(cert.issuer.public_bytes(), []),
                                                   verifications)))
        note = verifications.note(self.location)
        if note is not None:
            self.notes.append(note)
        return chains

    def _linked_chain(self, leaf_der: bytes) -> tuple[Any, ...]:
        """A lazily read key pair's chain, found by its certificate's DER (whatever it was renamed to since): every
        one is linked on the first request (one signer index)."""
        if self._lazy_chains is None:
            self._lazy_chains = {record.entry.undecoded_leaf: chain  # type: ignore[union-attr, misc]
                                 for record, chain in self._chains() if record.entry.undecoded_leaf is not None}
        return self._lazy_chains[leaf_der]

    def _linked_chain_der(self, leaf_der: bytes) -> tuple[bytes, ...] | None:
        """A lazily read key pair's chain as DER, linked as _chains links it but over the certificates' DER
        (keystores.pki.shown.shown_certificates: names compared as encoded, signatures verified over the bytes),
        so that audit, show or export of a small database decode no certificate (start-up speed, bench_core's
        "start-up: keystores audit s.kdb"); None where that could differ from _chains: a record read eagerly or
        decoded since, a certificate in a form left to cryptography, names equal only as cryptography compares
        them, a signature budget that ran out (whose note _chains adds)."""
        if self._lazy_chain_ders is None:
            self._lazy_chain_ders = self._chains_over_der() or {}
        return self._lazy_chain_ders.get(leaf_der)

    def _chains_over_der(self) -> dict[bytes, tuple[bytes, ...]] | None:
        """_chains over the DER of the database as read: each lazily read key pair's chain by its certificate's DER,
        or None (see _linked_chain_der)."""
        from keystores.pki.chain import build_chain
        from keystores.pki.shown import ShownCertificate, shown_certificates

        entries = [r.entry for r in self._records if r.entry is not None
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
        return None if verifications.note(self.location) is not None else chains

    def _budget_cannot_run_out(self) -> bool:
        """Whether linking every key pair's chain is sure to stay within keystores.limits' verification budget, so
        that leaving it for later loses no note: at most (certificates)² checks per key pair, each costing at most
        what an RSA key as long as the longest certificate would (VerificationBudget.spend)."""
        from keystores.limits import MAX_VERIFICATION_WORK

        ders = [e.undecoded_leaf for e in self._entries.values()
                if e.kind is EntryKind.KEY_PAIR or e.kind.is_certificate]
        if any(der is None for der in ders):
            return False
        longest = max(len(der) for der in ders if der is not None)
        worst_check = max(1, longest * 8 // 2048) ** 2
        return len(self._lazy_leaves) * len(ders) ** 2 * worst_check <= MAX_VERIFICATION_WORK


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
