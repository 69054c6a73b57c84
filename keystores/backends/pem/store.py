"""PEM and DER files as key stores: certificates, CA bundles, private keys (PKCS#8, PKCS#1, SEC1, encrypted) and
certificate requests.

Reading is tolerant of what other tools leave around PEM blocks ("Bag Attributes", "subject=" / "issuer=" lines,
comments, CRLF line endings, blank lines, junk between blocks). Writing produces clean PEM (or one DER object).

How a file becomes entries (PEM has no entries of its own, so this is our documented mapping):
- a private key + the certificate whose public key matches -> KEY_PAIR; its chain is the leaf followed by the
  certificates in the file that chain up from it (issuer name AND signature checked, see keystores.chain);
- a private key + a matching certificate request (and no certificate) -> REQUEST holding both; a request alone ->
  REQUEST without a key;
- an unnamed certificate that is a key pair's chain member is also an entry of its own: CERTIFICATE (trust None:
  a chain trusts nothing by being there), labelled as below, one per certificate however many chains hold it;
  deleting the key pair removes it unless another key pair's chain holds it (keytool -delete's rule);
- every other certificate -> TRUSTED_CERT with trust TRUST_ALL: PEM has no trust flags, and a PEM bundle of CAs is
  what users mean by a truststore. The one exception is read: OpenSSL's "TRUSTED CERTIFICATE" block (`openssl x509
  -trustout`), whose trusted/rejected purposes become the Trust and whose alias the label. The writer writes plain
  certificates only, so writing a certificate whose trust is None or partial adds a note to `notes`;
- a private key that matches no certificate or request is not an entry (an entry needs a certificate or a request):
  it is kept in `loose_keys`, named in `notes`, and written back when the file is rewritten.

Labels: PEM has none, so they are derived: a "friendlyName" in the Bag Attributes before a block wins, else the
certificate's (or request's) common name, else its first subject attribute, else "cert-" + fingerprint prefix;
duplicates get "-2", "-3" in file order. The writer adds a "Bag Attributes / friendlyName" line (as `openssl pkcs12
-nodes` does, and which every PEM reader skips) only where the derived label would differ from the entry's label, or
where a trusted certificate could otherwise be mistaken for part of a key pair's chain: a CA bundle whose labels are
the CAs' names stays pure PEM.

DER holds exactly one object: a certificate, a private key or a request (reading also accepts a DER PKCS#7
certificate bundle). Writing more than one entry, or a key pair whose chain has more than the leaf, is a
CapabilityError; a key pair is written as its certificate (the note says the key stayed out) unless the store was
opened with `der_key=True`, which writes the private key (PKCS#8) instead.

Keys are written as PKCS#8, encrypted with the store password when there is one (PBES2, PBKDF2-HMAC-SHA256,
AES-256-CBC, as cryptography's BestAvailableEncryption writes it; both profiles: every OpenSSL since 1.0 and Java 8+
read it); without a password they are written in the clear and the file is made 0600, even if it existed with a
wider mode. Encrypted keys are read in every scheme seen in the wild: the traditional "Proc-Type: 4,ENCRYPTED"
form (AES-128/192/256, 3DES, DES) and PKCS#8 (cryptography's loader, then keystores.pbe for PKCS#12 PBE, PBES1,
RC2...). All keys of a file are opened with the one store password.

The bytes decide between PEM and DER whatever the type asked for; the file is written back in the spelling read.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import contextlib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from keystores.backends.base import FileStore
from keystores.der import read as read_der
from keystores.errors import (
    CapabilityError,
    CorruptStore,
    KeystoreError,
    PasswordRequired,
    UnsupportedFormat,
    UsageError,
    WrongPassword,
)
from keystores.limits import KdfBudget, LimitExceeded
from keystores.model import (
    TRUST_ALL,
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
    Trust,
    UniqueLabels,
    describe_key,
    public_key_fingerprint,
)
from keystores.undecoded import RawCertificate, UndecodedPrivateKey

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

PEM_CAPABILITIES = Capabilities(private_keys=True, secret_keys=False, trust=False, default_flag=False,
                                pending_requests=True, multiple_entries=True, labels=False, bare_keys=True,
                                undecoded_entries=True)
DER_CAPABILITIES = Capabilities(private_keys=True, secret_keys=False, trust=False, default_flag=False,
                                pending_requests=True, multiple_entries=False, labels=False, bare_keys=True,
                                undecoded_entries=True)

# As keystores.pbe.describe spells what cryptography's BestAvailableEncryption writes (checked by the tests).
WRITTEN_KEY_PROTECTION = "PBES2 PBKDF2-HMAC-SHA-256 AES-256-CBC, 2048 iterations"

_CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"}
_KEY_LABELS = {"PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY"}
_REQUEST_LABELS = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}
# Blocks that carry nothing a store holds and that tools routinely write beside keys: skipped silently.
_IGNORED_LABELS = {"EC PARAMETERS"}

_BEGIN = re.compile(r"^-----BEGIN ([^-]*)-----\s*$")
_END = re.compile(r"^-----END ([^-]*)-----\s*$")
_BASE64 = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
# OpenSSL's traditional encrypted-PEM ciphers -> (keystores.legacy cipher name, key size, block size).
_LEGACY_PEM_CIPHERS = {"AES-128-CBC": ("aes", 16, 16), "AES-192-CBC": ("aes", 24, 16), "AES-256-CBC": ("aes", 32, 16),
                       "DES-EDE3-CBC": ("tripledes", 24, 8), "DES-CBC": ("des", 8, 8)}
_DEK_INFO = re.compile(r"^[A-Za-z0-9-]+,[0-9A-Fa-f]+$")


@dataclass
class _Block:
    """One PEM block (or the single DER object), decoded to bytes, with the attributes written before it."""

    pem_label: str
    line: int
    der: bytes
    headers: dict[str, str] = field(default_factory=dict)
    friendly_name: str | None = None
    local_key_id: bytes | None = None
    trust: Trust | None = TRUST_ALL  # PEM has no trust flags, except OpenSSL's TRUSTED CERTIFICATE aux data

    @property
    def where(self) -> str:
        return f"the {self.pem_label} block at line {self.line}" if self.line else "the DER object"


@dataclass
class _Item:
    """A decoded object at a position in the file."""

    position: int
    obj: Any  # x509.Certificate | x509.CertificateSigningRequest | private key
    friendly_name: str | None
    local_key_id: bytes | None
    used: bool = False
    trust: Trust | None = TRUST_ALL


def split_pem(data: bytes, location: str, skipped: list[str] | None = None) -> list[_Block]:
    """The PEM blocks in `data`, in order, with Bag Attributes attached. Text outside blocks is skipped.

    Raises CorruptStore for a block without its END line, a mismatched END, or bad base64; with `skipped`, a block
    with bad base64 is left out and the reason appended there instead.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a BOM, as Windows PowerShell redirects write
        text = data.decode("utf-16", errors="replace")
    else:
        text = data.decode("utf-8", errors="replace").lstrip("\ufeff")  # Notepad's UTF-8 byte-order mark
    blocks: list[_Block] = []
    friendly: str | None = None
    local_key_id: bytes | None = None
    numbered = list(_text_lines(text))
    lines = [line for _, line, _ in numbered]
    index = 0
    while index < len(lines):
        raw = lines[index]
        index += 1
        begin = _BEGIN.match(raw) if raw.startswith("-----") else None
        if begin is None:
            if raw.startswith("Bag Attributes"):
                friendly, local_key_id = None, None
            elif raw.startswith("friendlyName:"):
                friendly = raw.partition(":")[2].strip() or None
            elif raw.startswith("localKeyID:"):
                with contextlib.suppress(ValueError):
                    local_key_id = bytes.fromhex(raw.partition(":")[2].replace(" ", "").replace(":", ""))
            continue
        label = begin.group(1).strip()
        start = numbered[index - 1][0]
        headers: dict[str, str] = {}
        body: list[str] = []
        in_headers = True
        while True:
            if index >= len(lines):
                raise CorruptStore(f"truncated: the {label} block at line {start} has no END line", store=location)
            line = lines[index]
            if numbered[index][2]:
                in_headers = False  # a blank line ends the headers (RFC 1421)
            index += 1
            marker = line.startswith("-----")
            end = _END.match(line) if marker else None
            if end is not None:
                if end.group(1).strip() != label:
                    raise CorruptStore(f"the {label} block at line {start} ends with END {end.group(1).strip()}",
                                       store=location)
                break
            if marker and _BEGIN.match(line):
                raise CorruptStore(f"truncated: the {label} block at line {start} has no END line", store=location)
            if in_headers and ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip()] = value.strip()
                continue
            in_headers = False
            body.append(line)
        try:
            content = _decode_base64(body, label, start, location)
        except CorruptStore as exc:
            if skipped is None or label == "ENCRYPTED PRIVATE KEY" or "ENCRYPTED" in headers.get("Proc-Type", ""):
                raise
            skipped.append(exc.reason)
            friendly, local_key_id = None, None
            continue
        blocks.append(_Block(label, start, content, headers, friendly, local_key_id))
        friendly, local_key_id = None, None
    return blocks


