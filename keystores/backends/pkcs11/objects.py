"""The token objects behind one entry (a key pair's private key, public key and certificates, or a lone
certificate), the attributes read of them, and the helpers the reading and writing halves of Pkcs11Store share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keystores.pki import key_attributes as ka

CATEGORY_UNSPECIFIED, CATEGORY_TOKEN_USER, CATEGORY_AUTHORITY = 0, 1, 2
# What is read of every key object, and of an extractable private key's values (keystores.pki.key_attributes).
_KEY_ATTRIBUTES = (*ka.PUBLIC_KEY_VALUES, ka.CKA_ID, ka.CKA_LABEL, ka.CKA_SENSITIVE, ka.CKA_EXTRACTABLE)
_SECRET_ATTRIBUTES = ka.PRIVATE_KEY_VALUES


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

    label: str  # the entry label: CKA_LABEL, made unique as "label (2)" when labels repeat
    key_id: bytes
    native_label: str = ""  # CKA_LABEL as the token holds it
    private: Any = None
    public: Any = None
    private_attrs: dict[Any, Any] = field(default_factory=dict)
    public_attrs: dict[Any, Any] = field(default_factory=dict)
    certs: list[_Cert] = field(default_factory=list)

    def objects(self) -> list[Any]:
        return [o for o in (self.private, self.public) if o is not None] + [c.obj for c in self.certs]


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
