"""Percent-encoding (RFC 3986 2.1) as `urllib.parse.quote` and `unquote_to_bytes` do it, without importing them.

Where urllib.parse falls short: importing it loads `ipaddress` too, about 12 M instructions (a third of a bare
interpreter's start-up) on every `pkcs11:` command, which needs only these two functions (the token rows of
bench/bench_core.py). tests/test_percent.py holds both to urllib.parse over generated text, malformed escapes,
non-ASCII and lone surrogates included.
"""

from __future__ import annotations

# What quote never escapes (its _ALWAYS_SAFE: RFC 3986's unreserved characters)
_ALWAYS_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_HEX_DIGITS = frozenset(b"0123456789ABCDEFabcdef")


def quote(text: str, safe: str = "/") -> str:
    """`text` as UTF-8 with every byte that is neither unreserved nor in `safe` (ASCII) written %XX, upper case;
    as `urllib.parse.quote(text, safe)` (UnicodeEncodeError for a lone surrogate, as there)."""
    if not text:
        return text
    kept = _ALWAYS_SAFE.union(safe.encode("ascii", "ignore"))
    return "".join(chr(b) if b in kept else f"%{b:02X}" for b in text.encode("utf-8"))


def unquote_to_bytes(text: str) -> bytes:
    """The bytes `text` (as UTF-8) spells, each %XX (either case) decoded; a `%` not followed by two hex digits is
    kept as it is, as `urllib.parse.unquote_to_bytes(text)` does (and as RFC 3986 readers do)."""
    raw = text.encode("utf-8")
    if b"%" not in raw:
        return raw
    pieces = raw.split(b"%")
    out = [pieces[0]]
    for piece in pieces[1:]:
        if len(piece) >= 2 and piece[0] in _HEX_DIGITS and piece[1] in _HEX_DIGITS:
            out += (bytes((int(piece[:2], 16),)), piece[2:])
        else:
            out += (b"%", piece)
    return b"".join(out)
