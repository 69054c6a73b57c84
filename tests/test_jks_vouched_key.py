"""A JKS key under JKS's own key protector is loaded as written, as keytool loads it: the protector ends with
SHA-1(password || key), which the reader checks, so cryptography's RSA validation (~55 ms of CPU per 2048-bit key,
a third of `keystores ams protect`: issue 15, start-up in a user install) is skipped there, as it is for a PKCS#12
whose MAC passed. JCEKS's 3DES protection has no such check: its keys are still validated."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from helpers import key_pair_entry

from keystores.pki.undecoded import UndecodedPrivateKey
from keystores.store import open_store

PASSWORD = "vouched-pw-1"


def _with_inconsistent_crt(entry):
    """`entry` with a key whose CRT coefficient is off by one: a key RSA validation refuses, keytool loads."""
    numbers = entry.key.private_numbers()
    bad = rsa.RSAPrivateNumbers(numbers.p, numbers.q, numbers.d, numbers.dmp1, numbers.dmq1, numbers.iqmp + 1,
                                numbers.public_numbers).private_key(unsafe_skip_rsa_key_validation=True)
    return entry.with_(key=bad)


@pytest.mark.parametrize("kind", ["jks", "jceks"])
def test_a_key_the_jks_protector_vouches_for_is_loaded_as_written(tmp_path, kind) -> None:
    entry = _with_inconsistent_crt(key_pair_entry("vouched"))
    path = tmp_path / f"s.{kind}"
    with open_store(path, password=PASSWORD, type=kind, create=True) as made:
        made.add(entry)
    with open_store(path, password=PASSWORD) as opened:
        key = opened.get("vouched").key
    if kind == "jceks":  # no integrity check of its own: the key's contents are judged by loading them
        assert isinstance(key, UndecodedPrivateKey) and "cannot load" in (key.problem or "")
        return
    assert key.private_numbers() == entry.key.private_numbers()
