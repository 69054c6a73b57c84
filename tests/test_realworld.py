"""Issue 11's cases, each on stores the native tools made (fixtures/corpus.py), judged by keytool, openssl and
certutil where they can judge. Entries are independent: one odd entry never makes a store unreadable."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from corpusrun import cli, real_world  # noqa: F401 - real_world is a fixture

from keystores.store import open_store

pytestmark = [pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("keytool") and shutil.which("certutil")),
                                 reason="openssl, keytool and certutil make the corpus"), pytest.mark.interop]
PW = ["-p", "env:CORPUS_PW"]
DEST_PW = ["--dest-password", "env:CORPUS_PW"]


def _entries(*argv: str) -> dict[str, dict]:
    run = cli("list", *argv, "--json")
    assert run.code == 0, run.err
    return {entry["label"]: entry for entry in json.loads(run.out)["entries"]}


def _keytool_list(path, store_type: str) -> dict[str, str]:
    done = subprocess.run(["keytool", "-list", "-keystore", str(path), "-storetype", store_type, "-storepass:env",
                           "CORPUS_PW"], capture_output=True, text=True, check=True)
    return {line.split(",")[0]: line.split(", ")[-2] for line in done.stdout.splitlines() if "Entry," in line}


# 1. DSA certificates from keytool (SHA256withDSA with an explicit NULL parameter) -------------------------------
@pytest.mark.parametrize("store", ["keytool.jks", "keytool.p12"])
def test_keytool_dsa_lists_shows_validates_and_converts(real_world, tmp_path, store):  # noqa: F811
    folder, _ = real_world
    dsa = _entries(str(folder / store), *PW)["dsa"]
    assert dsa["key_type"] == "DSA-2048" and dsa["signature_algorithm"] == "dsa-with-sha256"
    assert dsa["problem"] is None  # read as keytool and openssl read it: nothing is missing
    shown = cli("show", str(folder / store), "dsa", *PW)
    assert shown.code == 0 and "CN=keytool DSA" in shown.out and "warning" not in shown.err
    anchor = tmp_path / "dsa.pem"
    assert cli("export", str(folder / store), "dsa", "-o", str(anchor), *PW).code == 0
    validated = cli("validate", str(folder / store), "dsa", *PW, "--trust", str(anchor))
    assert validated.code == 0, validated.out + validated.err
    out = tmp_path / "dsa.p12"
    assert cli("convert", str(folder / store), str(out), *PW, *DEST_PW).code == 0
    assert _entries(str(out), *PW)["dsa"]["sha256"] == dsa["sha256"]  # the certificate's bytes, as read
    assert _keytool_list(out, "PKCS12")["dsa"] == "PrivateKeyEntry"


# 2. Binary-curve EC ----------------------------------------------------------------------------------------------
def test_binary_curve_certificate_in_a_jks_hides_nothing(real_world):  # noqa: F811
    folder, _ = real_world
    entries = _entries(str(folder / "keytool.jks"), *PW)
    sect = entries["sect193r1 ca"]
    assert sect["key_type"] == "EC-sect193r1" and "1.3.132.0.24" in sect["problem"]
    assert {"rsa", "dsa", "ec-p256", "ed25519", "ed448", "rsassa-pss"} <= set(entries)
    assert all(entries[label]["problem"] is None for label in ("rsa", "ec-p256", "ed448"))
    table = cli("list", str(folder / "keytool.jks"), *PW)
    assert table.code == 0 and "sect193r1 ca\ttrusted-cert" in table.out
    assert "1 entry could not be fully decoded ('sect193r1 ca')" in table.err


def test_binary_curve_key_and_certificate_from_openssl_req_are_one_entry(real_world):  # noqa: F811
    folder, _ = real_world
    (entry,) = _entries(str(folder / "openssl-sect193r1.pem")).values()
    assert entry["kind"] == "key-pair" and entry["key_type"] == "EC-sect193r1" and entry["problem"]


def test_binary_curve_key_pair_carried_to_jks_and_back(real_world, tmp_path):  # noqa: F811
    folder, _ = real_world
    source = folder / "openssl-sect193r1.p12"
    jks, back = tmp_path / "sect.jks", tmp_path / "back.p12"
    assert cli("convert", str(source), str(jks), *PW, *DEST_PW).code == 0
    assert _keytool_list(jks, "JKS") == {"corpus": "PrivateKeyEntry"}
    assert cli("convert", str(jks), str(back), *PW, *DEST_PW).code == 0
    key = subprocess.run(f"openssl pkcs12 -in {back} -nodes -passin env:CORPUS_PW | openssl pkey -noout -text",
                         shell=True, capture_output=True, text=True, check=True).stdout
    assert "sect193r1" in key
    refused = cli("convert", str(source), f"sql:{tmp_path / 'db'}", *PW, *DEST_PW)
    assert refused.code == 1 and "'corpus'" in refused.err and not (tmp_path / "db").exists()


# 3. Algorithms cryptography does not know (or knows under another name) -------------------------------------------
def test_ed448_rsassa_pss_and_unknown_algorithms_are_named(real_world):  # noqa: F811
    folder, _ = real_world
    entries = _entries(str(folder / "keytool.p12"), *PW)
    assert entries["ed448"]["key_type"] == "Ed448" and entries["ed25519"]["key_type"] == "Ed25519"
    assert entries["rsassa-pss"]["key_type"] == "RSASSA-PSS-2048"
    # (an unknown key algorithm OID: tests/backend_suite.py, for every backend)


# 4. A duplicated extension ----------------------------------------------------------------------------------------
def test_duplicated_extension_lists_with_its_problem(real_world):  # noqa: F811
    folder, _ = real_world
    path = str(folder / "vectors/x509/custom/two_basic_constraints.pem")
    run = cli("list", path)
    assert run.code == 0 and "internal error" not in run.err
    (entry,) = _entries(path).values()
    assert entry["subject"] and "duplicated extension" in entry["problem"]
    shown = cli("show", path, entry["label"])
    assert shown.code == 0 and "problem: duplicated extension" in shown.out


# 5. NSS with a DSA key ------------------------------------------------------------------------------------------
def test_nss_dsa_key_lists_in_json_and_converts(real_world, tmp_path):  # noqa: F811
    folder, _ = real_world
    entries = _entries(f"sql:{folder / 'nssdb'}", *PW)
    assert entries["nss dsa"]["kind"] == "key-pair" and entries["nss dsa"]["key_type"] == "DSA-2048"
    assert entries["untrusted sect"]["problem"] and entries["trusted ca"]["trust"]["native"] == "CT,C,C"


# 6. Java secret keys in PKCS#12 ----------------------------------------------------------------------------------
def test_java_secret_keys_in_pkcs12_list_and_travel_to_jceks_and_back(real_world, tmp_path):  # noqa: F811
    folder, _ = real_world
    source = folder / "keytool.p12"
    entries = _entries(str(source), *PW)
    assert entries["aes"]["kind"] == "secret-key" and entries["hmac"]["kind"] == "secret-key"
    jceks, back = tmp_path / "s.jceks", tmp_path / "back.p12"
    assert cli("convert", str(source), str(jceks), *PW, *DEST_PW).code == 0
    assert cli("convert", str(jceks), str(back), *PW, *DEST_PW).code == 0
    assert _keytool_list(jceks, "JCEKS")["aes"] == "SecretKeyEntry"
    assert _keytool_list(back, "PKCS12")["hmac"] == "SecretKeyEntry"
    # keytool opens what we wrote: it copies our PKCS#12 secret keys into a JCEKS of its own
    judged = tmp_path / "keytool.jceks"
    subprocess.run(["keytool", "-importkeystore", "-srckeystore", str(back), "-srcstoretype", "PKCS12",
                    "-srcstorepass:env", "CORPUS_PW", "-destkeystore", str(judged), "-deststoretype", "JCEKS",
                    "-deststorepass:env", "CORPUS_PW", "-destkeypass:env", "CORPUS_PW", "-noprompt"],
                   capture_output=True, check=True)
    with open_store(source, password="changeit") as original, open_store(judged, password="changeit") as copied:
        for label in ("aes", "hmac"):
            assert copied.get(label).secret == original.get(label).secret
    refused = cli("convert", str(source), str(tmp_path / "no.jks"), *PW, *DEST_PW)
    assert refused.code == 1 and "'aes'" in refused.err and "'hmac'" in refused.err
    assert "; --skip-unreadable writes the others" in refused.err and "skip_unreadable=" not in refused.err
    assert not (tmp_path / "no.jks").exists()
    skipped = cli("convert", str(source), str(tmp_path / "yes.jks"), *PW, *DEST_PW, "--skip-unreadable")
    assert skipped.code == 0 and "left out 'aes'" in skipped.err
    assert "aes" not in _keytool_list(tmp_path / "yes.jks", "JKS") and "rsa" in _keytool_list(tmp_path / "yes.jks",
                                                                                               "JKS")
    before = (tmp_path / "yes.jks").read_bytes()
    imported = cli("import", str(source), str(tmp_path / "yes.jks"), *PW, *DEST_PW, "--replace")
    assert imported.code == 1 and "'hmac'" in imported.err and (tmp_path / "yes.jks").read_bytes() == before
    imported = cli("import", str(source), str(tmp_path / "yes.jks"), *PW, *DEST_PW, "--replace", "--skip-unreadable")
    assert imported.code == 0 and "left out 'hmac'" in imported.err


# 7. Keys without a certificate --------------------------------------------------------------------------------
def test_key_without_certificate_goes_where_bare_keys_live(real_world, tmp_path):  # noqa: F811
    folder, _ = real_world
    source = str(folder / "vectors/pkcs12/no-cert-key-aes256cbc.p12")
    password = ["-p", "env:CORPUS_VECTORS_PW"]
    for dest in ("bare.p12", "bare.pem"):
        assert cli("convert", source, str(tmp_path / dest), *password, *DEST_PW).code == 0
    keys = subprocess.run(["openssl", "pkcs12", "-in", str(tmp_path / "bare.p12"), "-nodes", "-passin",
                           "env:CORPUS_PW"], capture_output=True, text=True, check=True).stdout
    assert keys.count("BEGIN PRIVATE KEY") == 1
    assert cli("convert", source, f"sql:{tmp_path / 'db'}", *password, *DEST_PW).code == 0
    orphans = subprocess.run(["certutil", "-K", "-d", f"sql:{tmp_path / 'db'}", "-f", "/dev/stdin"],
                             input="changeit\n", capture_output=True, text=True, check=False).stdout
    assert " ec " in orphans
    for dest in ("bare.jks", "bare.kdb"):
        refused = cli("convert", source, str(tmp_path / dest), *password, *DEST_PW)
        assert refused.code == 1 and "certificate" in refused.err and not (tmp_path / dest).exists()


# 8. PKCS#12 written by old NSS ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["TestOldCA", "TestOldAES128CA"])
def test_old_nss_pkcs12_keys_open_as_pk12util_opens_them(shared_vectors, tmp_path, monkeypatch, name):
    monkeypatch.setenv("NSS_PW", "nss")
    source = shared_vectors / "pkcs12-nss-quirks" / f"{name}.p12"
    out = tmp_path / "out.p12"
    run = cli("convert", str(source), str(out), "-p", "env:NSS_PW", "--dest-password", "env:NSS_PW")
    assert run.code == 0, run.err
    keys = subprocess.run(["openssl", "pkcs12", "-in", str(out), "-nodes", "-passin", "env:NSS_PW"],
                          capture_output=True, text=True, check=True).stdout
    assert keys.count("BEGIN PRIVATE KEY") == 1 and f"friendlyName: {name}" in keys


# 9. PEM with one malformed block among good ones ----------------------------------------------------------------
def test_pem_with_a_malformed_block_reads_the_good_ones_and_says_which(real_world):  # noqa: F811
    folder, _ = real_world
    path = str(folder / "openssl-mixed-bad-block.pem")
    run = cli("list", path)
    assert run.code == 0 and run.out.count("trusted-cert") == 2
    assert "skipped the CERTIFICATE block at line" in run.err and "not a valid certificate" in run.err


# 10. JKS/JCEKS without a password -------------------------------------------------------------------------------
@pytest.mark.parametrize("store", ["keytool.jks", "keytool.jceks"])
def test_java_store_without_password_lists_unchecked(real_world, tmp_path, store):  # noqa: F811
    folder, _ = real_world
    run = cli("list", str(folder / store))
    assert run.code == 0 and "sect193r1 ca" in run.out and "integrity" in run.err and "not checked" in run.err
    needs = cli("export", str(folder / store), "rsa", "--key", "-o", str(tmp_path / "k.pem"))
    assert needs.code == 3 and not (tmp_path / "k.pem").exists()


# 11. JKS: damaged, told apart from a wrong password -------------------------------------------------------------
def test_jks_flipped_byte_is_damage_when_a_key_proves_the_password(real_world, tmp_path):  # noqa: F811
    folder, _ = real_world
    data = bytearray((folder / "keytool.jks").read_bytes())
    data[len(data) - 200] ^= 0x01  # inside the last certificate, not a key
    flipped = tmp_path / "flipped.jks"
    flipped.write_bytes(bytes(data))
    run = cli("list", str(flipped), *PW)
    assert run.code == 1 and "damaged" in run.err
    wrong = cli("list", str(folder / "keytool.jks"), "-p", "env:CORPUS_VECTORS_PW")
    assert wrong.code == 3
