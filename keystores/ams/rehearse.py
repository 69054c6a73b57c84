"""A rehearsal of AMS protection: the same cryptography with the same keys, as standard CMS (RFC 5652).

Not AMS's on-queue format (AMS wraps its protection in its own message header): what `protect` writes is
SignedData (integrity), EnvelopedData around SignedData (privacy: signed, then encrypted, as
`openssl cms -sign | openssl cms -encrypt` makes it) or EnvelopedData (confidentiality), so that `openssl cms
-verify/-decrypt` can judge it, and `unprotect` reads what openssl makes the same way. A key or certificate problem
(wrong key usage, no certificate for a recipient, an untrusted signer) shows here, not on
SYSTEM.PROTECTION.ERROR.QUEUE.

The structures are built and read with asn1crypto rather than cryptography's pkcs7 module: that module signs and
decrypts only with private keys in memory (a token key must sign and decrypt on the token, through the store's
Signer and Decrypter), encrypts only with AES, and does not verify. Content ciphers: AES128/AES256-CBC,
3DES (des-ede3-cbc), DES and RC2 (128-bit), as AMS's -e names them; key transport RSA PKCS#1 v1.5 with
issuerAndSerialNumber, as openssl cms and AMS use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os

from keystores.ams.doctor import certificate_der
from keystores.crypto import der
from keystores.errors import CorruptStore, ExitCode, KeystoreError, UsageError
from keystores.frozen import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cryptography import x509

    from keystores.ams.policy import Policy
    from keystores.model import Decrypter, Signer

# AMS -e name -> (asn1crypto algorithm name, key bytes)
CIPHERS = {"AES128": ("aes128_cbc", 16), "AES256": ("aes256_cbc", 32), "3DES": ("tripledes_3key", 24),
           "DES": ("des", 8), "RC2": ("rc2", 16)}
_MAX_INPUT = 64 * 1024 * 1024  # AMS messages are at most 100 MB; a rehearsal needs far less


class MessageRefused(KeystoreError):
    """unprotect refuses the message as AMS's getter would (not a recipient, bad signature, signer not accepted
    or not trusted): exit 5."""

    exit_code = ExitCode.CHECKS_FAILED


class Unprotected(Record):
    _fields = ("message", "signer", "encrypted_with", "notes")

    def __init__(self, message: bytes, signer: str | None = None, encrypted_with: str | None = None,
                 notes: list[str] | None = None) -> None:
        self.message = message
        self.signer = signer  # the signer's DN, when signed
        self.encrypted_with = encrypted_with  # the content cipher, when encrypted
        self.notes: list[str] = [] if notes is None else notes


def protect(message: bytes, policy: Policy, *, signer: Signer | None, signer_cert: x509.Certificate | None,
            recipients: list[x509.Certificate], at: dt.datetime | None = None) -> bytes:
    """The DER ContentInfo AMS's putter would make of `message` under `policy` (see the module docstring)."""
    if policy.quality == "none":
        raise UsageError(f"policy {policy.name} neither signs nor encrypts: there is nothing to rehearse")
    content = message
    if policy.signs:
        if signer is None or signer_cert is None:
            raise UsageError(f"policy {policy.name} signs: the putter's key and certificate are needed")
        content = _signed_data(content, policy.sign_algorithm, signer, signer_cert, at or dt.datetime.now(dt.UTC))
        if not policy.encrypts:
            return content
    if not recipients:
        raise UsageError(f"policy {policy.name} encrypts: no recipient certificate to encrypt for")
    return _enveloped_data(content, policy.encrypt_algorithm, recipients)


