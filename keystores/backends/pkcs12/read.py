"""Reading a PKCS#12 file: PFX -> AuthenticatedSafe -> SafeContents -> bags, then bags -> entries.

How bags become entries (RFC 7292 says nothing about "entries"; this follows keytool where it can):
- every private key bag is a key-pair entry; its leaf is the certificate bag with the same localKeyId (else the
  one holding the same public key) and its chain is completed from *all* certificate bags by issuer name and
  signature, never by file order;
- a certificate bag with Java's trusted-certificate attribute (2.16.840.1.113894.746875.1.1) is a trusted-cert
  entry whose Trust says which extended key usages it lists;
- any other certificate bag that is not a key's leaf is an entry of kind "certificate" (trust None: present, not
  trusted), as `openssl pkcs12 -info` shows every bag: an OpenSSL `-nokeys` store, a bag with only a friendlyName,
  and an issuer inside a key pair's chain (`openssl pkcs12 -export -certfile`); the notes say keytool lists the
  ones outside a chain nowhere. They are written back without the Java attribute. A certificate that is both an
  entry and a key pair's chain member is written once, in the chain, with the entry's attributes; deleting a key
  pair removes the untrusted chain certificates no other key pair uses, as keytool -delete does.
- labels are friendlyName; an unnamed key is called "1", "2", ... as keytool does; an unnamed certificate takes
  its subject's common name. localKeyId values are kept across a rewrite.
- a Java secret-key bag (keytool -genseckey -storetype PKCS12) is a secret-key entry: its PKCS#8 names the key's
  algorithm by OID (AES, DESede, HmacSHA256 ...; an OID Java has no name for is kept as the dotted OID) and holds
  the raw key; it is written back the way JDK 17 writes it (localKeyId "Time <ms>").
"""

from __future__ import annotations

