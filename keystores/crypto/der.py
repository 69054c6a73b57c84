"""Hand-written DER, the one set every module uses: for the few structures written or read in bulk (a bag or record
per certificate, the columns `list` prints, NSS's and Java's small parameter blocks), where building asn1crypto
objects costs more than the rest of the job. Reading is `read` (one element) and `elements` (the elements inside a
span), walking spans of the caller's bytes; writing is `tlv` and the few encoders below. Whole structures are
parsed with asn1crypto."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType


class DerError(ValueError):
    """Malformed DER."""


def read(data: bytes, at: int = 0, end: int | None = None, *, minimal: bool = False) -> tuple[int, int, int]:
    """(tag, start of the content, end of the content) of the element at `at`, which must end by `end` (the end
    of `data` by default). High tag numbers and lengths over four bytes are refused; with `minimal`, so is a long
    length form where a shorter one fits, as DER requires (BER readers tolerate it)."""
    if end is None:
        end = len(data)
    if at + 2 > end:
        raise DerError("truncated DER")
    tag, first = data[at], data[at + 1]
    if tag & 0x1F == 0x1F:
        raise DerError("multi-byte ASN.1 tag")
    if first < 0x80:
        stop = at + 2 + first
        if stop > end:
            raise DerError("DER value runs past its container")
        return tag, at + 2, stop
    count = first & 0x7F
    if count == 0 or count > 4 or at + 2 + count > end:
        raise DerError("bad DER length")
    length = int.from_bytes(data[at + 2 : at + 2 + count], "big")
    if minimal and (length < 0x80 or data[at + 2] == 0):
        raise DerError("DER length not in its shortest form")
    start = at + 2 + count
    if start + length > end:
        raise DerError("DER value runs past its container")
    return tag, start, start + length


def encode_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


def integer(value: int) -> bytes:
    """An INTEGER in its shortest two's-complement form (tag and length included)."""
    return tlv(0x02, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER, encoded (tag and length included)."""
    encoded = _OIDS_ENCODED.get(dotted)
    if encoded is None:
        encoded = _encode_oid(dotted)
        if len(_OIDS_ENCODED) < 256:  # bounded: a long-lived process may meet any OID in the DNs it is given
            _OIDS_ENCODED[dotted] = encoded
    return encoded


# The few OIDs a command writes or looks for, each encoded once (sign asks for ~36: names, extensions, algorithms;
# start-up speed, bench/bench_core.py "start-up: keystores sign")
_OIDS_ENCODED: dict[str, bytes] = {}


def _encode_oid(dotted: str) -> bytes:
    arcs = [int(part) for part in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:  # the first two arcs share one subidentifier (2.999 is 1079)
        if arc < 0x80:  # one byte, as most arcs are (~12 K instructions an OID less: start-up, first encodings)
            body.append(arc)  # (ValueError for a negative arc, which the loop below never ended on)
            continue
        chunk = bytearray((arc & 0x7F,))
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        chunk.reverse()
        body += chunk
    return tlv(0x06, bytes(body))


def elements(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, int, int, int]]:
    """The elements that fill `data[start:end]` one after another (the contents of a SEQUENCE or SET, say): (tag,
    start of the element, start of its content, end of its content) each. DerError when they do not fill it."""
    if end is None:
        end = len(data)
    found = []
    at = start
    while at < end:
        tag, content_start, content_end = read(data, at, end)
        found.append((tag, at, content_start, content_end))
        at = content_end
    return found


def children(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """The elements that fill `data` as (tag, content, the whole element) bytes: for small structures read by
    position (NSS's and OpenSSL's parameter blocks)."""
    return [(tag, data[content_start:content_end], data[start:content_end])
            for tag, start, content_start, content_end in elements(data)]


def value(data: bytes, at: int = 0) -> tuple[int, bytes]:
    """(tag, content) of the element at `at`."""
    tag, start, end = read(data, at)
    return tag, data[start:end]


def expect(data: bytes, at: int, tag: int) -> tuple[bytes, int]:
    """(content, end) of the element at `at`, which must carry `tag`: for walking a structure of known shape."""
    found, start, end = read(data, at)
    if found != tag:
        raise DerError(f"expected DER tag 0x{tag:02x}, found 0x{found:02x}")
    return data[start:end], end


def content_start(head: bytes, at: int = 0) -> int:
    """Where the content of the element at `at` starts, from its header alone: for magic-byte checks that see only
    the first bytes of a file, so the length is not checked against them."""
    if at + 2 > len(head):
        raise DerError("truncated DER")
    first = head[at + 1]
    return at + 2 + (first & 0x7F if first & 0x80 else 0)


# The dotted text of OIDs already read, by their content: a store names the same few OIDs for each of its entries
# (a 2,000-entry PKCS#12 asks about 10,000 times, ~5 us each). Only contents holding no 0x80 byte are kept: such a
# content has every arc in its shortest form, so its text is the answer with `minimal` or without. Cleared when full.
_OID_TEXTS: dict[bytes, str] = {}
_OID_TEXTS_AT_MOST = 1024


def oid_text(content: bytes, *, minimal: bool = False) -> str:
    """The dotted form of an OBJECT IDENTIFIER's content (tag and length excluded). With `minimal`, an arc that is
    not in its shortest form is refused, as DER requires."""
    known = _OID_TEXTS.get(content)
    if known is not None:
        return known
    text = _oid_text(content, minimal)
    if 0x80 not in content:
        if len(_OID_TEXTS) >= _OID_TEXTS_AT_MOST:
            _OID_TEXTS.clear()
        _OID_TEXTS[bytes(content)] = text
    return text


def _oid_text(content: bytes, minimal: bool) -> str:
    arcs: list[int] = []
    value = 0
    for position, byte in enumerate(content):
        if minimal and byte == 0x80 and (position == 0 or not content[position - 1] & 0x80):
            raise DerError("OID arc not in its shortest form")
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not content or content[-1] & 0x80:
        raise DerError("empty or truncated OID")
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])


def integer_value(content: bytes) -> int:
    """The value of an INTEGER's content (two's complement, big-endian)."""
    return int.from_bytes(content, "big", signed=True)


def sequence(*items: bytes) -> bytes:
    """A SEQUENCE of already-encoded elements."""
    return tlv(0x30, b"".join(items))


def octet_string(value: bytes) -> bytes:
    return tlv(0x04, value)


# Walking a structure of known shape by its elements (der.elements' tuples), strictly: a tag or length other than
# the expected one's shortest DER form is a DerError, so a caller can hand anything else to asn1crypto.
Element = tuple[int, int, int, int]  # tag, start of the element, start of its content, end of its content


def inside(data: bytes, at: int = 0, end: int | None = None, tag: int = 0x30, *, whole: bool = False) -> list[Element]:
    """The elements inside the element at `at`, which must carry `tag` (with `whole`, and end at `end`)."""
    end = len(data) if end is None else end
    found, start, stop = read(data, at, end, minimal=True)
    if found != tag or (whole and stop != end):
        raise DerError(f"expected DER tag 0x{tag:02x}, found 0x{found:02x}")
    return elements(data, start, stop)


def inside_element(data: bytes, element: Element, tag: int = 0x30) -> list[Element]:
    """The elements inside `element`, which must carry `tag`."""
    return inside(data, element[1], element[3], tag)


def element_oid(data: bytes, element: Element) -> str:
    """The dotted OID `element` holds (an OBJECT IDENTIFIER in its shortest form)."""
    if element[0] != 0x06:
        raise DerError("expected an OBJECT IDENTIFIER")
    return oid_text(data[element[2] : element[3]], minimal=True)


def element_octets(data: bytes, element: Element) -> bytes:
    """The content of `element`, an OCTET STRING."""
    if element[0] != 0x04:
        raise DerError("expected an OCTET STRING")
    return data[element[2] : element[3]]


def element_integer(data: bytes, element: Element) -> int:
    """The value of `element`, an INTEGER."""
    if element[0] != 0x02 or element[2] == element[3]:
        raise DerError("expected an INTEGER")
    return integer_value(data[element[2] : element[3]])


def pem_armor(label: str, data: bytes) -> bytes:
    """`data` as one PEM block under `label` ("CERTIFICATE"), as cryptography and OpenSSL write it: base64 in lines of
    64 characters, "\\n" line ends."""
    body = base64_encode(data)
    lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    tag = label.encode("ascii")
    return b"-----BEGIN " + tag + b"-----\n" + lines + b"\n-----END " + tag + b"-----\n"


# Base64 as binascii does it (base64.b64encode, and b64decode(validate=True), without base64's import of struct),
# by the interpreter's libcrypto where a command has it in use already (keystores.crypto.libcrypto: a PKCS#12's MAC,
# an EC key): binascii's import loads the libz it links, ~0.25 ms of sign and certreq, and of export and convert to PEM
# (issue 15); ctypes' import would cost more than that, so without libcrypto in use (receive reads its reply
# before its store), binascii.
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _libcrypto_in_use() -> ModuleType | None:
    """keystores.crypto.libcrypto where it has found the library already, else None (nothing imported here)."""
    import sys

    found = sys.modules.get("keystores.crypto.libcrypto")
    return found if found is not None and found.already_loaded() else None


def base64_encode(data: bytes) -> bytes:
    """binascii.b2a_base64(data, newline=False)."""
    found = _libcrypto_in_use()
    body = found.base64_encode(data) if found is not None else None
    if body is None:
        import binascii

        body = binascii.b2a_base64(data, newline=False)
    return body


def strict_base64_decode(text: bytes) -> bytes:
    """binascii.a2b_base64(text, strict_mode=True): the bytes, or ValueError (binascii.Error is one) for what it
    refuses. Text in the form every encoder writes (whole groups of four characters of the alphabet, '=' padding
    only at its end) is decoded here (_plain_base64); any other text is binascii's to decode or refuse, as its
    strict mode judges it on this interpreter."""
    if not len(text) % 4:
        padding = 2 if text.endswith(b"==") else 1 if text.endswith(b"=") else 0
        if not text[: len(text) - padding].translate(None, _BASE64_ALPHABET):  # (a '=' before the end is left)
            return _plain_base64(text, padding)
    import binascii

    return binascii.a2b_base64(text, strict_mode=True)


def _plain_base64(text: bytes, padding: int) -> bytes:
    """The bytes of `text` in the form strict_base64_decode has checked, as binascii decodes it (the bits a last
    character holds beyond its bytes are dropped, as binascii drops them), by whole-string operations: each
    character's six bits by bytes.translate, then every group's first, second and third byte at once, each the OR
    of two shifted characters (int.from_bytes of the translated columns: no carries). No binascii: its import loads
    the libz it links (~0.3-0.7 ms of `receive`, which reads its reply before its store; bench_core's "receive"),
    nor libcrypto (ctypes), and ~20 us for a certificate's text (tests/test_lifecycle_lean.py holds it to binascii)."""
    if not _SIXTET_TABLES:  # for each six bits v (0 to 63), in order:
        _SIXTET_TABLES.append(bytes.maketrans(_BASE64_ALPHABET, bytes(range(64))))
        _SIXTET_TABLES.extend(table.ljust(256, b"\0") for table in (
            bytes(range(0, 256, 4)),  # v << 2
            b"".join(bytes((high,)) * 16 for high in range(4)),  # v >> 4
            bytes(range(0, 256, 16)) * 4,  # (v << 4) & 0xFF
            b"".join(bytes((high,)) * 4 for high in range(16)),  # v >> 2
            b"\x00\x40\x80\xc0" * 16))  # (v << 6) & 0xFF
    sixtets, to_first, first_low, to_second, second_low, to_third = _SIXTET_TABLES
    values = (text[: len(text) - padding] + b"A" * padding).translate(sixtets)  # padding as zero bits
    groups = len(values) // 4
    a, b, c, d = values[0::4], values[1::4], values[2::4], values[3::4]

    def joined(high: bytes, low: bytes) -> bytes:
        return (int.from_bytes(high, "big") | int.from_bytes(low, "big")).to_bytes(groups, "big")

    out = bytearray(3 * groups)
    out[0::3] = joined(a.translate(to_first), b.translate(first_low))
    out[1::3] = joined(b.translate(to_second), c.translate(second_low))
    out[2::3] = joined(c.translate(to_third), d)
    return bytes(out[: len(out) - padding])


# strict_base64_decode's translation tables, made on its first use (every command loads this module): a character to
# its six bits, and six bits to their place in the group's first (<< 2; >> 4), second (<< 4; >> 2) and third byte
# (<< 6), each kept to a byte (the other 192 entries are never looked up)
_SIXTET_TABLES: list[bytes] = []


def certificate_layout(der: bytes) -> tuple[int, int, int, int, int, int, int, int, int, int]:
    """Where a certificate's fields are (offsets into its DER): the TBSCertificate walked once, its field tags
    checked, nothing decoded. (cert_stop, tbs_stop, issuer_at, validity_at, validity_start, validity_stop,
    subject_start, subject_stop, spki_start, spki_stop): the issuer's whole TLV is der[issuer_at:validity_at], the
    subject's starts at validity_stop, `_start`/`_stop` span a value's content. DerError (or IndexError) for a
    certificate not in that shape. A function, not a class: every command loads this module, and a class costs
    its creation on each (start-up)."""
    tag, cert_start, cert_stop = read(der, 0, len(der), minimal=True)
    if tag != 0x30 or cert_stop != len(der):
        raise DerError
    tag, tbs_start, tbs_stop = read(der, cert_start, cert_stop, minimal=True)
    if tag != 0x30:
        raise DerError
    tag, _, at = read(der, tbs_start, tbs_stop, minimal=True)
    if tag == 0xA0:  # [0] version
        tag, _, at = read(der, at, tbs_stop, minimal=True)
    alg_tag, _, issuer_at = read(der, at, tbs_stop, minimal=True)
    issuer_tag, _, validity_at = read(der, issuer_at, tbs_stop, minimal=True)
    validity_tag, validity_start, validity_stop = read(der, validity_at, tbs_stop, minimal=True)
    subject_tag, subject_start, subject_stop = read(der, validity_stop, tbs_stop, minimal=True)
    spki_tag, spki_start, spki_stop = read(der, subject_stop, tbs_stop, minimal=True)
    if (tag, alg_tag, issuer_tag, validity_tag, subject_tag, spki_tag) != (2, 0x30, 0x30, 0x30, 0x30, 0x30):
        raise DerError
    return (cert_stop, tbs_stop, issuer_at, validity_at, validity_start, validity_stop, subject_start, subject_stop,
            spki_start, spki_stop)


def subject_and_key(der: bytes) -> tuple[bytes, bytes] | None:
    """(the subject Name's content, the whole SubjectPublicKeyInfo) as encoded in a certificate, without decoding
    the rest (keystores.backends.pem.lazy_read labels and pairs with them). None when the DER is malformed."""
    try:
        *_, subject_start, subject_stop, _, spki_stop = certificate_layout(der)
    except (IndexError, ValueError):  # DerError
        return None
    return der[subject_start:subject_stop], der[subject_stop:spki_stop]  # the key's TLV follows the subject


def certificate_names(der: bytes) -> tuple[bytes, bytes] | None:
    """(issuer, subject) of a certificate as they are encoded in it (each Name's whole DER), without decoding the
    rest: what a chain is built by before any certificate is decoded. None when the DER is malformed."""
    try:
        _, _, issuer_at, validity_at, _, validity_stop, _, subject_stop, _, _ = certificate_layout(der)
    except (IndexError, ValueError):  # DerError
        return None
    return der[issuer_at:validity_at], der[validity_stop:subject_stop]
