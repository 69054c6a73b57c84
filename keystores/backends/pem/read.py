"""Decoding PEM and DER: blocks (parse.py) or one DER object -> certificates, keys, requests -> entries; functions of
the store (reading.py), imported only when a file is decoded (lazy_read.py reads the everyday shapes
without them).

How a file becomes entries (PEM has no entries of its own, so this is our documented mapping):
- a private key + the certificate whose public key matches -> KEY_PAIR; its chain is the leaf followed by the
  certificates in the file that chain up from it (issuer name AND signature checked, see keystores.pki.chain);
- a private key + a matching certificate request (and no certificate) -> REQUEST holding both; a request alone ->
  REQUEST without a key;
- an unnamed certificate that is a key pair's chain member is also an entry of its own: CERTIFICATE (trust None:
  a chain trusts nothing by being there), labelled as labels.py says, one per certificate however many chains hold
  it; deleting the key pair removes it unless another key pair's chain holds it (keytool -delete's rule);
- every other certificate -> TRUSTED_CERT with trust TRUST_ALL: PEM has no trust flags, and a PEM bundle of CAs is
  what users mean by a truststore. The one exception is read: OpenSSL's "TRUSTED CERTIFICATE" block (`openssl x509
  -trustout`), whose trusted/rejected purposes become the Trust and whose alias the label;
- a private key that matches no certificate or request is not an entry (an entry needs a certificate or a request):
  it is kept in `loose_keys`, named in `notes`, and written back when the file is rewritten.

A DER file holds one certificate, private key or request (a DER PKCS#7 certificate bundle is read too). Encrypted
keys are read in every scheme seen in the wild: the traditional "Proc-Type: 4,ENCRYPTED" form (AES-128/192/256,
3DES, DES) and PKCS#8 (cryptography's loader, then keystores.crypto.pbe for PKCS#12 PBE, PBES1, RC2...; scrypt within a
memory ceiling). All keys of a file are opened with the one store password.
"""

from __future__ import annotations

from keystores.backends.pem import reading
from keystores.backends.pem.labels import _fingerprint, _key_hash, _labelling_key, derived_label
from keystores.backends.pem.parse import (
    _CERT_LABELS,
    _IGNORED_LABELS,
    _KEY_LABELS,
    _REQUEST_LABELS,
    _Block,
    split_pem,
)
from keystores.backends.pem.store import UNENCRYPTED
from keystores.crypto.der import children, oid_text
from keystores.crypto.der import read as read_der
from keystores.errors import (
    CorruptStore,
    KeystoreError,
    UnsupportedFormat,
    WrongPassword,
)
from keystores.lightweight import suppress
from keystores.limits import LimitExceeded
from keystores.model import (
    TRUST_ALL,
    Entry,
    EntryKind,
    Trust,
    public_key_fingerprint,
)
from keystores.pki.labels import UniqueLabels

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from keystores.backends.pem.store import PemStore


class _Item:
    """A decoded object at a position in the file. (A plain class: keystores.frozen says why.)"""

    __slots__ = ("friendly_name", "local_key_id", "obj", "position", "trust", "used")

    def __init__(self, position: int, obj: Any, friendly_name: str | None, local_key_id: bytes | None,
                 trust: Trust | None = TRUST_ALL) -> None:
        self.position = position
        self.obj = obj  # x509.Certificate | x509.CertificateSigningRequest | private key
        self.friendly_name, self.local_key_id = friendly_name, local_key_id
        self.used = False
        self.trust = trust


def _firstread_der(der: bytes, where: str, location: str) -> bytes:
    """The first DER element of `der` (a TRUSTED CERTIFICATE is a certificate followed by OpenSSL's aux data)."""
    try:
        return der[: read_der(der, 0)[2]]
    except ValueError as exc:
        raise CorruptStore(f"{where} is not a valid certificate", store=location) from exc


# Extended key usages OpenSSL's trust settings name -> the purposes of our Trust model.
_EKU_PURPOSES = {"1.3.6.1.5.5.7.3.1": "tls_server", "1.3.6.1.5.5.7.3.2": "tls_client",
                 "1.3.6.1.5.5.7.3.4": "email", "1.3.6.1.5.5.7.3.3": "code_signing"}


_ANY_EKU = "2.5.29.37.0"


