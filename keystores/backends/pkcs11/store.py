"""PKCS#11 tokens (HSMs, smart cards, SoftHSM2) as a store, addressed by RFC 7512 URIs.

    pkcs11:token=LABEL?module-path=/usr/lib/softhsm/libsofthsm2.so     (or module=..., or $KEYSTORES_PKCS11_MODULE)

How objects become entries (the Java SunPKCS11 / NSS convention):
- a private key, its public key and certificate(s) share CKA_ID (and CKA_LABEL): one KEY_PAIR entry whose key is
  a KeyRef (a token Signer inside) for a sensitive or non-extractable key, or the plain key when the token lets
  it out. The chain is the certificate plus issuers found on the token by name.
- a private key without a certificate yet is a KEY_PAIR with an empty chain; its public key is entry.public_key.
- a certificate without a key is a TRUSTED_CERT when trusted: CKA_TRUSTED, or CKA_CERTIFICATE_CATEGORY "authority"
  (what we write: a user session may not set CKA_TRUSTED); else a CERTIFICATE (kind "certificate"), issuer
  certificates serving a key pair's chain included, as pkcs11-tool -O lists every certificate object.
- labels that repeat get "#<hex id>" appended so every entry has its own label (never written to the token).
- secret keys, data objects and public keys without their private key are not entries; a note says they exist.
The user PIN is the store password; one login attempt per open. Writes go to the token at once (PKCS#11 has
no transactions): save() does nothing, each add() removes what it created if it fails half-way, and a store
left by an error or an interrupt (its `with` block ending in an exception) destroys every object it created since
it was opened, so that a failed command leaves the token as it was and a rerun works. New objects
get CKA_ID = SHA-1 of the modulus/point; replace=True never destroys a private key (remove() does).
Open options: module=PATH.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from keystores.backends.base import BaseStore
from keystores.backends.pkcs11.keys import (
    TokenDecrypter,
    TokenSigner,
    key_id_for,
    private_key_from_attributes,
    private_key_template,
    public_key_from_attributes,
    public_key_template,
)
from keystores.backends.pkcs11.tokens import (
    describe_error,
    find_token,
    load_module,
    missing_for,
    resolve_module,
    session_closed,
    session_opened,
)
from keystores.backends.pkcs11.uri import Pkcs11Uri
from keystores.errors import (
    CapabilityError,
    EntryExists,
    KeystoreError,
    PasswordRequired,
    UsageError,
    WrongPassword,
)
from keystores.model import TRUST_ALL, Capabilities, Entry, EntryKind, KeyRef, KeySpec

CATEGORY_UNSPECIFIED, CATEGORY_TOKEN_USER, CATEGORY_AUTHORITY = 0, 1, 2
_KEY_ATTRIBUTES = ("KEY_TYPE", "ID", "LABEL", "MODULUS", "PUBLIC_EXPONENT", "EC_PARAMS", "EC_POINT",
                   "SENSITIVE", "EXTRACTABLE")
_SECRET_ATTRIBUTES = ("PRIVATE_EXPONENT", "PRIME_1", "PRIME_2", "EXPONENT_1", "EXPONENT_2", "COEFFICIENT", "VALUE")


@dataclass
class _Cert:
    obj: Any
    cert: Any  # x509.Certificate
    der: bytes
    key_id: bytes
    label: str
    trusted: bool


@dataclass
class _Group:
    """The token objects behind one entry."""

    label: str  # the entry label: CKA_LABEL, made unique with "#<hex id>" when labels repeat
    key_id: bytes
    native_label: str = ""  # CKA_LABEL as the token holds it
    private: Any = None
    public: Any = None
    private_attrs: dict[Any, Any] = field(default_factory=dict)
    public_attrs: dict[Any, Any] = field(default_factory=dict)
    certs: list[_Cert] = field(default_factory=list)

    def objects(self) -> list[Any]:
        return [o for o in (self.private, self.public) if o is not None] + [c.obj for c in self.certs]


class Pkcs11Store(BaseStore):
    """One token, logged in with the store password as user PIN; see the module docstring for the mapping."""

    format: ClassVar[str] = "pkcs11"
    capabilities: ClassVar[Capabilities] = Capabilities(private_keys=True, extractable_keys=False,
                                                        secret_keys=False, trust=True, key_generation=True,
                                                        pin=True, bare_keys=True)

    @classmethod
    def open(cls, location: str, *, password: str | None = None, writable: bool = False, create: bool = False,
             profile: str = "modern", format_name: str | None = None, **options: Any) -> Pkcs11Store:
        module = options.pop("module", None)
        if options:
            raise UsageError(f"pkcs11 stores take the option module=, not {', '.join(sorted(options))}",
                             store=location)
        return cls(location, password=password, writable=writable, module=module, profile=profile)

    def __init__(self, location: str, *, password: str | None, writable: bool = False, module: str | None = None,
                 profile: str = "modern") -> None:
        super().__init__(location, writable=writable, profile=profile)
        self.uri = Pkcs11Uri.parse(location)
        self.module_path = resolve_module(self.uri.module_path, self.uri.module_name, module, store=location)
        self._lib = load_module(self.module_path, store=location)
        self._session: Any = None
        self._made: list[Any] = []  # objects created since open, destroyed again if the command fails
        self._groups: dict[str, _Group] = {}
        self._chain_only_certs: list[_Cert] = []
        self._token = find_token(self._lib, self.module_path, label=self.uri.token, serial=self.uri.serial,
                                 store=location)
        self.token_label = self._token.label.strip()
        self._mechanisms = self._token.slot.get_mechanisms()
        self._pin = password
        self._login(password)
        try:
            self._scan()
        except BaseException:
            self.close()
            raise

    # --- session -------------------------------------------------------------------------------------------
    def _login(self, pin: str | None) -> None:
        from pkcs11 import PKCS11Error, TokenFlag
        from pkcs11 import exceptions as ck

        needs_login = bool(self._token.flags & TokenFlag.LOGIN_REQUIRED)
        if pin is None and (needs_login or self.writable):
            raise PasswordRequired(f"token '{self.token_label}' needs its user PIN: give --password SOURCE",
                                   store=self.location)
        mapper = _attribute_mapper()
        try:
            # One C_Login per open: a wrong PIN is reported at once, never retried (tokens lock after a few).
            self._session = self._token.open(rw=self.writable, user_pin=pin, attribute_mapper=mapper)
        except ck.UserAlreadyLoggedIn:
            # Login state is per process: another store of ours holds it already.
            self._session = self._token.open(rw=self.writable, attribute_mapper=mapper)
        except (ck.PinIncorrect, ck.PinLenRange, ck.PinInvalid) as exc:
            raise WrongPassword(f"wrong user PIN for token '{self.token_label}' (one attempt made; tokens lock "
                                "the PIN after a few wrong ones)", store=self.location) from exc
        except ck.PinLocked as exc:
            raise WrongPassword(f"the user PIN of token '{self.token_label}' is locked; the security officer "
                                "must reset it", store=self.location) from exc
        except ck.UserPinNotInitialized as exc:
            raise KeystoreError(f"token '{self.token_label}' has no user PIN yet; initialise it first",
                                store=self.location) from exc
        except ck.TokenWriteProtected as exc:
            raise KeystoreError(f"token '{self.token_label}' is write-protected", store=self.location) from exc
        except PKCS11Error as exc:
            raise KeystoreError(f"cannot open a session on token '{self.token_label}' ({describe_error(exc)})",
                                store=self.location) from exc
        session_opened(self.module_path)

    def close(self) -> None:
        if self._session is not None:
            with contextlib.suppress(Exception):
                self._session.close()
            self._session = None
            session_closed(self.module_path)
        super().close()

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is not None and self._session is not None:
                self._roll_back()
        finally:
            super().__exit__(exc_type, exc, tb)

    def _roll_back(self) -> None:
        """Destroy what this store created since it was opened (the command failed: it must change nothing)."""
        import warnings

        from pkcs11 import PKCS11Error

        made, self._made = self._made, []
        left = 0
        for obj in reversed(made):
            try:
                obj.destroy()
            except PKCS11Error as exc:
                left += not isinstance(exc, _gone_errors())
        if left:
            warnings.warn(f"{self.location}: {left} object(s) this command created could not be removed from "
                          f"token '{self.token_label}'", stacklevel=2)

    def save(self) -> None:
        """Nothing to do: every change was written to the token when it was made."""

    def _write(self) -> None:
        """Never called: see save()."""

    def protection(self) -> dict[str, str]:
        token = self._token
        return {"token": f"{self.token_label} ({token.manufacturer_id.strip()} {token.model.strip()})",
                "keys": "held on the token; sensitive keys are used there and never exported"}

    # --- reading -------------------------------------------------------------------------------------------
    def _scan(self) -> None:
        """Read every certificate and key object and pair them by CKA_ID."""
        from pkcs11 import Attribute, ObjectClass, PKCS11Error

        groups: dict[bytes, _Group] = {}
        try:
            for cls_, slot_name in ((ObjectClass.PRIVATE_KEY, "private"), (ObjectClass.PUBLIC_KEY, "public")):
                for obj in self._session.get_objects({Attribute.CLASS: cls_}):
                    attrs = obj.get_attributes([getattr(Attribute, a) for a in _KEY_ATTRIBUTES])
                    key_id = bytes(attrs.get(Attribute.ID, b""))
                    label = attrs.get(Attribute.LABEL, "") or ""
                    group_key = key_id or b"label:" + label.encode()
                    group = groups.setdefault(group_key, _Group(label=label, key_id=key_id))
                    if slot_name == "private":
                        group.private, group.private_attrs = obj, attrs
                        group.label = label or group.label
                    else:
                        group.public, group.public_attrs = obj, attrs
                        group.label = group.label or label
            certs = [self._read_cert(obj) for obj in self._session.get_objects({Attribute.CLASS:
                                                                                 ObjectClass.CERTIFICATE})]
            unlisted = {what: sum(1 for _ in self._session.get_objects({Attribute.CLASS: cls_}))
                        for what, cls_ in (("secret key(s)", ObjectClass.SECRET_KEY),
                                           ("data object(s)", ObjectClass.DATA))}
        except PKCS11Error as exc:
            raise KeystoreError(f"cannot read the objects of token '{self.token_label}' ({describe_error(exc)})",
                                store=self.location) from exc
        standalone: list[_Cert] = []
        for cert in filter(None, certs):
            group_key = cert.key_id or b"label:" + cert.label.encode()
            group = groups.get(group_key)
            if group is not None and (group.private is not None or group.public is not None):
                group.certs.append(cert)
                group.label = cert.label or group.label
            else:
                standalone.append(cert)
        key_groups = [g for g in groups.values() if g.private is not None]
        unlisted["public key(s) without their private key"] = sum(
            1 for g in groups.values() if g.private is None and g.public is not None)
        if any(unlisted.values()):
            note = (f"token '{self.token_label}' also holds " + ", ".join(f"{n} {what}" for what, n in
                                                                     unlisted.items() if n)
                    + ", which keystores does not list")
            if note not in self.notes:
                self.notes.append(note)
        # Public keys without a private key are not entries of their own (as in Java); their certs are.
        for group in groups.values():
            if group.private is None:
                standalone.extend(group.certs)
        all_certs = [c for g in key_groups for c in g.certs] + standalone
        chains = {id(g): self._chain(g, all_certs) for g in key_groups}
        members = [c.cert for chain in chains.values() for c in chain]
        # An untrusted certificate that issued a member of a key pair's chain is part of that chain; it is also an
        # entry of its own (kind "certificate"), as pkcs11-tool -O lists it. A second copy of an issuer (same name
        # and key) counts too. Writing treats these as chain certificates (no duplicates, replaced by an entry).
        self._chain_only_certs = [c for c in standalone if not c.trusted and any(
            m.issuer == c.cert.subject and m.subject != m.issuer and _issued_by(m, c.cert) for m in members)]
        cert_groups = [_Group(label=c.label, key_id=c.key_id, certs=[c]) for c in standalone]
        self._groups = {}
        self._entries = {}
        for group in sorted(key_groups + cert_groups, key=lambda g: (g.label, g.key_id)):
            label = self._unique_label(group)
            group.native_label, group.label = group.label, label
            self._groups[label] = group
            self._entries[label] = self._entry(group, chains.get(id(group)))

    def _unique_label(self, group: _Group) -> str:
        base = group.label or (f"id-{group.key_id.hex()}" if group.key_id else "unlabelled")
        if base not in self._groups:
            return base
        suffix = group.key_id.hex() or hashlib.sha1(group.certs[0].der).hexdigest()[:16]
        label, n = f"{base}#{suffix}", 1
        while label in self._groups:
            n += 1
            label = f"{base}#{suffix}-{n}"
        return label

    def _read_cert(self, obj: Any) -> _Cert | None:
        from pkcs11 import Attribute


        attrs = obj.get_attributes([Attribute.VALUE, Attribute.ID, Attribute.LABEL, Attribute.TRUSTED,
                                    Attribute.CERTIFICATE_CATEGORY, Attribute.CERTIFICATE_TYPE])
        der = bytes(attrs.get(Attribute.VALUE, b""))
        if not der or int(attrs.get(Attribute.CERTIFICATE_TYPE, 0)) != 0:  # CKC_X_509 only
            return None
        from keystores.chain import decode_certificate
        from keystores.undecoded import RawCertificate

        cert = decode_certificate(der)
        if isinstance(cert, RawCertificate) and cert.parsed is None:  # bytes that are no certificate at all
            note = (f"a certificate object labelled '{attrs.get(Attribute.LABEL, '')}' does not hold a readable "
                    "X.509 certificate; skipped")
            if note not in self.notes:
                self.notes.append(note)
            return None
        trusted = bool(attrs.get(Attribute.TRUSTED)) or attrs.get(Attribute.CERTIFICATE_CATEGORY) == \
            CATEGORY_AUTHORITY
        return _Cert(obj=obj, cert=cert, der=der, key_id=bytes(attrs.get(Attribute.ID, b"")),
                     label=attrs.get(Attribute.LABEL, "") or _cn(cert), trusted=trusted)

    def _chain(self, group: _Group, all_certs: list[_Cert]) -> list[_Cert]:
        """The group's newest certificate, then its issuers found on the token by name (and signature)."""
        if not group.certs:
            return []
        leaf = max(group.certs, key=lambda c: c.cert.not_valid_before_utc)
        chain = [leaf]
        while len(chain) < 10:
            current = chain[-1].cert
            if current.issuer == current.subject:
                break
            candidates = [c for c in all_certs if c.cert.subject == current.issuer and c not in chain]
            verified = [c for c in candidates if _issued_by(current, c.cert)]
            if not (verified or candidates):
                break
            chain.append((verified or candidates)[0])
        return chain

    def _entry(self, group: _Group, chain: list[_Cert] | None) -> Entry:
        if group.private is None:
            cert = group.certs[0]
            return Entry(label=group.label, kind=EntryKind.TRUSTED_CERT, chain=(cert.cert,),
                         trust=TRUST_ALL if cert.trusted else None)
        return Entry(label=group.label, kind=EntryKind.KEY_PAIR, chain=tuple(c.cert for c in chain or []),
                     key=self._key_of(group, chain))

    def _key_of(self, group: _Group, chain: list[_Cert] | None) -> Any:
        from pkcs11 import Attribute, PKCS11Error

        attrs = group.private_attrs
        sensitive = bool(attrs.get(Attribute.SENSITIVE, True))
        extractable = bool(attrs.get(Attribute.EXTRACTABLE, False))
        if extractable and not sensitive:
            try:
                values = group.private.get_attributes([getattr(Attribute, a) for a in _SECRET_ATTRIBUTES])
            except PKCS11Error:
                values = {}
            plain = private_key_from_attributes({**attrs, **values})
            if plain is not None:
                return plain
        public = (public_key_from_attributes(group.public_attrs) if group.public is not None else None) \
            or public_key_from_attributes(attrs) or (chain[0].cert.public_key() if chain else None)
        signer = TokenSigner(group.private, public, self._mechanisms, where=self.location, label=group.label) \
            if public is not None else None
        decrypter = TokenDecrypter(group.private, public, where=self.location, label=group.label) \
            if _is_rsa(public) and attrs.get(Attribute.DECRYPT, True) else None
        # KeyRef.extractable means "its plaintext can leave the token"; a sensitive but wrappable key cannot.
        return KeyRef(label=group.label, key_id=group.key_id, public_key=public, signer=signer,
                      sensitive=sensitive, extractable=extractable and not sensitive, decrypter=decrypter)

    def entries(self) -> Iterator[Entry]:
        return iter([e for e in self._entries.values() if self._in_view(e.label)])

    def labels(self) -> list[str]:
        return [label for label in self._entries if self._in_view(label)]

    def _in_view(self, label: str) -> bool:
        """The URI's object=/id=/type= narrow what is listed (get() still finds every entry)."""
        group = self._groups[label]
        if self.uri.object is not None and group.label != self.uri.object:
            return False
        if self.uri.id is not None and group.key_id != self.uri.id:
            return False
        if self.uri.type in ("private", "public"):
            return group.private is not None
        if self.uri.type == "cert":
            return bool(group.certs)
        return True

    # --- writing -------------------------------------------------------------------------------------------
    def check_entry(self, entry: Entry) -> None:
        """Like BaseStore's, but a key may come without a certificate, and a KeyRef of this token is welcome."""
        if not entry.label:
            raise UsageError("an entry needs a non-empty label", store=self.location)
        if entry.kind is EntryKind.SECRET_KEY:
            raise CapabilityError("secret_keys", "keystores does not write secret keys to PKCS#11 tokens",
                                  store=self.location, label=entry.label)
        if entry.kind is EntryKind.REQUEST:
            raise CapabilityError("pending_requests", "a token holds keys and certificates, not pending requests; "
                                  "the key of a request is already on the token", store=self.location,
                                  label=entry.label)
        if entry.kind is EntryKind.KEY_PAIR and entry.key is None:
            raise UsageError("a key-pair entry needs its private key", store=self.location, label=entry.label)
        if entry.kind.is_certificate and not entry.chain:
            raise UsageError("entry has no certificate", store=self.location, label=entry.label)
        self.check_decodable(entry)
        if entry.kind is EntryKind.KEY_PAIR and not isinstance(entry.key, KeyRef):
            from keystores.backends.pkcs11.keys import private_key_template

            try:  # a key type this writer does not lay out is refused here, before a transfer writes anything
                private_key_template(entry.key)
            except UsageError as exc:
                raise CapabilityError("private_keys", exc.reason, store=self.location, label=entry.label) from exc

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        """Write the entry's objects; if any write fails, the objects made so far are destroyed again. An interrupt
        waits until the entry is whole and its objects are remembered for a rollback."""
        from keystores.interrupts import shielded

        self._require_writable()
        self.check_entry(entry)
        with shielded():
            self._add(entry, replace)

    def _add(self, entry: Entry, replace: bool) -> None:
        from pkcs11 import PKCS11Error

        created: list[Any] = []
        try:
            if entry.kind.is_certificate:
                old = self._taken(entry.label, replace)
                key_id = key_id_for(entry.chain[0].public_key())
                trusted = entry.trust is not None
                self._write_cert(entry.chain[0], label=entry.label, key_id=key_id,
                                 category=CATEGORY_AUTHORITY if trusted else CATEGORY_UNSPECIFIED, created=created)
                from cryptography.hazmat.primitives import serialization

                der = entry.chain[0].public_bytes(serialization.Encoding.DER)
                # The same certificate kept so far only as an untrusted issuer becomes this entry: no duplicate.
                copies = [c.obj for c in self._chain_only_certs if c.der == der]
                if old is None and not copies:
                    # The common bulk case (a CA bundle): index the new object instead of re-reading the token.
                    self._index_cert(entry, created[-1], key_id, trusted)
                    self._made += created
                    return
                to_destroy = (old.objects() if old else []) + copies
            elif isinstance(entry.key, KeyRef):
                to_destroy = self._add_to_token_key(entry, replace, created)
            else:
                to_destroy = self._add_software_key(entry, replace, created)
        except PKCS11Error as exc:
            self._undo(created)
            raise KeystoreError(f"token '{self.token_label}' refused the write ({describe_error(exc)}); nothing "
                                "was changed", store=self.location, label=entry.label) from exc
        except BaseException:
            self._undo(created)
            raise
        self._made += created
        for obj in to_destroy:
            with contextlib.suppress(PKCS11Error):
                obj.destroy()
        self._scan()

    def _index_cert(self, entry: Entry, obj: Any, key_id: bytes, trusted: bool) -> None:
        from cryptography.hazmat.primitives import serialization

        cert = entry.chain[0]
        record = _Cert(obj=obj, cert=cert, der=cert.public_bytes(serialization.Encoding.DER), key_id=key_id,
                       label=entry.label, trusted=trusted)
        self._groups[entry.label] = _Group(label=entry.label, key_id=key_id, native_label=entry.label,
                                           certs=[record])
        self._entries[entry.label] = Entry(label=entry.label, kind=EntryKind.TRUSTED_CERT, chain=(cert,),
                                           trust=TRUST_ALL if trusted else None)

    def _taken(self, label: str, replace: bool, *, allow: _Group | None = None) -> _Group | None:
        group = self._groups.get(label)
        if group is None or group is allow:
            return None
        if not replace:
            raise EntryExists("an entry with this label exists (use --replace to overwrite it)",
                              store=self.location, label=label)
        if group.private is not None:
            # A token key cannot be restored once destroyed: replacing never does it, deleting does.
            raise EntryExists("this entry holds a private key on the token, which --replace never destroys; "
                              "delete the entry first if the key should go", store=self.location, label=label)
        return group

    def _undo(self, created: list[Any]) -> None:
        from pkcs11 import PKCS11Error

        for obj in reversed(created):
            with contextlib.suppress(PKCS11Error):
                obj.destroy()

    def _add_to_token_key(self, entry: Entry, replace: bool, created: list[Any]) -> list[Any]:
        """`receive`: a new certificate for a key already on this token, written with the key's CKA_ID."""
        ref = entry.key
        assert isinstance(ref, KeyRef)
        group = self._group_of(ref)
        if group is None:
            raise CapabilityError("extractable_keys", f"the private key '{ref.label}' is held on another token "
                                  "and cannot be copied out of it", store=self.location, label=entry.label)
        old = self._taken(entry.label, replace, allow=group)
        if entry.chain:
            from keystores.model import public_key_fingerprint

            if public_key_fingerprint(entry.chain[0].public_key()) != public_key_fingerprint(ref.public_key):
                raise UsageError("the certificate's public key is not the key's", store=self.location,
                                 label=entry.label)
            if group.certs and not replace:
                raise EntryExists("the key has a certificate already (use --replace to replace it)",
                                  store=self.location, label=entry.label)
            label = group.native_label if entry.label == group.label else entry.label
            self._write_chain(entry.with_(label=label or entry.label), group.key_id, created)
        if entry.label != group.label:
            self._relabel(group, entry.label)
        stale = [c.obj for c in group.certs] if entry.chain else []
        return stale + (old.objects() if old else [])

    def _group_of(self, ref: KeyRef) -> _Group | None:
        from keystores.model import public_key_fingerprint

        want = public_key_fingerprint(ref.public_key) if ref.public_key is not None else None
        for group in self._groups.values():
            if group.private is None or (ref.key_id and group.key_id != ref.key_id):
                continue
            entry_key = self._entries[group.label].public_key
            if want is None or (entry_key is not None and public_key_fingerprint(entry_key) == want):
                return group
        return None

    def _add_software_key(self, entry: Entry, replace: bool, created: list[Any]) -> list[Any]:
        from pkcs11 import Attribute, ObjectClass
        from pkcs11 import exceptions as ck

        key = entry.key
        public = key.public_key()  # type: ignore[union-attr]
        old = self._taken(entry.label, replace)
        key_id = key_id_for(public)
        for group in self._groups.values():
            if group.private is not None and group.key_id == key_id and group is not old:
                raise EntryExists(f"the token holds this key already, as entry '{group.label}'",
                                  store=self.location, label=entry.label)
        subject = entry.chain[0].subject.public_bytes() if entry.chain else None
        common = {Attribute.TOKEN: True, Attribute.ID: key_id, Attribute.LABEL: entry.label}
        if subject is not None:
            common[Attribute.SUBJECT] = subject
        template = {**private_key_template(key), **common, Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                    Attribute.PRIVATE: True, Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False,
                    Attribute.SIGN: True}
        try:
            created.append(self._session.create_object(template))
        except (ck.TemplateInconsistent, ck.TemplateIncomplete, ck.AttributeValueInvalid, ck.AttributeReadOnly,
                ck.AttributeTypeInvalid, ck.FunctionNotSupported, ck.FunctionRejected, ck.DomainParamsInvalid,
                ck.GeneralError) as exc:
            raise CapabilityError("private_keys", f"token '{self.token_label}' refuses to import a plaintext "
                                  f"private key ({describe_error(exc)}); make the key on the token "
                                  "(certreq/generate) or use the token's own wrapped-import tool",
                                  store=self.location, label=entry.label) from exc
        created.append(self._session.create_object({**public_key_template(public), **common,
                                                    Attribute.CLASS: ObjectClass.PUBLIC_KEY,
                                                    Attribute.PRIVATE: False, Attribute.VERIFY: True}))
        if entry.chain:
            self._write_chain(entry, key_id, created)
        return old.objects() if old else []

    def _write_chain(self, entry: Entry, key_id: bytes, created: list[Any]) -> None:
        """The leaf with the key's CKA_ID and label; issuers the token lacks as untrusted certificates."""
        self._write_cert(entry.chain[0], label=entry.label, key_id=key_id, category=CATEGORY_TOKEN_USER,
                         created=created)
        present = {c.der for g in self._groups.values() for c in g.certs} | {c.der for c in self._chain_only_certs}
        from cryptography.hazmat.primitives import serialization

        for issuer in entry.chain[1:]:
            der = issuer.public_bytes(serialization.Encoding.DER)
            if der in present:
                continue
            present.add(der)
            self._write_cert(issuer, label=_cn(issuer), key_id=key_id_for(issuer.public_key()),
                             category=CATEGORY_UNSPECIFIED, created=created)

    def _write_cert(self, cert: Any, *, label: str, key_id: bytes, category: int, created: list[Any]) -> None:
        from asn1crypto.core import Integer
        from cryptography.hazmat.primitives import serialization
        from pkcs11 import Attribute, CertificateType, ObjectClass

        from keystores.chain import serial_of

        created.append(self._session.create_object({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.LABEL: label, Attribute.ID: key_id,
            Attribute.SUBJECT: cert.subject.public_bytes(), Attribute.ISSUER: cert.issuer.public_bytes(),
            Attribute.SERIAL_NUMBER: Integer(serial_of(cert)).dump(),
            Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
            Attribute.CERTIFICATE_CATEGORY: category}))

    def _relabel(self, group: _Group, label: str) -> None:
        from pkcs11 import Attribute

        for obj in group.objects():
            obj[Attribute.LABEL] = label

    def remove(self, label: str) -> None:
        """Destroy the entry's key objects and certificate(s); issuer certificates stay."""
        from pkcs11 import PKCS11Error

        self._require_writable()
        group = self._groups[self._find(label)]
        try:
            for obj in group.objects():
                obj.destroy()
        except PKCS11Error as exc:
            raise KeystoreError(f"token '{self.token_label}' refused to delete ({describe_error(exc)})",
                                store=self.location, label=label) from exc
        finally:
            self._scan()

    def rename(self, old: str, new: str) -> None:
        """Set CKA_LABEL on the private key, public key and certificate(s) of the entry."""
        from pkcs11 import PKCS11Error

        self._require_writable()
        group = self._groups[self._find(old)]
        if not new:
            raise UsageError("an entry needs a non-empty label", store=self.location)
        if new in self._groups and self._groups[new] is not group:
            raise EntryExists("an entry with the new label exists", store=self.location, label=new)
        try:
            self._relabel(group, new)
        except PKCS11Error as exc:
            raise KeystoreError(f"token '{self.token_label}' refused to relabel ({describe_error(exc)})",
                                store=self.location, label=old) from exc
        finally:
            self._scan()

    def set_password(self, new_password: str) -> None:
        """Change the user PIN (C_SetPIN with the PIN this store was opened with)."""
        from pkcs11 import PKCS11Error
        from pkcs11 import exceptions as ck

        self._require_writable()
        try:
            self._session.set_pin(self._pin, new_password)
        except (ck.PinLenRange, ck.PinInvalid) as exc:
            raise UsageError(f"token '{self.token_label}' does not accept this new PIN (length or characters)",
                             store=self.location) from exc
        except PKCS11Error as exc:
            raise KeystoreError(f"token '{self.token_label}' refused to change the PIN ({describe_error(exc)})",
                                store=self.location) from exc
        self._pin = new_password

    # --- keys made on the token ----------------------------------------------------------------------------
    def generate_key(self, label: str, spec: KeySpec) -> KeyRef:
        """Make a sensitive, non-extractable key pair on the token; CKA_ID = SHA-1 of modulus/point."""
        from pkcs11 import Attribute, KeyType, Mechanism, PKCS11Error

        from keystores.backends.pkcs11.keys import CURVE_PARAMS, ED25519_PARAMS

        self._require_writable()
        if not label:
            raise UsageError("an entry needs a non-empty label", store=self.location)
        if label in self._groups:
            raise EntryExists("an entry with this label exists", store=self.location, label=label)
        lacking = missing_for(spec, self._token.slot, self._mechanisms)
        if lacking:
            from keystores.backends.pkcs11.tokens import key_types

            can = ", ".join(key_types(self._token.slot, self._mechanisms)) or "none of ours"
            raise CapabilityError("key_generation", f"token '{self.token_label}' cannot make {spec} keys: it "
                                  f"lacks {', '.join(lacking)} (it can make: {can})", store=self.location,
                                  label=label)
        provisional = hashlib.sha1(label.encode() + b"\0" + str(spec).encode()).digest()
        private_template = {Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
                            Attribute.EXTRACTABLE: False, Attribute.SIGN: True}
        public_template: dict[Any, Any] = {Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.VERIFY: True}
        from keystores.interrupts import shielded

        try:
            if spec.algorithm == "rsa":
                key_type, size, mechanism = KeyType.RSA, spec.size, None
            elif spec.algorithm == "ec":
                key_type, size, mechanism = KeyType.EC, None, Mechanism.EC_KEY_PAIR_GEN
                public_template[Attribute.EC_PARAMS] = CURVE_PARAMS[spec.curve]
            else:
                key_type, size, mechanism = KeyType.EC_EDWARDS, None, Mechanism.EC_EDWARDS_KEY_PAIR_GEN
                public_template[Attribute.EC_PARAMS] = ED25519_PARAMS
            with shielded():  # made and remembered for a rollback, never one without the other
                public, private = self._session.generate_keypair(
                    key_type, size, id=provisional, label=label, store=True, mechanism=mechanism,
                    public_template=public_template, private_template=private_template)
                self._made += [public, private]
        except PKCS11Error as exc:
            raise KeystoreError(f"token '{self.token_label}' could not make a {spec} key ({describe_error(exc)})",
                                store=self.location, label=label) from exc
        public_key = public_key_from_attributes(public.get_attributes(
            [Attribute.KEY_TYPE, Attribute.MODULUS, Attribute.PUBLIC_EXPONENT, Attribute.EC_PARAMS,
             Attribute.EC_POINT]))
        if public_key is not None:
            # Same CKA_ID convention as imported keys, so NSS/Java/OpenSC pair a later certificate with it.
            with contextlib.suppress(PKCS11Error):
                final = key_id_for(public_key)
                private[Attribute.ID] = final
                public[Attribute.ID] = final
        self._scan()
        entry = self._entries[label]
        assert isinstance(entry.key, KeyRef)
        return entry.key


def _gone_errors() -> tuple[type[Exception], ...]:
    """The errors of destroying an object that is no longer there (removed again by the same command)."""
    from pkcs11 import exceptions as ck

    return (ck.ObjectHandleInvalid,)


def _attribute_mapper() -> Any:
    """python-pkcs11's mapper plus CKA_CERTIFICATE_CATEGORY, which it does not know."""
    import struct

    from pkcs11 import Attribute
    from pkcs11.attributes import AttributeMapper

    mapper = AttributeMapper()
    ulong = struct.Struct("L")
    mapper.register_handler(Attribute.CERTIFICATE_CATEGORY, ulong.pack, lambda v: ulong.unpack(v)[0])
    return mapper


def _cn(cert: Any) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()[:64]


def _issued_by(cert: Any, issuer: Any) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # any failure (unsupported algorithm too) just means "not proven"
        return False
    return True


def _is_rsa(public_key: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return isinstance(public_key, rsa.RSAPublicKey)
