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
- labels that repeat are shown as "label (2)", "label (3)" (keystores.pki.labels) so every entry has its own
  label; the numbering follows (label, CKA_ID) order, and is never written to the token.
- secret keys, data objects and public keys without their private key are not entries; a note says they exist.
The user PIN is the store password; one login attempt per open. Writes go to the token at once (PKCS#11 has
no transactions): save() does nothing, each add() removes what it created if it fails half-way, and a store
left by an error or an interrupt (its `with` block ending in an exception) destroys every object it created since
it was opened, so that a failed command leaves the token as it was and a rerun works. New objects
get CKA_ID = SHA-1 of the modulus/point; replace=True never destroys a private key (remove() does).
Open options: module=PATH.

This module holds the store with its reading half (Pkcs11Reading: token objects -> groups paired by CKA_ID ->
entries with chains and key refs) and the token objects behind one entry (_Cert, _Group) with the helpers the
reading and writing halves share; write.py adds the writing half.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

from keystores.backends.base import BaseStore
from keystores.backends.pkcs11.connecting import connect, take, taken
from keystores.backends.pkcs11.tokens import describe_error, resolve_module, session_closed
from keystores.backends.pkcs11.uri import Pkcs11Uri
from keystores.errors import KeystoreError
from keystores.model import TRUST_ALL, Capabilities, Entry, EntryKind, KeyRef, Protection, ProtectionPart
from keystores.pki import cka

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from keystores.model import KeySpec


# --- the token objects behind one entry (a key pair's private key, public key and certificates, or a lone ----------
# certificate), the attributes read of them, and the helpers the reading and writing halves of Pkcs11Store share
CATEGORY_UNSPECIFIED, CATEGORY_TOKEN_USER, CATEGORY_AUTHORITY = 0, 1, 2
# What is read of every key object, and of an extractable private key's values: the numbers only (keystores.pki.cka).
# key_attributes' mapping is imported where a key or a CKA_ID is made of attributes, so that list, show, export and
# delete of a token whose key never leaves it load none of it (bench/bench_core.py's token rows).
_KEY_ATTRIBUTES = (*cka.PUBLIC_KEY_VALUES, cka.CKA_ID, cka.CKA_LABEL, cka.CKA_SENSITIVE, cka.CKA_EXTRACTABLE)
_SECRET_ATTRIBUTES = cka.PRIVATE_KEY_VALUES


class _Cert:
    """A certificate object as read: its DER, the certificate decoded by cryptography on first use (`cert`). Plain
    classes, not dataclasses, here: importing dataclasses (and inspect) is a visible part of a token command's
    start-up (bench/bench_core.py's token rows)."""

    def __init__(self, obj: Any, der: bytes, key_id: bytes, label: str, trusted: bool, cert: Any = None) -> None:
        self.obj = obj
        self.der = der
        self.key_id = key_id
        self.label = label
        self.trusted = trusted
        if cert is not None:
            self.__dict__["cert"] = cert

    @functools.cached_property
    def cert(self) -> Any:
        """The x509.Certificate (a keystores.pki.undecoded.RawCertificate for one cryptography refuses)."""
        from keystores.pki.certificates import decode_certificate

        return decode_certificate(self.der)

    @functools.cached_property
    def shown(self) -> Any:
        """keystores.pki.shown's reading of the DER, None where it leaves the certificate to cryptography: where
        there is one, cryptography decodes the certificate fully and its names, key and signature read the same
        from the DER (`encoded`)."""
        from keystores.pki.shown import read_shown

        return read_shown(self.der)

    @functools.cached_property
    def encoded(self) -> Any:
        """The certificate as keystores.pki.encoded.EncodedCertificate: what chains are built over while every
        certificate of the token has `shown` (see encoded_names)."""
        from keystores.pki.encoded import EncodedCertificate

        return EncodedCertificate(self.der)

    @functools.cached_property
    def names(self) -> tuple[bytes, bytes] | None:
        """(issuer, subject) as encoded in the certificate; None when they cannot be read so."""
        from keystores.pki.columns import certificate_names

        return certificate_names(self.der)

    def token_key_id(self) -> bytes:
        """keystores.pki.key_attributes.token_key_id of the certificate's key: from the DER while the certificate is
        not decoded and `shown` reads it (keystores.pki.cka.spki_key_id: an import of a certificate loads none of
        the mapping), else of the loaded key."""
        if "cert" not in self.__dict__ and self.shown is not None:
            from keystores.pki.columns import subject_and_key

            held = subject_and_key(self.der)
            found = cka.spki_key_id(held[1]) if held is not None else None
            if found is not None:
                return found
        from keystores.pki import key_attributes as ka

        return ka.token_key_id(self.public_key())

    def public_key(self) -> Any:
        """The certificate's public key: loaded from the DER while the certificate is not decoded and `shown`
        reads it (the same key cryptography's certificate gives), else from the decoded certificate."""
        if "cert" not in self.__dict__ and self.shown is not None:
            return self.encoded.public_key()
        return self.cert.public_key()


