"""Moving entries between stores: convert, import, export. Written once against the protocol.

What a destination cannot express raises CapabilityError before anything is written; a store is saved only when
every entry went in, so a failed transfer leaves the destination as it was.
"""

from __future__ import annotations

import os

from keystores import formats, paths
from keystores.errors import (
    FORCE,
    CapabilityError,
    Hint,
    KeystoreError,
    Note,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    parameter,
)
from keystores.formats import Storage
from keystores.frozen import Record
from keystores.lazy_entries import KeysAhead, KeysWanted, made_entry, open_keys, with_chain_cut
from keystores.model import Entry, EntryKind, KeyRef
from keystores.ops import is_location, using
from keystores.store import open_store, store_exists

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

    from keystores.ops import StoreArg
    from keystores.protocols import KeyStore

    Progress = Callable[[int, int], None]  # (done, total)
    Ask = Callable[[str, bool], "str | None"]  # open_store's `ask`: (store, new) -> the secret, asked once per store


class TransferResult(Record):
    """What a transfer did: the labels written, notes for the user, the untrusted certificates left out
    (untrusted="skip") and the (label, reason) of each entry the destination could not hold, left out by
    `skip_unreadable`. A keystores.frozen Record, not a dataclass: export and convert of a small store import no
    dataclasses (start-up speed)."""

    copied: list[str]
    notes: list[str]
    skipped: list[Entry]
    left_out: list[tuple[str, str]]
    encoded: bytes | None  # what an export to stdout ("-") writes there: the output file's bytes
    _fields = ("copied", "notes", "skipped", "left_out", "encoded")

    def __init__(self, copied: list[str] | None = None, notes: list[str] | None = None,
                 skipped: list[Entry] | None = None, left_out: list[tuple[str, str]] | None = None,
                 encoded: bytes | None = None) -> None:
        self.copied = [] if copied is None else copied
        self.notes = [] if notes is None else notes
        self.skipped = [] if skipped is None else skipped
        self.left_out = [] if left_out is None else left_out
        self.encoded = encoded


# The output name that means standard output (export): no file is written
STDOUT = "-"

# What to do with a certificate held without trust when the destination holds trusted certificates only (JKS):
# leave it out and say so, trust it because the user said so, or fail. Trust is never raised silently.
UNTRUSTED_CHOICES = ("skip", "trust", "fail")

# The entries whose key a destination's write seals anew (expect_write's new_keys): key pairs and secret keys
_SEALED_ANEW = (EntryKind.KEY_PAIR, EntryKind.SECRET_KEY)


def is_untrusted_certificate(entry: Entry) -> bool:
    return entry.kind is EntryKind.CERTIFICATE


def _check_untrusted_choice(untrusted: str) -> None:
    if untrusted not in UNTRUSTED_CHOICES:
        raise UsageError(f"unknown choice '{untrusted}' for untrusted certificates; use skip, trust or fail")


def _portable(entry: Entry, dest: KeyStore, *, trust_unverified: bool = False) -> Entry:
    """The entry as `dest` can hold it, or CapabilityError naming what it cannot.

    Trust read without checking its integrity (NSS without the password) would become a trust anchor in `dest`
    that nobody vouched for: refused unless `trust_unverified`."""
    if entry.trust is not None and not entry.trust.verified and entry.trust.purposes and not trust_unverified:
        raise UsageError("its trust was read without the source's password, so its integrity was not checked, and "
                         "it is not made a trust anchor: give the source password to verify it, or accept it "
                         "unverified", store=dest.location, label=entry.label,
                         hint=parameter("--trust-unverified", "trust_unverified=True"))
    # The key is looked at on the entry as read, before any copy is made of it: a sealed key is then decrypted
    # once, and a copy made afterwards carries the opened key (a copy of a sealed entry would decrypt it again).
    # A key given as PKCS#8 without loading it (Entry.held_pkcs8) is no token's.
    if entry.kind is EntryKind.KEY_PAIR and entry.held_pkcs8() is None and isinstance(entry.key, KeyRef) \
            and not entry.key.extractable:
        raise CapabilityError("extractable_keys", "the private key is on a token and marked non-extractable: "
                              "it cannot be copied; export its certificate instead", store=dest.location,
                              label=entry.label)
    return entry  # a default flag `dest` has no place for is refused by its add(), with a note