def _openssl_cert_aux(aux: bytes) -> tuple[str | None, Trust | None]:
    """(alias, trust) from OpenSSL's X509_CERT_AUX: SEQUENCE { trust SEQUENCE OF OID OPTIONAL, reject [0] SEQUENCE
    OF OID OPTIONAL, alias UTF8String OPTIONAL, keyid OCTET STRING OPTIONAL, ... }.

    Trust is TRUST_ALL when no purposes are listed, None when every purpose is rejected (present, not trusted).
    """
    if not aux:
        return None, TRUST_ALL
    tag, start, end = read_der(aux, 0)
    if tag != 0x30:
        raise ValueError("aux is not a SEQUENCE")
    alias, trusted, rejected = None, None, set()
    for tag, contents, _ in children(aux[start:end]):
        if tag in (0x30, 0xA0):
            oids = {oid_text(oid) for oid_tag, oid, _ in children(contents) if oid_tag == 0x06}
            if tag == 0x30:
                trusted = oids
            else:
                rejected = oids
        elif tag == 0x0C:
            alias = contents.decode("utf-8")
    if trusted is None and not rejected:
        return alias, TRUST_ALL
    everything = tuple(_EKU_PURPOSES.values())
    allowed = set(everything) if trusted is None or _ANY_EKU in trusted else {
        _EKU_PURPOSES[oid] for oid in trusted if oid in _EKU_PURPOSES}
    if _ANY_EKU in rejected:
        allowed = set()
    allowed -= {_EKU_PURPOSES[oid] for oid in rejected if oid in _EKU_PURPOSES}
    if not allowed:
        return alias, None
    spelled = [f"trust={','.join(sorted(trusted))}" if trusted else "",
               f"reject={','.join(sorted(rejected))}" if rejected else ""]
    return alias, Trust(**{name: name in allowed for name in everything},
                        native="openssl:" + ";".join(part for part in spelled if part))


_SCRYPT_OID = "1.3.6.1.4.1.11591.4.11"


#: scrypt's memory (128 * N * r bytes) at most: twice OpenSSL's own default ceiling (32 MiB), which `openssl
#: pkcs8 -scrypt` (N=16384, r=8: 16 MiB) stays under.
MAX_SCRYPT_MEMORY = 64 * 2**20


def _scrypt_parameters(der: bytes) -> tuple[int, int, int] | None:
    """(N, r, p) when an EncryptedPrivateKeyInfo is PBES2 with the scrypt KDF (RFC 7914), else None."""
    from asn1crypto import core, keys

    try:
        alg = keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]
        if alg["algorithm"].native != "pbes2":
            return None
        kdf = alg["parameters"]["key_derivation_func"]
        if kdf["algorithm"].dotted != _SCRYPT_OID:
            return None
        params = core.Sequence.load(kdf["parameters"].dump())
        return int(params[1].native), int(params[2].native), int(params[3].native)
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def _looks_encrypted_pkcs8(der: bytes) -> bool:
    try:
        from asn1crypto import keys

        info = keys.EncryptedPrivateKeyInfo.load(der)
        info["encryption_algorithm"]["algorithm"].native  # noqa: B018 - forces the parse
        return isinstance(info["encrypted_data"].native, bytes)
    except (ValueError, KeyError, TypeError):
        return False


class _SubjectIndex:
    """The certificates of a file by subject, found as keystores.pki.chain.issued_by compares names: a decoded
    certificate's x509.Name as cryptography compares it, and the keystores.pki.undecoded.RawName of a certificate
    cryptography refuses whole by its DER (a RawName equals any name of the same DER, but hashes as its DER, so a
    dict of names alone never finds one by an x509.Name, nor an x509.Name by one)."""

    def __init__(self, certs: list[_Item]) -> None:
        from keystores.pki.undecoded import RawName  # (read.py's decoding path only: a lazy listing needs none)

        self._decoded: dict[Any, list[_Item]] = {}  # x509.Name -> items, in file order
        self._by_der: dict[bytes, list[_Item]] = {}  # a name's DER -> the items of a RawName subject, in file order
        for item in certs:
            subject = item.obj.subject
            if isinstance(subject, RawName):
                self._by_der.setdefault(subject.public_bytes(), []).append(item)
            else:
                self._decoded.setdefault(subject, []).append(item)

    def named(self, name: Any) -> list[_Item]:
        """The certificates whose subject equals `name`, in file order."""
        from keystores.pki.undecoded import RawName

        raw = self._by_der.get(name.public_bytes(), []) if self._by_der else []
        if isinstance(name, RawName):
            decoded = [item for same in self._decoded.values() for item in same if item.obj.subject == name]
        else:
            decoded = self._decoded.get(name, [])
        return sorted(decoded + raw, key=lambda item: item.position) if raw and decoded else decoded or raw



