"""Java key stores: JKS (magic FEEDFEED) and JCEKS (magic CECECECE), read and written without pyjks.

Layout (both): magic, version (1 or 2), entry count, entries, then a SHA-1 store digest. An entry is a tag
(1 private key, 2 trusted certificate, 3 JCEKS secret key), a modified-UTF-8 alias, a creation time in ms, then:
1: an EncryptedPrivateKeyInfo (JKS key protector or Sun's PBEWithMD5AndTripleDES) and the certificate chain;
2: one certificate; 3: a Java-serialized javax.crypto.SealedObject holding a serialized SecretKeySpec.

Reading is cheap: certificates are parsed, keys are not. A key is decrypted when its entry's `key` (or `secret`) is
first touched, so `list` on a store of thousands of keys never pays for the (deliberately slow) key protection;
an unchanged key is written back as the very bytes it was read from.
"""

from __future__ import annotations

import struct
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

from keystores import der
from keystores.backends.base import FileStore
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
)
from keystores.limits import LimitExceeded
from keystores.model import (
    TRUST_ALL,
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
    LazyEntry,
    SealedEntry,
    SecretKey,
    sealed_entry,
)

_TAG_PRIVATE_KEY = 1
_TAG_TRUSTED_CERT = 2
_TAG_SECRET_KEY = 3
_DIGEST_SIZE = 20
# Smallest possible entry: tag(4) + alias length(2) + date(8) + one length(4).
_MIN_ENTRY = 18
# Errors a parser of untrusted bytes may hit; all of them mean "damaged".
_PARSE_ERRORS = (struct.error, IndexError, ValueError, UnicodeDecodeError, TypeError, KeyError, RecursionError)


# --- modified UTF-8 (java.io.DataOutput.writeUTF) ------------------------------------------------------------
def _read_utf(data: bytes, pos: int) -> tuple[str, int]:
    (size,) = struct.unpack_from(">H", data, pos)
    pos += 2
    raw = data[pos : pos + size]
    if len(raw) != size:
        raise ValueError("string runs past the end of the file")
    if raw.isascii() and b"\x00" not in raw:
        return raw.decode("ascii"), pos + size
    return _decode_modified_utf8(raw), pos + size


def _decode_modified_utf8(raw: bytes) -> str:
    units: list[int] = []
    i = 0
    while i < len(raw):
        b = raw[i]
        if b < 0x80 and b != 0:
            units.append(b)
            i += 1
        elif b & 0xE0 == 0xC0:
            units.append(((b & 0x1F) << 6) | (raw[i + 1] & 0x3F))
            i += 2
        elif b & 0xF0 == 0xE0:
            units.append(((b & 0x0F) << 12) | ((raw[i + 1] & 0x3F) << 6) | (raw[i + 2] & 0x3F))
            i += 3
        else:
            raise ValueError("bad modified UTF-8 in a string")
    return b"".join(u.to_bytes(2, "big") for u in units).decode("utf-16-be", "surrogatepass")


def _utf(text: str) -> bytes:
    """writeUTF: length-prefixed modified UTF-8 (NUL as C0 80, non-BMP characters as surrogate pairs)."""
    if text.isascii() and "\x00" not in text:
        raw = text.encode("ascii")
    else:
        utf16 = text.encode("utf-16-be", "surrogatepass")
        out = bytearray()
        for i in range(0, len(utf16), 2):
            unit = int.from_bytes(utf16[i : i + 2], "big")
            if 0 < unit < 0x80:
                out.append(unit)
            elif unit < 0x800:
                out += bytes([0xC0 | unit >> 6, 0x80 | unit & 0x3F])
            else:
                out += bytes([0xE0 | unit >> 12, 0x80 | (unit >> 6) & 0x3F, 0x80 | unit & 0x3F])
        raw = bytes(out)
    if len(raw) > 0xFFFF:
        raise UsageError("a Java store alias or name is limited to 65535 bytes")
    return struct.pack(">H", len(raw)) + raw


# --- Java object serialization: just what a JCEKS SealedObject needs -----------------------------------------
_SC_WRITE_METHOD, _SC_SERIALIZABLE, _SC_EXTERNALIZABLE, _SC_BLOCK_DATA = 0x01, 0x02, 0x04, 0x08
_PRIMITIVE_SIZES = {"B": 1, "C": 2, "D": 8, "F": 4, "I": 4, "J": 8, "S": 2, "Z": 1}
_ARRAY_OF_BYTES_SUID = bytes.fromhex("acf317f8060854e0")


class _ClassDesc:
    def __init__(self, name: str) -> None:
        self.name = name
        self.flags = 0
        self.fields: list[tuple[str, str]] = []
        self.super: _ClassDesc | None = None


