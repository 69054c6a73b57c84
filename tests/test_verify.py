"""keystores.crypto.verify (signature checks by the interpreter's libcrypto) held to cryptography's verdicts: a chain
link between certificates held as DER (keystores.pki.chain._signed_by_der, which asks libcrypto for RSA and NIST EC
keys and cryptography for the rest) is judged exactly as keystores.pki.chain.signature_valid judges it with
cryptography's key: over certificates of every key type keystores meets (RSA PKCS#1 v1.5 with each hash, RSA-PSS,
ECDSA on P-256/384/521, Ed25519, DSA), each against its issuer and against a stranger, with damaged signatures and
to-be-signed bytes, and over every certificate of the cryptography-vectors x509/ folder against itself and the
certificates named as its issuer. Where libcrypto answers, the answer is checked to come from libcrypto (issue 15:
audit and validate of a store of such keys import no cryptography)."""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.x509.oid import NameOID
from test_shown import vector_certificates

from keystores.crypto import libcrypto
from keystores.crypto.verify import verify
from keystores.model import private_key_signer
from keystores.pki import chain
from keystores.pki.builder import build_certificate_der
from keystores.pki.certificates import public_key_of
from keystores.pki.encoded import EncodedCertificate
from keystores.pki.spki import key_from_der, key_print

START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
LIBCRYPTO = libcrypto.library()


@pytest.fixture(autouse=True)
def _by_libcrypto(monkeypatch: pytest.MonkeyPatch) -> None:
    """chain._signed_by_der asks libcrypto where cryptography's keys are not loaded (in a test process they are)."""
    monkeypatch.setattr(chain, "_keys_loaded", lambda: False)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, key: Any, issuer: str, issuer_key: Any, hash_: Any, pss: bool = False) -> bytes:
    if isinstance(hash_, hashes.SHA1 | hashes.MD5):  # cryptography's builder refuses them; keystores' signs as old
        return build_certificate_der(private_key_signer(issuer_key), subject=_name(subject),  # software did
                                     issuer=_name(issuer), public_key=key.public_key(), not_before=START,
                                     not_after=START + dt.timedelta(days=30), md=hash_.name)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(START).not_valid_after(START + dt.timedelta(days=30)))
    if pss:
        cert = builder.sign(issuer_key, hash_, rsa_padding=padding.PSS(padding.MGF1(hash_), padding.PSS.DIGEST_LENGTH))
    else:
        cert = builder.sign(issuer_key, hash_)
    return cert.public_bytes(serialization.Encoding.DER)


def _cryptographys(cert: EncodedCertificate, issuer: EncodedCertificate) -> bool:
    """The verdict before keystores.crypto.verify: cryptography's key of the issuer over the certificate's DER."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        public_key = public_key_of(issuer)
        return public_key is not None and chain.signature_valid(cert, public_key)


def _damaged(der: bytes) -> list[bytes]:
    """The certificate with one byte of its signature changed, and with one byte of its to-be-signed part changed."""
    cert = EncodedCertificate(der)
    signature_at = der.rindex(cert.signature)
    tbs_at = der.index(cert.tbs_certificate_bytes) + len(cert.tbs_certificate_bytes) - 40
    found = []
    for at in (signature_at + len(cert.signature) // 2, signature_at + len(cert.signature) - 1, tbs_at):
        changed = bytearray(der)
        changed[at] ^= 0x01
        found.append(bytes(changed))
    return found


KINDS = ("rsa", "rsa-1024", "rsa-pss", "p256", "p384", "p521", "secp256k1", "ed25519", "dsa")


def _keys() -> dict[str, tuple[Any, list[Any], bool]]:
    """(issuer key, hashes to sign with, whether libcrypto answers) by the kind of signature."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "rsa": (rsa_key, [hashes.MD5(), hashes.SHA1(), hashes.SHA224(), hashes.SHA256(), hashes.SHA384(),
                          hashes.SHA512()], True),
        "rsa-1024": (rsa.generate_private_key(public_exponent=3, key_size=1024), [hashes.SHA256()], True),
        "rsa-pss": (rsa_key, [hashes.SHA256()], False),
        "p256": (ec.generate_private_key(ec.SECP256R1()), [hashes.SHA1(), hashes.SHA256(), hashes.SHA384()], True),
        "p384": (ec.generate_private_key(ec.SECP384R1()), [hashes.SHA384(), hashes.SHA512()], True),
        "p521": (ec.generate_private_key(ec.SECP521R1()), [hashes.SHA512(), hashes.SHA224()], True),
        "secp256k1": (ec.generate_private_key(ec.SECP256K1()), [hashes.SHA256()], False),
        "ed25519": (ed25519.Ed25519PrivateKey.generate(), [None], False),
        "dsa": (dsa.generate_private_key(2048), [hashes.SHA256()], False),
    }


