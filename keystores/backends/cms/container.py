"""The bytes of GSKit CMS containers (.kdb, .rdb, .crl): header checks, record slots and record DER.

Knows nothing of entries or keys: it turns bytes into `Container`/`Slot`/`Record` values and back, and checks
the password and integrity values. Every malformed input becomes a KeystoreError, never a raw exception.
See ../shared/specs/cms-kdb.md for the layout.
"""

from __future__ import annotations

import os

# Not hashlib and hmac, which load OpenSSL's libcrypto (~3 ms of every command on a small .kdb): crypto.digests
# hashes a small database by the interpreter's built-in modules, a large one by hashlib (bench/bench_commands.py).
from keystores.crypto import digests
from keystores.crypto.der import DerError, elements, integer, tlv
from keystores.crypto.der import read as read_der
from keystores.errors import CorruptStore, IntegrityError, UnsupportedFormat, WrongPassword

MAGIC = b"\x37\x48"
TAG_KDB = b"X509KEY\0"
TAG_RDB = b"X509KYP\0"
TAG_CRL = b"X509CRL\0"
KIND_KEYS = 2
KIND_OTHER = 1
CHECK_SIZE = {3: 16, 4: 20, 6: 48}
INTEGRITY_NAME = {3: "MD5", 4: "HMAC-SHA1", 6: "HMAC-SHA384"}
DEFAULT_SLOT = 5000
MAX_SLOT = 1 << 20  # far above any real record; guards against absurd sizes in damaged headers
SLOT_STEP = 1000

# Record content tags: [0] request, [1] certificate, [2] certificate + key, [3] secret key.
REQUEST, CERTIFICATE, KEY_PAIR, SECRET = 0, 1, 2, 3
FLAG_TRUSTED = 0x80  # bit 0 of the flags BIT STRING
FLAG_DEFAULT = 0x40  # bit 1


def header_size(version: int) -> int:
    return 0x30 + 2 * CHECK_SIZE[version]


def password_check(version: int, head: bytes, password: bytes) -> bytes:
    """The password check over header bytes 0x00..0x30."""
    if version == 3:
        return digests.digest("md5", head[:0x30] + password)
    return digests.hmac(password, (head[:0x30],), "sha1" if version == 4 else "sha384")


def integrity_check(version: int, head: bytes, slots: list[bytes], password: bytes) -> bytes:
    """The integrity check over the header up to (and including) the password check and every slot."""
    upto = 0x30 + CHECK_SIZE[version]
    if version == 3:
        total = int.from_bytes(digests.digest("md5", head[:upto] + password), "big")
        for slot in slots:
            total ^= int.from_bytes(digests.digest("md5", slot + password), "big")
        return total.to_bytes(16, "big")
    return digests.hmac(password, (head[:upto], *slots), "sha1" if version == 4 else "sha384")


class Container:
    """A parsed .kdb/.rdb/.crl: its header fields and its raw record slots (each exactly `slot_size` bytes).
    (Plain classes here, not dataclasses: importing that module is ~9 ms of every `keystores list x.kdb`.)"""

    __slots__ = ("kind", "salt", "slot_size", "slots", "tag", "version")

    def __init__(self, version: int, kind: int, tag: bytes, slot_size: int, salt: bytes, slots: list[bytes]) -> None:
        self.version, self.kind, self.tag, self.slot_size, self.salt, self.slots = (version, kind, tag, slot_size,
                                                                                    salt, slots)


def new_salt() -> bytes:
    """23 random non-zero bytes and a zero, as native GSKit writes."""
    return bytes(b % 255 + 1 for b in os.urandom(23)) + b"\0"


