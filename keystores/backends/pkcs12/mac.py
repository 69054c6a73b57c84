"""The PKCS#12 integrity check: the password's MAC (RFC 7292 HMAC and PBMAC1), verified on read and made on write."""

from __future__ import annotations

import os

from keystores.backends.pkcs12.bags import _note_suspicious, _Parsed
from keystores.errors import (
    CorruptStore,
    PasswordRequired,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.limits import (
    MAX_KEY_LENGTH,
    check_kdf,
)
from keystores.model import ProtectionPart

try:  # hmac's own C functions (hmac.compare_digest is _hashlib.compare_digest; hmac.digest calls hmac_digest for a
    # digest named by str), without importing hmac (~0.2 ms of opening any PKCS#12, bench/bench_core.py "list one.p12")
    from _hashlib import compare_digest
    from _hashlib import hmac_digest as _openssl_hmac
except ImportError:  # pragma: no cover - an interpreter without OpenSSL
    from hmac import compare_digest
    from hmac import digest as _openssl_hmac

TYPE_CHECKING = False
if TYPE_CHECKING:
    from keystores.backends.pkcs12.store import _WriteProfile
    from keystores.backends.pkcs12.structure import Mac

PBMAC1_OID = "1.2.840.113549.1.5.14"

# The digest sizes of the hashes every hashlib offers (FIPS 180-4), written out: hashlib's import makes a constructor
# for every digest it offers (~0.4 ms of bench/bench_core.py "list one.p12", which needs none of them); the others
# are asked of hashlib, which also says when this interpreter lacks one.
_DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


def _digest_size(hash_name: str) -> int:
    size = _DIGEST_SIZES.get(hash_name)
    if size is None:
        import hashlib

        size = hashlib.new(hash_name).digest_size
    return size


def _hmac(key: bytes, content: bytes, hash_name: str) -> bytes:
    """HMAC-`hash_name` of `content`, as hmac.new(key, content, hash_name).digest(): by OpenSSL's HMAC as hmac.digest
    does it, or by hmac for a digest the interpreter's OpenSSL does not offer (UnsupportedDigestmodError is a
    ValueError), as hmac falls back."""
    try:
        return _openssl_hmac(key, content, hash_name)  # type: ignore[no-any-return]
    except ValueError:
        import hmac

        return hmac.new(key, content, hash_name).digest()


def _password_candidates(password: str | None) -> list[tuple[bytes, str | None]]:
    """(MAC password bytes, the str to give the bag ciphers) in the order tools produce them.

    BMPString with a terminator is the standard; an empty password may also be OpenSSL's NULL (no bytes);
    OpenSSL 1.x turned each UTF-8 *byte* into one BMP character, so non-ASCII passwords from it need that too.
    """
    from keystores.crypto.kdf import bmp_password

    pw = password or ""
    candidates = [(bmp_password(pw), pw)]
    if not pw:
        candidates.append((b"", pw))
    else:
        mangled = pw.encode("utf-8").decode("latin-1")
        if mangled != pw:
            candidates.append((bmp_password(mangled), mangled))
    return candidates


def _verify_mac(mac: Mac, content: bytes, password: str | None, location: str,
                parsed: _Parsed) -> tuple[str | None, ProtectionPart]:
    """Check the MAC with each plausible password encoding; return (password for the bags, its protection)."""
    expected = mac.digest
    if mac.algorithm == PBMAC1_OID:
        return _verify_pbmac1(mac.parameters, expected, content, password, location, parsed)
    from keystores.crypto.pbe import derive_pkcs12  # (loaded: the parts' parameters were checked by it)

    # by OID: asn1crypto names neither SM3 nor the SHA-512/t variants (openssl pkcs12 -macalg offers them all)
    hash_name = _MAC_HASHES.get(mac.algorithm, "")
    if not hash_name:
        raise UnsupportedFormat(f"unsupported MAC algorithm {mac.algorithm}", store=location)
    salt = mac.salt
    iterations = mac.iterations
    size = _digest_size(hash_name)
    check_kdf(iterations, size, max_key_length=size, what="PKCS#12 MAC")
    _note_suspicious(parsed, iterations, "the PKCS#12 MAC", location)
    description = ProtectionPart(f"HMAC-{_hash_label(hash_name)} (PKCS#12 KDF), {iterations} iterations",
                                 ("HMAC", _hash_label(hash_name), "PKCS#12 KDF"), iterations)
    for encoded, bag_password in _password_candidates(password):
        parsed.budget.charge(iterations, 1, "PKCS#12 MAC")
        key = derive_pkcs12(encoded, salt, 3, iterations, size, hash_name)  # taken if started ahead (store.py)
        if compare_digest(_hmac(key, content, hash_name), expected):
            return bag_password, description
    _mac_failed(password, location)
    raise AssertionError("unreachable")


def _verify_pbmac1(params_der: bytes, expected: bytes, content: bytes, password: str | None,
                   location: str, parsed: _Parsed) -> tuple[str | None, ProtectionPart]:
    """RFC 9579 PBMAC1: PBKDF2 over the UTF-8 password, then HMAC."""
    from asn1crypto import algos, core
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    class Pbmac1Params(core.Sequence):
        _fields = [("key_derivation_func", algos.KdfAlgorithm),  # noqa: RUF012 - asn1crypto declares fields so
                   ("message_auth_scheme", algos.HmacAlgorithm)]

    params = Pbmac1Params.load(params_der, strict=True)
    kdf = params["key_derivation_func"]
    if kdf["algorithm"].native != "pbkdf2":
        raise UnsupportedFormat("PBMAC1 with a key derivation other than PBKDF2", store=location)
    kdf_params = kdf["parameters"]
    prf = kdf_params["prf"]["algorithm"].native
    mac_hash = params["message_auth_scheme"]["algorithm"].native
    iterations = kdf_params["iteration_count"].native
    length = kdf_params["key_length"].native
    if length is None:
        raise CorruptStore("PBMAC1 parameters have no key length (RFC 9579 requires one)", store=location)
    hash_classes = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
                    "sha384": hashes.SHA384, "sha512": hashes.SHA512}
    if prf not in hash_classes or mac_hash not in hash_classes:
        raise UnsupportedFormat(f"PBMAC1 with {prf}/{mac_hash} is not supported", store=location)
    check_kdf(iterations, length, max_key_length=MAX_KEY_LENGTH, what="PBMAC1")
    _note_suspicious(parsed, iterations, "the PKCS#12 PBMAC1", location)
    for pw in dict.fromkeys([password or ""]):
        parsed.budget.charge(iterations, -(-length // _digest_size(prf)), "PBMAC1")
        key = PBKDF2HMAC(hash_classes[prf](), length, kdf_params["salt"].native, iterations).derive(
            pw.encode("utf-8"))
        if compare_digest(_hmac(key, content, mac_hash), expected):
            return pw, ProtectionPart(f"PBMAC1 HMAC-{_hash_label(mac_hash)} (PBKDF2-HMAC-{_hash_label(prf)}), "
                                      f"{iterations} iterations",
                                      ("PBMAC1", "HMAC", _hash_label(mac_hash), "PBKDF2", _hash_label(prf)),
                                      iterations)
    _mac_failed(password, location)
    raise AssertionError("unreachable")


_MAC_HASHES = {"1.3.14.3.2.26": "sha1", "2.16.840.1.101.3.4.2.4": "sha224", "2.16.840.1.101.3.4.2.1": "sha256",
               "2.16.840.1.101.3.4.2.2": "sha384", "2.16.840.1.101.3.4.2.3": "sha512", "1.2.840.113549.2.5": "md5",
               "2.16.840.1.101.3.4.2.5": "sha512_224", "2.16.840.1.101.3.4.2.6": "sha512_256",
               "2.16.840.1.101.3.4.2.7": "sha3_224", "2.16.840.1.101.3.4.2.8": "sha3_256",
               "2.16.840.1.101.3.4.2.9": "sha3_384", "2.16.840.1.101.3.4.2.10": "sha3_512",
               "1.2.156.10197.1.401": "sm3"}


def _mac_failed(password: str | None, location: str) -> None:
    if password is None:
        raise PasswordRequired("this PKCS#12 file is protected by a password; give one", store=location)
    raise WrongPassword("wrong password (the PKCS#12 MAC does not match)", store=location)


def _hash_label(name: str) -> str:
    return {"sha1": "SHA-1", "sha224": "SHA-224", "sha256": "SHA-256", "sha384": "SHA-384",
            "sha512": "SHA-512", "md5": "MD5", "sha512_224": "SHA-512/224", "sha512_256": "SHA-512/256",
            "sha3_224": "SHA3-224", "sha3_256": "SHA3-256", "sha3_384": "SHA3-384", "sha3_512": "SHA3-512",
            "sm3": "SM3"}.get(name, name.upper())


def _mac_key(password: str, profile: _WriteProfile) -> tuple[bytes, bytes]:
    """(a fresh salt, the MAC key derived from it): derived before the content is known, so that a writer derives it
    beside its bags' keys (keystores.backends.pkcs12.write)."""
    from keystores.crypto.kdf import bmp_password, pkcs12_kdf

    salt = os.urandom(profile.mac_salt_length)
    size = _digest_size(profile.mac_hash)
    return salt, pkcs12_kdf(bmp_password(password), salt, 3, profile.mac_iterations, size, profile.mac_hash)


def _make_mac(content: bytes, password: str, profile: _WriteProfile, key: tuple[bytes, bytes] | None = None) -> bytes:
    """The MacData DER, written with keystores.crypto.der (no asn1crypto import on the write path: start-up speed,
    bench/bench_core.py "start-up: keystores certreq"); `key` is _mac_key's, made now when not given."""
    from keystores.crypto import der

    salt, mac_key = key if key is not None else _mac_key(password, profile)
    digest = _hmac(mac_key, content, profile.mac_hash)
    algorithm = der.sequence(der.oid(_HASH_OIDS[profile.mac_hash]), b"\x05\x00")  # with NULL, as before
    return der.sequence(der.sequence(algorithm, der.octet_string(digest)), der.octet_string(salt),
                        der.integer(profile.mac_iterations))


_HASH_OIDS = {"sha1": "1.3.14.3.2.26", "sha224": "2.16.840.1.101.3.4.2.4", "sha256": "2.16.840.1.101.3.4.2.1",
              "sha384": "2.16.840.1.101.3.4.2.2", "sha512": "2.16.840.1.101.3.4.2.3"}
