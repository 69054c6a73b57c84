"""nss.macs.MacChecker (the fast MAC check listing uses) against a reference computed with hashlib.pbkdf2_hmac and
hmac: every PRF and MAC hash NSS may write, one and many PBKDF2 iterations, truncated keys, wrong MACs."""

from __future__ import annotations

import hashlib
import hmac
import os
import random

import pytest

from keystores.backends.nss import crypto as nc
from keystores.backends.nss import macs as nm
from keystores.crypto import der


def _blob(key: bytes, object_id: int, attr: int, value: bytes, *, prf: str, hash_name: str, iterations: int,
          key_length: int | None) -> bytes:
    """A PBMAC1 metaData item as NSS lays it out, computed the slow, obvious way."""
    salt = os.urandom(32)
    size = key_length or hashlib.new(hash_name).digest_size
    mac_key = hashlib.pbkdf2_hmac(prf, key, salt, iterations, size)
    mac = hmac.new(mac_key, nm.mac_input(object_id, attr, value), hash_name).digest()
    params = [der.octet_string(salt), der.integer(iterations)]
    if key_length is not None:
        params.append(der.integer(key_length))
    params.append(der.sequence(der.oid(nc._HMAC_OID[prf])))
    kdf = der.sequence(der.oid(nc.OID_PBKDF2), der.sequence(*params))
    alg = der.sequence(der.oid(nc.OID_PBMAC1), der.sequence(kdf, der.sequence(der.oid(nc._HMAC_OID[hash_name]))))
    return der.sequence(alg, der.octet_string(mac))


@pytest.mark.parametrize("prf", ["sha1", "sha256", "sha384", "sha512"])
@pytest.mark.parametrize("hash_name", ["sha256", "sha512"])
@pytest.mark.parametrize(("iterations", "key_length"), [(1, 32), (1, None), (1, 16), (3, 32), (1, 80)])
def test_checker_matches_reference(prf: str, hash_name: str, iterations: int, key_length: int | None) -> None:
    key = hashlib.sha1(b"global salt" + b"password").digest()
    checker = nm.MacChecker(key)
    for round_ in range(3):  # the second and third blobs of a layout take the sliced fast path
        value = os.urandom(4 + round_)
        blob = _blob(key, 0x1234 + round_, 0xCE536358, value, prf=prf, hash_name=hash_name,
                     iterations=iterations, key_length=key_length)
        assert checker.check(blob, 0x1234 + round_, 0xCE536358, value)
        assert nm.check_mac(blob, key, 0x1234 + round_, 0xCE536358, value)
        assert not checker.check(blob, 0x1234 + round_, 0xCE536358, value + b"x")
        assert not checker.check(blob, 0x1235 + round_, 0xCE536358, value)
        assert not nm.MacChecker(key + b"!").check(blob, 0x1234 + round_, 0xCE536358, value)


def test_first_failure_names_the_attribute() -> None:
    key = os.urandom(20)
    checker = nm.MacChecker(key)
    values = [(0xCE536358, b"\x00\x00\x00\x01"), (0xCE536359, b"\x00\x00\x00\x02"), (0xCE5363B4, os.urandom(20))]
    meta = {f"sig_cert_{7:08x}_{attr:08x}": nm.make_mac(key, 7, attr, value, iterations=1) for attr, value in values}
    assert checker.first_failure(meta, f"sig_cert_{7:08x}_", 7, values) is None
    assert checker.first_failure(meta, f"sig_cert_{7:08x}_", 7, [*values[:2], (values[2][0], b"tampered")]) == \
        values[2][0]
    del meta[f"sig_cert_{7:08x}_{values[1][0]:08x}"]
    assert checker.first_failure(meta, f"sig_cert_{7:08x}_", 7, values) == values[1][0]
    meta[f"sig_cert_{7:08x}_{values[1][0]:08x}"] = b"\x30\x03\x02\x01\x01"  # not a MAC at all
    assert checker.first_failure(meta, f"sig_cert_{7:08x}_", 7, values) == values[1][0]


