"""Generators for hostile files: each builds, in a few milliseconds, bytes that once hung keystores or made it
spend minutes or gigabytes. Nothing here is committed as a file; the tests write what these return.

Each generator's docstring says what the file asks for and why a naive reader suffers.
"""

from __future__ import annotations

import struct

from bounded import PASSWORD


def _java_utf(text: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(">H", len(raw)) + raw


def _java_digest(password: str, body: bytes) -> bytes:
    from keystores.legacy_java import store_digest

    return store_digest(password, body)


def jceks_self_superclass() -> bytes:
    """A JCEKS secret-key entry whose Java object stream declares a class descriptor and then names it, by a
    back-reference to its own handle, as its superclass: walking the class hierarchy never ends."""
    stream = (b"\xac\xed\x00\x05"  # STREAM_MAGIC, STREAM_VERSION
              + b"\x73"  # TC_OBJECT
              + b"\x72" + _java_utf("A") + bytes(8) + b"\x02" + b"\x00\x00"  # TC_CLASSDESC A, suid, SERIALIZABLE
              + b"\x78"  # TC_ENDBLOCKDATA (no class annotation)
              + b"\x71\x00\x7e\x00\x00")  # superclass: TC_REFERENCE to handle 0, which is A itself
    body = (b"\xce\xce\xce\xce" + struct.pack(">II", 2, 1)
            + struct.pack(">I", 3) + _java_utf("k") + struct.pack(">q", 0) + stream)
    return body + _java_digest(PASSWORD, body)


def jceks_superclass_loop() -> bytes:
    """As jceks_self_superclass, with the loop two classes long: A's superclass B names A as its superclass."""
    stream = (b"\xac\xed\x00\x05\x73"
              + b"\x72" + _java_utf("A") + bytes(8) + b"\x02\x00\x00\x78"
              + b"\x72" + _java_utf("B") + bytes(8) + b"\x02\x00\x00\x78"
              + b"\x71\x00\x7e\x00\x00")  # B's superclass: A
    body = (b"\xce\xce\xce\xce" + struct.pack(">II", 2, 1)
            + struct.pack(">I", 3) + _java_utf("k") + struct.pack(">q", 0) + stream)
    return body + _java_digest(PASSWORD, body)
