"""The pkcs11 backend on real SoftHSM2 tokens, judged by pkcs11-tool (OpenSC) and openssl. No mocks."""

from __future__ import annotations

import shutil
import signal
import subprocess

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding
from helpers import ca, certificate, key_pair_entry, trusted_entry

from keystores.errors import (
    CapabilityError,
    EntryExists,
    PasswordRequired,
    StoreNotFound,
    TokenNotFound,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
)
from keystores.model import TRUST_ALL, Entry, EntryKind, KeyRef, KeySpec, SecretKey
from keystores.store import open_store
from softhsm import softhsm, softhsm_token  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.interop
needs_pkcs11_tool = pytest.mark.skipif(shutil.which("pkcs11-tool") is None, reason="pkcs11-tool (opensc) absent")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl absent")


def _open(token, *, writable=False, password=None):
    return open_store(token.uri, password=token.pin if password is None else password, writable=writable)


def _objects(token) -> list[dict[str, str]]:
    return token.objects()


@pytest.fixture
def token(softhsm):  # noqa: F811
    return softhsm.make_token()


@pytest.mark.parametrize("spec", ["rsa:2048", "ec:p256", "ec:p384", "ec:p521", "ed25519"])
def test_generated_keys_are_sensitive_and_sign_verifiably(token, spec):
    with _open(token, writable=True) as store:
        ref = store.generate_key("made-here", KeySpec.parse(spec))
        assert isinstance(ref, KeyRef) and ref.sensitive and not ref.extractable
        signature = ref.signer.sign(b"to be signed", "sha256")
    public = ref.public_key
    if isinstance(public, ed25519.Ed25519PublicKey):
        public.verify(signature, b"to be signed")
    elif isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, b"to be signed", ec.ECDSA(hashes.SHA256()))  # DER ECDSA-Sig-Value
    else:
        public.verify(signature, b"to be signed", padding.PKCS1v15(), hashes.SHA256())
    with _open(token) as store:
        entry = store.get("made-here")
        assert entry.kind is EntryKind.KEY_PAIR and entry.chain == ()
        assert entry.public_key is not None and entry.key.key_id == ref.key_id


@needs_openssl
@pytest.mark.parametrize("spec", ["rsa:2048", "ec:p384", "ed25519"])
def test_openssl_verifies_token_signatures(token, spec, tmp_path):
    with _open(token, writable=True) as store:
        ref = store.generate_key("k", KeySpec.parse(spec))
        signature = store.signer("k").sign(b"payload", "sha384")
    (tmp_path / "pub.pem").write_bytes(ref.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "data").write_bytes(b"payload")
    (tmp_path / "sig").write_bytes(signature)
    if spec == "ed25519":
        argv = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", "data",
                "-sigfile", "sig"]
    else:
        argv = ["openssl", "dgst", "-sha384", "-verify", "pub.pem", "-signature", "sig", "data"]
    done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "Verified" in done.stdout, done.stdout + done.stderr


@needs_pkcs11_tool
def test_imported_key_pair_shares_id_and_label_as_pkcs11_tool_sees_it(token):
    entry = key_pair_entry("server", index=1)
    with _open(token, writable=True) as store:
        store.add(entry)
    objects = _objects(token)
    mine = [o for o in objects if o.get("label") == "server"]
    assert sorted(o["type"] for o in mine) == ["Certificate", "Private Key", "Public Key"]
    assert len({o["ID"] for o in mine}) == 1
    # The issuer went on the token too, and the entry's chain finds it again.
    assert any(o["type"] == "Certificate" and "Test Root CA 0" in o.get("subject", "") for o in objects)
    with _open(token) as store:
        got = store.get("server")
        assert got.chain == entry.chain and isinstance(got.key, KeyRef) and got.key.sensitive
        # the untrusted issuer is part of the chain, and an entry of its own too, as pkcs11-tool -O lists it
        assert store.labels() == ["Test Root CA 0", "server"]
        assert store.get("Test Root CA 0").kind is EntryKind.CERTIFICATE


@needs_pkcs11_tool
def test_reads_what_pkcs11_tool_wrote(token, tmp_path):
    made = token.tool("--keypairgen", "--key-type", "EC:prime256v1", "--label", "tool-key", "--id", "a1b2")
    assert made.returncode == 0, made.stderr
    with _open(token, writable=False) as store:
        ref = store.get("tool-key").key
        public = ref.public_key
    cert = certificate(_FakeKey(public), "tool-key", *ca())
    (tmp_path / "c.der").write_bytes(cert.public_bytes(serialization.Encoding.DER))
    wrote = token.tool("--write-object", str(tmp_path / "c.der"), "--type", "cert", "--label", "tool-key",
                       "--id", "a1b2")
    assert wrote.returncode == 0, wrote.stderr
    with _open(token) as store:
        entry = store.get("tool-key")
        assert entry.kind is EntryKind.KEY_PAIR and entry.certificate == cert
        assert entry.key.key_id == bytes.fromhex("a1b2")
        signature = store.signer("tool-key").sign(b"x", "sha256")
    public.verify(signature, b"x", ec.ECDSA(hashes.SHA256()))


