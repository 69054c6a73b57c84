"""keystores.crypto.ec_keys and keystores.pki.pkcs8.HeldEcKey: EC keys libcrypto makes for certreq and selfsign,
and their signatures, held to cryptography's: cryptography loads the PKCS#8 and writes it back byte for byte, its
public key is the SpkiKey's, it verifies every signature libcrypto makes (and libcrypto cryptography's), and openssl
reads a PKCS#12 certreq wrote with such a key. Where libcrypto cannot (a digest it is not asked for, a damaged
PKCS#8) the answer is None, never a guess."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_private_key,
)

from keystores.crypto import ec_keys, libcrypto
from keystores.crypto.verify import verify
from keystores.pki.builder import _key_kind, check_hash, key_identifier
from keystores.pki.curves import NIST_CURVES
from keystores.pki.pkcs8 import HeldEcKey, held_ec_key, made_ec_key, pkcs8_der
from keystores.pki.spki import SpkiKey

pytestmark = pytest.mark.skipif(libcrypto.library() is None or ec_keys._library() is None,
                                reason="no OpenSSL 3 libcrypto loaded by hashlib here")

HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
          "sha512": hashes.SHA512}


@pytest.mark.parametrize("curve", NIST_CURVES, ids=lambda curve: curve.short)
def test_a_made_key_is_the_key_cryptography_reads(curve) -> None:
    for _ in range(20):
        made = made_ec_key(curve)
        assert isinstance(made, HeldEcKey)
        key = load_der_private_key(made.pkcs8, None)
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == curve.name
        assert pkcs8_der(key) == made.pkcs8 == key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
        assert made.public_key.der == key.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        assert (made.public_key.kind, made.public_key.bits) == ("ec", key.curve.key_size)
    assert len({made_ec_key(curve).pkcs8 for _ in range(20)}) == 20  # fresh keys


@pytest.mark.parametrize("curve", NIST_CURVES, ids=lambda curve: curve.short)
@pytest.mark.parametrize("hash_name", sorted(HASHES))
def test_its_signatures_are_ecdsa_as_cryptography_checks_them(curve, hash_name: str) -> None:
    made = made_ec_key(curve)
    assert made is not None
    key = load_der_private_key(made.pkcs8, None)
    data = b"to be signed " + hash_name.encode()
    signature = made.sign(data, hash_name)
    key.public_key().verify(signature, data, ec.ECDSA(HASHES[hash_name]()))
    assert made.sign(data, hash_name) != signature  # a random nonce each time, as cryptography signs
    # and the other way round: libcrypto's verdict (keystores.crypto.verify, as builder checks each signature)
    theirs = key.sign(data, ec.ECDSA(HASHES[hash_name]()))
    assert verify(made.public_key.der, theirs, data, hash_name) is True
    assert verify(made.public_key.der, theirs, data + b"!", hash_name) is False
    with pytest.raises(InvalidSignature):
        key.public_key().verify(signature, data + b"!", ec.ECDSA(HASHES[hash_name]()))
    other = made_ec_key(curve)
    with pytest.raises(InvalidSignature):
        load_der_private_key(other.pkcs8, None).public_key().verify(signature, data, ec.ECDSA(HASHES[hash_name]()))


@pytest.mark.parametrize("curve", NIST_CURVES, ids=lambda curve: curve.short)
def test_a_held_key_signs_from_its_numbers_as_from_its_pkcs8(curve) -> None:
    """A key made here or read from a PKCS#8 (held_ec_key) signs from its curve, scalar and point (sign_ec: the key
    made by EVP_PKEY_fromdata, not decoded): signatures cryptography verifies, as those of the decoded PKCS#8."""
    made = made_ec_key(curve)
    read = held_ec_key(made.pkcs8)
    assert read is not None and read.pkcs8 == made.pkcs8 and read.public_key.der == made.public_key.der
    public_key = load_der_private_key(made.pkcs8, None).public_key()
    _, scalar, point = made._parts
    assert read._parts == made._parts
    assert point == public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    for hash_name, hash_ in HASHES.items():
        data = b"signed from its numbers " + hash_name.encode()
        for signature in (made.sign(data, hash_name), read.sign(data, hash_name),
                          ec_keys.sign_ec(curve.oid, scalar, point, data, hash_name),
                          ec_keys.sign(made.pkcs8, data, hash_name)):
            public_key.verify(signature, data, ec.ECDSA(hash_()))
            with pytest.raises(InvalidSignature):
                public_key.verify(signature, data + b"!", ec.ECDSA(hash_()))
    # what sign_ec does not do: None (a digest it is not asked for, a curve not named here, a point off the curve)
    assert ec_keys.sign_ec(curve.oid, scalar, point, b"data", "md4") is None
    assert ec_keys.sign_ec("1.3.132.0.10", scalar, point, b"data", "sha256") is None  # secp256k1
    assert ec_keys.sign_ec(curve.oid, scalar, point[:-1] + bytes([point[-1] ^ 1]), b"data", "sha256") is None