def decode(store: PemStore, data: bytes, *, pem: bool, first: int = 0) -> list[_Item]:
    """The objects of one file's bytes, at positions from `first` on; errors name `store.location`."""
    if not pem:
        return [_Item(first + i.position, i.obj, None, None) for i in _decode_der(store, data)]
    skipped: list[str] = []
    return decode_blocks(store, split_pem(data, store.location, skipped), skipped, first, blank=not data.strip())


def decode_blocks(store: PemStore, blocks: list[_Block], skipped: list[str], first: int = 0, *,
                   blank: bool) -> list[_Item]:
    """The objects of a file's PEM blocks (split_pem's, with the reasons it skipped some), at positions from
    `first` on; `blank`: the file holds nothing but white space."""
    if not blocks and skipped:
        raise CorruptStore(skipped[0], store=store.location)
    if not blocks and not blank:
        raise UnsupportedFormat("no PEM block (-----BEGIN ...-----) found", store=store.location)
    _charge_encrypted_keys(store, blocks)
    items = []
    for position, block in enumerate(blocks, first):
        try:
            objects = _decode_block(store, block)
        except (CorruptStore, UnsupportedFormat) as exc:
            # One malformed certificate (or foreign) block among good ones is skipped, as openssl's bundle
            # readers do; a damaged key is an error (it is what the user keeps the file for), and so is a
            # file with nothing readable. An unencrypted block that holds no key is junk like any other; an
            # encrypted one that fails is the user's key, damaged or under another password.
            encrypted_key = block.pem_label == "ENCRYPTED PRIVATE KEY" or "ENCRYPTED" in block.headers.get(
                "Proc-Type", "").upper()
            if encrypted_key or len(blocks) + len(skipped) == 1:
                raise
            skipped.append(exc.reason)
            continue
        for obj in objects:
            items.append(_Item(position, obj, block.friendly_name, block.local_key_id, trust=block.trust))
    if skipped and not items:
        raise CorruptStore(f"no block is readable ({skipped[0]})", store=store.location)
    store.notes.extend(f"{store.location}: skipped {reason}" for reason in skipped)
    return items


def _charge_encrypted_keys(store: PemStore, blocks: list[_Block]) -> None:
    """Charge every encrypted key's derivation to the file's budget before decrypting any: a file of many keys
    at the iteration ceiling is refused at once. Damaged parameters are left for the block's own decoding."""
    if not store.password or not any(b.pem_label == "ENCRYPTED PRIVATE KEY" for b in blocks):
        return
    from asn1crypto import keys

    from keystores.crypto import pbe

    for block in blocks:
        if block.pem_label != "ENCRYPTED PRIVATE KEY" or _scrypt_parameters(block.der) is not None:
            continue
        try:
            algorithm = keys.EncryptedPrivateKeyInfo.load(block.der)["encryption_algorithm"]
            pbe.check_parameters(algorithm, store._kdf_budget)
        except LimitExceeded as exc:
            raise LimitExceeded(f"{block.where}: {exc.reason}", store=store.location) from exc
        except (ValueError, KeyError, TypeError, KeystoreError):
            continue


