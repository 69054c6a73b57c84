"""Commands that only make sense for cms stores; generic commands (list, import, ...) live in main.py."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
