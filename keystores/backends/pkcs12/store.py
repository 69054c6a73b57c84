"""PKCS#12 (.p12/.pfx) stores as Java and OpenSSL write them: several private keys and trusted certificates together.

cryptography's own PKCS#12 API keeps one key and cannot write mixed stores, so the PFX / AuthenticatedSafe /
SafeContents layers are read and written here with asn1crypto; the ciphers come from keystores.pbe and the
PKCS#12 key derivation from keystores.legacy.

How bags become entries (RFC 7292 says nothing about "entries"; this follows keytool where it can):
- every private key bag is a key-pair entry; its leaf is the certificate bag with the same localKeyId (else the
  one holding the same public key) and its chain is completed from *all* certificate bags by issuer name and
  signature, never by file order;
- a certificate bag with Java's trusted-certificate attribute (2.16.840.1.113894.746875.1.1) is a trusted-cert
  entry whose Trust says which extended key usages it lists;
- any other certificate bag that is not a key's leaf is an entry of kind "certificate" (trust None: present, not
  trusted), as `openssl pkcs12 -info` shows every bag: an OpenSSL `-nokeys` store, a bag with only a friendlyName,
  and an issuer inside a key pair's chain (`openssl pkcs12 -export -certfile`); the notes say keytool lists the
  ones outside a chain nowhere. They are written back without the Java attribute. A certificate that is both an
  entry and a key pair's chain member is written once, in the chain, with the entry's attributes; deleting a key
  pair removes the untrusted chain certificates no other key pair uses, as keytool -delete does.
- labels are friendlyName; an unnamed key is called "1", "2", ... as keytool does; an unnamed certificate takes
  its subject's common name. localKeyId values are kept across a rewrite.
- a Java secret-key bag (keytool -genseckey -storetype PKCS12) is a secret-key entry: its PKCS#8 names the key's
  algorithm by OID (AES, DESede, HmacSHA256 ...; an OID Java has no name for is kept as the dotted OID) and holds
  the raw key; it is written back the way JDK 17 writes it (localKeyId "Time <ms>").
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from keystores import der
from keystores.backends.base import FileStore
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
)
from keystores.limits import (
    MAX_CANDIDATES_PER_NAME,
    MAX_KEY_LENGTH,
    KdfBudget,
    LimitExceeded,
    VerificationBudget,
    check_kdf,
    suspicious,
)
from keystores.model import (
    TRUST_ALL,
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
    SealedEntry,
    SecretKey,
    Trust,
    UniqueLabels,
    sealed_entry,
)

if TYPE_CHECKING:
    from cryptography import x509

JAVA_TRUST_OID = "2.16.840.1.113894.746875.1.1"
ANY_EKU = "2.5.29.37.0"
PBMAC1_OID = "1.2.840.113549.1.5.14"
_EKU_BY_PURPOSE = {"tls_server": "1.3.6.1.5.5.7.3.1", "tls_client": "1.3.6.1.5.5.7.3.2",
                   "email": "1.3.6.1.5.5.7.3.4", "code_signing": "1.3.6.1.5.5.7.3.3"}
_OID_LIST = re.compile(r"^\d+(\.\d+)+(,\d+(\.\d+)+)*$")


@dataclass(frozen=True)
class _WriteProfile:
    """The algorithms one write profile uses."""

    key_scheme: str
    cert_scheme: str
    mac_hash: str
    iterations: int
    mac_iterations: int
    salt_length: int = 16
    mac_salt_length: int = 20


# modern: what JDK 17 (11.0.12+) writes, and what OpenSSL 3 writes but with 10000 iterations instead of 2048.
# compat: 3DES bags and a SHA-1 MAC, which Java 8 before 8u301, Windows before 2019 and macOS read.
PROFILES: dict[str, _WriteProfile] = {
    "modern": _WriteProfile("pbes2-aes256-sha256", "pbes2-aes256-sha256", "sha256", 10000, 10000),
    "compat": _WriteProfile("pkcs12-3des", "pkcs12-3des", "sha1", 2048, 2048, salt_length=8),
}


@dataclass
class _CertBag:
    der: bytes
    cert: x509.Certificate
    friendly_name: str | None
    local_key_id: bytes | None
    trust_oids: list[str] | None  # None: no Java trust attribute


@dataclass
class _KeyBag:
    pkcs8: bytes | None  # a plain key bag
    epki: bytes | None  # a shrouded key bag, decrypted when the key is first used
    friendly_name: str | None
    local_key_id: bytes | None


@dataclass
class _SecretBag:
    """A Java SecretKeyEntry: kept opaque (decrypted PKCS#8 form) so a rewrite does not lose it."""

    pkcs8: bytes
    friendly_name: str | None
    local_key_id: bytes | None


@dataclass
class _Parsed:
    keys: list[_KeyBag] = field(default_factory=list)
    certs: list[_CertBag] = field(default_factory=list)
    secrets: list[_SecretBag] = field(default_factory=list)
    skipped: int = 0  # CRL and SDSI certificate bags
    bag_password: str | None = None  # the password (in the encoding the MAC accepted) that opens the bags
    mac_verified: bool = False
    protection: dict[str, str] = field(default_factory=dict)
    # A password was given but the file has no MAC: nothing proves its owner wrote any of it, and anyone can append
    # a certificate bag with Java's trust attribute (openssl: "MAC is absent"). Its trust is not taken.
    trust_unproven: bool = False
    # Every derivation for this file: the top-level parts when the file is opened, keys when they are opened.
    budget: KdfBudget = field(default_factory=KdfBudget)
    notes: list[str] = field(default_factory=list)
    suspicious: set[str] = field(default_factory=set)  # what already has a "suspicious iteration count" note


class Pkcs12Store(FileStore):
    """A PKCS#12 file. Writes with `profile` "modern" (PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC)
    or "compat" (pbeWithSHAAnd3-KeyTripleDES-CBC, HMAC-SHA1 MAC); reads every cipher seen in the wild.

    Java's secret-key bags are secret-key entries (see the module docstring)."""

    format: ClassVar[str] = "pkcs12"
    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=True, default_flag=False, trust_purposes=True,
                                                        bare_keys=True, undecoded_entries=True)

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        if profile not in PROFILES:
            raise UsageError(f"unknown PKCS#12 profile '{profile}'; profiles are {', '.join(PROFILES)}",
                             store=location)
        self._local_key_ids: dict[bytes, bytes] = {}  # leaf certificate DER -> localKeyId read from the file
        self._read_protection: dict[str, str] = {}
        self._read_password: str | None = None
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    # --- reading -------------------------------------------------------------------------------------------
    def _load(self, data: bytes) -> None:
        try:
            parsed = _parse(data, self.password, self.location)
        except KeystoreError as exc:
            exc.store = exc.store or self.location  # pbe raises without knowing the path
            raise
        except Exception as exc:  # a parser boundary: asn1crypto, cryptography and index errors mean damage
            raise CorruptStore(f"damaged PKCS#12 file ({_why(exc)})", store=self.location) from exc
        self._read_protection = parsed.protection
        self._read_password = parsed.bag_password  # what opens the key bags as read (may be OpenSSL 1.x's form)
        entries, notes = _assemble(parsed, self.location, origin=self)
        self.notes.extend(parsed.notes + notes)
        for entry, local_key_id in entries:
            if local_key_id is not None and entry.chain:
                self._local_key_ids[entry.chain[0].public_bytes(_der())] = local_key_id
            self._entries[entry.label] = entry

    def protection(self) -> dict[str, str]:
        """The algorithms of the file as read; for a new or changed store, what the next save writes."""
        if self._read_protection and not self._dirty:
            return dict(self._read_protection)
        return _describe_profile(PROFILES[self.profile], self.password is None)

    # --- writing -------------------------------------------------------------------------------------------
    def remove(self, label: str) -> None:
        self._remove_with_chain(label)

    def check_entry(self, entry: Entry) -> None:
        if entry.kind is EntryKind.KEY_PAIR and self.password is None:
            raise PasswordRequired("a PKCS#12 file with private keys needs a password", store=self.location)
        super().check_entry(entry)
        if entry.kind is EntryKind.KEY_PAIR and isinstance(entry.key, KeyRef):
            raise CapabilityError("extractable_keys", "the private key is held on a token; PKCS#12 needs the key "
                                  "itself", store=self.location, label=entry.label)
        if entry.kind is EntryKind.SECRET_KEY and entry.secret is not None:
            _secret_pkcs8(entry.secret, self.location, entry.label)  # an algorithm PKCS#12 has no OID for

    def _dump(self) -> bytes:
        try:
            # A key still sealed as read from this very file, under an unchanged password, is written back as is.
            reuse_from = self if self.password == self._read_password and self.password is not None else None
            data = _serialize(list(self._entries.values()), self.password,
                              PROFILES[self.profile], self._local_key_ids, self.location, reuse_from)
        except KeystoreError:
            raise
        except (ValueError, TypeError) as exc:
            raise KeystoreError(f"cannot write PKCS#12 ({_why(exc)})", store=self.location) from exc
        legacy = any(w in v for v in self._read_protection.values() for w in ("3DES", "RC2", "SHA-1", "RC4"))
        if self._read_protection and legacy and self.profile == "modern":
            self.notes.append(f"{self.location}: rewritten with the modern profile (PBES2 AES-256, HMAC-SHA256); "
                              "use --profile compat to keep 3DES and SHA-1 for old Java, Windows or macOS")
        folded: dict[str, str] = {}
        for label in self._entries:
            other = folded.setdefault(label.casefold(), label)
            if other != label:
                self.notes.append(f"{self.location}: labels '{other}' and '{label}' differ only in case; Java "
                                  "(keytool) lower-cases aliases and will see only one of them")
        if self.password and not self.password.isascii() and PROFILES[self.profile].key_scheme.startswith("pbes2"):
            self.notes.append(f"{self.location}: Java (keytool) cannot open PBES2 stores whose password is not "
                              "ASCII; OpenSSL can")
        self._read_protection = {}
        return data


