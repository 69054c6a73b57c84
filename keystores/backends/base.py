"""What the backends share: an ordered in-memory entry table, capability checks, and the locked,
atomic read-modify-write cycle of a store that lives in files.

A file backend implements `_load(data: bytes)` (fill `self._entries`) and `_dump() -> bytes`; everything else
(labels, replace rules, default flag, save, locking) is here once.
"""

from __future__ import annotations

from keystores import paths
from keystores.errors import (
    REPLACE,
    CapabilityError,
    Hint,
    KeystoreError,
    UsageError,
)
from keystores.model import (
    MODERN_PROFILE_REMEDY,
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
    Protection,
    ProtectionPart,
    Trust,
    private_key_decrypter,
    private_key_signer,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path
    from typing import Any, ClassVar

    from keystores.fileio import folder_lock
    from keystores.keyspec import KeySpec
    from keystores.protocols import Decrypter, Signer


class BaseStore:
    """An ordered label -> Entry table with the protocol's editing rules."""

    format: ClassVar[str] = "base"
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: True when labels compare case-insensitively (JKS/JCEKS lower-case their aliases, as keytool does).
    case_insensitive_labels: ClassVar[bool] = False

    #: What makes this format's protection stronger when audit finds it weak (Protection.remedy).
    protection_remedy: ClassVar[Hint] = MODERN_PROFILE_REMEDY

    def __init__(self, location: str, *, writable: bool = False, profile: str = "modern") -> None:
        self.location = location
        self.writable = writable
        self.profile = profile
        self.notes: list[str] = []
        self._entries: dict[str, Entry] = {}
        self._dirty = False
        self._closed = False

    @classmethod
    def open(cls, location: str, *, password: str | None = None, writable: bool = False, create: bool = False,
             profile: str = "modern", format_name: str | None = None, **options: Any) -> BaseStore:
        """The one way `open_store` opens every backend: the options (checked by open_store against the format's
        record, keystores.formats) go to the constructor as keywords."""
        return cls(location, password=password, writable=writable, create=create,  # type: ignore[call-arg]
                   profile=profile, **options)

    # --- reading -------------------------------------------------------------------------------------------
    def entries(self) -> Iterator[Entry]:
        return iter(list(self._entries.values()))

    def labels(self) -> list[str]:
        return list(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        """`for entry in store`: the same as `store.entries()`."""
        return self.entries()

    def _key(self, label: str) -> str:
        return label.lower() if self.case_insensitive_labels else label

    def _lookup(self, label: str) -> str | None:
        """The label of the entry `label` names (as stored: JKS compares case-insensitively), or None. What an add or
        a rename asks of a label that is usually new: _find without an exception (EntryNotFound raised, caught and
        made for every entry an export or convert writes)."""
        if label in self._entries:
            return label
        if self.case_insensitive_labels:
            for existing in self._entries:
                if existing.lower() == label.lower():
                    return existing
        return None

    def _find(self, label: str) -> str:
        found = self._lookup(label)
        if found is None:
            from keystores.errors import EntryNotFound  # made on first use (keystores.errors._MADE_ON_USE)

            raise EntryNotFound(label, self._entries, store=self.location)
        return found

    def get(self, label: str) -> Entry:
        return self._entries[self._find(label)]

    def __len__(self) -> int:
        return len(self._entries)

    # --- editing -------------------------------------------------------------------------------------------
    def _require_writable(self) -> None:
        if not self.writable:
            raise UsageError("store was opened read-only", store=self.location)

    def check_entry(self, entry: Entry) -> None:
        """Raise CapabilityError when the format cannot hold `entry` as it is."""
        caps = self.capabilities
        if entry.kind is EntryKind.SECRET_KEY and not caps.secret_keys:
            raise CapabilityError("secret_keys", f"{self.format} stores cannot hold secret keys",
                                  store=self.location, label=entry.label)
        if entry.kind is EntryKind.KEY_PAIR and not caps.private_keys:
            raise CapabilityError("private_keys", f"{self.format} stores cannot hold private keys",
                                  store=self.location, label=entry.label)
        # a key still sealed as read is there and is no token's (checking it would cost its derivation: receive)
        if entry.kind is EntryKind.KEY_PAIR and not entry.sealed and entry.held_pkcs8() is None \
                and isinstance(entry.key, KeyRef) and not entry.key.extractable:
            raise CapabilityError("extractable_keys", "the private key is held on a token and cannot be copied "
                                  "out of it", store=self.location, label=entry.label)
        if entry.kind is EntryKind.REQUEST and not caps.pending_requests:
            raise CapabilityError("pending_requests", f"{self.format} stores cannot hold pending requests",
                                  store=self.location, label=entry.label)
        if entry.kind is EntryKind.KEY_PAIR and not entry.sealed and entry.held_pkcs8() is None and entry.key is None:
            raise UsageError("a key-pair entry needs its private key", store=self.location, label=entry.label)
        # undecoded_chain first: an entry keystores just made (lazy_entries.made_entry) is not decoded to be checked
        if entry.kind is EntryKind.KEY_PAIR and not (entry.undecoded_chain or entry.chain) and not caps.bare_keys:
            raise CapabilityError("bare_keys", f"{self.format} stores hold a private key only with its certificate, "
                                  "and this key has none", store=self.location, label=entry.label)
        if entry.kind.is_certificate and not (entry.undecoded_chain or entry.chain):
            raise UsageError("entry has no certificate", store=self.location, label=entry.label)
        if not entry.label:
            raise UsageError("an entry needs a non-empty label", store=self.location)
        self.check_decodable(entry)

    def check_decodable(self, entry: Entry) -> None:
        """CapabilityError when the entry holds a certificate or key cryptography could not decode (see
        keystores.pki.undecoded) and this format cannot store it as the bytes it is."""
        if self.capabilities.undecoded_entries:
            return
        from keystores.pki.shown import read_shown

        # A chain still held as DER is judged from it: a certificate keystores.pki.shown reads is one cryptography
        # decodes fully (tests/test_decodable_lean.py holds the two to the same verdicts), so decoding it would
        # import cryptography.x509 (~30 ms of an import into a .kdb, start-up, issue 15) to find nothing. Where
        # shown declines, the chain is decoded as before.
        ders = entry.undecoded_chain
        as_read = ders is not None and all(read_shown(der) is not None for der in ders)
        parts: list[tuple[str, object]] = [] if as_read else [("certificate", cert) for cert in entry.chain]
        if entry.kind is EntryKind.KEY_PAIR and entry.held_pkcs8() is None:  # a key it holds, cryptography loads
            parts.append(("private key", entry.key))
        if not parts:
            return
        from keystores.pki.undecoded import problem_of

        for what, part in parts:
            problem = problem_of(part)
            if problem is not None:
                raise CapabilityError("undecoded_entries", f"{self.format} stores take a {what} apart to store "
                                      f"it, and this one cannot be decoded: {problem}", store=self.location,
                                      label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        self._require_writable()
        self.check_entry(entry)
        entry = self._without_default(entry)
        if self.case_insensitive_labels and entry.label != entry.label.lower():
            entry = entry.with_(label=entry.label.lower())
        existing = self._lookup(entry.label)
        if existing is not None:
            if not replace:
                from keystores.errors import EntryExists  # made on first use (keystores.errors._MADE_ON_USE)

                raise EntryExists("an entry with this label exists", store=self.location, label=entry.label,
                                  hint=REPLACE)
            del self._entries[existing]
        if entry.default:
            self._clear_default()
        self._entries[entry.label] = entry
        self._dirty = True

    def _without_default(self, entry: Entry) -> Entry:
        """`entry` as this format can hold it: a default flag the format has no place for is refused with a note,
        never dropped silently (README: a default is kept or a note says why not)."""
        if not entry.default or self.capabilities.default_flag:
            return entry
        self.notes.append(f"{self.location}: {self.format} stores have no default entry; '{entry.label}' is "
                          "stored without the flag")
        return entry.with_(default=False)

    def _clear_default(self) -> None:
        for label, other in list(self._entries.items()):
            if other.default:
                self._entries[label] = other.with_(default=False)

    def set_default(self, label: str) -> None:
        """Make `label` the store's one default entry (GSKit's -setdefault); CapabilityError where the format has
        no default."""
        if not self.capabilities.default_flag:
            raise CapabilityError("default_flag", f"{self.format} stores have no default entry",
                                  store=self.location, label=label)
        self._require_writable()
        found = self._find(label)
        self._clear_default()
        self._entries[found] = self._entries[found].with_(default=True)
        self._dirty = True

    def set_trust(self, label: str, trust: Trust | None) -> None:
        """Trust a certificate entry for `trust`'s purposes, or (None) keep it present but untrusted: certutil -M
        -t, Java's trust attribute in PKCS#12, a JKS trustedCertEntry. A format that cannot say it refuses
        (CapabilityError): PEM has no trust flags, JKS holds trusted certificates only."""
        self._check_trust(label, trust)
        self._require_writable()
        entry = self.get(label)
        if not entry.kind.is_certificate:
            raise UsageError(f"trust is set on certificate entries, and this is a {entry.kind} entry",
                             store=self.location, label=label)
        self.add(entry.with_(trust=trust), replace=True)

    def _check_trust(self, label: str, trust: Trust | None) -> None:
        """CapabilityError when the format cannot hold `trust` as asked: no trust at all, or trust for some
        purposes where a format trusts for all or none (trust is never raised silently)."""
        if not self.capabilities.trust:
            raise CapabilityError("trust", f"{self.format} stores have no trust flags", store=self.location,
                                  label=label)
        if trust is not None and 0 < len(trust.purposes) < 4 and not self.capabilities.trust_purposes:
            raise CapabilityError("trust_purposes", f"{self.format} stores trust a certificate for every purpose "
                                  "or for none: give on or off", store=self.location, label=label)

    def remove(self, label: str) -> None:
        self._require_writable()
        del self._entries[self._find(label)]
        self._dirty = True

    def _remove_with_chain(self, label: str) -> None:
        """`remove` for formats whose untrusted chain certificates are entries only because the file lists them
        beside the key pair (PKCS#12, PEM): they go with the key pair unless another key pair's chain still holds
        them, as keytool -delete drops them. Trusted certificates stay. Certificates are compared as DER, as read
        where the backend still holds it (Entry.chain_der): a delete decodes no certificate (start-up speed)."""
        removed = self.get(label)
        BaseStore.remove(self, label)
        kept = {der for e in self._entries.values() if e.kind is EntryKind.KEY_PAIR for der in e.chain_der()[1:]}
        chain = set(removed.chain_der()[1:]) - kept
        for other in [e for e in self._entries.values() if e.kind is EntryKind.CERTIFICATE]:
            if other.chain_der()[0] in chain:
                del self._entries[other.label]

    def rename(self, old: str, new: str) -> None:
        self._require_writable()
        source = self._find(old)
        if self.case_insensitive_labels:
            new = new.lower()
        taken = self._lookup(new)
        if taken is not None and taken != source:
            from keystores.errors import EntryExists  # made on first use (keystores.errors._MADE_ON_USE)

            raise EntryExists("an entry with the new label exists", store=self.location, label=new)
        renamed = self._entries[source].with_(label=new)
        self._entries = {(new if k == source else k): (renamed if k == source else v)
                         for k, v in self._entries.items()}
        self._dirty = True

    def generate_key(self, label: str, spec: KeySpec) -> KeyRef:
        raise CapabilityError("key_generation", f"{self.format} stores do not make keys themselves; the key is "
                              "made on the host and stored with its certificate", store=self.location, label=label)

    def signer(self, label: str) -> Signer:
        entry = self.get(label)
        if isinstance(entry.key, KeyRef):
            if entry.key.signer is None:
                raise KeystoreError("this key cannot sign here", store=self.location, label=label)
            return entry.key.signer
        if entry.key is None:
            raise UsageError("entry has no private key to sign with", store=self.location, label=label)
        return private_key_signer(entry.key)

    def decrypter(self, label: str) -> Decrypter:
        entry = self.get(label)
        if isinstance(entry.key, KeyRef):
            if entry.key.decrypter is None:
                raise CapabilityError("decrypt", "this key cannot decrypt here (not RSA, or the token does not "
                                      "allow it)", store=self.location, label=label)
            return entry.key.decrypter
        if entry.key is None:
            raise UsageError("entry has no private key to decrypt with", store=self.location, label=label)
        return private_key_decrypter(entry.key)

    def set_password(self, new_password: str) -> None:
        raise CapabilityError("password", f"{self.format} stores have no password", store=self.location)

    @property
    def uses_password(self) -> bool:
        """Whether the store's password opens or protects anything in it (most formats: always)."""
        return True

    def protection(self) -> Protection:
        """How the store protects itself, part by part, for `show` and `audit` (nothing, by default: a store that
        lives in memory)."""
        return self._protection({})

    def _protection(self, parts: dict[str, ProtectionPart]) -> Protection:
        return Protection(parts, remedy=self.protection_remedy)

    def expect_write(self, *, new_keys: int = 0) -> None:
        """A hint before a save that writes `new_keys` private keys anew (certreq, selfsign): a store whose write
        derives keys may start those derivations now, beside the caller's work (PKCS#12 does: Pkcs12Store). Most
        stores have nothing to start."""

    def write_stash(self, version: int = 8) -> str:
        """Write the store's password stash beside it on save (a CMS .sth) and return its path (a str, as the
        backends spell paths: `keystores stash` imports no pathlib); CapabilityError where the format keeps no
        stash."""
        raise CapabilityError("stash", f"{self.format} stores have no stash file (only CMS key databases do)",
                              store=self.location)

    def take_encoded(self) -> bytes:
        """The store as the bytes its file would hold, taken instead of saving them: what was changed is not
        written (export to stdout). CapabilityError for a store that is no single file."""
        raise CapabilityError("encoded", f"{self.format} stores are not one file that can be written to stdout",
                              store=self.location)

    # --- lifecycle -----------------------------------------------------------------------------------------
    def save(self) -> None:
        """Write the store if anything changed. Subclasses that are files implement `_write`."""
        if not self.writable or not self._dirty:
            return
        self._write()
        self._dirty = False

    def _write(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._closed = True

    def __enter__(self) -> BaseStore:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self.save()
        finally:
            self.close()


class KeyOpening:
    """A sealed key's two ways out (keystores.lazy_entries.sealed_entry's `unseal` and `held`): `key` loads it as
    the backend does (`load`, over the bytes `decrypt` gives); `held` gives its PKCS#8 as keystores.pki.pkcs8 writes
    it, from the decrypted bytes where it can (an EC key on a curve it knows, checked by libcrypto), else None. Either
    decrypts, raising what opening the key raises, and once: `held` keeps the decrypted bytes for `key`. So a write
    that carries a key to another store, or under a new password (convert, passwd), loads no cryptography for it
    (start-up speed); keystores.backends.pkcs12.read._KeyOpening does the same for PKCS#12's key bags."""

    __slots__ = ("_decrypt", "_decrypted", "_held", "_load")

    def __init__(self, decrypt: Callable[[], bytes], load: Callable[[bytes], Any]) -> None:
        self._decrypt, self._load = decrypt, load
        self._held: list[bytes | None] = []
        self._decrypted: bytes | None = None  # what `held` decrypted: `key` loads it

    def key(self) -> Any:
        plain, self._decrypted = self._decrypted, None
        return self._load(self._decrypt() if plain is None else plain)

    def held(self) -> bytes | None:
        if not self._held:
            from keystores.pki.held_pkcs8 import pkcs8_of_ec_der

            plain = self._decrypt()
            self._held.append(pkcs8_of_ec_der(plain))
            self._decrypted = plain
        return self._held[0]


class FileStore(BaseStore):
    """A store that is one file (PKCS#12, JKS, JCEKS, PEM): read, edit in memory, write back atomically.

    A writable store holds the folder lock from before the read until close, so concurrent writers serialise.
    """

    private_file: ClassVar[bool] = True  # new files are 0600: they may hold keys

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        super().__init__(location, writable=writable, profile=profile)
        self.file = paths.normal(location)  # str(Path(location)): what is read, locked and written
        self.password = password
        self._lock: folder_lock | None = None
        if writable:
            from keystores.fileio import folder_lock

            self._lock = folder_lock(self.file)
            self._lock.__enter__()  # held until close()
        try:
            if create:
                self._dirty = True
                self._init_new()
            else:
                from keystores.fileread import read_bytes

                self._load(read_bytes(self.file))
        except BaseException:
            self.close()
            raise

    def _pkcs8(self, entry: Entry) -> bytes:
        """The entry's private key as PKCS#8: from a sealed PKCS#12 key's decrypted bytes without loading it
        (Entry.held_pkcs8), else written by keystores.pki.pkcs8, byte for byte as cryptography writes it, without
        importing cryptography's serialization package (start-up speed: convert and import into BKS/BCFKS, JKS,
        JCEKS and CMS, passwd of them)."""
        held = entry.held_pkcs8()
        if held is not None:
            return held
        from keystores.pki.pkcs8 import pkcs8_der

        key = entry.key
        try:
            return pkcs8_der(key)
        except (AttributeError, ValueError, TypeError) as exc:
            raise CapabilityError("private_keys", f"cannot store a {type(key).__name__} in {self.format.upper()}",
                                  store=self.location, label=entry.label) from exc

    @property
    def path(self) -> Path:
        """The store's file as a Path (`file` is its str, which the backends use: no pathlib on opening)."""
        from pathlib import Path

        return Path(self.file)

    def _init_new(self) -> None:
        """Prepare an empty store (the default does nothing)."""

    def _load(self, data: bytes) -> None:
        raise NotImplementedError

    def _dump(self) -> bytes:
        raise NotImplementedError

    def _write(self) -> None:
        from keystores.fileio import atomic_write

        atomic_write(self.file, self._dump(), private=self.private_file)

    def take_encoded(self) -> bytes:
        encoded = self._dump()
        self._dirty = False  # taken, not saved: the file (if any) stays as it was
        return encoded

    def set_password(self, new_password: str) -> None:
        self._require_writable()
        self.password = new_password
        self._dirty = True

    def close(self) -> None:
        if self._lock is not None:
            lock, self._lock = self._lock, None
            lock.__exit__(None, None, None)
        super().close()
