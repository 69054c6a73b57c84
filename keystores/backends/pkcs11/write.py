"""The writing half of Pkcs11Store: entries -> token objects, each add undone if it fails half-way; keys made on
the token.

A token has no transactions: an object is made by one call, and remembered (to be removed again if the command
fails) by the next line. A Ctrl-C landing between the two would leave an object nobody knows about. `shielded()`
holds SIGINT for such a step and delivers it right after, to whatever handler was there (the CLI's, or Python's
KeyboardInterrupt).
"""

from __future__ import annotations

import contextlib

from keystores.backends.pkcs11.store import (
    CATEGORY_AUTHORITY,
    CATEGORY_TOKEN_USER,
    CATEGORY_UNSPECIFIED,
    Pkcs11Store,
    _Cert,
    _common_name,
    _Group,
)
from keystores.backends.pkcs11.tokens import describe_error
from keystores.errors import (
    REPLACE,
    CapabilityError,
    EntryExists,
    Hint,
    KeystoreError,
    UsageError,
)
from keystores.model import Entry, EntryKind, KeyRef, KeySpec

# keystores.pki.key_attributes (the key <-> attribute mapping) is imported where a key or a CKA_ID is made: a delete
# loads none of it.

try:  # the C module `signal` wraps, whose very functions it re-exports: importing `signal` makes enums of every
    import _signal as signal  # signal and handler (~0.6 ms of a token import, bench/bench_core.py), none used here
except ImportError:  # pragma: no cover - an interpreter without it
    import signal  # type: ignore[no-redef]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