def check_password_used(store: KeyStore, password: str | None) -> None:
    """A password given for a store that uses none is an error, not ignored: it was meant for the destination."""
    if password is not None and not store.uses_password:
        raise UsageError("a password was given for it, but it uses none (it holds no encrypted key)",
                         store=store.location, hint=Hint("; a destination's password is given with {}",
                                                         option="--dest-password", keyword="dest_password"))


class destination:
    """Around the work on a destination: one that needs a password and got none says which option gives it.
    (A class rather than a contextlib.contextmanager: start-up, keystores.lightweight.)"""

    def __init__(self, dest: str, dest_password: str | None) -> None:
        self._dest, self._dest_password = dest, dest_password

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if not isinstance(exc, PasswordRequired) or self._dest_password is not None or exc.store != self._dest:
            return  # nothing raised, or not this: it goes on as it was
        # The backend's reason up to any hint of its own (a token's names the source's password, not the destination's).
        raise PasswordRequired(exc.reason.split(':')[0], store=self._dest, hint=Hint(
            "; give the destination's password with {}", option="--dest-password SOURCE",
            keyword="dest_password")) from None


def _refuse_unprotected(target: KeyStore, new: bool, dest_password: str | None) -> None:
    """A new store whose format protects it with a password is not written without one (keytool and openssl
    pkcs12 -export ask for one too); `destination()` names the option that gives it."""
    if new and dest_password is None and target.uses_password:
        raise PasswordRequired(f"a new {target.format} store needs a password", store=target.location)


def chosen_entries(source: KeyStore, labels: Iterable[str] | None = None, *,
                   ahead: KeysAhead | None = None) -> list[Entry]:
    """The entries of `source` to carry: all, or those named (EntryNotFound, exit 4, for a missing one).
    Nothing to carry is an error: a command that changes nothing must not say it did. PasswordRequired when a key
    among them is locked because the store was opened without its password (NSS), so that it is asked for before
    a destination is touched.

    With `ahead` (an entered lazy_entries.KeysAhead), the sealed keys it can open in threads start opening and are
    left to it: copy_entries, given them as `chosen`, waits for them first thing (_refuse_locked) and raises what
    opening one raises there, with the same message, while the destination was opened meanwhile."""
    chosen = [source.get(label) for label in labels] if labels is not None else list(source.entries())
    if not chosen:
        raise KeystoreError("nothing to import: it holds no certificate, key pair or secret key (a private key "
                            "without its certificate is not an entry)", store=source.location)
    if ahead is None:
        open_keys(chosen)  # each is opened below anyway; side by side first
        _refuse_locked(source, chosen)
    else:
        ahead.start(chosen)
        _refuse_locked(source, [entry for entry in chosen if id(entry) not in ahead.started])
    return chosen


def _refuse_locked(source: KeyStore, entries: list[Entry]) -> None:
    """PasswordRequired for a key among `entries` locked because the store was opened without its password (NSS).
    Looking opens each sealed key (or waits for its opening under way): what that raises is raised here."""
    for entry in entries:
        if entry.kind is EntryKind.KEY_PAIR and entry.held_pkcs8() is None and isinstance(entry.key, KeyRef) \
                and entry.key.locked:
            raise PasswordRequired("the private keys are locked: the store's password is needed to copy them",
                                   store=source.location, label=entry.label)


