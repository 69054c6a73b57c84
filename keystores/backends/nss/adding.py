"""What an add becomes in an NSS database, functions of a WritableNssStore (`store`) imported on the first add,
trust set or expect_write: the add's checks (ChangeLog.add), the certificate, trust and key objects as NSS lays them
out, their integrity MACs and encrypted values (their derivations made ahead where a write knows them early). A
rename, delete or trust removed lays nothing out and loads none of it (issue 15).
"""

from __future__ import annotations

from keystores.backends.nss import crypto as nc
from keystores.backends.nss import db
from keystores.backends.nss import trust as nt
from keystores.backends.nss.db import sqlite3
from keystores.crypto import der
from keystores.crypto.der import integer as der_integer
from keystores.errors import (
    REPLACE,
    CorruptStore,
    EntryExists,
    UsageError,
)
from keystores.model import Entry, EntryKind, KeyRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.backends.nss.transaction import WritableNssStore, Writer
    from keystores.crypto.kdf_pool import Pending
    from keystores.pki import key_attributes as ka


class _Held:
    """A certificate as the writer lays it out: its DER, issuer and subject (each Name's DER) and serial (a DER
    INTEGER) as NSS stores them, its CKA_ID, fingerprints and the name parts of a nickname. Read from the DER where
    keystores.pki.shown reads the certificate (cryptography then decodes it fully and re-encodes the names and
    serial to these same bytes: tests/test_nss_write_lean.py holds the two readings equal over the
    cryptography-vectors certificates), so that an import into NSS or a trust change decodes no certificate:
    importing cryptography.x509 was a third of such a write's start-up (issue 15). Else read from cryptography's
    certificate, as before."""

    __slots__ = ("cert", "der", "issuer", "serial", "shown", "subject")

    def __init__(self, der: bytes, shown: Any = None, cert: Any = None) -> None:
        self.der, self.shown, self.cert = der, shown, cert
        if shown is not None:
            from keystores.pki.columns import certificate_names

            names = certificate_names(der)
            assert names is not None  # shown read the same layout
            self.issuer, self.subject = names
            self.serial = der_integer(shown.serial)

    def __getattr__(self, name: str) -> Any:
        """issuer, subject and serial of a decoded certificate, read on first use: after ChangeLog.add has checked
        the certificate (a damaged one is refused there, naming the entry, before anything reads it)."""
        if name not in ("issuer", "subject", "serial") or self.cert is None:
            raise AttributeError(name)
        from keystores.pki.certificates import serial_of

        cert = self.cert
        self.issuer, self.subject = cert.issuer.public_bytes(), cert.subject.public_bytes()
        self.serial = der_integer(serial_of(cert))
        return getattr(self, name)

    def key_id(self) -> bytes:
        """CKA_ID of the certificate's key (keystores.pki.key_attributes.key_id; empty for a key type it does not
        cover), from the DER where spki_key_id reads it."""
        if self.shown is not None:
            from keystores.pki.cka import spki_key_id  # loaded by the NSS store already
            from keystores.pki.columns import subject_and_key

            held = subject_and_key(self.der)
            found = spki_key_id(held[1]) if held is not None else None
            if found is not None:
                return found
        # here only: a certificate whose key the DER form does not cover (~23 KB of bytecode)
        from keystores.pki import key_attributes as ka

        return ka.key_id(self.decoded().public_key()) or b""

    def spki(self) -> bytes | None:
        """The SubjectPublicKeyInfo as encoded in the certificate, where shown read it; else None."""
        if self.shown is None:
            return None
        from keystores.pki.columns import subject_and_key

        held = subject_and_key(self.der)
        return held[1] if held is not None else None

    def fingerprint(self, hash_name: str) -> bytes:
        return nc.hash_new(hash_name, self.der).digest()  # _hashlib's, without hashlib's import

    def nickname_parts(self) -> tuple[list[str], list[str], str]:
        """The subject's CNs, Os and RFC 4514 text, as cryptography's Name gives them."""
        if self.shown is not None:
            from keystores.pki.shown import name_values

            return (name_values(self.subject, "2.5.4.3"), name_values(self.subject, "2.5.4.10"),
                    self.shown.subject)
        from cryptography.x509.oid import NameOID

        subject = self.decoded().subject
        return ([str(a.value) for a in subject.get_attributes_for_oid(NameOID.COMMON_NAME)],
                [str(a.value) for a in subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)],
                subject.rfc4514_string())

    def decoded(self) -> Any:
        if self.cert is None:
            from keystores.pki.certificates import decode_certificate

            self.cert = decode_certificate(self.der)
        return self.cert


