"""nss.crypto.MacChecker (the fast MAC check listing uses) against a reference computed with hashlib.pbkdf2_hmac and
hmac: every PRF and MAC hash NSS may write, one and many PBKDF2 iterations, truncated keys, wrong MACs."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest

from keystores.backends.nss import crypto as nc
from keystores.crypto import der


def _blob(key: bytes, object_id: int, attr: int, value: bytes, *, prf: str, hash_name: str, iterations: int,
          key_length: int | None) -> bytes:
    """A PBMAC1 metaData item as NSS lays it out, computed the slow, obvious way."""
    salt = os.urandom(32)
    size = key_length or hashlib.new(hash_name).digest_size
    mac_key = hashlib.pbkdf2_hmac(prf, key, salt, iterations, size)
    mac = hmac.new(mac_key, nc.mac_input(object_id, attr, value), hash_name).digest()
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
    checker = nc.MacChecker(key)
    for round_ in range(3):  # the second and third blobs of a layout take the sliced fast path
        value = os.urandom(4 + round_)
        blob = _blob(key, 0x1234 + round_, 0xCE536358, value, prf=prf, hash_name=hash_name,
                     iterations=iterations, key_length=key_length)
        assert checker.check(blob, 0x1234 + round_, 0xCE536358, value)
        assert nc.check_mac(blob, key, 0x1234 + round_, 0xCE536358, value)
        assert not checker.check(blob, 0x1234 + round_, 0xCE536358, value + b"x")
        assert not checker.check(blob, 0x1235 + round_, 0xCE536358, value)
        assert not nc.MacChecker(key + b"!").check(blob, 0x1234 + round_, 0xCE536358, value)


def test_first_failure_names_the_attribute() -> None:
    key = os.urandom(20)
    checker = nc.MacChecker(key)
    values = [(0xCE536358, b"\x00\x00\x00\x01"), (0xCE536359, b"\x00\x00\x00\x02"), (0xCE5363B4, os.urandom(20))]
    meta = {f"sig_cert_{7:08x}_{attr:08x}": nc.make_mac(key, 7, attr, value, iterations=1) for attr, value in values}
    assert checker.first_failure(meta, f"sig_cert_{7:08x}_", 7, values) is None
    assert checker.first_failure(meta, f"sig_cert_{7:08x}_", 7, [*values[:2], (values[2][0], b"tampered")]) == \
        values[2][0]
    del meta[f"sig_cert_{7:08x}_{values[1][0]:08x}"]
    assert checker.first_failure(meta, f"sig_cert_{7:08x}_", 7, values) == values[1][0]
    meta[f"sig_cert_{7:08x}_{values[1][0]:08x}"] = b"\x30\x03\x02\x01\x01"  # not a MAC at all
    assert checker.first_failure(meta, f"sig_cert_{7:08x}_", 7, values) == values[1][0]


@pytest.mark.parametrize("hash_name", ["sha1", "sha256", "sha384", "sha512"])
def test_the_hmac_made_without_the_hmac_module_is_hmacs(hash_name: str) -> None:
    """nc._hmac, which make_mac (every MAC a write makes) and the legacy 3DES key use instead of importing hmac, is
    hmac's HMAC: keys shorter than, as long as and longer than a block, empty and long messages; and a MAC make_mac
    writes is the one hmac computes over what it names."""
    for key_length in (0, 1, 20, 32, 64, 127, 128, 129, 300):
        for message in (b"", os.urandom(1), os.urandom(57), os.urandom(1000)):
            key = os.urandom(key_length)
            assert nc._hmac(hash_name, key, message) == hmac.new(key, message, hash_name).digest()
    key = os.urandom(20)
    blob = nc.make_mac(key, 0x1234, 0xCE536358, b"\x00\x00\x00\x01", iterations=3)
    _, outer = der.value(blob)
    (_, alg, _), (_, mac, _) = der.children(outer)[:2]
    salt = der.children(der.children(der.children(der.children(alg)[1][1])[0][1])[1][1])[0][1]
    mac_key = hashlib.pbkdf2_hmac("sha256", key, salt, 3, 32)
    assert mac == hmac.new(mac_key, nc.mac_input(0x1234, 0xCE536358, b"\x00\x00\x00\x01"), "sha256").digest()
