"""The everyday PEM and DER shapes read without decoding a certificate or importing cryptography's x509 and
serialization: a key (PKCS#8 or OpenSSL's traditional forms, plain or encrypted) with its certificate and chain, a
key alone, a bundle of certificates, one certificate.

A speed device (bench/bench_core.py, "start-up: keystores list pair.pem (encrypted key)" and "list pair.pem" against
`openssl pkey -noout`; bench/bench_pem.py, "list, encrypted key + chain PEM" and the CA bundle; issue 15): read.py
decodes every certificate with cryptography's x509 (whose import alone is ~30 ms, more than Python's start-up) to
pair keys by public key, build chains and derive labels. For these shapes none of that needs a decoded certificate:
the label comes from the subject's DER, the pairing from comparing the key's SubjectPublicKeyInfo with the
certificates', and the chain is built by read.py's own builder (keystores.pki.chain.build_chain: issuer name AND
signature, the same candidates in the same order, the same signature budget) over certificates read from their DER
(keystores.pki.encoded; public keys loaded without cryptography's serialization package). The entries are
keystores.lazy_entries.LazyEntry objects whose certificates are decoded, by read.py's own decoder, on first use;
`list` reads its columns from the DER (keystores.pki.columns).

What is checked: an encrypted key is decrypted with the store's password (its derivation charged to the file's
KDF budget first), so a wrong password fails as it does in read.py, and paired with a certificate by the public
key its PKCS#8 holds (RSA, EC on the curves of keystores.pki.curves), which a wrong password's garbage never
matches; each certificate's and key's framing is walked to its last element (read.py's decoders refuse damage
anywhere in it); every signature read.py checks to build the chain is checked. A certificate's label comes from
labels.name_label, which read.py uses too for one cryptography refuses, so labels never depend on the reader. A key's
numbers are checked as cryptography's loader checks them, but for the primality of an RSA key's factors (see
_loaded: ~50 ms of CPU); the key of a key pair is loaded by cryptography on its first use.

Where this reading could differ from read.py's it declines (returns False, and read.py reads the file as before,
with its own messages): another block type, more than one key, a key that is not RSA or EC (on the curves of
keystores.pki.curves) in plain PKCS#8, PBES2/PBKDF2 PKCS#8 or OpenSSL's traditional form, a key whose numbers
cryptography would refuse, a key with certificates none of which is its own, a name or key in a form read here only
by cryptography, a wrong password, a certificate cryptography refuses in part or whole (read.py holds it as a
RawCertificate, which `list` says "could not be fully decoded": _Held.decodes_fully asks keystores.pki.shown, and
cryptography only for a certificate in another form); and, where a chain is to be built, names equal as cryptography
compares them (x509.Name: attribute values as text) but not in DER (another string type), a signature algorithm
not verified here, or a certificate keystores.pki.shown does not read; the extensions public CAs write (AIA, CRL
distribution points, policies, SCT lists) are among those shown reads. Same-name and cross-signed CAs are not
declined: the signatures decide between them here as in read.py.
tests/test_pem_lazy.py holds both readers to the same entries, seeded over chain shapes and damage.
"""

from __future__ import annotations

import sys

from keystores.backends.pem import reading
from keystores.backends.pem.labels import TakenLabels, name_label
from keystores.backends.pem.parse import _IGNORED_LABELS
from keystores.backends.pem.store import UNENCRYPTED
from keystores.crypto.der import DerError, read
from keystores.errors import CorruptStore, KeystoreError
from keystores.lazy_entries import LazyEntry
from keystores.limits import KdfBudget
from keystores.model import EntryKind
from keystores.pki.columns import certificate_columns, certificate_names, subject_and_key
from keystores.pki.curves import curve_of_params

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from keystores.backends.pem.parse import _Block
    from keystores.backends.pem.store import PemStore

