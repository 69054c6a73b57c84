"""BksStore: Bouncy Castle's BKS, read and written without Java.

The format is defined by org.bouncycastle.jcajce.provider.keystore.bc.BcKeyStoreSpi (BKS: the Std and Version1
inner classes; UBER, in uber.py: the BouncyCastleStore inner class). Checked against bcprov 1.72 (Debian's
libbcprov-java) through keytool, and against the BcKeyStoreSpi source of bc-java 1.7x, which has not changed the
layout since version 2 appeared (BC 1.47, 2012).

BKS layout: int version (0, 1 or 2; BC writes 2), int salt length, salt, int iteration count, the entries (see
entries.py), a zero byte, then an HMAC-SHA1 over the entries (from the first entry to the zero byte included). The MAC
key comes from the PKCS#12 key derivation (RFC 7292 appendix B, SHA-1, purpose 3) over the password as a BMPString;
version 2 derives a 20-byte key, versions 0 and 1 a 2-byte key (BC passed the MAC size in bytes where bits were meant:
BKS-V1's well-known weakness). BC checks the MAC only when a password is given; so do we (see `_load`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import time
from typing import ClassVar

from keystores.backends.bks.entries import (
    _CERTIFICATE,
    _KEY,
    _KEY_ALGORITHMS,
    _KEY_PRIVATE,
    _KEY_SECRET,
    _SALT_SIZE,
    _SEALED,
    _SECRET,
    WRITE_ITERATIONS,
    _BcStore,
    _encode_key,
    _parse_entries,
    _pkcs12_password,
    _Reader,
    _seal,
)
from keystores.backends.java_data import PARSE_ERRORS, certificate_bytes, write_utf, written_millis
from keystores.errors import (
    CorruptStore,
    Hint,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
    one_line,
)
from keystores.lazy_entries import SealedEntry
from keystores.limits import MAX_ITERATIONS  # the ceiling every parser applies (a header cannot ask for 2**31)
from keystores.model import Entry, EntryKind, Protection, ProtectionPart

_MAC_SIZE = 20


def _bks_mac(password: str, salt: bytes, iterations: int, version: int, body: bytes | memoryview) -> bytes:
    from keystores.crypto.kdf import pkcs12_kdf

    key = pkcs12_kdf(_pkcs12_password(password), salt, 3, iterations, _MAC_SIZE if version == 2 else _MAC_SIZE // 8)
    return hmac.new(key, body, hashlib.sha1).digest()


class BksStore(_BcStore):
    """Bouncy Castle's BKS (versions 0, 1 and 2 read; version 2 written): key pairs, trusted certificates and
    secret keys, keys sealed with PBEWithSHAAnd3-KeyTripleDES-CBC, the store under an HMAC-SHA1."""

    format: ClassVar[str] = "bks"
    display: ClassVar[str] = "BKS"
    protection_remedy: ClassVar[Hint] = Hint("; BKS has nothing stronger: convert it to BCFKS or PKCS#12 ({})",
                                         option="`keystores convert STORE new.bcfks`",
                                         keyword="keystores.convert(store, 'new.bcfks')")

    _read_version = 2
    _mac_iterations = WRITE_ITERATIONS

    def _load(self, data: bytes) -> None:
        try:
            reader = _Reader(data)
            version = reader.int()
            if version not in (0, 1, 2):
                raise UnsupportedFormat(f"BKS version {version} is unknown (0, 1 and 2 exist)", store=self.location)
            salt = reader.chunk()
            iterations = reader.int()
            if not salt or not 1 <= iterations <= MAX_ITERATIONS:
                raise CorruptStore(f"implausible BKS header (salt of {len(salt)} bytes, {iterations} iterations)",
                                   store=self.location)
            body_start = reader.pos
            records, body_end = _parse_entries(data, body_start)
        except KeystoreError as exc:
            if exc.store is None:
                raise type(exc)(exc.reason, store=self.location, label=exc.label) from exc
            raise
        except PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged or truncated BKS store ({one_line(exc)})", store=self.location) from exc
        mac = data[body_end : body_end + _MAC_SIZE]
        if len(mac) != _MAC_SIZE:
            raise CorruptStore("truncated: the store MAC is missing", store=self.location)
        if self.password is None:
            # BcKeyStoreSpi checks nothing without a password, and keytool -list then warns; we do the same.
            self.notes.append(f"{self.location}: no password given: the store's integrity was not checked")
        elif not hmac.compare_digest(_bks_mac(self.password, salt, iterations, version,
                                              memoryview(data)[body_start:body_end]), mac):
            opened = self._prove_password(records)
            if opened is not None:
                raise IntegrityError(f"the password is right (it opens key '{opened}') but the store MAC does not "
                                     "match: the file is damaged or was altered", store=self.location)
            raise WrongPassword("wrong store password, or the file is damaged (the store MAC does not match)",
                                store=self.location)
        if len(data) > body_end + _MAC_SIZE:
            raise CorruptStore(f"{len(data) - body_end - _MAC_SIZE} unexpected bytes after the store MAC",
                               store=self.location)
        if version < 2:
            self.notes.append(f"{self.location}: BKS version {version}: its MAC key is 16 bits; rewriting "
                              "the store makes it version 2")
        self._read_version = version
        self._mac_iterations = iterations
        self._take_entries(records)

    def _dump(self) -> bytes:
        if self.password is None:
            raise PasswordRequired("writing the store needs its password", store=self.location)
        body = b"".join(self._record(label, entry) for label, entry in self._entries.items())
        labels = set(self._entries)
        body += b"".join(record.raw for record in self._carried if record.alias not in labels) + b"\x00"
        salt = os.urandom(_SALT_SIZE)
        header = struct.pack(">ii", 2, len(salt)) + salt + struct.pack(">i", WRITE_ITERATIONS)
        return header + body + _bks_mac(self.password, salt, WRITE_ITERATIONS, 2, body)

    def _record(self, label: str, entry: Entry) -> bytes:
        millis = written_millis(entry, int(time.time() * 1000))
        head = write_utf(label) + struct.pack(">q", millis)
        if entry.kind is EntryKind.TRUSTED_CERT:
            return bytes([_CERTIFICATE]) + head + struct.pack(">i", 0) + certificate_bytes(entry.chain_der()[0])
        chain = entry.chain_der() if entry.kind is EntryKind.KEY_PAIR else ()
        # A sealed key unchanged since it was read under the same password is written back as it was; a "secret"
        # entry's bytes were protected by the application that stored them, so they travel under any password.
        blob = entry.sealed_blob(self) if isinstance(entry, SealedEntry) else None
        if blob is None or blob[0] != _SECRET:
            blob = self._reusable_blob(entry)
        if blob is not None and blob[0] != _KEY:
            type_, payload = blob[0], blob[1:]
        else:
            type_, payload = _SEALED, _seal(self._encoded_key(entry), self.password or "")
        return (bytes([type_]) + head + struct.pack(">i", len(chain)) + b"".join(certificate_bytes(c) for c in chain)
                + struct.pack(">i", len(payload)) + payload)

    def _encoded_key(self, entry: Entry) -> bytes:
        if entry.kind is EntryKind.SECRET_KEY:
            if entry.secret is None:
                raise UsageError("a secret-key entry needs its key", store=self.location, label=entry.label)
            return _encode_key(_KEY_SECRET, "RAW", entry.secret.algorithm, entry.secret.value)
        pkcs8 = self._pkcs8(entry)
        return _encode_key(_KEY_PRIVATE, "PKCS#8", _java_key_algorithm(pkcs8), pkcs8)

    def protection(self) -> Protection:
        """The MAC and key protection as read (BC writes 1024..2047 iterations), or what we write for a new store."""
        counts = set()
        for entry in self._entries.values():
            blob = entry.sealed_blob(self) if isinstance(entry, SealedEntry) else None
            if blob is not None and blob[0] == _SEALED:
                try:
                    reader = _Reader(blob, 1)
                    reader.chunk()
                    counts.add(reader.int())
                except PARSE_ERRORS:
                    continue  # a damaged key is reported when it is opened, not here
        low, high = (min(counts), max(counts)) if counts else (WRITE_ITERATIONS, WRITE_ITERATIONS)
        key_counts = f"{low}" + (f"-{high}" if high != low else "")
        mac_key = "16-bit key (BKS version 1)" if self._read_version < 2 else "PKCS#12 KDF"
        return self._protection({
            "mac": ProtectionPart(f"HMAC-SHA1 ({mac_key}), {self._mac_iterations} iterations",
                                  ("HMAC", "SHA-1", "PKCS#12 KDF"), self._mac_iterations),
            "keys": ProtectionPart(f"PBEWithSHAAnd3-KeyTripleDES-CBC (PKCS#12 KDF, SHA-1, 3DES), {key_counts} "
                                   "iterations", _KEY_ALGORITHMS, low)})


def _java_key_algorithm(pkcs8: bytes) -> str:
    """The algorithm name Java's key factories know a PKCS#8 key by (what BC's encodeKey writes). The OID is read with
    keystores.crypto.der (asn1crypto's keys module costs a third of a small `import` or `convert`; issue 15), by
    asn1crypto when that declines."""
    from keystores.crypto import der

    try:
        oid = der.element_oid(pkcs8, der.inside_element(pkcs8, der.inside(pkcs8, whole=True)[1])[0])
    except (der.DerError, IndexError):
        from asn1crypto import keys

        oid = keys.PrivateKeyInfo.load(pkcs8)["private_key_algorithm"]["algorithm"].dotted
    return {"1.2.840.113549.1.1.1": "RSA", "1.2.840.10045.2.1": "EC", "1.2.840.10040.4.1": "DSA",
            "1.3.101.112": "Ed25519", "1.3.101.113": "Ed448", "1.3.101.110": "X25519", "1.3.101.111": "X448",
            "1.2.840.113549.1.1.10": "RSASSA-PSS"}.get(oid, oid)


