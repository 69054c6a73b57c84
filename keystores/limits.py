"""Ceilings on the work and memory a file may ask of us: one definition, used by every parser.

A store names its own key-derivation parameters (iteration counts, key lengths), its sizes and its structure; a
hostile file can name 2**64 iterations or a 1 GiB key. Every derivation goes through `check_kdf` (and, where one
file holds many, a `KdfBudget`), and every read through `keystores.fileio.read_bytes`'s byte limit.

How the ceilings were chosen (what real tools write, with a margin):
- iterations: OpenSSL 3 writes 2048 (PKCS12_DEFAULT_ITER, PKCS5_DEFAULT_ITER), JDK 17+ keytool 10,000 (PKCS#12
  keys, certificates and MAC) and 200,000 (JCEKS keys), NSS 10,000 (key4.db), GSKit 5 (.kdb keys); current
  guidance (OWASP 2023) goes up to 1,300,000 for PBKDF2-HMAC-SHA1. JDK refuses more than 5,000,000 when it reads a
  PKCS#12 or JCEKS key (PKCS12KeyStore and KeyProtector's MAX_ITERATION_COUNT), so nothing keytool reads is
  refused here. Above `SUSPICIOUS_ITERATIONS` a store opens, with a note: each derivation costs seconds.
- key lengths: a derived key is never longer than the cipher's key (AES-256: 32 bytes, 3DES: 24) or, for a MAC,
  the HMAC's block (RFC 9579 says its output; OpenSSL and NSS write that); longer ones only multiply the work
  (PBKDF2 costs `iterations` per output block).
- total work per file: `MAX_KDF_WORK` iteration-blocks (about 10 derivations at the ceiling, or a JDK store of
  5,000 keys at its default), so a file of many bags at the ceiling is refused instead of running for hours.
"""

from __future__ import annotations

from keystores.errors import KeystoreError

#: Iterations above this are refused in every key derivation (PBKDF2, PKCS#12 KDF, PBES1, Sun PBE, NSS's PBE).
MAX_ITERATIONS = 5_000_000
#: Iterations above this open, but the store's notes say the count is far above what any tool writes by default.
SUSPICIOUS_ITERATIONS = 1_000_000
#: Iteration-blocks (iterations x hash blocks of output) one store may spend on key derivation in total.
MAX_KDF_WORK = 50_000_000
#: The longest derived MAC key accepted: HMAC-SHA-384/512's block (a longer HMAC key is hashed down anyway).
#: Cipher keys are capped at the cipher's own key size.
MAX_KEY_LENGTH = 128
#: Bytes of a store file we read at most (larger files are refused without reading them whole).
MAX_FILE_BYTES = 512 * 1024 * 1024
#: An RSA key with a longer modulus (OpenSSL's own verification limit) or a public exponent of more bits is never
#: used to verify: real keys use 3 or 65537, and a 16384-bit modulus with a 64-bit exponent costs milliseconds
#: per check.
MAX_RSA_BITS = 16384
MAX_RSA_EXPONENT_BITS = 32
#: Signature checks chain building may spend on one store, in units of one check by a 2048-bit RSA key (a larger
#: RSA key costs (bits / 2048)**2 units: 64 for 16384 bits), and candidates it tries per issuer name (real stores
#: hold one, two for a re-issued or cross-signed CA).
MAX_VERIFICATION_WORK = 50_000
MAX_CANDIDATES_PER_NAME = 16


class LimitExceeded(KeystoreError):
    """The file asks for more work or memory than any real store needs; the message names the parameter."""


def check_kdf(iterations: int, key_length: int, *, max_key_length: int, what: str) -> None:
    """Refuse a derivation whose iteration count or key length no real tool writes; `what` names it."""
    check_iterations(iterations, what)
    check_key_length(key_length, max_key_length, what)


def check_iterations(iterations: int, what: str) -> None:
    if not 1 <= iterations <= MAX_ITERATIONS:
        raise LimitExceeded(f"{what}: iteration count {iterations} is outside 1..{MAX_ITERATIONS:,} "
                            "(no tool writes more; refused rather than spending minutes)")


def check_key_length(key_length: int, max_key_length: int, what: str) -> None:
    if not 1 <= key_length <= max_key_length:
        raise LimitExceeded(f"{what}: key length {key_length} is outside 1..{max_key_length} bytes (the "
                            "longest key its cipher or MAC takes)")


def suspicious(iterations: int, what: str) -> str | None:
    """A note for a derivation that is allowed but far above what any tool writes by default, else None."""
    if iterations > SUSPICIOUS_ITERATIONS:
        return (f"{what} uses {iterations:,} iterations, far above what OpenSSL, keytool, NSS or GSKit write "
                f"(2,048 to 200,000): suspicious, and slow to open")
    return None


class KdfBudget:
    """The key-derivation work one store may spend: charged before each derivation, refused once spent."""

    def __init__(self, limit: int = MAX_KDF_WORK) -> None:
        import _thread  # threading.Lock itself, without importing threading (~0.8 ms of every store's opening)

        self.limit = limit
        self.spent = 0
        self._lock = _thread.allocate_lock()  # keys of one store may be opened in threads (lazy_entries.open_keys)

    def charge(self, iterations: int, blocks: int, what: str) -> None:
        cost = max(1, iterations) * max(1, blocks)
        with self._lock:
            if self.spent + cost > self.limit:
                raise LimitExceeded(f"{what}: the file's key derivations would exceed {self.limit:,} "
                                    "iteration-blocks in total (far more than any real store needs)")
            self.spent += cost


def blocks(key_length: int, digest_size: int) -> int:
    """How many hash blocks (PBKDF2 or PKCS#12 KDF rounds of `iterations` each) a key of `key_length` costs."""
    return max(1, -(-key_length // digest_size))


class VerificationBudget:
    """The signature checks chain building may still spend for one store; `exhausted` once a chain was cut short."""

    def __init__(self, limit: int = MAX_VERIFICATION_WORK) -> None:
        self.remaining = limit
        self.exhausted = False

    def spend(self, rsa_bits: int | None = None) -> bool:
        """Take one check (by an RSA key of `rsa_bits`, or any other key); False (and `exhausted`) when the
        budget cannot pay for it."""
        cost = max(1, (rsa_bits or 0) // 2048) ** 2
        if cost > self.remaining:
            self.exhausted = True
            return False
        self.remaining -= cost
        return True

    def note(self, location: str) -> str | None:
        """The store note to add when chains were cut short, else None."""
        if not self.exhausted:
            return None
        return (f"{location}: chain building stopped after {MAX_VERIFICATION_WORK:,} signature checks (fewer with "
                "large RSA keys); some chains are shorter than the file's certificates would make them (an unusual "
                "number of candidate issuers)")
