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
from test_store_lean import _as_user, installed, stores  # noqa: F401 - fixtures

from keystores.errors import UsageError
from keystores.pki.when import _DAYS, iso_utc, iso_utc_seconds, parse_duration, posix_seconds

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


def _when_by_the_patterns(text: str) -> dt.datetime | str:
    """What parse_when answered when it matched its patterns with re (its code before this issue's change)."""
    from keystores.pki.when import _GENERALIZED, _UTCTIME

    value = text.strip()
    try:
        match = re.match(_GENERALIZED, value)
        if match:
            year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
        match = re.match(_UTCTIME, value)
        if match:
            yy, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
            year = 1900 + yy if yy >= 50 else 2000 + yy
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return f"bad time '{text}': use ISO 8601 (2030-01-30T16:46:00Z) or 20300130164600Z"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _when(text: str) -> dt.datetime | str:
    from keystores.pki.when import parse_when

    try:
        return parse_when(text)
    except UsageError as exc:
        return exc.reason


TIMES = ["20300130164600Z", "203001301646Z", "300130164600Z", "3001301646Z", "500130164600Z", "490130164600Z",
         " 20300130164600Z\n", "20300130164600Z\n", "20300130164600z", "20300130164600", "2030013016460Z",
         "203001301646000Z", "20301330164600Z", "20300230164600Z", "20300130246000Z", "\u0662\u0660\u0663\u0660"
         "0130164600Z", "\uff12030013016460\uff10Z", "\u00b2030013016460Z", "2030-01-30", "2030-01-30T16:46:00+01:00",
         "2030-01-30T16:46:00z", "2030-01-30 16:46", "", "Z", "12345678Z", "1234567890Z", "123456789012Z",
         "+030013016460Z", "-30013016460Z", "3001301646 Z", "30 01301646Z", "0000013016460Z", "00000130164600Z"]


@pytest.mark.parametrize("text", TIMES)
def test_a_time_reads_as_the_patterns_read_it(text: str) -> None:
    assert _when(text) == _when_by_the_patterns(text)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789012345Zz \n-+:T\u0660\u0662\uff10\u00b2x")), max_size=17))
def test_any_time_reads_as_the_patterns_read_it(text: str) -> None:
    assert _when(text) == _when_by_the_patterns(text)


def test_validate_at_a_time_loads_no_re(installed: str, stores: dict[str, str]) -> None:  # noqa: F811
    """parse_when reads openssl's times without re: `validate --at` loads none (a user's install)."""
    for at in ("20260601120000Z", "2026-06-01T12:00:00Z"):  # within the certificates' year
        modules, _ = _as_user(installed, ["validate", stores["s.kdb"], "server", "--at", at])
        assert "keystores.pki.when" in modules and "re" not in modules, at


def _by_datetime(fields: tuple[int, ...]) -> int | None:
    try:
        return int(dt.datetime(*fields, tzinfo=dt.UTC).timestamp())
    except ValueError:
        return None


_FIELDS = st.tuples(st.integers(-1, 10_001), st.integers(-1, 13), st.integers(-1, 32), st.integers(-1, 25),
                    st.integers(-1, 61), st.integers(-1, 61))


@settings(max_examples=5000)
@given(_FIELDS)
def test_posix_seconds_are_datetimes_and_refuse_what_it_refuses(fields: tuple[int, ...]) -> None:
    """posix_seconds (sign and receive compare certificate times with the clock without datetime) gives the
    timestamp datetime gives, and None for every time datetime refuses."""
    assert posix_seconds(*fields) == _by_datetime(fields)


@pytest.mark.parametrize("fields", [(1, 1, 1, 0, 0, 0), (9999, 12, 31, 23, 59, 59), (1970, 1, 1, 0, 0, 0),
                                    (2000, 2, 29, 12, 0, 0), (1900, 2, 29, 0, 0, 0), (2100, 2, 29, 0, 0, 0),
                                    (2400, 2, 29, 0, 0, 0), (2049, 12, 31, 23, 59, 59), (2050, 1, 1, 0, 0, 0),
                                    (2026, 4, 31, 0, 0, 0), (2026, 6, 30, 24, 0, 0), (0, 1, 1, 0, 0, 0)])
def test_posix_seconds_at_the_corners(fields: tuple[int, ...]) -> None:
    assert posix_seconds(*fields) == _by_datetime(fields)
    if _by_datetime(fields) is not None:
        assert iso_utc_seconds(posix_seconds(*fields)) == iso_utc(dt.datetime(*fields, tzinfo=dt.UTC))
