"""The data every layer shares: entries, trust, capabilities, key specs, key references and signers.

This module sits at the bottom of the house: backends, pki, ops and the CLI all import it, it imports none of them
but the curve table keystores.pki.curves, which imports nothing. Entries that read their parts on first use are
in keystores.lazy_entries.
"""

from __future__ import annotations

from keystores.errors import Hint, UsageError
from keystores.frozen import FrozenValue
from keystores.named import NamedStr

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes

    from keystores.keyspec import KeySpec as KeySpec
    from keystores.protocols import Decrypter as Decrypter
    from keystores.protocols import Signer as Signer
    from keystores.strength import ALGORITHM_STRENGTH as ALGORITHM_STRENGTH
    from keystores.strength import Strength as Strength


class EntryKind(NamedStr):
    KEY_PAIR = "key-pair"
    TRUSTED_CERT = "trusted-cert"  # a certificate without a key, trusted (Java's trustedCertEntry, NSS "CT,C,C")
    CERTIFICATE = "certificate"  # a certificate without a key and without trust (NSS ",,", an untrusted issuer)
    SECRET_KEY = "secret-key"
    REQUEST = "request"

    @property
    def is_certificate(self) -> bool:
        """A certificate held on its own, without a key: trusted or not."""
        return self in (EntryKind.TRUSTED_CERT, EntryKind.CERTIFICATE)


class Trust(FrozenValue):
    """What a certificate entry is trusted to issue for; one model mapped onto every format.

    Java's trustedCertEntry and the CMS trusted bit mean "all purposes". NSS keeps per-purpose flags; `native`
    carries the source format's own spelling (for NSS e.g. "CT,C,C") so that a round trip loses nothing.
    An entry whose `trust` is None is present but not trusted (a CMS signer with the bit off, NSS ",,").
    `verified` is False when the trust was read without checking its integrity (NSS trust without the database
    password): shown as it is, but never made a trust anchor elsewhere unless asked (ops.transfer).
    """

    tls_server: bool
    tls_client: bool
    email: bool
    code_signing: bool
    native: str | None
    verified: bool
    _fields = ("tls_server", "tls_client", "email", "code_signing", "native", "verified")

    def __init__(self, tls_server: bool = True, tls_client: bool = True, email: bool = True,
                 code_signing: bool = True, native: str | None = None, verified: bool = True) -> None:
        init = object.__setattr__
        init(self, "tls_server", tls_server)
        init(self, "tls_client", tls_client)
        init(self, "email", email)
        init(self, "code_signing", code_signing)
        init(self, "native", native)
        init(self, "verified", verified)

    @property
    def purposes(self) -> list[str]:
        names = ("tls_server", "tls_client", "email", "code_signing")
        return [n for n in names if getattr(self, n)]


TRUST_ALL = Trust()


class Capabilities(FrozenValue):
    """What a format can express. Operations check these once and raise CapabilityError naming the one missing."""

    private_keys: bool
    extractable_keys: bool
    secret_keys: bool
    trust: bool
    default_flag: bool
    pending_requests: bool
    key_generation: bool
    multiple_entries: bool
    labels: bool
    untrusted_certificates: bool  # a certificate held without trust (JKS/JCEKS hold trusted ones only)
    #: Trust per purpose (NSS's flags, the EKU list of PKCS#12's Java attribute); else all purposes or none.
    trust_purposes: bool
    #: The store keeps its own secret beside it (a CMS .sth stash), used when no password is given.
    stash: bool
    #: The secret is a token's PIN, whose failed tries the token counts (and may lock it after).
    pin: bool
    #: a private key may be stored without a certificate (PKCS#12, PEM, NSS, PKCS#11; not JKS or CMS)
    bare_keys: bool
    #: certificates and PKCS#8 keys are stored as bytes, so one cryptography cannot decode (keystores.pki.undecoded)
    #: is carried unchanged; formats that must take a key or certificate apart to store it refuse such entries
    undecoded_entries: bool
    #: a password (or a token's PIN) protects the store and set_password changes it (not a store in memory)
    password: bool
    #: changes wait for save() and a failed `with` block drops them; a token writes each change at once
    transactional: bool
    _fields = ("private_keys", "extractable_keys", "secret_keys", "trust", "default_flag", "pending_requests",
               "key_generation", "multiple_entries", "labels", "untrusted_certificates", "trust_purposes", "stash",
               "pin", "bare_keys", "undecoded_entries", "password", "transactional")

    def __init__(self, private_keys: bool = True, extractable_keys: bool = True, secret_keys: bool = False,
                 trust: bool = True, default_flag: bool = False, pending_requests: bool = False,
                 key_generation: bool = False, multiple_entries: bool = True, labels: bool = True,
                 untrusted_certificates: bool = True, trust_purposes: bool = False, stash: bool = False,
                 pin: bool = False, bare_keys: bool = False, undecoded_entries: bool = False, password: bool = True,
                 transactional: bool = True) -> None:
        given = locals()
        for name in self._fields:
            object.__setattr__(self, name, given[name])