class _JavaObject:
    def __init__(self, class_name: str) -> None:
        self.class_name = class_name
        self.fields: dict[str, Any] = {}


class _JavaReader:
    """Reads one object stream (ObjectOutputStream output) from `data` at `pos`; `pos` ends just past it.

    Only the grammar a SealedObject and the keys inside it use: objects, class descriptors, strings, arrays,
    enums, references, null and skipped block data. Anything else is refused as damage.

    Bounded on hostile input: nesting depth, the handles and values one stream may build, and class hierarchies
    (a descriptor that names itself, or a descendant, as its superclass is refused). A SealedObject holds about
    ten values in five classes; the bounds are far above that.
    """

    _MAX_DEPTH = 16
    _MAX_VALUES = 10_000  # handles and array elements together
    _MAX_LINEAGE = 32  # classes in one object's hierarchy

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.pos = pos
        self.handles: list[Any] = []
        self.built = 0

    def count(self, values: int) -> None:
        self.built += values
        if self.built > self._MAX_VALUES:
            raise ValueError(f"serialized object builds more than {self._MAX_VALUES} values")

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > len(self.data):
            raise ValueError("serialized object runs past the end of the file")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def unpack(self, fmt: str) -> Any:
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values[0]

    def stream(self) -> Any:
        if self.take(4) != b"\xac\xed\x00\x05":
            raise ValueError("not a Java object stream")
        return self.content(0)

    def content(self, depth: int) -> Any:
        if depth > self._MAX_DEPTH:
            raise ValueError("serialized object nests too deeply")
        tag = self.unpack(">B")
        if tag == 0x70:  # TC_NULL
            return None
        if tag == 0x71:  # TC_REFERENCE
            handle = self.unpack(">I") - 0x7E0000
            if not 0 <= handle < len(self.handles):
                raise ValueError(f"reference to unknown handle {handle}")
            return self.handles[handle]
        if tag == 0x74:  # TC_STRING
            text, self.pos = _read_utf(self.data, self.pos)
            self.count(1)
            self.handles.append(text)
            return text
        if tag == 0x72:  # TC_CLASSDESC
            return self.class_desc_body(depth)
        if tag == 0x73:  # TC_OBJECT
            return self.object(depth)
        if tag == 0x75:  # TC_ARRAY
            return self.array(depth)
        if tag == 0x7E:  # TC_ENUM
            desc = self.class_desc(depth)
            index = len(self.handles)
            self.count(1)
            self.handles.append(None)
            constant = self.content(depth + 1)
            self.handles[index] = (desc.name if desc else "", constant)
            return self.handles[index]
        raise ValueError(f"unsupported serialization tag 0x{tag:02x}")

    def class_desc(self, depth: int) -> _ClassDesc | None:
        found = self.content(depth + 1)
        if found is not None and not isinstance(found, _ClassDesc):
            raise ValueError("expected a class descriptor")
        return found

    def class_desc_body(self, depth: int) -> _ClassDesc:
        name, self.pos = _read_utf(self.data, self.pos)
        self.take(8)  # serialVersionUID
        desc = _ClassDesc(name)
        self.count(1)
        self.handles.append(desc)
        desc.flags = self.unpack(">B")
        for _ in range(self.unpack(">H")):
            code = chr(self.unpack(">B"))
            field_name, self.pos = _read_utf(self.data, self.pos)
            if code in "[L":
                if not isinstance(self.content(depth + 1), str):
                    raise ValueError("field type is not a string")
            elif code not in _PRIMITIVE_SIZES:
                raise ValueError(f"bad field type code {code!r}")
            desc.fields.append((code, field_name))
        self.skip_annotation(depth)
        desc.super = self.class_desc(depth)
        lineage = 0
        ancestor = desc.super
        while ancestor is not None:  # a reference can name the descriptor itself, or one of its subclasses
            lineage += 1
            if ancestor is desc or lineage > self._MAX_LINEAGE:
                raise ValueError(f"class {name!r} is its own superclass (a loop in the class hierarchy)"
                                 if ancestor is desc else "class hierarchy is too deep")
            ancestor = ancestor.super
        return desc

    def skip_annotation(self, depth: int) -> None:
        while True:
            tag = self.data[self.pos]
            if tag == 0x78:  # TC_ENDBLOCKDATA
                self.pos += 1
                return
            if tag == 0x77:  # TC_BLOCKDATA
                self.pos += 1
                self.take(self.unpack(">B"))
            elif tag == 0x7A:  # TC_BLOCKDATALONG
                self.pos += 1
                self.take(self.unpack(">I"))
            else:
                self.content(depth + 1)

    def object(self, depth: int) -> _JavaObject:
        desc = self.class_desc(depth)
        if desc is None:
            raise ValueError("object without a class")
        obj = _JavaObject(desc.name)
        self.count(1)
        self.handles.append(obj)
        lineage = []
        while desc is not None:
            if len(lineage) > self._MAX_LINEAGE:  # class_desc_body refuses loops; this is the backstop
                raise ValueError("class hierarchy is too deep")
            lineage.append(desc)
            desc = desc.super
        for cls in reversed(lineage):  # superclass data comes first
            if cls.flags & _SC_EXTERNALIZABLE:
                if not cls.flags & _SC_BLOCK_DATA:
                    raise ValueError("old-style externalizable data cannot be skipped")
                self.skip_annotation(depth)
                continue
            for code, field_name in cls.fields:
                obj.fields[field_name] = self.value(code, depth)
            if cls.flags & _SC_WRITE_METHOD:
                self.skip_annotation(depth)
        return obj

    def value(self, code: str, depth: int) -> Any:
        if code in "[L":
            return self.content(depth + 1)
        raw = self.take(_PRIMITIVE_SIZES[code])
        return int.from_bytes(raw, "big")

    def array(self, depth: int) -> Any:
        desc = self.class_desc(depth)
        if desc is None or not desc.name.startswith("["):
            raise ValueError("array without an array class")
        index = len(self.handles)
        self.count(1)
        self.handles.append(None)
        size = self.unpack(">i")
        component = desc.name[1:2]
        if size < 0 or size > len(self.data) - self.pos:
            raise ValueError("array length is larger than the file")
        if component == "B":
            value: Any = self.take(size)
        elif component in _PRIMITIVE_SIZES:
            value = self.take(size * _PRIMITIVE_SIZES[component])
        else:
            self.count(size)
            value = [self.content(depth + 1) for _ in range(size)]
        self.handles[index] = value
        return value


