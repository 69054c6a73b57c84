"""What keystores.pki.chain and keystores.ops.lifecycle need of a SubjectPublicKeyInfo, read from its DER for the
keys certificates mostly hold (RSA, EC on P-256/P-384/P-521) without loading the key: whether cryptography would load
it, its RSA size, whether keystores.limits refuses it, and its fingerprint as cryptography's key would give it.

A speed device (issue 15; bench/bench_core.py "start-up: keystores audit s.kdb", "receive"): loading a key means
importing cryptography (~10 ms of CPU). The loadability checks are keystores.pki.columns' key_facts and
keystores.pki.curves' ec_point_on_curve for an EC point (an EC key in the form cryptography writes is read by its
bytes, keystores.crypto.verify.ec_spki_point, without columns) and keystores.pki.shown's (an RSA key's numbers),
each held to cryptography's loader (tests/test_shown.py); the rest is tested against cryptography's keys in
tests/test_verify.py. Any other key, or form, gives None: the caller loads the key.
"""

from __future__ import annotations

from keystores.crypto import der

_NIST_KEYS = ("EC-P256", "EC-P384", "EC-P521")


class SpkiKey:
    """A public key held as its SubjectPublicKeyInfo DER, as cryptography writes it, with what keystores.pki.builder
    asks of a key: its kind ("ec", "rsa") and size in bits. The public key of keystores.pki.pkcs8.HeldEcKey (a key
    libcrypto made or signs with) and of a request sign signs, which no cryptography object stands for (start-up
    speed: certreq, selfsign and sign load no cryptography); `loaded` gives cryptography's key where one is needed
    after all."""

    __slots__ = ("bits", "der", "kind")

    def __init__(self, der: bytes, kind: str, bits: int) -> None:
        self.der, self.kind, self.bits = der, kind, bits

    def loaded(self) -> object:
        from keystores.crypto.key_encoding import load_der_public_key

        return load_der_public_key(self.der)

    def verifies(self, signature: bytes, data: bytes, hash_name: str) -> bool:
        """keystores.pki.chain.signature_verifies for this key: libcrypto's verdict (keystores.crypto.verify), or
        where libcrypto cannot say, cryptography's over the loaded key."""
        from keystores.crypto.verify import verify

        verdict = verify(self.der, signature, data, hash_name)
        if verdict is not None:
            return verdict
        from keystores.pki.chain import signature_verifies

        return signature_verifies(self.loaded(), signature, data, hash_name)
_RSA_PARAMETERS = bytes.fromhex("06092a864886f70d0101010500")  # rsaEncryption with its NULL, as cryptography writes
_FACTS: dict[bytes, tuple[int | None, bool, bool, int] | None] = {}


def _facts(spki: bytes) -> tuple[int | None, bool, bool, int] | None:
    """(RSA modulus bits or None for EC, absurd, in the form cryptography writes, size in bits) or None; remembered
    per key."""
    if spki not in _FACTS:
        from keystores.crypto.verify import ec_spki_point

        ec_form = ec_spki_point(spki)
        if ec_form is not None:  # an EC key as cryptography writes it: read by its bytes (_ec_facts)
            _FACTS[spki] = _ec_facts(*ec_form)
            return _FACTS[spki]
        from keystores.pki.columns import key_facts
        from keystores.pki.curves import ec_point_on_curve

        found: tuple[int | None, bool, bool, int] | None = None
        try:
            tag, start, stop = der.read(spki, 0, len(spki), minimal=True)
            if tag == 0x30 and stop == len(spki):
                kind, bits = key_facts(spki, start, stop)
                content = spki[start:stop]
                (_, _, algorithm_start, algorithm_stop), (_, _, bits_start, bits_stop) = der.elements(content)
                # an EC key: keystores.pki.shown.ec_point_loads of the content, without importing shown (sign and
                # receive of EC keys read no certificate with it: start-up speed)
                if kind in _NIST_KEYS and ec_point_on_curve(kind, content[bits_start + 1 : bits_stop]):
                    found = (None, False, content[bits_start + 1 : bits_start + 2] == b"\x04", bits)  # uncompressed
                elif kind.startswith("RSA-") and _rsa_key_loads(content):
                    from keystores.limits import MAX_RSA_BITS, MAX_RSA_EXPONENT_BITS

                    absurd = bits > MAX_RSA_BITS or _exponent_bits(content) > MAX_RSA_EXPONENT_BITS
                    found = (bits, absurd, content[algorithm_start:algorithm_stop] == _RSA_PARAMETERS, bits)
        except (ValueError, IndexError):
            found = None
        _FACTS[spki] = found
    return _FACTS[spki]


