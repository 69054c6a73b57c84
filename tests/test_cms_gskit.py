"""GSKit itself judges the cms backend (libgsk8km_64.so from the ibm-db wheel, driven through tests/gskit.py).

GSKit opens what we write, lists the same labels, changes its password (decrypting every key we wrote on the
way); we read whole what GSKit writes; both sides tell a wrong password from a damaged file alike.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import gskit
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from helpers import ca, certificate, key_pair_entry, name, rsa_key, same_key, trusted_entry

from keystores.backends.cms import container as fmt
from keystores.backends.cms import stash as cms_stash
from keystores.errors import IntegrityError, WrongPassword
from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.store import open_store

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not gskit.available(), reason="GSKit (the ibm-db wheel) is not installed"),
]

PASSWORD = "Judge-by-GSKit1"
NEW_PASSWORD = "Changed-by-GSKit2"


def judged_by_gskit(location: str, password: str, label: str, chain: Sequence[x509.Certificate]) -> None:
    """GSKit opens the .kdb and lists the label as a key record, not as a pending request (its API gives labels)."""
    if not gskit.available():
        pytest.skip("GSKit (libgsk8km_64.so from the ibm-db wheel) is not installed")
    with gskit.Database(location, password) as db:
        assert label in db.labels() and label not in db.request_labels()


# what tests/test_lifecycle.py asks of a .kdb we wrote (tests/helpers.py, NativeJudge)
NATIVE_JUDGES = {"cms": judged_by_gskit}


def _request(label: str, index: int) -> Entry:
    key = rsa_key(index)
    csr = x509.CertificateSigningRequestBuilder().subject_name(name(label)).sign(key, hashes.SHA256())
    return Entry(label=label, kind=EntryKind.REQUEST, request=csr, key=key)


def _big_certificate_entry() -> Entry:
    """A key pair whose record needs more than the 5000-byte default slot."""
    key = rsa_key(21)
    root_key, root = ca(0)
    sans = x509.SubjectAlternativeName([x509.DNSName(f"node{i:04d}.cluster.example") for i in range(280)])
    cert = (x509.CertificateBuilder().subject_name(name("big record")).issuer_name(root.subject)
            .public_key(key.public_key()).serial_number(4242)
            .not_valid_before(root.not_valid_before_utc).not_valid_after(root.not_valid_after_utc)
            .add_extension(sans, critical=False).sign(root_key, hashes.SHA256()))
    return Entry(label="big record", kind=EntryKind.KEY_PAIR, chain=(cert, root), key=key)


@pytest.mark.parametrize("version", [3, 4, 6])
def test_gskit_opens_lists_and_rekeys_what_we_write(tmp_path, version):
    originals = [trusted_entry("root ca"), key_pair_entry("rsa server", index=1, default=True),
                 key_pair_entry("ec server", index=2, use_ec=True), _big_certificate_entry()]
    pending = _request("pending request", 22)
    path = tmp_path / f"ours{version}.kdb"
    with open_store(path, password=PASSWORD, create=True, cms_version=version) as store:
        for entry in originals:
            store.add(entry)
        store.add(pending)
        ours = [label for label in store.labels() if label != pending.label]
    assert fmt.parse_container(path.read_bytes(), PASSWORD, store=None).slot_size > 5000
    with gskit.Database(path, PASSWORD) as db:
        assert sorted(db.labels()) == sorted(ours)
        assert db.request_labels() == [pending.label]
    gskit.change_password(path, PASSWORD, NEW_PASSWORD)  # decrypts, then re-encrypts, every key
    with open_store(path, password=NEW_PASSWORD) as store:
        assert sorted(store.labels()) == sorted([*ours, pending.label])
        for original in originals:
            got = store.get(original.label)
            assert got.chain[0] == original.chain[0]
            if original.kind is EntryKind.KEY_PAIR:
                assert same_key(got.key, original.key)
                assert got.chain == original.chain
        assert [e.label for e in store.entries() if e.default] == ["rsa server"]
        assert same_key(store.get(pending.label).key, pending.key)
        assert store.version == version
    for suffix in (".rdb", ".crl"):  # GSKit re-checked the companions we made under the new password
        fmt.parse_container(path.with_suffix(suffix).read_bytes(), NEW_PASSWORD, store=None)


def _openssl_p12(tmp_path: Path) -> tuple[Path, x509.Certificate, x509.Certificate, object]:
    """A PKCS#12 made by openssl: key, leaf, and its CA with a friendly name (GSKit needs one to import it)."""
    root_key, root = ca(5)
    key = rsa_key(23)
    leaf = certificate(key, "imported by gskit", root_key, root)
    files = {"key.pem": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()),
             "leaf.pem": leaf.public_bytes(serialization.Encoding.PEM),
             "ca.pem": root.public_bytes(serialization.Encoding.PEM)}
    for file_name, data in files.items():
        (tmp_path / file_name).write_bytes(data)
    p12 = tmp_path / "made-by-openssl.p12"
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(tmp_path / "key.pem"),
                    "-in", str(tmp_path / "leaf.pem"), "-certfile", str(tmp_path / "ca.pem"),
                    "-name", "my server", "-caname", "my issuing ca", "-out", str(p12),
                    "-passout", "pass:p12-pass"], check=True, capture_output=True)
    return p12, leaf, root, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
