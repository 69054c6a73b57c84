"""Password-based encryption of keys and data, as PKCS#8, PKCS#12, GSKit and NSS use it.

One reader for every scheme seen in the wild (PBES2 with any PBKDF2 PRF and AES/3DES/DES/RC2, the PKCS#12
PBE family, PBES1) and a writer for the few a profile asks for. cryptography's own PKCS#8 loader covers the
common cases but not GSKit's raw-ASCII PKCS#12 KDF, RC2-40 or PBES1, hence this module. block_cipher maps the
cipher names PBE parameters use to cryptography's classes (PEM's DEK-Info and NSS's key database use it too); what
only weak schemes need (RC2 for any key length, PBKDF1) is imported from crypto/decrepit/ when a file names it.
"""

from __future__ import annotations

import os
from _thread import allocate_lock  # threading.Lock itself, without threading (keystores.crypto.kdf_pool says why)

from keystores.crypto.kdf import bmp_password, pkcs12_kdf
from keystores.crypto.libcrypto import cipher_by_libcrypto
from keystores.crypto.pbe_params import CommonPbe, common, encrypted_private_key_info
from keystores.crypto.pbkdf2 import pbkdf2_hmac
from keystores.errors import CorruptStore, KeystoreError, UnsupportedFormat, WrongPassword
from keystores.lightweight import suppress
from keystores.limits import KdfBudget, blocks, check_kdf

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _thread import LockType
    from collections.abc import Callable
    from typing import Any

    from asn1crypto import algos

    from keystores.crypto.kdf_pool import KdfPool, Pending

#: Writers' schemes: name -> (description for `protection()`, weak?)
SCHEMES = {
    "pbes2-aes256-sha256": ("PBES2 PBKDF2-HMAC-SHA256 AES-256-CBC", False),
    "pbes2-aes256-sha384": ("PBES2 PBKDF2-HMAC-SHA384 AES-256-CBC", False),
    "pkcs12-3des": ("pbeWithSHAAnd3-KeyTripleDES-CBC (3DES, SHA-1)", True),
}

_HASH_OBJECTS = {"sha1", "sha224", "sha256", "sha384", "sha512", "md5"}
#: Their digest sizes, for a derivation's cost (written out: hashlib loads a second OpenSSL, ~11 M instructions of
#: a PEM listing's start-up)
_DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64, "md5": 16}
#: The longest key each PBES2 cipher takes (RC2's key may be 1..128 bytes, RFC 2268): a longer PBKDF2 keyLength
#: only multiplies the derivation's work.
_CIPHER_KEY_SIZES = {"aes": 32, "tripledes": 24, "des": 8, "rc2": 128}


class _BadPadding(Exception):
    pass


class Scheme(tuple):  # type: ignore[type-arg]
    """How an AlgorithmIdentifier protects: its description, the primitives it uses by the names
    keystores.model.ALGORITHM_STRENGTH judges ("PBKDF2", "SHA-1", "3DES", "AES-256"), and its iteration count.

    The (text, algorithms, iterations) tuple typing.NamedTuple made, written by hand: a NamedTuple needs typing at
    run time (and compiles its annotations), which opening a PKCS#12 or a .kdb does not otherwise import (issue 15).
    Equal, hashed, unpacked and shown as that NamedTuple was (tests/test_store_lean.py)."""

    __slots__ = ()

    def __new__(cls, text: str, algorithms: tuple[str, ...], iterations: int | None) -> Scheme:
        return tuple.__new__(cls, (text, algorithms, iterations))

    @property
    def text(self) -> str:
        return self[0]  # type: ignore[no-any-return]

    @property
    def algorithms(self) -> tuple[str, ...]:
        return self[1]  # type: ignore[no-any-return]

    @property
    def iterations(self) -> int | None:
        return self[2]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Scheme(text={self[0]!r}, algorithms={self[1]!r}, iterations={self[2]!r})"


def describe(alg: algos.EncryptionAlgorithm) -> str:
    """A human description of an AlgorithmIdentifier."""
    return scheme(alg).text


# A cipher's family as ALGORITHM_STRENGTH names it, by its asn1crypto name (or the one _PBES2_OTHER_CIPHERS gives).
_CIPHER_FAMILIES = {"tripledes_3key": "3DES", "des": "DES", "rc2": "RC2", "aes128_cbc": "AES-128",
                    "aes192_cbc": "AES-192", "aes256_cbc": "AES-256"}


