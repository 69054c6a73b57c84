"""keystores.pki.chain.order_chain and build_chain: issuer by name AND signature, leaf first, cycle-safe."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from helpers import NOW, ca, certificate, ec_key, name, rsa_key

from keystores.pki.chain import issued_by, order_chain


def _three_levels():
    root_key, root = ca(0)
    inter_key = ec_key(20)
    inter = certificate(inter_key, "Intermediate CA", root_key, root, ca=True)
    leaf = certificate(ec_key(21), "leaf.example", inter_key, inter)
    return leaf, inter, root


def test_orders_leaf_intermediate_root_from_any_order():
    leaf, inter, root = _three_levels()
    unrelated = ca(1)[1]
    assert order_chain(leaf, [root, unrelated, leaf, inter]) == (leaf, inter, root)


def test_name_match_without_signature_is_not_an_issuer():
    leaf, inter, root = _three_levels()
    impostor = certificate(ec_key(22), "Intermediate CA", *ca(0), ca=True)  # same subject, another key
    assert not issued_by(leaf, impostor)
    assert order_chain(leaf, [impostor, root]) == (leaf,)
    assert order_chain(leaf, [impostor, inter, root]) == (leaf, inter, root)


def test_stops_at_self_signed_root_and_when_nothing_matches():
    _, root = ca(0)
    assert order_chain(root, [root, ca(1)[1]]) == (root,)
    leaf, inter, _ = _three_levels()
    assert order_chain(leaf, [inter]) == (leaf, inter)
    assert order_chain(leaf, []) == (leaf,)


def test_cross_signed_cycle_terminates():
    key_a, key_b = rsa_key(30), rsa_key(31)

    def cross(subject_key, subject: str, issuer_key, issuer: str) -> x509.Certificate:
        return (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
                .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=30))
                .sign(issuer_key, hashes.SHA256()))

    a_by_b = cross(key_a, "A", key_b, "B")
    b_by_a = cross(key_b, "B", key_a, "A")
    leaf = cross(ec_key(23), "leaf", key_a, "A")
    assert order_chain(leaf, [b_by_a, a_by_b]) == (leaf, a_by_b, b_by_a)


def test_earliest_qualifying_candidate_wins():
    root_key, root = ca(0)
    inter_key = ec_key(24)
    inter_one = certificate(inter_key, "Intermediate CA", root_key, root, ca=True)
    inter_two = certificate(inter_key, "Intermediate CA", root_key, root, ca=True, days=30)  # re-issued, same key
    leaf = certificate(ec_key(25), "leaf.example", inter_key, inter_one)
    assert order_chain(leaf, [inter_two, inter_one, root])[1] == inter_two
    assert order_chain(leaf, [inter_one, inter_two, root])[1] == inter_one


def test_an_issuer_whose_signature_cannot_be_checked_is_taken_by_name_only_when_asked():
    """build_chain(unverifiable=True), as PKCS#12 and tokens chain: an issuer whose key type no library knows is
    taken by its name; one whose signature can be checked and fails is never taken (PKCS#11 took it by name)."""
    from helpers import undecodable_certificate

    from keystores.pki.certificates import decode_certificate
    from keystores.pki.chain import build_chain

    odd_key = rsa_key(200)  # the key undecodable_certificate(0) certifies, under an algorithm OID no one knows
    odd_template = certificate(odd_key, "odd 0", *ca(0), ca=True)
    leaf = certificate(ec_key(23), "leaf under odd", odd_key, odd_template)
    odd = decode_certificate(undecodable_certificate(0))
    assert odd.subject == leaf.issuer
    assert build_chain(leaf, lambda cert: [odd]) == (leaf,)
    assert build_chain(leaf, lambda cert: [odd], unverifiable=True) == (leaf, odd)
    impostor = certificate(ec_key(24), "odd 0", *ca(0), ca=True)  # checkable, and not the signer
    assert build_chain(leaf, lambda cert: [impostor], unverifiable=True) == (leaf,)
    assert build_chain(leaf, lambda cert: [impostor, odd_template], unverifiable=True)[1] == odd_template
