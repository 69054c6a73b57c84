"""Java object serialization, just what a JCEKS SealedObject needs: a bounded reader of the stream and
the exact bytes ObjectOutputStream writes for a SealedObjectForKeyProtector around a SecretKeySpec.
"""

from __future__ import annotations

import struct

from keystores.backends.java_data import read_utf, write_utf

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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
            text, self.pos = read_utf(self.data, self.pos)
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
        name, self.pos = read_utf(self.data, self.pos)
        self.take(8)  # serialVersionUID
        desc = _ClassDesc(name)
        self.count(1)
        self.handles.append(desc)
        desc.flags = self.unpack(">B")
        for _ in range(self.unpack(">H")):
            code = chr(self.unpack(">B"))
            field_name, self.pos = read_utf(self.data, self.pos)
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
    return (b"\x75\x72" + write_utf("[B") + _ARRAY_OF_BYTES_SUID + b"\x02\x00\x00\x78\x70"
            + struct.pack(">i", len(value)) + value)


def _serialize_secret_key_spec(algorithm: str, value: bytes) -> bytes:
    """A javax.crypto.spec.SecretKeySpec exactly as ObjectOutputStream writes it (what keytool -genseckey seals)."""
    return (b"\xac\xed\x00\x05\x73\x72" + write_utf("javax.crypto.spec.SecretKeySpec")
            + bytes.fromhex("5b470b66e230614d")
            + b"\x02\x00\x02"
            + b"L" + write_utf("algorithm") + b"\x74" + write_utf("Ljava/lang/String;")
            + b"[" + write_utf("key") + b"\x74" + write_utf("[B")
            + b"\x78\x70"
            + b"\x74" + write_utf(algorithm)
            + _java_byte_array(value))


def _serialize_sealed_object(encoded_params: bytes, encrypted: bytes, algorithm: str) -> bytes:
    """com.sun.crypto.provider.SealedObjectForKeyProtector as JCEKS writes it; handle numbers match Java's."""
    return (b"\xac\xed\x00\x05\x73\x72" + write_utf("com.sun.crypto.provider.SealedObjectForKeyProtector")
            + bytes.fromhex("cd57ca59e730bb53") + b"\x02\x00\x00\x78"
            + b"\x72" + write_utf("javax.crypto.SealedObject") + bytes.fromhex("3e363da6c3b75470") + b"\x02\x00\x04"
            + b"[" + write_utf("encodedParams") + b"\x74" + write_utf("[B")                    # handle 2: "[B"
            + b"[" + write_utf("encryptedContent") + b"\x71\x00\x7e\x00\x02"
            + b"L" + write_utf("paramsAlg") + b"\x74" + write_utf("Ljava/lang/String;")       # handle 3
            + b"L" + write_utf("sealAlg") + b"\x71\x00\x7e\x00\x03"
            + b"\x78\x70"
            + _java_byte_array(encoded_params)                                       # handles 5 (class), 6
            + b"\x75\x71\x00\x7e\x00\x05" + struct.pack(">i", len(encrypted)) + encrypted
            + b"\x74" + write_utf(algorithm) + b"\x74" + write_utf(algorithm))
