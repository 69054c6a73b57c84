"""export and convert of a PKCS#12 write certificates from the DER the store holds (issue 15, start-up):
keystores/lazy_entries.chain_der, backends/pem/write.py and ops/transfer.export_entry. These tests hold the lean
path to the full one (every chain decoded by cryptography first, as before), byte for byte, over our own stores,
keytool's and openssl's, and the cryptography-vectors PKCS#12 files; check that the small commands import no
cryptography.x509 (nor dataclasses, where no key is written); and let openssl judge what is written."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hardening import PASSWORD, base_entries
from test_pkcs12_lean import _keytool_store

from keystores.crypto import der, pbe
from keystores.errors import KeystoreError
from keystores.model import EntryKind
from keystores.ops import transfer
from keystores.store import open_store

OUT_PASSWORD = "Out-Pw-1"


def _openssl_chain_store(folder: Path) -> Path:
    """A key, its certificate issued by a CA, and the CA in the chain (openssl pkcs12 -export -certfile)."""
    def run(*argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True, cwd=folder)

    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=Lean CA/O=keystores", "-keyout",
        "ca.key", "-out", "ca.pem", "-days", "30")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-subj",
        "/O=keystores/OU=no common name", "-keyout", "leaf.key", "-out", "leaf.csr")
    run("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "leaf.pem", "-days", "30")
    path = folder / "chain.p12"
    run("openssl", "pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile", "ca.pem", "-name",
        "leaf", "-out", str(path), "-passout", f"pass:{PASSWORD}")
    return path


def _vectors() -> list[tuple[Path, str | None]]:
    """The cryptography-vectors PKCS#12 files (their passwords as fixtures/corpus.py names them), and every 12th
    of PKITS' (a certificate and key each, under "password")."""
    spec = importlib.util.find_spec("cryptography_vectors")
    if spec is None or not spec.submodule_search_locations:
        return []
    root = Path(next(iter(spec.submodule_search_locations)))
    found: list[tuple[Path, str | None]] = []
    for path in sorted((root / "pkcs12").glob("*.p12")):
        password: str | None = "cryptography"
        if "no-pwd" in path.name or path.name == "no-password.p12":
            password = None
        elif path.name.startswith(("name-", "no-cert-name-", "no-cert-no-name-", "no-name-")):
            password = "password"
        elif path.name == "java-truststore.p12":
            password = ""
        found.append((path, password))
    found += [(path, "password") for path in sorted((root / "x509/PKITS_data/pkcs12").glob("*.p12"))[::12]]
    return found


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, str | None]]:
    folder = tmp_path_factory.mktemp("sources")
    ours = folder / "ours.p12"
    with open_store(ours, password=PASSWORD, create=True) as store:
        for entry in base_entries():
            store.add(entry)
    return [(ours, PASSWORD), (_keytool_store(folder), PASSWORD), (_openssl_chain_store(folder), PASSWORD),
            *_vectors()]


_ENCRYPTED_KEY = re.compile(rb"-----BEGIN ENCRYPTED PRIVATE KEY-----\n(.*?)-----END ENCRYPTED PRIVATE KEY-----\n",
                            re.S)


def _without_randomness(data: bytes) -> bytes:
    """An encrypted key (salt and IV are fresh on every write) as its plain PKCS#8 and its encryption parameters
    with the salt's and IV's lengths in place of their values."""
    def opened(match: re.Match[bytes]) -> bytes:
        epki = base64.b64decode(match.group(1))
        return b"<key " + pbe.decrypt_pkcs8(epki, OUT_PASSWORD).hex().encode() + b" " + _shape(epki) + b">\n"

    return _ENCRYPTED_KEY.sub(opened, data)


def _shape(epki: bytes) -> bytes:
    """How an EncryptedPrivateKeyInfo is protected: its scheme, KDF, salt length, iterations, key length, PRF, cipher
    and IV length (everything but the salt's and IV's values)."""
    from asn1crypto import keys

    algorithm = keys.EncryptedPrivateKeyInfo.load(epki)["encryption_algorithm"]
    parameters = algorithm["parameters"]
    kdf = parameters["key_derivation_func"]["parameters"]
    cipher = parameters["encryption_scheme"]
    return repr((algorithm["algorithm"].dotted, parameters["key_derivation_func"]["algorithm"].dotted,
                 len(kdf["salt"].native), kdf["iteration_count"].native, kdf["key_length"].native, kdf["prf"].dump(),
                 cipher["algorithm"].dotted, len(cipher["parameters"].native))).encode()


