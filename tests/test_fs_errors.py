"""File-system trouble: disk full, read-only folder, missing permissions, symlinked stores.

Each failing command must end with one clear `keystores: error:` line and exit 1, leave the store's bytes exactly
as they were and leave no temporary file; a store reached through a symlink is written through it and the link
stays a link. Disk full uses a tiny tmpfs when we may mount one (root), and RLIMIT_FSIZE otherwise; the
permission cases run the command as `nobody` (setpriv) and skip when we cannot switch users.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from clirun import Result
from hardening import (
    FILE_FORMATS,
    PASSWORD,
    base_entries,
    bulk_entries,
    files_of,
    labels_of,
    location,
    make_store,
    snapshot,
    temp_files,
    usable,
)

from keystores import formats
from keystores.fileio import TEMP_PREFIX

ENV = {"KS_PW": PASSWORD, "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def sources() -> Iterator[dict[int, str]]:
    folder = Path(tempfile.mkdtemp(prefix="ks-fs-src-"))
    os.chmod(folder, 0o755)  # the `nobody` runs read them too (pytest's tmp_path is 0700)
    made = {}
    for count in (150, 12):
        path = folder / f"bulk{count}.p12"
        make_store("pkcs12", str(path), bulk_entries(count))
        os.chmod(path, 0o644)
        made[count] = str(path)
    yield made
    shutil.rmtree(folder)


@pytest.fixture
def bulk_source(sources, request) -> str:
    """150 certificates to import; 12 for NSS, which writes (and MACs) row by row and is slow per entry."""
    fmt = request.node.callspec.params.get("fmt")
    return sources[12 if fmt == "nss" else 150]


def run(*args: str, preexec=None, user: str | None = None) -> Result:
    argv = [sys.executable, "-m", "keystores", *args]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user_group(user)}", "--clear-groups", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **ENV}, preexec_fn=preexec,
                          timeout=240, check=False)
    return Result(done.returncode, done.stdout, done.stderr)


def user_group(user: str) -> str:
    import grp
    import pwd

    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def import_into(dest: str, src: str, **kw) -> Result:
    return run("import", src, dest, "-p", "env:KS_PW", "--dest-password", "env:KS_PW", **kw)


def assert_clean_failure(result: Result, *needles: str) -> None:
    assert result.code == 1, (result.code, result.err)
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("keystores: error: "), result.err
    assert "Traceback" not in result.all and "internal error" not in result.err
    if needles:
        assert any(n in lines[0].lower() for n in needles), lines[0]


@contextlib.contextmanager
def tiny_tmpfs(size: str = "512k") -> Iterator[Path]:
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root")
    point = Path(tempfile.mkdtemp(prefix="ks-full-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)
        point.rmdir()


def _fill(folder: Path, leave: int) -> None:
    """Fill the file system holding `folder` up to `leave` free bytes."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / "filler", "wb") as handle, contextlib.suppress(OSError):
        handle.write(b"\0" * max(free - leave, 0))


@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_disk_full_on_a_tiny_tmpfs(fmt, bulk_source):
    usable(fmt)
    with tiny_tmpfs() as mount:
        dest = location(fmt, mount)
        make_store(fmt, dest, base_entries())
        # what the store lists, as its format lists it (a key pair's CA may be an entry of its own, or not)
        labels = labels_of(dest)
        assert {"old-key", "old-anchor"} <= labels
        _fill(mount, leave=4096)
        before = snapshot(dest)
        result = import_into(dest, bulk_source)
        assert_clean_failure(result, "disk full", "full")
        assert snapshot(dest) == before
        assert temp_files(mount) == []
        assert labels_of(dest) == labels


def _file_size_limit(limit: int):
    def apply() -> None:  # in the child: a write past `limit` fails with EFBIG instead of killing it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_file_size_limit_refuses_cleanly(fmt, bulk_source, tmp_path):
    """Where no tmpfs can be mounted, RLIMIT_FSIZE gives the same "the write cannot complete" condition."""
    usable(fmt)
    dest = location(fmt, tmp_path)
    make_store(fmt, dest, base_entries())
    before = snapshot(dest)
    limit = max(len(b) for b in before.values()) + 2048
    result = import_into(dest, bulk_source, preexec=_file_size_limit(limit))
    assert_clean_failure(result)
    assert snapshot(dest) == before
    assert temp_files(tmp_path) == []