class _FakeKey:
    """Lets helpers.certificate() certify a public key whose private half is on the token."""

    def __init__(self, public):
        self._public = public

    def public_key(self):
        return self._public


@needs_pkcs11_tool
def test_receive_writes_the_certificate_with_the_keys_id_and_replaces_an_older_one(token):
    ca_key, ca_cert = ca()
    with _open(token, writable=True) as store:
        ref = store.generate_key("web", KeySpec.parse("ec:p256"))
        first = certificate(_FakeKey(ref.public_key), "web v1", ca_key, ca_cert)
        store.add(Entry(label="web", kind=EntryKind.KEY_PAIR, chain=(first, ca_cert), key=ref))
        with pytest.raises(EntryExists):
            store.add(Entry(label="web", kind=EntryKind.KEY_PAIR, chain=(first,), key=ref))
        second = certificate(_FakeKey(ref.public_key), "web v2", ca_key, ca_cert)
        store.add(Entry(label="web", kind=EntryKind.KEY_PAIR, chain=(second, ca_cert), key=ref), replace=True)
    certs = [o for o in _objects(token) if o["type"] == "Certificate" and o.get("label") == "web"]
    assert len(certs) == 1 and "web v2" in certs[0]["subject"]
    assert certs[0]["ID"] == ref.key_id.hex()
    with _open(token) as store:
        assert store.get("web").chain == (second, ca_cert)


def test_a_certificate_for_another_key_is_refused(token):
    with _open(token, writable=True) as store:
        ref = store.generate_key("k", KeySpec.parse("ec:p256"))
        stranger = key_pair_entry("s", index=3).chain[0]
        with pytest.raises(UsageError, match="not the key's"):
            store.add(Entry(label="k", kind=EntryKind.KEY_PAIR, chain=(stranger,), key=ref))


@needs_pkcs11_tool
def test_rename_relabels_all_three_objects_and_remove_destroys_them(token):
    with _open(token, writable=True) as store:
        store.add(key_pair_entry("old", index=1))
        store.rename("old", "new")
    labels = {o["type"]: o.get("label") for o in _objects(token) if o.get("label") in ("old", "new")}
    assert labels == {"Private Key": "new", "Public Key": "new", "Certificate": "new"}
    with _open(token, writable=True) as store:
        store.remove("new")
    assert not [o for o in _objects(token) if o.get("label") in ("old", "new")]


class _Listing:
    """A session that notes each search (C_FindObjects) made through it."""

    def __init__(self, session, listed: list) -> None:
        self._session, self._listed = session, listed

    def get_objects(self, *args, **kwargs):
        self._listed.append(args)
        return self._session.get_objects(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self._session, name)


def _seen(store) -> list[tuple[str, str, tuple[bytes, ...], object]]:
    return [(e.label, e.kind.value, e.chain_der(), e.trust) for e in store.entries()]


def test_a_delete_lists_the_token_no_more_and_leaves_the_entries_a_fresh_open_reads(token, monkeypatch):
    """remove() takes the objects it destroyed out of the open's listing instead of listing the token again (five
    C_FindObjects, and python-pkcs11's reads of every object found); what the store then holds is what opening
    the token afresh reads: an issuer written as a chain certificate stays, as its own entry."""
    with _open(token, writable=True) as store:
        store.add(key_pair_entry("pair", index=1))  # with its CA, written as an untrusted chain certificate
        store.add(trusted_entry("anchor", index=2))
        store.add(key_pair_entry("other", index=3))
    for label in ("pair", "anchor", "other"):
        with _open(token, writable=True) as store:
            listed = []
            session = store._session
            monkeypatch.setattr(store, "_session", _Listing(session, listed))
            store.remove(label)
            monkeypatch.setattr(store, "_session", session)
            assert listed == []
            after = _seen(store)
        with _open(token) as fresh:
            assert after == _seen(fresh) and label not in fresh.labels()


class _VendorClassListing(_Listing):
    """A session whose search of every object fails as python-pkcs11 fails on an object of a vendor's class (an
    enum without that value: ValueError) after it has made the first objects."""

    def get_objects(self, *args, **kwargs):
        self._listed.append(args)
        found = self._session.get_objects(*args, **kwargs)
        if args and args[0]:
            return found

        def failing():
            first = next(found)
            found.close()  # python-pkcs11 ends the search (C_FindObjectsFinal) as the error leaves it
            yield first
            raise ValueError("3461563219 is not a valid ObjectClass")

        return failing()


