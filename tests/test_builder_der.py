"""keystores.pki.builder writes requests, certificates and their extensions with keystores.crypto.der (for start-up
speed, bench/bench_core.py "start-up: keystores certreq"/"sign"). Judged here: byte for byte against cryptography's
own builders given the same RSA keys (PKCS#1 v1.5 signatures are deterministic), names, serial and times; by
openssl (req -verify, verify, x509 -text) and keytool -printcert; and certreq's start-up is guarded in a subprocess
(no cryptography.x509 imported)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from keystores.model import private_key_signer
from keystores.pki import builder
from keystores.pki.dn import parse_dn

NOT_BEFORE = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
NOT_AFTER = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
AFTER_2050 = dt.datetime(2055, 6, 7, 8, 9, 10, tzinfo=dt.UTC)  # GeneralizedTime
SERIAL = 0x1234567890ABCDEF1234
SANS = ["DNS:web.example.com,IP:10.1.2.3,EMAIL:ops@example.com", "URI:https://example.com/x", "IP:2001:db8::1"]
SUBJECT = "CN=web+OU=ops,O=Ex\\,ample,L=Town,ST=Shire,C=GB,DC=example,E=ops@example.com,SERIALNUMBER=42"

EKUS = {"serverAuth": ExtendedKeyUsageOID.SERVER_AUTH, "clientAuth": ExtendedKeyUsageOID.CLIENT_AUTH,
        "emailProtection": ExtendedKeyUsageOID.EMAIL_PROTECTION, "codeSigning": ExtendedKeyUsageOID.CODE_SIGNING,
        "timeStamping": ExtendedKeyUsageOID.TIME_STAMPING, "OCSPSigning": ExtendedKeyUsageOID.OCSP_SIGNING}


@pytest.fixture(scope="module")
def keys() -> dict[str, object]:
    return {"ca": rsa.generate_private_key(65537, 2048), "rsa": rsa.generate_private_key(65537, 2048),
            "ec": ec.generate_private_key(ec.SECP384R1()), "ed25519": ed25519.Ed25519PrivateKey.generate()}


def _general_names(sans: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for name in builder.parse_sans(sans):
        names.append({"DNS": x509.DNSName, "EMAIL": x509.RFC822Name, "URI": x509.UniformResourceIdentifier}[name.kind](
            name.value) if name.kind != "IP" else x509.IPAddress(ipaddress.ip_address(name.value)))
    return names


def _cryptography_certificate(profile: str, public_key: object, ca_key: rsa.RSAPrivateKey, *, ca_cert: object = None,
                              not_after: dt.datetime = NOT_AFTER, path_length: int | None = None) -> bytes:
    """What cryptography's CertificateBuilder makes of the profile: the judge of builder.profile_extensions."""
    ekus, rsa_encipherment, eku_critical = builder.PROFILES[profile]
    is_ca = profile == "ca"
    usage = dict(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                 key_agreement=False, key_cert_sign=is_ca, crl_sign=is_ca, encipher_only=False, decipher_only=False)
    if not is_ca and rsa_encipherment and isinstance(public_key, rsa.RSAPublicKey):
        usage["key_encipherment"] = True
    built = (x509.CertificateBuilder().subject_name(parse_dn(SUBJECT).to_x509())
             .issuer_name(parse_dn("CN=Pinned CA,O=Example,C=GB").to_x509()).public_key(public_key)
             .serial_number(SERIAL).not_valid_before(NOT_BEFORE).not_valid_after(not_after)
             .add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_length if is_ca else None), True)
             .add_extension(x509.KeyUsage(**usage), True))
    if ekus:
        built = built.add_extension(x509.ExtendedKeyUsage([EKUS[name] for name in ekus]), eku_critical)
    built = built.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
    if ca_cert is not None:
        ski = ca_cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER).value
        aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)
    else:
        aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    built = built.add_extension(aki, False)
    if not is_ca:
        built = built.add_extension(x509.SubjectAlternativeName(_general_names(SANS)), False)
    return built.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def _ours(profile: str, public_key: object, ca_key: rsa.RSAPrivateKey, *, ca_cert: object = None,
          not_after: dt.datetime = NOT_AFTER, path_length: int | None = None) -> bytes:
    extensions = builder.profile_extensions(profile, public_key, issuer_public_key=ca_key.public_key(),
                                            issuer_cert=ca_cert, path_length=path_length,
                                            sans=() if profile == "ca" else builder.parse_sans(SANS))
    return builder.build_certificate_der(private_key_signer(ca_key), subject=parse_dn(SUBJECT),
                                         issuer=parse_dn("CN=Pinned CA,O=Example,C=GB"), public_key=public_key,
                                         not_before=NOT_BEFORE, not_after=not_after, extensions=extensions,
                                         serial=SERIAL)


