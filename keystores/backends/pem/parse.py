"""PEM text -> blocks: BEGIN/END framing, base64, and the junk other tools leave around blocks (Bag Attributes,
subject= lines, comments, CRLF). Knows nothing of what a block holds.
"""

from __future__ import annotations

from keystores.errors import (
    CorruptStore,
)
from keystores.lightweight import suppress
from keystores.model import (
    TRUST_ALL,
    Trust,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

_CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"}


_KEY_LABELS = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY"}


_REQUEST_LABELS = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}


# Blocks that carry nothing a store holds and that tools routinely write beside keys: skipped silently.
_IGNORED_LABELS = {"EC PARAMETERS"}


def _armour_label(line: str, kind: str) -> str | None:
    """The label of a "-----BEGIN label-----" (kind "BEGIN ") or "-----END label-----" line (stripped, as
    _text_lines gives them), a label without dashes; None for any other line. (String tests, not a regular
    expression: compiling one costs more than a small file's whole reading.)"""
    head = "-----" + kind
    if not (line.startswith(head) and line.endswith("-----")) or len(line) < len(head) + 5:
        return None
    label = line[len(head) : -5]
    return None if "-" in label else label


# base64's alphabet, without the padding
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


class _Block:
    """One PEM block (or the single DER object), decoded to bytes, with the attributes written before it.
    (A plain class: dataclasses costs start-up, keystores.frozen says why.)"""

    __slots__ = ("der", "friendly_name", "headers", "line", "local_key_id", "pem_label", "trust")

    def __init__(self, pem_label: str, line: int, der: bytes, headers: dict[str, str] | None = None,
                 friendly_name: str | None = None, local_key_id: bytes | None = None) -> None:
        self.pem_label, self.line, self.der = pem_label, line, der
        self.headers = {} if headers is None else headers
        self.friendly_name, self.local_key_id = friendly_name, local_key_id
        #: PEM has no trust flags, except OpenSSL's TRUSTED CERTIFICATE aux data
        self.trust: Trust | None = TRUST_ALL

    @property
    def where(self) -> str:
        return f"the {self.pem_label} block at line {self.line}" if self.line else "the DER object"