@pytest.mark.parametrize("fips", [True, False])
def test_we_read_whole_what_gskit_imports(tmp_path, fips):
    p12, leaf, root, key = _openssl_p12(tmp_path)
    path = tmp_path / "gskit.kdb"
    gskit.create(path, PASSWORD, fips=fips)
    with gskit.Database(path, PASSWORD) as db:
        defaults = db.labels()  # GSKit leaves out default CAs that have expired: never count them
        db.import_pfx(p12, "p12-pass")
        db.set_default("my server")
        db.set_trust("my issuing ca", False)
        theirs = db.labels()
    with open_store(path, password=PASSWORD) as store:
        assert store.version == (4 if fips else 3)
        assert sorted(store.labels()) == sorted(theirs)
        server = store.get("my server")
        assert server.kind is EntryKind.KEY_PAIR and server.default
        assert server.chain == (leaf, root)
        assert same_key(server.key, key)
        assert store.get("my issuing ca").trust is None
        signers = [e for e in store.entries() if e.kind.is_certificate]  # "my issuing ca" untrusted: certificate
        # no count of the defaults: GSKit drops each one when it expires, and one day none will be left
        assert {e.label for e in signers} == set(defaults) | {"my issuing ca"}
        assert all(e.trust is TRUST_ALL for e in signers if e.label != "my issuing ca")
        assert "3DES" in store.protection()["keys"].text


def test_gskit_reopens_our_rewrite_of_its_database(tmp_path):
    p12, _, _, key = _openssl_p12(tmp_path)
    path = tmp_path / "theirs.kdb"
    gskit.create(path, PASSWORD)
    with gskit.Database(path, PASSWORD) as db:
        defaults = db.labels()  # whichever default CAs this GSKit still ships today (none once all expired)
        db.import_pfx(p12, "p12-pass")
    removed = defaults[0] if defaults else "my issuing ca"
    before = fmt.parse_container(path.read_bytes(), PASSWORD, store=None).slots
    with open_store(path, password=PASSWORD, writable=True) as store:
        store.rename("my server", "renamed server")
        store.set_default("renamed server")
        store.set_trust("my issuing ca", None)
        store.add(key_pair_entry("added by us", index=3))
        store.remove(removed)
        expected = store.labels()
    after = fmt.parse_container(path.read_bytes(), PASSWORD, store=None).slots
    # Four records change (renamed, made default, distrusted, removed); every other one is kept as it was.
    assert set(before) - set(after) and len(set(before) & set(after)) >= len(before) - 4
    with gskit.Database(path, PASSWORD) as db:
        assert sorted(db.labels()) == sorted(expected)
    gskit.change_password(path, PASSWORD, NEW_PASSWORD)
    with open_store(path, password=NEW_PASSWORD) as store:
        assert same_key(store.get("renamed server").key, key)
        assert store.get("renamed server").default
        assert removed == "my issuing ca" or store.get("my issuing ca").trust is None