_CERTIFICATES = frozenset({"CERTIFICATE", "X509 CERTIFICATE"})
_KEYS = frozenset({"PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"})
_TRADITIONAL = frozenset({"RSA PRIVATE KEY", "EC PRIVATE KEY"})  # OpenSSL's PKCS#1 and SEC1 blocks
_PBES2 = bytes.fromhex("2a864886f70d01050d")  # 1.2.840.113549.1.5.13
_PBKDF2 = bytes.fromhex("2a864886f70d01050c")  # 1.2.840.113549.1.5.12
_RSA = bytes.fromhex("2a864886f70d010101")  # 1.2.840.113549.1.1.1
_EC = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1


class _NotHere(Exception):
    """The file is not in a shape read here: read.py reads it."""


def read_lazily(store: PemStore, blocks: list[_Block]) -> bool:
    """Fill `store`'s entries (and what it records of its keys) from `blocks` when they are a key with its
    certificate and chain, or certificates only, decoding no certificate; False, with the store unchanged,
    otherwise."""
    certificate_blocks = [(position, b) for position, b in enumerate(blocks)
                          if b.pem_label in _CERTIFICATES and not b.headers]
    keys = [(position, b) for position, b in enumerate(blocks) if b.pem_label in _KEYS and _plain_headers(b)]
    ignored = sum(b.pem_label in _IGNORED_LABELS for b in blocks)  # `openssl ecparam -genkey`'s EC PARAMETERS
    if not (certificate_blocks or keys) or len(certificate_blocks) + len(keys) + ignored != len(blocks) \
            or len(keys) > 1:
        return False
    try:
        if not certificate_blocks:
            _read_loose_key(store, keys[0][1])
            return True
        certificates = [_Held(position, block) for position, block in certificate_blocks]
        if not all(held.decodes_fully() for held in certificates):
            raise _NotHere  # read.py holds it as a RawCertificate, which `list` says could not be fully decoded
        if keys:
            _read_key_pair(store, keys[0], certificates)
            return True
    except _NotHere:
        store._kdf_budget = KdfBudget()  # read.py charges the key's derivation again
        return False
    labels, seen, duplicates = TakenLabels(), set(), 0
    for held in certificates:
        block = held.block
        if block.friendly_name is None and block.der in seen:
            duplicates += 1
            continue
        seen.add(block.der)
        _add(store, labels, (held,), block.friendly_name or held.label, {}, kind=EntryKind.TRUSTED_CERT,
             trust=block.trust)
    if duplicates:
        store.notes.append(f"{store.location}: {duplicates} duplicate certificate(s) skipped")
    return True