# --- parsing --------------------------------------------------------------------------------------------------

def _der() -> Any:
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def _password_candidates(password: str | None) -> list[tuple[bytes, str | None]]:
    """(MAC password bytes, the str to give the bag ciphers) in the order tools produce them.

    BMPString with a terminator is the standard; an empty password may also be OpenSSL's NULL (no bytes);
    OpenSSL 1.x turned each UTF-8 *byte* into one BMP character, so non-ASCII passwords from it need that too.
    """
    from keystores.legacy import bmp_password

    pw = password or ""
    candidates = [(bmp_password(pw), pw)]
    if not pw:
        candidates.append((b"", pw))
    else:
        mangled = pw.encode("utf-8").decode("latin-1")
        if mangled != pw:
            candidates.append((bmp_password(mangled), mangled))
    return candidates


def _parse(data: bytes, password: str | None, location: str) -> _Parsed:
    from asn1crypto import pkcs12

    if data[:1] != b"\x30":
        raise UnsupportedFormat("not a PKCS#12 file (it does not start with an ASN.1 SEQUENCE)", store=location)
    try:
        pfx = pkcs12.Pfx.load(data, strict=True)
        version = pfx["version"].native
    except (ValueError, TypeError, OverflowError) as exc:
        raise CorruptStore(f"not a readable PKCS#12 file ({_why(exc)})", store=location) from exc
    if version != "v3":
        raise UnsupportedFormat(f"PKCS#12 version {version} is not 3", store=location)
    auth_safe = pfx["auth_safe"]
    content_type = auth_safe["content_type"].native
    if content_type != "data":
        raise UnsupportedFormat(f"PKCS#12 in public-key integrity mode ({content_type}) is not supported",
                                store=location)
    content = auth_safe["content"].parsed if hasattr(auth_safe["content"], "parsed") else auth_safe["content"]
    safe_bytes: bytes = content.native if content is not None else b""
    if not isinstance(safe_bytes, bytes):
        raise CorruptStore("the AuthenticatedSafe is not an OCTET STRING", store=location)

    parsed = _Parsed()
    authenticated_safe = pkcs12.AuthenticatedSafe.load(safe_bytes, strict=True)
    _charge_encrypted_parts(authenticated_safe, parsed, location)
    mac_data = pfx["mac_data"]
    bag_password: str | None = password
    mac_verified = False
    if isinstance(mac_data, pkcs12.MacData):
        mac_verified = True
        try:
            bag_password, description = _verify_mac(mac_data, safe_bytes, password, location, parsed)
        except WrongPassword as exc:
            if isinstance(exc, PasswordRequired) or not _password_opens_contents(safe_bytes, password or ""):
                raise
            raise IntegrityError("the MAC does not match although the password decrypts the contents: the "
                                 "file was altered or damaged", store=location) from exc
        parsed.protection["mac"] = description
    else:
        parsed.protection["mac"] = "none"

    for info in authenticated_safe:
        kind = info["content_type"].native
        if kind == "data":
            _read_safe_contents(info["content"].native, parsed, bag_password, mac_verified, location)
        elif kind == "encrypted_data":
            encrypted = info["content"]
            eci = encrypted["encrypted_content_info"]
            algorithm = eci["content_encryption_algorithm"]
            parsed.protection.setdefault("certificates", _describe_encryption(algorithm))
            ciphertext = eci["encrypted_content"].native
            if bag_password is None:
                raise PasswordRequired("this PKCS#12 file is encrypted; a password is needed", store=location)
            plain = _decrypt_with(algorithm.dump(), ciphertext or b"", bag_password, mac_verified, location)
            try:
                _read_safe_contents(plain, parsed, bag_password, mac_verified, location)
            except ValueError as exc:
                if mac_verified:
                    raise
                # No MAC: the padding came out right by chance (1 in 256), the contents show it was the password.
                raise WrongPassword("wrong password for this PKCS#12 file", store=location) from exc
        elif kind == "enveloped_data":
            raise UnsupportedFormat("PKCS#12 in public-key privacy mode (enveloped data) is not supported",
                                    store=location)
        else:
            raise CorruptStore(f"unexpected content type {kind} in the AuthenticatedSafe", store=location)
    parsed.bag_password, parsed.mac_verified = bag_password, mac_verified
    parsed.trust_unproven = bool(password) and not mac_verified
    parsed.protection.setdefault("certificates", "none")
    if not parsed.keys:
        parsed.protection.setdefault("keys", "none (no private keys)")
    return parsed


