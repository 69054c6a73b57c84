"""Twofish decryption (Schneier et al., 1998), written here because cryptography has no Twofish and Bouncy Castle's
UBER key store is encrypted with it (PBEWithSHAAndTwofish-CBC). Decryption only, CBC only: UBER is read, never
written. Checked against the Twofish paper's known-answer vectors (tests/test_bks.py) and against keytool-made UBER
stores. Not constant time; it opens files, it serves no network peer.
"""

from __future__ import annotations

from functools import cache

_Q_TABLES = (
    ((0x8, 0x1, 0x7, 0xD, 0x6, 0xF, 0x3, 0x2, 0x0, 0xB, 0x5, 0x9, 0xE, 0xC, 0xA, 0x4),
     (0xE, 0xC, 0xB, 0x8, 0x1, 0x2, 0x3, 0x5, 0xF, 0x4, 0xA, 0x6, 0x7, 0x0, 0x9, 0xD),
     (0xB, 0xA, 0x5, 0xE, 0x6, 0xD, 0x9, 0x0, 0xC, 0x8, 0xF, 0x3, 0x2, 0x4, 0x7, 0x1),
     (0xD, 0x7, 0xF, 0x4, 0x1, 0x2, 0x6, 0xE, 0x9, 0xB, 0x3, 0x0, 0x8, 0x5, 0xC, 0xA)),
    ((0x2, 0x8, 0xB, 0xD, 0xF, 0x7, 0x6, 0xE, 0x3, 0x1, 0x9, 0x4, 0x0, 0xA, 0xC, 0x5),
     (0x1, 0xE, 0x2, 0xB, 0x4, 0xC, 0x3, 0x7, 0x6, 0xD, 0xA, 0x5, 0xF, 0x9, 0x0, 0x8),
     (0x4, 0xC, 0x7, 0x5, 0x1, 0x6, 0x9, 0xA, 0x0, 0xE, 0xD, 0x8, 0x2, 0xB, 0x3, 0xF),
     (0xB, 0x9, 0x5, 0x1, 0xC, 0x3, 0xD, 0xE, 0x6, 0x4, 0x7, 0xF, 0x2, 0x0, 0x8, 0xA)),
)
_MDS = ((0x01, 0xEF, 0x5B, 0x5B), (0x5B, 0xEF, 0xEF, 0x01), (0xEF, 0x5B, 0x01, 0xEF), (0xEF, 0x01, 0xEF, 0x5B))
_RS = ((0x01, 0xA4, 0x55, 0x87, 0x5A, 0x58, 0xDB, 0x9E), (0xA4, 0x56, 0x82, 0xF3, 0x1E, 0xC6, 0x68, 0xE5),
       (0x02, 0xA1, 0xFC, 0xC1, 0x47, 0xAE, 0x3D, 0x19), (0xA4, 0x55, 0x87, 0x5A, 0x58, 0xDB, 0x9E, 0x03))
_MASK = 0xFFFFFFFF


def _ror4(x: int, n: int) -> int:
    return ((x >> n) | (x << (4 - n))) & 0xF


def _permutation(t: tuple[tuple[int, ...], ...]) -> tuple[int, ...]:
    out = []
    for x in range(256):
        a, b = x >> 4, x & 0xF
        a, b = a ^ b, a ^ _ror4(b, 1) ^ ((8 * a) & 0xF)
        a, b = t[0][a], t[1][b]
        a, b = a ^ b, a ^ _ror4(b, 1) ^ ((8 * a) & 0xF)
        a, b = t[2][a], t[3][b]
        out.append((b << 4) | a)
    return tuple(out)


@cache
def _q() -> tuple[tuple[int, ...], tuple[int, ...]]:
    return _permutation(_Q_TABLES[0]), _permutation(_Q_TABLES[1])


def _gf_mul(a: int, b: int, poly: int) -> int:
    result = 0
    while b:
        if b & 1:
            result ^= a
        a <<= 1
        if a & 0x100:
            a ^= poly
        b >>= 1
    return result


