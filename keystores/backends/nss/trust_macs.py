"""Trust objects as read (levels, the certificate hash they name) and the integrity MACs that guard trust and keys,
checked under the passKey.
"""

from __future__ import annotations

import hashlib

from keystores.backends.nss import crypto as nc
from keystores.backends.nss import db
from keystores.backends.nss import trust as nt
from keystores.backends.nss.index import _Cert
from keystores.errors import IntegrityError
from keystores.limits import LimitExceeded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_NSS_TRUST_ATTRS = {"server": db.CKA_TRUST_SERVER_AUTH, "client": db.CKA_TRUST_CLIENT_AUTH,
                    "email": db.CKA_TRUST_EMAIL_PROTECTION, "code": db.CKA_TRUST_CODE_SIGNING}


_PKCS_TRUST_ATTRS = {"server": db.CKA_PKCS_TRUST_SERVER_AUTH, "client": db.CKA_PKCS_TRUST_CLIENT_AUTH,
                     "email": db.CKA_PKCS_TRUST_EMAIL_PROTECTION, "code": db.CKA_PKCS_TRUST_CODE_SIGNING}


_LEVEL_ATTRS = (*_NSS_TRUST_ATTRS.values(), *_PKCS_TRUST_ATTRS.values(), db.CKA_TRUST_STEP_UP_APPROVED)


_LEVEL_KEY = (db.CKA_CLASS, *_LEVEL_ATTRS)  # what a trust object's levels are decoded from


_TRUST_MACED = (*_NSS_TRUST_ATTRS.values(), *_PKCS_TRUST_ATTRS.values(), db.CKA_TRUST_STEP_UP_APPROVED,
                db.CKA_CERT_SHA1_HASH, db.CKA_CERT_MD5_HASH, db.CKA_HASH_OF_CERTIFICATE, db.CKA_NAME_HASH_ALGORITHM)


_ATTR_NAMES = {db.CKA_VALUE: "CKA_VALUE", db.CKA_MODULUS: "CKA_MODULUS", db.CKA_PUBLIC_EXPONENT:
               "CKA_PUBLIC_EXPONENT", db.CKA_PRIVATE_EXPONENT: "CKA_PRIVATE_EXPONENT", db.CKA_PRIME_1: "CKA_PRIME_1",
               db.CKA_PRIME_2: "CKA_PRIME_2", db.CKA_EXPONENT_1: "CKA_EXPONENT_1", db.CKA_EXPONENT_2: "CKA_EXPONENT_2",
               db.CKA_COEFFICIENT: "CKA_COEFFICIENT"}


class TrustAndMacs:
    """Reading trust levels and checking integrity MACs."""

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

    @staticmethod
    def _trust_is_for(cert: _Cert, row: db.Row) -> bool:
        """Trust objects are found by issuer and serial; NSS also checks the certificate hash they carry."""
        sha1 = row.get(db.CKA_CERT_SHA1_HASH)
        if sha1 is not None and sha1 != hashlib.sha1(cert.der).digest():
            return False
        digest = row.get(db.CKA_HASH_OF_CERTIFICATE)
        if digest:
            mechanism = db.read_ulong(row.get(db.CKA_NAME_HASH_ALGORITHM))
            name = {0x220: "sha1", 0x255: "sha224", 0x250: "sha256", 0x260: "sha384", 0x270: "sha512"}.get(
                mechanism if mechanism is not None else 0x220)
            if name is not None and digest != hashlib.new(name, cert.der).digest():
                return False
        return True

    def _verify_trust(self, row: db.Row, label: str) -> bool:
        """Check the trust object's MACs; False when they cannot be checked (no password: certutil shows such
        trust unchecked too)."""
        if self._unlocked() is None:
            if not self._unverified_noted:
                self._unverified_noted = True
                self.notes.append(f"{self.location}: trust is shown unverified: its integrity MACs need the database "
                                  "password, and anyone who can write the database could have set it")
            return False
        values = [(attr, value) for attr in _TRUST_MACED if (value := row.get(attr)) is not None]
        try:
            failed = self._mac_checker().first_failure(self._mac_items(), f"sig_cert_{row.id:08x}_", row.id,
                                                       values)
        except LimitExceeded as exc:
            exc.store, exc.label = self.location, label
            raise
        if failed is not None:  # _check_mac says what is wrong with it
            self._check_mac("cert", row.id, row.id, failed, dict(values)[failed], label, "trust")
        return True

    def _mac_checker(self) -> nc.MacChecker:
        assert self._pass_key is not None
        checker = self._macs
        if checker is None or checker.key != self._pass_key:
            checker = self._macs = nc.MacChecker(self._pass_key, self._kdf_budget)
        return checker

    def _check_mac(self, kind: str, object_id: int, mac_id: int, attr: int, value: bytes, label: str,
                   what: str) -> None:
        assert self._pass_key is not None
        name = f"sig_{kind}_{object_id:08x}_{attr:08x}"
        blob = self._mac_items().get(name)
        if blob is not None:
            try:
                if self._mac_checker().check(blob, mac_id, attr, value):
                    return  # the common case, kept short: listing checks thousands of these
            except nc.DerError:
                pass  # reported below, with the reason
            except LimitExceeded as exc:
                exc.store, exc.label = self.location, label
                raise
        attr_name = _ATTR_NAMES.get(attr, f"0x{attr:x}")
        if blob is None:
            raise IntegrityError(f"the {what} attribute {attr_name} has no integrity MAC ({name} is missing)",
                                 store=self.location, label=label)
        try:
            good = nc.check_mac(blob, self._pass_key, mac_id, attr, value)
        except nc.DerError as exc:
            raise IntegrityError(f"the integrity MAC {name} is malformed ({exc})", store=self.location,
                                 label=label) from exc
        if not good:
            raise IntegrityError(f"the integrity MAC of the {what} attribute {attr_name} does not match: the "
                                 "database was altered outside NSS", store=self.location, label=label)
