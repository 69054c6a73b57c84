"""Java key stores: JKS (magic FEEDFEED) and JCEKS (magic CECECECE), read and written without pyjks.

Layout (both): magic, version (1 or 2), entry count, entries, then a SHA-1 store digest. An entry is a tag
(1 private key, 2 trusted certificate, 3 JCEKS secret key), a modified-UTF-8 alias, a creation time in ms, then:
1: an EncryptedPrivateKeyInfo (JKS key protector or Sun's PBEWithMD5AndTripleDES) and the certificate chain;
2: one certificate; 3: a Java-serialized javax.crypto.SealedObject holding a serialized SecretKeySpec.

Reading is cheap: certificates are parsed, keys are not. A key is decrypted when its entry's `key` (or `secret`) is
first touched, so `list` on a store of thousands of keys never pays for the (deliberately slow) key protection;
an unchanged key is written back as the very bytes it was read from. Reading is reading.py's functions, loaded by
_load: a new store (convert, create) loads none of it.
"""

from __future__ import annotations

import struct
import time

from keystores.backends.base import FileStore
from keystores.backends.java_data import (
    PARSE_ERRORS,
    certificate_bytes,
    write_utf,
    written_millis,
)
from keystores.backends.jks.epki import _epki, _pbe_parameter, _read_epki, _read_pbe_parameter
from keystores.errors import (
    CapabilityError,
    Hint,
    PasswordRequired,
    UsageError,
)
from keystores.lazy_entries import SealedEntry
from keystores.model import Capabilities, Entry, EntryKind, Protection, ProtectionPart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

_TAG_PRIVATE_KEY = 1
_TAG_TRUSTED_CERT = 2
_TAG_SECRET_KEY = 3
_DIGEST_SIZE = 20
# Smallest possible entry: tag(4) + alias length(2) + date(8) + one length(4).
_MIN_ENTRY = 18


