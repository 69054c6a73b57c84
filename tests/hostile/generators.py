"""Generators for hostile files: each builds, in a few milliseconds, bytes that once hung keystores or made it
spend minutes or gigabytes. Nothing here is committed as a file; the tests write what these return.

Each generator's docstring says what the file asks for and why a naive reader suffers.
"""

from __future__ import annotations

import struct
from pathlib import Path

from bounded import PASSWORD


def _java_utf(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


def _java_digest(password: str, body: bytes) -> bytes:
    from keystores.crypto.decrepit.java import store_digest

    return store_digest(password, body)


def jceks_self_superclass() -> bytes:
    """A JCEKS secret-key entry whose Java object stream declares a class descriptor and then names it, by a
    back-reference to its own handle, as its superclass: walking the class hierarchy never ends."""
    stream = (b"\xac\xed\x00\x05"  # STREAM_MAGIC, STREAM_VERSION
              + b"\x73"  # TC_OBJECT
              + b"\x72" + _java_utf("A") + bytes(8) + b"\x02" + b"\x00\x00"  # TC_CLASSDESC A, suid, SERIALIZABLE
              + b"\x78"  # TC_ENDBLOCKDATA (no class annotation)
              + b"\x71\x00\x7e\x00\x00")  # superclass: TC_REFERENCE to handle 0, which is A itself
    body = (b"\xce\xce\xce\xce" + struct.pack(">II", 2, 1)
            + struct.pack(">I", 3) + _java_utf("k") + struct.pack(">q", 0) + stream)
    return body + _java_digest(PASSWORD, body)


def jceks_superclass_loop() -> bytes:
    """As jceks_self_superclass, with the loop two classes long: A's superclass B names A as its superclass."""
    stream = (b"\xac\xed\x00\x05\x73"
              + b"\x72" + _java_utf("A") + bytes(8) + b"\x02\x00\x00\x78"
              + b"\x72" + _java_utf("B") + bytes(8) + b"\x02\x00\x00\x78"
              + b"\x71\x00\x7e\x00\x00")  # B's superclass: A
    body = (b"\xce\xce\xce\xce" + struct.pack(">II", 2, 1)
            + struct.pack(">I", 3) + _java_utf("k") + struct.pack(">q", 0) + stream)
    return body + _java_digest(PASSWORD, body)


# --- PKCS#12 ----------------------------------------------------------------------------------------------------

def _pbes2(iterations: int, key_length: int | None = None, salt: bytes = b"s" * 8) -> dict:
    kdf = {"salt": {"specified": salt}, "iteration_count": iterations,
           "prf": {"algorithm": "sha256", "parameters": None}}
    if key_length is not None:
        kdf["key_length"] = key_length
    return {"algorithm": "pbes2",
            "parameters": {"key_derivation_func": {"algorithm": "pbkdf2", "parameters": kdf},
                           "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": b"i" * 16}}}


def _pfx(infos: list, *, mac_iterations: int = 2048, mac: object = "pkcs12") -> bytes:
    """A PFX around `infos` (ContentInfo objects) with a valid MAC under PASSWORD (cheap unless asked otherwise)."""
    import hashlib
    import hmac

    from asn1crypto import cms, core, pkcs12

    from keystores.crypto.kdf import bmp_password, pkcs12_kdf

    safe = pkcs12.AuthenticatedSafe(infos).dump()
    pfx: dict = {"version": "v3",
                 "auth_safe": cms.ContentInfo({"content_type": "data", "content": core.OctetString(safe)})}
    if mac == "pkcs12":
        salt = b"m" * 8
        digest = b"\0" * 32
        if mac_iterations <= 100_000:  # a real MAC where computing it is cheap; hostile counts never get that far
            key = pkcs12_kdf(bmp_password(PASSWORD), salt, 3, mac_iterations, 32, "sha256")
            digest = hmac.new(key, safe, hashlib.sha256).digest()
        pfx["mac_data"] = pkcs12.MacData({"mac": {"digest_algorithm": {"algorithm": "sha256"}, "digest": digest},
                                          "mac_salt": salt, "iterations": mac_iterations})
    elif mac is not None:
        pfx["mac_data"] = mac
    return pkcs12.Pfx(pfx).dump()


def _data_part(bags: list) -> object:
    from asn1crypto import cms, core, pkcs12

    return cms.ContentInfo({"content_type": "data", "content": core.OctetString(pkcs12.SafeContents(bags).dump())})


