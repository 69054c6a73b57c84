"""UberStore: Bouncy Castle's UBER, read only (written as BKS or BCFKS instead).

UBER is BKS's entry list (entries.py), followed by a SHA-1 digest of it, all encrypted with PBEWithSHAAndTwofish-CBC
(PKCS#12 KDF, SHA-1, 256-bit key, 128-bit IV) after the clear header (version, salt, iterations); BC refuses more
than 65,536 iterations and a salt that is not 20 bytes, and so do we. cryptography has no Twofish:
keystores.crypto.decrepit.twofish decrypts it. UBER version 0 (from before 2002) is refused with a message naming it.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from keystores.backends.bks.entries import (
    _SALT_SIZE,
    _BcStore,
    _parse_entries,
    _pkcs12_password,
    _Reader,
)
from keystores.backends.java_data import PARSE_ERRORS
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    WrongPassword,
    one_line,
)

#: BouncyCastleStore refuses more than MIN_ITERATIONS << 6 for UBER.
UBER_MAX_ITERATIONS = 1024 << 6


class UberStore(_BcStore):
    """Bouncy Castle's UBER: the BKS entry list with a SHA-1 digest, encrypted whole with Twofish. Read only: a
    store read from UBER is written as BKS or BCFKS (`keystores convert x.uber x.bcfks`)."""

    format: ClassVar[str] = "uber"
    display: ClassVar[str] = "UBER"

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        if writable or create:
            raise CapabilityError("write", "UBER stores are read only here; convert to BKS or BCFKS to write "
                                  "(`keystores convert STORE new.bcfks`)", store=location)
        self._iterations = 0
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    def _load(self, data: bytes) -> None:
        from keystores.crypto.decrepit.twofish import Twofish
        from keystores.crypto.kdf import pkcs12_kdf

        try:
            reader = _Reader(data)
            version = reader.int()
            salt = reader.chunk()
            iterations = reader.int()
        except PARSE_ERRORS as exc:
            raise CorruptStore(f"truncated UBER header ({one_line(exc)})", store=self.location) from exc
        if version == 0:
            raise UnsupportedFormat("UBER version 0 (Bouncy Castle before 2002, OldPBEWithSHAAndTwofish-CBC) is not "
                                    "read", store=self.location)
        if version not in (1, 2):
            raise UnsupportedFormat(f"UBER version {version} is unknown (0, 1 and 2 exist)", store=self.location)
        if len(salt) != _SALT_SIZE or not 0 <= iterations <= UBER_MAX_ITERATIONS:
            raise CorruptStore("damaged UBER header (Bouncy Castle writes a 20-byte salt and at most 65,536 "
                               "iterations)", store=self.location)
        if self.password is None:
            raise PasswordRequired("an UBER store is encrypted whole: reading it needs the store password",
                                   store=self.location)
        encrypted = data[reader.pos :]
        if not encrypted or len(encrypted) % 16:
            raise CorruptStore("damaged or truncated UBER store (the encrypted part is not whole Twofish blocks)",
                               store=self.location)
        secret = _pkcs12_password(self.password)
        key = pkcs12_kdf(secret, salt, 1, iterations, 32)
        iv = pkcs12_kdf(secret, salt, 2, iterations, 16)
        padded = Twofish(key).decrypt_cbc(iv, encrypted)
        pad = padded[-1]
        plain = padded[:-pad] if 1 <= pad <= 16 and padded[-pad:] == bytes([pad]) * pad else None
        try:
            if plain is None:
                raise ValueError("bad padding")
            records, end = _parse_entries(plain, 0)
        except KeystoreError:
            if _plausible_start(padded):
                raise
            raise WrongPassword("wrong store password, or the file is damaged (the store does not decrypt)",
                                store=self.location) from None
        except PARSE_ERRORS as exc:
            if _plausible_start(padded):
                raise IntegrityError(f"the password is right (the store decrypts to entries) but the store is "
                                     f"damaged ({one_line(exc)})", store=self.location) from exc
            raise WrongPassword("wrong store password, or the file is damaged (the store does not decrypt)",
                                store=self.location) from exc
        if plain[end:] != hashlib.sha1(plain[:end]).digest():
            if not _plausible_start(padded):  # a wrong key whose garbage happened to parse (an end marker first)
                raise WrongPassword("wrong store password, or the file is damaged (the store does not decrypt)",
                                    store=self.location)
            raise IntegrityError("the password is right (the store decrypts to entries) but the store digest "
                                 "does not match: the file is damaged or was altered", store=self.location)
        self._iterations = iterations
        self._take_entries(records)

    def protection(self) -> dict[str, str]:
        return {"store": f"PBEWithSHAAndTwofish-CBC (PKCS#12 KDF, SHA-1, Twofish-256), {self._iterations} "
                         "iterations; SHA-1 digest",
                "keys": "PBEWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 KDF, SHA-1, 3DES)"}


def _plausible_start(plain: bytes) -> bool:
    """Whether decrypted bytes begin like an entry list (type, alias, time, chain length), which a wrong key
    produces with a probability far below one in a million: then damage, not the password, spoilt the rest."""
    try:
        reader = _Reader(plain)
        type_ = reader.byte()
        if type_ == 0:
            # An empty store: a wrong key starts with 0 once in 256 tries, so only the digest proves the key.
            return plain[1:21] == hashlib.sha1(b"\x00").digest()
        if type_ > 4:
            return False
        reader.utf()
        return 0 <= reader.long() < 1 << 42 and 0 <= reader.int() < 1000
    except PARSE_ERRORS:
        return False
