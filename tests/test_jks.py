"""JKS and JCEKS: the shared contract for both formats, and interop judged by keytool and by Java itself.

keytool calls are slow (~0.5 s each), so stores are made and checked in session-scoped fixtures: keytool makes one
JKS and one JCEKS (several keys, a trusted certificate, an AES secret key), we write one of each, and one run of a
small Java program loads every store, opens every key and prints what it found.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from helpers import ca, judged_by_keytool, key_pair_entry, same_key, trusted_entry

from keystores.errors import CapabilityError, UsageError, WrongPassword
from keystores.model import Entry, EntryKind, SecretKey, Trust
from keystores.store import open_store

PASSWORD = "changeit-Jks1"
KEY_PASSWORD = "other-key-pass"
AES_VALUE = bytes(range(32))
HMAC_VALUE = bytes(range(100, 148))

needs_keytool = pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (a JDK) is not installed")
STORE_TYPES = {"jks": "JKS", "jceks": "JCEKS"}
# what tests/test_lifecycle.py asks keytool about a key pair we wrote (tests/helpers.py, NativeJudge)
NATIVE_JUDGES = {name: judged_by_keytool(store_type) for name, store_type in STORE_TYPES.items()}


def keytool(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["keytool", "-J-Duser.language=en", *args], capture_output=True, text=True, check=False,
                          env={**os.environ, "LC_ALL": "C"})
    if check and done.returncode != 0:
        raise AssertionError(f"keytool {' '.join(args[:2])} failed: {done.stdout}{done.stderr}")
    return done


def keytool_listing(path: Path, store_type: str, password: str = PASSWORD) -> dict[str, str]:
    """alias -> entry type, from `keytool -list -v`."""
    out = keytool("-list", "-v", "-keystore", str(path), "-storetype", store_type, "-storepass", password).stdout
    found: dict[str, str] = {}
    alias = None
    for line in out.splitlines():
        if line.startswith("Alias name: "):
            alias = line.removeprefix("Alias name: ")
        elif line.startswith("Entry type: ") and alias is not None:
            found[alias] = line.removeprefix("Entry type: ")
    return found


JAVA_READER = r"""
import java.io.*; import java.security.*; import java.security.cert.Certificate; import java.util.*;

