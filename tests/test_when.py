"""keystores.pki.when.parse_duration reads durations without re (start-up speed: audit parses its default `30d` on
every run) exactly as the pattern it replaced, (?i)^\\s*(\\d+)\\s*([a-z]*)\\s*$ with re.match: the same window, or
the same error, for every text (hypothesis, and the corners: Unicode digits and spaces, letters that match [a-z]
only ignoring case, a trailing newline)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keystores.errors import UsageError
from keystores.pki.when import _DAYS, parse_duration

_PATTERN = r"(?i)^\s*(\d+)\s*([a-z]*)\s*$"


def _by_the_pattern(text: str) -> dt.timedelta | str:
    """What parse_duration answered when it matched _PATTERN (its code before this issue's change)."""
    match = re.match(_PATTERN, text)
    unit = match.group(2).lower() if match else ""
    if match and unit == "m":
        return (f"ambiguous duration '{text}': m could be minutes or months; write {match.group(1)}mo "
                f"(months of 30 days) or {match.group(1)}d")
    if not match or unit not in _DAYS:
        return f"bad duration '{text}': use days (30 or 30d), weeks (2w), months (3mo) or years (1y)"
    return dt.timedelta(days=int(match.group(1)) * _DAYS[unit])


def _answer(text: str) -> dt.timedelta | str:
    try:
        return parse_duration(text)
    except UsageError as exc:
        return exc.reason


CORNERS = ["30", "30d", " 30 d ", "30D", "2w", "3mo", "3MO", "1y", "10 years", "1m", "1M", " 5 m\n", "", " ", "d",
           "-1d", "+1d", "1.5d", "30d\n", "30d\n\n", "\u0663\u0660d", "\uff13d", "\u00b2d", "30\u00a0d", "30\u2003d",
           "\x1c30d\x1f", "30\u017f", "30\u212a", "30\u0130", "30\u0131", "30 d d", "30dd", "0d", "007w", "30da",
           "30 days\t", "1\u0660mo", "\u0966y"]


@pytest.mark.parametrize("text", CORNERS)
def test_a_duration_reads_as_the_pattern_read_it(text: str) -> None:
    assert _answer(text) == _by_the_pattern(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789 \t\ndDwWmMoOyYsSaAer\u0660\u00a0\u017f\u212a\u00b2x-")),
               max_size=10))
def test_any_text_reads_as_the_pattern_read_it(text: str) -> None:
    assert _answer(text) == _by_the_pattern(text)
