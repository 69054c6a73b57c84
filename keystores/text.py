"""Text that is safe to show a person: labels, subjects and file names come from files others wrote.

A label holding a tab or newline would forge rows in piped output; an ESC or OSC sequence would drive the
user's terminal (clipboard writes, hidden text); a bidi override would show a name other than the one stored.
`printable` escapes all of these the way Python writes them in a string literal; JSON output stays exact.
"""

from __future__ import annotations

# C0 controls, DEL, C1 controls, and the invisible characters that reorder or hide text: the bidi embeddings,
# overrides and isolates, the direction marks, and the line and paragraph separators some terminals obey. Every one
# of them is a character str.isprintable() refuses (tests/test_text.py checks), which makes the usual case one scan.
UNSAFE = (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, *range(0x202A, 0x202F),
          *range(0x2066, 0x206A))
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\e"}
_escapes: dict[int, str] = {}  # code point -> its escape, made on first use (str.translate's table)


def _escape(code: int) -> str:
    named = _NAMED.get(chr(code))
    if named is not None:
        return named
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control, bidi-override and line-separator character escapes (`\\t`, `\\e`, `\\x85`,
    `\\u202e`); everything else, other scripts and emoji included, is kept as it is."""
    if text.isprintable():  # the usual case: one scan, no copy (and no `re`, one more module on every run)
        return text
    if not _escapes:
        _escapes.update((code, _escape(code)) for code in UNSAFE)
    return text.translate(_escapes)