@pytest.fixture(scope="module")
def made() -> list[tuple[str, bytes, bytes, bytes, bool]]:
    """(kind, leaf, its issuer, a stranger of the same key type, libcrypto answers) for each kind and hash."""
    found = []
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "DSA is deprecated": DSA keys are made here on purpose
        keys = _keys()
        strangers = {kind: (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind.startswith("rsa")
                            else ed25519.Ed25519PrivateKey.generate() if kind == "ed25519"
                            else dsa.generate_private_key(1024) if kind == "dsa"
                            else ec.generate_private_key(key.curve)) for kind, (key, _, _) in keys.items()}
    for kind, (key, hash_list, answered) in keys.items():
        stranger_key = strangers[kind]
        for hash_ in hash_list:
            issuer = _certificate("CA", key, "CA", key, hash_, pss=kind == "rsa-pss")
            stranger = _certificate("CA", stranger_key, "CA", stranger_key, hash_, pss=kind == "rsa-pss")
            leaf = _certificate("leaf", leaf_key, "CA", key, hash_, pss=kind == "rsa-pss")
            found.append((kind, leaf, issuer, stranger, answered))
    return found


def test_libcrypto_is_loaded_here() -> None:
    """Where the interpreter's libcrypto is not loaded every verdict is cryptography's, and these tests prove
    nothing of libcrypto: say so instead of passing."""
    if LIBCRYPTO is None:
        pytest.skip("no libcrypto loaded by hashlib in this interpreter")
    assert libcrypto.already_loaded()