@pytest.mark.parametrize("profile", list(builder.PROFILES))
@pytest.mark.parametrize("kind", ["rsa", "ec", "ed25519"])
def test_certificates_are_byte_for_byte_what_cryptography_builds(keys: dict, profile: str, kind: str) -> None:
    public_key = keys[kind].public_key()
    path_length = 1 if profile == "ca" else None
    assert _ours(profile, public_key, keys["ca"], path_length=path_length) == _cryptography_certificate(
        profile, public_key, keys["ca"], path_length=path_length)


def test_authority_key_identifier_comes_from_the_ca_certificate_and_2050_dates_are_generalized(keys: dict) -> None:
    # a CA certificate whose subject key identifier is not SHA-1 of its key: the AKI must copy it, not recompute it
    ca_cert = (x509.CertificateBuilder().subject_name(parse_dn("CN=Pinned CA,O=Example,C=GB").to_x509())
               .issuer_name(parse_dn("CN=Pinned CA,O=Example,C=GB").to_x509()).public_key(keys["ca"].public_key())
               .serial_number(1).not_valid_before(NOT_BEFORE).not_valid_after(AFTER_2050)
               .add_extension(x509.SubjectKeyIdentifier(b"\x01" * 8), False).sign(keys["ca"], hashes.SHA256()))
    public_key = keys["rsa"].public_key()
    ours = _ours("server", public_key, keys["ca"], ca_cert=ca_cert, not_after=AFTER_2050)
    assert ours == _cryptography_certificate("server", public_key, keys["ca"], ca_cert=ca_cert, not_after=AFTER_2050)
    assert x509.load_der_x509_certificate(ours).not_valid_after_utc == AFTER_2050


@pytest.mark.parametrize("when", [NOT_BEFORE, dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
                                  dt.datetime(2050, 1, 1, tzinfo=dt.UTC), AFTER_2050,
                                  dt.datetime(1970, 1, 1, tzinfo=dt.UTC)])
def test_times_given_as_posix_seconds_are_written_as_the_same_datetimes(keys: dict, when: dt.datetime) -> None:
    """certreq's placeholder takes its validity as POSIX seconds (pki.when.build_validity, no datetime import): the
    same certificate, byte for byte, as with datetimes of the same instants, UTCTime and GeneralizedTime alike."""
    signer, public_key = private_key_signer(keys["ca"]), keys["rsa"].public_key()  # RSA: the same signature each time

    def built(not_before: dt.datetime | int, not_after: dt.datetime | int) -> bytes:
        return builder.build_certificate_der(signer, subject=parse_dn(SUBJECT), issuer=parse_dn(SUBJECT),
                                             public_key=public_key, not_before=not_before, not_after=not_after,
                                             serial=SERIAL)

    end = when + dt.timedelta(days=90)
    assert built(int(when.timestamp()), int(end.timestamp())) == built(when, end)


