"""keystores.crypto.lean_ctypes: ctypes' types, buffers and CDLL as ctypes makes them, without importing ctypes."""

from __future__ import annotations

import ctypes
import subprocess
import sys

import pytest

from keystores.crypto import lean_ctypes


@pytest.mark.parametrize("name", ["c_int", "c_uint", "c_long", "c_ulong", "c_size_t", "c_void_p", "c_char_p",
                                  "c_char"])
def test_each_type_is_ctypes_own_c_type(name: str) -> None:
    ours, theirs = getattr(lean_ctypes, name), getattr(ctypes, name)
    assert ours._type_ == theirs._type_ and lean_ctypes.sizeof(ours) == ctypes.sizeof(theirs)


def test_a_string_buffer_is_made_as_ctypes_makes_it_with_its_audit_event() -> None:
    for args in ((b"abc",), (b"abc", 8), (b"abc", 3), (5,)):
        ours, theirs = lean_ctypes.create_string_buffer(*args), ctypes.create_string_buffer(*args)
        assert (ours.raw, len(ours)) == (theirs.raw, len(theirs)), args
    # an audit hook stays for the life of its process: in one of its own
    probe = ("import ctypes, sys\nfrom keystores.crypto import lean_ctypes\nevents = []\n"
             "sys.addaudithook(lambda event, args: events.append(args) if event == 'ctypes.create_string_buffer' "
             "else None)\n"
             "for args in ((b'abc',), (b'abc', 8), (5,)):\n"
             "    lean_ctypes.create_string_buffer(*args), ctypes.create_string_buffer(*args)\n"
             "print(events[0::2] == events[1::2] == [(b'abc', 4), (b'abc', 8), (None, 5)])\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


def test_a_library_s_functions_are_called_as_declared_and_a_missing_one_is_an_attribute_error() -> None:
    libc = lean_ctypes.CDLL(None)  # the process itself: the C library's functions
    libc.strlen.argtypes, libc.strlen.restype = [lean_ctypes.c_char_p], lean_ctypes.c_size_t
    assert libc.strlen(b"keystores") == 9 and libc.strlen is libc.strlen and libc.strlen.__name__ == "strlen"
    buffer = lean_ctypes.create_string_buffer(b"abcdef")
    out = lean_ctypes.c_size_t(0)
    libc.snprintf.argtypes = [lean_ctypes.c_char_p, lean_ctypes.c_size_t, lean_ctypes.c_char_p, lean_ctypes.c_int]
    assert libc.snprintf(buffer, 7, b"%d", 4096) == 4 and buffer.value == b"4096"
    assert lean_ctypes.byref(out) is not None and lean_ctypes.POINTER(lean_ctypes.c_size_t) is not None
    with pytest.raises(AttributeError):
        libc.no_such_function_in_any_libc  # noqa: B018


def test_memset_and_cast_work_on_a_buffer() -> None:
    buffer = lean_ctypes.create_string_buffer(b"secret")
    lean_ctypes.memset(buffer, 0, 6)
    assert buffer.raw == bytes(7)
    address = lean_ctypes.cast(buffer, lean_ctypes.c_void_p)
    assert address.value == lean_ctypes.addressof(buffer)

    class Pair(lean_ctypes.Structure):
        _fields_ = (("first", lean_ctypes.c_int), ("second", lean_ctypes.c_size_t))

    assert lean_ctypes.sizeof(Pair) == ctypes.sizeof(type("Pair", (ctypes.Structure,), {
        "_fields_": (("first", ctypes.c_int), ("second", ctypes.c_size_t))}))


def test_it_imports_no_ctypes_and_nothing_of_keystores_but_its_packages() -> None:
    """So that it costs what it makes, and bench/harness.py's floors can run its file alone (LEAN_CTYPES)."""
    probe = ("import sys\nfrom keystores.crypto import lean_ctypes\n"
             "print(sorted(m for m in sys.modules if m == 'ctypes' or m.startswith('ctypes.')),"
             " sorted(m for m in sys.modules if m.startswith('keystores')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["[]", "['keystores',", "'keystores.crypto',", "'keystores.crypto.lean_ctypes']"]
