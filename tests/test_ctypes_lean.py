"""keystores.crypto.ctypes_lean: the few ctypes names keystores calls libcrypto with, made from _ctypes as ctypes
makes them, are held to ctypes' own: the same C type codes and sizes, the same buffers, cast and memset, and a
library's functions called the same way."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keystores.crypto import ctypes_lean

TYPES = ("c_int", "c_uint", "c_long", "c_ulong", "c_char", "c_char_p", "c_void_p", "c_size_t", "py_object")


@pytest.mark.parametrize("name", TYPES)
def test_each_type_is_made_as_ctypes_makes_it(name: str) -> None:
    lean, real = getattr(ctypes_lean, name), getattr(ctypes, name)
    assert lean._type_ == real._type_
    assert ctypes_lean.sizeof(lean) == ctypes.sizeof(real)
    assert lean.__name__ == real.__name__  # (c_size_t: the same unsigned type ctypes picks)


def test_what_ctypes_re_exports_is_the_very_object() -> None:
    for name in ("POINTER", "Structure", "byref", "sizeof"):
        assert getattr(ctypes_lean, name) is getattr(ctypes, name)


@given(st.binary(max_size=64), st.integers(min_value=0, max_value=8))
def test_a_string_buffer_is_ctypes_buffer(data: bytes, extra: int) -> None:
    for size in (None, len(data) + extra):
        lean, real = ctypes_lean.create_string_buffer(data, size), ctypes.create_string_buffer(data, size)
        assert (lean.raw, lean.value, len(lean)) == (real.raw, real.value, len(real))
    assert ctypes_lean.create_string_buffer(extra).raw == ctypes.create_string_buffer(extra).raw
    with pytest.raises(TypeError):
        ctypes_lean.create_string_buffer("text")  # type: ignore[arg-type]


def test_memset_and_cast() -> None:
    buffer = ctypes_lean.create_string_buffer(b"secret!!", 8)
    ctypes_lean.memset(buffer, 0, 8)
    assert buffer.raw == bytes(8)
    pointer = ctypes_lean.cast(buffer, ctypes_lean.c_void_p)
    assert isinstance(pointer, ctypes_lean.c_void_p) and pointer.value == ctypes.addressof(buffer)


def test_a_library_function_is_called_as_ctypes_calls_it() -> None:
    libc = ctypes_lean.CDLL(None, os.RTLD_NOW)  # the process itself, as ctypes.CDLL(None)
    strlen = libc.strlen
    strlen.argtypes, strlen.restype = [ctypes_lean.c_char_p], ctypes_lean.c_size_t
    assert strlen(b"keystores") == 9 and libc.strlen is strlen and strlen.__name__ == "strlen"
    with pytest.raises(AttributeError):
        libc.no_such_function_in_libc_at_all  # noqa: B018
    with pytest.raises(AttributeError):
        libc.__wrapped__  # noqa: B018 - dunder names are never looked up in the library


def test_calling_libcrypto_loads_no_ctypes() -> None:
    """The signature check of a chain link (crypto.verify over crypto.libcrypto) imports no ctypes: its Python part
    costs ~2 ms of CPU at import (issue 15)."""
    probe = ("import sys\nfrom keystores.crypto import libcrypto, verify\nfound = libcrypto.library()\n"
             "verify.verify(b'', b'', b'', 'sha256')\nprint(found is not None, 'ctypes' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"], done.stdout + done.stderr