class Stored:
    """A certificate as its object in cert9.db holds it (DER, issuer and serial as stored): what insert_trust reads
    of a certificate whose trust alone changes."""

    __slots__ = ("der", "issuer", "serial")

    def __init__(self, der: bytes, issuer: bytes, serial: bytes) -> None:
        self.der, self.issuer, self.serial = der, issuer, serial

    def fingerprint(self, hash_name: str) -> bytes:
        return nc.hash_new(hash_name, self.der).digest()  # _hashlib's, without hashlib's import


def held_chain(entry: Entry) -> list[_Held]:
    """The entry's chain as the writer lays it out: over the DER its source still holds where keystores.pki.shown
    reads every certificate of it (nothing is decoded), else over the decoded certificates."""
    ders = entry.undecoded_chain
    if ders is not None:
        from keystores.pki.shown import read_shown

        shown = [read_shown(der) for der in ders]
        if None not in shown:
            return [_Held(der, each) for der, each in zip(ders, shown, strict=True)]
    return [_Held(der, cert=cert) for der, cert in zip(entry.chain_der(), entry.chain, strict=True)]


def _stored(attrs: dict[int, ka.Value]) -> dict[int, bytes]:
    """Attribute values as NSS's columns hold them: CK_ULONG as 4 big-endian bytes, CK_BBOOL as one byte."""
    return {attr: (db.TRUE if value else db.FALSE) if isinstance(value, bool)
            else db.ulong(value) if isinstance(value, int) else value for attr, value in attrs.items()}


class _Ahead:
    """Derivations started ahead of a write (derive_ahead) under one passKey and iteration count."""

    def __init__(self, key: bytes, iterations: int, *, spare_caller: bool) -> None:
        from keystores.crypto.kdf_pool import KdfPool

        self.key, self.iterations = key, iterations
        self.pool = KdfPool("nss-ahead", spare_caller=spare_caller)
        self.hinted = 0  # how many the write is expected to take: by the hint (expect_write), by the adds so far;
        self.added = 0  # the adds' are the hint's first (a hinted key's add starts nothing more)
        self.trusted = False  # a trusted entry's 7 counted in `added` (the write's first only: derive_ahead)
        self.started = 0
        self.made: list[Pending[tuple[bytes, bytes]]] = []  # started and not taken yet, oldest first

    def start(self) -> None:
        while self.started < max(self.hinted, self.added):
            self.made.append(self.pool.submit(self.iterations, nc.fresh_derivation, self.key, self.iterations))
            self.started += 1


class _Then:
    """`call(*args, derived=...)` on the main thread once the derivation made ahead is there: what a Pending of
    the whole call would give (result()), the HMAC or AES being microseconds."""

    __slots__ = ("_args", "_call", "_derived", "_kwargs")

    def __init__(self, derived: Pending[tuple[bytes, bytes]], call: Any, /, *args: Any, **kwargs: Any) -> None:
        self._derived, self._call, self._args, self._kwargs = derived, call, args, kwargs

    def result(self) -> bytes:
        return self._call(*self._args, derived=self._derived.result(), **self._kwargs)

class _NotReadable(Exception):
    """A certificate's public key is of a type cryptography does not read."""


def _checked(cert: Any) -> Any:
    """`cert` after decoding everything cryptography decodes lazily; ValueError/TypeError when damaged."""
    from cryptography.exceptions import UnsupportedAlgorithm

    from keystores.pki.certificates import fully_decoded

    try:
        return fully_decoded(cert)
    except UnsupportedAlgorithm as exc:
        raise _NotReadable(str(exc)) from exc