class ProtectionPart(FrozenValue):
    """How one part of a store is protected (its MAC, its keys, its certificates, the stash beside it).

    `text` is what `show` prints; the verdict comes from the other fields, never from the text: `algorithms`
    names the primitives used (block ciphers without mode, hashes, KDFs: "3DES", "SHA-1", "AES-256", "PBKDF2"),
    `iterations` the lowest count where it varies, `absent` says nothing protects it (no MAC, an unencrypted key)
    and `open_to_all` that its secret is empty, so anyone can read it.
    """

    text: str
    algorithms: tuple[str, ...]
    iterations: int | None
    absent: bool
    open_to_all: bool
    _fields = ("text", "algorithms", "iterations", "absent", "open_to_all")

    def __init__(self, text: str, algorithms: tuple[str, ...] = (), iterations: int | None = None,
                 absent: bool = False, open_to_all: bool = False) -> None:
        init = object.__setattr__
        init(self, "text", text)
        init(self, "algorithms", algorithms)
        init(self, "iterations", iterations)
        init(self, "absent", absent)
        init(self, "open_to_all", open_to_all)

    @property
    def broken(self) -> tuple[str, ...]:
        """The algorithms here that can be broken."""
        from keystores.strength import ALGORITHM_STRENGTH, Strength

        return tuple(a for a in self.algorithms if ALGORITHM_STRENGTH.get(a) is Strength.BROKEN)

    @property
    def deprecated(self) -> tuple[str, ...]:
        """The deprecated algorithms here (none that can be broken)."""
        from keystores.strength import ALGORITHM_STRENGTH, Strength

        return tuple(a for a in self.algorithms if ALGORITHM_STRENGTH.get(a) is Strength.DEPRECATED)

    @property
    def one_iteration(self) -> bool:
        """A single KDF or MAC iteration makes each password guess nearly free."""
        return self.iterations == 1

    @property
    def weak(self) -> bool:
        """Protection that can be broken or is missing (deprecated algorithms alone are not weak)."""
        return bool(self.absent or self.open_to_all or self.broken or self.one_iteration)

    @classmethod
    def joined(cls, parts: Iterable[ProtectionPart]) -> ProtectionPart:
        """One part for several schemes found side by side (keys protected in two ways): the texts joined, every
        algorithm, the lowest iteration count; absent or open when any of them is."""
        unique = sorted(set(parts), key=lambda part: part.text)
        counts = [part.iterations for part in unique if part.iterations is not None]
        algorithms = dict.fromkeys(a for part in unique for a in part.algorithms)
        return cls("; ".join(part.text for part in unique), tuple(algorithms), min(counts) if counts else None,
                   absent=any(part.absent for part in unique), open_to_all=any(part.open_to_all for part in unique))


#: The remedy of a format that writes strong protection when asked to (Protection.remedy).
MODERN_PROFILE_REMEDY = Hint("; rewrite it with the modern profile ({})",
                             option="`keystores passwd` or `keystores convert --profile modern`",
                             keyword="set_password on the store opened with profile='modern', or "
                                     "keystores.convert(..., profile='modern')")


class Protection(FrozenValue):
    """How a store protects itself, part by part, and what makes it stronger when it is weak.

    `parts` maps a part's name ("mac", "keys", "certificates", "store", "stash", "password", "token", "format")
    to how it is protected, in the order `show` prints them. `remedy` is this format's way to stronger protection
    (a profile, a newer version, or converting to another format where it has nothing stronger), a Hint: the CLI
    names the command and option, `remedy.render()` the Python call and keyword.
    """

    parts: Mapping[str, ProtectionPart]
    remedy: Hint
    _fields = ("parts", "remedy")

    def __init__(self, parts: Mapping[str, ProtectionPart] | None = None,
                 remedy: Hint = MODERN_PROFILE_REMEDY) -> None:
        object.__setattr__(self, "parts", {} if parts is None else parts)
        object.__setattr__(self, "remedy", remedy)

    def __getitem__(self, name: str) -> ProtectionPart:
        return self.parts[name]

    def __contains__(self, name: object) -> bool:
        return name in self.parts

    @property
    def weak(self) -> bool:
        """Some part can be broken or is unprotected."""
        return any(part.weak for part in self.parts.values())

    def as_text(self) -> dict[str, str]:
        """name -> text: what `show` prints and the JSON `protection` object holds."""
        return {name: part.text for name, part in self.parts.items()}


