"""The PKCS#11 numbers (pkcs11t.h) keystores.pki.key_attributes maps keys with: object classes, key types and
attribute types, and the attributes a reader asks of a key object. Apart from that mapping so that a command reading
NSS's objects by them (`keystores list sql:DIR`: nss/db.py names its columns with them) or a token's
(backends/pkcs11/store.py) loads none of it (~0.15-0.3 ms of start-up, issue 15); key_attributes re-exports them.
With them, key_attributes' CKA_ID convention read from a certificate's SubjectPublicKeyInfo as DER (spki_key_id),
which importing a certificate onto a token or into NSS needs without the mapping.
"""

from keystores.crypto import der

# PKCS#11 object classes and key types (pkcs11t.h).
CKO_CERTIFICATE, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY = 1, 2, 3
CKK_RSA, CKK_DSA, CKK_EC, CKK_EC_EDWARDS = 0, 1, 3, 0x40

# PKCS#11 attribute numbers (pkcs11t.h): common object and certificate attributes, key attributes, usages.
CKA_CLASS, CKA_TOKEN, CKA_PRIVATE, CKA_LABEL, CKA_VALUE = 0x0, 0x1, 0x2, 0x3, 0x11
CKA_CERTIFICATE_TYPE, CKA_ISSUER, CKA_SERIAL_NUMBER = 0x80, 0x81, 0x82
CKA_KEY_TYPE, CKA_SUBJECT, CKA_ID, CKA_SENSITIVE = 0x100, 0x101, 0x102, 0x103
CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP, CKA_SIGN, CKA_SIGN_RECOVER = 0x104, 0x105, 0x106, 0x107, 0x108, 0x109
CKA_VERIFY, CKA_VERIFY_RECOVER, CKA_DERIVE, CKA_START_DATE, CKA_END_DATE = 0x10A, 0x10B, 0x10C, 0x110, 0x111
CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT = 0x120, 0x122, 0x123
CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT = 0x124, 0x125, 0x126, 0x127, 0x128
CKA_PRIME, CKA_SUBPRIME, CKA_BASE = 0x130, 0x131, 0x132
CKA_EXTRACTABLE, CKA_LOCAL, CKA_NEVER_EXTRACTABLE, CKA_ALWAYS_SENSITIVE = 0x162, 0x163, 0x164, 0x165
CKA_MODIFIABLE, CKA_EC_PARAMS, CKA_EC_POINT = 0x170, 0x180, 0x181

#: What keystores.pki.key_attributes.public_key_from_attributes reads of a key object.
PUBLIC_KEY_VALUES = (CKA_KEY_TYPE, CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_EC_PARAMS, CKA_EC_POINT)
#: The private values of an RSA, EC or EdDSA private key object (a token gives them only when it is extractable and
#: not sensitive).
PRIVATE_KEY_VALUES = (CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
                      CKA_VALUE)


def int_bytes(value: int) -> bytes:
    """A PKCS#11 "Big integer": big-endian, no sign byte, at least one byte."""
    return value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")


def spki_key_id(spki: bytes) -> bytes | None:
    """keystores.pki.key_attributes.key_id of the key in a SubjectPublicKeyInfo (DER) that keystores.pki.shown has
    read (cryptography loads it), from its bytes: the modulus of an RSA key, the point of an EC key written
    uncompressed, an Ed25519 key. None for any other form (a compressed point, another key type): the caller loads
    the key then. A speed device: loading a key into cryptography initialises OpenSSL, about 10 ms of importing a
    certificate onto a token (bench/bench_core.py's token rows); tests/test_pkcs11_lean.py holds it to `key_id` of
    the loaded key."""
    try:
        _, body, end = der.read(spki)
        algorithm, key = der.elements(spki, body, end)
        _, _, alg_start, alg_end = algorithm
        _, _, oid_start, oid_end = der.elements(spki, alg_start, alg_end)[0]
        oid = spki[oid_start:oid_end]
        _, _, key_start, key_end = key
        bits = spki[key_start + 1:key_end]  # after the BIT STRING's unused-bits byte (0 in a key shown reads)
        if oid == _RSA_OID:
            _, _, fields_start, fields_end = der.elements(bits)[0]  # RSAPublicKey: SEQUENCE { modulus, exponent }
            _, _, modulus_start, modulus_end = der.elements(bits, fields_start, fields_end)[0]
            material = int_bytes(der.integer_value(bits[modulus_start:modulus_end]))
        elif (oid == _EC_OID and bits[:1] == b"\x04") or (oid == _ED25519_OID and len(bits) == 32):
            material = bits  # the uncompressed point, the raw key: what _public_material gives of the loaded key
        else:
            return None
    except (IndexError, ValueError):
        return None
    from keystores.crypto.digests import digest  # not hashlib (a token's import of a certificate, start-up)

    return digest("sha1", material)


_RSA_OID, _EC_OID, _ED25519_OID = (bytes.fromhex("2a864886f70d010101"), bytes.fromhex("2a8648ce3d0201"),
                                   bytes.fromhex("2b6570"))