def _outputs(source: Path, password: str | None, folder: Path, *, decoded: bool) -> dict[str, str]:
    """What export (certificate, chain, key, PEM and DER) and convert (PEM, DER) write of every entry, or the
    error each gives; `decoded`: every chain decoded by cryptography before anything is written (the full path)."""
    results: dict[str, str] = {}
    try:
        store = open_store(source, password=password)
    except KeystoreError as exc:
        return {"open": f"{type(exc).__name__}: {exc.reason}"}
    with store:
        entries = list(store.entries())
        for entry in entries:
            if decoded:
                assert entry.chain is not None and entry.undecoded_chain is None
                if entry.kind is EntryKind.KEY_PAIR:  # and the key loaded by cryptography, not held as PKCS#8
                    assert entry.key is not None and entry.held_pkcs8() is None
        cases = {"cert.pem": {}, "cert.der": {"out_format": "der"}, "chain.pem": {"include_chain": True},
                 "key.pem": {"include_key": True},
                 "key-chain-encrypted.pem": {"include_key": True, "include_chain": True,
                                             "dest_password": OUT_PASSWORD}}
        for index, entry in enumerate(entries):
            for name, options in cases.items():
                out = folder / f"{index}.{name}"
                out.unlink(missing_ok=True)
                options = {"out_format": "pem", **options}
                results[f"{entry.label} {name}"] = _written(
                    lambda out=out, options=options, label=entry.label: transfer.export_entry(store, label, out,
                                                                                               **options), out)
        for name, options in {"convert.pem": {}, "convert-encrypted.pem": {"dest_password": OUT_PASSWORD},
                              "convert.der": {"dest_type": "der"}}.items():
            out = folder / name
            out.unlink(missing_ok=True)
            results[name] = _written(lambda out=out, options=options: transfer.convert(
                store, out, untrusted="skip", **{"dest_type": "pem", **options}), out)
    return results


def _written(write: object, out: Path) -> str:
    try:
        write()  # type: ignore[operator]
    except KeystoreError as exc:
        return f"{type(exc).__name__}: {exc.reason}"
    return _without_randomness(out.read_bytes()).decode("latin-1")


def test_what_is_written_from_the_der_held_is_what_the_full_path_writes(sources, tmp_path: Path) -> None:
    written = 0
    for source, password in sources:
        lean = _outputs(source, password, tmp_path, decoded=False)
        full = _outputs(source, password, tmp_path, decoded=True)
        assert lean == full, source.name
        written += sum(not value.startswith(("CapabilityError", "UsageError", "EntriesRefused", "Unsupported"))
                       for value in lean.values())
    assert written > 200  # certificates, chains and keys of every kind of source were written, not only refused


def test_a_certificate_is_armoured_as_cryptography_armours_it(sources) -> None:
    """The decoded path writes certificates with der.pem_armor too: it is cryptography's PEM."""
    count = 0
    for source, password in sources:
        try:
            store = open_store(source, password=password)
        except KeystoreError:
            continue
        with store:
            for entry in store.entries():
                for cert in entry.chain:
                    pem = cert.public_bytes(serialization.Encoding.PEM)
                    assert der.pem_armor("CERTIFICATE", cert.public_bytes(serialization.Encoding.DER)) == pem
                    count += 1
    assert count > 50