def copy_entries(source: KeyStore, dest: KeyStore, *, labels: Iterable[str] | None = None,
                 rename: dict[str, str] | None = None, replace: bool = False,
                 progress: Progress | None = None, untrusted: str = "fail",
                 skipped: list[Entry] | None = None, notes: list[str] | None = None,
                 chosen: list[Entry] | None = None, trust_unverified: bool = False,
                 skip_unreadable: bool = False, left_out: list[tuple[str, str]] | None = None) -> list[str]:
    """Add the chosen entries of `source` to `dest` (not saved here). Returns the labels written; untrusted
    certificates `dest` cannot hold are handled as `untrusted` says (UNTRUSTED_CHOICES), skipped ones appended to
    `skipped`, certificates trusted on request named in `notes`. `chosen`: the entries, already picked. Trust
    whose integrity was not checked becomes trust in `dest` only with `trust_unverified` (see _portable).

    Entries are independent: every entry `dest` cannot hold is found before anything is added, and then either
    all of them are named in one EntriesRefused, or (`skip_unreadable`) they are left out and listed in
    `left_out` while the rest are written."""
    _check_untrusted_choice(untrusted)
    if chosen is not None:
        _refuse_locked(source, chosen)  # (keys started ahead: waited for here, and what opening one raised raised)
    chosen = _once(chosen if chosen is not None else chosen_entries(source, labels))
    if not dest.capabilities.untrusted_certificates:
        chosen = _decide_untrusted(chosen, dest, untrusted, skipped, notes)
    prepared = []
    refused: list[tuple[str, str]] = []
    for entry in chosen:
        new_label = (rename or {}).get(entry.label, entry.label)
        try:
            portable = _portable(entry, dest, trust_unverified=trust_unverified)
            if new_label != portable.label:
                portable = portable.with_(label=new_label)
            dest.check_entry(portable)
        except (CapabilityError, UnsupportedFormat) as exc:  # what dest cannot hold; a key no one here can open
            refused.append((new_label, exc.reason))
            continue
        prepared.append(portable)
    if refused and not skip_unreadable:
        from keystores.errors import EntriesRefused  # (made when first asked for: keystores.errors)

        raise EntriesRefused(refused, store=dest.location)
    if left_out is not None:
        left_out.extend(refused)
    if not dest.capabilities.multiple_entries and len(prepared) > 1:
        raise CapabilityError("multiple_entries", f"a {dest.format} file holds one entry, {len(prepared)} given",
                              store=dest.location)
    # (each entry in `prepared` passed dest.check_entry above, and nothing has changed since: what dest cannot
    # hold, or a password it needs for it, was raised before the first add)
    written = []
    for done, entry in enumerate(prepared, 1):
        dest.add(entry, replace=replace)
        written.append(entry.label)
        if progress:
            progress(done, len(prepared))
    return written


def _once(chosen: list[Entry]) -> list[Entry]:
    """An untrusted certificate that is also in the chain of a key pair being carried (an NSS or token
    intermediate, listed on its own as certutil and pkcs11-tool list it) travels once, in that chain."""
    if not any(e.kind is EntryKind.CERTIFICATE for e in chosen):
        return chosen
    in_chains = {der for e in chosen if e.kind is EntryKind.KEY_PAIR for der in e.chain_der()[1:]}
    return [e for e in chosen if not (e.kind is EntryKind.CERTIFICATE and _leaf_der(e) in in_chains)]


def _leaf_der(entry: Entry) -> bytes | None:
    ders = entry.chain_der()
    return ders[0] if ders else None


def _decide_untrusted(chosen: list[Entry], dest: KeyStore, untrusted: str, skipped: list[Entry] | None,
                      notes: list[str] | None) -> list[Entry]:
    from keystores.model import TRUST_ALL

    doubtful = [e for e in chosen if is_untrusted_certificate(e)]
    if not doubtful:
        return chosen
    names = ", ".join(f"'{e.label}'" for e in doubtful[:10]) + (" ..." if len(doubtful) > 10 else "")
    if untrusted == "fail":
        raise CapabilityError("untrusted_certificates", f"a {dest.format} store holds trusted certificates only, and "
                              f"{len(doubtful)} certificate(s) are not trusted: {names}", store=dest.location,
                              hint=Hint("; leave them out or trust them ({})", option="--untrusted skip|trust",
                                        keyword="untrusted='skip' or 'trust'"))
    if untrusted == "trust":
        if notes is not None:
            notes.append(Note(f"{dest.location}: trusted for all purposes as asked: {names}",
                              parameter("--untrusted trust", "untrusted='trust'")))
        return [e.with_(trust=TRUST_ALL) if is_untrusted_certificate(e) else e for e in chosen]
    if skipped is not None:
        skipped.extend(doubtful)
    kept = [e for e in chosen if not is_untrusted_certificate(e)]
    if not kept:
        raise KeystoreError(f"nothing to import: every certificate is untrusted and a {dest.format} store holds "
                            f"trusted certificates only ({names})", store=dest.location,
                            hint=Hint("; trust them with {}", option="--untrusted trust", keyword="untrusted='trust'"))
    return kept