# What str.splitlines() splits at, and a line's text from its first non-space character to its end.
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
_LINE_TEXT = re.compile(f"\\S[^{_LINE_BREAKS}]*")


def _text_lines(text: str) -> Iterator[tuple[int, str, bool]]:
    """(1-based line number, stripped line, whether a blank line came just before) for each non-blank line, as
    str.splitlines() numbers them, without building a list of every line: a file of 256 MiB of newlines is one
    regular expression scan and one count, not 256 million strings (2.6 GB)."""
    number, end = 1, 0
    for found in _LINE_TEXT.finditer(text):
        start = found.start()
        breaks = 0
        if start > end:
            newlines, returns = text.count("\n", end, start), text.count("\r", end, start)
            breaks = newlines + returns - text.count("\r\n", end, start)
            if newlines + returns < start - end:  # spaces, tabs or rarer line breaks in the gap
                breaks += sum(text.count(ch, end, start) for ch in _LINE_BREAKS[2:])
        number += breaks
        yield number, found.group().rstrip(), breaks > 1
        end = found.end()


def _decode_base64(body: list[str], label: str, line: int, location: str) -> bytes:
    joined = "".join(body)
    if not joined:
        raise CorruptStore(f"the {label} block at line {line} is empty", store=location)
    if not _BASE64.match(joined):
        raise CorruptStore(f"bad base64 in the {label} block at line {line}", store=location)
    if len(joined) % 4:
        raise CorruptStore(f"truncated base64 in the {label} block at line {line}", store=location)
    try:
        return base64.b64decode(joined, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CorruptStore(f"bad base64 in the {label} block at line {line}", store=location) from exc


def derived_label(name: x509.Name, public_key: object) -> str:
    """The label PEM/DER gives an object that has no friendlyName: CN, else first subject value, else a hash (of
    the public key; of the certificate for one whose key cryptography does not load)."""
    from cryptography.x509.oid import NameOID

    from keystores.undecoded import RawCertificate

    if isinstance(public_key, RawCertificate):
        raw = public_key
        name = raw.subject
        try:
            public_key = raw.public_key()
        except ValueError:
            public_key = None
        if public_key is None:
            label = _label_from_name(name, NameOID.COMMON_NAME)
            return label or "cert-" + hashlib.sha256(raw.der).hexdigest()[:16]
    return _label_from_name(name, NameOID.COMMON_NAME) or "cert-" + public_key_fingerprint(public_key).hex()[:16]


def _label_from_name(name: Any, common_name: Any) -> str | None:
    """The first non-empty CN, else the most specific non-empty attribute value, else None."""

    for attribute in name.get_attributes_for_oid(common_name):
        value = str(attribute.value).strip()
        if value:
            return value
    for attribute in reversed(list(name)):  # most specific RDN last in the encoding
        value = str(attribute.value).strip()
        if value:
            return value
    return None


def _numbered(base: str, number: int) -> str:
    return f"{base}-{number}"


class PemStore(FileStore):
    """A PEM file (any number of certificates, keys and requests) or a DER file (exactly one object).

    Options: `der_key=True` makes a DER store write a key pair's private key instead of its certificate;
    `also=[paths]` (reading only) reads those files too, as one bundle (see from_files).
    See the module docstring for how blocks map to entries and labels.
    """

    format: ClassVar[str] = "pem"
    capabilities: ClassVar[Capabilities] = PEM_CAPABILITIES

    def __init__(self, location: str, *, password: str | None, writable: bool, create: bool,
                 profile: str = "modern", format_name: str | None = None, der_key: bool = False) -> None:
        if format_name is None:
            format_name = "der" if Path(location).suffix.lower() == ".der" else "pem"
        if format_name not in ("pem", "der"):
            raise UsageError(f"PemStore reads pem or der, not {format_name}")
        self._set_format(format_name)
        self.der_key = der_key
        #: Private keys that match no certificate or request: not entries, but written back on save.
        self.loose_keys: list[PrivateKeyTypes] = []
        self._key_protection: set[str] = set()
        self._encrypted_pkcs8: list[bytes] = []  # described lazily by protection(): asn1crypto only when asked
        self._has_keys = False
        self._encrypted_keys_read = False
        self._kdf_budget = KdfBudget()
        super().__init__(location, password=password, writable=writable, create=create, profile=profile)

    @property
    def uses_password(self) -> bool:
        """A PEM or DER file has no password of its own: only encrypted keys in it use one (read or written)."""
        return self._encrypted_keys_read or bool(self._has_keys and self.password)

    def _set_format(self, format_name: str) -> None:
        self.format = format_name  # type: ignore[misc]
        self.capabilities = DER_CAPABILITIES if format_name == "der" else PEM_CAPABILITIES  # type: ignore[misc]

    @classmethod
    def open(cls, location: str, *, password: str | None = None, writable: bool = False, create: bool = False,
             profile: str = "modern", format_name: str | None = None, **options: Any) -> PemStore:
        der_key = bool(options.pop("der_key", False))
        also = list(options.pop("also", None) or [])
        if also and not (writable or create):  # read-only: several files as one bundle, see from_files
            if options:
                raise UsageError(f"pem/der stores take no option(s) {', '.join(sorted(options))}")
            return cls.from_files([location, *also], password=password)
        if options or also:
            raise UsageError(f"pem/der stores take no option(s) {', '.join(sorted(options))}")
        return cls(location, password=password, writable=writable, create=create, profile=profile,
                   format_name=format_name, der_key=der_key)

    # --- reading -------------------------------------------------------------------------------------------
    def _load(self, data: bytes) -> None:
        from keystores.chain import quietly_decoding

        # Real CA bundles hold roots with non-positive serial numbers; cryptography warns on each (to stderr in the
        # CLI). They are read as they are: warning about a root the user did not make helps nobody.
        with quietly_decoding():
            try:
                self._load_objects(data)
            except BaseException as exc:  # cryptography's Rust code can panic on hostile input (PanicException)
                if type(exc).__name__ != "PanicException":
                    raise
                raise CorruptStore("is damaged (cryptography could not parse it)", store=self.location) from None

    def _load_objects(self, data: bytes) -> None:
        # The bytes decide between the two spellings (`--type pem` on a DER file, or the reverse, just works);
        # the store is then written back in the spelling it was read in.
        is_pem = _is_pem(data)
        if is_pem != (self.format == "pem") and data.strip():
            self._set_format("pem" if is_pem else "der")
        self._assemble(self._decode(data, pem=self.format == "pem"))

    def _decode(self, data: bytes, *, pem: bool, first: int = 0) -> list[_Item]:
        """The objects of one file's bytes, at positions from `first` on; errors name `self.location`."""
        if not pem:
            return [_Item(first + i.position, i.obj, None, None) for i in self._decode_der(data)]
        skipped: list[str] = []
        blocks = split_pem(data, self.location, skipped)
        if not blocks and skipped:
            raise CorruptStore(skipped[0], store=self.location)
        if not blocks and data.strip():
            raise UnsupportedFormat("no PEM block (-----BEGIN ...-----) found", store=self.location)
        self._charge_encrypted_keys(blocks)
        items = []
        for position, block in enumerate(blocks, first):
            try:
                objects = self._decode_block(block)
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
            raise CorruptStore(f"no block is readable ({skipped[0]})", store=self.location)
        self.notes.extend(f"{self.location}: skipped {reason}" for reason in skipped)
        return items

    @classmethod
    def from_files(cls, paths: list[str], *, password: str | None = None) -> PemStore:
        """One read-only store of the objects of several PEM or DER files, a key paired with its certificate and
        chain across them as in one bundle (`import --key k.pem --cert c.pem --chain ca.pem`).

        Read in memory: no bundle is written anywhere (a clear key must not sit in a temporary file), and an error
        names the file, and the line of the block, where it is."""
        from keystores.fileio import read_bytes

        store = cls(paths[0], password=password, writable=False, create=True, format_name="pem")
        store._dirty = False
        items: list[_Item] = []
        for path in paths:
            data = read_bytes(path)
            store.location = path  # what the decoders' errors and notes name
            if not data.strip():
                raise UnsupportedFormat("file is empty", store=path)
            items += store._decode(data, pem=_is_pem(data), first=items[-1].position + 1 if items else 0)
        store.location = paths[0]
        store._assemble(items)
        return store

    def _charge_encrypted_keys(self, blocks: list[_Block]) -> None:
        """Charge every encrypted key's derivation to the file's budget before decrypting any: a file of many keys
        at the iteration ceiling is refused at once. Damaged parameters are left for the block's own decoding."""
        if not self.password or not any(b.pem_label == "ENCRYPTED PRIVATE KEY" for b in blocks):
            return
        from asn1crypto import keys

        from keystores import pbe

        for block in blocks:
            if block.pem_label != "ENCRYPTED PRIVATE KEY" or _scrypt_parameters(block.der) is not None:
                continue
            try:
                algorithm = keys.EncryptedPrivateKeyInfo.load(block.der)["encryption_algorithm"]
                pbe.check_parameters(algorithm, self._kdf_budget)
            except LimitExceeded as exc:
                raise LimitExceeded(f"{block.where}: {exc.reason}", store=self.location) from exc
            except (ValueError, KeyError, TypeError, KeystoreError):
                continue

    def _decode_block(self, block: _Block) -> list[Any]:
        """The object(s) one PEM block holds. Raises a KeystoreError naming the block."""
        from cryptography import x509

        label = block.pem_label
        if label in _IGNORED_LABELS:
            return []
        if label in _CERT_LABELS:
            der = block.der
            if label == "TRUSTED CERTIFICATE":  # OpenSSL's own: the certificate, then its X509_CERT_AUX
                der = _firstread_der(der, block.where, self.location)
                try:
                    alias, block.trust = _openssl_cert_aux(block.der[len(der):])
                except (ValueError, IndexError, TypeError) as exc:
                    raise CorruptStore(f"{block.where} has damaged trust settings", store=self.location) from exc
                block.friendly_name = block.friendly_name or alias
            return [self._certificate(der, block.where)]
        if label in _REQUEST_LABELS:
            try:
                request = x509.load_der_x509_csr(block.der)
            except (ValueError, x509.InvalidVersion) as exc:
                raise CorruptStore(f"{block.where} is not a valid certificate request",
                                   store=self.location) from exc
            return [self._checked(request, block.where)]
        encrypted = label == "ENCRYPTED PRIVATE KEY" or (
            label in _KEY_LABELS and "ENCRYPTED" in block.headers.get("Proc-Type", "").upper())
        if label == "ENCRYPTED PRIVATE KEY":
            return [self._decrypt_pkcs8(block.der, block.where)]
        if label in _KEY_LABELS:
            if encrypted:
                return [self._decrypt_legacy(block)]
            return [self._plain_key(block.der, block.where)]
        if label == "PKCS7":
            return self._pkcs7_certificates(block.der, block.where)
        raise UnsupportedFormat(f"{block.where} is not a certificate, private key or certificate request "
                                "(only those can be held in a store)", store=self.location)

    def _decode_der(self, data: bytes) -> list[_Item]:
        from cryptography import x509

        if not data:
            return []
        with contextlib.suppress(CorruptStore):
            return [_Item(0, self._certificate(data, "the DER object"), None, None)]
        with contextlib.suppress(ValueError, x509.InvalidVersion):
            return [_Item(0, self._checked(x509.load_der_x509_csr(data), "the DER object"), None, None)]
        key = self._maybe_key(data)
        if key is not None:
            return [_Item(0, key, None, None)]
        if _looks_encrypted_pkcs8(data):
            return [_Item(0, self._decrypt_pkcs8(data, "the DER object"), None, None)]
        with contextlib.suppress(KeystoreError):
            return [_Item(0, cert, None, None) for cert in self._pkcs7_certificates(data, "the DER object")]
        raise UnsupportedFormat("not a DER certificate, private key, certificate request or PKCS#7 bundle "
                                "(or it is damaged)", store=self.location)

    def _certificate(self, der: bytes, where: str) -> Any:
        """The certificate in `der`; one cryptography refuses in part is a RawCertificate (see keystores.undecoded),
        bytes that are no certificate at all are damage."""
        from keystores.chain import decode_certificate
        from keystores.undecoded import RawCertificate

        cert = decode_certificate(der)
        if isinstance(cert, RawCertificate) and cert.parsed is None:
            raise CorruptStore(f"{where} is not a valid certificate", store=self.location)
        return cert

    def _checked(self, obj: Any, where: str) -> Any:
        """`obj` once the parts cryptography decodes lazily (key, names, dates) are known to decode."""
        from cryptography.exceptions import UnsupportedAlgorithm

        if isinstance(obj, RawCertificate):
            return obj  # written back byte for byte: nothing in it needs decoding

        from keystores.chain import fully_decoded

        try:
            obj.public_key()
        except UnsupportedAlgorithm as exc:
            raise UnsupportedFormat(f"{where} has a public key of a type we do not read", store=self.location) \
                from exc
        except ValueError as exc:
            raise CorruptStore(f"{where} has a damaged public key", store=self.location) from exc
        try:
            return fully_decoded(obj)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise CorruptStore(f"{where} is damaged ({exc.__class__.__name__} while decoding it)",
                               store=self.location) from exc

    def _maybe_key(self, der: bytes) -> PrivateKeyTypes | None:
        """The key in `der` (an UndecodedPrivateKey for a sound PKCS#8 of a type cryptography does not load)."""
        from keystores.undecoded import load_private_key

        try:
            return load_private_key(der)  # type: ignore[no-any-return]
        except (ValueError, TypeError):
            return None

    def _plain_key(self, der: bytes, where: str) -> PrivateKeyTypes:
        key = self._maybe_key(der)
        if key is None:
            raise CorruptStore(f"{where} is not a readable private key", store=self.location)
        self._key_protection.add("none (unencrypted)")
        return key

    def _need_password(self, where: str) -> str:
        self._encrypted_keys_read = True
        if not self.password:
            raise PasswordRequired(f"{where} is an encrypted private key; give the password", store=self.location)
        return self.password

    def _decrypt_pkcs8(self, der: bytes, where: str) -> PrivateKeyTypes:
        """An EncryptedPrivateKeyInfo, decrypted once: its parameters are checked against keystores.limits (and
        charged to this file's budget) first, then scrypt goes to cryptography's loader and every other scheme to
        keystores.pbe, which reads them all and tells a wrong password from damage."""
        from keystores import pbe

        password = self._need_password(where)
        self._encrypted_pkcs8.append(der)
        scrypt = _scrypt_parameters(der)
        try:
            if scrypt is not None:
                return self._decrypt_scrypt(der, where, password, scrypt)
            # PEM blocks were charged to the budget by _charge_encrypted_keys; a DER file's one key is charged here.
            budget = self._kdf_budget if self.format == "der" else None
            plain = pbe.decrypt_pkcs8(der, password, budget=budget)
        except WrongPassword as exc:
            raise WrongPassword(f"wrong password for {where}", store=self.location) from exc
        except KeystoreError as exc:
            raise type(exc)(f"{where}: {exc.reason}", store=self.location) from exc
        key = self._maybe_key(plain)
        if key is None:
            raise CorruptStore(f"{where} decrypts to a key we cannot read", store=self.location)
        return key

    def _decrypt_scrypt(self, der: bytes, where: str, password: str, cost: tuple[int, int, int]) -> PrivateKeyTypes:
        """`openssl pkcs8 -scrypt` keys, which keystores.pbe does not read: cryptography's loader, once its cost
        (N, r, p) is known to be within what OpenSSL itself decrypts."""
        from cryptography.hazmat.primitives import serialization

        n, r, p = cost
        if n < 2 or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16 or 128 * n * r > MAX_SCRYPT_MEMORY:
            raise LimitExceeded(f"scrypt cost N={n}, r={r}, p={p} is outside what OpenSSL decrypts (N a power of "
                                f"two, 128*N*r at most {MAX_SCRYPT_MEMORY // 2**20} MiB, r <= 32, p <= 16)")
        self._kdf_budget.charge(n * r, p, "scrypt")
        try:
            return serialization.load_der_private_key(der, password.encode("utf-8"))
        except Exception as exc:  # cryptography reads scrypt; a failure is the password (or damage it cannot tell)
            raise WrongPassword("decryption failed") from exc
        except BaseException as exc:  # cryptography's Rust code can panic on hostile input (PanicException)
            if type(exc).__name__ != "PanicException":
                raise
            raise CorruptStore("is damaged (cryptography could not parse it)") from None

    def _decrypt_legacy(self, block: _Block) -> PrivateKeyTypes:
        """OpenSSL's traditional "Proc-Type: 4,ENCRYPTED" + "DEK-Info" form: EVP_BytesToKey (MD5, one round) + CBC.

        Decrypted here rather than by cryptography's loader, which reads fewer ciphers (no AES-192) and panics on a
        damaged IV instead of raising.
        """
        from cryptography.hazmat.primitives.ciphers import Cipher, modes

        from keystores.legacy import block_cipher

        dek_info = block.headers.get("DEK-Info", "")
        if not _DEK_INFO.match(dek_info):
            raise CorruptStore(f"{block.where} has a damaged DEK-Info header", store=self.location)
        cipher, _, iv_hex = dek_info.partition(",")
        cipher = cipher.upper()
        if cipher not in _LEGACY_PEM_CIPHERS:
            raise UnsupportedFormat(f"{block.where} is encrypted with {cipher}, which we do not read",
                                    store=self.location)
        name, key_size, block_size = _LEGACY_PEM_CIPHERS[cipher]
        iv = bytes.fromhex(iv_hex) if len(iv_hex) % 2 == 0 else b""
        if len(iv) != block_size or not block.der or len(block.der) % block_size:
            raise CorruptStore(f"{block.where} is damaged (IV or data length does not fit {cipher})",
                               store=self.location)
        password = self._need_password(block.where)
        self._key_protection.add(f"legacy PEM encryption {cipher} (MD5 key derivation, 1 iteration)")
        key = _evp_bytes_to_key(password.encode("utf-8"), iv[:8], key_size)
        decryptor = Cipher(block_cipher(name, key), modes.CBC(iv)).decryptor()
        padded = decryptor.update(block.der) + decryptor.finalize()
        pad = padded[-1]
        plain = padded[:-pad] if 1 <= pad <= block_size and padded.endswith(bytes([pad]) * pad) else b""
        # No integrity check in this form: bad padding or a non-key result is the password in all but corner cases.
        parsed = self._maybe_key(plain) if plain else None
        if parsed is None:
            raise WrongPassword(f"wrong password for {block.where}", store=self.location)
        return parsed

    def _pkcs7_certificates(self, der: bytes, where: str) -> list[x509.Certificate]:
        from cryptography.exceptions import UnsupportedAlgorithm
        from cryptography.hazmat.primitives.serialization import pkcs7

        try:
            certs = pkcs7.load_der_pkcs7_certificates(der)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise CorruptStore(f"{where} is not a readable PKCS#7 certificate bundle", store=self.location) from exc
        return [self._checked(cert, where) for cert in certs]

    def _assemble(self, items: list[_Item]) -> None:
        """Group decoded objects into entries as the module docstring describes; fills _entries and loose_keys."""
        from cryptography import x509

        from keystores.chain import build_chain
        from keystores.limits import VerificationBudget

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
                self.loose_keys.append(key_item.obj)
                self.notes.append(f"{self.location}: holds a {key_item.obj.key_type} private key that cryptography "
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
            self.loose_keys.append(key_item.obj)
            self.notes.append(f"{self.location}: holds a private key ({describe_key(key_item.obj.public_key())}) "
                              "that matches no certificate or request; it is not an entry, but it is kept when "
                              "the file is rewritten")
        groups.extend((r.position, r.friendly_name, EntryKind.REQUEST, r, None) for r in requests if not r.used)

        chains: dict[int, tuple[x509.Certificate, ...]] = {}
        chain_items: list[_Item] = []  # unnamed certificates that are a key pair's chain members
        by_subject: dict[x509.Name, list[_Item]] = {}  # each list in file order
        for cert_item in certs:
            by_subject.setdefault(cert_item.obj.subject, []).append(cert_item)
        positions = {name: [c.position for c in same] for name, same in by_subject.items()}
        verifications = VerificationBudget()
        for number, (_, _, kind, leaf, _) in enumerate(groups):
            if kind is not EntryKind.KEY_PAIR:
                continue

            def nearest(name: x509.Name, leaf: _Item = leaf) -> Iterator[_Item]:
                # Blocks right after the leaf first (where writers put a key pair's own chain), then those before
                # it, nearest first. Lazy: a chain is usually found in the first block or two.
                same = by_subject.get(name, [])
                split = bisect.bisect_left(positions.get(name, []), leaf.position)
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

        note = verifications.note(self.location)
        if note is not None:
            self.notes.append(note)
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
            self.notes.append(f"{self.location}: {duplicates} duplicate certificate(s) skipped")
        # A chain member is an entry of its own too, untrusted (a chain trusts nothing by being there): one per
        # certificate, however many chains hold it, and none where the file also holds it trusted.
        for cert_item in chain_items:
            fingerprint = _fingerprint(cert_item.obj)
            if fingerprint not in trusted_seen:
                trusted_seen.add(fingerprint)
                groups.append((cert_item.position, None, EntryKind.CERTIFICATE, cert_item, None))

        labels = UniqueLabels(_numbered)
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
            self._entries[label] = entry

    # --- editing -------------------------------------------------------------------------------------------
    def remove(self, label: str) -> None:
        self._remove_with_chain(label)

    def check_entry(self, entry: Entry) -> None:
        super().check_entry(entry)
        if isinstance(entry.key, KeyRef):
            raise CapabilityError("extractable_keys", "the private key is held on a token; a PEM/DER file can only "
                                  "hold a key it can write out", store=self.location, label=entry.label)
        if entry.kind is EntryKind.REQUEST and entry.request is None:
            raise UsageError("a request entry needs its certificate request", store=self.location,
                             label=entry.label)
        if self.format == "pem" and (entry.label != entry.label.strip() or any(ch in entry.label for ch in "\r\n")):
            raise UsageError("PEM labels cannot start or end with spaces or hold line breaks", store=self.location,
                             label=entry.label)
        if self.format == "der":
            self._check_fits_der(entry)
        # cryptography decodes certificates lazily: a damaged key or name would only fail while writing
        for cert in entry.chain:
            self._checked(cert, f"the certificate of entry '{entry.label}'")
        if entry.request is not None:
            self._checked(entry.request, f"the request of entry '{entry.label}'")

    def _check_fits_der(self, entry: Entry) -> None:
        if len(entry.chain) > 1:
            raise CapabilityError("multiple_entries", f"a DER file holds one object; this entry has "
                                  f"{len(entry.chain)} certificates (leaf + chain): write PEM or PKCS#12 instead",
                                  store=self.location, label=entry.label)

    def add(self, entry: Entry, *, replace: bool = False) -> None:
        if self.format == "der":
            others = [label for label in self._entries if not (replace and label == entry.label)]
            if others or self.loose_keys:
                held = ", ".join(repr(label) for label in others) or "a private key"
                raise CapabilityError("multiple_entries", f"a DER file holds one object and already holds {held}; "
                                      "write PEM or PKCS#12 for several", store=self.location, label=entry.label)
        super().add(entry, replace=replace)

    def protection(self) -> dict[str, str]:
        described = set(self._key_protection)
        if self._encrypted_pkcs8:
            from asn1crypto import keys

            from keystores import pbe

            for der in self._encrypted_pkcs8:
                if _scrypt_parameters(der) is not None:
                    described.add("PBES2 scrypt")
                    continue
                try:
                    described.add(pbe.describe(keys.EncryptedPrivateKeyInfo.load(der)["encryption_algorithm"]))
                except (ValueError, KeyError, TypeError):
                    described.add("unknown")
        return {"keys": "; ".join(sorted(described))} if described else {}

    # --- writing -------------------------------------------------------------------------------------------
    def _key_der_or_pem(self, key: PrivateKeyTypes, encoding: Any) -> bytes:
        from cryptography.hazmat.primitives import serialization

        if isinstance(key, UndecodedPrivateKey):
            return self._undecoded_key(key, encoding)
        if self.password:
            protection: Any = serialization.BestAvailableEncryption(self.password.encode("utf-8"))
        else:
            protection = serialization.NoEncryption()
        return key.private_bytes(encoding, serialization.PrivateFormat.PKCS8, protection)

    def _undecoded_key(self, key: UndecodedPrivateKey, encoding: Any) -> bytes:
        """A key cryptography does not load, as its PKCS#8 bytes (encrypted with PBES2 AES-256 under the store
        password when there is one, as BestAvailableEncryption does for the others)."""
        from cryptography.hazmat.primitives import serialization

        from keystores import pbe

        plain = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
        if not self.password:
            return plain if encoding is serialization.Encoding.DER else key.private_bytes(
                encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        der = pbe.encrypt_pkcs8(plain, self.password, iterations=2048)
        if encoding is serialization.Encoding.DER:
            return der
        body = base64.encodebytes(der).replace(b"\n", b"")
        lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + lines + b"\n-----END ENCRYPTED PRIVATE KEY-----\n"

    def _trust_note(self, entry: Entry) -> None:
        if entry.trust is None:
            self.notes.append(f"{self.location}: '{entry.label}' is not trusted in its source, but PEM has no trust "
                              "flags: a certificate in a PEM file is trusted by whoever uses the file as a bundle")
        elif len(entry.trust.purposes) < 4:
            self.notes.append(f"{self.location}: '{entry.label}' is trusted only for "
                              f"{', '.join(entry.trust.purposes)}, but PEM has no trust flags: it is written as a "
                              "plain certificate")

    def _dump(self) -> bytes:
        self._has_keys = bool(self.loose_keys) or any(e.key is not None for e in self._entries.values())
        self.private_file = self._has_keys  # type: ignore[misc]  # (the DER writer may clear it: key left out)
        if self._has_keys:
            self._key_protection = {WRITTEN_KEY_PROTECTION if self.password else "none (unencrypted)"}
            self._encrypted_pkcs8 = []
        if self.format == "der":
            return self._dump_der()
        return self._dump_pem()

    def _dump_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        pem = serialization.Encoding.PEM
        out: list[bytes] = []
        derived_labels = UniqueLabels(_numbered)
        has_key_pairs = any(e.kind is EntryKind.KEY_PAIR for e in self._entries.values())
        trusted_written: set[bytes] = set()

        def attributes(label: str | None) -> None:
            if label is not None:
                out.append(f"Bag Attributes\n    friendlyName: {label}\n".encode())

        # Each chain member is written once, in the first chain holding it (reading finds it for the others). A
        # certificate entry that is also a chain member is written there: a trusted one labelled (so it reads back
        # as trusted), an untrusted one bare (so it reads back as a chain member, kind "certificate").
        in_chains = {_fingerprint(c) for e in self._entries.values() if e.kind is EntryKind.KEY_PAIR
                     for c in e.chain[1:]}
        chain_entries: dict[bytes, Entry] = {}
        for entry in self._entries.values():
            if entry.kind.is_certificate and _fingerprint(entry.chain[0]) in in_chains:
                chain_entries.setdefault(_fingerprint(entry.chain[0]), entry)
        chain_written: set[bytes] = set()

        for entry in self._entries.values():
            subject_obj = entry.chain[0] if entry.chain else entry.request
            if subject_obj is None:  # a key without a certificate: the key alone, under its label
                attributes(entry.label)
                out.append(self._key_der_or_pem(entry.key, pem))  # type: ignore[arg-type]
                derived_labels.taken.add(entry.label)
                continue
            if entry.kind.is_certificate and chain_entries.get(_fingerprint(entry.chain[0])) is entry:
                continue
            derived = derived_labels.peek(derived_label(subject_obj.subject, _labelling_key(subject_obj)))
            named = entry.label if entry.label != derived else None
            if entry.kind is EntryKind.KEY_PAIR:
                attributes(named)
                out.append(entry.chain[0].public_bytes(pem))
                derived_labels.taken.add(entry.label)
                for cert in entry.chain[1:]:
                    fingerprint = _fingerprint(cert)
                    if fingerprint in chain_written:
                        continue
                    own = chain_entries.get(fingerprint)
                    chain_written.add(fingerprint)
                    if own is not None:
                        attributes(own.label if own.trust is not None else None)
                        derived_labels.taken.add(own.label)
                        trusted_written.add(fingerprint)
                    out.append(cert.public_bytes(pem))
                attributes(named)
                out.append(self._key_der_or_pem(entry.key, pem))  # type: ignore[arg-type]
            elif entry.kind is EntryKind.REQUEST:
                if entry.key is not None:
                    attributes(named)
                    out.append(self._key_der_or_pem(entry.key, pem))  # type: ignore[arg-type]
                attributes(named)
                out.append(entry.request.public_bytes(pem))  # type: ignore[union-attr]
            else:
                self._trust_note(entry)
                if len(entry.chain) > 1:
                    self.notes.append(f"{self.location}: '{entry.label}' is a trusted certificate: only it is "
                                      f"written, not the {len(entry.chain) - 1} certificate(s) of its chain")
                fingerprint = _fingerprint(entry.chain[0])
                # Unlabelled certificates may be read back as part of a key pair's chain, and unlabelled
                # duplicates are skipped: label those so that the file reads back as the same entries.
                if named is None and (has_key_pairs or fingerprint in trusted_written):
                    named = entry.label
                trusted_written.add(fingerprint)
                attributes(named)
                out.append(entry.chain[0].public_bytes(pem))
            derived_labels.taken.add(entry.label)
        out.extend(self._key_der_or_pem(key, pem) for key in self.loose_keys)
        return b"".join(out)

    def _dump_der(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        der = serialization.Encoding.DER
        entries = list(self._entries.values())
        if len(entries) + len(self.loose_keys) > 1:
            raise CapabilityError("multiple_entries", f"a DER file holds one object, not {len(entries)} entries "
                                  "and keys: write PEM or PKCS#12", store=self.location)
        if self.loose_keys:
            return self._key_der_or_pem(self.loose_keys[0], der)
        if not entries:
            raise UsageError("nothing to write: a DER file holds exactly one certificate, key or request "
                             "(delete the file instead of emptying it)", store=self.location)
        entry = entries[0]
        self._check_fits_der(entry)
        if entry.kind is EntryKind.KEY_PAIR:
            if self.der_key:
                self.notes.append(f"{self.location}: '{entry.label}' written as its private key only; the "
                                  "certificate is not in the DER file")
                return self._key_der_or_pem(entry.key, der)  # type: ignore[arg-type]
            self.notes.append(f"{self.location}: '{entry.label}' written as its certificate only; the private key "
                              "is not in the DER file (open the store with der_key=True to write the key)")
            self._has_keys = self.private_file = False  # type: ignore[misc]
            return entry.chain[0].public_bytes(der)
        if entry.kind is EntryKind.REQUEST:
            if entry.key is not None:
                self.notes.append(f"{self.location}: '{entry.label}' written as its certificate request only; the "
                                  "private key is not in the DER file")
            self._has_keys = self.private_file = False  # type: ignore[misc]
            return entry.request.public_bytes(der)  # type: ignore[union-attr]
        self._trust_note(entry)
        return entry.chain[0].public_bytes(der)

    def _write(self) -> None:
        from keystores.fileio import atomic_write

        if self.format == "der" and not self._entries and not self.loose_keys and not self.path.exists():
            # A new DER store stays a promise until it holds its one object: an empty file is not DER.
            self.notes.append(f"{self.location}: not written yet: a DER file holds exactly one object")
            return
        data = self._dump()
        clear_key = self._has_keys and not self.password
        if not self._has_keys:
            self._key_protection, self._encrypted_pkcs8 = set(), []
        # An unencrypted key must not land in a file others can read: the new file is owner-only from its first
        # byte, whatever the old file's mode (which the user may not even be allowed to change).
        atomic_write(self.path, data, private=self.private_file, clear_secret=clear_key)


def _is_pem(data: bytes) -> bool:
    return b"-----BEGIN " in data or not data.startswith(b"\x30")


def _evp_bytes_to_key(password: bytes, salt: bytes, size: int) -> bytes:
    """OpenSSL's EVP_BytesToKey with MD5 and one iteration, as the traditional encrypted PEM form derives keys."""
    import hashlib

    derived, previous = b"", b""
    while len(derived) < size:
        previous = hashlib.md5(previous + password + salt).digest()
        derived += previous
    return derived[:size]


def _key_hash(cert: Any) -> bytes:
    """public_key_fingerprint of the certificate's key; for a RawCertificate whose key cryptography does not load,
    the SHA-256 of its SubjectPublicKeyInfo as encoded (the same for any key in its DER form)."""
    if isinstance(cert, RawCertificate):
        try:
            return public_key_fingerprint(cert.public_key())
        except ValueError:
            spki = cert.parsed["tbs_certificate"]["subject_public_key_info"].dump() if cert.parsed else cert.der
            return hashlib.sha256(spki).digest()
    return public_key_fingerprint(cert.public_key())


def _labelling_key(obj: Any) -> Any:
    """What derived_label hashes for an unnamed object: its public key, or a RawCertificate itself."""
    return obj if isinstance(obj, RawCertificate) else obj.public_key()


def _fingerprint(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import hashes

    return cert.fingerprint(hashes.SHA256())


def _children(der: bytes) -> Iterator[tuple[int, bytes]]:
    """(tag, contents) of each DER element in a run of them."""
    offset = 0
    while offset < len(der):
        tag, start, end = read_der(der, offset)
        yield tag, der[start:end]
        offset = end


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
    from asn1crypto import core

    tag, start, end = read_der(aux, 0)
    if tag != 0x30:
        raise ValueError("aux is not a SEQUENCE")
    alias, trusted, rejected = None, None, set()
    for tag, contents in _children(aux[start:end]):
        if tag in (0x30, 0xA0):
            oids = {core.ObjectIdentifier.load(_der(0x06, oid)).dotted for oid_tag, oid in _children(contents)
                    if oid_tag == 0x06}
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


def _der(tag: int, contents: bytes) -> bytes:
    length = len(contents)
    if length < 0x80:
        return bytes([tag, length]) + contents
    size = (length.bit_length() + 7) // 8
    return bytes([tag, 0x80 | size]) + length.to_bytes(size, "big") + contents


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
