"""GSKit's .sth stash: the key database password, obfuscated (not encrypted) so a server can start unattended.

v1 (129 bytes) XORs the NUL-terminated password with 0xF5; v8 (193 bytes) XORs such a v1 buffer again with a
keystream derived from 64 random bytes stored in the file itself. Anyone who can read either form has the
password: a stash protects only by its file mode, so a new one is written 0600 (an existing one keeps its mode and
group, as the database does: a queue manager's group may need to read it).
"""

from __future__ import annotations

import os

from keystores.crypto import digests
from keystores.errors import CorruptStore, UnsupportedFormat, UsageError

V1_SIZE = 129
V8_SIZE = 193
MAX_PASSWORD = V1_SIZE - 1  # the NUL terminator takes the last byte

# The constant GSKit mixes into the v8 seed (128 ASCII characters, used as they are).
_V8_CONSTANT = (b"13EC6D5C885056915AB35FAD2BDDF39F40D7C57B8B4D28F66B61B75F391446FD"
                b"A96751174DBD9713D02E0B38732E763501DBBB85EC60E437929ED2AA8981B36B")
_V8_STATE0 = bytes([1, 1, 2, 3, 5, 8])

WARNING = "a stash file is the password in thin disguise: anyone who can read it has the password"


def _v8_keystream(head: bytes, length: int) -> bytes:
    """The keystream of a v8 stash whose first 64 bytes are `head` (A ‖ B)."""
    sha256 = digests.constructor("sha256", 1 << 14)  # (~300 hashes of 32 bytes on average: asked once)
    digest = sha256(head).digest()  # K = SHA-256(A ‖ B)
    # Checked against GSKit 8.0.60.5: K is hashed at least once before byte 8 is tested (a do-while loop).
    digest = sha256(digest).digest()
    while digest[8] != 0x03:
        digest = sha256(digest).digest()
    for _ in range(64):
        digest = sha256(digest).digest()
    seed = digests.hmac(digest, (_V8_CONSTANT,), "sha256")
    state = digests.hmac(seed, (_V8_STATE0,), "sha256")
    stream = b""
    while len(stream) < length:
        stream += digests.hmac(seed, (state,), "sha256")
        state = stream + state
    return stream[:length]


def decode(data: bytes, *, store: str | None = None) -> str:
    """The password a v1 or v8 stash holds. CorruptStore when the bytes are not a stash."""
    if len(data) == V8_SIZE:
        head, body = data[:64], data[64:]
        if digests.digest("sha256", b"\x01" + head[:32]) != head[32:]:
            raise CorruptStore("stash file is damaged (its v8 check value does not match)", store=store)
        stream = _v8_keystream(head, V1_SIZE)
        data = bytes(a ^ b for a, b in zip(body, stream, strict=True))
    elif len(data) != V1_SIZE:
        raise UnsupportedFormat(f"not a GSKit stash file ({len(data)} bytes; v1 has 129, v8 has 193)", store=store)
    plain = bytes(b ^ 0xF5 for b in data)
    end = plain.find(b"\0")
    if end < 0:
        raise CorruptStore("stash file is damaged (no end to the password in it)", store=store)
    try:
        return plain[:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptStore("stash file is damaged (the password in it is not text)", store=store) from exc


def encode(password: str, *, version: int = 8) -> bytes:
    """A stash of `password` (v8 by default, as GSKit writes now; v1 on request). Random non-zero padding."""
    raw = password.encode("utf-8")
    if len(raw) > MAX_PASSWORD:
        raise UsageError(f"a stash holds at most {MAX_PASSWORD} bytes of password")
    if b"\0" in raw:
        raise UsageError("a password with a NUL character cannot be stashed")
    padding = bytes(b % 255 + 1 for b in os.urandom(V1_SIZE - len(raw) - 1))
    v1 = bytes(b ^ 0xF5 for b in raw + b"\0" + padding)
    if version == 1:
        return v1
    if version != 8:
        raise UsageError(f"stash version {version} is not one GSKit writes; use 1 or 8")
    a = os.urandom(32)
    head = a + digests.digest("sha256", b"\x01" + a)
    stream = _v8_keystream(head, V1_SIZE)
    return head + bytes(x ^ y for x, y in zip(v1, stream, strict=True))


def version_of(data: bytes) -> int | None:
    """1 or 8 for a stash of the right size, else None."""
    return {V1_SIZE: 1, V8_SIZE: 8}.get(len(data))