def _rol(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _MASK


def _ror(x: int, n: int) -> int:
    return ((x >> n) | (x << (32 - n))) & _MASK


def _sbox_byte(position: int, x: int, key_words: list[int]) -> int:
    """The keyed S-box of h() for byte `position` (0..3) of its input, before the MDS multiplication."""
    q0, q1 = _q()
    k = len(key_words)

    def byte(word: int) -> int:
        return (word >> (8 * position)) & 0xFF

    if k == 4:
        x = (q1, q0, q0, q1)[position][x] ^ byte(key_words[3])
    if k >= 3:
        x = (q1, q1, q0, q0)[position][x] ^ byte(key_words[2])
    first, second, third = ((q0, q0, q1), (q1, q0, q0), (q0, q1, q1), (q1, q1, q0))[position]
    return third[second[first[x] ^ byte(key_words[1])] ^ byte(key_words[0])]


def _mds_column(position: int, value: int) -> int:
    return sum(_gf_mul(_MDS[row][position], value, 0x169) << (8 * row) for row in range(4))


def _h(x: int, key_words: list[int]) -> int:
    result = 0
    for position in range(4):
        result ^= _mds_column(position, _sbox_byte(position, (x >> (8 * position)) & 0xFF, key_words))
    return result


class Twofish:
    """One Twofish key (128, 192 or 256 bits), expanded once: round keys and the four keyed S-box tables."""

    def __init__(self, key: bytes) -> None:
        if len(key) not in (16, 24, 32):
            raise ValueError("Twofish keys are 128, 192 or 256 bits")
        k = len(key) // 8
        words = [int.from_bytes(key[4 * i : 4 * i + 4], "little") for i in range(2 * k)]
        even, odd = words[0::2], words[1::2]
        s_words = []
        for i in range(k):
            chunk = key[8 * i : 8 * i + 8]
            s = [0, 0, 0, 0]
            for row in range(4):
                for col in range(8):
                    s[row] ^= _gf_mul(_RS[row][col], chunk[col], 0x14D)
            s_words.append(int.from_bytes(bytes(s), "little"))
        s_words.reverse()
        rho = 0x01010101
        self.round_keys = []
        for i in range(20):
            a = _h((2 * i * rho) & _MASK, even)
            b = _rol(_h(((2 * i + 1) * rho) & _MASK, odd), 8)
            self.round_keys += [(a + b) & _MASK, _rol((a + 2 * b) & _MASK, 9)]
        self.tables = [[_mds_column(p, _sbox_byte(p, x, s_words)) for x in range(256)] for p in range(4)]

    def _g(self, x: int) -> int:
        t = self.tables
        return t[0][x & 0xFF] ^ t[1][(x >> 8) & 0xFF] ^ t[2][(x >> 16) & 0xFF] ^ t[3][x >> 24]

    def decrypt_block(self, block: bytes) -> bytes:
        k = self.round_keys
        w = [int.from_bytes(block[4 * i : 4 * i + 4], "little") ^ k[4 + i] for i in range(4)]
        a, b, c, d = w[2], w[3], w[0], w[1]  # the state after round 16, before the final swap was undone
        for r in range(15, -1, -1):
            t0 = self._g(c)
            t1 = self._g(_rol(d, 8))
            f0 = (t0 + t1 + k[2 * r + 8]) & _MASK
            f1 = (t0 + 2 * t1 + k[2 * r + 9]) & _MASK
            a, b, c, d = c, d, _rol(a, 1) ^ f0, _ror(b ^ f1, 1)
        return b"".join((v ^ k[i]).to_bytes(4, "little") for i, v in enumerate((a, b, c, d)))

    def decrypt_cbc(self, iv: bytes, data: bytes) -> bytes:
        """CBC decryption of whole 16-byte blocks; padding is left to the caller."""
        if len(data) % 16:
            raise ValueError("Twofish-CBC data is not a whole number of blocks")
        out = bytearray()
        previous = iv
        for offset in range(0, len(data), 16):
            block = data[offset : offset + 16]
            plain = self.decrypt_block(block)
            out += (int.from_bytes(plain, "big") ^ int.from_bytes(previous, "big")).to_bytes(16, "big")
            previous = block
        return bytes(out)