@needs_pkcs11_tool
def test_a_listing_searches_the_token_once_and_finds_what_a_search_per_class_finds(token, tmp_path, monkeypatch):
    """_scan lists the token with one search of every object, sorted by class (a data object python-pkcs11 makes a
    plain Object of included); where that search fails (a vendor's class), one search per class lists it as
    before: the same entries and notes either way."""
    (tmp_path / "blob").write_bytes(b"opaque")
    done = token.tool("--write-object", str(tmp_path / "blob"), "--type", "data", "--label", "blob")
    assert done.returncode == 0, done.stderr
    with _open(token, writable=True) as store:
        store.add(key_pair_entry("pair", index=1))
        store.add(trusted_entry("anchor", index=2))
    with _open(token) as store:
        seen, notes = _seen(store), list(store.notes)
        assert any("1 data object(s)" in note for note in notes), notes
        session = store._session
        # the searches made, as the CKA_CLASS each asks for (None: every object): data 0, certificate 1, public
        # key 2, private key 3, secret key 4
        for listing, searches in ((_Listing, [None]), (_VendorClassListing, [None, 3, 2, 1, 4, 0])):
            listed: list = []
            monkeypatch.setattr(store, "_session", listing(session, listed))
            store._listed = {}
            store._scan()
            monkeypatch.setattr(store, "_session", session)
            assert [int(args[0][0]) if args and args[0] else None for args in listed] == searches
            assert _seen(store) == seen and store.notes == notes


def test_a_token_opened_read_only_refuses_every_change_as_the_writing_half_does(token):
    """Opened read-only, the store is a Pkcs11Store without its writing half (write.py, loaded by writable opens
    only): each change is refused as read-only, and check_entry still judges an entry as a writable store does."""
    from keystores.backends.pkcs11.store import Pkcs11Store
    from keystores.backends.pkcs11.write import WritablePkcs11Store

    secret = Entry(label="s", kind=EntryKind.SECRET_KEY, secret=SecretKey("AES", bytes(16)))
    with _open(token, writable=True) as store:
        assert isinstance(store, WritablePkcs11Store) and isinstance(store, Pkcs11Store)
        store.add(key_pair_entry("pair", index=1))
        with pytest.raises(CapabilityError) as writable_refusal:
            store.check_entry(secret)
    with _open(token) as store:
        assert type(store) is Pkcs11Store
        with pytest.raises(CapabilityError) as read_only_refusal:
            store.check_entry(secret)
        assert read_only_refusal.value.reason == writable_refusal.value.reason
        store.check_entry(trusted_entry("anchor"))
        for change in (lambda: store.add(trusted_entry("anchor")), lambda: store.remove("pair"),
                       lambda: store.rename("pair", "other"), lambda: store.set_password("123456"),
                       lambda: store.generate_key("k", KeySpec.parse("ec:p256"))):
            with pytest.raises(UsageError, match="read-only"):
                change()
        assert store.labels() == ["Test Root CA 0", "pair"]  # the pair's CA is on the token too


def test_the_mechanism_list_is_read_when_a_key_is_used_not_to_list(token):
    """C_GetMechanismList (and python-pkcs11's enum of each mechanism) only where a token key signs or is made."""
    with _open(token, writable=True) as store:
        store.add(key_pair_entry("pair", index=1, use_ec=True))
        assert "_mechanisms" not in vars(store)
    with _open(token) as store:
        assert [entry.label for entry in store.entries()][-1] == "pair" and "_mechanisms" not in vars(store)
        signature = store.signer("pair").sign(b"payload", "sha256")
        assert "_mechanisms" in vars(store)
    public = store.get("pair").chain[0].public_key()
    public.verify(signature, b"payload", ec.ECDSA(hashes.SHA256()))


def test_trusted_certificates_keep_their_trust(token):
    with _open(token, writable=True) as store:
        store.add(trusted_entry("anchor"))
        store.add(Entry(label="just-there", kind=EntryKind.TRUSTED_CERT, chain=(ca(1)[1],)))
    with _open(token) as store:
        assert store.get("anchor").trust is not None
        assert store.get("just-there").trust is None


def test_wrong_pin_is_one_attempt_and_no_pin_asks_for_one(token):
    with pytest.raises(WrongPassword) as info:
        _open(token, password="999999")
    assert "999999" not in str(info.value) and token.pin not in str(info.value)
    with pytest.raises(PasswordRequired):
        open_store(token.uri, password=None)
    with _open(token) as store:  # the right PIN still works: one wrong attempt did not lock anything
        assert store.labels() == []


