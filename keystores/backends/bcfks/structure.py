"""BCFKS's ASN.1 structures (store.py's docstring lists them) as plain tuples, read and written with
keystores.crypto.der: a speed device. Loading them with asn1crypto imports its core, algos and util (and with them
inspect, socket, fractions, ipaddress: about 0.9x of `python -c pass`), the largest part of `keystores list s.bcfks`
after Bouncy Castle's two PBKDF2 runs (bench/bench_core.py, "start-up: keystores list s.bcfks"; issue 15).

DER as Bouncy Castle and this package write it is read here. Anything else (BER lengths or constructed strings, a
field of an unexpected type, a time not in GeneralizedTime's plain UTC form, any damage) is read by asn1crypto into
the same tuples, as store.py read it before: what is wrong is named in asn1crypto's words, as before.
tests/test_bcfks_structure.py holds the two readers to the same result, and what is written here to asn1crypto's
encoding of the same values.
"""

from __future__ import annotations

from typing import Any

from keystores.crypto import der
from keystores.crypto.pbe_params import pbkdf2_fields

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt

PBKDF2 = "1.2.840.113549.1.5.12"
PBES2 = "1.2.840.113549.1.5.13"
HMAC_SHA512 = "1.2.840.113549.2.11"
AES256_CCM = "2.16.840.1.101.3.4.1.47"
_SEQUENCE, _INTEGER, _OCTET_STRING, _OID, _UTF8_STRING, _GENERALIZED_TIME = 0x30, 0x02, 0x04, 0x06, 0x0C, 0x18
_CCM_DEFAULT_TAG = 12  # CCMParameters' icvlen DEFAULT (RFC 5084)


def _whole(data: bytes, element: der.Element) -> bytes:
    return data[element[1] : element[3]]


def _expect(element: der.Element, tag: int) -> der.Element:
    if element[0] != tag:
        raise der.DerError("not read here")
    return element


# --- reading -------------------------------------------------------------------------------------------------------
def integrity_check(blob: bytes) -> tuple[bytes, bytes, bytes]:
    """PbkdMacIntegrityCheck: (the MAC's AlgorithmIdentifier DER, the KDF's DER, the MAC)."""
    try:
        parts = der.inside(blob, whole=True)
        if len(parts) != 3:
            raise der.DerError("not read here")
        return (_whole(blob, _expect(parts[0], _SEQUENCE)), _whole(blob, _expect(parts[1], _SEQUENCE)),
                der.element_octets(blob, parts[2]))
    except der.DerError:
        from keystores.backends.bcfks.asn1 import PbkdMacIntegrityCheck

        check = PbkdMacIntegrityCheck.load(blob)
        return check["mac_algorithm"].dump(), check["pbkd_algorithm"].dump(), check["mac"].native


def encrypted_data(blob: bytes) -> tuple[bytes, bytes]:
    """EncryptedObjectStoreData, EncryptedPrivateKeyInfo and EncryptedSecretKeyData: (the AlgorithmIdentifier's
    DER, the ciphertext)."""
    try:
        parts = der.inside(blob, whole=True)
        if len(parts) != 2:
            raise der.DerError("not read here")
        return _whole(blob, _expect(parts[0], _SEQUENCE)), der.element_octets(blob, parts[1])
    except der.DerError:
        from keystores.backends.bcfks.asn1 import EncryptedData

        sealed = EncryptedData.load(blob)
        return sealed["algorithm"].dump(), sealed["content"].native


def algorithm_oid(blob: bytes) -> str:
    """The OID of an AlgorithmIdentifier (the MAC's)."""
    try:
        parts = der.inside(blob, whole=True)
        if not 1 <= len(parts) <= 2:
            raise der.DerError("not read here")
        return der.element_oid(blob, parts[0])
    except der.DerError:
        from asn1crypto import core

        return core.ObjectIdentifier.load(core.Sequence.load(blob)[0].dump()).dotted


def kdf(blob: bytes) -> tuple[str, str, Any, Any, int | None]:
    """A KeyDerivationFunc: (its OID; for PBKDF2 also the PRF's OID, the salt, the iteration count and the key
    length or None; for another KDF "", None, None, None). The salt is what asn1crypto gives: bytes when specified."""
    try:
        parts = der.inside(blob, whole=True)
        if len(parts) != 2 or der.element_oid(blob, parts[0]) != PBKDF2:
            raise der.DerError("not read here")
        salt, iterations, key_length, prf = pbkdf2_fields(blob, parts[1])
        return PBKDF2, prf, salt, iterations, key_length
    except der.DerError:
        from asn1crypto import algos

        loaded = algos.KdfAlgorithm.load(blob)
        oid = loaded["algorithm"].dotted
        if oid != PBKDF2:
            return oid, "", None, None, None
        params = loaded["parameters"]
        return (oid, params["prf"]["algorithm"].dotted, params["salt"].chosen.native,
                params["iteration_count"].native, params["key_length"].native)


