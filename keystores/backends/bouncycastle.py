"""What Bouncy Castle's key stores (BKS and UBER in bks/, BCFKS in bcfks/) share as stores: one password for
the store and its keys, trusted certificates only, no token keys.
"""

from __future__ import annotations

from typing import Any, ClassVar

from keystores.backends.base import FileStore
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    PasswordRequired,
    one_line,
)
from keystores.lazy_entries import SealedEntry
from keystores.model import Capabilities, Entry, EntryKind


class BouncyCastleFileStore(FileStore):
    """What Bouncy Castle's stores (BKS, UBER, BCFKS) share: one password for the store and its keys (keytool's
    default; a key under another password fails alone, as a wrong password); Java's trusted-certificate entries,
    trusted for everything; keys held on tokens refused."""

    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=True, untrusted_certificates=False,
                                                        undecoded_entries=True)
    display: ClassVar[str]

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        self._read_password = password  # the password the sealed keys as read are protected with
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    def _init_new(self) -> None:
        if self.password is None:
            raise PasswordRequired("a new store needs a password", store=self.location)

    def _certificate(self, der: bytes, label: str) -> Any:
        from cryptography.exceptions import UnsupportedAlgorithm

        from keystores.pki.certificates import decode_certificate

        try:
            return decode_certificate(der)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise CorruptStore(f"damaged certificate ({one_line(exc)})", store=self.location, label=label) from exc

    def _reusable_blob(self, entry: Entry) -> bytes | None:
        """The entry's protected key as this store read it, while unopened and the password unchanged."""
        blob = entry.sealed_blob(self) if isinstance(entry, SealedEntry) else None
        return blob if blob is not None and self.password == self._read_password else None

    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if entry.kind is EntryKind.CERTIFICATE:
            raise CapabilityError("trust", f"{self.display} holds only trusted certificates (trustedCertEntry); "
                                  "this certificate is not trusted", store=self.location, label=entry.label)
        if entry.kind is EntryKind.KEY_PAIR and entry.on_token:  # a sealed key is not opened to ask
            raise CapabilityError("extractable_keys", "the key is held on a token; export it first",
                                  store=self.location, label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        if entry.kind is EntryKind.TRUSTED_CERT and entry.trust is not None and len(entry.trust.purposes) < 4:
            self.notes.append(f"{self.location}: '{entry.label}' is trusted for "
                              f"{', '.join(entry.trust.purposes) or 'no purpose'} only; {self.display} trusts it "
                              "for all purposes")
        super().add(entry, replace=replace)
