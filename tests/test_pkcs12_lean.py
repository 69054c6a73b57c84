"""PKCS#12 reading without asn1crypto (issue 15): keystores/backends/pkcs12/structure.py and crypto/pbe_params.py read
plain DER themselves and hand everything else to asn1crypto. These tests hold them to asn1crypto's reading, check
that `list` loads neither asn1crypto nor cryptography's x509, and that BER files still read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hardening import PASSWORD, base_entries
from helpers import warned_of

from keystores.backends.pkcs12 import by_asn1crypto, structure
from keystores.crypto import der, pbe, pbe_params
from keystores.store import open_store


def make_store(location: str, *, profile: str = "modern") -> None:
    with warned_of(profile), \
            open_store(location, password=PASSWORD, type="pkcs12", create=True, profile=profile) as store:
        for entry in base_entries():
            store.add(entry)


def _keytool_store(folder: Path) -> Path:
    path = folder / "kt.p12"
    subprocess.run(["keytool", "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=server", "-storetype", "PKCS12", "-keystore", str(path), "-storepass:env", "PW"],
                   check=True, capture_output=True, env={**os.environ, "PW": PASSWORD})
    return path


def _openssl_store(folder: Path, *extra: str) -> Path:
    key, cert, path = folder / "k.pem", folder / "c.pem", folder / f"o{len(extra)}.p12"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=o", "-keyout", str(key), "-out", str(cert), "-days", "2"], check=True,
                   capture_output=True)
    subprocess.run(["openssl", "pkcs12", "-export", *extra, "-inkey", str(key), "-in", str(cert), "-name", "o",
                    "-out", str(path), "-passout", f"pass:{PASSWORD}"], check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("lean")
    made = []
    for profile in ("modern", "compat"):
        path = folder / f"{profile}.p12"
        make_store(str(path), profile=profile)
        made.append(path)
    made += [_keytool_store(folder), _openssl_store(folder), _openssl_store(folder, "-legacy"),
             _openssl_store(folder, "-keypbe", "AES-128-CBC", "-certpbe", "DES-EDE3-CBC", "-macalg", "sha512")]
    return made


def _bags(data: bytes) -> list[tuple[structure.Bag, bytes]]:
    """Every SafeContents of the file as both readers see it: (bag by structure, its SafeContents DER)."""
    pfx = structure.read_pfx(data, "x")
    found = []
    for part in structure.read_authenticated_safe(pfx.safe):
        plain = part.data if part.kind == "data" else pbe.decrypt_with(part.algorithm, part.data, PASSWORD)
        found += [(bag, plain) for bag in structure.read_safe_contents(plain)]
    return found


def test_der_reading_is_asn1cryptos(files: list[Path]) -> None:
    """Every layer of every file, read as DER, equals what asn1crypto reads; and the DER path is taken."""
    for path in files:
        data = path.read_bytes()
        assert structure._pfx(data) == by_asn1crypto._pfx_by_asn1crypto(data, "x"), path
        safe = structure._pfx(data).safe
        assert [structure._part(safe, e) for e in der.inside(safe, whole=True)] == by_asn1crypto._parts_by_asn1crypto(
            safe), path
        for part in structure.read_authenticated_safe(safe):
            if part.kind == "encrypted_data" and pbe_params.common(part.algorithm) is None:  # RC2-40: asn1crypto's
                assert der.oid_text(der.value(part.algorithm, 2)[1]) == "1.2.840.113549.1.12.1.6", path
        seen = set()
        for _, plain in _bags(data):
            if plain in seen:
                continue
            seen.add(plain)
            fast = [structure._bag(plain, e) for e in der.inside(plain, whole=True)]
            assert fast == by_asn1crypto._bags_by_asn1crypto(plain), path
            for bag in fast:
                if bag.kind == "pkcs8_shrouded_key_bag":
                    algorithm, _ = pbe_params.encrypted_private_key_info(bag.value)  # type: ignore[misc]
                    assert pbe_params.common(algorithm) is not None, path


def test_common_schemes_are_described_and_checked_as_asn1crypto_reads_them(files: list[Path]) -> None:
    from asn1crypto import algos

    from keystores.limits import KdfBudget

    algorithms = set()
    for path in files:
        for part in structure.read_authenticated_safe(structure.read_pfx(path.read_bytes(), "x").safe):
            if part.kind == "encrypted_data":
                algorithms.add(part.algorithm)
        for bag, _ in _bags(path.read_bytes()):
            if bag.kind == "pkcs8_shrouded_key_bag":
                algorithms.add(pbe_params.encrypted_private_key_info(bag.value)[0])  # type: ignore[index]
    names = set()
    for algorithm in algorithms:
        loaded = algos.EncryptionAlgorithm.load(algorithm)
        names.add(loaded["algorithm"].native)
        assert pbe.scheme(algorithm) == pbe.scheme(loaded)
        fast, slow = KdfBudget(), KdfBudget()
        assert pbe.check_parameters(algorithm, fast) == pbe.check_parameters(loaded, slow) == loaded.kdf_iterations
        assert (fast.limit, fast.spent) == (slow.limit, slow.spent)  # what each path charged
    assert {"pbes2", "pkcs12_sha1_tripledes_3key"} <= names


def test_each_algorithm_identifier_is_read_once(files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """pbe_params.common keeps what it read (a file's part is asked about nine times as it is opened): the same
    answer, read once, for schemes it reads and for the ones it leaves to asn1crypto (None); at most _KEPT kept."""
    reads = []
    real = pbe_params._algorithm

    def counted(data: bytes) -> pbe_params.CommonPbe:
        reads.append(data)
        return real(data)

    def unkept(data: bytes) -> pbe_params.CommonPbe | None:
        try:
            return real(data)
        except der.DerError:
            return None

    monkeypatch.setattr(pbe_params, "_algorithm", counted)
    monkeypatch.setattr(pbe_params, "_READ", {})
    algorithms = [part.algorithm for path in files
                  for part in structure.read_authenticated_safe(structure.read_pfx(path.read_bytes(), "x").safe)
                  if part.kind == "encrypted_data"]
    first = [pbe_params.common(algorithm) for algorithm in algorithms]
    assert first == [unkept(algorithm) for algorithm in algorithms] and None in first  # (the legacy file's RC2)
    assert [pbe_params.common(algorithm) for algorithm in algorithms] == first
    assert len(reads) == len(set(algorithms))
    monkeypatch.setattr(pbe_params, "_READ", {})
    reads.clear()
    with open_store(files[2], password=PASSWORD) as store:
        assert [entry.label for entry in store.entries()] == ["server"]
    assert len(reads) == len(set(reads)) == 2  # keytool's file: its part's and its key bag's, once each
    monkeypatch.setattr(pbe_params, "_KEPT", 2)
    for salt in range(5):
        pbe_params.common(b"\x30\x03\x02\x01" + bytes([salt]))  # (not an AlgorithmIdentifier: None)
    assert len(pbe_params._READ) <= 2


def test_anything_but_plain_der_goes_to_asn1crypto(tmp_path: Path) -> None:
    """A PFX in BER (indefinite lengths, as some older tools write) lists as its DER form does; damage is named in
    asn1crypto's words as before."""
    path = tmp_path / "d.p12"
    make_store(str(path))
    data = path.read_bytes()
    _, start, end = der.read(data)
    ber = b"\x30\x80" + data[start:end] + b"\x00\x00"
    (tmp_path / "ber.p12").write_bytes(ber)
    with pytest.raises(der.DerError):
        structure._pfx(ber)

    def listing(location: Path) -> list[tuple[str, str, bytes]]:
        with open_store(location, password=PASSWORD) as store:
            return [(e.label, str(e.kind), e.chain[0].fingerprint(_sha256())) for e in store.entries()]

    assert listing(tmp_path / "ber.p12") == listing(path)
    from keystores.errors import CorruptStore

    (tmp_path / "cut.p12").write_bytes(data[:-40])
    with pytest.raises(CorruptStore, match="not a readable PKCS#12 file"):
        open_store(tmp_path / "cut.p12", password=PASSWORD)


def _sha256():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def test_certificates_are_carried_as_the_file_holds_them() -> None:
    """PKITS' UIDCACert.p12 holds a certificate whose subjectUniqueID asn1crypto re-encodes when it dumps it; the
    entry's certificate is the file's bytes (openssl's fingerprint), not asn1crypto's re-encoding."""
    import importlib.util

    spec = importlib.util.find_spec("cryptography_vectors")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("cryptography_vectors is not installed")
    vector = Path(next(iter(spec.submodule_search_locations))) / "x509/PKITS_data/pkcs12/UIDCACert.p12"
    with open_store(vector, password="password") as store:
        (entry,) = store.entries()
        fingerprint = entry.chain[0].fingerprint(_sha256()).hex()
    assert fingerprint.startswith("bbcc8a4bd4e2723afc476e14dd95ef19")


def _modules_after_list(location: Path, *, command: str = "list", extra: tuple[str, ...] = ()) -> list[str]:
    probe = ("import atexit, json, sys\n"
             "atexit.register(lambda: print(json.dumps(sorted(sys.modules)), file=sys.stderr))\n"
             "from keystores.cli.main import run\nrun(sys.argv[1:])\n")
    done = subprocess.run([sys.executable, "-c", probe, command, str(location), *extra, "-p", "env:PW"],
                          capture_output=True, text=True, check=False,
                          env={"PATH": os.environ["PATH"], "PW": PASSWORD, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_listing_a_pkcs12_imports_no_asn1crypto_nor_x509(files: list[Path]) -> None:
    """`list` of keytool's file (PBES2, AES-256, HMAC-SHA256) and of the compat profile (3DES, SHA-1): the MAC is
    checked (a wrong password fails), the certificates are decrypted by the interpreter's libcrypto
    (keystores.crypto.libcrypto, hashlib's PBKDF2): no cryptography at all, as for `export` of the certificate.
    `convert` to PEM opens the key without asn1crypto too."""
    compat = files[2].parent / "kt-compat.p12"
    with open_store(files[2], password=PASSWORD) as source, \
            warned_of("compat"), open_store(compat, password=PASSWORD, create=True, profile="compat") as copy:
        for entry in source.entries():
            copy.add(entry)
    for path in (files[2], compat):
        loaded = _modules_after_list(path)
        assert not [m for m in loaded if m.split(".")[0] == "asn1crypto"], path
        assert "keystores.backends.pkcs12.by_asn1crypto" not in loaded, path  # plain DER: structure.py reads it
        assert "cryptography.x509" not in loaded and "keystores.backends.pkcs12.write" not in loaded, path
        assert not [m for m in loaded if m.split(".")[0] == "cryptography"], path
        assert "datetime" not in loaded, path  # only a secret key's creation time needs it
        assert "hmac" not in loaded, path  # the MAC by _hashlib's own HMAC (mac._hmac)
        assert "hashlib" not in loaded, path  # _hashlib's own PBKDF2, HMAC and digests (no constructor for each)
        exported = _modules_after_list(path, command="export",
                                       extra=("server", "-o", str(path.parent / "kt-cert.pem"), "--force"))
        assert not [m for m in exported if m.split(".")[0] == "cryptography"], path
        assert "hashlib" not in exported, path
    converted = _modules_after_list(files[2], command="convert", extra=(str(files[2].parent / "kt.pem"),))
    assert not [m for m in converted if m.split(".")[0] == "asn1crypto"]  # the key is decrypted and judged by DER
    assert "hashlib" not in converted
    rewritten = _modules_after_list(files[2], command="convert",
                                    extra=(str(files[2].parent / "kt-again.p12"), "--dest-password", "env:PW"))
    assert "hashlib" not in rewritten  # the writer's localKeyId digests are _hashlib's too
    wrong = subprocess.run([sys.executable, "-m", "keystores", "list", str(files[2]), "-p", "env:PW"],
                           capture_output=True, text=True, check=False,
                           env={"PATH": os.environ["PATH"], "PW": "not the password", "NO_COLOR": "1"})
    assert wrong.returncode == 3 and "wrong password (the PKCS#12 MAC does not match)" in wrong.stderr


def test_showing_a_pkcs12_hashes_by_the_openssl_module_its_mac_loaded(files: list[Path]) -> None:
    """`show` takes the fingerprints from _hashlib's constructors (hashlib's own), loaded for the MAC and the
    derivations: no built-in hash module (a shared library each) and no hashlib (keystores.crypto.digests)."""
    shown = _modules_after_list(files[2], command="show", extra=("server",))
    assert "_hashlib" in shown and not {"_sha1", "_sha256", "_sha2", "hashlib"} & set(shown)


def test_labels_are_made_unique_without_loading_pki_labels_until_one_repeats(files: list[Path],
                                                                            tmp_path: Path) -> None:
    """keystores.pki.labels is loaded once a label repeats (read._Labels): keytool's file loads it not, and a file
    whose friendlyNames repeat (OpenSSL's -caname) still shows them numbered, with the one note."""
    assert "keystores.pki.labels" not in _modules_after_list(files[2])
    assert "keystores.pki.labels" not in _modules_after_list(files[2], command="show", extra=("server",))
    key, certs = tmp_path / "k.pem", []
    for name in ("a", "b", "c"):
        certs.append(tmp_path / f"{name}.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(certs[-1]), "-days", "2"],
                       check=True, capture_output=True)
    (tmp_path / "bc.pem").write_bytes(certs[1].read_bytes() + certs[2].read_bytes())
    expected = {"same": (["same", "same (2)", "same (3)"], "2 entries share a name with an earlier one and are shown "
                         "renamed: 'same (2)' for 'same', 'same (3)' for 'same'"),
                "same (2)": (["same", "same (2)", "same (2) (2)"], "1 entries share a name with an earlier one and "
                             "are shown renamed: 'same (2) (2)' for 'same (2)'")}
    for second, (labels, note) in expected.items():
        path = tmp_path / f"dup{len(second)}.p12"
        subprocess.run(["openssl", "pkcs12", "-export", "-nokeys", "-in", str(certs[0]), "-certfile",
                        str(tmp_path / "bc.pem"), "-caname", "same", "-caname", second, "-caname", second,
                        "-out", str(path), "-passout", f"pass:{PASSWORD}"], check=True, capture_output=True)
        with open_store(path, password=PASSWORD) as store:
            assert [entry.label for entry in store.entries()] == labels
            renamed = [note for note in store.notes if "share a name" in note]
            assert renamed == [f"{path}: {note}"]
        assert "keystores.pki.labels" in _modules_after_list(path)


def test_a_file_of_one_certificate_names_none(files: list[Path], tmp_path: Path) -> None:
    """read._name_certificates reads issuers and subjects (keystores.pki.columns) only where a file holds two
    certificates or more: converting keytool's one-certificate file to JKS or PKCS#12 loads no pki.columns. A file
    whose one certificate is not self-issued (a leaf without its CA) still gives its key a chain of that certificate,
    as a file holding the CA beside it gives the two."""
    for dest in ("kt.jks", "kt-columns.p12"):
        loaded = _modules_after_list(files[2], command="convert",
                                     extra=(str(tmp_path / dest), "--dest-password", "env:PW"))
        assert "keystores.pki.columns" not in loaded, dest
    ca_key, ca, key, csr, leaf = (tmp_path / name for name in ("ca.key", "ca.pem", "k.pem", "r.csr", "c.pem"))
    run = lambda *argv: subprocess.run(argv, check=True, capture_output=True)  # noqa: E731
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj",
        "/CN=ca", "-keyout", str(ca_key), "-out", str(ca), "-days", "2")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=leaf",
        "-keyout", str(key), "-out", str(csr))
    run("openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-set_serial", "7",
        "-out", str(leaf), "-days", "2")
    alone, beside = tmp_path / "alone.p12", tmp_path / "beside.p12"
    run("openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(leaf), "-name", "leaf", "-out", str(alone),
        "-passout", f"pass:{PASSWORD}")
    run("openssl", "pkcs12", "-export", "-inkey", str(key), "-in", str(leaf), "-certfile", str(ca), "-name", "leaf",
        "-out", str(beside), "-passout", f"pass:{PASSWORD}")
    for path, length in ((alone, 1), (beside, 2)):
        with open_store(path, password=PASSWORD) as store:
            entry = store.get("leaf")
            assert len(entry.chain_der()) == length, path
            assert entry.chain[0].subject.rfc4514_string() == "CN=leaf"


def test_a_held_key_is_written_without_pki_pkcs8(files: list[Path], tmp_path: Path) -> None:
    """A sealed EC key converted to JKS, a .kdb or PEM is written as the PKCS#8 keystores.pki.held_pkcs8 reads from
    its decrypted bytes: none of keystores.pki.pkcs8 (its writers from cryptography's keys, HeldEcKey) is loaded."""
    for dest in ("held.jks", "held.kdb", "held.pem"):
        loaded = _modules_after_list(files[2], command="convert",
                                     extra=(str(tmp_path / dest), "--dest-password", "env:PW"))
        assert "keystores.pki.held_pkcs8" in loaded and "keystores.pki.pkcs8" not in loaded, dest


def test_a_decrypted_key_is_judged_as_asn1crypto_judges_it() -> None:
    """pbe._is_pkcs8 reads RSA and EC keys' structure itself: its verdict is asn1crypto's, on keys and on near-keys
    (what a wrong password can give)."""
    from asn1crypto import keys
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    def asn1crypto_says(plain: bytes) -> bool:
        try:
            keys.PrivateKeyInfo.load(plain, strict=True)["private_key"].parsed  # noqa: B018
        except (ValueError, TypeError):
            return False
        return True

    real = [key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption())
            for key in (ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 1024))]
    near = []
    for plain in real:
        elements = der.inside(plain, whole=True)
        key = der.element_octets(plain, elements[2])
        head = plain[: elements[2][1]]
        for inner in (key[:-3], key + b"\x00", b"\x04" + key[1:], b"\x30\x00"):
            near.append(der.sequence(head[elements[0][1] :], der.octet_string(inner)))
    for plain in real + near:
        assert pbe._is_pkcs8(plain) == asn1crypto_says(plain), plain.hex()
    assert all(pbe._is_pkcs8(plain) for plain in real)


