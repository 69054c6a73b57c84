"""Writing a PKCS#12 file: entries -> bags (keys still sealed as read kept as they are) -> PFX with its MAC."""

from __future__ import annotations

import codecs
import time

from keystores.backends.pkcs12.bags import _EKU_BY_PURPOSE, _SECRET_ALGORITHMS, ANY_EKU, _CertBag
from keystores.backends.pkcs12.mac import _mac_key, _make_mac
from keystores.crypto import der
from keystores.errors import (
    CapabilityError,
    PasswordRequired,
)
from keystores.model import Entry, EntryKind, KeyRef, SecretKey, Trust

try:  # what hashlib.sha1 and hashlib.sha256 are, without hashlib's import, which makes a constructor for every digest
    # it offers (~0.4 ms of bench_commands' "convert one.p12 to PKCS#12", which hashes nothing else)
    from _hashlib import openssl_sha1 as _sha1
    from _hashlib import openssl_sha256 as _sha256
except ImportError:  # pragma: no cover - an interpreter without OpenSSL: hashlib's own
    from hashlib import sha1 as _sha1
    from hashlib import sha256 as _sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from keystores.backends.pkcs12.store import _WriteProfile
    from keystores.crypto import pbe
    from keystores.crypto.kdf_pool import KdfPool


def _is_oid_list(text: str) -> bool:
    r"""Whether `text` is dotted OIDs (two arcs or more) joined by commas, as re.match of
    ^\d+(\.\d+)+(,\d+(\.\d+)+)*$ says (a final newline allowed, digits of any script), without importing re
    (start-up: every PKCS#12 write imports this module; tests/test_write_lean.py holds it to the expression)."""
    text = text[:-1] if text.endswith("\n") else text
    return all(len(arcs) >= 2 and all(arc.isdecimal() for arc in arcs)
               for arcs in (oid.split(".") for oid in text.split(",")))


def _oids_from_trust(trust: Trust) -> list[str]:
    if trust.native and _is_oid_list(trust.native):
        return trust.native.split(",")
    if all(getattr(trust, p) for p in _EKU_BY_PURPOSE):
        return [ANY_EKU]
    oids = [oid for purpose, oid in _EKU_BY_PURPOSE.items() if getattr(trust, purpose)]
    return oids or [ANY_EKU]


