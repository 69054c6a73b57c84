"""AMS policies: every form IBM documents is read (setmqspl, SET POLICY, dspmqspl and DISPLAY POLICY output), every
rule is checked with its line, and what we render reads back the same."""

from __future__ import annotations

import json

import pytest

from keystores.ams.policy import PolicyFileError, parse_policies, read_policies, render, validate

SETMQSPL = """\
# payments: one file per set of queues, -m filled per queue manager
setmqspl -m &QM -p PAY.IN -s SHA256 -e AES256 \\
   -r "CN=alice, O=MyOrg, C=GB" -r 'CN=bob,O=Other Org,C=US' \\
   -a "CN=bob,O=Other Org,C=US"
setmqspl -m QM1 -policy PAY.AUDIT -s SHA512
setmqspl -m QM1 -p PAY.CONF -s NONE -e AES128 -r "CN=alice,O=MyOrg,C=GB" -c 100
"""

# IBM's dspmqspl example output (docs: "dspmqspl (display security policy)").
DSPMQSPL = """\
Policy Details:
Policy name: PROT
Quality of protection: PRIVACY
Signature algorithm: SHA256
Encryption algorithm: AES256
Signer DNs: -
Recipient DNs:
CN=Name, O=Organization, C=Country
Toleration: 0
Key Reuse Count: 0
- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -
Policy Details:
Policy name: PROT2
Quality of protection: CONFIDENTIALITY
Signature algorithm: NONE
Encryption algorithm: AES256
Signer DNs: -
Recipient DNs:
CN=Name, O=Organization, C=Country
Toleration: 0
Key Reuse Count: 100
"""

DISPLAY = """\
     1 : DISPLAY POLICY(MY.Q)
AMQ9086I: Display IBM MQ Advanced Message Security policy details.
   POLICY(MY.Q)                            SIGNALG(SHA256)
   ENCALG(AES256)                          SIGNER(CN=bob,O=IBM,C=US)
   RECIP(CN=alice,O=IBM,C=US)              RECIP(CN=carol smith,O=IBM,C=US)
   ENFORCE                                 KEYREUSE(DISABLED)
"""

MQSC = """\
* the payments queues
SET POLICY('PAY.MQSC') SIGNALG(SHA256) ENCALG(AES256) +
    RECIP('CN=alice,O=MyOrg,C=GB') SIGNER('CN=O''Brien,O=MyOrg') TOLERATE KEYREUSE(DISABLED)
SET POLICY('PAY.MQSC') RECIP('CN=bob,O=MyOrg') ACTION(ADD)
SET POLICY(lower.q) SIGNALG(SHA1) SIGNER(CN=x,O=y)
DELETE POLICY('GONE')
"""


def test_setmqspl_lines_quotes_continuations_and_placeholders() -> None:
    policies = parse_policies(SETMQSPL, source="pay.spl", qmgr="QMA")
    pay = policies.get("PAY.IN")
    assert pay.qmgr == "QMA" and pay.line == 2
    assert pay.recipients == ["CN=alice, O=MyOrg, C=GB", "CN=bob,O=Other Org,C=US"]
    assert pay.signers == ["CN=bob,O=Other Org,C=US"]
    assert pay.quality == "privacy"
    assert policies.get("PAY.AUDIT").quality == "integrity" and policies.get("PAY.AUDIT").qmgr == "QM1"
    conf = policies.get("PAY.CONF")
    assert conf.quality == "confidentiality" and conf.key_reuse_count == 100
    assert [p.severity for p in validate(policies)] == []


def test_placeholder_without_qmgr_stays_open() -> None:
    assert parse_policies(SETMQSPL).get("PAY.IN").qmgr is None


def test_dspmqspl_output() -> None:
    policies = parse_policies(DSPMQSPL)
    assert list(policies.policies) == ["PROT", "PROT2"]
    assert policies.get("PROT").recipients == ["CN=Name, O=Organization, C=Country"]
    assert policies.get("PROT").signers == []
    assert policies.get("PROT2").quality == "confidentiality" and policies.get("PROT2").key_reuse_count == 100


def test_display_policy_output() -> None:
    policy = parse_policies(DISPLAY).get("MY.Q")
    assert policy.signers == ["CN=bob,O=IBM,C=US"]
    assert policy.recipients == ["CN=alice,O=IBM,C=US", "CN=carol smith,O=IBM,C=US"]
    assert not policy.tolerates and policy.key_reuse_count == 0


