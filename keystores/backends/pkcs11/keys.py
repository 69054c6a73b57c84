"""python-pkcs11's side of the key<->attribute mapping, signing/decrypting with a token key, and the keys written to
a token (a software key pair imported, a key pair made there: write.py's add and generate_key call them).

The mapping itself (values, usage flags, the CKA_ID convention, keys rebuilt from attributes) lives in
keystores.pki.key_attributes, shared with the NSS backend; here its CKA_ numbers become python-pkcs11's Attribute
enum, and a key it does not cover is refused in the words a token user reads.
"""

from __future__ import annotations

import contextlib

from keystores.backends.pkcs11.tokens import describe_error
from keystores.errors import CapabilityError, KeystoreError, UsageError
from keystores.model import KeyRef, describe_key
from keystores.pki.cka import PUBLIC_KEY_VALUES
from keystores.pki.curves import curve_named

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.backends.pkcs11.store import Pkcs11Store, _Cert, _Group
    from keystores.backends.pkcs11.write import WritablePkcs11Store
    from keystores.model import Entry, KeySpec
    from keystores.pki import key_attributes as ka

# keystores.pki.key_attributes (the mapping) is imported where a key is made of attributes or into them: a token's
# key read from it (private_key_from_attributes) or signed with (key_parts) loads it then.

# DigestInfo prefixes for CKM_RSA_PKCS when the token lacks the combined hash-and-sign mechanism (RFC 8017 9.2).
DIGEST_INFO = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha224": bytes.fromhex("302d300d06096086480165030402040500041c"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}


def template(attrs: dict[int, ka.Value]) -> dict[Any, Any]:
    """A python-pkcs11 template (keyed by its Attribute enum) from attributes keyed by CKA_ number."""
    from pkcs11 import Attribute

    return {Attribute(attr): value for attr, value in attrs.items()}


def ec_params_for(name: str) -> bytes:
    """CKA_EC_PARAMS for the curve named `name` (keystores.pki.curves); UsageError for a curve not written."""
    curve = curve_named(name)
    if curve is None:
        raise UsageError(f"EC curve {name} is not one keystores writes to tokens (P-256/384/521)")
    return curve.params_der


def private_key_template(key: Any) -> dict[Any, Any]:
    """A software private key's values and the usages a token is told (for C_CreateObject); UsageError for a key
    the mapping does not cover."""
    from keystores.pki import key_attributes as ka

    values = ka.private_key_attributes(key)
    if values is None:
        from cryptography.hazmat.primitives.asymmetric import ec

        from keystores.pki.undecoded import UndecodedPrivateKey

        if isinstance(key, ec.EllipticCurvePrivateKey):
            ec_params_for(key.curve.name)  # refuses the curve by name
        kind = key.key_type if isinstance(key, UndecodedPrivateKey) else describe_key(key.public_key())
        raise UsageError(f"keystores cannot write a {kind} key onto a token (RSA, EC and Ed25519 only)")
    return template({**values, **ka.usage_flags(int(values[ka.CKA_KEY_TYPE]), private=True, every_flag=False)})


def public_key_template(public_key: Any) -> dict[Any, Any]:
    """A public key object's values and the usages a token is told; UsageError for a key the mapping does not
    cover."""
    from keystores.pki import key_attributes as ka

    values = ka.public_key_attributes(public_key)
    if values is None:
        from cryptography.hazmat.primitives.asymmetric import ec

        if isinstance(public_key, ec.EllipticCurvePublicKey):
            ec_params_for(public_key.curve.name)  # refuses the curve by name
        raise UsageError(f"keystores cannot write a {describe_key(public_key)} key onto a token")
    return template({**values, **ka.usage_flags(int(values[ka.CKA_KEY_TYPE]), private=False, every_flag=False)})


def private_key_from_attributes(attrs: dict[Any, Any]) -> Any:
    """A cryptography private key from a non-sensitive, extractable key's attributes (as python-pkcs11 gives
    them); None if they do not make one."""
    from keystores.pki import key_attributes as ka

    try:
        return ka.private_key_from_attributes(attrs.get(ka.CKA_KEY_TYPE), attrs.__getitem__)
    except (KeyError, ValueError):
        return None