def add(store: WritableNssStore, entry: Entry, *, replace: bool) -> None:
    """ChangeLog.add: the entry checked (NssStore.check_entry: what the format takes) and queued."""
    store._require_writable()
    store.check_entry(entry)
    # A key pair's derivations start now, before the checks below (derive_ahead: its two at least), and the first
    # trusted entry's 7 (its trust object's MACs); not for a label taken that is not to be replaced (refused below).
    # Should a check refuse the entry, they serve the next add of this write, or are dropped at close.
    if replace or entry.label not in store._entries:
        if entry.kind is EntryKind.KEY_PAIR:
            derive_ahead(store, 2)
        if nt.from_model(entry.trust) is not None:
            derive_ahead(store, 7, trust=True)

    entry = store._without_default(entry)
    # A chain held as DER that keystores.pki.shown reads needs no check: cryptography decodes it fully
    # (held_chain then lays it out from the DER, importing no cryptography.x509: start-up, issue 15).
    chain = held_chain(entry)
    for held in chain:
        if held.cert is None:
            continue
        try:
            _checked(held.cert)
        except (ValueError, TypeError, _NotReadable) as exc:
            raise CorruptStore(f"a certificate of the entry is damaged ({exc.__class__.__name__} while "
                               "decoding it)", store=store.location, label=entry.label) from exc
    # A key held as PKCS#8 (not loaded: key_values) is compared with the certificate by its bytes.
    held = entry.held_pkcs8() if entry.kind is EntryKind.KEY_PAIR else None
    if held is None and entry.kind is EntryKind.KEY_PAIR and isinstance(entry.key, KeyRef):
        raise UsageError("the private key lives on a token and cannot be copied", store=store.location,
                         label=entry.label)
    if chain and (held is not None or entry.key is not None):
        # The same SubjectPublicKeyInfo bytes are the same key; other bytes are compared as loaded keys.
        key_spki = held_ec_spki(held) if held is not None else None
        if key_spki is None:
            from keystores.crypto.key_encoding import spki_der

            key_spki = spki_der(entry.key.public_key())
        if key_spki != chain[0].spki():
            from keystores.model import public_key_fingerprint

            if public_key_fingerprint(entry.key.public_key()) != public_key_fingerprint(
                    chain[0].decoded().public_key()):
                raise UsageError("the private key does not belong to the certificate", store=store.location,
                                 label=entry.label)
    if entry.label in store._entries:
        if not replace:
            raise EntryExists("an entry with this label exists", store=store.location, label=entry.label,
                              hint=REPLACE)
        store.remove(entry.label)
    store._entries[entry.label] = entry
    store._ops.append(("add", entry))
    store._dirty = True


def start_mac(store: WritableNssStore, conn: sqlite3.Connection, kind: str, object_id: int, mac_id: int, attr: int,
              value: bytes) -> None:
    """Start the attribute's integrity MAC (fresh salt, the database's iteration count, as NSS makes it);
    SqlWrites._store_pending (transaction.py) writes it."""
    from keystores.backends.nss.macs import make_mac  # here: a rename, delete or trust off makes no MAC

    assert store._pass_key is not None
    derived = take_derived(store)
    if derived is not None:
        mac: Pending[bytes] | _Then = _Then(derived, make_mac, store._pass_key, mac_id, attr, value,
                                            iterations=store._iterations)
    else:
        mac = store._kdf.submit(store._iterations, make_mac, store._pass_key, mac_id, attr, value,
                               iterations=store._iterations)
    store._pending_macs.append((f"sig_{kind}_{object_id:08x}_{attr:08x}", mac))