def pbes2(blob: bytes) -> tuple[str, bytes, str, bytes]:
    """A PBES2 AlgorithmIdentifier: (its OID, the KDF's DER, the encryption scheme's OID, the DER of its parameters,
    b"" when absent). Only the OID is given for another algorithm (the rest empty)."""
    try:
        parts = der.inside(blob, whole=True)
        if len(parts) != 2 or der.element_oid(blob, parts[0]) != PBES2:
            raise der.DerError("not read here")
        params = der.inside_element(blob, parts[1])
        if len(params) != 2:
            raise der.DerError("not read here")
        scheme = der.inside_element(blob, params[1])
        if not 1 <= len(scheme) <= 2:
            raise der.DerError("not read here")
        return (PBES2, _whole(blob, _expect(params[0], _SEQUENCE)), der.element_oid(blob, scheme[0]),
                _whole(blob, scheme[1]) if len(scheme) == 2 else b"")
    except der.DerError:
        from asn1crypto import algos

        alg = algos.EncryptionAlgorithm.load(blob)
        oid = alg["algorithm"].dotted
        if oid != PBES2:
            return oid, b"", "", b""
        params = alg["parameters"]
        scheme = params["encryption_scheme"]
        return oid, params["key_derivation_func"].dump(), scheme["algorithm"].dotted, scheme["parameters"].dump()


def ccm_parameters(blob: bytes) -> tuple[Any, Any]:
    """CCMParameters: (the nonce, the tag length)."""
    try:
        parts = der.inside(blob, whole=True)
        if not 1 <= len(parts) <= 2:
            raise der.DerError("not read here")
        tag_length = der.element_integer(blob, parts[1]) if len(parts) == 2 else _CCM_DEFAULT_TAG
        return der.element_octets(blob, parts[0]), tag_length
    except der.DerError:
        from asn1crypto import algos

        params = algos.CcmParams.load(blob)
        return params["aes_nonce"].native, params["aes_icvlen"].native


if TYPE_CHECKING:
    # A GeneralizedTime as read: its text, checked (made a datetime by `when`, on first use), or the datetime
    # asn1crypto read. Kept as text, a listing imports no datetime (start-up: bench/bench_core.py's "list s.bcfks").
    Time = bytes | dt.datetime
    # One ObjectData as store.py uses it: (type, identifier, last modified, data, the whole element's DER)
    ObjectData = tuple[int, str, Time, bytes, bytes]


def store_data(plain: bytes) -> tuple[bytes, Time, list[Any]]:
    """ObjectStoreData: (the integrity AlgorithmIdentifier's DER, the creation date, its objects). Each object is an
    ObjectData, or (read by asn1crypto) what object_data() turns into one, so that damage in one object is named as
    that object's. Dates are Times: `when` gives each as a datetime."""
    try:
        parts = der.inside(plain, whole=True)
        if len(parts) not in (5, 6) or (len(parts) == 6 and parts[5][0] != _UTF8_STRING):
            raise der.DerError("not read here")
        _expect(parts[0], _INTEGER)
        _expect(parts[3], _GENERALIZED_TIME)
        created = _time(plain, parts[2])
        objects = [_object(plain, item) for item in der.inside_element(plain, parts[4])]
        return _whole(plain, _expect(parts[1], _SEQUENCE)), created, objects
    except der.DerError:
        from keystores.backends.bcfks.asn1 import ObjectStoreData

        loaded = ObjectStoreData.load(plain, strict=True)
        return loaded["integrity_algorithm"].dump(), loaded["creation_date"].native, list(loaded["objects"])


def object_data(item: Any) -> ObjectData:
    """`item` of store_data()'s objects as an ObjectData."""
    if isinstance(item, tuple):
        return item
    return (item["type"].native, item["identifier"].native, item["last_modified_date"].native, item["data"].native,
            item.dump())


def _object(data: bytes, element: der.Element) -> ObjectData:
    parts = der.inside_element(data, element)
    if len(parts) not in (5, 6) or (len(parts) == 6 and parts[5][0] != _UTF8_STRING):
        raise der.DerError("not read here")
    _expect(parts[2], _GENERALIZED_TIME)
    try:
        identifier = data[_expect(parts[1], _UTF8_STRING)[2] : parts[1][3]].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise der.DerError("not read here") from exc
    return (der.element_integer(data, parts[0]), identifier, _time(data, parts[3]), der.element_octets(data, parts[4]),
            _whole(data, element))


def _time(data: bytes, element: der.Element) -> bytes:
    """The text of a GeneralizedTime in its plain UTC form (YYYYMMDDHHMMSS, up to six decimals of a second, Z) of a
    moment datetime holds (`when` reads it as asn1crypto does); DerError for anything else."""
    text = data[_expect(element, _GENERALIZED_TIME)[2] : element[3]]
    whole, fraction = text[:14], text[15:-1]
    if len(text) < 15 or not whole.isdigit() or text[-1:] != b"Z":
        raise der.DerError("not read here")
    if len(text) > 15 and (text[14:15] != b"." or not fraction.isdigit() or len(fraction) > 6):
        raise der.DerError("not read here")
    if not _real_moment(whole):  # year 0 (asn1crypto's extended_datetime) or a day that does not exist
        raise der.DerError("not read here")
    return text


