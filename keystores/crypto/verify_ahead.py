"""Signature checks started ahead: keystores.crypto.verify.verify() run on a thread of its own, whose verdict verify()
with the same bytes then takes. libcrypto makes the key and checks the signature with the GIL let go, so that thread
runs on the second core while the caller goes on: `sign` checks its request's signature so while it imports what
building the certificate takes (bench/bench_core.py "sign"); a process's first check also readies OpenSSL's EC key
and ECDSA methods, ~0.6 ms of that first verify. A module of its own, loaded by `sign` alone: certreq, selfsign and
receive, which load keystores.crypto.verify, take none of this.

The verdict is the one verify() would give: the same function of the same bytes, made once, by the thread or, where
that thread has not begun it when it is wanted, by the caller. forget_ahead() drops what nobody took; no thread is
left running.
"""

from __future__ import annotations

from _thread import allocate_lock

from keystores.crypto import libcrypto, verify

TYPE_CHECKING = False
if TYPE_CHECKING:
    from keystores.crypto.verify import _Check


def verify_ahead(spki_der: bytes, signature: bytes, data: bytes, hash_name: str) -> None:
    """Start verify(spki_der, signature, data, hash_name) on a thread of its own. Only where it costs no import and no
    risk: libcrypto loaded already (a PKCS#12's read loads it), a second core, and the key an EC key in the form
    verify._EC_SPKI lists, whose calls are all declared here first (a declaration made on two threads at once could
    hand one of them a function without its prototypes)."""
    key: _Check = (spki_der, signature, data, hash_name)
    if (key in verify._AHEAD or hash_name not in verify.OPENSSL_DIGESTS or verify.ec_spki_point(spki_der) is None
            or not libcrypto.already_loaded()):
        return
    from keystores.crypto.pbkdf2 import usable_cores

    if (usable_cores() < 2 or verify._library() is None
            or libcrypto.declared(f"{verify.__name__}.ec_key", verify._fromdata_prototypes) is None):
        return
    import ctypes
    from _thread import start_new_thread

    verify._parameter_type(ctypes)
    ahead = verify._AHEAD[key] = _Ahead(key)
    start_new_thread(ahead.run, ())


def forget_ahead() -> None:
    """Drop the checks verify_ahead started that nobody took: one its thread has not begun is not begun, one under
    way is waited for."""
    while verify._AHEAD:
        _, ahead = verify._AHEAD.popitem()
        if ahead.claim():
            ahead.finish(None, None)
        else:
            ahead.wait()


class _Ahead:
    """One check: made by its thread, or by the caller of result() where that thread has not begun it (whoever claims
    it first), never twice."""

    __slots__ = ("_args", "_claimed", "_done", "_error", "_verdict")

    def __init__(self, args: _Check) -> None:
        self._args: _Check | None = args
        self._claimed, self._done = allocate_lock(), allocate_lock()
        self._done.acquire()  # released once the check is made (or dropped)
        self._verdict: bool | None = None
        self._error: BaseException | None = None

    def claim(self) -> bool:
        return self._claimed.acquire(False)

    def finish(self, verdict: bool | None, error: BaseException | None) -> None:
        self._verdict, self._error, self._args = verdict, error, None
        self._done.release()

    def run(self) -> None:
        """The thread's: the check, unless claimed already."""
        if self.claim():
            self._check()

    def _check(self) -> None:
        assert self._args is not None
        try:
            verdict = verify._verify(*self._args)
        except BaseException as exc:  # raised where verify() takes it, as it would have been raised there
            self.finish(None, exc)
        else:
            self.finish(verdict, None)

    def wait(self) -> None:
        with self._done:
            pass

    def result(self) -> bool | None:
        """The verdict (verify()'s), made here if the thread has not begun it, else waited for."""
        if self.claim():
            self._check()
        else:
            self.wait()
        if self._error is not None:
            raise self._error
        return self._verdict
