"""cli/module_finder.py: keystores' modules found from their `.pyc` as the path finder would find them, and left to
the path finder wherever the `.pyc` cannot be vouched for."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import py_compile
import subprocess
import sys
from pathlib import Path

import keystores.cli
import pytest
from keystores.cli.module_finder import OwnModuleFinder, _ReadLoader, install

import keystores

TREES = [Path(keystores.__path__[0]), Path(keystores.cli.__path__[0])]


def _module(folder: Path, name: str, text: str, mode: py_compile.PycInvalidationMode | None =
            py_compile.PycInvalidationMode.TIMESTAMP) -> Path:
    source = folder / f"{name}.py"
    source.write_text(text)
    if mode is not None:
        py_compile.compile(str(source), cfile=importlib.util.cache_from_source(str(source)), invalidation_mode=mode,
                           doraise=True)
    return source


def _run(spec: importlib.machinery.ModuleSpec) -> object:
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_module_with_a_matching_pyc_is_found_as_the_path_finder_finds_it(tmp_path: Path) -> None:
    source = _module(tmp_path, "plain", "VALUE = 7\n")
    spec = OwnModuleFinder.find_spec("keystores.plain", [str(tmp_path)])
    theirs = importlib.machinery.PathFinder.find_spec("plain", [str(tmp_path)])
    assert isinstance(spec.loader, _ReadLoader)
    assert (spec.origin, spec.cached, spec.has_location, spec.submodule_search_locations) == (
        theirs.origin, theirs.cached, theirs.has_location, theirs.submodule_search_locations) == (
        str(source), importlib.util.cache_from_source(str(source)), True, None)
    module = _run(spec)
    assert module.VALUE == 7
    assert (module.__file__, module.__cached__) == (str(source), spec.cached)


def test_a_package_is_found_with_its_folder_to_search(tmp_path: Path) -> None:
    (tmp_path / "pack").mkdir()
    source = _module(tmp_path / "pack", "__init__", "VALUE = 'package'\n")
    spec = OwnModuleFinder.find_spec("keystores.pack", [str(tmp_path)])
    theirs = importlib.machinery.PathFinder.find_spec("pack", [str(tmp_path)])
    assert (spec.origin, spec.cached, spec.submodule_search_locations) == (
        theirs.origin, theirs.cached, theirs.submodule_search_locations) == (
        str(source), importlib.util.cache_from_source(str(source)), [str(tmp_path / "pack")])
    assert _run(spec).VALUE == "package"


@pytest.mark.parametrize("case", ["no pyc", "source changed", "hash-based pyc", "not ours", "two folders"])
def test_what_it_cannot_vouch_for_is_left_to_the_path_finder(tmp_path: Path, case: str) -> None:
    mode = {"no pyc": None, "hash-based pyc": py_compile.PycInvalidationMode.CHECKED_HASH}.get(
        case, py_compile.PycInvalidationMode.TIMESTAMP)
    source = _module(tmp_path, "plain", "VALUE = 7\n", mode)
    if case == "source changed":
        source.write_text("VALUE = 8  # longer\n")
    name = "elsewhere.plain" if case == "not ours" else "keystores.plain"
    path = [str(tmp_path), str(tmp_path)] if case == "two folders" else [str(tmp_path)]
    assert OwnModuleFinder.find_spec(name, path) is None
    assert OwnModuleFinder.find_spec("keystores.absent", [str(tmp_path)]) is None
    assert OwnModuleFinder.find_spec("keystores", None) is None


def test_a_pyc_with_a_good_header_and_a_damaged_body_is_compiled_again_from_the_source(tmp_path: Path) -> None:
    source = _module(tmp_path, "plain", "VALUE = 7\n")
    cached = Path(importlib.util.cache_from_source(str(source)))
    cached.write_bytes(cached.read_bytes()[:16] + b"\xff damaged")
    spec = OwnModuleFinder.find_spec("keystores.plain", [str(tmp_path)])
    assert spec is not None
    assert _run(spec).VALUE == 7


def test_the_code_runs_from_the_file_it_was_found_in_wherever_it_was_compiled(tmp_path: Path) -> None:
    elsewhere = tmp_path / "built"
    elsewhere.mkdir()
    _module(elsewhere, "plain", "def where():\n    return where.__code__.co_filename\n")
    here = tmp_path / "installed"
    (here / "__pycache__").mkdir(parents=True)
    source = here / "plain.py"
    source.write_bytes((elsewhere / "plain.py").read_bytes())
    stat = (elsewhere / "plain.py").stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    Path(importlib.util.cache_from_source(str(source))).write_bytes(
        Path(importlib.util.cache_from_source(str(elsewhere / "plain.py"))).read_bytes())
    assert _run(OwnModuleFinder.find_spec("keystores.plain", [str(here)])).where() == str(source)


def test_no_name_in_keystores_is_both_a_module_and_a_package_nor_an_extension_module() -> None:
    """The finder looks for `name.py` before `name/`: the path finder would take the folder, and an extension
    module before either."""
    for tree in TREES:
        for folder, folders, files in os.walk(tree):
            modules = {file[:-3] for file in files if file.endswith(".py")}
            assert not modules & set(folders), folder
            assert not [file for file in files if file.endswith((".so", ".pyd"))], folder


def test_installed_once_first_and_not_under_python_O() -> None:
    install()
    install()
    assert sum(isinstance(finder, OwnModuleFinder) for finder in sys.meta_path) == 1
    probe = ("import sys, keystores.cli.module_finder as m; "
             "print(sum(isinstance(f, m.OwnModuleFinder) for f in sys.meta_path))")
    for flags, expected in (([], "1"), (["-O"], "0"), (["-X", "pycache_prefix=/nonexistent"], "0")):
        run = subprocess.run([sys.executable, *flags, "-c", probe], capture_output=True, text=True, check=True)
        assert run.stdout.strip() == expected, flags


def test_a_command_s_own_modules_come_through_the_finder_where_their_pyc_is_current(tmp_path: Path) -> None:
    """In a fresh interpreter with the `.pyc` files written (the path finder writes them on a first run), every
    keystores module a command loads after keystores.cli is loaded by the finder, from the file the path finder
    would name."""
    probe = """if True:
        import importlib.machinery, sys
        from keystores.cli.main import run
        try:
            run(["backends"])
        except SystemExit:
            pass
        from keystores.cli.module_finder import _ReadLoader
        own = [name for name in sys.modules if name.startswith("keystores.")
               and name not in ("keystores.cli", "keystores.cli.module_finder")]
        for name in own:
            module = sys.modules[name]
            parent = sys.modules[name.rpartition(".")[0]]
            theirs = importlib.machinery.PathFinder.find_spec(name, parent.__path__)
            found = isinstance(module.__loader__, _ReadLoader)
            print("module", name, found, module.__file__ == theirs.origin, module.__spec__.cached == theirs.cached)
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, check=True)  # writes the .pyc
    lines = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                           check=True).stdout.splitlines()
    lines = [line for line in lines if line.startswith("module ")]  # not what `backends` prints
    assert len(lines) > 5
    assert [line for line in lines if not line.endswith(" True True True")] == []