def _modules_after(*argv: str) -> list[str]:
    probe = ("import atexit, json, sys\n"
             "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
             "from keystores.cli.main import run\nrun(sys.argv[1:])\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv, "-p", "env:PW"], capture_output=True, text=True,
                          check=False, env={"PATH": os.environ["PATH"], "PW": PASSWORD, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_export_and_convert_of_a_small_pkcs12_import_no_x509(tmp_path: Path) -> None:
    """The start-up rows of bench/bench_core.py: `export one.p12 server -o cert.pem` and `convert one.p12 x.pem` of
    keytool's one-key store; the certificate is written from the DER held, and what is written is judged by
    openssl (the certificate's fingerprint, the key with its password)."""
    source = _keytool_store(tmp_path)
    cert, chain, converted = tmp_path / "cert.pem", tmp_path / "cert.der", tmp_path / "conv.pem"
    for argv in (("export", str(source), "server", "-o", str(cert)),
                 ("export", str(source), "server", "-o", str(chain), "--chain", "--format", "der")):
        loaded = _modules_after(*argv)
        assert "cryptography.x509" not in loaded and "dataclasses" not in loaded, argv
        assert "cryptography.hazmat.primitives.serialization" not in loaded, argv
        assert "keystores.text" not in loaded, argv  # its notes need no escaping (cli.common.printable)
        # a certificate is labelled from its DER by keystores.crypto.der, not pki.columns (export's start-up)
        assert not [m for m in loaded if m.startswith("keystores.pki")], argv
        assert "keystores.backends.pem.reading" not in loaded, argv  # a new file is read by nothing
        assert "keystores.cli.transfer" not in loaded, argv  # import's and convert's commands (cli/transfer_export.py)
    loaded = _modules_after("convert", str(source), str(converted))
    assert "cryptography.x509" not in loaded and "dataclasses" not in loaded  # the key too: keystores.pki.pkcs8
    assert "binascii" not in loaded
    assert "keystores.cli.render" not in loaded  # its summary line needs no table module (cli/transfer.py)
    assert "keystores.pki.columns" not in loaded  # labelled by keystores.crypto.der (start-up)
    assert "keystores.backends.pem.reading" not in loaded
    assert "cryptography.hazmat.primitives.serialization" not in loaded
    # the EC key is written from its decrypted bytes (Entry.held_pkcs8), the certificate from its DER: no
    # cryptography at all
    assert not [m for m in loaded if m.split(".")[0] == "cryptography"]
    with open_store(source, password=PASSWORD) as store:
        expected = store.get("server").chain[0].public_bytes(serialization.Encoding.DER)
    assert chain.read_bytes() == expected
    openssl = subprocess.run(["openssl", "x509", "-in", str(cert), "-outform", "DER"], capture_output=True, check=True)
    assert openssl.stdout == expected
    keyed = tmp_path / "keyed.pem"
    done = subprocess.run([sys.executable, "-m", "keystores", "export", str(source), "server", "-o", str(keyed),
                           "--key", "-p", "env:PW", "--out-password", "env:OUT"], capture_output=True, text=True,
                          env={**os.environ, "PW": PASSWORD, "OUT": OUT_PASSWORD})
    assert done.returncode == 0, done.stderr
    for pem in (keyed, converted):  # the converted key is in the clear: no password given for the output
        key = subprocess.run(["openssl", "pkey", "-in", str(pem), "-passin", f"pass:{OUT_PASSWORD}", "-pubout"],
                             capture_output=True, text=True, check=False)
        assert key.returncode == 0 and "BEGIN PUBLIC KEY" in key.stdout, key.stderr
    assert b"ENCRYPTED PRIVATE KEY" in keyed.read_bytes()


def test_a_convert_to_a_kdb_hashes_by_the_libcrypto_its_source_loaded(tmp_path: Path) -> None:
    """keystores.crypto.digests: the .kdb's HMACs, its stash and its checks' comparison are OpenSSL's (_hashlib),
    which reading the PKCS#12 loaded, not the built-in SHA modules (a shared library each) and _operator; the
    database opens by its stash as written."""
    source = _keytool_store(tmp_path)
    kdb = tmp_path / "c.kdb"
    loaded = _modules_after("convert", str(source), str(kdb), "--dest-password", "env:PW", "--stash")
    assert "_hashlib" in loaded
    # (_operator, which compare_digest came from, is loaded here by the editable install's finder: not asserted)
    assert not {"_sha1", "_sha256", "_sha2", "hashlib", "hmac"} & set(loaded)
    with open_store(kdb) as store:  # by its stash: the HMACs and the stash are right
        assert "server" in store.labels()


def test_a_transfer_result_is_a_plain_value() -> None:
    first, second = transfer.TransferResult(), transfer.TransferResult()
    first.copied.append("a")
    assert second.copied == [] and first != second
    assert transfer.TransferResult(copied=["a"]) == first
    assert repr(first) == "TransferResult(copied=['a'], notes=[], skipped=[], left_out=[], encoded=None)"


def test_a_key_without_a_certificate_converts_to_der_as_that_key(tmp_path: Path) -> None:
    """A PKCS#12 key bag without a certificate, converted to DER: the key is the one object to write (it was an
    IndexError, an internal error, before)."""
    from helpers import ec_key

    from keystores.model import Entry, EntryKind

    source, out = tmp_path / "bare.p12", tmp_path / "bare.der"
    key = ec_key(3)
    with open_store(source, password=PASSWORD, create=True) as store:
        store.add(Entry(label="bare", kind=EntryKind.KEY_PAIR, key=key))
    result = transfer.convert(source, out, password=PASSWORD, dest_type="der")
    assert result.copied == ["bare"]
    assert out.read_bytes() == key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption())
    assert out.stat().st_mode & 0o077 == 0


def _keys() -> list[object]:
    """Keys of every type keystores.pki.pkcs8 writes, and some it leaves to cryptography; EC scalars with leading
    zero bytes, RSA with a small exponent."""
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa, x448, x25519
    from helpers import rsa_key

    keys: list[object] = []
    for curve in (ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1(), ec.SECP256K1()):
        keys += [ec.derive_private_key(value, curve) for value in (1, 2**64 + 7, 2**200 + 3)]
        keys += [ec.generate_private_key(curve) for _ in range(3)]
    keys += [rsa_key(0), rsa_key(1), rsa_key(2, size=3072), rsa.generate_private_key(3, 1024)]
    keys += [ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32))),
             ed448.Ed448PrivateKey.from_private_bytes(bytes(57)), x25519.X25519PrivateKey.generate(),
             x448.X448PrivateKey.generate(), dsa.generate_private_key(2048)]
    return keys