def _decode_block(store: PemStore, block: _Block) -> list[Any]:
    """The object(s) one PEM block holds. Raises a KeystoreError naming the block."""
    from cryptography import x509

    label = block.pem_label
    if label in _IGNORED_LABELS:
        return []
    if label in _CERT_LABELS:
        der = block.der
        if label == "TRUSTED CERTIFICATE":  # OpenSSL's own: the certificate, then its X509_CERT_AUX
            der = _firstread_der(der, block.where, store.location)
            try:
                alias, block.trust = _openssl_cert_aux(block.der[len(der):])
            except (ValueError, IndexError, TypeError) as exc:
                raise CorruptStore(f"{block.where} has damaged trust settings", store=store.location) from exc
            block.friendly_name = block.friendly_name or alias
        return [reading.certificate(store, der, block.where)]
    if label in _REQUEST_LABELS:
        try:
            request = x509.load_der_x509_csr(block.der)
        except (ValueError, x509.InvalidVersion) as exc:
            raise CorruptStore(f"{block.where} is not a valid certificate request",
                               store=store.location) from exc
        return [reading.checked(store, request, block.where)]
    encrypted = label == "ENCRYPTED PRIVATE KEY" or (
        label in _KEY_LABELS and "ENCRYPTED" in block.headers.get("Proc-Type", "").upper())
    if label == "ENCRYPTED PRIVATE KEY":
        return [_decrypt_pkcs8(store, block.der, block.where)]
    if label in _KEY_LABELS:
        if encrypted:
            return [_decrypt_legacy(store, block)]
        return [_plain_key(store, block.der, block.where)]
    if label == "PKCS7":
        return _pkcs7_certificates(store, block.der, block.where)
    raise UnsupportedFormat(f"{block.where} is not a certificate, private key or certificate request "
                            "(only those can be held in a store)", store=store.location)


def _decode_der(store: PemStore, data: bytes) -> list[_Item]:
    from cryptography import x509

    if not data:
        return []
    with suppress(CorruptStore):
        return [_Item(0, reading.certificate(store, data, "the DER object"), None, None)]
    with suppress(ValueError, x509.InvalidVersion):
        return [_Item(0, reading.checked(store, x509.load_der_x509_csr(data), "the DER object"), None, None)]
    key = reading.maybe_key(store, data)
    if key is not None:
        return [_Item(0, key, None, None)]
    if _looks_encrypted_pkcs8(data):
        return [_Item(0, _decrypt_pkcs8(store, data, "the DER object"), None, None)]
    with suppress(KeystoreError):
        return [_Item(0, cert, None, None) for cert in _pkcs7_certificates(store, data, "the DER object")]
    raise UnsupportedFormat("not a DER certificate, private key, certificate request or PKCS#7 bundle "
                            "(or it is damaged)", store=store.location)


def _plain_key(store: PemStore, der: bytes, where: str) -> PrivateKeyTypes:
    key = reading.maybe_key(store, der)
    if key is None:
        raise CorruptStore(f"{where} is not a readable private key", store=store.location)
    store._key_protection.add(UNENCRYPTED)
    return key


def _decrypt_pkcs8(store: PemStore, der: bytes, where: str) -> PrivateKeyTypes:
    """An EncryptedPrivateKeyInfo, decrypted once: its parameters are checked against keystores.limits (and
    charged to this file's budget) first, then scrypt goes to cryptography's loader and every other scheme to
    keystores.crypto.pbe, which reads them all and tells a wrong password from damage."""
    from keystores.crypto import pbe

    password = reading.need_password(store, where)
    store._encrypted_pkcs8.append(der)
    scrypt = _scrypt_parameters(der)
    try:
        if scrypt is not None:
            return _decrypt_scrypt(store, der, where, password, scrypt)
        # PEM blocks were charged to the budget by _charge_encrypted_keys; a DER file's one key is charged here.
        budget = store._kdf_budget if store.format == "der" else None
        plain = pbe.decrypt_pkcs8(der, password, budget=budget)
    except WrongPassword as exc:
        raise WrongPassword(f"wrong password for {where}", store=store.location) from exc
    except KeystoreError as exc:
        raise type(exc)(f"{where}: {exc.reason}", store=store.location) from exc
    key = reading.maybe_key(store, plain)
    if key is None:
        raise CorruptStore(f"{where} decrypts to a key we cannot read", store=store.location)
    return key