class KeyRef(FrozenValue):
    """A private key that cannot leave its store (a token key); it signs through `signer` and decrypts through
    `decrypter` (RSA keys whose token allows it)."""

    label: str
    key_id: bytes
    public_key: PublicKeyTypes
    signer: Signer | None
    sensitive: bool
    extractable: bool
    decrypter: Decrypter | None
    #: A key in a file store opened without its password (NSS): the store's password unlocks it, no token.
    locked: bool
    _fields = ("label", "key_id", "public_key", "signer", "sensitive", "extractable", "decrypter", "locked")

    def __init__(self, label: str, key_id: bytes, public_key: PublicKeyTypes, signer: Signer | None = None,
                 sensitive: bool = True, extractable: bool = False, decrypter: Decrypter | None = None,
                 locked: bool = False) -> None:
        given = locals()
        for name in self._fields:
            object.__setattr__(self, name, given[name])


class SecretKey(FrozenValue):
    """A symmetric key (JCEKS SecretKeyEntry, CMS secret key record)."""

    algorithm: str  # "AES", "DESede", "HmacSHA256" ...
    value: bytes  # never in repr()
    _fields = ("algorithm", "value")
    _hidden = frozenset({"value"})

    def __init__(self, algorithm: str, value: bytes) -> None:
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "value", value)

    @property
    def size_bits(self) -> int:
        return len(self.value) * 8


class Entry(FrozenValue):
    """One entry of a store. `chain` is leaf first. Frozen: change it with `with_()`. Equal entries have equal
    fields; `key` and `secret` are left out of repr()."""

    label: str
    kind: EntryKind
    chain: tuple[x509.Certificate, ...]
    key: PrivateKeyTypes | KeyRef | None
    secret: SecretKey | None
    request: x509.CertificateSigningRequest | None
    trust: Trust | None
    default: bool
    created: datetime | None
    _fields = ("label", "kind", "chain", "key", "secret", "request", "trust", "default", "created")
    _hidden = frozenset({"key", "secret"})

    def __init__(self, label: str, kind: EntryKind, chain: tuple[x509.Certificate, ...] = (),
                 key: PrivateKeyTypes | KeyRef | None = None, secret: SecretKey | None = None,
                 request: x509.CertificateSigningRequest | None = None, trust: Trust | None = None,
                 default: bool = False, created: datetime | None = None) -> None:
        # A keyless certificate's kind says whether it is trusted: TRUSTED_CERT with trust, CERTIFICATE without.
        # Backends build both as they read them; trusting one (with_(trust=...)) makes it a TRUSTED_CERT.
        if kind.is_certificate:
            kind = EntryKind.CERTIFICATE if trust is None else EntryKind.TRUSTED_CERT
        init = object.__setattr__  # through the class: a subclass's descriptors (keystores.lazy_entries) apply
        init(self, "label", label)
        init(self, "kind", kind)
        init(self, "chain", chain)
        init(self, "key", key)
        init(self, "secret", secret)
        init(self, "request", request)
        init(self, "trust", trust)
        init(self, "default", default)
        init(self, "created", created)

    def with_(self, **changes: object) -> Entry:
        return super().with_(**changes)  # type: ignore[no-any-return]

    @property
    def certificate(self) -> x509.Certificate | None:
        return self.chain[0] if self.chain else None

    @property
    def undecoded_leaf(self) -> bytes | None:
        """The leaf certificate's DER while its backend has not decoded the chain yet (NSS decodes on first use of
        `chain`), else None: what `list` reads its columns from without paying for the decoding."""
        return None

    @property
    def undecoded_chain(self) -> tuple[bytes, ...] | None:
        """The whole chain's DER, leaf first, while its backend has not decoded it yet and knows it (PKCS#12), else
        None: what `sign` reads its CA from without importing cryptography.x509 (start-up speed, bench_core's
        "start-up: keystores sign")."""
        return None

    @property
    def held_chain_der(self) -> tuple[bytes, ...] | None:
        """undecoded_chain where its backend holds it as read (PKCS#12, JKS, BKS, BCFKS, PEM; a chain linked
        already), else None: what asking undecoded_chain would not link (NSS and CMS link a key pair's chain on
        first use, checking signatures), for `list` (keystores.ops.describe.entry_rows)."""
        return None

    def chain_der(self) -> tuple[bytes, ...]:
        """The chain as DER, leaf first: as its backend read it while still undecoded (keystores.lazy_entries), so
        that rewriting a store decodes no certificate (delete, rename: start-up speed, bench/bench_core.py), else
        each certificate's bytes."""
        ders = self.undecoded_chain
        if ders is not None:
            return ders
        from keystores.crypto.key_encoding import Encoding

        return tuple(cert.public_bytes(Encoding.DER) for cert in self.chain)

    @property
    def on_token(self) -> bool:
        """The private key is a KeyRef: it stays on its token."""
        return isinstance(self.key, KeyRef)

    def key_known_loadable(self) -> bool:
        """Whether the key is one in software, not loaded yet, that its backend judged to load (LazyEntry): `show`
        then says it has no problem and is on no token without loading it."""
        return False

    @property
    def sealed(self) -> bool:
        """The key is still encrypted as read (SealedEntry): reading `key` would decrypt it."""
        return False

    def held_pkcs8(self) -> bytes | None:
        """The private key as keystores.pki.pkcs8.pkcs8_der writes it, where the entry gives it without loading the
        key (a sealed PKCS#12 EC key: SealedEntry); else None, and `key` is the key. A key that cannot be decrypted
        raises here what reading `key` raises."""
        return None

    @property
    def public_key(self) -> PublicKeyTypes | None:
        if self.kind is EntryKind.SECRET_KEY:
            return None
        if self.chain:
            return self.chain[0].public_key()
        if self.request is not None:
            return self.request.public_key()
        if isinstance(self.key, KeyRef):
            return self.key.public_key
        if self.key is not None:
            return self.key.public_key()
        return None