class TokenSigner:
    """A model.Signer over a private key object on an open token session.

    Hashes on the host and signs with CKM_RSA_PKCS (over a DigestInfo) or CKM_ECDSA when the token lacks the
    combined mechanism (SoftHSM has no CKM_ECDSA_SHA256); ECDSA signatures come back as DER ECDSA-Sig-Value.
    Valid while the store that made it is open.
    """

    def __init__(self, key_object: Any, public_key: Any, mechanisms: set[Any], *, where: str, label: str) -> None:
        self._key = key_object
        self._public_key = public_key
        self._mechanisms = mechanisms
        self._where = where
        self._label = label

    @property
    def public_key(self) -> Any:
        return self._public_key

    def sign(self, data: bytes, hash_name: str) -> bytes:
        import hashlib  # here: a token listing signs nothing, and hashlib loads OpenSSL's (start-up)

        from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        from pkcs11 import Mechanism, PKCS11Error

        from keystores.backends.pkcs11.tokens import describe_error

        hash_name = hash_name.lower().replace("-", "")
        public = self._public_key
        try:
            if isinstance(public, ed25519.Ed25519PublicKey):
                return bytes(self._key.sign(data, mechanism=Mechanism.EDDSA))
            if hash_name not in DIGEST_INFO:
                raise UsageError(f"unknown hash '{hash_name}'; use sha256, sha384, sha512, sha224 or sha1",
                                 store=self._where, label=self._label)
            upper = hash_name.upper()
            if isinstance(public, rsa.RSAPublicKey):
                combined = getattr(Mechanism, f"{upper}_RSA_PKCS", None)
                if combined is not None and combined in self._mechanisms:
                    return bytes(self._key.sign(data, mechanism=combined))
                digest = hashlib.new(hash_name, data).digest()
                return bytes(self._key.sign(DIGEST_INFO[hash_name] + digest, mechanism=Mechanism.RSA_PKCS))
            if isinstance(public, ec.EllipticCurvePublicKey):
                combined = getattr(Mechanism, f"ECDSA_{upper}", None)
                if combined is not None and combined in self._mechanisms:
                    raw = bytes(self._key.sign(data, mechanism=combined))
                else:
                    raw = bytes(self._key.sign(hashlib.new(hash_name, data).digest(), mechanism=Mechanism.ECDSA))
                half = len(raw) // 2
                return encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
        except PKCS11Error as exc:
            raise KeystoreError(f"the token refused to sign ({describe_error(exc)})", store=self._where,
                                label=self._label) from exc
        raise UsageError(f"cannot sign with a {type(public).__name__} token key", store=self._where,
                         label=self._label)


class TokenDecrypter:
    """A model.Decrypter over an RSA private key object on an open token session: CKM_RSA_PKCS decryption (PKCS#1
    v1.5 key transport) done on the token; the plaintext key comes back, the private key never leaves.
    Valid while the store that made it is open."""

    def __init__(self, key_object: Any, public_key: Any, *, where: str, label: str) -> None:
        self._key = key_object
        self._public_key = public_key
        self._where = where
        self._label = label

    @property
    def public_key(self) -> Any:
        return self._public_key

    def decrypt(self, data: bytes) -> bytes:
        from pkcs11 import Mechanism, PKCS11Error

        from keystores.backends.pkcs11.tokens import describe_error

        try:
            return bytes(self._key.decrypt(data, mechanism=Mechanism.RSA_PKCS))
        except PKCS11Error as exc:
            raise KeystoreError(f"the token refused to decrypt ({describe_error(exc)})", store=self._where,
                                label=self._label) from exc


def key_parts(store: Pkcs11Store, group: _Group, chain: list[_Cert] | None, as_encoded: bool) -> tuple[Any, Any, Any]:
    """A token key's public key (from its public key object, else its own attributes, else its certificate),
    the signer and, for an RSA key that may decrypt, the decrypter."""
    from pkcs11 import Attribute

    from keystores.pki.key_attributes import public_key_from_attributes

    attrs = group.private_attrs
    public = (public_key_from_attributes(group.public_attrs) if group.public is not None else None) \
        or public_key_from_attributes(attrs) \
        or ((chain[0].encoded if as_encoded else chain[0].cert).public_key() if chain else None)
    signer = TokenSigner(group.private, public, store._mechanisms, where=store.location, label=group.label) \
        if public is not None else None
    decrypter = TokenDecrypter(group.private, public, where=store.location, label=group.label) \
        if _is_rsa(public) and attrs.get(Attribute.DECRYPT, True) else None
    return public, signer, decrypter


