"""keystores.named.NamedStr behaves as enum.StrEnum did for the classes that used it (EntryKind, Strength, Profile,
Storage): start-up speed, a user's install loads no enum module to open a store."""

from __future__ import annotations

import copy
import enum
import json
import pickle

import pytest

from keystores.formats import Profile, Storage
from keystores.model import EntryKind, Strength
from keystores.named import NamedStr


class Old(enum.StrEnum):
    KEY_PAIR = "key-pair"
    TRUSTED_CERT = "trusted-cert"


class New(NamedStr):
    KEY_PAIR = "key-pair"
    TRUSTED_CERT = "trusted-cert"


def test_members_as_strenum() -> None:
    for old, new in zip(Old, New, strict=True):
        assert (old.name, old.value, str(old), f"{old}", f"{old:>12}", hash(old), old == "key-pair") == \
               (new.name, new.value, str(new), f"{new}", f"{new:>12}", hash(new), new == "key-pair")
        assert repr(old).replace("Old", "New") == repr(new)
        assert json.dumps([old, {old: 1}]) == json.dumps([new, {new: 1}])
        assert type(new.value) is str and type(str(new)) is str
        assert New(new.value) is new and New(new) is new
        assert copy.copy(new) is new and copy.deepcopy(new) is new and pickle.loads(pickle.dumps(new)) is new
        assert new in New and new.value in New and isinstance(new, str)
    assert len(Old) == len(New) == 2 and "other" not in New
    assert sorted([New.TRUSTED_CERT, New.KEY_PAIR]) == ["key-pair", "trusted-cert"]
    for bad in ("other", 3, None):
        with pytest.raises(ValueError) as theirs:
            Old(bad)
        with pytest.raises(ValueError) as ours:
            New(bad)
        assert str(ours.value) == str(theirs.value).replace("Old", "New")
    with pytest.raises(AttributeError):
        New.KEY_PAIR = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del New.KEY_PAIR


def test_the_classes_that_were_enums() -> None:
    assert [k.value for k in EntryKind] == ["key-pair", "trusted-cert", "certificate", "secret-key", "request"]
    assert EntryKind.TRUSTED_CERT.is_certificate and not EntryKind.KEY_PAIR.is_certificate
    assert [s.value for s in Strength] == ["sound", "deprecated", "broken"]
    assert Profile("compat") is Profile.COMPAT and [p.value for p in Profile] == ["modern", "compat"]
    assert Storage("folder") is Storage.FOLDER and Storage.FILE.name == "FILE"
    assert repr(EntryKind.KEY_PAIR) == "<EntryKind.KEY_PAIR: 'key-pair'>"