class WriteAhead:
    """The key derivations a coming write will need, started before it, one after the other on one worker of a
    keystores.crypto.kdf_pool pool, beside the caller's other work (Pkcs12Store.expect_write: certreq and selfsign
    make a key's certificate and request meanwhile; bench/bench_core.py "certreq"): `new_keys` key bags'
    (pbe.Sealer), the certificates part's and the MAC's, each with its own fresh salt, as the write would have
    drawn them. A derivation the worker has not begun when the write wants it, the write's thread does itself
    (_Claimable), so both cores stay busy however far the worker got. What the write does not take is dropped
    (close: waits for a derivation under way; the worker begins no other). For `password` and `profile` only
    (fits)."""

    __slots__ = ("_certificate_jobs", "_jobs", "_key_jobs", "_pool", "certificates", "keys", "mac", "password",
                 "profile")

    def __init__(self, password: str, profile: _WriteProfile, new_keys: int) -> None:
        from _thread import allocate_lock

        from keystores.crypto import libcrypto, pbe
        from keystores.crypto.kdf_pool import BEGUN_WAIT, KdfPool

        self.password, self.profile = password, profile
        self._jobs: list[_Claimable] = []
        self.keys: list[pbe.Sealer] = []
        self._key_jobs: list[list[_Claimable]] = []  # each key's derivations (one, or two for the compat PBE)
        for _ in range(new_keys):
            first = len(self._jobs)
            self.keys.append(pbe.Sealer(profile.key_scheme, password, iterations=profile.iterations,
                                        salt_length=profile.salt_length, pool=self))  # type: ignore[arg-type]
            self._key_jobs.append(self._jobs[first:])
        first = len(self._jobs)
        self.certificates: pbe.Sealer | None = pbe.Sealer(
            profile.cert_scheme, password, iterations=profile.iterations, salt_length=profile.salt_length,
            pool=self)  # type: ignore[arg-type]
        self._certificate_jobs = self._jobs[first:]
        self.mac = self.submit(profile.mac_iterations, _mac_key, password, profile)
        # One call for them all: the pool starts one worker (most=2: it runs calls inline below two). Until it has
        # begun the first derivation: else it would wait for this thread to let the GIL go, which a thread running
        # Python does every 5 ms only (sys.getswitchinterval). At most kdf_pool.BEGUN_WAIT, as pbe.Ahead and
        # lazy_entries.KeysAhead wait.
        begun = allocate_lock()
        begun.acquire()
        self._pool: KdfPool | None = KdfPool("pkcs12-write-ahead", most=2).__enter__()
        try:
            self._pool.submit(None, self._work, begun)
            begun.acquire(timeout=BEGUN_WAIT)
            libcrypto.library()  # what the MAC's KDF (last) uses: loaded here meanwhile, not by the worker
        except BaseException:  # an interrupt: the worker begins nothing more, and is waited for
            self.close()
            raise

    def submit(self, iterations: int | None, call: Any, /, *args: Any) -> _Claimable:
        """What pbe.Sealer asks of a pool: `call(*args)`, by the worker unless the writer claims it first."""
        job = _Claimable(call, args)
        self._jobs.append(job)
        return job

    def _work(self, begun: Any) -> None:
        begun.release()
        for job in self._jobs:
            job.in_worker()  # (one the writer claimed, or close did, is skipped)

    def take_share(self, keys: int, certificates: bool) -> None:
        """The write is here: this thread derives, from the last, each derivation it will use (its first `keys`
        keys', the certificates' if `certificates`, the MAC's) that the worker has not begun, while the worker
        goes on from the first; they meet in between, and neither waits for a derivation the other could have
        made meanwhile. (Taking each as the write needs it, the MAC first and then the keys in order, left this
        thread waiting for the worker's certificates' derivation after its key's: `convert` into a new PKCS#12
        file, whose write follows the hint by ~2 ms.)"""
        used = [job for jobs in self._key_jobs[:keys] for job in jobs]
        if certificates:
            used += self._certificate_jobs
        used.append(self.mac)
        for job in reversed(used):
            job.in_worker()  # (one the worker began, or made, is skipped: its result() waits for it)

    def fits(self, password: str | None, profile: _WriteProfile) -> bool:
        return self._pool is not None and password == self.password and profile == self.profile

    def close(self) -> None:
        """Drop what was not taken: the worker begins no other derivation; one under way is waited for."""
        pool, self._pool = self._pool, None
        if pool is not None:
            for job in self._jobs:
                job.in_worker(claim_only=True)
            pool.__exit__(None, None, None)


class _Claimable:
    """One derivation of a WriteAhead: done by the worker (in_worker) or by the writer's thread (result), whichever
    claims it first; result() takes the outcome either way, raising what the derivation raised."""

    __slots__ = ("_args", "_call", "_claim", "_done", "_error", "_value")

    def __init__(self, call: Any, args: tuple[Any, ...]) -> None:
        from _thread import allocate_lock

        self._call, self._args = call, args
        self._claim, self._done = allocate_lock(), allocate_lock()
        self._done.acquire()  # released once derived (or dropped)
        self._value: Any = None
        self._error: BaseException | None = None

    def in_worker(self, *, claim_only: bool = False) -> None:
        """Derive, unless claimed already; with `claim_only`, claim it so that nobody derives it (close)."""
        if not self._claim.acquire(False):
            return
        try:
            if not claim_only:
                self._value = self._call(*self._args)
        except BaseException as exc:  # for result() to raise, in the writer's thread
            self._error = exc
        finally:
            self._call, self._args = None, ()
            self._done.release()

    def result(self) -> Any:
        if self._claim.acquire(False):  # not begun: derived here
            self._done.release()
            return self._call(*self._args)
        with self._done:
            pass
        if self._error is not None:
            raise self._error
        return self._value


