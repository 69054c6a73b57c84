"""Connecting to a token on a thread of its own while the opening thread imports the store's code.

Connecting is loading the module (dlopen, C_Initialize), finding the token and logging in: ~7 ms on SoftHSM, of
which python-pkcs11 runs C_Initialize and C_Login (~4-5 ms: SoftHSM reads its token folder and derives the token's
key from the PIN) with the GIL let go. keystores.store calls the format record's `begin` as soon as it knows the
address is a token, before it imports the backend; for a read-only open (list, show, export, a read's source):
python-pkcs11 is imported here, on the opening thread (an
import holds the GIL: on the worker it would only take turns with the opening thread's imports), then the worker
starts, and the opening thread imports the backend and what reading the token needs while the worker waits in
C_Initialize. Pkcs11Store.__init__ takes the connection where it used to connect (`take`), waits for it and raises
what connecting raised there: a store is open only once its token has been logged in to, with the same errors,
messages and exit codes as before, in the same order.

Measured (/tmp/token6/gil.py): python-pkcs11 keeps the GIL through its dlopen of the module (~2-4 ms: SoftHSM pulls
in libcrypto), and C_Initialize is short; the GIL-free part is C_Login (~5 ms). So what a worker gains is the
opening thread's work done while C_Login runs. The CLI begins a connection earlier still (keystores.store's
begin_opening, `ahead`), as soon as it has read the command line: with the PIN for a read (the login then runs
under the command's own imports), without it for a write (module and token found; the open logs in, read-write,
on the worker, while the opening thread imports the writing half).

python-pkcs11's objects (the library, the token, the session) are made by the worker and used by the opening
thread only after the worker has ended (the lock it releases as its last act): never by both at once. The worker
blocks every signal, so that a Ctrl-C goes to the opening thread as it always did; a connection no store took (an
open interrupted, or failed before its store was made) is waited for and its session closed, by the thread's next
begin() or at exit.
"""

from __future__ import annotations

import contextlib
import os
from _thread import allocate_lock, get_ident, start_new_thread  # threading's own, without importing threading

from keystores.backends.pkcs11.tokens import (
    check_module,
    describe_error,
    find_token,
    initialise,
    loaded,
    resolve_module,
    session_closed,
    session_opened,
)
from keystores.errors import Hint, KeystoreError, PasswordRequired, WrongPassword

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from keystores.backends.pkcs11.uri import Pkcs11Uri

# Per opening thread: the connection begun, not yet taken by a store that was then logged in (a program that opens
# stores on several threads at once gets one each).
_pending: dict[int, Connecting] = {}
_exit_hook: list[bool] = []  # atexit's call of abandon_pending registered (once per process)


def begin(location: str, *, password: str | None, writable: bool, options: dict[str, Any],
          ahead: bool = False) -> None:
    """Start connecting to the token `location` names, for the store about to be opened there. Raises nothing: where
    anything is amiss (a bad URI, no module, no python-pkcs11) nothing is started, and the store's own opening says
    what, as it always has.

    `ahead` (keystores.store.begin_opening: the caller knows which store it opens next, before it imports what it
    needs to): with a `password`, the whole connection, read-only, which the open with that PIN takes up; without
    one (the caller does not know the PIN yet), the module is loaded and the token found, and the worker waits
    there: the next begin() for the same module and token (open_store's) has it log in with its PIN and mode, and a
    store's take() does if no begin() did. A connection no open takes is abandoned (its session closed) by the
    next begin() or at exit."""
    pending = _pending.get(get_ident())
    try:
        from keystores.backends.pkcs11.uri import Pkcs11Uri

        uri = Pkcs11Uri.parse(location)
        module_path = resolve_module(uri.module_path, uri.module_name, options.get("module"), store=location)
    except Exception:  # the store's opening raises it again, where it always did
        abandon_pending()
        return
    if pending is not None and not ahead:
        if pending.awaiting and pending.args[:2] == (module_path, uri):
            pending.log_in(password, writable)
            return
        if pending.args[:4] == (module_path, uri, password, writable):  # begun ahead with this PIN and mode
            return
    abandon_pending()
    if writable and not ahead:
        # A write imports the writing half and its source's code before it opens the token, and the worker's
        # finding and login then take the GIL back and forth with an opening thread that is still importing:
        # measured, import and delete were 2-3% slower with it (/tmp/token5/wimp.py), list and export faster.
        return
    try:
        if not os.path.isfile(module_path):
            return
        from keystores.backends.pkcs11.library import import_pkcs11

        import_pkcs11()
        import pkcs11._pkcs11  # noqa: F401 (pkcs11.lib() imports its C half first: ~4 ms of imports, here)
    except Exception:  # the store's opening raises it again, where it always did
        return
    if not _exit_hook:
        import atexit

        atexit.register(abandon_pending, every=True)
        _exit_hook.append(True)
    waits = ahead and password is None
    _pending[get_ident()] = connecting = Connecting(module_path, uri, password, writable and not waits, location,
                                                    ahead=waits)
    connecting.start()


