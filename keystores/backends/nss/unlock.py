"""Unlocking an NSS database: the passKey from the password (or the empty one), checked against the password-check
record; a new password's salt and check record.
"""

from __future__ import annotations

import os

from keystores.backends.nss import crypto as nc
from keystores.errors import (
    CorruptStore,
    PasswordRequired,
    WrongPassword,
)
from keystores.limits import LimitExceeded, suspicious


class Unlock:
    """The database password: trying it, putting off the empty one, setting a new one."""

    def _new_password(self, password: str, *, salt_length: int = 20, at_least: int = 1) -> None:
        """A fresh global salt of `salt_length` bytes (48 means a SHA-384 passKey, as newer NSS makes) and NSS's
        iteration count, or `at_least` (a database's own count, kept when a password change would lower it);
        an empty password takes 1, as NSS writes it."""
        self._global_salt = os.urandom(salt_length)
        self._pass_key = nc.pass_key(self._global_salt, password)
        self._iterations = max(nc.DEFAULT_ITERATIONS, at_least) if password else 1
        self._password_check = nc.encrypt_value(b"password-check", self._pass_key, iterations=self._iterations,
                                                legacy=self._legacy)

    def _check_password(self, found: tuple[bytes, bytes] | None, *, now: bool = True) -> None:
        """Sets _pass_key from the password given, or from the empty one when none was given and the database
        has one. Without `now` (no password given, no private keys) trying the empty one waits for the first
        MAC check: listing a CA list needs neither it nor the AES it takes."""
        if found is None or found[0] is None or found[1] is None:
            # Never initialised (NSS made the files but no password was ever set): nothing is encrypted yet.
            self._new_password(self._password or "")
            self._ops.append(("init-password", None))
            return
        self._global_salt, self._password_check = bytes(found[0]), bytes(found[1])
        self._iterations = nc.describe_value(self._password_check)[1] or nc.DEFAULT_ITERATIONS
        note = suspicious(self._iterations, "the database password")
        if note is not None:
            self.notes.append(f"{self.location}: {note}")
        if not now:
            self._empty_password_untried = True
            return
        self._try_passwords()

    def _unlocked(self) -> bytes | None:
        """_pass_key, once the empty password has been tried if that was put off."""
        if self._empty_password_untried:
            self._empty_password_untried = False
            self._try_passwords()
        return self._pass_key

    def _try_passwords(self) -> None:
        assert self._password_check is not None
        candidates = [self._password] if self._password is not None else [""]
        for candidate in candidates:
            key = nc.pass_key(self._global_salt, candidate)
            try:
                if nc.decrypt_value(self._password_check, key, self._kdf_budget) == b"password-check":
                    self._pass_key = key
                    return
            except nc.DecryptFailed:
                pass
            except LimitExceeded as exc:
                exc.store = self.location
                raise
            except nc.DerError as exc:
                raise CorruptStore(f"the password check record is malformed ({exc})", store=self.location) from exc
        if self._password is not None:
            raise WrongPassword("wrong password for the NSS database", store=self.location)

    def _need_key(self, what: str) -> bytes:
        key = self._unlocked()
        if key is None:
            raise PasswordRequired(f"the database password is needed to {what}", store=self.location)
        return key
