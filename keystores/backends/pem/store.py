"""PemStore: opening a PEM or DER file (or several PEM/DER files read as one bundle), editing, protection.

Options: `der_key=True` makes a DER store write a key pair's private key instead of its certificate; `also=[paths]`
(reading only) reads those files too. Reading is reading.py's functions: a file's bytes to entries by lazy_read.py
where the file is in one of the everyday shapes it reads without decoding, else by read.py's functions, which decode
every object with cryptography (and document how a file becomes entries); reading.py holds what both readers (and
the writer's checks) share: a certificate's decoding, a key's loading, the password, OpenSSL's traditional
encryption. Writing is write.py's functions. Each is imported when used, not with the store (a speed device, issue
15): a listing loads no writer, and one lazy_read.py reads, or an export or convert into a new file, no decoder
(~50 KB of bytecode), no PEM parser and no reading half.
"""

from __future__ import annotations

import os

from keystores.backends.base import FileStore
from keystores.errors import CapabilityError, UnsupportedFormat, UsageError
from keystores.limits import KdfBudget
from keystores.model import (
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
    Protection,
    ProtectionPart,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar

    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

#: How a key written or read without a password is protected: not at all.
UNENCRYPTED = ProtectionPart("none (unencrypted)", absent=True)

PEM_CAPABILITIES = Capabilities(private_keys=True, secret_keys=False, trust=False, default_flag=False,
                                pending_requests=True, multiple_entries=True, labels=False, bare_keys=True,
                                undecoded_entries=True)
DER_CAPABILITIES = Capabilities(private_keys=True, secret_keys=False, trust=False, default_flag=False,
                                pending_requests=True, multiple_entries=False, labels=False, bare_keys=True,
                                undecoded_entries=True)


class PemStore(FileStore):
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

    # --- reading (reading.py) ---------------------------------------------------------------------------------
    def _load(self, data: bytes) -> None:
        from keystores.backends.pem import reading

        reading.load(self, data)

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
        checking = () if entry.undecoded_chain is not None else entry.chain
        if checking or entry.request is not None:
            from keystores.backends.pem.reading import checked  # (an entry held as DER needs none: start-up)

            for cert in checking:
                checked(self, cert, f"the certificate of entry '{entry.label}'")
            if entry.request is not None:
                checked(self, entry.request, f"the request of entry '{entry.label}'")

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
