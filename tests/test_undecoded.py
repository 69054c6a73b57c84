"""keystores.pki.undecoded: what cryptography cannot decode is named, kept as its bytes and carried unchanged."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from helpers import ca, key_pair_entry, undecodable_certificate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keystores.crypto import der
from keystores.model import Entry, EntryKind
from keystores.ops.describe import entry_data
from keystores.pki.certificates import decode_certificate
from keystores.pki.chain import issued_by
from keystores.pki.undecoded import RawCertificate, UndecodedPrivateKey, key_type_of_pkcs8, load_private_key
from keystores.store import open_store

ML_DSA_65 = "2.16.840.1.101.3.4.3.18"
GOST_2012_256 = "1.2.643.7.1.1.1.1"
PASSWORD = "changeit-11"


def _pkcs8(algorithm: str, secret: bytes) -> bytes:
    """A PrivateKeyInfo of an algorithm cryptography does not load (random key bytes: only the shape matters)."""
    return der.tlv(0x30, der.integer(0) + der.tlv(0x30, der.oid(algorithm)) + der.tlv(0x04, der.tlv(0x04, secret)))


@pytest.mark.parametrize(("algorithm", "name"), [(ML_DSA_65, "ML-DSA-65"), (GOST_2012_256, "GOST-R-34.10-2012-256"),
                                                 ("2.16.840.1.101.3.4.4.2", "ML-KEM-768"),
                                                 ("1.3.6.1.4.1.55555.1.1", "1.3.6.1.4.1.55555.1.1")])
def test_certificates_and_keys_of_unknown_algorithms_are_named_by_name_or_oid(algorithm, name):
    cert = decode_certificate(undecodable_certificate(3, algorithm))
    assert isinstance(cert, RawCertificate) and cert.key_type == name and cert.problem
    assert cert.subject.rfc4514_string().startswith("O=keystores tests,CN=")
    assert issued_by(cert, ca(3)[1])  # the signature over the original bytes checks out
    key = load_private_key(_pkcs8(algorithm, bytes(32)))
    assert isinstance(key, UndecodedPrivateKey) and key.key_type == name == key_type_of_pkcs8(key.pkcs8)


def test_bytes_that_are_no_certificate_are_a_problem_not_a_crash():
    cert = decode_certificate(b"\x30\x03\x02\x01\x01")
    assert cert.parsed is None and cert.problem.startswith("not a readable X.509 certificate")
    data = entry_data(Entry("x", EntryKind.TRUSTED_CERT, chain=(cert,)))
    assert data["subject"] is None and data["sha256"] and data["problem"] == cert.problem


def test_a_key_pair_cryptography_cannot_load_travels_pkcs12_jks_jceks_pem_unchanged(tmp_path):
    cert = decode_certificate(undecodable_certificate(4, ML_DSA_65))
    pkcs8 = _pkcs8(ML_DSA_65, bytes(range(32)))
    entry = Entry("pq", EntryKind.KEY_PAIR, chain=(cert,), key=load_private_key(pkcs8))
    previous = tmp_path / "start.p12"
    with open_store(previous, password=PASSWORD, create=True) as store:
        store.add(entry)
        store.add(key_pair_entry("classic", index=1))
    for name in ("a.jks", "b.jceks", "c.pem", "d.p12"):
        path = tmp_path / name
        with open_store(previous, password=PASSWORD) as source, open_store(path, password=PASSWORD,
                                                                          create=True) as dest:
            for each in source.entries():  # the key pairs (their CA is also an entry, of kind certificate)
                if each.kind is EntryKind.KEY_PAIR:
                    dest.add(each)
        with open_store(path, password=PASSWORD) as store:
            if name.endswith(".pem"):  # PEM pairs keys by public key: this one stays a key of its own
                assert any(isinstance(k, UndecodedPrivateKey) and k.pkcs8 == pkcs8 for k in store.loose_keys)
                continue
            got = store.get("pq")
            assert got.chain[0].public_bytes(serialization.Encoding.DER) == cert.der
            assert got.key.pkcs8 == pkcs8 and entry_data(got)["key_type"] == "ML-DSA-65"
        previous = path


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(min_value=0, max_value=10_000), st.integers(min_value=1, max_value=255)),
                min_size=1, max_size=4),
       st.integers(min_value=0, max_value=10_000))
def test_any_damage_to_a_certificate_is_a_problem_never_a_crash(flips, cut):
    """Whatever the bytes, decoding gives a certificate or a RawCertificate, and describing it gives the schema."""
    data = bytearray(undecodable_certificate(0) if cut % 2 else ca(0)[1].public_bytes(serialization.Encoding.DER))
    for at, mask in flips:
        data[at % len(data)] ^= mask
    cert = decode_certificate(bytes(data[: max(2, len(data) - cut % 50)]))
    shown = entry_data(Entry("x", EntryKind.TRUSTED_CERT, chain=(cert,)), detail=True)
    assert shown["sha256"] and (shown["problem"] is None) == (not isinstance(cert, RawCertificate) or not cert.problem)


def test_receive_passes_over_a_key_it_cannot_match(tmp_path):
    """receive matches by public key; a key cryptography cannot load is no match, never an internal error."""
    from keystores.errors import NotFound
    from keystores.ops.lifecycle import receive

    cert = decode_certificate(undecodable_certificate(5, ML_DSA_65))
    path = tmp_path / "pq.p12"
    with open_store(path, password=PASSWORD, create=True) as store:
        store.add(Entry("pq", EntryKind.KEY_PAIR, chain=(cert,), key=load_private_key(_pkcs8(ML_DSA_65, bytes(32)))))
    with open_store(path, password=PASSWORD, writable=True) as store, pytest.raises(NotFound):
        receive(store, [ca(5)[1]])


def test_a_dsa_issuers_key_loads_from_its_der_without_cryptographys_warning():
    """Chains are checked over EncodedCertificate keys (tokens, PEM): a DSA CA's key made cryptography warn "DSA is
    deprecated" to whoever called, which users must never see (a library's words)."""
    import warnings

    from cryptography.hazmat.primitives.asymmetric import dsa
    from helpers import certificate

    from keystores.pki.encoded import EncodedCertificate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # making the DSA CA here warns; what is judged is reading it below
        key = dsa.generate_private_key(2048)
        der = certificate(key, "DSA Root", ca=True).public_bytes(serialization.Encoding.DER)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        public = EncodedCertificate(der).public_key()
    assert public.key_size == 2048