def is_file_folder(location: str) -> bool:
    """A folder of files (not an NSS database, which is a folder too)."""
    return formats.by_prefix(location) is None and paths.is_dir(location) and formats.by_folder(location) is None


def converts_many(sources: list[str], dest: str, dest_type: str | None) -> bool:
    """Whether `convert SOURCES DEST` converts file by file into a folder: several sources, a folder of files as
    the source, or a folder as DEST (an existing one, or a name ending in "/"), unless DEST is an NSS database
    or a token."""
    many_sources = len(sources) > 1 or is_file_folder(sources[0])
    named = [formats.by_prefix(dest), formats.get(dest_type) if dest_type else None]
    if any(record is not None and record.storage in (Storage.FOLDER, Storage.TOKEN) for record in named):
        if many_sources:
            raise UsageError("several files go into a token or NSS database by import: keystores import "
                             f"{' '.join(sources)} {dest}", store=dest)
        return False
    return many_sources or dest.endswith(("/", os.sep)) or is_file_folder(dest)


def convert(src: StoreArg, dest: str | os.PathLike[str], *, password: str | None = None,
            dest_password: str | None = None, type: str | None = None, dest_type: str | None = None,
            profile: str = "modern", force: bool = False, progress: Progress | None = None,
            dest_options: dict | None = None, labels: list[str] | None = None, untrusted: str = "fail",
            trust_unverified: bool = False, ask: Ask | None = None, skip_unreadable: bool = False) -> TransferResult:
    """Write every entry of `src` (or those in `labels`) into a new store `dest` (its type from `dest_type` or its
    name); `untrusted` and `trust_unverified` as copy_entries takes them. Both stores are open, and every secret
    asked for through `ask`, before the first entry is copied."""
    _check_untrusted_choice(untrusted)
    dest = os.fspath(dest)
    addressed = formats.by_prefix(dest)
    if store_exists(dest) and not force and not (addressed and addressed.storage is Storage.TOKEN):
        from keystores.errors import StoreExists  # (made when first asked for: keystores.errors)

        raise StoreExists("already exists", store=dest, hint=FORCE)
    new = force or not store_exists(dest)

    def work(source: KeyStore) -> TransferResult:
        wanted.stop()
        check_password_used(source, password)
        with KeysAhead() as ahead:  # the keys' derivations run while the destination is made
            chosen = chosen_entries(source, labels, ahead=ahead)
            return _transfer(source, chosen, lambda pw, asking: open_store(
                dest, password=pw, type=dest_type, create=True, fresh=force, profile=profile, ask=asking,
                **(dest_options or {})), dest, dest_password, ask, new, replace=force, progress=progress,
                untrusted=untrusted, trust_unverified=trust_unverified,
                skip_unreadable=skip_unreadable)

    with KeysWanted() as wanted:  # the source's keys may start deriving while it is read
        return _from_source(src, password, type, ask, work)