def _encrypted_part(algorithm: dict, ciphertext: bytes = b"c" * 32) -> object:
    from asn1crypto import cms

    return cms.ContentInfo({"content_type": "encrypted_data", "content": cms.EncryptedData({
        "version": "v0",
        "encrypted_content_info": {"content_type": "data", "content_encryption_algorithm": algorithm,
                                   "encrypted_content": ciphertext}})})


def _shrouded_key_bag(algorithm: dict) -> object:
    from asn1crypto import keys, pkcs12

    epki = keys.EncryptedPrivateKeyInfo({"encryption_algorithm": algorithm, "encrypted_data": b"k" * 48})
    return pkcs12.SafeBag({"bag_id": "pkcs8_shrouded_key_bag", "bag_value": epki})


def p12_key_pbkdf2_iterations() -> bytes:
    """A key bag (no localKeyId, so it is decrypted at open to find its certificate) whose PBKDF2 asks for
    2**64 - 1 iterations."""
    return _pfx([_data_part([_shrouded_key_bag(_pbes2(2**64 - 1))])])


def p12_key_pbkdf2_key_length() -> bytes:
    """A key bag whose PBKDF2 keyLength is 2**31 - 1 bytes for an AES-256 key (PBKDF2 costs one run per block)."""
    return _pfx([_data_part([_shrouded_key_bag(_pbes2(2048, key_length=2**31 - 1))])])


def p12_certs_kdf_iterations() -> bytes:
    """The certificate part encrypted with pbeWithSHAAnd3-KeyTripleDES-CBC at 2**64 - 1 iterations of the PKCS#12
    KDF (a few hundred bytes; 9.5 minutes per decryption at 2**32, never at 2**64)."""
    return _pfx([_encrypted_part({"algorithm": "pkcs12_sha1_tripledes_3key",
                                  "parameters": {"salt": b"s" * 8, "iterations": 2**64 - 1}})])


def p12_mac_iterations() -> bytes:
    """A MAC computed with 2**31 - 1 iterations of the PKCS#12 KDF."""
    return _pfx([_data_part([])], mac_iterations=2**31 - 1)


def _pbmac1(iterations: int, key_length: int) -> object:
    from asn1crypto import algos, core, pkcs12

    class Pbmac1Params(core.Sequence):
        _fields = [("key_derivation_func", algos.KdfAlgorithm),  # noqa: RUF012 - asn1crypto's field table
                   ("message_auth_scheme", algos.HmacAlgorithm)]

    params = Pbmac1Params({
        "key_derivation_func": {"algorithm": "pbkdf2", "parameters": {
            "salt": {"specified": b"s" * 16}, "iteration_count": iterations, "key_length": key_length,
            "prf": {"algorithm": "sha512", "parameters": None}}},
        "message_auth_scheme": {"algorithm": "sha512", "parameters": None}})
    alg = algos.DigestAlgorithm({"algorithm": "1.2.840.113549.1.5.14", "parameters": core.Any.load(params.dump())})
    return pkcs12.MacData({"mac": {"digest_algorithm": alg, "digest": b"\0" * 64}, "mac_salt": b"NOT USED",
                           "iterations": 1})


def p12_pbmac1_at_old_maxima() -> bytes:
    """PBMAC1 at the maxima accepted before (10,000,000 iterations, keyLength 1024 of PBKDF2-HMAC-SHA512): 80 s
    per open."""
    return _pfx([_data_part([])], mac=_pbmac1(10_000_000, 1024))


def p12_pbmac1_key_length() -> bytes:
    """PBMAC1 at an ordinary iteration count but keyLength 1024 bytes for HMAC-SHA512 (16 PBKDF2 runs)."""
    return _pfx([_data_part([])], mac=_pbmac1(2048, 1024))


def p12_many_parts_at_ceiling() -> bytes:
    """Eleven certificate parts, each at the iteration ceiling: each allowed alone, together over the budget."""
    from keystores.limits import MAX_ITERATIONS

    return _pfx([_encrypted_part(_pbes2(MAX_ITERATIONS)) for _ in range(11)])


def _ec_certificate() -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding
    from helpers import certificate, ec_key

    return certificate(ec_key(7), "hostile").public_bytes(Encoding.DER)