def test_the_token_is_connected_to_on_a_thread_of_its_own_begun_before_the_backend_import(token, monkeypatch):
    """open_store calls the format record's `begin` (connecting.begin) before it imports the backend: for a read-only
    open, the module is loaded, the token found and logged in to on a worker (python-pkcs11 lets the GIL go in
    C_Initialize and C_Login) whose signals are all blocked, so that a Ctrl-C goes to the opening thread. The store
    is open once logged in; open_store raises what connecting raised, as before, and no session is left open. A
    write, and a store made directly (Pkcs11Store(...)), connect on the calling thread."""
    import _signal
    import _thread

    from keystores.backends.pkcs11 import connecting as module
    from keystores.backends.pkcs11 import tokens
    from keystores.backends.pkcs11.store import Pkcs11Store

    threads: list[int] = []
    masks: list[set[int]] = []
    connect = module.connect

    def recorded(*args, **kwargs):
        threads.append(_thread.get_ident())
        masks.append(set(_signal.pthread_sigmask(_signal.SIG_BLOCK, [])))
        return connect(*args, **kwargs)

    monkeypatch.setattr(module, "connect", recorded)
    sessions = +tokens._OPEN_SESSIONS
    with _open(token) as store:
        assert store._session is not None and store.labels() == []
        assert sessions != +tokens._OPEN_SESSIONS
    with pytest.raises(WrongPassword) as wrong:
        _open(token, password="999999")
    assert "wrong user PIN" in str(wrong.value) and wrong.value.exit_code == 3
    with pytest.raises(PasswordRequired):
        open_store(token.uri, password=None)
    with pytest.raises(TokenNotFound) as missing:
        open_store(f"pkcs11:token=nope?module-path={token.module}", password=token.pin)
    assert missing.value.exit_code == 4
    assert len(threads) == 4 and _thread.get_ident() not in threads
    with _open(token, writable=True) as store:  # a write connects on its own thread (measured: no gain there)
        assert store.labels() == [] and len(threads) == 4
    assert all(_signal.SIGINT in mask and _signal.SIGTERM in mask for mask in masks)
    assert sessions == +tokens._OPEN_SESSIONS and module._pending == {}
    with Pkcs11Store(token.uri, password=token.pin) as direct:  # (store.connect: the function, not the patched name)
        assert direct.labels() == [] and len(threads) == 4 and module._pending == {}
    assert sessions == +tokens._OPEN_SESSIONS


def test_an_open_begun_ahead_logs_in_only_when_the_store_is_opened(token, monkeypatch):
    """keystores.store.begin_opening (the CLI calls it once it has read the command line) has a worker load the
    module and find the token, and wait: the login is made with the PIN and mode of the open that follows, on the
    worker, and only if an open follows. An open of another token, or a store made directly, goes on as without it;
    what connecting raised, open_store raises as before; no session is left open."""
    import _thread

    from keystores.backends.pkcs11 import connecting as module
    from keystores.backends.pkcs11 import tokens
    from keystores.backends.pkcs11.store import Pkcs11Store
    from keystores.store import begin_opening

    logins: list[tuple[int, str | None, bool]] = []
    log_in = module.log_in

    def recorded(token_, pin, writable, *args, **kwargs):
        logins.append((_thread.get_ident(), pin, writable))
        return log_in(token_, pin, writable, *args, **kwargs)

    monkeypatch.setattr(module, "log_in", recorded)
    sessions = +tokens._OPEN_SESSIONS
    begin_opening(token.uri)
    pending = module._pending[_thread.get_ident()]
    assert pending.awaiting and pending.args[2:4] == (None, False)
    module.abandon_pending()  # no open came: nothing was logged in to
    assert logins == [] and module._pending == {} and sessions == +tokens._OPEN_SESSIONS
    begin_opening(token.uri)
    with _open(token) as store:
        assert store.labels() == []
    assert logins == [(logins[0][0], token.pin, False)] and logins[0][0] != _thread.get_ident()
    begin_opening(token.uri)
    with pytest.raises(WrongPassword) as wrong:
        _open(token, password="999999")
    assert wrong.value.exit_code == 3 and len(logins) == 2  # one attempt
    begin_opening(token.uri)
    with pytest.raises(PasswordRequired):
        open_store(token.uri, password=None)
    begin_opening(token.uri)
    with _open(token, writable=True) as store:  # a write's login, begun ahead, is read-write
        store.add(trusted_entry("ahead"))
    assert logins[-1][1:] == (token.pin, True)
    nope = f"pkcs11:token=nope?module-path={token.module}"
    begin_opening(nope)
    with pytest.raises(TokenNotFound) as missing:
        open_store(nope, password=token.pin)
    assert missing.value.exit_code == 4 and len(logins) == 4
    begin_opening(nope)  # another token's open abandons it, and connects to its own
    with _open(token) as store:
        assert store.labels() == ["ahead"]
    begin_opening(token.uri)
    with Pkcs11Store(token.uri, password=token.pin) as direct:  # a store made directly takes it up too
        assert direct.labels() == ["ahead"]
    begin_opening(token.uri, password=token.pin)  # the PIN given: logged in to at once, on the worker
    assert module._pending[_thread.get_ident()].args[2:4] == (token.pin, False)
    with _open(token) as store:
        assert store.labels() == ["ahead"]
    begin_opening(token.uri, password="999999")
    with pytest.raises(WrongPassword):
        _open(token, password="999999")
    begin_opening(token.uri, password=token.pin)
    with _open(token, writable=True) as store:  # another mode: that session is closed, and a write's opened
        assert store.labels() == ["ahead"]
    begin_opening("/nonexistent/x.p12")  # a file's store begins nothing
    begin_opening("pkcs11:token=x?module-path=/nonexistent/libnothing.so")
    assert module._pending == {} and sessions == +tokens._OPEN_SESSIONS
    assert [pin for _, pin, _ in logins] == [token.pin, "999999", None, token.pin, token.pin, token.pin, token.pin,
                                             "999999", token.pin, token.pin]
    assert [writable for _, _, writable in logins[-3:]] == [False, False, True]

    def no_thread(*args):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(module, "start_new_thread", no_thread)  # where no thread can be had: connected here
    begin_opening(token.uri)
    module.abandon_pending()
    begin_opening(token.uri)
    with _open(token) as store:
        assert store.labels() == ["ahead"]
    assert logins[-1] == (_thread.get_ident(), token.pin, False) and len(logins) == 11
    assert module._pending == {} and sessions == +tokens._OPEN_SESSIONS