def derive_ahead(store: WritableNssStore, count: int, *, hinted: bool = False, trust: bool = False) -> None:
    """Start `count` more derivations for the next write (or, `hinted`, up to `count` in all), on a pool of
    their own: fresh salts and keys (nc.fresh_derivation) under the passKey and iteration count the database
    has now, which start_mac and encrypt take one each instead of deriving their own. Neither depends on the value
    it serves, and an add (`add`) knows how many it needs: a key pair 2 (an EC key's every one; an RSA
    key's first two, the rest derived in the write as before), a trusted entry 7 (its trust object's MACs: with
    `trust`, for the write's first trusted entry only; a bundle's others are derived in the write, beside its
    layout, as before). So the write, which lays out its rows first and only then submitted its derivations (~3
    ms later: `convert` into a new database, `import` of a certificate), finds them made or in the making, and
    its main thread runs those no worker has begun, from the last (SqlWrites._store_pending), while the workers
    take them from the first. Nothing is started without a passKey, on one core, or for an empty password's 1
    iteration."""
    key = store._pass_key
    if key is None or store._iterations < nc.DEFAULT_ITERATIONS or count <= 0:  # (a hint of no keys: import's)
        return
    ahead = store._ahead
    if ahead is None or ahead.key != key or ahead.iterations != store._iterations:
        from keystores.crypto.pbkdf2 import usable_cores

        if usable_cores() < 2:
            return
        store._drop_ahead()
        # Begun for a trusted entry's 7 (a write of certificates: only its first trusted entry's are made ahead),
        # one worker: the main thread, busy laying the entry out, keeps a core and derives what no worker has begun
        # when it asks (SqlWrites._store_pending). With two workers, three runnable threads on two cores kept the
        # main thread of `import extra.pem sql:nss` waiting for a core 6.8 ms against 3.0 ms so (median of 61 runs,
        # its schedstat run delay). A write's keys (a hint, an add) keep a worker per core, as before.
        ahead = store._ahead = _Ahead(key, store._iterations, spare_caller=trust)
    if hinted:
        ahead.hinted = max(ahead.hinted, count)
    elif trust:
        if ahead.trusted:
            return
        ahead.trusted = True
        ahead.added += count
    else:
        ahead.added += count
    ahead.start()


def take_up(store: WritableNssStore, derived: list[Pending[tuple[bytes, bytes]]]) -> None:
    """Derivations begun for a new database before its backend was imported (begun.py), under the passKey and
    count the store has now taken from there: the next write's first, as if derive_ahead had started them (they
    run on the pool that began them, which the store leaves at close; more are started on this one's own)."""
    store._drop_ahead()
    ahead = store._ahead = _Ahead(store._pass_key, store._iterations, spare_caller=False)
    ahead.made.extend(derived)
    ahead.started = len(derived)


def take_derived(store: WritableNssStore) -> Pending[tuple[bytes, bytes]] | None:
    """One derivation made ahead under the passKey and count the write uses now, or None (then the caller
    derives its own). Each is handed out once: a salt serves one attribute."""
    ahead = store._ahead
    if ahead is None or not ahead.made or ahead.key != store._pass_key or ahead.iterations != store._iterations:
        return None
    return ahead.made.pop(0)


def encrypt(store: WritableNssStore, value: bytes, key: bytes) -> Pending[bytes] | _Then:
    """Start encrypting one private attribute under passKey `key` as NSS does (fresh salt, the database's
    iteration count)."""
    derived = None if store._legacy or key != store._pass_key else take_derived(store)  # legacy: its own KDF
    if derived is not None:
        return _Then(derived, nc.encrypt_value, value, key, iterations=store._iterations)
    return store._kdf.submit(store._iterations, nc.encrypt_value, value, key, iterations=store._iterations,
                            legacy=store._legacy)


def insert_entry(store: WritableNssStore, writer: Writer, entry: Entry) -> None:
    conn = writer.conn
    if not (entry.undecoded_chain or entry.chain):  # a key without a certificate (PKCS#12 and PEM hold those
        insert_key(store, writer, entry, None, entry.label)  # too): the key alone
        return
    chain = held_chain(entry)
    leaf = chain[0]
    same = store._cert_rows(conn, "a11=?", (leaf.der,))
    if same:
        object_id, nickname = same[0][0], (db.plain(same[0][1]) or b"").decode("utf-8", "replace")
        if nickname and object_id not in store._chain_only | store._chain_written and nickname != entry.label:
            raise EntryExists(f"this certificate is already in the database as '{nickname}' (NSS keeps one "
                              "nickname per certificate)", store=store.location, label=entry.label)
        # A chain certificate becomes an entry of its own: give it the entry's nickname.
        conn.execute("UPDATE cert.nssPublic SET a3=? WHERE id=?", (entry.label.encode("utf-8"), object_id))
        leaf_id = object_id
    else:
        leaf_id = insert_cert(store, writer, leaf, entry.label)
    if entry.kind is EntryKind.KEY_PAIR:
        ckaid = insert_key(store, writer, entry, leaf, entry.label)
        conn.execute("UPDATE cert.nssPublic SET a102=? WHERE id=?", (ckaid, leaf_id))
        for cert in chain[1:]:
            if not store._cert_rows(conn, "a11=?", (cert.der,)):
                store._chain_written.add(insert_cert(store, writer, cert, free_nickname(store, conn, cert)))
    levels = nt.from_model(entry.trust)
    if levels is not None:
        insert_trust(store, writer, leaf, levels)