def jceks_key_iterations() -> bytes:
    """A JCEKS private key protected with PBEWithMD5AndTripleDES at 2**31 - 1 iterations (JDK reads at most
    5,000,000)."""
    from keystores.crypto import der

    params = der.tlv(0x30, der.tlv(0x04, b"saltsalt") + der.integer(2**31 - 1))
    epki = der.tlv(0x30, der.tlv(0x30, der.oid("1.3.6.1.4.1.42.2.19.1") + params) + der.tlv(0x04, b"k" * 32))
    cert = _ec_certificate()
    body = (b"\xce\xce\xce\xce" + struct.pack(">II", 2, 1)
            + struct.pack(">I", 1) + _java_utf("k") + struct.pack(">q", 0)
            + struct.pack(">I", len(epki)) + epki
            + struct.pack(">I", 1) + _java_utf("X.509") + struct.pack(">I", len(cert)) + cert)
    return body + _java_digest(PASSWORD, body)


# --- CMS (.kdb with its .sth) -------------------------------------------------------------------------------------

def cms_key_iterations() -> tuple[bytes, bytes]:
    """(.kdb, .sth): a GSKit key database, valid under the stashed password, whose one key record is encrypted with
    the PKCS#12 KDF at 2**64 - 1 iterations. `list` took the stash and decrypted the key at open (twice)."""
    from asn1crypto import keys

    from keystores.backends.cms import container as fmt
    from keystores.backends.cms import stash as cms_stash
    from keystores.crypto import der

    epki = keys.EncryptedPrivateKeyInfo({
        "encryption_algorithm": {"algorithm": "pkcs12_sha1_tripledes_3key",
                                 "parameters": {"salt": b"s" * 8, "iterations": 2**64 - 1}},
        "encrypted_data": b"k" * 48}).dump()
    content = der.tlv(0xA2, der.tlv(0x30, _ec_certificate() + epki))
    record = fmt.Record(1, fmt.KEY_PAIR, content, b"k", True, False)
    slot = fmt.slot_body(fmt.Slot(1, 1, fmt.build_record(record), b"k", 0, b""))
    container = fmt.Container(4, fmt.KIND_KEYS, fmt.TAG_KDB, fmt.DEFAULT_SLOT, fmt.new_salt(),
                              [fmt.pad_slot(slot, fmt.DEFAULT_SLOT)])
    return fmt.build_container(container, PASSWORD), cms_stash.encode(PASSWORD)


# --- NSS ---------------------------------------------------------------------------------------------------------

def _nss_database(folder: Path) -> None:
    from helpers import trusted_entry

    from keystores import open_store

    with open_store(f"sql:{folder}", password=PASSWORD, create=True) as store:
        store.add(trusted_entry("hostile ca"))


def _set_meta(folder: Path, where: str, blob: bytes, column: str = "item1") -> None:
    import sqlite3

    with sqlite3.connect(folder / "key4.db") as conn:
        changed = conn.execute(f"UPDATE metaData SET {column} = ? WHERE id LIKE ?", (blob, where)).rowcount
    assert changed, where


def nss_legacy_password_check(folder: Path) -> None:
    """key4.db's password check in NSS's legacy SHA-1/3DES PBE at 2**31 - 1 iterations (a Python SHA-1 loop:
    about 20 minutes before; NSS itself writes 1 or 10,000)."""
    from keystores.backends.nss import crypto as nc
    from keystores.crypto import der

    _nss_database(folder)
    params = der.sequence(der.octet_string(b"s" * 20), der.integer(2**31 - 1))
    blob = der.sequence(der.sequence(der.oid(nc.OID_NSS_LEGACY_3DES), params), der.octet_string(b"c" * 16))
    _set_meta(folder, "password", blob, "item2")


def nss_password_check_key_length(folder: Path) -> None:
    """The password check in PBES2 with PBKDF2 keyLength 2**24 for an AES-256 key (2**19 PBKDF2 runs)."""
    from keystores.backends.nss import crypto as nc
    from keystores.crypto import der

    _nss_database(folder)
    kdf = der.sequence(der.oid(nc.OID_PBKDF2), der.sequence(der.octet_string(b"s" * 32), der.integer(10000),
                                                        der.integer(2**24),
                                                        der.sequence(der.oid("1.2.840.113549.2.9"))))
    scheme = der.sequence(der.oid("2.16.840.1.101.3.4.1.42"), der.octet_string(b"i" * 14))
    alg = der.sequence(der.oid(nc.OID_PBES2), der.sequence(kdf, scheme))
    _set_meta(folder, "password", der.sequence(alg, der.octet_string(b"c" * 32)), "item2")


