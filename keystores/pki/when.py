"""Points in time and durations as users type them: ISO 8601, openssl's 20300130164600Z, `30d`."""

from __future__ import annotations

from keystores.errors import Hint, UsageError, parameter

# datetime's classes are taken where used, from keystores.lightweight.dates (not the datetime module): certreq's
# placeholder certificate takes its validity as POSIX seconds (build_validity) and loads none (start-up speed,
# bench/bench_core.py "start-up: keystores certreq")
TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt

# The patterns openssl's times match (_zulu_time reads them without re: validate --at, start-up; tests/test_when.py
# holds it to them).
_GENERALIZED = r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$"
_UTCTIME = r"^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$"
# Expiry windows are counted in days, as `openssl x509 -checkend` users convert them: a bare number is days. A
# month is 30 days and a year 365. `m` is refused: minutes or months, and a cron job that meant 1 month and got
# 1 minute reports nothing for a month.
_DAYS = {"": 1, "d": 1, "day": 1, "days": 1, "w": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "months": 30,
         "y": 365, "year": 365, "years": 365}
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def parse_when(text: str) -> dt.datetime:
    """An aware UTC datetime from ISO 8601 (`2030-01-30`, `2030-01-30T16:46:00+01:00`; no zone means UTC) or
    openssl's GeneralizedTime/UTCTime (`20300130164600Z`, `300130164600Z`)."""
    from keystores.lightweight import dates

    dt = dates()

    value = text.strip()
    try:
        fields = _zulu_time(value, 4)
        if fields:
            year, month, day, hour, minute, second = fields
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
        fields = _zulu_time(value, 2)
        if fields:
            yy, month, day, hour, minute, second = fields
            year = 1900 + yy if yy >= 50 else 2000 + yy  # RFC 5280's UTCTime window
            return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError as exc:
        raise UsageError(f"bad time '{text}': use ISO 8601 (2030-01-30T16:46:00Z) or 20300130164600Z") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _zulu_time(value: str, year_digits: int) -> list[int] | None:
    """The numbers _GENERALIZED (4 year digits) or _UTCTIME (2) matches in `value` (seconds 0 where left out), or
    None where it does not match: digits (any Unicode decimal digit, as \\d), then Z. Without re (start-up)."""
    body = value[:-1]
    if not value.endswith("Z") or len(body) not in (year_digits + 8, year_digits + 10) or not body.isdecimal():
        return None
    numbers = [int(body[:year_digits])]
    numbers += [int(body[start:start + 2]) for start in range(year_digits, len(body), 2)]
    return numbers + [0] * (6 - len(numbers))


def parse_duration(text: str) -> dt.timedelta:
    """`30d`, `2w`, `3months`, `1y`, or a bare number of days; an ambiguous unit (`m`) is refused."""
    from keystores.lightweight import dates

    dt = dates()

    count, unit = _duration_parts(text)
    if count is not None and unit.lower() == "m":
        raise UsageError(f"ambiguous duration '{text}': m could be minutes or months; write {count}mo "
                         f"(months of 30 days) or {count}d")
    if count is None or unit.lower() not in _DAYS:
        raise UsageError(f"bad duration '{text}': use days (30 or 30d), weeks (2w), months (3mo) or years (1y)")
    return dt.timedelta(days=int(count) * _DAYS[unit.lower()])


def _duration_parts(text: str) -> tuple[str | None, str]:
    """(the digits, the unit as written) of a duration, as the pattern (?i)^\\s*(\\d+)\\s*([a-z]*)\\s*$ reads them,
    or (None, "") where it does not match; without re (start-up speed: audit's default window `30d` is parsed on
    every run). tests/test_when.py holds it to that pattern."""
    body = text.strip()
    digits = 0
    while digits < len(body) and body[digits].isdecimal():
        digits += 1
    unit = body[digits:].lstrip()
    if not digits or not all(character in _LETTERS for character in unit):
        return None, ""
    return body[:digits], unit


def iso_utc(value: dt.datetime) -> str:
    """A point in time as every output of keystores writes it: UTC to the second, `2030-01-30T16:46:00Z`."""
    from keystores.lightweight import dates  # datetime's classes, loaded already: `value` is one

    dt = dates()

    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def validity(*, days: int | None, not_after: dt.datetime | str | None, now: dt.datetime | None = None,
             default_days: int = 365) -> tuple[dt.datetime, dt.datetime]:
    """(not_before, not_after) from `days` or `not_after` (CLI `--days N` or `--not-after WHEN`; not both)."""
    from keystores.lightweight import dates

    dt = dates()

    if days is not None and not_after is not None:
        raise UsageError("the validity is given twice", hint=Hint(": give {}, not both", option="--days or --not-after",
                                                                  keyword="days or not_after"))
    start = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    if not_after is not None:
        end = parse_when(not_after) if isinstance(not_after, str) else not_after.astimezone(dt.UTC)
    else:
        end = start + dt.timedelta(days=_day_count(days, default_days))
    if end <= start:
        raise UsageError(f"the end of validity {end:%Y-%m-%dT%H:%M:%SZ} is not in the future")
    return start, end


def build_validity(*, days: int | None, now: dt.datetime | None = None,
                   default_days: int = 365) -> tuple[dt.datetime | int, dt.datetime | int]:
    """validity() for `days` of validity from `now`, for a certificate that is only built (keystores.pki.builder
    takes POSIX seconds as well as datetimes): without `now`, POSIX seconds from the clock, whole seconds as
    validity() has them, so that certreq's placeholder loads no datetime (start-up speed)."""
    if now is not None:
        return validity(days=days, not_after=None, now=now, default_days=default_days)
    import time

    start = int(time.time())
    return start, start + _day_count(days, default_days) * 86400


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def posix_seconds(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int | None:
    """The POSIX seconds of a UTC time, or None where datetime(year, month, ...) would refuse it (a 31 April, a
    25th hour, a year outside 1 to 9999): dates compared with the clock without importing datetime (~3 ms; sign and
    receive). Days from the civil date by the proleptic Gregorian calendar, as datetime counts them
    (tests/test_when.py holds it to datetime's timestamp())."""
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    if not (1 <= year <= 9999 and 1 <= month <= 12 and 0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60
            and 1 <= day <= _MONTH_DAYS[month - 1] + (month == 2 and leap)):
        return None
    years = year - 1
    days = years * 365 + years // 4 - years // 100 + years // 400  # 0001-01-01 to the year's first day
    days += sum(_MONTH_DAYS[: month - 1]) + (month > 2 and leap) + day - 1
    return (days - 719_162) * 86_400 + hour * 3600 + minute * 60 + second  # 719,162 days to 1970-01-01


def iso_utc_seconds(seconds: float) -> str:
    """iso_utc of a time given as POSIX seconds, without datetime (time.strftime is what datetime's strftime
    calls)."""
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _day_count(days: int | None, default_days: int) -> int:
    """The days of validity asked for (`days`), else `default_days`; refused unless positive."""
    count = default_days if days is None else days
    if count <= 0:
        raise UsageError(f"the days of validity must be positive, not {count}", hint=parameter("--days", "days"))
    return count