@pytest.mark.parametrize("sans", [[], SANS])
def test_requests_are_byte_for_byte_what_cryptography_builds(keys: dict, sans: list[str]) -> None:
    ours = builder.build_request(private_key_signer(keys["rsa"]), parse_dn(SUBJECT), sans=builder.parse_sans(sans))
    theirs = x509.CertificateSigningRequestBuilder().subject_name(parse_dn(SUBJECT).to_x509())
    if sans:
        theirs = theirs.add_extension(x509.SubjectAlternativeName(_general_names(sans)), False)
    assert ours.public_bytes(serialization.Encoding.DER) == theirs.sign(keys["rsa"], hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)
    assert builder.request_sans(ours.der) == builder.parse_sans(sans)
    assert builder.request_subject(ours.der) == parse_dn(SUBJECT).to_x509().public_bytes()
    assert ours.subject == parse_dn(SUBJECT).to_x509()  # anything else is cryptography's answer
    assert ours == ours.decoded and ours.decoded == ours


@pytest.mark.parametrize("dn", [SUBJECT, "CN=a+O=b", "O=b+CN=a", "CN=é,O=Ünï", "OID.1.2.3.4=x,CN=y", "DNQ=q,C=US",
                                "UID=u,DC=a,DC=b", "C=G_"])
def test_names_are_encoded_as_cryptography_encodes_them(dn: str) -> None:
    assert parse_dn(dn).to_der() == parse_dn(dn).to_x509().public_bytes()


@pytest.mark.parametrize(("dn", "why"), [("C=GBR", "length must be >= 2 and <= 2"), ("CN=" + "x" * 65, "<= 64"),
                                         ("E=é@example.com", "IA5String")])
def test_names_cryptography_refuses_are_refused(dn: str, why: str) -> None:
    from keystores.errors import UsageError

    with pytest.raises(UsageError, match=why):
        parse_dn(dn).to_der()


def test_sans_read_from_an_openssl_request(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.fail("openssl is installed by scripts/setup")
    key = tmp_path / "k.pem"
    csr = tmp_path / "r.der"
    subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-subj", "/CN=openssl", "-outform", "DER", "-out", str(csr), "-addext",
                    "subjectAltName=DNS:a.example,IP:192.0.2.1,email:x@example.com,URI:urn:x,otherName:1.2.3;UTF8:z"],
                   check=True, capture_output=True)
    names = builder.request_sans(csr.read_bytes())
    assert [str(n) for n in names[:4]] == ["DNS:a.example", "IP:192.0.2.1", "EMAIL:x@example.com", "URI:urn:x"]
    assert names[4].kind == "otherName"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is installed by scripts/setup")
    return path


@pytest.mark.parametrize("kind", ["rsa", "ec", "ed25519"])
def test_openssl_and_keytool_judge_what_certreq_and_sign_make(tmp_path: Path, kind: str) -> None:
    """The whole flow through the CLI: openssl verifies the request and the chain and prints the extensions,
    keytool -printcert reads the certificate."""
    env = {**os.environ, "KS_PW": "builder pw1"}
    key_type = {"rsa": "rsa:2048", "ec": "ec:p256", "ed25519": "ed25519"}[kind]

    def ks(*argv: str) -> None:
        subprocess.run([sys.executable, "-m", "keystores", *argv, "--password", "env:KS_PW"], check=True,
                       capture_output=True, env=env, cwd=tmp_path)

    ks("selfsign", "ca.p12", "--label", "ca", "--dn", "CN=Judged CA,O=Example", "--ca", "--key-type", key_type)
    ks("certreq", "web.p12", "--label", "web", "--dn", "CN=web,O=Example", "--key-type", key_type, "--san",
       "DNS:web.example.com,IP:10.0.0.1", "-o", "web.csr")
    verified = subprocess.run([_tool("openssl"), "req", "-in", "web.csr", "-verify", "-noout", "-text"], check=True,
                              capture_output=True, text=True, cwd=tmp_path)
    assert "verify OK" in verified.stdout + verified.stderr and "DNS:web.example.com" in verified.stdout
    ks("sign", "ca.p12", "web.csr", "--label", "ca", "-o", "web.pem", "--chain", "--copy-sans")
    text = subprocess.run([_tool("openssl"), "x509", "-in", "web.pem", "-noout", "-text"], check=True,
                          capture_output=True, text=True, cwd=tmp_path).stdout
    for shown in ("CA:FALSE", "TLS Web Server Authentication", "Subject Key Identifier", "Authority Key Identifier",
                  "DNS:web.example.com, IP Address:10.0.0.1", "Subject: O = Example, CN = web"):
        assert shown in text
    chain = (tmp_path / "web.pem").read_text()
    (tmp_path / "ca.pem").write_text(chain[chain.index("-----END CERTIFICATE-----") + 26:])
    subprocess.run([_tool("openssl"), "verify", "-CAfile", "ca.pem", "-purpose", "sslserver", "web.pem"], check=True,
                   capture_output=True, cwd=tmp_path)
    printed = subprocess.run([_tool("keytool"), "-printcert", "-file", "web.pem"], check=True, capture_output=True,
                             text=True, cwd=tmp_path).stdout
    assert "Owner: CN=web, O=Example" in printed and "Issuer: CN=Judged CA, O=Example" in printed
    ks("receive", "web.p12", "web.pem")