/** For each (file, type, store password, key password): load the store, open every key, print what is there. */
public class ReadStores {
    public static void main(String[] a) throws Exception {
        for (int i = 0; i + 3 < a.length; i += 4) {
            KeyStore ks = KeyStore.getInstance(a[i + 1]);
            try (InputStream in = new FileInputStream(a[i])) { ks.load(in, a[i + 2].toCharArray()); }
            for (String alias : Collections.list(ks.aliases())) {
                StringBuilder line = new StringBuilder(new File(a[i]).getName() + "|" + alias + "|");
                if (ks.isKeyEntry(alias)) {
                    Key k = ks.getKey(alias, a[i + 3].toCharArray());
                    if (k instanceof PrivateKey) {
                        Certificate c = ks.getCertificate(alias);
                        String alg = "SHA256with" + (k.getAlgorithm().equals("EC") ? "ECDSA" : k.getAlgorithm());
                        Signature s = Signature.getInstance(alg);
                        s.initSign((PrivateKey) k);
                        s.update(new byte[] {1, 2, 3});
                        byte[] sig = s.sign();
                        s.initVerify(c.getPublicKey());
                        s.update(new byte[] {1, 2, 3});
                        line.append("private|").append(k.getAlgorithm()).append("|")
                            .append(ks.getCertificateChain(alias).length).append("|")
                            .append(s.verify(sig) ? "signs" : "MISMATCH");
                    } else {
                        line.append("secret|").append(k.getAlgorithm()).append("|")
                            .append(HexFormat.of().formatHex(k.getEncoded()));
                    }
                } else {
                    line.append("trusted");
                }
                System.out.println(line);
            }
        }
    }
}
"""


def java_read(folder: Path, *stores: tuple[Path, str, str, str]) -> set[str]:
    """Lines `file|alias|private|ALG|chain|signs`, `file|alias|secret|ALG|hex` or `file|alias|trusted`."""
    source = folder / "ReadStores.java"
    source.write_text(JAVA_READER)
    argv = ["java", str(source)]
    for path, store_type, password, key_password in stores:
        argv += [str(path), store_type, password, key_password]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.splitlines())


# --- stores keytool made -------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def keytool_stores(tmp_path_factory) -> dict[str, Path]:
    """A JKS with an RSA key, an EC key and a trusted CA; a JCEKS copy of it plus an AES-256 secret key."""
    if shutil.which("keytool") is None:
        pytest.skip("keytool (a JDK) is not installed")
    folder = tmp_path_factory.mktemp("keytool")
    made_from = dt.datetime.now(dt.UTC).replace(microsecond=0)  # keytool stamps entries with its own clock
    ca_pem = folder / "ca.pem"
    ca_pem.write_bytes(ca()[1].public_bytes(serialization.Encoding.PEM))
    jks, jceks = folder / "made.jks", folder / "made.jceks"
    common = ["-keystore", str(jks), "-storetype", "JKS", "-storepass", PASSWORD, "-keypass", PASSWORD]
    keytool("-genkeypair", *common, "-alias", "RsaKey", "-keyalg", "RSA", "-keysize", "2048",
            "-dname", "CN=rsa key,O=keytool", "-validity", "30")
    keytool("-genkeypair", *common, "-alias", "eckey", "-keyalg", "EC", "-groupname", "secp256r1",
            "-dname", "CN=ec key,O=keytool", "-validity", "30")
    keytool("-importcert", "-noprompt", *common[:6], "-alias", "Trusted CA", "-file", str(ca_pem))
    keytool("-importkeystore", "-noprompt", "-srckeystore", str(jks), "-srcstoretype", "JKS",
            "-srcstorepass", PASSWORD, "-destkeystore", str(jceks), "-deststoretype", "JCEKS",
            "-deststorepass", PASSWORD)
    keytool("-genseckey", "-keystore", str(jceks), "-storetype", "JCEKS", "-storepass", PASSWORD,
            "-keypass", PASSWORD, "-alias", "aes", "-keyalg", "AES", "-keysize", "256")
    made_until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    return {"jks": jks, "jceks": jceks, "folder": folder, "made": (made_from, made_until)}


@needs_keytool
@pytest.mark.interop
@pytest.mark.parametrize("kind", ["jks", "jceks"])
def test_keytool_stores_read_whole(keytool_stores, kind):
    path = keytool_stores[kind]
    with open_store(path, password=PASSWORD) as store:
        assert store.format == kind
        expected = {"rsakey": EntryKind.KEY_PAIR, "eckey": EntryKind.KEY_PAIR, "trusted ca": EntryKind.TRUSTED_CERT}
        if kind == "jceks":
            expected["aes"] = EntryKind.SECRET_KEY
        assert {e.label: e.kind for e in store.entries()} == expected
        for label in ("rsakey", "eckey"):
            entry = store.get(label)
            assert same_key(entry.key, entry.chain[0].public_key())
            assert "keytool" in entry.chain[0].subject.rfc4514_string()
        assert store.get("Trusted CA").chain == (ca()[1],)
        assert store.get("trusted ca").trust is not None
        made_from, made_until = keytool_stores["made"]  # however long keytool took
        assert all(made_from <= e.created <= made_until for e in store.entries())
        if kind == "jceks":
            secret = store.get("aes").secret
            assert secret.algorithm == "AES" and len(secret.value) == 32
        protection = store.protection().as_text()
        assert "SHA-1" in protection["mac"]
        # JDK 17 protects keys with 200,000 iterations; the figure is read from the keys' own parameters.
        assert protection["keys"] == ("PBEWithMD5AndTripleDES (MD5, 3DES-CBC), 200000 iterations" if kind == "jceks"
                                      else "JKS key protector (SHA-1 keystream XOR, SHA-1 check)")


def test_unchanged_store_is_written_back_byte_for_byte(keytool_stores, tmp_path):
    """Keys never touched are written as read; a rename changes only what it must."""
    for kind in ("jks", "jceks"):
        copy = tmp_path / f"copy.{kind}"
        copy.write_bytes(keytool_stores[kind].read_bytes())
        with open_store(copy, password=PASSWORD) as store:
            assert store._dump() == keytool_stores[kind].read_bytes()


# --- stores we write, judged by keytool and Java -------------------------------------------------------------
def _our_entries(kind: str) -> list[Entry]:
    entries = [key_pair_entry("Server RSA", index=1), key_pair_entry("server-ec", index=2, use_ec=True),
               trusted_entry("Root CA")]
    if kind == "jceks":
        entries += [Entry(label="aes", kind=EntryKind.SECRET_KEY, secret=SecretKey("AES", AES_VALUE)),
                    Entry(label="mac key", kind=EntryKind.SECRET_KEY, secret=SecretKey("HmacSHA256", HMAC_VALUE))]
    return entries


@pytest.fixture(scope="session")
def our_stores(tmp_path_factory) -> dict[str, Path]:
    """One JKS and one JCEKS written by us (keys under the store password), and a JKS whose key has its own
    password. Created times are fixed so that the tests can see they survive."""
    folder = tmp_path_factory.mktemp("ours")
    stamp = dt.datetime(2024, 5, 17, 8, 30, 15, 250000, tzinfo=dt.UTC)
    paths = {"folder": folder}
    for kind in ("jks", "jceks"):
        path = paths[kind] = folder / f"ours.{kind}"
        with open_store(path, password=PASSWORD, create=True) as store:
            for entry in _our_entries(kind):
                store.add(entry.with_(created=stamp))
    paths["keypass"] = folder / "keypass.jks"
    with open_store(paths["keypass"], password=PASSWORD, create=True, key_password=KEY_PASSWORD) as store:
        store.add(key_pair_entry("separate", index=3))
    return paths


@needs_keytool
@pytest.mark.interop
@pytest.mark.parametrize("kind", ["jks", "jceks"])
def test_keytool_lists_our_stores(our_stores, kind):
    expected = {"server rsa": "PrivateKeyEntry", "server-ec": "PrivateKeyEntry", "root ca": "trustedCertEntry"}
    if kind == "jceks":
        expected |= {"aes": "SecretKeyEntry", "mac key": "SecretKeyEntry"}
    assert keytool_listing(our_stores[kind], STORE_TYPES[kind]) == expected


@needs_keytool
@pytest.mark.interop
@pytest.mark.parametrize("kind", ["jks", "jceks"])
def test_keytool_certreq_uses_our_key(our_stores, kind):
    """-certreq signs with the stored key: it proves keytool decrypts what we protected."""
    done = keytool("-certreq", "-alias", "Server RSA", "-keystore", str(our_stores[kind]), "-storetype",
                   STORE_TYPES[kind], "-storepass", PASSWORD)
    assert "BEGIN NEW CERTIFICATE REQUEST" in done.stdout


@needs_keytool
@pytest.mark.interop
def test_keytool_certreq_with_separate_key_password(our_stores):
    done = keytool("-certreq", "-alias", "separate", "-keystore", str(our_stores["keypass"]), "-storetype", "JKS",
                   "-storepass", PASSWORD, "-keypass", KEY_PASSWORD)
    assert "BEGIN NEW CERTIFICATE REQUEST" in done.stdout


@pytest.fixture(scope="session")
def java_lines(keytool_stores, our_stores) -> set[str]:
    """One Java run (compiling the reader is the slow part) over keytool's JCEKS and both stores of ours."""
    return java_read(our_stores["folder"], (keytool_stores["jceks"], "JCEKS", PASSWORD, PASSWORD),
                     (our_stores["jks"], "JKS", PASSWORD, PASSWORD),
                     (our_stores["jceks"], "JCEKS", PASSWORD, PASSWORD))


