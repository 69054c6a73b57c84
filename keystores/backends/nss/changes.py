"""The change log: add, remove, rename and password changes are checked and queued in _ops, and applied by the write
transaction on save. A base of WritableNssStore (transaction.py) only: a read does not load it.
"""

from __future__ import annotations

from keystores.errors import (
    REPLACE,
    CorruptStore,
    EntryExists,
    UsageError,
)
from keystores.model import Entry, EntryKind, KeyRef, Trust

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _NotReadable(Exception):
    """A certificate's public key is of a type cryptography does not read."""


def _checked(cert: Any) -> Any:
    """`cert` after decoding everything cryptography decodes lazily; ValueError/TypeError when damaged."""
    from cryptography.exceptions import UnsupportedAlgorithm

    from keystores.pki.certificates import fully_decoded

    try:
        return fully_decoded(cert)
    except UnsupportedAlgorithm as exc:
        raise _NotReadable(str(exc)) from exc


class ChangeLog:
    """The editing API of a WritableNssStore: checks each change (NssStore.check_entry: what the format takes) and
    queues it. A store opened to read has BaseStore's add, remove and rename, which refuse as these do."""

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        self._require_writable()
        self.check_entry(entry)
        from keystores.backends.nss.writes import held_chain, held_ec_spki  # a writable store's: loaded by now

        # A key pair's derivations start now, before the checks below (writes.SqlWrites._derive_ahead: its two at
        # least); not for a label taken that is not to be replaced (refused below). Should a check refuse the
        # entry, they serve the next add of this write, or are dropped at close.
        if entry.kind is EntryKind.KEY_PAIR and (replace or entry.label not in self._entries):
            self._derive_ahead(2)

        entry = self._without_default(entry)
        # A chain held as DER that keystores.pki.shown reads needs no check: cryptography decodes it fully
        # (writes.held_chain then lays it out from the DER, importing no cryptography.x509: start-up, issue 15).
        chain = held_chain(entry)
        for held in chain:
            if held.cert is None:
                continue
            try:
                _checked(held.cert)
            except (ValueError, TypeError, _NotReadable) as exc:
                raise CorruptStore(f"a certificate of the entry is damaged ({exc.__class__.__name__} while "
                                   "decoding it)", store=self.location, label=entry.label) from exc
        # A key held as PKCS#8 (not loaded: writes._key_values) is compared with the certificate by its bytes.
        held = entry.held_pkcs8() if entry.kind is EntryKind.KEY_PAIR else None
        if held is None and entry.kind is EntryKind.KEY_PAIR and isinstance(entry.key, KeyRef):
            raise UsageError("the private key lives on a token and cannot be copied", store=self.location,
                             label=entry.label)
        if chain and (held is not None or entry.key is not None):
            # The same SubjectPublicKeyInfo bytes are the same key; other bytes are compared as loaded keys.
            key_spki = held_ec_spki(held) if held is not None else None
            if key_spki is None:
                from keystores.crypto.key_encoding import spki_der

                key_spki = spki_der(entry.key.public_key())
            if key_spki != chain[0].spki():
                from keystores.model import public_key_fingerprint

                if public_key_fingerprint(entry.key.public_key()) != public_key_fingerprint(
                        chain[0].decoded().public_key()):
                    raise UsageError("the private key does not belong to the certificate", store=self.location,
                                     label=entry.label)
        if entry.label in self._entries:
            if not replace:
                raise EntryExists("an entry with this label exists", store=self.location, label=entry.label,
                                  hint=REPLACE)
            self.remove(entry.label)
        self._entries[entry.label] = entry
        self._ops.append(("add", entry))
        self._dirty = True

    def remove(self, label: str) -> None:
        self._require_writable()
        found = self._find(label)
        self._ops.append(("remove", (found, self._entry_cert.pop(found, None))))
        del self._entries[found]
        self._dirty = True

    def rename(self, old: str, new: str) -> None:
        self._require_writable()
        source = self._find(old)
        if new in self._entries and new != source:
            raise EntryExists("an entry with the new label exists", store=self.location, label=new)
        if not new:
            raise UsageError("an entry needs a non-empty label", store=self.location)
        self._ops.append(("rename", (source, new, self._entry_cert.get(source))))
        entry = self._entries[source]
        if entry is not None:  # an entry read from the database and not used yet is None: nothing to carry
            from keystores.lazy_entries import LazyEntry  # here: a rename or delete builds no entry (start-up)

            entry = None if isinstance(entry, LazyEntry) else entry.with_(label=new)
        self._entries = {(new if k == source else k): (v if k != source else entry) for k, v in self._entries.items()}
        if source in self._entry_cert:
            self._entry_cert[new] = self._entry_cert.pop(source)
        self._dirty = True

    def set_trust(self, label: str, trust: Trust | None) -> None:
        """certutil -M -t: a certificate read from the database keeps its object, and only its trust object is
        replaced (its MACs made again) or removed (off: NSS reads no trust object as ",,"); writes._set_trust.
        Laying the certificate out again (BaseStore.set_trust: remove and add) read and hashed it to write the same
        object under a new id. An entry added since the database was opened goes that way still."""
        self._check_trust(label, trust)
        self._require_writable()
        found = self._find(label)
        cert_id = self._entry_cert.get(found)
        if cert_id is None:
            super().set_trust(label, trust)  # type: ignore[misc]
            return
        entry = self.get(found)
        if not entry.kind.is_certificate:
            raise UsageError(f"trust is set on certificate entries, and this is a {entry.kind} entry",
                             store=self.location, label=found)
        # as for any entry written (check_entry): the password first, NSS authenticates trust with it
        self._need_key("add entries (NSS authenticates trust and keys with the password)")
        from keystores.backends.nss.trust import from_model

        self._ops.append(("trust", (cert_id, from_model(trust))))
        self._entries[found] = entry.with_(trust=trust)
        self._dirty = True

    def set_password(self, new_password: str) -> None:
        self._require_writable()
        self._need_key("change the password (the keys are re-encrypted with the new one)")
        self._ops.append(("password", new_password))
        self._dirty = True
