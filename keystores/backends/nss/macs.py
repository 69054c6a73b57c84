"""NSS softoken's integrity MACs, byte for byte (lib/softoken/sftkpwd.c): SEQ{ PBMAC1{ PBKDF2(salt, iter, 32,
HMAC-SHA256), HMAC-SHA256 }, OCTET mac } over BE32(object id) ‖ BE32(attribute type) ‖ plaintext, in metaData items
sig_<kind>_<object>_<attribute>. Apart from crypto.py (passKey, encrypted attributes), which every NSS command with a
password loads for its password check: a list, rename, delete or trust off checks and makes no MAC (~0.7 M
instructions of bytecode not loaded: issue 15); reading trust (show, validate, audit) and writing trust or keys do.
"""

from __future__ import annotations

from keystores.backends.nss.crypto import (
    _DIGEST_SIZES,
    _HMAC_OID,
    DEFAULT_ITERATIONS,
    OID_HMAC,
    OID_PBMAC1,
    _charge,
    _oid,
    _pbkdf2_alg,
    _pbkdf2_params,
    fresh_derivation,
    hash_constructor,
    hash_new,
)
from keystores.crypto import der
from keystores.crypto.der import DerError
from keystores.crypto.pbkdf2 import pbkdf2_hmac
from keystores.lightweight import suppress
from keystores.limits import MAX_KEY_LENGTH, KdfBudget, check_iterations, check_key_length

try:  # what hmac re-exports (hmac.compare_digest is _hashlib.compare_digest), without hmac's ~2 M instructions
    from _hashlib import compare_digest
except ImportError:  # pragma: no cover - a Python built without OpenSSL's hashlib
    from hmac import compare_digest


def mac_input(object_id: int, attr_type: int, value: bytes) -> bytes:
    return object_id.to_bytes(4, "big") + attr_type.to_bytes(4, "big") + value


def make_mac(key: bytes, object_id: int, attr_type: int, value: bytes, *, iterations: int,
             derived: tuple[bytes, bytes] | None = None) -> bytes:
    """The metaData item NSS stores for an authenticated attribute. `derived`: fresh_derivation(key, iterations)
    made ahead, used instead of deriving here."""
    salt, mac_key = derived if derived is not None else fresh_derivation(key, iterations)
    mac = _hmac("sha256", mac_key, mac_input(object_id, attr_type, value))  # HMAC-SHA256 without importing hmac
    alg = der.sequence(_oid(OID_PBMAC1),
                  der.sequence(_pbkdf2_alg(salt, iterations, 32), der.sequence(_oid(_HMAC_OID["sha256"]))))
    return der.sequence(alg, der.octet_string(mac))


class _MacShape:
    """Where salt, iteration count and MAC sit in MAC blobs of one layout: NSS writes thousands that differ only
    in those bytes, so after one full parse the rest are read by slicing (listing a large database checks them all).
    """

    __slots__ = ("block", "hash_name", "hasher", "head", "iter_span", "key_length", "length", "mac_span", "middle",
                 "prf", "prf_size", "salt_span", "tail")

    def __init__(self, blob: bytes, salt: bytes, iterations: int, mac: bytes, prf: str, hash_name: str,
                 key_length: int) -> None:
        self.length = len(blob)
        iter_der = der.integer(iterations)[2:]
        salt_at = blob.index(salt)
        iter_at = blob.index(b"\x02" + bytes([len(iter_der)]) + iter_der, salt_at + len(salt)) + 2
        mac_at = len(blob) - len(mac)
        self.salt_span = (salt_at, salt_at + len(salt))
        self.iter_span = (iter_at, iter_at + len(iter_der))
        self.mac_span = (mac_at, len(blob))
        self.head, self.middle = blob[:salt_at], blob[self.salt_span[1] : iter_at]
        self.tail = blob[self.iter_span[1] : mac_at]
        self.prf, self.hash_name, self.key_length = prf, hash_name, key_length
        self.prf_size = hash_new(prf).digest_size
        self.hasher = hash_constructor(hash_name)  # the MAC's hash, and its block size for the HMAC pads
        self.block = 128 if hash_name in ("sha384", "sha512") else 64
        if key_length > self.block:
            raise ValueError("MAC key longer than a hash block: the general path handles it")

    def read(self, blob: bytes) -> tuple[bytes, int, bytes] | None:
        if (len(blob) != self.length or not blob.startswith(self.head)
                or blob[self.salt_span[1]:self.iter_span[0]] != self.middle
                or blob[self.iter_span[1]:self.mac_span[0]] != self.tail):
            return None
        return (blob[self.salt_span[0]:self.salt_span[1]],
                int.from_bytes(blob[self.iter_span[0]:self.iter_span[1]], "big"),
                blob[self.mac_span[0]:])


