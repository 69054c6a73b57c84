"""Bounded fuzz of the .kdb and .sth parsers: damaged input gives a KeystoreError, never another exception.

Raw damage mostly stops at the password or integrity check, so the deep runs damage the records and then
recompute the checks (as a buggy or hostile writer would), which drives the slot, DER, certificate and key
parsers. The short runs go in every test run; the long ones only with --long.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from helpers import key_pair_entry, name, rsa_key, trusted_entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keystores.backends.cms import CmsStore
from keystores.backends.cms import container as fmt
from keystores.backends.cms import stash as cms_stash
from keystores.backends.cms import write as cms_write
from keystores.errors import KeystoreError
from keystores.model import Entry, EntryKind

PASSWORD = "fuzz-pass"
SHORT = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def seeds() -> dict[str, bytes]:
    """Valid databases of each version (signer, RSA and EC key pairs, default flag) and a request database."""
    made: dict[str, bytes] = {}
    entries = [trusted_entry("root ca"), key_pair_entry("rsa", index=1, default=True),
               key_pair_entry("ec", index=2, use_ec=True)]
    for version in (3, 4, 6):
        store = CmsStore("/nonexistent/fuzz.kdb", password=PASSWORD, writable=False, create=True,
                         cms_version=version)
        store.writable = True
        for entry in entries:
            store.add(entry)
        kdb_slots, _ = cms_write._plan(store)
        assert store._kdb is not None
        store._kdb.slots = cms_write._fit(store._kdb, kdb_slots)
        made[f"v{version}"] = fmt.build_container(store._kdb, PASSWORD)
    key = rsa_key(3)
    csr = x509.CertificateSigningRequestBuilder().subject_name(name("fuzz request")).sign(key, hashes.SHA256())
    store = CmsStore("/nonexistent/req.kdb", password=PASSWORD, writable=False, create=True, cms_version=4)
    store.writable = True
    store.add(Entry(label="fuzz request", kind=EntryKind.REQUEST, request=csr, key=key))
    _, rdb_slots = cms_write._plan(store)
    assert store._rdb is not None
    store._rdb.slots = cms_write._fit(store._rdb, rdb_slots)
    # A .rdb's records parse like a .kdb's: give them a .kdb header so the store reads them as its own.
    made["requests"] = fmt.build_container(
        fmt.Container(4, 2, fmt.TAG_KDB, store._rdb.slot_size, store._rdb.salt, store._rdb.slots), PASSWORD)
    return made


def parse(data: bytes) -> None:
    """Parse as the store does on open, from bytes (the path does not exist, so no companion is read)."""
    store = CmsStore("/nonexistent/fuzz.kdb", password=PASSWORD, writable=False, create=True)
    store._records, store._entries = [], {}
    store._load(data)
    for entry in store.entries():
        assert entry.label and (entry.chain or entry.request is not None or entry.secret is not None)
    store.protection()


def remac(data: bytes) -> bytes:
    """`data` with its password and integrity checks recomputed (v4/v6 hash all bytes after the header)."""
    version = data[2]
    size = fmt.CHECK_SIZE.get(version)
    if size is None or len(data) < 0x30:
        return data
    pw = PASSWORD.encode()
    digest = "sha1" if version == 4 else "sha384" if version == 6 else None
    if digest is None:
        return data
    start = 0x30 + 2 * size
    check = hmac.new(pw, data[:0x30], digest).digest()
    head = data[:0x30] + check
    integrity = hmac.new(pw, head + data[start:], digest).digest()
    return head + integrity + data[start:]


def _expect_clean(data: bytes) -> None:
    with contextlib.suppress(KeystoreError):
        parse(data)


mutation = st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255),
                     st.sampled_from(["flip", "set", "cut", "insert", "delete"]))


def _mutate(data: bytes, steps: list[tuple[int, int, str]], floor: int = 0) -> bytes:
    out = bytearray(data)
    for where, value, how in steps:
        if len(out) <= floor:
            break
        pos = floor + where % (len(out) - floor)
        if how == "flip":
            out[pos] ^= 1 << (value % 8)
        elif how == "set":
            out[pos] = value
        elif how == "cut":
            del out[pos:]
        elif how == "insert":
            out[pos:pos] = bytes([value]) * (value % 9 + 1)
        else:
            del out[pos:pos + value % 16 + 1]
    return bytes(out)


def _run_raw(seed: str, steps):
    _expect_clean(_mutate(seeds()[seed], steps))


def _run_deep(seed: str, steps):
    data = seeds()[seed]
    # Damage the records (and sometimes the header fields) but keep the checks right, so the parsers run.
    damaged = _mutate(data, steps, floor=0x10 if steps and steps[0][1] % 4 == 0 else 0x90)
    _expect_clean(remac(damaged))


SEEDS = st.sampled_from(["v3", "v4", "v6", "requests"])
DEEP_SEEDS = st.sampled_from(["v4", "v6", "requests"])


@SHORT
@given(SEEDS, st.lists(mutation, min_size=1, max_size=4))
def test_raw_damage_gives_keystore_errors(seed, steps):
    _run_raw(seed, steps)


@SHORT
@given(DEEP_SEEDS, st.lists(mutation, min_size=1, max_size=3))
def test_record_damage_behind_valid_checks_gives_keystore_errors(seed, steps):
    _run_deep(seed, steps)


@SHORT
@given(st.binary(min_size=0, max_size=300))
def test_random_bytes(data):
    _expect_clean(data)
    _expect_clean(remac(b"\x37\x48\x04\x02\0\0\0\0X509KEY\0" + data))


@SHORT
@given(st.sampled_from([1, 8]), st.lists(mutation, min_size=1, max_size=3))
def test_stash_damage(version, steps):
    damaged = _mutate(cms_stash.encode("fuzz password", version=version), steps)
    with contextlib.suppress(KeystoreError):
        assert isinstance(cms_stash.decode(damaged), str)


@SHORT
@given(st.sampled_from([129, 193]).flatmap(lambda n: st.binary(min_size=n, max_size=n)))
def test_stash_random(data):
    with contextlib.suppress(KeystoreError):
        cms_stash.decode(data)


def test_seeds_parse_and_checks_hold():
    for data in seeds().values():
        parse(data)
        if data[2] in (4, 6):
            assert remac(data) == data
    assert hashlib.sha256(seeds()["v4"]).digest() != hashlib.sha256(seeds()["v6"]).digest()


@pytest.mark.slow
@LONG
@given(SEEDS, st.lists(mutation, min_size=1, max_size=6))
def test_raw_damage_long(seed, steps):
    _run_raw(seed, steps)


@pytest.mark.slow
@LONG
@given(DEEP_SEEDS, st.lists(mutation, min_size=1, max_size=5))
def test_record_damage_long(seed, steps):
    _run_deep(seed, steps)


@pytest.mark.parametrize("where", [2015012, 2015013])
def test_a_certificate_whose_signature_does_not_parse_issues_nothing(where):
    """Found by the test above: a damaged certificate behind valid checks (its signature algorithm or value no longer
    parses, which a RawCertificate reads lazily) raised ValueError from chain building when the database was opened;
    it now proves no signature, as a damaged EncodedCertificate does (keystores.pki.chain.signature_valid)."""
    _run_deep("v4", [(where, 0, "flip")])