def read_header(data: bytes, *, store: str | None) -> tuple[int, int, bytes, int, int]:
    """(version, kind, tag, slot size, count) after checking the magic and the sizes."""
    if len(data) < 0x30 or data[:2] != MAGIC:
        raise UnsupportedFormat("not a GSKit CMS database (no 37 48 magic)", store=store)
    version, kind = data[2], data[3]
    if version not in CHECK_SIZE:
        raise UnsupportedFormat(f"CMS format version {version} is not one we read (3, 4 and 6 are)", store=store)
    tag = data[8:16]
    if tag not in (TAG_KDB, TAG_RDB, TAG_CRL):
        raise UnsupportedFormat(f"unknown CMS database tag {tag!r}", store=store)
    slot_size, count = int.from_bytes(data[0x10:0x14], "big"), int.from_bytes(data[0x14:0x18], "big")
    if not 64 <= slot_size <= MAX_SLOT:
        raise CorruptStore(f"damaged header (record slot size {slot_size})", store=store)
    expected = header_size(version) + count * slot_size
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has extra bytes at its end"
        raise CorruptStore(f"file is {what}: {len(data)} bytes where the header says {expected}", store=store)
    return version, kind, tag, slot_size, count


def parse_container(data: bytes, password: str, *, store: str | None) -> Container:
    """Check the password, then the integrity, and split the slots.

    WrongPassword when the password check differs; IntegrityError when the password was right but the contents
    do not match their integrity check (a damaged or tampered file).
    """
    version, kind, tag, slot_size, count = read_header(data, store=store)
    pw = password.encode("utf-8")
    size = CHECK_SIZE[version]
    if not digests.compare_digest(password_check(version, data, pw), data[0x30:0x30 + size]):
        raise WrongPassword("wrong password (the database's password check does not match)", store=store)
    start = header_size(version)
    slots = [data[start + i * slot_size:start + (i + 1) * slot_size] for i in range(count)]
    stored = data[0x30 + size:start]
    if not digests.compare_digest(integrity_check(version, data, slots, pw), stored):
        raise IntegrityError("integrity check failed: the file is damaged or was changed by something other "
                             "than GSKit (the password is right)", store=store)
    return Container(version, kind, tag, slot_size, data[0x18:0x30], slots)


def build_container(container: Container, password: str) -> bytes:
    """The file bytes for `container`, checks computed under `password`."""
    pw = password.encode("utf-8")
    head = bytearray(MAGIC + bytes([container.version, container.kind]) + b"\0" * 4 + container.tag)
    head += _words(container.slot_size, len(container.slots)) + container.salt
    head += password_check(container.version, bytes(head), pw)
    head += integrity_check(container.version, bytes(head), container.slots, pw)
    return bytes(head) + b"".join(container.slots)


# --- record slots -----------------------------------------------------------------------------------------------
class Slot:
    """One record slot: type word, record id, the record DER, the label, the trailer word and the five hashes
    (the 5 × (length, SHA-1) block as stored; may be empty)."""

    __slots__ = ("der", "hashes", "label", "record_id", "slot_type", "trailer")

    def __init__(self, slot_type: int, record_id: int, der: bytes, label: bytes, trailer: int, hashes: bytes) -> None:
        self.slot_type, self.record_id, self.der, self.label, self.trailer, self.hashes = (slot_type, record_id, der,
                                                                                           label, trailer, hashes)


# The slots' big-endian 32-bit words by int.from_bytes/to_bytes, not struct: its module and _struct (~0.25 ms) are
# imported for nothing else by a command on a .kdb that loads no ctypes (list, import, rename, trust, delete).
def parse_slot(raw: bytes, *, store: str | None) -> Slot:
    if len(raw) < 12:
        raise CorruptStore("damaged record slot (truncated)", store=store)
    words = int.from_bytes(raw[:12], "big")
    slot_type, record_id, der_len = words >> 64, words >> 32 & 0xFFFFFFFF, words & 0xFFFFFFFF
    if 12 + der_len > len(raw):
        raise CorruptStore("damaged record slot (record longer than its slot)", store=store)
    der = raw[12:12 + der_len]
    pos = 12 + der_len
    if pos + 4 > len(raw):
        raise CorruptStore("damaged record slot (truncated)", store=store)
    label_len = int.from_bytes(raw[pos:pos + 4], "big")
    if pos + 4 + label_len > len(raw):
        raise CorruptStore("damaged record slot (label longer than its slot)", store=store)
    label = raw[pos + 4:pos + 4 + label_len]
    pos += 4 + label_len
    trailer = int.from_bytes(raw[pos:pos + 4], "big") if pos + 4 <= len(raw) else 0
    pos += 4
    hashes_end = pos
    for _ in range(5):
        if hashes_end + 24 > len(raw) or raw[hashes_end:hashes_end + 4] != b"\0\0\0\x14":
            break
        hashes_end += 24
    return Slot(slot_type, record_id, der, label, trailer, raw[pos:hashes_end])