def _charge_encrypted_parts(authenticated_safe: Any, parsed: _Parsed, location: str) -> None:
    """Check the parameters of every encrypted part and charge their derivations before deriving anything: a file
    of many parts at the iteration ceiling is refused at once, not after minutes of work."""
    from keystores import pbe

    try:
        for info in authenticated_safe:
            if info["content_type"].native == "encrypted_data":
                algorithm = info["content"]["encrypted_content_info"]["content_encryption_algorithm"]
                pbe.check_parameters(algorithm, parsed.budget)
                _note_suspicious(parsed, algorithm.kdf_iterations, "an encrypted part", location)
    except LimitExceeded as exc:
        exc.store = location
        raise


def _password_opens_contents(safe_bytes: bytes, password: str) -> bool:
    """True when `password` decrypts the first encrypted part into well-formed DER: after a failed MAC, this tells a
    damaged file (exit 1) from a wrong password (exit 3). One part only: a wrong password costs one more
    derivation, not one per part."""
    attempts = 1
    from asn1crypto import pkcs12

    from keystores import pbe

    try:
        infos = list(pkcs12.AuthenticatedSafe.load(safe_bytes))
    except ValueError:
        return False
    for info in infos:
        if attempts <= 0:
            break
        try:
            if info["content_type"].native == "encrypted_data":
                attempts -= 1
                eci = info["content"]["encrypted_content_info"]
                plain = pbe.decrypt_with(eci["content_encryption_algorithm"].dump(),
                                         eci["encrypted_content"].native or b"", password)
                pkcs12.SafeContents.load(plain, strict=True).native  # noqa: B018 - a full parse proves it
                return True
            if info["content_type"].native == "data":
                for bag in pkcs12.SafeContents.load(info["content"].native):
                    if bag["bag_id"].native == "pkcs8_shrouded_key_bag" and attempts > 0:
                        attempts -= 1
                        with contextlib.suppress(KeystoreError):
                            pbe.decrypt_pkcs8(bag["bag_value"].untag().dump(), password)
                            return True
        except LimitExceeded:
            raise
        except (KeystoreError, ValueError, TypeError, KeyError):
            continue
    return False


def _decrypt_with(alg_der: bytes, data: bytes, password: str, mac_verified: bool, location: str,
                  budget: KdfBudget | None = None, label: str | None = None) -> bytes:
    """A part or secret bag; the file's top-level parts were charged to the budget when it was opened."""
    from keystores import pbe

    try:
        return pbe.decrypt_with(alg_der, data, password, budget=budget)
    except LimitExceeded as exc:
        exc.store, exc.label = location, label
        raise
    except WrongPassword as exc:
        if mac_verified:
            # The MAC proved the password; a cipher that still fails means the bytes are bad.
            raise IntegrityError("an encrypted part does not decrypt although the MAC matched",
                                 store=location) from exc
        raise WrongPassword("wrong password for this PKCS#12 file", store=location) from exc


def _read_safe_contents(der: bytes, parsed: _Parsed, password: str | None, mac_verified: bool,
                        location: str, depth: int = 0) -> None:
    from asn1crypto import pkcs12

    if depth > 8:
        raise CorruptStore("SafeContents nested too deeply", store=location)
    for bag in pkcs12.SafeContents.load(der, strict=True):
        bag_id = bag["bag_id"].native
        name, key_id, trust = _attributes(bag["bag_attributes"])
        value = bag["bag_value"]
        if bag_id == "cert_bag":
            cert_bag = value
            if cert_bag["cert_id"].native != "x509":
                parsed.skipped += 1  # SDSI certificates: never seen in the wild
                continue
            cert_der = cert_bag["cert_value"].parsed.dump()
            parsed.certs.append(_CertBag(cert_der, _load_cert(cert_der), name, key_id, trust))
        elif bag_id == "key_bag":
            parsed.keys.append(_KeyBag(value.untag().dump(), None, name, key_id))
            _note_key_protection(parsed, "none (unencrypted key bag)")
        elif bag_id == "pkcs8_shrouded_key_bag":
            _note_key_protection(parsed, _describe_encryption(value["encryption_algorithm"]))
            with contextlib.suppress(ValueError, KeyError, TypeError):  # damage is reported when the key is opened
                _note_suspicious(parsed, value["encryption_algorithm"].kdf_iterations, "a key bag", location)
            if password is None:
                raise PasswordRequired("this PKCS#12 file holds encrypted keys; a password is needed",
                                       store=location)
            parsed.keys.append(_KeyBag(None, value.untag().dump(), name, key_id))
        elif bag_id == "secret_bag":
            secret_value = value["secret_value"].native
            if value["secret_type_id"].dotted != "1.2.840.113549.1.12.10.1.2":
                parsed.skipped += 1  # only Java's shrouded secret keys are known
                continue
            if password is None:
                raise PasswordRequired("this PKCS#12 file holds encrypted keys; a password is needed",
                                       store=location)
            parsed.secrets.append(_SecretBag(_decrypt_secret(secret_value, password, mac_verified, location,
                                                             name, parsed.budget), name, key_id))
        elif bag_id == "crl_bag":
            parsed.skipped += 1
        elif bag_id == "safe_contents":
            _read_safe_contents(value.untag().dump(), parsed, password, mac_verified, location, depth + 1)
        else:
            raise UnsupportedFormat(f"unknown PKCS#12 bag type {bag['bag_id'].dotted}", store=location)


