"""What this installation is: backends (which formats are usable here), version."""

from __future__ import annotations

from keystores.cli.common import emit_json
from keystores.cli.options import JsonOpt


def backends_cmd(as_json: JsonOpt = False) -> None:
    """Which store formats are usable here, and why not where they are not."""
    from keystores.store import backend_status

    status = backend_status()
    if as_json:
        emit_json({name: {"available": reason is None, "reason": reason} for name, reason in status.items()})
        return
    for name, reason in status.items():
        print(f"{name:8} {'available' if reason is None else 'unavailable: ' + reason}")


def version_cmd() -> None:
    """Print the version."""
    from keystores import __version__

    print(__version__)