_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _real_moment(whole: bytes) -> bool:
    """Whether YYYYMMDDHHMMSS (digits) is a moment datetime.datetime takes: what its constructor checks, without
    importing datetime (tests/test_bcfks_structure.py holds it to the constructor)."""
    year, month, day = int(whole[:4]), int(whole[4:6]), int(whole[6:8])
    if year < 1 or not 1 <= month <= 12:
        return False
    leap = month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return 1 <= day <= _DAYS[month - 1] + leap and int(whole[8:10]) < 24 and int(whole[10:12]) < 60 \
        and int(whole[12:14]) < 60


def when(value: Time) -> dt.datetime:
    """A Time as the datetime asn1crypto reads: UTC, with its fraction of a second."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value
    whole, fraction = value[:14], value[15:-1]
    moment = dt.datetime(int(whole[:4]), int(whole[4:6]), int(whole[6:8]), int(whole[8:10]), int(whole[10:12]),
                         int(whole[12:14]), tzinfo=dt.UTC)
    if fraction and int(fraction):
        moment += dt.timedelta(microseconds=int(fraction.ljust(6, b"0")))
    return moment


def key_data(blob: bytes) -> tuple[bytes, tuple[bytes, ...]]:
    """EncryptedPrivateKeyData: (the EncryptedPrivateKeyInfo's DER, the certificates' DER)."""
    try:
        parts = der.inside(blob, whole=True)
        if len(parts) != 2 or parts[0][0] != _SEQUENCE:
            raise der.DerError("not read here")
        return _whole(blob, parts[0]), tuple(_whole(blob, _expect(cert, _SEQUENCE))
                                             for cert in der.inside_element(blob, parts[1]))
    except der.DerError:
        from keystores.backends.bcfks.asn1 import EncryptedPrivateKeyData

        loaded = EncryptedPrivateKeyData.load(blob)
        return (loaded["encrypted_private_key_info"].dump(),
                tuple(cert.dump() for cert in loaded["certificates"]))


def secret_key_data(plain: bytes) -> tuple[str, bytes]:
    """SecretKeyData: (the key algorithm's OID, the key)."""
    try:
        parts = der.inside(plain, whole=True)
        if len(parts) != 2:
            raise der.DerError("not read here")
        return der.element_oid(plain, parts[0]), der.element_octets(plain, parts[1])
    except der.DerError:
        from keystores.backends.bcfks.asn1 import SecretKeyData

        loaded = SecretKeyData.load(plain, strict=True)
        return loaded["key_algorithm"].dotted, loaded["key_bytes"].native


# --- writing -------------------------------------------------------------------------------------------------------
def pbkdf2_der(salt: bytes, iterations: int, length: int) -> bytes:
    """PBKDF2 with HMAC-SHA512 (its PRF without parameters, as asn1crypto writes it)."""
    return der.sequence(der.oid(PBKDF2), der.sequence(der.octet_string(salt), der.integer(iterations),
                                                      der.integer(length), der.sequence(der.oid(HMAC_SHA512))))


def pbes2_ccm_der(kdf_der: bytes, nonce: bytes, tag_length: int) -> bytes:
    ccm = der.octet_string(nonce) + (der.integer(tag_length) if tag_length != _CCM_DEFAULT_TAG else b"")
    return der.sequence(der.oid(PBES2), der.sequence(kdf_der, der.sequence(der.oid(AES256_CCM), der.sequence(ccm))))


def encrypted_data_der(algorithm_der: bytes, content: bytes) -> bytes:
    return der.sequence(algorithm_der, der.octet_string(content))


def integrity_check_der(mac_algorithm_der: bytes, kdf_der: bytes, mac: bytes) -> bytes:
    return der.sequence(mac_algorithm_der, kdf_der, der.octet_string(mac))


def key_data_der(epki_der: bytes, certificates: tuple[bytes, ...]) -> bytes:
    return der.sequence(epki_der, der.sequence(*certificates))


def secret_key_data_der(oid: str, value: bytes) -> bytes:
    return der.sequence(der.oid(oid), der.octet_string(value))


def object_data_der(type_: int, identifier: str, created: dt.datetime, data: bytes) -> bytes:
    """ObjectData, created and last modified at `created`."""
    when = _time_der(created)
    return der.sequence(der.integer(type_), der.tlv(_UTF8_STRING, identifier.encode("utf-8")), when, when,
                        der.octet_string(data))


def store_data_der(integrity_der: bytes, created: dt.datetime, modified: dt.datetime, objects: list[bytes]) -> bytes:
    """ObjectStoreData, version 1, without a comment."""
    return der.sequence(der.integer(1), integrity_der, _time_der(created), _time_der(modified),
                        der.sequence(*objects))


def _time_der(value: dt.datetime) -> bytes:
    """A GeneralizedTime as asn1crypto writes a UTC datetime."""
    import datetime as dt

    value = value.astimezone(dt.UTC)
    fraction = "." + str(value.microsecond).zfill(6).rstrip("0") if value.microsecond else ""
    return der.tlv(_GENERALIZED_TIME, (value.strftime("%Y%m%d%H%M%S") + fraction + "Z").encode("ascii"))

