"""keystores.paths answers as pathlib does (it replaces pathlib where a store is opened: start-up speed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from keystores import paths

SPELLINGS = ["", ".", "..", "/", "//", "///", "////a", "a", "a/", "a//b", "a/./b", "./a", "a/.", "/a", "//a",
             "//a/b/", "///a/b", "a/../b", "x.p12", "dir/x.P12", ".bashrc", "x.", "a.b.c", "a/.b", "..x", "x..",
             "/a/b.tar.gz", "a/b/", ". /x", "é/ü.kdb", "a/./", "./", "././x", "sql:db", "sql:/tmp/nss"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_names_as_pathlib(spelling: str) -> None:
    path = Path(spelling)
    assert paths.normal(spelling) == str(path)
    assert paths.normal(path) == str(path)
    assert paths.parent(spelling) == str(path.parent)
    assert paths.name(spelling) == path.name
    assert paths.suffix(spelling) == path.suffix
    assert paths.join(spelling, "cert9.db") == str(path / "cert9.db")
    if path.name:
        assert paths.with_suffix(spelling, ".rdb") == str(path.with_suffix(".rdb"))


def test_bytes_are_refused_as_pathlib_refuses_them() -> None:
    with pytest.raises(TypeError):
        Path(b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        paths.normal(b"x")  # type: ignore[arg-type]


def test_exists_and_kinds_as_pathlib(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    (tmp_path / "dir").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "file")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    names = ["file", "file/", "dir", "dir/", "link", "dangling", "loop", "missing", "file/x", "nul\0name", ""]
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        for name in names:
            for spelling in (name, str(tmp_path / name) if name else name):
                path = Path(spelling)
                assert paths.exists(spelling) == path.exists(), spelling
                assert paths.is_dir(spelling) == path.is_dir(), spelling
                assert paths.is_symlink(spelling) == path.is_symlink(), spelling
                assert paths.is_file(spelling) == path.is_file(), spelling
    finally:
        os.chdir(old)


def test_an_error_pathlib_raises_is_raised(tmp_path: Path) -> None:
    """pathlib answers False only for "no such path" (ENOENT, ENOTDIR, EBADF, ELOOP); any other error (here a name
    too long; EACCES for a folder we may not search) raises, and store_exists turns it into a clear error."""
    long = tmp_path / ("x" * 300)
    for check in (Path.exists, Path.is_dir, Path.is_file, Path.is_symlink):
        with pytest.raises(OSError, match="too long"):
            check(long)
    for ours in (paths.exists, paths.is_dir, paths.is_file, paths.is_symlink):
        with pytest.raises(OSError, match="too long"):
            ours(long)
