"""RFC 7512 PKCS#11 URIs: `pkcs11:token=LABEL;object=NAME;type=private?module-path=/usr/lib/x.so`.

Parsing only; no PKCS#11 library is loaded here. A PIN never comes from a URI (`pin-value`, `pin-source` are
refused with advice), and slots are never chosen by number (`slot-id` is refused): slot numbers change when
tokens are initialised, labels and serials do not.
"""

from __future__ import annotations

from keystores.errors import Hint, UsageError
from keystores.frozen import FrozenValue
from keystores.secrets import is_pin_part

PATH_ATTRIBUTES = ("token", "manufacturer", "serial", "model", "library-manufacturer", "library-description",
                   "library-version", "object", "type", "id", "slot-description", "slot-manufacturer", "slot-id")
QUERY_ATTRIBUTES = ("pin-source", "pin-value", "module-name", "module-path")
OBJECT_TYPES = ("cert", "private", "public", "secret-key", "data")

# RFC 7512 2.3: characters that may appear unescaped in a path attribute value ("pchar" less ';' and '?').
_SAFE_PATH = "-._~!$&'()*+,=:@/"


class Pkcs11Uri(FrozenValue):
    """The parts of a `pkcs11:` URI keystores uses; values are percent-decoded (`id` as bytes). A frozen value
    (keystores.frozen, not a dataclass: start-up of every token command, bench/bench_core.py's token rows)."""

    token: str | None
    serial: str | None
    manufacturer: str | None
    model: str | None
    object: str | None
    type: str | None
    id: bytes | None
    module_path: str | None
    module_name: str | None
    other: dict[str, str]
    _fields = ("token", "serial", "manufacturer", "model", "object", "type", "id", "module_path", "module_name",
               "other")

    def __init__(self, token: str | None = None, serial: str | None = None, manufacturer: str | None = None,
                 model: str | None = None, object: str | None = None, type: str | None = None,
                 id: bytes | None = None, module_path: str | None = None,
                 module_name: str | None = None, other: dict[str, str] | None = None) -> None:
        for name, value in (("token", token), ("serial", serial), ("manufacturer", manufacturer), ("model", model),
                            ("object", object), ("type", type), ("id", id), ("module_path", module_path),
                            ("module_name", module_name), ("other", {} if other is None else other)):
            _set(self, name, value)

    @classmethod
    def parse(cls, text: str) -> Pkcs11Uri:
        """Parse `text`; UsageError names the part that is wrong (never echoing a pin-value)."""
        if not text.lower().startswith("pkcs11:"):
            raise UsageError(f"'{text}' is not a PKCS#11 URI (they start with 'pkcs11:')")
        body = text[len("pkcs11:"):]
        path, _, query = body.partition("?")
        values: dict[str, str | bytes] = {}
        other: dict[str, str] = {}
        for part, separator, known, where in ((path, ";", PATH_ATTRIBUTES, "path"),
                                              (query, "&", QUERY_ATTRIBUTES, "query")):
            for item in part.split(separator) if part else ():
                raw_name, eq, raw = item.partition("=")
                name = _decode(raw_name).decode("utf-8", "replace").lower()
                if is_pin_part(item):
                    # pin-value, pin-source, a mistyped pin-value:X or pin-value%3DX, a bare pin=: never echoed
                    raise UsageError("PKCS#11 URI: a PIN is never taken from the URI (it would land in shell "
                                     "history and process lists)", hint=Hint(
                                         "; pass it with {}", option="--password env:VAR, file:PATH or fd:N",
                                         keyword="password=keystores.secret('env:VAR')"))
                if not eq or not name:
                    # not echoed: a part that is not NAME=VALUE may be a secret typed in the wrong place
                    raise UsageError(f"PKCS#11 URI: a part of the {where} is not NAME=VALUE (parts are separated "
                                     f"by '{separator}')")
                if name == "slot-id":
                    raise UsageError("PKCS#11 URI: tokens are chosen by label or serial, never by slot-id (slot "
                                     "numbers change when a token is initialised); use token=LABEL or serial=")
                decoded = _decode(raw)
                if name in values or name in other:
                    raise UsageError(f"PKCS#11 URI: '{name}' is given twice")
                if name in known:
                    values[name] = decoded
                else:
                    other[name] = decoded.decode("utf-8", "replace")
        text_values = {k: v.decode("utf-8") if isinstance(v, bytes) and k != "id" else v
                       for k, v in values.items()}
        kind = text_values.get("type")
        if kind is not None and kind not in OBJECT_TYPES:
            raise UsageError(f"PKCS#11 URI: type={kind} is not one of {', '.join(OBJECT_TYPES)}")
        return cls(token=text_values.get("token"), serial=text_values.get("serial"),
                   manufacturer=text_values.get("manufacturer"), model=text_values.get("model"),
                   object=text_values.get("object"), type=kind, id=values.get("id"),  # type: ignore[arg-type]
                   module_path=text_values.get("module-path"), module_name=text_values.get("module-name"),
                   other=other)

    def format(self, *, with_module: bool = True) -> str:
        """The URI text, percent-encoding what RFC 7512 asks to be encoded."""
        from keystores.percent import quote

        path = []
        for name, value in (("token", self.token), ("serial", self.serial), ("manufacturer", self.manufacturer),
                            ("model", self.model), ("object", self.object), ("type", self.type)):
            if value is not None:
                path.append(f"{name}={quote(value, safe=_SAFE_PATH.replace('&', ''))}")
        if self.id is not None:
            path.append("id=" + "".join(f"%{b:02X}" for b in self.id))
        uri = "pkcs11:" + ";".join(path)
        if with_module and self.module_path:
            uri += "?module-path=" + quote(self.module_path, safe="/-._~")
        return uri


_set = object.__setattr__  # Pkcs11Uri.__init__'s parameters `object` and `type` hide the builtins


def _decode(raw: str) -> bytes:
    # unquote_to_bytes leaves a malformed escape ("%zz") as it is, which is what RFC 3986 readers do too. Without a
    # '%' it gives the UTF-8 bytes: keystores.percent is then not loaded (bench/bench_core.py's token rows).
    text = raw.strip()
    if "%" not in text:
        return text.encode("utf-8")
    from keystores.percent import unquote_to_bytes

    return unquote_to_bytes(text)