@needs_keytool
@pytest.mark.interop
def test_keytool_secret_key_value_matches_java(keytool_stores, java_lines):
    """Java itself reports the AES key's bytes; ours must be the same bytes."""
    aes = next(line for line in java_lines if line.startswith("made.jceks|aes|secret|AES|"))
    with open_store(keytool_stores["jceks"], password=PASSWORD) as store:
        assert aes.split("|")[-1] == store.get("aes").secret.value.hex()


@needs_keytool
@pytest.mark.interop
def test_java_opens_every_key_we_wrote(java_lines):
    """Java loads both stores, recovers every private key (it signs and the certificate verifies) and every secret
    key (the bytes are ours): the JCEKS SealedObject we serialize is one Java deserializes."""
    lines = {line for line in java_lines if line.startswith("ours.")}
    expected = set()
    for name in ("ours.jks", "ours.jceks"):
        expected |= {f"{name}|server rsa|private|RSA|2|signs", f"{name}|server-ec|private|EC|2|signs",
                     f"{name}|root ca|trusted"}
    expected |= {f"ours.jceks|aes|secret|AES|{AES_VALUE.hex()}",
                 f"ours.jceks|mac key|secret|HmacSHA256|{HMAC_VALUE.hex()}"}
    assert lines == expected


def test_created_times_survive(our_stores):
    with open_store(our_stores["jceks"], password=PASSWORD) as store:
        assert {e.created for e in store.entries()} == {dt.datetime(2024, 5, 17, 8, 30, 15, 250000, tzinfo=dt.UTC)}