# --- the stores ----------------------------------------------------------------------------------------------
class _JavaStore(FileStore):
    """What JKS and JCEKS share. Options: `key_password=` protects (and opens) keys instead of the store password."""

    magic: ClassVar[bytes]
    legacy_summary: ClassVar[str]
    case_insensitive_labels: ClassVar[bool] = True

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern", key_password: str | None = None) -> None:
        self._key_password = key_password
        # The password the keys as read are protected with; a blob is reused on write only under the same one.
        self._read_key_password: str | None = None
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    # --- reading ---------------------------------------------------------------------------------------------
    def _init_new(self) -> None:
        if self.password is None:
            raise PasswordRequired("a new store needs a password", store=self.location)
        self.notes.append(f"{self.location}: {self.format.upper()} is a legacy format ({self.legacy_summary}); "
                          "PKCS#12 (.p12) is the modern choice")

    def _load(self, data: bytes) -> None:
        from keystores.backends.jks import reading  # here: a new store (convert, create) reads nothing

        reading.load(self, data)

    # --- writing ---------------------------------------------------------------------------------------------
    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if entry.kind.is_certificate and (entry.trust is None or not entry.trust.purposes):
            raise CapabilityError("trust", f"{self.format.upper()} holds only trusted certificates "
                                  "(trustedCertEntry); this certificate is not trusted", store=self.location,
                                  label=entry.label)
        if entry.kind is EntryKind.KEY_PAIR and entry.on_token:  # a sealed key is not opened to ask
            raise CapabilityError("extractable_keys", "the key is held on a token; export it first",
                                  store=self.location, label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        if entry.kind is EntryKind.TRUSTED_CERT and entry.trust is not None and len(entry.trust.purposes) < 4:
            self.notes.append(f"{self.location}: '{entry.label}' is trusted for "
                              f"{', '.join(entry.trust.purposes) or 'no purpose'} only; "
                              f"{self.format.upper()} trusts it for all purposes")
        super().add(entry, replace=replace)

    def _dump(self) -> bytes:
        if self.password is None:
            raise PasswordRequired("writing the store needs its password", store=self.location)
        key_password = self._key_password if self._key_password is not None else self.password
        reuse = key_password == self._read_key_password
        parts = [self.magic, struct.pack(">II", 2, len(self._entries))]
        now = int(time.time() * 1000)
        for label, entry in self._entries.items():
            millis = written_millis(entry, now)
            if entry.kind is EntryKind.TRUSTED_CERT:
                parts += [struct.pack(">I", _TAG_TRUSTED_CERT), write_utf(label), struct.pack(">q", millis),
                          certificate_bytes(entry.chain_der()[0])]
            elif entry.kind is EntryKind.KEY_PAIR:
                blob = self._sealed_blob(entry) if reuse else None
                if blob is None:
                    blob = self._protect_private_key(entry, key_password)
                parts += [struct.pack(">I", _TAG_PRIVATE_KEY), write_utf(label), struct.pack(">q", millis),
                          struct.pack(">I", len(blob)), blob]
                chain = entry.chain_der()
                parts += [struct.pack(">I", len(chain)), *(certificate_bytes(der) for der in chain)]
            elif entry.kind is EntryKind.SECRET_KEY:
                blob = self._sealed_blob(entry) if reuse else None
                if blob is None:
                    blob = self._seal_secret_key(entry, key_password)
                parts += [struct.pack(">I", _TAG_SECRET_KEY), write_utf(label), struct.pack(">q", millis), blob]
            else:  # check_entry refused it on add; a defensive message rather than a silent drop
                raise CapabilityError(entry.kind.value, f"{self.format.upper()} cannot hold a {entry.kind.value}",
                                      store=self.location, label=label)
        body = b"".join(parts)
        from keystores.crypto.decrepit.java import store_digest

        return body + store_digest(self.password, body)

    def _sealed_blob(self, entry: Entry) -> bytes | None:
        """The entry's protected key exactly as this store read it, while nobody has opened it; else None."""
        return entry.sealed_blob(self) if isinstance(entry, SealedEntry) else None

    def _protect_private_key(self, entry: Entry, password: str) -> bytes:
        raise NotImplementedError

    def _seal_secret_key(self, entry: Entry, password: str) -> bytes:
        raise CapabilityError("secret_keys", f"{self.format.upper()} stores cannot hold secret keys",
                              store=self.location, label=entry.label)

    def _written_key_protection(self) -> ProtectionPart:
        """How this format protects the keys it writes."""
        raise NotImplementedError

    def protection(self) -> Protection:
        """The digest, and the key protection the keys as read actually use (iteration counts from their
        parameters: JDK 8 wrote 200 iterations, JDK 17 writes 200,000); what we write for new keys otherwise."""
        from keystores.crypto.decrepit import java

        seen: set[ProtectionPart] = set()
        counts: set[int] = set()
        for entry in self._entries.values():
            blob = self._sealed_blob(entry)
            if blob is None:
                continue
            try:
                if entry.kind is EntryKind.KEY_PAIR:
                    oid, params, _ = _read_epki(blob)
                    if oid == java.JKS_KEY_PROTECTOR_OID:
                        seen.add(ProtectionPart(JksStore.key_protection, JksStore.key_algorithms))
                        continue
                else:
                    params = self._sealed_parameters(blob)
                counts.add(_read_pbe_parameter(params or b"")[1])
            except PARSE_ERRORS:
                continue  # a damaged key is reported when it is opened, not here
        if counts:
            low, high = min(counts), max(counts)
            seen.add(ProtectionPart(f"{JceksStore.key_protection}, {low}" + (f"-{high}" if high != low else "")
                                    + " iterations", JceksStore.key_algorithms, low))
        mac = ProtectionPart("SHA-1 keyed digest (password, \"Mighty Aphrodite\", store)", ("SHA-1",))
        return self._protection({"mac": mac,
                                 "keys": ProtectionPart.joined(seen) if seen else self._written_key_protection()})

    @staticmethod
    def _sealed_parameters(serialized: bytes) -> bytes:
        from keystores.backends.jks.javaser import _JavaReader

        sealed = _JavaReader(serialized, 0).stream()
        return sealed.fields["encodedParams"]


class JksStore(_JavaStore):
    """Sun's JKS: private keys under the SHA-1 XOR key protector, trusted certificates; no secret keys."""

    format: ClassVar[str] = "jks"
    magic: ClassVar[bytes] = b"\xfe\xed\xfe\xed"
    legacy_summary: ClassVar[str] = "SHA-1 store digest, SHA-1 XOR key protection"
    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=False, untrusted_certificates=False,
                                                        undecoded_entries=True)

    def _protect_private_key(self, entry: Entry, password: str) -> bytes:
        from keystores.crypto.decrepit import java

        protected = java.jks_protect_key(self._pkcs8(entry), password)
        return _epki(java.JKS_KEY_PROTECTOR_OID, None, protected)

    key_protection: ClassVar[str] = "JKS key protector (SHA-1 keystream XOR, SHA-1 check)"
    key_algorithms: ClassVar[tuple[str, ...]] = ("SHA-1",)
    protection_remedy: ClassVar[Hint] = Hint("; JKS has nothing stronger: convert it to PKCS#12 ({})",
                                         option="`keystores convert STORE new.p12`",
                                         keyword="keystores.convert(store, 'new.p12')")

    def _written_key_protection(self) -> ProtectionPart:
        return ProtectionPart(self.key_protection, self.key_algorithms)