def scheme(alg: algos.EncryptionAlgorithm | bytes) -> Scheme:
    """What an AlgorithmIdentifier (asn1crypto's or DER) of PBES2, the PKCS#12 PBE family or PBES1 uses; "unknown"
    when it is none."""
    try:
        alg = _algorithm(alg)
        if isinstance(alg, CommonPbe):
            return _common_scheme(alg)
        name = alg["algorithm"].native
        if name == "pbes2":
            scheme_oid = alg["parameters"]["encryption_scheme"]["algorithm"].dotted
            cipher = alg["parameters"]["encryption_scheme"]["algorithm"].native
            if scheme_oid in _PBES2_OTHER_CIPHERS:
                cipher = _PBES2_OTHER_CIPHERS[scheme_oid][0]
            prf = alg.kdf_hmac.upper().replace("SHA", "SHA-") if alg.kdf_hmac else "SHA-1"
            cipher_text = {"tripledes_3key": "3DES-CBC", "des": "DES-CBC", "rc2": "RC2-CBC"}.get(
                cipher, cipher.upper().replace("_", "-").replace("AES", "AES-"))
            iterations = alg.kdf_iterations
            return Scheme(f"PBES2 PBKDF2-HMAC-{prf} {cipher_text}, {iterations} iterations",
                          ("PBES2", "PBKDF2", prf, _CIPHER_FAMILIES.get(cipher, cipher_text)), iterations)
        if name.startswith("pkcs12_"):
            kind, family = {"pkcs12_sha1_tripledes_3key": ("3DES", "3DES"),
                            "pkcs12_sha1_tripledes_2key": ("2-key 3DES", "2-key 3DES"),
                            "pkcs12_sha1_rc2_128": ("RC2-128", "RC2"), "pkcs12_sha1_rc2_40": ("RC2-40", "RC2"),
                            "pkcs12_sha1_rc4_128": ("RC4-128", "RC4"), "pkcs12_sha1_rc4_40": ("RC4-40", "RC4")}[name]
            iterations = alg.kdf_iterations
            return Scheme(f"PKCS#12 PBE SHA-1 {kind}, {iterations} iterations", ("PKCS#12 KDF", "SHA-1", family),
                          iterations)
        if name.startswith("pbes1_"):
            digest, cipher = name.split("_")[1:]
            digest_name = {"sha1": "SHA-1"}.get(digest, digest.upper())
            iterations = alg.kdf_iterations
            return Scheme(f"PBES1 {digest_name} {cipher.upper()}, {iterations} iterations",
                          ("PBES1", digest_name, cipher.upper()), iterations)
        return Scheme(str(name), (str(name),), None)
    except (KeyError, ValueError, TypeError):
        return Scheme("unknown", (), None)


def _common_scheme(alg: CommonPbe) -> Scheme:
    """scheme() of what keystores.crypto.pbe_params reads, in the same words."""
    if alg.name == "pbes2":
        prf = alg.prf.upper().replace("SHA", "SHA-")
        cipher_text = "3DES-CBC" if alg.cipher == "tripledes" else alg.cipher_name.upper().replace("_", "-").replace(
            "AES", "AES-")
        return Scheme(f"PBES2 PBKDF2-HMAC-{prf} {cipher_text}, {alg.iterations} iterations",
                      ("PBES2", "PBKDF2", prf, _CIPHER_FAMILIES[alg.cipher_name]), alg.iterations)
    kind = "3DES" if alg.key_length == 24 else "2-key 3DES"
    return Scheme(f"PKCS#12 PBE SHA-1 {kind}, {alg.iterations} iterations", ("PKCS#12 KDF", "SHA-1", kind),
                  alg.iterations)


def _algorithm(alg: algos.EncryptionAlgorithm | bytes) -> algos.EncryptionAlgorithm | CommonPbe:
    """DER read by keystores.crypto.pbe_params when it is a common scheme (no asn1crypto imported), else asn1crypto's
    object."""
    if not isinstance(alg, bytes):
        return alg
    found = common(alg)
    if found is not None:
        return found
    from asn1crypto import algos

    return algos.EncryptionAlgorithm.load(alg)


def block_cipher(name: str, key: bytes):  # type: ignore[no-untyped-def]
    """A cryptography cipher algorithm object for the legacy and modern names used in PBE parameters (camellia,
    sm4, blowfish, cast5 and seed: the other PBES2 ciphers `openssl pkcs12 -keypbe/-certpbe` offers)."""
    from cryptography.hazmat.decrepit.ciphers import algorithms as old
    from cryptography.hazmat.primitives.ciphers import algorithms

    if name == "tripledes":
        if len(key) == 16:  # two-key 3DES: K1 K2 K1
            key = key + key[:8]
        return old.TripleDES(key)
    if name == "des":
        return old.TripleDES(key * 3)  # single DES is 3DES with one key thrice
    by_name = {"aes": algorithms.AES, "sm4": algorithms.SM4, "camellia": old.Camellia, "blowfish": old.Blowfish,
               "cast5": old.CAST5, "seed": old.SEED, "rc2": old.RC2, "rc4": old.ARC4}
    if name not in by_name:
        raise ValueError(f"unsupported cipher {name}")
    return by_name[name](key)


def _unpad(data: bytes, block: int) -> bytes:
    if not data or len(data) % block:
        raise _BadPadding
    pad = data[-1]
    if pad < 1 or pad > block or data[-pad:] != bytes([pad]) * pad:
        raise _BadPadding
    return data[:-pad]


