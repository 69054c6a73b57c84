"""PKCS#11 tokens (HSMs, smart cards, SoftHSM2): one file per job.

    store.py        Pkcs11Store: the mapping of token objects to entries, the session, rollback (the registry
                    names it from here), with its reading half (token objects -> groups paired by CKA_ID -> entries
                    with chains and key refs, as DER where keystores.pki.shown reads every certificate:
                    encoded_names) and the token objects behind one entry (certificates held as DER) with the
                    helpers both halves share; a writable open is write.py's WritablePkcs11Store (the writing half
                    added), so that reading a token loads no writing code
    write.py        entries -> token objects (on SoftHSM as session objects copied onto the token), a Ctrl-C held
                    while an object is made and remembered
    format.py       the format record (detection, --type, options), importing nothing heavy
    keys.py         python-pkcs11's side of keystores.pki.key_attributes (the key <-> attribute mapping and CKA_ID
                    convention NSS shares), signing/decrypting with a token key, a software key pair written to a
                    token and a key pair made there (write.py delegates both: a delete and an import of certificates
                    load none of it)
    keyref.py       TokenKeyRef: a token key's KeyRef whose public key, signer and decrypter are made when first read
    tokens.py       loading a module, finding a token by label or serial
    connecting.py   connecting to a token (the module loaded, the token found, one login), on a thread of its own
                    begun by open_store through the format record's `begin` while the backend is imported
    library.py      python-pkcs11 imported without its asn1crypto helper modules until they are used (start-up)
    uri.py          RFC 7512 `pkcs11:` URIs (parsing only)
    admin.py        token administration that is not a store operation: list tokens and what each can make,
                    initialise one, Java config
    init_token.py   C_InitToken through the optional PyKCS11 (GPL), for `keystores init-token` only

Pkcs11Store is imported on first use, so that the URI parser and the token commands do not load the store.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def __getattr__(name: str) -> Any:
    if name == "Pkcs11Store":
        from keystores.backends.pkcs11.store import Pkcs11Store

        return Pkcs11Store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
