"""keystores.pki.pkcs8 writes PKCS#8 byte for byte as cryptography's private_bytes does, without importing
cryptography's serialization package (start-up speed, bench/bench_core.py "start-up: keystores certreq")."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x25519

from keystores.pki.pkcs8 import _written_here, pkcs8_der


def _cryptographys(key: object) -> bytes:
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,  # type: ignore[attr-defined]
                             serialization.NoEncryption())


def _ec_keys() -> list[ec.EllipticCurvePrivateKey]:
    seeded = random.Random(15)
    keys = []
    for curve in (ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()):
        keys += [ec.generate_private_key(curve) for _ in range(8)]
        # short scalars: the private key's OCTET STRING keeps its leading zeros (RFC 5915: ceiling(log2(n)/8))
        keys += [ec.derive_private_key(value, curve) for value in (1, 2, 255, 256, seeded.getrandbits(100),
                                                                   seeded.getrandbits(curve.key_size - 9))]
    return keys


def _rsa_keys() -> list[rsa.RSAPrivateKey]:
    keys = [rsa.generate_private_key(65537, size) for size in (1024, 1025, 1031, 2048, 2049, 3072)]
    keys.append(rsa.generate_private_key(3, 1024))
    # the primes the other way round: written as the key holds them
    numbers = keys[0].private_numbers()
    swapped = rsa.RSAPrivateNumbers(numbers.q, numbers.p, numbers.d, numbers.dmq1, numbers.dmp1,
                                    rsa.rsa_crt_iqmp(numbers.q, numbers.p), numbers.public_numbers)
    keys.append(swapped.private_key())
    return keys


@pytest.mark.parametrize("key", [*_ec_keys(), *_rsa_keys(), *(ed25519.Ed25519PrivateKey.generate() for _ in range(5)),
                                 ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32))],
                         ids=lambda key: type(key).__name__)
def test_written_here_byte_for_byte_as_cryptography(key: object) -> None:
    written = _written_here(key)
    assert written is not None
    assert written == _cryptographys(key)


@pytest.mark.parametrize("key", [ec.generate_private_key(ec.SECP256K1()), ec.generate_private_key(ec.BrainpoolP256R1()),
                                 ed448.Ed448PrivateKey.generate(), x25519.X25519PrivateKey.generate()],
                         ids=lambda key: type(key).__name__)
def test_other_keys_are_cryptographys_to_write(key: object) -> None:
    assert _written_here(key) is None
    assert pkcs8_der(key) == _cryptographys(key)


def test_writing_an_ec_key_imports_no_serialization_package() -> None:
    probe = ("import sys\nfrom cryptography.hazmat.primitives.asymmetric import ec, ed25519\n"
             "from keystores.pki.pkcs8 import pkcs8_der\n"
             "pkcs8_der(ec.generate_private_key(ec.SECP256R1()))\npkcs8_der(ed25519.Ed25519PrivateKey.generate())\n"
             "print('cryptography.hazmat.primitives.serialization' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


# --- crypto.pbe_params.private_key_info_algorithm: the check of a decrypted key (moved from pki.undecoded) --------
def test_a_private_key_info_is_told_by_its_algorithm() -> None:
    from keystores.crypto import der
    from keystores.crypto.pbe_params import private_key_info_algorithm

    keys = {"1.2.840.10045.2.1": ec.generate_private_key(ec.SECP256R1()), "1.2.840.113549.1.1.1":
            rsa.generate_private_key(65537, 1024), "1.3.101.112": ed25519.Ed25519PrivateKey.generate(),
            "1.3.101.113": ed448.Ed448PrivateKey.generate(), "1.3.101.110": x25519.X25519PrivateKey.generate()}
    for oid, key in keys.items():
        info = _cryptographys(key)
        assert private_key_info_algorithm(info) == oid
        inner = info[der.read(info)[1]:]
        # optional attributes [0] and public key [1] after the key (RFC 5958): still a PrivateKeyInfo
        assert private_key_info_algorithm(der.sequence(inner, der.tlv(0xA0, b""), der.tlv(0x81, b"\x00"))) == oid
        for damaged in (info + b"\x00", info[:-1], b"\x31" + info[1:], der.sequence(b"\x04\x00" + inner[3:]), b"",
                        der.sequence(der.integer(0), der.sequence(der.integer(1)), der.octet_string(b"k"))):
            assert private_key_info_algorithm(damaged) is None, damaged.hex()
    # an algorithm nobody knows is told all the same (asn1crypto would refuse the structure)
    unknown = der.sequence(der.integer(0), der.sequence(der.oid("1.2.3.4.5")), der.octet_string(b"opaque"))
    assert private_key_info_algorithm(unknown) == "1.2.3.4.5"