def _pad(data: bytes, block: int) -> bytes:
    pad = block - len(data) % block
    return data + bytes([pad]) * pad


def _cbc(cipher_name: str, key: bytes, iv: bytes, data: bytes, *, decrypt: bool) -> bytes:
    """AES and 3DES through the interpreter's libcrypto while cryptography is not loaded (keystores.crypto.libcrypto:
    reading a small PKCS#12 loads no cryptography; once it is loaded its ciphers cost nothing more, and a PEM
    listing that has it need not import hashlib for libcrypto), the others and anything libcrypto declines through
    cryptography."""
    if cipher_by_libcrypto():
        done = _cbc_by_libcrypto(cipher_name, key, iv, data, decrypt=decrypt)
        if done is not None:
            return done
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

    algorithm = block_cipher(cipher_name, key)
    if cipher_name == "rc4":
        context = Cipher(algorithm, mode=None).decryptor() if decrypt else Cipher(algorithm, mode=None).encryptor()
        return context.update(data) + context.finalize()
    block = algorithm.block_size // 8
    if decrypt:
        if len(data) % block or not data:
            raise _BadPadding
        context = Cipher(algorithm, modes.CBC(iv)).decryptor()
        return _unpad(context.update(data) + context.finalize(), block)
    context = Cipher(algorithm, modes.CBC(iv)).encryptor()
    return context.update(_pad(data, block)) + context.finalize()


def cbc_decrypt(cipher_name: str, key: bytes, iv: bytes, data: bytes) -> bytes | None:
    """`data` decrypted in CBC mode with `cipher_name` (block_cipher's names) and unpadded, as _cbc does it; None
    where the padding is wrong (OpenSSL's traditional encrypted PEM keys, keystores/backends/pem/read.py, which
    has no integrity check but the padding)."""
    try:
        return _cbc(cipher_name, key, iv, data, decrypt=True)
    except _BadPadding:
        return None


def _cbc_by_libcrypto(cipher_name: str, key: bytes, iv: bytes, data: bytes, *, decrypt: bool) -> bytes | None:
    """_cbc by keystores.crypto.libcrypto; None where it is not the one to do it (then cryptography does, and says
    what is wrong with a key or an IV)."""
    from keystores.crypto import libcrypto

    if cipher_name == "des":  # as block_cipher makes them: single DES is 3DES with one key thrice,
        cipher_name, key = "tripledes", key * 3
    elif cipher_name == "tripledes" and len(key) == 16:  # two-key 3DES is K1 K2 K1
        key += key[:8]
    block = _BLOCK_SIZES.get(cipher_name)
    if block is None or len(key) not in _KEY_LENGTHS[cipher_name]:
        return None
    if not decrypt:
        return libcrypto.cbc(cipher_name, key, iv, _pad(data, block), decrypt=False)
    if len(data) % block or not data:
        raise _BadPadding
    plain = libcrypto.cbc(cipher_name, key, iv, data, decrypt=True)
    return None if plain is None else _unpad(plain, block)


_BLOCK_SIZES = {"aes": 16, "tripledes": 8}
_KEY_LENGTHS = {"aes": (16, 24, 32), "tripledes": (24,)}


