"""`keystores ams check`: every certificate rule AMS applies, recipient DNs matched by AMS's rules with the nearest
certificates explained, the getter's side, against stores in every format (PKCS#12, JKS, JCEKS, CMS, SoftHSM)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest
from ams_material import (
    AT,
    EMAIL,
    POLICY_TEXT,
    SERVER,
    cert_entry,
    conf_for,
    ec_key,
    key_entry,
    make_cert,
    make_store,
    org_ca,
    person,
)
from clirun import keystores

from keystores.ams import dnmatch
from keystores.ams.doctor import Side, certificate_problems, check
from keystores.ams.policy import parse_policies
from keystores.model import EntryKind
from keystores.store import open_store
from softhsm import softhsm, softhsm_token  # noqa: F401  (pytest fixtures)

ATS = AT.isoformat()


def _putter_entries(**bob_options):
    alice_key, alice = person("alice", "MyOrg")
    _, bob = person("bob", "Other", **bob_options)
    return [key_entry("alice", alice_key, alice, "MyOrg"), cert_entry("bob", bob), cert_entry("other-ca",
                                                                                               org_ca("Other")[1])]


def _getter_entries():
    bob_key, bob = person("bob", "Other")
    return [key_entry("bob", bob_key, bob, "Other"), cert_entry("myorg-ca", org_ca("MyOrg")[1])]


def _side(role: str, store, label: str) -> Side:
    return Side(role, f"{role}.conf", store, label)


def _checks(report) -> list[tuple[str, str, str]]:
    return [(f.side, f.check, f.severity) for f in report.findings]


FORMATS = ["pkcs12", "jks", "jceks", "cms", "pkcs11"]


@pytest.mark.parametrize("kind", FORMATS)
def test_healthy_set_up_passes_in_every_format(tmp_path, kind, softhsm) -> None:  # noqa: F811
    token = softhsm.make_token() if kind == "pkcs11" else None
    putter = make_store(str(tmp_path / f"putter.{ 'kdb' if kind == 'cms' else kind}"), kind, _putter_entries(),
                        token=token)
    getter = make_store(str(tmp_path / "getter.p12"), "pkcs12", _getter_entries())
    putter_conf = conf_for(tmp_path, kind, putter, "alice", token=token)
    getter_conf = conf_for(tmp_path, "jks", getter, "bob")  # a PKCS#12 named by jks.keystore
    policies = tmp_path / "pay.spl"
    policies.write_text(POLICY_TEXT)
    done = keystores("ams", "check", "--policies", str(policies), "--putter", str(putter_conf), "--getter",
                     str(getter_conf), "--at", ATS, "--json", env=token.env if token else None)
    assert done.code == 0, done.out + done.err
    report = json.loads(done.out)
    assert report["ok"] and report["errors"] == 0 and report["findings"] == []


def test_recipient_dn_differing_in_case_names_the_nearest(tmp_path) -> None:
    with open_store(str(tmp_path / "p.p12"), password="pw", create=True) as store:
        for entry in _putter_entries():
            store.add(entry)
        policies = parse_policies(POLICY_TEXT.replace("O=Other", "O=OTHER"))
        report = check(policies, putter=_side("putter", store, "alice"), at=AT)
    assert not report.ok
    finding = next(f for f in report.findings if f.check == "recipient")
    assert "no certificate in" in finding.message and "CN=bob,O=OTHER,C=GB" in finding.message
    near = finding.nearest[0]
    assert near.label == "bob" and near.dn == "CN=bob,O=Other,C=GB"
    assert near.reasons == ("case: O is 'OTHER' in the policy but 'Other' in the certificate",)


@pytest.mark.parametrize(("policy_dn", "reason"), [
    ("CN=bob, O=Other, C=GB", None),  # blanks around parts: matches
    ("cn=bob,O=Other,C=GB", "attribute-name case: the policy writes cn; AMS needs CN"),
    ("C=GB,O=Other,CN=bob", "order: the parts are reversed"),
    ("CN=bob,O=Other", "missing part: the policy lacks C=GB"),
    ("CN=bob,OU=Pay,O=Other,C=GB", "extra part: the policy has OU=Pay"),
    ("CN=bob.O=Other.C=GB", "form: written in RACF's dotted form"),
    ("CN=bob;O=Other;C=GB", "separator: the policy separates parts with ';'"),
    ("CN=Bob,O=Other,C=GB", "case: CN is 'Bob' in the policy but 'bob'"),
])
def test_dn_rules_and_explanations(policy_dn: str, reason: str | None) -> None:
    _, bob = person("bob", "Other")
    assert dnmatch.matches(policy_dn, bob) is (reason is None)
    if reason is not None:
        assert any(r.startswith(reason) for r in dnmatch.differences(policy_dn, dnmatch.certificate_dn(bob))), \
            dnmatch.differences(policy_dn, dnmatch.certificate_dn(bob))


def test_dn_synonyms_and_multi_valued_parts() -> None:
    key = person("x", "Org")[0]
    state = make_cert(key, "CN=x,ST=Kent,O=Org")
    assert dnmatch.matches("CN=x,ST=Kent,O=Org", state)
    for keyword in ("S", "SP"):
        assert not dnmatch.matches(f"CN=x,{keyword}=Kent,O=Org", state)
        assert dnmatch.differences(f"CN=x,{keyword}=Kent,O=Org", "CN=x,ST=Kent,O=Org")[0].startswith(
            f"keyword: the policy writes {keyword}= where the certificate has ST=")
    mail = make_cert(key, "E=x@org.example,CN=x,O=Org")
    assert dnmatch.certificate_dn(mail) == "E=x@org.example,CN=x,O=Org"
    assert not dnmatch.matches("EMAIL=x@org.example,CN=x,O=Org", mail)
    grouped = make_cert(key, "CN=x+OU=Pay,O=Org")
    assert dnmatch.matches("CN=x+OU=Pay,O=Org", grouped)
    assert dnmatch.differences("CN=x,OU=Pay,O=Org", "CN=x+OU=Pay,O=Org") == [
        "multi-valued part: the certificate groups parts with '+' (one RDN); write them joined with '+' as "
        "CN=x+OU=Pay,O=Org"]
    assert dnmatch.differences("CN=x  y,O=Org", "CN=x y,O=Org")[0].startswith("blank: CN has an extra blank")


@pytest.mark.parametrize(("uses", "usage", "eku", "expected"), [
    ({"sign"}, ("key_encipherment",), None, "signing (integrity) needs key usage digitalSignature"),
    ({"sign"}, ("content_commitment",), None, None),  # nonRepudiation is enough
    ({"privacy"}, ("digital_signature",), None, "privacy needs key usage keyEncipherment"),
    ({"confidentiality"}, ("key_encipherment",), None, "confidentiality needs key usage dataEncipherment"),
    ({"privacy"}, None, None, None),  # no key usage: no restriction
    ({"privacy"}, ("key_encipherment",), (SERVER,), "its extended key usage lacks emailProtection"),
    ({"privacy"}, ("key_encipherment",), (SERVER, EMAIL), None),
])
def test_key_usage_rules(uses, usage, eku, expected) -> None:
    _, cert = person("carol", "Other", usage=usage, eku=eku)
    messages = [m for _, m in certificate_problems(cert, uses=uses, at=AT)]
    assert len(messages) == (1 if expected else 0) and (expected is None or expected in messages[0]), messages


def test_rsa_only_expiry_and_small_keys_for_sha384(tmp_path) -> None:
    ec_cert = make_cert(ec_key("dave"), "CN=dave,O=Other")
    assert certificate_problems(ec_cert, uses={"privacy"}, at=AT) == [
        ("rsa", "the key is EC-P256; AMS needs an RSA key")]
    _, old = person("erin", "Other", not_after=AT - dt.timedelta(days=1))
    assert [c for c, _ in certificate_problems(old, uses=set(), at=AT)] == ["expired"]
    pem = subprocess.run(["openssl", "genrsa", "768"], capture_output=True, check=True).stdout
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    small = make_cert(load_pem_private_key(pem, None), "CN=small,O=Other", issuer=org_ca("Other"))
    for hash_name, problem in (("SHA256", []), ("SHA384", ["key-size"]), ("SHA512", ["key-size"])):
        assert [c for c, _ in certificate_problems(small, uses={"sign"}, sign_hash=hash_name, at=AT)] == problem


def test_putter_own_certificate_rules(tmp_path) -> None:
    alice_key, alice = person("alice", "MyOrg", usage=("key_encipherment",))
    with open_store(str(tmp_path / "p.p12"), password="pw", create=True) as store:
        store.add(key_entry("alice", alice_key, alice, "MyOrg"))
        store.add(cert_entry("bob", person("bob", "Other")[1]))
        report = check(parse_policies(POLICY_TEXT), putter=_side("putter", store, "alice"), at=AT)
        assert ("putter", "key-usage", "error") in _checks(report)
        missing = check(parse_policies(POLICY_TEXT), putter=_side("putter", store, "nobody"), at=AT)
        assert ("putter", "own-certificate", "error") in _checks(missing)
        not_mine = check(parse_policies(POLICY_TEXT), putter=_side("putter", store, "bob"), at=AT)
        assert any("is a trusted-cert entry" in f.message for f in not_mine.findings)


def test_recipient_without_key_encipherment_and_duplicates(tmp_path) -> None:
    entries = _putter_entries(usage=("digital_signature",))
    with open_store(str(tmp_path / "p.p12"), password="pw", create=True) as store:
        for entry in entries:
            store.add(entry)
        report = check(parse_policies(POLICY_TEXT), putter=_side("putter", store, "alice"), at=AT)
        assert [f.message for f in report.findings if f.check == "key-usage"] == [
            "recipient 'CN=bob,O=Other,C=GB' (entry 'bob'): privacy needs key usage keyEncipherment"]
        # a second, expired certificate with the same DN: AMS may pick either
        _, old_bob = person("bob", "Other", not_after=AT - dt.timedelta(days=3))
        store.remove("bob")
        store.add(cert_entry("bob", person("bob", "Other")[1]))
        store.add(cert_entry("bob-2025", old_bob))
        report = check(parse_policies(POLICY_TEXT), putter=_side("putter", store, "alice"), at=AT)
    duplicate = next(f for f in report.findings if f.check == "recipient-duplicate")
    assert "'bob' (usable" in duplicate.message and "'bob-2025' (expired" in duplicate.message
    assert "AMS may pick any of them" in duplicate.message


def test_getter_side(tmp_path) -> None:
    with open_store(str(tmp_path / "p.p12"), password="pw", create=True) as putter, \
            open_store(str(tmp_path / "g.p12"), password="pw", create=True) as getter:
        for entry in _putter_entries():
            putter.add(entry)
        bob_key, bob = person("bob", "Other")
        getter.add(key_entry("bob", bob_key, bob, "Other"))
        sides = {"putter": _side("putter", putter, "alice"), "getter": _side("getter", getter, "bob")}
        # the getter does not trust MyOrg's CA: it cannot validate alice's signature
        report = check(parse_policies(POLICY_TEXT), **sides, at=AT)
        assert ("getter", "signer-trust", "error") in _checks(report)
        trust = tmp_path / "trust.pem"
        with open_store(str(trust), create=True) as made:
            made.add(cert_entry("myorg-ca", org_ca("MyOrg")[1]))
        with open_store(str(trust)) as trusted:
            assert check(parse_policies(POLICY_TEXT), **sides, trust=[trusted], at=AT).ok
        getter.add(cert_entry("myorg-ca", org_ca("MyOrg")[1]))
        assert check(parse_policies(POLICY_TEXT), **sides, at=AT).ok
        # alice is not an accepted signer; bob is not a recipient
        other = POLICY_TEXT.replace('-a "CN=alice,O=MyOrg,C=GB"', '-a "CN=alice,O=myorg,C=GB"')
        report = check(parse_policies(other), **sides, at=AT)
        signer = next(f for f in report.findings if f.check == "signer")
        assert "not in the accepted signers" in signer.message
        assert signer.nearest[0].reasons == ("case: O is 'myorg' in the policy but 'MyOrg' in the certificate",)
        carol = POLICY_TEXT.replace("CN=bob,O=Other", "CN=carol,O=Other")
        report = check(parse_policies(carol), **sides, at=AT)
        assert ("getter", "not-a-recipient", "error") in _checks(report)


def test_cli_table_json_and_exit_5(tmp_path) -> None:
    putter = make_store(str(tmp_path / "putter.jks"), "jks", _putter_entries(usage=("digital_signature",)))
    conf = conf_for(tmp_path, "jks", putter, "alice")
    policies = tmp_path / "pay.spl"
    policies.write_text(POLICY_TEXT.replace("O=Other", "O=OTHER") + POLICY_TEXT.replace("PAY.IN", "PAY.OUT"))
    done = keystores("ams", "check", "--policies", str(policies), "--putter", str(conf), "--at", ATS)
    assert done.code == 5, done.err
    assert "ERROR" in done.out and "nearest: 'bob' CN=bob,O=Other,C=GB" in done.out
    assert "- case: O is 'OTHER' in the policy but 'Other' in the certificate" in done.out
    assert "privacy needs key usage keyEncipherment" in done.out
    assert "2 error(s)" in done.err and "Ams-Test-pw" not in done.all
    data = json.loads(keystores("ams", "check", "--policies", str(policies), "--putter", str(conf), "--at", ATS,
                                "--json").out)
    assert data["schema"] == 1 and not data["ok"] and data["errors"] == 2 and data["at"] == "2026-06-01T12:00:00Z"
    first = data["findings"][0]
    assert set(first) == {"side", "policy", "check", "severity", "message", "line", "nearest"}
    assert first["nearest"][0]["reasons"] == ["case: O is 'OTHER' in the policy but 'Other' in the certificate"]
    # policies alone: validation, exit 0 on a clean file
    assert keystores("ams", "check", "--policies", str(policies)).code == 0


def test_entry_kinds_in_the_material() -> None:
    assert [e.kind for e in _putter_entries()] == [EntryKind.KEY_PAIR, EntryKind.TRUSTED_CERT,
                                                  EntryKind.TRUSTED_CERT]


def test_pkcs11_secondary_keystore_holds_the_recipients(tmp_path, softhsm) -> None:  # noqa: F811
    """pkcs11.secondary_keystore: the other parties' certificates live in a CMS database beside the token."""
    token = softhsm.make_token()
    alice_key, alice = person("alice", "MyOrg")
    make_store("", "pkcs11", [key_entry("alice", alice_key, alice, "MyOrg")], token=token)
    signers = make_store(str(tmp_path / "signers.kdb"), "cms", [cert_entry("bob", person("bob", "Other")[1])])
    conf = tmp_path / "alice.conf"
    conf.write_text(f"pkcs11.library = {token.module}\npkcs11.token = {token.label}\npkcs11.token_pin = {token.pin}\n"
                    f"pkcs11.certificate = alice\npkcs11.secondary_keystore = {signers[:-4]}\n")
    policies = tmp_path / "pay.spl"
    policies.write_text(POLICY_TEXT)
    done = keystores("ams", "check", "--policies", str(policies), "--putter", str(conf), "--at", ATS,
                     env=token.env)
    assert done.code == 0, done.out + done.err
    conf.write_text(conf.read_text().replace(f"pkcs11.secondary_keystore = {signers[:-4]}\n", ""))
    done = keystores("ams", "check", "--policies", str(policies), "--putter", str(conf), "--at", ATS,
                     env=token.env)
    assert done.code == 5 and "has the recipient DN 'CN=bob,O=Other,C=GB'" in done.out