# New files' write derivations begun before their stores were opened (begin_new), by path (keystores.paths.normal);
# each is taken once, by the store's expect_write (take_begun).
_begun: dict[str, WriteAhead] = {}

#: The key bags a write begun for a new file derives: one key pair's, what `convert` of a keytool- or openssl-made
#: file writes. A write of more keys drops them and derives its own (take_begun).
BEGUN_KEYS = 1


def begin_new(location: str, password: str) -> None:
    """The PKCS#12 format record's `begin` for a new file (keystores.store.begin_opening with `create`, from the CLI
    once it has read `convert SRC NEW.p12 --dest-password ...`): a WriteAhead for the modern profile and BEGUN_KEYS
    key bags started now. None of its derivations needs the entries, only the password and fresh salts, so they run
    on the second core while the caller imports what it needs and reads its source: before, they started once the
    source was read (the transfer's expect_write), and this thread derived its share of them at the write
    (bench_commands "convert one.p12 to PKCS#12", ~1-1.5 ms). Nothing is begun for a path that exists, twice for a
    path, or on one core (WriteAhead's own rule: expect_write). Raises nothing (but an interrupt)."""
    try:
        from keystores import paths

        path = paths.normal(location)
        if path in _begun or paths.exists(path):
            return
        from keystores.crypto.pbkdf2 import usable_cores

        if usable_cores() < 2:
            return
        from keystores.backends.pkcs12.store import PROFILES

        _begun[path] = WriteAhead(password, PROFILES["modern"], BEGUN_KEYS)
    except Exception:  # the write derives its own, as it always has
        return


def take_begun(location: str, password: str, profile: _WriteProfile, new_keys: int) -> WriteAhead | None:
    """The WriteAhead begun for a new file at `location` (begin_new), handed out once, where it serves a write of
    `new_keys` key bags under `password` and `profile`; otherwise it is dropped (close: a derivation under way is
    waited for) and None is returned."""
    if not _begun:
        return None
    from keystores import paths

    begun = _begun.pop(paths.normal(location), None)
    if begun is None or (begun.fits(password, profile) and len(begun.keys) >= new_keys):
        return begun
    begun.close()
    return None