def test_the_cli_begins_the_store_it_opens_ahead(monkeypatch, tmp_path):
    """cli.main begins the opening of the store a list, show or export names as soon as it has read the command
    line, with the --module given and the PIN read there and handed to the command (read once: cli.common's
    read_ahead); not read there from a terminal or pass:, nor for an export that refuses its output before it
    opens the store. The store an import, delete or rename writes to is begun without its PIN. Any other command,
    or a --type, begins nothing there."""
    import inspect

    from keystores.cli import common, main

    import keystores.store

    begun: list[tuple[str, str | None, dict[str, str]]] = []
    monkeypatch.setattr(keystores.store, "begin_opening",
                        lambda location, password=None, **options: begun.append((location, password, options)))
    for name in [*main._OPENS_FIRST, *main._WRITES_TO]:
        module, _, function = name.rpartition(".")
        parameters = inspect.signature(getattr(__import__(module, fromlist=[function]), function)).parameters
        assert {"module", "password"} <= set(parameters)
        assert {"store", "store_type"} <= set(parameters) or {"locations", "dest_type", "cert"} <= set(parameters)
    from keystores.cli.stores import delete_entry, list_entries, rename_entry, show_entry
    from keystores.cli.transfer import import_cmd
    from keystores.cli.transfer_export import export_cmd

    pin = tmp_path / "pin"
    pin.write_text("1234\n")
    exists = tmp_path / "exists.pem"
    exists.write_text("x")
    monkeypatch.setenv("T_PIN", "5678")
    main._begin_opening(list_entries, {"store": "pkcs11:token=a", "password": f"file:{pin}", "module": None})
    main._begin_opening(export_cmd, {"store": "pkcs11:token=b", "module": "/m.so", "label": "x", "password": None,
                                     "out": str(tmp_path / "new.pem")})
    main._begin_opening(export_cmd, {"store": "pkcs11:token=c", "password": "env:T_PIN", "out": str(exists)})
    main._begin_opening(export_cmd, {"store": "pkcs11:token=d", "password": "env:T_PIN", "out": str(exists),
                                     "force": True})
    main._begin_opening(show_entry, {"store": "pkcs11:token=e", "password": "pass:1111"})
    main._begin_opening(show_entry, {"store": "pkcs11:token=f", "password": "env:NOT_SET_HERE"})
    main._begin_opening(list_entries, {"store": "pkcs11:token=g", "store_type": "pkcs11"})
    main._begin_opening(list_entries, {"store": "one.p12", "password": f"file:{pin}"})
    assert begun == [("pkcs11:token=a", "1234", {}), ("pkcs11:token=b", None, {"module": "/m.so"}),
                     ("pkcs11:token=c", None, {}), ("pkcs11:token=d", "5678", {}), ("pkcs11:token=e", None, {})]
    # a write's store is begun without its secret (the open logs in, read-write): the token written to
    begun.clear()
    read = dict(common._read_ahead)
    main._begin_opening(delete_entry, {"store": "pkcs11:token=h", "label": "x", "password": f"file:{pin}"})
    main._begin_opening(rename_entry, {"store": "pkcs11:token=i", "module": "/m.so", "password": f"file:{pin}"})
    main._begin_opening(import_cmd, {"locations": ["a.pem", "pkcs11:token=j"], "dest_password": f"file:{pin}"})
    main._begin_opening(import_cmd, {"locations": ["pkcs11:token=k"], "cert": "c.pem", "dest_password": "env:T_PIN"})
    main._begin_opening(import_cmd, {"locations": ["pkcs11:token=l", "b.p12"]})  # (a token source: read first)
    main._begin_opening(import_cmd, {"locations": ["a.pem", "pkcs11:token=m"], "dest_type": "pkcs11"})
    main._begin_opening(rename_entry, {"store": "pkcs11:token=n", "store_type": "pkcs11"})
    main._begin_opening(import_cmd, {"locations": []})
    assert begun == [("pkcs11:token=h", None, {}), ("pkcs11:token=i", None, {"module": "/m.so"}),
                     ("pkcs11:token=j", None, {}), ("pkcs11:token=k", None, {})]
    assert common._read_ahead == read
    # each secret read ahead is the command's, once: the next read is a read again
    pin.write_text("9999\n")
    assert common.secret_from(f"file:{pin}", "password") == "1234"
    assert common.secret_from(f"file:{pin}", "password") == "9999"
    assert common.secret_from("env:T_PIN", "password") == "5678" and common._read_ahead == {
        ("env:NOT_SET_HERE", "password"): common._read_ahead[("env:NOT_SET_HERE", "password")]}
    with pytest.raises(UsageError, match="environment variable"):  # the error reading it ahead, raised there
        common.secret_from("env:NOT_SET_HERE", "password")
    assert common._read_ahead == {}