@pytest.mark.parametrize(("hash_name", "openssl_name", "purpose", "iterations", "size"),
                         [("sha1", "SHA1", 1, 2048, 24), ("sha1", "SHA1", 2, 1, 8), ("sha256", "SHA256", 3, 10000, 32),
                          ("sha256", "SHA256", 1, 7, 70), ("sha512", "SHA512", 3, 3, 130)])
def test_the_pkcs12_kdf_is_openssls(hash_name: str, openssl_name: str, purpose: int, iterations: int,
                                    size: int) -> None:
    """crypto/kdf.py's PKCS#12 KDF (its loop is tuned for speed) gives what `openssl kdf ... PKCS12KDF` gives, for
    keys longer than one digest too."""
    from keystores.crypto.kdf import bmp_password, pkcs12_kdf

    password, salt = bmp_password("pässword"), bytes(range(1, 21))
    done = subprocess.run(["openssl", "kdf", "-keylen", str(size), "-kdfopt", f"digest:{openssl_name}", "-kdfopt",
                           f"hexpass:{password.hex()}", "-kdfopt", f"hexsalt:{salt.hex()}", "-kdfopt",
                           f"iter:{iterations}", "-kdfopt", f"id:{purpose}", "PKCS12KDF"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this openssl has no PKCS12KDF: {done.stderr.strip()[:80]}")
    expected = bytes.fromhex(done.stdout.strip().replace(":", ""))
    assert pkcs12_kdf(password, salt, purpose, iterations, size, hash_name) == expected


def test_on_damaged_bytes_the_der_reader_refuses_or_agrees(files: list[Path]) -> None:
    """Bytes flipped at random (seeded) in keytool's PFX, in its decrypted SafeContents and in a PBE
    AlgorithmIdentifier: the DER readers either hand the bytes to asn1crypto or read what asn1crypto reads; never
    do they accept what asn1crypto refuses."""
    import random

    from asn1crypto import algos

    data = files[2].read_bytes()
    parts = structure.read_authenticated_safe(structure.read_pfx(data, "x").safe)
    plains = [part.data if part.kind == "data" else pbe.decrypt_with(part.algorithm, part.data, PASSWORD)
              for part in parts]
    algorithm = next(part.algorithm for part in parts if part.kind == "encrypted_data")
    chance = random.Random(15)

    def damaged(original: bytes) -> bytes:
        flipped = bytearray(original)
        for _ in range(chance.choice((1, 1, 2, 3))):
            flipped[chance.randrange(len(flipped))] = chance.randrange(256)
        return bytes(flipped)

    def bags(plain: bytes) -> list[structure.Bag]:
        return [structure._bag(plain, element) for element in der.inside(plain, whole=True)]

    def scheme(alg: bytes) -> tuple[object, ...]:
        found = pbe_params.common(alg)
        if found is None:
            raise der.DerError("not common")
        return found.name, found.prf, found.salt, found.iterations, found.key_length, found.cipher, found.iv

    def asn1crypto_scheme(alg: bytes) -> tuple[object, ...]:
        loaded = algos.EncryptionAlgorithm.load(alg, strict=True)
        return (loaded["algorithm"].native, loaded.kdf_hmac, loaded.kdf_salt, loaded.kdf_iterations,
                loaded.key_length, loaded.encryption_cipher, loaded.encryption_iv)

    readers = [(data, structure._pfx, lambda d: by_asn1crypto._pfx_by_asn1crypto(d, "x")),
               (algorithm, scheme, asn1crypto_scheme)] + [(plain, bags, by_asn1crypto._bags_by_asn1crypto)
                                                           for plain in plains]
    agreed = 0
    for _ in range(300):
        for original, ours, theirs in readers:
            sample = damaged(original)
            try:
                read = ours(sample)
            except (der.DerError, UnicodeDecodeError):
                continue  # asn1crypto reads it
            assert read == theirs(sample), sample.hex()
            agreed += 1
    assert agreed > 300  # most flips land in values both read alike


def test_the_mac_s_hmac_is_hmac_s() -> None:
    """mac._hmac (OpenSSL's HMAC through _hashlib, as hmac.digest does it) gives hmac.new's digest for every MAC hash
    a PKCS#12 may name, falling back to hmac where OpenSSL lacks one; compare_digest is hmac's."""
    import hmac
    import random

    from keystores.backends.pkcs12 import mac

    assert mac.compare_digest is hmac.compare_digest
    chance = random.Random(15)
    for name in sorted(set(mac._MAC_HASHES.values())):
        for size in (0, 1, 63, 64, 65, 200, 5000):
            key, content = chance.randbytes(chance.choice([0, 20, 32, 64, 200])), chance.randbytes(size)
            try:
                expected = hmac.new(key, content, name).digest()
            except ValueError:  # not in this interpreter at all
                continue
            assert mac._hmac(key, content, name) == expected, name


def test_a_digest_openssl_lacks_falls_back_to_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    import hmac

    from keystores.backends.pkcs12 import mac

    def unsupported(key: bytes, content: bytes, name: str) -> bytes:
        raise ValueError(f"unsupported hash type {name}")  # as _hashlib.UnsupportedDigestmodError

    monkeypatch.setattr(mac, "_openssl_hmac", unsupported)
    assert mac._hmac(b"key", b"content", "sha256") == hmac.new(b"key", b"content", "sha256").digest()