def _ec_facts(group: bytes, point: bytes) -> tuple[int | None, bool, bool, int] | None:
    """_facts of an EC key in the form crypto.verify.ec_spki_point reads (OpenSSL's name of its curve, its point
    uncompressed): what key_facts and ec_point_on_curve give for it, without importing keystores.pki.columns (20.5 KB
    of list's column readers; start-up speed: sign and receive check EC keys only, bench/bench_core.py "sign")."""
    from keystores.pki.curves import curve_named, ec_point_on_curve

    curve = curve_named(group.decode("ascii"))
    if curve is None:  # (verify's forms are the NIST curves': never)
        return None
    return (None, False, True, curve.bits) if ec_point_on_curve(f"EC-{curve.short}", point) else None


def _rsa_key_loads(content: bytes) -> bool:
    from keystores.pki.shown import rsa_key_loads  # (imported for an RSA key only)

    return rsa_key_loads(content)


def spki_key(spki: bytes) -> SpkiKey | None:
    """The key of a SubjectPublicKeyInfo as an SpkiKey, where it is an RSA key or an EC key on P-256, P-384 or P-521
    that cryptography loads, is not absurd (keystores.limits), and is in the form cryptography writes (so that a
    certificate made for it carries the bytes cryptography's key would write); else None: the caller loads it."""
    found = _facts(spki)
    if found is None or found[1] or not found[2]:
        return None
    return SpkiKey(spki, "ec" if found[0] is None else "rsa", found[3])


def key_from_der(spki: bytes) -> tuple[int | None, bool] | None:
    """(the RSA modulus' bits, or None for an EC key; whether keystores.pki.chain.absurd_key refuses the key) of a
    SubjectPublicKeyInfo cryptography loads as an RSA key or an EC key on P-256, P-384 or P-521; None for any other
    key, or one cryptography would not load."""
    found = _facts(spki)
    return None if found is None else (found[0], found[1])


def key_print(spki: bytes) -> bytes | None:
    """keystores.model.public_key_fingerprint of the key, from the DER where it is the key as cryptography writes it
    (an RSA key with its NULL parameters, an EC point uncompressed): SHA-256 of these very bytes; else None."""
    found = _facts(spki)
    if found is None or not found[2]:
        return None
    return openssl_digest("sha256", spki)


def openssl_digest(name: str, data: bytes) -> bytes:
    """hashlib.new(name, data).digest() for "sha1" and "sha256": by the constructor hashlib.sha1 and hashlib.sha256
    are where the interpreter has OpenSSL (_hashlib's openssl_sha1, openssl_sha256), without importing hashlib,
    whose import makes a constructor for every digest it offers (~0.4 ms cold; sign, receive and selfsign have
    _hashlib loaded for their key derivations and hash only a key or two with it: their key prints and key
    identifiers); hashlib's own where _hashlib is missing."""
    try:
        from _hashlib import openssl_sha1, openssl_sha256
    except ImportError:  # pragma: no cover - an interpreter without OpenSSL
        import hashlib

        return hashlib.new(name, data).digest()
    return (openssl_sha256 if name == "sha256" else openssl_sha1)(data).digest()  # type: ignore[no-any-return]


def _exponent_bits(spki_content: bytes) -> int:
    """The public exponent's size of an RSA SubjectPublicKeyInfo's content key_facts read."""
    _, (_, _, bits_start, bits_stop) = der.elements(spki_content, 0, len(spki_content))
    key = spki_content[bits_start + 1 : bits_stop]
    _, start, stop = der.read(key, 0, len(key))
    _, (_, _, exponent_start, exponent_stop) = der.elements(key, start, stop)
    return int.from_bytes(key[exponent_start:exponent_stop], "big").bit_length()