@pytest.mark.parametrize("hash_name", ["sha1", "sha256", "sha384", "sha512"])
def test_the_hmac_made_without_the_hmac_module_is_hmacs(hash_name: str) -> None:
    """nm._hmac, which make_mac (every MAC a write makes) and the legacy 3DES key use instead of importing hmac, is
    hmac's HMAC: keys shorter than, as long as and longer than a block, empty and long messages; and a MAC make_mac
    writes is the one hmac computes over what it names."""
    for key_length in (0, 1, 20, 32, 64, 127, 128, 129, 300):
        for message in (b"", os.urandom(1), os.urandom(57), os.urandom(1000)):
            key = os.urandom(key_length)
            assert nm._hmac(hash_name, key, message) == hmac.new(key, message, hash_name).digest()
    key = os.urandom(20)
    blob = nm.make_mac(key, 0x1234, 0xCE536358, b"\x00\x00\x00\x01", iterations=3)
    _, outer = der.value(blob)
    (_, alg, _), (_, mac, _) = der.children(outer)[:2]
    salt = der.children(der.children(der.children(der.children(alg)[1][1])[0][1])[1][1])[0][1]
    mac_key = hashlib.pbkdf2_hmac("sha256", key, salt, 3, 32)
    assert mac == hmac.new(mac_key, nm.mac_input(0x1234, 0xCE536358, b"\x00\x00\x00\x01"), "sha256").digest()


def _one_by_one(checker: nm.MacChecker, meta: dict[str, bytes], prefix: str, object_id: int,
                values: list[tuple[int, bytes]]) -> int | None:
    """first_failure as it was: each MAC checked in order, its key derived when its turn comes."""
    for attr, value in values:
        blob = meta.get(prefix + f"{attr:08x}")
        try:
            if blob is None or not checker.check(blob, object_id, attr, value):
                return attr
        except nc.DerError:
            return attr
    return None


def test_first_failure_derives_side_by_side_and_finds_what_checking_in_order_finds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A trust object's MACs at NSS's count have their keys derived side by side (keystores.crypto.kdf_pool), and
    the attribute found is the one checking them one by one finds: over objects whose MACs are all good, or one wrong,
    missing, malformed, or at 1 or more than NSS's count (those are checked alone, in their turn), in any place."""
    from keystores.crypto import kdf_pool

    submitted = []
    real_submit = kdf_pool.KdfPool.submit

    def counted(pool: kdf_pool.KdfPool, iterations: int | None, call, *args, **kwargs):
        submitted.append(iterations)
        return real_submit(pool, iterations, call, *args, **kwargs)

    monkeypatch.setattr(kdf_pool.KdfPool, "submit", counted)
    monkeypatch.setattr(nm, "DEFAULT_ITERATIONS", 8)  # NSS's count, small: the test derives hundreds of keys
    rng = random.Random(15)
    key = os.urandom(20)
    attrs = [0xCE536358, 0xCE536359, 0xCE53635A, 0xCE53635B, 0xCE536360, 0xCE5363B4, 0xCE5363B5]
    for case in range(60):
        object_id = 0x100 + case
        values = [(attr, os.urandom(rng.choice((1, 4, 20)))) for attr in attrs]
        prefix = f"sig_cert_{object_id:08x}_"
        meta = {prefix + f"{attr:08x}": nm.make_mac(key, object_id, attr, value, iterations=rng.choice((2, 5, 8)))
                for attr, value in values}
        for _ in range(rng.randrange(3) if case else 0):  # the first case: all good
            attr = rng.choice(attrs)
            name = prefix + f"{attr:08x}"
            damage = rng.choice(("wrong", "missing", "malformed", "one", "above"))
            if damage == "wrong":
                meta[name] = meta[name][:-1] + bytes([meta[name][-1] ^ 1])
            elif damage == "missing":
                meta.pop(name, None)
            elif damage == "malformed":
                meta[name] = b"\x30\x03\x02\x01\x01"
            else:
                meta[name] = nm.make_mac(key, object_id, attr, dict(values)[attr],
                                         iterations=1 if damage == "one" else 9)
        expected = _one_by_one(nm.MacChecker(key), meta, prefix, object_id, values)
        before = len(submitted)
        assert nm.MacChecker(key).first_failure(meta, prefix, object_id, values) == expected, case
        if case == 0:
            assert expected is None and len(submitted) - before == len(attrs)  # all seven side by side
    # An empty password's MACs (1 iteration) are checked one by one, inline, as before: no pool.
    values = [(attr, os.urandom(4)) for attr in attrs]
    meta = {f"sig_cert_{9:08x}_{attr:08x}": nm.make_mac(key, 9, attr, value, iterations=1) for attr, value in values}
    before = len(submitted)
    assert nm.MacChecker(key).first_failure(meta, f"sig_cert_{9:08x}_", 9, values) is None
    assert len(submitted) == before
