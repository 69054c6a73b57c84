"""cryptography's names for loading and writing keys, without importing cryptography.hazmat.primitives.serialization.

A speed device (bench/bench_core.py, the "start-up:" rows: certreq, sign, receive, convert; issue 15): that
package's __init__ imports its ssh module, and with it dataclasses, inspect, bcrypt and every key type, about 15 ms
of start-up for a command that loads or writes one key. The objects here are the very ones the package re-exports,
taken from where cryptography defines them:

- the enums and the encryption choices from cryptography.hazmat.primitives._serialization (which the key modules
  import anyway);
- the loaders from cryptography.hazmat.bindings._rust.openssl.keys, which serialization/base.py binds under the
  public names (`load_der_private_key = rust_openssl.keys.load_der_private_key`).

Both places are private to cryptography: tests/test_key_encoding.py fails loudly when a name here stops being the
public object itself or when importing this module imports the public package. Where a cryptography release keeps
them elsewhere, the package itself is imported: slower, never different.

A key's `private_bytes` imports the package all the same (cryptography checks its encryption argument against
the package's NoEncryption): keystores.pki.pkcs8 writes the key types keystores makes without it.
"""

from __future__ import annotations

try:
    from cryptography.hazmat.bindings._rust import openssl as _openssl
    from cryptography.hazmat.primitives._serialization import (
        BestAvailableEncryption,
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
    )

    load_der_private_key = _openssl.keys.load_der_private_key
    load_der_public_key = _openssl.keys.load_der_public_key
    load_pem_private_key = _openssl.keys.load_pem_private_key
    load_pem_public_key = _openssl.keys.load_pem_public_key
    LEAN = True  # the private places hold them (tests/test_key_encoding.py)
except (ImportError, AttributeError):  # pragma: no cover - another layout of cryptography
    from cryptography.hazmat.primitives.serialization import (  # type: ignore[assignment]
        BestAvailableEncryption,
        Encoding,
        NoEncryption,
        PrivateFormat,
        PublicFormat,
        load_der_private_key,
        load_der_public_key,
        load_pem_private_key,
        load_pem_public_key,
    )

    LEAN = False

__all__ = ["BestAvailableEncryption", "Encoding", "NoEncryption", "PrivateFormat", "PublicFormat",
           "load_der_private_key", "load_der_public_key", "load_pem_private_key", "load_pem_public_key", "spki_der"]


def spki_der(public_key: object) -> bytes:
    """A public key's SubjectPublicKeyInfo, DER: what certificates carry and receive matches keys by."""
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[attr-defined,no-any-return]