# Tokens whose C_CreateObject persists each attribute it sets by default one at a time: SoftHSM2 rewrites the
# object's file about 26 times per certificate, and C_CopyObject of a session object once (it copies inside one
# transaction). bench/bench_pkcs11.py measures both against pkcs11-tool.
COPY_ONTO_TOKEN_MAKERS = ("SoftHSM",)


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Hold SIGINT until the block ends, then deliver it. Only the main thread receives signals: elsewhere this
    does nothing (setting a handler there raises ValueError, as keystores.fileio's commit finds it, with no
    threading imported to ask which thread this is)."""
    held: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if held:
            signal.raise_signal(signal.SIGINT)


class Pkcs11Writing:
    """Writes entries to the token at once (PKCS#11 has no transactions; see store.py's docstring)."""

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
        if entry.kind.is_certificate and not (entry.undecoded_chain or entry.chain):
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
        self._require_writable()
        self.check_entry(entry)
        entry = self._without_default(entry)
        with shielded():
            self._add(entry, replace)

    def _add(self, entry: Entry, replace: bool) -> None:
        from pkcs11 import PKCS11Error

        created: list[Any] = []
        try:
            if entry.kind.is_certificate:
                old = self._taken(entry.label, replace)
                leaf = _held_chain(entry)[0]
                key_id = leaf.token_key_id()
                trusted = entry.trust is not None
                self._write_cert(leaf, label=entry.label, key_id=key_id,
                                 category=CATEGORY_AUTHORITY if trusted else CATEGORY_UNSPECIFIED, created=created)
                # The same certificate kept so far only as an untrusted issuer becomes this entry: no duplicate.
                copies = [c.obj for c in self._chain_only_certs if c.der == leaf.der]
                if old is None and not copies:
                    # The common bulk case (a CA bundle): index the new object instead of re-reading the token.
                    self._index_cert(entry, leaf, created[-1], key_id, trusted)
                    self._made += created
                    return
                to_destroy = (old.objects() if old else []) + copies
            elif isinstance(entry.key, KeyRef):
                to_destroy = self._add_to_token_key(entry, replace, created)
            else:  # a software key (keys.py, which its key templates load anyway)
                from keystores.backends.pkcs11.keys import add_software_key

                to_destroy = add_software_key(self, entry, replace, created)
        except PKCS11Error as exc:
            self._undo(created)
            raise KeystoreError(f"token '{self.token_label}' refused the write ({describe_error(exc)}); nothing "
                                "was changed", store=self.location, label=entry.label) from exc
        except BaseException:
            self._undo(created)
            raise
        self._made += created
        self._forget(to_destroy)
        for obj in to_destroy:
            with contextlib.suppress(PKCS11Error):
                obj.destroy()
        # A new software key changed nothing else on the token; receiving may have relabelled the key's objects.
        self._scan(added=None if to_destroy or isinstance(entry.key, KeyRef) else created)

    def _index_cert(self, entry: Entry, leaf: _Cert, obj: Any, key_id: bytes, trusted: bool) -> None:
        leaf.obj, leaf.key_id, leaf.label, leaf.trusted = obj, key_id, entry.label, trusted
        if self._listed:
            self._listed[obj.object_class].append(obj)
        group = _Group(label=entry.label, key_id=key_id, native_label=entry.label, certs=[leaf])
        self._groups[entry.label] = group
        self._entries[entry.label] = self._entry(group, None, leaf.shown is not None)  # type: ignore[attr-defined]

    def _taken(self, label: str, replace: bool, *, allow: _Group | None = None) -> _Group | None:
        group = self._groups.get(label)
        if group is None or group is allow:
            return None
        if not replace:
            raise EntryExists("an entry with this label exists", store=self.location, label=label, hint=REPLACE)
        if group.private is not None:
            # A token key cannot be restored once destroyed: replacing never does it, deleting does.
            raise EntryExists("this entry holds a private key on the token, which replacing never destroys; delete "
                              "the entry first if the key should go", store=self.location, label=label)
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
                raise EntryExists("the key has a certificate already", store=self.location, label=entry.label,
                                  hint=Hint(" (use {} to replace it)", option="--replace", keyword="replace=True"))
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

    def _write_chain(self, entry: Entry, key_id: bytes, created: list[Any]) -> None:
        """The leaf with the key's CKA_ID and label; issuers the token lacks as untrusted certificates."""
        chain = _held_chain(entry)
        self._write_cert(chain[0], label=entry.label, key_id=key_id, category=CATEGORY_TOKEN_USER, created=created)
        present = {c.der for g in self._groups.values() for c in g.certs} | {c.der for c in self._chain_only_certs}
        for issuer in chain[1:]:
            if issuer.der in present:
                continue
            present.add(issuer.der)
            self._write_cert(issuer, label=_common_name(issuer), key_id=issuer.token_key_id(),
                             category=CATEGORY_UNSPECIFIED, created=created)

    def _write_cert(self, cert: _Cert, *, label: str, key_id: bytes, category: int, created: list[Any]) -> None:
        from pkcs11 import Attribute, CertificateType, ObjectClass

        subject, issuer, serial = _certificate_attributes(cert)
        created.append(self._create_on_token({
            Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
            Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.LABEL: label, Attribute.ID: key_id,
            Attribute.SUBJECT: subject, Attribute.ISSUER: issuer, Attribute.SERIAL_NUMBER: serial,
            Attribute.VALUE: cert.der, Attribute.CERTIFICATE_CATEGORY: category}))

    def _create_on_token(self, template: dict[Any, Any]) -> Any:
        """C_CreateObject of a token object. On the tokens of COPY_ONTO_TOKEN_MAKERS it is made as a session object
        and copied onto the token with C_CopyObject, which gives the same attributes for a tenth of the writes (a
        private key's draft is as private and sensitive as the key, and lives only in this session's memory); a
        token that refuses the copy gets C_CreateObject from then on."""
        from pkcs11 import Attribute, PKCS11Error

        if self._copy_onto_token:
            draft = self._session.create_object({**template, Attribute.TOKEN: False})
            try:
                return draft.copy({Attribute.TOKEN: True})
            except PKCS11Error:
                self._copy_onto_token = False
            finally:
                with contextlib.suppress(PKCS11Error):
                    draft.destroy()
        return self._session.create_object(template)

    def _relabel(self, group: _Group, label: str) -> None:
        from pkcs11 import Attribute

        self._forget(group.objects())
        for obj in group.objects():
            obj[Attribute.LABEL] = label

    def _forget(self, objects: list[Any]) -> None:
        """Drop what _scan read of objects about to change or go."""
        for obj in objects:
            self._read.pop(obj.handle, None)

    def remove(self, label: str) -> None:
        """Destroy the entry's key objects and certificate(s); issuer certificates stay."""
        from pkcs11 import PKCS11Error

        self._require_writable()
        group = self._groups[self._find(label)]
        objects = group.objects()
        self._forget(objects)
        gone = False
        try:
            for obj in objects:
                obj.destroy()
            gone = True
        except PKCS11Error as exc:
            raise KeystoreError(f"token '{self.token_label}' refused to delete ({describe_error(exc)})",
                                store=self.location, label=label) from exc
        finally:
            if gone:  # only these went: the token's other objects are taken as listed, not listed again (five
                # C_FindObjects and what python-pkcs11 reads of every object found, on each delete)
                handles = {obj.handle for obj in objects}
                self._listed = {cls_: [obj for obj in listed if obj.handle not in handles]
                                for cls_, listed in self._listed.items()}
            self._scan(added=[] if gone else None)  # else some may be gone, some not: the token is listed again

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
        """Make a sensitive, non-extractable key pair on the token; CKA_ID = SHA-1 of modulus/point (keys.py)."""
        from keystores.backends.pkcs11.keys import generate_key

        return generate_key(self, label, spec)


def _held_chain(entry: Entry) -> list[_Cert]:
    """The entry's chain as certificate records to write (no token object yet): over the DER its backend still
    holds (so that writing decodes none), else over the decoded certificates."""
    ders = entry.undecoded_chain
    if ders is not None:
        return [_Cert(obj=None, der=der, key_id=b"", label="", trusted=False) for der in ders]
    return [_Cert(obj=None, der=der, key_id=b"", label="", trusted=False, cert=cert)
            for der, cert in zip(entry.chain_der(), entry.chain, strict=True)]


def _certificate_attributes(cert: _Cert) -> tuple[bytes, bytes, bytes]:
    """CKA_SUBJECT, CKA_ISSUER and CKA_SERIAL_NUMBER (DER) of a certificate: read from its DER where
    keystores.pki.shown reads it (strict DER in plain forms: as cryptography re-encodes the names, and the serial
    as asn1crypto writes a non-negative INTEGER), else from cryptography's decoding, as before."""
    if "cert" not in cert.__dict__ and cert.shown is not None and cert.names is not None:
        serial = cert.shown.serial
        if serial >= 0:
            from keystores.crypto import der

            issuer, subject = cert.names
            return subject, issuer, der.integer(serial)
    from asn1crypto.core import Integer

    from keystores.pki.certificates import serial_of

    decoded = cert.cert
    return decoded.subject.public_bytes(), decoded.issuer.public_bytes(), Integer(serial_of(decoded)).dump()


class WritablePkcs11Store(Pkcs11Writing, Pkcs11Store):
    """A Pkcs11Store opened writable (Pkcs11Store.__new__ makes one): the token with its writing half."""

    def __init__(self, location: str, **options: Any) -> None:
        super().__init__(location, **options)
        self._copy_onto_token = self._token.manufacturer_id.strip().startswith(COPY_ONTO_TOKEN_MAKERS)
