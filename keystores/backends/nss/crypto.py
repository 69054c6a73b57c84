"""NSS softoken's password crypto, byte for byte: passKey, encrypted attributes (integrity MACs: macs.py).

What NSS does (lib/softoken/sftkpwd.c, lowpbe.c):
- passKey = SHA-1(global salt ‖ password) (SHA-384 when the global salt is 48 bytes); it is the *password* fed
  to every PBKDF2 below, as raw bytes. keystores.crypto.pbe takes text passwords, hence this small module.
- Encrypted attributes: SEQ{ PBES2{ PBKDF2(salt, iter, 32, HMAC-SHA256), AES-256-CBC(IV) }, OCTET } where the
  real AES IV is the whole DER encoding of the IV parameter (`04 0e` + 14 random bytes): an NSS quirk.
  Before NSS 3.49: 1.2.840.113549.1.12.5.1.3 with NSS's "PBKDF1 extended" KDF and 3DES-CBC.
- MACs: SEQ{ PBMAC1{ PBKDF2(salt, iter, 32, HMAC-SHA256), HMAC-SHA256 }, OCTET mac } over
  BE32(object id) ‖ BE32(attribute type) ‖ plaintext.
"""

from __future__ import annotations

import os
import sys

from keystores.crypto import der
from keystores.crypto.der import DerError
from keystores.crypto.pbkdf2 import pbkdf2_hmac
from keystores.errors import CorruptStore
from keystores.limits import KdfBudget, check_iterations, check_key_length

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

try:  # _hashlib's own objects, which hashlib re-exports (hashlib.sha1 is _hashlib.openssl_sha1), without hashlib:
    # its import also makes a constructor for every digest it offers and loads _blake2 (~0.5 ms of `list sql:DIR`,
    # which needs _hashlib anyway for its PBKDF2). NSS names SHA-1 and SHA-2 only, which OpenSSL always has.
    import _hashlib as _hashes

    _PREFIX = "openssl_"
except ImportError:  # pragma: no cover - a Python built without OpenSSL's hashlib
    import hashlib as _hashes  # type: ignore[no-redef]

    _PREFIX = ""


def hash_constructor(name: str) -> Any:
    """hashlib's constructor of `name` (sha1, sha256...): getattr(hashlib, name)."""
    return getattr(_hashes, _PREFIX + name)


def hash_new(name: str, data: bytes = b"") -> Any:
    """hashlib.new(name, data), for the hashes NSS names."""
    return _hashes.new(name, data)


OID_PBES2 = "1.2.840.113549.1.5.13"
OID_PBKDF2 = "1.2.840.113549.1.5.12"
OID_PBMAC1 = "1.2.840.113549.1.5.14"
OID_NSS_LEGACY_3DES = "1.2.840.113549.1.12.5.1.3"  # NSS < 3.49: SHA-1 "PBKDF1 extended" + 3DES-CBC
OID_AES = {"2.16.840.1.101.3.4.1.2": 16, "2.16.840.1.101.3.4.1.22": 24, "2.16.840.1.101.3.4.1.42": 32}
OID_DES3_CBC = "1.2.840.113549.3.7"
OID_HMAC = {"1.2.840.113549.2.7": "sha1", "1.2.840.113549.2.8": "sha224", "1.2.840.113549.2.9": "sha256",
            "1.2.840.113549.2.10": "sha384", "1.2.840.113549.2.11": "sha512"}
_HMAC_OID = {v: k for k, v in OID_HMAC.items()}

DEFAULT_ITERATIONS = 10000  # NSS_MIN_MP_PBE_ITERATION_COUNT's default; an empty password uses 1


def _oid(dotted: str) -> bytes:
    """der.oid, once per OID: every MAC and encrypted attribute a write makes names the same handful."""
    found = _OIDS.get(dotted)
    if found is None:
        found = _OIDS[dotted] = der.oid(dotted)
    return found


_OIDS: dict[str, bytes] = {}


# --- passKey -------------------------------------------------------------------------------------------------
def pass_key(global_salt: bytes, password: str) -> bytes:
    """The key NSS derives from the database password; 48-byte salts mean SHA-384 (newer NSS)."""
    digest = hash_constructor("sha384" if len(global_salt) == 48 else "sha1")
    return digest(global_salt + password.encode("utf-8")).digest()


