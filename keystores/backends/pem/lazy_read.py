"""The two everyday PEM shapes read without decoding a certificate: a key with its certificate, and a bundle of
certificates.

A speed device (bench/bench_core.py, "start-up: keystores list pair.pem (encrypted key)" and "list pair.pem" against
`openssl pkey -noout`; bench/bench_pem.py, the CA bundle; issue 15): read.py decodes every certificate with
cryptography's x509 (whose import alone is ~30 ms, more than Python's start-up) to pair keys by public key, build
chains and derive labels. For these shapes none of that needs a decoded certificate: the label comes from the
subject's DER, the pairing from comparing the key's SubjectPublicKeyInfo with the certificate's, and there is no
chain to build (one certificate, or none with a key). The entries are keystores.lazy_entries.LazyEntry objects whose
certificate is decoded, by read.py's own decoder, on first use; `list` reads its columns from the DER
(keystores.pki.columns).

What is checked: an encrypted key is decrypted with the store's password (its derivation charged to the file's
KDF budget first), so a wrong password fails as it does in read.py, and paired with the certificate by the public
key its PKCS#8 holds (RSA, EC on the curves of keystores.pki.curves), which a wrong password's garbage never
matches; each certificate's and key's framing is walked to its last element (read.py's decoders refuse damage
anywhere in it). A certificate's label comes from labels.name_label, which read.py uses too for one cryptography
refuses, so labels never depend on the reader. As a PKCS#12 listing opens no key, cryptography loads the key on
its first use, and refuses it then, naming the block, if its private values are damaged (read.py, which loads every
key on opening, would have kept such a key aside). Anything else (another block type, more than one key, a key
that is not PKCS#8 PBES2/PBKDF2 or plain PKCS#8, an Ed25519 key with no public key in its PKCS#8, a name or key in a
form read here only by cryptography, a pairing that fails, a wrong password) returns False and read.py reads the
file as before, with its own messages. tests/test_pem_lazy.py holds both readers to the same entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from keystores.backends.pem.labels import name_label
from keystores.backends.pem.parse import UNENCRYPTED
from keystores.crypto.der import DerError, read
from keystores.errors import CorruptStore, KeystoreError
from keystores.lazy_entries import LazyEntry
from keystores.limits import KdfBudget
from keystores.model import EntryKind
from keystores.pki.columns import certificate_columns, subject_and_key
from keystores.pki.curves import curve_of_params
from keystores.pki.labels import UniqueLabels

if TYPE_CHECKING:
    from keystores.backends.pem.parse import _Block
    from keystores.backends.pem.read import PemReading

_CERTIFICATES = frozenset({"CERTIFICATE", "X509 CERTIFICATE"})
_KEYS = frozenset({"PRIVATE KEY", "ENCRYPTED PRIVATE KEY"})
_PBES2 = bytes.fromhex("2a864886f70d01050d")  # 1.2.840.113549.1.5.13
_PBKDF2 = bytes.fromhex("2a864886f70d01050c")  # 1.2.840.113549.1.5.12
_RSA = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1
_EC = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1


class _NotHere(Exception):
    """The file is not in a shape read here: read.py reads it."""


def read_lazily(store: PemReading, blocks: list[_Block]) -> bool:
    """Fill `store`'s entries (and what it records of its keys) from `blocks` when they are a key with its
    certificate or certificates only, decoding no certificate; False, with the store unchanged, otherwise."""
    certificates = [b for b in blocks if b.pem_label in _CERTIFICATES and not b.headers]
    keys = [b for b in blocks if b.pem_label in _KEYS and not b.headers]
    if not certificates or len(certificates) + len(keys) != len(blocks) or len(keys) > 1 \
            or (keys and len(certificates) != 1):
        return False
    try:
        labelled = [(block, _derived_label(block.der)) for block in certificates]
        if keys:
            key = _paired_key(store, keys[0], certificates[0].der)
            (leaf, label), = labelled
            _add(store, UniqueLabels(), leaf, leaf.friendly_name or keys[0].friendly_name or label,
                 {"key": key}, kind=EntryKind.KEY_PAIR)
            return True
    except _NotHere:
        store._kdf_budget = KdfBudget()  # read.py charges the key's derivation again
        return False
    labels, seen, duplicates = UniqueLabels(), set(), 0
    for block, label in labelled:
        fingerprint = hashlib.sha256(block.der).digest()
        if block.friendly_name is None and fingerprint in seen:
            duplicates += 1
            continue
        seen.add(fingerprint)
        _add(store, labels, block, block.friendly_name or label, {}, kind=EntryKind.TRUSTED_CERT,
             trust=block.trust)
    if duplicates:
        store.notes.append(f"{store.location}: {duplicates} duplicate certificate(s) skipped")
    return True


def _add(store: PemReading, labels: UniqueLabels, block: _Block, label: str, loaders: dict[str, Callable[[], Any]],
         **fields: Any) -> None:
    def chain() -> tuple[Any, ...]:
        from keystores.pki.certificates import quietly_decoding

        with quietly_decoding():
            return (store._certificate(block.der, block.where),)

    unique = labels.add(label)
    store._entries[unique] = LazyEntry.lazy({"chain": chain, **loaders}, leaf_der=block.der, chain_der=(block.der,),
                                            label=unique, **fields)


def _derived_label(der: bytes) -> str:
    """labels.derived_label, read from the DER (labels.name_label); _NotHere where that reader declines the name or
    the columns reader the certificate (the label is then the key's hash, or cryptography's reading decides)."""
    label = name_label(der)
    if label is None or certificate_columns(der) is None or not _well_framed(der, 0, len(der)):
        raise _NotHere
    return label


def _well_framed(der: bytes, at: int, end: int, depth: int = 0) -> bool:
    """Every element from `at` to `end`, and every element inside a constructed one, ends where its container
    says: read.py's decoders refuse a certificate whose framing is damaged anywhere (in its extensions too), so
    such a file is left to them."""
    try:
        while at < end:
            tag, start, stop = read(der, at, end)
            if tag & 0x20 and (depth > 16 or not _well_framed(der, start, stop, depth + 1)):
                return False
            at = stop
    except DerError:
        return False
    return True


def _paired_key(store: PemReading, block: _Block, certificate: bytes) -> Callable[[], Any]:
    """What loads the block's key, once its public key, read from the (decrypted) PKCS#8, is the certificate's;
    _NotHere otherwise. cryptography loads the key when it is first used, and refuses it then as read.py does."""
    encrypted = block.pem_label == "ENCRYPTED PRIVATE KEY"
    plain = _decrypted(store, block) if encrypted else block.der
    spki = subject_and_key(certificate)
    if spki is None or _pkcs8_public_key(plain) != _certificate_public_key(spki[1]):
        raise _NotHere
    if encrypted:
        store._encrypted_pkcs8.append(block.der)
    else:
        store._key_protection.add(UNENCRYPTED)

    def key() -> Any:
        from keystores.pki.undecoded import UndecodedPrivateKey

        loaded = store._maybe_key(plain)
        if loaded is None or isinstance(loaded, UndecodedPrivateKey):  # sound in form, but its values are not
            problem = "decrypts to a key we cannot read" if encrypted else "is not a readable private key"
            raise CorruptStore(f"{block.where} {problem}", store=store.location)
        return loaded

    return key


def _pkcs8_public_key(der: bytes) -> tuple[bytes, ...]:
    """(algorithm OID, then what identifies the public key) of a PrivateKeyInfo: an RSA key's modulus and
    exponent, an EC key's curve (one of keystores.pki.curves, which cryptography loads) and point (from its
    optional publicKey field); _NotHere for other keys."""
    try:
        tag, start, end = read(der)
        if tag != 0x30 or end != len(der):
            raise _NotHere
        tag, _, at = read(der, start, end)
        tag_alg, alg_start, alg_stop = read(der, at, end)
        tag_key, key_start, key_stop = read(der, alg_stop, end)
        if (tag, tag_alg, tag_key) != (0x02, 0x30, 0x04):
            raise _NotHere
        tag, oid_start, oid_stop = read(der, alg_start, alg_stop)
        algorithm = der[oid_start:oid_stop]
        key = der[key_start:key_stop]
        if tag != 0x06 or not _well_framed(der, 0, len(der)) or not _well_framed(key, 0, len(key)):
            raise _NotHere  # the structure read.py's decoders check, every element's framing
        tag, inner_start, inner_stop = read(key)
        if tag != 0x30 or inner_stop != len(key):
            raise _NotHere
        fields = [(tag, key[first:last]) for tag, first, last in _elements(key, inner_start, inner_stop)]
        if algorithm == _RSA and len(fields) == 9 and all(tag == 0x02 for tag, _ in fields):
            return algorithm, fields[1][1], fields[2][1]  # version, modulus, exponent, ...
        curve = der[oid_stop:alg_stop]  # curve_of_params takes the whole OID element, tag included
        if algorithm == _EC and curve_of_params(curve) is not None and [tag for tag, _ in fields[:2]] == [2, 4]:
            public = next((value for tag, value in fields[2:] if tag == 0xA1), None)
            if public is not None:
                tag, bits_start, bits_stop = read(public)
                if tag == 0x03 and bits_stop == len(public):
                    return algorithm, curve, public[bits_start:bits_stop]
    except (DerError, IndexError):
        pass
    raise _NotHere


def _certificate_public_key(spki: bytes) -> tuple[bytes, ...] | None:
    """_pkcs8_public_key's tuple for a SubjectPublicKeyInfo, or None when it is not an RSA or EC key read here."""
    try:
        _, start, end = read(spki)
        tag_alg, alg_start, alg_stop = read(spki, start, end)
        tag_bits, bits_start, bits_stop = read(spki, alg_stop, end)
        tag, oid_start, oid_stop = read(spki, alg_start, alg_stop)
        if (tag_alg, tag_bits, tag) != (0x30, 0x03, 0x06):
            return None
        algorithm = spki[oid_start:oid_stop]
        if algorithm == _EC:
            return algorithm, spki[oid_stop:alg_stop], spki[bits_start:bits_stop]
        if algorithm == _RSA and spki[bits_start] == 0:
            bits = spki[bits_start + 1:bits_stop]
            tag, inner_start, inner_stop = read(bits)
            numbers = [(tag, bits[first:last]) for tag, first, last in _elements(bits, inner_start, inner_stop)]
            if tag == 0x30 and inner_stop == len(bits) and [t for t, _ in numbers] == [0x02, 0x02]:
                return algorithm, numbers[0][1], numbers[1][1]
    except (DerError, IndexError):
        pass
    return None


