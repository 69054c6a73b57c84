"""The password-based encryption parameters nearly every file carries, read with keystores.crypto.der: a speed
device. Loading an AlgorithmIdentifier with asn1crypto imports asn1crypto.algos and core (~15 ms of a ~110 ms
`keystores list one.p12`: bench/bench_core.py, "start-up: keystores list one.p12"; issue 15), for a structure of a
dozen elements.

Read here: PBES2 with PBKDF2 (HMAC-SHA-1/224/256/384/512) and AES-CBC or 3DES-CBC, as keytool, OpenSSL 3 and
this package write it, and the PKCS#12 PBE with SHA-1 and 3DES (two or three keys), which older tools write.
Anything else, or any encoding other than plain DER, is not read here (`common` gives None) and
keystores.crypto.pbe reads it with asn1crypto, as before, naming what is wrong or unsupported.
"""

from __future__ import annotations

from keystores.crypto import der
from keystores.frozen import FrozenValue

PBES2 = "1.2.840.113549.1.5.13"
_PBKDF2 = "1.2.840.113549.1.5.12"
# PBKDF2's PRFs by OID, as asn1crypto names them (HmacAlgorithmId)
HMAC_SHA1 = "1.2.840.113549.2.7"
_PRFS = {HMAC_SHA1: "sha1", "1.2.840.113549.2.8": "sha224", "1.2.840.113549.2.9": "sha256",
         "1.2.840.113549.2.10": "sha384", "1.2.840.113549.2.11": "sha512"}
# PBES2's ciphers read here: OID -> (asn1crypto's name, cipher family for keystores.crypto.pbe, key bytes, IV bytes)
_CIPHERS = {"2.16.840.1.101.3.4.1.2": ("aes128_cbc", "aes", 16, 16),
            "2.16.840.1.101.3.4.1.22": ("aes192_cbc", "aes", 24, 16),
            "2.16.840.1.101.3.4.1.42": ("aes256_cbc", "aes", 32, 16),
            "1.2.840.113549.3.7": ("tripledes_3key", "tripledes", 24, 8)}
# The PKCS#12 PBE schemes read here: OID -> (asn1crypto's name, key bytes)
_PKCS12_PBE = {"1.2.840.113549.1.12.1.3": ("pkcs12_sha1_tripledes_3key", 24),
               "1.2.840.113549.1.12.1.4": ("pkcs12_sha1_tripledes_2key", 16)}

_SEQUENCE, _OCTET_STRING, _INTEGER, _OID, _NULL = 0x30, 0x04, 0x02, 0x06, 0x05


class CommonPbe(FrozenValue):
    """One of the schemes this module reads, with the values keystores.crypto.pbe uses (asn1crypto's names).
    (A FrozenValue, not a NamedTuple: typing's NamedTuple costs ~1.4 ms of every encrypted file's start-up.)"""

    __slots__ = ("cipher", "cipher_name", "iterations", "iv", "key_length", "name", "prf", "salt")
    _fields = ("name", "prf", "salt", "iterations", "key_length", "cipher", "cipher_name", "iv")
    _hidden = frozenset({"salt", "iv"})
    name: str  # "pbes2", "pkcs12_sha1_tripledes_3key" or "pkcs12_sha1_tripledes_2key"
    prf: str  # PBKDF2's HMAC hash; "sha1" for the PKCS#12 KDF
    salt: bytes
    iterations: int
    key_length: int  # bytes the KDF derives
    cipher: str  # "aes" or "tripledes"
    cipher_name: str  # PBES2's encryption scheme as asn1crypto names it ("aes256_cbc"); "" for the PKCS#12 PBE
    iv: bytes  # PBES2's IV; the PKCS#12 PBE derives its own

    def __init__(self, name: str, prf: str, salt: bytes, iterations: int, key_length: int, cipher: str,
                 cipher_name: str, iv: bytes) -> None:
        for field, value in zip(self._fields, (name, prf, salt, iterations, key_length, cipher, cipher_name, iv),
                                strict=True):
            object.__setattr__(self, field, value)


def common(algorithm: bytes) -> CommonPbe | None:
    """The scheme of an AlgorithmIdentifier (DER, the whole of `algorithm`), or None when it is not one read here."""
    if type(algorithm) is bytes:
        found = _READ.get(algorithm, _READ)
        if found is not _READ:
            return found  # type: ignore[return-value]
    try:
        found = _algorithm(algorithm)
    except (der.DerError, IndexError):
        found = None
    if type(algorithm) is bytes:
        if len(_READ) >= _KEPT:
            _READ.clear()
        _READ[algorithm] = found
    return found  # type: ignore[return-value]


# What common() read, by the DER it read it from: opening a PKCS#12 asks about its encrypted part's parameters nine
# times (checked and charged before the file's derivations start and again as read.py reads it, its key's
# derivation and its cipher started ahead, described, decrypted), each reading ~20 us of DER (bench/bench_core.py
# "list one.p12"). The values are frozen, so one is shared; no secret is among them (salts, counts, IVs); at most
# _KEPT of them, so that a store of many key bags, each with its salt, keeps no more.
_READ: dict[bytes, CommonPbe | None] = {}
_KEPT = 64