def test_certreq_imports_no_x509_decoder(tmp_path: Path) -> None:
    """certreq builds its request and placeholder and writes its PKCS#12 with keystores.crypto.der (start-up
    speed): neither cryptography.x509 nor asn1crypto is imported."""
    done = _run_noting_imports(tmp_path, {**os.environ, "KS_PW": "probe pw1"}, "certreq", "web.p12", "--label", "web",
                               "--dn", "CN=web", "--key-type", "ec:p256", "--san", "DNS:web.example", "-o",
                               "web.csr")
    assert not [m for m in done.stdout.split() if m == "cryptography.x509" or m.startswith("asn1crypto")]
    assert (tmp_path / "web.csr").read_bytes().startswith(b"-----BEGIN CERTIFICATE REQUEST-----")


def _run_noting_imports(folder: Path, env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    """`keystores ARGV --password env:KS_PW` in a fresh interpreter that then prints the modules it imported."""
    # python -m keystores ends its process when the command is done, unless an atexit callback waits (cli.main)
    probe = ("import atexit, sys, runpy\nsys.argv = ['keystores', *sys.argv[1:], '--password', 'env:KS_PW']\n"
             "atexit.register(lambda: print(' '.join(sys.modules)))\ntry:\n"
             "    runpy.run_module('keystores', run_name='__main__')\nexcept SystemExit as exit:\n"
             "    assert not exit.code, exit.code\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=folder, env=env,
                          check=True)
    assert "keystores.ops.lifecycle" in done.stdout.split()  # the probe sees what the command imported
    return done


def test_the_pkcs12_writer_writes_canonical_der_that_openssl_reads(tmp_path: Path, keys: dict) -> None:
    """The PKCS#12 writer builds its bags, SafeContents, EncryptedData, PFX and MacData with keystores.crypto.der
    (start-up speed, as the builder): asn1crypto re-encodes every layer byte for byte, and openssl checks the MAC
    and decrypts every bag with the password."""
    from asn1crypto import cms, pkcs12

    from keystores.model import TRUST_ALL, Entry, EntryKind, SecretKey
    from keystores.secrets import WeakCryptoWarning
    from keystores.store import open_store

    ca = x509.load_der_x509_certificate(_ours("ca", keys["ca"].public_key(), keys["ca"], path_length=0))
    leaf = x509.load_der_x509_certificate(_ours("server", keys["ec"].public_key(), keys["ca"]))
    for profile in ("modern", "compat"):
        path = tmp_path / f"{profile}.p12"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakCryptoWarning)  # compat's own warning: asked for here
            with open_store(path, password="writer pw1", create=True, profile=profile) as store:
                store.add(Entry(label="web", kind=EntryKind.KEY_PAIR, chain=(leaf, ca), key=keys["ec"]))
                store.add(Entry(label="root", kind=EntryKind.TRUSTED_CERT, chain=(ca,), trust=TRUST_ALL))
                store.add(Entry(label="aes", kind=EntryKind.SECRET_KEY, secret=SecretKey("AES", b"k" * 32)))
        data = path.read_bytes()
        pfx = pkcs12.Pfx.load(data, strict=True)
        assert pfx.dump(force=True) == data
        safe_bytes = pfx["auth_safe"]["content"].native
        safe = pkcs12.AuthenticatedSafe.load(safe_bytes, strict=True)
        assert safe.dump(force=True) == safe_bytes and len(safe) == 2
        bags_bytes = safe[0]["content"].native
        assert pkcs12.SafeContents.load(bags_bytes, strict=True).dump(force=True) == bags_bytes
        encrypted = safe[1]["content"]
        assert isinstance(encrypted, cms.EncryptedData) and encrypted.dump(force=True) == encrypted.dump()
        mac = pfx["mac_data"]
        assert mac["mac"]["digest_algorithm"]["algorithm"].native == ("sha256" if profile == "modern" else "sha1")
        read = subprocess.run([_tool("openssl"), "pkcs12", "-in", str(path), "-info", "-nodes", "-passin",
                               "pass:writer pw1"] + (["-legacy"] if profile == "compat" else []),
                              capture_output=True, text=True)
        assert read.returncode == 0, read.stderr  # openssl fails on a MAC that does not verify
        assert f"MAC: {'sha256' if profile == 'modern' else 'sha1'}" in read.stderr
        assert read.stdout.count("BEGIN CERTIFICATE") == 2 and "BEGIN PRIVATE KEY" in read.stdout