@contextlib.contextmanager
def read_only_view(folder: Path) -> Iterator[Path]:
    """`folder` bind-mounted read-only elsewhere (root only)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    view = Path(tempfile.mkdtemp(prefix="ks-ro-"))
    steps = [["mount", "--bind", str(folder), str(view)], ["mount", "-o", "remount,ro,bind", str(view)]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, check=False)
        if done.returncode != 0:
            subprocess.run(["umount", "-l", str(view)], check=False)
            view.rmdir()
            pytest.skip(f"cannot make a read-only bind mount: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)
        view.rmdir()


@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_read_only_folder(fmt, bulk_source, tmp_path):
    usable(fmt)
    make_store(fmt, location(fmt, tmp_path), base_entries())
    with read_only_view(tmp_path) as view:
        dest = location(fmt, view)
        before = snapshot(dest)
        assert run("list", dest, "-p", "env:KS_PW").code == 0  # reading still works
        result = import_into(dest, bulk_source)
        assert_clean_failure(result, "read-only", "readonly")
        assert snapshot(dest) == before
        # The error names the user's store, never a temporary file of ours.
        assert TEMP_PREFIX not in result.err and Path(dest.removeprefix("sql:")).name in result.err, result.err


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder `nobody` can reach (pytest's tmp_path is 0700 root)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("running as another user needs root and setpriv")
    folder = Path(tempfile.mkdtemp(prefix="ks-perm-"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_no_permission_to_read_or_write(fmt, bulk_source, shared_folder):
    usable(fmt)
    dest = location(fmt, shared_folder)
    make_store(fmt, dest, base_entries())
    for path in files_of(dest):
        os.chmod(path, 0o600)  # root's, unreadable by nobody
    before = snapshot(dest)
    listed = run("list", dest, "-p", "env:KS_PW", user="nobody")
    assert_clean_failure(listed, "permission denied", "unable to open", "cannot")
    for path in files_of(dest):
        os.chmod(path, 0o666)  # now the files may be written, but not the root-owned folder beside them
    written = import_into(dest, bulk_source, user="nobody")
    assert_clean_failure(written, "permission denied", "readonly", "read-only", "cannot")
    assert snapshot(dest) == before
    assert temp_files(shared_folder) == []


@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_symlinked_store_is_written_through_and_stays_a_link(fmt, bulk_source, tmp_path):
    usable(fmt)
    real = tmp_path / "real"
    real.mkdir()
    make_store(fmt, location(fmt, real), base_entries())
    links = tmp_path / "links"
    links.mkdir()
    real_loc = location(fmt, real)
    link_loc = location(fmt, links)
    record = formats.get(fmt)
    if record.storage is formats.Storage.FOLDER:  # the database folder is the link
        record.folder_of(link_loc).symlink_to(record.folder_of(real_loc))
    elif record.companions:  # GSKit finds a .kdb's companions by name: link each
        for path in files_of(real_loc):
            (links / path.name).symlink_to(path)
    else:
        Path(link_loc).symlink_to(Path(real_loc))
    linked = [p for p in links.iterdir() if p.is_symlink()]
    result = import_into(link_loc, bulk_source)
    assert result.code == 0, result.err
    assert all(p.is_symlink() for p in linked)
    assert len(labels_of(real_loc)) >= 14  # written through to the real store
    assert labels_of(link_loc) == labels_of(real_loc)
    assert temp_files(tmp_path) == []


def test_store_in_a_folder_the_user_cannot_enter(shared_folder):
    hidden = shared_folder / "private"
    hidden.mkdir(mode=0o700)
    make_store("pkcs12", str(hidden / "s.p12"), base_entries())
    result = run("list", str(hidden / "s.p12"), "-p", "env:KS_PW", user="nobody")
    assert_clean_failure(result, "permission denied")


@pytest.mark.parametrize("command", ["list", "show", "convert-into", "export-to", "import-into", "create"])
def test_a_file_name_longer_than_the_file_system_allows_is_one_line_naming_it(command, tmp_path):
    """A name over NAME_MAX (255 bytes here) fails the first stat with ENAMETOOLONG: as any unusable path, one
    line naming the file and exit 1, nothing written; it was "internal error: OSError ... File name too long"."""
    source = tmp_path / "s.p12"
    make_store("pkcs12", str(source), base_entries())
    long = str(tmp_path / ("n" * 300 + {"export-to": ".pem", "import-into": ".jks"}.get(command, ".p12")))
    argv = {"list": ("list", long, "-p", "env:KS_PW"),
            "show": ("show", long, "old-key", "-p", "env:KS_PW"),
            "convert-into": ("convert", str(source), long, "-p", "env:KS_PW", "--dest-password", "env:KS_PW"),
            "export-to": ("export", str(source), "old-key", "-o", long, "-p", "env:KS_PW"),
            "import-into": ("import", str(source), long, "-p", "env:KS_PW", "--dest-password", "env:KS_PW"),
            "create": ("create", long, "--password", "env:KS_PW")}[command]
    before = sorted(os.listdir(tmp_path))
    result = run(*argv)
    assert_clean_failure(result, "file name too long")
    assert f"keystores: error: {long}: file name too long" in result.err
    assert sorted(os.listdir(tmp_path)) == before
