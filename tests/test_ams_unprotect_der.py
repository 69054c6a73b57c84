"""`ams unprotect` reads the messages it meets most with keystores.ams.cms_der instead of asn1crypto's cms module
(issue 15, start-up in a user install). Held here to the asn1crypto reading unprotect did before (its flow kept
below as the reference, over rehearse's asn1crypto readers): the same message, signer, cipher and notes, or the
same refusal or error word for word, for protect's messages under every hash and cipher, several recipients,
openssl's DER and S/MIME, names only asn1crypto compares, and every truncation and flipped byte of them."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from ams_material import AT, make_cert, org_ca, person, rsa_key
from cryptography.hazmat.primitives import serialization

from keystores.ams import dnmatch
from keystores.ams.doctor import validation_problem
from keystores.ams.policy import parse_policies
from keystores.ams.rehearse import (
    _DECODING_ERRORS,
    MessageRefused,
    Unprotected,
    _open_envelope,
    _read_lean,
    _verify,
    load_message,
    protect,
    unprotect,
)
from keystores.errors import CorruptStore, KeystoreError, UsageError
from keystores.model import private_key_decrypter, private_key_signer

MESSAGE = b"PAYMENT 0042: 1,000.00 GBP to bob\x00\xff binary tail"


def _reference(data, policy, decrypter, own_cert, trusted, when) -> Unprotected:
    """unprotect as it read every message with asn1crypto (the code before this change)."""
    try:
        info = load_message(data)
        result = Unprotected(b"")
        kind = info["content_type"].native
        if policy.encrypts:
            if kind != "enveloped_data":
                raise MessageRefused(f"policy {policy.name} expects an encrypted message; this is {kind}")
            if decrypter is None or own_cert is None:
                raise UsageError("the getter's key and certificate are needed to decrypt")
            content, result.encrypted_with = _open_envelope(info["content"], decrypter, own_cert)
            if policy.signs:
                info = load_message(content)
                kind = info["content_type"].native
            else:
                result.message = content
                return result
        elif kind == "enveloped_data":
            raise MessageRefused(f"policy {policy.name} does not encrypt, yet the message is encrypted")
        if kind != "signed_data":
            raise MessageRefused(f"policy {policy.name} expects a signed message; this is {kind}")
        result.message, signer_cert = _verify(info["content"])
        result.signer = dnmatch.certificate_dn(signer_cert)
        if policy.signers and not any(dnmatch.matches(dn, signer_cert) for dn in policy.signers):
            raise MessageRefused(f"the signer {result.signer} is not among the accepted signers {policy.signers}")
        why = validation_problem(signer_cert, trusted, when)
        if why:
            raise MessageRefused(f"the signer {result.signer} cannot be validated: {why}")
        return result
    except CorruptStore:
        if policy.tolerates:
            return Unprotected(data, notes=[f"not protected: accepted because policy {policy.name} tolerates "
                                            "unprotected messages (-t 1)"])
        raise
    except _DECODING_ERRORS as exc:
        raise CorruptStore(f"not a CMS message, or a damaged one ({type(exc).__name__}: {exc})") from exc


def _outcome(read, data, policy, own) -> object:
    bob_key, _ = person("bob", "Other")
    try:
        got = read(data, policy, private_key_decrypter(bob_key), own, [org_ca("MyOrg")[1]], AT)
    except KeystoreError as exc:
        return type(exc).__name__, str(exc)
    return got.message, got.signer, got.encrypted_with, got.notes


def _ours(data, policy, decrypter, own_cert, trusted, when) -> Unprotected:
    return unprotect(data, policy, decrypter=decrypter, own_cert=own_cert, trusted=trusted, at=when)


def _same(data: bytes, policy_line: str, *, own=None) -> None:
    policy = parse_policies(f"setmqspl -m Q -p P {policy_line}").get("P")
    own = own or person("bob", "Other")[1]
    assert _outcome(_ours, data, policy, own) == _outcome(_reference, data, policy, own), policy_line


def _protected(policy_line: str, recipients=None, signer=("alice", "MyOrg")) -> bytes:
    key, cert = person(*signer)
    policy = parse_policies(f"setmqspl -m Q -p P {policy_line}").get("P")
    return protect(MESSAGE, policy, signer=private_key_signer(key), signer_cert=cert,
                   recipients=recipients if recipients is not None else [person("bob", "Other")[1]], at=AT)


BOB = "-r 'CN=bob,O=Other,C=GB'"
LINES = [f"-s {h}" for h in ("MD5", "SHA1", "SHA256", "SHA384", "SHA512")] + \
        [f"-s SHA256 -e {c} {BOB}" for c in ("AES128", "AES256", "3DES", "DES", "RC2")] + [f"-e AES256 {BOB}"]


@pytest.mark.parametrize("line", LINES)
def test_protects_messages_read_as_asn1crypto_read_them(line: str) -> None:
    good = _protected(line)
    assert _read_lean(good) is not None  # read by cms_der, not asn1crypto
    for policy_line in (line, "-s SHA256", f"-s SHA256 -e AES256 {BOB}", f"-e AES128 {BOB}",
                        "-s SHA256 -a 'CN=carol,O=MyOrg,C=GB'", "-s SHA256 -t 1"):
        _same(good, policy_line)
    _same(good, line, own=person("carol", "Other")[1])  # not a recipient


@pytest.mark.parametrize("line", [f"-s SHA256 -e AES256 {BOB}", "-s SHA512"])
def test_damaged_messages_are_refused_word_for_word(line: str) -> None:
    good = _protected(line)
    for damaged in [good[:cut] for cut in range(0, len(good), 7)] + \
                   [good[:i] + bytes([good[i] ^ flip]) + good[i + 1:] for flip in (0x01, 0x80, 0x5A)
                    for i in range(0, len(good), 2)]:
        _same(damaged, line)


def test_several_recipients_and_names_only_asn1crypto_compares() -> None:
    bob, carol = person("bob", "Other")[1], person("carol", "Other")[1]
    for recipients in ([bob, carol], [carol, bob]):
        _same(_protected(f"-s SHA256 -e AES256 {BOB}", recipients), f"-s SHA256 -e AES256 {BOB}")
    # the same serial under an issuer spelled in another case: asn1crypto calls the names equal
    other_ca = make_cert(rsa_key("ca-Other"), "CN=OTHER CA,O=Other", usage=("key_cert_sign",), ca=True)
    twin = make_cert(rsa_key("bob-twin"), "CN=bob,O=Other,C=GB", issuer=(rsa_key("ca-Other"), other_ca),
                     serial=bob.serial_number)
    for recipients in ([twin], [twin, bob]):
        data = _protected(f"-e AES256 {BOB}", recipients)
        _same(data, f"-e AES256 {BOB}")
    _same(_protected("-s SHA256", signer=("alice", "MyOrg")), "-s SHA256", own=twin)


def test_openssl_messages_read_as_asn1crypto_read_them(tmp_path) -> None:
    alice_key, alice = person("alice", "MyOrg")
    _, bob = person("bob", "Other")

    def pem(name, obj) -> str:
        path = tmp_path / f"{name}.pem"
        path.write_bytes(obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()) if hasattr(obj, "private_bytes")
                         else obj.public_bytes(serialization.Encoding.PEM))
        return str(path)

    def openssl(*args: str, data: bytes) -> bytes:
        return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout

    signed = openssl("cms", "-sign", "-nodetach", "-binary", "-md", "sha256", "-signer", pem("alice", alice),
                     "-inkey", pem("alice-key", alice_key), "-outform", "DER", data=MESSAGE)
    assert _read_lean(signed) is not None
    for made in (signed, openssl("cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", pem("bob", bob),
                                 data=signed),
                 openssl("cms", "-encrypt", "-binary", "-aes128", pem("bob", bob), data=signed),  # S/MIME
                 openssl("cms", "-sign", "-binary", "-md", "sha256", "-signer", pem("alice", alice),
                         "-inkey", pem("alice-key", alice_key), "-outform", "PEM", "-nodetach", data=MESSAGE)):
        for line in ("-s SHA256", f"-s SHA256 -e AES256 {BOB}", f"-s SHA256 -e AES128 {BOB}"):
            _same(made, line)


def test_at_a_later_time_the_same_refusals() -> None:
    good = _protected(f"-s SHA256 -e AES256 {BOB}")
    policy = parse_policies(f"setmqspl -m Q -p P -s SHA256 -e AES256 {BOB}").get("P")
    bob_key, bob = person("bob", "Other")
    later = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    outcomes = []
    for read in (_ours, _reference):
        try:
            read(good, policy, private_key_decrypter(bob_key), bob, [org_ca("MyOrg")[1]], later)
        except KeystoreError as exc:
            outcomes.append(str(exc))
    assert len(outcomes) == 2 and outcomes[0] == outcomes[1] and "expired" in outcomes[0]
