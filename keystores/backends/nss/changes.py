"""The change log: add (its checks: adding.py), remove, rename and password changes are checked and queued in _ops,
and applied by the write transaction on save. A base of WritableNssStore (transaction.py) only: a read does not load
it.
"""

from __future__ import annotations

from keystores.errors import (
    EntryExists,
    UsageError,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from keystores.model import Entry, Trust


class ChangeLog:
    """The editing API of a WritableNssStore: checks each change (NssStore.check_entry: what the format takes) and
    queues it. A store opened to read has BaseStore's add, remove and rename, which refuse as these do."""

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        from keystores.backends.nss import adding  # here: a rename, delete or trust change adds nothing

        adding.add(self, entry, replace=replace)

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
        replaced (its MACs made again) or removed (off: NSS reads no trust object as ",,"); writes.SqlWrites._set_trust.
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