def _serialize(entries: Iterable[Entry], password: str | None,
               profile: _WriteProfile, local_key_ids: dict[bytes, bytes], location: str,
               reuse_from: object | None = None, ahead: WriteAhead | None = None) -> bytes:
    """A PFX as JDK 17 lays it out: key bags in a Data SafeContents, certificates in an EncryptedData one. Written
    with keystores.crypto.der throughout: asn1crypto's PKCS#12 and CMS modules cost certreq and receive more to
    import than the rest of writing (bench/bench_core.py "start-up: keystores certreq"/"receive")."""
    if password is not None:  # the MAC's KDF looks for the interpreter's libcrypto in any case: looked for first,
        from keystores.crypto import libcrypto  # it does the bags' CBC too (crypto/pbe), and cryptography's

        libcrypto.library()  # cipher modules are not imported (certreq, selfsign: ~1.5 ms of start-up)
    # (here, not at the top: WriteAhead, which certreq and selfsign start first, needs none of it; lifecycle's
    # _EARLY_WRITE)
    from keystores.lazy_entries import SealedEntry

    entries = list(entries)
    # A certificate entry that is also a key pair's chain member is one bag, in the chain, with its own attributes.
    chains = {id(e): e.chain_der() for e in entries if e.kind is EntryKind.KEY_PAIR or e.kind.is_certificate}
    in_chains = {der_ for e in entries if e.kind is EntryKind.KEY_PAIR for der_ in chains[id(e)][1:]}
    chain_entries: dict[bytes, Entry] = {}
    for entry in entries:
        if entry.kind.is_certificate and chains[id(entry)][0] in in_chains:
            chain_entries.setdefault(chains[id(entry)][0], entry)
    kept: dict[int, bytes] = {}  # id(key pair entry) -> its key bag as read, written back unchanged
    for entry in entries:
        if entry.kind is EntryKind.KEY_PAIR and isinstance(entry, SealedEntry) and reuse_from:
            sealed = entry.key_as_read(reuse_from)
            if sealed is not None and _kept_as_is(sealed, profile):
                kept[id(entry)] = sealed
    # What this write encrypts anew: each key bag not kept, each secret bag, and the certificates' part (written
    # when a key pair has a chain or a certificate entry is there, as _laid_out lays them out)
    sealed_anew = [id(entry) for entry in entries if (entry.kind is EntryKind.KEY_PAIR and id(entry) not in kept)
                   or (entry.kind is EntryKind.SECRET_KEY and entry.secret is not None)]
    certificates = any(chains[id(entry)] if entry.kind is EntryKind.KEY_PAIR else entry.kind.is_certificate
                       for entry in entries)
    laid_out = (entries, password, profile, local_key_ids, location, chains, chain_entries, kept, sealed_anew,
                certificates)
    if ahead is not None and ahead.fits(password, profile) and len(ahead.keys) >= len(sealed_anew):
        return _laid_out(*laid_out, None, ahead)
    if password is None or not (sealed_anew or certificates):
        return _laid_out(*laid_out, None)  # the MAC's derivation alone, if any
    from keystores.crypto.pbkdf2 import usable_cores

    if usable_cores() < 2:
        return _laid_out(*laid_out, None)
    from keystores.crypto.kdf_pool import KdfPool

    with KdfPool("pkcs12-write") as pool:
        return _laid_out(*laid_out, pool)