def _elements(data: bytes, at: int, end: int) -> list[tuple[int, int, int]]:
    found = []
    while at < end:
        tag, start, at = read(data, at, end)
        found.append((tag, start, at))
    return found


def _decrypted(store: PemReading, block: _Block) -> bytes:
    """The PrivateKeyInfo of a PBES2/PBKDF2 EncryptedPrivateKeyInfo, decrypted with the store's password (its
    derivation charged to the file's budget first); _NotHere for other schemes, damage or a wrong password."""
    from keystores.crypto import pbe

    if not store.password:
        raise _NotHere
    data = block.der
    try:
        tag, start, end = read(data)
        tag_alg, alg_start, alg_stop = read(data, start, end)
        tag_data, data_start, data_stop = read(data, alg_stop, end)
        if (tag, tag_alg, tag_data) != (0x30, 0x30, 0x04) or data_stop != end or end != len(data):
            raise _NotHere
        tag, oid_start, oid_stop = read(data, alg_start, alg_stop)
        if tag != 0x06 or data[oid_start:oid_stop] != _PBES2:
            raise _NotHere
        tag, params_start, params_stop = read(data, oid_stop, alg_stop)
        tag, kdf_start, _ = read(data, params_start, params_stop)
        tag, oid_start, oid_stop = read(data, kdf_start, params_stop)
        if tag != 0x06 or data[oid_start:oid_stop] != _PBKDF2:
            raise _NotHere  # scrypt and the rest: read.py
        store._encrypted_keys_read = True
        return pbe.decrypt_with(data[start:alg_stop], data[data_start:data_stop], store.password,  # type: ignore[no-any-return]
                                budget=store._kdf_budget)
    except (DerError, IndexError, KeystoreError):
        raise _NotHere from None