def test_mqsc_set_policy_add_delete_and_upper_casing() -> None:
    policies = parse_policies(MQSC, source="pay.mqsc")
    pay = policies.get("PAY.MQSC")
    assert pay.recipients == ["CN=alice,O=MyOrg,C=GB", "CN=bob,O=MyOrg"]
    assert pay.signers == ["CN=O'Brien,O=MyOrg"] and pay.tolerates
    lower = policies.get("LOWER.Q")  # MQSC upper-cases what is not quoted
    assert lower.signers == ["CN=X,O=Y"]
    messages = [p.message for p in validate(policies)]
    assert any("MQSC upper-cases it to CN=X,O=Y" in m for m in messages)
    assert any("deletes a policy this file has not defined" in m for m in messages)


@pytest.mark.parametrize(("line", "fragment"), [
    ("setmqspl -m Q -p P -s sha256", "-s sha256 is not one of"),
    ("setmqspl -m Q -p P -s SHA256 -e AES256", "without a recipient"),
    ("setmqspl -m Q -p P -s SHA256 -r CN=a", "recipients (-r) without an encryption algorithm"),
    ("setmqspl -m Q -p P -a CN=a", "signers (-a) without a signature algorithm"),
    ("setmqspl -m Q -p P -s SHA256 -t 2", "toleration is 0 or 1"),
    ("setmqspl -m Q -p P -s NONE -e AES256 -r CN=a -c 10000000", "key reuse is 0"),
    ("setmqspl -m Q -p P -s SHA256 -e AES256 -r CN=a -c 5", "key reuse applies only to confidentiality"),
    ("setmqspl -m Q -p P -s MD5", "MD5 is deprecated"),
    ("setmqspl -m Q -p P -s SHA256 -e 3DES -r CN=a", "3DES is deprecated"),
    ("setmqspl -m Q -p P -s SHA256 -e RC2 -r CN=a", "RC2 is deprecated"),
    ("setmqspl -m Q -p P -s SHA256 -e DES -r CN=a", "DES is deprecated"),
    ("setmqspl -m Q -p P -s SHA1", "SHA1 is deprecated"),
    ("setmqspl -m Q -p P -s SHA256 -e AES256 -r cn=a,o=b", "attribute names must be upper case (cn, o)"),
    ("setmqspl -m Q -p P -s SHA256 -e AES256 -r 'CN=a;O=b'", "separated by ';'"),
    ("setmqspl -m Q -p P -s SHA256 -a CN=a -a CN=a", "is given twice"),
    ("setmqspl -m Q -p BAD@NAME -s SHA256", "is not an MQ queue name"),
    ("setmqspl -m Q -p P", "neither signs nor encrypts"),
    ("setmqspl -m Q -p P -s SHA256 -t 1", "tolerates unprotected messages"),
    ("setmqspl -p P -s SHA256", "setmqspl without -m QMGR"),
    ("setmqspl -m Q -p P -s SHA256 -e AES256 -r 'CN=a,BOGUS=b'", "unknown attribute 'BOGUS'"),
])
def test_rules_each_give_a_problem_with_its_line(line: str, fragment: str) -> None:
    problems = validate(parse_policies("# first\n" + line + "\n", source="x.spl"))
    texts = [p.text("x.spl") for p in problems]
    assert any(fragment in t for t in texts), texts
    assert all(t.startswith("x.spl:2: ") for t in texts if fragment in t)


def test_a_second_definition_replaces_the_first() -> None:
    policies = parse_policies("setmqspl -m Q -p P -s SHA256\nsetmqspl -m Q -p P -s SHA512\n")
    assert policies.get("P").sign == "SHA512"
    assert any("replaces the policy defined on line 1" in p.message for p in validate(policies))


def test_remove_drops_the_policy() -> None:
    policies = parse_policies("setmqspl -m Q -p P -s SHA256\nsetmqspl -m Q -p P -remove\n")
    assert policies.policies == {}


