"""What CmsStore keeps per container record (_Record), how record kinds map to entry kinds, how a label's
bytes become text, and the key scheme each database version writes natively.
"""

from __future__ import annotations

from keystores.backends.cms import container as fmt
from keystores.model import (
    Entry,
    EntryKind,
    ProtectionPart,
)

#: The scheme GSKit writes keys with, per format version, and how `protection()` names it.
NATIVE_KEY_SCHEME = {3: "pkcs12-3des", 4: "pkcs12-3des", 6: "pbes2-aes256-sha384"}
_NATIVE_ITERATIONS = 5
_GSKIT_3DES = ProtectionPart(f"PKCS#12 PBE SHA-1 3DES (GSKit raw-ASCII password), {_NATIVE_ITERATIONS} iterations",
                             ("PKCS#12 KDF", "SHA-1", "3DES"), _NATIVE_ITERATIONS)
#: How each database version protects the keys it holds natively.
NATIVE_KEY_PROTECTION = {
    3: _GSKIT_3DES,
    4: _GSKIT_3DES,
    6: ProtectionPart(f"PBES2 PBKDF2-HMAC-SHA384 AES-256-CBC, {_NATIVE_ITERATIONS} iterations",
                      ("PBES2", "PBKDF2", "SHA-384", "AES-256"), _NATIVE_ITERATIONS),
}
#: The database's password check and integrity check, per version.
_INTEGRITY_ALGORITHMS = {3: ("MD5",), 4: ("HMAC", "SHA-1"), 6: ("HMAC", "SHA-384")}
_NATIVE_SALT = 8
_KINDS = {fmt.CERTIFICATE: EntryKind.TRUSTED_CERT, fmt.KEY_PAIR: EntryKind.KEY_PAIR,
          fmt.REQUEST: EntryKind.REQUEST, fmt.SECRET: EntryKind.SECRET_KEY}


class _Record:
    """A record as read: where it came from ("kdb" or "rdb"), its raw slot (the whole slot as read, padding
    included), its parsed parts (`record` None for a slot we do not understand, kept as it is) and the Entry made
    from it. (A plain class: see container.Container.)"""

    __slots__ = ("entry", "position", "raw", "record", "slot", "source")

    def __init__(self, source: str, position: int, raw: bytes, slot: fmt.Slot, record: fmt.Record | None,
                 entry: Entry | None) -> None:
        self.source, self.position, self.raw, self.slot, self.record, self.entry = (source, position, raw, slot,
                                                                                    record, entry)


def _label_text(raw: bytes) -> str:
    raw = raw[:-1] if raw.endswith(b"\0") else raw  # KeyStore Explorer writes a NUL terminator; GSKit does not
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