# --- PBKDF2 parameters ---------------------------------------------------------------------------------------
def _pbkdf2_params(alg_tlv_value: bytes) -> tuple[bytes, int, int | None, str]:
    """(salt, iterations, key length or None, hash name) from the value of a PBKDF2 AlgorithmIdentifier."""
    children = der.children(alg_tlv_value)
    if der.oid_text(children[0][1]) != OID_PBKDF2:
        raise DerError("key derivation is not PBKDF2")
    params = der.children(children[1][1])
    salt = params[0][1]
    iterations = der.integer_value(params[1][1])
    key_length = None
    hash_name = "sha1"
    for tag, value, _ in params[2:]:
        if tag == 0x02:
            key_length = der.integer_value(value)
        elif tag == 0x30:
            prf_oid = der.oid_text(der.children(value)[0][1])
            if prf_oid not in OID_HMAC:
                raise DerError(f"unknown PBKDF2 PRF {prf_oid}")
            hash_name = OID_HMAC[prf_oid]
    if iterations < 1:
        raise DerError("PBKDF2 iteration count below 1")
    return salt, iterations, key_length, hash_name


def _pbkdf2_alg(salt: bytes, iterations: int, key_length: int, hash_name: str = "sha256") -> bytes:
    return der.sequence(_oid(OID_PBKDF2),
                   der.sequence(der.octet_string(salt), der.integer(iterations), der.integer(key_length),
                           der.sequence(_oid(_HMAC_OID[hash_name]))))


# --- encrypted attributes ------------------------------------------------------------------------------------
class DecryptFailed(Exception):
    """Padding or structure wrong after decryption: the wrong passKey, or tampered ciphertext."""


def _unpad(data: bytes, block: int) -> bytes:
    if not data or len(data) % block:
        raise DecryptFailed
    pad = data[-1]
    if pad < 1 or pad > block or data[-pad:] != bytes([pad]) * pad:
        raise DecryptFailed
    return data[:-pad]


def _cbc(cipher_name: str, key: bytes, iv: bytes, data: bytes, *, decrypt: bool) -> bytes:
    """`data` (whole blocks; padding is the caller's) through AES or 3DES in CBC mode: by the interpreter's libcrypto
    where keystores.crypto.pbe would use it (listing a database then loads no cryptography: ~10 ms of every
    `keystores list sql:DIR`), else, and for anything libcrypto declines (a bad length), by cryptography, which
    says what is wrong."""
    from keystores.crypto import libcrypto  # not keystores.crypto.pbe: its modules cost ~3 M instructions here

    if libcrypto.cipher_by_libcrypto():
        done = libcrypto.cbc(cipher_name, key, iv, data, decrypt=decrypt)
        if done is not None:
            return done
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    from keystores.crypto.pbe import block_cipher

    cipher = Cipher(block_cipher(cipher_name, key), modes.CBC(iv))
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(data) + ctx.finalize()


def _cipher_ahead(iterations: int, cipher: tuple[str, int], preload: tuple[str, ...] = ()) -> Callable[[], None]:
    """Start loading what _cbc will need, keystores.crypto.libcrypto (ctypes, the library, its prototypes: ~1.5-2
    ms of CPU, the first time in a process), on a thread of _thread's while the caller derives the key (hashlib
    lets the GIL go during PBKDF2: the two run on two cores); the answer waits for it. There too, libcrypto looks
    `cipher` (_cbc's name, key length) up (libcrypto.ready: OpenSSL 3 fetches a cipher from its providers on its
    first use, ~3 M instructions), and the modules in `preload` are imported. A PBKDF2 at NSS's 10,000 iterations
    (~2.3 ms on the bench machine, GIL free) outlasts libcrypto's load (~1.9 ms) but not all three (~3 ms): what
    does not fit is waited for, as the caller would run it after the derivation anyway. Nothing is started where
    _cbc would not load it (loaded already, or cryptography's cipher is used) or the derivation is too short to
    hide it (an empty password's 1 iteration)."""
    if iterations < 1000 or "keystores.crypto.libcrypto" in sys.modules \
            or "cryptography.hazmat.bindings._rust" in sys.modules:
        return _no_wait
    import _thread

    done = _thread.allocate_lock()
    done.acquire()

    def load() -> None:
        try:
            from keystores.crypto import libcrypto

            libcrypto.ready(*cipher)  # loads it (cbc's library()), then fetches the cipher
            for name in preload:
                __import__(name)
        except BaseException:  # _cbc (or the caller) loads it again and meets the same error, where it is handled
            pass
        finally:
            done.release()

    _thread.start_new_thread(load, ())

    def wait() -> None:
        with done:
            pass

    return wait


