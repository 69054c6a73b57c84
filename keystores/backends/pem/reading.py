"""Reading a PEM or DER file into a PemStore: its bytes to entries by lazy_read.py where the file is in one of the
everyday shapes it reads without decoding, else by read.py's decoders; and what both readers (and the writer's
checks) share: a certificate's decoding, a key's loading, the password, OpenSSL's traditional encryption.

Functions of the store rather than a base class of PemStore (as CMS's reading half is, cms/read.py): an export or
a convert into a new PEM file loads none of it (start-up speed, issue 15)."""

from __future__ import annotations

import sys

from keystores.errors import CorruptStore, PasswordRequired, UnsupportedFormat
from keystores.model import ProtectionPart, describe_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from keystores.backends.pem.parse import _Block
    from keystores.backends.pem.store import PemStore

# OpenSSL's traditional encrypted-PEM ciphers -> (keystores.crypto.kdf cipher name, key size, block size).
_LEGACY_PEM_CIPHERS = {"AES-128-CBC": ("aes", 16, 16), "AES-192-CBC": ("aes", 24, 16), "AES-256-CBC": ("aes", 32, 16),
                       "DES-EDE3-CBC": ("tripledes", 24, 8), "DES-CBC": ("des", 8, 8)}
_DEK_INFO = r"^[A-Za-z0-9-]+,[0-9A-Fa-f]+$"  # what dek_info_sound accepts (tests/test_pem.py holds it to it)
_CIPHER_NAME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-")
_HEX_CHARACTERS = frozenset("0123456789ABCDEFabcdef")


def dek_info_sound(value: str) -> bool:
    """Whether a DEK-Info header is a cipher's name and a hexadecimal IV, as re.match(_DEK_INFO, value) says, by
    string tests: listing a traditional encrypted key needs no `re` (start-up)."""
    cipher, comma, iv = value.removesuffix("\n").partition(",")  # ($ matches before a final newline too)
    return bool(comma and cipher and iv) and _CIPHER_NAME_CHARACTERS.issuperset(cipher) \
        and _HEX_CHARACTERS.issuperset(iv)


def evp_bytes_to_key(password: bytes, salt: bytes, size: int) -> bytes:
    """OpenSSL's EVP_BytesToKey with MD5 and one iteration, as the traditional encrypted PEM form derives keys: by
    cryptography where it is loaded, else by hashlib (listing such a key loads no cryptography, lazy_read.py; either
    way one OpenSSL is loaded, not two)."""
    if "cryptography.hazmat.bindings._rust" in sys.modules:
        from cryptography.hazmat.primitives import hashes

        def md5(data: bytes) -> bytes:
            digest = hashes.Hash(hashes.MD5())
            digest.update(data)
            return digest.finalize()
    else:
        import hashlib

        def md5(data: bytes) -> bytes:
            return hashlib.md5(data, usedforsecurity=False).digest()

    derived, previous = b"", b""
    while len(derived) < size:
        previous = md5(previous + password + salt)
        derived += previous
    return derived[:size]


def load(store: PemStore, data: bytes) -> None:
    try:
        _load_objects(store, data)
    except BaseException as exc:  # cryptography's Rust code can panic on hostile input (PanicException)
        if type(exc).__name__ != "PanicException":
            raise
        raise CorruptStore("is damaged (cryptography could not parse it)", store=store.location) from None


def _load_objects(store: PemStore, data: bytes) -> None:
    # The bytes decide between the two spellings (`type="pem"` on a DER file, or the reverse, just works);
    # the store is then written back in the spelling it was read in.
    from keystores.backends.pem.parse import _is_pem, split_pem  # here: an export into a new file parses nothing

    is_pem = _is_pem(data)
    if is_pem != (store.format == "pem") and data.strip():
        store._set_format("pem" if is_pem else "der")
    if store.format != "pem":
        if not store.writable:
            from keystores.backends.pem.lazy_read import read_der_lazily

            if read_der_lazily(store, data):  # a certificate: not decoded yet
                return
        from keystores.backends.pem import read

        read.assemble_decoded(store, lambda: read.decode(store, data, pem=False))
        return
    skipped: list[str] = []
    blocks = split_pem(data, store.location, skipped)
    if not skipped and not store.writable:
        from keystores.backends.pem.lazy_read import read_lazily

        if read_lazily(store, blocks):  # a key with its certificate, or certificates: none decoded yet
            return
    from keystores.backends.pem import read

    read.assemble_decoded(store, lambda: read.decode_blocks(store, blocks, skipped, blank=not data.strip()))