def free_nickname(store: WritableNssStore, conn: sqlite3.Connection, cert: _Held) -> str:
    """A nickname for a chain certificate, built from its subject as NSS does ("CN - O")."""
    same_subject = store._cert_rows(conn, "a101=?", (cert.subject,))
    if same_subject and same_subject[0][1]:
        return db.plain(same_subject[0][1]).decode("utf-8", "replace")  # type: ignore[union-attr]
    cn, org, text = cert.nickname_parts()
    base = " - ".join(cn[:1] + org[:1]) or text
    name, number = base, 2
    while store._cert_rows(conn, "a3=?", (name.encode(),)) or name in store._entries:
        name, number = f"{base} #{number}", number + 1
    return name


def insert_cert(store: WritableNssStore, writer: Writer, cert: _Held, label: str) -> int:
    object_id = writer.new_id("cert", db.PUBLIC_TABLE)
    writer.insert("cert", db.PUBLIC_TABLE, object_id, {
        db.CKA_CLASS: db.ulong(db.CKO_CERTIFICATE), db.CKA_TOKEN: db.TRUE, db.CKA_PRIVATE: db.FALSE,
        db.CKA_LABEL: label.encode("utf-8"), db.CKA_VALUE: cert.der, db.CKA_CERTIFICATE_TYPE: db.ulong(0),
        db.CKA_ISSUER: cert.issuer, db.CKA_SERIAL_NUMBER: cert.serial,
        db.CKA_SUBJECT: cert.subject, db.CKA_ID: cert.key_id(), db.CKA_MODIFIABLE: db.TRUE,
    })
    return object_id


def insert_trust(store: WritableNssStore, writer: Writer, cert: _Held | Stored, levels: nt.Levels) -> None:
    conn = writer.conn
    issuer, serial = cert.issuer, cert.serial
    for (old_id,) in conn.execute("SELECT id FROM cert.nssPublic WHERE a0 IN (?, ?) AND a81=? AND a82=?",
                                  (db.ulong(db.CKO_NSS_TRUST), db.ulong(db.CKO_TRUST), issuer, serial)):
        writer.delete("cert", db.PUBLIC_TABLE, old_id, "main", "cert")
    object_id = writer.new_id("cert", db.PUBLIC_TABLE)
    authenticated = {
        db.CKA_TRUST_SERVER_AUTH: db.ulong(levels.server), db.CKA_TRUST_CLIENT_AUTH: db.ulong(levels.client),
        db.CKA_TRUST_CODE_SIGNING: db.ulong(levels.code),
        db.CKA_TRUST_EMAIL_PROTECTION: db.ulong(levels.email),
        db.CKA_TRUST_STEP_UP_APPROVED: db.TRUE if levels.step_up else db.FALSE,
        db.CKA_CERT_SHA1_HASH: cert.fingerprint("sha1"),
        db.CKA_CERT_MD5_HASH: cert.fingerprint("md5"),
    }
    writer.insert("cert", db.PUBLIC_TABLE, object_id, {
        db.CKA_CLASS: db.ulong(db.CKO_NSS_TRUST), db.CKA_TOKEN: db.TRUE, db.CKA_PRIVATE: db.FALSE,
        db.CKA_LABEL: b"", db.CKA_ISSUER: issuer, db.CKA_SERIAL_NUMBER: serial, db.CKA_MODIFIABLE: db.TRUE,
        **authenticated,
    })
    for attr, value in authenticated.items():
        start_mac(store, conn, "cert", object_id, object_id, attr, value)


