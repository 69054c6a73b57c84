"""Trust is never taken from what an attacker could write (issue 16).

Generators here build: a PKCS#12 whose MAC was stripped by someone without the password, with a "trusted for any
purpose" root appended in a plain (unencrypted) safe; a PKCS#12 whose key bag is encrypted with 1 PBKDF2 iteration;
an NSS database whose trust is read without its password.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import pkcs12
from asn1crypto import x509 as asn1_x509
from clirun import keystores
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12 as c_pkcs12
from hardening import PASSWORD, make_store
from helpers import ca, key_pair_entry, trusted_entry

from keystores.model import TRUST_ALL
from keystores.store import open_store

ENV = {"PW": PASSWORD}
ANY_PURPOSE = "2.5.29.37.0"  # anyExtendedKeyUsage: what keytool writes for a trustedCertEntry


def _trusted_cert_bag(cert_der: bytes, name: str) -> pkcs12.SafeBag:
    attributes = pkcs12.Attributes([
        {"type": "friendly_name", "values": [name]},
        {"type": "2.16.840.1.113894.746875.1.1", "values": [ANY_PURPOSE]},
    ])
    value = pkcs12.CertBag({"cert_id": "x509", "cert_value": asn1_x509.Certificate.load(cert_der)})
    return pkcs12.SafeBag({"bag_id": "cert_bag", "bag_value": value, "bag_attributes": attributes})


def strip_mac_and_append_root(original: bytes) -> bytes:
    """What someone without the password can do to a PKCS#12: drop its MAC, append a plain safe with a root."""
    pfx = pkcs12.Pfx.load(original)
    safe = pkcs12.AuthenticatedSafe.load(pfx["auth_safe"]["content"].native)
    _, evil = ca(9)
    bags = pkcs12.SafeContents([_trusted_cert_bag(evil.public_bytes(serialization.Encoding.DER), "evil root")])
    infos = [*safe, asn1_cms.ContentInfo({"content_type": "data", "content": bags.dump()})]
    new_safe = pkcs12.AuthenticatedSafe(infos).dump()
    return pkcs12.Pfx({"version": 3, "auth_safe": {"content_type": "data", "content": new_safe}}).dump()


@pytest.fixture
def stripped(tmp_path) -> Path:
    legit = tmp_path / "legit.p12"
    make_store("pkcs12", str(legit), [key_pair_entry("server", index=3, use_ec=True),
                                      trusted_entry("partner root", index=4)])
    path = tmp_path / "stripped.p12"
    path.write_bytes(strip_mac_and_append_root(legit.read_bytes()))
    return path


def test_a_pkcs12_without_a_mac_read_with_a_password_gives_no_trust(stripped):
    done = keystores("list", str(stripped), "--password", "env:PW", "--json", env=ENV)
    assert done.code == 0, done.err
    entries = {e["label"]: e for e in json.loads(done.out)["entries"]}
    assert entries["evil root"]["trust"] is None and entries["partner root"]["trust"] is None
    assert entries["server"]["has_private_key"]  # the entries are all still there
    assert "no MAC" in done.err


def test_a_stripped_mac_root_never_becomes_a_jks_trust_anchor(stripped, tmp_path):
    out = tmp_path / "trust.jks"
    done = keystores("convert", str(stripped), str(out), "--password", "env:PW", "--dest-password", "env:PW",
                     env=ENV)
    if done.code == 0:
        with open_store(str(out), password=PASSWORD) as store:
            assert all(e.trust is None for e in store.entries())
    else:
        assert "not trusted" in done.err and not out.exists()


def test_the_same_file_with_its_mac_keeps_its_trust(tmp_path):
    legit = tmp_path / "legit.p12"
    make_store("pkcs12", str(legit), [trusted_entry("partner root", index=4)])
    with open_store(str(legit), password=PASSWORD) as store:
        assert store.get("partner root").trust == TRUST_ALL


def _key_bag_iterations(path: Path) -> list[int]:
    pfx = pkcs12.Pfx.load(path.read_bytes())
    found = []
    for info in pkcs12.AuthenticatedSafe.load(pfx["auth_safe"]["content"].native):
        if info["content_type"].native != "data":
            continue
        for bag in pkcs12.SafeContents.load(info["content"].native):
            if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                found.append(bag["bag_value"]["encryption_algorithm"].kdf_iterations)
    return found


def test_a_rewrite_upgrades_a_one_iteration_key_bag(tmp_path):
    entry = key_pair_entry("server", index=3, use_ec=True)
    weak = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(1)
            .key_cert_algorithm(c_pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
            .build(PASSWORD.encode()))
    path = tmp_path / "weak.p12"
    path.write_bytes(c_pkcs12.serialize_key_and_certificates(b"server", entry.key, entry.chain[0], None, weak))
    assert _key_bag_iterations(path) == [1]
    done = keystores("rename", str(path), "server", "renamed", "--password", "env:PW", env=ENV)
    assert done.code == 0, done.err
    assert all(n >= 10000 for n in _key_bag_iterations(path)), _key_bag_iterations(path)


# --- NSS trust read without the password --------------------------------------------------------------------------

@pytest.fixture
def nss_with_password(tmp_path) -> str:
    loc = f"sql:{tmp_path / 'nssdb'}"
    make_store("nss", loc, [trusted_entry("partner root", index=4)])
    return loc


def _trust_of(listing: str) -> dict:
    return {e["label"]: e["trust"] for e in json.loads(listing)["entries"]}["partner root"]


def test_nss_trust_without_the_password_is_marked_unverified(nss_with_password):
    done = keystores("list", nss_with_password, "--json", env=ENV)
    assert done.code == 0, done.err
    assert _trust_of(done.out)["verified"] is False
    assert "unverified" in done.err
    done = keystores("list", nss_with_password, "--json", "--password", "env:PW", env=ENV)
    assert done.code == 0, done.err
    assert _trust_of(done.out)["verified"] is True and "unverified" not in done.err
    done = keystores("show", nss_with_password, "partner root", env=ENV)
    assert done.code == 0 and "[unverified" in done.out and "unverified" in done.err, done.all


def test_unverified_nss_trust_becomes_a_trust_anchor_only_when_asked(nss_with_password, tmp_path):
    out = tmp_path / "trust.jks"
    done = keystores("convert", nss_with_password, str(out), "--dest-password", "env:PW", env=ENV)
    assert done.code == 2, done.err
    assert "partner root" in done.err and "--trust-unverified" in done.err and not out.exists()
    done = keystores("convert", nss_with_password, str(out), "--dest-password", "env:PW", "--trust-unverified",
                     env=ENV)
    assert done.code == 0, done.err
    with open_store(str(out), password=PASSWORD) as store:
        assert store.get("partner root").trust is not None
    out.unlink()
    done = keystores("convert", nss_with_password, str(out), "--password", "env:PW", "--dest-password", "env:PW",
                     env=ENV)
    assert done.code == 0, done.err  # with the password the trust is verified, and converted as always
    imported = tmp_path / "imported.p12"
    done = keystores("import", nss_with_password, str(imported), "--dest-password", "env:PW", env=ENV)
    assert done.code == 2 and not imported.exists(), done.err