def test_stash_both_ways(tmp_path):
    path = tmp_path / "stashed.kdb"
    gskit.create(path, PASSWORD)
    with gskit.Database(path, PASSWORD) as db:
        defaults = db.labels()
    gskit.stash(path, PASSWORD)
    stash = path.with_suffix(".sth")
    assert cms_stash.version_of(stash.read_bytes()) == 8
    assert cms_stash.decode(stash.read_bytes()) == PASSWORD  # our decode of GSKit's stash
    with open_store(path) as store:  # and the stash opens the database for us
        assert sorted(store.labels()) == sorted(defaults)  # as GSKit lists them (no count: defaults expire)
    for version in (1, 8):
        ours = cms_stash.encode(PASSWORD, version=version)
        assert gskit.open_rc(path, cms_stash.decode(ours)) == 0  # GSKit opens it with what our stash holds


@pytest.mark.parametrize("version", [3, 4, 6])
def test_wrong_password_and_damage_classified_as_gskit_does(tmp_path, version):
    path = tmp_path / "judged.kdb"
    with open_store(path, password=PASSWORD, create=True, cms_version=version) as store:
        store.add(trusted_entry("root ca"))
    assert gskit.open_rc(path, "wrong-password") == gskit.ERR_INVALID_PASSWORD
    with pytest.raises(WrongPassword):
        open_store(path, password="wrong-password")
    data = bytearray(path.read_bytes())
    data[fmt.header_size(version) + 100] ^= 0x04
    path.write_bytes(bytes(data))
    assert gskit.open_rc(path, PASSWORD) == gskit.ERR_DATABASE_CORRUPTION
    with pytest.raises(IntegrityError):
        open_store(path, password=PASSWORD)


@pytest.mark.parametrize("version", [4, 6])
def test_gskit_rekeys_after_our_password_change(tmp_path, version):
    path = tmp_path / "ours.kdb"
    pair = key_pair_entry("server", index=1)
    with open_store(path, password=PASSWORD, create=True, cms_version=version, stash=True) as store:
        store.add(pair)
        store.add(_request("pending", 22))
    with open_store(path, writable=True) as store:  # opened with the stash
        store.set_password(NEW_PASSWORD)
    assert cms_stash.decode(path.with_suffix(".sth").read_bytes()) == NEW_PASSWORD
    assert gskit.open_rc(path, PASSWORD) == gskit.ERR_INVALID_PASSWORD
    with gskit.Database(path, NEW_PASSWORD) as db:
        assert db.request_labels() == ["pending"]
    gskit.change_password(path, NEW_PASSWORD, PASSWORD)  # GSKit decrypts every key we re-encrypted
    with open_store(path, password=PASSWORD) as store:
        assert same_key(store.get("server").key, pair.key)


VECTOR_PASSWORDS = {
    "kse/KdbKeyStoreSpiTest/mixed.kdb": "password",
    "kse/KdbKeyStoreSpiTest/chained.kdb": "password",
    "lchudinov_tls-examples/key.kdb": "password",
    "robert0714_vagrant_ihs_liberty_sticky-session/ssl/ihsserverkey.kdb": "1qaz2wsx",
    "desamsett_bank/key.kdb": "123",
    "alexandrezanetti_claro/key.kdb": "senha",
}