# --- sign reads its request and CA certificate from their DER (keystores.pki.encoded) -------------------------
def _v1_certificate(key: rsa.RSAPrivateKey, name: str) -> bytes:
    """A v1 certificate (no version field, no extensions), which cryptography's builder cannot make."""
    from keystores.crypto import der

    subject = parse_dn(name).to_der()
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    algorithm = der.sequence(der.oid("1.2.840.113549.1.1.11"), b"\x05\x00")
    times = der.sequence(der.tlv(0x17, b"260102030405Z"), der.tlv(0x18, b"20550102030405Z"))
    tbs = der.sequence(der.integer(5), algorithm, subject, times, subject, spki)
    signature = key.sign(tbs, __import__("cryptography.hazmat.primitives.asymmetric.padding").hazmat.primitives
                         .asymmetric.padding.PKCS1v15(), hashes.SHA256())
    return der.sequence(tbs, algorithm, der.tlv(0x03, b"\x00" + signature))


def test_encoded_certificates_read_as_cryptography_reads_them(keys: dict) -> None:
    from keystores.pki.chain import is_ca, issued_by, may_sign_certificates
    from keystores.pki.dn import describe
    from keystores.pki.encoded import EncodedCertificate

    ca_der = _ours("ca", keys["ca"].public_key(), keys["ca"], path_length=0)
    made = [ca_der, _v1_certificate(keys["ca"], "CN=v1 root,O=Example"),
            _ours("server", keys["ec"].public_key(), keys["ca"], not_after=AFTER_2050),
            _ours("codesign", keys["ed25519"].public_key(), keys["ca"])]
    bmp = (x509.CertificateBuilder().subject_name(x509.Name([
        x509.NameAttribute(x509.NameOID.COMMON_NAME, "bmp ü", x509.name._ASN1Type.BMPString),
        x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, "t61", x509.name._ASN1Type.T61String)]))
        .issuer_name(parse_dn("CN=x").to_x509()).public_key(keys["rsa"].public_key()).serial_number(3)
        .not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER).sign(keys["rsa"], hashes.SHA384()))
    made.append(bmp.public_bytes(serialization.Encoding.DER))
    for der_ in made:
        ours, theirs = EncodedCertificate(der_), x509.load_der_x509_certificate(der_)
        assert (ours.serial_number, ours.version, ours.not_valid_before_utc, ours.not_valid_after_utc) == (
            theirs.serial_number, theirs.version.value, theirs.not_valid_before_utc, theirs.not_valid_after_utc)
        assert (ours.subject_der, ours.issuer_der) == (theirs.subject.public_bytes(), theirs.issuer.public_bytes())
        assert ours.tbs_certificate_bytes == theirs.tbs_certificate_bytes and ours.signature == theirs.signature
        assert ours.public_key() == theirs.public_key() and describe(ours) == describe(theirs)
        assert (is_ca(ours), may_sign_certificates(ours)) == (is_ca(theirs), may_sign_certificates(theirs))
        ca = EncodedCertificate(ca_der)
        assert issued_by(ours, ca) == issued_by(theirs, x509.load_der_x509_certificate(ca_der))
        assert "_decoded" not in vars(ours) or ours._decoded is None  # all read from the DER
    assert is_ca(EncodedCertificate(made[1])) and not is_ca(EncodedCertificate(made[2]))