def _java_byte_array(value: bytes) -> bytes:
    """TC_ARRAY of byte[] with a fresh class descriptor (the first byte[] in a stream)."""
    return (b"\x75\x72" + _utf("[B") + _ARRAY_OF_BYTES_SUID + b"\x02\x00\x00\x78\x70"
            + struct.pack(">i", len(value)) + value)


def _serialize_secret_key_spec(algorithm: str, value: bytes) -> bytes:
    """A javax.crypto.spec.SecretKeySpec exactly as ObjectOutputStream writes it (what keytool -genseckey seals)."""
    return (b"\xac\xed\x00\x05\x73\x72" + _utf("javax.crypto.spec.SecretKeySpec") + bytes.fromhex("5b470b66e230614d")
            + b"\x02\x00\x02"
            + b"L" + _utf("algorithm") + b"\x74" + _utf("Ljava/lang/String;")
            + b"[" + _utf("key") + b"\x74" + _utf("[B")
            + b"\x78\x70"
            + b"\x74" + _utf(algorithm)
            + _java_byte_array(value))


def _serialize_sealed_object(encoded_params: bytes, encrypted: bytes, algorithm: str) -> bytes:
    """com.sun.crypto.provider.SealedObjectForKeyProtector as JCEKS writes it; handle numbers match Java's."""
    return (b"\xac\xed\x00\x05\x73\x72" + _utf("com.sun.crypto.provider.SealedObjectForKeyProtector")
            + bytes.fromhex("cd57ca59e730bb53") + b"\x02\x00\x00\x78"
            + b"\x72" + _utf("javax.crypto.SealedObject") + bytes.fromhex("3e363da6c3b75470") + b"\x02\x00\x04"
            + b"[" + _utf("encodedParams") + b"\x74" + _utf("[B")                    # handle 2: "[B"
            + b"[" + _utf("encryptedContent") + b"\x71\x00\x7e\x00\x02"
            + b"L" + _utf("paramsAlg") + b"\x74" + _utf("Ljava/lang/String;")       # handle 3
            + b"L" + _utf("sealAlg") + b"\x71\x00\x7e\x00\x03"
            + b"\x78\x70"
            + _java_byte_array(encoded_params)                                       # handles 5 (class), 6
            + b"\x75\x71\x00\x7e\x00\x05" + struct.pack(">i", len(encrypted)) + encrypted
            + b"\x74" + _utf(algorithm) + b"\x74" + _utf(algorithm))


# --- DER pieces (small enough that a hand-written TLV reader beats importing an ASN.1 library) -----------------
def _der_read(data: bytes, pos: int, tag: int) -> tuple[bytes, int]:
    """(content, position after) of the TLV at `pos`, which must carry `tag`."""
    if data[pos] != tag:
        raise ValueError(f"expected DER tag 0x{tag:02x}, found 0x{data[pos]:02x}")
    first = data[pos + 1]
    pos += 2
    if first & 0x80:
        count = first & 0x7F
        if not 1 <= count <= 4:
            raise ValueError("bad DER length")
        size = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    else:
        size = first
    if pos + size > len(data):
        raise ValueError("DER value runs past its container")
    return data[pos : pos + size], pos + size


