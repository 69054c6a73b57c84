"""What key to make (`rsa:2048`, `ec:p256`, `ed25519`): certreq, selfsign and a token's key generation parse it.

Apart from keystores.model, which every command imports, so that a command that makes no key makes no KeySpec class
and unmarshals no parser (start-up, issue 15); `keystores.model.KeySpec` still names it (model's __getattr__).
"""

from __future__ import annotations

from keystores.errors import UsageError
from keystores.frozen import FrozenValue


class KeySpec(FrozenValue):
    """A key to make: `rsa:2048`, `ec:p256`, `ed25519`."""

    algorithm: str  # "rsa", "ec", "ed25519"
    size: int  # RSA modulus bits
    curve: str  # "secp256r1", "secp384r1", "secp521r1" (keystores.pki.curves)
    _fields = ("algorithm", "size", "curve")

    def __init__(self, algorithm: str, size: int = 0, curve: str = "") -> None:
        object.__setattr__(self, "algorithm", algorithm)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "curve", curve)

    @classmethod
    def parse(cls, text: str) -> KeySpec:
        algorithm, _, param = text.strip().lower().partition(":")
        if algorithm == "rsa":
            size = int(param or "2048") if (param or "2048").isdigit() else 0
            if 1024 <= size < 2048:
                raise UsageError(f"weak key type '{text}': RSA keys below 2048 bits can be broken and are refused "
                                 "by browsers and Java; use rsa:2048 (or rsa:3072, ec:p256)")
            if size < 1024 or size > 16384:
                raise UsageError(f"bad key type '{text}': RSA sizes are 2048..16384, e.g. rsa:2048")
            return cls("rsa", size=size)
        if algorithm in ("ec", "ecdsa"):
            from keystores.pki.curves import curve_named

            curve = curve_named(param or "p256")
            if curve is None:
                raise UsageError(f"bad key type '{text}': curves are p256, p384, p521")
            return cls("ec", curve=curve.name)
        if algorithm == "ed25519" and not param:
            return cls("ed25519")
        raise UsageError(f"bad key type '{text}': use rsa:2048|3072|4096, ec:p256|p384|p521 or ed25519")

    def __str__(self) -> str:
        if self.algorithm == "rsa":
            return f"rsa:{self.size}"
        if self.algorithm == "ec":
            from keystores.pki.curves import curve_named

            curve = curve_named(self.curve)
            return f"ec:{curve.short.lower() if curve is not None else self.curve}"
        return self.algorithm
