"""How the CLI lays out a table for a person at a terminal: aligned columns under a header, cut to the window, the
expiry coloured (keystores.cli.render.table hands a terminal's tables here; a pipe gets its tab-separated lines from
there without loading this module). Every value is escaped by keystores.text.printable.
"""

from __future__ import annotations

import os
import sys

from keystores.text import printable

TYPE_CHECKING = False
if TYPE_CHECKING:
    import datetime as dt
    from typing import Any, TextIO

SOON_DAYS = 30  # "expiring soon" on a terminal: audit's default --within
_RED, _YELLOW, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[0m"


def colour_wanted(stream: TextIO) -> bool:
    """Colour only on a terminal, never when piped, and never when NO_COLOR is set (no-color.org) or TERM=dumb."""
    return stream.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def expiry_colour(not_after: str | None, now: dt.datetime) -> str | None:
    """Red for an expired certificate, yellow for one expiring within SOON_DAYS, else None."""
    from keystores.lightweight import dates

    dt = dates()

    if not not_after:
        return None
    try:
        when = dt.datetime.fromisoformat(not_after.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when <= now:
        return _RED
    return _YELLOW if when - now <= dt.timedelta(days=SOON_DAYS) else None


def table_for_a_person(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """keystores.cli.render.table's rows on a terminal: dates without their clock time, expiry coloured."""
    from keystores.lightweight import dates  # a terminal's table only (its colours): piped output needs none

    keys = [k for k, _ in columns]
    dt = dates()
    now = dt.datetime.now(dt.UTC)
    colour = colour_wanted(sys.stdout)
    cells, styles = [], []
    for row in rows:
        line = []
        for key in keys:
            value = row.get(key)
            text = "" if value in (None, False) else "yes" if value is True else str(value)
            if key in ("not_after", "not_before") and len(text) > 10 and text[10:11] == "T":
                text = text[:10]  # the day is what a person plans by; the exact time is in --json and piped rows
            line.append(text)
        cells.append(line)
        styles.append(expiry_colour(row.get("not_after"), now) if colour else None)
    print_columns(title, [heading for _, heading in columns], cells, styles)


def terminal_columns() -> int:
    """`shutil.get_terminal_size().columns`, as shutil works it out (a positive COLUMNS, else the size of the terminal
    on sys.__stdout__, else 80), without importing shutil: it imports fnmatch, collections, bz2 and lzma, ~90% of
    Python's own start-up in instructions, for a table a person at a terminal waits for."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
    return size.columns or 80


def _fit(widths: list[int], floors: list[int], room: int) -> list[int]:
    """Narrow the widest columns, one character at a time, until the row fits `room` or every column is at its
    floor (the heading's width, at least 8)."""
    widths = list(widths)
    excess = sum(widths) - room
    while excess > 0:
        narrowable = [i for i, w in enumerate(widths) if w > floors[i]]
        if not narrowable:
            break
        widest = max(narrowable, key=lambda i: widths[i])
        widths[widest] -= 1
        excess -= 1
    return widths


def _width(text: str) -> int:
    """Columns `text` takes on a terminal: East Asian wide characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
               for c in text)


def _cut(value: str, width: int) -> str:
    """`value` cut to `width` columns (with an ellipsis) and padded to it."""
    if _width(value) <= width:
        return value + " " * (width - _width(value))
    kept, used = [], 0
    for char in value:
        size = _width(char)
        if used + size > width - 1:
            break
        kept.append(char)
        used += size
    return "".join(kept) + "…" + " " * (width - 1 - used)


def print_columns(title: str | None, headings: list[str], cells: list[list[str]],
                  styles: list[str | None] | None = None) -> None:
    """A table for a terminal: aligned columns under a header, the widest columns cut to fit the window, columns
    empty in every row left out; `styles` colours a whole row (an ANSI code, or None).

    Plain text rather than rich's Table, which measures and wraps every cell: 3 s for a 2,000-entry store, twice
    what certutil -L takes to list it."""
    shown = [i for i in range(len(headings)) if i == 0 or any(row[i] for row in cells)]  # no all-empty columns
    headings = [headings[i] for i in shown]
    cells = [[printable(row[i]) for i in shown] for row in cells]
    gap = "  "
    columns = terminal_columns()
    widths = [max([len(heading), *(_width(row[i]) for row in cells)]) for i, heading in enumerate(headings)]
    floors = [min(w, max(len(h), 8)) for w, h in zip(widths, headings, strict=True)]
    widths = _fit(widths, floors, columns - len(gap) * (len(widths) - 1))

    def line(values: list[str]) -> str:
        return gap.join(_cut(v, w) for v, w in zip(values, widths, strict=True)).rstrip()

    title = printable(title or "")
    if _width(title) > columns:  # a long path: keep its end, where the file name and the count are
        title = _cut(title[::-1], columns)[::-1]  # cut from its start: the ellipsis comes first
    out = [title] if title else []
    out += [line(headings), gap.join("─" * w for w in widths)]
    for index, row in enumerate(cells):
        style = styles[index] if styles else None
        out.append(f"{style}{line(row)}{_RESET}" if style else line(row))
    sys.stdout.write("\n".join(out) + "\n")