@pytest.mark.filterwarnings("ignore:DSA is deprecated")
def test_keys_are_encrypted_as_cryptography_encrypts_them() -> None:
    """keystores.pki.pkcs8.encrypted_pkcs8_der against cryptography's BestAvailableEncryption: the same plain key
    once decrypted and the same protection (PBES2, PBKDF2-HMAC-SHA-256 with NULL parameters, 2048 iterations, a
    16-byte salt, AES-256-CBC with a 16-byte IV), whether keystores or cryptography wrote it; openssl reads it with
    the password. (The plain PKCS#8 bytes: tests/test_pkcs8.py.)"""
    from keystores.pki.pkcs8 import _written_here, encrypted_pkcs8_der, pkcs8_der

    written_here = 0
    keys = _keys()
    for key in keys:
        plain = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                                  serialization.NoEncryption())
        assert der.pem_armor("PRIVATE KEY", pkcs8_der(key)) == key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        theirs = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                                   serialization.BestAvailableEncryption(OUT_PASSWORD.encode()))
        ours = encrypted_pkcs8_der(key, OUT_PASSWORD)
        assert pbe.decrypt_pkcs8(ours, OUT_PASSWORD) == plain and _shape(ours) == _shape(theirs)
        written_here += _written_here(key) is not None
    assert written_here == len(keys) - 10  # secp256k1's six, Ed448, X25519, X448 and DSA: cryptography's
    pem = der.pem_armor("ENCRYPTED PRIVATE KEY", encrypted_pkcs8_der(keys[0], OUT_PASSWORD))
    judged = subprocess.run(["openssl", "pkey", "-passin", f"pass:{OUT_PASSWORD}"], input=pem, capture_output=True,
                            check=True)
    assert judged.stdout == der.pem_armor("PRIVATE KEY", pkcs8_der(keys[0]))


def test_a_convert_and_an_export_make_no_error_class_they_do_not_raise(tmp_path: Path) -> None:
    """keystores.errors makes its rarer classes when first asked for (_MADE_ON_USE, ~11 us each): ops.transfer
    asks for StoreExists and EntriesRefused only where it raises them, so a convert and an export that succeed make
    neither; one onto an existing file still says so, as before."""
    source = _keytool_store(tmp_path)
    probe = ("import atexit, sys\n"
             "atexit.register(lambda: print(sorted(set(vars(sys.modules['keystores.errors'])) & {'StoreExists', "
             "'EntriesRefused'}), file=sys.stderr))\n"
             "from keystores.cli.main import run\nrun(sys.argv[1:])\n")
    for argv in (("convert", str(source), str(tmp_path / "c.pem")),
                 ("export", str(source), "server", "-o", str(tmp_path / "cert.pem"))):
        done = subprocess.run([sys.executable, "-c", probe, *argv, "-p", "env:PW"], capture_output=True, text=True,
                              check=False, env={"PATH": os.environ["PATH"], "PW": PASSWORD, "NO_COLOR": "1"})
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip().splitlines()[-1] == "[]", (argv, done.stderr)
    with pytest.raises(KeystoreError) as caught:
        transfer.convert(source, tmp_path / "c.pem", password=PASSWORD)
    assert type(caught.value).__name__ == "StoreExists" and caught.value.reason == "already exists"
