"""Test material made on the fly: keys, a CA, leaf certificates. Generated, never copied from elsewhere."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from functools import cache

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.secrets import WeakCryptoWarning

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
# A point a few years after this run, at a fixed time of day: `--not-after` values that never fall into the past.
LATER = (NOW + dt.timedelta(days=3 * 365)).replace(hour=16, minute=46, second=0)



def warned_of(profile: str) -> AbstractContextManager[object]:
    """What writing a store in `profile` warns, expected (pytest.warns) where a test writes the compat profile on
    purpose: keystores' WeakCryptoWarning, which pyproject's pytest config makes an error anywhere else."""
    if profile != "compat":
        return nullcontext()
    return pytest.warns(WeakCryptoWarning, match="profile compat writes weak algorithms")

def openssl_enddate(when: dt.datetime) -> str:
    """What `openssl x509 -noout -enddate` prints for a notAfter of `when` (UTC)."""
    return f"notAfter={when:%b} {when.day:2d} {when:%H:%M:%S %Y} GMT"


def name(cn: str, org: str = "keystores tests") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


@cache
def rsa_key(index: int = 0, size: int = 2048) -> rsa.RSAPrivateKey:
    """Cached per index so a test session makes each key once (RSA generation is the slow part)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


@cache
def ec_key(index: int = 0, curve: str = "secp256r1") -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1() if curve == "secp256r1" else ec.SECP384R1())


def certificate(subject_key, subject: str, issuer_key=None, issuer: x509.Certificate | None = None, *,
                ca: bool = False, days: int = 365, serial: int | None = None,
                not_after: dt.datetime | None = None) -> x509.Certificate:
    issuer_key = issuer_key or subject_key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(subject))
        .issuer_name(issuer.subject if issuer is not None else name(subject))
        .public_key(subject_key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(not_after or NOW + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


@cache
def ca(index: int = 0) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa_key(100 + index)
    return key, certificate(key, f"Test Root CA {index}", ca=True, days=3650)


def key_pair_entry(label: str, *, index: int = 0, use_ec: bool = False, default: bool = False) -> Entry:
    ca_key, ca_cert = ca(0)  # ca() and ca(0) are different lru_cache keys: two different CAs
    key = ec_key(index) if use_ec else rsa_key(index)
    leaf = certificate(key, f"{label} server", ca_key, ca_cert)
    return Entry(label=label, kind=EntryKind.KEY_PAIR, chain=(leaf, ca_cert), key=key, default=default)


def trusted_entry(label: str, *, index: int = 0) -> Entry:
    _, ca_cert = ca(index)
    return Entry(label=label, kind=EntryKind.TRUSTED_CERT, chain=(ca_cert,), trust=TRUST_ALL)


def same_key(a, b) -> bool:
    from cryptography.hazmat.primitives import serialization

    def spki(k):
        pub = k.public_key() if hasattr(k, "private_bytes") else k
        return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    return spki(a) == spki(b)


UNKNOWN_KEY_ALGORITHM = "1.3.6.1.4.1.55555.1.1"  # a private arc: no library knows it


@cache
def undecodable_certificate(index: int = 0, algorithm: str = UNKNOWN_KEY_ALGORITHM) -> bytes:
    """The DER of a certificate cryptography cannot fully decode (its public key is of an algorithm no library
    knows, or `algorithm`), properly issued by ca(index): the shape of a GOST or ML-DSA certificate in a store."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from keystores.crypto import der

    ca_key, ca_cert = ca(index)
    subject = f"odd {index}" if algorithm == UNKNOWN_KEY_ALGORITHM else f"{algorithm} {index}"
    template = certificate(rsa_key(200 + index), subject, ca_key, ca_cert)
    tbs = template.tbs_certificate_bytes
    _, start, end = der.read(tbs)
    fields = []
    at = start
    while at < end:
        _, _, stop = der.read(tbs, at)
        fields.append(tbs[at:stop])
        at = stop
    # version, serial, signature, issuer, validity, subject, SPKI, extensions: the SPKI gets an unknown algorithm
    _, spki_start, spki_end = der.read(fields[6])
    _, _, algorithm_end = der.read(fields[6], spki_start)
    fields[6] = der.tlv(0x30, der.tlv(0x30, der.oid(algorithm)) + fields[6][algorithm_end:spki_end])
    new_tbs = der.tlv(0x30, b"".join(fields))
    signature = ca_key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA256())
    outer = template.public_bytes(serialization.Encoding.DER)
    _, body, _ = der.read(outer)
    _, _, after_tbs = der.read(outer, body)
    _, _, after_alg = der.read(outer, after_tbs)
    return der.tlv(0x30, new_tbs + outer[after_tbs:after_alg] + der.tlv(0x03, b"\x00" + signature))


# --- native judges ---------------------------------------------------------------------------------------------------
#: A format's native judge: the format's own tool reads, from the store at `location` opened with `password`, the key
#: pair `label` with the certificate chain `chain` (leaf first), or the judge fails. Each format's test file declares
#: its judges as `NATIVE_JUDGES = {format name: judge}`; tests/test_lifecycle.py finds them by that name.
NativeJudge = Callable[[str, str, str, Sequence[x509.Certificate]], None]


def judged_by_keytool(store_type: str, *provider: str) -> NativeJudge:
    """The native judge of a Java store type (JKS, JCEKS, and with Bouncy Castle's `provider` options BKS, BCFKS):
    `keytool -list -v` sees a PrivateKeyEntry with the whole chain, and `-exportcert` gives back its leaf."""

    def judge(location: str, password: str, label: str, chain: Sequence[x509.Certificate]) -> None:
        if shutil.which("keytool") is None:
            pytest.skip("keytool (JDK) is not installed")
        common = ["-keystore", location, "-storetype", store_type, "-storepass:env", "KS_JUDGE_PW", "-alias", label,
                  *provider]
        env = {**os.environ, "KS_JUDGE_PW": password, "LC_ALL": "C"}
        listed = subprocess.run(["keytool", "-J-Duser.language=en", "-list", "-v", *common], capture_output=True,
                                text=True, env=env, check=False)
        assert listed.returncode == 0, listed.stdout + listed.stderr
        assert "Entry type: PrivateKeyEntry" in listed.stdout
        assert f"Certificate chain length: {len(chain)}" in listed.stdout
        leaf = subprocess.run(["keytool", "-J-Duser.language=en", "-exportcert", "-rfc", *common],
                              capture_output=True, text=True, env=env, check=False)
        assert leaf.returncode == 0, leaf.stdout + leaf.stderr
        assert x509.load_pem_x509_certificate(leaf.stdout.encode()) == chain[0]

    return judge


def threads_left(before: int) -> int:
    """Threads more than `before` still running (keystores.crypto.kdf_pool's are _thread's), given a few seconds to
    end."""
    import _thread
    import time

    deadline = time.monotonic() + 5
    while _thread._count() > before and time.monotonic() < deadline:
        time.sleep(0.001)
    return _thread._count() - before