def test_labels_are_lower_cased_like_keytool(our_stores):
    with open_store(our_stores["jks"], password=PASSWORD) as store:
        assert sorted(store.labels()) == ["root ca", "server rsa", "server-ec"]
        assert store.get("SERVER RSA").label == "server rsa"


def test_jceks_secret_keys_round_trip(our_stores):
    with open_store(our_stores["jceks"], password=PASSWORD) as store:
        assert store.get("aes").secret == SecretKey("AES", AES_VALUE)
        assert store.get("mac key").secret == SecretKey("HmacSHA256", HMAC_VALUE)


def test_separate_key_password(our_stores):
    """The store password lists the store; the key needs key_password, and says so by label when it is missing."""
    with open_store(our_stores["keypass"], password=PASSWORD) as store:
        entry = store.get("separate")
        assert entry.kind is EntryKind.KEY_PAIR and entry.chain
        with pytest.raises(WrongPassword) as info:
            _ = entry.key
        assert info.value.label == "separate" and str(our_stores["keypass"]) in str(info.value)
    with open_store(our_stores["keypass"], password=PASSWORD, key_password=KEY_PASSWORD) as store:
        assert same_key(store.get("separate").key, key_pair_entry("x", index=3).key)


def test_untrusted_certificate_is_refused_not_promoted(tmp_path):
    """JKS can only say "trusted": a certificate that is present but not trusted must not become trusted."""
    untrusted = trusted_entry("plain").with_(trust=None)
    with open_store(tmp_path / "t.jks", password=PASSWORD, create=True) as store, \
            pytest.raises(CapabilityError):
        store.add(untrusted)
    with open_store(tmp_path / "t2.jks", password=PASSWORD, create=True) as store:
        store.add(trusted_entry("email only").with_(trust=Trust(tls_server=False, tls_client=False,
                                                                code_signing=False)))
        assert any("all purposes" in note for note in store.notes)


def test_jceks_needs_ascii_key_password(tmp_path):
    with pytest.raises(UsageError) as info, \
            open_store(tmp_path / "u.jceks", password="pässword", create=True) as store:
        store.add(key_pair_entry("k", index=1))
    assert "ASCII" in str(info.value) and "pässword" not in str(info.value)
    assert not (tmp_path / "u.jceks").exists()


@needs_keytool
@pytest.mark.interop
def test_passwd_re_protects_keys(our_stores, tmp_path):
    """After set_password the digest and every key use the new password; keytool agrees."""
    copy = tmp_path / "passwd.jceks"
    copy.write_bytes(our_stores["jceks"].read_bytes())
    with open_store(copy, password=PASSWORD, writable=True) as store:
        store.set_password("New-pass-2")
    with open_store(copy, password="New-pass-2") as store:
        assert store.get("aes").secret.value == AES_VALUE
        assert same_key(store.get("server-ec").key, key_pair_entry("x", index=2, use_ec=True).key)
    done = keytool("-certreq", "-alias", "server rsa", "-keystore", str(copy), "-storetype", "JCEKS",
                   "-storepass", "New-pass-2")
    assert "BEGIN NEW CERTIFICATE REQUEST" in done.stdout