def test_sign_imports_no_x509_decoder_and_refuses_what_load_request_refuses(tmp_path: Path) -> None:
    """sign reads the request and the CA certificate (kept undecoded by the PKCS#12 reader) from their DER;
    a damaged request gives the same errors as load_request's."""
    from keystores.errors import CorruptStore, IntegrityError
    from keystores.ops import lifecycle as lc

    env = {**os.environ, "KS_PW": "builder pw1"}
    for argv in (["selfsign", "ca.p12", "--label", "ca", "--dn", "CN=Probe CA", "--ca", "--key-type", "ec:p256"],
                 ["certreq", "web.p12", "--label", "web", "--dn", "CN=web,O=Example", "--key-type", "ec:p256", "--san",
                  "DNS:web.example,IP:10.0.0.1,EMAIL:web@example.com", "-o", "web.csr"]):
        subprocess.run([sys.executable, "-m", "keystores", *argv, "--password", "env:KS_PW"], check=True, env=env,
                       cwd=tmp_path, capture_output=True)
    done = _run_noting_imports(tmp_path, env, "sign", "ca.p12", "web.csr", "--label", "ca", "-o", "web.pem", "--chain")
    assert "cryptography.x509" not in done.stdout.split()
    assert (tmp_path / "web.pem").read_text().count("BEGIN CERTIFICATE") == 2
    request = (tmp_path / "web.csr").read_bytes()
    der_ = __import__("base64").b64decode(b"".join(request.splitlines()[1:-1]))
    with open_store_for_test(tmp_path / "ca.p12") as ca_store:
        for position in range(len(der_)):
            for bits in (0x41, 0x80):
                damaged = bytearray(der_)
                damaged[position] ^= bits
                expected: Exception | None = None
                try:
                    lc.load_request(bytes(damaged))
                except (CorruptStore, IntegrityError) as exc:
                    expected = exc
                if expected is None:
                    lc.sign(ca_store, "ca", bytes(damaged))
                else:
                    with pytest.raises(type(expected)) as raised:
                        lc.sign(ca_store, "ca", bytes(damaged))
                    assert str(raised.value) == str(expected), position


def open_store_for_test(path: Path):  # type: ignore[no-untyped-def]
    from keystores.store import open_store

    return open_store(path, password="builder pw1")