class JceksStore(_JavaStore):
    """SunJCE's JCEKS: like JKS plus secret keys; keys under PBEWithMD5AndTripleDES (printable ASCII passwords)."""

    format: ClassVar[str] = "jceks"
    magic: ClassVar[bytes] = b"\xce\xce\xce\xce"
    legacy_summary: ClassVar[str] = "SHA-1 store digest, MD5/3DES key protection"
    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=True, untrusted_certificates=False,
                                                        undecoded_entries=True)

    def _protect_private_key(self, entry: Entry, password: str) -> bytes:
        from keystores.crypto.decrepit import java

        salt, iterations, encrypted = self._sun_encrypt(self._pkcs8(entry), password, entry.label)
        return _epki(java.SUN_PBE_MD5_3DES_OID, _pbe_parameter(salt, iterations), encrypted)

    def _seal_secret_key(self, entry: Entry, password: str) -> bytes:
        from keystores.backends.jks.javaser import _serialize_sealed_object, _serialize_secret_key_spec
        from keystores.crypto.decrepit import java

        secret = entry.secret
        if secret is None:
            raise UsageError("a secret-key entry needs its key", store=self.location, label=entry.label)
        inner = _serialize_secret_key_spec(secret.algorithm, secret.value)
        salt, iterations, encrypted = self._sun_encrypt(inner, password, entry.label)
        return _serialize_sealed_object(_pbe_parameter(salt, iterations), encrypted, java.SUN_PBE_NAME)

    def _sun_encrypt(self, data: bytes, password: str, label: str) -> tuple[bytes, int, bytes]:
        from keystores.crypto.decrepit import java

        try:
            return java.sun_pbe_encrypt(data, password)
        except UsageError as exc:
            raise UsageError(exc.reason, store=self.location, label=label) from exc

    key_protection: ClassVar[str] = "PBEWithMD5AndTripleDES (MD5, 3DES-CBC)"
    key_algorithms: ClassVar[tuple[str, ...]] = ("MD5", "3DES")
    protection_remedy: ClassVar[Hint] = Hint("; JCEKS has nothing stronger: convert it to PKCS#12 ({})",
                                         option="`keystores convert STORE new.p12`",
                                         keyword="keystores.convert(store, 'new.p12')")

    def _written_key_protection(self) -> ProtectionPart:
        from keystores.crypto.decrepit.java import SUN_PBE_ITERATIONS

        return ProtectionPart(f"{self.key_protection}, {SUN_PBE_ITERATIONS} iterations", self.key_algorithms,
                              SUN_PBE_ITERATIONS)
