"""keystores.frozen: the model's value classes behave as the frozen dataclasses they replaced (equality, hashing,
repr without secrets, no assignment, with_ as dataclasses.replace), and importing the model loads no dataclasses."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from keystores.frozen import FrozenInstanceError, field_defaults
from keystores.lazy_entries import LazyEntry, sealed_entry
from keystores.model import (
    TRUST_ALL,
    Capabilities,
    Entry,
    EntryKind,
    KeyRef,
    KeySpec,
    Protection,
    ProtectionPart,
    SecretKey,
    Trust,
)


def test_equal_values_are_equal_and_hash_alike() -> None:
    assert Trust() == TRUST_ALL and hash(Trust()) == hash(TRUST_ALL)
    assert Trust(email=False) != TRUST_ALL
    assert KeySpec.parse("ec:p256") == KeySpec("ec", curve="secp256r1")
    assert len({ProtectionPart("a", ("DES",), 1), ProtectionPart("a", ("DES",), 1), ProtectionPart("b")}) == 2
    assert Capabilities(stash=True) == Capabilities(stash=True) != Capabilities()
    assert Entry("x", EntryKind.KEY_PAIR) == Entry("x", EntryKind.KEY_PAIR) != Entry("y", EntryKind.KEY_PAIR)
    assert Entry("x", EntryKind.KEY_PAIR) != ("x", EntryKind.KEY_PAIR)  # another class is never equal


def test_an_instance_of_another_class_is_not_equal_even_with_the_same_fields() -> None:
    plain = Entry("x", EntryKind.TRUSTED_CERT, trust=TRUST_ALL)
    lazy = LazyEntry.lazy({}, leaf_der=b"", label="x", kind=EntryKind.TRUSTED_CERT, trust=TRUST_ALL)
    assert lazy.label == "x" and lazy.trust == TRUST_ALL and lazy.chain == ()
    assert plain != lazy  # as dataclasses compared: same class only


def test_repr_names_the_fields_but_never_a_key_or_secret() -> None:
    entry = Entry("web", EntryKind.KEY_PAIR, key="THE-KEY", secret=SecretKey("AES", b"SECRET"))  # type: ignore[arg-type]
    text = repr(entry)
    assert text.startswith("Entry(label='web', kind=") and "chain=()" in text and "created=None" in text
    assert "THE-KEY" not in text and "SECRET" not in text
    assert repr(SecretKey("AES", b"SECRET")) == "SecretKey(algorithm='AES')"
    assert repr(Trust()) == ("Trust(tls_server=True, tls_client=True, email=True, code_signing=True, native=None, "
                             "verified=True)")


def test_fields_cannot_be_assigned_or_deleted() -> None:
    entry = Entry("x", EntryKind.KEY_PAIR)
    with pytest.raises(FrozenInstanceError):
        entry.label = "y"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del entry.label  # type: ignore[misc]
    with pytest.raises(AttributeError):
        entry.anything = 1  # type: ignore[attr-defined]
    with pytest.raises(FrozenInstanceError):
        TRUST_ALL.email = False  # type: ignore[misc]


def test_with_is_dataclasses_replace() -> None:
    trusted = Entry("ca", EntryKind.CERTIFICATE)
    assert trusted.kind is EntryKind.CERTIFICATE
    again = trusted.with_(trust=TRUST_ALL)
    assert again.kind is EntryKind.TRUSTED_CERT and again.label == "ca" and type(again) is Entry
    assert TRUST_ALL.with_(verified=False) == Trust(verified=False)
    with pytest.raises(TypeError, match="no field"):
        trusted.with_(colour="red")


def test_a_sealed_entry_renamed_stays_sealed_and_keeps_its_fields() -> None:
    opened: list[int] = []
    entry = sealed_entry(lambda: opened.append(1) or "KEY", b"blob", None, label="k", kind=EntryKind.KEY_PAIR,
                         default=True)
    renamed = entry.with_(label="k2")
    assert renamed.sealed and renamed.label == "k2" and renamed.default and not opened
    assert renamed.key == "KEY" and opened == [1]
    plain = entry.with_(key="OTHER")
    assert type(plain) is Entry and plain.key == "OTHER" and plain.default


def test_defaults_and_positional_order_are_the_dataclasses() -> None:
    @dataclasses.dataclass(frozen=True)
    class OldEntry:  # the dataclass Entry was, field for field
        label: str
        kind: EntryKind
        chain: tuple = ()
        key: object = dataclasses.field(default=None, repr=False)
        secret: object = dataclasses.field(default=None, repr=False)
        request: object = None
        trust: object = None
        default: bool = False
        created: object = None

    assert Entry._fields == tuple(f.name for f in dataclasses.fields(OldEntry))
    assert field_defaults(Entry) == {f.name: f.default for f in dataclasses.fields(OldEntry)
                                      if f.default is not dataclasses.MISSING}
    assert field_defaults(KeyRef) == {"signer": None, "sensitive": True, "extractable": False, "decrypter": None,
                                      "locked": False}
    assert Protection().parts == {} and Protection().as_text() == {}
    assert KeySpec("rsa", 2048) == KeySpec(algorithm="rsa", size=2048, curve="")


def test_the_model_loads_no_dataclasses() -> None:
    probe = "import sys, keystores.model, keystores.lazy_entries\nprint('dataclasses' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
