"""AES decryption (FIPS 197) of a few CBC blocks in Python: a speed device for opening an NSS database.

Every NSS command decrypts the database's password check (one AES-256-CBC block: "password-check" padded) to know
the password is right, and most do no other AES. The interpreter's libcrypto through ctypes (keystores.crypto
.libcrypto) costs ~2 ms to reach (importing ctypes, declaring its calls) and cryptography ~10 ms to load, against
well under a millisecond here for the block and this module's tables; more than `MOST_BLOCKS` go to libcrypto or
cryptography as before (keystores.backends.nss.crypto._cbc). The straightforward inverse cipher of FIPS 197 5.3,
tables built at import from the field's log tables; tests/test_nss_write_lean.py holds it to cryptography's AES over
every key size and random keys, IVs and lengths, and to FIPS 197's example vectors.
"""

from __future__ import annotations

MOST_BLOCKS = 4  # a password check is 1 block, an EC key's value 3: more is left to libcrypto


def _xor(*tables: bytes) -> bytes:
    """Byte-wise XOR of 256-byte tables, as one integer XOR (a table built byte by byte costs ten times more)."""
    value = 0
    for table in tables:
        value ^= int.from_bytes(table, "big")
    return value.to_bytes(256, "big")


def _tables() -> tuple[bytes, bytes, list[bytes]]:
    """The S-box, its inverse, and multiplication by 9, 11, 13 and 14 in GF(2^8) (InvMixColumns)."""
    exp, log = [0] * 255, [0] * 256
    x = 1
    for i in range(255):  # 3 generates the multiplicative group
        exp[i] = x
        log[x] = i
        x ^= ((x << 1) ^ (0x1B if x & 0x80 else 0)) & 0xFF  # x times 3: x + xtime(x)
    inverse = bytes([0, *(exp[-log[a] % 255] for a in range(1, 256))])  # the multiplicative inverse, 0 for 0
    rotate = bytes(((a << 1) | (a >> 7)) & 0xFF for a in range(256))
    turned = [inverse]
    for _ in range(4):
        turned.append(turned[-1].translate(rotate))
    sbox = _xor(*turned, bytes([0x63]) * 256)  # the affine transformation
    inv_sbox = bytearray(256)
    for a, value in enumerate(sbox):
        inv_sbox[value] = a
    times2 = bytes(((a << 1) ^ (0x1B if a & 0x80 else 0)) & 0xFF for a in range(256))
    times4 = times2.translate(times2)
    times8 = times4.translate(times2)
    times9 = _xor(times8, bytes(range(256)))
    return sbox, bytes(inv_sbox), [times9, _xor(times9, times2), _xor(times9, times4), _xor(times8, times4, times2)]


_SBOX, _INV_SBOX, (_MUL9, _MUL11, _MUL13, _MUL14) = _tables()
# InvShiftRows as a permutation of the state's 16 bytes (column-major, as FIPS 197 lays the state out)
_INV_SHIFT = [(4 * ((column - row) % 4) + row) for column in range(4) for row in range(4)]
_ROUND_CONSTANTS = (0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1B, 0x36)


def _round_keys(key: bytes) -> list[list[int]]:
    """The key schedule (FIPS 197 5.2): one 16-byte round key per round, the first first."""
    words = len(key) // 4
    rounds = words + 6
    schedule = [list(key[4 * i : 4 * i + 4]) for i in range(words)]
    for i in range(words, 4 * (rounds + 1)):
        temp = list(schedule[i - 1])
        if i % words == 0:
            temp = [_SBOX[b] for b in temp[1:] + temp[:1]]
            temp[0] ^= _ROUND_CONSTANTS[i // words - 1]
        elif words > 6 and i % words == 4:
            temp = [_SBOX[b] for b in temp]
        schedule.append([a ^ b for a, b in zip(schedule[i - words], temp, strict=True)])
    return [[b for word in schedule[4 * r : 4 * r + 4] for b in word] for r in range(rounds + 1)]


def _decrypt_block(block: bytes, keys: list[list[int]]) -> list[int]:
    state = [b ^ k for b, k in zip(block, keys[-1], strict=True)]
    for round_key in keys[-2:0:-1]:
        state = [_INV_SBOX[state[i]] ^ k for i, k in zip(_INV_SHIFT, round_key, strict=True)]
        mixed = []
        for c in range(0, 16, 4):
            a0, a1, a2, a3 = state[c : c + 4]
            mixed += (_MUL14[a0] ^ _MUL11[a1] ^ _MUL13[a2] ^ _MUL9[a3],
                      _MUL9[a0] ^ _MUL14[a1] ^ _MUL11[a2] ^ _MUL13[a3],
                      _MUL13[a0] ^ _MUL9[a1] ^ _MUL14[a2] ^ _MUL11[a3],
                      _MUL11[a0] ^ _MUL13[a1] ^ _MUL9[a2] ^ _MUL14[a3])
        state = mixed
    return [_INV_SBOX[state[i]] ^ k for i, k in zip(_INV_SHIFT, keys[0], strict=True)]


def cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    """AES-CBC decryption of `data` (whole blocks, padding left in) under a 16-, 24- or 32-byte key."""
    if len(key) not in (16, 24, 32) or len(iv) != 16 or len(data) % 16:
        raise ValueError("AES-CBC needs a 16, 24 or 32-byte key, a 16-byte IV and whole blocks")
    keys = _round_keys(key)
    out = bytearray()
    previous = iv
    for at in range(0, len(data), 16):
        block = data[at : at + 16]
        out += bytes(p ^ c for p, c in zip(_decrypt_block(block, keys), previous, strict=True))
        previous = block
    return bytes(out)
