"""Text that is safe to show a person: labels, subjects and file names come from files others wrote.

A label holding a tab or newline would forge rows in piped output; an ESC or OSC sequence would drive the
user's terminal (clipboard writes, hidden text); a bidi override would show a name other than the one stored.
`printable` escapes all of these the way Python writes them in a string literal; JSON output stays exact.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the invisible characters that reorder or hide text: the bidi embeddings,
# overrides and isolates, the direction marks, and the line and paragraph separators some terminals obey.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\e"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every control, bidi-override and line-separator character escapes (`\\t`, `\\e`, `\\x85`,
    `\\u202e`); everything else, other scripts and emoji included, is kept as it is."""
    if _UNSAFE.search(text) is None:  # the usual case: one scan, no copy
        return text
    return _UNSAFE.sub(_escape, text)