def test_where_no_thread_can_be_had_the_token_is_connected_to_on_the_opening_thread(token, monkeypatch):
    """connecting.Connecting.start falls back to connecting on the opening thread when no thread can be started
    (it released its handshake lock twice there: "RuntimeError: release unlocked lock", an internal error), and
    leaves that thread's signals as they were (a worker blocks every signal; the opening thread must not)."""
    import _signal
    import _thread

    from keystores.backends.pkcs11 import connecting as module
    from keystores.backends.pkcs11 import tokens

    threads: list[int] = []
    connect = module.connect

    def recorded(*args, **kwargs):
        threads.append(_thread.get_ident())
        return connect(*args, **kwargs)

    def no_thread(*args):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(module, "connect", recorded)
    monkeypatch.setattr(module, "start_new_thread", no_thread)
    sessions = +tokens._OPEN_SESSIONS
    mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, [])
    with _open(token) as store:
        assert store.labels() == []
    with pytest.raises(WrongPassword):
        _open(token, password="999999")
    assert threads == [_thread.get_ident()] * 2 and _signal.pthread_sigmask(_signal.SIG_BLOCK, []) == mask
    assert module._pending == {} and sessions == +tokens._OPEN_SESSIONS


def test_an_open_interrupted_while_its_token_is_connected_to_leaves_no_session_open(token, monkeypatch):
    """A Ctrl-C on the opening thread while the worker logs in (here: as it returns) stops the open, and the session
    the worker opened is closed (connecting.abandon_pending: by the next open, or at exit), not left logged in."""
    import _thread

    from keystores.backends.pkcs11 import connecting as module
    from keystores.backends.pkcs11 import tokens

    connect = module.connect

    def interrupted(*args, **kwargs):
        done = connect(*args, **kwargs)
        _thread.interrupt_main()  # SIGINT's handler runs on the opening thread
        return done

    monkeypatch.setattr(module, "connect", interrupted)
    sessions = +tokens._OPEN_SESSIONS
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's (a test that ran the CLI in this
    try:  # process left the CLI's, which raises its own interrupt)
        with pytest.raises(KeyboardInterrupt), _open(token):
            pass
    finally:
        signal.signal(signal.SIGINT, handler)
    module.abandon_pending()  # what the next open, or atexit, does
    assert sessions == +tokens._OPEN_SESSIONS and module._pending == {}
    monkeypatch.setattr(module, "connect", connect)
    with _open(token) as store:  # the token is as it was
        assert store.labels() == []
    assert sessions == +tokens._OPEN_SESSIONS


def test_unknown_token_lists_the_tokens_that_exist(softhsm_token):  # noqa: F811
    with pytest.raises(TokenNotFound) as info:
        open_store(f"pkcs11:token=nope?module-path={softhsm_token.module}", password=softhsm_token.pin)
    assert "keystores-test" in str(info.value) and info.value.exit_code == 4


def test_bad_modules(softhsm_token, tmp_path):  # noqa: F811
    with pytest.raises(StoreNotFound) as missing:
        open_store("pkcs11:token=x?module-path=/nonexistent/libnothing.so", password="1")
    assert missing.value.exit_code == 4
    not_a_library = tmp_path / "fake.so"
    not_a_library.write_bytes(b"not an ELF file")
    with pytest.raises(UnsupportedFormat) as foreign:
        open_store(f"pkcs11:token=x?module-path={not_a_library}", password="1")
    assert foreign.value.exit_code == 1 and "not a shared library" in str(foreign.value)


