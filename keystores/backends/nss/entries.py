"""Lazy entries: an NSS entry's chain, trust and key, each read (decoded, decrypted, MAC-checked) on first access by
keystores.backends.nss.reading; and trust objects' levels as stored, which give an entry its kind.
"""

from __future__ import annotations

from keystores.backends.nss import db
from keystores.backends.nss import trust as nt
from keystores.model import Entry, EntryKind, KeyRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from keystores.backends.nss.store import _Cert

# --- trust objects' levels as stored -------------------------------------------------------------------------------
_NSS_TRUST_ATTRS = {"server": db.CKA_TRUST_SERVER_AUTH, "client": db.CKA_TRUST_CLIENT_AUTH,
                    "email": db.CKA_TRUST_EMAIL_PROTECTION, "code": db.CKA_TRUST_CODE_SIGNING}


_PKCS_TRUST_ATTRS = {"server": db.CKA_PKCS_TRUST_SERVER_AUTH, "client": db.CKA_PKCS_TRUST_CLIENT_AUTH,
                     "email": db.CKA_PKCS_TRUST_EMAIL_PROTECTION, "code": db.CKA_PKCS_TRUST_CODE_SIGNING}


_LEVEL_ATTRS = (*_NSS_TRUST_ATTRS.values(), *_PKCS_TRUST_ATTRS.values(), db.CKA_TRUST_STEP_UP_APPROVED)


_LEVEL_KEY = (db.CKA_CLASS, *_LEVEL_ATTRS)  # what a trust object's levels are decoded from




class TrustAndMacs:
    """Reading trust levels as stored (reading.py checks their integrity MACs when an entry's trust is read)."""

    def _trust_levels_raw(self, cert: _Cert) -> nt.Levels | None:
        row = self._trust.get((cert.issuer, cert.serial))
        if row is None:
            return None
        levels = self._levels_of(row)
        return levels if levels.trusted_anything else None

    def _levels_of(self, row: db.Row) -> nt.Levels:
        """The trust object's levels; objects holding the same values share one Levels (a CA list has a handful)."""
        raw = row.raw(_LEVEL_KEY)
        levels = self._levels_cache.get(raw)
        if levels is None:
            levels = self._levels_cache[raw] = self._decode_levels(row)
        return levels

    def _trust_model(self, levels: nt.Levels | None, *, user: bool, verified: bool = True) -> Any:
        """nt.to_model, once per distinct (levels, user, verified): Trust is frozen, so entries may share one."""
        key = (levels, user, verified)
        if key not in self._trust_models:
            trust = nt.to_model(levels, user=user)
            if trust is not None and not verified:
                trust = trust.with_(verified=False)
            self._trust_models[key] = trust
        return self._trust_models[key]

    @staticmethod
    def _decode_levels(row: db.Row) -> nt.Levels:
        values = {}
        if db.read_ulong(row.get(db.CKA_CLASS)) == db.CKO_TRUST:
            for purpose, attr in _PKCS_TRUST_ATTRS.items():
                raw = db.read_ulong(row.get(attr))
                values[purpose] = nt.PKCS_LEVELS.get(raw, nt.UNKNOWN) if raw is not None else nt.UNKNOWN
            return nt.Levels(**values)
        for purpose, attr in _NSS_TRUST_ATTRS.items():
            raw = db.read_ulong(row.get(attr))
            values[purpose] = raw if raw is not None else nt.UNKNOWN
        step = row.get(db.CKA_TRUST_STEP_UP_APPROVED)
        return nt.Levels(**values, step_up=step == db.TRUE)


# --- lazy entries ------------------------------------------------------------------------------------------------
class LazyEntries:
    """Building LazyEntry objects and the loaders behind them."""

    def _build(self, label: str) -> Entry:
        cert = self._certs[self._entry_cert[label]]
        trust_row = self._trust.get((cert.issuer, cert.serial))
        key_row = self._keys.get(cert.ckaid) if cert.ckaid else None
        user = key_row is not None
        loaders: dict[str, Callable[[], Any]] = {
            "chain": lambda: _reading()._read_chain(self, cert, label, issuers=user)}
        # The kind from the trust flags as stored; their MAC is checked when the trust itself is read.
        kind = EntryKind.KEY_PAIR if user else EntryKind.TRUSTED_CERT \
            if trust_row is not None and self._levels_of(trust_row).trusted_anything else EntryKind.CERTIFICATE
        fields: dict[str, Any] = {"label": label, "kind": kind}
        if trust_row is None:
            fields["trust"] = self._trust_model(None, user=user)
        else:
            loaders["trust"] = lambda: _reading()._read_trust(self, cert, trust_row, label, user=user)
        if key_row is not None and self._pass_key is None:
            # Locked: the key is there but unreadable without the password (certutil -L needs none either).
            loaders["key"] = lambda: KeyRef(label=label, key_id=cert.ckaid, signer=None, sensitive=True,
                                            public_key=_reading()._leaf_public_key(self, cert, label),
                                            extractable=False, locked=True)
        elif key_row is not None:
            loaders["key"] = lambda: _reading()._guarded_private_key(self, key_row, label,
                                                                      _reading()._leaf_for_key(self, cert, label))
        from keystores.lazy_entries import LazyEntry  # here: a rename, delete or trust change builds no entry

        return LazyEntry.lazy(loaders, leaf_der=cert.der,
                              find_chain_der=lambda: _reading()._chain_der(self, cert, issuers=user), **fields)


def _reading() -> Any:
    """keystores.backends.nss.reading, which reads an entry's chain, trust and key when first asked for: a list,
    rename, delete or trust change reads none of them (its ~15 KB of bytecode stays unloaded; issue 15)."""
    from keystores.backends.nss import reading

    return reading