def test_a_key_libcrypto_does_not_make_from_its_numbers_is_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where libcrypto does not make the key from its numbers (verify.ec_key gives None), the held key signs
    through libcrypto's decoding of its PKCS#8, not through cryptography."""
    import keystores.model

    made = made_ec_key(NIST_CURVES[0])
    monkeypatch.setattr(ec_keys, "ec_key", lambda *args: None)

    def refused(*args: object) -> None:
        raise AssertionError("signed through cryptography")

    monkeypatch.setattr(keystores.model, "private_key_signer", refused)
    assert ec_keys.sign_ec(NIST_CURVES[0].oid, *made._parts[1:], b"data", "sha256") is None
    signature = made.sign(b"data", "sha256")
    load_der_private_key(made.pkcs8, None).public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("curve", NIST_CURVES, ids=lambda curve: curve.short)
def test_the_point_a_made_key_comes_with_is_its_scalar_times_the_generator(curve) -> None:
    """generate gives the point libcrypto's keygen made with the scalar: the one libcrypto computes from the scalar
    (ec_public_point, which made_ec_key asked before) and cryptography's, for fresh keys on every curve."""
    for _ in range(10):
        scalar, point = ec_keys.generate(curve.oid, curve.size)
        assert len(scalar) == curve.size and point == libcrypto.ec_public_point(curve.oid, scalar)
        made = held_ec_key(made_ec_key(curve).pkcs8)  # read back: its point checked against its scalar
        assert made is not None and made._parts[2] == libcrypto.ec_public_point(curve.oid, made._parts[1])