from keystores.backends.pkcs12 import structure
from keystores.backends.pkcs12.bags import (
    _CertBag,
    _java_time,
    _KeyBag,
    _note_suspicious,
    _Parsed,
    _secret_key,
    _SecretBag,
    _trust_from_oids,
)
from keystores.backends.pkcs12.mac import _verify_mac
from keystores.errors import (
    CorruptStore,
    IntegrityError,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.lazy_entries import LazyEntry, keys_wanted, sealed_entry
from keystores.lightweight import suppress
from keystores.limits import (
    KdfBudget,
    LimitExceeded,
    VerificationBudget,
)
from keystores.model import Entry, EntryKind, ProtectionPart

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _why(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def _parse(data: bytes, password: str | None, location: str, early: Any = None) -> _Parsed:
    """The file read, its MAC checked, its parts decrypted. `early`: what store._derivations_ahead started and read
    (taken over here), else None."""
    if data[:1] != b"\x30":
        raise UnsupportedFormat("not a PKCS#12 file (it does not start with an ASN.1 SEQUENCE)", store=location)
    pfx = early.pfx if early is not None else structure.read_pfx(data, location)
    if pfx.version != 3:
        raise UnsupportedFormat(f"PKCS#12 version {pfx.version} is not 3", store=location)
    if pfx.content_type != "data":
        raise UnsupportedFormat(f"PKCS#12 in public-key integrity mode ({pfx.content_type}) is not supported",
                                store=location)
    safe_bytes = pfx.safe
    if not isinstance(safe_bytes, bytes):
        raise CorruptStore("the AuthenticatedSafe is not an OCTET STRING", store=location)

    parsed = _Parsed()
    parts = early.parts if early is not None else structure.read_authenticated_safe(safe_bytes)
    _charge_encrypted_parts(parts, parsed, location)
    encrypted = [part.algorithm for part in parts if part.kind == "encrypted_data"]
    if early is not None:
        ahead: tuple[Any, Any] | None = (early.pool, early.keys)
    else:
        ahead = _ahead() if pfx.mac is not None and password is not None and encrypted else None
    if ahead is None:
        _open_parts(pfx, parts, safe_bytes, parsed, password, location)
    else:
        pool, keys = ahead
        wanted = keys_wanted()  # a transfer that will open the keys: they start deriving too, and the pool outlives
        # this read (the transfer leaves it once its keys are open)
        later = early.later if early is not None and wanted is not None else None  # the keys store.py started
        started = later is not None
        if wanted is not None:
            if later is None:
                from keystores.crypto import pbe

                later = pbe.Ahead(pool, first_under_way=False)
            wanted.keep(pool, later)
        if early is not None:
            early.taken = True  # its Ahead is left below, and its pool (unless `wanted` keeps it)
        try:
            with keys:
                for algorithm in encrypted:
                    keys.decryption(algorithm, password)
                keys.ciphers(encrypted)
                if later is not None and wanted is not None and password is not None and not started:
                    from keystores.backends.pkcs12.store import _derive_keys_early

                    _derive_keys_early(parts, password, later, wanted)
                _open_parts(pfx, parts, safe_bytes, parsed, password, location)
        finally:
            if wanted is None:
                pool.__exit__(None, None, None)
    parsed.trust_unproven = bool(password) and not parsed.mac_verified
    parsed.protection.setdefault("certificates", ProtectionPart("none"))
    if not parsed.keys:
        parsed.protection.setdefault("keys", ProtectionPart("none (no private keys)"))
    return parsed


def _open_parts(pfx: structure.Pfx, parts: list[structure.Part], safe_bytes: bytes, parsed: _Parsed,
                password: str | None, location: str) -> None:
    """The MAC checked, then every part's bags read (decrypted where encrypted) into `parsed`."""
    bag_password: str | None = password
    mac_verified = False
    if pfx.mac is not None:
        mac_verified = True
        try:
            bag_password, description = _verify_mac(pfx.mac, safe_bytes, password, location, parsed)
        except WrongPassword as exc:
            if isinstance(exc, PasswordRequired) or not _password_opens_contents(parts, password or ""):
                raise
            raise IntegrityError("the MAC does not match although the password decrypts the contents: the "
                                 "file was altered or damaged", store=location) from exc
        parsed.protection["mac"] = description
    else:
        parsed.protection["mac"] = ProtectionPart("none", absent=True)

    for part in parts:
        if part.kind == "data":
            _read_safe_contents(part.data, parsed, bag_password, mac_verified, location)
        elif part.kind == "encrypted_data":
            parsed.protection.setdefault("certificates", _scheme(part.algorithm))
            if bag_password is None:
                raise PasswordRequired("this PKCS#12 file is encrypted; a password is needed", store=location)
            plain = _decrypt_with(part.algorithm, part.data, bag_password, mac_verified, location)
            try:
                _read_safe_contents(plain, parsed, bag_password, mac_verified, location)
            except ValueError as exc:
                if mac_verified:
                    raise
                # No MAC: the padding came out right by chance (1 in 256), the contents show it was the password.
                raise WrongPassword("wrong password for this PKCS#12 file", store=location) from exc
        elif part.kind == "enveloped_data":
            raise UnsupportedFormat("PKCS#12 in public-key privacy mode (enveloped data) is not supported",
                                    store=location)
        else:
            raise CorruptStore(f"unexpected content type {part.kind} in the AuthenticatedSafe", store=location)
    parsed.bag_password, parsed.mac_verified = bag_password, mac_verified


def _ahead() -> tuple[Any, Any] | None:
    """(a KDF pool, a pbe.Ahead on it) to derive the encrypted parts' keys on another core while this thread derives
    the MAC's (keystores.crypto.kdf_pool; bench/bench_core.py "start-up: keystores list one.p12": 2 derivations in
    the time of one), or None on one core. Only keys are derived ahead (and the parts' ciphers readied in libcrypto
    on zeros: pbe.Ahead.ciphers): every part is still decrypted, and its bags read, after the MAC matched; a wrong
    password's check (_password_opens_contents) takes the key derived for it. The parts' parameters were checked
    and charged first (_charge_encrypted_parts), so nothing is derived that opening would have refused."""
    from keystores.crypto.pbkdf2 import usable_cores

    if usable_cores() < 2:
        return None
    from keystores.crypto import pbe
    from keystores.crypto.kdf_pool import KdfPool

    pool = KdfPool("pkcs12-read")
    return pool, pbe.Ahead(pool)


def _charge_encrypted_parts(parts: list[structure.Part], parsed: _Parsed, location: str) -> None:
    """Check the parameters of every encrypted part and charge their derivations before deriving anything: a file
    of many parts at the iteration ceiling is refused at once, not after minutes of work."""
    from keystores.crypto import pbe

    try:
        for part in parts:
            if part.kind == "encrypted_data":
                iterations = pbe.check_parameters(part.algorithm, parsed.budget)
                _note_suspicious(parsed, iterations, "an encrypted part", location)
    except LimitExceeded as exc:
        exc.store = location
        raise


def _password_opens_contents(parts: list[structure.Part], password: str) -> bool:
    """True when `password` decrypts the first encrypted part into well-formed DER: after a failed MAC, this tells a
    damaged file (exit 1) from a wrong password (exit 3). One part only: a wrong password costs one more
    derivation, not one per part."""
    attempts = 1
    from asn1crypto import pkcs12

    from keystores.crypto import pbe

    for part in parts:
        if attempts <= 0:
            break
        try:
            if part.kind == "encrypted_data":
                attempts -= 1
                plain = pbe.decrypt_with(part.algorithm, part.data, password)
                pkcs12.SafeContents.load(plain, strict=True).native  # noqa: B018 - a full parse proves it
                return True
            if part.kind == "data":
                for bag in structure.read_safe_contents(part.data):
                    if bag.kind == "pkcs8_shrouded_key_bag" and attempts > 0:
                        attempts -= 1
                        with suppress(KeystoreError):
                            pbe.decrypt_pkcs8(bag.value, password)
                            return True
        except LimitExceeded:
            raise
        except (KeystoreError, ValueError, TypeError, KeyError):
            continue
    return False


def _decrypt_with(alg_der: bytes, data: bytes, password: str, mac_verified: bool, location: str,
                  budget: KdfBudget | None = None, label: str | None = None) -> bytes:
    """A part or secret bag; the file's top-level parts were charged to the budget when it was opened."""
    from keystores.crypto import pbe

    try:
        return pbe.decrypt_with(alg_der, data, password, budget=budget)
    except LimitExceeded as exc:
        exc.store, exc.label = location, label
        raise
    except WrongPassword as exc:
        if mac_verified:
            # The MAC proved the password; a cipher that still fails means the bytes are bad.
            raise IntegrityError("an encrypted part does not decrypt although the MAC matched",
                                 store=location) from exc
        raise WrongPassword("wrong password for this PKCS#12 file", store=location) from exc


def _read_safe_contents(der: bytes, parsed: _Parsed, password: str | None, mac_verified: bool,
                        location: str, depth: int = 0) -> None:
    if depth > 8:
        raise CorruptStore("SafeContents nested too deeply", store=location)
    for bag in structure.read_safe_contents(der):
        if bag.ignored:
            parsed.skipped += 1  # CRLs, SDSI certificates, secrets other than Java's
        elif bag.kind == "cert_bag":
            parsed.certs.append(_CertBag(bag.value, bag.friendly_name, bag.local_key_id, bag.trust_oids))
        elif bag.kind == "key_bag":
            parsed.keys.append(_KeyBag(bag.value, None, bag.friendly_name, bag.local_key_id))
            _note_key_protection(parsed, ProtectionPart("none (unencrypted key bag)", absent=True))
        elif bag.kind == "pkcs8_shrouded_key_bag":
            _note_shrouded_key(parsed, bag.value, location)
            if password is None:
                raise PasswordRequired("this PKCS#12 file holds encrypted keys; a password is needed",
                                       store=location)
            parsed.keys.append(_KeyBag(None, bag.value, bag.friendly_name, bag.local_key_id))
        elif bag.kind == "secret_bag":
            if password is None:
                raise PasswordRequired("this PKCS#12 file holds encrypted keys; a password is needed",
                                       store=location)
            parsed.secrets.append(_SecretBag(_decrypt_secret(bag.value, password, mac_verified, location,
                                                             bag.friendly_name, parsed.budget),
                                             bag.friendly_name, bag.local_key_id))
        elif bag.kind == "safe_contents":
            _read_safe_contents(bag.value, parsed, password, mac_verified, location, depth + 1)
        else:
            raise UnsupportedFormat(f"unknown PKCS#12 bag type {bag.oid}", store=location)


def _note_shrouded_key(parsed: _Parsed, epki: bytes, location: str) -> None:
    """A shrouded key bag's protection, and a note when its iteration count is suspicious; a damaged one is
    reported when the key is opened."""
    from keystores.crypto import pbe
    from keystores.crypto.pbe_params import encrypted_private_key_info

    found = encrypted_private_key_info(epki)
    if found is not None:
        algorithm: Any = found[0]
    else:
        from asn1crypto import keys

        algorithm = keys.EncryptedPrivateKeyInfo.load(epki)["encryption_algorithm"]
    described = pbe.scheme(algorithm)
    _note_key_protection(parsed, ProtectionPart(*described))
    if described.iterations is not None:
        _note_suspicious(parsed, described.iterations, "a key bag", location)


def _note_key_protection(parsed: _Parsed, described: ProtectionPart) -> None:
    """Every distinct key protection of the file, not only the first bag's: audit judges each (a file can hold a
    well protected key beside a 1-iteration or an unencrypted one)."""
    known = parsed.protection.get("keys")
    parsed.protection["keys"] = described if known is None else ProtectionPart.joined([known, described])


def _decrypt_key(epki_der: bytes, password: str, mac_verified: bool, location: str, label: str | None,
                 budget: KdfBudget) -> bytes:
    from keystores.crypto import pbe

    try:
        return pbe.decrypt_pkcs8(epki_der, password, budget=budget)
    except LimitExceeded as exc:
        exc.store, exc.label = location, label
        raise
    except UnsupportedFormat as exc:
        raise UnsupportedFormat(f"the key cannot be opened here: {exc.reason}", store=location, label=label) from exc
    except CorruptStore as exc:
        raise type(exc)(exc.reason, store=location, label=label) from exc
    except WrongPassword as exc:
        if mac_verified:
            raise WrongPassword("the key is protected with a password other than the store's",
                                store=location, label=label) from exc
        raise WrongPassword("wrong password for this PKCS#12 file", store=location, label=label) from exc


def _decrypt_secret(epki_der: bytes, password: str, mac_verified: bool, location: str, label: str | None,
                    budget: KdfBudget) -> bytes:
    """A Java secret-key bag: EncryptedPrivateKeyInfo around a PKCS#8 whose "private key" is the raw secret."""
    from asn1crypto import core, keys

    epki = keys.EncryptedPrivateKeyInfo.load(epki_der, strict=True)
    plain = _decrypt_with(epki["encryption_algorithm"].dump(), epki["encrypted_data"].native, password,
                          mac_verified, location, budget, label)
    try:
        core.Sequence.load(plain, strict=True)
    except ValueError as exc:
        raise (IntegrityError if mac_verified else WrongPassword)(
            "a secret key does not decrypt", store=location, label=label) from exc
    return plain


def _scheme(algorithm: Any) -> ProtectionPart:
    from keystores.crypto import pbe

    return ProtectionPart(*pbe.scheme(algorithm))


def _assemble(parsed: _Parsed, location: str, *,
              origin: object) -> tuple[list[tuple[Entry, bytes | None, bytes | None]], list[str]]:
    """Entries (with the localKeyId each came with and their leaf's DER) and notes, by the rules in the module
    docstring. Certificates stay undecoded until an entry's chain is first read (lazy_entries.LazyEntry)."""

    notes: list[str] = []
    _name_certificates(parsed.certs)
    by_subject: dict[bytes, list[_CertBag]] = {}
    for bag in parsed.certs:
        by_subject.setdefault(bag.subject_name, []).append(bag)
    verifications = VerificationBudget()
    by_key: dict[bytes, _CertBag] | None = None  # made when a key without localKeyId needs its certificate
    used: set[bytes] = set()  # DER of every certificate that is a key's leaf or chain member
    leaves: set[bytes] = set()  # DER of the key pairs' own certificates: no entries of their own
    results: list[tuple[Entry, bytes | None, bytes | None]] = []
    labels = _Labels()
    unnamed = 0
    wanted = keys_wanted()
    early = wanted.started if wanted is not None else {}

    for key_bag in parsed.keys:
        leaf = _leaf_by_key_id(key_bag, parsed.certs)
        lazy = leaf is not None and key_bag.epki is not None and parsed.mac_verified
        key = None
        if not lazy:
            # Without a MAC, decrypting is the only password check; without a localKeyId, the key finds its leaf.
            key = _open_key(key_bag, parsed.bag_password, parsed.mac_verified, location, budget=parsed.budget)
            if leaf is None:
                by_key = by_key if by_key is not None else _certs_by_public_key(parsed.certs)
                leaf = by_key.get(_spki(key))
        chain: list[_CertBag] = []
        if leaf is not None:
            chain = _build_chain(leaf, by_subject, verifications)
            used.update(b.der for b in chain)
            leaves.add(leaf.der)
        label = key_bag.friendly_name or (leaf.friendly_name if leaf else None)
        if not label:
            unnamed += 1
            label = str(unnamed)
        label = labels.add(label)
        if leaf is None:
            notes.append(f"{location}: key '{label}' has no certificate in the file")
        if lazy:
            opening = _KeyOpening(key_bag, parsed.bag_password, location, label, parsed.budget)
            entry: Entry = sealed_entry(opening.key, key_bag.epki, origin, label=label, kind=EntryKind.KEY_PAIR,
                                        key=None, chain_loader=lambda chain=chain: _decoded(chain),
                                        leaf_der=chain[0].der, chain_der=tuple(bag.der for bag in chain),
                                        in_threads=True, held=opening.held,
                                        derived_ahead=key_bag.epki in early
                                        and early[key_bag.epki] == parsed.bag_password)
        else:
            entry = Entry(label=label, kind=EntryKind.KEY_PAIR, chain=_decoded(chain), key=key)
        results.append((entry, key_bag.local_key_id or (leaf.local_key_id if leaf else None),
                        leaf.der if leaf else None))

    untrusted: list[str] = []
    unproven: list[str] = []
    listed: set[bytes] = set()  # bare certificates made entries: a second copy in the file is none
    trusted = {bag.der for bag in parsed.certs if bag.trust_oids is not None}
    for bag in parsed.certs:
        if bag.trust_oids is None and (bag.der in leaves or (bag.friendly_name is None and bag.der in listed)):
            continue
        if bag.trust_oids is None and bag.der in used and bag.der in trusted:
            continue  # keytool's copy of a trusted root in a key pair's chain: the trusted entry is that certificate
        if bag.trust_oids is None and bag.friendly_name is None:
            listed.add(bag.der)
        label = labels.add(bag.friendly_name or bag.common_name)
        trust = _trust_from_oids(bag.trust_oids) if bag.trust_oids is not None else None
        if trust is not None and parsed.trust_unproven:
            unproven.append(label)
            trust = None
        elif trust is None and bag.der not in used:
            untrusted.append(label)
        kind = EntryKind.CERTIFICATE if trust is None else EntryKind.TRUSTED_CERT
        results.append((LazyEntry.lazy({"chain": lambda bags=[bag]: _decoded(bags)}, leaf_der=bag.der,
                                       chain_der=(bag.der,), label=label, kind=kind, trust=trust), None, None))
    if untrusted:
        shown = ", ".join(repr(u) for u in untrusted[:5]) + (" ..." if len(untrusted) > 5 else "")
        notes.append(f"{location}: certificate(s) {shown} carry no Java trust attribute: kept as untrusted "
                     "certificate entries, which keytool does not list")
    if unproven:
        shown = ", ".join(repr(u) for u in unproven[:5]) + (" ..." if len(unproven) > 5 else "")
        notes.append(f"{location}: the file has no MAC, so nothing shows that whoever knows the password wrote it: "
                     f"the trust of {shown} is not taken (kept as untrusted certificates); a file with a MAC, "
                     "or the certificate checked and trusted by hand, is needed to trust it")
    for secret in parsed.secrets:
        label = labels.add(secret.friendly_name or (secret.local_key_id or b"").hex() or "secret")
        results.append((Entry(label=label, kind=EntryKind.SECRET_KEY, secret=_secret_key(secret.pkcs8),
                              created=_java_time(secret.local_key_id)), None, None))
    if parsed.skipped:
        notes.append(f"{location}: {parsed.skipped} CRL or non-X.509 certificate bag(s) ignored; they are not "
                     "written back")
    renamed = labels.summary(location)
    if renamed is not None:
        notes.append(renamed)
    cut_short = verifications.note(location)
    if cut_short is not None:
        notes.append(cut_short)
    return results, notes


class _Labels:
    """keystores.pki.labels.UniqueLabels for _assemble, loaded once a label repeats: the labels of nearly every file
    are distinct, and its reading then loads no pki.labels (bench/bench_core.py "list one.p12"). The same labels and
    note: until then each label is itself, and UniqueLabels takes over with the labels given so far."""

    __slots__ = ("_taken", "_unique")

    def __init__(self) -> None:
        self._taken: set[str] = set()
        self._unique: Any = None

    def add(self, base: str) -> str:
        if self._unique is None:
            if base not in self._taken:
                self._taken.add(base)
                return base
            from keystores.pki.labels import UniqueLabels

            self._unique = UniqueLabels()
            for label in self._taken:  # all distinct: each is given as it was
                self._unique.add(label)
        return self._unique.add(base)  # type: ignore[no-any-return]

    def summary(self, location: str) -> str | None:
        return None if self._unique is None else self._unique.summary(location)  # type: ignore[no-any-return]


def _open_key(key_bag: _KeyBag, password: str | None, mac_verified: bool, location: str,
              label: str | None = None, *, budget: KdfBudget) -> Any:
    """Decrypt (if shrouded) and load one private key."""
    label = label or key_bag.friendly_name
    if key_bag.epki is not None:
        # cryptography loads the key: loaded before the key's derivation, it runs that too, twice as fast as
        # hashlib (keystores.crypto.pbkdf2)
        import keystores.crypto.key_encoding  # noqa: F401
    return _load_key(_decrypted_key(key_bag, password, mac_verified, location, label, budget), location, label)


def _decrypted_key(key_bag: _KeyBag, password: str | None, mac_verified: bool, location: str, label: str | None,
                   budget: KdfBudget) -> bytes:
    """The key bag's PrivateKeyInfo DER, decrypted if shrouded."""
    if key_bag.epki is None:
        return key_bag.pkcs8 or b""
    if password is None:
        raise PasswordRequired("this PKCS#12 file holds encrypted keys; a password is needed", store=location)
    return _decrypt_key(key_bag.epki, password, mac_verified, location, label, budget)


def _load_key(pkcs8: bytes, location: str, label: str | None) -> Any:
    from keystores.pki.undecoded import load_private_key

    try:
        # The MAC vouches for the bytes; RSA validation would cost ~35 ms per key on every open.
        return load_private_key(pkcs8, skip_rsa_validation=True)
    except (ValueError, TypeError) as exc:
        raise CorruptStore(f"a private key cannot be read ({_why(exc)})", store=location, label=label) from exc


class _KeyOpening:
    """A sealed key's two ways out (lazy_entries.sealed_entry): `key` loads it in cryptography; `held` gives its
    PKCS#8 as keystores.pki.pkcs8 writes it from the decrypted bytes where it can (an EC key: `convert` and
    `export` to PEM load no cryptography, bench/bench_core.py "start-up: keystores convert"), else None. Either
    decrypts the bag, raising what opening the key raises, and once: `held` keeps its answer and the decrypted
    bytes for `key` (ops.transfer asks `held` first whatever the destination), which keeps nothing."""

    def __init__(self, key_bag: _KeyBag, password: str | None, location: str, label: str | None,
                 budget: KdfBudget) -> None:
        self._bag, self._password, self._location, self._label, self._budget = (key_bag, password, location,
                                                                                  label or key_bag.friendly_name,
                                                                                  budget)
        self._held: list[bytes | None] = []
        self._decrypted: bytes | None = None  # what `held` decrypted: `key` loads it

    def key(self) -> Any:
        plain, self._decrypted = self._decrypted, None
        if plain is None:
            return _open_key(self._bag, self._password, True, self._location, self._label, budget=self._budget)
        return _load_key(plain, self._location, self._label)

    def held(self) -> bytes | None:
        if not self._held:
            plain = _decrypted_key(self._bag, self._password, True, self._location, self._label, self._budget)
            # imported after deriving: in a worker (lazy_entries.KeysAhead) the import would hold the GIL from
            # the caller's thread, and the derivation, which lets it go, would wait for it
            from keystores.pki.held_pkcs8 import pkcs8_of_ec_der

            self._held.append(pkcs8_of_ec_der(plain))
            self._decrypted = plain
        return self._held[0]


def _leaf_by_key_id(key_bag: _KeyBag, certs: list[_CertBag]) -> _CertBag | None:
    if key_bag.local_key_id is not None:
        for bag in certs:
            if bag.local_key_id == key_bag.local_key_id:
                return bag
    return None


def _spki(key: Any) -> bytes:
    from keystores.crypto.key_encoding import spki_der

    try:
        return spki_der(key.public_key())
    except ValueError:  # an UndecodedPrivateKey (keystores.pki.undecoded): no public key to match by
        return b""


def _certs_by_public_key(certs: list[_CertBag]) -> dict[bytes, _CertBag]:
    """The first certificate bag holding each public key (SubjectPublicKeyInfo DER): made once, so matching many
    keys to their certificates is linear, not keys x certificates."""
    from keystores.crypto.key_encoding import spki_der

    found: dict[bytes, _CertBag] = {}
    for bag in certs:
        try:
            spki = spki_der(bag.cert.public_key())
        except Exception:  # a certificate with a key type cryptography cannot load (keystores.pki.undecoded)
            continue
        found.setdefault(spki, bag)
    return found


def _decoded(bags: list[_CertBag]) -> tuple[Any, ...]:
    return tuple(bag.cert for bag in bags)


def _name_certificates(certs: list[_CertBag]) -> None:
    """Every bag's issuer and subject as encoded (keystores.pki.columns.certificate_names); if any certificate
    cannot be walked so, all take the names cryptography re-encodes, so that names are compared one way.

    A file of one certificate names none: a chain is built by matching one certificate's issuer to another's
    subject, so its key's chain is that certificate alone whatever the names (its bag's issuer and subject stay
    equal, b"": _build_chain's first test), and keystores.pki.columns is not imported to read them (~20 KB of
    bytecode: keytool's and OpenSSL's one.p12, which convert, export and sign read, issue 15)."""
    if len(certs) < 2:
        return
    from keystores.pki.columns import certificate_names

    found = [certificate_names(bag.der) for bag in certs]
    if all(names is not None for names in found):
        for bag, names in zip(certs, found, strict=True):
            bag.issuer_name, bag.subject_name = names  # type: ignore[misc]
            bag.names_as_encoded = True
        return
    for bag in certs:
        bag.issuer_name, bag.subject_name = bag.cert.issuer.public_bytes(), bag.cert.subject.public_bytes()


def _build_chain(leaf: _CertBag, by_subject: dict[bytes, list[_CertBag]],
                 verifications: VerificationBudget) -> list[_CertBag]:
    """Leaf first, then each issuer found by name and proven by signature (name alone when the signature cannot be
    checked): keystores.pki.chain.build_chain over the file's bags, bounded as it is. Names are compared as
    _name_certificates read them (as encoded, without decoding), by the lookup and by the rule that ends a chain.

    When several certificates qualify (a CA re-issued with the same key), a bag without attributes wins: Java
    and OpenSSL write chain members bare, while a named bag is an entry of its own.
    """
    if leaf.issuer_name == leaf.subject_name:
        return [leaf]  # where build_chain stops at once; the leaf stays undecoded, and listing decodes nothing

    from keystores.pki.chain import build_chain

    bag_of = {id(leaf.for_chain): leaf}

    def issuers(cert: Any) -> list[Any]:
        bags = sorted(by_subject.get(bag_of[id(cert)].issuer_name, []),
                      key=lambda bag: bag.friendly_name is not None or bag.trust_oids is not None)  # bare first
        bag_of.update((id(bag.for_chain), bag) for bag in bags)
        return [bag.for_chain for bag in bags]

    def self_issued(cert: Any) -> bool:
        bag = bag_of[id(cert)]
        return bag.issuer_name == bag.subject_name

    return [bag_of[id(cert)] for cert in build_chain(leaf.for_chain, issuers, verifications, complete=self_issued,
                                                     unverifiable=True)]