def take(module_path: str, uri: Pkcs11Uri, pin: str | None, writable: bool) -> Connecting | None:
    """The connection begin() started for this very open (the same module, token, PIN and mode), else None; one
    begun ahead and not yet told to log in is told now. It stays pending (abandon_pending closes it) until the store
    calls taken()."""
    connecting = _pending.get(get_ident())
    if connecting is None:
        return None
    if connecting.awaiting and connecting.args[:2] == (module_path, uri):
        connecting.log_in(pin, writable)
    if connecting.args[:4] == (module_path, uri, pin, writable):
        return connecting
    abandon_pending()
    return None


def taken(connecting: Connecting) -> None:
    """The store holds the session `connecting` opened (or connecting raised, and opened none)."""
    if _pending.get(get_ident()) is connecting:
        del _pending[get_ident()]


def abandon_pending(*, every: bool = False) -> None:
    """Wait for a connection this thread began and no store took (`every`: any thread's, at exit), and close the
    session it opened, so that it is not left logged in."""
    for thread in list(_pending) if every else [get_ident()]:
        connecting = _pending.pop(thread, None)
        if connecting is not None:
            connecting.abandon()


_ABANDONED = RuntimeError("a token's connection no store took")


class Connecting:
    """connect() run on a thread of its own (or on this one, where no thread can be had). Begun `ahead`, the worker
    waits once the token is found until log_in() gives it the PIN and mode (or abandon() tells it to log in to
    nothing)."""

    __slots__ = ("_ahead", "_done", "_logging_in", "_outcome", "_started", "_threaded", "_told", "args", "awaiting")

    def __init__(self, module_path: str, uri: Pkcs11Uri, pin: str | None, writable: bool, location: str, *,
                 ahead: bool = False) -> None:
        self.args = (module_path, uri, pin, writable, location)
        self._outcome: tuple[Any, Any, Any] | BaseException | None = None
        self._done = allocate_lock()
        self._done.acquire()  # released once connect() returned or raised
        self._started = allocate_lock()
        self._started.acquire()  # released by the worker just before python-pkcs11 loads the module
        self._ahead = ahead
        self.awaiting = ahead  # begun ahead, and not yet told whether and how to log in
        self._told: tuple[str | None, bool] | None = None  # what log_in() said: (PIN, writable); None: no login
        self._logging_in = allocate_lock()  # ahead: the worker waits for it; log_in() releases it
        self._logging_in.acquire()
        self._threaded = False

    def start(self) -> None:
        """The worker started, and this thread back once the worker is about to load the module."""
        self._threaded = True  # (before the worker can run: it reads it)
        try:
            start_new_thread(self._run, ())
        except RuntimeError:  # no thread to be had: connected here (begun ahead: when log_in() says how)
            self._threaded = False
            if not self.awaiting:
                self._run(on_worker=False)
            return
        # This thread lets the GIL go until the worker is about to load the module: a new thread runs only once it
        # has the GIL, and a thread that must take the GIL back after a system call (a stat lets it go) waits up
        # to sys.getswitchinterval() (5 ms) while this one imports. From there the worker keeps the GIL through
        # python-pkcs11's dlopen and lets it go in C_Initialize, where this thread takes it.
        self._started.acquire()

    def log_in(self, pin: str | None, writable: bool) -> None:
        """Have a connection begun ahead log in with `pin`, read-only or not. (This thread goes on at once: waiting
        until the worker was at C_Login, as start() waits until it loads the module, made a delete ~1 ms slower,
        /tmp/token6/wimpc.py.)"""
        self.awaiting = False
        self.args = (*self.args[:2], pin, writable, self.args[4])
        self._told = (pin, writable)
        self._logging_in.release()
        if not self._threaded:  # no worker (no thread could be had): connected here
            self._run(on_worker=False)

    def _await_login(self) -> tuple[str | None, bool] | None:
        """On the worker, with the token found: what log_in() says, once it says it."""
        self._logging_in.acquire()
        return self._told

    def _run(self, on_worker: bool = True) -> None:
        try:
            if on_worker:  # (never on the opening thread: its Ctrl-C would never be delivered again)
                _block_signals()
            self._outcome = connect(*self.args, started=self._started.release,
                                    told=self._await_login if self._ahead and self._threaded else None)
        except BaseException as exc:  # raised by result(), on the opening thread
            self._outcome = exc
        finally:
            if self._started.locked():  # connect() raised before it loaded the module
                self._started.release()
            self._done.release()

    def _wait(self) -> None:
        if self._outcome is None:  # set before the worker releases _done: a second wait returns at once
            self._done.acquire()

    def result(self) -> tuple[Any, Any, Any]:
        """(lib, token, session) once connected, else what connecting raised."""
        self._wait()
        outcome = self._outcome
        if isinstance(outcome, BaseException):
            raise outcome
        assert outcome is not None
        return outcome

    def abandon(self) -> None:
        """No store is made of it after all: wait for the worker (a worker begun ahead logs in to nothing), and close
        the session it opened."""
        if self.awaiting:
            self.awaiting = False
            self._told = None
            self._logging_in.release()
        if self._threaded:
            self._wait()
        if isinstance(self._outcome, tuple) and self._outcome[2] is not None:
            with contextlib.suppress(Exception):
                self._outcome[2].close()
            session_closed(self.args[0])
        self._outcome = _ABANDONED  # (a second abandon finds nothing to close)