def test_a_command_declares_only_the_libcrypto_calls_it_makes() -> None:
    """certreq and selfsign make a key and sign with it: neither the ten calls of ec_public_point (the keygen gives
    the point) nor the PKCS#8 and SPKI decoders are looked up; sign's CA key (read from its PKCS#8, signing from its
    numbers) looks up none of the keygen's calls either (each declaration costs a symbol look-up; start-up speed)."""
    probe = ("from keystores.crypto import libcrypto, verify\n"
             "from keystores.pki.curves import NIST_CURVES\n"
             "from keystores.pki.pkcs8 import made_ec_key\n"
             "made = made_ec_key(NIST_CURVES[0])\n"
             "signature = made.sign(b'data', 'sha256')\n"
             "assert verify.verify(made.public_key.der, signature, b'data', 'sha256') is True\n"
             "lib = vars(libcrypto.library())\n"
             "print(*(name in lib for name in ('EC_POINT_mul', 'd2i_AutoPrivateKey', 'd2i_PUBKEY')))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "False"]
    sign_only = ("from keystores.crypto import libcrypto\n"
                 "from keystores.pki.pkcs8 import held_ec_key\n"
                 "import sys\n"
                 "held = held_ec_key(bytes.fromhex(sys.argv[1]))\n"
                 "assert held.sign(b'data', 'sha256')\n"
                 "lib = vars(libcrypto.library())\n"
                 "print(*(name in lib for name in ('EVP_PKEY_keygen', 'BN_bn2binpad', 'd2i_AutoPrivateKey')))\n")
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    done = subprocess.run([sys.executable, "-c", sign_only, key.hex()], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False", "False"]


def test_the_builder_takes_the_key_as_it_takes_cryptographys() -> None:
    for curve in NIST_CURVES:
        made = made_ec_key(curve)
        loaded = load_der_private_key(made.pkcs8, None).public_key()
        assert _key_kind(made.public_key) == _key_kind(loaded) == "ec"
        assert check_hash(None, made.public_key, []) == check_hash(None, loaded, [])
        assert key_identifier(made.public_key) == key_identifier(loaded)
        assert made.public_key.loaded() == loaded


def test_what_libcrypto_does_not_do_is_none_or_cryptographys() -> None:
    made = made_ec_key(NIST_CURVES[0])
    assert ec_keys.sign(made.pkcs8, b"data", "md4") is None
    assert ec_keys.sign(made.pkcs8[:-3], b"data", "sha256") is None  # damaged: libcrypto does not load it
    assert ec_keys.generate("1.3.6.1.4.1.3029.1.5.1", 32) is None  # Curve25519's OID: no such EC group
    # a digest libcrypto is not asked for: the key signs through cryptography, as keystores.model's signer does
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    plain = rsa_key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    assert HeldEcKey(plain, SpkiKey(b"", "rsa", 2048)).sign(b"data", "sha256") == ec_keys.sign(plain, b"data",
                                                                                               "sha256")


def test_openssl_reads_what_certreq_wrote_with_it(tmp_path) -> None:
    import keystores

    store = tmp_path / "made.p12"
    requested = keystores.certreq(str(store), "web", "CN=made", key_spec="ec:p384", password="made pw 1")
    assert requested.kept_as.startswith("as a key pair")
    (tmp_path / "made.csr").write_bytes(requested.encoded.pem())
    subprocess.run(["openssl", "req", "-in", str(tmp_path / "made.csr"), "-verify", "-noout"], check=True,
                   capture_output=True)
    shown = subprocess.run(["openssl", "pkcs12", "-in", str(store), "-passin", "pass:made pw 1", "-nodes"],
                           check=True, capture_output=True, text=True).stdout
    assert "BEGIN PRIVATE KEY" in shown and "subject=CN = made" in shown
    with keystores.open_store(str(store), password="made pw 1") as opened:
        key = opened.get("web").key
    assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp384r1"
    assert key.public_key() == requested.request.public_key()


def test_sign_refuses_a_ca_key_that_is_not_the_certificates(tmp_path) -> None:
    """sign's CA key, held as its PKCS#8 and signing through libcrypto, is still matched to the CA certificate."""
    import datetime as dt

    from cryptography import x509
    from cryptography.x509.oid import NameOID

    import keystores
    from keystores.errors import KeystoreError
    from keystores.model import Entry, EntryKind

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mismatched CA")])
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ca_cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(ca_key.public_key())
               .serial_number(7).not_valid_before(start).not_valid_after(start + dt.timedelta(days=3650))
               .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
               .sign(ca_key, hashes.SHA256()))
    for key, refused in ((other_key, True), (ca_key, False)):
        store = tmp_path / f"ca-{refused}.p12"
        with keystores.open_store(str(store), password="ca pw 1", writable=True, create=True) as made:
            made.add(Entry(label="ca", kind=EntryKind.KEY_PAIR, key=key, chain=(ca_cert,)))
        request = keystores.certreq(str(tmp_path / f"req-{refused}.p12"), "web", "CN=web", key_spec="ec:p256",
                                    password="req pw 1")
        at = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
        if refused:
            with pytest.raises(KeystoreError, match="does not belong to the CA certificate"):
                keystores.sign(str(store), "ca", request.encoded.der, password="ca pw 1", now=at)
        else:
            issued = keystores.sign(str(store), "ca", request.encoded.der, password="ca pw 1", now=at)
            issued.certificate.verify_directly_issued_by(ca_cert)