def import_entries(src: StoreArg, dest: StoreArg, *, password: str | None = None, dest_password: str | None = None,
                   type: str | None = None, dest_type: str | None = None, labels: list[str] | None = None,
                   new_label: str | None = None, replace: bool = False, profile: str = "modern",
                   progress: Progress | None = None, untrusted: str = "fail", trust_unverified: bool = False,
                   ask: Ask | None = None, skip_unreadable: bool = False) -> TransferResult:
    """Add entries of `src` (all, or `labels`) to `dest`, creating `dest` if it does not exist (an open `dest` is
    added to and saved by its owner); `untrusted` and `trust_unverified` as copy_entries takes them."""
    _check_untrusted_choice(untrusted)
    where = os.fspath(dest) if is_location(dest) else dest.location  # type: ignore[union-attr,arg-type]

    def work(source: KeyStore) -> TransferResult:
        wanted.stop()  # (the destination, opened next, carries its keys as read)
        check_password_used(source, password)
        with KeysAhead() as ahead:  # the keys' derivations run while the destination is opened
            return carry(source, chosen_entries(source, labels, ahead=ahead))

    def carry(source: KeyStore, chosen: list[Entry]) -> TransferResult:
        rename = None
        if new_label:
            picked = [e.label for e in chosen]
            if len(picked) != 1:
                raise UsageError("a new label renames one entry, and the source holds several", store=source.location,
                                 hint=Hint(": choose one with {}", option="--entry", keyword="labels=[label]"))
            rename = {picked[0]: new_label}
        copy = {"rename": rename, "replace": replace, "progress": progress, "untrusted": untrusted,
                "trust_unverified": trust_unverified, "skip_unreadable": skip_unreadable}
        if not is_location(dest):
            return _into_open(source, chosen, dest, dest_password, dest_type, **copy)  # type: ignore[arg-type]
        return _transfer(source, chosen, lambda pw, asking: open_store(
            where, password=pw, type=dest_type, writable=True, create=True, profile=profile, ask=asking), where,
            dest_password, ask, not store_exists(where), **copy)

    with KeysWanted() as wanted:  # the source's keys may start deriving while it is read
        return _from_source(src, password, type, ask, work)


def _from_source(src: StoreArg, password: str | None, type: str | None, ask: Ask | None,
                 work: Callable[[KeyStore], TransferResult]) -> TransferResult:
    """`work` on the source: an open store as it is, a location opened here (see _read_asking)."""
    if not is_location(src):
        with using(src, password=password, type=type) as source:  # refuses a password for a store already open
            return work(source)
    location = os.fspath(src)  # type: ignore[arg-type]
    return _read_asking(lambda pw, asking: open_store(location, password=pw, type=type, ask=asking), password, ask,
                        work)


def _into_open(source: KeyStore, chosen: list[Entry], dest: KeyStore, dest_password: str | None,
               dest_type: str | None, **copy: Any) -> TransferResult:
    """copy_entries of `chosen` into a store the caller opened (and saves)."""
    with using(dest, password=dest_password, type=dest_type):  # refuses a password for a store already open
        result = TransferResult(notes=list(source.notes))
        result.copied = copy_entries(source, dest, chosen=chosen, skipped=result.skipped, left_out=result.left_out,
                                     notes=result.notes, **copy)
    return result


def _transfer(source: KeyStore, chosen: list[Entry], open_dest: Callable[[str | None, Ask | None], KeyStore],
              dest: str, dest_password: str | None, ask: Ask | None, new: bool, **copy: Any) -> TransferResult:
    """copy_entries of `chosen` into the destination `open_dest` opens, saved on success."""
    result = TransferResult(notes=list(source.notes))
    trusted_notes: list[str] = []

    def fill(target: KeyStore, password: str | None) -> list[str]:
        _refuse_unprotected(target, new, password)
        # The destination's write derivations (a PKCS#12's key bags, certificates part and MAC; an NSS key's value
        # and MAC), each with its fresh salt, start now on another core, beside the source's keys' opening, the
        # checks and the adds below, instead of at the save, where the main thread waited for them (as receive's
        # and certreq's expect_write). What the write does not take is dropped when the store closes.
        target.expect_write(new_keys=sum(e.kind in _SEALED_ANEW for e in chosen))
        result.skipped.clear()  # a second try (after the password was asked for) starts afresh
        result.left_out.clear()
        trusted_notes.clear()
        return copy_entries(source, target, chosen=chosen, skipped=result.skipped, left_out=result.left_out,
                            notes=trusted_notes, **copy)

    with destination(dest, dest_password):
        result.copied, notes = _write_asking(open_dest, fill, dest_password, ask, new)
    result.notes += trusted_notes + notes
    return result


