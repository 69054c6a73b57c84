"""Hostile input through `open_store` for every file parser: PKCS#12, JKS, JCEKS, BKS, BCFKS, PEM/DER, CMS .kdb and
.sth, and NSS (the database files and the contents of their rows).

Seeds are real stores we wrote; hypothesis damages them (bit flips, truncation, inserted and random bytes, huge
length fields, deep nesting). Opening, listing and describing (what `keystores list/show` do) must succeed or raise
a KeystoreError with a message, never another exception, within a memory cap and a generous hang guard.
Short in CI; `pytest --long tests/test_fuzz_all.py` runs thousands of random examples per format
(KEYSTORES_FUZZ_EXAMPLES=N sets the count, e.g. with `-k nss` for one parser).
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import sqlite3
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
from hardening import FILE_FORMATS, PASSWORD, base_entries, bulk_entries, location, make_store, usable
from helpers import key_pair_entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keystores import formats
from keystores.errors import KeystoreError

# examples per parser in CI: 30 unless one is slow per example (a format not named here gets 30)
SHORT = {"bcfks": 20, "pem": 20, "cms-stash": 20, "nss-file": 6, "nss-row": 6}
# every single-file format we write (from the format records): its file is damaged as a whole
DAMAGEABLE_FILES = [record.name for record in formats.file_formats() if record.storage is formats.Storage.FILE]
LONG_EXAMPLES = 3000
HANG_GUARD_S = 30  # not a speed goal: only a parser stuck in a loop trips it
MEMORY_HEADROOM = 1 << 30  # bytes of address space a single parse may add before it counts as unbounded


class ParserHung(Exception):
    """A parse ran past the hang guard."""


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """Cap address space growth and wall time for one parse; a breach surfaces as MemoryError/ParserHung."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as handle:
        current = int(handle.read().split()[0]) * resource.getpagesize()
    cap = current + MEMORY_HEADROOM
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)

    def hung(signum: int, frame: object) -> None:
        raise ParserHung(f"parse took over {HANG_GUARD_S}s")

    previous = signal.signal(signal.SIGALRM, hung)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    signal.alarm(HANG_GUARD_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def open_and_describe(loc: str, *, password: str | None = PASSWORD) -> None:
    """What `keystores show --json` does with a store: open, read every entry, render the schema."""
    from keystores.ops.describe import store_data
    from keystores.store import open_store

    with open_store(loc, password=password) as store:
        entries = list(store.entries())
        store_data(store, entries, detail=True)
        for entry in entries:  # the keys too: a damaged key must fail on open, not later on use
            if entry.key is not None and hasattr(entry.key, "private_bytes"):
                entry.key.public_key()


def judge(loc: str, *, password: str | None = PASSWORD) -> None:
    """The contract: success, or a KeystoreError with a one-line message. Anything else fails the test."""
    try:
        with bounded():
            open_and_describe(loc, password=password)
    except KeystoreError as exc:
        message = str(exc)
        assert message.strip() and "\n" not in message, repr(message)
        assert PASSWORD not in message


# --- seeds: real stores we wrote -------------------------------------------------------------------------------
SEED_ENTRIES = 3


@cache
def seed_folder(fmt: str, root: str) -> Path:
    folder = Path(root) / f"seed-{fmt}"
    folder.mkdir()
    entries = base_entries() + bulk_entries(SEED_ENTRIES, "seed") + [key_pair_entry("rsa-key", index=8)]
    if fmt == "nss":  # NSS runs a PBKDF per MAC'd attribute on open: keep its seed small so examples stay cheap
        entries = base_entries()
    make_store(fmt, location(fmt, folder), entries)
    return folder


@pytest.fixture(scope="module")
def seed_root(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("fuzz-seeds"))


# --- mutations -------------------------------------------------------------------------------------------------
HUGE = [b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x84\x7f\xff\xff\xff", b"\x88" + b"\xff" * 8, b"\x80",
        b"\x00\x00\x00\x00", b"\x83\xff\xff\xff"]


def deep_der(depth: int) -> bytes:
    """A SEQUENCE nested `depth` deep (definite lengths): a stack-depth attack on any recursive DER parser."""
    core = b"\x05\x00"
    heads = []
    length = len(core)
    for _ in range(depth):  # inside out, joined once: building it by concatenation would be quadratic
        head = _der_head(0x30, length)
        heads.append(head)
        length += len(head)
    return b"".join(reversed(heads)) + core


def _der_head(tag: int, length: int) -> bytes:
    if length < 0x80:
        return bytes([tag, length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` damaged by one to four mutations, or replaced by random bytes or deep nesting."""
    kind = draw(st.sampled_from(["edit", "edit", "edit", "random", "deep"]))
    if kind == "random":
        return draw(st.binary(min_size=0, max_size=2048))
    if kind == "deep":
        cut = draw(st.integers(0, len(seed)))
        return seed[:cut] + deep_der(draw(st.sampled_from([64, 1000, 5000]))) + seed[cut:]
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        op = draw(st.sampled_from(["flip", "truncate", "insert", "huge", "zero-run"]))
        pos = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == "huge":
            value = draw(st.sampled_from(HUGE))
            data[pos : pos + len(value)] = value
        else:
            data[pos : pos + draw(st.integers(1, 64))] = bytes(draw(st.integers(1, 64)))
    return bytes(data)


def examples(request: pytest.FixtureRequest, name: str) -> settings:
    """Few derandomized examples in CI; LONG_EXAMPLES random ones with --long ($KEYSTORES_FUZZ_EXAMPLES overrides)."""
    count = LONG_EXAMPLES if request.config.getoption("--long") else SHORT.get(name, 30)
    count = int(os.environ.get("KEYSTORES_FUZZ_EXAMPLES", count))
    return settings(max_examples=count, deadline=None, derandomize=not request.config.getoption("--long"),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


# --- the tests -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", DAMAGEABLE_FILES)
def test_damaged_store_file(fmt, seed_root, tmp_path, request):
    usable(fmt)
    seed_loc = location(fmt, seed_folder(fmt, seed_root))
    seed = Path(seed_loc).read_bytes()
    judge(seed_loc)  # the seed itself opens

    @examples(request, fmt)
    @given(data=mutated(seed))
    def run(data: bytes) -> None:
        target = Path(location(fmt, tmp_path))
        for companion in target.parent.glob("store.*"):
            companion.unlink()
        if formats.get(fmt).companions:  # a .kdb's .rdb/.crl stay as written; only the store file is damaged
            for companion in Path(seed_loc).parent.glob("store.*"):
                shutil.copy(companion, target.parent / companion.name)
        target.write_bytes(data)
        judge(str(target))

    run()


def test_damaged_cms_stash(seed_root, tmp_path, request):
    """The .sth is read when no password is given: a damaged stash is a KeystoreError too."""
    usable("cms")
    seed_loc = Path(location("cms", seed_folder("cms", seed_root)))
    from keystores.store import open_store

    for companion in seed_loc.parent.glob("store.*"):
        shutil.copy(companion, tmp_path / companion.name)
    with open_store(str(tmp_path / "stashed.kdb"), password=PASSWORD, create=True, stash=True) as store:
        for entry in base_entries():
            store.add(entry)
    for made in tmp_path.glob("stashed.*"):
        made.rename(tmp_path / f"store{made.suffix}")
    seed = (tmp_path / "store.sth").read_bytes()
    judge(str(tmp_path / "store.kdb"), password=None)

    @examples(request, "cms-stash")
    @given(data=mutated(seed))
    def run(data: bytes) -> None:
        (tmp_path / "store.sth").write_bytes(data)
        judge(str(tmp_path / "store.kdb"), password=None)

    run()


def _nss_copy(seed: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(seed, target)


@pytest.mark.parametrize("db_name", ["cert9.db", "key4.db"])
def test_damaged_nss_database_file(db_name, seed_root, tmp_path, request):
    usable("nss")
    seed_dir = Path(location("nss", seed_folder("nss", seed_root))[4:])
    seed = (seed_dir / db_name).read_bytes()
    target = tmp_path / "nssdb"

    @examples(request, "nss-file")
    @given(data=mutated(seed))
    def run(data: bytes) -> None:
        _nss_copy(seed_dir, target)
        (target / db_name).write_bytes(data)
        judge(f"sql:{target}")

    run()


def _row_cells(db: Path, table: str) -> list[tuple[int, str]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        columns = [r[1] for r in conn.execute(f"PRAGMA table_info({table})") if r[1] != "id"]
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {table}")]
        cells = []
        for object_id in ids:
            row = conn.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id=?", (object_id,)).fetchone()
            cells += [(object_id, col) for col, value in zip(columns, row, strict=True) if value is not None]
        return cells


@pytest.mark.parametrize(("db_name", "table"), [("cert9.db", "nssPublic"), ("key4.db", "nssPrivate")])
def test_damaged_nss_row_contents(db_name, table, seed_root, tmp_path, request):
    """Valid SQLite, hostile values: every attribute cell of every object is a target."""
    usable("nss")
    seed_dir = Path(location("nss", seed_folder("nss", seed_root))[4:])
    cells = _row_cells(seed_dir / db_name, table)
    target = tmp_path / "nssdb"
    with contextlib.closing(sqlite3.connect(seed_dir / db_name)) as conn:
        values = {(i, c): conn.execute(f"SELECT {c} FROM {table} WHERE id=?", (i,)).fetchone()[0] for i, c in cells}

    @examples(request, "nss-row")
    @given(cell=st.sampled_from(cells), data=st.data())
    def run(cell: tuple[int, str], data: st.DataObject) -> None:
        original = values[cell]
        seed = original if isinstance(original, bytes) else str(original).encode()
        replacement = data.draw(mutated(seed))
        _nss_copy(seed_dir, target)
        with contextlib.closing(sqlite3.connect(target / db_name)) as conn:
            conn.execute(f"UPDATE {table} SET {cell[1]}=? WHERE id=?", (replacement, cell[0]))
            conn.commit()
        judge(f"sql:{target}")

    run()


def test_deep_nesting_alone_is_refused_cleanly(tmp_path):
    """100,000 nested SEQUENCEs (a few hundred KiB), bare and inside a PFX header, end as a KeystoreError."""
    deep = deep_der(100_000)
    pfx_body = b"\x02\x01\x03" + deep
    for name, data in (("deep.der", deep), ("deep.p12", _der_head(0x30, len(pfx_body)) + pfx_body),
                       ("deep.jks", b"\xfe\xed\xfe\xed\x00\x00\x00\x02\x00\x00\x00\x01" + deep)):
        path = tmp_path / name
        path.write_bytes(data)
        judge(str(path))


# --- hostile content behind a valid MAC ------------------------------------------------------------------------
# Integrity checks stop random damage early, but a hostile store can carry a valid MAC: whoever made it chose the
# password. cryptography decodes a certificate's key, names and extensions lazily, so a certificate that "loads"
# can still blow up later in `list`; every backend must refuse it on open instead.
def _hostile_certificates() -> dict[str, bytes]:
    from cryptography.hazmat.primitives.serialization import Encoding

    good = bulk_entries(1, "hostile")[0].chain[0].public_bytes(Encoding.DER)
    point = good.index(b"\x03\x42\x00\x04")  # the EC public key BIT STRING: 0x04 = uncompressed point
    name = good.index(b"hostile trust anchor 0")
    return {
        "bad-ec-point": good[: point + 3] + b"\x05" + good[point + 4 :],
        "point-off-curve": good[: point + 4] + bytes(64) + good[point + 68 :],
        "bad-utf8-name": good[:name] + b"\xff\xfe" + good[name + 2 :],
    }


@pytest.mark.parametrize("case", ["bad-ec-point", "point-off-curve", "bad-utf8-name"])
@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_hostile_certificate_behind_a_valid_mac(fmt, case, tmp_path):
    """A writer may refuse the certificate (KeystoreError) or write it; then reading must refuse it cleanly."""
    usable(fmt)
    from cryptography import x509

    from keystores.model import TRUST_ALL, Entry, EntryKind

    der = _hostile_certificates()[case]
    cert = x509.load_der_x509_certificate(der)  # lazy: succeeds although a part is damaged
    loc = location(fmt, tmp_path)
    try:
        make_store(fmt, loc, [Entry(label="hostile", kind=EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL)])
    except KeystoreError:
        return  # the writer refused it: fine, nothing hostile on disk
    judge(loc)


@pytest.mark.parametrize("case", ["bad-ec-point", "bad-utf8-name"])
def test_hostile_certificate_in_an_nss_database(case, tmp_path):
    """NSS does not MAC certificate objects: anyone can put any bytes in cert9.db's CKA_VALUE (column a11)."""
    usable("nss")
    loc = location("nss", tmp_path)
    make_store("nss", loc, bulk_entries(1, "hostile"))
    with contextlib.closing(sqlite3.connect(tmp_path / "nssdb" / "cert9.db")) as conn:
        changed = conn.execute("UPDATE nssPublic SET a11=? WHERE a0=?",
                               (_hostile_certificates()[case], bytes.fromhex("00000001"))).rowcount
        conn.commit()
    assert changed == 1  # CKO_CERTIFICATE rows: exactly the one certificate
    judge(loc)