class _Group:
    """The token objects behind one entry."""

    def __init__(self, label: str, key_id: bytes, native_label: str = "", certs: list[_Cert] | None = None) -> None:
        self.label = label  # the entry label: CKA_LABEL, made unique as "label (2)" when labels repeat
        self.key_id = key_id
        self.native_label = native_label  # CKA_LABEL as the token holds it
        self.private: Any = None
        self.public: Any = None
        self.private_attrs: dict[Any, Any] = {}
        self.public_attrs: dict[Any, Any] = {}
        self.certs: list[_Cert] = certs if certs is not None else []

    def objects(self) -> list[Any]:
        return [o for o in (self.private, self.public) if o is not None] + [c.obj for c in self.certs]


_STRING_TAGS = (0x0C, 0x13, 0x16)  # UTF8String, PrintableString, IA5String: the text cryptography compares


def encoded_names(certs: list[_Cert]) -> bool:
    """Whether the token's certificates may be chained by their names as encoded, over their DER: each one has
    `shown` (cryptography decodes it fully, and its checks give the same answers on the DER), and two names are
    equal as encoded exactly when cryptography's Names of them are equal (the same text in a UTF8String in one
    and a PrintableString in another compares equal there, not as encoded). Else every certificate is decoded
    and chained as cryptography's objects, as before this speed device."""
    names: set[bytes] = set()
    for cert in certs:
        if cert.shown is None or cert.names is None:
            return False
        names.update(cert.names)
    # Names equal as cryptography compares them differ at most in their string tags: same length. Only names of
    # one length are walked (a token of one self-signed certificate walks none, and imports no walker).
    by_length: dict[int, list[bytes]] = {}
    for name in names:
        by_length.setdefault(len(name), []).append(name)
    alike = [group for group in by_length.values() if len(group) > 1]
    if not alike:
        return True
    from keystores.pki.encoded import name_rdns

    for group in alike:
        seen: set[Any] = set()
        for name in group:
            try:
                key = tuple(frozenset(("str" if tag in _STRING_TAGS else tag, oid, value) for oid, tag, value in rdn)
                            for rdn in name_rdns(name))
            except ValueError:
                return False
            if key in seen:
                return False
            seen.add(key)
    return True


def _common_name(cert: _Cert) -> str:
    """The subject's first CN, else its RFC 4514 text cut to 64 characters: the label a certificate without
    CKA_LABEL is listed by (as `_cn` of the decoded certificate gives it)."""
    shown = cert.shown
    if shown is not None and shown.common_name is not None:
        return str(shown.common_name)
    return _cn(cert.cert)


def _gone_errors() -> tuple[type[Exception], ...]:
    """The errors of destroying an object that is no longer there (removed again by the same command)."""
    from pkcs11 import exceptions as ck

    return (ck.ObjectHandleInvalid,)


def _cn(cert: Any) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()[:64]


# --- the reading half of Pkcs11Store: token objects -> groups paired by CKA_ID -> entries with chains and key refs

