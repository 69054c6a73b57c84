"""Indexing the objects read at open: certificates, trust objects, public and private keys; entries and their labels;
chain-only certificates.
"""

from __future__ import annotations

from keystores.backends.nss import db
from keystores.pki.labels import UniqueLabels


class _Cert:
    __slots__ = ("ckaid", "der", "id", "issuer", "label", "serial", "subject")

    def __init__(self, row: db.Row) -> None:
        self.id = row.id
        self.label = (row.get(db.CKA_LABEL) or b"").decode("utf-8", "replace")
        self.der = row.get(db.CKA_VALUE) or b""
        self.issuer = row.get(db.CKA_ISSUER) or b""
        self.serial = row.get(db.CKA_SERIAL_NUMBER) or b""
        self.subject = row.get(db.CKA_SUBJECT) or b""
        self.ckaid = row.get(db.CKA_ID) or b""


class Index:
    """Building the store's indexes from the rows read at open."""

    def _index(self, public: list[db.Row], private: list[db.Row]) -> None:
        self._by_subject = None
        certs: list[_Cert] = []
        for row in public:
            klass = db.read_ulong(row.get(db.CKA_CLASS))
            if klass == db.CKO_CERTIFICATE:
                cert = _Cert(row)
                if cert.der:
                    certs.append(cert)
                    self._certs[cert.id] = cert
            elif klass in (db.CKO_NSS_TRUST, db.CKO_TRUST):
                key = (row.get(db.CKA_ISSUER) or b"", row.get(db.CKA_SERIAL_NUMBER) or b"")
                self._trust[key] = row
            elif klass == db.CKO_PUBLIC_KEY:
                self._pubkeys.setdefault(row.get(db.CKA_ID) or b"", []).append(row.id)
        for row in private:
            if db.read_ulong(row.get(db.CKA_CLASS)) == db.CKO_PRIVATE_KEY:
                self._keys[row.get(db.CKA_ID) or b""] = row
        # Untrusted, keyless certificates that only serve as issuers in some key pair's chain.
        by_subject: dict[bytes, list[_Cert]] = {}
        for cert in certs:
            by_subject.setdefault(cert.subject, []).append(cert)
        for cert in certs:
            if cert.ckaid not in self._keys:
                continue
            issuer, seen = cert.issuer, {cert.subject}
            while issuer not in seen:
                seen.add(issuer)
                parents = by_subject.get(issuer, [])
                nxt = None
                for parent in parents:
                    if parent.ckaid not in self._keys and not self._trust_levels_raw(parent):
                        self._chain_only.add(parent.id)
                    nxt = parent.issuer
                if nxt is None:
                    break
                issuer = nxt
        # Chain-only certificates are entries too (kind "certificate"), as certutil -L lists them: `_chain_only` only
        # says that writing may treat them as part of the key pairs they serve.
        labels = UniqueLabels()
        labels.taken.update(self._entry_cert)
        for cert in certs:
            label = labels.add(cert.label or cert.subject.hex()[:16])
            self._entry_cert[label] = cert.id
            self._entries[label] = None  # type: ignore[assignment]  # built on demand
        if self._pass_key is None and self._keys:
            self.notes.append(f"{self.location}: the private keys are locked; give the database password to "
                              "read or copy them")
        with_certificate = {c.ckaid for c in certs}  # a set: keys x certificates was quadratic
        orphans = [k for k in self._keys if k not in with_certificate]
        if orphans:
            self.notes.append(f"{self.location}: {len(orphans)} private key(s) have no certificate and are not "
                              "shown (certutil -K lists them as orphans)")
