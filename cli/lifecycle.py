"""Certificate lifecycle commands: selfsign, certreq, sign, receive, validate, audit, dn."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
