"""keystores.json_output.dumps writes what `json.dumps(data, indent=2, default=str)` writes (the CLI's --json output,
without importing json and its `re`): over generated data, json's own edge cases, and real `list --json` and
`show --json` output."""

from __future__ import annotations

import datetime as dt
import enum
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keystores.json_output import dumps


def _json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str)


class Colour(enum.StrEnum):
    RED = "red"


class Code(enum.IntEnum):
    THREE = 3


SCALARS = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
           | st.text() | st.sampled_from([Colour.RED, Code.THREE, dt.date(2030, 1, 30), b"\x00bytes", 1 + 2j]))
KEYS = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
DATA = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                    | st.dictionaries(KEYS, inner, max_size=4), max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(DATA)
def test_generated_data_is_written_as_json_writes_it(data: object) -> None:
    assert dumps(data) == _json(data)


@pytest.mark.parametrize("data", [
    {}, [], (), "", {"a": {}}, {"a": []}, [[], {}, [[]]], "\u202e\x00\ud800\U0001f600 \"quoted\" \\",
    math.nan, -math.inf, {math.inf: 1, -0.0: 2, 1e300: 3, True: 4, None: 5, 10**30: 6}, 10**40, -(10**40),
    {"schema": 1, "entries": [{"label": "web\tserver", "chain": [{"subject": "CN=é"}], "trust": None}]},
])
def test_edge_cases_are_written_as_json_writes_them(data: object) -> None:
    assert dumps(data) == _json(data)


def test_a_key_json_refuses_is_refused_alike() -> None:
    for data in ({(1, 2): "tuple key"}, {b"x": 1}):
        with pytest.raises(TypeError) as theirs:
            _json(data)
        with pytest.raises(TypeError) as ours:
            dumps(data)
        assert str(ours.value) == str(theirs.value)


def test_real_listings_are_written_as_json_writes_them(tmp_path) -> None:
    """`list --json` and `show --json` data of a PKCS#12 with a key pair and a trusted certificate."""
    from helpers import key_pair_entry, trusted_entry

    from keystores.ops.describe import store_data
    from keystores.store import open_store

    path = tmp_path / "s.p12"
    with open_store(path, password="json-pw", create=True) as store:
        store.add(key_pair_entry("web", index=1))
        store.add(trusted_entry("root", index=2))
    with open_store(path, password="json-pw") as store:
        entries = list(store.entries())
        for detail in (False, True):
            data = store_data(store, entries, detail=detail)
            assert dumps(data) == _json(data)