def test_a_link_is_judged_as_cryptography_judges_it(made: list[tuple[str, bytes, bytes, bytes, bool]],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from keystores.crypto import verify as verify_module

    answers: list[bool | None] = []  # libcrypto's verdicts on intact signatures
    signature_damaged = False  # the link being checked carries a damaged signature

    def counted(*args: Any) -> bool | None:
        answer = verify(*args)
        if not signature_damaged:  # a damaged ECDSA signature may be malformed DER: libcrypto errs, cryptography says
            answers.append(answer)  # no (the link's verdict is held to cryptography's above either way)
        return answer

    monkeypatch.setattr(verify_module, "verify", counted)
    asked: list[Any] = []
    checked = 0
    for kind, leaf_der, issuer_der, stranger_der, answered in made:
        issuer, stranger = EncodedCertificate(issuer_der), EncodedCertificate(stranger_der)
        leaf_damaged, issuer_damaged = _damaged(leaf_der), _damaged(issuer_der)
        for der in (leaf_der, *leaf_damaged, issuer_der, *issuer_damaged):
            signature_damaged = der in (*leaf_damaged[:2], *issuer_damaged[:2])  # _damaged: signature bytes first
            cert = EncodedCertificate(der)
            for by in (issuer, stranger):
                expected = _cryptographys(cert, by)
                assert chain._signed_by_der(cert, by) is expected, (kind, der.hex())
                checked += 1
        cert = EncodedCertificate(leaf_der)
        verdict = verify(issuer.spki_der, cert.signature, cert.tbs_certificate_bytes, cert.signature_hash_name or "")
        asked.append((kind, verdict))
        if answered and libcrypto.library() is not None:
            assert verdict is True, kind  # libcrypto's own answer, not cryptography's
            assert key_from_der(issuer.spki_der) is not None, kind
        if not answered:
            # left to cryptography: a key it does not take, or a signature whose OID names no hash (RSA-PSS)
            assert key_from_der(issuer.spki_der) is None or cert.signature_hash_name is None, kind
    assert checked == len(made) * 16
    if LIBCRYPTO is not None:  # the links of RSA and NIST EC keys were libcrypto's to judge, and it answered
        assert len(answers) > checked // 4 and None not in answers, (len(answers), checked)
    assert {kind for kind, _ in asked} == set(KINDS)


def test_libcrypto_says_no_where_the_signature_does_not_verify(
        made: list[tuple[str, bytes, bytes, bytes, bool]]) -> None:
    if libcrypto.library() is None:
        pytest.skip("no libcrypto loaded by hashlib in this interpreter")
    for kind, leaf_der, issuer_der, stranger_der, answered in made:
        if not answered:
            continue
        cert, stranger = EncodedCertificate(leaf_der), EncodedCertificate(stranger_der)
        hash_name = cert.signature_hash_name or ""
        assert verify(stranger.spki_der, cert.signature, cert.tbs_certificate_bytes, hash_name) is False, kind
        assert verify(EncodedCertificate(issuer_der).spki_der, cert.signature, cert.tbs_certificate_bytes + b"!",
                      hash_name) is False, kind
        assert verify(stranger.spki_der, cert.signature, cert.tbs_certificate_bytes, "whirlpool") is None
        assert verify(b"\x30\x00", cert.signature, cert.tbs_certificate_bytes, hash_name) is None


def test_an_absurd_rsa_key_verifies_nothing_without_being_tried() -> None:
    """An issuer whose RSA exponent is over keystores.limits' 32 bits signs nothing, as absurd_key says."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    modulus = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key().public_numbers().n
    absurd = rsa.RSAPublicNumbers((1 << 40) + 15, modulus).public_key()
    issuer = EncodedCertificate(build_certificate_der(
        private_key_signer(ca_key), subject=_name("absurd"), issuer=_name("CA"), public_key=absurd,
        not_before=START, not_after=START + dt.timedelta(days=30)))
    leaf = EncodedCertificate(_certificate("leaf", ca_key, "absurd", ca_key, hashes.SHA256()))
    assert key_from_der(issuer.spki_der) == (2048, True)
    assert chain._signed_by_der(leaf, issuer) is False
    assert _cryptographys(leaf, issuer) is False


def test_the_vector_certificates_link_as_cryptography_links_them() -> None:
    """Every certificate of cryptography-vectors against itself and against each certificate whose subject is its
    issuer (as DER): the same verdict, libcrypto's where it answers."""
    certificates = vector_certificates()
    if not certificates:
        pytest.skip("cryptography_vectors is not installed")
    readable = []
    for _, der in certificates:
        cert = EncodedCertificate(der)
        try:
            cert.subject_der, cert.issuer_der, cert.spki_der  # noqa: B018
        except (ValueError, IndexError):  # a request, a CRL, a damaged file: not a certificate to link
            continue
        readable.append(cert)
    by_subject: dict[bytes, list[EncodedCertificate]] = {}
    for cert in readable:
        by_subject.setdefault(cert.subject_der, []).append(cert)
    pairs = verified = by_libcrypto = 0
    for cert in readable:
        for issuer in {id(c): c for c in [cert, *by_subject.get(cert.issuer_der, [])[:4]]}.values():
            expected = _cryptographys(cert, issuer)
            assert chain._signed_by_der(cert, issuer) is expected, cert.der.hex()
            pairs += 1
            verified += expected
            with contextlib.suppress(ValueError):
                by_libcrypto += (key_from_der(issuer.spki_der) is not None
                                 and cert.signature_hash_name is not None)
    assert pairs > 500 and verified > 100 and by_libcrypto > 100, (pairs, verified, by_libcrypto)
    print(f"{pairs} pairs, {verified} verified, {by_libcrypto} by libcrypto")


def test_a_key_print_from_the_der_is_cryptographys_key_fingerprint(made: list[tuple[str, bytes, bytes, bytes, bool]]
                                                                   ) -> None:
    """keystores.pki.spki.key_print is public_key_fingerprint of cryptography's key where it answers: for RSA and NIST
    EC keys as cryptography writes them; a compressed point, RSA without its NULL and other key types are left to
    the loaded key (None)."""
    from keystores.crypto import der
    from keystores.model import public_key_fingerprint

    answered = 0
    for kind, leaf_der, issuer_der, _, _ in made:
        for spki in (EncodedCertificate(leaf_der).spki_der, EncodedCertificate(issuer_der).spki_der):
            found = key_print(spki)
            if found is not None:
                answered += 1
                assert found == public_key_fingerprint(public_key_of(EncodedCertificate(issuer_der))) or \
                    found == public_key_fingerprint(public_key_of(EncodedCertificate(leaf_der)))
            assert (found is not None) == (kind not in ("ed25519", "dsa", "secp256k1") or spki in (
                EncodedCertificate(leaf_der).spki_der,)), kind
    assert answered >= len(made)
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    compressed = key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    uncompressed = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    algorithm = der.elements(uncompressed, *der.read(uncompressed)[1:])[0]
    spki = der.sequence(uncompressed[algorithm[1] : algorithm[3]], der.tlv(0x03, b"\0" + compressed))
    assert key_from_der(spki) == (None, False) and key_print(spki) is None
    assert key_print(uncompressed) == public_key_fingerprint(key)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    full = rsa_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    bare = full.replace(bytes.fromhex("300d06092a864886f70d0101010500"), bytes.fromhex("300b06092a864886f70d010101"))
    bare = der.tlv(0x30, bare[4:])  # the outer length, two bytes shorter
    assert key_from_der(bare) == (2048, False) and key_print(bare) is None
    assert key_print(full) == public_key_fingerprint(rsa_key)


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()], ids=lambda curve: curve.name)
def test_an_ec_key_made_from_its_point_judges_as_the_decoded_key(curve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """An EC key in the form cryptography writes is made from its point (verify._ec_public_key, EVP_PKEY_fromdata),
    not decoded (d2i_PUBKEY): the verdicts are the decoded key's; a point that is not on the curve is refused by both
    (None: libcrypto cannot say, and the caller asks cryptography), and one compressed or cut short is not made from
    its point."""
    from keystores.crypto import verify as verify_module

    if LIBCRYPTO is None:
        pytest.skip("no libcrypto loaded by hashlib in this interpreter")
    spki_of = {}
    for _ in range(10):
        key = ec.generate_private_key(curve)
        spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        spki_of[spki] = key
        assert verify_module._ec_public_key(spki) is not None
        off_curve = bytearray(spki)
        off_curve[-1] ^= 0x01  # y changed: no point on the curve has it (y and -y differ in their lowest bit)
        point_at = len(spki) - 2 * ((curve.key_size + 7) // 8) - 1  # where 04 || X || Y starts
        assert spki[point_at] == 0x04
        for other in (bytes(off_curve), spki[:-1], spki[:point_at] + b"\x02" + spki[point_at + 1:],
                      spki[:point_at] + b"\x02" + spki[point_at + 1:point_at + 1 + (len(spki) - point_at) // 2]):
            assert verify_module._ec_public_key(other) is None
    data = b"to be signed"
    for decoded in (False, True):
        verify_module._KEYS.clear()
        if decoded:
            monkeypatch.setattr(verify_module, "_ec_public_key", lambda spki: None)
        for spki, key in spki_of.items():
            signature = key.sign(data, ec.ECDSA(hashes.SHA256()))
            assert verify(spki, signature, data, "sha256") is True
            assert verify(spki, signature, data + b"!", "sha256") is False
            off_curve = bytearray(spki)
            off_curve[-1] ^= 0x01
            assert verify(bytes(off_curve), signature, data, "sha256") is None
    verify_module._KEYS.clear()

