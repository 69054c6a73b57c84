"""BCFKS's structures as asn1crypto classes: what structure.py hands to asn1crypto when its own DER reader declines
(BER, damage, a field of an unexpected type), so that what is wrong is named as before. Imported only then."""

from __future__ import annotations

from typing import Any, ClassVar

from asn1crypto import core


class ObjectData(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("type", core.Integer), ("identifier", core.UTF8String), ("creation_date", core.GeneralizedTime),
        ("last_modified_date", core.GeneralizedTime), ("data", core.OctetString),
        ("comment", core.UTF8String, {"optional": True})]


class ObjectDataSequence(core.SequenceOf):
    _child_spec = ObjectData


class ObjectStoreData(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("version", core.Integer), ("integrity_algorithm", core.Any), ("creation_date", core.GeneralizedTime),
        ("last_modified_date", core.GeneralizedTime), ("objects", ObjectDataSequence),
        ("comment", core.UTF8String, {"optional": True})]


class EncryptedData(core.Sequence):
    """EncryptedObjectStoreData and EncryptedSecretKeyData: an AlgorithmIdentifier and the ciphertext."""

    _fields: ClassVar[list[Any]] = [("algorithm", core.Any), ("content", core.OctetString)]


class PbkdMacIntegrityCheck(core.Sequence):
    _fields: ClassVar[list[Any]] = [
        ("mac_algorithm", core.Any), ("pbkd_algorithm", core.Any), ("mac", core.OctetString)]


class Certificates(core.SequenceOf):
    _child_spec = core.Any


class EncryptedPrivateKeyData(core.Sequence):
    _fields: ClassVar[list[Any]] = [("encrypted_private_key_info", core.Any), ("certificates", Certificates)]


class SecretKeyData(core.Sequence):
    _fields: ClassVar[list[Any]] = [("key_algorithm", core.ObjectIdentifier), ("key_bytes", core.OctetString)]
