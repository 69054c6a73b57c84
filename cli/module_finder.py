"""A finder for keystores' own modules that takes their compiled code straight from `__pycache__`.

Every command imports 45-65 of keystores' modules, and Python's path finder spends ~20 us on each beyond reading
and running its code: a directory listing per package, five file suffixes tried for each name, the spec built by
`spec_from_file_location`, the cache file's path worked out by string functions, the source stat'ed again by the
loader (measured: 50 empty modules, 57 us each through the path finder, 37 us through this one; the bench's
"start-up:" rows, bench/bench_core.py and bench_commands.py, are what it is for). This finder knows keystores'
layout, pure-Python modules and packages that are folders with an `__init__.py`, and for one of its modules does
one stat of the source, one read of the `.pyc`, and the checks importlib makes on the file's header.

Whatever it cannot vouch for it leaves to the path finder, which then compiles and caches as usual: no `.pyc` yet,
one older than its source, a hash-based one, `python -O`, a pycache prefix. So it never changes which code runs,
only how fast it is found; the loader is importlib's own SourceFileLoader (source, data files and resources as
usual) handed the code the finder read.
"""

from __future__ import annotations

import marshal
import sys
from _frozen_importlib import ModuleSpec
from _frozen_importlib_external import MAGIC_NUMBER, SourceFileLoader
from _imp import _fix_co_filename
from _io import open_code
from os import stat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import CodeType

_OWN = "keystores."
_CACHE_TAG = sys.implementation.cache_tag
_TIMESTAMP_PYC = b"\0\0\0\0"  # the flags word of a .pyc checked by its source's mtime and size (PEP 552)


class _ReadLoader(SourceFileLoader):
    """importlib's loader for a source file, given the `.pyc` bytes the finder has read and checked."""

    def __init__(self, fullname: str, path: str, compiled: bytes) -> None:
        super().__init__(fullname, path)
        self._compiled: bytes | None = compiled

    def get_code(self, fullname: str) -> CodeType:
        compiled, self._compiled = self._compiled, None
        if compiled is not None:
            try:
                code = marshal.loads(memoryview(compiled)[16:])
            except (EOFError, ValueError, TypeError):
                # A damaged file with a good header, which importlib's own loader would fail on: from the source.
                return self.source_to_code(self.get_data(self.path), self.path)
            _fix_co_filename(code, self.path)  # as importlib does: the file the code runs from, wherever built
            return code
        return super().get_code(fullname)


class OwnModuleFinder:
    """importlib's MetaPathFinder for `keystores.*` modules whose timestamp `.pyc` matches their source."""

    @staticmethod
    def find_spec(fullname: str, path: Sequence[str] | None = None, target: object = None) -> ModuleSpec | None:
        # `path` is the parent package's __path__; keystores' packages are each one folder.
        if not fullname.startswith(_OWN) or path is None or len(path) != 1:
            return None
        folder = path[0]
        name = fullname.rpartition(".")[2]
        # A module file is looked for before a package folder: keystores holds no name as both
        # (tests/test_module_finder.py), where the path finder would take the folder.
        source = f"{folder}/{name}.py"
        cached = f"{folder}/__pycache__/{name}.{_CACHE_TAG}.pyc"
        package_folder = None
        try:
            source_stat = stat(source)
        except OSError:
            package_folder = f"{folder}/{name}"
            source = f"{package_folder}/__init__.py"
            cached = f"{package_folder}/__pycache__/__init__.{_CACHE_TAG}.pyc"
            try:
                source_stat = stat(source)
            except OSError:
                return None
        try:
            with open_code(cached) as file:
                compiled = file.read()
        except OSError:
            return None
        if (compiled[:4] != MAGIC_NUMBER or compiled[4:8] != _TIMESTAMP_PYC
                or int.from_bytes(compiled[8:12], "little") != int(source_stat.st_mtime) & 0xFFFFFFFF
                or int.from_bytes(compiled[12:16], "little") != source_stat.st_size & 0xFFFFFFFF):
            return None
        spec = ModuleSpec(fullname, _ReadLoader(fullname, source, compiled), origin=source,
                          is_package=package_folder is not None)
        spec.has_location = True
        spec.cached = cached
        if package_folder is not None:
            spec.submodule_search_locations = [package_folder]
        return spec


def install() -> None:
    """OwnModuleFinder first in sys.meta_path, once, where `.pyc` files are where it looks for them."""
    if sys.flags.optimize or sys.pycache_prefix is not None:
        return  # the .pyc would be named `.opt-N.pyc` or live elsewhere: the path finder knows where
    if not any(isinstance(finder, OwnModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, OwnModuleFinder())