def _decrypt_scrypt(store: PemStore, der: bytes, where: str, password: str,
                    cost: tuple[int, int, int]) -> PrivateKeyTypes:
    """`openssl pkcs8 -scrypt` keys, which keystores.crypto.pbe does not read: cryptography's loader, once its cost
    (N, r, p) is known to be within what OpenSSL itself decrypts."""
    from cryptography.hazmat.primitives import serialization

    n, r, p = cost
    if n < 2 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16 or 128 * n * r > MAX_SCRYPT_MEMORY:
        raise LimitExceeded(f"scrypt cost N={n}, r={r}, p={p} is outside what OpenSSL decrypts (N a power of "
                            f"two, 128*N*r at most {MAX_SCRYPT_MEMORY // 2**20} MiB, r <= 32, p <= 16)")
    store._kdf_budget.charge(n * r, p, "scrypt")
    try:
        return serialization.load_der_private_key(der, password.encode("utf-8"))
    except Exception as exc:  # cryptography reads scrypt; a failure is the password (or damage it cannot tell)
        raise WrongPassword("decryption failed") from exc
    except BaseException as exc:  # cryptography's Rust code can panic on hostile input (PanicException)
        if type(exc).__name__ != "PanicException":
            raise
        raise CorruptStore("is damaged (cryptography could not parse it)") from None


def _decrypt_legacy(store: PemStore, block: _Block) -> PrivateKeyTypes:
    """OpenSSL's traditional "Proc-Type: 4,ENCRYPTED" + "DEK-Info" form: EVP_BytesToKey (MD5, one round) + CBC.

    Decrypted here rather than by cryptography's loader, which reads fewer ciphers (no AES-192) and panics on a
    damaged IV instead of raising.
    """
    plain = reading.legacy_plain(store, block)
    # No integrity check in this form: bad padding or a non-key result is the password in all but corner cases.
    parsed = reading.maybe_key(store, plain) if plain else None
    if parsed is None:
        raise WrongPassword(f"wrong password for {block.where}", store=store.location)
    return parsed


def _pkcs7_certificates(store: PemStore, der: bytes, where: str) -> list[x509.Certificate]:
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import pkcs7

    try:
        certs = pkcs7.load_der_pkcs7_certificates(der)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CorruptStore(f"{where} is not a readable PKCS#7 certificate bundle", store=store.location) from exc
    return [reading.checked(store, cert, where) for cert in certs]


def assemble_decoded(store: PemStore, decoding: Callable[[], list[_Item]]) -> None:
    """assemble(store, decoding()), cryptography's warnings about what it decodes kept quiet: real CA bundles hold roots
    with non-positive serial numbers, and cryptography warns on each (to stderr in the CLI). They are read as
    they are: warning about a root the user did not make helps nobody. (Only here: lazy_read.py decodes
    nothing, and its entries decode quietly too.)"""
    from keystores.pki.certificates import quietly_decoding

    with quietly_decoding():
        assemble(store, decoding())