def _no_wait() -> None:
    return None


def _legacy_3des_key_iv(key: bytes, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    """NSS's PBKDF1 extended by its PKCS#12-draft HMAC construction (lowpbe.c nsspkcs5_PBKDF1Extended and
    nsspkcs5_PFXPBE). PBKDF1's SHA-1 rounds (the database's count, 10,000 with a password) are the cost: libcrypto
    does them where loaded (keystores.crypto.decrepit.kdf.pbkdf1)."""
    from keystores.backends.nss.macs import _hmac
    from keystores.crypto.decrepit.kdf import pbkdf1

    digest = pbkdf1(key, salt, iterations, "sha1")
    state = salt.ljust(20, b"\x00") if len(salt) < 20 else salt
    out = b""
    for _ in range(2):  # 24 key bytes + 8 IV bytes need two SHA-1 blocks (HMAC-SHA1 without importing hmac)
        out += _hmac("sha1", digest, state + salt)
        state = _hmac("sha1", digest, state)
    return out[:24], out[-8:]


def _charge(budget: KdfBudget | None, iterations: int, blocks: int, what: str) -> None:
    """Charge derivations above NSS's own count to `budget`: a database NSS wrote (10,000 iterations, 1 for an
    empty password) spends none of it however many objects it holds; one asking for more is bounded in total."""
    if budget is not None and iterations > DEFAULT_ITERATIONS:
        budget.charge(iterations, blocks, what)


def decrypt_value(blob: bytes, key: bytes, budget: KdfBudget | None = None, *, preload: tuple[str, ...] = ()) -> bytes:
    """Decrypt one encrypted attribute (or the password check) with passKey `key`. `preload`: modules the caller
    imports next, loaded on _cipher_ahead's thread after libcrypto while the key is derived.

    Raises DecryptFailed for a wrong key, DerError for a malformed blob, LimitExceeded for parameters above
    keystores.limits (or past `budget`).
    """
    try:
        _, outer = der.value(blob)
        (_, alg, _), (ctag, ciphertext, _) = der.children(outer)[:2]
        if ctag != 0x04:
            raise DerError("ciphertext is not an OCTET STRING")
        alg_items = der.children(alg)
        oid = der.oid_text(alg_items[0][1])
        if oid == OID_PBES2:
            kdf, scheme = der.children(alg_items[1][1])[:2]
            salt, iterations, key_length, hash_name = _pbkdf2_params(kdf[1])
            check_iterations(iterations, "PBKDF2")
            scheme_items = der.children(scheme[1])
            cipher_oid = der.oid_text(scheme_items[0][1])
            iv_tlv = scheme_items[1][2]
            if cipher_oid in OID_AES:
                size = key_length or OID_AES[cipher_oid]
                check_key_length(size, OID_AES[cipher_oid], "PBKDF2 (AES)")
                _charge(budget, iterations, -(-size // _DIGEST_SIZES[hash_name]), "PBKDF2")
                loaded = _cipher_ahead(iterations, ("aes", size), preload)
                try:
                    derived = pbkdf2_hmac(hash_name, key, salt, iterations, size)
                finally:
                    loaded()
                # The quirk: NSS uses the IV parameter's DER encoding (tag and length included) as the IV.
                iv = iv_tlv[:16] if len(iv_tlv) >= 16 else scheme_items[1][1]
                plain = _cbc("aes", derived, iv, ciphertext, decrypt=True)
                return _unpad(plain, 16)
            if cipher_oid == OID_DES3_CBC:
                check_key_length(key_length or 24, 24, "PBKDF2 (3DES)")
                _charge(budget, iterations, -(-(key_length or 24) // _DIGEST_SIZES[hash_name]), "PBKDF2")
                derived = pbkdf2_hmac(hash_name, key, salt, iterations, key_length or 24)
                plain = _cbc("tripledes", derived, scheme_items[1][1][:8], ciphertext, decrypt=True)
                return _unpad(plain, 8)
            raise DerError(f"unsupported cipher {cipher_oid}")
        if oid == OID_NSS_LEGACY_3DES:
            params = der.children(alg_items[1][1])
            salt = params[0][1]
            iterations = der.integer_value(params[1][1]) if len(params) > 1 else 1
            check_iterations(iterations, "NSS legacy 3DES PBE")
            _charge(budget, iterations, 1, "NSS legacy 3DES PBE")
            des_key, iv = _legacy_3des_key_iv(key, salt, iterations)
            plain = _cbc("tripledes", des_key, iv, ciphertext, decrypt=True)
            return _unpad(plain, 8)
        raise DerError(f"unsupported encryption algorithm {oid}")
    except (IndexError, KeyError) as exc:
        raise DerError("malformed encrypted attribute") from exc
    except ValueError as exc:
        if isinstance(exc, DerError):
            raise
        raise DecryptFailed from exc


def fresh_derivation(key: bytes, iterations: int) -> tuple[bytes, bytes]:
    """(salt, derived key): a fresh 32-byte salt and the PBKDF2-HMAC-SHA256 key of 32 bytes from passKey `key`
    at `iterations`, what encrypt_value and make_mac derive (the same salt length, hash and key length) for one
    attribute. Neither depends on the attribute, so a write can derive them before it knows its values
    (adding.derive_ahead); each serves one attribute, as if derived there."""
    salt = os.urandom(32)
    return salt, pbkdf2_hmac("sha256", key, salt, iterations, 32)


def encrypt_value(plain: bytes, key: bytes, *, iterations: int, legacy: bool = False,
                  derived: tuple[bytes, bytes] | None = None) -> bytes:
    """Encrypt one attribute as current NSS does (PBES2 AES-256), or as NSS < 3.49 did when `legacy`. `derived`:
    fresh_derivation(key, iterations) made ahead, used instead of deriving here (never with `legacy`)."""
    if legacy:
        salt = os.urandom(20)
        des_key, iv = _legacy_3des_key_iv(key, salt, iterations)
        pad = 8 - len(plain) % 8
        ciphertext = _cbc("tripledes", des_key, iv, plain + bytes([pad]) * pad, decrypt=False)
        alg = der.sequence(_oid(OID_NSS_LEGACY_3DES), der.sequence(der.octet_string(salt), der.integer(iterations)))
        return der.sequence(alg, der.octet_string(ciphertext))
    iv_param = der.octet_string(os.urandom(14))  # the real IV is these 16 bytes, tag and length included
    if derived is None:
        loaded = _cipher_ahead(iterations, ("aes", 32))
        try:
            derived = fresh_derivation(key, iterations)
        finally:
            loaded()
    salt, aes_key = derived
    pad = 16 - len(plain) % 16
    ciphertext = _cbc("aes", aes_key, iv_param, plain + bytes([pad]) * pad, decrypt=False)
    alg = der.sequence(_oid(OID_PBES2),
                  der.sequence(_pbkdf2_alg(salt, iterations, 32),
                          der.sequence(_oid("2.16.840.1.101.3.4.1.42"), iv_param)))
    return der.sequence(alg, der.octet_string(ciphertext))


def describe_value(blob: bytes) -> tuple[str, int, tuple[str, ...]]:
    """(description, iterations, primitives as keystores.model.ALGORITHM_STRENGTH names them) of an encrypted
    attribute."""
    try:
        _, outer = der.value(blob)
        alg = der.children(outer)[0][1]
        alg_items = der.children(alg)
        oid = der.oid_text(alg_items[0][1])
        if oid == OID_PBES2:
            kdf, scheme = der.children(alg_items[1][1])[:2]
            _, iterations, _, hash_name = _pbkdf2_params(kdf[1])
            cipher_oid = der.oid_text(der.children(scheme[1])[0][1])
            cipher = {16: "AES-128-CBC", 24: "AES-192-CBC", 32: "AES-256-CBC"}.get(OID_AES.get(cipher_oid, 0),
                                                                                  "3DES-CBC")
            prf = hash_name.upper().replace("SHA", "SHA-")
            return f"PBES2 PBKDF2-HMAC-{prf} {cipher}", iterations, ("PBES2", "PBKDF2", prf,
                                                                      cipher.removesuffix("-CBC"))
        if oid == OID_NSS_LEGACY_3DES:
            params = der.children(alg_items[1][1])
            iterations = der.integer_value(params[1][1]) if len(params) > 1 else 1
            return "NSS legacy PBE SHA-1 3DES-CBC", iterations, ("NSS legacy PBE", "SHA-1", "3DES")
        return oid, 0, (oid,)
    except (DerError, IndexError, ValueError):
        return "unknown", 0, ()


_DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}  # the PRFs OID_HMAC names


def as_corrupt(exc: Exception, store: str, what: str) -> CorruptStore:
    return CorruptStore(f"{what} is malformed ({exc})", store=store)