def read_der_lazily(store: PemStore, data: bytes) -> bool:
    """read_lazily for a DER file: one certificate, or one private key in PKCS#8, plain or encrypted (a request,
    a PKCS#7 bundle or another key form goes to read.py)."""
    from keystores.backends.pem.parse import _Block

    try:
        if read(data)[2] != len(data):
            return False  # more than one object: read.py says what is wrong
    except DerError:
        return False
    return any(read_lazily(store, [_Block(label, 0, data)])
               for label in ("CERTIFICATE", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY"))


def _read_loose_key(store: PemStore, block: _Block) -> None:
    """A key alone: read.py's loose key and its note, the key loaded as _loaded says."""
    _, _, protect, plain, inner, _ = _key_of(store, block)
    curve = curve_of_params(inner[2]) if inner[0] == _EC else None
    if curve is not None and "cryptography.hazmat.bindings._rust" not in sys.modules:
        # _key_of judged it without cryptography (_ec_key_pkcs8): loaded when used, named as describe_key names it
        reading.keep_loose_key_unloaded(store, lambda: _loaded(plain, inner), f"EC-{curve.short}")
    else:
        reading.keep_loose_key(store, _loaded(plain, inner))
    if block.line or block.pem_label == "ENCRYPTED PRIVATE KEY":
        protect()  # (read.py records no protection for a plain key in a DER file)


def _loaded(plain: bytes, inner: _Inner) -> Any:
    """cryptography's key of `plain` (the block's PKCS#8 or traditional DER), loaded by read.py's loader
    (keystores.pki.undecoded.load_private_key, without cryptography's serialization package:
    keystores.crypto.key_encoding); _NotHere where cryptography refuses it, and read.py with it.

    cryptography checks an EC key (its point is its private value's) and an RSA key's numbers; for an RSA key those
    checks are made here instead, by arithmetic (_rsa_numbers: n = pq, d inverts e modulo lcm(p-1, q-1), the CRT
    values are d's and q's; what any damage breaks), because cryptography's also tests that p and q are prime, which
    costs ~50 ms of CPU for a 2048-bit key (more than Python's start-up; OpenSSL 3's SP 800-56B key check). A key
    made of composite factors, which only someone crafting one writes, is refused when it is used (read.py's loader
    on first use), not when the file is listed."""
    from keystores.pki.undecoded import UndecodedPrivateKey, load_private_key

    rsa = inner[0] == _RSA
    if rsa:
        _rsa_numbers(inner[1])
    try:
        key = load_private_key(plain, skip_rsa_validation=rsa)
    except ValueError:
        raise _NotHere from None
    if isinstance(key, UndecodedPrivateKey):
        raise _NotHere
    return key


def _plain_headers(block: _Block) -> bool:
    """No RFC 1421 headers, or for a traditional key exactly the two OpenSSL writes when it encrypts one."""
    return not block.headers or (block.pem_label in _TRADITIONAL and block.headers.keys() == {"Proc-Type", "DEK-Info"}
                                 and block.headers["Proc-Type"].upper() == "4,ENCRYPTED")


class _Held:
    """A certificate block at its position in the file, as read.py's _Item holds a decoded one."""

    __slots__ = ("block", "issuer", "label", "position", "public", "shown", "subject", "used")

    def __init__(self, position: int, block: _Block) -> None:
        from keystores.pki.shown import read_shown

        self.position, self.block = position, block
        shown = read_shown(block.der)
        self.shown = shown is not None  # cryptography decodes it fully (decodes_fully)
        # read_shown walked every constructed element of it, in DER's shortest lengths, where it read the key
        self.label = _derived_label(block.der, framed=shown is not None and shown.key is not None)
        self.issuer, self.subject = certificate_names(block.der) or (b"", b"")  # read, as the label was
        self.used = False
        self.public: tuple[bytes, ...] | None = None

    def decodes_fully(self) -> bool:
        """Whether read.py holds this certificate decoded, not as a RawCertificate (cryptography refuses it in part
        or whole), which `list` says "could not be fully decoded": keystores.pki.shown knows it for the usual forms
        (no cryptography for RSA and NIST-curve keys); for another form cryptography decodes it (read.py's decoder,
        keystores.pki.certificates.decode_certificate), which only such a certificate pays for."""
        if self.shown:
            return True
        from keystores.pki.certificates import decode_certificate
        from keystores.pki.undecoded import RawCertificate

        return not isinstance(decode_certificate(self.block.der), RawCertificate)


def _read_key_pair(store: PemStore, key_at: tuple[int, _Block], certificates: list[_Held]) -> None:
    """The entries read.py's _assemble makes of one key and certificates: the key pair (the key with the
    certificate whose public key is the key's, its chain built as read.py builds it), the unnamed chain members as
    untrusted certificates, every other certificate trusted; in file order. _NotHere, with the store unchanged,
    where the key matches no certificate or the chain cannot be built here exactly as read.py builds it."""
    position, block = key_at
    public, load_key, protect, _, inner, key_pkcs8 = _key_of(store, block)
    for held in certificates:
        spki = subject_and_key(held.block.der)
        held.public = _canonical(_certificate_public_key(spki[1])) if spki is not None else None
    matches = [c for c in certificates if c.public == public]
    if not matches:
        raise _NotHere  # a loose key: read.py says so, describing the key with cryptography
    leaf = min(matches, key=lambda c: (block.local_key_id is None or c.block.local_key_id != block.local_key_id,
                                       abs(c.position - position)))
    leaf.used = True
    chain: tuple[_Held, ...] = (leaf,)
    note = None
    chain_members = []  # the unnamed certificates that are the chain's, as read.py marks them
    if len(certificates) > 1:  # (a key with its certificate alone builds no chain: no lazy_chain to import)
        from keystores.backends.pem.lazy_chain import _chain, _nearest

        chain, note = _chain(store, leaf, certificates)
        for member in chain[1:]:
            for candidate in _nearest(certificates, member.subject, leaf.position):
                if not candidate.used and candidate.block.friendly_name is None \
                        and candidate.block.der == member.block.der:
                    candidate.used = True
                    chain_members.append(candidate)
                    break
    protect()  # from here on the store is filled: nothing below declines
    if note is not None:
        store.notes.append(note)
    groups: list[tuple[int, str, EntryKind, tuple[_Held, ...]]] = [
        (min(leaf.position, position), leaf.block.friendly_name or block.friendly_name or leaf.label,
         EntryKind.KEY_PAIR, chain)]
    duplicates, trusted_seen = 0, set()
    for held in certificates:
        if held.used:
            continue
        if held.block.friendly_name is None and held.block.der in trusted_seen:
            duplicates += 1
            continue
        trusted_seen.add(held.block.der)
        groups.append((held.position, held.block.friendly_name or held.label, EntryKind.TRUSTED_CERT, (held,)))
    if duplicates:
        store.notes.append(f"{store.location}: {duplicates} duplicate certificate(s) skipped")
    for held in chain_members:
        if held.block.der not in trusted_seen:
            trusted_seen.add(held.block.der)
            groups.append((held.position, held.label, EntryKind.CERTIFICATE, (held,)))
    labels = TakenLabels()
    for _, label, kind, members in sorted(groups, key=lambda group: group[0]):
        if kind is EntryKind.KEY_PAIR:
            # an EC key is judged here to load (_key_of), an RSA key's primes are not (_loaded): `show` loads it;
            # its PKCS#8 as cryptography writes it is at hand where libcrypto judged it (export --key: no cryptography)
            _add(store, labels, members, label, {"key": load_key}, kind=kind, key_loadable=inner[0] == _EC,
                 held_pkcs8=key_pkcs8)
        else:
            _add(store, labels, members, label, {}, kind=kind,
                 trust=members[0].block.trust if kind is EntryKind.TRUSTED_CERT else None)


def _add(store: PemStore, labels: TakenLabels, members: tuple[_Held, ...], label: str,
         loaders: dict[str, Callable[[], Any]], **fields: Any) -> None:
    """An entry of the certificates `members` (its chain, leaf first), decoded on first use by read.py's decoder
    (reading.certificate)."""
    def chain() -> tuple[Any, ...]:
        from keystores.pki.certificates import quietly_decoding

        with quietly_decoding():
            return tuple(reading.certificate(store, held.block.der, held.block.where) for held in members)

    unique = labels.add(label)
    store._entries[unique] = LazyEntry.lazy({"chain": chain, **loaders}, leaf_der=members[0].block.der,
                                            chain_der=tuple(held.block.der for held in members), label=unique,
                                            **fields)


def _derived_label(der: bytes, *, framed: bool = False) -> str:
    """labels.derived_label, read from the DER (labels.name_label); _NotHere where that reader declines the name or
    the columns reader the certificate (the label is then the key's hash, or cryptography's reading decides), or
    its framing is damaged (_well_framed, unless the caller knows it `framed`)."""
    label = name_label(der)
    if label is None or certificate_columns(der) is None or not (framed or _well_framed(der, 0, len(der))):
        raise _NotHere
    return label


def _well_framed(der: bytes, at: int, end: int, depth: int = 0) -> bool:
    """Every element from `at` to `end`, and every element inside a constructed one, ends where its container
    says: read.py's decoders refuse a certificate whose framing is damaged anywhere (in its extensions too), so
    such a file is left to them."""
    try:
        while at < end:
            tag, start, stop = read(der, at, end)
            if tag & 0x20 and (depth > 16 or not _well_framed(der, start, stop, depth + 1)):
                return False
            at = stop
    except DerError:
        return False
    return True


_Inner = tuple[bytes, bytes, bytes]  # (algorithm OID, RSAPrivateKey or ECPrivateKey, the curve's OID element or b"")


def _key_of(store: PemStore, block: _Block) -> tuple[tuple[bytes, ...], Callable[[], Any], Callable[[], None],
                                                       bytes, _Inner, bytes | None]:
    """(the public key the block's key holds, what loads the key, what records the key's protection in the store
    once it is an entry or loose key, the key's DER decrypted, the key itself, and for an EC key judged without
    cryptography its PKCS#8 as keystores.pki.pkcs8.pkcs8_der writes it); _NotHere for a key not read here
    or whose numbers cryptography's loader refuses (_loaded). cryptography loads the key
    when it is first used, and refuses it then as read.py does."""
    traditional = block.pem_label in _TRADITIONAL
    encrypted = block.pem_label == "ENCRYPTED PRIVATE KEY" or bool(block.headers)
    # Decrypted by hashlib and the interpreter's libcrypto while cryptography is not loaded (keystores.crypto.pbe,
    # pbkdf2), which an EC key's check (_ec_key_pkcs8) and listing never load: its compiled module costs ~10 ms
    if traditional:
        plain = _legacy_decrypted(store, block) if encrypted else block.der
        inner = _traditional_inner(plain, block.pem_label)
    else:
        plain = _decrypted(store, block) if encrypted else block.der
        inner = _pkcs8_inner(plain)
    public = _canonical(_inner_public_key(*inner))
    if public is None:
        raise _NotHere
    held = None
    if inner[0] == _RSA:  # consistent numbers: damage read.py's loader refuses is declined here
        _rsa_numbers(inner[1])
    elif "cryptography.hazmat.bindings._rust" in sys.modules or (held := _ec_key_pkcs8(plain, inner,
                                                                                         traditional)) is None:
        _loaded(plain, inner)  # (once cryptography is loaded, its loader costs less than libcrypto's)

    def protect() -> None:
        if not encrypted:
            store._key_protection.add(UNENCRYPTED)
        elif not traditional:
            store._encrypted_pkcs8.append(block.der)  # (_legacy_plain recorded a traditional one's)

    def key() -> Any:
        from keystores.pki.undecoded import UndecodedPrivateKey

        loaded = reading.maybe_key(store, plain)
        if loaded is None or isinstance(loaded, UndecodedPrivateKey):  # sound in form, but its values are not
            problem = "decrypts to a key we cannot read" if encrypted else "is not a readable private key"
            raise CorruptStore(f"{block.where} {problem}", store=store.location)
        return loaded

    return public, key, protect, plain, inner, held


_EC_ALGORITHM_OID = b"\x06\x07" + _EC  # id-ecPublicKey, as an OID element


def _ec_key_pkcs8(plain: bytes, inner: _Inner, traditional: bool) -> bytes | None:
    """The EC key `plain` (PKCS#8, or SEC1 where `traditional`) as pkcs8_der writes it, where cryptography's loader
    takes it, known without loading cryptography: keystores.pki.held_pkcs8.pkcs8_of_ec_der reads the plain forms
    keytool, OpenSSL and keystores write and has the interpreter's libcrypto compute the public point of its private
    value, which refuses a value that is no private key of the curve (0, the group's order or above) as
    cryptography's key check does; the point the key holds must be that one. None where it cannot tell (another
    form, no libcrypto): cryptography judges."""
    from keystores.crypto import der
    from keystores.pki.held_pkcs8 import pkcs8_of_ec_der

    if traditional:  # the SEC1 key in the PrivateKeyInfo that names its curve (_traditional_inner read it)
        plain = der.sequence(b"\x02\x01\x00", der.sequence(_EC_ALGORITHM_OID, inner[2]), der.octet_string(plain))
    return pkcs8_of_ec_der(plain)


def _canonical(public: tuple[bytes, ...] | None) -> tuple[bytes, ...] | None:
    """`public` (or None) when it is in the one form cryptography's public keys compare by, so that two keys are
    equal here exactly when they are there: RSA numbers as minimal positive INTEGERs, an EC point uncompressed.
    _NotHere otherwise."""
    if public is None:
        return None
    if public[0] == _RSA:
        if not all(map(_positive, public[1:])):
            raise _NotHere
    elif public[2][:2] != b"\x00\x04":  # no unused bits, uncompressed
        raise _NotHere
    return public


def _rsa_numbers(key: bytes) -> tuple[int, ...]:
    """(n, e, d, p, q, dP, dQ, qInv) of a two-prime RSAPrivateKey whose numbers are in DER's one form and hold
    the relations of RFC 8017, 3.2 that cryptography's loader (OpenSSL's key check) tests besides primality:
    n = pq, ed = 1 modulo p-1 and q-1 (so modulo their lcm), the CRT values are d's and q's; _NotHere otherwise
    (see _loaded)."""
    try:
        _, start, end = read(key)
        fields = [key[first:last] for _, first, last in _elements(key, start, end)]
    except DerError:
        raise _NotHere from None
    if len(fields) != 9 or fields[0] != b"\x00" or not all(map(_positive, fields[1:])):
        raise _NotHere
    n, e, d, p, q, dp, dq, qinv = (int.from_bytes(field) for field in fields[1:])
    if min(p, q) < 3 or n != p * q or not 1 < e < n or not e & 1 or not 1 < d < n or not 0 < qinv < p:
        raise _NotHere
    if (e * d - 1) % (p - 1) or (e * d - 1) % (q - 1) or dp != d % (p - 1) or dq != d % (q - 1) or qinv * q % p != 1:
        raise _NotHere
    return n, e, d, p, q, dp, dq, qinv


def _positive(number: bytes) -> bool:
    """An INTEGER's content that is positive and minimal (DER)."""
    return bool(number) and not number[0] & 0x80 and not (number[0] == 0 and (len(number) == 1 or number[1] < 0x80))


def _pkcs8_inner(der: bytes) -> _Inner:
    """The key a PrivateKeyInfo holds, with its algorithm and (EC) curve; _NotHere where it is damaged."""
    try:
        tag, start, end = read(der)
        if tag != 0x30 or end != len(der):
            raise _NotHere
        tag, version_start, at = read(der, start, end)
        tag_alg, alg_start, alg_stop = read(der, at, end)
        tag_key, key_start, key_stop = read(der, alg_stop, end)
        if (tag, tag_alg, tag_key) != (0x02, 0x30, 0x04) or der[version_start:at] != b"\x00":
            raise _NotHere  # (version 1, OneAsymmetricKey, goes to cryptography)
        tag, oid_start, oid_stop = read(der, alg_start, alg_stop)
        algorithm = der[oid_start:oid_stop]
        key = der[key_start:key_stop]
        if tag != 0x06 or not _well_framed(der, 0, len(der)) or not _well_framed(key, 0, len(key)):
            raise _NotHere  # the structure read.py's decoders check, every element's framing
        parameters = der[oid_stop:alg_stop]
        if algorithm == _RSA and parameters not in (b"", b"\x05\x00"):
            raise _NotHere  # cryptography refuses other RSA parameters
        return algorithm, key, parameters
    except (DerError, IndexError):
        raise _NotHere from None


def _traditional_inner(der: bytes, pem_label: str) -> _Inner:
    """_pkcs8_inner of OpenSSL's traditional blocks: a PKCS#1 RSAPrivateKey, a SEC1 ECPrivateKey (whose curve is
    in its [0] parameters)."""
    if not _well_framed(der, 0, len(der)):
        raise _NotHere
    if pem_label == "RSA PRIVATE KEY":
        return _RSA, der, b""
    try:
        _, start, end = read(der)
        curve = next((der[first:last] for tag, first, last in _elements(der, start, end) if tag == 0xA0), b"")
    except (DerError, IndexError):
        raise _NotHere from None
    return _EC, der, curve


def _inner_public_key(algorithm: bytes, key: bytes, curve: bytes) -> tuple[bytes, ...]:
    """(algorithm OID, then what identifies the public key) of a key: an RSAPrivateKey's modulus and exponent, an
    ECPrivateKey's curve (`curve`, its OID element, one of keystores.pki.curves, which cryptography loads) and
    point (from its optional publicKey field); _NotHere for other keys."""
    try:
        tag, inner_start, inner_stop = read(key)
        if tag != 0x30 or inner_stop != len(key):
            raise _NotHere
        fields = [(tag, key[first:last]) for tag, first, last in _elements(key, inner_start, inner_stop)]
        if algorithm == _RSA and len(fields) == 9 and all(tag == 0x02 for tag, _ in fields):
            return algorithm, fields[1][1], fields[2][1]  # version, modulus, exponent, ...
        if algorithm == _EC and curve_of_params(curve) is not None and [tag for tag, _ in fields[:2]] == [2, 4]:
            public = next((value for tag, value in fields[2:] if tag == 0xA1), None)
            if public is not None:
                tag, bits_start, bits_stop = read(public)
                if tag == 0x03 and bits_stop == len(public):
                    return algorithm, curve, public[bits_start:bits_stop]
    except (DerError, IndexError):
        pass
    raise _NotHere


def _certificate_public_key(spki: bytes) -> tuple[bytes, ...] | None:
    """_inner_public_key's tuple for a SubjectPublicKeyInfo, or None when it is not an RSA or EC key read here."""
    try:
        _, start, end = read(spki)
        tag_alg, alg_start, alg_stop = read(spki, start, end)
        tag_bits, bits_start, bits_stop = read(spki, alg_stop, end)
        tag, oid_start, oid_stop = read(spki, alg_start, alg_stop)
        if (tag_alg, tag_bits, tag) != (0x30, 0x03, 0x06):
            return None
        algorithm = spki[oid_start:oid_stop]
        if algorithm == _EC:
            return algorithm, spki[oid_stop:alg_stop], spki[bits_start:bits_stop]
        if algorithm == _RSA and spki[bits_start] == 0:
            bits = spki[bits_start + 1:bits_stop]
            tag, inner_start, inner_stop = read(bits)
            numbers = [(tag, bits[first:last]) for tag, first, last in _elements(bits, inner_start, inner_stop)]
            if tag == 0x30 and inner_stop == len(bits) and [t for t, _ in numbers] == [0x02, 0x02]:
                return algorithm, numbers[0][1], numbers[1][1]
    except (DerError, IndexError):
        pass
    return None


def _elements(data: bytes, at: int, end: int) -> list[tuple[int, int, int]]:
    found = []
    while at < end:
        tag, start, at = read(data, at, end)
        found.append((tag, start, at))
    return found


def _legacy_decrypted(store: PemStore, block: _Block) -> bytes:
    """The key of a traditional "Proc-Type: 4,ENCRYPTED" block, decrypted as read.py decrypts it
    (reading.legacy_plain: its protection recorded); _NotHere where read.py would fail (a wrong password's
    padding, damage, no password)."""
    try:
        plain = reading.legacy_plain(store, block)
    except KeystoreError:
        raise _NotHere from None
    if not plain:
        raise _NotHere
    return plain


def _decrypted(store: PemStore, block: _Block) -> bytes:
    """The PrivateKeyInfo of a PBES2/PBKDF2 EncryptedPrivateKeyInfo, decrypted with the store's password (its
    derivation charged to the file's budget first); _NotHere for other schemes, damage or a wrong password."""
    from keystores.crypto import pbe

    if not store.password:
        raise _NotHere
    data = block.der
    try:
        tag, start, end = read(data)
        tag_alg, alg_start, alg_stop = read(data, start, end)
        tag_data, data_start, data_stop = read(data, alg_stop, end)
        if (tag, tag_alg, tag_data) != (0x30, 0x30, 0x04) or data_stop != end or end != len(data):
            raise _NotHere
        tag, oid_start, oid_stop = read(data, alg_start, alg_stop)
        if tag != 0x06 or data[oid_start:oid_stop] != _PBES2:
            raise _NotHere
        tag, params_start, params_stop = read(data, oid_stop, alg_stop)
        tag, kdf_start, _ = read(data, params_start, params_stop)
        tag, oid_start, oid_stop = read(data, kdf_start, params_stop)
        if tag != 0x06 or data[oid_start:oid_stop] != _PBKDF2:
            raise _NotHere  # scrypt and the rest: read.py
        store._encrypted_keys_read = True
        return pbe.decrypt_with(data[start:alg_stop], data[data_start:data_stop], store.password,  # type: ignore[no-any-return]
                                budget=store._kdf_budget)
    except (DerError, IndexError, KeystoreError):
        raise _NotHere from None