def _laid_out(entries: list[Entry], password: str | None, profile: _WriteProfile, local_key_ids: dict[bytes, bytes],
              location: str, chains: dict[int, tuple[bytes, ...]], chain_entries: dict[bytes, Entry],
              kept: dict[int, bytes], sealed_anew: list[int], with_certificates: bool, pool: KdfPool | None,
              ahead: WriteAhead | None = None) -> bytes:
    """The PFX's bytes. With a password, every key this write derives (the bags in `sealed_anew` by id, the
    certificates' part, the MAC) is derived first, side by side: the bags' on `pool`'s threads while this thread
    derives the MAC's (bench/bench_core.py "start-up: keystores certreq": 3 derivations in the time of 2 on two
    cores), each with its own fresh salt, as before; the bags' encryptions then take them as they come
    (pbe.Sealer); with `ahead` (WriteAhead), its sealers and MAC key, started before the write. A write that
    encrypts nothing (a new empty file: `create`) loads no PBE module: the MAC's KDF is keystores.crypto.kdf's."""
    sealers: dict[int, pbe.Sealer] = {}  # id(entry) -> the encryption of its key bag or secret bag
    certificates: pbe.Sealer | None = None
    mac_key: tuple[bytes, bytes] | None = None
    if ahead is not None:  # made for this password and profile (fits), at least one per key bag: under way
        from keystores.crypto import pbe

        sealers = dict(zip(sealed_anew, ahead.keys, strict=False))
        certificates = ahead.certificates if with_certificates else None
    elif password is not None and (sealed_anew or with_certificates):
        from keystores.crypto import pbe

        for anew in sealed_anew:
            sealers[anew] = pbe.Sealer(profile.key_scheme, password, iterations=profile.iterations,
                                       salt_length=profile.salt_length, pool=pool)
        if with_certificates:
            certificates = pbe.Sealer(profile.cert_scheme, password, iterations=profile.iterations,
                                      salt_length=profile.salt_length, pool=pool)
    if ahead is not None:
        ahead.take_share(len(sealed_anew), with_certificates)
        mac_key = ahead.mac.result()
    elif password is not None:
        mac_key = _mac_key(password, profile)  # here, beside the bags' on the pool
    key_bags: list[bytes] = []
    cert_bags: list[bytes] = []
    chain_written: set[bytes] = set()
    ids_used: set[bytes] = set()
    for entry in entries:
        if entry.kind is EntryKind.KEY_PAIR:
            if password is None:
                raise PasswordRequired("a PKCS#12 file with private keys needs a password", store=location)
            epki = kept.get(id(entry))  # the key as read, same password, cipher and at least as many iterations
            if epki is None:
                pkcs8 = entry.held_pkcs8()  # a sealed key's, without loading it (passwd, convert: start-up)
                if pkcs8 is None:
                    if isinstance(entry.key, KeyRef) or entry.key is None:
                        raise CapabilityError("extractable_keys", "PKCS#12 needs the private key itself",
                                              store=location, label=entry.label)
                    from keystores.pki.pkcs8 import pkcs8_der  # only for a key held loaded (start-up)

                    pkcs8 = pkcs8_der(entry.key)
                epki = pbe.encrypt_pkcs8(pkcs8, password, sealer=sealers[id(entry)])
            chain = chains[id(entry)]
            leaf_der = chain[0] if chain else _sha256(epki).digest()
            local_id = local_key_ids.get(leaf_der) or _sha1(leaf_der).digest()
            while local_id in ids_used:  # the same certificate under two labels: keep the ids distinct
                local_id = _sha1(local_id).digest()
            ids_used.add(local_id)
            attrs = _bag_attributes(entry.label, local_id, None)
            key_bags.append(_safe_bag(_SHROUDED_KEY_BAG_OID, epki, attrs))
            for index, cert_der in enumerate(chain):
                if index == 0:
                    cert_bags.append(_cert_bag(cert_der, attrs))
                elif cert_der not in chain_written:
                    chain_written.add(cert_der)
                    own = chain_entries.get(cert_der)
                    cert_bags.append(_cert_bag(cert_der, _chain_member_attributes(own) if own else None))
        elif entry.kind is EntryKind.SECRET_KEY and entry.secret is not None:
            if password is None:
                raise PasswordRequired("a PKCS#12 file with secret keys needs a password", store=location)
            epki = pbe.encrypt_pkcs8(_secret_pkcs8(entry.secret, location, entry.label), password,
                                     sealer=sealers[id(entry)])
            # SecretBag { secretTypeId (Java's: the shrouded key bag OID), [0] EXPLICIT OCTET STRING epki }
            value = der.sequence(_SHROUDED_KEY_BAG_OID, der.tlv(0xA0, der.octet_string(epki)))
            from keystores.backends.java_data import to_millis

            millis = to_millis(entry.created) if entry.created else time.time_ns() // 1_000_000
            attrs = _bag_attributes(entry.label, f"Time {millis}".encode(), None)
            key_bags.append(_safe_bag(_SECRET_BAG_OID, value, attrs))
        elif entry.kind.is_certificate:
            cert_der = chains[id(entry)][0]
            if chain_entries.get(cert_der) is not entry:
                cert_bags.append(_cert_bag(cert_der, _certificate_attributes(entry)))
        else:
            raise CapabilityError(entry.kind.value.replace("-", "_") + "s",
                                  f"PKCS#12 stores cannot hold {entry.kind.value} entries",
                                  store=location, label=entry.label)

    infos: list[bytes] = []
    if key_bags:
        infos.append(_data(der.tlv(0x30, b"".join(key_bags))))
    if cert_bags:
        plain = der.tlv(0x30, b"".join(cert_bags))
        if password is None:
            infos.append(_data(plain))
        else:
            if certificates is None:  # (the part is foreseen above: never)
                from keystores.crypto import pbe

                certificates = pbe.Sealer(profile.cert_scheme, password, iterations=profile.iterations,
                                          salt_length=profile.salt_length)
            alg_der, ciphertext = certificates.encrypt(plain)
            # EncryptedData { version 0, EncryptedContentInfo { data, algorithm, [0] IMPLICIT ciphertext } }
            encrypted = der.sequence(der.integer(0), der.sequence(_DATA_OID, alg_der, der.tlv(0x80, ciphertext)))
            infos.append(der.sequence(_ENCRYPTED_DATA_OID, der.tlv(0xA0, encrypted)))
    safe_bytes = der.sequence(*infos)
    mac = _make_mac(safe_bytes, password, profile, mac_key) if password is not None else b""
    return der.sequence(der.integer(3), _data(safe_bytes), mac)