def assemble(store: PemStore, items: list[_Item]) -> None:
    """Group decoded objects into entries as the module docstring describes; fills _entries and loose_keys."""
    from bisect import bisect_left

    from cryptography import x509

    from keystores.limits import VerificationBudget
    from keystores.pki.chain import build_chain
    from keystores.pki.undecoded import RawCertificate, UndecodedPrivateKey

    certs = [i for i in items if isinstance(i.obj, x509.Certificate | RawCertificate)]
    requests = [i for i in items if isinstance(i.obj, x509.CertificateSigningRequest)]
    keys = [i for i in items if not isinstance(i.obj, x509.Certificate | RawCertificate
                                               | x509.CertificateSigningRequest)]
    certs_by_key: dict[bytes, list[_Item]] = {}
    for cert_item in certs:
        certs_by_key.setdefault(_key_hash(cert_item.obj), []).append(cert_item)
    requests_by_key: dict[bytes, list[_Item]] = {}
    for request_item in requests:
        requests_by_key.setdefault(public_key_fingerprint(request_item.obj.public_key()), []).append(request_item)

    # (position, friendly name, kind, leaf or request item, key) per future entry
    groups: list[tuple[int, str | None, EntryKind, _Item, Any]] = []
    for key_item in keys:
        if isinstance(key_item.obj, UndecodedPrivateKey):
            # cryptography derives no public key from it: paired by the public key its PKCS#8 carries.
            bits = key_item.obj.public_key_bits
            leaf_item = next((c for c in certs if not c.used and bits is not None
                              and isinstance(c.obj, RawCertificate) and c.obj.public_key_bits == bits), None)
            if leaf_item is not None:
                leaf_item.used = True
                groups.append((min(leaf_item.position, key_item.position),
                               leaf_item.friendly_name or key_item.friendly_name, EntryKind.KEY_PAIR, leaf_item,
                               key_item.obj))
                continue
            store.loose_keys.append(key_item.obj)
            store.notes.append(f"{store.location}: holds a {key_item.obj.key_type} private key that cryptography "
                              "cannot load, so it is not paired with a certificate; it is kept when the file "
                              "is rewritten")
            continue
        spki = public_key_fingerprint(key_item.obj.public_key())
        matches = [c for c in certs_by_key.get(spki, ()) if not c.used]
        if matches:
            leaf = min(matches, key=lambda c: (key_item.local_key_id is None
                                               or c.local_key_id != key_item.local_key_id,
                                               abs(c.position - key_item.position)))
            leaf.used = True
            groups.append((min(leaf.position, key_item.position), leaf.friendly_name or key_item.friendly_name,
                           EntryKind.KEY_PAIR, leaf, key_item.obj))
            continue
        pending = [r for r in requests_by_key.get(spki, ()) if not r.used]
        if pending:
            request = min(pending, key=lambda r: abs(r.position - key_item.position))
            request.used = True
            groups.append((min(request.position, key_item.position),
                           request.friendly_name or key_item.friendly_name, EntryKind.REQUEST, request,
                           key_item.obj))
            continue
        reading.keep_loose_key(store, key_item.obj)
    groups.extend((r.position, r.friendly_name, EntryKind.REQUEST, r, None) for r in requests if not r.used)

    chains: dict[int, tuple[x509.Certificate, ...]] = {}
    chain_items: list[_Item] = []  # unnamed certificates that are a key pair's chain members
    subjects = _SubjectIndex(certs)
    verifications = VerificationBudget()
    for number, (_, _, kind, leaf, _) in enumerate(groups):
        if kind is not EntryKind.KEY_PAIR:
            continue

        def nearest(name: x509.Name, leaf: _Item = leaf) -> Iterator[_Item]:
            # Blocks right after the leaf first (where writers put a key pair's own chain), then those before
            # it, nearest first. Lazy: a chain is usually found in the first block or two.
            same = subjects.named(name)
            split = bisect_left([c.position for c in same], leaf.position)
            yield from same[split:]
            yield from reversed(same[:split])

        chain = build_chain(leaf.obj, lambda cert, nearest=nearest: (c.obj for c in nearest(cert.issuer)),
                            verifications)
        chains[number] = chain
        for member in chain[1:]:
            for cand in nearest(member.subject):
                if not cand.used and cand.friendly_name is None and cand.obj == member:
                    cand.used = True
                    chain_items.append(cand)
                    break

    note = verifications.note(store.location)
    if note is not None:
        store.notes.append(note)
    duplicates = 0
    trusted_seen: set[bytes] = set()
    for cert_item in certs:
        if cert_item.used:
            continue
        fingerprint = _fingerprint(cert_item.obj)
        if cert_item.friendly_name is None and fingerprint in trusted_seen:
            duplicates += 1
            continue
        trusted_seen.add(fingerprint)
        groups.append((cert_item.position, cert_item.friendly_name, EntryKind.TRUSTED_CERT, cert_item, None))
    if duplicates:
        store.notes.append(f"{store.location}: {duplicates} duplicate certificate(s) skipped")
    # A chain member is an entry of its own too, untrusted (a chain trusts nothing by being there): one per
    # certificate, however many chains hold it, and none where the file also holds it trusted.
    for cert_item in chain_items:
        fingerprint = _fingerprint(cert_item.obj)
        if fingerprint not in trusted_seen:
            trusted_seen.add(fingerprint)
            groups.append((cert_item.position, None, EntryKind.CERTIFICATE, cert_item, None))

    labels = UniqueLabels()
    order = sorted(range(len(groups)), key=lambda n: groups[n][0])
    for number in order:
        _, friendly, kind, item, key = groups[number]
        label = labels.add(friendly or derived_label(item.obj.subject, _labelling_key(item.obj)))
        if kind is EntryKind.KEY_PAIR:
            entry = Entry(label, kind, chain=chains[number], key=key)
        elif kind is EntryKind.REQUEST:
            entry = Entry(label, kind, key=key, request=item.obj)
        elif kind is EntryKind.CERTIFICATE:
            entry = Entry(label, kind, chain=(item.obj,), trust=None)
        else:
            entry = Entry(label, kind, chain=(item.obj,), trust=item.trust)
        store._entries[label] = entry
