"""What keystores.backends.pkcs12.read needs only for a file beyond one key and its one certificate: the chains of a
file of several certificates (_name_certificates, _build_chain), a key without a localKeyId matched to its certificate
by public key (_certs_by_public_key, _spki), and Java's secret keys (_decrypt_secret). A module of its own: keytool's
and OpenSSL's one.p12, which list, show, export, convert and sign read, load none of it.
"""

from __future__ import annotations

from keystores.backends.pkcs12.bags import _CertBag
from keystores.backends.pkcs12.read import _decrypt_with
from keystores.errors import IntegrityError, WrongPassword

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.limits import KdfBudget, VerificationBudget


def _decrypt_secret(epki_der: bytes, password: str, mac_verified: bool, location: str, label: str | None,
                    budget: KdfBudget) -> bytes:
    """A Java secret-key bag: EncryptedPrivateKeyInfo around a PKCS#8 whose "private key" is the raw secret."""
    from asn1crypto import core, keys

    epki = keys.EncryptedPrivateKeyInfo.load(epki_der, strict=True)
    plain = _decrypt_with(epki["encryption_algorithm"].dump(), epki["encrypted_data"].native, password,
                          mac_verified, location, budget, label)
    try:
        core.Sequence.load(plain, strict=True)
    except ValueError as exc:
        raise (IntegrityError if mac_verified else WrongPassword)(
            "a secret key does not decrypt", store=location, label=label) from exc
    return plain


def _spki(key: Any) -> bytes:
    from keystores.crypto.key_encoding import spki_der

    try:
        return spki_der(key.public_key())
    except ValueError:  # an UndecodedPrivateKey (keystores.pki.undecoded): no public key to match by
        return b""


def _certs_by_public_key(certs: list[_CertBag]) -> dict[bytes, _CertBag]:
    """The first certificate bag holding each public key (SubjectPublicKeyInfo DER): made once, so matching many
    keys to their certificates is linear, not keys x certificates."""
    from keystores.crypto.key_encoding import spki_der

    found: dict[bytes, _CertBag] = {}
    for bag in certs:
        try:
            spki = spki_der(bag.cert.public_key())
        except Exception:  # a certificate with a key type cryptography cannot load (keystores.pki.undecoded)
            continue
        found.setdefault(spki, bag)
    return found


def _name_certificates(certs: list[_CertBag]) -> None:
    """Every bag's issuer and subject as encoded (keystores.pki.columns.certificate_names); if any certificate
    cannot be walked so, all take the names cryptography re-encodes, so that names are compared one way.

    A file of one certificate names none: a chain is built by matching one certificate's issuer to another's
    subject, so its key's chain is that certificate alone whatever the names (its bag's issuer and subject stay
    equal, b"": _build_chain's first test), and keystores.pki.columns is not imported to read them (~20 KB of
    bytecode: keytool's and OpenSSL's one.p12, which convert, export and sign read, issue 15)."""
    if len(certs) < 2:
        return
    from keystores.pki.columns import certificate_names

    found = [certificate_names(bag.der) for bag in certs]
    if all(names is not None for names in found):
        for bag, names in zip(certs, found, strict=True):
            bag.issuer_name, bag.subject_name = names  # type: ignore[misc]
            bag.names_as_encoded = True
        return
    for bag in certs:
        bag.issuer_name, bag.subject_name = bag.cert.issuer.public_bytes(), bag.cert.subject.public_bytes()


def _build_chain(leaf: _CertBag, by_subject: dict[bytes, list[_CertBag]],
                 verifications: VerificationBudget) -> list[_CertBag]:
    """Leaf first, then each issuer found by name and proven by signature (name alone when the signature cannot be
    checked): keystores.pki.chain.build_chain over the file's bags, bounded as it is. Names are compared as
    _name_certificates read them (as encoded, without decoding), by the lookup and by the rule that ends a chain.

    When several certificates qualify (a CA re-issued with the same key), a bag without attributes wins: Java
    and OpenSSL write chain members bare, while a named bag is an entry of its own.
    """
    if leaf.issuer_name == leaf.subject_name:
        return [leaf]  # where build_chain stops at once; the leaf stays undecoded, and listing decodes nothing

    from keystores.pki.chain import build_chain

    bag_of = {id(leaf.for_chain): leaf}

    def issuers(cert: Any) -> list[Any]:
        bags = sorted(by_subject.get(bag_of[id(cert)].issuer_name, []),
                      key=lambda bag: bag.friendly_name is not None or bag.trust_oids is not None)  # bare first
        bag_of.update((id(bag.for_chain), bag) for bag in bags)
        return [bag.for_chain for bag in bags]

    def self_issued(cert: Any) -> bool:
        bag = bag_of[id(cert)]
        return bag.issuer_name == bag.subject_name

    return [bag_of[id(cert)] for cert in build_chain(leaf.for_chain, issuers, verifications, complete=self_issued,
                                                     unverifiable=True)]
