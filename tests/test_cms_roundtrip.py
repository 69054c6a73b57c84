"""Round trips through a CMS database: keytool's PKCS#12 -> .kdb -> PKCS#12 and JKS keep labels, keys, chains
and trust. keytool makes the source and judges the results; GSKit (when present) judges the .kdb in between."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import gskit
import pytest
from cryptography.hazmat.primitives import serialization
from helpers import ca, same_key

from keystores.model import EntryKind
from keystores.ops.transfer import convert
from keystores.store import open_store

pytestmark = [pytest.mark.interop,
              pytest.mark.skipif(shutil.which("keytool") is None, reason="keytool (JDK) is not installed")]

P12_PASS = "keytool-pass"
KDB_PASS = "kdb-round-trip"


# A short-lived JVM starts faster without the optimising compiler and with the serial collector.
_JVM_FLAGS = ["-J-XX:TieredStopAtLevel=1", "-J-XX:+UseSerialGC", "-J-Xshare:auto"]
EXPECTED = {"issuing ca": ("PrivateKeyEntry", 1), "web server": ("PrivateKeyEntry", 2),
            "partner root": ("trustedCertEntry", 1)}


def _keytool(*args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(["keytool", *_JVM_FLAGS, *args], input=stdin, capture_output=True, check=False)
    assert done.returncode == 0, done.stdout.decode(errors="replace") + done.stderr.decode(errors="replace")
    return done.stdout.decode(errors="replace")


@pytest.fixture(scope="module")
def keytool_p12(tmp_path_factory) -> Path:
    """keytool's own PKCS#12: a CA key pair, a server key pair it signed (chain of 2), a trusted partner root."""
    folder = tmp_path_factory.mktemp("keytool")
    store = str(folder / "source.p12")
    common = ["-keystore", store, "-storetype", "PKCS12", "-storepass", P12_PASS]
    _keytool("-genkeypair", "-alias", "issuing ca", "-keyalg", "EC", "-groupname", "secp384r1", "-dname",
             "CN=Round Trip CA,O=keystores", "-ext", "bc:c", "-validity", "365", *common)
    _keytool("-genkeypair", "-alias", "web server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
             "CN=web.example.com,O=keystores", "-validity", "365", *common)
    request = _keytool("-certreq", "-alias", "web server", *common).encode()
    signed = _keytool("-gencert", "-alias", "issuing ca", "-rfc", "-validity", "200", *common, stdin=request)
    _keytool("-importcert", "-alias", "web server", "-noprompt", *common, stdin=signed.encode())
    partner = ca(6)[1].public_bytes(serialization.Encoding.PEM)  # a root from elsewhere, trusted by keytool
    _keytool("-importcert", "-alias", "partner root", "-noprompt", *common, stdin=partner)
    return Path(store)


def _keytool_view(store: Path, store_type: str, password: str) -> dict[str, tuple[str, int]]:
    """alias -> (entry type, chain length) as keytool lists them."""
    text = _keytool("-list", "-v", "-keystore", str(store), "-storetype", store_type, "-storepass", password)
    view: dict[str, tuple[str, int]] = {}
    for block in text.split("Alias name: ")[1:]:
        alias = block.splitlines()[0].strip()
        kind = re.search(r"Entry type: (\w+)", block).group(1)  # type: ignore[union-attr]
        length = re.search(r"Certificate chain length: (\d+)", block)
        view[alias] = (kind, int(length.group(1)) if length else 1)
    return view


def test_keytool_p12_to_kdb_to_p12_and_jks(tmp_path, keytool_p12):
    kdb = tmp_path / "middle.kdb"
    convert(str(keytool_p12), str(kdb), password=P12_PASS, dest_password=KDB_PASS)
    with open_store(keytool_p12, password=P12_PASS) as source:
        originals = {e.label: e for e in source.entries()}
    assert {label: (e.kind, len(e.chain)) for label, e in originals.items()} == {
        "issuing ca": (EntryKind.KEY_PAIR, 1), "web server": (EntryKind.KEY_PAIR, 2),
        "partner root": (EntryKind.TRUSTED_CERT, 1)}
    with open_store(kdb, password=KDB_PASS) as middle:
        assert sorted(middle.labels()) == sorted(originals)  # no extra signer: the CA is there as a key pair
        for label, original in originals.items():
            got = middle.get(label)
            assert got.kind is original.kind
            assert got.chain == original.chain
            if original.kind is EntryKind.KEY_PAIR:
                assert same_key(got.key, original.key)
            else:
                assert got.trust is not None
    if gskit.available():
        with gskit.Database(kdb, KDB_PASS) as db:
            assert sorted(db.labels()) == sorted(originals)
    for suffix, store_type in ((".p12", "PKCS12"), (".jks", "JKS")):
        back = tmp_path / f"back{suffix}"
        convert(str(kdb), str(back), password=KDB_PASS, dest_password=P12_PASS)
        assert _keytool_view(back, store_type, P12_PASS) == EXPECTED  # keytool's judgement
        with open_store(back, password=P12_PASS) as result:
            for label, original in originals.items():
                got = result.get(label)
                assert got.chain == original.chain and got.kind is original.kind
                if original.kind is EntryKind.KEY_PAIR:
                    assert same_key(got.key, original.key)
                else:
                    assert got.trust is not None
