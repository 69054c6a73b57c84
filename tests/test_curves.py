"""keystores.pki.curves: the one table of the curves keystores makes keys on, and what each user reads from it."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from keystores.crypto.der import oid
from keystores.model import KeySpec, describe_key
from keystores.pki.curves import NIST_CURVES, curve_named, curve_of_params


@pytest.mark.parametrize("curve", NIST_CURVES, ids=lambda c: c.name)
def test_each_curve_agrees_with_cryptography_and_der(curve):
    assert curve.params_der == oid(curve.oid)
    assert curve_of_params(curve.params_der) is curve
    made = curve.cryptography_curve()
    assert made.name == curve.name and made.key_size == curve.bits
    key = ec.generate_private_key(made)
    assert describe_key(key.public_key()) == f"EC-{curve.short}"
    assert str(KeySpec.parse(f"ec:{curve.short.lower()}")) == f"ec:{curve.short.lower()}"


@pytest.mark.parametrize(("name", "expected"), [("prime256v1", "secp256r1"), ("P-384", "secp384r1"),
                                                ("SECP521R1", "secp521r1"), ("p256", "secp256r1")])
def test_curves_are_found_by_every_name_users_write(name, expected):
    found = curve_named(name)
    assert found is not None and found.name == expected
    assert KeySpec.parse(f"ec:{name}").curve == expected


def test_other_curves_are_not_in_the_table():
    assert curve_named("secp256k1") is None
    assert curve_of_params(oid("1.3.132.0.10")) is None  # secp256k1
