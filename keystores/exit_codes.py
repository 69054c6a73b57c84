"""The documented process exit codes (README: "Exit codes"): `ExitCode`, also keystores.errors.ExitCode and
keystores.ExitCode.

A module of its own so that importing the enum module (~4 ms of CPU in a user's install, a third of Python's own
start-up; bench/bench_core.py, "start-up:" rows) is paid only by a run that reads an exit code: an error's
`exit_code` (keystores.errors) or the API's `ExitCode`. A command that succeeds exits 0 without it.
"""

from enum import IntEnum


class ExitCode(IntEnum):
    """Documented process exit codes (README: "Exit codes")."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    WRONG_PASSWORD = 3
    NOT_FOUND = 4
    CHECKS_FAILED = 5