@pytest.mark.parametrize(("text", "fragment"), [
    ("setmqspl -m Q -p P -s SHA256 -r 'CN=a", "line 1: setmqspl: No closing quotation"),
    ("setmqspl -m Q -p P -x 1", "unknown flag '-x'"),
    ("setmqspl -m Q -p P -s", "flag -s needs a value"),
    ("setmqspl -m Q -p P -s -e AES256", "flag -s needs a value"),
    ("setmqspl -m Q -s SHA256", "no policy name"),
    ("setmqspl -m Q -p P -p Q", "-p is given twice"),
    ("\n\nhello world", "line 3: not a policy statement"),
    ("SET POLICY SIGNALG(SHA256)", "needs a policy name"),
    ("SET POLICY(P) SIGNALG(SHA256", "SIGNALG( is not closed"),
    ("SET POLICY(P) RECIP('CN=a)", "quote in RECIP(..) is not closed"),
    ("SET POLICY(P) COLOUR(RED)", "unknown or incomplete parameter 'COLOUR'"),
    ("SET POLICY(P) ACTION(MERGE)", "ACTION(MERGE)"),
    ("DEFINE POLICY(P)", "no DEFINE POLICY"),
    ("Policy Details:\nSignature algorithm: SHA256\n", "without 'Policy name:'"),
    ("Policy Details:\nPolicy name: P\nFavourite colour: red\n", "unexpected line"),
    ("POLICY(P) SIGNALG(SHA256) COLOUR(RED)", "unknown attribute 'COLOUR'"),
])
def test_bad_input_names_the_file_and_line(text: str, fragment: str) -> None:
    with pytest.raises(PolicyFileError) as caught:
        parse_policies(text, source="bad.spl")
    message = str(caught.value)
    assert message.startswith("bad.spl: line "), message
    assert fragment in message, message


def test_read_policies_refuses_binary_and_missing(tmp_path) -> None:
    from keystores.errors import StoreNotFound

    binary = tmp_path / "x.spl"
    binary.write_bytes(b"setmqspl -m Q -p P\n\xff\xfe")
    with pytest.raises(PolicyFileError, match="line 2: not UTF-8"):
        read_policies(binary)
    with pytest.raises(StoreNotFound):
        read_policies(tmp_path / "missing.spl")


@pytest.mark.parametrize("form", ["setmqspl", "mqsc", "dspmqspl"])
def test_render_reads_back_the_same(form: str) -> None:
    original = parse_policies(SETMQSPL + MQSC + DISPLAY, qmgr="QMA")
    text = render(original, form, qmgr="QMB")
    again = parse_policies(text, qmgr="QMB")
    def fields(policies):
        return {n: (p.sign_algorithm, p.encrypt_algorithm, p.recipients, p.signers, p.tolerates, p.key_reuse_count)
                for n, p in policies.policies.items()}
    assert fields(again) == fields(original)
    if form == "setmqspl":
        assert all(line.startswith("setmqspl -m QMB -p ") for line in text.splitlines())


def test_render_setmqspl_quotes_for_the_shell() -> None:
    policies = parse_policies("""setmqspl -m Q -p P -s SHA256 -a 'CN=a "b" $HOME,O=x' -a 'CN=c "d",O=x'\n""")
    text = render(policies, "setmqspl")
    assert "-a 'CN=a \"b\" $HOME,O=x' -a \"CN=c \\\"d\\\",O=x\"" in text
    assert parse_policies(text).get("P").signers == ['CN=a "b" $HOME,O=x', 'CN=c "d",O=x']
    import subprocess  # the shell reads it the same way

    echoed = subprocess.run(["sh", "-c", "printf '%s\\n' " + text.split("-a ", 1)[1]], capture_output=True,
                            text=True, check=True).stdout
    assert echoed.splitlines() == ['CN=a "b" $HOME,O=x', "-a", 'CN=c "d",O=x']


def test_render_json_schema() -> None:
    data = json.loads(render(parse_policies(SETMQSPL), "json", qmgr="QM9"))
    assert data["schema"] == 1 and data["qmgr"] == "QM9"
    first = data["policies"][0]
    assert first == {"name": "PAY.IN", "quality_of_protection": "privacy", "signature_algorithm": "SHA256",
                     "encryption_algorithm": "AES256",
                     "recipients": ["CN=alice, O=MyOrg, C=GB", "CN=bob,O=Other Org,C=US"],
                     "signers": ["CN=bob,O=Other Org,C=US"], "tolerate": False, "key_reuse": 0, "line": 2}