def test_exporting_a_token_key_is_refused(token, tmp_path):
    from keystores.ops.transfer import export_entry

    with _open(token, writable=True) as store:
        store.add(key_pair_entry("server", index=1))
    with pytest.raises(CapabilityError) as info:
        export_entry(token.uri, "server", str(tmp_path / "out.p12"), password=token.pin, dest_password="x",
                     out_format="p12")
    assert "non-extractable" in str(info.value) and info.value.exit_code == 1
    assert not (tmp_path / "out.p12").exists()


def test_trusting_an_issuer_already_on_the_token_keeps_one_copy(token):
    entry = key_pair_entry("server", index=1)  # its issuer goes on the token as an untrusted certificate
    with _open(token, writable=True) as store:
        store.add(entry)
        store.add(Entry(label="root", kind=EntryKind.TRUSTED_CERT, chain=(entry.chain[1],), trust=TRUST_ALL))
    with _open(token) as store:
        assert sorted(store.labels()) == ["root", "server"]
        assert store.get("root").trust is not None and store.get("server").chain == entry.chain
    assert sum(1 for o in token.objects() if o["type"] == "Certificate") == 2


def test_replace_never_destroys_a_token_key(token):
    with _open(token, writable=True) as store:
        store.generate_key("precious", KeySpec.parse("ec:p256"))
        with pytest.raises(EntryExists, match="never destroys"):
            store.add(trusted_entry("precious"), replace=True)
        with pytest.raises(EntryExists, match="never destroys"):
            store.add(key_pair_entry("precious", index=2), replace=True)
    assert sum(1 for o in token.objects() if o["type"] == "Private Key") == 1


def test_repeated_labels_are_numbered_and_receive_keeps_the_token_label(token):
    """A repeated CKA_LABEL is shown as every backend shows a repeat (keystores.pki.labels): "twin (2)"."""
    ca_key, ca_cert = ca()
    with _open(token, writable=True) as store:
        first = store.generate_key("twin", KeySpec.parse("ec:p256"))
    made = token.tool("--keypairgen", "--key-type", "EC:prime256v1", "--label", "twin", "--id", "0b0b")
    assert made.returncode == 0, made.stderr
    with _open(token, writable=True) as store:
        labels = sorted(store.labels())
        assert labels == ["twin", "twin (2)"]
        suffixed = store.get(labels[1])
        assert suffixed.key.key_id == max(first.key_id, bytes.fromhex("0b0b"))  # numbered in CKA_ID order
        cert = certificate(_FakeKey(suffixed.public_key), "twin two", ca_key, ca_cert)
        store.add(suffixed.with_(chain=(cert,)), replace=True)
        assert {store.get(label).key.key_id for label in labels} == {first.key_id, bytes.fromhex("0b0b")}
        assert store.get(labels[1]).certificate == cert
    assert {o.get("label") for o in token.objects()} == {"twin"}  # the suffix never reaches the token


@needs_pkcs11_tool
def test_objects_we_do_not_list_are_named_in_a_note(token, tmp_path):
    (tmp_path / "blob").write_bytes(b"opaque")
    for args in (("--write-object", str(tmp_path / "blob"), "--type", "data", "--label", "blob"),
                 ("--keygen", "--key-type", "AES:32", "--label", "aes")):
        done = token.tool(*args)
        assert done.returncode == 0, done.stderr
    with _open(token, writable=True) as store:
        store.add(trusted_entry("anchor"))
        assert store.labels() == ["anchor"]
        assert any("1 secret key(s), 1 data object(s)" in note for note in store.notes), store.notes


def test_a_token_is_found_by_serial_too(token):
    from keystores.backends.pkcs11.admin import token_infos
    from keystores.backends.pkcs11.tokens import load_module

    _open(token).close()  # finds the new token (re-initialising the module once if it was loaded before)
    serial = next(t.serial for t in token_infos(load_module(token.module)) if t.label == token.label)
    with open_store(f"pkcs11:serial={serial}?module-path={token.module}", password=token.pin) as store:
        assert store.token_label == token.label


@needs_pkcs11_tool
def test_certificate_written_by_another_program_that_cryptography_refuses_lists(softhsm, tmp_path):  # noqa: F811
    """Entries are independent: a certificate pkcs11-tool stored whose key algorithm no library knows is listed
    with its problem, and the token's other objects are unaffected."""
    from helpers import UNKNOWN_KEY_ALGORITHM, undecodable_certificate

    from keystores.ops.describe import entry_data

    token = softhsm.make_token()
    odd = tmp_path / "odd.der"
    odd.write_bytes(undecodable_certificate())
    assert token.tool("--write-object", str(odd), "--type", "cert", "--id", "0a", "--label", "odd").returncode == 0
    with _open(token, writable=True) as store:
        store.add(trusted_entry("root ca"))
    with _open(token) as store:
        shown = entry_data(store.get("odd"))
        assert shown["key_type"] == UNKNOWN_KEY_ALGORITHM and UNKNOWN_KEY_ALGORITHM in shown["problem"]
        assert store.get("odd").chain[0].public_bytes() == undecodable_certificate()
        assert entry_data(store.get("root ca"))["problem"] is None



