"""The `keystores` command: parse, resolve secrets, call one operation, render. No format logic here.

One error boundary (`run`) maps KeystoreError families to the documented exit codes and prints one line;
tracebacks only with --debug. A plain command line is read by cli.quick_parse and typer is never imported; --help,
completion and usage errors go to typer (cli.typer_app). Heavy modules are imported inside the commands.
"""

from __future__ import annotations

import _warnings
import gc
import sys

from keystores.cli import _interrupt_behind, _Interrupted, _on_interrupt
from keystores.cli.common import err
from keystores.cli.options import Annotated, Option

from keystores.errors import KeystoreError, exit_status, path_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_debug = False


def __getattr__(name: str) -> Any:
    """`app`: the typer application, made on first use (a run that cli.quick_parse reads never makes it)."""
    if name == "app":
        from keystores.cli.typer_app import typer_app

        globals()["app"] = made = typer_app()
        return made
    raise AttributeError(name)


def _print_version(asked: bool) -> None:
    if asked:
        import typer

        from keystores import __version__

        print(f"keystores {__version__}")
        raise typer.Exit()


def main_options(
    debug: Annotated[bool, Option("--debug", help="Show tracebacks of internal errors.")] = False,
    version: Annotated[bool, Option("--version", help="Print the version and exit.", is_eager=True,
                                    callback=_print_version)] = False,
) -> None:
    """keystores: one tool for certificates and keys in every store format."""
    global _debug
    _debug = debug


def _warning_line(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
                  line: Any = None) -> None:
    err(f"warning: {message}")


class _StartsWith:
    """A warnings filter's message pattern that matches text starting with `prefix` in any case: what
    warnings.filterwarnings compiles a plain-text message into with re (one more module, ~6 ms of CPU, on every
    run). Python's warnings and the C ones call only its `match`."""

    __slots__ = ("prefix",)

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.lower()

    def match(self, text: str) -> bool:
        return text.lower().startswith(self.prefix)