def __getattr__(name: str) -> object:
    """`Signer` and `Decrypter`, the protocols (typing's Protocol), live in keystores.protocols, which only type
    checkers and callers who ask for them import: no command needs typing at run time (start-up, issue 15).
    `Strength` and `ALGORITHM_STRENGTH` live in keystores.strength, imported where a protection is judged, and
    `KeySpec` in keystores.keyspec, imported where a key is made."""
    if name == "__path__":  # what every `from keystores.model import ...` asks first (a package?): no message made
        raise AttributeError(name)
    if name in ("Signer", "Decrypter"):
        from keystores import protocols

        return getattr(protocols, name)
    if name in ("Strength", "ALGORITHM_STRENGTH"):
        from keystores import strength

        return getattr(strength, name)
    if name == "KeySpec":
        from keystores.keyspec import KeySpec

        return KeySpec
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def dsa_public_key_type() -> type:
    """cryptography's DSAPublicKey, for isinstance checks. Naming it through the `dsa` module warns "DSA is
    deprecated", a note for developers that would reach users on every audit or list of a store holding a DSA
    key: it is fetched here without that warning."""
    import warnings

    from cryptography.utils import CryptographyDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        from cryptography.hazmat.primitives.asymmetric import dsa

        return dsa.DSAPublicKey  # type: ignore[no-any-return]


def describe_key(public_key: object) -> str:
    """`RSA-2048`, `EC-P256`, `Ed25519`, ... as the JSON schema spells key types. Each key type's module is
    imported only for a key not of the types before it, the common ones first (start-up: describing an EC key
    loads no RSA, EdDSA or DSA module; `random` comes with rsa's)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    if isinstance(public_key, ec.EllipticCurvePublicKey):
        from keystores.pki.curves import curve_named

        curve = curve_named(public_key.curve.name)
        return "EC-" + (curve.short if curve is not None else public_key.curve.name)
    from cryptography.hazmat.primitives.asymmetric import rsa

    if isinstance(public_key, rsa.RSAPublicKey):
        return f"RSA-{public_key.key_size}"
    from cryptography.hazmat.primitives.asymmetric import ed25519

    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    from cryptography.hazmat.primitives.asymmetric import ed448

    if isinstance(public_key, ed448.Ed448PublicKey):
        return "Ed448"
    if isinstance(public_key, dsa_public_key_type()):
        return f"DSA-{public_key.key_size}"  # type: ignore[attr-defined]
    from cryptography.hazmat.primitives.asymmetric import x448, x25519

    if isinstance(public_key, x25519.X25519PublicKey):
        return "X25519"
    if isinstance(public_key, x448.X448PublicKey):
        return "X448"
    return "unknown key type"  # never a Python class name: users read this


def public_key_fingerprint(public_key: object) -> bytes:
    """SHA-256 of the SubjectPublicKeyInfo: how receive matches a certificate to its key in any store."""
    import hashlib

    from keystores.crypto.key_encoding import spki_der

    return hashlib.sha256(spki_der(public_key)).digest()


def private_key_signer(key: PrivateKeyTypes) -> Signer:
    """A Signer over a key held in memory (any file format)."""
    from keystores.held_keys import SoftwareSigner

    return SoftwareSigner(key)


def private_key_decrypter(key: PrivateKeyTypes) -> Decrypter:
    """A Decrypter over an RSA key held in memory (any file format)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not isinstance(key, rsa.RSAPrivateKey):
        from keystores.pki.undecoded import UndecodedPrivateKey

        kind = key.key_type if isinstance(key, UndecodedPrivateKey) else describe_key(key.public_key())
        raise UsageError(f"cannot decrypt with a {kind} key: key transport needs an RSA key")
    from keystores.held_keys import SoftwareDecrypter

    return SoftwareDecrypter(key)
