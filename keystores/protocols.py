"""The protocols every layer codes against: KeyStore (keystores.store), Signer and Decrypter (keystores.model).

They are typing Protocols, so this module imports typing; the modules that name them give them through a module
`__getattr__` and import this one only for type checkers. A command never checks a store or signer against them at
run time (backends need not inherit them), so no command pays for typing (start-up speed, issue 15; the guards are
in tests/test_store_lean.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

    from keystores.model import Capabilities, Entry, KeyRef, KeySpec, Protection, Trust


@runtime_checkable
class KeyStore(Protocol):
    """What every backend provides. Operations are written once against this and never ask the format."""

    format: str
    location: str
    capabilities: Capabilities
    notes: list[str]  # things the user should be told (format guessed, mapping applied); never secrets
    uses_password: bool  # the password opens or protects something here (False: a PEM without encrypted keys)

    def entries(self) -> Iterator[Entry]: ...
    def __iter__(self) -> Iterator[Entry]: ...  # the same as entries()
    def labels(self) -> list[str]: ...
    def get(self, label: str) -> Entry: ...  # EntryNotFound lists the labels that do exist
    def add(self, entry: Entry, *, replace: bool = False) -> None: ...
    def remove(self, label: str) -> None: ...
    def rename(self, old: str, new: str) -> None: ...
    def generate_key(self, label: str, spec: KeySpec) -> KeyRef: ...  # on the token; CapabilityError elsewhere
    def signer(self, label: str) -> Signer: ...
    def decrypter(self, label: str) -> Decrypter: ...  # RSA key transport, on the token for PKCS#11
    def set_password(self, new_password: str) -> None: ...
    def set_trust(self, label: str, trust: Trust | None) -> None: ...  # CapabilityError where there is no trust
    def set_default(self, label: str) -> None: ...  # CapabilityError where the format has no default entry
    def write_stash(self, version: int = 8) -> str: ...  # on save (its path); CapabilityError where there is no stash
    def protection(self) -> Protection: ...  # how the store protects itself, part by part, with a verdict
    def expect_write(self, *, new_keys: int = 0) -> None: ...  # a hint: the next save writes new_keys keys anew
    def save(self) -> None: ...  # atomic; also done by the context manager on success
    def close(self) -> None: ...
    def __enter__(self) -> KeyStore: ...
    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class Signer(Protocol):
    """Signs with a private key wherever it lives (a file key or a token key).

    `sign` returns the signature as X.509 wants it: PKCS#1 v1.5 for RSA, DER ECDSA-Sig-Value for EC, raw Ed25519.
    `hash_name` is a hashlib name ("sha256"); Ed25519 ignores it.
    """

    @property
    def public_key(self) -> PublicKeyTypes: ...

    def sign(self, data: bytes, hash_name: str) -> bytes: ...


@runtime_checkable
class Decrypter(Protocol):
    """Decrypts with an RSA private key wherever it lives: PKCS#1 v1.5 key transport, what a CMS
    KeyTransRecipientInfo holds (openssl cms -encrypt, IBM MQ AMS). Raises KeystoreError when the key refuses."""

    @property
    def public_key(self) -> PublicKeyTypes: ...

    def decrypt(self, data: bytes) -> bytes: ...
