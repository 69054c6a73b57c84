"""The few names of ctypes that keystores calls libcrypto with (keystores.crypto.libcrypto, verify, kdf, ec_keys),
made from ctypes' C accelerator `_ctypes` the way ctypes/__init__.py makes them, without importing ctypes.

A speed device (issue 15; bench/bench_core.py "start-up: keystores audit s.kdb", bench_commands' "validate s.kdb
server"): `import ctypes` costs ~2.2 ms of CPU beyond `_ctypes` itself (~6 M instructions: it defines some forty
C types, the endian structures, the function-type caches and the Python API library at import), for the six types,
a library and three helpers keystores uses. The C types here are defined exactly as ctypes defines its own (a
subclass of `_ctypes._SimpleCData` with the same `_type_` code); Structure, POINTER and byref are `_ctypes`' very
objects, which ctypes re-exports; CDLL, create_string_buffer, cast and memset are ctypes' own code for them
(CPython 3.11's Lib/ctypes/__init__.py, with what only Windows and AIX take left out: libcrypto is looked for on
Linux and macOS only). Every keystores module that calls libcrypto takes its types from here, never from ctypes,
so that a POINTER of one of them always meets an object of that same type. Without `_ctypes` this raises
ImportError, as `import ctypes` would.
"""

from __future__ import annotations

import sys
from _ctypes import FUNCFLAG_CDECL as _FUNCFLAG_CDECL
from _ctypes import FUNCFLAG_PYTHONAPI as _FUNCFLAG_PYTHONAPI
from _ctypes import POINTER, Structure, _cast_addr, _memset_addr, _SimpleCData, byref, sizeof  # noqa: F401 - re-exported, as ctypes does
from _ctypes import CFuncPtr as _CFuncPtr
from _ctypes import dlopen as _dlopen

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class c_long(_SimpleCData):  # (ctypes' names)
    _type_ = "l"


class c_ulong(_SimpleCData):
    _type_ = "L"


class c_int(_SimpleCData):
    _type_ = "i"


class c_uint(_SimpleCData):
    _type_ = "I"


if sizeof(c_int) == sizeof(c_long):  # as ctypes: where int and long are one size, c_int is c_long
    c_int = c_long  # type: ignore[misc]
    c_uint = c_ulong  # type: ignore[misc]


class c_char(_SimpleCData):
    _type_ = "c"


class c_char_p(_SimpleCData):
    _type_ = "z"


class c_void_p(_SimpleCData):
    _type_ = "P"


class py_object(_SimpleCData):
    _type_ = "O"


# size_t as ctypes picks it (its third choice, unsigned long long, is 64-bit Windows': libcrypto is not looked for)
c_size_t = c_uint if sizeof(c_uint) == sizeof(c_void_p) else c_ulong


def create_string_buffer(init: bytes | int, size: int | None = None) -> Any:
    """ctypes.create_string_buffer: a mutable char array holding `init` (bytes, NUL-terminated unless `size` is
    given), or `init` zero bytes."""
    if isinstance(init, bytes):
        if size is None:
            size = len(init) + 1
        sys.audit("ctypes.create_string_buffer", init, size)
        buffer = (c_char * size)()
        buffer.value = init
        return buffer
    if isinstance(init, int):
        sys.audit("ctypes.create_string_buffer", None, init)
        return (c_char * init)()
    raise TypeError(init)


def _function_type(restype: Any, argtypes: tuple[Any, ...], flags: int) -> Any:
    """ctypes.CFUNCTYPE / PYFUNCTYPE's class, for the two C functions below."""

    class FunctionType(_CFuncPtr):  # type: ignore[misc,valid-type]
        _argtypes_ = argtypes
        _restype_ = restype
        _flags_ = flags

    return FunctionType


memset = _function_type(c_void_p, (c_void_p, c_int, c_size_t), _FUNCFLAG_CDECL)(_memset_addr)
_cast = _function_type(py_object, (c_void_p, py_object, py_object), _FUNCFLAG_CDECL | _FUNCFLAG_PYTHONAPI)(_cast_addr)


def cast(obj: Any, typ: Any) -> Any:
    """ctypes.cast."""
    return _cast(obj, obj, typ)


class CDLL:
    """ctypes.CDLL on Linux and macOS: a shared library opened with `mode`, its functions as attributes, each
    made on first use and then kept (declare `argtypes` and `restype` on it)."""

    _func_flags_ = _FUNCFLAG_CDECL
    _func_restype_ = c_int
    _name = "<uninitialized>"
    _handle = 0
    _FuncPtr = None

    def __init__(self, name: str | None, mode: int, handle: int | None = None) -> None:
        self._name = name

        class _FuncPtr(_CFuncPtr):  # type: ignore[misc,valid-type]
            _flags_ = self._func_flags_
            _restype_ = self._func_restype_

        self._FuncPtr = _FuncPtr  # type: ignore[assignment]
        self._handle = _dlopen(self._name, mode) if handle is None else handle

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        function = self.__getitem__(name)
        setattr(self, name, function)
        return function

    def __getitem__(self, name_or_ordinal: str | int) -> Any:
        function = self._FuncPtr((name_or_ordinal, self))  # type: ignore[misc]
        if not isinstance(name_or_ordinal, int):
            function.__name__ = name_or_ordinal
        return function