def _is_rsa(public_key: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return isinstance(public_key, rsa.RSAPublicKey)


# --- keys written to the token: a software key pair imported, a key pair made there (write.py delegates: a delete
# and an import of certificates load none of it) ----------------------------------------------------------------

def add_software_key(store: WritablePkcs11Store, entry: Entry, replace: bool, created: list[Any]) -> list[Any]:
    """A software key pair (and its chain) written to the token: its CKA_ID by the convention, the private key
    sensitive and non-extractable there (write.Pkcs11Writing._add)."""
    from pkcs11 import Attribute, ObjectClass
    from pkcs11 import exceptions as ck

    from keystores.errors import EntryExists
    from keystores.pki.key_attributes import token_key_id

    key = entry.key
    public = key.public_key()  # type: ignore[union-attr]
    old = store._taken(entry.label, replace)
    key_id = token_key_id(public)
    for group in store._groups.values():
        if group.private is not None and group.key_id == key_id and group is not old:
            raise EntryExists(f"the token holds this key already, as entry '{group.label}'",
                              store=store.location, label=entry.label)
    subject = entry.chain[0].subject.public_bytes() if entry.chain else None
    common = {Attribute.TOKEN: True, Attribute.ID: key_id, Attribute.LABEL: entry.label}
    if subject is not None:
        common[Attribute.SUBJECT] = subject
    template = {**private_key_template(key), **common, Attribute.CLASS: ObjectClass.PRIVATE_KEY,
                Attribute.PRIVATE: True, Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False}
    try:
        created.append(store._create_on_token(template))
    except (ck.TemplateInconsistent, ck.TemplateIncomplete, ck.AttributeValueInvalid, ck.AttributeReadOnly,
            ck.AttributeTypeInvalid, ck.FunctionNotSupported, ck.FunctionRejected, ck.DomainParamsInvalid,
            ck.GeneralError) as exc:
        raise CapabilityError("private_keys", f"token '{store.token_label}' refuses to import a plaintext "
                              f"private key ({describe_error(exc)}); make the key on the token "
                              "(certreq/generate) or use the token's own wrapped-import tool",
                              store=store.location, label=entry.label) from exc
    created.append(store._create_on_token({**public_key_template(public), **common,
                                          Attribute.CLASS: ObjectClass.PUBLIC_KEY, Attribute.PRIVATE: False}))
    if entry.chain:
        store._write_chain(entry, key_id, created)
    return old.objects() if old else []


def generate_key(store: WritablePkcs11Store, label: str, spec: KeySpec) -> KeyRef:
    """Make a sensitive, non-extractable key pair on the token; CKA_ID = SHA-1 of modulus/point."""
    from pkcs11 import Attribute, KeyType, Mechanism, PKCS11Error

    from keystores.backends.pkcs11.write import shielded
    from keystores.errors import EntryExists
    from keystores.pki.key_attributes import ED25519_PARAMS, public_key_from_attributes, token_key_id

    store._require_writable()
    if not label:
        raise UsageError("an entry needs a non-empty label", store=store.location)
    if label in store._groups:
        raise EntryExists("an entry with this label exists", store=store.location, label=label)
    from keystores.backends.pkcs11.admin import key_types, missing_for

    lacking = missing_for(spec, store._token.slot, store._mechanisms)
    if lacking:
        can = ", ".join(key_types(store._token.slot, store._mechanisms)) or "none of ours"
        raise CapabilityError("key_generation", f"token '{store.token_label}' cannot make {spec} keys: it "
                              f"lacks {', '.join(lacking)} (it can make: {can})", store=store.location,
                              label=label)
    import hashlib

    provisional = hashlib.sha1(label.encode() + b"\0" + str(spec).encode()).digest()
    private_template = {Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
                        Attribute.EXTRACTABLE: False, Attribute.SIGN: True}
    public_template: dict[Any, Any] = {Attribute.TOKEN: True, Attribute.PRIVATE: False, Attribute.VERIFY: True}
    try:
        if spec.algorithm == "rsa":
            key_type, size, mechanism = KeyType.RSA, spec.size, None
        elif spec.algorithm == "ec":
            key_type, size, mechanism = KeyType.EC, None, Mechanism.EC_KEY_PAIR_GEN
            public_template[Attribute.EC_PARAMS] = ec_params_for(spec.curve)
        else:
            key_type, size, mechanism = KeyType.EC_EDWARDS, None, Mechanism.EC_EDWARDS_KEY_PAIR_GEN
            public_template[Attribute.EC_PARAMS] = ED25519_PARAMS
        with shielded():  # made and remembered for a rollback, never one without the other
            public, private = store._session.generate_keypair(
                key_type, size, id=provisional, label=label, store=True, mechanism=mechanism,
                public_template=public_template, private_template=private_template)
            store._made += [public, private]
    except PKCS11Error as exc:
        raise KeystoreError(f"token '{store.token_label}' could not make a {spec} key ({describe_error(exc)})",
                            store=store.location, label=label) from exc
    public_key = public_key_from_attributes(public.get_attributes([Attribute(a) for a in PUBLIC_KEY_VALUES]))
    if public_key is not None:
        # Same CKA_ID convention as imported keys, so NSS/Java/OpenSC pair a later certificate with it.
        store._forget([public, private])
        with contextlib.suppress(PKCS11Error):
            final = token_key_id(public_key)
            private[Attribute.ID] = final
            public[Attribute.ID] = final
    store._scan()
    entry = store._entries[label]
    assert isinstance(entry.key, KeyRef)
    return entry.key