def _oid_text(content: bytes) -> str:
    arcs: list[int] = []
    value = 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        raise ValueError("empty OID")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def _pbe_parameter(salt: bytes, iterations: int) -> bytes:
    """PBEParameter ::= SEQUENCE { salt OCTET STRING, iterationCount INTEGER }."""
    count = iterations.to_bytes((iterations.bit_length() + 8) // 8, "big")
    return der.tlv(0x30, der.tlv(0x04, salt) + der.tlv(0x02, count))


def _read_pbe_parameter(der: bytes) -> tuple[bytes, int]:
    body, _ = _der_read(der, 0, 0x30)
    salt, pos = _der_read(body, 0, 0x04)
    count, _ = _der_read(body, pos, 0x02)
    if not count or count[0] & 0x80:
        raise ValueError("bad iteration count")
    return salt, int.from_bytes(count, "big")


def _epki(oid: str, params_der: bytes | None, encrypted: bytes) -> bytes:
    """EncryptedPrivateKeyInfo; parameters NULL when there are none, as Java writes the JKS protector's."""
    alg = der.tlv(0x30, der.oid(oid) + (params_der if params_der is not None else b"\x05\x00"))
    return der.tlv(0x30, alg + der.tlv(0x04, encrypted))


def _read_epki(der: bytes) -> tuple[str, bytes | None, bytes]:
    """(algorithm OID, parameters DER or None, encrypted data) of an EncryptedPrivateKeyInfo."""
    body, _ = _der_read(der, 0, 0x30)
    alg, pos = _der_read(body, 0, 0x30)
    encrypted, _ = _der_read(body, pos, 0x04)
    oid, params_pos = _der_read(alg, 0, 0x06)
    params = alg[params_pos:] or None
    if params == b"\x05\x00":
        params = None
    return _oid_text(oid), params, encrypted


# --- the stores ----------------------------------------------------------------------------------------------
class _JavaStore(FileStore):
    """What JKS and JCEKS share. Options: `key_password=` protects (and opens) keys instead of the store password."""

    magic: ClassVar[bytes]
    legacy_summary: ClassVar[str]
    case_insensitive_labels: ClassVar[bool] = True

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern", key_password: str | None = None) -> None:
        self._key_password = key_password
        # The password the keys as read are protected with; a blob is reused on write only under the same one.
        self._read_key_password: str | None = None
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    @classmethod
    def open(cls, location: str, *, password: str | None = None, writable: bool = False, create: bool = False,
             profile: str = "modern", format_name: str | None = None, key_password: str | None = None,
             **options: Any) -> _JavaStore:
        if options:
            raise UsageError(f"{cls.format} stores take no option(s) {', '.join(sorted(options))}; "
                             "they know key_password=")
        return cls(location, password=password, writable=writable, create=create, profile=profile,
                   key_password=key_password)

    # --- reading ---------------------------------------------------------------------------------------------
    def _init_new(self) -> None:
        if self.password is None:
            raise PasswordRequired("a new store needs a password", store=self.location)
        self.notes.append(f"{self.location}: {self.format.upper()} is a legacy format ({self.legacy_summary}); "
                          "PKCS#12 (.p12) is the modern choice")

    def _load(self, data: bytes) -> None:
        if data[:4] != self.magic:
            raise UnsupportedFormat(f"not a {self.format.upper()} store (magic {data[:4].hex()})",
                                    store=self.location)
        try:
            entries, end = self._parse(data)
        except KeystoreError:
            raise
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged or truncated {self.format.upper()} store ({exc})",
                               store=self.location) from exc
        digest = data[end : end + _DIGEST_SIZE]
        if len(digest) != _DIGEST_SIZE:
            raise CorruptStore("truncated: the store digest is missing", store=self.location)
        from keystores.legacy_java import store_digest

        if self.password is None:
            # As keytool -list without -storepass: certificates and labels are shown unchecked; keys and writing
            # ask for the password (PasswordRequired when they are first needed).
            self.notes.append(f"{self.location}: opened without the password: the store's integrity (its digest) "
                              "was not checked")
        elif store_digest(self.password, memoryview(data)[:end]) != digest:
            self._explain_digest_failure(entries)
        if len(data) > end + _DIGEST_SIZE:
            self.notes.append(f"{self.location}: {len(data) - end - _DIGEST_SIZE} stray bytes after the store "
                              "digest were ignored (keytool ignores them too)")
        self._read_key_password = self._key_password if self._key_password is not None else self.password
        self._entries = {}
        repeated: dict[str, None] = {}
        for alias, entry in entries:
            finished = self._finish(alias, entry)
            if finished.label in self._entries:  # Java keeps the last one too (a Hashtable put)
                repeated[finished.label] = None
            self._entries[finished.label] = finished
        if repeated:
            shown = ", ".join(f"'{label}'" for label in list(repeated)[:3])
            more = f" and {len(repeated) - 3} more" if len(repeated) > 3 else ""
            self.notes.append(f"{self.location}: alias(es) {shown}{more} appear more than once; the later entry "
                              "wins, as in keytool")

    def _parse(self, data: bytes) -> tuple[list[tuple[str, tuple[Any, ...]]], int]:
        """Split the file into raw entries; nothing is decrypted or parsed as ASN.1 here."""
        version, count = struct.unpack_from(">II", data, 4)
        if version not in (1, 2):
            raise UnsupportedFormat(f"{self.format.upper()} version {version} is unknown (1 and 2 exist)",
                                    store=self.location)
        if count > (len(data) - 12) // _MIN_ENTRY:
            raise CorruptStore(f"entry count {count} is more than the file can hold", store=self.location)
        pos = 12
        size = len(data)
        unpack = struct.unpack_from

        def chunk(at: int) -> tuple[bytes, int]:
            (length,) = unpack(">I", data, at)
            at += 4
            if length > size - at:
                raise CorruptStore(f"length field {length} at offset {at - 4} runs past the end of the file",
                                   store=self.location)
            return data[at : at + length], at + length

        def certificate(at: int) -> tuple[tuple[str, bytes], int]:
            cert_type = "X.509"
            if version == 2:
                if data[at : at + 7] == b"\x00\x05X.509":  # nearly always: skip the general string reader
                    at += 7
                else:
                    cert_type, at = _read_utf(data, at)
            der, at = chunk(at)
            return (cert_type, der), at

        entries = []
        for _ in range(count):
            tag, = unpack(">I", data, pos)
            alias, pos = _read_utf(data, pos + 4)
            (millis,) = unpack(">q", data, pos)
            pos += 8
            if tag == _TAG_PRIVATE_KEY:
                blob, pos = chunk(pos)
                (chain_length,) = unpack(">I", data, pos)
                pos += 4
                if chain_length > (size - pos) // 4:
                    raise CorruptStore(f"chain length {chain_length} is more than the file can hold",
                                       store=self.location, label=alias)
                chain = []
                for _ in range(chain_length):
                    cert, pos = certificate(pos)
                    chain.append(cert)
                entries.append((alias, (tag, millis, blob, chain)))
            elif tag == _TAG_TRUSTED_CERT:
                cert, pos = certificate(pos)
                entries.append((alias, (tag, millis, None, [cert])))
            elif tag == _TAG_SECRET_KEY and self.format == "jceks":
                start = pos
                reader = _JavaReader(data, pos)
                sealed = reader.stream()
                pos = reader.pos
                entries.append((alias, (tag, millis, (sealed, data[start:pos]), [])))
            else:
                raise CorruptStore(f"unknown entry tag {tag} in a {self.format.upper()} store",
                                   store=self.location, label=alias)
        return entries, pos

    def _explain_digest_failure(self, entries: list[tuple[str, tuple[Any, ...]]]) -> None:
        """A bad digest is a wrong password or damage; a key that opens with the password proves damage.

        JKS keys open in microseconds, so every one is tried; a JCEKS key costs 400,000 MD5 rounds (up to 20 million
        in a hostile file), so only one.
        """
        tries = len(entries) if self.format == "jks" else 1
        for alias, (tag, _, blob, _) in entries:
            if tag != _TAG_PRIVATE_KEY or tries <= 0:
                continue
            tries -= 1
            try:
                self._unprotect(blob, self.password or "", alias)
            except KeystoreError:
                continue
            raise IntegrityError(f"the password is right (it opens key '{alias}') but the store digest does not "
                                 "match: the file is damaged or was altered", store=self.location)
        raise WrongPassword("wrong store password, or the file is damaged (the store digest does not match)",
                            store=self.location)

    def _finish(self, alias: str, raw: tuple[Any, ...]) -> Entry:
        tag, millis, blob, chain_raw = raw
        label = alias.lower()
        created = _from_millis(millis)
        if tag == _TAG_TRUSTED_CERT and len(chain_raw) == 1 and chain_raw[0][0] == "X.509":
            # Decoded on first use of `chain`: a truststore of thousands lists without decoding any (the store
            # digest has already vouched for the bytes; a certificate cryptography refuses is reported then).
            der = chain_raw[0][1]
            return LazyEntry.lazy({"chain": lambda: (self._certificate("X.509", der, label),)}, leaf_der=der,
                                  label=label, kind=EntryKind.TRUSTED_CERT, trust=TRUST_ALL, created=created)
        chain = tuple(self._certificate(cert_type, der, label) for cert_type, der in chain_raw)
        if tag == _TAG_TRUSTED_CERT:
            return Entry(label=label, kind=EntryKind.TRUSTED_CERT, chain=chain, trust=TRUST_ALL, created=created)
        if tag == _TAG_PRIVATE_KEY:
            # A key entry with no chain (keytool's own test stores have one) is listed as the key it is.
            return sealed_entry(lambda: self._open_private_key(blob, self._key_password_for(label), label), blob,
                                self, label=label, kind=EntryKind.KEY_PAIR, chain=chain, created=created)
        sealed, raw_bytes = blob
        return sealed_entry(lambda: self._open_secret_key(sealed, self._key_password_for(label), label), raw_bytes,
                            self, label=label, kind=EntryKind.SECRET_KEY, created=created)

    def _key_password_for(self, label: str) -> str:
        if self._read_key_password is None:
            raise PasswordRequired("the key needs the store password", store=self.location, label=label)
        return self._read_key_password

    def _certificate(self, cert_type: str, der: bytes, label: str) -> Any:
        if cert_type != "X.509":
            raise UnsupportedFormat(f"certificate type '{cert_type}' is not supported (only X.509)",
                                    store=self.location, label=label)
        from cryptography.exceptions import UnsupportedAlgorithm

        from keystores.chain import decode_certificate

        try:
            return decode_certificate(der)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise CorruptStore(f"damaged certificate ({exc})", store=self.location, label=label) from exc

    # --- key protection --------------------------------------------------------------------------------------
    def _unprotect(self, epki_der: bytes, password: str, label: str) -> bytes:
        """PKCS#8 PrivateKeyInfo DER from a tag-1 blob. Both formats' algorithms are accepted in either store."""
        from keystores import legacy_java

        try:
            oid, params, encrypted = _read_epki(epki_der)
            if oid == legacy_java.JKS_KEY_PROTECTOR_OID:
                return legacy_java.jks_unprotect_key(encrypted, password)
            if oid == legacy_java.SUN_PBE_MD5_3DES_OID:
                if params is None:
                    raise ValueError("PBEWithMD5AndTripleDES without parameters")
                salt, iterations = _read_pbe_parameter(params)
                return legacy_java.sun_pbe_decrypt(encrypted, password, salt, iterations)
        except WrongPassword as exc:
            raise WrongPassword(f"the {self._key_password_name()} does not open this key", store=self.location,
                                label=label) from exc
        except (UsageError, LimitExceeded) as exc:
            raise type(exc)(exc.reason, store=self.location, label=label) from exc
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged protected key ({exc})", store=self.location, label=label) from exc
        raise UnsupportedFormat(f"key protection algorithm {oid} is not one Java stores use", store=self.location,
                                label=label)

    def _open_private_key(self, epki_der: bytes, password: str, label: str) -> Any:
        from keystores.undecoded import load_private_key

        pkcs8 = self._unprotect(epki_der, password, label)
        try:
            return load_private_key(pkcs8)
        except (ValueError, TypeError) as exc:
            # 3DES padding passes by chance for 1 in 256 wrong passwords: then the PKCS#8 does not parse.
            raise WrongPassword(f"the {self._key_password_name()} does not open this key (or the key is damaged)",
                                store=self.location, label=label) from exc

    def _open_secret_key(self, sealed: Any, password: str, label: str) -> SecretKey:
        from keystores import legacy_java

        try:
            if not isinstance(sealed, _JavaObject) or "encryptedContent" not in sealed.fields:
                raise ValueError(f"a secret key entry holds a {type(sealed).__name__}, not a SealedObject")
            algorithm = sealed.fields.get("sealAlg")
            if algorithm != legacy_java.SUN_PBE_NAME:
                raise UnsupportedFormat(f"secret key sealed with '{algorithm}', not {legacy_java.SUN_PBE_NAME}",
                                        store=self.location, label=label)
            salt, iterations = _read_pbe_parameter(sealed.fields["encodedParams"])
            plain = legacy_java.sun_pbe_decrypt(sealed.fields["encryptedContent"], password, salt, iterations)
        except WrongPassword as exc:
            raise WrongPassword(f"the {self._key_password_name()} does not open this key", store=self.location,
                                label=label) from exc
        except (UsageError, LimitExceeded) as exc:
            raise type(exc)(exc.reason, store=self.location, label=label) from exc
        except _PARSE_ERRORS as exc:
            raise CorruptStore(f"damaged secret key entry ({exc})", store=self.location, label=label) from exc
        try:
            key = _JavaReader(plain, 0).stream()
            if not isinstance(key, _JavaObject):
                raise ValueError("not an object")
            if key.class_name == "javax.crypto.spec.SecretKeySpec":
                return SecretKey(str(key.fields["algorithm"]), bytes(key.fields["key"]))
            if key.class_name == "java.security.KeyRep":
                key_type = key.fields.get("type")
                if not (isinstance(key_type, tuple) and key_type[1] == "SECRET") or key.fields["format"] != "RAW":
                    raise ValueError(f"KeyRep of type {key_type} in format {key.fields.get('format')}")
                return SecretKey(str(key.fields["algorithm"]), bytes(key.fields["encoded"]))
            raise ValueError(f"unexpected key class {key.class_name}")
        except _PARSE_ERRORS as exc:
            raise WrongPassword(f"the {self._key_password_name()} does not open this key (or the key is damaged)",
                                store=self.location, label=label) from exc

    def _key_password_name(self) -> str:
        return "key password" if self._key_password is not None else "store password (used for keys)"

    # --- writing ---------------------------------------------------------------------------------------------
    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if entry.kind.is_certificate and (entry.trust is None or not entry.trust.purposes):
            raise CapabilityError("trust", f"{self.format.upper()} holds only trusted certificates "
                                  "(trustedCertEntry); this certificate is not trusted", store=self.location,
                                  label=entry.label)
        if entry.kind is EntryKind.KEY_PAIR and isinstance(entry.key, KeyRef):
            raise CapabilityError("extractable_keys", "the key is held on a token; export it first",
                                  store=self.location, label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        if entry.kind is EntryKind.TRUSTED_CERT and entry.trust is not None and len(entry.trust.purposes) < 4:
            self.notes.append(f"{self.location}: '{entry.label}' is trusted for "
                              f"{', '.join(entry.trust.purposes) or 'no purpose'} only; "
                              f"{self.format.upper()} trusts it for all purposes")
        super().add(entry, replace=replace)

    def _dump(self) -> bytes:
        if self.password is None:
            raise PasswordRequired("writing the store needs its password", store=self.location)
        key_password = self._key_password if self._key_password is not None else self.password
        reuse = key_password == self._read_key_password
        parts = [self.magic, struct.pack(">II", 2, len(self._entries))]
        now = int(time.time() * 1000)
        for label, entry in self._entries.items():
            millis = int(entry.created.timestamp() * 1000) if entry.created else now
            if entry.kind is EntryKind.TRUSTED_CERT:
                parts += [struct.pack(">I", _TAG_TRUSTED_CERT), _utf(label), struct.pack(">q", millis),
                          _cert_bytes(entry.chain[0])]
            elif entry.kind is EntryKind.KEY_PAIR:
                blob = self._sealed_blob(entry) if reuse else None
                if blob is None:
                    blob = self._protect_private_key(entry, key_password)
                parts += [struct.pack(">I", _TAG_PRIVATE_KEY), _utf(label), struct.pack(">q", millis),
                          struct.pack(">I", len(blob)), blob, struct.pack(">I", len(entry.chain))]
                parts += [_cert_bytes(cert) for cert in entry.chain]
            elif entry.kind is EntryKind.SECRET_KEY:
                blob = self._sealed_blob(entry) if reuse else None
                if blob is None:
                    blob = self._seal_secret_key(entry, key_password)
                parts += [struct.pack(">I", _TAG_SECRET_KEY), _utf(label), struct.pack(">q", millis), blob]
            else:  # check_entry refused it on add; a defensive message rather than a silent drop
                raise CapabilityError(entry.kind.value, f"{self.format.upper()} cannot hold a {entry.kind.value}",
                                      store=self.location, label=label)
        body = b"".join(parts)
        from keystores.legacy_java import store_digest

        return body + store_digest(self.password, body)

    def _sealed_blob(self, entry: Entry) -> bytes | None:
        """The entry's protected key exactly as this store read it, while nobody has opened it; else None."""
        return entry.sealed_blob(self) if isinstance(entry, SealedEntry) else None

    def _pkcs8(self, entry: Entry) -> bytes:
        from cryptography.hazmat.primitives import serialization

        key = entry.key
        try:
            return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,  # type: ignore[union-attr]
                                     serialization.NoEncryption())
        except (AttributeError, ValueError, TypeError) as exc:
            raise CapabilityError("private_keys", f"cannot store a {type(key).__name__} in "
                                  f"{self.format.upper()}", store=self.location, label=entry.label) from exc

    def _protect_private_key(self, entry: Entry, password: str) -> bytes:
        raise NotImplementedError

    def _seal_secret_key(self, entry: Entry, password: str) -> bytes:
        raise CapabilityError("secret_keys", f"{self.format.upper()} stores cannot hold secret keys",
                              store=self.location, label=entry.label)

    def _key_algorithm_name(self) -> str:
        raise NotImplementedError

    def protection(self) -> dict[str, str]:
        """The digest, and the key protection the keys as read actually use (iteration counts from their
        parameters: JDK 8 wrote 200 iterations, JDK 17 writes 200,000); what we write for new keys otherwise."""
        from keystores import legacy_java

        seen: set[str] = set()
        counts: set[int] = set()
        for entry in self._entries.values():
            blob = self._sealed_blob(entry)
            if blob is None:
                continue
            try:
                if entry.kind is EntryKind.KEY_PAIR:
                    oid, params, _ = _read_epki(blob)
                    if oid == legacy_java.JKS_KEY_PROTECTOR_OID:
                        seen.add(JksStore.key_protection)
                        continue
                else:
                    params = self._sealed_parameters(blob)
                counts.add(_read_pbe_parameter(params or b"")[1])
            except _PARSE_ERRORS:
                continue  # a damaged key is reported when it is opened, not here
        if counts:
            low, high = min(counts), max(counts)
            seen.add(f"{JceksStore.key_protection}, {low}" + (f"-{high}" if high != low else "") + " iterations")
        return {"mac": "SHA-1 keyed digest (password, \"Mighty Aphrodite\", store)",
                "keys": "; ".join(sorted(seen)) or self._key_algorithm_name()}

    @staticmethod
    def _sealed_parameters(serialized: bytes) -> bytes:
        sealed = _JavaReader(serialized, 0).stream()
        return sealed.fields["encodedParams"]