def _signed_data(content: bytes, algorithm: str, signer: Signer, cert: x509.Certificate, at: dt.datetime) -> bytes:
    hash_name = algorithm.lower()
    certificate = certificate_der(cert)
    digest = hashlib.new(hash_name, content).digest()
    attributes = [_attribute(_CONTENT_TYPE, der.oid(_DATA)), _attribute(_SIGNING_TIME, _signing_time(at)),
                  _attribute(_MESSAGE_DIGEST, der.octet_string(digest))]
    signed_attributes = b"".join(attributes)
    # signed over the attributes as a SET OF (RFC 5652 5.4); carried as [0] IMPLICIT
    signature = signer.sign(der.tlv(0x31, signed_attributes), hash_name)
    # parameters NULL, as asn1crypto and openssl write them, but for MD5 (absent, as asn1crypto writes it)
    digest_algorithm = der.sequence(der.oid(_DIGESTS[hash_name]), *([] if hash_name == "md5" else [der.tlv(5, b"")]))
    info = der.sequence(der.integer(1), _issuer_and_serial(certificate), digest_algorithm,
                        der.tlv(0xA0, signed_attributes), der.sequence(der.oid(_RSA), der.tlv(0x05, b"")),
                        der.octet_string(signature))
    signed = der.sequence(
        der.integer(1),
        der.tlv(0x31, digest_algorithm),
        der.sequence(der.oid(_DATA), der.tlv(0xA0, der.octet_string(content))),
        der.tlv(0xA0, certificate),
        der.tlv(0x31, info),
    )
    return der.sequence(der.oid(_SIGNED_DATA), der.tlv(0xA0, signed))


def _enveloped_data(content: bytes, algorithm: str, recipients: list[x509.Certificate]) -> bytes:
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    size = CIPHERS[algorithm][1]
    key = os.urandom(size)
    iv = os.urandom(8 if algorithm in ("3DES", "DES", "RC2") else 16)
    infos = []
    for cert in recipients:
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise UsageError(f"recipient {cert.subject.rfc4514_string()} has no RSA key: AMS needs RSA")
        infos.append(der.sequence(der.integer(0), _issuer_and_serial(certificate_der(cert)),
                                  der.sequence(der.oid(_RSA), der.tlv(0x05, b"")),
                                  der.octet_string(public.encrypt(key, padding.PKCS1v15()))))
    return _envelope(infos, algorithm, iv, _cipher(algorithm, key, iv, content, encrypt=True))


def _envelope(recipient_infos: list[bytes], algorithm: str, iv: bytes, encrypted: bytes) -> bytes:
    """The ContentInfo of an EnvelopedData (RFC 5652 6.1), v0, its recipients' KeyTransRecipientInfos as given."""
    parameters = der.octet_string(iv)
    if algorithm == "RC2":
        parameters = der.sequence(der.integer(58), parameters)  # RC2-CBC parameter version 58: 128 effective bits
    enveloped = der.sequence(
        der.integer(0),
        der.tlv(0x31, b"".join(recipient_infos)),
        der.sequence(der.oid(_DATA), der.sequence(der.oid(_CIPHER_OIDS[algorithm]), parameters),
                     der.tlv(0x80, encrypted)),
    )
    return der.sequence(der.oid(_ENVELOPED_DATA), der.tlv(0xA0, enveloped))


# What protect writes, encoded here with keystores.crypto.der (asn1crypto's cms module, which unprotect reads with,
# costs more CPU to import than starting Python twice; tests/test_ams_rehearse_der.py holds the bytes to it).
_DATA, _SIGNED_DATA, _ENVELOPED_DATA = "1.2.840.113549.1.7.1", "1.2.840.113549.1.7.2", "1.2.840.113549.1.7.3"
_CONTENT_TYPE, _MESSAGE_DIGEST, _SIGNING_TIME = "1.2.840.113549.1.9.3", "1.2.840.113549.1.9.4", "1.2.840.113549.1.9.5"
_RSA = "1.2.840.113549.1.1.1"  # rsaEncryption: the signature and key transport algorithm openssl cms writes
_DIGESTS = {"md5": "1.2.840.113549.2.5", "sha1": "1.3.14.3.2.26", "sha224": "2.16.840.1.101.3.4.2.4",
            "sha256": "2.16.840.1.101.3.4.2.1", "sha384": "2.16.840.1.101.3.4.2.2", "sha512": "2.16.840.1.101.3.4.2.3"}
_CIPHER_OIDS = {"AES128": "2.16.840.1.101.3.4.1.2", "AES256": "2.16.840.1.101.3.4.1.42",
                "3DES": "1.2.840.113549.3.7", "DES": "1.3.14.3.2.7", "RC2": "1.2.840.113549.3.2"}


def _attribute(oid: str, value: bytes) -> bytes:
    return der.sequence(der.oid(oid), der.tlv(0x31, value))


