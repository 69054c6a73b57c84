"""The contract every backend passes, run against every format the records declare (tests/test_backend_suite.py).

The suite builds its own openers from the format records (keystores/formats.py): one `Case` per format that
writes and per write profile it honours, plus the few variants no record states (EXTRA_CASES). A new format is
covered by its record, not by someone remembering to subclass; a read-only one is held to refusing writes.

Tests are gated on capabilities, never on backend names, and a capability a format lacks is a refusal to assert
(a CapabilityError naming it), never a skip. A backend's own test file holds only what is peculiar to its format.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from helpers import UNKNOWN_KEY_ALGORITHM, ec_key, key_pair_entry, same_key, trusted_entry, undecodable_certificate

from keystores import formats
from keystores.backends.memory import MemoryStore
from keystores.errors import (
    CapabilityError,
    EntriesRefused,
    EntryExists,
    EntryNotFound,
    Hint,
    KeystoreError,
    PasswordRequired,
    UsageError,
    WrongPassword,
)
from keystores.formats import Profile, Storage
from keystores.model import TRUST_ALL, Entry, EntryKind, KeyRef, KeySpec, Protection, SecretKey, Trust
from keystores.ops.describe import entry_data, entry_row, store_data
from keystores.ops.transfer import copy_entries
from keystores.pki.certificates import decode_certificate
from keystores.secrets import WeakCryptoWarning
from keystores.store import open_store

PASSWORD = "Contract-Pw-1"
NEW_PASSWORD = "Contract-Pw-2 new"  # printable ASCII: JCEKS takes no other
DEFAULT = object()  # "the case's own password"

#: Labels a user may well give: accents and other scripts, spaces, and every punctuation mark a shell, a DN or a
#: format's own syntax gives meaning to. A format keeps each as given (case aside where labels ignore case).
AWKWARD_LABELS = ("café ☕ サーバー", "a/b\\c:d;e,f=g+h", "quote \"double\" 'single'", "<angle> & [square] {curly}",
                  "two  spaces # hash % per cent")


@dataclass(frozen=True)
class Case:
    """How the suite makes and reopens a store of one format: `where` is the address with "{}" for a folder (a
    file name in it, or `sql:{}/db`), "token" for a fresh SoftHSM token, "memory" for a store in memory."""

    id: str
    format: str
    where: str
    password: str | None = PASSWORD
    options: dict[str, Any] = field(default_factory=dict)
    profile: str = "modern"

    @property
    def files(self) -> bool:
        return self.where not in ("token", "memory")


def _where(record: formats.FormatRecord) -> str:
    if record.storage is Storage.TOKEN:
        return "token"
    if record.storage is Storage.MEMORY:
        return "memory"
    return record.address_in("{}")


def _cases() -> tuple[Case, ...]:
    """One case per format that writes and per write profile it honours, from the format records
    (keystores/formats.py), then the variants that write differently for another reason (EXTRA_CASES)."""
    made = [Case(record.name + ("" if profile is Profile.MODERN else f"-{profile}"), record.name, _where(record),
                 profile=str(profile))
            for record in formats.records() if record.writes and not record.variant_of
            and record.storage is not Storage.INDIRECT for profile in record.profiles]
    return (*made, *EXTRA_CASES)


#: Variants no record states: a PEM file without a password keeps its keys unencrypted; a v6 .kdb protects keys
#: with AES-256 where v4 has 3DES.
EXTRA_CASES = (
    Case("pem-clear", "pem", "{}/store.pem", password=None),
    Case("cms-v6", "cms", "{}/store.kdb", options={"cms_version": 6}),
)
CASES = _cases()


class Opener:
    """opener(create=False, writable=False, password=<the case's>, profile=<the case's>) -> an open store, on
    the same location each time."""

    def __init__(self, case: Case, location: str) -> None:
        self.case = case
        self.location = location

    def __call__(self, create: bool = False, writable: bool = False, password: Any = DEFAULT,
                 profile: str | None = None, **options: Any) -> Any:
        case = self.case
        with warnings.catch_warnings():  # the compat cases write weak algorithms on purpose
            warnings.simplefilter("ignore", WeakCryptoWarning)
            return open_store(self.location, password=case.password if password is DEFAULT else password,
                              type=case.format, create=create, writable=writable, fresh=create and case.files,
                              profile=profile or case.profile, **{**case.options, **options})


class MemoryOpener(Opener):
    """Re-opening a memory store gives the same entries; a `with` block that fails keeps the old ones."""

    def __init__(self, case: Case) -> None:
        super().__init__(case, "memory:contract")
        self.kept: dict[str, Entry] = {}

    def __call__(self, create: bool = False, writable: bool = False, password: Any = DEFAULT,
                 profile: str | None = None, **options: Any) -> Any:
        opener = self
        if create:
            self.kept = {}

        class Reopened(MemoryStore):
            def save(self_inner) -> None:
                opener.kept = dict(self_inner._entries)

        # open_store checks the profile and options (and then makes an empty store): the same refusals as elsewhere
        open_store(self.location, type="memory", profile=profile or self.case.profile, **options).close()
        store = Reopened.open(self.location, profile=profile or self.case.profile)
        store._entries = dict(self.kept)
        return store


def make_opener(case: Case, tmp_path: Path, request: pytest.FixtureRequest) -> Opener:
    if case.where == "memory":
        return MemoryOpener(case)
    if case.where == "token":
        token = request.getfixturevalue("softhsm").make_token()
        return Opener(Case(case.id, case.format, case.where, password=token.pin), token.uri)
    return Opener(case, case.where.format(tmp_path))


def _verify(public_key: Any, signature: bytes, data: bytes) -> None:
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        public_key.verify(signature, data)


def _request_entry(label: str) -> Entry:
    key = ec_key(77)
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "contract request")]))
           .sign(key, hashes.SHA256()))
    return Entry(label=label, kind=EntryKind.REQUEST, request=csr, key=key)


class BackendContract:
    """Every test takes `opener` (see Opener); tests/test_backend_suite.py runs them against every Case."""

    def _fill(self, opener: Callable[..., Any], *entries: Entry) -> None:
        with opener(create=True, writable=True) as store:
            for entry in entries:
                store.add(entry)

    @staticmethod
    def _capabilities(opener: Callable[..., Any]) -> Any:
        store = opener(create=True, writable=True)
        caps = store.capabilities
        store.close()
        return caps

    # --- entries in and out ------------------------------------------------------------------------------------
    def test_round_trip_keys_and_trusted_certs(self, opener):
        caps = self._capabilities(opener)
        entries = [trusted_entry("root ca")]
        if caps.private_keys:
            entries += [key_pair_entry("server1", index=1), key_pair_entry("server2", index=2, use_ec=True)]
        self._fill(opener, *entries)
        with opener() as store:
            labels = {label.lower() for label in store.labels()}
            assert labels == {e.label.lower() for e in entries}
            for original in entries:
                got = store.get(original.label)
                assert got.kind is original.kind
                assert got.chain[0] == original.chain[0]
                if original.kind is EntryKind.KEY_PAIR:
                    assert same_key(got.key.public_key if isinstance(got.key, KeyRef) else got.key, original.key)
                    assert len(got.chain) == len(original.chain)
                else:
                    assert got.trust is not None

    def test_missing_label_lists_existing(self, opener):
        self._fill(opener, trusted_entry("root ca"))
        with opener() as store, pytest.raises(EntryNotFound) as info:
            store.get("nope")
        assert "root ca" in str(info.value)

    def test_duplicate_label_refused_unless_replace(self, opener):
        self._fill(opener, trusted_entry("root ca"))
        with opener(writable=True) as store:
            with pytest.raises(EntryExists):
                store.add(trusted_entry("root ca", index=1))
            store.add(trusted_entry("root ca", index=1), replace=True)
        with opener() as store:
            assert store.get("root ca").chain[0] == trusted_entry("x", index=1).chain[0]

    def test_remove_and_rename(self, opener):
        self._fill(opener, trusted_entry("one"), trusted_entry("two", index=1))
        with opener(writable=True) as store:
            store.remove("one")
            store.rename("two", "three")
        with opener() as store:
            assert [label.lower() for label in store.labels()] == ["three"]

    def test_failure_inside_context_writes_nothing(self, opener):
        """A failed `with` block writes nothing; a token, whose writes are immediate (no transactions in PKCS#11),
        leaves itself exactly as it was when an add is refused."""
        self._fill(opener, trusted_entry("one"))
        with opener(writable=True) as store:
            transactional = store.capabilities.transactional
        if transactional:
            with pytest.raises(RuntimeError), opener(writable=True) as store:
                store.remove("one")
                raise RuntimeError("boom")
        else:
            from cryptography.hazmat.primitives.asymmetric import ed448

            odd = Entry(label="odd", kind=EntryKind.KEY_PAIR, key=ed448.Ed448PrivateKey.generate(),
                        chain=key_pair_entry("x").chain)
            with opener(writable=True) as store, pytest.raises(CapabilityError, match="Ed448"):
                store.add(odd)
        with opener() as store:
            assert [label.lower() for label in store.labels()] == ["one"]

    def test_awkward_labels_are_kept_as_given(self, opener):
        """Unicode and punctuation labels come back as given (JKS-like formats lower-case them, as keytool does)."""
        caps = self._capabilities(opener)
        entries = [trusted_entry(label, index=i) for i, label in enumerate(AWKWARD_LABELS)]
        if caps.private_keys:
            entries.append(key_pair_entry("clé privée №1", index=3))
        self._fill(opener, *entries)
        with opener() as store:
            fold = str.lower if store.case_insensitive_labels else str
            assert sorted(store.labels()) == sorted(fold(e.label) for e in entries)
            for original in entries:
                assert store.get(original.label).chain[0] == original.chain[0]

    def test_secret_keys_follow_capability(self, opener):
        secret = Entry(label="aes", kind=EntryKind.SECRET_KEY, secret=SecretKey("AES", bytes(range(32))))
        with opener(create=True, writable=True) as store:
            if not store.capabilities.secret_keys:
                with pytest.raises(CapabilityError) as info:
                    store.add(secret)
                assert info.value.capability == "secret_keys"
                return
            store.add(secret)
        with opener() as store:
            assert store.get("aes").secret.value == bytes(range(32))

    def test_pending_requests_follow_capability(self, opener):
        pending = _request_entry("request")
        with opener(create=True, writable=True) as store:
            if not store.capabilities.pending_requests:
                with pytest.raises(CapabilityError) as info:
                    store.add(pending)
                assert info.value.capability == "pending_requests"
                return
            store.add(pending)
        with opener() as store:
            got = store.get("request")
            assert got.kind is EntryKind.REQUEST and got.request == pending.request

    def test_bare_keys_follow_capability(self, opener):
        bare = key_pair_entry("bare", index=4).with_(chain=())
        with opener(create=True, writable=True) as store:
            if not store.capabilities.bare_keys:
                with pytest.raises(CapabilityError) as info:
                    store.add(bare)
                assert info.value.capability == "bare_keys"
                return
            store.add(bare)
        with opener() as store:
            if "bare" in store.labels():
                got = store.get("bare")
                assert got.kind is EntryKind.KEY_PAIR and same_key(got.public_key, bare.key)
                return
            # PEM and NSS keep a key without a certificate, but not as an entry (nothing names it): a note says so.
            assert any("private key" in note for note in store.notes), store.notes

    def test_a_key_that_cannot_leave_its_token_is_refused(self, opener):
        """A token key (a KeyRef marked non-extractable) is never written anywhere as if it were a key."""
        original = key_pair_entry("on a token", index=5)
        held = original.with_(key=KeyRef("on a token", b"\x05", original.key.public_key(), extractable=False))
        with opener(create=True, writable=True) as store:
            with pytest.raises(CapabilityError) as info:
                store.add(held)
            assert info.value.capability == "extractable_keys"
            store.add(trusted_entry("root ca"))
        with opener() as store:
            assert [label.lower() for label in store.labels()] == ["root ca"]

    # --- the default flag, trust, stash: kept, or refused by name ----------------------------------------------
    def test_default_flag_is_kept_or_refused_with_a_note(self, opener):
        """README: a default is never dropped silently. A format with a default keeps one (the last given); one
        without stores the entry plainly and says so in a note naming it."""
        with opener(create=True, writable=True) as store:
            caps = store.capabilities
            store.add(key_pair_entry("a", index=1, default=True))
            store.add(key_pair_entry("b", index=2, default=True))
            notes = list(store.notes)
        with opener() as store:
            defaults = [e.label for e in store.entries() if e.default]
        if caps.default_flag:
            assert defaults == ["b"]
        else:
            assert defaults == []
            for label in ("a", "b"):
                assert any(f"'{label}'" in note and "default" in note for note in notes), notes

    def test_set_default_follows_capability(self, opener):
        self._fill(opener, key_pair_entry("a", index=1), key_pair_entry("b", index=2, default=True))
        with opener(writable=True) as store:
            if not store.capabilities.default_flag:
                with pytest.raises(CapabilityError) as info:
                    store.set_default("a")
                assert info.value.capability == "default_flag"
                return
            store.set_default("a")
        with opener() as store:
            assert [e.label for e in store.entries() if e.default] == ["a"]

    def test_trust_follows_capability(self, opener):
        self._fill(opener, trusted_entry("root ca"))
        some_purposes = Trust(email=False, code_signing=False)
        with opener(writable=True) as store:
            caps = store.capabilities
            if not caps.trust:
                with pytest.raises(CapabilityError) as info:
                    store.set_trust("root ca", None)
                assert info.value.capability == "trust"
                return
            if not caps.trust_purposes:
                with pytest.raises(CapabilityError) as info:
                    store.set_trust("root ca", some_purposes)
                assert info.value.capability == "trust_purposes"
            if caps.untrusted_certificates:
                store.set_trust("root ca", None)
        with opener() as store:
            got = store.get("root ca")
            assert got.kind is (EntryKind.CERTIFICATE if caps.untrusted_certificates else EntryKind.TRUSTED_CERT)
        if caps.trust_purposes:
            with opener(writable=True) as store:
                store.set_trust("root ca", some_purposes)
            with opener() as store:
                assert store.get("root ca").trust.purposes == ["tls_server", "tls_client"]

    def test_stash_follows_capability(self, opener):
        self._fill(opener, trusted_entry("root ca"))
        with opener(writable=True) as store:
            if not store.capabilities.stash:
                with pytest.raises(CapabilityError) as info:
                    store.write_stash()
                assert info.value.capability == "stash"
                return
            written = store.write_stash(8)
        assert Path(written).is_file()
        with opener(password=None) as store:  # the stash opens it
            assert [label.lower() for label in store.labels()] == ["root ca"]

    def test_protection_is_structured(self, opener):
        self._fill(opener, key_pair_entry("server", index=1), trusted_entry("root ca"))
        with opener() as store:
            protection = store.protection()
            assert isinstance(protection, Protection) and isinstance(protection.weak, bool)
            assert isinstance(protection.remedy, Hint) and protection.remedy.render() != protection.remedy.render(
                "option")  # the remedy names the keyword in Python and the option in the CLI
            for name, part in protection.parts.items():
                assert name and part.text and isinstance(part.weak, bool)
                assert all(isinstance(algorithm, str) for algorithm in part.algorithms)
            assert store_data(store, [])["protection"] == protection.as_text()

    # --- keys at work ----------------------------------------------------------------------------------------------
    def test_signer_signs_with_each_key(self, opener):
        entries = [key_pair_entry("rsa key", index=1), key_pair_entry("ec key", index=2, use_ec=True),
                   trusted_entry("root ca")]
        self._fill(opener, *entries)
        with opener() as store:
            for original in entries[:2]:
                signature = store.signer(original.label).sign(b"signed by the contract", "sha256")
                _verify(original.key.public_key(), signature, b"signed by the contract")
            with pytest.raises(KeystoreError):
                store.signer("root ca")

    def test_key_generation_follows_capability(self, opener):
        with opener(create=True, writable=True) as store:
            if not store.capabilities.key_generation:
                with pytest.raises(CapabilityError) as info:
                    store.generate_key("made here", KeySpec.parse("ec:p256"))
                assert info.value.capability == "key_generation"
                return
            ref = store.generate_key("made here", KeySpec.parse("ec:p256"))
            signer = ref.signer if ref.signer is not None else store.signer("made here")
            _verify(ref.public_key, signer.sign(b"made and signed here", "sha256"), b"made and signed here")

    def test_decrypter_opens_rsa_key_transport(self, opener):
        """store.decrypter(label) decrypts PKCS#1 v1.5 key transport with the entry's RSA key wherever it lives (on
        the token for PKCS#11); an EC key or a certificate alone is refused by name."""
        caps = self._capabilities(opener)
        entries = [trusted_entry("root ca")]
        if caps.private_keys:
            entries += [key_pair_entry("server1", index=1), key_pair_entry("server2", index=2, use_ec=True)]
        self._fill(opener, *entries)
        with opener() as store:
            with pytest.raises(KeystoreError):
                store.decrypter("root ca")
            if not caps.private_keys:
                return
            decrypter = store.decrypter("server1")
            wrapped = decrypter.public_key.encrypt(b"content key 0123456789abcdef012", padding.PKCS1v15())
            assert decrypter.decrypt(wrapped) == b"content key 0123456789abcdef012"
            with pytest.raises(KeystoreError):
                store.decrypter("server2")

    def test_password_change(self, opener):
        """The new password (or PIN) opens the store and its keys; the old one no longer does."""
        original = key_pair_entry("server", index=1)
        self._fill(opener, original, trusted_entry("root ca"))
        with opener(writable=True) as store:
            if not store.capabilities.password:
                with pytest.raises(CapabilityError) as info:
                    store.set_password(NEW_PASSWORD)
                assert info.value.capability == "password"
                return
            store.set_password(NEW_PASSWORD)
        with opener(password=NEW_PASSWORD) as store:
            signature = store.signer("server").sign(b"after the change", "sha256")
            _verify(original.key.public_key(), signature, b"after the change")
        with pytest.raises((WrongPassword, PasswordRequired)), opener() as store:
            store.signer("server").sign(b"with the old password", "sha256")

    def test_notes_are_one_line_and_hold_no_secret(self, opener):
        self._fill(opener, key_pair_entry("server", index=1, default=True), trusted_entry("root ca"))
        with opener(writable=True) as store:
            store.add(key_pair_entry("other", index=2, default=True))
            store.rename("other", "renamed")
            notes = list(store.notes)
        with opener() as store:
            list(store.entries())
            notes += store.notes
        for note in notes:
            assert isinstance(note, str) and note and "\n" not in note
            assert PASSWORD not in note and "Contract-Pw" not in note

    # --- entries are independent (issue 11) ------------------------------------------------------------------
    @staticmethod
    def _odd_entry() -> Entry:
        """A trusted certificate cryptography cannot fully decode (a key algorithm no library knows)."""
        return Entry(label="odd", kind=EntryKind.TRUSTED_CERT, chain=(decode_certificate(undecodable_certificate()),),
                     trust=TRUST_ALL)

    def test_undecodable_certificate_lists_shows_and_round_trips_byte_for_byte(self, opener):
        store = opener(create=True, writable=True)
        with store:
            store.add(trusted_entry("root ca"))
            if not store.capabilities.undecoded_entries:
                with pytest.raises(CapabilityError) as info:
                    store.add(self._odd_entry())
                assert info.value.label == "odd" and "cannot be decoded" in info.value.reason
                return
            store.add(self._odd_entry())
        with opener() as store:
            odd = next(e for e in store.entries() if e.label.lower() == "odd")
            assert odd.chain[0].public_bytes() == undecodable_certificate()
            shown = entry_data(odd, detail=True)
            assert shown["problem"] and UNKNOWN_KEY_ALGORITHM in shown["problem"]
            assert shown["key_type"] == UNKNOWN_KEY_ALGORITHM and shown["subject"] == "O=keystores tests,CN=odd 0"
            assert shown["serial"] and shown["not_after"] and shown["chain"][0]["problem"] == shown["problem"]
            assert entry_row(odd)["subject"] == "O=keystores tests,CN=odd 0"
            root = next(e for e in store.entries() if e.label.lower() == "root ca")
            assert entry_data(root)["problem"] is None

    def test_transfer_names_what_cannot_go_and_skip_unreadable_writes_the_rest(self, opener):
        source = MemoryStore.open("memory")
        source.add(trusted_entry("root ca"))
        source.add(self._odd_entry())
        with opener(create=True, writable=True) as dest:
            if dest.capabilities.undecoded_entries:
                assert sorted(copy_entries(source, dest)) == ["odd", "root ca"]
                carried = True
            else:
                with pytest.raises(EntriesRefused) as info:
                    copy_entries(source, dest)
                assert [label for label, _ in info.value.refused] == ["odd"] and len(dest.labels()) == 0
                left_out: list[tuple[str, str]] = []
                assert copy_entries(source, dest, skip_unreadable=True, left_out=left_out) == ["root ca"]
                assert [label for label, _ in left_out] == ["odd"]
                carried = False
        with opener() as store:
            labels = sorted(label.lower() for label in store.labels())
            assert labels == (["odd", "root ca"] if carried else ["root ca"])
            if carried:
                assert store.get("odd").chain[0].public_bytes() == undecodable_certificate()

    # --- what open_store refuses -------------------------------------------------------------------------------
    def test_unknown_profile_is_refused(self, opener):
        with pytest.raises(UsageError, match="garbage"):
            opener(create=True, writable=True, profile="garbage").close()

    def test_unknown_option_is_refused(self, opener):
        with pytest.raises(UsageError, match="no_such_option"):
            opener(create=True, writable=True, no_such_option=1).close()


# --- damaged input: the formats that live in files --------------------------------------------------------------
def _main_file(location: str) -> Path:
    return Path(location[4:]) / "key4.db" if location.startswith("sql:") else Path(location)


def damaged_input_is_refused_by_name(opener: Opener) -> None:
    """Truncated or bit-flipped, a store opens and reads whole or fails with one of our errors, never another
    exception; cut to half it never reads as a whole store."""
    original = key_pair_entry("server", index=1)
    with opener(create=True, writable=True) as store:
        store.add(original)
        store.add(trusted_entry("root ca"))
    path = _main_file(opener.location)
    data = path.read_bytes()
    damages = {"half": data[: len(data) // 2], "flipped middle": data[: len(data) // 2] + bytes(
        [data[len(data) // 2] ^ 0x5A]) + data[len(data) // 2 + 1:], "zero tail": data[:-64] + bytes(64)}
    for what, damaged in damages.items():
        path.write_bytes(damaged)
        try:
            with opener() as store:
                entries = list(store.entries())
                for entry in entries:
                    with contextlib.suppress(KeystoreError):
                        entry_data(entry, detail=True)
                whole = sorted(e.label for e in entries) == ["root ca", "server"] and not store.notes
        except KeystoreError as exc:
            assert str(exc) and "\n" not in str(exc), (what, exc)
            continue
        if what == "half":
            assert not whole, "half a store read as the whole store"
    path.write_bytes(data)


def read_only_formats_refuse_to_write(tmp_path: Path) -> None:
    """A format whose record declares no write profile refuses to be written, by name."""
    read_only = [record for record in formats.records() if not record.writes and record.storage is Storage.FILE]
    assert read_only, "no read-only format to check"
    for record in read_only:
        with pytest.raises(CapabilityError):
            open_store(record.address_in(tmp_path), password=PASSWORD, type=record.name, create=True)
