"""The certificate lifecycle, written once against the KeyStore protocol: selfsign, certreq, sign and receive
work the same on a PKCS#12 file, a JKS, a .kdb, an NSS database or a token (validate and audit: ops/audit.py).

Keys are made where the store makes them: on the token when `capabilities.key_generation`, else on the host
(then kept as a pending REQUEST where the format has them, or as keytool does, as a key pair with a self-signed
placeholder certificate). Every signature goes through the store's Signer, so a token key signs in place.
Operations raise keystores errors and return results whose `notes` the CLI prints on stderr.
"""

from __future__ import annotations

from keystores.frozen import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from cryptography import x509

# The lifecycle's four operations live in three modules, each loaded by its own commands only (start-up speed,
# bench_core's "start-up: keystores certreq"/"sign"/"receive", bench_commands.py "selfsign": every lifecycle command
# loaded all four, 52 KB of bytecode, where it runs a third of it): keystores.ops.lifecycle_make (selfsign,
# certreq), lifecycle_sign (sign), lifecycle_receive (receive); here, what they share (their results, the names of
# certificates in messages, PEM blocks). Their names are served from here as before (keystores.sign,
# keystores.ops.lifecycle.certreq...), each module imported when one of its names is first asked for.
_MAKE_NAMES = frozenset({"DEFAULT_KEY", "PLACEHOLDER_DAYS", "_spec", "_subject", "_host_key", "_label_free",
                         "_new_key", "_key_fields", "_forget_token_key", "selfsign", "certreq",
                         "_placeholder_validity"})
_SIGN_NAMES = frozenset({"load_request", "sign", "_sign", "_seconds", "_validity_seconds", "_signer",
                         "_certificate_key", "_key_print", "_request_to_sign", "_request_der", "_chain_as_encoded"})
_RECEIVE_NAMES = frozenset({"load_certificates", "read_certificates", "_entry_public_key", "_entry_key_print",
                            "_certificate_key_print", "_short_fp", "receive", "_leaf_der"})


def __getattr__(name: str) -> Any:
    if name in _MAKE_NAMES:
        from keystores.ops import lifecycle_make as part
    elif name in _SIGN_NAMES:
        from keystores.ops import lifecycle_sign as part  # type: ignore[no-redef]
    elif name in _RECEIVE_NAMES:
        from keystores.ops import lifecycle_receive as part  # type: ignore[no-redef]
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(part, name)


# --- results ---------------------------------------------------------------------------------------------------
# The results hold what they carry as made or read, DER (keystores.pki.encoded), and give cryptography's objects of
# it on first use: the CLI prints from the DER without importing cryptography.x509 (start-up speed, bench_core's
# "start-up: keystores certreq"/"sign"/"receive"). They are keystores.frozen's Record and FrozenValue, not
# dataclasses, for the same reason: dataclasses and inspect cost every lifecycle command ~10 ms to import and the
# classes' generated methods ~3 ms to compile (tests/test_lifecycle_lean.py holds them to the dataclasses).
def _decoded(item: Any) -> Any:
    from keystores.pki.encoded import Encoded

    return item.decoded if isinstance(item, Encoded) else item


class _Chain(Record):
    """A chain under `label`, leaf first: `chain` as cryptography's objects, `encoded` as keystores.pki.encoded
    objects; `notes` for the user."""

    label: str
    encoded: tuple[Any, ...]
    notes: list[str]
    _fields = ("label", "encoded", "notes")

    def __init__(self, label: str, encoded: tuple[Any, ...], notes: list[str] | None = None) -> None:
        self.label = label
        self.encoded = encoded
        self.notes = [] if notes is None else notes

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        return tuple(_decoded(cert) for cert in self.encoded)


class Issued(_Chain):
    """A certificate made by selfsign or sign: `certificate` and `chain` (leaf first, the CA's chain after the
    leaf) are cryptography's objects; `encoded` is the same chain as keystores.pki.encoded objects."""

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]


class Requested(Record):
    """A request made by certreq; `kept_as` says where the key waits for the signed certificate. `request` is
    cryptography's object, `encoded` the same request as a keystores.pki.encoded.EncodedRequest."""

    label: str
    encoded: Any
    kept_as: str
    notes: list[str]
    _fields = ("label", "encoded", "kept_as", "notes")

    def __init__(self, label: str, encoded: Any, kept_as: str, notes: list[str] | None = None) -> None:
        self.label = label
        self.encoded = encoded
        self.kept_as = kept_as
        self.notes = [] if notes is None else notes

    @property
    def request(self) -> x509.CertificateSigningRequest:
        return _decoded(self.encoded)  # type: ignore[no-any-return]


class Received(_Chain):
    """The chain attached to `label`, leaf first: `chain` as cryptography's objects, `encoded` as received."""


# --- what the operations share ---------------------------------------------------------------------------------
def _describe(cert: Any) -> str:
    """keystores.pki.dn.describe, imported only where a message names a certificate: receive loads none of that
    module otherwise (start-up speed; sign has it loaded, for the request's subject)."""
    from keystores.pki.dn import describe

    return describe(cert)


def pem_bodies(data: bytes, labels: tuple[bytes, ...]) -> list[bytes]:
    """What lies between each `-----BEGIN L-----` and the first `-----END M-----` after it, L and M any of `labels`,
    in order: re.findall of BEGIN (labels)(.*?) END (labels) with DOTALL, without re (start-up speed: sign and
    receive import no re; tests/test_lifecycle_lean.py holds it to the expression)."""
    begins = [b"-----BEGIN " + label + b"-----" for label in labels]
    ends = [b"-----END " + label + b"-----" for label in labels]
    found, at = [], 0
    while True:
        begin = _earliest(data, begins, at)
        if begin is None:
            return found
        end = _earliest(data, ends, begin[1])
        if end is None:  # no END after this BEGIN, so none after any later one
            return found
        found.append(data[begin[1] : end[0]])
        at = end[1]


def _earliest(data: bytes, markers: list[bytes], at: int) -> tuple[int, int] | None:
    """(start, end) of the first of `markers` found in `data` from `at` on, or None."""
    spans = [(start, start + len(marker)) for marker in markers if (start := data.find(marker, at)) >= 0]
    return min(spans) if spans else None