def _note_key_protection(parsed: _Parsed, described: str) -> None:
    """Every distinct key protection of the file, not only the first bag's: audit judges each (a file can hold a
    well protected key beside a 1-iteration or an unencrypted one)."""
    known = parsed.protection.get("keys")
    if known is None:
        parsed.protection["keys"] = described
    elif described not in known.split("; "):
        parsed.protection["keys"] = f"{known}; {described}"


def _decrypt_key(epki_der: bytes, password: str, mac_verified: bool, location: str, label: str | None,
                 budget: KdfBudget) -> bytes:
    from keystores import pbe

    try:
        return pbe.decrypt_pkcs8(epki_der, password, budget=budget)
    except LimitExceeded as exc:
        exc.store, exc.label = location, label
        raise
    except UnsupportedFormat as exc:
        raise UnsupportedFormat(f"the key cannot be opened here: {exc.reason}", store=location, label=label) from exc
    except CorruptStore as exc:
        raise type(exc)(exc.reason, store=location, label=label) from exc
    except WrongPassword as exc:
        if mac_verified:
            raise WrongPassword("the key is protected with a password other than the store's",
                                store=location, label=label) from exc
        raise WrongPassword("wrong password for this PKCS#12 file", store=location, label=label) from exc


def _decrypt_secret(epki_der: bytes, password: str, mac_verified: bool, location: str, label: str | None,
                    budget: KdfBudget) -> bytes:
    """A Java secret-key bag: EncryptedPrivateKeyInfo around a PKCS#8 whose "private key" is the raw secret."""
    from asn1crypto import core, keys

    epki = keys.EncryptedPrivateKeyInfo.load(epki_der, strict=True)
    plain = _decrypt_with(epki["encryption_algorithm"].dump(), epki["encrypted_data"].native, password,
                          mac_verified, location, budget, label)
    try:
        core.Sequence.load(plain, strict=True)
    except ValueError as exc:
        raise (IntegrityError if mac_verified else WrongPassword)(
            "a secret key does not decrypt", store=location, label=label) from exc
    return plain


def _load_cert(der: bytes) -> x509.Certificate:
    from keystores.chain import decode_certificate

    return decode_certificate(der)  # type: ignore[no-any-return]


def _attributes(attributes: Any) -> tuple[str | None, bytes | None, list[str] | None]:
    """(friendlyName, localKeyId, Java trust OIDs or None) of one bag."""
    name = key_id = trust = None
    if attributes is None or not hasattr(attributes, "__iter__"):
        return name, key_id, trust
    for attribute in attributes:
        oid = attribute["type"].dotted
        values = attribute["values"]
        if not len(values):
            continue
        if oid == "1.2.840.113549.1.9.20":
            name = values[0].native
        elif oid == "1.2.840.113549.1.9.21":
            key_id = values[0].native
        elif oid == JAVA_TRUST_OID:
            trust = [v.dotted for v in values]
    return name, key_id, trust


def _verify_mac(mac_data: Any, content: bytes, password: str | None, location: str,
                parsed: _Parsed) -> tuple[str | None, str]:
    """Check the MAC with each plausible password encoding; return (password for the bags, description)."""
    digest_algorithm = mac_data["mac"]["digest_algorithm"]
    expected = mac_data["mac"]["digest"].native
    if digest_algorithm["algorithm"].dotted == PBMAC1_OID:
        return _verify_pbmac1(digest_algorithm["parameters"], expected, content, password, location, parsed)
    from keystores.legacy import pkcs12_kdf

    # by OID: asn1crypto names neither SM3 nor the SHA-512/t variants (openssl pkcs12 -macalg offers them all)
    hash_name = _MAC_HASHES.get(digest_algorithm["algorithm"].dotted, "")
    if not hash_name:
        raise UnsupportedFormat(f"unsupported MAC algorithm {digest_algorithm['algorithm'].dotted}",
                                store=location)
    salt = mac_data["mac_salt"].native
    iterations = mac_data["iterations"].native
    size = hashlib.new(hash_name).digest_size
    check_kdf(iterations, size, max_key_length=size, what="PKCS#12 MAC")
    _note_suspicious(parsed, iterations, "the PKCS#12 MAC", location)
    description = f"HMAC-{_hash_label(hash_name)} (PKCS#12 KDF), {iterations} iterations"
    for encoded, bag_password in _password_candidates(password):
        parsed.budget.charge(iterations, 1, "PKCS#12 MAC")
        key = pkcs12_kdf(encoded, salt, 3, iterations, size, hash_name)
        if hmac.compare_digest(hmac.new(key, content, hash_name).digest(), expected):
            return bag_password, description
    _mac_failed(password, location)
    raise AssertionError("unreachable")


