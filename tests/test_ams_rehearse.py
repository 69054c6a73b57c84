"""`keystores ams protect/unprotect`: RFC 5652 SignedData/EnvelopedData judged by openssl cms both ways, with RSA
keys in files and on a SoftHSM token (signing and decryption on the token), and every refusal AMS's getter makes."""

from __future__ import annotations

import subprocess

import pytest
from ams_material import AT, POLICY_TEXT, cert_entry, conf_for, key_entry, make_store, org_ca, person
from clirun import keystores
from cryptography.hazmat.primitives import serialization

from keystores.ams.policy import parse_policies
from keystores.ams.rehearse import MessageRefused, protect, unprotect
from keystores.model import private_key_decrypter, private_key_signer
from keystores.store import open_store
from softhsm import softhsm, softhsm_token  # noqa: F401  (pytest fixtures)

pytestmark = pytest.mark.interop
ATS = AT.isoformat()
EPOCH = str(int(AT.timestamp()))
MESSAGE = b"PAYMENT 0042: 1,000.00 GBP to bob\x00\xff binary tail"


def _pem(tmp_path, name: str, obj) -> str:
    path = tmp_path / f"{name}.pem"
    if hasattr(obj, "private_bytes"):
        path.write_bytes(obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    else:
        path.write_bytes(obj.public_bytes(serialization.Encoding.PEM))
    return str(path)


def _openssl(*args: str, data: bytes | None = None) -> bytes:
    done = subprocess.run(["openssl", *args], capture_output=True, input=data, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


@pytest.fixture(params=["files", "token"])
def ends(request, tmp_path, softhsm):  # noqa: F811
    """(putter conf, getter conf, env): alice puts from a JKS or the token, bob gets from a CMS .kdb or the token."""
    alice_key, alice = person("alice", "MyOrg")
    bob_key, bob = person("bob", "Other")
    putter_entries = [key_entry("alice", alice_key, alice, "MyOrg"), cert_entry("bob", bob)]
    getter_entries = [key_entry("bob", bob_key, bob, "Other"), cert_entry("myorg-ca", org_ca("MyOrg")[1])]
    if request.param == "token":
        putter_token, getter_token = softhsm.make_token(), softhsm.make_token()
        make_store("", "pkcs11", putter_entries, token=putter_token)
        make_store("", "pkcs11", getter_entries, token=getter_token)
        return (conf_for(tmp_path, "pkcs11", "", "alice", token=putter_token),
                conf_for(tmp_path, "pkcs11", "", "bob", token=getter_token), putter_token.env)
    putter = make_store(str(tmp_path / "alice.jks"), "jks", putter_entries)
    getter = make_store(str(tmp_path / "bob.kdb"), "cms", getter_entries)
    return conf_for(tmp_path, "jks", putter, "alice"), conf_for(tmp_path, "cms", getter, "bob"), None


def _policies(tmp_path, text: str = POLICY_TEXT):
    path = tmp_path / "pay.spl"
    path.write_text(text)
    return str(path)


def test_token_keys_stay_on_the_token(ends) -> None:
    putter, getter, env = ends
    on_token = env is not None  # the token variant; files hold their keys in the file
    with open_store(f"ams:{putter}") as opened:
        assert opened.get("alice").on_token is on_token
    with open_store(f"ams:{getter}") as opened:
        assert opened.get("bob").on_token is on_token


def test_protect_is_read_by_openssl(tmp_path, ends) -> None:
    putter, _, env = ends
    message = tmp_path / "msg.bin"
    message.write_bytes(MESSAGE)
    out = tmp_path / "msg.p7m"
    done = keystores("ams", "protect", "--policies", _policies(tmp_path), "--policy", "PAY.IN", "--putter",
                     str(putter), "-i", str(message), "-o", str(out), "--at", ATS, env=env)
    assert done.code == 0, done.err
    assert "privacy, SHA256, AES256 for 1 recipient" in done.err
    bob_key, bob = person("bob", "Other")
    inner = _openssl("cms", "-decrypt", "-inform", "DER", "-in", str(out), "-recip", _pem(tmp_path, "bob", bob),
                     "-inkey", _pem(tmp_path, "bob-key", bob_key), "-binary")
    verified = _openssl("cms", "-verify", "-inform", "DER", "-binary", "-CAfile",
                        _pem(tmp_path, "ca", org_ca("MyOrg")[1]), "-attime", EPOCH, data=inner)
    assert verified == MESSAGE


def test_unprotect_reads_openssl(tmp_path, ends) -> None:
    _, getter, env = ends
    alice_key, alice = person("alice", "MyOrg")
    _, bob = person("bob", "Other")
    signed = _openssl("cms", "-sign", "-nodetach", "-binary", "-md", "sha256", "-signer",
                      _pem(tmp_path, "alice", alice), "-inkey", _pem(tmp_path, "alice-key", alice_key),
                      "-outform", "DER", data=MESSAGE)
    enveloped = tmp_path / "in.p7m"
    enveloped.write_bytes(_openssl("cms", "-encrypt", "-binary", "-aes256", "-outform", "DER",
                                   _pem(tmp_path, "bob", bob), data=signed))
    out = tmp_path / "msg.out"
    done = keystores("ams", "unprotect", "--policies", _policies(tmp_path), "--policy", "PAY.IN", "--getter",
                     str(getter), "-i", str(enveloped), "-o", str(out), "--at", ATS, env=env)
    assert done.code == 0, done.err
    assert out.read_bytes() == MESSAGE
    assert "decrypted (AES256); signed by CN=alice,O=MyOrg,C=GB, accepted" in done.err
    # S/MIME (openssl's default output) reads too
    smime = tmp_path / "in.smime"
    smime.write_bytes(_openssl("cms", "-encrypt", "-binary", "-aes128", _pem(tmp_path, "bob", bob), data=signed))
    done = keystores("ams", "unprotect", "--policies", _policies(tmp_path), "--policy", "PAY.IN", "--getter",
                     str(getter), "-i", str(smime), "-o", str(out), "--at", ATS, env=env)
    assert done.code == 0 and out.read_bytes() == MESSAGE, done.err


def test_round_trip_through_both_ends(tmp_path, ends) -> None:
    putter, getter, env = ends
    policies = _policies(tmp_path)
    protected = tmp_path / "m.p7m"
    assert keystores("ams", "protect", "--policies", policies, "--policy", "PAY.IN", "--putter", str(putter),
                     "-o", str(protected), "--at", ATS, stdin="hello bob", env=env).code == 0
    done = keystores("ams", "unprotect", "--policies", policies, "--policy", "PAY.IN", "--getter", str(getter),
                     "-i", str(protected), "--at", ATS, env=env)
    assert done.code == 0 and done.out == "hello bob", done.err


@pytest.mark.parametrize(("line", "cipher"), [
    ("-s SHA512 -e NONE", None),
    ("-s NONE -e AES128 -r 'CN=bob,O=Other,C=GB'", "-aes-128-cbc"),
    ("-s SHA384 -e 3DES -r 'CN=bob,O=Other,C=GB'", "-des-ede3-cbc"),
])
def test_each_quality_of_protection_reaches_openssl(tmp_path, line: str, cipher: str | None) -> None:
    alice_key, alice = person("alice", "MyOrg")
    bob_key, bob = person("bob", "Other")
    policy = parse_policies(f"setmqspl -m Q -p P {line}").get("P")
    made = protect(MESSAGE, policy, signer=private_key_signer(alice_key), signer_cert=alice, recipients=[bob],
                   at=AT)
    if policy.encrypts:
        plain = _openssl("cms", "-decrypt", "-inform", "DER", "-recip", _pem(tmp_path, "bob", bob), "-inkey",
                         _pem(tmp_path, "bob-key", bob_key), "-binary", data=made)
    else:
        plain = made
    if policy.signs:
        plain = _openssl("cms", "-verify", "-inform", "DER", "-binary", "-CAfile",
                         _pem(tmp_path, "ca", org_ca("MyOrg")[1]), "-attime", EPOCH, data=plain)
    assert plain == MESSAGE
    back = unprotect(made, policy, decrypter=private_key_decrypter(bob_key), own_cert=bob,
                     trusted=[org_ca("MyOrg")[1]], at=AT)
    assert back.message == MESSAGE


@pytest.mark.parametrize("cipher", ["DES", "RC2", "AES256"])
def test_every_ams_cipher_round_trips(cipher: str) -> None:
    bob_key, bob = person("bob", "Other")
    policy = parse_policies(f"setmqspl -m Q -p P -e {cipher} -r 'CN=bob,O=Other,C=GB'").get("P")
    made = protect(MESSAGE, policy, signer=None, signer_cert=None, recipients=[bob], at=AT)
    back = unprotect(made, policy, decrypter=private_key_decrypter(bob_key), own_cert=bob, trusted=[], at=AT)
    assert back.message == MESSAGE and back.encrypted_with == cipher


def _signed_by_alice(policy_line: str = "-s SHA256"):
    alice_key, alice = person("alice", "MyOrg")
    policy = parse_policies(f"setmqspl -m Q -p P {policy_line}").get("P")
    return protect(MESSAGE, policy, signer=private_key_signer(alice_key), signer_cert=alice, recipients=[], at=AT)


@pytest.mark.parametrize(("policy_line", "data", "trusted", "fragment"), [
    ("-s SHA256 -a 'CN=carol,O=MyOrg,C=GB'", "signed", True, "is not among the accepted signers"),
    ("-s SHA256", "signed", False, "cannot be validated"),
    ("-s SHA256", "tampered", True, "bad signature"),
    ("-s SHA256 -e AES256 -r 'CN=bob,O=Other,C=GB'", "signed", True, "expects an encrypted message"),
    ("-s SHA256 -e AES256 -r 'CN=bob,O=Other,C=GB'", "for-carol", True, "not a recipient"),
])
def test_refusals(policy_line: str, data: str, trusted: bool, fragment: str) -> None:
    bob_key, bob = person("bob", "Other")
    policy = parse_policies(f"setmqspl -m Q -p P {policy_line}").get("P")
    message = _signed_by_alice()
    if data == "tampered":
        message = message.replace(b"1,000.00", b"9,000.00")
    elif data == "for-carol":
        message = protect(MESSAGE, policy, signer=private_key_signer(person("alice", "MyOrg")[0]),
                          signer_cert=person("alice", "MyOrg")[1], recipients=[person("carol", "Other")[1]], at=AT)
    with pytest.raises(MessageRefused, match=fragment):
        unprotect(message, policy, decrypter=private_key_decrypter(bob_key), own_cert=bob,
                  trusted=[org_ca("MyOrg")[1]] if trusted else [], at=AT)


def test_refusal_exits_5_and_damage_is_one_line(tmp_path, ends) -> None:
    _, getter, env = ends
    signed = tmp_path / "signed.p7m"
    signed.write_bytes(_signed_by_alice())
    refused = keystores("ams", "unprotect", "--policies", _policies(tmp_path), "--policy", "PAY.IN", "--getter",
                        str(getter), "-i", str(signed), "--at", ATS, env=env)
    assert refused.code == 5 and "expects an encrypted message" in refused.err
    damaged = tmp_path / "damaged.p7m"
    damaged.write_bytes(b"\x30\x82\x10\x00garbage")
    done = keystores("ams", "unprotect", "--policies", _policies(tmp_path), "--policy", "PAY.IN", "--getter",
                     str(getter), "-i", str(damaged), "--at", ATS, env=env)
    assert done.code == 1 and "not a CMS message" in done.err and "Traceback" not in done.err


def test_help_says_it_is_not_the_on_queue_format() -> None:
    for command in ("protect", "unprotect"):
        done = keystores("ams", command, "--help")
        assert "not AMS's on-queue format" in " ".join(done.out.split())


@pytest.mark.parametrize("policy_line", ["-s SHA256", "-s SHA256 -e AES256 -r 'CN=bob,O=Other,C=GB'"])
def test_damaged_messages_are_refused_by_name(policy_line: str) -> None:
    """Every truncation and a flipped bit at every 7th byte: a keystores error (refused or not CMS), never another
    exception, and never a different message accepted."""
    from keystores.errors import KeystoreError

    alice_key, alice = person("alice", "MyOrg")
    bob_key, bob = person("bob", "Other")
    policy = parse_policies(f"setmqspl -m Q -p P {policy_line}").get("P")
    good = protect(MESSAGE, policy, signer=private_key_signer(alice_key), signer_cert=alice, recipients=[bob],
                   at=AT)
    variants = [good[:cut] for cut in range(0, len(good), 11)]
    variants += [good[:i] + bytes([good[i] ^ 0x01]) + good[i + 1:] for i in range(0, len(good), 7)]
    for damaged in variants:
        try:
            back = unprotect(damaged, policy, decrypter=private_key_decrypter(bob_key), own_cert=bob,
                             trusted=[org_ca("MyOrg")[1]], at=AT)
        except KeystoreError:
            continue
        assert back.message == MESSAGE  # a flip in a part nothing checks (e.g. an unused certificate field)


def test_tolerated_policy_takes_unprotected_messages() -> None:
    _, bob = person("bob", "Other")
    strict = parse_policies("setmqspl -m Q -p P -s SHA256").get("P")
    tolerant = parse_policies("setmqspl -m Q -p P -s SHA256 -t 1").get("P")
    from keystores.errors import CorruptStore

    with pytest.raises(CorruptStore):
        unprotect(b"plain text put without AMS", strict, decrypter=None, own_cert=bob, trusted=[], at=AT)
    back = unprotect(b"plain text put without AMS", tolerant, decrypter=None, own_cert=bob, trusted=[], at=AT)
    assert back.message == b"plain text put without AMS" and "tolerates unprotected messages" in back.notes[0]
    # a protected message is still checked under -t 1
    with pytest.raises(MessageRefused):
        unprotect(_signed_by_alice(), tolerant, decrypter=None, own_cert=bob, trusted=[], at=AT)
