"""Certificates and requests keystores has just made, held as their DER until something else is asked of them.

For start-up speed (bench/bench_core.py rows "start-up: keystores certreq" and "sign"): a request and the
placeholder certificate certreq writes are only ever turned back into bytes on the command line, and importing
cryptography.x509 to decode them costs about a quarter of the command. `public_bytes` and `fingerprint` answer from
the DER; anything else (subject, extensions, public_key(), ...) is answered by cryptography's object of the same
bytes, loaded on first use. Equal to that object and to any certificate with the same DER, as
keystores.pki.undecoded.RawCertificate is.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any, ClassVar


class Encoded:
    """DER of an X.509 structure; cryptography's object of it is `decoded`, loaded on first use."""

    pem_label: ClassVar[str]

    def __init__(self, der: bytes) -> None:
        self.der = der
        self._decoded: Any = None

    def public_bytes(self, encoding: Any = None) -> bytes:
        """DER, or PEM when `encoding` is cryptography's Encoding.PEM."""
        from cryptography.hazmat.primitives.serialization import Encoding

        if encoding == Encoding.PEM:
            body = base64.b64encode(self.der)
            lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
            label = self.pem_label.encode("ascii")
            return b"-----BEGIN " + label + b"-----\n" + lines + b"\n-----END " + label + b"-----\n"
        return self.der

    def fingerprint(self, algorithm: Any) -> bytes:
        return hashlib.new(algorithm.name, self.der).digest()

    @property
    def decoded(self) -> Any:
        if self._decoded is None:
            self._decoded = self._load(self.der)
        return self._decoded

    @staticmethod
    def _load(der: bytes) -> Any:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.decoded, name)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Encoded):
            return self.der == other.der
        public_bytes = getattr(other, "public_bytes", None)  # cryptography's object, a RawCertificate
        if public_bytes is None:
            return NotImplemented
        from cryptography.hazmat.primitives.serialization import Encoding

        return bool(public_bytes(Encoding.DER) == self.der)

    def __hash__(self) -> int:
        return hash(self.der)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {len(self.der)} bytes>"


class EncodedCertificate(Encoded):
    """An X.509 certificate keystores made (keystores.pki.builder.build_certificate_der)."""

    pem_label = "CERTIFICATE"

    @staticmethod
    def _load(der: bytes) -> Any:
        from cryptography import x509

        return x509.load_der_x509_certificate(der)


class EncodedRequest(Encoded):
    """A PKCS#10 request keystores made (keystores.pki.builder.build_request)."""

    pem_label = "CERTIFICATE REQUEST"

    @staticmethod
    def _load(der: bytes) -> Any:
        from cryptography import x509

        return x509.load_der_x509_csr(der)