def _show_warnings_in_our_words() -> None:
    """warnings.showwarning = _warning_line, now if the warnings module is loaded, else as soon as it is: a
    warning is shown through it, and whatever warns imports it first (our modules, cryptography's utils)."""
    loaded = sys.modules.get("warnings")
    if loaded is not None:
        loaded.showwarning = _warning_line
    elif not any(isinstance(finder, _OnWarningsImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _OnWarningsImport())


class _OnWarningsImport:
    """A finder first in sys.meta_path until the warnings module is imported: it leaves, finds the module as the
    finders after it do, and has its loader set showwarning once the module has run. (importlib.abc's
    MetaPathFinder protocol. A loader that is a class, such as the frozen modules' importer, is shared and left
    alone: where warnings were frozen, they would be shown in Python's words.)"""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "warnings":
            return None
        try:  # noqa: SIM105 (contextlib would be one more module on every run)
            sys.meta_path.remove(self)
        except ValueError:
            pass
        spec = None
        for finder in list(sys.meta_path):
            spec = finder.find_spec(name, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None:
                break
        loader = getattr(spec, "loader", None)
        if loader is None or isinstance(loader, type) or not hasattr(loader, "exec_module"):
            return spec
        run_module = loader.exec_module

        def exec_module(module: Any) -> None:
            run_module(module)
            module.showwarning = _warning_line

        loader.exec_module = exec_module  # this spec's own loader object (a SourceFileLoader made for it)
        return spec


def _interrupted_line() -> str:
    """What an interrupt left: the stores already written (atomic writes are whole or absent), else nothing."""
    fileio = sys.modules.get("keystores.fileio")
    written = list(dict.fromkeys(fileio.changed)) if fileio is not None else []
    if written:
        return f"interrupted after writing {', '.join(written)}; nothing else was changed"
    return "interrupted; nothing was changed"


# How many more container objects than were freed start a collection of the youngest generation in a run of the
# process's own command line (Python's default is 700).
_YOUNG_OBJECTS = 50_000


def run(argv: list[str] | None = None) -> None:
    """The one error boundary: runs a command line and raises SystemExit with its exit code. Without `argv` it runs
    the process's own command line, as main() does for the console script: what the run made is then frozen for
    the cyclic collector, which Python would otherwise walk through in full on the way out (~3% of `keystores
    list one.p12`'s instructions, callgrind), where main() leaves the way out to Python.

    Such a run also collects cycles less often. Start-up makes objects that live until exit (modules, classes,
    functions: ~7,000 of them for `list one.p12`), and at Python's threshold of 700 the collector walks them about
    ten times before `_dispatch` freezes them (~3 M instructions, ~1.5% of `list one.p12`, `audit s.kdb` and
    `list server-ca.pem`, callgrind). Commands make next to no cyclic garbage (listing a 2,000-entry JKS or
    PKCS#12, `show` and `list --json` of it reach the same peak RSS with the collector off), and the collector
    still runs on large stores, every _YOUNG_OBJECTS objects."""
    if argv is None:
        gc.set_threshold(_YOUNG_OBJECTS)
    try:
        _run(argv)
    finally:
        if argv is None:
            gc.freeze()


def main() -> None:
    """The `keystores` command and `python -m keystores`: run() of the process's own command line, then the end of
    the process, at once where Python's teardown has nothing left to do (_exit_at_once). A program that runs a
    command line and goes on calls run()."""
    try:
        run()
    except SystemExit as exc:
        _exit_at_once(exc.code)
        raise
    except _Interrupted:  # one that met run() on its way out (its last collection, an error line being written)
        err(_interrupted_line())
        _exit_at_once(130)
        raise SystemExit(130) from None


def _exit_at_once(status: object) -> None:
    """End this process now with `status` (main()'s SystemExit code), without Python's teardown, where that
    teardown has nothing left to do for keystores; else return, and Python's own exit runs.

    The teardown frees every module, class and function start-up made, one by one: ~4-6 M instructions, 1.5-2 ms
    of CPU, after `list one.p12`, `list s.kdb` or `list sql:nss` has printed its last line (callgrind and
    bench/run's "start-up:" rows; the floors there end the same way, bench/harness.py _floor_end); after a token
    command, python-pkcs11's and SoftHSM's too (`list pkcs11:...`: from its last line to the parent's wait 4.8 ms
    through the teardown, 2.0 ms here, C_Finalize included). By then every store is written
    and closed: each write is an atomic rename after an fsync, a database commits before its command returns, a
    token's objects are made by then. What the teardown would still do is done here, in its order, or is a reason
    to return: a `threading` thread still running (Python's exit waits for it), then the atexit callbacks (run
    here), python-pkcs11's libraries finalized (C_Finalize, what freeing them does), the standard streams flushed
    (a failing flush is left to Python, which reports it as it always does). A tracer or profiler, `python -i`, and
    PyKCS11 (whose library objects finalize as Python frees them) each mean Python's own exit.

    From here on Ctrl-C ends the process at once with `status`: the command has done what it reports, and the
    interrupt met the end of the process, not the command (before, it met Python's teardown: a traceback from
    `threading._shutdown`, or, once Python had restored the default handler, death by SIGINT after a token
    command's export had written its file)."""
    message = status is not None and not isinstance(status, int)  # one Python prints before exiting 1
    code = 1 if message else status or 0
    import _signal
    import os

    # Ctrl-C, and one raised again after it met a weakref callback (keystores.cli._RaisedAgain: on SIGALRM)
    for signum in (_signal.SIGINT, getattr(_signal, "SIGALRM", _signal.SIGINT)):
        _signal.signal(signum, lambda signum, frame: os._exit(code))
    if (message or "PyKCS11" in sys.modules or sys.gettrace() is not None or sys.getprofile() is not None
            or sys.flags.inspect):
        return
    threading = sys.modules.get("threading")  # python-pkcs11 imports it; keystores' own threads are _thread's
    if threading is not None and any(thread.is_alive() and not thread.daemon and thread is not threading.main_thread()
                                     for thread in threading.enumerate()):
        return
    import atexit

    run_callbacks = getattr(atexit, "_run_exitfuncs", None)  # CPython's; without it, Python's own exit
    if run_callbacks is None:
        return
    run_callbacks()  # as Python's exit runs them (and then no more: they are cleared)
    pkcs11 = sys.modules.get("pkcs11")
    if pkcs11 is not None:
        libraries = getattr(pkcs11, "_loaded", None)  # python-pkcs11's {module path: lib}, made by pkcs11.lib()
        if not isinstance(libraries, dict):
            return
        try:
            for library in libraries.values():
                library.finalize()
        except Exception:  # Python's exit frees them as it always has
            return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def no_core_dumps() -> None:
    """Make this process leave no core file (it would hold the passwords in memory): RLIMIT_CORE 0, soft and hard.
    (Here, not in keystores.secrets: a command given no secret source, such as one on a .kdb opened by its stash,
    then loads no secrets module.)"""
    import resource

    try:  # noqa: SIM105 (contextlib.suppress would make contextlib one more module on every run)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError):
        pass


def _run(argv: list[str] | None) -> None:
    try:
        _prepare()
        _dispatch(sys.argv[1:] if argv is None else list(argv))
    except _Interrupted:
        err(_interrupted_line())
        sys.exit(130)
    except KeystoreError as exc:
        if _debug:
            raise
        from keystores.cli.render import error_line

        err(f"error: {error_line(exc)}")
        sys.exit(exit_status(exc))
    except KeyboardInterrupt:  # before our handler was installed, or raised by a library itself
        err(_interrupted_line())
        sys.exit(130)
    except BrokenPipeError:
        sys.exit(0)  # ExitCode.OK: a reader that stopped reading is not a failure
    except Exception as exc:  # typer's own exits and usage errors, else the last line of defence
        code = _typer_exit(exc)
        if code is not None:
            sys.exit(code)
        if _interrupt_behind(exc):
            err(_interrupted_line())
            sys.exit(130)
        if _debug:
            raise
        known = path_error(exc) if isinstance(exc, OSError) else None
        if known is not None:
            from keystores.cli.render import error_line

            err(f"error: {error_line(known)}")
            sys.exit(exit_status(known))
        err(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback; please report it)")
        sys.exit(1)  # ExitCode.FAILURE
    # ExitCode.OK, spelled as the number: keystores.exit_codes (and the enum module) is for runs that fail.
    sys.exit(0)


def _prepare() -> None:
    """What a run sets up before it reads its command line, inside its error boundary (_run): an interrupt here is
    the command's, exit 130 with the one line (it came up as a traceback and exit 1 when it landed in `import
    resource`: 1 in ~200 Ctrl-Cs sent 5-45 ms into `keystores list one.p12`)."""
    no_core_dumps()  # first: a crash's core file would hold every password read
    # The C module that `signal` wraps: importing `signal` makes enums of every signal and handler (~0.6 ms of each
    # run, bench/bench_core.py "start-up:" rows), none of which is used here.
    import _signal

    _signal.signal(_signal.SIGINT, _on_interrupt)
    _show_warnings_in_our_words()
    # keytool still makes DSA keys and stores hold them; cryptography's plan to drop DSA is not the user's concern.
    # The entry warnings.filterwarnings("ignore", message="DSA is deprecated") makes, without its `re`, in the list
    # the warnings module shares with its C part (`_warnings`, always loaded): a run that warns of nothing
    # imports no warnings module (~1.4 M instructions, ~0.3 ms). Where the warnings module is loaded, its own
    # list: the one warnings are filtered by, which catch_warnings (pytest's, a caller's) replaces with a copy.
    loaded = sys.modules.get("warnings")
    filters = loaded.filters if loaded is not None else getattr(_warnings, "filters", None)
    if filters is None:  # an interpreter whose C part shares no list: the warnings module's own
        import warnings

        filters = warnings.filters
    filters.insert(0, ("ignore", _StartsWith("DSA is deprecated"), Warning, None, 0))


def _dispatch(argv: list[str]) -> None:
    """Run the command `argv` names: read by cli.quick_parse when it can (no typer imported), else by typer."""
    global _debug
    from keystores.cli.quick_parse import parse

    call = parse(argv)
    if call is not None:
        _begin_opening(call.function, call.kwargs)
        # What start-up made (modules, the command tree) lives until exit: the cyclic collector need not walk it
        # again on every full collection while a command reads thousands of entries.
        gc.freeze()
        _debug = call.debug
        call.function(**call.kwargs)
        return
    from keystores.cli.typer_app import click_app

    command = click_app()
    gc.freeze()
    code = command.main(args=argv, prog_name="keystores", standalone_mode=False)
    if isinstance(code, int) and code:  # typer returns (rather than raises) an Exit's code here
        sys.exit(code)


# Commands whose first act on a store is to open the one their `store` parameter names, read-only, with the secret
# their `password` parameter names: that open is begun as soon as the command line is read
# (keystores.store.begin_opening), while the command imports its code. Each maps to what the command checks before
# it opens the store, where that can fail: the secret is then not read ahead, so that no login is made that the
# command would not make.
_OPENS_FIRST: dict[str, Callable[[dict[str, Any]], bool] | None] = {
    "keystores.cli.stores.list_entries": None,
    "keystores.cli.stores.show_entry": None,
    "keystores.cli.transfer_export.export_cmd": lambda kwargs: _export_opens(kwargs["out"], kwargs.get("force")),
}


# Commands that write to the store a parameter names (the function of the command line's words gives its address),
# after what they read first: that store's opening is begun ahead without its secret (a token's module loaded and
# the token found); the open itself logs in, read-write, as it would.
_WRITES_TO: dict[str, Callable[[dict[str, Any]], Any]] = {
    "keystores.cli.transfer.import_cmd": lambda kwargs: (
        None if kwargs.get("dest_type") or not kwargs["locations"]
        else kwargs["locations"][0 if kwargs.get("cert") or kwargs.get("key") else -1]),
    "keystores.cli.stores.delete_entry": lambda kwargs: None if kwargs.get("store_type") else kwargs["store"],
    "keystores.cli.stores.rename_entry": lambda kwargs: None if kwargs.get("store_type") else kwargs["store"],
}


# Commands that create the store a parameter names after reading another: its creation is begun ahead with the
# secret the command will give it, read here (a new NSS database's password check and a key pair's derivations:
# keystores.backends.nss.begun; a new PKCS#12 file's key bag, certificates and MAC: pkcs12.write.begin_new; while
# the command reads its source). Each gives (address, secret source) or None.
_CREATES: dict[str, Callable[[dict[str, Any]], tuple[Any, Any] | None]] = {
    "keystores.cli.transfer.convert_cmd": lambda kwargs: (
        None if len(kwargs["locations"]) != 2 or kwargs.get("dest_type") or kwargs.get("profile") != "modern"
        else (kwargs["locations"][-1], kwargs.get("dest_password"))),
}


def _export_opens(out: str, force: bool | None) -> bool:
    """Whether an export to `out` gets as far as opening its store: its output is refused before that when it
    exists and --force is not given, or is a terminal (binary formats; a PEM export opens either way)."""
    import os

    return not sys.stdout.isatty() if out == "-" else bool(force) or not os.path.lexists(out)


def _begin_opening(function: Any, kwargs: dict[str, Any]) -> None:
    """The command's store's opening begun ahead, where its format can: a token's module loaded, the token found
    and, with the PIN read here (and handed to the command: cli.common.read_ahead), logged in to, on a thread of its
    own, while the command imports its code (the login lets the GIL go: ~5 ms of SoftHSM's C_Login). The
    command's own open_store takes it up, or, given anything else (a --type, another module or PIN), starts afresh.
    The PIN is not read here where reading it could wait on a person (a terminal) or warn (pass:), or where the
    command may refuse before it opens the store."""
    name = f"{function.__module__}.{function.__name__}"
    creates = _CREATES.get(name)
    if creates is not None:
        found = creates(kwargs)
        # env: and file: only: one read of them gives what the command's would, in any order (stdin and fd: give
        # their next line, which is the source's secret where both are read from the same)
        if (found is not None and isinstance(found[0], str) and isinstance(found[1], str)
                and found[1].startswith(("env:", "file:"))):
            from keystores.cli.common import read_ahead

            from keystores.store import begin_opening

            secret = read_ahead(found[1], "destination password")
            if secret:
                begin_opening(found[0], password=secret, create=True)
        return
    writes_to = _WRITES_TO.get(name)
    if writes_to is not None:
        location = writes_to(kwargs)
        if isinstance(location, str) and ":" in location:
            from keystores.store import begin_opening

            module = kwargs.get("module")
            begin_opening(location, **({"module": module} if module else {}))
        return
    if name not in _OPENS_FIRST or kwargs.get("store_type"):
        return
    location = kwargs.get("store")
    if not isinstance(location, str) or ":" not in location:  # an address with a prefix (a file needs nothing)
        return
    from keystores.store import begin_opening

    source = kwargs.get("password")
    opens = _OPENS_FIRST[name]
    pin = None
    if (isinstance(source, str) and not source.startswith("pass:")
            and not (source == "stdin" and sys.stdin.isatty()) and (opens is None or opens(kwargs))):
        from keystores.cli.common import read_ahead

        pin = read_ahead(source, "password")
        if pin is None:  # reading it failed: the command says so before it opens anything
            return
    module = kwargs.get("module")
    begin_opening(location, password=pin, **({"module": module} if module else {}))


def _typer_exit(exc: Exception) -> int | None:
    """The exit code of typer's Exit, Abort and usage errors (shown as typer shows them); None for any other
    exception. typer is looked at only if a run imported it."""
    if "typer" not in sys.modules:
        return None
    import typer

    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, typer.Abort):
        err("aborted")
        return 1  # ExitCode.FAILURE
    if isinstance(exc, typer.TyperException):  # typer's (vendored click's) usage errors carry exit code 2
        exc.show()
        return exc.exit_code
    return None
