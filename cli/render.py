"""How the CLI shows rows to a person (aligned columns cut to the window) and to a pipe (tab-separated lines).

Imported by the commands that print tables, never at start-up.
"""

from __future__ import annotations

import sys
from typing import Any


def table(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    if not sys.stdout.isatty():
        # Piped output: one tab-separated line per entry, easy for cut/awk; one write, not one per line.
        keys = [k for k, _ in columns]
        sys.stdout.write("".join("\t".join("" if (v := row.get(k)) is None or v is False else str(v) for k in keys)
                                 + "\n" for row in rows))
        return
    cells = [["" if row.get(k) in (None, False) else ("yes" if row.get(k) is True else str(row.get(k)))
              for k, _ in columns] for row in rows]
    print_columns(title, [heading for _, heading in columns], cells)


def print_columns(title: str | None, headings: list[str], cells: list[list[str]]) -> None:
    """A table for a terminal: aligned columns under a header, the widest column cut to fit the window, columns
    empty in every row left out.

    Plain text rather than rich's Table, which measures and wraps every cell: 3 s for a 2,000-entry store, twice
    what certutil -L takes to list it."""
    import shutil

    shown = [i for i in range(len(headings)) if i == 0 or any(row[i] for row in cells)]  # no all-empty columns
    headings = [headings[i] for i in shown]
    cells = [[row[i] for i in shown] for row in cells]
    gap = "  "
    widths = [max([len(heading), *(len(row[i]) for row in cells)]) for i, heading in enumerate(headings)]
    room = shutil.get_terminal_size().columns - len(gap) * (len(widths) - 1)
    if sum(widths) > room:
        widest = widths.index(max(widths))
        widths[widest] = max(len(headings[widest]), 12, widths[widest] - (sum(widths) - room))

    def line(values: list[str]) -> str:
        fitted = [v if len(v) <= w else v[: max(w - 1, 0)] + "…" for v, w in zip(values, widths, strict=True)]
        return gap.join(v.ljust(w) for v, w in zip(fitted, widths, strict=True)).rstrip()

    out = [title] if title else []
    out += [line(headings), gap.join("─" * w for w in widths)]
    out += [line(row) for row in cells]
    sys.stdout.write("\n".join(out) + "\n")