def _signing_time(at: dt.datetime) -> bytes:
    """`at` to the second as RFC 5652 11.3 has it: a UTCTime from 1950 to 2049 (as asn1crypto wrote it), else a
    GeneralizedTime (asn1crypto refused those years, and protect ended in an internal error)."""
    at = at.astimezone(dt.UTC)
    if 1950 <= at.year <= 2049:
        return der.tlv(0x17, at.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return der.tlv(0x18, f"{at.year:04d}{at:%m%d%H%M%S}Z".encode("ascii"))


def _issuer_and_serial(certificate: bytes) -> bytes:
    """IssuerAndSerialNumber of a certificate's DER: its issuer Name as encoded, its serial re-encoded."""
    from keystores.pki.encoded import EncodedCertificate

    held = EncodedCertificate(certificate)
    return der.sequence(held.issuer_der, der.integer(held.serial_number))


def _cipher(algorithm: str, key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    from cryptography.hazmat.primitives import padding as sym_padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    if algorithm.startswith("AES"):
        cipher_algorithm: Any = algorithms.AES(key)
    else:
        from cryptography.hazmat.decrepit.ciphers import algorithms as legacy

        # single DES is 3DES with K1 = K2 = K3 (cryptography keeps no DES of its own)
        cipher_algorithm = legacy.RC2(key) if algorithm == "RC2" else \
            legacy.TripleDES(key * 3 if algorithm == "DES" else key)
    block = cipher_algorithm.block_size
    cipher = Cipher(cipher_algorithm, modes.CBC(iv))
    if encrypt:
        padder = sym_padding.PKCS7(block).padder()
        padded = padder.update(data) + padder.finalize()
        worker = cipher.encryptor()
        return worker.update(padded) + worker.finalize()
    if len(data) % (block // 8):
        raise MessageRefused("the encrypted content is not a whole number of cipher blocks")
    worker = cipher.decryptor()
    padded = worker.update(data) + worker.finalize()
    unpadder = sym_padding.PKCS7(block).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise MessageRefused("the content does not decrypt (wrong key or damaged message)") from exc


# --- unprotect ----------------------------------------------------------------------------------------------
def load_message(data: bytes) -> Any:
    """A CMS ContentInfo from DER/BER or PEM (`-----BEGIN CMS-----`, `PKCS7`) or S/MIME (base64 body)."""
    from asn1crypto import cms

    if len(data) > _MAX_INPUT:
        raise UsageError(f"larger than {_MAX_INPUT // 1024 // 1024} MiB: not a rehearsal message")
    try:
        info = cms.ContentInfo.load(_unarmored(data))
        kind = info["content_type"].native
        if kind not in ("signed_data", "enveloped_data", "data"):
            raise MessageRefused(f"a CMS {kind}: AMS protection is signed or enveloped data")
    except (ValueError, TypeError) as exc:  # asn1crypto's and base64's word for undecodable input
        raise CorruptStore(f"not a CMS message ({exc})") from exc
    return info


def unprotect(data: bytes, policy: Policy, *, decrypter: Decrypter | None, own_cert: x509.Certificate | None,
              trusted: list[x509.Certificate], at: dt.datetime | None = None) -> Unprotected:
    """What AMS's getter would do with `data` under `policy`: decrypt with the getter's key when the policy
    encrypts, verify the signature when it signs, accept the signer only when `-a` is empty or lists its DN and
    the getter can validate its certificate with `trusted` (its own store and trust stores). MessageRefused when
    the getter would refuse the message."""
    try:
        return _unprotect(data, policy, decrypter, own_cert, trusted, at or dt.datetime.now(dt.UTC))
    except CorruptStore:
        if policy.tolerates:  # -t 1: the getter takes a message put without protection as it is
            return Unprotected(data, notes=[f"not protected: accepted because policy {policy.name} tolerates "
                                            "unprotected messages (-t 1)"])
        raise
    except _DECODING_ERRORS as exc:  # asn1crypto decodes lazily: damage deep inside surfaces as any of these
        raise CorruptStore(f"not a CMS message, or a damaged one ({type(exc).__name__}: {exc})") from exc


def _unarmored(data: bytes) -> bytes:
    """The DER/BER of a message given as such, as PEM or as S/MIME (ValueError when its base64 is not)."""
    stripped = data.lstrip()
    if stripped.startswith(b"-----BEGIN"):
        import base64

        body = b"".join(line for line in stripped.splitlines()[1:] if not line.startswith(b"-----"))
        return base64.b64decode(body, validate=False)
    if stripped[:13].lower() in (b"mime-version:", b"content-type:"):
        import base64

        return base64.b64decode(stripped.replace(b"\r\n", b"\n").partition(b"\n\n")[2], validate=False)
    return data


def _read_lean(data: bytes) -> Any:
    """The message as keystores.ams.cms_der reads it (an Envelope or a Signed), or None: asn1crypto reads it."""
    if len(data) > _MAX_INPUT:
        return None
    from keystores.ams.cms_der import read_message

    try:
        return read_message(_unarmored(data))
    except ValueError:  # base64's binascii.Error
        return None


# What asn1crypto (and cryptography's loaders) raise on bytes that are not what they claim to be.
_DECODING_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)


def _unprotect(data: bytes, policy: Policy, decrypter: Decrypter | None, own_cert: x509.Certificate | None,
               trusted: list[x509.Certificate], when: dt.datetime) -> Unprotected:
    """Each message is read by keystores.ams.cms_der where it can (`lean`), else by asn1crypto (`info`), so that
    what unprotect says of a message is what asn1crypto's reading says (tests/test_ams_unprotect_der.py)."""
    from keystores.ams import dnmatch
    from keystores.ams.cms_der import Envelope, Signed
    from keystores.ams.doctor import validation_problem

    lean = _read_lean(data)
    if lean is None:
        info = load_message(data)
        kind = info["content_type"].native
    else:
        info, kind = None, "enveloped_data" if isinstance(lean, Envelope) else "signed_data"
    result = Unprotected(b"")
    if policy.encrypts:
        if kind != "enveloped_data":
            raise MessageRefused(f"policy {policy.name} expects an encrypted message; this is {kind}")
        if decrypter is None or own_cert is None:
            raise UsageError("the getter's key and certificate are needed to decrypt")
        opened = None if lean is None else _open_lean_envelope(lean, decrypter, own_cert)
        if opened is None:
            info = info if info is not None else load_message(data)
            opened = _open_envelope(info["content"], decrypter, own_cert)
        content, result.encrypted_with = opened
        if policy.signs:
            data, lean, kind = content, _read_lean(content), "signed_data"
            if not isinstance(lean, Signed):
                lean, info = None, load_message(content)
                kind = info["content_type"].native
        else:
            result.message = content
            return result
    elif kind == "enveloped_data":
        raise MessageRefused(f"policy {policy.name} does not encrypt, yet the message is encrypted")
    if kind != "signed_data":
        raise MessageRefused(f"policy {policy.name} expects a signed message; this is {kind}")
    verified = None if lean is None else _verify_lean(lean)
    if verified is None:
        verified = _verify((info if info is not None and lean is None else load_message(data))["content"])
    result.message, signer_cert = verified
    result.signer = dnmatch.certificate_dn(signer_cert)
    if policy.signers and not any(dnmatch.matches(dn, signer_cert) for dn in policy.signers):
        raise MessageRefused(f"the signer {result.signer} is not among the accepted signers {policy.signers}")
    why = validation_problem(signer_cert, trusted, when)
    if why:
        raise MessageRefused(f"the signer {result.signer} cannot be validated: {why}")
    return result


def _open_lean_envelope(envelope: Any, decrypter: Decrypter, own_cert: x509.Certificate) -> tuple[bytes, str] | None:
    """_open_envelope of an EnvelopedData keystores.ams.cms_der read (an Envelope), or None, before anything is
    decrypted, when a name is one only asn1crypto compares (the caller then reads the message with asn1crypto)."""
    from keystores.ams.cms_der import plain_name
    from keystores.pki.encoded import EncodedCertificate

    try:
        mine = EncodedCertificate(certificate_der(own_cert))
        mine_issuer, mine_serial = mine.issuer_der, mine.serial_number
    except ValueError:
        return None
    if not plain_name(mine_issuer):
        return None
    wrapped = None
    for issuer, serial, encrypted_key in envelope.recipients:
        if serial == mine_serial:
            if issuer != mine_issuer:
                return None  # names asn1crypto may call equal though their bytes differ
            wrapped = encrypted_key
            break
    key = _unwrapped(wrapped, decrypter, own_cert)
    name = envelope.cipher
    if len(key) != CIPHERS[name][1]:
        raise MessageRefused(f"the wrapped key has {len(key)} bytes; {name} needs {CIPHERS[name][1]}")
    return _cipher(name, key, envelope.iv, envelope.encrypted, encrypt=False), name


def _unwrapped(wrapped: bytes | None, decrypter: Decrypter, own_cert: x509.Certificate) -> bytes:
    """The content key the getter's key unwraps from `wrapped`, its recipient's encrypted key (None: none is)."""
    if wrapped is None:
        raise MessageRefused(f"not a recipient: the message is not encrypted for {own_cert.subject.rfc4514_string()}")
    try:
        return decrypter.decrypt(wrapped)
    except KeystoreError as exc:
        raise MessageRefused(f"the key does not open the message ({exc.reason})") from exc


def _open_envelope(enveloped: Any, decrypter: Decrypter, own_cert: x509.Certificate) -> tuple[bytes, str]:
    from asn1crypto import x509 as ax509

    mine = ax509.Certificate.load(certificate_der(own_cert))
    wrapped = None
    for recipient in enveloped["recipient_infos"]:
        if recipient.name != "ktri":
            continue
        rid = recipient.chosen["rid"]
        if rid.name == "issuer_and_serial_number":
            hit = (rid.chosen["issuer"] == mine.issuer and rid.chosen["serial_number"].native == mine.serial_number)
        else:
            hit = rid.chosen.native == mine.key_identifier
        if hit:
            wrapped = recipient.chosen["encrypted_key"].native
            break
    key = _unwrapped(wrapped, decrypter, own_cert)
    content_info = enveloped["encrypted_content_info"]
    algorithm = content_info["content_encryption_algorithm"]
    name = algorithm["algorithm"].native
    ams_name = {"aes128_cbc": "AES128", "aes256_cbc": "AES256", "tripledes_3key": "3DES", "des": "DES",
                "rc2": "RC2"}.get(name)
    if ams_name is None:
        raise MessageRefused(f"content cipher {name} is not one AMS uses")
    if len(key) != CIPHERS[ams_name][1]:
        raise MessageRefused(f"the wrapped key has {len(key)} bytes; {ams_name} needs {CIPHERS[ams_name][1]}")
    params = algorithm["parameters"]
    iv = params["iv"].native if ams_name == "RC2" else params.native
    encrypted = content_info["encrypted_content"].native or b""
    return _cipher(ams_name, key, iv, encrypted, encrypt=False), ams_name


def _verify(signed: Any) -> tuple[bytes, x509.Certificate]:
    """The content and the signer's certificate of a SignedData (as asn1crypto reads it) whose one signature
    verifies."""
    content = signed["encap_content_info"]["content"].native
    if content is None:
        raise MessageRefused("the signature is detached: AMS messages carry their content (openssl -nodetach)")
    if not isinstance(content, bytes):
        content = signed["encap_content_info"]["content"].parsed.dump()
    infos = list(signed["signer_infos"])
    if len(infos) != 1:
        raise MessageRefused(f"{len(infos)} signatures: AMS signs once")
    info = infos[0]
    sid = info["sid"]
    cert = None
    for candidate in signed["certificates"] or []:
        if candidate.name != "certificate":
            continue
        parsed = candidate.chosen
        if sid.name == "issuer_and_serial_number":
            hit = (parsed.issuer == sid.chosen["issuer"] and parsed.serial_number == sid.chosen["serial_number"].native)
        else:
            hit = parsed.key_identifier == sid.chosen.native
        if hit:
            cert = _certificate(parsed.dump())
            break
    if cert is None:
        raise MessageRefused("the signer's certificate is not in the message")
    hash_name = info["digest_algorithm"]["algorithm"].native
    if hash_name not in _HASHES:
        raise MessageRefused(f"digest {hash_name} is not one AMS uses")
    signed_attrs = info["signed_attrs"]
    if signed_attrs:
        to_verify = b"\x31" + signed_attrs.dump()[1:]
        digests = [a["values"][0].native for a in signed_attrs if a["type"].native == "message_digest"]
        if digests != [hashlib.new(hash_name, content).digest()]:
            raise MessageRefused("bad signature: the content does not match its signed digest")
    else:
        to_verify = content
    return _signature_checked(content, cert, hash_name, to_verify, lambda: info["signature"].native)


_HASHES = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")


def _verify_lean(signed: Any) -> tuple[bytes, x509.Certificate] | None:
    """_verify of a SignedData keystores.ams.cms_der read (a Signed), or None when its certificates' names are ones
    only asn1crypto compares (the caller then reads the message with asn1crypto)."""
    from keystores.ams.cms_der import plain_name
    from keystores.ams.doctor import held_certificate

    cert = None
    for data in signed.certificates:
        candidate = held_certificate(data)
        if candidate is None:
            return None
        try:
            issuer, serial = candidate.issuer_der, candidate.serial_number
        except ValueError:
            return None
        if not plain_name(issuer) or (serial == signed.serial and issuer != signed.issuer):
            return None  # names asn1crypto may call equal though their bytes differ
        if serial == signed.serial:
            cert = candidate
            break
    if cert is None:
        raise MessageRefused("the signer's certificate is not in the message")
    content = signed.content
    to_verify = content
    if signed.signed_attributes is not None:
        to_verify = signed.signed_attributes
        if signed.digests != [hashlib.new(signed.hash_name, content).digest()]:
            raise MessageRefused("bad signature: the content does not match its signed digest")
    return _signature_checked(content, cert, signed.hash_name, to_verify,  # type: ignore[arg-type]
                              lambda: signed.signature)


def _signature_checked(content: bytes, cert: x509.Certificate, hash_name: str, to_verify: bytes,
                       signature: Any) -> tuple[bytes, x509.Certificate]:
    """(content, cert) when `signature()` over `to_verify` verifies with the RSA key of `cert` under `hash_name`."""
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    hash_class = {"md5": hashes.MD5, "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
                  "sha384": hashes.SHA384, "sha512": hashes.SHA512}[hash_name]
    try:
        public = cert.public_key()
    except UnsupportedAlgorithm as exc:
        raise MessageRefused(f"the signer's key cannot be read ({exc})") from exc
    if not isinstance(public, rsa.RSAPublicKey):
        raise MessageRefused("the signer's key is not RSA: AMS signs with RSA")
    try:
        public.verify(signature(), to_verify, padding.PKCS1v15(), hash_class())
    except InvalidSignature as exc:
        raise MessageRefused("bad signature: it does not verify with the signer's certificate") from exc
    return content, cert


def _certificate(data: bytes) -> x509.Certificate:
    """A certificate from a message: read from its DER by keystores.pki.shown when it reads it (the checks then
    import no cryptography.x509), else loaded by cryptography (ValueError for one it refuses)."""
    from keystores.ams.doctor import held_certificate

    held = held_certificate(data)
    if held is not None:
        return held  # type: ignore[no-any-return]
    from cryptography import x509 as cx509

    return cx509.load_der_x509_certificate(data)


def recipient_certificates(policy: Policy, candidates: list[tuple[str, x509.Certificate]],
                           at: dt.datetime | None = None) -> list[x509.Certificate]:
    """The certificate AMS would encrypt for, per `-r` DN of `policy`, from the putter's stores; UsageError naming
    the first DN that matches no usable certificate (the doctor explains why)."""
    from keystores.ams import dnmatch
    from keystores.ams.doctor import certificate_problems

    when = at or dt.datetime.now(dt.UTC)
    use = "privacy" if policy.quality == "privacy" else "confidentiality"
    chosen = []
    for dn in policy.recipients:
        usable = [cert for _, cert in candidates
                  if dnmatch.matches(dn, cert) and not certificate_problems(cert, uses={use}, at=when)]
        if not usable:
            raise MessageRefused(f"no usable certificate for the recipient '{dn}' in the putter's stores (the "
                                 "doctor says why)")
        chosen.append(usable[0])
    return chosen
