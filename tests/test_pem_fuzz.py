"""Bounded fuzz of the PEM/DER parser: damaged input gives a KeystoreError naming the file, never another exception.

The short runs go in every test run; the long ones only with --long.
"""

from __future__ import annotations

import base64
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from helpers import ec_key, key_pair_entry, rsa_key, trusted_entry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keystores.backends.pem import PemStore
from keystores.errors import KeystoreError

PASSWORD = "fuzz pw"
SHORT = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = settings(max_examples=4000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def seeds() -> dict[str, bytes]:
    """Valid inputs of every kind the parser reads; the fuzzer damages them."""
    pem = serialization.Encoding.PEM
    pair = key_pair_entry("fuzz", index=1)
    ec = ec_key(1)
    csr = (x509.CertificateSigningRequestBuilder().subject_name(pair.chain[0].subject)
           .sign(ec, hashes.SHA256()))
    pkcs8_encrypted = pair.key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                             serialization.BestAvailableEncryption(PASSWORD.encode()))
    legacy_encrypted = ec.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL,
                                        serialization.BestAvailableEncryption(PASSWORD.encode()))
    chain = b"".join(c.public_bytes(pem) for c in pair.chain)
    # OpenSSL's TRUSTED CERTIFICATE: the certificate, then X509_CERT_AUX { trust { serverAuth }, reject [0] {...},
    # alias "fuzz alias" }
    aux = bytes.fromhex("3032" "300a" "06082b06010505070301" "a00a" "06082b06010505070304") + b"\x0c\x0afuzz alias"
    aux = bytes([0x30, len(aux) - 2]) + aux[2:]
    trusted_der = pair.chain[1].public_bytes(serialization.Encoding.DER) + aux
    trusted = (b"-----BEGIN TRUSTED CERTIFICATE-----\n" + base64.encodebytes(trusted_der)
               + b"-----END TRUSTED CERTIFICATE-----\n")
    return {
        "bundle": (b"Bag Attributes\n    friendlyName: fuzz\nsubject=CN = x\n" + chain + pkcs8_encrypted
                   + trusted_entry("root", index=1).chain[0].public_bytes(pem)),
        "legacy+csr": legacy_encrypted + csr.public_bytes(pem),
        "plain keys": (rsa_key(1).private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL,
                                                serialization.NoEncryption())
                       + ec.private_bytes(pem, serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption())),
        "trusted": trusted,
        "der cert": pair.chain[0].public_bytes(serialization.Encoding.DER),
        "der encrypted key": pair.key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                    serialization.BestAvailableEncryption(PASSWORD.encode())),
        "der csr": csr.public_bytes(serialization.Encoding.DER),
    }


def parse(data: bytes, fmt: str) -> None:
    """Parse as the store would on open (no file involved: a created, read-only store is loaded by hand)."""
    store = PemStore(f"fuzz.{fmt}", password=PASSWORD, writable=False, create=True, format_name=fmt)
    store._load(data)
    for entry in store.entries():  # whatever parsed must be a usable entry
        assert entry.label and (entry.chain or entry.request is not None)


@st.composite
def damaged(draw) -> tuple[bytes, str]:
    name = draw(st.sampled_from(sorted(seeds())))
    data = bytearray(seeds()[name])
    fmt = "der" if name.startswith("der") else "pem"
    for _ in range(draw(st.integers(1, 4))):
        action = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "line"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if action == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif action == "truncate":
            del data[at:]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        else:  # a whole line goes, or is duplicated: what copy-paste does
            lines = bytes(data).split(b"\n")
            index = at % len(lines)
            if draw(st.booleans()):
                del lines[index]
            else:
                lines.insert(index, lines[index])
            data = bytearray(b"\n".join(lines))
    return bytes(data), fmt


def _check(case: tuple[bytes, str]) -> None:
    data, fmt = case
    try:
        parse(data, fmt)
    except KeystoreError as exc:
        assert f"fuzz.{fmt}" in str(exc)
        assert PASSWORD not in str(exc)


def test_seeds_parse():
    for name, data in seeds().items():
        parse(data, "der" if name.startswith("der") else "pem")


@SHORT
@given(damaged())
def test_damaged_input_short(case):
    _check(case)


@SHORT
@given(st.binary(max_size=300), st.sampled_from(["pem", "der"]))
def test_random_bytes_short(data, fmt):
    _check((data, fmt))


@pytest.mark.slow
@LONG
@given(damaged())
def test_damaged_input_long(case):
    _check(case)


@pytest.mark.slow
@LONG
@given(st.binary(max_size=2000), st.sampled_from(["pem", "der"]))
def test_random_bytes_long(data, fmt):
    _check((data, fmt))