_DATA_OID = der.oid("1.2.840.113549.1.7.1")
_ENCRYPTED_DATA_OID = der.oid("1.2.840.113549.1.7.6")
_SHROUDED_KEY_BAG_OID = der.oid("1.2.840.113549.1.12.10.1.2")
_SECRET_BAG_OID = der.oid("1.2.840.113549.1.12.10.1.5")


def _data(content: bytes) -> bytes:
    """ContentInfo { data, [0] EXPLICIT OCTET STRING content }."""
    return der.sequence(_DATA_OID, der.tlv(0xA0, der.octet_string(content)))


def _kept_as_is(epki_der: bytes, profile: _WriteProfile) -> bool:
    """Whether a key bag read from the file may be written back unchanged: only when it is as strong as what the
    profile writes (its cipher family, and no fewer iterations). A rewrite upgrades a weaker one (1 iteration,
    a legacy cipher) instead of carrying it on."""
    read = _scheme_family(epki_der)
    if read is None or read[0] != profile.key_scheme:
        return False
    return isinstance(read[1], int) and read[1] >= profile.iterations


_SECRET_OIDS = {name.upper(): oid for oid, name in reversed(list(_SECRET_ALGORITHMS.items()))}


def _secret_pkcs8(secret: SecretKey, location: str, label: str) -> bytes:
    oid = _SECRET_OIDS.get(secret.algorithm.upper())
    if oid is None and _is_oid_list(secret.algorithm) and "," not in secret.algorithm:
        oid = secret.algorithm
    if oid is None:
        raise CapabilityError("secret_keys", f"PKCS#12 names a secret key's algorithm by OID, and none is known for "
                              f"'{secret.algorithm}'", store=location, label=label)
    algorithm = der.tlv(0x30, der.oid(oid) + (b"\x05\x00" if oid == "2.16.840.1.101.3.4.1" else b""))
    return der.tlv(0x30, der.integer(0) + algorithm + der.tlv(0x04, secret.value))


def _certificate_attributes(entry: Entry) -> bytes | None:
    """A certificate entry's bag attributes: its label as friendlyName, and Java's trust attribute when trusted.
    A trust for no purpose (NSS's p,p,p) is no trust: no attribute, so Java does not take it as an anchor."""
    trust_oids = _oids_from_trust(entry.trust) if entry.trust is not None and entry.trust.purposes else None
    return _bag_attributes(entry.label, None, trust_oids)


def _chain_member_attributes(entry: Entry) -> bytes | None:
    """The bag attributes of a certificate entry written as a key pair's chain member: as `_certificate_attributes`,
    except that an untrusted one whose label is what reading derives from a bare bag (the common name) stays bare,
    so that an OpenSSL `-certfile` chain is written back as it was. That label is read from the DER as reading
    reads it (bags._CertBag.common_name): not from the decoded certificate, whose first use imports
    cryptography.x509 (~86 ms: any write of a PKCS#12 that `receive` gave its CA's chain, `receive` again too)."""
    if entry.trust is None and entry.label == _CertBag(entry.chain_der()[0], None, None, None).common_name:
        return None
    return _certificate_attributes(entry)


