"""Bouncy Castle's FIPS key store BCFKS, read and written without Java.

The format is defined by org.bouncycastle.jcajce.provider.keystore.bcfks.BcFKSKeyStoreSpi and the ASN.1 classes of
org.bouncycastle.asn1.bc (ObjectStore, ObjectStoreData, ObjectData, EncryptedPrivateKeyData, SecretKeyData,
PbkdMacIntegrityCheck). Checked against bcprov 1.72 (Debian's libbcprov-java) through keytool, and against the
bc-java 1.7x source, which has kept this layout since BCFKS appeared (BC 1.56).

    ObjectStore ::= SEQUENCE { storeData EncryptedObjectStoreData, integrityCheck PbkdMacIntegrityCheck }
    EncryptedObjectStoreData ::= SEQUENCE { encryptionAlgorithm AlgorithmIdentifier, encryptedContent OCTET STRING }
    PbkdMacIntegrityCheck ::= SEQUENCE { macAlgorithm AlgorithmIdentifier, pbkdAlgorithm KeyDerivationFunc, mac }
    ObjectStoreData ::= SEQUENCE { version INTEGER (1), integrityAlgorithm AlgorithmIdentifier,
        creationDate GeneralizedTime, lastModifiedDate GeneralizedTime, SEQUENCE OF ObjectData, comment OPTIONAL }
    ObjectData ::= SEQUENCE { type INTEGER, identifier UTF8String, creationDate, lastModifiedDate, data OCTET STRING,
        comment UTF8String OPTIONAL }

Entry types: 0 certificate (data: its DER); 1 private key and 3 "protected" private key (data:
EncryptedPrivateKeyData ::= SEQUENCE { EncryptedPrivateKeyInfo, SEQUENCE OF Certificate }); 2 secret key and 4
"protected" secret key (data: SEQUENCE { AlgorithmIdentifier, OCTET STRING } whose plaintext is SecretKeyData ::=
SEQUENCE { keyAlgorithm OID, keyBytes OCTET STRING }). Types 3 and 4 are what KeyStore.setKeyEntry(alias, byte[],
chain) stores; BC opens them exactly like 1 and 2, and so do we.

Every encryption is PBES2 with PBKDF2 (HMAC-SHA512 or HMAC-SHA3-512) and AES-256-CCM (or AES-256 key wrap with
padding); the MAC is HMAC-SHA512 (or HMAC-SHA3-512) over the DER of the encrypted store data. Each key is derived from
the password as a BMPString (PKCS12PasswordToBytes) followed by a purpose, also a BMPString: "INTEGRITY_CHECK",
"STORE_ENCRYPTION", "PRIVATE_KEY_ENCRYPTION" or "SECRET_KEY_ENCRYPTION". We write what BC writes by default: PBKDF2
with HMAC-SHA512, a 64-byte salt and 51,200 iterations, AES-256-CCM with a 12-byte nonce (we use a 16-byte tag).

Not read: stores signed instead of MACed (BCFKSLoadStoreParameter with a signature key: reading one needs that key),
and scrypt key derivation (which BC 1.72 derives with its block size as the parallelisation parameter); both are
refused with a message naming them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

from keystores.backends.bcfks import structure
from keystores.backends.bouncycastle import BouncyCastleFileStore
from keystores.crypto import der
from keystores.crypto.kdf_pool import KdfPool
from keystores.crypto.pbkdf2 import pbkdf2_hmac
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
    one_line,
)
from keystores.lazy_entries import LazyEntry, SealedEntry, sealed_entry
from keystores.limits import MAX_ITERATIONS, MAX_KEY_LENGTH  # the ceilings every parser applies
from keystores.model import TRUST_ALL, Entry, EntryKind, Protection, ProtectionPart, SecretKey

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt

_CERTIFICATE, _PRIVATE_KEY, _SECRET_KEY, _PROTECTED_PRIVATE_KEY, _PROTECTED_SECRET_KEY = 0, 1, 2, 3, 4
#: The store key is derived to tell damage from a wrong password only at up to this cost (BC writes 51,200).
_PROOF_MAX_ITERATIONS = 1_000_000
#: BC's defaults (BcFKSKeyStoreSpi.generatePkbdAlgorithmIdentifier): what we write.
WRITE_ITERATIONS = 50 * 1024
_SALT_SIZE = 64
_NONCE_SIZE = 12
_TAG_SIZE = 16
_PRF_HASHES = {"1.2.840.113549.2.11": "sha512", "2.16.840.1.101.3.4.2.16": "sha3_512"}
_AES256_WRAP_PAD = "2.16.840.1.101.3.4.1.48"
_SCRYPT = "1.3.6.1.4.1.11591.4.11"
_HMAC_SHA512_DER = bytes.fromhex("300c06082a864886f70d020b0500")
# Secret key algorithm OIDs, as BcFKSKeyStoreSpi's oidMap names them (AES by its arc 2.16.840.1.101.3.4.1).
_SECRET_ALGORITHMS = {
    "2.16.840.1.101.3.4.1": "AES", "1.3.14.3.2.17": "DESede", "1.2.840.113549.2.7": "HmacSHA1",
    "1.2.840.113549.2.8": "HmacSHA224", "1.2.840.113549.2.9": "HmacSHA256", "1.2.840.113549.2.10": "HmacSHA384",
    "1.2.840.113549.2.11": "HmacSHA512", "1.2.840.113549.2.12": "HmacSHA512/224",
    "1.2.840.113549.2.13": "HmacSHA512/256", "2.16.840.1.101.3.4.2.13": "HmacSHA3-224",
    "2.16.840.1.101.3.4.2.14": "HmacSHA3-256", "2.16.840.1.101.3.4.2.15": "HmacSHA3-384",
    "2.16.840.1.101.3.4.2.16": "HmacSHA3-512", "1.2.410.200004.1.4": "SEED",
}
_SECRET_OIDS = {name.upper(): oid for oid, name in _SECRET_ALGORITHMS.items()} | {"TRIPLEDES": "1.3.14.3.2.17",
                                                                                  "TDEA": "1.3.14.3.2.17"}
# Errors a parser of untrusted bytes may hit; all of them mean "damaged".
_PARSE_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError)


def _password_bytes(text: str) -> bytes:
    """PBEParametersGenerator.PKCS12PasswordToBytes: a BMPString with a NUL terminator, empty for "". Encoded by
    the function the utf-16-be codec calls, without importing the codec's module (as keystores.crypto.kdf's
    bmp_password, which keeps no lone surrogate and always ends in NULs: BC writes each char as it is)."""
    import codecs

    return codecs.utf_16_be_encode(text, "surrogatepass")[0] + b"\x00\x00" if text else b""


def _derive(kdf_der: bytes, password: str, purpose: str, default_length: int | None) -> bytes:
    """BcFKSKeyStoreSpi.generateKey: PBKDF2 over the password and the purpose, each a BMPString."""
    oid, prf_oid, salt, iterations, key_length = structure.kdf(kdf_der)
    if oid == _SCRYPT:
        raise UnsupportedFormat("scrypt key derivation in BCFKS is not read (PBKDF2 is)")
    if oid != structure.PBKDF2:
        raise UnsupportedFormat(f"key derivation {oid} is not one BCFKS uses")
    prf = _PRF_HASHES.get(prf_oid)
    if prf is None:
        raise UnsupportedFormat(f"PBKDF2 with PRF {prf_oid} (BCFKS uses HMAC-SHA512 or HMAC-SHA3-512)")
    length = key_length if key_length is not None else default_length
    if length is None:
        raise ValueError("PBKDF2 parameters without a key length")
    if not 1 <= iterations <= MAX_ITERATIONS or not 1 <= length <= MAX_KEY_LENGTH:
        raise ValueError(f"implausible PBKDF2 parameters ({iterations} iterations, {length}-byte key)")
    if not isinstance(salt, bytes):
        raise ValueError("PBKDF2 salt is not an octet string")
    return pbkdf2_hmac(prf, _password_bytes(password) + _password_bytes(purpose), salt, iterations, length)


def _pbes2_parts(alg_der: bytes) -> tuple[bytes, str, bytes]:
    """(KDF DER, encryption OID, encryption parameters' DER) of a PBES2 AlgorithmIdentifier."""
    oid, kdf_der, cipher, cipher_params = structure.pbes2(alg_der)
    if oid != structure.PBES2:
        raise UnsupportedFormat(f"protection algorithm {oid} is not PBES2 (BCFKS uses only PBES2)")
    return kdf_der, cipher, cipher_params


def _decrypt(alg_der: bytes, password: str, purpose: str, data: bytes, *, key: bytes | None = None) -> bytes:
    """BcFKSKeyStoreSpi.decryptData (with `key`, its derivation is skipped). WrongPassword when the AES-CCM tag (or
    key unwrap check) fails."""
    from cryptography.exceptions import InvalidTag

    kdf_der, cipher, cipher_params = _pbes2_parts(alg_der)
    if cipher not in (structure.AES256_CCM, _AES256_WRAP_PAD):
        raise UnsupportedFormat(f"encryption {cipher} is not one BCFKS uses (AES-256-CCM, AES-256 key wrap)")
    key = key if key is not None else _derive(kdf_der, password, purpose, 32)
    if len(key) != 32:
        raise ValueError(f"derived a {len(key)}-byte key for AES-256")
    if cipher == _AES256_WRAP_PAD:
        from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap_with_padding

        try:
            return aes_key_unwrap_with_padding(key, data)
        except InvalidUnwrap as exc:
            raise WrongPassword("wrong password (the key unwrap check fails)") from exc
    nonce, tag_length = structure.ccm_parameters(cipher_params)
    try:
        return _aes_ccm()(key, tag_length=tag_length).decrypt(nonce, data, None)
    except InvalidTag as exc:
        raise WrongPassword("wrong password (the AES-CCM tag does not match)") from exc


def _encrypt(password: str, purpose: str, data: bytes) -> tuple[bytes, bytes]:
    """(PBES2 AlgorithmIdentifier DER, ciphertext) as BC writes them: PBKDF2-HMAC-SHA512, AES-256-CCM."""
    kdf_der = _kdf(32)
    key = _derive(kdf_der, password, purpose, 32)
    nonce = os.urandom(_NONCE_SIZE)
    encrypted = _aes_ccm()(key, tag_length=_TAG_SIZE).encrypt(nonce, data, None)
    return structure.pbes2_ccm_der(kdf_der, nonce, _TAG_SIZE), encrypted


def _aes_ccm() -> Any:
    """cryptography's AESCCM, taken from the compiled module that cryptography.hazmat.primitives.ciphers.aead
    re-exports it from (`AESCCM = rust_openssl.aead.AESCCM`): importing that module loads the whole ciphers package
    (~10 M instructions, a tenth of a bare interpreter's start-up, on every BCFKS open: bench/bench_core.py's
    "list s.bcfks"). The very same class (tests/test_bouncycastle_lean.py); the public module where a cryptography
    release keeps it elsewhere."""
    try:
        from cryptography.hazmat.bindings._rust import openssl

        return openssl.aead.AESCCM
    except (ImportError, AttributeError):  # pragma: no cover - another layout of cryptography
        from cryptography.hazmat.primitives.ciphers.aead import AESCCM

        return AESCCM


def _kdf(length: int) -> bytes:
    """The DER of a fresh PBKDF2 as BC writes it: HMAC-SHA512, a 64-byte salt, 51,200 iterations."""
    return structure.pbkdf2_der(os.urandom(_SALT_SIZE), WRITE_ITERATIONS, length)


def _mac(mac_alg_der: bytes, kdf_der: bytes, password: str, content: bytes, *, key: bytes | None = None) -> Any:
    """The store MAC over `content` as cryptography's HMAC, not yet finalized: `.finalize()` gives it and
    `.verify(mac)` checks one in constant time (with `key`, its derivation is skipped). cryptography is loaded
    for the store's AES anyway; the standard library's hmac would load hashlib and a second OpenSSL (~12 M
    instructions) for this one MAC."""
    oid = structure.algorithm_oid(mac_alg_der)
    digest = _PRF_HASHES.get(oid)
    if digest is None:
        raise UnsupportedFormat(f"MAC algorithm {oid} is not one BCFKS uses (HMAC-SHA512, HMAC-SHA3-512)")
    key = key if key is not None else _derive(kdf_der, password, "INTEGRITY_CHECK", None)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.hmac import HMAC

    mac = HMAC(key, hashes.SHA512() if digest == "sha512" else hashes.SHA3_512())
    mac.update(content)
    return mac


def _verified(mac: Any, stored: bytes) -> bool:
    """Whether the HMAC `mac` (_mac) equals `stored`, compared in constant time."""
    from cryptography.exceptions import InvalidSignature

    try:
        mac.verify(stored)
    except InvalidSignature:
        return False
    return True


def _store_key_beside(pool: KdfPool, alg_der: bytes, password: str) -> Callable[[], bytes | None]:
    """The store-encryption key derived beside the MAC's, which the caller derives meanwhile: each is a PBKDF2 run of
    ~30 ms at BC's 51,200 iterations that releases the GIL (keystores.crypto.pbkdf2), and opening a store needs
    both, one after the other until now (bench/bench_core.py, "start-up: keystores list s.bcfks"). Returns what
    gives the key once derived, or None: a KDF this module does not derive here (the decryption then says why), or
    a cost above what the diagnosis of a wrong MAC would pay anyway (_PROOF_MAX_ITERATIONS). The MAC is still
    checked before anything is decrypted."""
    try:
        kdf_der, cipher, _ = _pbes2_parts(alg_der)
        iterations = structure.kdf(kdf_der)[3]
    except (KeystoreError, *_PARSE_ERRORS):
        return lambda: None
    if cipher not in (structure.AES256_CCM, _AES256_WRAP_PAD) or not isinstance(iterations, int) \
            or iterations > _PROOF_MAX_ITERATIONS:
        return lambda: None
    return _beside(pool, iterations, lambda: _derive(kdf_der, password, "STORE_ENCRYPTION", 32))


def _beside(pool: KdfPool, iterations: int, derive: Callable[[], bytes]) -> Callable[[], bytes | None]:
    """`derive()`, a PBKDF2 run of `iterations`, handed to `pool` (keystores.crypto.kdf_pool, the one way
    derivations run side by side): in a thread beside the caller's own derivation (see _store_key_beside; _dump
    derives the new MAC key while it derives the store key and encrypts), inline when this process has one core.
    What gives its key once done, or None when it failed (the caller derives again and says why)."""
    pending = pool.submit(iterations, derive)

    def result() -> bytes | None:
        try:
            return pending.result()
        except (KeystoreError, *_PARSE_ERRORS):
            return None

    return result


def _ccm_first_block(alg_der: bytes, key: bytes, data: bytes) -> bytes | None:
    """The first 16 plaintext bytes of AES-CCM data without checking its tag (CCM's payload is AES-CTR from counter
    block 1), or None for another cipher: enough to see whether the password is right when the tag says no."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    _, cipher, cipher_params = _pbes2_parts(alg_der)
    if cipher != structure.AES256_CCM or len(data) < 16:
        return None
    nonce = structure.ccm_parameters(cipher_params)[0]
    size_bytes = 15 - len(nonce)
    counter = bytes([size_bytes - 1]) + nonce + (1).to_bytes(size_bytes, "big")
    decryptor = Cipher(algorithms.AES(key), modes.CTR(counter)).decryptor()
    return decryptor.update(data[:16])


def _utc(value: dt.datetime | None) -> dt.datetime:
    import datetime as dt

    value = value or dt.datetime.now(dt.UTC)
    return value.astimezone(dt.UTC).replace(microsecond=0)


class BcfksStore(BouncyCastleFileStore):
    """Bouncy Castle's BCFKS: key pairs, trusted certificates and secret keys, every part under AES-256 and
    PBKDF2-HMAC-SHA512, the store under an HMAC-SHA512."""

    format: ClassVar[str] = "bcfks"
    display: ClassVar[str] = "BCFKS"

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        self._created: structure.Time | None = None
        self._carried: list[tuple[str, bytes]] = []  # entries of types keystores does not know (label, DER as read)
        self._read_protection: dict[str, ProtectionPart] = {}
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    # --- reading ---------------------------------------------------------------------------------------------
    def _load(self, data: bytes) -> None:
        if self.password is None:
            raise PasswordRequired("a BCFKS store is encrypted whole: reading it needs the store password",
                                   store=self.location)
        try:
            _, body, end = der.read(data)
            if end != len(data):
                raise ValueError(f"{len(data) - end} bytes after the store")
            _, _, data_end = der.read(data, body, end)
            check_tag, _, check_end = der.read(data, data_end, end)
            if check_tag == 0xA0:
                raise UnsupportedFormat("this BCFKS store is signed rather than MACed; reading it needs the "
                                        "signer's public key, which keystores does not take")
            if check_tag != 0x30 or check_end != end:
                raise ValueError("the integrity check is not a PbkdMacIntegrityCheck")
            content = data[body:data_end]
            mac_alg_der, kdf_der, stored_mac = structure.integrity_check(data[data_end:end])
            if _element_count(content) != 2:  # an ObjectStoreData in the clear: no BC release writes one
                raise UnsupportedFormat("BCFKS store data in the clear (not encrypted) is not read")
            alg_der, ciphertext = structure.encrypted_data(content)
        except KeystoreError as exc:
            raise type(exc)(exc.reason, store=self.location) from exc
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged or truncated BCFKS store ({one_line(exc)})", store=self.location) from exc
        with KdfPool("bcfks") as pool:  # left once both keys are taken (or at an error, once the thread is done)
            plain = self._verified_data(pool, mac_alg_der, kdf_der, stored_mac, content, alg_der, ciphertext)
        try:
            integrity_der, self._created, objects = structure.store_data(plain)
            if integrity_der != mac_alg_der:
                raise ValueError("the store's integrity algorithm differs from its MAC's")
        except KeystoreError as exc:
            raise type(exc)(exc.reason, store=self.location) from exc
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged BCFKS store data ({one_line(exc)})", store=self.location) from exc
        self._read_protection = self._describe(mac_alg_der, kdf_der, alg_der)
        self._entries = {}
        self._carried = []
        for item in objects:
            try:
                fields = structure.object_data(item)
                entry = self._entry(fields)
            except KeystoreError:
                raise
            except _PARSE_ERRORS as exc:
                raise CorruptStore(f"damaged entry ({one_line(exc)})", store=self.location) from exc
            if entry is None:
                self._carried.append((fields[1], fields[4]))
                self.notes.append(f"{self.location}: entry '{fields[1]}' is of a type keystores does not know "
                                  f"({fields[0]}); it is kept unchanged when the store is rewritten")
                continue
            if entry.label in self._entries:
                self.notes.append(f"{self.location}: alias '{entry.label}' appears twice; the later entry wins")
            self._entries[entry.label] = entry

    def _verified_data(self, pool: KdfPool, mac_alg_der: bytes, kdf_der: bytes, stored_mac: bytes, content: bytes,
                       alg_der: bytes, ciphertext: bytes) -> bytes:
        """The store data decrypted, once the MAC over `content` matches; the two keys derived side by side."""
        assert self.password is not None
        try:
            store_key = _store_key_beside(pool, alg_der, self.password)
            mac = _mac(mac_alg_der, kdf_der, self.password, content)
        except KeystoreError as exc:
            raise type(exc)(exc.reason, store=self.location) from exc
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged or truncated BCFKS store ({one_line(exc)})", store=self.location) from exc
        if not _verified(mac, stored_mac):
            self._explain_mac_failure(alg_der, ciphertext, store_key)
        try:
            return _decrypt(alg_der, self.password, "STORE_ENCRYPTION", ciphertext, key=store_key())
        except WrongPassword as exc:
            raise IntegrityError("the store MAC matches but the store data does not decrypt: the file was "
                                 "altered", store=self.location) from exc
        except KeystoreError as exc:
            raise type(exc)(exc.reason, store=self.location) from exc
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged BCFKS store data ({one_line(exc)})", store=self.location) from exc

    def _explain_mac_failure(self, alg_der: bytes, ciphertext: bytes, store_key: Callable[[], bytes | None]) -> None:
        """A wrong MAC is a wrong password or damage. Store data that decrypts (or whose first block decrypts to
        the start of an ObjectStoreData) proves the password right: then the file is damaged. The store key is
        derived once (`store_key()`, when it was derived beside the MAC's), and only when its cost is ordinary: a
        damaged file must not make the diagnosis expensive."""
        proven = False
        try:
            kdf_der, _, _ = _pbes2_parts(alg_der)
            if structure.kdf(kdf_der)[3] <= _PROOF_MAX_ITERATIONS:
                key = store_key() or _derive(kdf_der, self.password or "", "STORE_ENCRYPTION", 32)
                try:
                    _decrypt(alg_der, "", "STORE_ENCRYPTION", ciphertext, key=key)
                    proven = True
                except (KeystoreError, *_PARSE_ERRORS):
                    first = _ccm_first_block(alg_der, key, ciphertext)
                    proven = first is not None and _starts_like_store_data(first)
        except (KeystoreError, *_PARSE_ERRORS):
            proven = False
        if proven:
            raise IntegrityError("the password is right (it decrypts the store) but the store MAC does not match: "
                                 "the file is damaged or was altered", store=self.location)
        raise WrongPassword("wrong store password, or the file is damaged (the store MAC does not match)",
                            store=self.location)

    def _entry(self, item: structure.ObjectData) -> Entry | None:
        type_, label, read_time, data, _ = item  # the last modified date, as BC's engineGetCreationDate
        created = lambda: structure.when(read_time)  # noqa: E731 (datetime is imported once a date is asked for)
        if type_ == _CERTIFICATE:
            return LazyEntry.lazy({"chain": lambda: (self._certificate(data, label),), "created": created},
                                  leaf_der=data, chain_der=(data,), label=label, kind=EntryKind.TRUSTED_CERT,
                                  trust=TRUST_ALL)
        password = self.password or ""
        blob = bytes([type_]) + data
        if type_ in (_PRIVATE_KEY, _PROTECTED_PRIVATE_KEY):
            epki, ders = structure.key_data(data)
            if not ders:
                return sealed_entry(lambda: self._open_private_key(epki, password, label), blob, self, label=label,
                                    kind=EntryKind.KEY_PAIR, created_loader=created)
            # the chain is decoded on first use, as a trusted certificate is (list decodes none)
            return sealed_entry(lambda: self._open_private_key(epki, password, label), blob, self,
                                chain_loader=lambda: tuple(self._certificate(der, label) for der in ders),
                                leaf_der=ders[0], chain_der=ders, label=label, kind=EntryKind.KEY_PAIR,
                                created_loader=created)
        if type_ in (_SECRET_KEY, _PROTECTED_SECRET_KEY):
            return sealed_entry(lambda: self._open_secret_key(data, password, label), blob, self, label=label,
                                kind=EntryKind.SECRET_KEY, created_loader=created)
        return None  # a type a later BC may define: carried as it is

    def _unprotect(self, alg_der: bytes, password: str, purpose: str, data: bytes, label: str) -> bytes:
        try:
            return _decrypt(alg_der, password, purpose, data)
        except WrongPassword as exc:
            raise WrongPassword("the store password does not open this key", store=self.location,
                                label=label) from exc
        except KeystoreError as exc:
            raise type(exc)(exc.reason, store=self.location, label=label) from exc
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged protected key ({one_line(exc)})", store=self.location, label=label) from exc

    def _open_private_key(self, epki_der: bytes, password: str, label: str) -> Any:
        from cryptography.exceptions import UnsupportedAlgorithm

        from keystores.crypto.key_encoding import load_der_private_key

        try:
            alg_der, encrypted = structure.encrypted_data(epki_der)
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged protected key ({one_line(exc)})", store=self.location, label=label) from exc
        pkcs8 = self._unprotect(alg_der, password, "PRIVATE_KEY_ENCRYPTION", encrypted, label)
        try:
            return load_der_private_key(pkcs8, None)
        except UnsupportedAlgorithm as exc:
            raise UnsupportedFormat(f"key type not supported ({one_line(exc)})", store=self.location,
                                    label=label) from exc
        except (ValueError, TypeError) as exc:
            raise CorruptStore(f"damaged private key ({one_line(exc)})", store=self.location, label=label) from exc

    def _open_secret_key(self, data: bytes, password: str, label: str) -> SecretKey:
        try:
            alg_der, encrypted = structure.encrypted_data(data)
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged secret key entry ({one_line(exc)})", store=self.location, label=label) from exc
        plain = self._unprotect(alg_der, password, "SECRET_KEY_ENCRYPTION", encrypted, label)
        try:
            oid, value = structure.secret_key_data(plain)
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged secret key ({one_line(exc)})", store=self.location, label=label) from exc
        return SecretKey(_SECRET_ALGORITHMS.get(oid, oid), value)

    # --- writing ---------------------------------------------------------------------------------------------
    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if entry.kind is EntryKind.SECRET_KEY and entry.secret is not None and not isinstance(entry, SealedEntry):
            _secret_oid(entry.secret.algorithm, self.location, entry.label)

    def _dump(self) -> bytes:
        if self.password is None:
            raise PasswordRequired("writing the store needs its password", store=self.location)
        now = _utc(None)
        objects = [self._object(label, entry) for label, entry in self._entries.items()]
        objects += [item for label, item in self._carried if label not in self._entries]
        created = structure.when(self._created) if self._created is not None else now
        store_data = structure.store_data_der(_HMAC_SHA512_DER, _utc(created), now, objects)
        kdf_der = _kdf(64)
        with KdfPool("bcfks") as pool:
            mac_key = _beside(pool, WRITE_ITERATIONS, lambda: _derive(kdf_der, self.password or "", "INTEGRITY_CHECK",
                                                                      None))
            alg_der, encrypted = _encrypt(self.password, "STORE_ENCRYPTION", store_data)
            content = structure.encrypted_data_der(alg_der, encrypted)
            mac = _mac(_HMAC_SHA512_DER, kdf_der, self.password, content, key=mac_key()).finalize()
        return der.tlv(0x30, content + structure.integrity_check_der(_HMAC_SHA512_DER, kdf_der, mac))

    def _object(self, label: str, entry: Entry) -> bytes:
        created = _utc(entry.created)
        if entry.kind is EntryKind.TRUSTED_CERT:
            type_, data = _CERTIFICATE, entry.chain_der()[0]
        else:
            blob = self._reusable_blob(entry)
            if blob is not None:
                type_, data = blob[0], blob[1:]  # unchanged since read under this password: as it was
                if type_ in (_PRIVATE_KEY, _PROTECTED_PRIVATE_KEY):
                    data = self._with_chain(data, entry)
            elif entry.kind is EntryKind.KEY_PAIR:
                type_, data = _PRIVATE_KEY, self._protect_private_key(entry)
            else:
                type_, data = _SECRET_KEY, self._protect_secret_key(entry)
        return structure.object_data_der(type_, label, created, data)

    def _with_chain(self, data: bytes, entry: Entry) -> bytes:
        """A sealed key's EncryptedPrivateKeyData as read, holding the entry's chain: the chain sits beside the
        encrypted key, not inside it, so an entry given a new chain while its key stays sealed (SealedEntry.with_)
        keeps its encrypted key and is written with the new chain; an unchanged chain keeps the bytes as read."""
        epki, ders = structure.key_data(data)  # read once already, when the store was opened
        chain = entry.undecoded_chain
        if chain is None:
            chain = entry.chain_der() if entry.chain else ()
        return data if ders == chain else structure.key_data_der(epki, chain)

    def _protect_private_key(self, entry: Entry) -> bytes:
        pkcs8 = self._pkcs8(entry)
        alg_der, encrypted = _encrypt(self.password or "", "PRIVATE_KEY_ENCRYPTION", pkcs8)
        return structure.key_data_der(structure.encrypted_data_der(alg_der, encrypted), entry.chain_der())

    def _protect_secret_key(self, entry: Entry) -> bytes:
        secret = entry.secret
        if secret is None:
            raise UsageError("a secret-key entry needs its key", store=self.location, label=entry.label)
        oid = _secret_oid(secret.algorithm, self.location, entry.label)
        plain = structure.secret_key_data_der(oid, secret.value)
        alg_der, encrypted = _encrypt(self.password or "", "SECRET_KEY_ENCRYPTION", plain)
        return structure.encrypted_data_der(alg_der, encrypted)

    # --- describing ------------------------------------------------------------------------------------------
    @staticmethod
    def _describe(mac_alg_der: bytes, kdf_der: bytes, alg_der: bytes) -> dict[str, ProtectionPart]:
        mac_oid = structure.algorithm_oid(mac_alg_der)
        mac_hash = {"sha512": "SHA-512", "sha3_512": "SHA3-512"}.get(_PRF_HASHES.get(mac_oid, ""), mac_oid)
        mac_name = {"SHA-512": "HMAC-SHA512", "SHA3-512": "HMAC-SHA3-512"}.get(mac_hash, mac_oid)
        kdf = _kdf_protection(kdf_der)
        return {"mac": ProtectionPart(f"{mac_name} ({kdf.text})", ("HMAC", mac_hash, *kdf.algorithms), kdf.iterations),
                "store": _pbes2(alg_der)}

    def protection(self) -> Protection:
        """The MAC, store and key protection as read; what we write for a new store (and for new keys)."""
        written = ProtectionPart(f"PBES2 PBKDF2-HMAC-SHA-512, {WRITE_ITERATIONS} iterations, AES-256-CCM",
                                 ("PBES2", "PBKDF2", "SHA-512", "AES-256-CCM"), WRITE_ITERATIONS)
        found = dict(self._read_protection) or {
            "mac": ProtectionPart(f"HMAC-SHA512 (PBKDF2-HMAC-SHA-512, {WRITE_ITERATIONS} iterations)",
                                  ("HMAC", "SHA-512", "PBKDF2"), WRITE_ITERATIONS),
            "store": written}
        seen: set[ProtectionPart] = set()
        for entry in self._entries.values():
            blob = entry.sealed_blob(self) if isinstance(entry, SealedEntry) else None
            if blob is None:
                continue
            try:
                sealed = structure.key_data(blob[1:])[0] if blob[0] in (_PRIVATE_KEY, _PROTECTED_PRIVATE_KEY) \
                    else blob[1:]
                seen.add(_pbes2(structure.encrypted_data(sealed)[0]))
            except (KeystoreError, *_PARSE_ERRORS):
                continue  # a damaged key is reported when it is opened, not here
        found["keys"] = ProtectionPart.joined(seen) if seen else written
        return self._protection(found)


def _kdf_protection(kdf_der: bytes) -> ProtectionPart:
    _, prf_oid, _, iterations, _ = structure.kdf(kdf_der)
    prf = {"sha512": "SHA-512", "sha3_512": "SHA3-512"}.get(_PRF_HASHES.get(prf_oid, ""), "?")
    return ProtectionPart(f"PBKDF2-HMAC-{prf}, {iterations} iterations", ("PBKDF2", prf), iterations)


def _pbes2(alg_der: bytes) -> ProtectionPart:
    kdf_der, cipher, _ = _pbes2_parts(alg_der)
    cipher_name = {structure.AES256_CCM: "AES-256-CCM", _AES256_WRAP_PAD: "AES-256 key wrap"}.get(cipher, cipher)
    kdf = _kdf_protection(kdf_der)
    return ProtectionPart(f"PBES2 {kdf.text}, {cipher_name}", ("PBES2", *kdf.algorithms, cipher_name), kdf.iterations)


def _secret_oid(algorithm: str, location: str, label: str) -> str:
    """The OID BCFKS records a secret key algorithm under (BcFKSKeyStoreSpi.engineSetKeyEntry's rules)."""
    name = algorithm.upper()
    if "AES" in name:
        return "2.16.840.1.101.3.4.1"
    oid = _SECRET_OIDS.get(name)
    if oid is None:
        if name.replace(".", "").isdigit():
            return algorithm
        raise CapabilityError("secret_keys", f"BCFKS cannot record a secret key of algorithm '{algorithm}' (it knows "
                              "AES, DESede, SEED and the HMAC-SHA family)", store=location, label=label)
    return oid


def _element_count(sequence: bytes) -> int:
    """How many elements the DER SEQUENCE `sequence` holds."""
    _, at, end = der.read(sequence)
    count = 0
    while at < end:
        at = der.read(sequence, at, end)[2]
        count += 1
    return count


def _starts_like_store_data(first: bytes) -> bool:
    """Whether 16 decrypted bytes begin an ObjectStoreData: SEQUENCE, then INTEGER 1 (its version)."""
    if len(first) < 8 or first[0] != 0x30:
        return False
    at = der.content_start(first)
    return first[at : at + 3] == b"\x02\x01\x01"
