"""Entries that read their parts on first use: a speed device, fenced here so nothing else depends on how it works.

LazyEntry: the chain, key or trust a backend reads when first asked (NSS, JKS, BKS, BCFKS, PKCS#12), so `list` of a
store of thousands decodes nothing it does not print. SealedEntry: a private or secret key decrypted on first
access, so listing never runs a key's PBKDF (PKCS#12, JKS, CMS, BKS, BCFKS). Justified by bench/bench_nss.py (list
of a 2,000-certificate NSS database), bench/bench_java.py (2,000 trusted certificates and 2,000 key entries in JKS),
bench/bench_pkcs12.py (list of a 200-key PKCS#12) and bench/bench_core.py (list one.p12, which then imports no
x509); tests/test_chain_entries.py and each backend's tests check that a lazy entry reads as the eager one would.
"""

from __future__ import annotations

from _thread import allocate_lock, get_ident  # threading's Lock and get_ident, without threading (crypto/kdf_pool)

from keystores.frozen import field_defaults
from keystores.model import Entry, EntryKind

TYPE_CHECKING = False
if TYPE_CHECKING:
    from _thread import LockType
    from collections.abc import Callable, Collection, Iterable
    from typing import Any


class _Deferred:
    """A field of a LazyEntry: read by the loader stored beside it on first access, then kept."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot, self.loader = f"_{name}", f"_load_{name}"

    def __get__(self, entry: Any, owner: type | None = None) -> Any:
        if entry is None:
            return None  # read on the class: no value
        state = entry.__dict__
        if self.slot not in state:
            state[self.slot] = state.pop(self.loader)()
        return state[self.slot]

    def __set__(self, entry: Any, value: Any) -> None:
        entry.__dict__[self.slot] = value


class LazyEntry(Entry):
    """An Entry whose chain, key or trust a backend reads on first access, for stores of thousands of entries:
    decoding certificates (and for NSS decrypting keys and checking trust MACs) is nearly all the cost of reading
    one, and `list` needs none of it: it reads its columns from `undecoded_leaf`. The loaders raise the backend's
    errors naming the entry, when the damaged part is first read."""

    chain = _Deferred()  # type: ignore[assignment]
    key = _Deferred()  # type: ignore[assignment]
    trust = _Deferred()  # type: ignore[assignment]
    #: a date kept as the file stores it until asked for (JKS: `list` then imports no datetime, start-up)
    created = _Deferred()  # type: ignore[assignment]

    @classmethod
    def lazy(cls, loaders: dict[str, Callable[[], Any]], *, leaf_der: bytes,
             chain_der: tuple[bytes, ...] | None = None,
             find_chain_der: Callable[[], tuple[bytes, ...] | None] | None = None, key_loadable: bool = False,
             held_pkcs8: bytes | None = None, **entry_fields: Any) -> LazyEntry:
        """`loaders` maps "chain", "key" or "trust" to what reads it; `leaf_der` is the leaf certificate's DER
        and `chain_der`, where the backend has it, the whole chain's (leaf first); `find_chain_der`, where the
        backend links a chain on first use, what finds its DER without decoding it (None where it cannot);
        `key_loadable`: the key's loader gives a software key the backend has judged to load (key_known_loadable);
        `held_pkcs8`: that key as keystores.pki.pkcs8.pkcs8_der writes it, given while it is not loaded.
        The instance dict is filled directly: Entry.__init__ sets each field through object.__setattr__ and the
        deferred ones through their descriptors, a third of building a listed entry."""
        entry = object.__new__(cls)
        state = entry.__dict__
        state.update(_ENTRY_DEFAULTS)
        for name, value in entry_fields.items():
            state[f"_{name}" if name in _DEFERRED else name] = value
        for name, loader in loaders.items():
            del state[f"_{name}"]
            state[f"_load_{name}"] = loader
        state["_leaf_der"] = leaf_der
        state["_chain_der"] = chain_der
        if find_chain_der is not None:
            state["_find_chain_der"] = find_chain_der
        if key_loadable:
            state["_key_loadable"] = True
        if held_pkcs8 is not None:
            state["_held_pkcs8"] = held_pkcs8
        return entry

    def held_pkcs8(self) -> bytes | None:
        state = self.__dict__
        return state.get("_held_pkcs8") if "_load_key" in state else None

    def unread(self, name: str) -> Callable[[], Any] | None:
        """The loader of the deferred field `name` while it is not read yet, else None: a backend writing back what
        it read may take what the loader holds instead (JKS's date, as its milliseconds: java_data.JavaDate)."""
        return self.__dict__.get(f"_load_{name}")  # type: ignore[no-any-return]

    def key_known_loadable(self) -> bool:
        state = self.__dict__
        return "_load_key" in state and state.get("_key_loadable", False)  # type: ignore[no-any-return]

    @property
    def on_token(self) -> bool:
        return False if self.key_known_loadable() else super().on_token

    def with_(self, **changes: object) -> Entry:
        """A relabelled copy (rename, set-default) reads nothing its parts have not read: a rewrite then writes
        the certificates back as read, undecoded."""
        return _relabelled(self, changes) or super().with_(**changes)

    @property
    def undecoded_leaf(self) -> bytes | None:
        return None if "_chain" in self.__dict__ else self.__dict__["_leaf_der"]

    @property
    def undecoded_chain(self) -> tuple[bytes, ...] | None:
        state = self.__dict__
        if "_chain" in state:
            return None
        if "_find_chain_der" in state:
            state["_chain_der"] = state.pop("_find_chain_der")()
        return state.get("_chain_der")  # type: ignore[no-any-return]

    @property
    def held_chain_der(self) -> tuple[bytes, ...] | None:
        state = self.__dict__
        return None if "_chain" in state or "_find_chain_der" in state else state.get("_chain_der")


_DEFERRED = ("chain", "key", "trust", "created")
# Fields a copy may change without reading any part: plain ones, and trust (which decides a certificate's kind).
_PLAIN_FIELDS = frozenset({"label", "default", "created"})


def _relabelled(entry: Entry, changes: dict[str, object]) -> Entry | None:
    """`entry` with `changes` to plain fields or trust only, its other parts (deferred, sealed) carried as they
    are; None when a change needs the whole copy. A new trust sets a certificate's kind as Entry() does."""
    plain = {name: value for name, value in changes.items() if name in _PLAIN_FIELDS}
    if len(plain) + ("trust" in changes) != len(changes):
        return None
    copy = object.__new__(type(entry))
    state = copy.__dict__
    state.update(entry.__dict__)
    for name, value in plain.items():
        if name in _DEFERRED and isinstance(entry, LazyEntry):  # the descriptor's slot, its loader dropped
            state.pop(f"_load_{name}", None)
            state[f"_{name}"] = value
        else:
            state[name] = value
    if "trust" in changes:
        state.pop("_load_trust", None)
        object.__setattr__(copy, "trust", changes["trust"])  # through LazyEntry's descriptor, where it has one
        if entry.kind.is_certificate:
            state["kind"] = EntryKind.CERTIFICATE if changes["trust"] is None else EntryKind.TRUSTED_CERT
    return copy
# Every Entry field at its default, as a LazyEntry's instance dict holds it (deferred ones under their slot names).
_ENTRY_DEFAULTS = {(f"_{name}" if name in _DEFERRED else name): default
                   for name, default in field_defaults(Entry).items()}


class SealedEntry(Entry):
    """An Entry whose private or secret key is decrypted on first access of `key`/`secret`.

    For backends whose keys cost a PBKDF run each (PKCS#12, JKS, CMS): listing a big store must not decrypt every
    key. `blob` is the key's encrypted form as read and `origin` the store that read it: while the key stays sealed
    the backend may write `blob` back unchanged into `origin`; anywhere else the key is opened and protected anew.
    A wrong key password surfaces as WrongPassword on that first access.
    """

    @property  # type: ignore[override]
    def key(self) -> Any:
        self._open()
        return self.__dict__.get("_key_value")

    @key.setter
    def key(self, value: Any) -> None:
        self.__dict__["_key_value"] = value
        self.__dict__.pop("_blob", None)  # another key: the encrypted one read is no longer this entry's

    @property  # type: ignore[override]
    def secret(self) -> Any:
        self._open()
        return self.__dict__.get("_secret_value")

    @secret.setter
    def secret(self, value: Any) -> None:
        self.__dict__["_secret_value"] = value

    @property
    def on_token(self) -> bool:
        return False if self.sealed else super().on_token

    def _settle(self) -> None:
        """Wait for the opening KeysAhead started for this key, if any, whatever its outcome (a key that did not
        open stays sealed: what opening it raises is raised here, in this thread, where it is used)."""
        ahead = self.__dict__.get("_ahead")
        if ahead is not None:
            ahead.wait()
            self.__dict__.pop("_ahead", None)  # after: an interrupted wait leaves the next use to wait again

    def _open(self) -> None:
        self._settle()
        self._unseal_now()

    def _unseal_now(self) -> None:
        unseal = self.__dict__.pop("_unseal", None)
        if unseal is None:
            return
        try:
            opened = unseal()
        except BaseException:
            self.__dict__["_unseal"] = unseal  # still sealed: a later access may retry
            raise
        self.__dict__["_secret_value" if self.kind is EntryKind.SECRET_KEY else "_key_value"] = opened

    @property
    def sealed(self) -> bool:
        self._settle()  # (an opening started ahead may unseal it)
        return "_unseal" in self.__dict__

    def held_pkcs8(self) -> bytes | None:
        """While sealed, what the backend's `held` (sealed_entry) gives: the key's PKCS#8 from its decrypted bytes,
        or None (then `key` opens it as before)."""
        held = self.__dict__.get("_held") if self.sealed else None
        return None if held is None else held()  # type: ignore[no-any-return]

    def sealed_blob(self, store: object) -> bytes | None:
        """The encrypted key as read, when still sealed and `store` is the one that read it; else None."""
        if self.sealed and self.__dict__.get("_origin") is store:
            return self.__dict__.get("_blob")
        return None

    def key_as_read(self, store: object) -> bytes | None:
        """The encrypted key as `store` read it, sealed or opened since (the key is then the one it decrypts to),
        while the key was never set anew; else None. For a format whose encrypted form holds the key alone (PKCS#12's
        shrouded key bag; not BCFKS's, which holds the chain too): a key opened only to be checked, as receive
        proves that the key matches the certificate, is written back as read instead of encrypted anew."""
        if self.__dict__.get("_origin") is store:
            return self.__dict__.get("_blob")
        return None

    def with_(self, **changes: object) -> Entry:
        """A renamed (or otherwise edited) copy stays sealed: a rename never needs the key password."""
        self._settle()  # a copy shares no opening under way
        relabelled = _relabelled(self, changes)
        if relabelled is not None:
            return relabelled
        if not self.sealed or "key" in changes or "secret" in changes:
            return Entry(**{name: getattr(self, name) for name in Entry._fields}).with_(**changes)
        values = {name: getattr(self, name) for name in Entry._fields if name not in ("key", "secret")}
        values.update(changes)
        copy = SealedEntry(**values)  # type: ignore[arg-type]
        copy.__dict__.update({k: self.__dict__[k] for k in ("_unseal", "_blob", "_origin", "_held")
                              if k in self.__dict__})
        return copy


def made_entry(chain_der: tuple[bytes, ...], *, key_of: Entry | None = None,
               load_key: Callable[[], Any] | None = None, **entry_fields: Any) -> LazyEntry:
    """An entry whose chain keystores has just made or read as DER (ops.lifecycle: selfsign, certreq's
    placeholder, receive), decoded on first use of `chain`; a backend that writes `undecoded_chain` (PKCS#12) writes
    it without decoding it, so certreq and receive import no cryptography.x509 (start-up speed, bench/bench_core.py
    "start-up: keystores certreq"/"receive"). With `load_key` and `held_pkcs8`, the entry holds a key keystores
    made as its PKCS#8 (ops.lifecycle's HeldEcKey), loaded by `load_key` only where asked for. With `key_of`, the
    entry holds that entry's private key, and a key
    read encrypted (SealedEntry) keeps what it was read as (SealedEntry.key_as_read), sealed if it still is: receive's
    new chain for a key PKCS#12 holds decrypts and re-encrypts nothing (bench_core's "start-up: keystores receive")."""

    def decoded() -> tuple[Any, ...]:
        from keystores.pki.certificates import decode_certificate

        return tuple(decode_certificate(der) for der in chain_der)

    if not isinstance(key_of, SealedEntry):
        if key_of is not None:
            entry_fields["key"] = key_of.key
        loaders = {"chain": decoded} if load_key is None else {"chain": decoded, "key": load_key}
        return LazyEntry.lazy(loaders, leaf_der=chain_der[0], chain_der=chain_der, key_loadable=load_key is not None,
                              **entry_fields)
    entry = _SealedLazyEntry.lazy({"chain": decoded}, leaf_der=chain_der[0], chain_der=chain_der, **entry_fields)
    if key_of.sealed:  # still sealed as read (receive matched it by its certificate's key): it stays so, no derivation
        entry.__dict__.update({name: key_of.__dict__[name] for name in ("_unseal", "_blob", "_origin", "_held")
                               if name in key_of.__dict__})
        return entry
    entry.__dict__["_key_value"] = key_of.key  # opened already (and so checked)
    for name in ("_blob", "_origin"):
        if name in key_of.__dict__:
            entry.__dict__[name] = key_of.__dict__[name]
    return entry


def with_chain_cut(entry: Entry, length: int, **changes: Any) -> Entry:
    """`entry.with_(chain=entry.chain[:length], **changes)`; a chain still held as DER stays so in the copy
    (made_entry), so that exporting a key pair, or part of its chain, decodes no certificate. Such a copy carries
    the opened key, as a copy made after opening it does."""
    ders = entry.undecoded_chain
    if ders is None:
        return entry.with_(chain=entry.chain[:length], **changes)
    # a key not loaded yet whose PKCS#8 the backend holds (a PEM EC key: LazyEntry.held_pkcs8) stays so in the copy
    deferred_key = "key" not in changes and {"_load_key", "_held_pkcs8"} <= entry.__dict__.keys()
    fields = {name: changes[name] if name in changes else getattr(entry, name)
              for name in Entry._fields if name != "chain" and not (deferred_key and name == "key")}
    if fields["kind"].is_certificate:  # as Entry.__init__ decides it, which made_entry does not run
        fields["kind"] = EntryKind.CERTIFICATE if fields["trust"] is None else EntryKind.TRUSTED_CERT
    copy = made_entry(ders[:length], **fields)
    if deferred_key:
        state = copy.__dict__
        del state["_key"]
        state.update({name: entry.__dict__[name] for name in ("_load_key", "_key_loadable", "_held_pkcs8")})
    return copy


class _SealedLazyEntry(SealedEntry, LazyEntry):
    """A SealedEntry whose chain is also read on first access (LazyEntry): listing a PKCS#12 key pair decodes
    neither its key nor its certificates."""


def sealed_entry(unseal: Callable[[], Any], blob: bytes | None, origin: object, *,
                 chain_loader: Callable[[], Any] | None = None, leaf_der: bytes | None = None,
                 created_loader: Callable[[], Any] | None = None,
                 chain_der: tuple[bytes, ...] | None = None,
                 find_chain_der: Callable[[], tuple[bytes, ...] | None] | None = None, in_threads: bool = False,
                 held: Callable[[], bytes | None] | None = None, derived_ahead: bool = False,
                 **entry_fields: Any) -> SealedEntry:
    """A SealedEntry whose key `unseal()` decrypts on first use (see SealedEntry for blob and origin); with
    `chain_loader` (and the leaf's DER) its chain is read on first use too, and with `created_loader` its date.
    `in_threads`: `unseal` may run in a worker thread beside other keys' (it asks nothing and shares nothing
    unguarded), see open_keys. `held`: the key's PKCS#8 without loading it, or None (Entry.held_pkcs8).
    `derived_ahead`: its read started deriving the key's decryption key (KeysWanted), so KeysAhead leaves it."""
    if chain_loader is not None and leaf_der is not None:
        loaders = {"chain": chain_loader} if created_loader is None else {"chain": chain_loader,
                                                                          "created": created_loader}
        entry: SealedEntry = _SealedLazyEntry.lazy(loaders, leaf_der=leaf_der, chain_der=chain_der,
                                                   find_chain_der=find_chain_der, **entry_fields)
    else:
        if created_loader is not None:
            entry_fields["created"] = created_loader()
        entry = SealedEntry(**entry_fields)
    entry.__dict__["_unseal"] = unseal
    entry.__dict__["_blob"] = blob
    entry.__dict__["_origin"] = origin
    if in_threads:
        entry.__dict__["_in_threads"] = True
    if held is not None:
        entry.__dict__["_held"] = held
    if derived_ahead:
        entry.__dict__["_derived_ahead"] = True
    return entry


def open_keys(entries: Iterable[Entry]) -> None:
    """Open the sealed keys of `entries` whose backend lets them open in threads, side by side on every core:
    each costs a PBKDF2 run that releases the GIL (keystores.crypto.pbkdf2), so copying a store of many keys does
    not decrypt them one after another (bench/bench_nss.py, 200 key pairs from a PKCS#12). Every key is queued
    before the first is awaited. A key that does not open stays sealed: its error is raised where the key is first
    used, in order, as without this; the keys not yet started are then left alone. The threads are
    keystores.crypto.kdf_pool's (concurrent.futures would import logging, which costs more than a small store's
    keys: bench/bench_pkcs12.py)."""
    sealed = list({id(e): e for e in entries if isinstance(e, SealedEntry) and e.sealed
                   and e.__dict__.get("_in_threads")}.values())
    if len(sealed) < 2:  # (before importing crypto.pbkdf2: a certificate's import loads no derivation module)
        return
    from keystores.crypto.pbkdf2 import usable_cores

    if usable_cores() < 2:
        return
    from keystores.crypto.kdf_pool import KdfPool

    with KdfPool("open-keys", most=len(sealed), stop_at_failure=True) as pool:
        jobs = [pool.submit(None, entry._open) for entry in sealed]
        for job in jobs:
            job.wait()


class KeysAhead:
    """Sealed keys started opening before they are used, on a keystores.crypto.kdf_pool pool, while the caller goes
    on with its other work: a transfer opens or creates its destination and imports its writer meanwhile (ops.
    transfer; bench/bench_commands.py "convert one.p12 to ..."), where open_keys, called just before the keys are
    used, leaves each key's derivation to run alone. Use as a context manager around the keys' use; `start`
    starts the keys of the entries given whose backend lets them open in threads (sealed_entry's `in_threads`).

    Each opening decrypts as the key's first use would (its backend's `held` where it has one, so an EC key is
    carried as the same PKCS#8, else the key); nothing else changes: a key used waits for its own opening
    (SealedEntry._settle), and a key that did not open stays sealed, so what opening it raises is raised where it
    is used, in that thread, as without this (after a failure the openings not yet started are dropped: they run
    when used). Leaving the block waits for the openings under way and drops the others. Nothing starts on one
    core."""

    __slots__ = ("_pool", "started")

    def __init__(self) -> None:
        self._pool: Any = None
        #: the entries whose opening was started, by id: their key's first use waits for it
        self.started: dict[int, Entry] = {}

    def start(self, entries: Iterable[Entry], *, but_derived: bool = False) -> None:
        """Start opening the keys of `entries` that may open in threads; once (a later call starts nothing: after
        a failure the pool takes no more). `but_derived`: not the keys whose read started deriving their decryption
        key (KeysWanted; sealed_entry's `derived_ahead`): a key used next (sign's CA key) takes that derivation at
        its first use and decrypts a few hundred bytes there, where an opening here costs a pool, its thread and a
        wait for the thread to start."""
        if self.started:
            return
        fresh = {id(e): e for e in entries if isinstance(e, SealedEntry) and e.sealed
                 and e.__dict__.get("_in_threads") and not (but_derived and e.__dict__.get("_derived_ahead"))}
        if not fresh:  # (before importing crypto.pbkdf2: a certificate's import loads no derivation module)
            return
        from keystores.crypto.pbkdf2 import usable_cores

        if usable_cores() < 2:
            return
        from keystores.crypto.kdf_pool import BEGUN_WAIT, KdfPool

        # `most` 2 at least: the pool runs calls inline below two, and this thread goes on with other work
        self._pool = KdfPool("keys-ahead", most=max(2, len(fresh)), stop_at_failure=True).__enter__()
        first = allocate_lock()
        first.acquire()  # released by the worker that takes the first opening
        begun: LockType | None = first
        for key, entry in fresh.items():
            self.started[key] = entry
            entry.__dict__["_ahead"] = self._pool.submit(None, _open_ahead, entry, begun)
            begun = None
        # Until a worker has taken the first (a fresh pool's first call always runs: nothing failed before it), so
        # that its derivation is under way: else it would wait for this thread to let the GIL go, which a thread
        # running Python does every 5 ms only (sys.getswitchinterval), about the time it has to go on meanwhile.
        # At most kdf_pool.BEGUN_WAIT: where no core is free this thread goes on (before, it waited for the
        # scheduler to start the worker; signing's f9f9dc0 and p12read's 43e01bf bounded their waits so).
        first.acquire(timeout=BEGUN_WAIT)

    def __enter__(self) -> KeysAhead:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.__exit__(*exc_info)  # an opening under way ends; one queued is dropped (its key opens when used)


def _open_ahead(entry: SealedEntry, begun: LockType | None) -> None:
    """In a worker: what the key's first use does (held_pkcs8 where its backend holds the PKCS#8, else the key),
    its outcome kept by the backend's opening or the entry; what it raises is left for that use to raise again.
    `begun`, released first: KeysAhead.start waits for it."""
    if begun is not None:
        begun.release()
    held = entry.__dict__.get("_held")
    if held is not None:
        held()
    else:
        entry._unseal_now()  # (not _open, which would wait for this very opening)


class KeysWanted:
    """Entered by a transfer (ops.transfer) around opening its source, whose keys it will open: a backend that reads
    that store on this thread finds it (keys_wanted()) and may start deriving its keys' decryption keys on a
    keystores.crypto.kdf_pool pool while it reads, handing the pool and what it started to keep(). Leaving this
    leaves them (last first): what was not taken is dropped, what runs is waited for. Nothing is decrypted ahead:
    each key opens when and as it did (KeysAhead, or its first use), taking the derivation it finds started
    (bench/bench_commands.py "convert one.p12 to ...": the key's derivation ran alone after the MAC, the part's
    decryption and the entries' assembly, while the transfer waited for it; now it runs beside them). `stop()` once
    the source is open: a destination opened next (an import into a PKCS#12) carries its keys as read."""

    __slots__ = ("_before", "_kept", "_thread", "labels", "started")

    def __init__(self, labels: Collection[str] | None = None) -> None:
        """`labels`: only the keys whose bags carry one of these names are wanted (sign's CA key: a store of
        several keys derives no other, which leaving this would wait for); None, every key."""
        self.labels = labels
        self._kept: list[Any] = []
        #: the encrypted keys (as read) whose decryption keys the read started deriving, with the password each
        #: was derived for: their entries are made derived_ahead (sealed_entry) where the bags open by that password
        self.started: dict[bytes, str] = {}
        self._thread: int | None = None
        self._before: KeysWanted | None = None

    def keep(self, *contexts: Any) -> None:
        """Context managers (entered, or needing no entering) to leave when this is left."""
        self._kept.extend(contexts)

    def stop(self) -> None:
        """No store opened from now on is asked for its keys early."""
        if self._thread is not None and _WANTED.get(self._thread) is self:
            if self._before is None:
                del _WANTED[self._thread]
            else:
                _WANTED[self._thread] = self._before
        self._thread = None

    def __enter__(self) -> KeysWanted:
        self._thread = get_ident()
        self._before = _WANTED.get(self._thread)
        _WANTED[self._thread] = self
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        kept, self._kept = self._kept, []
        for context in reversed(kept):
            context.__exit__(None, None, None)


_WANTED: dict[int, KeysWanted] = {}  # by thread: the transfer whose source is being opened


def keys_wanted() -> KeysWanted | None:
    """The KeysWanted of the transfer opening its source on this thread, or None."""
    return _WANTED.get(get_ident()) if _WANTED else None
