"""How the CLI shows rows to a person (aligned columns cut to the window, expiry coloured) and to a pipe
(tab-separated lines), with every value escaped by keystores.text.printable (through cli.common's): a label or
subject comes from a file someone else wrote and must not forge rows or drive the terminal.

Imported by the commands that print tables, never at start-up. The layout for a terminal (columns cut to the window,
colours) is keystores.cli.terminal, loaded only there: a script's pipe gets the tab-separated lines alone.
"""

from __future__ import annotations

import sys

from keystores.cli.common import printable  # keystores.text's, loaded where a value needs escaping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.errors import KeystoreError


def plural(count: int, singular: str, many: str | None = None) -> str:
    """'1 entry', '2 entries', '0 files'."""
    return f"{count} {singular if count == 1 else many or singular + 's'}"


def table(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """`rows` as a table on a terminal (dates without their clock time, expiry coloured), or as one
    tab-separated line per row (the exact values, ISO times) when piped."""
    keys = [k for k, _ in columns]
    if not sys.stdout.isatty():
        # Piped output: one tab-separated line per entry, easy for cut/awk; one write, not one per line.
        sys.stdout.write("".join("\t".join("" if (v := row.get(k)) is None or v is False else printable(str(v))
                                           for k in keys) + "\n" for row in rows))
        return
    from keystores.cli.terminal import table_for_a_person

    table_for_a_person(title, rows, columns)


def tsv(rows: list[list[str]]) -> None:
    """Rows for a pipe: one tab-separated line each, every field escaped (a tab in a label cannot split it)."""
    sys.stdout.write("".join("\t".join(printable(field) for field in row) + "\n" for row in rows))


def error_line(error: KeystoreError) -> str:
    """An error's one line as the CLI says it: its hint names the option (`--replace`), not the keyword."""
    return error.rendered("option")