def _words(*values: int) -> bytes:
    """`values` as big-endian 32-bit words (struct.pack(">I...")); OverflowError for one that does not fit."""
    return b"".join(value.to_bytes(4, "big") for value in values)


def slot_body(slot: Slot) -> bytes:
    return (_words(slot.slot_type, slot.record_id, len(slot.der)) + slot.der + _words(len(slot.label)) + slot.label
            + _words(slot.trailer) + slot.hashes)


def pad_slot(body: bytes, slot_size: int) -> bytes:
    return body + b"\0" * (slot_size - len(body))


def grown_slot_size(current: int, needed: int) -> int:
    """The slot size to use: the current one, or grown in steps of 1000 (5000 -> 8000) when a record needs it."""
    if needed <= current:
        return current
    return -(-needed // SLOT_STEP) * SLOT_STEP


# --- DER --------------------------------------------------------------------------------------------------------
def read_tlv(data: bytes, pos: int, *, store: str | None) -> tuple[int, int, int]:
    """(tag byte, start of value, end of value) of the TLV at `pos`; CorruptStore on any malformation."""
    try:
        return read_der(data, pos)
    except DerError as exc:
        raise CorruptStore(f"damaged record ({exc})", store=store) from exc


def children(data: bytes, start: int, end: int, *, store: str | None) -> list[tuple[int, int, int, int]]:
    """The TLVs inside [start, end): (tag, tlv start, value start, value end); CorruptStore on any malformation."""
    try:
        return elements(data, start, end)
    except DerError as exc:
        raise CorruptStore(f"damaged record ({exc})", store=store) from exc


class Record:
    """The record DER: `SEQUENCE { INTEGER id, [n] content, VisibleString label, BIT STRING flags }`; `content_tag`
    is the n of [n], `content` the whole [n] TLV, kept as it was."""

    __slots__ = ("content", "content_tag", "default", "label", "record_id", "trusted")

    def __init__(self, record_id: int, content_tag: int, content: bytes, label: bytes, trusted: bool,
                 default: bool) -> None:
        self.record_id, self.content_tag, self.content, self.label, self.trusted, self.default = (
            record_id, content_tag, content, label, trusted, default)

    def parts(self, *, store: str | None) -> list[bytes]:
        """The TLVs inside the [n] content (for [2]/[0]: the SEQUENCE's elements; for [1]/[3]: the one TLV)."""
        _, vstart, vend = read_tlv(self.content, 0, store=store)
        inner = children(self.content, vstart, vend, store=store)
        if len(inner) != 1:
            raise CorruptStore("damaged record (content is not one element)", store=store)
        tag, start, istart, iend = inner[0]
        if self.content_tag in (REQUEST, KEY_PAIR):
            if tag != 0x30:
                raise CorruptStore("damaged record (content is not a SEQUENCE)", store=store)
            return [self.content[s:e] for _, s, _, e in children(self.content, istart, iend, store=store)]
        return [self.content[start:iend]]


def parse_record(der: bytes, *, store: str | None) -> Record:
    tag, vstart, vend = read_tlv(der, 0, store=store)
    if tag != 0x30 or vend != len(der):
        raise CorruptStore("damaged record (not one SEQUENCE)", store=store)
    items = children(der, vstart, vend, store=store)
    if len(items) != 4 or items[0][0] != 0x02 or items[2][0] != 0x1A or items[3][0] != 0x03:
        raise CorruptStore("damaged record (unexpected structure)", store=store)
    if items[1][0] & 0xE0 != 0xA0:
        raise CorruptStore("damaged record (content is not a context tag)", store=store)
    record_id = int.from_bytes(der[items[0][2]:items[0][3]], "big", signed=True)
    content = der[items[1][1]:items[1][3]]
    label = der[items[2][2]:items[2][3]]
    bits = der[items[3][2]:items[3][3]]
    flags = bits[1] if len(bits) > 1 else 0
    return Record(record_id, items[1][0] & 0x1F, content, label, bool(flags & FLAG_TRUSTED),
                  bool(flags & FLAG_DEFAULT))


def encode_flags(trusted: bool, default: bool) -> bytes:
    """The flags BIT STRING in DER (`03 02 07 80`, `03 02 06 C0`, `03 01 00`, ...)."""
    value = (FLAG_TRUSTED if trusted else 0) | (FLAG_DEFAULT if default else 0)
    if not value:
        return b"\x03\x01\x00"
    unused = (value & -value).bit_length() - 1
    return bytes([0x03, 0x02, unused, value])


def build_record(record: Record) -> bytes:
    body = (integer(record.record_id) + record.content + tlv(0x1A, record.label)
            + encode_flags(record.trusted, record.default))
    return tlv(0x30, body)


def certificate_hashes(cert_der: bytes, *, store: str | None = None) -> bytes:
    """The five (length, SHA-1) pairs GSKit writes after a certificate record: signature, TBSCertificate,
    subject, SubjectPublicKeyInfo and SEQUENCE { issuer, serialNumber }."""
    _, cstart, cend = read_tlv(cert_der, 0, store=store)
    top = children(cert_der, cstart, cend, store=store)
    _, tbs_start, tbs_vstart, tbs_end = top[0]
    sig = cert_der[top[2][1]:top[2][3]]
    tbs = children(cert_der, tbs_vstart, tbs_end, store=store)
    if tbs and tbs[0][0] == 0xA0:  # explicit version
        tbs = tbs[1:]
    serial, issuer, subject, spki = (cert_der[t[1]:t[3]] for t in (tbs[0], tbs[2], tbs[4], tbs[5]))
    pieces = (sig, cert_der[tbs_start:tbs_end], subject, spki, tlv(0x30, issuer + serial))
    return b"".join(b"\0\0\0\x14" + digests.digest("sha1", p) for p in pieces)


# GSKit's own OID for its 3DES key encryption (the PKCS#12 v1.0 draft's pkcs-12 5.1.3), whose KDF takes the
# password as raw bytes; the standard 1.2.840.113549.1.12.1.3 takes it as a BMPString. Same parameters.
GSKIT_3DES_OID = bytes.fromhex("060b2a864886f70d010c050103")
PKCS12_3DES_OID = bytes.fromhex("060a2a864886f70d010c0103")


def replace_epki_oid(epki: bytes, old_oid: bytes, new_oid: bytes, *, store: str | None = None) -> bytes | None:
    """The EncryptedPrivateKeyInfo with its algorithm OID `old_oid` (a whole TLV) replaced, else None."""
    _, start, end = read_tlv(epki, 0, store=store)
    top = children(epki, start, end, store=store)
    if len(top) != 2 or top[0][0] != 0x30:
        return None
    alg_parts = children(epki, top[0][2], top[0][3], store=store)
    if not alg_parts or epki[alg_parts[0][1]:alg_parts[0][3]] != old_oid:
        return None
    params = epki[alg_parts[0][3]:top[0][3]]
    return tlv(0x30, tlv(0x30, new_oid + params) + epki[top[1][1]:top[1][3]])


def request_tail(csr_der: bytes, *, store: str | None = None) -> tuple[int, bytes]:
    """(trailer word, hash block) GSKit writes after a request record: a single (20, SHA-1 of the request's
    SubjectPublicKeyInfo) pair in place of the zero word and the five certificate hashes (seen in GSKit 8.0.60.5
    output)."""
    _, start, end = read_tlv(csr_der, 0, store=store)
    info = children(csr_der, start, end, store=store)[0]
    parts = children(csr_der, info[2], info[3], store=store)
    spki = csr_der[parts[2][1]:parts[2][3]]
    return 20, digests.digest("sha1", spki)