def test_unicode_alias_round_trips(tmp_path):
    """Aliases are Java modified UTF-8: NUL and characters beyond the BMP survive."""
    label = "zürich \U0001f511 key"
    with open_store(tmp_path / "u.jks", password=PASSWORD, create=True) as store:
        store.add(trusted_entry(label))
    with open_store(tmp_path / "u.jks", password=PASSWORD) as store:
        assert store.labels() == [label]


@needs_keytool
@pytest.mark.interop
def test_cli_convert_between_java_formats(keytool_stores, tmp_path):
    """`keystores convert` keytool's JKS into JCEKS (keytool lists it alike); a JCEKS with a secret key cannot
    become a JKS: exit 1, the entry named, no file left behind."""
    from clirun import keystores

    env = {"KS_PASS": PASSWORD}
    target = tmp_path / "converted.jceks"
    done = keystores("convert", str(keytool_stores["jks"]), str(target), "--password", "env:KS_PASS",
                     "--dest-password", "env:KS_PASS", env=env)
    assert done.code == 0, done.all
    assert keytool_listing(target, "JCEKS") == {"rsakey": "PrivateKeyEntry", "eckey": "PrivateKeyEntry",
                                                 "trusted ca": "trustedCertEntry"}
    refused = tmp_path / "refused.jks"
    done = keystores("convert", str(keytool_stores["jceks"]), str(refused), "--password", "env:KS_PASS",
                     "--dest-password", "env:KS_PASS", env=env)
    assert done.code == 1 and "'aes'" in done.err and "secret keys" in done.err
    assert not refused.exists()


def test_rename_keeps_a_key_it_cannot_open(our_stores, tmp_path):
    """Renaming needs no key password: the protected key moves as it is, and opens under its new name."""
    copy = tmp_path / "rename.jks"
    copy.write_bytes(our_stores["keypass"].read_bytes())
    with open_store(copy, password=PASSWORD, writable=True) as store:
        store.rename("separate", "Moved")
    with open_store(copy, password=PASSWORD, key_password=KEY_PASSWORD) as store:
        assert store.labels() == ["moved"]
        assert same_key(store.get("moved").key, key_pair_entry("x", index=3).key)


@pytest.mark.parametrize("kind", ["jks", "jceks"])
def test_entries_copied_between_stores_are_protected_with_the_destination_password(our_stores, tmp_path, kind):
    """A key read from one store and added to another is protected anew, never copied under the old password."""
    target = tmp_path / f"copy.{kind}"
    with open_store(target, password="Destination-9", create=True) as dest:
        dest.add(trusted_entry("first"))
    with open_store(our_stores[kind], password=PASSWORD) as source, \
            open_store(target, password="Destination-9", writable=True) as dest:
        dest.add(source.get("server-ec"))
        if kind == "jceks":
            dest.add(source.get("aes"))
    with open_store(target, password="Destination-9") as store:
        assert same_key(store.get("server-ec").key, key_pair_entry("x", index=2, use_ec=True).key)
        if kind == "jceks":
            assert store.get("aes").secret.value == AES_VALUE


def test_backend_needs_no_pyjks(our_stores):
    """The Java stores are read and written by our own code: pyjks (and the pycryptodomex/twofish/javaobj it pulls
    in) is never imported, so the `jks` extra is not needed."""
    import subprocess
    import sys

    code = ("import sys\nfrom keystores.store import open_store\n"
            f"with open_store({str(our_stores['jceks'])!r}, password={PASSWORD!r}) as s:\n"
            "    assert s.get('aes').secret.value and s.get('server-ec').key\n"
            "bad = [m for m in ('jks', 'Cryptodome', 'twofish', 'javaobj', 'pyasn1') if m in sys.modules]\n"
            "assert not bad, bad\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