def nss_trust_mac_iterations(folder: Path) -> None:
    """Every trust MAC at 6,000,000 PBKDF2 iterations: just above the ceiling, seconds each before."""
    from keystores.backends.nss import crypto as nc
    from keystores.crypto import der

    _nss_database(folder)
    kdf = der.sequence(der.oid(nc.OID_PBKDF2), der.sequence(der.octet_string(b"s" * 32), der.integer(6_000_000),
                                                        der.integer(32),
                                                        der.sequence(der.oid("1.2.840.113549.2.9"))))
    alg = der.sequence(der.oid(nc.OID_PBMAC1), der.sequence(kdf, der.sequence(der.oid("1.2.840.113549.2.9"))))
    _set_meta(folder, "sig_cert_%", der.sequence(alg, der.octet_string(b"m" * 32)))


# --- PEM ---------------------------------------------------------------------------------------------------------

def _pem(label: str, der: bytes) -> bytes:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n".encode()


def _encrypted_key(algorithm: dict) -> bytes:
    from asn1crypto import keys

    return keys.EncryptedPrivateKeyInfo({"encryption_algorithm": algorithm, "encrypted_data": b"k" * 48}).dump()


def pem_key_iterations() -> bytes:
    """An ENCRYPTED PRIVATE KEY block whose PBKDF2 asks for 2**64 - 1 iterations (cryptography tried it, then
    keystores.crypto.pbe again)."""
    return _pem("ENCRYPTED PRIVATE KEY", _encrypted_key(_pbes2(2**64 - 1)))


def pem_scrypt_cost() -> bytes:
    """An ENCRYPTED PRIVATE KEY block with scrypt at N = 2**30 (128 GiB of memory)."""
    from asn1crypto import algos, core

    scrypt = core.Sequence.load(b"\x30" + bytes([10 + 6 + 3 + 3]) + b"\x04\x08saltsalt" + b"\x02\x04\x40\x00\x00\x00"
                                + b"\x02\x01\x08" + b"\x02\x01\x01")
    algorithm = algos.EncryptionAlgorithm({
        "algorithm": "pbes2",
        "parameters": {"key_derivation_func": {"algorithm": "1.3.6.1.4.1.11591.4.11",
                                               "parameters": core.Any.load(scrypt.dump())},
                       "encryption_scheme": {"algorithm": "aes256_cbc", "parameters": b"i" * 16}}})
    return _pem("ENCRYPTED PRIVATE KEY", _encrypted_key(algorithm))


def pem_many_keys_at_ceiling() -> bytes:
    """Eleven ENCRYPTED PRIVATE KEY blocks at the iteration ceiling: each allowed, together over the budget."""
    from keystores.limits import MAX_ITERATIONS

    return b"".join(_pem("ENCRYPTED PRIVATE KEY", _encrypted_key(_pbes2(MAX_ITERATIONS, salt=bytes([n]) * 8)))
                    for n in range(11))


# --- chain building and labels -------------------------------------------------------------------------------------

def _name(cn: str) -> object:
    from asn1crypto import x509

    return x509.Name.build({"common_name": cn})


def _unsigned_certificate(subject: str, issuer: str, spki: object, serial: int, signature_size: int) -> bytes:
    """A certificate whose signature is random bytes: chain building must verify it (and fail) to know."""
    import os

    from asn1crypto import x509

    tbs = x509.TbsCertificate({
        "version": "v3", "serial_number": serial, "signature": {"algorithm": "sha256_rsa"},
        "issuer": _name(issuer), "subject": _name(subject),
        "validity": {"not_before": x509.Time({"utc_time": _pinned()}),
                     "not_after": x509.Time({"utc_time": _pinned(20)})},
        "subject_public_key_info": spki})
    return x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": {"algorithm": "sha256_rsa"},
                             "signature_value": b"\x01" + os.urandom(signature_size - 1)}).dump()


def _pinned(years: int = 0) -> object:
    import datetime as dt

    return dt.datetime(2025 + years, 1, 1, tzinfo=dt.UTC)


