"""The reading half of Pkcs11Store: token objects -> groups paired by CKA_ID -> entries with chains and key refs."""

from __future__ import annotations

from collections.abc import Iterator

from keystores.backends.pkcs11.objects import (
    _KEY_ATTRIBUTES,
    _SECRET_ATTRIBUTES,
    CATEGORY_AUTHORITY,
    _Cert,
    _common_name,
    _Group,
    _is_rsa,
    encoded_names,
)
from keystores.backends.pkcs11.tokens import describe_error
from keystores.errors import KeystoreError
from keystores.model import TRUST_ALL, Entry, EntryKind, KeyRef
from keystores.pki.key_attributes import public_key_from_attributes
from keystores.pki.labels import UniqueLabels

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Pkcs11Reading:
    """Reads every certificate and key object of the token and pairs them (see store.py's docstring)."""

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
        labels = UniqueLabels()
        for group in sorted(key_groups + cert_groups, key=lambda g: (g.label, g.key_id)):
            label = labels.add(group.label or (f"id-{group.key_id.hex()}" if group.key_id else "unlabelled"))
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
        their DER (EncodedCertificate) when `as_encoded` (see objects.encoded_names), else as cryptography's."""
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

        # here, where a key is made: a delete, and a listing of entries whose key nobody asks for, load no keys.py
        from keystores.backends.pkcs11.keys import TokenKeyRef, private_key_from_attributes

        attrs = group.private_attrs
        sensitive = bool(attrs.get(Attribute.SENSITIVE, True))
        extractable = bool(attrs.get(Attribute.EXTRACTABLE, False))
        if _may_leave(group):
            try:
                values = group.private.get_attributes([Attribute(a) for a in _SECRET_ATTRIBUTES])
            except PKCS11Error:
                values = {}
            plain = private_key_from_attributes({**attrs, **values})
            if plain is not None:
                return plain
        # KeyRef.extractable means "its plaintext can leave the token"; a sensitive but wrappable key cannot.
        if as_encoded:  # its public key (a cryptography object: OpenSSL is initialised) made when first used
            return TokenKeyRef(label=group.label, key_id=group.key_id, sensitive=sensitive,
                               extractable=extractable and not sensitive,
                               make=lambda: self._key_parts(group, chain, as_encoded))
        public, signer, decrypter = self._key_parts(group, chain, as_encoded)
        return KeyRef(label=group.label, key_id=group.key_id, public_key=public, signer=signer,
                      sensitive=sensitive, extractable=extractable and not sensitive, decrypter=decrypter)

    def _key_parts(self, group: _Group, chain: list[_Cert] | None, as_encoded: bool) -> tuple[Any, Any, Any]:
        """A token key's public key (from its public key object, else its own attributes, else its certificate),
        the signer and, for an RSA key that may decrypt, the decrypter."""
        from pkcs11 import Attribute

        from keystores.backends.pkcs11.keys import TokenDecrypter, TokenSigner

        attrs = group.private_attrs
        public = (public_key_from_attributes(group.public_attrs) if group.public is not None else None) \
            or public_key_from_attributes(attrs) \
            or ((chain[0].encoded if as_encoded else chain[0].cert).public_key() if chain else None)
        signer = TokenSigner(group.private, public, self._mechanisms, where=self.location, label=group.label) \
            if public is not None else None
        decrypter = TokenDecrypter(group.private, public, where=self.location, label=group.label) \
            if _is_rsa(public) and attrs.get(Attribute.DECRYPT, True) else None
        return public, signer, decrypter

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


def _may_leave(group: _Group) -> bool:
    """The private key is extractable and not sensitive: its values are read from the token (while the session is
    open) to make the plain key the entry holds."""
    from pkcs11 import Attribute

    attrs = group.private_attrs
    return bool(attrs.get(Attribute.EXTRACTABLE, False)) and not bool(attrs.get(Attribute.SENSITIVE, True))