_EVERY_ATTRIBUTE = ("CLASS", "TOKEN", "PRIVATE", "MODIFIABLE", "LABEL", "COPYABLE", "DESTROYABLE", "KEY_TYPE", "ID",
                    "START_DATE", "END_DATE", "DERIVE", "LOCAL", "KEY_GEN_MECHANISM", "ALLOWED_MECHANISMS",
                    "SUBJECT", "SENSITIVE", "DECRYPT", "SIGN", "SIGN_RECOVER", "UNWRAP", "EXTRACTABLE",
                    "ALWAYS_SENSITIVE", "NEVER_EXTRACTABLE", "WRAP_WITH_TRUSTED", "ALWAYS_AUTHENTICATE", "EC_PARAMS",
                    "EC_POINT", "MODULUS", "PUBLIC_EXPONENT", "ENCRYPT", "VERIFY", "VERIFY_RECOVER", "WRAP",
                    "TRUSTED", "CERTIFICATE_TYPE", "CERTIFICATE_CATEGORY", "CHECK_VALUE", "ISSUER", "SERIAL_NUMBER",
                    "VALUE", "URL", "HASH_OF_SUBJECT_PUBLIC_KEY", "HASH_OF_ISSUER_PUBLIC_KEY",
                    "JAVA_MIDP_SECURITY_DOMAIN")


def _token_objects(token) -> list[dict[str, object]]:
    """Every object on the token as {attribute name: the token's bytes, or the error reading it gives}."""
    import pkcs11
    from pkcs11 import Attribute, PKCS11Error
    from pkcs11.attributes import AttributeMapper

    raw = AttributeMapper()
    for name in _EVERY_ATTRIBUTE:
        raw.register_handler(Attribute[name], bytes, bytes)
    found = []
    with pkcs11.lib(token.module).get_token(token_label=token.label).open(user_pin=token.pin,
                                                                         attribute_mapper=raw) as session:
        for obj in session.get_objects({}):
            attributes: dict[str, object] = {}
            for name in _EVERY_ATTRIBUTE:
                try:
                    attributes[name] = obj[Attribute[name]]
                except PKCS11Error as exc:
                    attributes[name] = type(exc).__name__
            found.append(attributes)
    return sorted(found, key=lambda o: (o["CLASS"], o["LABEL"]))


def test_objects_copied_onto_softhsm_hold_what_a_direct_create_gives(softhsm):  # noqa: F811
    """On SoftHSM certificates and keys are made as session objects and copied onto the token (one file write
    instead of one per attribute): every object holds, byte for byte, every attribute C_CreateObject of the same
    template gives (a sensitive key's secret parts stay unreadable), so pkcs11-tool, NSS and Java read the same."""
    entries = [key_pair_entry("pair", use_ec=True), trusted_entry("anchor", index=1)]
    copied, created = softhsm.make_token(), softhsm.make_token()
    for token, copies in ((copied, True), (created, False)):
        with _open(token, writable=True) as store:
            assert store.protection()["token"].text.endswith("(SoftHSM project SoftHSM v2)")  # a copying token
            store._copy_onto_token = copies  # the way every other token writes
            for entry in entries:
                store.add(entry)
    objects = _token_objects(copied)
    # the issuer (untrusted, labelled by its CN), the trusted certificate, and the key pair's certificate,
    # public key and private key (CKO_CERTIFICATE 1, CKO_PUBLIC_KEY 2, CKO_PRIVATE_KEY 3)
    assert [(o["CLASS"][0], o["LABEL"]) for o in objects] == [(1, b"Test Root CA 0"), (1, b"anchor"), (1, b"pair"),
                                                              (2, b"pair"), (3, b"pair")]
    assert objects[-1]["SENSITIVE"] == b"\1" and objects[-1]["TOKEN"] == b"\1"
    assert objects == _token_objects(created)


def test_entries_after_adds_in_one_session_are_what_a_fresh_open_lists(token):
    """After each add the store lists what it made without listing the token again (and certificates without a
    scan at all): what it then shows must be what a new open reads from the token."""
    def seen(store):
        return sorted((e.label, e.kind, e.trust is not None, tuple(c.serial_number for c in e.chain),
                       e.public_key is not None) for e in store.entries())

    with _open(token, writable=True) as store:
        store.add(trusted_entry("anchor", index=2))
        store.add(key_pair_entry("first", index=3, use_ec=True))
        store.add(Entry(label="plain", kind=EntryKind.TRUSTED_CERT, chain=(ca(3)[1],)))
        store.add(key_pair_entry("second", index=4, use_ec=True))
        during = seen(store)
    with _open(token) as store:
        assert seen(store) == during
    assert {label for label, *_ in during} >= {"anchor", "first", "plain", "second"}
