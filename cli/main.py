"""The `keystores` command: parse, resolve secrets, call one operation, render. No format logic here.

One error boundary (`run`) maps KeystoreError families to the documented exit codes and prints one line;
tracebacks only with --debug. Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import gc
import sys
import warnings
from typing import Annotated, Any

import typer
from keystores.cli.common import err

from keystores.errors import ExitCode, KeystoreError

app = typer.Typer(
    name="keystores",
    help="Certificates and keys in every store: CMS .kdb, JKS/JCEKS, PKCS#12, PKCS#11 tokens, NSS, PEM/DER.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_debug = False


# --- commands ---------------------------------------------------------------------------------------------------
def _print_version(asked: bool) -> None:
    if asked:
        from keystores import __version__

        print(f"keystores {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.", is_eager=True,
                                          callback=_print_version)] = False,
) -> None:
    """keystores: one tool for certificates and keys in every store format."""
    global _debug
    _debug = debug


def _register_groups() -> None:
    # stores, transfer and about register their commands on import, in the order --help lists them.
    from keystores.cli import (
        about,  # noqa: F401
        ams,
        cms,
        lifecycle,
        nss,
        pkcs11,
        stores,  # noqa: F401
        transfer,  # noqa: F401
    )

    for module in (cms, nss, pkcs11, lifecycle, ams):
        module.register(app)


_register_groups()


def _warning_line(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Any = None) -> None:
    err(f"warning: {message}")


class _Interrupted(BaseException):
    """Ctrl-C, raised by our SIGINT handler. Not a KeyboardInterrupt: typer turns that into a silent return of
    130, which the caller of main() cannot tell from a command's result. A BaseException, so that no
    `except Exception` on the way up swallows it, while every `finally` and rollback still runs."""


def _on_interrupt(signum: int, frame: Any) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the clean-up of the first
    raise _Interrupted


def _interrupted_line() -> str:
    """What an interrupt left: the stores already written (atomic writes are whole or absent), else nothing."""
    fileio = sys.modules.get("keystores.fileio")
    written = list(dict.fromkeys(fileio.changed)) if fileio is not None else []
    if written:
        return f"interrupted after writing {', '.join(written)}; nothing else was changed"
    return "interrupted; nothing was changed"


def run(argv: list[str] | None = None) -> None:
    """Console entry point: the one error boundary."""
    from keystores.secrets import no_core_dumps

    no_core_dumps()  # first: a crash's core file would hold every password read
    import signal

    signal.signal(signal.SIGINT, _on_interrupt)
    warnings.showwarning = _warning_line
    # keytool still makes DSA keys and stores hold them; cryptography's plan to drop DSA is not the user's concern.
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    try:
        from keystores.cli.command_table import click_app

        command = click_app()
        # What start-up made (modules, the command tree) lives until exit: the cyclic collector need not walk it
        # again on every full collection while a command reads thousands of entries.
        gc.freeze()
        code = command.main(args=argv, prog_name="keystores", standalone_mode=False)
        if isinstance(code, int) and code:  # typer returns (rather than raises) an Exit's code here
            sys.exit(code)
    except _Interrupted:
        err(_interrupted_line())
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err("aborted")
        sys.exit(ExitCode.FAILURE)
    except typer.TyperException as exc:  # typer's (vendored click's) usage errors carry exit code 2
        exc.show()
        sys.exit(exc.exit_code)
    except KeystoreError as exc:
        if _debug:
            raise
        from keystores.cli.render import error_line

        err(f"error: {error_line(exc)}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:  # before our handler was installed, or raised by a library itself
        err(_interrupted_line())
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(ExitCode.OK)
    except Exception as exc:  # the last line of defence: one line, no traceback, no locals
        if _debug:
            raise
        err(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback; please report it)")
        sys.exit(ExitCode.FAILURE)
    sys.exit(ExitCode.OK)
