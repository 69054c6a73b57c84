"""The token objects behind one entry (a key pair's private key, public key and certificates, or a lone
certificate), the attributes read of them, and the helpers the reading and writing halves of Pkcs11Store share."""

from __future__ import annotations

import functools

from keystores.pki import key_attributes as ka

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CATEGORY_UNSPECIFIED, CATEGORY_TOKEN_USER, CATEGORY_AUTHORITY = 0, 1, 2
# What is read of every key object, and of an extractable private key's values (keystores.pki.key_attributes).
_KEY_ATTRIBUTES = (*ka.PUBLIC_KEY_VALUES, ka.CKA_ID, ka.CKA_LABEL, ka.CKA_SENSITIVE, ka.CKA_EXTRACTABLE)
_SECRET_ATTRIBUTES = ka.PRIVATE_KEY_VALUES


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
        not decoded and `shown` reads it (spki_key_id), else of the loaded key."""
        if "cert" not in self.__dict__ and self.shown is not None:
            from keystores.pki.columns import subject_and_key

            held = subject_and_key(self.der)
            found = ka.spki_key_id(held[1]) if held is not None else None
            if found is not None:
                return found
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


def _is_rsa(public_key: Any) -> bool:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return isinstance(public_key, rsa.RSAPublicKey)
