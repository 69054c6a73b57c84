"""The AMS commands' own classes are keystores.frozen values, not dataclasses (issue 15, start-up in a user
install: dataclasses imports inspect, ~10 ms CPU of every `keystores ams ...` before it does anything). Each is held
here to the dataclass it replaced (repr, equality, hashing, frozen or not, fresh defaults), and `ams render` and
`list ams:CONF` are guarded: they import neither dataclasses nor pathlib."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from keystores.ams.conf import KeystoreConf
from keystores.ams.dnmatch import Near
from keystores.ams.doctor import Finding, Report, Side
from keystores.ams.identity import Mapping
from keystores.ams.policy import Policy, PolicySet, Problem
from keystores.ams.rehearse import Unprotected
from keystores.frozen import FrozenInstanceError

AT = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
_LIST, _DICT = "a new list", "a new dict"  # a default_factory, made per field below
# (class, its fields as the dataclass declared them, frozen, arguments of a sample)
WAS: list[tuple[type, list[Any], bool, dict[str, Any]]] = [
    (Near, ["label", "dn", "reasons"], True, {"label": "a", "dn": "CN=a", "reasons": ("case",)}),
    (Mapping, ["subject", "issuer", "racdcert", "sslpeer", "chlauth", ("notes", list, _LIST)], False,
     {"subject": "CN=a", "issuer": "CN=b", "racdcert": "R", "sslpeer": "S", "chlauth": "C", "notes": ["n"]}),
    (Unprotected, ["message", ("signer", Any, None), ("encrypted_with", Any, None), ("notes", list, _LIST)], False,
     {"message": b"m", "signer": "CN=a"}),
    (Side, ["role", "where", "store", "label", ("others", list, _LIST)], False,
     {"role": "putter", "where": "a.conf", "store": "s", "label": "l"}),
    (Finding, ["side", "policy", "check", "severity", "message", ("nearest", tuple, ()), ("line", int, 0)], True,
     {"side": "putter", "policy": "Q", "check": "c", "severity": "error", "message": "m"}),
    (Report, [("findings", list, _LIST), ("policies", int, 0), ("at", Any, None)], False,
     {"policies": 2, "at": AT}),
    (Policy, ["name", ("sign", str, "NONE"), ("encrypt", str, "NONE"), ("recipients", list, _LIST),
              ("signers", list, _LIST), ("tolerate", str, "0"), ("key_reuse", str, "0"), ("qmgr", Any, None),
              ("line", int, 0), ("form", str, "setmqspl")], False,
     {"name": "PAY.IN", "sign": "SHA256", "recipients": ["CN=a"], "line": 3}),
    (Problem, ["line", "policy", "severity", "message", "ams"], True,
     {"line": 1, "policy": "Q", "severity": "error", "message": "m", "ams": "a"}),
    (PolicySet, ["source", ("policies", dict, _DICT), ("notes", list, _LIST)], False, {"source": "p.spl"}),
    (KeystoreConf, ["path", "kind", ("values", dict, dataclasses.field(repr=False)),
                    ("lines", dict, dataclasses.field(default_factory=dict, repr=False)), ("notes", list, _LIST)],
     False, {"path": "k.conf", "kind": "cms", "values": {"keystore_pass": "secret"}}),
]


@pytest.mark.parametrize(("cls", "fields", "frozen", "sample"), WAS, ids=[was[0].__name__ for was in WAS])
def test_each_class_is_what_its_dataclass_was(cls: type, fields: list[Any], frozen: bool,
                                              sample: dict[str, Any]) -> None:
    factories = {_LIST: list, _DICT: dict}
    old_cls = dataclasses.make_dataclass(cls.__name__, [
        (f, Any) if isinstance(f, str) else
        (f[0], f[1], dataclasses.field(default_factory=factories[f[2]])) if f[2] in (_LIST, _DICT) else f
        for f in fields], frozen=frozen)
    ours, old = cls(**sample), old_cls(**sample)
    if cls is Report:  # its `at` defaulted to now through a factory; the sample pins it
        assert cls().at.tzinfo is dt.UTC
    assert repr(ours) == repr(old)
    assert "secret" not in repr(ours)
    names = [f if isinstance(f, str) else f[0] for f in fields]
    assert [getattr(ours, name) for name in names] == [getattr(old, name) for name in names]
    assert ours == cls(**sample) and ours != sample
    if frozen:
        assert hash(ours) == hash(cls(**sample))
        with pytest.raises(FrozenInstanceError):
            setattr(ours, names[0], "x")
    else:
        with pytest.raises(TypeError):
            hash(ours)
        setattr(ours, names[0], "x")
        assert ours != cls(**sample)
    for name, default in [(f[0], f[2]) for f in fields if not isinstance(f, str)]:
        if default in (_LIST, _DICT):
            assert getattr(cls(**{k: v for k, v in sample.items() if k != name}), name) is not \
                getattr(cls(**{k: v for k, v in sample.items() if k != name}), name)  # a fresh one each


def _modules_after(argv: list[str], cwd: Path) -> list[str]:
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, check=False,
                          cwd=cwd, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_ams_render_imports_no_dataclasses(tmp_path: Path) -> None:
    spl = tmp_path / "pay.spl"
    spl.write_text('./bin/setmqspl -m &QM -p PAY.IN -s SHA256 -e AES256 -r "CN=bob,O=MyOrg,C=GB"\n')
    for form in ("setmqspl", "mqsc", "json"):
        loaded = _modules_after(["ams", "render", "--policies", str(spl), "--qmgr", "QM1", "--as", form], tmp_path)
        assert "keystores.ams.policy" in loaded
        assert not {"dataclasses", "inspect"} & set(loaded), form
