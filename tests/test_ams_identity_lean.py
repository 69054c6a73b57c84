"""`keystores ams map` reads a certificate's names from the DER its backend holds (keystores.ams.identity's
entry_mapping, when keystores.pki.shown reads the certificate) instead of decoding it with cryptography.x509 (issue
15, start-up in a user install). Held to the decoded path: the same Mapping (commands, SSLPEER, notes) for every
certificate of the cryptography-vectors x509/ folder and for names in the forms the DER reader declines; the CLI
prints the same and imports no cryptography.x509 for a .kdb, a PEM, a JKS, a PKCS#12 and an NSS database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from ams_material import cert_entry, make_cert, rsa_key
from cryptography import x509
from test_shown import vector_certificates

from keystores.ams.identity import entry_mapping, mapping
from keystores.errors import KeystoreError
from keystores.lazy_entries import made_entry
from keystores.model import TRUST_ALL, EntryKind
from keystores.pki.shown import read_shown
from keystores.store import open_store

PASSWORD = "ams-map-lean-1"


def _both(der: bytes, label: str = "c") -> tuple[object, object]:
    """(entry_mapping of an entry holding `der` undecoded, mapping of cryptography's certificate), each a dict or
    the error's type and text."""
    def outcome(make):
        try:
            return make().as_dict()
        except (KeystoreError, ValueError) as exc:
            return type(exc).__name__

    entry = made_entry((der,), label=label, kind=EntryKind.TRUSTED_CERT, trust=TRUST_ALL)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lean = outcome(lambda: entry_mapping(entry, userid="MQUSER", channel="TO.QM1"))
        decoded = outcome(lambda: mapping(x509.load_der_x509_certificate(der), userid="MQUSER", channel="TO.QM1",
                                          label=label))
    return lean, decoded


def test_every_vector_certificate_maps_as_from_cryptographys_names() -> None:
    certificates = vector_certificates()
    if not certificates:
        pytest.skip("cryptography_vectors is not installed")
    lean_read = 0
    for name, der in certificates:
        if read_shown(der) is None:
            continue  # left to cryptography: the old path, unchanged
        lean, decoded = _both(der)
        assert lean == decoded, name
        lean_read += 1
    assert lean_read > 100


@pytest.mark.parametrize("dn", ["CN=ADCDC,O=cpwebuser,C=GB", "CN=O'Neil,O=Acme\\, Inc.,C=US", "CN=a.b,OU=x+UID=y",
                                'CN=\u00e9\u00e8 \\"q\\",L=s\\;p,C=FR', "E=a@b.example,CN=mail",
                                "CN=long-" + "x" * 40 + ",DC=example,DC=com"])
def test_names_map_the_same_from_the_der(dn: str) -> None:
    key = rsa_key("lean-map")
    cert = make_cert(key, dn)
    from cryptography.hazmat.primitives.serialization import Encoding

    lean, decoded = _both(cert.public_bytes(Encoding.DER), label="a label longer than thirty-two characters")
    assert lean == decoded


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("ams-map")
    ca_key = rsa_key("lean-ca")
    ca = make_cert(ca_key, "CN=Lean CA,O=MyOrg,C=GB", usage=("key_cert_sign",), ca=True)
    cert = make_cert(rsa_key("lean-leaf"), "CN=web.example,OU=MQ,O=MyOrg,C=GB", issuer=(ca_key, ca))
    made = {}
    (folder / "nss").mkdir()
    for name, options in (("s.kdb", {"stash": True}), ("s.pem", {}), ("s.jks", {}), ("s.p12", {}), ("nss", {})):
        where = f"sql:{folder / name}" if name == "nss" else str(folder / name)
        with open_store(where, password=PASSWORD, create=True, **options) as store:
            store.add(cert_entry("web", cert))
        made[name] = where
    made["expected"] = json.dumps(mapping(cert, userid="MQUSER", channel="*", label="web").as_dict())
    return made


@pytest.mark.parametrize("name", ["s.kdb", "s.pem", "s.jks", "s.p12", "nss"])
def test_ams_map_imports_no_x509_and_prints_the_decoded_paths_mapping(stores: dict[str, str], name: str,
                                                                       tmp_path: Path) -> None:
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    password = [] if name in ("s.kdb", "s.pem") else ["--password", "env:LEAN_PW"]
    for label in (["web"], []):
        done = subprocess.run([sys.executable, "-c", probe, "ams", "map", stores[name], *label, "-u", "MQUSER",
                               "--json", *password], capture_output=True, text=True, check=False, cwd=tmp_path,
                              env={**os.environ, "LEAN_PW": PASSWORD})
        assert done.returncode == 0, done.stderr
        loaded = json.loads(done.stderr.strip().splitlines()[-1])
        assert "keystores.ams.identity" in loaded
        assert "cryptography.x509" not in loaded, (name, label)
        assert json.loads(done.stdout) == json.loads(stores["expected"])
