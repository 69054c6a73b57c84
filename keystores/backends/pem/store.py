"""PEM and DER files as key stores: certificates, CA bundles, private keys (PKCS#8, PKCS#1, SEC1, encrypted) and
certificate requests.

Reading is tolerant of what other tools leave around PEM blocks ("Bag Attributes", "subject=" / "issuer=" lines,
comments, CRLF line endings, blank lines, junk between blocks). Writing produces clean PEM (or one DER object).

How a file becomes entries (PEM has no entries of its own, so this is our documented mapping):
- a private key + the certificate whose public key matches -> KEY_PAIR; its chain is the leaf followed by the
  certificates in the file that chain up from it (issuer name AND signature checked, see keystores.chain);
- a private key + a matching certificate request (and no certificate) -> REQUEST holding both; a request alone ->
  REQUEST without a key;
- an unnamed certificate that is a key pair's chain member is also an entry of its own: CERTIFICATE (trust None:
  a chain trusts nothing by being there), labelled as below, one per certificate however many chains hold it;
  deleting the key pair removes it unless another key pair's chain holds it (keytool -delete's rule);
- every other certificate -> TRUSTED_CERT with trust TRUST_ALL: PEM has no trust flags, and a PEM bundle of CAs is
  what users mean by a truststore. The one exception is read: OpenSSL's "TRUSTED CERTIFICATE" block (`openssl x509
  -trustout`), whose trusted/rejected purposes become the Trust and whose alias the label. The writer writes plain
  certificates only, so writing a certificate whose trust is None or partial adds a note to `notes`;
- a private key that matches no certificate or request is not an entry (an entry needs a certificate or a request):
  it is kept in `loose_keys`, named in `notes`, and written back when the file is rewritten.

Labels: PEM has none, so they are derived: a "friendlyName" in the Bag Attributes before a block wins, else the
certificate's (or request's) common name, else its first subject attribute, else "cert-" + fingerprint prefix;
duplicates get "-2", "-3" in file order. The writer adds a "Bag Attributes / friendlyName" line (as `openssl pkcs12
-nodes` does, and which every PEM reader skips) only where the derived label would differ from the entry's label, or
where a trusted certificate could otherwise be mistaken for part of a key pair's chain: a CA bundle whose labels are
the CAs' names stays pure PEM.

DER holds exactly one object: a certificate, a private key or a request (reading also accepts a DER PKCS#7
certificate bundle). Writing more than one entry, or a key pair whose chain has more than the leaf, is a
CapabilityError; a key pair is written as its certificate (the note says the key stayed out) unless the store was
opened with `der_key=True`, which writes the private key (PKCS#8) instead.

Keys are written as PKCS#8, encrypted with the store password when there is one (PBES2, PBKDF2-HMAC-SHA256,
AES-256-CBC, as cryptography's BestAvailableEncryption writes it; both profiles: every OpenSSL since 1.0 and Java 8+
read it); without a password they are written in the clear and the file is made 0600, even if it existed with a
wider mode. Encrypted keys are read in every scheme seen in the wild: the traditional "Proc-Type: 4,ENCRYPTED"
form (AES-128/192/256, 3DES, DES) and PKCS#8 (cryptography's loader, then keystores.pbe for PKCS#12 PBE, PBES1,
RC2...). All keys of a file are opened with the one store password.

The bytes decide between PEM and DER whatever the type asked for; the file is written back in the spelling read.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from keystores.backends.base import FileStore
from keystores.backends.pem.parse import _is_pem
from keystores.backends.pem.read import PemReading, _Item, _scrypt_parameters
from keystores.backends.pem.write import PemWriting
from keystores.errors import (
    CapabilityError,
    UnsupportedFormat,
    UsageError,
)
from keystores.limits import KdfBudget
from keystores.model import (
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

PEM_CAPABILITIES = Capabilities(private_keys=True, secret_keys=False, trust=False, default_flag=False,
                                pending_requests=True, multiple_entries=True, labels=False, bare_keys=True,
                                undecoded_entries=True)
DER_CAPABILITIES = Capabilities(private_keys=True, secret_keys=False, trust=False, default_flag=False,
                                pending_requests=True, multiple_entries=False, labels=False, bare_keys=True,
                                undecoded_entries=True)


class PemStore(PemReading, PemWriting, FileStore):
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
            format_name = "der" if Path(location).suffix.lower() == ".der" else "pem"
        if format_name not in ("pem", "der"):
            raise UsageError(f"PemStore reads pem or der, not {format_name}")
        self._set_format(format_name)
        self.der_key = der_key
        #: Private keys that match no certificate or request: not entries, but written back on save.
        self.loose_keys: list[PrivateKeyTypes] = []
        self._key_protection: set[str] = set()
        self._encrypted_pkcs8: list[bytes] = []  # described lazily by protection(): asn1crypto only when asked
        self._has_keys = False
        self._encrypted_keys_read = False
        self._kdf_budget = KdfBudget()
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

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
        chain across them as in one bundle (`import --key k.pem --cert c.pem --chain ca.pem`).

        Read in memory: no bundle is written anywhere (a clear key must not sit in a temporary file), and an error
        names the file, and the line of the block, where it is."""
        from keystores.fileio import read_bytes

        store = cls(paths[0], password=password, writable=False, create=True, format_name="pem")
        store._dirty = False
        items: list[_Item] = []
        for path in paths:
            data = read_bytes(path)
            store.location = path  # what the decoders' errors and notes name
            if not data.strip():
                raise UnsupportedFormat("file is empty", store=path)
            items += store._decode(data, pem=_is_pem(data), first=items[-1].position + 1 if items else 0)
        store.location = paths[0]
        store._assemble(items)
        return store

    # --- editing -------------------------------------------------------------------------------------------
    def remove(self, label: str) -> None:
        self._remove_with_chain(label)

    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if isinstance(entry.key, KeyRef):
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
        # cryptography decodes certificates lazily: a damaged key or name would only fail while writing
        for cert in entry.chain:
            self._checked(cert, f"the certificate of entry '{entry.label}'")
        if entry.request is not None:
            self._checked(entry.request, f"the request of entry '{entry.label}'")

    def _check_fits_der(self, entry: Entry) -> None:
        if len(entry.chain) > 1:
            raise CapabilityError("multiple_entries", f"a DER file holds one object; this entry has "
                                  f"{len(entry.chain)} certificates (leaf + chain): write PEM or PKCS#12 instead",
                                  store=self.location, label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        if self.format == "der":
            others = [label for label in self._entries if not (replace and label == entry.label)]
            if others or self.loose_keys:
                held = ", ".join(repr(label) for label in others) or "a private key"
                raise CapabilityError("multiple_entries", f"a DER file holds one object and already holds {held}; "
                                      "write PEM or PKCS#12 for several", store=self.location, label=entry.label)
        super().add(entry, replace=replace)

    def protection(self) -> dict[str, str]:
        described = set(self._key_protection)
        if self._encrypted_pkcs8:
            from asn1crypto import keys

            from keystores import pbe

            for der in self._encrypted_pkcs8:
                if _scrypt_parameters(der) is not None:
                    described.add("PBES2 scrypt")
                    continue
                try:
                    described.add(pbe.describe(keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]))
                except (ValueError, KeyError, TypeError):
                    described.add("unknown")
        return {"keys": "; ".join(sorted(described))} if described else {}