def _block_signals() -> None:
    """Every signal blocked on this thread: the kernel delivers a Ctrl-C to the opening thread, whose handler raises
    KeyboardInterrupt there as before, and no system call of the module's is cut short by one."""
    try:
        import _signal  # the C module `signal` wraps (importing `signal` makes enums of every signal)
    except ImportError:  # pragma: no cover - an interpreter without it
        return
    with contextlib.suppress(AttributeError, OSError, ValueError):  # (a platform without pthread_sigmask)
        _signal.pthread_sigmask(_signal.SIG_BLOCK, _signal.valid_signals())


def connect(module_path: str, uri: Pkcs11Uri, pin: str | None, writable: bool, location: str, *,
            started: Callable[[], None] | None = None,
            told: Callable[[], tuple[str | None, bool] | None] | None = None) -> tuple[Any, Any, Any]:
    """The module loaded (C_Initialize, once per process), the token found, and a session logged in to it.
    `started` is called once the module's file is checked, just before python-pkcs11 loads it; `told`, where given,
    once the token is found, says with what PIN and mode to log in (None: no login, and no session is returned)."""
    real = os.path.realpath(module_path)
    lib = loaded(real)
    if lib is None:
        check_module(module_path, store=location)
    if started is not None:
        started()
    if lib is None:
        lib = initialise(module_path, real, store=location)
    token = find_token(lib, module_path, label=uri.token, serial=uri.serial, store=location)
    mapper = attribute_mapper()
    if told is not None:
        login = told()
        if login is None:
            return lib, token, None
        pin, writable = login
    return lib, token, log_in(token, pin, writable, module_path, location, mapper=mapper)


def log_in(token: Any, pin: str | None, writable: bool, module_path: str, location: str, *,
           mapper: Any = None) -> Any:
    """A session on `token` logged in with `pin`: one C_Login per open, so that a wrong PIN is reported at once and
    never retried (tokens lock the PIN after a few). `mapper`: attribute_mapper(), made already."""
    from pkcs11 import PKCS11Error, TokenFlag
    from pkcs11 import exceptions as ck

    label = token.label.strip()
    needs_login = bool(token.flags & TokenFlag.LOGIN_REQUIRED)
    if pin is None and (needs_login or writable):
        raise PasswordRequired(f"token '{label}' needs its user PIN", store=location,
                               hint=Hint(": give {}", option="--password SOURCE", keyword="password"))
    if mapper is None:
        mapper = attribute_mapper()
    try:
        session = token.open(rw=writable, user_pin=pin, attribute_mapper=mapper)
    except ck.UserAlreadyLoggedIn:
        # Login state is per process: another store of ours holds it already.
        session = token.open(rw=writable, attribute_mapper=mapper)
    except (ck.PinIncorrect, ck.PinLenRange, ck.PinInvalid) as exc:
        raise WrongPassword(f"wrong user PIN for token '{label}' (one attempt made; tokens lock the PIN after a few "
                            "wrong ones)", store=location) from exc
    except ck.PinLocked as exc:
        raise WrongPassword(f"the user PIN of token '{label}' is locked; the security officer must reset it",
                            store=location) from exc
    except ck.UserPinNotInitialized as exc:
        raise KeystoreError(f"token '{label}' has no user PIN yet; initialise it first", store=location) from exc
    except ck.TokenWriteProtected as exc:
        raise KeystoreError(f"token '{label}' is write-protected", store=location) from exc
    except PKCS11Error as exc:
        raise KeystoreError(f"cannot open a session on token '{label}' ({describe_error(exc)})",
                            store=location) from exc
    session_opened(module_path)
    return session


def attribute_mapper() -> Any:
    """python-pkcs11's mapper plus CKA_CERTIFICATE_CATEGORY, which it does not know."""
    import struct

    from pkcs11 import Attribute
    from pkcs11.attributes import AttributeMapper

    mapper = AttributeMapper()
    ulong = struct.Struct("L")
    mapper.register_handler(Attribute.CERTIFICATE_CATEGORY, ulong.pack, lambda v: ulong.unpack(v)[0])
    return mapper