def certificate(store: PemStore, der: bytes, where: str) -> Any:
    """The certificate in `der`; one cryptography refuses in part is a RawCertificate (see keystores.pki.undecoded),
    bytes that are no certificate at all are damage."""
    from keystores.pki.certificates import decode_certificate
    from keystores.pki.undecoded import RawCertificate

    cert = decode_certificate(der)
    if isinstance(cert, RawCertificate) and cert.parsed is None:
        raise CorruptStore(f"{where} is not a valid certificate", store=store.location)
    return cert


def checked(store: PemStore, obj: Any, where: str) -> Any:
    """`obj` once the parts cryptography decodes lazily (key, names, dates) are known to decode."""
    from cryptography.exceptions import UnsupportedAlgorithm

    from keystores.pki.undecoded import RawCertificate

    if isinstance(obj, RawCertificate):
        return obj  # written back byte for byte: nothing in it needs decoding

    from keystores.pki.certificates import fully_decoded

    try:
        obj.public_key()
    except UnsupportedAlgorithm as exc:
        raise UnsupportedFormat(f"{where} has a public key of a type we do not read", store=store.location) \
            from exc
    except ValueError as exc:
        raise CorruptStore(f"{where} has a damaged public key", store=store.location) from exc
    try:
        return fully_decoded(obj)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CorruptStore(f"{where} is damaged ({exc.__class__.__name__} while decoding it)",
                           store=store.location) from exc


def maybe_key(store: PemStore, der: bytes) -> PrivateKeyTypes | None:
    """The key in `der` (an UndecodedPrivateKey for a sound PKCS#8 of a type cryptography does not load)."""
    from keystores.pki.undecoded import load_private_key

    try:
        return load_private_key(der)  # type: ignore[no-any-return]
    except (ValueError, TypeError):
        return None


def need_password(store: PemStore, where: str) -> str:
    store._encrypted_keys_read = True
    if not store.password:
        raise PasswordRequired(f"{where} is an encrypted private key; give the password", store=store.location)
    return store.password


def legacy_plain(store: PemStore, block: _Block) -> bytes:
    """read._decrypt_legacy's decrypted DER (its protection recorded), b"" where the padding is wrong; raises for a
    damaged header or data, a cipher not read here, or no password. lazy_read.py reads the key from it too."""
    from keystores.crypto.pbe import cbc_decrypt

    dek_info = block.headers.get("DEK-Info", "")
    if not dek_info_sound(dek_info):
        raise CorruptStore(f"{block.where} has a damaged DEK-Info header", store=store.location)
    cipher, _, iv_hex = dek_info.partition(",")
    cipher = cipher.upper()
    if cipher not in _LEGACY_PEM_CIPHERS:
        raise UnsupportedFormat(f"{block.where} is encrypted with {cipher}, which we do not read",
                                store=store.location)
    name, key_size, block_size = _LEGACY_PEM_CIPHERS[cipher]
    iv = bytes.fromhex(iv_hex) if len(iv_hex) % 2 == 0 else b""
    if len(iv) != block_size or not block.der or len(block.der) % block_size:
        raise CorruptStore(f"{block.where} is damaged (IV or data length does not fit {cipher})",
                           store=store.location)
    password = need_password(store, block.where)
    family = {"aes": f"AES-{key_size * 8}", "tripledes": "3DES", "des": "DES"}[name]
    store._key_protection.add(ProtectionPart(f"legacy PEM encryption {cipher} (MD5 key derivation, 1 iteration)",
                                            ("EVP_BytesToKey", "MD5", family), 1))
    key = evp_bytes_to_key(password.encode("utf-8"), iv[:8], key_size)
    return cbc_decrypt(name, key, iv, block.der) or b""


def keep_loose_key(store: PemStore, key: PrivateKeyTypes) -> None:
    """A private key that matches no certificate or request: kept, and named in a note (lazy_read.py too)."""
    store.loose_keys.append(key)
    _loose_key_note(store, describe_key(key.public_key()))


def keep_loose_key_unloaded(store: PemStore, load: Callable[[], PrivateKeyTypes], key_type: str) -> None:
    """_keep_loose_key of a key of `key_type` (describe_key's words) known to load, loaded on first use of
    `loose_keys` (lazy_read.py: listing it loads no cryptography)."""
    store._loose_key_loaders.append(load)
    _loose_key_note(store, key_type)


def _loose_key_note(store: PemStore, key_type: str) -> None:
    store.notes.append(f"{store.location}: holds a private key ({key_type}) that matches no certificate or "
                      "request; it is not an entry, but it is kept when the file is rewritten")