class JksStore(_JavaStore):
    """Sun's JKS: private keys under the SHA-1 XOR key protector, trusted certificates; no secret keys."""

    format: ClassVar[str] = "jks"
    magic: ClassVar[bytes] = b"\xfe\xed\xfe\xed"
    legacy_summary: ClassVar[str] = "SHA-1 store digest, SHA-1 XOR key protection"
    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=False, untrusted_certificates=False,
                                                        undecoded_entries=True)

    def _protect_private_key(self, entry: Entry, password: str) -> bytes:
        from keystores import legacy_java

        protected = legacy_java.jks_protect_key(self._pkcs8(entry), password)
        return _epki(legacy_java.JKS_KEY_PROTECTOR_OID, None, protected)

    key_protection: ClassVar[str] = "JKS key protector (SHA-1 keystream XOR, SHA-1 check)"

    def _key_algorithm_name(self) -> str:
        return self.key_protection


class JceksStore(_JavaStore):
    """SunJCE's JCEKS: like JKS plus secret keys; keys under PBEWithMD5AndTripleDES (printable ASCII passwords)."""

    format: ClassVar[str] = "jceks"
    magic: ClassVar[bytes] = b"\xce\xce\xce\xce"
    legacy_summary: ClassVar[str] = "SHA-1 store digest, MD5/3DES key protection"
    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=True, untrusted_certificates=False,
                                                        undecoded_entries=True)

    def _protect_private_key(self, entry: Entry, password: str) -> bytes:
        from keystores import legacy_java

        salt, iterations, encrypted = self._sun_encrypt(self._pkcs8(entry), password, entry.label)
        return _epki(legacy_java.SUN_PBE_MD5_3DES_OID, _pbe_parameter(salt, iterations), encrypted)

    def _seal_secret_key(self, entry: Entry, password: str) -> bytes:
        from keystores import legacy_java

        secret = entry.secret
        if secret is None:
            raise UsageError("a secret-key entry needs its key", store=self.location, label=entry.label)
        inner = _serialize_secret_key_spec(secret.algorithm, secret.value)
        salt, iterations, encrypted = self._sun_encrypt(inner, password, entry.label)
        return _serialize_sealed_object(_pbe_parameter(salt, iterations), encrypted, legacy_java.SUN_PBE_NAME)

    def _sun_encrypt(self, data: bytes, password: str, label: str) -> tuple[bytes, int, bytes]:
        from keystores import legacy_java

        try:
            return legacy_java.sun_pbe_encrypt(data, password)
        except UsageError as exc:
            raise UsageError(exc.reason, store=self.location, label=label) from exc

    key_protection: ClassVar[str] = "PBEWithMD5AndTripleDES (MD5, 3DES-CBC)"

    def _key_algorithm_name(self) -> str:
        from keystores.legacy_java import SUN_PBE_ITERATIONS

        return f"{self.key_protection}, {SUN_PBE_ITERATIONS} iterations"


def _cert_bytes(cert: Any) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    der = cert.public_bytes(Encoding.DER)
    return _utf("X.509") + struct.pack(">I", len(der)) + der


def _from_millis(millis: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(millis / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
