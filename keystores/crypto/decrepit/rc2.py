"""RC2 (RFC 2268) decryption for any key length and effective key bits. cryptography's RC2 takes only 128-bit keys;
PKCS#12 files from `openssl -legacy` and old Windows use RC2-40, and PBES1/PBES2 name other sizes, hence this one.
Decryption only."""

from __future__ import annotations

_RC2_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad"
)


def _rc2_expand(key: bytes, effective_bits: int) -> list[int]:
    t = len(key)
    t8 = (effective_bits + 7) // 8
    tm = 0xFF >> (8 * t8 - effective_bits)
    expanded = bytearray(128)
    expanded[:t] = key
    for i in range(t, 128):
        expanded[i] = _RC2_PITABLE[(expanded[i - 1] + expanded[i - t]) & 0xFF]
    expanded[128 - t8] = _RC2_PITABLE[expanded[128 - t8] & tm]
    for i in range(127 - t8, -1, -1):
        expanded[i] = _RC2_PITABLE[expanded[i + 1] ^ expanded[i + t8]]
    return [expanded[2 * i] | (expanded[2 * i + 1] << 8) for i in range(64)]


def _rc2_decrypt_block(k: list[int], block: bytes) -> bytes:
    r = [block[2 * i] | (block[2 * i + 1] << 8) for i in range(4)]
    j = 63
    for group, rounds in enumerate((5, 6, 5)):
        for _ in range(rounds):
            for i, s in ((3, 5), (2, 3), (1, 2), (0, 1)):
                r[i] = ((r[i] >> s) | (r[i] << (16 - s))) & 0xFFFF
                r[i] = (r[i] - k[j] - (r[(i - 1) % 4] & r[(i - 2) % 4]) - ((~r[(i - 1) % 4]) & r[(i - 3) % 4])) & 0xFFFF
                j -= 1
        if group < 2:  # an R-MASH separates the three groups of mixing rounds
            for i in (3, 2, 1, 0):
                r[i] = (r[i] - k[r[(i - 1) % 4] & 63]) & 0xFFFF
    return b"".join(x.to_bytes(2, "little") for x in r)


def rc2_decrypt_cbc(key: bytes, effective_bits: int, iv: bytes, data: bytes) -> bytes:
    """RC2-CBC decryption for any key length (RFC 2268); padding is left to the caller."""
    k = _rc2_expand(key, effective_bits)
    out = bytearray()
    previous = iv
    for offset in range(0, len(data) - len(data) % 8, 8):
        block = data[offset : offset + 8]
        out += bytes(a ^ b for a, b in zip(_rc2_decrypt_block(k, block), previous, strict=True))
        previous = block
    return bytes(out)
