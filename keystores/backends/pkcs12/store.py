"""Pkcs12Store: opening a PKCS#12 file, the write profiles it honours, editing and what `protection()` reports.

The ciphers come from keystores.crypto.pbe and the PKCS#12 key derivation from keystores.crypto.kdf; reading and
writing are read.py and write.py beside this file.
"""

from __future__ import annotations

from keystores.backends.base import FileStore
from keystores.backends.pkcs12.mac import _hash_label
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    Hint,
    KeystoreError,
    Note,
    PasswordRequired,
)
from keystores.frozen import FrozenValue
from keystores.model import (
    Capabilities,
    Entry,
    EntryKind,
    Protection,
    ProtectionPart,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from keystores.backends.pkcs12 import structure
    from keystores.lazy_entries import KeysWanted


class _WriteProfile(FrozenValue):
    """The algorithms one write profile uses. (Not a dataclass: keystores.frozen says why.)"""

    key_scheme: str
    cert_scheme: str
    mac_hash: str
    iterations: int
    mac_iterations: int
    salt_length: int
    mac_salt_length: int
    _fields = ("key_scheme", "cert_scheme", "mac_hash", "iterations", "mac_iterations", "salt_length",
               "mac_salt_length")

    def __init__(self, key_scheme: str, cert_scheme: str, mac_hash: str, iterations: int, mac_iterations: int,
                 salt_length: int = 16, mac_salt_length: int = 20) -> None:
        given = locals()
        for name in self._fields:
            object.__setattr__(self, name, given[name])


# modern: what JDK 17 (11.0.12+) writes, and what OpenSSL 3 writes but with 10000 iterations instead of 2048.
# compat: 3DES bags and a SHA-1 MAC, which Java 8 before 8u301, Windows before 2019 and macOS read.
PROFILES: dict[str, _WriteProfile] = {
    "modern": _WriteProfile("pbes2-aes256-sha256", "pbes2-aes256-sha256", "sha256", 10000, 10000),
    "compat": _WriteProfile("pkcs12-3des", "pkcs12-3des", "sha1", 2048, 2048, salt_length=8),
}


class Pkcs12Store(FileStore):
    """A PKCS#12 file. Writes with `profile` "modern" (PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC)
    or "compat" (pbeWithSHAAnd3-KeyTripleDES-CBC, HMAC-SHA1 MAC); reads every cipher seen in the wild.

    Java's secret-key bags are secret-key entries (see the module docstring)."""

    format: ClassVar[str] = "pkcs12"
    capabilities: ClassVar[Capabilities] = Capabilities(secret_keys=True, default_flag=False, trust_purposes=True,
                                                        bare_keys=True, undecoded_entries=True)

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern") -> None:
        self._local_key_ids: dict[bytes, bytes] = {}  # leaf certificate DER -> localKeyId read from the file
        self._read_protection: dict[str, ProtectionPart] = {}
        self._read_password: str | None = None
        self._ahead: Any = None  # write.WriteAhead, from expect_write
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    # --- reading -------------------------------------------------------------------------------------------
    def _load(self, data: bytes) -> None:
        early = _derivations_ahead(data, self.password)  # before read.py's import, which runs meanwhile
        try:
            # Imported here: a store being created (certreq, selfsign into a new file) reads nothing (start-up).
            from keystores.backends.pkcs12.read import _assemble, _parse, _why

            try:
                parsed = _parse(data, self.password, self.location, early)
            except KeystoreError as exc:
                exc.store = exc.store or self.location  # pbe raises without knowing the path
                raise
            except Exception as exc:  # a parser boundary: asn1crypto, cryptography and index errors mean damage
                raise CorruptStore(f"damaged PKCS#12 file ({_why(exc)})", store=self.location) from exc
        finally:
            if early is not None:
                early.leave()
        self._read_protection = parsed.protection
        self._read_password = parsed.bag_password  # what opens the key bags as read (may be OpenSSL 1.x's form)
        entries, notes = _assemble(parsed, self.location, origin=self)
        self.notes.extend(parsed.notes + notes)
        for entry, local_key_id, leaf_der in entries:
            if local_key_id is not None and leaf_der is not None:
                self._local_key_ids[leaf_der] = local_key_id
            self._entries[entry.label] = entry

    def protection(self) -> Protection:
        """The algorithms of the file as read; for a new or changed store, what the next save writes."""
        if self._read_protection and not self._dirty:
            return self._protection(dict(self._read_protection))
        return self._protection(_describe_profile(PROFILES[self.profile], self.password is None))

    # --- writing -------------------------------------------------------------------------------------------
    def remove(self, label: str) -> None:
        self._remove_with_chain(label)

    def check_entry(self, entry: Entry) -> None:
        if entry.kind is EntryKind.KEY_PAIR and self.password is None:
            raise PasswordRequired("a PKCS#12 file with private keys needs a password", store=self.location)
        super().check_entry(entry)
        if entry.kind is EntryKind.KEY_PAIR and entry.on_token:  # a sealed key is not opened to ask
            raise CapabilityError("extractable_keys", "the private key is held on a token; PKCS#12 needs the key "
                                  "itself", store=self.location, label=entry.label)
        if entry.kind is EntryKind.SECRET_KEY and entry.secret is not None:
            from keystores.backends.pkcs12.write import _secret_pkcs8

            _secret_pkcs8(entry.secret, self.location, entry.label)  # an algorithm PKCS#12 has no OID for

    def expect_write(self, *, new_keys: int = 0) -> None:
        """A hint: the next save writes `new_keys` private keys anew (and the certificates and MAC): their key
        derivations start now on another core (write.WriteAhead), while the caller goes on. Nothing starts without
        a password or a second core."""
        if not self.writable or self.password is None or self._ahead is not None:
            return
        from keystores.crypto.pbkdf2 import usable_cores

        if usable_cores() < 2:
            return
        from keystores.backends.pkcs12.write import WriteAhead, take_begun

        profile = PROFILES[self.profile]
        self._ahead = (take_begun(self.location, self.password, profile, new_keys)  # begun for a new file
                       or WriteAhead(self.password, profile, new_keys))

    def close(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.close()
        super().close()

    def _dump(self) -> bytes:
        from keystores.backends.pkcs12.write import _serialize  # not on the read path: `list` never loads it

        ahead, self._ahead = self._ahead, None  # its salts and keys serve one write
        try:
            # A key still sealed as read from this very file, under an unchanged password, is written back as is.
            reuse_from = self if self.password == self._read_password and self.password is not None else None
            data = _serialize(list(self._entries.values()), self.password,
                              PROFILES[self.profile], self._local_key_ids, self.location, reuse_from, ahead)
        except KeystoreError:
            raise
        except (ValueError, TypeError) as exc:
            from keystores.backends.pkcs12.read import _why

            raise KeystoreError(f"cannot write PKCS#12 ({_why(exc)})", store=self.location) from exc
        finally:
            if ahead is not None:
                ahead.close()
        legacy = any(part.broken or part.deprecated for part in self._read_protection.values())
        if self._read_protection and legacy and self.profile == "modern":
            self.notes.append(Note(f"{self.location}: rewritten with the modern profile (PBES2 AES-256, "
                                   "HMAC-SHA256)", Hint("; use {} to keep 3DES and SHA-1 for old Java, Windows or "
                                                        "macOS", option="--profile compat",
                                                        keyword="profile='compat'")))
        folded: dict[str, str] = {}
        for label in self._entries:
            other = folded.setdefault(label.casefold(), label)
            if other != label:
                self.notes.append(f"{self.location}: labels '{other}' and '{label}' differ only in case; Java "
                                  "(keytool) lower-cases aliases and will see only one of them")
        if self.password and not self.password.isascii() and PROFILES[self.profile].key_scheme.startswith("pbes2"):
            self.notes.append(f"{self.location}: Java (keytool) cannot open PBES2 stores whose password is not "
                              "ASCII; OpenSSL can")
        self._read_protection = {}
        return data


class _Early:
    """What _derivations_ahead started: the file's PFX and parts as read, a keystores.crypto.kdf_pool pool, the
    pbe.Ahead on it (the parts' keys and the MAC's) and, for a transfer (lazy_entries.KeysWanted), the pbe.Ahead
    of its first key bags' keys (`later`, else None), which the transfer keeps past the read. read._parse takes
    them over (`taken`); else leave() drops what was not taken and waits for what runs."""

    __slots__ = ("keys", "later", "parts", "pfx", "pool", "taken")

    def __init__(self, pfx: Any, parts: Any, pool: Any, keys: Any) -> None:
        self.pfx, self.parts, self.pool, self.keys, self.taken = pfx, parts, pool, keys, False
        self.later: Any = None

    def leave(self) -> None:
        if not self.taken:
            self.taken = True
            self.keys.__exit__(None, None, None)
            if self.later is not None:
                self.later.__exit__(None, None, None)
            self.pool.__exit__(None, None, None)


def _derivations_ahead(data: bytes, password: str | None) -> _Early | None:
    """The encrypted parts' keys and the MAC's started on a pool (its first candidate password form, read.mac's),
    and the parts' ciphers readied, before read.py and the modules only it needs (lazy_entries, pki.labels) are
    imported: they load while the MAC's key is derived on a worker, where this thread derived it after them
    (bench/bench_core.py "list one.p12"). read._parse takes them over and reads as before: the MAC is checked before
    anything is decrypted. None where it would start nothing (one core, no password, no MAC or PBMAC1, no encrypted
    part) or the file is not as it expects: _parse checks the file in its own order and says what is wrong, so
    nothing here raises (but an interrupt); the counts are checked and charged as _parse will (keystores.limits),
    so nothing starts that reading refuses."""
    if password is None or data[:1] != b"\x30":
        return None
    from keystores.crypto.pbkdf2 import usable_cores

    if usable_cores() < 2:
        return None
    from keystores.crypto.kdf_pool import KdfPool

    pool = KdfPool("pkcs12-read", spare_caller=True)
    pool.prestart(2)  # (one worker on two cores: spare_caller) its threads start while the file is parsed
    early = None
    try:
        found = _to_derive(data, password)
        if found is None:
            pool.__exit__(None, None, None)
            return None
        from keystores.crypto import pbe

        pfx, parts, encrypted, mac_key = found
        early = _Early(pfx, parts, pool, pbe.Ahead(pool))
        for algorithm in encrypted:
            early.keys.decryption(algorithm, password)
        from keystores.lazy_entries import keys_wanted  # (read.py imports it next: no module more)

        wanted = keys_wanted()
        if wanted is not None:  # a transfer or sign: its keys too, on the second worker, before the MAC's (below)
            # The MAC's key is the PKCS#12 KDF of libcrypto, which mac_key loads first (ctypes, ~3 ms on this
            # thread): started after it, the key bag's PBKDF2 (no libcrypto) left the second worker idle all
            # that time and then queued behind the MAC's, and the transfer waited for it at the key's first use.
            early.later = pbe.Ahead(pool)
            _derive_keys_early(parts, password, early.later, wanted)
        early.keys.mac_key(*mac_key)
        early.keys.ciphers(encrypted)
    except BaseException:  # (an interrupt: nothing else raises) nothing started is left behind
        if early is not None:
            early.leave()
        else:
            pool.__exit__(None, None, None)
        raise
    return early


def _to_derive(data: bytes, password: str) -> tuple[Any, Any, list[bytes], tuple[Any, ...]] | None:
    """For _derivations_ahead: (the PFX, its parts, the encrypted parts' AlgorithmIdentifiers, pbe.Ahead.mac_key's
    arguments), their counts checked and charged as read._parse will, or None."""
    from keystores.backends.pkcs12 import structure
    from keystores.backends.pkcs12.mac import _MAC_HASHES, PBMAC1_OID, _digest_size, _password_candidates
    from keystores.crypto import pbe
    from keystores.limits import KdfBudget, check_kdf

    try:
        pfx = structure.read_pfx(data, "")
        mac = pfx.mac
        if (pfx.version != 3 or pfx.content_type != "data" or not isinstance(pfx.safe, bytes) or mac is None
                or mac.algorithm == PBMAC1_OID or mac.algorithm not in _MAC_HASHES):
            return None
        parts = structure.read_authenticated_safe(pfx.safe)
        encrypted = [part.algorithm for part in parts if part.kind == "encrypted_data"]
        if not encrypted:
            return None
        budget = KdfBudget()
        for algorithm in encrypted:
            pbe.check_parameters(algorithm, budget)
        hash_name = _MAC_HASHES[mac.algorithm]
        size = _digest_size(hash_name)
        check_kdf(mac.iterations, size, max_key_length=size, what="PKCS#12 MAC")
        budget.charge(mac.iterations, 1, "PKCS#12 MAC")
        encoded = _password_candidates(password)[0][0]
    except Exception:  # damage, a limit: read._parse finds it and says so
        return None
    return pfx, parts, encrypted, (encoded, mac.salt, mac.iterations, size, hash_name)


_EARLY_KEYS = 2  # key bags a transfer's read starts deriving (lazy_entries.KeysWanted); KeysAhead opens any others


def _derive_keys_early(parts: list[structure.Part], password: str, later: Any, wanted: KeysWanted) -> None:
    """Start deriving (pbe.Ahead `later`, on the read's pool, after its parts' derivations) the keys of the first
    _EARLY_KEYS shrouded key bags of the file's plain parts, where keytool and OpenSSL write them, for a transfer
    that will open them (lazy_entries.KeysWanted): keys only, each bag's parameters checked against
    keystores.limits first, and no error of its own: whatever is wrong with the file is found, and said, by the
    reading that follows (a key that does not open fails when it is opened, as before). Only bags named one of
    `wanted.labels`, where it names some; each bag started is put in `wanted.started` with `password`: _assemble
    marks its entry."""
    from keystores.backends.pkcs12 import structure
    from keystores.crypto import pbe
    from keystores.crypto.pbe_params import encrypted_private_key_info

    try:
        for part in parts:
            if part.kind != "data":
                continue
            for bag in structure.read_safe_contents(part.data):
                if bag.kind != "pkcs8_shrouded_key_bag" or (wanted.labels is not None
                                                            and bag.friendly_name not in wanted.labels):
                    continue
                found = encrypted_private_key_info(bag.value)
                if found is None:
                    continue
                pbe.check_parameters(found[0])
                later.decryption(found[0], password)
                wanted.started[bag.value] = password
                if len(wanted.started) >= _EARLY_KEYS:
                    return
    except Exception:  # damage (or a limit) is reported by the reading itself
        return


# What each writer scheme uses, as keystores.crypto.pbe.scheme names it (and spells it).
_WRITTEN_SCHEMES = {"pbes2-aes256-sha256": ("PBES2 PBKDF2-HMAC-SHA-256 AES-256-CBC",
                                            ("PBES2", "PBKDF2", "SHA-256", "AES-256")),
                    "pkcs12-3des": ("PKCS#12 PBE SHA-1 3DES", ("PKCS#12 KDF", "SHA-1", "3DES"))}


def _describe_profile(profile: _WriteProfile, no_password: bool) -> dict[str, ProtectionPart]:
    if no_password:
        return {"mac": ProtectionPart("none", absent=True), "keys": ProtectionPart("none (no private keys)"),
                "certificates": ProtectionPart("none")}

    def written(scheme: str) -> ProtectionPart:
        text, algorithms = _WRITTEN_SCHEMES[scheme]
        return ProtectionPart(f"{text}, {profile.iterations} iterations", algorithms, profile.iterations)

    mac_hash = _hash_label(profile.mac_hash)
    return {"mac": ProtectionPart(f"HMAC-{mac_hash} (PKCS#12 KDF), {profile.mac_iterations} iterations",
                                  ("HMAC", mac_hash, "PKCS#12 KDF"), profile.mac_iterations),
            "keys": written(profile.key_scheme), "certificates": written(profile.cert_scheme)}
