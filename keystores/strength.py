"""How well an algorithm protects a store today: the verdicts behind keystores.model.ProtectionPart's `broken` and
`deprecated`, which audit reports and a PKCS#12 rewrite notes (legacy protection made modern).

Apart from keystores.model, which every command imports, so that a command that judges no protection makes no
Strength class (a NamedStr, with its members: start-up, issue 15); `keystores.model.Strength` and
`keystores.model.ALGORITHM_STRENGTH` still name them (model's __getattr__).
"""

from __future__ import annotations

from keystores.named import NamedStr


class Strength(NamedStr):
    """How well an algorithm protects a store today."""

    SOUND = "sound"
    DEPRECATED = "deprecated"  # still resists attack in practice; what old formats' own tools write
    BROKEN = "broken"  # can be broken: a password guess or the key itself is within reach


#: The algorithms that weaken a protection part, by the name a part lists them under (`ProtectionPart.algorithms`).
#: Any other name (AES-256, PBKDF2, SHA-256, Twofish, scrypt ...) is sound.
ALGORITHM_STRENGTH: dict[str, Strength] = {
    "RC2": Strength.BROKEN, "RC4": Strength.BROKEN, "DES": Strength.BROKEN, "2-key 3DES": Strength.BROKEN,
    "MD2": Strength.BROKEN,
    "3DES": Strength.DEPRECATED, "SHA-1": Strength.DEPRECATED, "MD5": Strength.DEPRECATED,
}