def _rsa_spki(bits: int, exponent: int) -> object:
    """An RSA public key of `bits` bits (a random odd modulus: no one needs its factors) and `exponent`."""
    import os

    from asn1crypto import keys

    modulus = int.from_bytes(os.urandom(bits // 8), "big") | (1 << (bits - 1)) | 1
    return keys.PublicKeyInfo({"algorithm": {"algorithm": "rsa"},
                               "public_key": keys.RSAPublicKey({"modulus": modulus, "public_exponent": exponent})})


def pem_chain_candidates(leaves: int, candidates: int, bits: int, exponent: int) -> bytes:
    """`leaves` key pairs issued by "CN=hostile CA", and `candidates` certificates named "CN=hostile CA" with
    `bits`-bit RSA keys of public exponent `exponent`: chain building tried every candidate for every leaf."""
    from asn1crypto import keys
    from cryptography.hazmat.primitives import serialization
    from helpers import ec_key

    out = []
    for number in range(leaves):
        key = ec_key(100 + number)
        spki = keys.PublicKeyInfo.load(key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
        out.append(_pem("CERTIFICATE", _unsigned_certificate(f"leaf {number}", "hostile CA", spki, number + 1,
                                                              bits // 8)))
        out.append(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))
    for number in range(candidates):
        out.append(_pem("CERTIFICATE", _unsigned_certificate("hostile CA", "root", _rsa_spki(bits, exponent),
                                                              1000 + number, bits // 8)))
    return b"".join(out)


def p12_same_label(copies: int) -> bytes:
    """A PKCS#12 (no password) of `copies` certificate bags, all with the friendlyName "same": labels were made
    unique in quadratic time with one note per copy."""
    from asn1crypto import cms, core, pkcs12, x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from helpers import certificate, ec_key

    from keystores.crypto import der

    cert = x509.Certificate.load(certificate(ec_key(9), "same").public_bytes(Encoding.DER))
    attrs = pkcs12.Attributes([{"type": "friendly_name", "values": ["same"]}])
    bag = pkcs12.SafeBag({"bag_id": "cert_bag", "bag_value": {"cert_id": "x509", "cert_value": cert},
                          "bag_attributes": attrs}).dump()
    part = cms.ContentInfo({"content_type": "data", "content": core.OctetString(der.tlv(0x30, bag * copies))})
    return _pfx([part], mac=None)


def p12_lazy_key_iterations() -> bytes:
    """A valid store (MAC under PASSWORD) whose key bag names its certificate by localKeyId but asks for 2**40
    PBKDF2 iterations: listed without opening the key; refused, by name, when a command needs it."""
    from asn1crypto import pkcs12, x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from helpers import certificate, ec_key

    key_id = b"\x01" * 20
    attrs = pkcs12.Attributes([{"type": "friendly_name", "values": ["slow"]},
                               {"type": "local_key_id", "values": [key_id]}])
    key_bag = _shrouded_key_bag(_pbes2(2**40))
    key_bag["bag_attributes"] = attrs
    cert = x509.Certificate.load(certificate(ec_key(11), "slow").public_bytes(Encoding.DER))
    cert_bag = pkcs12.SafeBag({"bag_id": "cert_bag", "bag_value": {"cert_id": "x509", "cert_value": cert},
                               "bag_attributes": attrs})
    return _pfx([_data_part([key_bag, cert_bag])])


def p12_suspicious_iterations() -> bytes:
    """A real store whose certificate part is encrypted with 1,500,000 PBKDF2 iterations: allowed (under the
    ceiling), but far above what any tool writes by default."""
    from asn1crypto import algos, cms, pkcs12

    from keystores.crypto import pbe

    algorithm, ciphertext = pbe.encrypt_with("pbes2-aes256-sha256", pkcs12.SafeContents([]).dump(), PASSWORD,
                                             iterations=1_500_000)
    part = cms.ContentInfo({"content_type": "encrypted_data", "content": cms.EncryptedData({
        "version": "v0",
        "encrypted_content_info": {"content_type": "data",
                                   "content_encryption_algorithm": algos.EncryptionAlgorithm.load(algorithm),
                                   "encrypted_content": ciphertext}})})
    return _pfx([part])


def jks_same_alias(copies: int) -> bytes:
    """A JKS of `copies` trusted-certificate entries all under the alias "same" (keytool keeps the last): one note
    per repeat before."""
    from cryptography.hazmat.primitives.serialization import Encoding
    from helpers import certificate, ec_key

    cert = certificate(ec_key(12), "same").public_bytes(Encoding.DER)
    entry = (struct.pack(">I", 2) + _java_utf("same") + struct.pack(">q", 0)
             + _java_utf("X.509") + struct.pack(">I", len(cert)) + cert)
    body = b"\xfe\xed\xfe\xed" + struct.pack(">II", 2, copies) + entry * copies
    return body + _java_digest(PASSWORD, body)
