"""DN parsing, the MQ/AMS normal form, RACF's dotted form and `dn compare`, judged against openssl's reading."""

from __future__ import annotations

import subprocess

import pytest
from clirun import keystores
from hypothesis import given, settings
from hypothesis import strategies as st

from keystores.errors import UsageError
from keystores.pki.dn import DistinguishedName, compare, normalize, parse_dn


@pytest.mark.parametrize(("given_dn", "expected"), [
    ("CN=colinpaice,O=HW,C=GB", "CN=colinpaice,O=HW,C=GB"),
    ("cn=colinpaice, o=HW ,c=GB", "CN=colinpaice,O=HW,C=GB"),          # names upper-cased, padding dropped
    ("  CN = Colin  Paice ,O=My Org ; C=GB ", "CN=Colin  Paice,O=My Org,C=GB"),  # inner blanks kept, ';' too
    ("CN=MixedCase,OU=lower case", "CN=MixedCase,OU=lower case"),       # value case kept
    ("CN=ADCDC.O=cpwebuser.C=GB", "CN=ADCDC,O=cpwebuser,C=GB"),         # RACF dotted form read
    ("/C=GB/O=My Org/CN=www.example.com", "CN=www.example.com,O=My Org,C=GB"),  # openssl -subj form
    ("CN=www.example.com", "CN=www.example.com"),                       # dots in a value are not RACF
    (r"CN=Paice\, Colin,O=HW", r"CN=Paice\, Colin,O=HW"),              # escaped comma kept escaped
    ('CN="Paice, Colin",O=HW', r"CN=Paice\, Colin,O=HW"),              # quoted value
    (r"CN=caf\C3\A9", "CN=café"),                                        # hex-escaped UTF-8
    ("CN=#0c03616263", "CN=abc"),                                        # BER hex value
    ("CN=a+OU=b,O=c", "CN=a+OU=b,O=c"),                                  # multi-valued RDN
    ("2.5.4.3=x,OID.2.5.4.10=y", "CN=x,O=y"),                            # OIDs
    ("e=a@b.c,st=Hants,SP=Hants", "E=a@b.c,ST=Hants,SP=Hants"),          # keyword spelling kept
])
def test_normalize(given_dn, expected):
    assert normalize(given_dn) == expected


def test_racf_form_turns_root_first_dns_round():
    assert normalize("C=GB,O=cpwebuser,CN=ADCDC", racf=True) == "CN=ADCDC.O=cpwebuser.C=GB"
    assert normalize("CN=ADCDC,O=cpwebuser,C=GB", racf=True) == "CN=ADCDC.O=cpwebuser.C=GB"


@pytest.mark.parametrize(("bad", "needle"), [
    ("", "empty"),
    ("CN", "no '='"),
    ("XX=1,O=a", "unknown attribute 'XX'"),
    ("CN=a,", "ends with a separator"),
    ('CN="abc', "not closed"),
    ("CN=a\\", "lone backslash"),
    (r"CN=\ff\fe", "not UTF-8"),
])
def test_bad_dns_are_usage_errors(bad, needle):
    with pytest.raises(UsageError) as info:
        parse_dn(bad)
    assert needle in str(info.value)


def test_certificate_name_is_what_openssl_reads(tmp_path):
    """The x509.Name we build puts the first written part last in ASN.1, as openssl prints with RFC2253."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from helpers import ec_key

    key = ec_key(7)
    dn = parse_dn("CN=Colin  Paice,OU=MQ,O=IBM UK,C=GB")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # only the name is judged: any fixed validity will do
    cert = (x509.CertificateBuilder().subject_name(dn.to_x509()).issuer_name(dn.to_x509())
            .public_key(key.public_key()).serial_number(1).not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    path = tmp_path / "c.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    shown = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-subject", "-nameopt", "RFC2253"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert shown == "subject=CN=Colin  Paice,OU=MQ,O=IBM UK,C=GB"
    assert DistinguishedName.from_x509(cert.subject) == dn


@pytest.mark.parametrize(("a", "b", "kind"), [
    ("CN=Colin,O=HW,C=GB", "C=GB,O=HW,CN=Colin", "order"),
    ("CN=Colin,O=HW,C=GB", "CN=colin,O=HW,C=GB", "case"),
    ("CN=Colin,O=IBM  UK,C=GB", "CN=Colin,O=IBM UK,C=GB", "blank"),
    ("CN=Colin,O=HW,C=GB", "CN=Colin,O=HW", "missing"),
    ("CN=Colin,OU=MQ,O=HW", "CN=Colin,O=HW", "missing"),
    ("CN=Colin,O=HW", "CN=Paice,O=HW", "value"),
    ("CN=Colin,ST=Hants", "CN=Colin,SP=Hants", "keyword"),
])
def test_compare_says_why(a, b, kind):
    result = compare(a, b)
    assert not result.equal
    assert any(reason.startswith(kind) for reason in result.reasons), result.reasons


def test_compare_equal_after_normalising_and_says_so():
    result = compare(" cn=Colin , o=HW", "CN=Colin,O=HW")
    assert result.equal and result.reasons == ()
    assert result.notes
    assert compare("CN=Colin,O=HW", "CN=Colin,O=HW").notes == ()


def test_blank_reason_names_the_side_with_the_extra_blank():
    result = compare("CN=Colin,O=IBM UK", "CN=Colin,O=IBM  UK")
    assert any("extra blank in B" in reason for reason in result.reasons)


def _escape(value: str) -> str:
    """RFC 4514 escaping written independently of the code under test."""
    out = "".join("\\" + c if c in ',+"\\<>;' else c for c in value)
    return "\\" + out if out.startswith("#") else out


_values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF, blacklist_characters="\x7f"),
                  min_size=1, max_size=12).filter(lambda v: v.strip() == v and v.strip())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["CN", "OU", "O", "L", "ST", "DC", "UID"]), _values), min_size=1,
                max_size=5))
def test_normal_form_parses_back_to_the_same_dn(parts):
    """normalize is idempotent and what it writes reads back to the same attributes, escapes included."""
    text = ",".join(f"{k}={_escape(v)}" for k, v in parts)
    dn = parse_dn(text)
    assert [(a.keyword, a.value) for a in dn.attributes()] == parts
    assert normalize(dn.normalized()) == dn.normalized()
    assert parse_dn(dn.normalized()) == dn
    assert DistinguishedName.from_x509(dn.to_x509()).normalized() == dn.normalized()


def test_cli_dn_commands():
    result = keystores("dn", "normalize", "c=GB, o=cpwebuser ,cn=ADCDC", "--racf")
    assert result.code == 0, result.err
    assert result.out.strip() == "CN=ADCDC.O=cpwebuser.C=GB"
    result = keystores("dn", "compare", "CN=Colin,O=HW", "cn=colin, o=HW", "--json")
    assert result.code == 5, result.all
    import json

    data = json.loads(result.out)
    assert data["equal"] is False and data["reasons"][0].startswith("case")
    assert keystores("dn", "compare", "CN=Colin , O=HW", "cn=Colin,o=HW").code == 0
    bad = keystores("dn", "normalize", "XX=1")
    assert bad.code == 2 and "unknown attribute" in bad.err and "Traceback" not in bad.all


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('CNOUcnou=,;+."#\\ /a1é')), max_size=30))
def test_any_text_parses_or_is_a_usage_error(text):
    try:
        dn = parse_dn(text)
    except UsageError:
        return
    assert parse_dn(dn.normalized()).normalized() == dn.normalized()
