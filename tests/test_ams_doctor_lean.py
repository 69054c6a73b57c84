"""`keystores ams check`, `ams protect` and `ams unprotect` read the certificates of their stores, and a message's
signer, from the DER (keystores.ams.doctor's held_leaf/held_chain: keystores.pki.shown.ShownCertificate) instead of
decoding them with cryptography.x509 (issue 15, start-up in a user install: ~35 ms of CPU of a check). Held to the
decoded path: the same findings (certificate_problems), DNs and validation verdicts for every certificate of the
cryptography-vectors x509/ folder and for chains made here; the CLI imports no cryptography.x509 for JKS and .kdb
ends and prints what it printed."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from ams_material import (
    AT,
    EMAIL,
    SERVER,
    cert_entry,
    conf_for,
    key_entry,
    make_cert,
    make_store,
    org_ca,
    person,
    rsa_key,
)
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from test_shown import vector_certificates

from keystores.ams import dnmatch
from keystores.ams.doctor import _of_one_kind, certificate_problems, validation_problem
from keystores.pki.shown import ShownCertificate, read_shown

USES = ({"sign"}, {"privacy"}, {"confidentiality"}, {"sign", "privacy", "confidentiality"})
TIMES = (AT, dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2060, 1, 1, tzinfo=dt.UTC))


def _shown(cert: x509.Certificate) -> ShownCertificate:
    der = cert.public_bytes(Encoding.DER)
    facts = read_shown(der)
    assert facts is not None
    return ShownCertificate(der, facts)


def _verdicts(cert: object) -> list[object]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found: list[object] = [dnmatch.certificate_dn(cert)]  # type: ignore[arg-type]
        for uses in USES:
            for sign_hash in (None, "SHA512"):
                for at in TIMES:
                    found.append(certificate_problems(cert, uses=uses, sign_hash=sign_hash, at=at))  # type: ignore
    return found


def test_every_vector_certificate_has_the_decoded_paths_findings() -> None:
    certificates = vector_certificates()
    if not certificates:
        pytest.skip("cryptography_vectors is not installed")
    read = 0
    for name, der in certificates:
        facts = read_shown(der)
        if facts is None:
            continue  # left to cryptography: the old path, unchanged
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # cryptography's word on a non-positive serial: the vectors hold some
            decoded = x509.load_der_x509_certificate(der)
        assert _verdicts(ShownCertificate(der, facts)) == _verdicts(decoded), name
        read += 1
    assert read > 100


@pytest.mark.parametrize("options", [
    {}, {"usage": None}, {"usage": ("digital_signature",)}, {"usage": ("content_commitment",)},
    {"usage": ("key_encipherment",)}, {"usage": ("data_encipherment", "key_agreement")}, {"eku": (EMAIL,)},
    {"eku": (SERVER,)}, {"eku": (SERVER, EMAIL)}, {"key": "small"}, {"key": "ec"},
    {"not_after": dt.datetime(2026, 5, 20, tzinfo=dt.UTC)},
], ids=lambda options: ",".join(f"{k}={v}" for k, v in options.items()) or "plain")
def test_ams_certificates_have_the_decoded_paths_findings(options: dict) -> None:
    options = dict(options)
    key = {"small": rsa_key("lean-1024", 1024),
           "ec": ec.generate_private_key(ec.SECP256R1())}.get(options.pop("key", ""), rsa_key("lean-doctor"))
    cert = make_cert(key, "CN=lean,O=MyOrg,C=GB", issuer=org_ca("MyOrg"), **options)
    assert _verdicts(_shown(cert)) == _verdicts(cert)


def _validation(cert: x509.Certificate, pool: list[x509.Certificate], at: dt.datetime) -> tuple[object, object]:
    return (validation_problem(_shown(cert), [_shown(c) for c in pool], at), validation_problem(cert, pool, at))


def test_validation_verdicts_are_the_decoded_paths() -> None:
    _, alice = person("alice", "MyOrg")
    my_ca, other_ca = org_ca("MyOrg")[1], org_ca("Other")[1]
    intermediate_key = rsa_key("lean-intermediate")
    intermediate = make_cert(intermediate_key, "CN=MyOrg Issuing,O=MyOrg", issuer=org_ca("MyOrg"),
                             usage=("key_cert_sign",), ca=True)
    leaf = make_cert(rsa_key("lean-leaf"), "CN=carol,O=MyOrg,C=GB", issuer=(intermediate_key, intermediate))
    for cert, pool, at in ((alice, [my_ca], AT), (alice, [other_ca], AT), (alice, [], AT),
                           (alice, [my_ca], dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
                           (leaf, [intermediate, my_ca], AT), (leaf, [intermediate], AT), (leaf, [my_ca], AT),
                           (my_ca, [my_ca], AT), (my_ca, [], AT)):
        lean, decoded = _validation(cert, pool, at)
        assert lean == decoded, (cert.subject, pool, at)
    # a pool of both kinds is read in cryptography's kind (pki.chain compares names of one kind)
    mixed = _of_one_kind([_shown(alice), my_ca])
    assert mixed == [alice, my_ca] and not any(isinstance(c, ShownCertificate) for c in mixed)
    assert validation_problem(_shown(alice), [my_ca], AT) is None


@pytest.fixture(scope="module")
def ends(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ams-lean")
    alice_key, alice = person("alice", "MyOrg")
    bob_key, bob = person("bob", "Other")
    alice_store = make_store(str(folder / "alice.jks"), "jks", [
        key_entry("alice", alice_key, alice, "MyOrg"), cert_entry("bob", bob)])
    bob_store = make_store(str(folder / "bob.kdb"), "cms", [
        key_entry("bob", bob_key, bob, "Other"), cert_entry("myorgca", org_ca("MyOrg")[1])])
    conf_for(folder, "jks", alice_store, "alice")
    conf_for(folder, "cms", bob_store, "bob")
    (folder / "pay.spl").write_text('setmqspl -m QM1 -p PAY.IN -s SHA256 -e AES256 -r "CN=bob,O=Other,C=GB" '
                                    '-a "CN=alice,O=MyOrg,C=GB"\nsetmqspl -m QM1 -p PAY.OUT -s SHA512\n')
    (folder / "message").write_bytes(b"payment 1")
    return folder


PROBE = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
         "except SystemExit as exc:\n    assert exc.code in (0, 5), exc.code\n"
         "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")


def _run(argv: list[str], cwd: Path) -> tuple[str, list[str]]:
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=False, cwd=cwd,
                          env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    return done.stdout, json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("at", ["2026-06-01", "2028-01-01"])
def test_check_protect_and_unprotect_import_no_x509(ends: Path, at: str) -> None:
    policies = ["--policies", "pay.spl", "--at", at]
    out, loaded = _run(["ams", "check", *policies, "--putter", "alice-jks.conf", "--getter", "bob-cms.conf",
                        "--json"], ends)
    assert "keystores.ams.doctor" in loaded and "cryptography.x509" not in loaded
    report = json.loads(out)
    if at == "2026-06-01":
        assert report["ok"] and report["findings"] == []
        _, loaded = _run(["ams", "protect", *policies, "--policy", "PAY.IN", "--putter", "alice-jks.conf", "-i",
                          "message", "-o", "message.p7m"], ends)
        assert "keystores.ams.rehearse" in loaded and "cryptography.x509" not in loaded
        assert not [m for m in loaded if m.startswith("asn1crypto")]  # its CMS is encoded with crypto.der
        out, loaded = _run(["ams", "unprotect", *policies, "--policy", "PAY.IN", "--getter", "bob-cms.conf", "-i",
                            "message.p7m", "-o", "-"], ends)
        assert out == "payment 1" and "cryptography.x509" not in loaded
        assert not [m for m in loaded if m.startswith("asn1crypto")]  # read with keystores.ams.cms_der
    else:  # every certificate expired: the same findings as the decoded path's, by check and side
        assert not report["ok"]
        assert sorted((f["side"], f["policy"] or "-", f["check"]) for f in report["findings"]) == [
            ("getter", "-", "expired"), ("getter", "PAY.IN", "signer-trust"), ("getter", "PAY.OUT", "signer-trust"),
            ("putter", "-", "expired"), ("putter", "PAY.IN", "expired")]



def test_a_check_in_a_user_install_reads_keystore_conf_without_pathlib(ends: Path,
                                                                        tmp_path_factory: pytest.TempPathFactory
                                                                        ) -> None:
    from user_install import user_install

    installed = user_install(tmp_path_factory.mktemp("user-install"))
    done, loaded = installed.run(["ams", "check", "--policies", "pay.spl", "--at", "2026-06-01", "--putter",
                                  "alice-jks.conf", "--getter", "bob-cms.conf"], cwd=ends)
    assert done.returncode == 0 and done.stdout == "no problems found\n", done.stderr
    assert "keystores.ams.conf" in loaded and not {"pathlib", "cryptography.x509"} & loaded
    assert "cryptography.hazmat.primitives.hashes" not in loaded  # a root is found in the pool by its DER
    # the policies alone: no store is opened, and nothing of the store machinery imported
    done, loaded = installed.run(["ams", "check", "--policies", "pay.spl"], cwd=ends)
    assert done.returncode == 0 and "keystores.ams.doctor" in loaded and "keystores.store" not in loaded