class Pkcs11Reading:
    """Reads every certificate and key object of the token and pairs them (see the module docstring)."""

    def _scan(self, added: list[Any] | None = None) -> None:
        """Read every certificate and key object and pair them by CKA_ID. `added`: the objects this store has just
        made, when it changed nothing else since the last scan; they join that scan's object list instead of the
        token being listed again (python-pkcs11 reads ten attributes of every object it lists). A delete passes []
        once it has taken the objects it destroyed out of that list."""
        from pkcs11 import Attribute, ObjectClass, PKCS11Error

        groups: dict[bytes, _Group] = {}
        try:
            if added is None or not self._listed:
                self._listed = self._list_objects()
            else:
                for obj in added:
                    self._listed[obj.object_class].append(obj)
            for cls_, slot_name in ((ObjectClass.PRIVATE_KEY, "private"), (ObjectClass.PUBLIC_KEY, "public")):
                for obj in self._listed[cls_]:
                    attrs = self._read.get(obj.handle)
                    if attrs is None:
                        attrs = self._read[obj.handle] = obj.get_attributes([Attribute(a) for a in _KEY_ATTRIBUTES])
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
            certs = [self._read[obj.handle] if obj.handle in self._read else
                     self._read.setdefault(obj.handle, self._read_cert(obj))
                     for obj in self._listed[ObjectClass.CERTIFICATE]]
            unlisted = {what: len(self._listed[cls_]) for what, cls_ in (("secret key(s)", ObjectClass.SECRET_KEY),
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
        as_encoded = encoded_names(all_certs)
        chains = {id(g): self._chain(g, all_certs, as_encoded) for g in key_groups}
        members = [c for chain in chains.values() for c in chain]
        # An untrusted certificate that issued a member of a key pair's chain is part of that chain; it is also an
        # entry of its own (kind "certificate"), as pkcs11-tool -O lists it. A second copy of an issuer (same name
        # and key) counts too. Writing treats these as chain certificates (no duplicates, replaced by an entry).
        untrusted = [c for c in standalone if not c.trusted]
        if not untrusted or not members:  # nothing to check: keystores.pki.chain (and what it loads) stays unloaded
            self._chain_only_certs = []
        elif as_encoded:  # names compared as encoded: encoded_names found it gives what cryptography's Names give
            from keystores.pki.chain import issued_by

            self._chain_only_certs = [c for c in untrusted if any(
                m.names[0] == c.names[1] and m.names[1] != m.names[0]  # type: ignore[index]
                and issued_by(m.encoded, c.encoded) for m in members)]
        else:
            from keystores.pki.chain import issued_by

            self._chain_only_certs = [c for c in untrusted if any(
                m.cert.issuer == c.cert.subject and m.cert.subject != m.cert.issuer and issued_by(m.cert, c.cert)
                for m in members)]
        cert_groups = [_Group(label=c.label, key_id=c.key_id, certs=[c]) for c in standalone]
        self._groups = {}
        self._entries = {}
        ordered = sorted(key_groups + cert_groups, key=lambda g: (g.label, g.key_id))
        labels = [g.label or (f"id-{g.key_id.hex()}" if g.key_id else "unlabelled") for g in ordered]
        if len(set(labels)) < len(labels):  # a label repeats: numbered as every backend numbers it (else as it is,
            # and keystores.pki.labels stays unloaded: bench/bench_core.py's token rows)
            from keystores.pki.labels import UniqueLabels

            unique = UniqueLabels()
            labels = [unique.add(label) for label in labels]
        for group, label in zip(ordered, labels, strict=True):
            group.native_label, group.label = group.label, label
            self._groups[label] = group
            self._entries[label] = self._entry(group, chains.get(id(group)), as_encoded)

    def _list_objects(self) -> dict[Any, list[Any]]:
        """The token's private keys, public keys, certificates, secret keys and data objects, by class, found by one
        search of every object (C_FindObjectsInit, C_FindObjects, C_FindObjectsFinal once, not once per class: on
        SoftHSM each search costs about 0.1 ms, bench/bench_core.py's token rows) and sorted by the class python-
        pkcs11 made each object of, a token's order kept within each class, as one search per class lists them.
        python-pkcs11 makes an object of a class it has no class for (data, hardware feature, ...) a plain Object
        whose CKA_CLASS is then read; it cannot make one of a vendor's class (ValueError, e.g. p11-kit's trust
        objects): any failure of the one search leaves one search per class, which never meets other classes."""
        from pkcs11 import Attribute, ObjectClass

        classes = (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY, ObjectClass.CERTIFICATE, ObjectClass.SECRET_KEY,
                   ObjectClass.DATA)
        listed: dict[Any, list[Any]] = {cls_: [] for cls_ in classes}
        try:
            found = list(self._session.get_objects())  # the search ended (C_FindObjectsFinal) before any other call
            for obj in found:
                cls_ = obj.object_class
                if cls_ is None:  # a plain Object: data, or a class keystores does not read
                    cls_ = obj[Attribute.CLASS]
                if cls_ in listed:
                    listed[cls_].append(obj)
        except Exception:  # whatever it was, the searches by class follow (and raise what they raise)
            return {cls_: list(self._session.get_objects({Attribute.CLASS: cls_})) for cls_ in classes}
        return listed

    def _read_cert(self, obj: Any) -> _Cert | None:
        from pkcs11 import Attribute


        attrs = obj.get_attributes([Attribute.VALUE, Attribute.ID, Attribute.LABEL, Attribute.TRUSTED,
                                    Attribute.CERTIFICATE_CATEGORY, Attribute.CERTIFICATE_TYPE])
        der = bytes(attrs.get(Attribute.VALUE, b""))
        if not der or int(attrs.get(Attribute.CERTIFICATE_TYPE, 0)) != 0:  # CKC_X_509 only
            return None
        trusted = bool(attrs.get(Attribute.TRUSTED)) or attrs.get(Attribute.CERTIFICATE_CATEGORY) == \
            CATEGORY_AUTHORITY
        cert = _Cert(obj=obj, der=der, key_id=bytes(attrs.get(Attribute.ID, b"")), label="", trusted=trusted)
        if cert.shown is None:  # not read from the DER: decoded by cryptography, as every certificate was before
            from keystores.pki.undecoded import RawCertificate

            decoded = cert.cert
            if isinstance(decoded, RawCertificate) and decoded.parsed is None:  # bytes that are no certificate
                note = (f"a certificate object labelled '{attrs.get(Attribute.LABEL, '')}' does not hold a "
                        "readable X.509 certificate; skipped")
                if note not in self.notes:
                    self.notes.append(note)
                return None
        cert.label = attrs.get(Attribute.LABEL, "") or _common_name(cert)
        return cert

    def _chain(self, group: _Group, all_certs: list[_Cert], as_encoded: bool) -> list[_Cert]:
        """The group's newest certificate, then its issuers found on the token by name and signature (by name alone
        when the signature cannot be checked): keystores.pki.chain.build_chain over the token's certificates, as
        their DER (EncodedCertificate) when `as_encoded` (see encoded_names), else as cryptography's."""
        if not group.certs:
            return []

        def checked(each: _Cert) -> Any:
            return each.encoded if as_encoded else each.cert

        def subject(each: _Cert) -> Any:
            return each.names[1] if as_encoded else each.cert.subject  # type: ignore[index]

        leaf = group.certs[0] if len(group.certs) == 1 else max(group.certs,
                                                                 key=lambda c: checked(c).not_valid_before_utc)
        by_subject: dict[Any, list[_Cert]] = {}
        for each in all_certs:
            by_subject.setdefault(subject(each), []).append(each)
        if as_encoded and (leaf.names[0] == leaf.names[1] or leaf.names[0] not in by_subject):  # type: ignore[index]
            return [leaf]  # self-issued, or no certificate of its issuer's name: where build_chain stops at once
        from keystores.pki.chain import build_chain

        held = {id(checked(each)): each for each in [*all_certs, leaf]}
        chain = build_chain(checked(leaf), lambda cert: [checked(c) for c in by_subject.get(
            cert.issuer_der if as_encoded else cert.issuer, [])], unverifiable=True)
        return [held[id(cert)] for cert in chain]

    def _entry(self, group: _Group, chain: list[_Cert] | None, as_encoded: bool) -> Entry:
        """The group's entry. When the certificates were read as DER, its chain is decoded on first use (LazyEntry),
        so that `list`, `show` and `export` of a token decode none (keystores.pki.columns and .shown read them), and
        so is the KeyRef of a key that never leaves the token (it is made of attributes already read): a table
        listing then imports nothing of cryptography's key classes."""
        certs = group.certs[:1] if group.private is None else chain or []
        fields: dict[str, Any]
        loaders: dict[str, Any] = {}
        if group.private is None:
            trusted = certs[0].trusted
            fields = {"kind": EntryKind.TRUSTED_CERT if trusted else EntryKind.CERTIFICATE,
                      "trust": TRUST_ALL if trusted else None}
        else:
            fields = {"kind": EntryKind.KEY_PAIR}
            if as_encoded and certs and not _may_leave(group):
                loaders["key"] = lambda: self._key_of(group, chain, as_encoded)
            else:
                fields["key"] = self._key_of(group, chain, as_encoded)
        if not as_encoded or not certs:
            return Entry(label=group.label, chain=tuple(c.cert for c in certs), **fields)
        from keystores.lazy_entries import LazyEntry

        return LazyEntry.lazy({"chain": lambda: tuple(c.cert for c in certs), **loaders}, leaf_der=certs[0].der,
                              chain_der=tuple(c.der for c in certs), label=group.label, **fields)

    def _key_of(self, group: _Group, chain: list[_Cert] | None, as_encoded: bool) -> Any:
        from pkcs11 import Attribute, PKCS11Error

        # here, where a key is made: a delete, and a listing of entries whose key nobody asks for, load no keyref.py
        from keystores.backends.pkcs11.keyref import TokenKeyRef

        attrs = group.private_attrs
        sensitive = bool(attrs.get(Attribute.SENSITIVE, True))
        extractable = bool(attrs.get(Attribute.EXTRACTABLE, False))
        if _may_leave(group):
            try:
                values = group.private.get_attributes([Attribute(a) for a in _SECRET_ATTRIBUTES])
            except PKCS11Error:
                values = {}
            from keystores.backends.pkcs11.keys import private_key_from_attributes

            plain = private_key_from_attributes({**attrs, **values})
            if plain is not None:
                return plain
        # KeyRef.extractable means "its plaintext can leave the token"; a sensitive but wrappable key cannot.
        if as_encoded:  # its public key (a cryptography object: OpenSSL is initialised) made when first used
            return TokenKeyRef(label=group.label, key_id=group.key_id, sensitive=sensitive,
                               extractable=extractable and not sensitive,
                               make=lambda: _key_parts(self, group, chain, as_encoded))
        public, signer, decrypter = _key_parts(self, group, chain, as_encoded)
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


def _key_parts(store: Pkcs11Store, group: _Group, chain: list[_Cert] | None, as_encoded: bool) -> tuple[Any, Any, Any]:
    """keys.key_parts: loaded where a token key's public key or signer is first asked for."""
    from keystores.backends.pkcs11.keys import key_parts

    return key_parts(store, group, chain, as_encoded)


def _may_leave(group: _Group) -> bool:
    """The private key is extractable and not sensitive: its values are read from the token (while the session is
    open) to make the plain key the entry holds."""
    from pkcs11 import Attribute

    attrs = group.private_attrs
    return bool(attrs.get(Attribute.EXTRACTABLE, False)) and not bool(attrs.get(Attribute.SENSITIVE, True))


# --- the store --------------------------------------------------------------------------------------------------

class Pkcs11Store(Pkcs11Reading, BaseStore):
    """One token, logged in with the store password as user PIN; see the module docstring for the mapping.

    Opened writable it is a write.WritablePkcs11Store, which adds the writing half (write.Pkcs11Writing): a
    read-only open (list, show, export) loads no writing code (bench/bench_core.py's token rows). Opened read-only,
    every change is refused as the writing half refuses it, and check_entry is the writing half's."""

    format: ClassVar[str] = "pkcs11"
    capabilities: ClassVar[Capabilities] = Capabilities(private_keys=True, extractable_keys=False,
                                                        secret_keys=False, trust=True, key_generation=True,
                                                        pin=True, bare_keys=True, transactional=False)

    def __new__(cls, location: str, **options: Any) -> Pkcs11Store:
        if options.get("writable") and cls is Pkcs11Store:
            from keystores.backends.pkcs11.write import WritablePkcs11Store

            cls = WritablePkcs11Store
        return super().__new__(cls)

    def __init__(self, location: str, *, password: str | None, writable: bool = False, create: bool = False,
                 module: str | None = None, profile: str = "modern") -> None:
        """`create` changes nothing: a token is initialised by `keystores token init`, never by opening it."""
        super().__init__(location, writable=writable, profile=profile)
        self.uri = Pkcs11Uri.parse(location)
        self.module_path = resolve_module(self.uri.module_path, self.uri.module_name, module, store=location)
        self._session: Any = None
        self._made: list[Any] = []  # objects created since open, destroyed again if the command fails
        self._groups: dict[str, _Group] = {}
        self._chain_only_certs: list[_Cert] = []
        # What _scan read of each object, by handle, so that a scan after each added entry reads only the new
        # objects; forgotten when we change or destroy an object (a handle names one object while it exists).
        self._read: dict[int, Any] = {}
        self._listed: dict[Any, list[Any]] = {}  # the objects of the last listing, by class (see _scan)
        self._pin = password
        connecting = take(self.module_path, self.uri, password, writable)
        if connecting is None:  # not begun by keystores.store (a store made directly): connected here
            self._lib, self._token, self._session = connect(self.module_path, self.uri, password, writable, location)
        else:
            # While the worker connects: what _scan needs to read the token's certificates and make their entries,
            # imported where this thread would otherwise wait.
            import keystores.lazy_entries
            import keystores.pki.shown  # noqa: F401

            try:
                self._lib, self._token, self._session = connecting.result()
            except Exception:  # what connecting raised: no session was opened
                taken(connecting)
                raise
            taken(connecting)  # (an interrupt before this leaves it to connecting.abandon_pending)
        self.token_label = self._token.label.strip()
        try:
            self._scan()
        except BaseException:
            self.close()
            raise

    @functools.cached_property
    def _mechanisms(self) -> set[Any]:
        """What the token can do (C_GetMechanismList, made into python-pkcs11's Mechanism enum), read when a key is
        made or used there: a listing, an export, an import of a certificate and a delete need none of it."""
        return self._token.slot.get_mechanisms()

    # --- session -------------------------------------------------------------------------------------------
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

    # --- opened read-only (a writable open is a WritablePkcs11Store, whose writing half comes first) -----------
    def check_entry(self, entry: Entry) -> None:
        from keystores.backends.pkcs11.write import Pkcs11Writing

        Pkcs11Writing.check_entry(self, entry)  # type: ignore[arg-type]

    def generate_key(self, label: str, spec: KeySpec) -> KeyRef:
        self._require_writable()
        raise AssertionError("a token store opened writable is a WritablePkcs11Store")

    def set_password(self, new_password: str) -> None:
        self._require_writable()
        raise AssertionError("a token store opened writable is a WritablePkcs11Store")

    def save(self) -> None:
        """Nothing to do: every change was written to the token when it was made."""

    def _write(self) -> None:
        """Never called: see save()."""

    def protection(self) -> Protection:
        token = self._token
        return self._protection({
            "token": ProtectionPart(f"{self.token_label} ({token.manufacturer_id.strip()} {token.model.strip()})"),
            "keys": ProtectionPart("held on the token; sensitive keys are used there and never exported")})

