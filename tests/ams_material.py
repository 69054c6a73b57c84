"""Certificates and stores for the AMS tests: two organisations' keys with chosen key usages, made on the fly.
Times are pinned (AT): nothing depends on today's date."""

from __future__ import annotations

import datetime as dt
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.pki.dn import parse_dn

AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
SIGN_AND_ENCRYPT = ("digital_signature", "key_encipherment", "data_encipherment")


@cache
def rsa_key(name: str, size: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


@cache
def ec_key(name: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_cert(key, dn: str, *, issuer: tuple | None = None, usage: tuple[str, ...] | None = SIGN_AND_ENCRYPT,
              eku: tuple | None = None, not_after: dt.datetime | None = None, ca: bool = False,
              serial: int | None = None) -> x509.Certificate:
    """`issuer` is (key, certificate) or None for self-signed; `usage` names KeyUsage fields set (None: no
    extension); `eku` the extended key usage OIDs (None: no extension)."""
    subject = parse_dn(dn).to_x509()
    issuer_key, issuer_name = (issuer[0], issuer[1].subject) if issuer else (key, subject)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(serial or x509.random_serial_number())
               .not_valid_before(AT - dt.timedelta(days=30))
               .not_valid_after(not_after or AT + dt.timedelta(days=365))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if usage is not None:
        fields = dict.fromkeys(("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                                "key_agreement", "key_cert_sign", "crl_sign"), False)
        fields.update(dict.fromkeys(usage, True))
        builder = builder.add_extension(x509.KeyUsage(**fields, encipher_only=False, decipher_only=False),
                                        critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@cache
def org_ca(org: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    key = rsa_key(f"ca-{org}")
    return key, make_cert(key, f"CN={org} CA,O={org}", usage=("key_cert_sign", "crl_sign"), ca=True)


@cache
def person(name: str, org: str, **options) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A person's RSA key and certificate issued by their organisation's CA (`options` go to make_cert); the same
    arguments give the same certificate for the whole session, as openssl finds recipients by issuer and serial."""
    key = options.pop("key", None) or rsa_key(f"{name}-{org}")
    return key, make_cert(key, f"CN={name},O={org},C=GB", issuer=org_ca(org), **options)


def key_entry(label: str, key, cert, org: str | None = None) -> Entry:
    chain = (cert, org_ca(org)[1]) if org else (cert,)
    return Entry(label=label, kind=EntryKind.KEY_PAIR, chain=chain, key=key)


def cert_entry(label: str, cert) -> Entry:
    return Entry(label=label, kind=EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL)


EMAIL = ExtendedKeyUsageOID.EMAIL_PROTECTION
SERVER = ExtendedKeyUsageOID.SERVER_AUTH


PASSWORD = "Ams-Test-pw-31415"
POLICY_TEXT = ('setmqspl -m QM1 -p PAY.IN -s SHA256 -e AES256 -r "CN=bob,O=Other,C=GB" '
               '-a "CN=alice,O=MyOrg,C=GB"\n')


def make_store(location: str, kind: str, entries: list[Entry], *, token=None) -> str:
    """A store of `kind` (pkcs12, jks, jceks, cms (stashed), pkcs11 on `token`) holding `entries`."""
    from keystores.store import open_store

    if kind == "pkcs11":
        with open_store(token.uri, password=token.pin, writable=True) as opened:
            for entry in entries:
                opened.add(entry)
        return token.uri
    options = {"stash": True} if kind == "cms" else {}
    with open_store(location, password=PASSWORD, type=kind, create=True, **options) as made:
        for entry in entries:
            made.add(entry)
    return location


def conf_for(folder, kind: str, store: str, label: str, *, token=None):
    """A keystore.conf naming `store` and `label` (passwords in clear, as IBM's format has them)."""
    path = folder / f"{label}-{kind}.conf"
    if kind == "cms":
        path.write_text(f"cms.keystore = {store[:-4]}\ncms.certificate = {label}\n")
    elif kind == "pkcs11":
        path.write_text(f"pkcs11.library = {token.module}\npkcs11.token = {token.label}\n"
                        f"pkcs11.token_pin = {token.pin}\npkcs11.certificate = {label}\n")
    else:  # jks, jceks, and a PKCS#12 named by jks.keystore (Java reads it too)
        prefix = "jceks" if kind == "jceks" else "jks"
        path.write_text(f"{prefix}.keystore = {store}\n{prefix}.certificate = {label}\n"
                        f"{prefix}.keystore_pass = {PASSWORD}\n{prefix}.key_pass = {PASSWORD}\n")
    return path