def _read_asking(open_source: Callable[[str | None, Ask | None], KeyStore], password: str | None, ask: Ask | None,
                 work: Callable[[KeyStore], TransferResult]) -> TransferResult:
    """`work` on the store `open_source(password, ask)` opens. A store that opens without its password but
    needs it for what is copied (NSS keys stay locked without it) is asked for it once and opened again."""
    source = open_source(password, ask)
    try:
        with source:
            return work(source)
    except PasswordRequired as exc:
        if password is not None or ask is None or exc.store != source.location:
            raise
        answer = ask(source.location, False)
        if answer is None:
            raise
    with open_source(answer, None) as source:
        return work(source)


def _write_asking(open_dest: Callable[[str | None, Ask | None], KeyStore],
                  fill: Callable[[KeyStore, str | None], list[str]], dest_password: str | None, ask: Ask | None,
                  new: bool) -> tuple[list[str], list[str]]:
    """`fill(store, its password)` the store `open_dest(password, ask)` opens, and save it on success; (labels
    written, notes).

    When the destination opens without a password but needs one (a new PKCS#12 file, a key into one), the secret
    is asked for once and the destination opened again, before anything is written (copy_entries checks every
    entry before adding one). What `fill` reads stays open, so no source key is decrypted twice."""
    opened: list[KeyStore] = []

    def attempt(password: str | None, asking: Ask | None) -> tuple[list[str], list[str]]:
        # A `with` block: saved on success; on an error the store's own exit runs (a token removes the objects
        # this attempt created), so a failed first attempt leaves nothing behind.
        with open_dest(password, asking) as target:
            opened.append(target)
            written = fill(target, password)
        return written, list(target.notes)

    try:
        return attempt(dest_password, ask)
    except PasswordRequired as exc:
        if dest_password is not None or ask is None or not opened or exc.store != opened[-1].location:
            raise
        answer = ask(opened[-1].location, new)
        if answer is None:
            raise
    return attempt(answer, None)


def import_pem_parts(dest: StoreArg, *, key: str | os.PathLike[str] | None, cert: str | os.PathLike[str],
                     chain: Sequence[str | os.PathLike[str]] = (), label: str | None = None,
                     key_password: str | None = None, dest_password: str | None = None,
                     dest_type: str | None = None, replace: bool = False, profile: str = "modern",
                     ask: Ask | None = None) -> TransferResult:
    """`key=`, `cert=` and `chain=` files (CLI: `import --key k.pem --cert c.pem --chain ca.pem DEST`) read
    together, in memory, as one bundle whose key is paired with its certificate by public key; errors name the
    user's file and line. An encrypted key's password is asked for (and named) as the key file's. `dest` is the
    store written: a location (created when missing) or an open store, which its owner saves."""
    parts = [os.fspath(p) for p in (key, cert, *chain) if p]
    with open_store(parts[0], password=key_password, type="pem", ask=ask if key else None,
                    also=parts[1:]) as source:
        entries = list(source.entries())
        wanted = [e for e in entries if e.kind is EntryKind.KEY_PAIR] if key else entries
        if key and not wanted:
            raise UsageError(f"the key matches none of the certificates given ({', '.join(parts[1:])})",
                             store=parts[0])
        names = [e.label for e in wanted[:1]] if key else [e.label for e in wanted]
        rename = {names[0]: label} if label and names else None
        if not is_location(dest):
            chosen = chosen_entries(source, names)
            return _into_open(source, chosen, dest, dest_password, dest_type,  # type: ignore[arg-type]
                              rename=rename, replace=replace)
        where = os.fspath(dest)  # type: ignore[arg-type]
        new = not store_exists(where)

        def fill(target: KeyStore, password: str | None) -> list[str]:
            _refuse_unprotected(target, new, password)
            return copy_entries(source, target, labels=names, rename=rename, replace=replace)

        result = TransferResult(notes=list(source.notes))
        with destination(where, dest_password):
            result.copied, notes = _write_asking(
                lambda pw, asking: open_store(where, password=pw, type=dest_type, writable=True, create=True,
                                              profile=profile, ask=asking), fill, dest_password, ask, new)
        result.notes += notes
        return result