def encrypted_private_key_info(epki: bytes) -> tuple[bytes, bytes] | None:
    """(AlgorithmIdentifier DER, encrypted data) of an EncryptedPrivateKeyInfo in plain DER, else None."""
    try:
        inner = der.inside(epki, whole=True)
        if len(inner) != 2 or inner[0][0] != _SEQUENCE or inner[1][0] != _OCTET_STRING:
            return None
        return epki[inner[0][1] : inner[0][3]], epki[inner[1][2] : inner[1][3]]
    except der.DerError:
        return None


def private_key_info_algorithm(data: bytes) -> str | None:
    """The algorithm OID when `data` is exactly a PKCS#8 PrivateKeyInfo (version, AlgorithmIdentifier, OCTET STRING
    key, optional attributes and public key), else None. Read from the bytes: asn1crypto refuses the structure of
    an algorithm it does not know. (Here, beside encrypted_private_key_info, for keystores.crypto.pbe's check of a
    decrypted key: in keystores.pki.undecoded it cost every key's decryption that module's import.)"""
    try:
        tag, start, end = der.read(data)
        if tag != _SEQUENCE or end != len(data):
            return None
        tag, _, at = der.read(data, start, end)
        if tag != _INTEGER:
            return None
        tag, alg_start, at = der.read(data, at, end)
        if tag != _SEQUENCE:
            return None
        tag, oid_start, oid_end = der.read(data, alg_start, at)
        if tag != _OID:
            return None
        tag, _, at = der.read(data, at, end)
        if tag != _OCTET_STRING:
            return None
        while at < end:
            at = der.read(data, at, end)[2]
        return der.oid_text(data[oid_start:oid_end])
    except ValueError:
        return None


def _algorithm(data: bytes) -> CommonPbe:
    outer = der.inside(data, whole=True)
    if len(outer) != 2:
        raise der.DerError("not read here")
    oid = der.element_oid(data, outer[0])
    if oid in _PKCS12_PBE:
        name, key_length = _PKCS12_PBE[oid]
        params = der.inside_element(data, outer[1])
        if len(params) != 2:
            raise der.DerError("not read here")
        return CommonPbe(name, "sha1", der.element_octets(data, params[0]), der.element_integer(data, params[1]),
                         key_length, "tripledes", "", b"")
    if oid != PBES2:
        raise der.DerError("not read here")
    kdf, scheme = _pair(data, outer[1])
    kdf_parts = der.inside_element(data, kdf)
    if len(kdf_parts) != 2 or der.element_oid(data, kdf_parts[0]) != _PBKDF2:
        raise der.DerError("not read here")
    salt, iterations, key_length, prf_oid = pbkdf2_fields(data, kdf_parts[1])
    prf = _PRFS.get(prf_oid, "")
    if not prf:
        raise der.DerError("not read here")
    scheme_parts = der.inside_element(data, scheme)
    if len(scheme_parts) != 2:
        raise der.DerError("not read here")
    cipher_oid = der.element_oid(data, scheme_parts[0])
    if cipher_oid not in _CIPHERS:
        raise der.DerError("not read here")
    cipher_name, cipher, size, iv_size = _CIPHERS[cipher_oid]
    iv = der.element_octets(data, scheme_parts[1])
    if len(iv) != iv_size:
        raise der.DerError("not read here")
    return CommonPbe("pbes2", prf, salt, iterations, size if key_length is None else key_length, cipher, cipher_name,
                     iv)


def pbkdf2_fields(data: bytes, element: der.Element) -> tuple[bytes, int, int | None, str]:
    """(salt, iteration count, key length or None, the PRF's OID) of PBKDF2-params in plain DER (`element`), the
    salt specified and the PRF's parameters absent or NULL; DerError for anything else (asn1crypto reads it)."""
    pbkdf2 = der.inside_element(data, element)
    if not 2 <= len(pbkdf2) <= 4:
        raise der.DerError("not read here")
    salt, iterations = der.element_octets(data, pbkdf2[0]), der.element_integer(data, pbkdf2[1])
    rest = pbkdf2[2:]
    key_length = None
    if rest and rest[0][0] == _INTEGER:
        key_length = der.element_integer(data, rest[0])
        rest = rest[1:]
    prf = HMAC_SHA1  # PBKDF2-params' DEFAULT
    if rest:
        prf_parts = der.inside_element(data, rest[0])
        if len(rest) != 1 or not 1 <= len(prf_parts) <= 2 or (len(prf_parts) == 2 and prf_parts[1][0] != _NULL):
            raise der.DerError("not read here")
        if len(prf_parts) == 2 and prf_parts[1][2] != prf_parts[1][3]:
            raise der.DerError("not read here")
        prf = der.element_oid(data, prf_parts[0])
    return salt, iterations, key_length, prf


def _pair(data: bytes, element: der.Element) -> tuple[der.Element, ...]:
    """PBES2-params: the key derivation's and the encryption scheme's AlgorithmIdentifiers."""
    parts = der.inside_element(data, element)
    if len(parts) != 2 or parts[0][0] != _SEQUENCE or parts[1][0] != _SEQUENCE:
        raise der.DerError("not read here")
    return parts[0], parts[1]
