"""PemStore: opening a PEM or DER file (or several PEM/DER files read as one bundle), editing, protection.

Options: `der_key=True` makes a DER store write a key pair's private key instead of its certificate; `also=[paths]`
(reading only) reads those files too. Reading is the PemReading base below: a file's bytes to entries by
lazy_read.py where the file is in one of the everyday shapes it reads without decoding, else by read.py's functions,
which decode every object with cryptography (and document how a file becomes entries); PemReading holds what both
readers (and the writer's checks) share: a certificate's decoding, a key's loading, the password, OpenSSL's
traditional encryption. Writing is write.py's functions. Each is imported when used, not with the store (a speed
device, issue 15): a listing loads no writer, and one lazy_read.py reads, or an export or convert into a new file,
no decoder (~50 KB of bytecode) and no PEM parser.
"""

from __future__ import annotations

import os
import sys

from keystores.backends.base import FileStore
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
)
from keystores.limits import KdfBudget
from keystores.model import (
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
    Protection,
    ProtectionPart,
    describe_key,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar

    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from keystores.backends.pem.parse import _Block

#: How a key written or read without a password is protected: not at all.
UNENCRYPTED = ProtectionPart("none (unencrypted)", absent=True)

# OpenSSL's traditional encrypted-PEM ciphers -> (keystores.crypto.kdf cipher name, key size, block size).
_LEGACY_PEM_CIPHERS = {"AES-128-CBC": ("aes", 16, 16), "AES-192-CBC": ("aes", 24, 16), "AES-256-CBC": ("aes", 32, 16),
                       "DES-EDE3-CBC": ("tripledes", 24, 8), "DES-CBC": ("des", 8, 8)}


_DEK_INFO = r"^[A-Za-z0-9-]+,[0-9A-Fa-f]+$"  # what dek_info_sound accepts (tests/test_pem.py holds it to it)
_CIPHER_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_HEX_CHARACTERS = frozenset("0123456789ABCDEFabcdef")


def dek_info_sound(value: str) -> bool:
    """Whether a DEK-Info header is a cipher's name and a hexadecimal IV, as re.match(_DEK_INFO, value) says, by
    string tests: listing a traditional encrypted key needs no `re` (start-up)."""
    cipher, comma, iv = value.removesuffix("\n").partition(",")  # ($ matches before a final newline too)
    return bool(comma and cipher and iv) and _CIPHER_NAME_CHARACTERS.issuperset(cipher) \
        and _HEX_CHARACTERS.issuperset(iv)


def _evp_bytes_to_key(password: bytes, salt: bytes, size: int) -> bytes:
    """OpenSSL's EVP_BytesToKey with MD5 and one iteration, as the traditional encrypted PEM form derives keys: by
    cryptography where it is loaded, else by hashlib (listing such a key loads no cryptography, lazy_read.py; either
    way one OpenSSL is loaded, not two)."""
    if "cryptography.hazmat.bindings._rust" in sys.modules:
        from cryptography.hazmat.primitives import hashes

        def md5(data: bytes) -> bytes:
            digest = hashes.Hash(hashes.MD5())
            digest.update(data)
            return digest.finalize()
    else:
        import hashlib

        def md5(data: bytes) -> bytes:
            return hashlib.md5(data, usedforsecurity=False).digest()

    derived, previous = b"", b""
    while len(derived) < size:
        previous = md5(previous + password + salt)
        derived += previous
    return derived[:size]


class PemReading:
    """The reading half of PemStore: file bytes -> entries (lazy_read.py, else read.py's decoders)."""

    def _load(self, data: bytes) -> None:
        try:
            self._load_objects(data)
        except BaseException as exc:  # cryptography's Rust code can panic on hostile input (PanicException)
            if type(exc).__name__ != "PanicException":
                raise
            raise CorruptStore("is damaged (cryptography could not parse it)", store=self.location) from None

    def _load_objects(self, data: bytes) -> None:
        # The bytes decide between the two spellings (`type="pem"` on a DER file, or the reverse, just works);
        # the store is then written back in the spelling it was read in.
        from keystores.backends.pem.parse import _is_pem, split_pem  # here: an export into a new file parses nothing

        is_pem = _is_pem(data)
        if is_pem != (self.format == "pem") and data.strip():
            self._set_format("pem" if is_pem else "der")
        if self.format != "pem":
            if not self.writable:
                from keystores.backends.pem.lazy_read import read_der_lazily

                if read_der_lazily(self, data):  # a certificate: not decoded yet
                    return
            from keystores.backends.pem import read

            read.assemble_decoded(self, lambda: read.decode(self, data, pem=False))
            return
        skipped: list[str] = []
        blocks = split_pem(data, self.location, skipped)
        if not skipped and not self.writable:
            from keystores.backends.pem.lazy_read import read_lazily

            if read_lazily(self, blocks):  # a key with its certificate, or certificates: none decoded yet
                return
        from keystores.backends.pem import read

        read.assemble_decoded(self, lambda: read.decode_blocks(self, blocks, skipped, blank=not data.strip()))

    def _certificate(self, der: bytes, where: str) -> Any:
        """The certificate in `der`; one cryptography refuses in part is a RawCertificate (see keystores.pki.undecoded),
        bytes that are no certificate at all are damage."""
        from keystores.pki.certificates import decode_certificate
        from keystores.pki.undecoded import RawCertificate

        cert = decode_certificate(der)
        if isinstance(cert, RawCertificate) and cert.parsed is None:
            raise CorruptStore(f"{where} is not a valid certificate", store=self.location)
        return cert

    def _checked(self, obj: Any, where: str) -> Any:
        """`obj` once the parts cryptography decodes lazily (key, names, dates) are known to decode."""
        from cryptography.exceptions import UnsupportedAlgorithm

        from keystores.pki.undecoded import RawCertificate

        if isinstance(obj, RawCertificate):
            return obj  # written back byte for byte: nothing in it needs decoding

        from keystores.pki.certificates import fully_decoded

        try:
            obj.public_key()
        except UnsupportedAlgorithm as exc:
            raise UnsupportedFormat(f"{where} has a public key of a type we do not read", store=self.location) \
                from exc
        except ValueError as exc:
            raise CorruptStore(f"{where} has a damaged public key", store=self.location) from exc
        try:
            return fully_decoded(obj)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise CorruptStore(f"{where} is damaged ({exc.__class__.__name__} while decoding it)",
                               store=self.location) from exc

    def _maybe_key(self, der: bytes) -> PrivateKeyTypes | None:
        """The key in `der` (an UndecodedPrivateKey for a sound PKCS#8 of a type cryptography does not load)."""
        from keystores.pki.undecoded import load_private_key

        try:
            return load_private_key(der)  # type: ignore[no-any-return]
        except (ValueError, TypeError):
            return None

    def _need_password(self, where: str) -> str:
        self._encrypted_keys_read = True
        if not self.password:
            raise PasswordRequired(f"{where} is an encrypted private key; give the password", store=self.location)
        return self.password

    def _legacy_plain(self, block: _Block) -> bytes:
        """read._decrypt_legacy's decrypted DER (its protection recorded), b"" where the padding is wrong; raises for a
        damaged header or data, a cipher not read here, or no password. lazy_read.py reads the key from it too."""
        from keystores.crypto.pbe import cbc_decrypt

        dek_info = block.headers.get("DEK-Info", "")
        if not dek_info_sound(dek_info):
            raise CorruptStore(f"{block.where} has a damaged DEK-Info header", store=self.location)
        cipher, _, iv_hex = dek_info.partition(",")
        cipher = cipher.upper()
        if cipher not in _LEGACY_PEM_CIPHERS:
            raise UnsupportedFormat(f"{block.where} is encrypted with {cipher}, which we do not read",
                                    store=self.location)
        name, key_size, block_size = _LEGACY_PEM_CIPHERS[cipher]
        iv = bytes.fromhex(iv_hex) if len(iv_hex) % 2 == 0 else b""
        if len(iv) != block_size or not block.der or len(block.der) % block_size:
            raise CorruptStore(f"{block.where} is damaged (IV or data length does not fit {cipher})",
                               store=self.location)
        password = self._need_password(block.where)
        family = {"aes": f"AES-{key_size * 8}", "tripledes": "3DES", "des": "DES"}[name]
        self._key_protection.add(ProtectionPart(f"legacy PEM encryption {cipher} (MD5 key derivation, 1 iteration)",
                                                ("EVP_BytesToKey", "MD5", family), 1))
        key = _evp_bytes_to_key(password.encode("utf-8"), iv[:8], key_size)
        return cbc_decrypt(name, key, iv, block.der) or b""

    def _keep_loose_key(self, key: PrivateKeyTypes) -> None:
        """A private key that matches no certificate or request: kept, and named in a note (lazy_read.py too)."""
        self.loose_keys.append(key)
        self._loose_key_note(describe_key(key.public_key()))

    def _keep_loose_key_unloaded(self, load: Callable[[], PrivateKeyTypes], key_type: str) -> None:
        """_keep_loose_key of a key of `key_type` (describe_key's words) known to load, loaded on first use of
        `loose_keys` (lazy_read.py: listing it loads no cryptography)."""
        self._loose_key_loaders.append(load)
        self._loose_key_note(key_type)

    def _loose_key_note(self, key_type: str) -> None:
        self.notes.append(f"{self.location}: holds a private key ({key_type}) that matches no certificate or "
                          "request; it is not an entry, but it is kept when the file is rewritten")



PEM_CAPABILITIES = Capabilities(private_keys=True, secret_keys=False, trust=False, default_flag=False,
                                pending_requests=True, multiple_entries=True, labels=False, bare_keys=True,
                                undecoded_entries=True)
DER_CAPABILITIES = Capabilities(private_keys=True, secret_keys=False, trust=False, default_flag=False,
                                pending_requests=True, multiple_entries=False, labels=False, bare_keys=True,
                                undecoded_entries=True)


class PemStore(PemReading, FileStore):
    """A PEM file (any number of certificates, keys and requests) or a DER file (exactly one object).

    Options: `der_key=True` makes a DER store write a key pair's private key instead of its certificate;
    `also=[paths]` (reading only) reads those files too, as one bundle (see from_files).
    See the module docstring for how blocks map to entries and labels.
    """

    format: ClassVar[str] = "pem"
    capabilities: ClassVar[Capabilities] = PEM_CAPABILITIES

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern", format_name: str | None = None, der_key: bool = False) -> None:
        if format_name is None:
            format_name = "der" if os.path.splitext(location)[1].lower() == ".der" else "pem"
        if format_name not in ("pem", "der"):
            raise UsageError(f"PemStore reads pem or der, not {format_name}")
        self._set_format(format_name)
        self.der_key = der_key
        self._loose_keys: list[PrivateKeyTypes] = []
        self._loose_key_loaders: list[Callable[[], PrivateKeyTypes]] = []  # lazy_read.py's, loaded on first use
        self._key_protection: set[ProtectionPart] = set()
        self._encrypted_pkcs8: list[bytes] = []  # described lazily by protection(): asn1crypto only when asked
        self._has_keys = False
        self._encrypted_keys_read = False
        self._kdf_budget = KdfBudget()
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    @property
    def loose_keys(self) -> list[PrivateKeyTypes]:
        """Private keys that match no certificate or request: not entries, but written back on save. A key listed
        without cryptography (keystores.backends.pem.lazy_read) is loaded here, on first use."""
        if self._loose_key_loaders:
            self._loose_keys += [load() for load in self._loose_key_loaders]
            self._loose_key_loaders.clear()
        return self._loose_keys

    @property
    def uses_password(self) -> bool:
        """A PEM or DER file has no password of its own: only encrypted keys in it use one (read or written)."""
        return self._encrypted_keys_read or bool(self._has_keys and self.password)

    def _set_format(self, format_name: str) -> None:
        self.format = format_name  # type: ignore[misc]
        self.capabilities = DER_CAPABILITIES if format_name == "der" else PEM_CAPABILITIES  # type: ignore[misc]

    @classmethod
    def open(cls, location: str, *, password: str | None = None, writable: bool = False, create: bool = False,
             profile: str = "modern", format_name: str | None = None, **options: Any) -> PemStore:
        der_key = bool(options.pop("der_key", False))
        also = list(options.pop("also", None) or [])
        if also and not (writable or create):  # read-only: several files as one bundle, see from_files
            if options:
                raise UsageError(f"pem/der stores take no option(s) {', '.join(sorted(options))}")
            return cls.from_files([location, *also], password=password)
        if options or also:
            raise UsageError(f"pem/der stores take no option(s) {', '.join(sorted(options))}")
        return cls(location, password=password, writable=writable, create=create, profile=profile,
                   format_name=format_name, der_key=der_key)

    @classmethod
    def from_files(cls, paths: list[str], *, password: str | None = None) -> PemStore:
        """One read-only store of the objects of several PEM or DER files, a key paired with its certificate and
        chain across them as in one bundle (ops.transfer.import_pem_parts; CLI `import --key k.pem --cert c.pem --chain
        ca.pem`).

        Read in memory: no bundle is written anywhere (a clear key must not sit in a temporary file), and an error
        names the file, and the line of the block, where it is."""
        from keystores.backends.pem import read
        from keystores.backends.pem.parse import _is_pem
        from keystores.fileread import read_bytes

        store = cls(paths[0], password=password, writable=False, create=True, format_name="pem")
        store._dirty = False
        items: list[read._Item] = []
        for path in paths:
            data = read_bytes(path)
            store.location = path  # what the decoders' errors and notes name
            if not data.strip():
                raise UnsupportedFormat("file is empty", store=path)
            items += read.decode(store, data, pem=_is_pem(data), first=items[-1].position + 1 if items else 0)
        store.location = paths[0]
        read.assemble(store, items)
        return store

    # --- writing (write.py) ----------------------------------------------------------------------------------
    def _dump(self) -> bytes:
        from keystores.backends.pem import write

        return write.dump(self)

    def _write(self) -> None:
        from keystores.backends.pem import write

        write.write(self)

    # --- editing -------------------------------------------------------------------------------------------
    def remove(self, label: str) -> None:
        self._remove_with_chain(label)

    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if entry.held_pkcs8() is None and isinstance(entry.key, KeyRef):  # a key held as PKCS#8 is no token's
            raise CapabilityError("extractable_keys", "the private key is held on a token; a PEM/DER file can only "
                                  "hold a key it can write out", store=self.location, label=entry.label)
        if entry.kind is EntryKind.REQUEST and entry.request is None:
            raise UsageError("a request entry needs its certificate request", store=self.location,
                             label=entry.label)
        if self.format == "pem" and (entry.label != entry.label.strip() or any(ch in entry.label for ch in "\r\n")):
            raise UsageError("PEM labels cannot start or end with spaces or hold line breaks", store=self.location,
                             label=entry.label)
        if self.format == "der":
            self._check_fits_der(entry)
        # cryptography decodes certificates lazily: a damaged key or name would only fail while writing. A chain
        # still held as DER (Entry.chain_der) is written byte for byte, as a RawCertificate is: not decoded.
        for cert in () if entry.undecoded_chain is not None else entry.chain:
            self._checked(cert, f"the certificate of entry '{entry.label}'")
        if entry.request is not None:
            self._checked(entry.request, f"the request of entry '{entry.label}'")

    def _check_fits_der(self, entry: Entry) -> None:
        length = len(entry.chain_der())
        if length > 1:
            raise CapabilityError("multiple_entries", f"a DER file holds one object; this entry has "
                                  f"{length} certificates (leaf + chain): write PEM or PKCS#12 instead",
                                  store=self.location, label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        if self.format == "der":
            others = [label for label in self._entries if not (replace and label == entry.label)]
            if others or self.loose_keys:
                held = ", ".join(repr(label) for label in others) or "a private key"
                raise CapabilityError("multiple_entries", f"a DER file holds one object and already holds {held}; "
                                      "write PEM or PKCS#12 for several", store=self.location, label=entry.label)
        super().add(entry, replace=replace)

    def protection(self) -> Protection:
        described = set(self._key_protection)
        if self._encrypted_pkcs8:
            from keystores.crypto import pbe
            from keystores.crypto.pbe_params import common, encrypted_private_key_info

            for der in self._encrypted_pkcs8:
                found = encrypted_private_key_info(der)
                if found is not None and common(found[0]) is not None:  # read from the DER: asn1crypto's import
                    described.add(ProtectionPart(*pbe.scheme(found[0])))  # costs more than a show (start-up)
                    continue
                from asn1crypto import keys

                from keystores.backends.pem.read import _scrypt_parameters

                if _scrypt_parameters(der) is not None:
                    described.add(ProtectionPart("PBES2 scrypt", ("PBES2", "scrypt")))
                    continue
                try:
                    scheme = pbe.scheme(keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"])
                except (ValueError, KeyError, TypeError):
                    scheme = pbe.Scheme("unknown", (), None)
                described.add(ProtectionPart(*scheme))
        return self._protection({"keys": ProtectionPart.joined(described)} if described else {})