# --- receive reads the reply from its DER -----------------------------------------------------------------------
def test_receive_imports_no_x509_decoder_and_reads_what_load_certificates_reads(tmp_path: Path) -> None:
    """receive takes a reply in the forms keystores writes from its DER (EncodedCertificate.is_plain) and writes
    the PKCS#12 without decoding it; every damaged copy of such a reply is refused with load_certificates' own
    words, or read as the same certificates."""
    from keystores.errors import CorruptStore
    from keystores.ops import lifecycle as lc

    env = {**os.environ, "KS_PW": "builder pw1"}
    for argv in (["selfsign", "ca.p12", "--label", "ca", "--dn", "CN=Probe CA,O=Example", "--ca", "--key-type",
                  "ec:p256"],
                 ["certreq", "web.p12", "--label", "web", "--dn", "CN=web,C=GB", "--key-type", "ec:p256", "--san",
                  "DNS:web.example,IP:10.0.0.1,EMAIL:web@example.com,URI:urn:x", "-o", "web.csr"],
                 ["sign", "ca.p12", "web.csr", "--label", "ca", "-o", "web.pem", "--chain", "--copy-sans"]):
        subprocess.run([sys.executable, "-m", "keystores", *argv, "--password", "env:KS_PW"], check=True, env=env,
                       cwd=tmp_path, capture_output=True)
    done = _run_noting_imports(tmp_path, env, "receive", "web.p12", "web.pem")
    assert "cryptography.x509" not in done.stdout.split() and "with a chain of 2" in done.stderr
    listed = subprocess.run([_tool("keytool"), "-list", "-v", "-keystore", "web.p12", "-storetype", "PKCS12",
                             "-storepass", "builder pw1"], capture_output=True, text=True, cwd=tmp_path, check=True)
    assert "Certificate chain length: 2" in listed.stdout and "Issuer: CN=Probe CA, O=Example" in listed.stdout

    reply = (tmp_path / "web.pem").read_bytes()
    leaf_der = lc.load_certificates(reply)[0].public_bytes(serialization.Encoding.DER)
    for position in range(len(leaf_der)):
        for bits in (0x41, 0x80):
            damaged = bytearray(leaf_der)
            damaged[position] ^= bits
            expected: Exception | list[bytes]
            try:
                expected = [c.public_bytes(serialization.Encoding.DER) for c in lc.load_certificates(bytes(damaged))]
            except CorruptStore as exc:
                expected = exc
            if isinstance(expected, Exception):
                with pytest.raises(CorruptStore) as raised:
                    lc.read_certificates(bytes(damaged))
                assert str(raised.value) == str(expected), position
            else:
                got = lc.read_certificates(bytes(damaged))
                assert [c.public_bytes(serialization.Encoding.DER) for c in got] == expected, position


def test_a_certificate_with_a_duplicated_extension_is_refused_in_our_words(keys: dict) -> None:
    """cryptography raises DuplicateExtension (no ValueError): load_certificates and read_certificates say
    "damaged" instead of letting it escape."""
    from keystores.errors import CorruptStore
    from keystores.ops import lifecycle as lc

    twice = builder.profile_extensions("server", keys["rsa"].public_key(), issuer_public_key=keys["ca"].public_key())
    twice.append(twice[-2])  # the subject key identifier again
    cert = builder.build_certificate_der(private_key_signer(keys["ca"]), subject=parse_dn("CN=twice"),
                                         issuer=parse_dn("CN=Pinned CA,O=Example,C=GB"),
                                         public_key=keys["rsa"].public_key(), not_before=NOT_BEFORE,
                                         not_after=NOT_AFTER, extensions=twice, serial=SERIAL)
    for read in (lc.load_certificates, lc.read_certificates):
        with pytest.raises(CorruptStore, match="not a certificate"):
            read(cert)


def test_a_short_to_be_signed_is_malformed_der_not_an_index_error() -> None:
    """A certificate whose TBSCertificate ends before its key (or names) is malformed: reading a field it lacks
    raises DerError, a ValueError, as every other malformation does, where callers catch it (an IndexError was raised,
    which they do not)."""
    from keystores.crypto import der
    from keystores.pki.encoded import EncodedCertificate

    tbs = der.sequence(der.tlv(0xA0, der.integer(2)), der.integer(7), der.sequence(der.oid("1.2.840.10045.4.3.2")))
    cert = EncodedCertificate(der.sequence(tbs, der.sequence(der.oid("1.2.840.10045.4.3.2")), der.tlv(0x03, b"\0")))
    for field in ("spki_der", "subject_der", "issuer_der"):
        with pytest.raises(der.DerError):
            getattr(cert, field)
    assert cert.serial_number == 7


def test_the_signature_algorithms_read_are_those_the_builder_writes() -> None:
    """keystores.pki.encoded's table of signature AlgorithmIdentifiers (written out as DER, start-up speed) is
    SIGNATURE_OIDS encoded by keystores.crypto.der, as keystores.pki.builder writes them: RSA's with a NULL."""
    from keystores.crypto import der
    from keystores.pki.encoded import SIGNATURE_OIDS, signature_hashes

    assert signature_hashes() == {der.sequence(der.oid(dotted), b"\x05\x00" if kind == "rsa" else b""): hash_name
                                  for (kind, hash_name), dotted in SIGNATURE_OIDS.items()}
    assert len(signature_hashes()) == len(SIGNATURE_OIDS)
