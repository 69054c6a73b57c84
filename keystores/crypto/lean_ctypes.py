"""The part of ctypes keystores uses, made from `_ctypes` as ctypes/__init__.py makes it, without the rest.

Written here because ctypes falls short on start-up (issue 15): importing it costs ~7.5 M instructions (~1.7 ms of
every command that reads a PKCS#12, an NSS database or an encrypted PEM, or makes or uses an EC key: bench/run's
"start-up:" rows). ctypes/__init__.py imports struct and types, makes ~40 types, a function type per C helper
(memmove, memset, string_at, ...), a callback thunk and the byte-order structures; keystores' callers of libcrypto
(keystores.crypto.libcrypto and those it declares calls for) use ten of those names. Here each is made the way
ctypes makes it, from the same C module, so a call declared with these types behaves as one declared with ctypes'
(measured: 2.0 M instructions for this module, ctypes' and a libcrypto call together 9.5 M, callgrind).

The names are ctypes' own, so that a caller reads `from keystores.crypto import lean_ctypes as ctypes` and is
written as with ctypes; nothing else here. Mixing these types with ctypes' in one declaration is not supported:
they are distinct classes, as two ctypes types of the same C type are.

This file imports nothing of keystores, so that bench/harness.py's floors, which import no keystores package, load
it alone (harness.lean_ctypes_lines) and reach libcrypto the cheapest way keystores knows.
"""

from __future__ import annotations

from _ctypes import (
    FUNCFLAG_CDECL,
    FUNCFLAG_PYTHONAPI,
    POINTER,
    RTLD_LOCAL,
    CFuncPtr,
    Structure,
    _cast_addr,
    _memset_addr,
    _SimpleCData,
    addressof,
    byref,
    dlopen,
    sizeof,
)
from sys import audit, platform

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# (c_uint, c_long, c_ulong, c_ulonglong and c_size_t too, made on first use: __getattr__)
__all__ = ["CDLL", "POINTER", "Structure", "addressof", "byref", "c_char", "c_char_p", "c_int", "c_void_p", "cast",
           "create_string_buffer", "memset", "sizeof"]


def _simple(name: str, code: str) -> Any:
    """One of ctypes' simple types: its name and its struct-style code, as ctypes/__init__.py declares each."""
    return type(name, (_SimpleCData,), {"_type_": code, "__module__": __name__})


# ctypes' names, lower case as there. Those reading a PKCS#12 uses (libcrypto's prototypes) are made here; the
# others on first use (__getattr__): a numeric one also makes its byte-swapped twin, ~30 us each.
c_int = _simple("c_int", "i")
c_void_p = _simple("c_void_p", "P")
c_char_p = _simple("c_char_p", "z")
c_char = _simple("c_char", "c")

# name -> code of those made on first use; c_size_t is the unsigned integer as wide as a pointer, as ctypes picks
# it: unsigned long, as wide as a pointer everywhere but 64-bit Windows (LLP64), where it is unsigned long long
_LATER = {"c_uint": "I", "c_long": "l", "c_ulong": "L", "c_ulonglong": "Q",
          "c_size_t": "Q" if platform == "win32" and sizeof(c_void_p) == 8 else "L"}


def __getattr__(name: str) -> Any:
    code = _LATER.get(name)
    if code is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    made = globals().get(_NAME_OF[code])
    if made is None:
        made = globals()[_NAME_OF[code]] = _simple(_NAME_OF[code], code)
    globals()[name] = made
    return made


_NAME_OF = {"I": "c_uint", "l": "c_long", "L": "c_ulong", "Q": "c_ulonglong"}  # (c_size_t is one of them)


def create_string_buffer(init: bytes | int, size: int | None = None) -> Any:
    """ctypes.create_string_buffer: a char array of `init`'s bytes (and a NUL, unless `size` says), or of `init`
    NUL bytes; with ctypes' audit event (sys.audit), as every call ctypes makes has one."""
    if isinstance(init, int):
        audit("ctypes.create_string_buffer", None, init)
        return (c_char * init)()
    if size is None:
        size = len(init) + 1
    audit("ctypes.create_string_buffer", init, size)
    made = (c_char * size)()
    made.value = init
    return made


class _Function(CFuncPtr):
    """A function of a CDLL: C's calling convention, an int result until its restype is declared."""

    _flags_ = FUNCFLAG_CDECL
    _restype_ = c_int


class CDLL:
    """ctypes.CDLL: a loaded shared library, its functions as attributes (made once, then kept)."""

    def __init__(self, name: str | None, mode: int = RTLD_LOCAL) -> None:
        self._name = name
        self._handle = dlopen(name, mode)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        function = _Function((name, self))  # AttributeError where the library has no such symbol
        function.__name__ = name
        setattr(self, name, function)
        return function


_MADE: dict[str, Any] = {}  # "memset", "cast" -> their C function, made on first use


def memset(destination: Any, value: int, count: int) -> Any:
    """ctypes.memset."""
    function = _MADE.get("memset")
    if function is None:
        class _Memset(CFuncPtr):
            _argtypes_ = (c_void_p, c_int, __getattr__("c_size_t"))
            _restype_ = c_void_p
            _flags_ = FUNCFLAG_CDECL

        function = _MADE["memset"] = _Memset(_memset_addr)
    return function(destination, value, count)


_PythonObject = _simple("py_object", "O")


def cast(value: Any, pointer_type: Any) -> Any:
    """ctypes.cast: `value` (a pointer, an array, an address) as a `pointer_type`, keeping `value` alive."""
    function = _MADE.get("cast")
    if function is None:
        class _Cast(CFuncPtr):
            _argtypes_ = (c_void_p, _PythonObject, _PythonObject)
            _restype_ = _PythonObject
            _flags_ = FUNCFLAG_CDECL | FUNCFLAG_PYTHONAPI

        function = _MADE["cast"] = _Cast(_cast_addr)
    return function(value, value, pointer_type)
