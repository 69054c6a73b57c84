"""keystores.crypto.signatures: the ECDSA made without cryptography's openssl backend is cryptography's ECDSA to its
keys. Signatures made with it verify with cryptography's own `ec.ECDSA` and the other way round, on every curve
keystores makes and with every hash; a changed message or another key does not verify; and making it imports no
backend (start-up speed, issue 15). If cryptography ever reads ECDSA otherwise, these fail loudly."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from keystores.crypto.signatures import ecdsa, hash_algorithm
from keystores.model import private_key_signer
from keystores.pki.chain import signature_verifies

CURVES = [ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1()]
HASHES = ["sha1", "sha224", "sha256", "sha384", "sha512"]


@pytest.mark.parametrize("curve", CURVES, ids=lambda c: c.name)
@pytest.mark.parametrize("hash_name", HASHES)
def test_lean_and_cryptographys_ecdsa_verify_each_others_signatures(curve: ec.EllipticCurve, hash_name: str) -> None:
    key = ec.generate_private_key(curve)
    other = ec.generate_private_key(curve)
    message = b"issue 15: " + hash_name.encode()
    theirs = ec.ECDSA(hash_algorithm(hash_name))
    lean = ecdsa(hash_name)
    assert isinstance(lean, ec.ECDSA) and not lean.deterministic_signing
    assert type(lean.algorithm) is type(theirs.algorithm)
    by_lean, by_theirs = key.sign(message, lean), key.sign(message, theirs)
    key.public_key().verify(by_lean, message, theirs)
    key.public_key().verify(by_theirs, message, ecdsa(hash_name))
    for signature, algorithm in ((by_lean, theirs), (by_theirs, lean)):
        with pytest.raises(InvalidSignature):
            key.public_key().verify(signature, message + b"!", algorithm)
        with pytest.raises(InvalidSignature):
            other.public_key().verify(signature, message, algorithm)
    # the two callers: model's signer signs with it, pki.chain verifies with it
    signed = private_key_signer(key).sign(message, hash_name)
    key.public_key().verify(signed, message, theirs)
    assert signature_verifies(key.public_key(), by_theirs, message, hash_name)
    assert not signature_verifies(key.public_key(), by_theirs, message + b"!", hash_name)
    assert not signature_verifies(other.public_key(), by_theirs, message, hash_name)


def test_the_hashes_are_cryptographys() -> None:
    for name in [*HASHES, "md5"]:
        assert isinstance(hash_algorithm(name), hashes.HashAlgorithm)
        assert hash_algorithm(name).name.replace("-", "") == name
    with pytest.raises(KeyError):
        hash_algorithm("sha3_256")


def test_signing_and_verifying_with_ecdsa_imports_no_backend() -> None:
    probe = ("import sys\n"
             "from cryptography.hazmat.primitives.asymmetric import ec\n"
             "from keystores.crypto.signatures import ecdsa\n"
             "key = ec.generate_private_key(ec.SECP256R1())\n"
             "key.public_key().verify(key.sign(b'm', ecdsa('sha256')), b'm', ecdsa('sha256'))\n"
             "print(sorted(m for m in sys.modules if 'backends' in m or m.endswith('openssl.binding')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
    # the control: cryptography's own ECDSA does import it (else this guard guards nothing)
    control = probe.replace("ecdsa('sha256')", "ec.ECDSA(__import__('cryptography.hazmat.primitives.hashes', "
                                               "fromlist=['x']).SHA256())")
    done = subprocess.run([sys.executable, "-c", control], capture_output=True, text=True, check=True)
    assert "cryptography.hazmat.backends.openssl.backend" in done.stdout
