"""MQ identity mapping: RACDCERT MAP in RACF's dotted order (the seed's certificate), SSLPEER and CHLAUTH
SSLPEERMAP for it; and the audit check for the MQ web server (one CN under two organisations)."""

from __future__ import annotations

import json

from ams_material import AT, cert_entry, make_cert, rsa_key
from clirun import keystores

from keystores.ams.identity import mapping, racdcert_map, sslpeer_value
from keystores.store import open_store

ATS = AT.isoformat()


def _seed_certificate():
    """The seed's: subject C=GB,O=cpwebuser,CN=ADCDC and issuer C=GB,O=SSS,OU=CA,CN=SSCARSA1024 as openssl
    prints them (root first)."""
    ca_key = rsa_key("sss-ca")
    ca = make_cert(ca_key, "CN=SSCARSA1024,OU=CA,O=SSS,C=GB", usage=("key_cert_sign",), ca=True)
    return make_cert(rsa_key("adcdc"), "CN=ADCDC,O=cpwebuser,C=GB", issuer=(ca_key, ca))


def test_racdcert_map_in_racf_order() -> None:
    cert = _seed_certificate()
    assert cert.subject.rfc4514_string() == "CN=ADCDC,O=cpwebuser,C=GB"  # ASN.1 order C, O, CN
    assert racdcert_map(cert, "webuser", label="ADCDC cert") == (
        "RACDCERT ID(WEBUSER) MAP SDNFILTER('CN=ADCDC.O=cpwebuser.C=GB') "
        "IDNFILTER('CN=SSCARSA1024.OU=CA.O=SSS.C=GB') WITHLABEL('ADCDC cert')")
    assert racdcert_map(cert, "webuser", subject=False) == (
        "RACDCERT ID(WEBUSER) MAP IDNFILTER('CN=SSCARSA1024.OU=CA.O=SSS.C=GB')")


def test_sslpeer_and_chlauth() -> None:
    cert = _seed_certificate()
    result = mapping(cert, userid="webuser", channel="TO.QM1", label="adcdc")
    assert result.sslpeer == "CN=ADCDC,O=cpwebuser,C=GB"
    assert result.chlauth == ("SET CHLAUTH('TO.QM1') TYPE(SSLPEERMAP) SSLPEER('CN=ADCDC,O=cpwebuser,C=GB') "
                              "SSLCERTI('CN=SSCARSA1024,OU=CA,O=SSS,C=GB') USERSRC(MAP) MCAUSER('webuser') "
                              "ACTION(REPLACE)")
    assert result.notes == []


def test_special_values_quoted_and_dots_noted() -> None:
    cert = make_cert(rsa_key("odd"), "CN=O'Neil,O=Acme\\, Inc.,C=US")
    notes: list[str] = []
    assert sslpeer_value(cert.subject, notes) == 'CN=O\'Neil,O="Acme, Inc.",C=US'
    command = racdcert_map(cert, "oneil", notes=notes)
    assert "SDNFILTER('CN=O''Neil.O=Acme, Inc..C=US')" in command
    assert any("holds a dot" in n for n in notes)


def test_map_command(tmp_path) -> None:
    pem = tmp_path / "adcdc.pem"
    with open_store(str(pem), create=True) as made:
        made.add(cert_entry("adcdc", _seed_certificate()))
    done = keystores("ams", "map", str(pem), "--user", "webuser", "--channel", "TO.QM1")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert "RACDCERT ID(WEBUSER) MAP SDNFILTER('CN=ADCDC.O=cpwebuser.C=GB')" in lines[2]
    assert "SETROPTS RACLIST(DIGTNMAP) REFRESH" in lines
    data = json.loads(keystores("ams", "map", str(pem), "--user", "webuser", "--json").out)
    assert data["sslpeer"] == "CN=ADCDC,O=cpwebuser,C=GB" and data["subject"] == "CN=ADCDC,O=cpwebuser,C=GB"
    assert keystores("ams", "map", str(pem)).code == 2  # no --user


def test_audit_flags_one_cn_under_two_organisations(tmp_path) -> None:
    trust = tmp_path / "trust.pem"
    with open_store(str(trust), create=True) as made:
        made.add(cert_entry("colin-my", make_cert(rsa_key("colin1"), "CN=COLIN,O=MY.ORG")))
        made.add(cert_entry("colin-your", make_cert(rsa_key("colin2"), "CN=COLIN,O=YOUR.ORG")))
        made.add(cert_entry("dora", make_cert(rsa_key("dora"), "CN=DORA,O=MY.ORG")))
    done = keystores("audit", str(trust), "--json", "--skip", "expiring", "--skip", "expired")
    assert done.code == 5, done.err
    findings = [f for f in json.loads(done.out)["findings"] if f["check"] == "same-cn"]
    assert len(findings) == 1
    assert "2 certificates have CN=COLIN under different organisations: 'colin-my' (O=MY.ORG), 'colin-your' " \
           "(O=YOUR.ORG)" in findings[0]["message"]
    skipped = keystores("audit", str(trust), "--json", "--skip", "same-cn", "--skip", "expiring", "--skip",
                        "expired", "--skip", "weak-key")
    assert not [f for f in json.loads(skipped.out)["findings"] if f["check"] == "same-cn"]