def _verify_pbmac1(params_any: Any, expected: bytes, content: bytes, password: str | None,
                   location: str, parsed: _Parsed) -> tuple[str | None, str]:
    """RFC 9579 PBMAC1: PBKDF2 over the UTF-8 password, then HMAC."""
    from asn1crypto import algos, core
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    class Pbmac1Params(core.Sequence):
        _fields = [("key_derivation_func", algos.KdfAlgorithm),  # noqa: RUF012 - asn1crypto declares fields so
                   ("message_auth_scheme", algos.HmacAlgorithm)]

    params = Pbmac1Params.load(params_any.dump(), strict=True)
    kdf = params["key_derivation_func"]
    if kdf["algorithm"].native != "pbkdf2":
        raise UnsupportedFormat("PBMAC1 with a key derivation other than PBKDF2", store=location)
    kdf_params = kdf["parameters"]
    prf = kdf_params["prf"]["algorithm"].native
    mac_hash = params["message_auth_scheme"]["algorithm"].native
    iterations = kdf_params["iteration_count"].native
    length = kdf_params["key_length"].native
    if length is None:
        raise CorruptStore("PBMAC1 parameters have no key length (RFC 9579 requires one)", store=location)
    hash_classes = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
                    "sha384": hashes.SHA384, "sha512": hashes.SHA512}
    if prf not in hash_classes or mac_hash not in hash_classes:
        raise UnsupportedFormat(f"PBMAC1 with {prf}/{mac_hash} is not supported", store=location)
    check_kdf(iterations, length, max_key_length=MAX_KEY_LENGTH, what="PBMAC1")
    _note_suspicious(parsed, iterations, "the PKCS#12 PBMAC1", location)
    for pw in dict.fromkeys([password or ""]):
        parsed.budget.charge(iterations, -(-length // hashlib.new(prf).digest_size), "PBMAC1")
        key = PBKDF2HMAC(hash_classes[prf](), length, kdf_params["salt"].native, iterations).derive(
            pw.encode("utf-8"))
        if hmac.compare_digest(hmac.new(key, content, mac_hash).digest(), expected):
            return pw, (f"PBMAC1 HMAC-{_hash_label(mac_hash)} (PBKDF2-HMAC-{_hash_label(prf)}), "
                        f"{iterations} iterations")
    _mac_failed(password, location)
    raise AssertionError("unreachable")


def _note_suspicious(parsed: _Parsed, iterations: int, what: str, location: str) -> None:
    """One note per kind of thing (`what`), however many of them the file holds."""
    note = suspicious(iterations, what)
    if note is not None and what not in parsed.suspicious:
        parsed.suspicious.add(what)
        parsed.notes.append(f"{location}: {note}")


_MAC_HASHES = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224", "2.16.840.1.101.3.4.2.1": "sha256",
               "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512", "1.2.840.113549.2.5": "md5",
               "2.16.840.1.101.3.4.2.5": "sha512_224", "2.16.840.1.101.3.4.2.6": "sha512_256",
               "2.16.840.1.101.3.4.2.7": "sha3_224", "2.16.840.1.101.3.4.2.8": "sha3_256",
               "2.16.840.1.101.3.4.2.9": "sha3_384", "2.16.840.1.101.3.4.2.10": "sha3_512",
               "1.2.156.10197.1.401": "sm3"}


def _mac_failed(password: str | None, location: str) -> None:
    if password is None:
        raise PasswordRequired("this PKCS#12 file is protected by a password; give one", store=location)
    raise WrongPassword("wrong password (the PKCS#12 MAC does not match)", store=location)


def _hash_label(name: str) -> str:
    return {"sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256", "sha384": "SHA-384",
            "sha512": "SHA-512", "md5": "MD5", "sha512_224": "SHA-512/224", "sha512_256": "SHA-512/256",
            "sha3_224": "SHA3-224", "sha3_256": "SHA3-256", "sha3_384": "SHA3-384", "sha3_512": "SHA3-512",
            "sm3": "SM3"}.get(name, name.upper())


def _describe_encryption(algorithm: Any) -> str:
    from keystores import pbe

    return pbe.describe(algorithm)


def _describe_profile(profile: _WriteProfile, no_password: bool) -> dict[str, str]:
    scheme = {"pbes2-aes256-sha256": "PBES2 PBKDF2-HMAC-SHA-256 AES-256-CBC",  # as pbe.describe spells it
              "pkcs12-3des": "PKCS#12 PBE SHA-1 3DES"}
    if no_password:
        return {"mac": "none", "keys": "none (no private keys)", "certificates": "none"}
    return {"mac": f"HMAC-{_hash_label(profile.mac_hash)} (PKCS#12 KDF), {profile.mac_iterations} iterations",
            "keys": f"{scheme[profile.key_scheme]}, {profile.iterations} iterations",
            "certificates": f"{scheme[profile.cert_scheme]}, {profile.iterations} iterations"}


# --- bags -> entries ------------------------------------------------------------------------------------------

def _assemble(parsed: _Parsed, location: str, *, origin: object) -> tuple[list[tuple[Entry, bytes | None]], list[str]]:
    """Entries (with the localKeyId each came with) and notes, by the rules in the module docstring."""

    notes: list[str] = []
    by_subject: dict[bytes, list[_CertBag]] = {}
    for bag in parsed.certs:
        by_subject.setdefault(bag.cert.subject.public_bytes(), []).append(bag)
    verifications = VerificationBudget()
    by_key: dict[bytes, _CertBag] | None = None  # made when a key without localKeyId needs its certificate
    used: set[bytes] = set()  # DER of every certificate that is a key's leaf or chain member
    leaves: set[bytes] = set()  # DER of the key pairs' own certificates: no entries of their own
    results: list[tuple[Entry, bytes | None]] = []
    labels = UniqueLabels(lambda base, n: f"{base} ({n})")
    unnamed = 0

    for key_bag in parsed.keys:
        leaf = _leaf_by_key_id(key_bag, parsed.certs)
        lazy = leaf is not None and key_bag.epki is not None and parsed.mac_verified
        key = None
        if not lazy:
            # Without a MAC, decrypting is the only password check; without a localKeyId, the key finds its leaf.
            key = _open_key(key_bag, parsed.bag_password, parsed.mac_verified, location, budget=parsed.budget)
            if leaf is None:
                by_key = by_key if by_key is not None else _certs_by_public_key(parsed.certs)
                leaf = by_key.get(_spki(key))
        chain: list[_CertBag] = []
        if leaf is not None:
            chain = _build_chain(leaf, by_subject, verifications)
            used.update(b.der for b in chain)
            leaves.add(leaf.der)
        label = key_bag.friendly_name or (leaf.friendly_name if leaf else None)
        if not label:
            unnamed += 1
            label = str(unnamed)
        label = labels.add(label)
        if leaf is None:
            notes.append(f"{location}: key '{label}' has no certificate in the file")
        fields = {"label": label, "kind": EntryKind.KEY_PAIR, "chain": tuple(b.cert for b in chain)}
        if lazy:
            unseal = functools.partial(_open_key, key_bag, parsed.bag_password, True, location, label,
                                       budget=parsed.budget)
            entry: Entry = sealed_entry(unseal, key_bag.epki, origin, **fields, key=None)
        else:
            entry = Entry(**fields, key=key)  # type: ignore[arg-type]
        results.append((entry, key_bag.local_key_id or (leaf.local_key_id if leaf else None)))

    untrusted: list[str] = []
    unproven: list[str] = []
    listed: set[bytes] = set()  # bare certificates made entries: a second copy in the file is none
    trusted = {bag.der for bag in parsed.certs if bag.trust_oids is not None}
    for bag in parsed.certs:
        if bag.trust_oids is None and (bag.der in leaves or (bag.friendly_name is None and bag.der in listed)):
            continue
        if bag.trust_oids is None and bag.der in used and bag.der in trusted:
            continue  # keytool's copy of a trusted root in a key pair's chain: the trusted entry is that certificate
        if bag.trust_oids is None and bag.friendly_name is None:
            listed.add(bag.der)
        label = labels.add(bag.friendly_name or _common_name(bag.cert))
        trust = _trust_from_oids(bag.trust_oids) if bag.trust_oids is not None else None
        if trust is not None and parsed.trust_unproven:
            unproven.append(label)
            trust = None
        elif trust is None and bag.der not in used:
            untrusted.append(label)
        kind = EntryKind.CERTIFICATE if trust is None else EntryKind.TRUSTED_CERT
        results.append((Entry(label=label, kind=kind, chain=(bag.cert,), trust=trust), None))
    if untrusted:
        shown = ", ".join(repr(u) for u in untrusted[:5]) + (" ..." if len(untrusted) > 5 else "")
        notes.append(f"{location}: certificate(s) {shown} carry no Java trust attribute: kept as untrusted "
                     "certificate entries, which keytool does not list")
    if unproven:
        shown = ", ".join(repr(u) for u in unproven[:5]) + (" ..." if len(unproven) > 5 else "")
        notes.append(f"{location}: the file has no MAC, so nothing shows that whoever knows the password wrote it: "
                     f"the trust of {shown} is not taken (kept as untrusted certificates); a file with a MAC, "
                     "or the certificate checked and trusted by hand, is needed to trust it")
    for secret in parsed.secrets:
        label = labels.add(secret.friendly_name or (secret.local_key_id or b"").hex() or "secret")
        results.append((Entry(label=label, kind=EntryKind.SECRET_KEY, secret=_secret_key(secret.pkcs8),
                              created=_java_time(secret.local_key_id)), None))
    if parsed.skipped:
        notes.append(f"{location}: {parsed.skipped} CRL or non-X.509 certificate bag(s) ignored; they are not "
                     "written back")
    renamed = labels.summary(location)
    if renamed is not None:
        notes.append(renamed)
    cut_short = verifications.note(location)
    if cut_short is not None:
        notes.append(cut_short)
    return results, notes


def _open_key(key_bag: _KeyBag, password: str | None, mac_verified: bool, location: str,
              label: str | None = None, *, budget: KdfBudget) -> Any:
    """Decrypt (if shrouded) and load one private key."""

    label = label or key_bag.friendly_name
    if key_bag.epki is not None:
        if password is None:
            raise PasswordRequired("this PKCS#12 file holds encrypted keys; a password is needed", store=location)
        pkcs8 = _decrypt_key(key_bag.epki, password, mac_verified, location, label, budget)
    else:
        pkcs8 = key_bag.pkcs8 or b""
    from keystores.undecoded import load_private_key

    try:
        # The MAC vouches for the bytes; RSA validation would cost ~35 ms per key on every open.
        return load_private_key(pkcs8, skip_rsa_validation=True)
    except (ValueError, TypeError) as exc:
        raise CorruptStore(f"a private key cannot be read ({_why(exc)})", store=location, label=label) from exc


def _leaf_by_key_id(key_bag: _KeyBag, certs: list[_CertBag]) -> _CertBag | None:
    if key_bag.local_key_id is not None:
        for bag in certs:
            if bag.local_key_id == key_bag.local_key_id:
                return bag
    return None


def _spki(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    try:
        return key.public_key().public_bytes(serialization.Encoding.DER,  # type: ignore[no-any-return]
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    except ValueError:  # an UndecodedPrivateKey (keystores.undecoded): no public key to match by
        return b""


def _certs_by_public_key(certs: list[_CertBag]) -> dict[bytes, _CertBag]:
    """The first certificate bag holding each public key (SubjectPublicKeyInfo DER): made once, so matching many
    keys to their certificates is linear, not keys x certificates."""
    from cryptography.hazmat.primitives import serialization

    found: dict[bytes, _CertBag] = {}
    for bag in certs:
        try:
            spki = bag.cert.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)
        except Exception:  # a certificate with a key type cryptography cannot load (keystores.undecoded)
            continue
        found.setdefault(spki, bag)
    return found


def _build_chain(leaf: _CertBag, by_subject: dict[bytes, list[_CertBag]],
                 verifications: VerificationBudget) -> list[_CertBag]:
    """Leaf first, then each issuer found by name and proven by signature (name alone when unverifiable).

    When several certificates qualify (a CA re-issued with the same key), a bag without attributes wins: Java
    and OpenSSL write chain members bare, while a named bag is an entry of its own. Bounded as
    keystores.chain.build_chain is: candidates per name, signature checks per file, absurd keys never tried.
    """
    from cryptography.exceptions import InvalidSignature

    from keystores.chain import absurd_key, rsa_bits

    chain = [leaf]
    current = leaf
    while current.cert.issuer != current.cert.subject and len(chain) < 16:
        verified: list[_CertBag] = []
        fallback = None
        for candidate in by_subject.get(current.cert.issuer.public_bytes(), [])[:MAX_CANDIDATES_PER_NAME]:
            if any(candidate.der == member.der for member in chain):
                continue
            try:
                key = candidate.cert.public_key()
                if absurd_key(key) is not None or not verifications.spend(rsa_bits(key)):
                    continue
                current.cert.verify_directly_issued_by(candidate.cert)
                verified.append(candidate)
            except InvalidSignature:
                continue
            except Exception:  # unsupported algorithm or key type: trust the name match
                fallback = fallback or candidate
        bare = [c for c in verified if c.friendly_name is None and c.trust_oids is None]
        issuer = (bare or verified or [fallback])[0]
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return chain


def _common_name(cert: x509.Certificate) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else ""
    text = value if isinstance(value, str) else value.decode("utf-8", "replace")
    return text or cert.fingerprint(_sha256()).hex()[:16]


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _trust_from_oids(oids: list[str]) -> Trust:
    if not oids or ANY_EKU in oids:
        return TRUST_ALL
    flags = {purpose: oid in oids for purpose, oid in _EKU_BY_PURPOSE.items()}
    return Trust(**flags, native=",".join(oids))


def _oids_from_trust(trust: Trust) -> list[str]:
    if trust.native and _OID_LIST.match(trust.native):
        return trust.native.split(",")
    if all(getattr(trust, p) for p in _EKU_BY_PURPOSE):
        return [ANY_EKU]
    oids = [oid for purpose, oid in _EKU_BY_PURPOSE.items() if getattr(trust, purpose)]
    return oids or [ANY_EKU]


# --- writing --------------------------------------------------------------------------------------------------

def _serialize(entries: Iterable[Entry], password: str | None,
               profile: _WriteProfile, local_key_ids: dict[bytes, bytes], location: str,
               reuse_from: object | None = None) -> bytes:
    """A PFX as JDK 17 lays it out: key bags in a Data SafeContents, certificates in an EncryptedData one."""
    from asn1crypto import cms, core, pkcs12
    from cryptography.hazmat.primitives import serialization

    from keystores import pbe

    as_der = serialization.Encoding.DER
    key_bags: list[Any] = []
    cert_bags: list[bytes] = []
    chain_written: set[bytes] = set()
    ids_used: set[bytes] = set()
    entries = list(entries)
    # A certificate entry that is also a key pair's chain member is one bag, in the chain, with its own attributes.
    in_chains = {c.public_bytes(as_der) for e in entries if e.kind is EntryKind.KEY_PAIR for c in e.chain[1:]}
    chain_entries: dict[bytes, Entry] = {}
    for entry in entries:
        if entry.kind.is_certificate and entry.chain[0].public_bytes(as_der) in in_chains:
            chain_entries.setdefault(entry.chain[0].public_bytes(as_der), entry)

    for entry in entries:
        if entry.kind is EntryKind.KEY_PAIR:
            if password is None:
                raise PasswordRequired("a PKCS#12 file with private keys needs a password", store=location)
            sealed = entry.sealed_blob(reuse_from) if isinstance(entry, SealedEntry) and reuse_from else None
            if sealed is not None and _kept_as_is(sealed, profile):
                epki = sealed  # untouched key, same password, cipher and at least as many iterations: kept
            else:
                if isinstance(entry.key, KeyRef) or entry.key is None:
                    raise CapabilityError("extractable_keys", "PKCS#12 needs the private key itself",
                                          store=location, label=entry.label)
                pkcs8 = entry.key.private_bytes(as_der, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption())
                epki = pbe.encrypt_pkcs8(pkcs8, password, scheme=profile.key_scheme,
                                         iterations=profile.iterations, salt_length=profile.salt_length)
            leaf_der = entry.chain[0].public_bytes(as_der) if entry.chain else hashlib.sha256(epki).digest()
            local_id = local_key_ids.get(leaf_der) or hashlib.sha1(leaf_der).digest()
            while local_id in ids_used:  # the same certificate under two labels: keep the ids distinct
                local_id = hashlib.sha1(local_id).digest()
            ids_used.add(local_id)
            attrs = _bag_attributes(entry.label, local_id, None)
            key_bags.append(pkcs12.SafeBag({"bag_id": "pkcs8_shrouded_key_bag",
                                            "bag_value": pkcs12.EncryptedPrivateKeyInfo.load(epki),
                                            "bag_attributes": _loaded(attrs)}))
            for index, cert in enumerate(entry.chain):
                cert_der = cert.public_bytes(as_der)
                if index == 0:
                    cert_bags.append(_cert_bag(cert_der, attrs))
                elif cert_der not in chain_written:
                    chain_written.add(cert_der)
                    own = chain_entries.get(cert_der)
                    cert_bags.append(_cert_bag(cert_der, _chain_member_attributes(own) if own else None))
        elif entry.kind is EntryKind.SECRET_KEY and entry.secret is not None:
            if password is None:
                raise PasswordRequired("a PKCS#12 file with secret keys needs a password", store=location)
            epki = pbe.encrypt_pkcs8(_secret_pkcs8(entry.secret, location, entry.label), password,
                                     scheme=profile.key_scheme, iterations=profile.iterations,
                                     salt_length=profile.salt_length)
            value = pkcs12.SecretBag({"secret_type_id": "1.2.840.113549.1.12.10.1.2", "secret_value": epki})
            millis = int((entry.created or datetime.now(UTC)).timestamp() * 1000)
            attrs = _bag_attributes(entry.label, f"Time {millis}".encode(), None)
            key_bags.append(pkcs12.SafeBag({"bag_id": "secret_bag", "bag_value": value,
                                            "bag_attributes": _loaded(attrs)}))
        elif entry.kind.is_certificate:
            cert_der = entry.chain[0].public_bytes(as_der)
            if chain_entries.get(cert_der) is not entry:
                cert_bags.append(_cert_bag(cert_der, _certificate_attributes(entry)))
        else:
            raise CapabilityError(entry.kind.value.replace("-", "_") + "s",
                                  f"PKCS#12 stores cannot hold {entry.kind.value} entries",
                                  store=location, label=entry.label)

    infos: list[Any] = []
    if key_bags:
        key_contents = der.tlv(0x30, b"".join(bag.dump() for bag in key_bags))
        infos.append(cms.ContentInfo({"content_type": "data", "content": core.OctetString(key_contents)}))
    if cert_bags:
        plain = der.tlv(0x30, b"".join(cert_bags))
        if password is None:
            infos.append(cms.ContentInfo({"content_type": "data", "content": core.OctetString(plain)}))
        else:
            alg_der, ciphertext = pbe.encrypt_with(profile.cert_scheme, plain, password,
                                                   iterations=profile.iterations,
                                                   salt_length=profile.salt_length)
            encrypted = cms.EncryptedData({
                "version": "v0",
                "encrypted_content_info": {
                    "content_type": "data",
                    "content_encryption_algorithm": cms.EncryptionAlgorithm.load(alg_der),
                    "encrypted_content": ciphertext,
                },
            })
            infos.append(cms.ContentInfo({"content_type": "encrypted_data", "content": encrypted}))
    safe_bytes = pkcs12.AuthenticatedSafe(infos).dump()
    pfx: dict[str, Any] = {"version": "v3",
                           "auth_safe": cms.ContentInfo({"content_type": "data",
                                                         "content": core.OctetString(safe_bytes)})}
    if password is not None:
        pfx["mac_data"] = _make_mac(safe_bytes, password, profile)
    return pkcs12.Pfx(pfx).dump()


def _kept_as_is(epki_der: bytes, profile: _WriteProfile) -> bool:
    """Whether a key bag read from the file may be written back unchanged: only when it is as strong as what the
    profile writes (its cipher family, and no fewer iterations). A rewrite upgrades a weaker one (1 iteration,
    a legacy cipher) instead of carrying it on."""
    from asn1crypto import keys

    if _scheme_family(epki_der) != profile.key_scheme:
        return False
    try:
        iterations = keys.EncryptedPrivateKeyInfo.load(epki_der)["encryption_algorithm"].kdf_iterations
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(iterations, int) and iterations >= profile.iterations


# Java's names for the algorithms of secret keys, by the OID its PKCS12KeyStore writes (sun.security.util.KnownOIDs).
_SECRET_ALGORITHMS = {"2.16.840.1.101.3.4.1": "AES", "1.3.14.3.2.17": "DESede", "1.2.840.113549.3.7": "DESede",
                      "1.3.14.3.2.7": "DES", "1.2.840.113549.2.7": "HmacSHA1", "1.2.840.113549.2.8": "HmacSHA224",
                      "1.2.840.113549.2.9": "HmacSHA256", "1.2.840.113549.2.10": "HmacSHA384",
                      "1.2.840.113549.2.11": "HmacSHA512", "1.2.840.113549.3.2": "RC2", "1.2.840.113549.3.4": "RC4"}
_SECRET_OIDS = {name.upper(): oid for oid, name in reversed(list(_SECRET_ALGORITHMS.items()))}


def _secret_key(pkcs8: bytes) -> SecretKey:
    """The SecretKey in a Java secret-key bag's PKCS#8: SEQUENCE { 0, AlgorithmIdentifier, OCTET STRING key }."""
    _, body, end = der.read(pkcs8)
    _, _, at = der.read(pkcs8, body, end)  # version
    tag, alg_start, at_value = der.read(pkcs8, at, end)
    _, oid_start, oid_end = der.read(pkcs8, alg_start, at_value)
    tag, value_start, value_end = der.read(pkcs8, at_value, end)
    if tag != 0x04:
        raise ValueError("a secret key bag without its key")
    dotted = _dotted(pkcs8[oid_start:oid_end])
    return SecretKey(_SECRET_ALGORITHMS.get(dotted, dotted), pkcs8[value_start:value_end])


def _dotted(content: bytes) -> str:
    from asn1crypto import core

    return core.ObjectIdentifier.load(der.tlv(0x06, content)).dotted


def _secret_pkcs8(secret: SecretKey, location: str, label: str) -> bytes:
    oid = _SECRET_OIDS.get(secret.algorithm.upper())
    if oid is None and _OID_LIST.match(secret.algorithm) and "," not in secret.algorithm:
        oid = secret.algorithm
    if oid is None:
        raise CapabilityError("secret_keys", f"PKCS#12 names a secret key's algorithm by OID, and none is known for "
                              f"'{secret.algorithm}'", store=location, label=label)
    algorithm = der.tlv(0x30, der.oid(oid) + (b"\x05\x00" if oid == "2.16.840.1.101.3.4.1" else b""))
    return der.tlv(0x30, der.integer(0) + algorithm + der.tlv(0x04, secret.value))


def _java_time(local_key_id: bytes | None) -> datetime | None:
    """keytool's localKeyId for a secret key is "Time <milliseconds>": its creation time."""
    if local_key_id and local_key_id.startswith(b"Time ") and local_key_id[5:].isdigit():
        with contextlib.suppress(OverflowError, OSError, ValueError):
            return datetime.fromtimestamp(int(local_key_id[5:]) / 1000, UTC)
    return None


def _certificate_attributes(entry: Entry) -> bytes | None:
    """A certificate entry's bag attributes: its label as friendlyName, and Java's trust attribute when trusted.
    A trust for no purpose (NSS's p,p,p) is no trust: no attribute, so Java does not take it as an anchor."""
    trust_oids = _oids_from_trust(entry.trust) if entry.trust is not None and entry.trust.purposes else None
    return _bag_attributes(entry.label, None, trust_oids)


def _chain_member_attributes(entry: Entry) -> bytes | None:
    """The bag attributes of a certificate entry written as a key pair's chain member: as `_certificate_attributes`,
    except that an untrusted one whose label is what reading derives from a bare bag (the common name) stays bare,
    so that an OpenSSL `-certfile` chain is written back as it was."""
    if entry.trust is None and entry.label == _common_name(entry.chain[0]):
        return None
    return _certificate_attributes(entry)


def _scheme_family(epki_der: bytes) -> str | None:
    """Which write scheme an EncryptedPrivateKeyInfo's algorithm belongs to, None for anything else."""
    from asn1crypto import keys

    try:
        algorithm = keys.EncryptedPrivateKeyInfo.load(epki_der)["encryption_algorithm"]
        oid = algorithm["algorithm"].dotted
        if oid == "1.2.840.113549.1.12.1.3":
            return "pkcs12-3des"
        if oid == "1.2.840.113549.1.5.13" and algorithm.encryption_cipher == "aes" and algorithm.key_length == 32:
            return "pbes2-aes256-" + (algorithm.kdf_hmac or "sha1")
    except (ValueError, KeyError, TypeError):
        pass
    return None


_CERT_BAG_OID = der.oid("1.2.840.113549.1.12.10.1.3")
_X509_CERT_OID = der.oid("1.2.840.113549.1.9.22.1")


def _cert_bag(cert_der: bytes, attrs: Any) -> bytes:
    """SafeBag { certBag, [0] CertBag { x509Certificate, [0] OCTET STRING cert }, attributes } as DER, written by
    hand: building it through asn1crypto was 90% of converting a 2,000-certificate store."""
    cert_bag = der.tlv(0x30, _X509_CERT_OID + der.tlv(0xA0, der.tlv(0x04, cert_der)))
    body = _CERT_BAG_OID + der.tlv(0xA0, cert_bag)
    if attrs is not None:
        body += attrs
    return der.tlv(0x30, body)


_FRIENDLY_NAME_OID = der.oid("1.2.840.113549.1.9.20")
_LOCAL_KEY_ID_OID = der.oid("1.2.840.113549.1.9.21")
_JAVA_TRUST_OID = der.oid("2.16.840.1.113894.746875.1.1")


def _bag_attributes(name: str | None, local_key_id: bytes | None, trust_oids: list[str] | None) -> bytes | None:
    """The bag's attribute SET as DER (friendlyName as BMPString, localKeyId, Java's trusted key usages); written
    by hand for the same reason as _cert_bag."""
    attributes = []
    if name:
        attributes.append(der.tlv(0x30, _FRIENDLY_NAME_OID + der.tlv(0x31, der.tlv(0x1E, name.encode("utf-16-be")))))
    if local_key_id is not None:
        attributes.append(der.tlv(0x30, _LOCAL_KEY_ID_OID + der.tlv(0x31, der.tlv(0x04, local_key_id))))
    if trust_oids is not None:
        values = b"".join(der.oid(dotted) for dotted in trust_oids)
        attributes.append(der.tlv(0x30, _JAVA_TRUST_OID + der.tlv(0x31, values)))
    return der.tlv(0x31, b"".join(attributes)) if attributes else None


def _loaded(attributes: bytes | None) -> Any:
    """Hand-written attributes as the asn1crypto object a key bag (built with asn1crypto) takes."""
    from asn1crypto import pkcs12

    return None if attributes is None else pkcs12.Attributes.load(attributes)


def _make_mac(content: bytes, password: str, profile: _WriteProfile) -> Any:
    from asn1crypto import pkcs12

    from keystores.legacy import bmp_password, pkcs12_kdf

    salt = os.urandom(profile.mac_salt_length)
    size = hashlib.new(profile.mac_hash).digest_size
    key = pkcs12_kdf(bmp_password(password), salt, 3, profile.mac_iterations, size, profile.mac_hash)
    digest = hmac.new(key, content, profile.mac_hash).digest()
    return pkcs12.MacData({"mac": {"digest_algorithm": {"algorithm": profile.mac_hash}, "digest": digest},
                           "mac_salt": salt, "iterations": profile.mac_iterations})
