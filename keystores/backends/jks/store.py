"""Java key stores: JKS (magic FEEDFEED) and JCEKS (magic CECECECE), read and written without pyjks.

Layout (both): magic, version (1 or 2), entry count, entries, then a SHA-1 store digest. An entry is a tag
(1 private key, 2 trusted certificate, 3 JCEKS secret key), a modified-UTF-8 alias, a creation time in ms, then:
1: an EncryptedPrivateKeyInfo (JKS key protector or Sun's PBEWithMD5AndTripleDES) and the certificate chain;
2: one certificate; 3: a Java-serialized javax.crypto.SealedObject holding a serialized SecretKeySpec.

Reading is cheap: certificates are parsed, keys are not. A key is decrypted when its entry's `key` (or `secret`) is
first touched, so `list` on a store of thousands of keys never pays for the (deliberately slow) key protection;
an unchanged key is written back as the very bytes it was read from.
"""

from __future__ import annotations

import struct
import time

from keystores.backends.base import FileStore, KeyOpening
from keystores.backends.java_data import (
    PARSE_ERRORS,
    JavaDate,
    certificate_bytes,
    read_utf,
    write_utf,
    written_millis,
)
from keystores.backends.jks.epki import _epki, _pbe_parameter, _read_epki, _read_pbe_parameter
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    Hint,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
)
from keystores.lazy_entries import LazyEntry, SealedEntry, sealed_entry
from keystores.limits import LimitExceeded
from keystores.model import TRUST_ALL, Capabilities, Entry, EntryKind, Protection, ProtectionPart, SecretKey

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

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
        if data[:4] != self.magic:
            raise UnsupportedFormat(f"not a {self.format.upper()} store (magic {data[:4].hex()})",
                                    store=self.location)
        try:
            entries, end = self._parse(data)
        except KeystoreError:
            raise
        except PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged or truncated {self.format.upper()} store ({exc})",
                               store=self.location) from exc
        digest = data[end : end + _DIGEST_SIZE]
        if len(digest) != _DIGEST_SIZE:
            raise CorruptStore("truncated: the store digest is missing", store=self.location)
        from keystores.crypto.decrepit.java import store_digest

        if self.password is None:
            # As keytool -list without -storepass: certificates and labels are shown unchecked; keys and writing
            # ask for the password (PasswordRequired when they are first needed).
            self.notes.append(f"{self.location}: opened without the password: the store's integrity (its digest) "
                              "was not checked")
        elif store_digest(self.password, memoryview(data)[:end]) != digest:
            self._explain_digest_failure(entries)
        if len(data) > end + _DIGEST_SIZE:
            self.notes.append(f"{self.location}: {len(data) - end - _DIGEST_SIZE} stray bytes after the store "
                              "digest were ignored (keytool ignores them too)")
        self._read_key_password = self._key_password if self._key_password is not None else self.password
        self._entries = {}
        repeated: dict[str, None] = {}
        for alias, entry in entries:
            finished = self._finish(alias, entry)
            if finished.label in self._entries:  # Java keeps the last one too (a Hashtable put)
                repeated[finished.label] = None
            self._entries[finished.label] = finished
        if repeated:
            shown = ", ".join(f"'{label}'" for label in list(repeated)[:3])
            more = f" and {len(repeated) - 3} more" if len(repeated) > 3 else ""
            self.notes.append(f"{self.location}: alias(es) {shown}{more} appear more than once; the later entry "
                              "wins, as in keytool")

    def _parse(self, data: bytes) -> tuple[list[tuple[str, tuple[Any, ...]]], int]:
        """Split the file into raw entries; nothing is decrypted or parsed as ASN.1 here."""
        version, count = struct.unpack_from(">II", data, 4)
        if version not in (1, 2):
            raise UnsupportedFormat(f"{self.format.upper()} version {version} is unknown (1 and 2 exist)",
                                    store=self.location)
        if count > (len(data) - 12) // _MIN_ENTRY:
            raise CorruptStore(f"entry count {count} is more than the file can hold", store=self.location)
        pos = 12
        size = len(data)
        unpack = struct.unpack_from

        def chunk(at: int) -> tuple[bytes, int]:
            (length,) = unpack(">I", data, at)
            at += 4
            if length > size - at:
                raise CorruptStore(f"length field {length} at offset {at - 4} runs past the end of the file",
                                   store=self.location)
            return data[at : at + length], at + length

        def certificate(at: int) -> tuple[tuple[str, bytes], int]:
            cert_type = "X.509"
            if version == 2:
                if data[at : at + 7] == b"\x00\x05X.509":  # nearly always: skip the general string reader
                    at += 7
                else:
                    cert_type, at = read_utf(data, at)
            der, at = chunk(at)
            return (cert_type, der), at

        entries = []
        for _ in range(count):
            tag, = unpack(">I", data, pos)
            alias, pos = read_utf(data, pos + 4)
            (millis,) = unpack(">q", data, pos)
            pos += 8
            if tag == _TAG_PRIVATE_KEY:
                blob, pos = chunk(pos)
                (chain_length,) = unpack(">I", data, pos)
                pos += 4
                if chain_length > (size - pos) // 4:
                    raise CorruptStore(f"chain length {chain_length} is more than the file can hold",
                                       store=self.location, label=alias)
                chain = []
                for _ in range(chain_length):
                    cert, pos = certificate(pos)
                    chain.append(cert)
                entries.append((alias, (tag, millis, blob, chain)))
            elif tag == _TAG_TRUSTED_CERT:
                cert, pos = certificate(pos)
                entries.append((alias, (tag, millis, None, [cert])))
            elif tag == _TAG_SECRET_KEY and self.format == "jceks":
                from keystores.backends.jks.javaser import _JavaReader  # only stores with secret keys need it

                start = pos
                reader = _JavaReader(data, pos)
                sealed = reader.stream()
                pos = reader.pos
                entries.append((alias, (tag, millis, (sealed, data[start:pos]), [])))
            else:
                raise CorruptStore(f"unknown entry tag {tag} in a {self.format.upper()} store",
                                   store=self.location, label=alias)
        return entries, pos

    def _explain_digest_failure(self, entries: list[tuple[str, tuple[Any, ...]]]) -> None:
        """A bad digest is a wrong password or damage; a key that opens with the password proves damage.

        JKS keys open in microseconds, so every one is tried; a JCEKS key costs 400,000 MD5 rounds (up to 20 million
        in a hostile file), so only one.
        """
        tries = len(entries) if self.format == "jks" else 1
        for alias, (tag, _, blob, _) in entries:
            if tag != _TAG_PRIVATE_KEY or tries <= 0:
                continue
            tries -= 1
            try:
                self._unprotect(blob, self.password or "", alias)
            except KeystoreError:
                continue
            raise IntegrityError(f"the password is right (it opens key '{alias}') but the store digest does not "
                                 "match: the file is damaged or was altered", store=self.location)
        raise WrongPassword("wrong store password, or the file is damaged (the store digest does not match)",
                            store=self.location)

    def _finish(self, alias: str, raw: tuple[Any, ...]) -> Entry:
        tag, millis, blob, chain_raw = raw
        label = alias.lower()
        # Certificates are decoded on first use of `chain`: a store of thousands lists without decoding any, and
        # a rewrite (delete, rename) writes them back as read (a certificate cryptography refuses is reported
        # then, as keystores.pki.certificates.decode_certificate degrades).
        ders = tuple(der for cert_type, der in chain_raw if cert_type == "X.509")
        lazy = bool(ders) and len(ders) == len(chain_raw)

        def decoded() -> tuple[Any, ...]:
            return tuple(self._certificate("X.509", der, label) for der in ders)

        date = JavaDate(millis)
        if tag == _TAG_TRUSTED_CERT and lazy and len(ders) == 1:
            return LazyEntry.lazy({"chain": decoded, "created": date}, leaf_der=ders[0], chain_der=ders, label=label,
                                  kind=EntryKind.TRUSTED_CERT, trust=TRUST_ALL)
        if tag == _TAG_PRIVATE_KEY:
            opening = KeyOpening(lambda: self._unprotect(blob, self._key_password_for(label), label),
                                 lambda pkcs8: self._load_private_key(pkcs8, label, blob))
        if tag == _TAG_PRIVATE_KEY and lazy:
            return sealed_entry(opening.key, blob, self, chain_loader=decoded, leaf_der=ders[0], chain_der=ders,
                                created_loader=date, label=label, kind=EntryKind.KEY_PAIR, held=opening.held)
        created = date()
        chain = tuple(self._certificate(cert_type, der, label) for cert_type, der in chain_raw)
        if tag == _TAG_TRUSTED_CERT:
            return Entry(label=label, kind=EntryKind.TRUSTED_CERT, chain=chain, trust=TRUST_ALL, created=created)
        if tag == _TAG_PRIVATE_KEY:
            # A key entry with no chain (keytool's own test stores have one) is listed as the key it is.
            return sealed_entry(opening.key, blob, self, label=label, kind=EntryKind.KEY_PAIR, chain=chain,
                                created=created, held=opening.held)
        sealed, raw_bytes = blob
        return sealed_entry(lambda: self._open_secret_key(sealed, self._key_password_for(label), label), raw_bytes,
                            self, label=label, kind=EntryKind.SECRET_KEY, created=created)

    def _key_password_for(self, label: str) -> str:
        if self._read_key_password is None:
            raise PasswordRequired("the key needs the store password", store=self.location, label=label)
        return self._read_key_password

    def _certificate(self, cert_type: str, der: bytes, label: str) -> Any:
        if cert_type != "X.509":
            raise UnsupportedFormat(f"certificate type '{cert_type}' is not supported (only X.509)",
                                    store=self.location, label=label)
        from cryptography.exceptions import UnsupportedAlgorithm

        from keystores.pki.certificates import decode_certificate

        try:
            return decode_certificate(der)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise CorruptStore(f"damaged certificate ({exc})", store=self.location, label=label) from exc

    # --- key protection --------------------------------------------------------------------------------------
    def _unprotect(self, epki_der: bytes, password: str, label: str) -> bytes:
        """PKCS#8 PrivateKeyInfo DER from a tag-1 blob. Both formats' algorithms are accepted in either store."""
        from keystores.crypto.decrepit import java
        from keystores.crypto.pbe_params import private_key_info_algorithm

        try:
            oid, params, encrypted = _read_epki(epki_der)
            if oid == java.JKS_KEY_PROTECTOR_OID:
                return java.jks_unprotect_key(encrypted, password)
            if oid == java.SUN_PBE_MD5_3DES_OID:
                if params is None:
                    raise ValueError("PBEWithMD5AndTripleDES without parameters")
                salt, iterations = _read_pbe_parameter(params)
                pkcs8 = java.sun_pbe_decrypt(encrypted, password, salt, iterations)
                if private_key_info_algorithm(pkcs8) is None:
                    # 3DES padding passes by chance for 1 in 256 wrong passwords; a PrivateKeyInfo does not
                    raise WrongPassword("the decrypted key is no PKCS#8 PrivateKeyInfo")
                return pkcs8
        except WrongPassword as exc:
            raise WrongPassword(f"the {self._key_password_name()} does not open this key", store=self.location,
                                label=label) from exc
        except (UsageError, LimitExceeded) as exc:
            raise type(exc)(exc.reason, store=self.location, label=label) from exc
        except PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged protected key ({exc})", store=self.location, label=label) from exc
        raise UnsupportedFormat(f"key protection algorithm {oid} is not one Java stores use", store=self.location,
                                label=label)

    def _load_private_key(self, pkcs8: bytes, label: str, epki_der: bytes) -> Any:
        """The key of a PKCS#8 PrivateKeyInfo _unprotect gave from `epki_der`."""
        from keystores.crypto.decrepit import java
        from keystores.pki.undecoded import load_private_key

        # JKS's key protector ends with SHA-1(password || key), which _unprotect checked: these are the bytes the
        # writer protected, loaded as keytool loads them. cryptography's RSA validation (~55 ms of CPU per 2048-bit
        # key, a third of `keystores ams protect`) proves nothing more, as for a PKCS#12 whose MAC passed and a .kdb
        # whose integrity check did. JCEKS's 3DES carries no such check: its key is still validated on load.
        vouched = _read_epki(epki_der)[0] == java.JKS_KEY_PROTECTOR_OID
        try:
            return load_private_key(pkcs8, skip_rsa_validation=vouched)
        except (ValueError, TypeError) as exc:
            # _unprotect checks the PrivateKeyInfo's frame; its contents (a wrong password's luck twice over, or
            # damage) are checked only by loading them.
            raise WrongPassword(f"the {self._key_password_name()} does not open this key (or the key is damaged)",
                                store=self.location, label=label) from exc

    def _open_secret_key(self, sealed: Any, password: str, label: str) -> SecretKey:
        from keystores.backends.jks.javaser import _JavaObject, _JavaReader
        from keystores.crypto.decrepit import java

        try:
            if not isinstance(sealed, _JavaObject) or "encryptedContent" not in sealed.fields:
                raise ValueError(f"a secret key entry holds a {type(sealed).__name__}, not a SealedObject")
            algorithm = sealed.fields.get("sealAlg")
            if algorithm != java.SUN_PBE_NAME:
                raise UnsupportedFormat(f"secret key sealed with '{algorithm}', not {java.SUN_PBE_NAME}",
                                        store=self.location, label=label)
            salt, iterations = _read_pbe_parameter(sealed.fields["encodedParams"])
            plain = java.sun_pbe_decrypt(sealed.fields["encryptedContent"], password, salt, iterations)
        except WrongPassword as exc:
            raise WrongPassword(f"the {self._key_password_name()} does not open this key", store=self.location,
                                label=label) from exc
        except (UsageError, LimitExceeded) as exc:
            raise type(exc)(exc.reason, store=self.location, label=label) from exc
        except PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged secret key entry ({exc})", store=self.location, label=label) from exc
        try:
            key = _JavaReader(plain, 0).stream()
            if not isinstance(key, _JavaObject):
                raise ValueError("not an object")
            if key.class_name == "javax.crypto.spec.SecretKeySpec":
                return SecretKey(str(key.fields["algorithm"]), bytes(key.fields["key"]))
            if key.class_name == "java.security.KeyRep":
                key_type = key.fields.get("type")
                if not (isinstance(key_type, tuple) and key_type[1] == "SECRET") or key.fields["format"] != "RAW":
                    raise ValueError(f"KeyRep of type {key_type} in format {key.fields.get('format')}")
                return SecretKey(str(key.fields["algorithm"]), bytes(key.fields["encoded"]))
            raise ValueError(f"unexpected key class {key.class_name}")
        except PARSE_ERRORS as exc:
            raise WrongPassword(f"the {self._key_password_name()} does not open this key (or the key is damaged)",
                                store=self.location, label=label) from exc

    def _key_password_name(self) -> str:
        return "key password" if self._key_password is not None else "store password (used for keys)"

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
