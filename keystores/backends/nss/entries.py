"""Lazy entries: an NSS entry's chain, trust and key, each read (decoded, decrypted, MAC-checked) on first access."""

from __future__ import annotations

from keystores.backends.nss import crypto as nc
from keystores.backends.nss import db
from keystores.backends.nss.index import _Cert
from keystores.backends.nss.trust_macs import _ATTR_NAMES
from keystores.errors import (
    CorruptStore,
    IntegrityError,
    PasswordRequired,
    UnsupportedFormat,
)
from keystores.lazy_entries import LazyEntry
from keystores.lightweight import suppress
from keystores.limits import LimitExceeded
from keystores.model import Entry, EntryKind, KeyRef
from keystores.pki.key_attributes import private_key_from_attributes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class LazyEntries:
    """Building LazyEntry objects and the loaders behind them."""

    def _build(self, label: str) -> Entry:
        cert = self._certs[self._entry_cert[label]]
        trust_row = self._trust.get((cert.issuer, cert.serial))
        key_row = self._keys.get(cert.ckaid) if cert.ckaid else None
        user = key_row is not None
        loaders: dict[str, Callable[[], Any]] = {"chain": lambda: self._read_chain(cert, label, issuers=user)}
        # The kind from the trust flags as stored; their MAC is checked when the trust itself is read.
        kind = EntryKind.KEY_PAIR if user else EntryKind.TRUSTED_CERT \
            if trust_row is not None and self._levels_of(trust_row).trusted_anything else EntryKind.CERTIFICATE
        fields: dict[str, Any] = {"label": label, "kind": kind}
        if trust_row is None:
            fields["trust"] = self._trust_model(None, user=user)
        else:
            loaders["trust"] = lambda: self._read_trust(cert, trust_row, label, user=user)
        if key_row is not None and self._pass_key is None:
            # Locked: the key is there but unreadable without the password (certutil -L needs none either).
            loaders["key"] = lambda: KeyRef(label=label, key_id=cert.ckaid, signer=None, sensitive=True,
                                            public_key=self._leaf_public_key(cert, label),
                                            extractable=False, locked=True)
        elif key_row is not None:
            loaders["key"] = lambda: self._guarded_private_key(key_row, label, self._leaf_for_key(cert, label))
        return LazyEntry.lazy(loaders, leaf_der=cert.der, find_chain_der=lambda: self._chain_der(cert, issuers=user),
                              **fields)

    def _read_chain(self, cert: _Cert, label: str, *, issuers: bool) -> tuple[Any, ...]:
        leaf = self._certificate(cert, label)
        return self._chain(leaf, cert) if issuers else (leaf,)

    def _read_trust(self, cert: _Cert, row: db.Row, label: str, *, user: bool) -> Any:
        """The entry's Trust from its trust object, once that object's MACs check out."""
        try:
            verified = self._verify_trust(row, label)
            if self._trust_is_for(cert, row):
                return self._trust_model(self._levels_of(row), user=user, verified=verified)
        except (TypeError, ValueError, IndexError) as exc:
            raise CorruptStore(f"the trust object is damaged ({exc})", store=self.location, label=label) from exc
        self.notes.append(f"{self.location}: '{label}': its trust object names another certificate (hash mismatch) "
                          "and is ignored, as NSS ignores it")
        return self._trust_model(None, user=user)

    def _certificate(self, cert: _Cert, label: str) -> Any:
        """The certificate object, once the parts cryptography decodes lazily (key, names, dates, extensions) are
        known to decode: NSS does not MAC certificate objects, so cert9.db can hold anything. Decoded once per
        object: a CA is in the chain of every key pair it issued."""
        decoded = self._decoded.get(cert.id)
        if decoded is not None:
            return decoded
        from cryptography.exceptions import UnsupportedAlgorithm

        from keystores.pki.certificates import decode_certificate  # here, as cryptography: a listing decodes none

        try:
            decoded = self._decoded[cert.id] = decode_certificate(cert.der)
            return decoded
        except UnsupportedAlgorithm as exc:
            raise UnsupportedFormat(f"the certificate has a public key of a type we do not read ({exc})",
                                    store=self.location, label=label) from exc
        except (ValueError, TypeError) as exc:
            raise CorruptStore(f"the certificate is damaged ({exc.__class__.__name__} while decoding it)",
                               store=self.location, label=label) from exc

    def _chain(self, leaf: Any, cert: _Cert) -> tuple[Any, ...]:
        from keystores.pki.chain import order_chain

        candidates = []
        for parent in self._chain_candidates(cert):
            with suppress(CorruptStore, UnsupportedFormat):  # a damaged issuer is no issuer
                candidates.append(self._certificate(parent, parent.label or "chain certificate"))
        chain = order_chain(leaf, candidates, self._verifications)
        note = self._verifications.note(self.location)
        if note is not None and note not in self.notes:
            self.notes.append(note)
        return chain

    def _chain_der(self, cert: _Cert, *, issuers: bool) -> tuple[bytes, ...] | None:
        """The chain _read_chain reads, as DER, built over the certificates' DER (keystores.pki.shown: names
        compared as encoded, signatures verified over the bytes), so that show or audit of a small database decode
        no certificate (start-up speed); None where that could differ from _read_chain: a certificate in a form
        left to cryptography (one it refuses, or that _certificate would refuse), names equal only as
        cryptography compares them, this reading's own signature budget spent (its note is _chain's)."""
        from keystores.pki.shown import shown_certificates

        parents = self._chain_candidates(cert) if issuers else []
        certificates = shown_certificates([cert.der, *(parent.der for parent in parents)])
        if certificates is None:
            return None
        if not issuers:
            return (cert.der,)
        from keystores.pki.chain import order_chain  # here: a certificate entry's chain is itself (trust, export)

        chain = order_chain(certificates[cert.der], [certificates[parent.der] for parent in parents],
                            self._der_verifications)
        return None if self._der_verifications.note(self.location) is not None else tuple(c.der for c in chain)

    def _chain_candidates(self, cert: _Cert) -> list[_Cert]:
        """The certificates _chain offers order_chain as `cert`'s issuers, up the names the database records."""
        from keystores.limits import MAX_CANDIDATES_PER_NAME

        if self._by_subject is None:
            self._by_subject = {}
            for each in self._certs.values():
                self._by_subject.setdefault(each.subject, []).append(each)
        candidates = []
        issuer, seen = cert.issuer, {cert.subject}
        while issuer not in seen:
            seen.add(issuer)
            parents = self._by_subject.get(issuer, [])[:MAX_CANDIDATES_PER_NAME]
            if not parents:
                break
            candidates += parents
            issuer = parents[0].issuer
        return candidates

    def _leaf_for_key(self, cert: _Cert, label: str) -> Callable[[], Any]:
        """What gives a key's certificate (its curve, when the key record names none), decoded on first use: show
        of a key pair then decodes no certificate. One keystores.pki.shown does not read is decoded now, so that a
        certificate _certificate refuses fails reading the key as before."""
        from keystores.pki.shown import read_shown

        if read_shown(cert.der) is None:
            leaf = self._certificate(cert, label)
            return lambda: leaf
        return lambda: self._certificate(cert, label)

    def _leaf_public_key(self, cert: _Cert, label: str) -> Any:
        """The public key of a key's certificate, read from its DER where keystores.pki.shown reads it."""
        from keystores.pki.shown import shown_certificates

        found = shown_certificates([cert.der])
        return (found[cert.der] if found is not None else self._certificate(cert, label)).public_key()

    def _guarded_private_key(self, row: db.Row, label: str, leaf: Callable[[], Any]) -> Any:
        try:
            return self._private_key(row, label, leaf)
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise CorruptStore(f"the private key's objects are damaged ({exc})", store=self.location,
                               label=label) from exc

    def _private_key(self, row: db.Row, label: str, leaf: Callable[[], Any]) -> Any:
        """The key from its record (keystores.pki.key_attributes builds it), each private value decrypted and each
        value checked against its MAC as it is read."""
        if self._pass_key is None:
            raise PasswordRequired("the database password is needed to read private keys", store=self.location,
                                   label=label)

        def value(attr: int) -> bytes:
            if attr not in db.ENCRYPTED and attr not in db.AUTHENTICATED:
                return row.get(attr) or b""  # e.g. DSA's domain parameters: public and not MACed
            blob = row.get(attr)
            if blob is None:
                raise CorruptStore(f"the private key lacks {_ATTR_NAMES.get(attr, hex(attr))}",
                                   store=self.location, label=label)
            if attr in db.AUTHENTICATED:
                self._check_mac("key", row.id, row.id, attr, blob, label, "private key")
                return blob
            try:
                plain = nc.decrypt_value(blob, self._pass_key, self._kdf_budget)  # type: ignore[arg-type]
            except LimitExceeded as exc:
                exc.store, exc.label = self.location, label
                raise
            except nc.DecryptFailed as exc:
                raise IntegrityError(f"{_ATTR_NAMES.get(attr, hex(attr))} does not decrypt with the database "
                                     "password: the key record is damaged", store=self.location,
                                     label=label) from exc
            except nc.DerError as exc:
                raise CorruptStore(f"{_ATTR_NAMES.get(attr, hex(attr))} is malformed ({exc})",
                                   store=self.location, label=label) from exc
            self._check_mac("key", row.id, 0, attr, plain, label, "private key")
            return plain

        key_type = db.read_ulong(row.get(db.CKA_KEY_TYPE))
        try:
            key = private_key_from_attributes(key_type, value, curve=lambda: self._curve(row, leaf, label))
        except ValueError as exc:
            raise CorruptStore(f"the private key is inconsistent ({exc})", store=self.location,
                               label=label) from exc
        if key is None:
            raise UnsupportedFormat(f"private keys of PKCS#11 key type {key_type} are not supported",
                                    store=self.location, label=label)
        return key

    def _curve(self, row: db.Row, leaf: Callable[[], Any], label: str) -> Any:
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
                               store=self.location, label=label) from exc