def key_values(store: WritableNssStore, entry: Entry,
               label: str) -> tuple[dict[int, ka.Value], dict[int, ka.Value], bytes]:
    """The private key's values, its public key's values and its CKA_ID, as keystores.pki.key_attributes lays
    them out: from the PKCS#8 the entry holds without loading the key where it gives one (an EC key still sealed
    as read, keystores.pki.pkcs8.pkcs8_of_ec_der; cryptography is then not loaded for it: convert, import), else
    from the loaded key. tests/test_nss_write_lean.py holds the first to the second."""
    from keystores.pki import key_attributes as ka

    held = entry.held_pkcs8()
    if held is not None:
        found = _held_ec_values(held)
        if found is not None:
            return found
    key = entry.key
    values = ka.private_key_attributes(key)
    if values is None or values[ka.CKA_KEY_TYPE] not in (ka.CKK_RSA, ka.CKK_EC):
        from cryptography.hazmat.primitives.asymmetric import ec

        if isinstance(key, ec.EllipticCurvePrivateKey):
            raise UsageError(f"NSS stores EC keys on P-256/P-384/P-521, not {key.curve.name}",
                             store=store.location, label=label)
        raise UsageError(f"NSS databases hold RSA and EC keys here, not {type(key).__name__}",
                         store=store.location, label=label)
    public_values = ka.public_key_attributes(key.public_key())
    assert public_values is not None
    ckaid = ka.key_id(key.public_key())
    assert ckaid is not None
    return values, public_values, ckaid


def insert_key(store: WritableNssStore, writer: Writer, entry: Entry, leaf: _Held | None, label: str) -> bytes:
    """The private and public key objects (keystores.pki.key_attributes lays out the values and usages) as NSS's
    softoken writes an imported key: extractable (pk12util exports it), values encrypted, public values MACed."""
    from keystores.pki import key_attributes as ka

    conn = writer.conn
    assert store._pass_key is not None
    values, public_values, ckaid = key_values(store, entry, label)
    key_type = int(values[ka.CKA_KEY_TYPE])
    subject = leaf.subject if leaf is not None else b""
    stored = _stored(values)
    secret = {attr: value for attr, value in stored.items() if attr in db.ENCRYPTED}
    clear = {attr: value for attr, value in stored.items() if attr in db.AUTHENTICATED}
    # CKA_NSS_DB: the public value NSS finds a private key by (the modulus, or the EC point without its wrapping).
    public_stored = _stored(public_values)
    nss_db = stored[ka.CKA_MODULUS] if key_type == ka.CKK_RSA else ka.unwrap_point(public_stored[ka.CKA_EC_POINT])
    private_attrs = {
        db.CKA_CLASS: db.ulong(db.CKO_PRIVATE_KEY), db.CKA_TOKEN: db.TRUE, db.CKA_PRIVATE: db.TRUE,
        db.CKA_LABEL: label.encode("utf-8"), db.CKA_SUBJECT: subject, db.CKA_SENSITIVE: db.TRUE,
        db.CKA_START_DATE: b"", db.CKA_END_DATE: b"", db.CKA_EXTRACTABLE: db.TRUE, db.CKA_LOCAL: db.FALSE,
        db.CKA_NEVER_EXTRACTABLE: db.FALSE, db.CKA_ALWAYS_SENSITIVE: db.FALSE, db.CKA_MODIFIABLE: db.TRUE,
        db.CKA_ID: ckaid, **_stored(ka.usage_flags(key_type, private=True, every_flag=True)),
        **{attr: value for attr, value in stored.items() if attr not in secret}, db.CKA_NSS_DB: nss_db}
    public_attrs = {
        db.CKA_CLASS: db.ulong(db.CKO_PUBLIC_KEY), db.CKA_TOKEN: db.TRUE, db.CKA_PRIVATE: db.FALSE,
        db.CKA_LABEL: b"", db.CKA_SUBJECT: b"", db.CKA_START_DATE: b"", db.CKA_END_DATE: b"",
        db.CKA_LOCAL: db.FALSE, db.CKA_MODIFIABLE: db.TRUE, db.CKA_ID: ckaid,
        **_stored(ka.usage_flags(key_type, private=False, every_flag=True)), **public_stored}
    # Replace a key already stored under this CKA_ID (same key imported again).
    for (old_id,) in conn.execute("SELECT id FROM main.nssPrivate WHERE a102=?", (ckaid,)).fetchall():
        writer.delete("main", db.PRIVATE_TABLE, old_id, "main", "key")
    for (old_id,) in conn.execute("SELECT id FROM cert.nssPublic WHERE a0=? AND a102=?",
                                  (db.ulong(db.CKO_PUBLIC_KEY), ckaid)).fetchall():
        writer.delete("cert", db.PUBLIC_TABLE, old_id, "main", "cert")
    key_id = writer.new_id("main", db.PRIVATE_TABLE)
    encrypting = {attr: encrypt(store, value, store._pass_key) for attr, value in secret.items()}
    for attr, value in secret.items():
        start_mac(store, conn, "key", key_id, 0, attr, value)
    for attr, value in clear.items():
        start_mac(store, conn, "key", key_id, key_id, attr, value)
    writer.insert("main", db.PRIVATE_TABLE, key_id, private_attrs)
    store._pending_values.append(("main", db.PRIVATE_TABLE, key_id, encrypting))  # filled by _store_pending
    pub_id = writer.new_id("cert", db.PUBLIC_TABLE)
    writer.insert("cert", db.PUBLIC_TABLE, pub_id, public_attrs)
    for attr, value in clear.items():
        start_mac(store, conn, "cert", pub_id, pub_id, attr, value)
    return ckaid