def _rc2_cbc(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC decryption with its padding removed (crypto.decrepit.rc2, imported only for files that use it)."""
    from keystores.crypto.decrepit.rc2 import rc2_decrypt_cbc

    return _unpad(rc2_decrypt_cbc(key, effective_bits, iv, data), 8)


def check_parameters(alg: algos.EncryptionAlgorithm | bytes, budget: KdfBudget | None = None) -> int:
    """Refuse an iteration count or key length no real tool writes (keystores.limits) before any derivation, and
    charge one derivation to `budget`. LimitExceeded names the parameter. Returns the iteration count."""
    alg = _algorithm(alg)
    if isinstance(alg, CommonPbe):
        if alg.name == "pbes2":
            check_kdf(alg.iterations, alg.key_length, max_key_length=_CIPHER_KEY_SIZES[alg.cipher],
                      what=f"PBKDF2 ({alg.cipher.upper()})")
            cost = blocks(alg.key_length, _DIGEST_SIZES[alg.prf])
        else:
            check_kdf(alg.iterations, alg.key_length, max_key_length=32, what="PKCS#12 key derivation")
            cost = blocks(alg.key_length, 20) + 1  # key, then the IV
        if budget is not None:
            budget.charge(alg.iterations, cost, "key derivation")
        return alg.iterations
    name = alg["algorithm"].native
    if name == "pbes2":
        prf = alg.kdf_hmac or "sha1"
        if prf not in _HASH_OBJECTS:
            raise UnsupportedFormat(f"PBKDF2 with {prf} is not supported")
        scheme_oid = alg["parameters"]["encryption_scheme"]["algorithm"].dotted
        if scheme_oid in _PBES2_OTHER_CIPHERS:  # Camellia, SM4, Blowfish, CAST5, SEED, ARIA: named here
            cipher, _, size = _PBES2_OTHER_CIPHERS[scheme_oid]
            iterations = alg.kdf_iterations
            key_length = alg["parameters"]["key_derivation_func"]["parameters"]["key_length"].native or size
            max_key_length = size
        else:
            try:
                cipher = alg.encryption_cipher
            except ValueError:
                raise UnsupportedFormat(f"PBES2 with the cipher {scheme_oid} is not supported") from None
            iterations, key_length = alg.kdf_iterations, alg.key_length
            max_key_length = _CIPHER_KEY_SIZES.get(cipher, 32)
        check_kdf(iterations, key_length, max_key_length=max_key_length, what=f"PBKDF2 ({cipher.upper()})")
        cost = blocks(key_length, _DIGEST_SIZES[prf])
    elif name.startswith("pkcs12_"):
        iterations = alg.kdf_iterations
        check_kdf(iterations, alg.key_length, max_key_length=32, what="PKCS#12 key derivation")
        cost = blocks(alg.key_length, 20) + (0 if alg.encryption_cipher == "rc4" else 1)  # key, then the IV
    elif name.startswith("pbes1_"):
        iterations = alg.kdf_iterations
        check_kdf(iterations, 16, max_key_length=16, what="PBES1 key derivation")
        cost = 1
    else:
        raise UnsupportedFormat(f"encryption scheme {name} is not supported")
    if budget is not None:
        budget.charge(iterations, cost, "key derivation")
    return iterations  # type: ignore[no-any-return]


# Derivations started before they are needed (Ahead), by what they derive: taken by the decryption that needs them.
# The keys hold the password's bytes; leaving Ahead drops them. Two threads reading at once may take each other's:
# the same derivation is the same key (each dict step is atomic).
_AHEAD: dict[tuple[Any, ...], Pending[bytes]] = {}


def _common_derivations(alg: CommonPbe, password: bytes) -> list[tuple[Any, ...]]:
    """What decrypting under `alg` with `password` derives, in order: ("pbkdf2", PBKDF2's arguments) or
    ("pkcs12", the PKCS#12 KDF's). The one list _decrypt_once and Ahead.decryption both follow."""
    if alg.name == "pbes2":
        return [("pbkdf2", alg.prf, password, alg.salt, alg.iterations, alg.key_length)]
    return [("pkcs12", password, alg.salt, 1, alg.iterations, alg.key_length),
            ("pkcs12", password, alg.salt, 2, alg.iterations, 8)]


def _derive(derivation: tuple[Any, ...]) -> bytes:
    """One derivation of _common_derivations: its result if Ahead started it, else derived now."""
    if _AHEAD:
        started = _AHEAD.pop(derivation, None)
        if started is not None:
            return started.result()
    if derivation[0] == "pbkdf2":
        return pbkdf2_hmac(*derivation[1:])
    return pkcs12_kdf(*derivation[1:])


def derive_pkcs12(password: bytes, salt: bytes, purpose: int, iterations: int, size: int, hash_name: str) -> bytes:
    """keystores.crypto.kdf.pkcs12_kdf(...), or its result where Ahead started it (Ahead.mac_key)."""
    return _derive(("pkcs12", password, salt, purpose, iterations, size, hash_name))


class Ahead:
    """Derivations started on a keystores.crypto.kdf_pool pool before they are needed, so that they run beside the
    caller's own (a PKCS#12's encrypted part's key beside its MAC's: bench/bench_core.py "start-up: keystores list
    one.p12"); decrypt_with takes their results. Nothing is decrypted ahead: only keys are derived, and a caller
    decrypts as it did before (after the MAC). A derivation not taken is dropped when the block is left (the pool,
    left after, waits for a running one). Use as a context manager around the pool's use."""

    __slots__ = ("_pool", "_readied", "_started", "_under_way")

    def __init__(self, pool: KdfPool, *, first_under_way: bool = True) -> None:
        """`first_under_way`: decryption() waits until a worker has taken its first derivation (see there); not for
        a pool whose workers have started already."""
        self._pool = pool
        self._started: list[tuple[Any, ...]] = []
        self._under_way = first_under_way
        self._readied: set[tuple[str, int]] = set()

    def decryption(self, alg_id_der: bytes, password: str) -> None:
        """Start what decrypt_with(alg_id_der, ..., password) derives first (its first password form), for the
        schemes keystores.crypto.pbe_params reads (PBES2 with PBKDF2, the PKCS#12 3DES PBE); others are derived
        when decrypted. The caller has checked the parameters against keystores.limits (check_parameters)."""
        alg = common(alg_id_der)
        if alg is None:
            return
        for derivation in _common_derivations(alg, _password_forms(alg, password, False)[0]):
            if derivation not in _AHEAD:
                call = pbkdf2_hmac if derivation[0] == "pbkdf2" else pkcs12_kdf
                self._submit(derivation, alg.iterations, call, under_way=self._under_way and not self._started)

    def _submit(self, derivation: tuple[Any, ...], iterations: int, call: Callable[..., bytes], *,
                under_way: bool, first: bool = False) -> None:
        """`call(*derivation[1:])` on the pool, taken by _derive. `under_way`: once a worker has taken it. A fresh
        worker needs the GIL to start it, which this thread, importing (ctypes; read.py), lets go only now and then:
        the worker waited until this thread waited for a derivation (bench/bench_core.py "list one.p12": the part's
        key derived after ctypes' import instead of beside it). A first thread starts in 130-330 us where a core is
        free; at most kdf_pool.BEGUN_WAIT where none is (it starts when the scheduler gives it one, and this thread
        goes on). Inline (one core), it has run. Not where every worker is busy: none would take it meanwhile
        (PKCS#12's read on two cores has one worker, on the part's key: its key bag's and MAC's keys wait). `first`:
        ahead of the calls queued before it (KdfPool.submit_next)."""
        submit = self._pool.submit_next if first else self._pool.submit
        if under_way and self._pool.takes_at_once():
            from keystores.crypto.kdf_pool import BEGUN_WAIT

            begun = allocate_lock()
            begun.acquire()
            _AHEAD[derivation] = submit(iterations, _begun_then, begun, call, *derivation[1:])
            begun.acquire(timeout=BEGUN_WAIT)
        else:
            _AHEAD[derivation] = submit(iterations, call, *derivation[1:])
        self._started.append(derivation)

    def ciphers(self, alg_ids: list[bytes]) -> None:
        """Start readying the CBC ciphers that decrypting under `alg_ids` (the schemes keystores.crypto.pbe_params
        reads) takes from libcrypto (keystores.crypto.libcrypto.ready: its first use of a cipher looks it up in
        OpenSSL's providers, ~0.5 ms), after loading libcrypto here, as the MAC's derivation that comes next would
        (its PKCS#12 KDF is libcrypto's): they are readied on another core while this thread derives the MAC's key.
        A block of zeros under a zero key: nothing of the file is decrypted before the MAC matched."""
        wanted = set()
        for alg_id in alg_ids:
            alg = common(alg_id)
            if alg is not None:  # (a two-key 3DES key is made a three-key one to decrypt: _cbc_by_libcrypto)
                wanted.add((alg.cipher, 24 if alg.cipher == "tripledes" else alg.key_length))
        wanted -= self._readied
        if not wanted or not cipher_by_libcrypto():
            return
        from keystores.crypto import libcrypto

        if libcrypto.library() is None:
            return
        for cipher, key_length in sorted(wanted):
            self._readied.add((cipher, key_length))
            self._pool.submit(None, libcrypto.ready, cipher, key_length)

    def mac_key(self, password: bytes, salt: bytes, iterations: int, size: int, hash_name: str) -> None:
        """Start a PKCS#12 MAC's key (the PKCS#12 KDF's purpose 3, `password` encoded as the MAC takes it), which
        derive_pkcs12 then takes, where libcrypto derives it (loaded here first, as the MAC's check would: in
        Python the KDF's loop would hold the GIL on the worker) with a hash it names. The caller has checked the
        count against keystores.limits."""
        from keystores.crypto import libcrypto

        if hash_name not in _DIGEST_SIZES or hash_name == "md5" or libcrypto.library() is None:
            return
        derivation = ("pkcs12", password, salt, 3, iterations, size, hash_name)
        if derivation not in _AHEAD:  # (under way: a worker of its own starts for it, beside the parts') Ahead of
            # a transfer's key bags' keys, queued before it: the MAC is checked first, a key used last; where no
            # worker has begun it when the MAC is checked, the reading thread derives it (Pending.result)
            self._submit(derivation, iterations, pkcs12_kdf, under_way=self._under_way, first=True)

    def __enter__(self) -> Ahead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for derivation in self._started:
            _AHEAD.pop(derivation, None)
        self._started.clear()


def _begun_then(begun: LockType, call: Callable[..., bytes], *args: Any) -> bytes:
    """`call(*args)` once `begun` is released (Ahead.decryption waits for it)."""
    begun.release()
    return call(*args)


def _decrypt_once(alg: algos.EncryptionAlgorithm | CommonPbe, data: bytes, password: bytes, *, raw: bool) -> bytes:
    if isinstance(alg, CommonPbe):
        derived = [_derive(derivation) for derivation in _common_derivations(alg, password)]
        if alg.name == "pbes2":
            return _cbc(alg.cipher, derived[0], alg.iv, data, decrypt=True)
        return _cbc("tripledes", derived[0], derived[1], data, decrypt=True)
    name = alg["algorithm"].native
    if name == "pbes2":
        prf = alg.kdf_hmac or "sha1"
        if prf not in _HASH_OBJECTS:
            raise UnsupportedFormat(f"PBKDF2 with {prf} is not supported")
        scheme = alg["parameters"]["encryption_scheme"]
        if scheme["algorithm"].dotted in _PBES2_OTHER_CIPHERS:
            return _decrypt_other_pbes2(alg, scheme, prf, data, password)
        try:
            cipher = alg.encryption_cipher
        except ValueError:
            raise UnsupportedFormat(f"PBES2 with the cipher {scheme['algorithm'].dotted} is not supported") from None
        key_length = alg.key_length
        key = pbkdf2_hmac(prf, password, alg.kdf_salt, alg.kdf_iterations, key_length)
        if cipher == "aes" and alg.encryption_mode in ("ofb", "cfb"):  # openssl -keypbe AES-*-OFB/CFB: no padding
            from asn1crypto import core
            from cryptography.hazmat.decrepit.ciphers import modes as old_modes
            from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

            iv = core.OctetString.load(scheme["parameters"].dump()).native  # asn1crypto gives no CFB IV
            mode = old_modes.OFB(iv) if alg.encryption_mode == "ofb" else old_modes.CFB(iv)
            context = Cipher(algorithms.AES(key), mode).decryptor()
            return context.update(data) + context.finalize()
        if cipher == "rc2":
            params = scheme["parameters"]
            version = params["rc2_parameter_version"].native if "rc2_parameter_version" in params else None
            bits = {160: 40, 120: 64, 58: 128}.get(version or 58, version or 128)
            return _rc2_cbc(key, bits, params["iv"].native, data)
        return _cbc(cipher, key, alg.encryption_iv, data, decrypt=True)
    if name.startswith("pkcs12_"):
        salt, iterations = alg.kdf_salt, alg.kdf_iterations
        cipher = alg.encryption_cipher
        key_length = alg.key_length
        key = pkcs12_kdf(password, salt, 1, iterations, key_length)
        if cipher == "rc4":
            return _cbc("rc4", key, b"", data, decrypt=True)
        iv = pkcs12_kdf(password, salt, 2, iterations, 8)
        if cipher == "rc2":
            return _rc2_cbc(key, key_length * 8, iv, data)
        return _cbc(cipher, key, iv, data, decrypt=True)
    if name.startswith("pbes1_"):
        from keystores.crypto.decrepit.kdf import pbkdf1

        digest = alg.kdf_hmac
        derived = pbkdf1(password, alg.kdf_salt, alg.kdf_iterations, digest)
        cipher = alg.encryption_cipher
        if cipher == "rc2":
            return _rc2_cbc(derived[:8], 64, derived[8:16], data)
        return _cbc("des", derived[:8], derived[8:16], data, decrypt=True)
    raise UnsupportedFormat(f"encryption scheme {name} is not supported")


# PBES2 ciphers OpenSSL writes that asn1crypto does not name (all CBC with the IV as an OCTET STRING, as OpenSSL
# writes them): OID -> (name, block_cipher name, key bytes); no cipher where cryptography has none
# (ARIA).
_PBES2_OTHER_CIPHERS: dict[str, tuple[str, str | None, int]] = {
    "1.2.392.200011.61.1.1.1.2": ("CAMELLIA-128-CBC", "camellia", 16),
    "1.2.392.200011.61.1.1.1.3": ("CAMELLIA-192-CBC", "camellia", 24),
    "1.2.392.200011.61.1.1.1.4": ("CAMELLIA-256-CBC", "camellia", 32),
    "1.2.156.10197.1.104.2": ("SM4-CBC", "sm4", 16), "1.3.6.1.4.1.3029.1.2": ("BF-CBC", "blowfish", 16),
    "1.2.840.113533.7.66.10": ("CAST5-CBC", "cast5", 16), "1.2.410.200004.1.4": ("SEED-CBC", "seed", 16),
    "1.2.410.200046.1.1.2": ("ARIA-128-CBC", None, 16), "1.2.410.200046.1.1.7": ("ARIA-192-CBC", None, 24),
    "1.2.410.200046.1.1.12": ("ARIA-256-CBC", None, 32),
}


def _decrypt_other_pbes2(alg: algos.EncryptionAlgorithm, scheme: Any, prf: str, data: bytes, password: bytes) -> bytes:
    from asn1crypto import core

    name, cipher, size = _PBES2_OTHER_CIPHERS[scheme["algorithm"].dotted]
    if cipher is None:
        raise UnsupportedFormat(f"PBES2 with {name} is not supported (the cryptography library has no ARIA)")
    kdf = alg["parameters"]["key_derivation_func"]["parameters"]
    key = pbkdf2_hmac(prf, password, kdf["salt"].native, kdf["iteration_count"].native,
                      kdf["key_length"].native or size)
    iv = core.OctetString.load(scheme["parameters"].dump()).native
    return _cbc(cipher, key, iv, data, decrypt=True)


def _password_forms(alg: algos.EncryptionAlgorithm | CommonPbe, password: str, raw_password: bool) -> list[bytes]:
    name = alg.name if isinstance(alg, CommonPbe) else alg["algorithm"].native
    if name.startswith("pkcs12_"):
        if raw_password:
            return [password.encode("utf-8")]
        forms = [bmp_password(password)]
        if password == "":
            forms.append(b"")  # OpenSSL writes "no password" as an empty string, not BMP "\0\0"
        return forms
    return [password.encode("utf-8")]


def decrypt_with(alg_id_der: bytes | Any, data: bytes, password: str, *, raw_password: bool = False,
                 budget: KdfBudget | None = None) -> bytes:
    """Decrypt `data` encrypted under the AlgorithmIdentifier `alg_id_der` (DER or asn1crypto object).

    Raises WrongPassword when no password form gives valid padding, UnsupportedFormat for unknown schemes,
    LimitExceeded for parameters above keystores.limits (each derivation is charged to `budget` first).
    """
    try:
        alg = _algorithm(alg_id_der)
        forms = _password_forms(alg, password, raw_password)
        for form in forms:
            check_parameters(alg, budget)
            try:
                return _decrypt_once(alg, data, form, raw=raw_password)
            except _BadPadding:
                continue
    except KeystoreError:
        raise
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise CorruptStore(f"damaged encryption parameters ({exc.__class__.__name__})") from exc
    raise WrongPassword("wrong password (decryption failed)")


def decrypt_pkcs8(epki_der: bytes, password: str, *, raw_password: bool = False,
                  budget: KdfBudget | None = None) -> bytes:
    """EncryptedPrivateKeyInfo -> PrivateKeyInfo DER. WrongPassword when the result is not a PKCS#8 key."""
    plain_der = encrypted_private_key_info(epki_der)
    alg: algos.EncryptionAlgorithm | CommonPbe | None = None
    if plain_der is not None:
        alg, encrypted = common(plain_der[0]), plain_der[1]
    if alg is None:
        from asn1crypto import keys

        try:
            epki = keys.EncryptedPrivateKeyInfo.load(epki_der)
            alg = epki["encryption_algorithm"]
            encrypted = epki["encrypted_data"].native
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStore("damaged encrypted private key") from exc
    try:
        plain: bytes | None = decrypt_with(alg, encrypted, password, raw_password=raw_password, budget=budget)
    except WrongPassword:
        plain = None
    if plain is not None and _is_pkcs8(plain):
        return plain
    if (alg.name if isinstance(alg, CommonPbe) else alg["algorithm"].native) == "pbes2" and not raw_password:
        # NSS 3.21 gave PBKDF2 the password as a BMPString (PKCS#12's convention for its own KDF); pk12util still
        # reads such files, so this is tried after the standard UTF-8 form fails, never written.
        check_parameters(alg, budget)  # the fallback's derivation is charged like any other
        with suppress(_BadPadding, ValueError, KeyError, TypeError):
            nss_plain = _decrypt_once(alg, encrypted, bmp_password(password), raw=False)
            if _is_pkcs8(nss_plain):
                return nss_plain
    if plain is None:
        raise WrongPassword("wrong password (decryption failed)")
    # Padding can come out right by chance (1 in 256) with a wrong password: the structure tells.
    raise WrongPassword("wrong password (the decrypted key is not a key)")


def _is_pkcs8(plain: bytes) -> bool:
    """Whether `plain` is a PrivateKeyInfo: its structure, and the key inside where asn1crypto knows the type (an
    unknown algorithm, ML-DSA or GOST, is judged by the structure alone)."""
    from keystores.crypto.pbe_params import private_key_info_algorithm

    algorithm = private_key_info_algorithm(plain)
    if algorithm is None:
        return False
    if algorithm in _SEQUENCE_KEYS and _holds_one_sequence(plain):
        return True  # as asn1crypto judges it, without importing it (keystores.crypto.pbe_params says why)
    from asn1crypto import keys

    try:
        info = keys.PrivateKeyInfo.load(plain, strict=True)
        info["private_key"].parsed  # noqa: B018 - wrong keys give garbage here
    except KeyError:
        return True  # no asn1crypto spec for this algorithm
    except (ValueError, TypeError):
        return False
    return True


# RSA and EC keys: the private key is one SEQUENCE (RSAPrivateKey, ECPrivateKey)
_SEQUENCE_KEYS = {"1.2.840.113549.1.1.1", "1.2.840.10045.2.1"}


def _holds_one_sequence(info: bytes) -> bool:
    """Whether the privateKey OCTET STRING of the PrivateKeyInfo `info` holds exactly one SEQUENCE in DER."""
    from keystores.crypto import der

    try:
        key = der.element_octets(info, der.inside(info, whole=True)[2])
        tag, _, end = der.read(key, 0, len(key), minimal=True)
    except der.DerError:
        return False
    return tag == 0x30 and end == len(key)


def encrypt_with(scheme: str, data: bytes, password: str, *, iterations: int = 2048, salt_length: int = 16,
                 raw_password: bool = False, prf_null: bool = False) -> tuple[bytes, bytes]:
    """Encrypt `data`; returns (AlgorithmIdentifier DER, ciphertext). The AlgorithmIdentifier is written with
    keystores.crypto.der, not asn1crypto, for start-up speed: certreq and receive write a PKCS#12 and would import
    asn1crypto's algorithms only for this (bench/bench_core.py "start-up: keystores certreq"); tests/test_pbe.py
    has openssl read what it writes. `prf_null`: PBES2's PRF AlgorithmIdentifier with NULL parameters, as
    cryptography's BestAvailableEncryption writes it (keystores.pki.pkcs8)."""
    return Sealer(scheme, password, iterations=iterations, salt_length=salt_length,
                  raw_password=raw_password).encrypt(data, prf_null=prf_null)


class Sealer:
    """One encryption under a writer's `scheme`: its fresh salt is drawn and its key derived when it is made, on
    `pool` (a keystores.crypto.kdf_pool pool: beside the caller's other work) when one is given, else at once; its
    data is encrypted later, once (encrypt). encrypt_with is a Sealer made and used at once; a writer that knows its
    encryptions before their data makes them first (keystores.backends.pkcs12.write: a key bag, the certificates
    and the MAC derived side by side, bench/bench_core.py "start-up: keystores certreq"). The same salts, counts
    and bytes as one after the other."""

    __slots__ = ("_derived", "_iterations", "_salt", "_scheme")

    def __init__(self, scheme: str, password: str, *, iterations: int = 2048, salt_length: int = 16,
                 raw_password: bool = False, pool: KdfPool | None = None) -> None:
        salt = os.urandom(salt_length)
        if scheme in ("pbes2-aes256-sha256", "pbes2-aes256-sha384"):
            prf = "sha256" if scheme.endswith("sha256") else "sha384"
            calls: list[tuple[Any, tuple[Any, ...]]] = [(pbkdf2_hmac, (prf, password.encode("utf-8"), salt,
                                                                         iterations, 32))]
        elif scheme == "pkcs12-3des":
            secret = password.encode("utf-8") if raw_password else bmp_password(password)
            calls = [(pkcs12_kdf, (secret, salt, 1, iterations, 24)), (pkcs12_kdf, (secret, salt, 2, iterations, 8))]
        else:
            raise ValueError(f"unknown encryption scheme {scheme}")
        self._scheme, self._salt, self._iterations = scheme, salt, iterations
        self._derived: list[Any] | None = [call(*args) if pool is None else pool.submit(iterations, call, *args)
                                           for call, args in calls]

    def encrypt(self, data: bytes, *, prf_null: bool = False) -> tuple[bytes, bytes]:
        """(AlgorithmIdentifier DER, ciphertext), as encrypt_with returns them. Once only: a second encryption under
        the same salt (and, for the PKCS#12 PBE, the same IV) is refused."""
        from keystores.crypto import der

        if self._derived is None:
            raise ValueError("a Sealer encrypts once")
        derived = [found if isinstance(found, bytes) else found.result() for found in self._derived]
        self._derived = None
        salt, iterations = self._salt, self._iterations
        if self._scheme == "pkcs12-3des":
            ciphertext = _cbc("tripledes", derived[0], derived[1], data, decrypt=False)
            parameters = der.sequence(der.octet_string(salt), der.integer(iterations))
            return der.sequence(der.oid(_PKCS12_3DES), parameters), ciphertext
        prf = "sha256" if self._scheme.endswith("sha256") else "sha384"
        iv = os.urandom(16)
        ciphertext = _cbc("aes", derived[0], iv, data, decrypt=False)
        # no NULL parameters, as before, unless asked for (both are read)
        prf_id = der.sequence(der.oid(_HMAC_OIDS[prf]), b"\x05\x00" if prf_null else b"")
        kdf = der.sequence(der.oid(_PBKDF2), der.sequence(der.octet_string(salt), der.integer(iterations), prf_id))
        cipher = der.sequence(der.oid(_AES256_CBC), der.octet_string(iv))
        return der.sequence(der.oid(_PBES2), der.sequence(kdf, cipher)), ciphertext


_PBES2, _PBKDF2, _AES256_CBC = "1.2.840.113549.1.5.13", "1.2.840.113549.1.5.12", "2.16.840.1.101.3.4.1.42"
_HMAC_OIDS = {"sha256": "1.2.840.113549.2.9", "sha384": "1.2.840.113549.2.10"}
_PKCS12_3DES = "1.2.840.113549.1.12.1.3"


def encrypt_pkcs8(pkcs8_der: bytes, password: str, *, scheme: str = "pbes2-aes256-sha256", iterations: int = 2048,
                  salt_length: int = 16, raw_password: bool = False, prf_null: bool = False,
                  sealer: Sealer | None = None) -> bytes:
    """PrivateKeyInfo DER -> EncryptedPrivateKeyInfo DER (written as encrypt_with's AlgorithmIdentifier is); with
    `sealer`, under its salt and key (the other encryption arguments are then its own)."""
    from keystores.crypto import der

    if sealer is None:
        sealer = Sealer(scheme, password, iterations=iterations, salt_length=salt_length, raw_password=raw_password)
    alg_der, ciphertext = sealer.encrypt(pkcs8_der, prf_null=prf_null)
    return der.sequence(alg_der, der.octet_string(ciphertext))