def export_entry(store: StoreArg, label: str, out: str | os.PathLike[str], *, password: str | None = None,
                 dest_password: str | None = None, out_format: str | None = None, include_chain: bool = False,
                 include_key: bool = False, type: str | None = None, force: bool = False,
                 profile: str = "modern", ask: Ask | None = None) -> TransferResult:
    """One entry to a file `out`: its certificate (and chain, and key when asked) as PEM, DER or PKCS#12; the format
    as asked, else from the file's extension (output_format). `dest_password` protects a PKCS#12 `out`. `out` "-"
    writes no file: the bytes it would hold are the result's `encoded` (for stdout, as `openssl x509` without -out
    and `keytool -exportcert` without -file write there); PEM unless a format is asked for."""
    out = os.fspath(out)
    from keystores.ops.outputs import output_format  # here: import and convert do not need it (start-up)

    out_format = output_format(out, out_format)
    to_stdout = out == STDOUT
    if not to_stdout and store_exists(out) and not force:
        from keystores.errors import StoreExists  # (made when first asked for: keystores.errors)

        raise StoreExists("already exists", store=out, hint=FORCE)
    opening = using(store, password=password, type=type, ask=ask) if is_location(store) else using(store)
    with opening as opened:
        check_password_used(opened, password)
        entry = opened.get(label)
        notes = list(opened.notes)
        store_location = opened.location
    if out_format == "p12":
        include_key = include_key or entry.kind is EntryKind.KEY_PAIR
        include_chain = True if include_key else include_chain
    if entry.kind is EntryKind.SECRET_KEY:
        raise CapabilityError("secret_keys", "a secret key has no certificate to export", store=store_location,
                              label=label)
    # The chain as DER while the store has not decoded it: what is written is its bytes (start-up speed).
    held = entry.undecoded_chain if entry.undecoded_chain is not None else entry.chain
    if not held:
        raise UsageError("entry has no certificate to export", store=store_location, label=label)
    length = len(held) if include_chain else 1
    if include_key:
        if entry.held_pkcs8() is None and entry.key is None:  # (a key held as PKCS#8 is there, not loaded)
            raise UsageError("entry has no private key", store=store_location, label=label)
        exported = with_chain_cut(entry, length, default=False)
    else:
        # Trust read without its integrity checked (NSS without the password) stays behind: the certificate goes.
        trust = entry.trust if entry.trust is None or entry.trust.verified else None
        kind = EntryKind.TRUSTED_CERT if trust is not None else EntryKind.CERTIFICATE
        if entry.undecoded_chain is not None:
            exported = made_entry(entry.undecoded_chain[:length], label=entry.label, kind=kind, trust=trust)
        else:
            exported = Entry(label=entry.label, kind=kind, chain=entry.chain[:length], trust=trust)
    if out_format == "der" and (include_key or length > 1):
        raise CapabilityError("multiple_entries", "DER holds one object", store=out, hint=Hint(
            ": export the certificate alone, or use {} for a chain or key", option="--format pem or p12",
            keyword="out_format='pem' or 'p12'"))
    dest_type = {"p12": "pkcs12"}.get(out_format, out_format)

    def fill(target: KeyStore, password: str | None) -> list[str]:
        if dest_type == "pkcs12" and password is None:
            raise PasswordRequired("a new PKCS#12 file needs a password", store=target.location)
        portable = _portable(exported, target)
        target.check_entry(portable)  # a password the output needs for the key: asked before anything is written
        target.add(portable, replace=True)
        if to_stdout:
            encoded.append(target.take_encoded())
        return [entry.label]

    encoded: list[bytes] = []  # an export to stdout: the file's bytes, taken from the store instead of saved

    with destination(out, dest_password):
        copied, written_notes = _write_asking(
            lambda pw, asking: open_store(out, password=pw, type=dest_type, create=True, fresh=True,
                                          profile=profile, ask=asking), fill, dest_password, ask, True)
    return TransferResult(copied=copied, notes=notes + written_notes, encoded=encoded[-1] if encoded else None)