def split_pem(data: bytes, location: str, skipped: list[str] | None = None) -> list[_Block]:
    """The PEM blocks in `data`, in order, with Bag Attributes attached. Text outside blocks is skipped.

    Raises CorruptStore for a block without its END line, a mismatched END, or bad base64; with `skipped`, a block
    with bad base64 is left out and the reason appended there instead.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM, as Windows PowerShell redirects write
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8", errors="replace").lstrip("\ufeff")  # Notepad's UTF-8 byte-order mark
    blocks: list[_Block] = []
    friendly: str | None = None
    local_key_id: bytes | None = None
    numbered = list(_text_lines(text))
    lines = [line for _, line, _ in numbered]
    index = 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        begin = _armour_label(raw, "BEGIN ") if raw.startswith("-----") else None
        if begin is None:
            if raw.startswith("Bag Attributes"):
                friendly, local_key_id = None, None
            elif raw.startswith("friendlyName:"):
                friendly = raw.partition(":")[2].strip() or None
            elif raw.startswith("localKeyID:"):
                with suppress(ValueError):
                    local_key_id = bytes.fromhex(raw.partition(":")[2].replace(" ", "").replace(":", ""))
            continue
        label = begin.strip()
        start = numbered[index - 1][0]
        headers: dict[str, str] = {}
        body: list[str] = []
        in_headers = True
        while True:
            if index >= len(lines):
                raise CorruptStore(f"truncated: the {label} block at line {start} has no END line", store=location)
            line = lines[index]
            if numbered[index][2]:
                in_headers = False  # a blank line ends the headers (RFC 1421)
            index += 1
            marker = line.startswith("-----")
            end = _armour_label(line, "END ") if marker else None
            if end is not None:
                if end.strip() != label:
                    raise CorruptStore(f"the {label} block at line {start} ends with END {end.strip()}",
                                       store=location)
                break
            if marker and _armour_label(line, "BEGIN ") is not None:
                raise CorruptStore(f"truncated: the {label} block at line {start} has no END line", store=location)
            if in_headers and ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip()] = value.strip()
                continue
            in_headers = False
            body.append(line)
        try:
            content = _decode_base64(body, label, start, location)
        except CorruptStore as exc:
            if skipped is None or label == "ENCRYPTED PRIVATE KEY" or "ENCRYPTED" in headers.get("Proc-Type", ""):
                raise
            skipped.append(exc.reason)
            friendly, local_key_id = None, None
            continue
        blocks.append(_Block(label, start, content, headers, friendly, local_key_id))
        friendly, local_key_id = None, None
    return blocks


# What str.splitlines() splits at, and a line's text from its first non-space character to its end.
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


_LINE_TEXT: list[Any] = []  # the compiled expression, made on first use: small files need no `re` (start-up)

# Up to this many characters a text is split by str.splitlines() (a list of at most this many lines); a longer one
# is scanned by a regular expression, whose import and compiling cost more than a small file's whole reading.
_SPLIT_LIMIT = 1 << 20


def _line_text() -> Any:
    if not _LINE_TEXT:
        import re

        _LINE_TEXT.append(re.compile(f"\\S[^{_LINE_BREAKS}]*"))
    return _LINE_TEXT[0]


def _text_lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """(1-based line number, stripped line, whether a blank line came just before) for each non-blank line, as
    str.splitlines() numbers them. A small text is split (what users list: no `re` to import); a large one is
    scanned (_scanned_lines), without a list of every line. (tests/test_pem.py holds the two to the same lines.)"""
    if len(text) > _SPLIT_LIMIT:
        yield from _scanned_lines(text)
        return
    previous = 1  # (the first line counts as after a blank one from line 3 on, as _scanned_lines counts it)
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()  # (what str.strip() strips is what the expression's \S is not: str.isspace())
        if stripped:
            yield number, stripped, number - previous > 1
            previous = number


def _scanned_lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """_text_lines by a regular expression scan: a file of 256 MiB of newlines is one scan and one count, not 256
    million strings (2.6 GB)."""
    number, end = 1, 0
    for found in _line_text().finditer(text):
        start = found.start()
        breaks = 0
        if start > end:
            newlines, returns = text.count("\n", end, start), text.count("\r", end, start)
            breaks = newlines + returns - text.count("\r\n", end, start)
            if newlines + returns < start - end:  # spaces, tabs or rarer line breaks in the gap
                breaks += sum(text.count(ch, end, start) for ch in _LINE_BREAKS[2:])
        number += breaks
        yield number, found.group().rstrip(), breaks > 1
        end = found.end()


def _decode_base64(body: list[str], label: str, line: int, location: str) -> bytes:
    joined = "".join(body)
    if not joined:
        raise CorruptStore(f"the {label} block at line {line} is empty", store=location)
    try:
        data = joined.encode("ascii")
    except UnicodeEncodeError:
        data = b"\xff"  # not base64
    text = data.rstrip(b"=")
    if len(data) - len(text) > 2 or text.translate(None, _BASE64_ALPHABET):
        raise CorruptStore(f"bad base64 in the {label} block at line {line}", store=location)
    if len(joined) % 4:
        raise CorruptStore(f"truncated base64 in the {label} block at line {line}", store=location)
    import binascii  # here: listing a DER file, which parse.py only names a _Block, needs none (start-up)

    try:
        return binascii.a2b_base64(data, strict_mode=True)  # base64.b64decode(validate=True), without base64
    except (binascii.Error, ValueError) as exc:
        raise CorruptStore(f"bad base64 in the {label} block at line {line}", store=location) from exc


def _is_pem(data: bytes) -> bool:
    return b"-----BEGIN " in data or not data.startswith(b"\x30")
