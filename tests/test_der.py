"""keystores.crypto.der, the one hand-written DER set, judged by asn1crypto."""

from __future__ import annotations

import pytest
from asn1crypto import core, parser

from keystores.crypto import der


@pytest.mark.parametrize("dotted", ["1.2.840.113549.1.1.1", "2.5.4.3", "0.9.2342.19200300.100.1.25", "2.999.3",
                                    "1.3.132.0.34", "2.16.840.1.101.3.4.3.18"])
def test_oids_round_trip_as_asn1crypto_reads_them(dotted):
    encoded = der.oid(dotted)
    assert core.ObjectIdentifier.load(encoded).dotted == dotted
    _, start, end = der.read(encoded)
    assert der.oid_text(encoded[start:end]) == dotted
    assert der.oid_text(encoded[start:end], minimal=True) == dotted


def test_an_oid_is_encoded_once_and_the_memo_stays_small():
    """der.oid answers from its memo what it encoded before (sign asks for the same ~36 OIDs), the same bytes as
    encoding anew; OIDs past the memo's bound are still encoded, just not kept."""
    first = der.oid("1.2.840.10045.4.3.2")
    assert der.oid("1.2.840.10045.4.3.2") is first and first == der._encode_oid("1.2.840.10045.4.3.2")
    for arc in range(1000):
        assert der.oid(f"1.3.6.1.4.1.99999.{arc}") == der._encode_oid(f"1.3.6.1.4.1.99999.{arc}")
    assert len(der._OIDS_ENCODED) <= 256
    with pytest.raises(ValueError):
        der.oid("1.2.x")


def test_oids_of_many_arcs_encode_as_asn1crypto_encodes_them():
    """Arcs of one byte and of many (the first two sharing one subidentifier), as asn1crypto writes them; a negative
    arc is refused (it was an endless loop)."""
    import random

    rng = random.Random(15)
    for _ in range(2000):
        dotted = ".".join([str(rng.randrange(3)), str(rng.randrange(40)),
                           *(str(rng.randrange(10 ** rng.randrange(1, 12))) for _ in range(rng.randrange(6)))])
        assert der._encode_oid(dotted) == core.ObjectIdentifier(dotted).dump(), dotted
    with pytest.raises(ValueError):
        der._encode_oid("1.2.-1")


def test_non_minimal_oid_arcs_are_refused_only_when_asked():
    content = bytes([0x2A, 0x80, 0x01])  # 1.2.1 with a padded arc
    assert der.oid_text(content) == "1.2.1"
    with pytest.raises(der.DerError):
        der.oid_text(content, minimal=True)
    with pytest.raises(der.DerError):
        der.oid_text(b"\x2a\x86")  # truncated arc