_MAC_SHAPES: list[_MacShape] = []

_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


class MacChecker:
    """check_mac under one passKey, for the thousands of MACs a large database holds.

    NSS salts every MAC afresh, so no derived key can be reused across attributes; what is shared is the passKey,
    the HMAC key of every PBKDF2: its padded inner and outer hash states are computed once per PRF, and each MAC
    then costs four short hash calls (hmac.digest sets up an OpenSSL HMAC context per call, twice as slow here).
    Keys derived with more than one iteration are cached by (salt, iterations) in case a writer repeats salts.
    """

    __slots__ = ("_derived", "_pads", "budget", "key")

    def __init__(self, key: bytes, budget: KdfBudget | None = None) -> None:
        self.key = key
        self.budget = budget
        self._pads: dict[str, tuple[object, object]] = {}
        self._derived: dict[tuple[str, bytes, int, int], bytes] = {}

    def _pad(self, prf: str) -> tuple[object, object]:
        constructor = hash_constructor(prf)
        key = self.key
        block = constructor().block_size
        if len(key) > block:
            key = constructor(key).digest()
        key = key.ljust(block, b"\x00")
        pads = (constructor(key.translate(_IPAD)), constructor(key.translate(_OPAD)))
        self._pads[prf] = pads
        return pads

    def derive(self, prf: str, salt: bytes, iterations: int, size: int) -> bytes:
        """PBKDF2-HMAC-`prf`(passKey, salt, iterations, size)."""
        if iterations == 1 and size <= _DIGEST_SIZES[prf]:
            # One iteration, one block: T1 = HMAC(passKey, salt ‖ INT(1)) (RFC 8018 5.2), truncated.
            inner, outer = self._pads.get(prf) or self._pad(prf)
            first = inner.copy()  # type: ignore[attr-defined]
            first.update(salt + b"\x00\x00\x00\x01")
            second = outer.copy()  # type: ignore[attr-defined]
            second.update(first.digest())
            return second.digest()[:size]  # type: ignore[no-any-return]
        cache_key = (prf, salt, iterations, size)
        derived = self._derived.get(cache_key)
        if derived is None:
            check_iterations(iterations, "PBMAC1")  # a learned _MacShape reads counts without _pbkdf2_params
            check_key_length(size, MAX_KEY_LENGTH, "PBMAC1")
            _charge(self.budget, iterations, -(-size // _DIGEST_SIZES[prf]), "PBMAC1")
            derived = pbkdf2_hmac(prf, self.key, salt, iterations, size)
            if len(self._derived) < 4096:
                self._derived[cache_key] = derived
        return derived

    def check(self, blob: bytes, object_id: int, attr_type: int, value: bytes) -> bool:
        """True when the stored MAC `blob` matches. Raises DerError when the blob is malformed."""
        return self.check_message(blob, object_id.to_bytes(4, "big") + attr_type.to_bytes(4, "big") + value)

    def first_failure(self, meta: dict[str, bytes], prefix: str, object_id: int,
                      values: list[tuple[int, bytes]]) -> int | None:
        """The first attribute of `values` whose MAC, meta[prefix + the attribute as 8 hex digits], is missing,
        malformed or wrong; None when all match. One object's MACs in one call: listing checks thousands.

        The keys of the MACs NSS derives with its own count (10,000 with a password: a trusted certificate's 7 cost
        ~16 ms one after another) are derived side by side on every core (keystores.crypto.kdf_pool), up to the
        first MAC that is checked alone in its turn (missing, malformed, above NSS's count: _checked_or_ahead); what
        is found is the attribute checking them in order finds."""
        head = object_id.to_bytes(4, "big")
        ahead: list[tuple[int, bytes, _MacRead]] = []  # (attribute, MACed bytes, what its check derives)
        for attr, value in values:
            blob = meta.get(prefix + _hex8(attr))
            message = head + attr.to_bytes(4, "big") + value
            found = self._checked_or_ahead(blob, message) if blob is not None else None
            if found is True:
                continue
            if found is not None and found is not False:
                ahead.append((attr, message, found))
                continue
            failed, ahead = self._first_wrong(ahead), []  # the MACs before this one come first
            if failed is not None or found is False:
                return failed if failed is not None else attr
            try:
                if blob is None or not self.check_message(blob, message):
                    return attr
            except DerError:
                return attr
        return self._first_wrong(ahead)

    def _checked_or_ahead(self, blob: bytes, message: bytes) -> bool | _MacRead | None:
        """A MAC of 1 iteration checked now (the loop a large empty-password database runs: as check_message);
        else what checking it derives, where that derivation may run beside others: a count no higher than NSS's
        own (which spends nothing of the budget and is within every limit), a key not derived before. None:
        check_message checks it alone, in its turn (a malformed one too, saying what is wrong)."""
        for shape in _MAC_SHAPES:
            found = shape.read(blob)
            if found is not None:
                salt, iterations, mac = found
                if iterations == 1 and shape.key_length <= shape.prf_size:
                    return self._one_iteration(shape, salt, mac, message)
                read = (shape.prf, salt, iterations, shape.key_length, shape.hash_name, mac)
                break
        else:
            try:
                read = _parsed_mac(blob)
            except (IndexError, KeyError, ValueError):  # (DerError is a ValueError)
                return None
        prf, salt, iterations, size = read[:4]
        if not 1 < iterations <= DEFAULT_ITERATIONS or size > MAX_KEY_LENGTH or (prf, salt, iterations, size) \
                in self._derived:
            return None
        return read

    def _first_wrong(self, ahead: list[tuple[int, bytes, _MacRead]]) -> int | None:
        """The first attribute of `ahead` whose MAC does not match, their keys derived side by side."""
        if len(ahead) < 2:
            keys = [self.derive(*read[:4]) for _, _, read in ahead]
        else:
            from keystores.crypto.kdf_pool import KdfPool  # here: an empty password's MACs derive nothing

            with KdfPool("nss-mac-check", most=len(ahead)) as pool:
                pending = [pool.submit(read[2], pbkdf2_hmac, read[0], self.key, read[1], read[2], read[3])
                           for _, _, read in ahead]
                keys = [each.result() for each in pending]
            for (_, _, read), key in zip(ahead, keys, strict=True):
                if len(self._derived) < 4096:
                    self._derived[read[:4]] = key
        for (attr, message, read), key in zip(ahead, keys, strict=True):
            if not compare_digest(_hmac(read[4], key, message), read[5]):
                return attr
        return None

    def _one_iteration(self, shape: _MacShape, salt: bytes, mac: bytes, message: bytes) -> bool:
        """A MAC of `shape`'s layout whose key is derived with 1 iteration, checked: derive() and _hmac() inlined,
        this is the loop a large empty-password database runs."""
        inner, outer = self._pads.get(shape.prf) or self._pad(shape.prf)
        first = inner.copy()  # type: ignore[attr-defined]
        first.update(salt + b"\x00\x00\x00\x01")
        second = outer.copy()  # type: ignore[attr-defined]
        second.update(first.digest())
        mac_key = second.digest()[: shape.key_length].ljust(shape.block, b"\x00")
        hasher = shape.hasher
        expected = hasher(mac_key.translate(_OPAD) + hasher(mac_key.translate(_IPAD) + message).digest())
        return compare_digest(expected.digest(), mac)  # type: ignore[no-any-return]

    def check_message(self, blob: bytes, message: bytes) -> bool:
        """check() over the MACed bytes (object id ‖ attribute type ‖ value) already put together."""
        for shape in _MAC_SHAPES:
            found = shape.read(blob)
            if found is not None:
                salt, iterations, mac = found
                if iterations == 1 and shape.key_length <= shape.prf_size:
                    return self._one_iteration(shape, salt, mac, message)
                mac_key = self.derive(shape.prf, salt, iterations, shape.key_length)
                return compare_digest(_hmac(shape.hash_name, mac_key, message), mac)
        try:
            prf, salt, iterations, size, hash_name, mac = _parsed_mac(blob)
            mac_key = self.derive(prf, salt, iterations, size)
            return compare_digest(_hmac(hash_name, mac_key, message), mac)
        except (IndexError, KeyError, ValueError) as exc:
            if isinstance(exc, DerError):
                raise
            raise DerError("malformed MAC") from exc


#: What checking a MAC derives and compares: (PRF, salt, iterations, key size, MAC hash, MAC).
_MacRead = tuple[str, bytes, int, int, str, bytes]


def _parsed_mac(blob: bytes) -> _MacRead:
    """A MAC item read by parsing it (its layout then learned: a _MacShape, when it has room). Raises IndexError,
    KeyError or ValueError (DerError among them) where it is malformed."""
    _, outer = der.value(blob)
    (_, alg, _), (_, mac, _) = der.children(outer)[:2]
    alg_items = der.children(alg)
    if der.oid_text(alg_items[0][1]) != OID_PBMAC1:
        raise DerError("MAC algorithm is not PBMAC1")
    kdf, mac_alg = der.children(alg_items[1][1])[:2]
    salt, iterations, key_length, prf = _pbkdf2_params(kdf[1])
    hash_name = OID_HMAC.get(der.oid_text(der.children(mac_alg[1])[0][1]))
    if hash_name is None:
        raise DerError("unknown MAC algorithm")
    size = key_length or hash_new(hash_name).digest_size
    if len(_MAC_SHAPES) < 8 and iterations >= 1 and len(salt) >= 8 and len(mac) >= 16:
        with suppress(ValueError):
            shape = _MacShape(blob, salt, iterations, mac, prf, hash_name, size)
            if shape.read(blob) == (salt, iterations, mac):
                _MAC_SHAPES.append(shape)
    return prf, salt, iterations, size, hash_name, mac


def _hex8(attr: int) -> str:
    """`attr` as the 8 hex digits of a metaData id (sig_cert_<object>_<attr>), memoised: a few dozen attributes."""
    text = _HEX8.get(attr)
    if text is None:
        text = _HEX8[attr] = f"{attr:08x}"
    return text


_HEX8: dict[int, str] = {}


def _hmac(hash_name: str, key: bytes, message: bytes) -> bytes:
    """HMAC (RFC 2104) from two one-shot hash calls: cheaper than hmac.digest for thousands of short messages."""
    constructor = hash_constructor(hash_name)
    block = 128 if hash_name in ("sha384", "sha512") else 64
    if len(key) > block:
        key = constructor(key).digest()
    key = key.ljust(block, b"\x00")
    inner = constructor(key.translate(_IPAD) + message).digest()
    return constructor(key.translate(_OPAD) + inner).digest()  # type: ignore[no-any-return]


def check_mac(blob: bytes, key: bytes, object_id: int, attr_type: int, value: bytes) -> bool:
    """True when the stored MAC matches. Raises DerError when the blob is malformed.

    For many MACs under one passKey, keep one MacChecker instead."""
    return MacChecker(key).check(blob, object_id, attr_type, value)


def describe_mac(blob: bytes) -> tuple[str, int, tuple[str, ...]]:
    """(description, iterations, primitives) of a PBMAC1 attribute MAC."""
    try:
        _, outer = der.value(blob)
        alg = der.children(outer)[0][1]
        alg_items = der.children(alg)
        kdf, mac_alg = der.children(alg_items[1][1])[:2]
        _, iterations, _, _ = _pbkdf2_params(kdf[1])
        hash_name = OID_HMAC.get(der.oid_text(der.children(mac_alg[1])[0][1]), "unknown")
        mac_hash = hash_name.upper().replace("SHA", "SHA-")
        return f"PBMAC1 HMAC-{mac_hash}", iterations, ("PBMAC1", "HMAC", mac_hash, "PBKDF2")
    except (DerError, IndexError, ValueError):
        return "unknown", 0, ()