@pytest.mark.parametrize("relative", sorted(VECTOR_PASSWORDS))
def test_gskit_takes_our_rewrite_of_each_vector(shared_vectors, tmp_path, relative):
    source = shared_vectors / "cms" / relative
    if not source.is_file():
        pytest.skip("vector absent")
    password = VECTOR_PASSWORDS[relative]
    path = tmp_path / "vector.kdb"
    shutil.copy(source, path)
    for suffix in (".rdb", ".crl"):
        if source.with_suffix(suffix).is_file():
            shutil.copy(source.with_suffix(suffix), path.with_suffix(suffix))
    with open_store(path, password=password, writable=True) as store:
        labels = store.labels()
        if labels:
            store.rename(labels[0], "renamed by keystores")
        store.add(key_pair_entry("added by keystores", index=4, default=True))
        expected = store.labels()
    with gskit.Database(path, password) as db:
        assert sorted(db.labels()) == sorted(expected)
    gskit.change_password(path, password, NEW_PASSWORD)  # every key, old encodings and ours, decrypted by GSKit
    with open_store(path, password=NEW_PASSWORD) as store:
        assert sorted(store.labels()) == sorted(expected)
        assert store.get("added by keystores").default


def test_gskit_keeps_a_utf8_label(tmp_path):
    path = tmp_path / "utf8.kdb"
    with open_store(path, password=PASSWORD, create=True) as store:
        store.add(trusted_entry("café racine ünïcode"))
    with gskit.Database(path, PASSWORD) as db:
        assert db.labels() == ["café racine ünïcode"]
    gskit.change_password(path, PASSWORD, NEW_PASSWORD)
    with open_store(path, password=NEW_PASSWORD) as store:
        assert store.labels() == ["café racine ünïcode"]


def test_certreq_sign_receive_on_kdb_as_gskit_sees_it(tmp_path):
    """The lifecycle through the CLI: the request waits in the .rdb (GSKit lists it there), receive moves it."""
    from clirun import keystores

    root_key, root = ca(0)
    ca_store = tmp_path / "ca.kdb"
    with open_store(ca_store, password=PASSWORD, create=True) as store:
        store.add(Entry(label="issuing ca", kind=EntryKind.KEY_PAIR, chain=(root,), key=root_key))
    kdb = tmp_path / "server.kdb"
    env = {"KDB_PW": PASSWORD}
    assert keystores("create", str(kdb), "-p", "env:KDB_PW", env=env).code == 0
    assert keystores("stash", str(kdb), "-p", "env:KDB_PW", env=env).code == 0
    made = keystores("certreq", str(kdb), "-l", "web", "--dn", "CN=web.example.com,O=keystores",
                     "-o", str(tmp_path / "web.csr"), "--key-type", "ec:p256")
    assert made.code == 0, made.all
    with gskit.Database(kdb, PASSWORD) as db:
        assert db.request_labels() == ["web"] and db.labels() == []
    signed = keystores("sign", str(ca_store), str(tmp_path / "web.csr"), "-l", "issuing ca",
                       "-o", str(tmp_path / "web.pem"), "-p", "env:KDB_PW", env=env)
    assert signed.code == 0, signed.all
    with open_store(kdb, writable=True) as store:  # the CA certificate first, as with runmqakm -cert -add
        store.add(Entry(label="our root", kind=EntryKind.TRUSTED_CERT, chain=(root,), trust=TRUST_ALL))
    received = keystores("receive", str(kdb), str(tmp_path / "web.pem"))
    assert received.code == 0, received.all
    with gskit.Database(kdb, PASSWORD) as db:
        assert db.request_labels() == []
        assert sorted(db.labels()) == ["our root", "web"]
    gskit.change_password(kdb, PASSWORD, NEW_PASSWORD)
    with open_store(kdb, password=NEW_PASSWORD) as store:
        web = store.get("web")
        assert web.kind is EntryKind.KEY_PAIR and web.chain[1] == root
        assert same_key(web.key, web.chain[0].public_key())