def _held_ec(pkcs8: bytes) -> tuple[Any, bytes, bytes] | None:
    """(curve, scalar, uncompressed public point) of an EC key in the PKCS#8 keystores.pki.pkcs8 writes for it (its
    curve named, the scalar at the curve's length, the point libcrypto computed from it); None for any other layout
    (the caller loads the key then)."""
    from keystores.pki.curves import curve_of_params

    try:
        version, algorithm, key = der.inside(pkcs8, whole=True)
        oid, params = der.inside_element(pkcs8, algorithm)
        curve = curve_of_params(pkcs8[params[1]:params[3]])
        ec_private_key = der.element_octets(pkcs8, key)
        ec_version, scalar, public = der.inside(ec_private_key, whole=True)
        point_bits = ec_private_key[public[2]:public[3]]
        tag, start, end = der.read(point_bits, minimal=True)
        if (pkcs8[version[1]:version[3]] != b"\x02\x01\x00" or pkcs8[oid[1]:oid[3]] != _EC_PUBLIC_KEY
                or curve is None or ec_private_key[ec_version[1]:ec_version[3]] != b"\x02\x01\x01"
                or public[0] != 0xA1 or tag != 0x03 or end != len(point_bits) or point_bits[start] != 0):
            return None
        value = der.element_octets(ec_private_key, scalar)
        point = point_bits[start + 1:end]
    except (der.DerError, ValueError, IndexError):
        return None
    if len(value) != curve.size or point[:1] != b"\x04" or len(point) != 1 + 2 * curve.size:
        return None
    return curve, value, point


def _held_ec_values(pkcs8: bytes) -> tuple[dict[int, ka.Value], dict[int, ka.Value], bytes] | None:
    """`key_values` of an EC key from its PKCS#8 as `_held_ec` reads it: what private_key_attributes,
    public_key_attributes and key_id give of the loaded key; None where `_held_ec` gives None."""
    from keystores.pki import key_attributes as ka

    found = _held_ec(pkcs8)
    if found is None:
        return None
    curve, value, point = found
    return ({ka.CKA_KEY_TYPE: ka.CKK_EC, ka.CKA_EC_PARAMS: curve.params_der, ka.CKA_VALUE: value},
            {ka.CKA_KEY_TYPE: ka.CKK_EC, ka.CKA_EC_PARAMS: curve.params_der, ka.CKA_EC_POINT: der.octet_string(point)},
            nc.hash_constructor("sha1")(point).digest())  # hashlib.sha1, without hashlib's import


def held_ec_spki(pkcs8: bytes) -> bytes | None:
    """The SubjectPublicKeyInfo (DER) of an EC key in its PKCS#8 as `_held_ec` reads it, as cryptography writes it
    for the loaded key (the curve named, the point uncompressed); None where `_held_ec` gives None."""
    found = _held_ec(pkcs8)
    if found is None:
        return None
    curve, _, point = found
    return der.sequence(der.sequence(_EC_PUBLIC_KEY, curve.params_der), der.tlv(0x03, b"\x00" + point))


_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")  # id-ecPublicKey, as keystores.pki.pkcs8 writes it