def _scheme_family(epki_der: bytes) -> tuple[str | None, int | None] | None:
    """Which write scheme an EncryptedPrivateKeyInfo's algorithm belongs to (None for anything else) and its
    iteration count; None when it does not read. Read with keystores.crypto.pbe_params where it can be (start-up
    speed: receive writes back the key bag it read, and asn1crypto costs it ~10 ms), else with asn1crypto."""
    from keystores.crypto.pbe_params import common, encrypted_private_key_info

    parts = encrypted_private_key_info(epki_der)
    lean = common(parts[0]) if parts is not None else None
    if lean is not None:
        if lean.name == "pkcs12_sha1_tripledes_3key":
            return "pkcs12-3des", lean.iterations
        if lean.name == "pbes2" and lean.cipher == "aes" and lean.key_length == 32:
            return "pbes2-aes256-" + lean.prf, lean.iterations
        return None, lean.iterations
    from asn1crypto import keys

    try:
        algorithm = keys.EncryptedPrivateKeyInfo.load(epki_der)["encryption_algorithm"]
        oid = algorithm["algorithm"].dotted
        iterations = algorithm.kdf_iterations
        if oid == "1.2.840.113549.1.12.1.3":
            return "pkcs12-3des", iterations
        if oid == "1.2.840.113549.1.5.13" and algorithm.encryption_cipher == "aes" and algorithm.key_length == 32:
            return "pbes2-aes256-" + (algorithm.kdf_hmac or "sha1"), iterations
        return None, iterations
    except (ValueError, KeyError, TypeError):
        return None


_CERT_BAG_OID = der.oid("1.2.840.113549.1.12.10.1.3")


_X509_CERT_OID = der.oid("1.2.840.113549.1.9.22.1")


def _cert_bag(cert_der: bytes, attrs: Any) -> bytes:
    """SafeBag { certBag, [0] CertBag { x509Certificate, [0] OCTET STRING cert }, attributes } as DER, written by
    hand: building it through asn1crypto was 90% of converting a 2,000-certificate store."""
    return _safe_bag(_CERT_BAG_OID, der.tlv(0x30, _X509_CERT_OID + der.tlv(0xA0, der.tlv(0x04, cert_der))), attrs)


def _safe_bag(bag_id: bytes, value: bytes, attrs: bytes | None) -> bytes:
    """SafeBag { bagId, [0] EXPLICIT value, bagAttributes SET OPTIONAL } as DER."""
    return der.sequence(bag_id, der.tlv(0xA0, value), attrs or b"")


_FRIENDLY_NAME_OID = der.oid("1.2.840.113549.1.9.20")


_LOCAL_KEY_ID_OID = der.oid("1.2.840.113549.1.9.21")


_JAVA_TRUST_OID = der.oid("2.16.840.1.113894.746875.1.1")


def _bag_attributes(name: str | None, local_key_id: bytes | None, trust_oids: list[str] | None) -> bytes | None:
    """The bag's attribute SET as DER (friendlyName as BMPString, localKeyId, Java's trusted key usages); written
    by hand for the same reason as _cert_bag."""
    attributes = []
    if name:
        # what name.encode("utf-16-be") calls, without importing encodings.utf_16_be (start-up: every PKCS#12 write)
        bmp = codecs.utf_16_be_encode(name)[0]
        attributes.append(der.tlv(0x30, _FRIENDLY_NAME_OID + der.tlv(0x31, der.tlv(0x1E, bmp))))
    if local_key_id is not None:
        attributes.append(der.tlv(0x30, _LOCAL_KEY_ID_OID + der.tlv(0x31, der.tlv(0x04, local_key_id))))
    if trust_oids is not None:
        values = b"".join(der.oid(dotted) for dotted in trust_oids)
        attributes.append(der.tlv(0x30, _JAVA_TRUST_OID + der.tlv(0x31, values)))
    return der.tlv(0x31, b"".join(attributes)) if attributes else None