def test_oid_text_answers_from_its_memo_as_it_reads():
    """oid_text remembers the text of contents read before (a large store names the same OIDs ~10,000 times), and
    its answers, verdicts included, are those of reading anew, asked in either order, with `minimal` or without."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    def read(content: bytes, minimal: bool) -> str | type[Exception]:
        try:
            return der._oid_text(content, minimal)
        except der.DerError:
            return der.DerError

    def asked(content: bytes, minimal: bool) -> str | type[Exception]:
        try:
            return der.oid_text(content, minimal=minimal)
        except der.DerError:
            return der.DerError

    @settings(max_examples=3000, deadline=None)
    @given(st.binary(max_size=12) | st.sampled_from([b"\x2a\x80\x01", b"\x2a\x81\x80\x01", b"\x55\x04\x03"]),
           st.booleans())
    def check(content: bytes, minimal_first: bool) -> None:
        for minimal in (minimal_first, not minimal_first, minimal_first):
            assert asked(content, minimal) == read(content, minimal)

    check()
    for arc in range(3000):  # past the memo's bound, which it clears
        content = der.oid(f"1.3.6.1.4.1.99999.{arc}")[2:]
        assert der.oid_text(content) == f"1.3.6.1.4.1.99999.{arc}"
    assert len(der._OID_TEXTS) <= der._OID_TEXTS_AT_MOST


def test_elements_walk_a_sequence_and_refuse_overruns():
    body = der.integer(5) + der.octet_string(b"x" * 200) + der.sequence(der.integer(-1))
    whole = der.sequence(body)
    contents = parser.parse(whole)[4]
    children, at = [], 0
    while at < len(contents):
        _, _, _, header, content, trailer = parser.parse(contents[at:], strict=False)
        children.append(header + content)
        at += len(header) + len(content) + len(trailer)
    assert children == [der.integer(5), der.octet_string(b"x" * 200), der.sequence(der.integer(-1))]
    sequence_tag, start, end = der.read(whole)
    assert sequence_tag == 0x30
    found = der.elements(whole, start, end)
    assert [item[0] for item in found] == [0x02, 0x04, 0x30]
    assert der.integer_value(whole[found[0][2]:found[0][3]]) == 5
    assert der.expect(whole, found[1][1], 0x04) == (b"x" * 200, found[1][3])
    with pytest.raises(der.DerError):
        der.expect(whole, found[1][1], 0x02)
    with pytest.raises(der.DerError):
        der.elements(whole, start, end - 1)


def test_content_start_reads_headers_of_truncated_files():
    whole = der.sequence(der.octet_string(b"y" * 300))
    assert der.content_start(whole[:8]) == 4  # 30 82 01 30: a two-byte length
    assert der.content_start(der.integer(3)) == 2


def test_children_and_value_give_bytes():
    whole = der.sequence(der.integer(7), der.octet_string(b"abc"))
    tag, content = der.value(whole)
    assert tag == 0x30
    assert der.children(content) == [(0x02, b"\x07", der.integer(7)), (0x04, b"abc", der.octet_string(b"abc"))]


def test_every_pem_writer_is_der_pem_armor_byte_for_byte() -> None:
    """EncodedCertificate/EncodedRequest, RawCertificate and UndecodedPrivateKey write PEM with der.pem_armor (the
    one way): byte for byte what their own copies wrote (base64 in 64-character lines) and what cryptography
    writes, at every length around a line's end."""
    import base64
    import random

    from cryptography.hazmat.primitives import serialization

    from keystores.crypto.der import pem_armor
    from keystores.pki.encoded import EncodedCertificate, EncodedRequest
    from keystores.pki.undecoded import RawCertificate, UndecodedPrivateKey

    def old_copy(label: bytes, data: bytes) -> bytes:  # what pki/undecoded.py wrote before
        body = base64.encodebytes(data).replace(b"\n", b"")
        lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
        return b"-----BEGIN " + label + b"-----\n" + lines + b"\n-----END " + label + b"-----\n"

    rng = random.Random(3)
    for size in [*range(0, 200), 1000, 4096]:
        data = rng.randbytes(size)
        for label, written in ((b"CERTIFICATE", EncodedCertificate(data).public_bytes(serialization.Encoding.PEM)),
                               (b"CERTIFICATE", RawCertificate(data, None).public_bytes(serialization.Encoding.PEM)),
                               (b"CERTIFICATE REQUEST", EncodedRequest(data).public_bytes(serialization.Encoding.PEM)),
                               (b"PRIVATE KEY", UndecodedPrivateKey(data, None).private_bytes(
                                   serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))):
            assert written == old_copy(label, data) == pem_armor(label.decode(), data), (label, size)
    from helpers import certificate, ec_key

    cert = certificate(ec_key(3), "armour.example")
    der = cert.public_bytes(serialization.Encoding.DER)
    assert EncodedCertificate(der).public_bytes(serialization.Encoding.PEM) == cert.public_bytes(
        serialization.Encoding.PEM) == RawCertificate(der, None).public_bytes(serialization.Encoding.PEM)
