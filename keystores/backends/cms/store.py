"""IBM GSKit CMS key databases: the .kdb with its companions .rdb (pending requests), .crl and .sth (stash).

Reads format versions 3, 4 and 6 and every private-key encryption GSKit, z/OS gskkyman and IBM's Java tooling
write; writes as GSKit does: untouched records stay byte for byte, a changed record is removed and appended
with the next record id, keys are encrypted with the version's native scheme, and the .rdb/.crl/.sth are
rewritten with the database when the password changes.

Options (open_store(**options)): `cms_version=3|4|6` for a new database (4 by default, as GSKit's FIPS mode
writes; 6 as gskcapicmd does); `stash=True` writes a stash beside a new database; `stash_version=1|8`.
"""

from __future__ import annotations

from keystores import paths
from keystores.backends.base import FileStore
from keystores.backends.cms import container as fmt
from keystores.backends.cms import stash as cms_stash
from keystores.backends.cms.records import _INTEGRITY_ALGORITHMS, NATIVE_KEY_PROTECTION, _Record
from keystores.errors import (
    CapabilityError,
    Hint,
    PasswordRequired,
    UsageError,
    WrongPassword,
)
from keystores.lazy_entries import made_entry
from keystores.lightweight import suppress
from keystores.limits import KdfBudget
from keystores.model import (
    TRUST_ALL,
    Capabilities,
    Entry,
    EntryKind,
    Protection,
    ProtectionPart,
    Trust,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

    from cryptography import x509


class CmsStore(FileStore):
    """A GSKit CMS key database (.kdb) and its companions beside it."""

    format: ClassVar[str] = "cms"
    capabilities: ClassVar[Capabilities] = Capabilities(default_flag=True, pending_requests=True, stash=True)
    protection_remedy: ClassVar[Hint] = Hint("; a v6 database is HMAC-SHA384 and AES-256 ({})",
                                             option="`keystores convert STORE new.kdb --kdb-version 6`",
                                             keyword="keystores.convert(store, 'new.kdb', "
                                                     "dest_options={'cms_version': 6})")

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern", cms_version: int = 4, stash: bool = False,
                 stash_version: int = 8) -> None:
        kdb = paths.normal(location)
        # the companions' names, as str(Path(location).with_suffix(...)) spells them
        self.rdb_path = paths.with_suffix(kdb, ".rdb")
        self.crl_path = paths.with_suffix(kdb, ".crl")
        self.stash_path = paths.with_suffix(kdb, ".sth")
        if cms_version not in fmt.CHECK_SIZE:
            raise UsageError(f"cms_version must be 3, 4 or 6, not {cms_version}", store=location)
        if stash_version not in (1, 8):
            raise UsageError("stash_version must be 1 or 8", store=location)
        self._new_version = cms_version
        self._stash_on_create = stash
        self._stash_version = stash_version
        self._records: list[_Record] = []
        self._kdb: fmt.Container | None = None
        self._rdb: fmt.Container | None = None
        self._originals: dict[str, bytes] = {}
        self._crl: bytes | None = None
        self._rekey = False
        self._pending_stash: int | None = None
        self._key_schemes: set[ProtectionPart] = set()
        self._skipped = 0
        self._lazy_leaves: list[bytes] = []  # the certificates of key pairs read lazily (read._lazy_entry)
        self._lazy_chains: dict[bytes, tuple[x509.Certificate, ...]] | None = None  # their chains, by that DER
        self._lazy_chain_ders: dict[bytes, tuple[bytes, ...]] | None = None  # their chains' DER, where read so
        self._chain_labels: set[str] = set()  # signer records made from a key pair's chain this session
        self._kdf_budget = KdfBudget()  # keys are charged when their records are read, decrypted when first used
        used_stash = False
        self._loaded_password = password or ""
        if not create:
            from keystores.fileread import finish_interrupted_commit

            finish_interrupted_commit(kdb)  # a killed writer's .kdb/.rdb/.sth commit, before any of them is read
        if password is None and not create and paths.is_file(self.stash_path):
            from keystores.fileread import read_bytes

            password = cms_stash.decode(read_bytes(self.stash_path), store=self.stash_path)
            self._loaded_password = password
            used_stash = True
        if password is None:
            raise PasswordRequired("a password is needed (and no stash file sits beside the database)",
                                   store=location)
        if create and not password:
            raise UsageError("a CMS key database needs a non-empty password", store=location)
        try:
            super().__init__(location, password=password, writable=writable, create=create, profile=profile)
        except WrongPassword as exc:
            if used_stash:
                raise WrongPassword(f"the password in the stash file {paths.name(self.stash_path)} does not open the "
                                    "database (stale stash?)", store=location) from exc
            raise
        if used_stash:
            self.notes.append(f"{location}: password taken from the stash file {self.stash_path}")
        if self._skipped:
            self.notes.append(f"{location}: {self._skipped} record(s) of a type we do not know are kept as they "
                              "are but not listed")

    # --- reading -------------------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        assert self._kdb is not None
        return self._kdb.version

    def _load(self, data: bytes) -> None:
        # the reading half, imported only when a database is read: making a new one loads no reader (start-up)
        from keystores.backends.cms.read import load

        load(self, data)

    def _init_new(self) -> None:
        version = self._new_version
        self._kdb = fmt.Container(version, fmt.KIND_KEYS, fmt.TAG_KDB, fmt.DEFAULT_SLOT, fmt.new_salt(), [])
        self._rdb = fmt.Container(version, fmt.KIND_OTHER, fmt.TAG_RDB, fmt.DEFAULT_SLOT, fmt.new_salt(), [])
        # GSKit creates an empty .crl beside every new database; nothing else ever fills it.
        crl = fmt.Container(version, fmt.KIND_OTHER, fmt.TAG_CRL, fmt.DEFAULT_SLOT, fmt.new_salt(), [])
        self._crl = fmt.build_container(crl, self.password or "")
        if self._stash_on_create:
            self._pending_stash = self._stash_version
        elif paths.is_file(self.stash_path):
            # Replacing a database (convert with force=True): a stash left beside it must hold the new password.
            with suppress(OSError):
                self._pending_stash = cms_stash.version_of(_read(self.stash_path)) or 8

    def _write(self) -> None:
        # the writing half, imported only when the database is written: a read loads no writer (start-up)
        from keystores.backends.cms.write import write_database

        write_database(self)

    # --- editing -------------------------------------------------------------------------------------------
    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if entry.on_token:  # asked without opening a sealed key (which is never a token's)
            raise CapabilityError("extractable_keys", "the key is held on a token; a CMS database stores the key "
                                  "itself", store=self.location, label=entry.label)
        if entry.kind is EntryKind.REQUEST and (entry.request is None or entry.key is None):
            raise UsageError("a pending request needs its CSR and its private key", store=self.location,
                             label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        """Add as GSKit imports: a key pair's issuer certificates not yet present become signer records.

        An entry added later with the same certificate takes the place of a signer made from a chain this
        session (a CA's own key pair, or the CA under its own label).
        """
        self._chain_labels &= set(self._entries)  # forget ones removed or renamed since
        # compared by their DER (as cryptography's certificates compare): adding decodes no certificate (start-up)
        chain = entry.chain_der() if entry.kind is EntryKind.KEY_PAIR or entry.kind.is_certificate else ()
        displaced = {label: self._entries[label] for label in self._chain_labels
                     if chain and _leaf_der(self._entries[label]) == chain[0]}
        for label in displaced:
            del self._entries[label]
        try:
            super().add(entry, replace=replace)
        except BaseException:
            self._entries.update(displaced)
            raise
        for label in displaced:
            self._chain_labels.discard(label)
            self.notes[:] = [n for n in self.notes if f"signer certificate '{label}' from" not in n]
        self._chain_labels.discard(entry.label)
        if entry.kind is EntryKind.KEY_PAIR:
            present = {_leaf_der(e) for e in self._entries.values()}
            for cert_der in chain[1:]:
                if cert_der in present:
                    continue
                from keystores.pki.labels import free_label  # only here: most writes add no signer (start-up)

                label = free_label(_cert_label(cert_der), self._entries)
                self._entries[label] = made_entry((cert_der,), label=label, kind=EntryKind.TRUSTED_CERT,
                                                  trust=TRUST_ALL)
                present.add(cert_der)
                self._chain_labels.add(label)
                self.notes.append(f"{self.location}: added signer certificate '{label}' from the chain of "
                                  f"'{entry.label}'")

    def set_trust(self, label: str, trust: Trust | None) -> None:
        """GSKit's -modify -trust on|off for a signer certificate: one bit, for all purposes or none."""
        self._check_trust(label, trust)
        self._require_writable()
        entry = self.get(label)
        if not entry.kind.is_certificate:
            raise UsageError("trust is set on signer (CA) certificates only", store=self.location, label=label)
        trusted = trust is not None and bool(trust.purposes)  # NSS's p,p,p (distrusted) is no trust
        self._entries[entry.label] = entry.with_(trust=TRUST_ALL if trusted else None)
        self._dirty = True

    def set_password(self, new_password: str) -> None:
        """Re-encrypt every key under the new password; the .rdb, .crl and an existing stash follow on save."""
        if not new_password:
            raise UsageError("a CMS key database needs a non-empty password", store=self.location)
        super().set_password(new_password)
        self._rekey = True
        if paths.is_file(self.stash_path) and self._pending_stash is None:
            with suppress(OSError):
                self._pending_stash = cms_stash.version_of(_read(self.stash_path)) or 8

    def write_stash(self, version: int = 8) -> str:
        """Write the stash file (on save): the database password in thin disguise, 0600. Returns its path."""
        self._require_writable()
        if version not in (1, 8):
            raise UsageError("stash version must be 1 or 8", store=self.location)
        self._pending_stash = version
        self._dirty = True
        return self.stash_path

    def protection(self) -> Protection:
        assert self._kdb is not None
        version = self._kdb.version
        native = NATIVE_KEY_PROTECTION[version]
        keys = ProtectionPart.joined(self._key_schemes) if self._key_schemes else \
            native.__class__(native.text + " (native for new keys)", native.algorithms, native.iterations)
        found = {"format": ProtectionPart(f"GSKit CMS key database v{version}"),
                 "mac": ProtectionPart(fmt.INTEGRITY_NAME[version] + " (password check and integrity check)",
                                       _INTEGRITY_ALGORITHMS[version]),
                 "keys": keys}
        if paths.is_file(self.stash_path):
            with suppress(OSError):
                found["stash"] = ProtectionPart(f"v{cms_stash.version_of(_read(self.stash_path)) or '?'} "
                                                f"stash beside it ({cms_stash.WARNING})", ("stash obfuscation",))
        return self._protection(found)


def _read(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read()


def _leaf_der(entry: Entry) -> bytes | None:
    """The DER of an entry's certificate (a key pair's or a certificate entry's), None for other entries: as read
    while its chain is undecoded (keystores.lazy_entries), without linking or decoding the chain."""
    if not (entry.kind is EntryKind.KEY_PAIR or entry.kind.is_certificate):
        return None
    leaf = entry.undecoded_leaf
    if leaf is not None:
        return leaf
    chain = entry.chain_der()
    return chain[0] if chain else None


def _cert_label(cert_der: bytes) -> str:
    """The label GSKit gives a signer certificate taken from a chain: its subject's first common name, else the
    whole subject as RFC 4514 text; read from the DER by keystores.pki.shown where it reads the certificate (the
    same text cryptography gives), else from the certificate cryptography decodes."""
    from keystores.pki.shown import read_shown

    shown = read_shown(cert_der)
    if shown is not None:
        text = shown.common_name if shown.common_name is not None else shown.subject
        return text or "signer"
    from cryptography.x509.oid import NameOID

    from keystores.pki.certificates import decode_certificate

    cert = decode_certificate(cert_der)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    text = names[0].value if names else cert.subject.rfc4514_string()
    return str(text) or "signer"


__all__ = ["CmsStore"]
