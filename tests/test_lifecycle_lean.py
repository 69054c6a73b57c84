"""certreq, sign and receive as bench/bench_core.py's start-up rows run them (an EC P-256 key into a new PKCS#12, a
CA in a PKCS#12 signing with --chain, the reply received into the PKCS#12) import none of the modules they shed for
start-up speed (issue 15), and still do their work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# What each command no longer imports, and why it once did:
SHED = {
    # the package's __init__ imports serialization.ssh (dataclasses, inspect, RSA padding, ciphers): ~15 ms.
    # keystores.crypto.key_encoding and keystores.pki.pkcs8 reach the same objects without it.
    "cryptography.hazmat.primitives.serialization",
    # ~10 ms with inspect, for the result classes of ops/lifecycle and pki/dn (keystores.frozen's now); inspect
    # also for on_store's signatures (worked out when help() asks)
    "dataclasses", "inspect",
    # PEM is written and read with binascii (base64.b64encode and b64decode(validate=True) are binascii's
    # b2a_base64 and a2b_base64 in strict mode): base64 is a module more for nothing
    "base64",
}
# What an EC key's certreq, sign, receive and selfsign no longer import: cryptography's openssl backend, which
# `ec.ECDSA()` imports in its __init__ (keystores.crypto.signatures makes ECDSA without it: ~17 M instructions),
# and the modules of key types the key is not (RSA's brings `random`).
SHED_FOR_EC = {"cryptography.hazmat.backends.openssl.backend", "cryptography.hazmat.bindings.openssl.binding",
               "cryptography.hazmat.primitives.asymmetric.rsa", "cryptography.hazmat.primitives.asymmetric.padding",
               "cryptography.hazmat.primitives.asymmetric.ed25519", "cryptography.hazmat.primitives.asymmetric.ed448",
               "cryptography.hazmat.primitives.asymmetric.dsa", "random"}
# What certreq and selfsign into a new PKCS#12 no longer import: the reading half of the backend (nothing to read)
SHED_WHEN_CREATING = {"keystores.backends.pkcs12.read", "keystores.backends.pkcs12.structure", "keystores.pki.labels"}
# What none of them imports any more: cryptography's cipher modules, as the PKCS#12 MAC's KDF has the interpreter's
# libcrypto in use (keystores.crypto.libcrypto), which does the bags' AES-CBC too
SHED_CIPHERS = {"cryptography.hazmat.primitives.ciphers", "cryptography.hazmat.decrepit"}
# What sign and receive, which have nothing to note here, no longer import: the renderer of notes
SHED_WITHOUT_NOTES = {"keystores.cli.render"}
# certreq's placeholder certificate takes its validity as POSIX seconds (pki.when.build_validity) and the PKCS#12
# writer dates only a secret key: datetime runs its pure-Python module before its C one (~6.7 M instructions).
# selfsign and sign take theirs so too where no time is given, and sign and receive compare the certificates' times
# with the clock as POSIX seconds read from the DER (EncodedCertificate.validity_seconds)
SHED_DATES = {"datetime", "_datetime"}
# sign decides its output format with keystores.ops.outputs, not the transfer machinery; its CLI names the
# certificate it wrote by keystores.pki.dn.describe (pki.dn is loaded: the request's subject was read with it), not
# keystores.pki.certificates, a module more
SHED_BY_SIGN = {"keystores.ops.transfer", "keystores.pki.certificates"}
# What sign and receive of EC keys no longer import: the certificate reader keystores.pki.spki asked whether a key's
# point loads (libcrypto makes the key from its point: crypto/verify)
SHED_BY_SIGN_AND_RECEIVE = {"keystores.pki.shown",
                            # nor list's column reader: pki.spki reads an EC key in the form cryptography writes
                            # by its bytes (crypto.verify.ec_spki_point) and checks its point with pki.curves'
                            "keystores.pki.columns"}
# and receive: certificates' descriptions (for the messages that name one: none here; sign's CLI names the
# certificate it wrote) and the fingerprints module (for a chain the reply leaves incomplete)
SHED_BY_RECEIVE = {"keystores.pki.certificates", "keystores.pki.fingerprints"}
# What certreq no longer imports: pki.when, for its placeholder's validity alone (lifecycle._placeholder_validity)
SHED_BY_CERTREQ = {"keystores.pki.when"}
# What sign (its request in, its certificates out), certreq (its request out) and receive (its reply in) no longer
# import for PEM's base64: binascii, which loads the libz it links (~0.25-0.7 ms). libcrypto, in use already for the
# PKCS#12's MAC and the EC key, encodes (keystores.crypto.der.base64_encode); crypto.der decodes text in the form
# encoders write itself (strict_base64_decode), which receive, reading its reply before opening the store (no
# libcrypto in use yet), took binascii's for.
SHED_BASE64 = {"binascii"}
# What writing a PKCS#12 no longer imports (certreq, selfsign, receive): the utf-16-be codec's module, for a bag's
# friendlyName (codecs.utf_16_be_encode is the function it calls); nor does sign, which writes none
SHED_CODECS = {"encodings.utf_16_be"}


def _run(folder: Path, *argv: str, exits: tuple[int, ...] = (0,)) -> tuple[list[str], list[list[str]]]:
    """`keystores ARGV --password env:KS_PW` in a fresh interpreter: the modules it imported, and each import
    statement keystores' own modules ran ([importer, module, the function running it or "<module>"]). The PKCS#12
    KDF's Python loop is refused in it: each of these commands derives its MAC key in libcrypto (crypto/kdf.py)."""
    probe = ("import atexit, builtins, json, sys\n"
             "ran = []\n"
             "plain_import = builtins.__import__\n"
             "def spied(name, globals=None, locals=None, fromlist=(), level=0):\n"
             "    importer = (globals or {}).get('__name__', '')\n"
             "    if importer.startswith('keystores'):\n"
             "        ran.append([importer, name, sys._getframe(1).f_code.co_name])\n"
             "    return plain_import(name, globals, locals, fromlist, level)\n"
             "builtins.__import__ = spied\n"
             "atexit.register(lambda: print(json.dumps([sorted(sys.modules), ran]), file=sys.stderr))\n"
             "from keystores.crypto import kdf\n"
             "def refused(*args):\n    raise AssertionError('the PKCS#12 KDF ran in Python')\n"
             "kdf.pkcs12_kdf_python = refused\n"
             "sys.argv = ['keystores', *sys.argv[1:], '--password', 'env:KS_PW']\n"
             "from keystores.cli.main import run\nsys.exit(run())\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=folder,
                          env={**os.environ, "KS_PW": "lean pw 15"}, check=False)
    assert done.returncode in exits, done.stderr
    modules, ran = json.loads(done.stderr.strip().splitlines()[-1])
    return modules, ran


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[list[str], list[list[str]]]]:
    folder = tmp_path_factory.mktemp("lifelean")
    found = {
        "selfsign": _run(folder, "selfsign", "ca.p12", "--label", "ca", "--dn", "CN=Lean CA", "--ca", "--key-type",
                         "ec:p256"),
        "certreq": _run(folder, "certreq", "web.p12", "--label", "web", "--dn", "CN=web", "--key-type", "ec:p256",
                        "-o", "web.csr"),
        "sign": _run(folder, "sign", "ca.p12", "web.csr", "--label", "ca", "-o", "web.pem", "--chain", "--force"),
        "receive": _run(folder, "receive", "web.p12", "web.pem"),
        "audit": _run(folder, "audit", "web.p12", "ca.p12"),
        # the CA is a key pair, trusted by nobody: the chain is built and checked, and fails (exit 5)
        "validate": _run(folder, "validate", "web.p12", "web", exits=(5,)),
    }
    listed = subprocess.run([sys.executable, "-m", "keystores", "list", "web.p12", "--json", "--password",
                             "env:KS_PW"], cwd=folder, check=True, capture_output=True, text=True,
                            env={**os.environ, "KS_PW": "lean pw 15"})
    [web] = [entry for entry in json.loads(listed.stdout)["entries"] if entry["label"] == "web"]
    assert web["issuer"] == "CN=Lean CA" and web["chain_length"] == 2  # the reply and the CA went in
    # the reply again, into the store that now holds the CA's certificate as an entry of its own too
    found["receive again"] = _run(folder, "receive", "web.p12", "web.pem")
    return found


@pytest.fixture(scope="module")
def loaded(runs: dict[str, tuple[list[str], list[list[str]]]]) -> dict[str, list[str]]:
    return {command: modules for command, (modules, _) in runs.items()}


@pytest.mark.parametrize("command", ["selfsign", "certreq", "sign", "receive"])
def test_the_command_imports_nothing_it_shed(loaded: dict[str, list[str]], command: str) -> None:
    modules = loaded[command]
    assert "keystores.ops.lifecycle" in modules  # the probe saw the command's own imports
    assert not SHED & set(modules), SHED & set(modules)
    assert not SHED_FOR_EC & set(modules), SHED_FOR_EC & set(modules)
    if command in ("certreq", "selfsign"):
        assert "keystores.backends.pkcs12.write" in modules  # (the store was written)
        assert not SHED_WHEN_CREATING & set(modules), SHED_WHEN_CREATING & set(modules)
    assert "keystores.crypto.libcrypto" in modules  # (the bags were encrypted or decrypted there)
    assert not SHED_CIPHERS & set(modules), SHED_CIPHERS & set(modules)
    if command not in ("certreq", "selfsign"):  # certreq notes where the key waits; selfsign what it made
        assert not SHED_WITHOUT_NOTES & set(modules)
    if command == "sign":
        assert not SHED_BY_SIGN & set(modules)
    if command in ("sign", "receive"):
        assert not SHED_BY_SIGN_AND_RECEIVE & set(modules), SHED_BY_SIGN_AND_RECEIVE & set(modules)
    if command == "receive":
        assert not SHED_BY_RECEIVE & set(modules), SHED_BY_RECEIVE & set(modules)
    assert not SHED_DATES & set(modules), command
    assert not SHED_CODECS & set(modules), command
    if command == "certreq":
        assert not SHED_BY_CERTREQ & set(modules)
    if command in ("sign", "certreq", "receive"):
        assert not SHED_BASE64 & set(modules), command


def test_receiving_again_decodes_no_certificate(loaded: dict[str, list[str]]) -> None:
    """A PKCS#12 whose key pair's chain holds a certificate entry of its own (the CA `receive` put there) is written
    again without cryptography.x509: the chain member's label is compared with its common name read from the DER
    (pkcs12/write._chain_member_attributes; any later write of such a file did the same)."""
    assert "keystores.backends.pkcs12.write" in loaded["receive again"]
    assert "cryptography.x509" not in loaded["receive again"]


@pytest.mark.parametrize("command", ["selfsign", "certreq", "sign", "receive"])
def test_the_lifecycle_modules_hash_keys_without_hashlib(runs: dict[str, tuple[list[str], list[list[str]]]],
                                                         command: str) -> None:
    """Their key prints and key identifiers (lifecycle._key_print, builder.key_identifier, spki.key_print) hash by
    _hashlib's constructors, which hashlib.sha1 and sha256 are (spki.openssl_digest): no import of hashlib runs in
    them (hashlib's own import makes a constructor for every digest; whether it loads at all is up to the
    PKCS#12 backend's derivations)."""
    _, ran = runs[command]
    assert [importer for importer, _, _ in ran if importer in OWN_MODULES]  # the probe saw their imports run
    assert not [(importer, where) for importer, name, where in ran if importer in OWN_MODULES and name == "hashlib"]


@pytest.mark.parametrize("command", ["selfsign", "certreq"])
def test_the_write_ahead_starts_before_what_only_the_entry_needs_is_imported(
        runs: dict[str, tuple[list[str], list[list[str]]]], command: str) -> None:
    """selfsign and certreq into a new PKCS#12 hint the store of their write (its derivations start: the writer
    module is imported by expect_write) before importing lazy_entries and pki.encoded, which only making the entry
    needs (ops/lifecycle's _EARLY_WRITE): the derivations start ~0.5-1 ms of start-up sooner."""
    _, ran = runs[command]
    first = {name: next(i for i, (_, imported, _) in enumerate(ran) if imported == name)
             for name in ("keystores.backends.pkcs12.write", "keystores.lazy_entries", "keystores.pki.encoded")}
    assert first["keystores.backends.pkcs12.write"] < first["keystores.lazy_entries"], first
    assert first["keystores.backends.pkcs12.write"] < first["keystores.pki.encoded"], first


def test_openssl_digest_is_hashlibs() -> None:
    import hashlib

    from keystores.pki.spki import openssl_digest

    for name in ("sha1", "sha256"):
        for data in (b"", b"key", bytes(range(256)) * 9):
            assert openssl_digest(name, data) == hashlib.new(name, data).digest()
    import _hashlib

    assert (hashlib.sha1, hashlib.sha256) == (_hashlib.openssl_sha1, _hashlib.openssl_sha256)  # the very objects


# Each command loads only its own part of the lifecycle besides ops.lifecycle (what the parts share)
PARTS = {"selfsign": "keystores.ops.lifecycle_make", "certreq": "keystores.ops.lifecycle_make",
         "sign": "keystores.ops.lifecycle_sign", "receive": "keystores.ops.lifecycle_receive"}


@pytest.mark.parametrize("command", sorted(PARTS))
def test_a_command_loads_only_its_part_of_the_lifecycle(loaded: dict[str, list[str]], command: str) -> None:
    assert set(PARTS.values()) & set(loaded[command]) == {PARTS[command]}


@pytest.mark.parametrize("command", sorted(PARTS))
def test_a_command_loads_no_dn_comparison(loaded: dict[str, list[str]], command: str) -> None:
    """`dn normalize` and `dn compare` live apart (keystores.pki.dn_compare): the lifecycle commands read and write
    DNs with keystores.pki.dn and load neither; keystores.pki.dn still serves their names."""
    assert "keystores.pki.dn_compare" not in loaded[command]
    from keystores.pki import dn, dn_compare

    assert (dn.normalize, dn.compare, dn.Comparison) == (dn_compare.normalize, dn_compare.compare,
                                                         dn_compare.Comparison)


def test_the_parts_names_are_served_by_ops_lifecycle_as_before() -> None:
    import keystores
    from keystores.ops import lifecycle, lifecycle_make, lifecycle_receive, lifecycle_sign

    for names, part in ((lifecycle._MAKE_NAMES, lifecycle_make), (lifecycle._SIGN_NAMES, lifecycle_sign),
                        (lifecycle._RECEIVE_NAMES, lifecycle_receive)):
        for name in names:
            assert getattr(lifecycle, name) is getattr(part, name)
    assert (keystores.selfsign, keystores.certreq, keystores.sign, keystores.receive) == (
        lifecycle_make.selfsign, lifecycle_make.certreq, lifecycle_sign.sign, lifecycle_receive.receive)
    with pytest.raises(AttributeError):
        lifecycle.no_such_name  # noqa: B018


# What the lifecycle's and audit's own modules never import while these commands run: typing (its names are for type
# checkers only, under TYPE_CHECKING), pathlib, dataclasses, base64; and what they import only in the functions that
# use it, never when the module loads: datetime (certreq makes its placeholder without it), contextlib, hashlib. Each
# is a module a user install would otherwise load for them (cryptography loads typing, contextlib and functools for
# the commands that use it; a token's or a .kdb's certreq does not). ops/outputs is not among them: its pathlib goes
# with leanstore's keystores.paths, one way for every module.
OWN_MODULES = {"keystores.ops.lifecycle", "keystores.ops.lifecycle_make", "keystores.ops.lifecycle_sign",
               "keystores.ops.lifecycle_receive", "keystores.ops.audit", "keystores.ops.validate",
               "keystores.ops.chains", "keystores.pki.builder", "keystores.pki.dn", "keystores.pki.dn_compare",
               "keystores.pki.when", "keystores.pki.pkcs8", "keystores.pki.fingerprints", "keystores.crypto.signatures",
               "keystores.crypto.key_encoding", "keystores.crypto.ec_keys", "keystores.crypto.verify",
               "keystores.pki.spki"}
NEVER_IMPORTED_BY_OWN = {"typing", "pathlib", "dataclasses", "base64",
                         "ipaddress"}  # (only for an IP address SAN: these runs have none)
# (crypto/ec_keys, crypto/verify and pki/spki: the libcrypto keys and checks of certreq, selfsign and sign, and their
# SubjectPublicKeyInfo reading, held to the same)
IMPORTED_WHERE_USED = {"keystores.ops.lifecycle": {"datetime", "contextlib"},
                       "keystores.ops.lifecycle_make": {"datetime", "contextlib"},
                       "keystores.ops.lifecycle_sign": {"datetime", "contextlib"},
                       "keystores.ops.lifecycle_receive": {"datetime", "contextlib"},
                       "keystores.pki.builder": {"datetime", "contextlib"}}


@pytest.mark.parametrize("command", ["selfsign", "certreq", "sign", "receive", "audit", "validate"])
def test_the_lifecycle_modules_import_only_what_they_use(runs: dict[str, tuple[list[str], list[list[str]]]],
                                                         command: str) -> None:
    modules, ran = runs[command]
    assert OWN_MODULES & set(modules)  # the probe saw them load
    assert [importer for importer, _, _ in ran if importer in OWN_MODULES]  # and their import statements run
    never = [(importer, name, where) for importer, name, where in ran
             if importer in OWN_MODULES and name.partition(".")[0] in NEVER_IMPORTED_BY_OWN]
    assert not never, never
    on_load = [(importer, name) for importer, name, where in ran
               if where == "<module>" and name in IMPORTED_WHERE_USED.get(importer, ())]
    assert not on_load, on_load


# --- the results and DNs are keystores.frozen's classes, as the dataclasses they replaced -------------------------
def _old_classes() -> dict[str, type]:
    """The dataclasses as they were (keystores/ops/lifecycle.py and pki/dn.py before issue 15's lifelean)."""
    import dataclasses
    import datetime as dt
    from dataclasses import dataclass, field
    from typing import Any

    @dataclass
    class Issued:
        label: str
        encoded: tuple[Any, ...]
        notes: list[str] = field(default_factory=list)

    @dataclass
    class Requested:
        label: str
        encoded: Any
        kept_as: str
        notes: list[str] = field(default_factory=list)

    @dataclass
    class Received:
        label: str
        encoded: tuple[Any, ...]
        notes: list[str] = field(default_factory=list)

    @dataclass
    class Link:
        subject: str
        issuer: str
        not_before: dt.datetime
        not_after: dt.datetime
        fingerprint: str
        problems: list[str] = field(default_factory=list)
        warnings: list[str] = field(default_factory=list)
        trusted: bool = False

    @dataclass
    class Validation:
        store: str
        label: str
        links: list[Any]
        at: dt.datetime

    @dataclass(frozen=True)
    class Finding:
        store: str
        label: str | None
        check: str
        message: str
        severity: str = "warning"
        subject: str | None = None
        not_after: dt.datetime | None = None
        days_left: int | None = None
        fingerprint: str | None = None
        hint: Any = None

    @dataclass
    class Audit:
        findings: list[Any] = field(default_factory=list)
        stores: int = 0
        certificates: int = 0
        within: dt.timedelta = dt.timedelta(days=30)
        at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
        fail_on: str = "warning"

    @dataclass(frozen=True)
    class Attribute:
        keyword: str
        oid: str
        value: str

    @dataclass(frozen=True)
    class DistinguishedName:
        rdns: tuple[Any, ...]
        source: str = field(default="", compare=False)

    @dataclass(frozen=True)
    class Comparison:
        equal: bool
        normal_a: str
        normal_b: str
        reasons: tuple[str, ...] = ()
        notes: tuple[str, ...] = ()

    classes = [Issued, Requested, Received, Link, Validation, Finding, Audit, Attribute, DistinguishedName,
               Comparison]
    assert all(dataclasses.is_dataclass(cls) for cls in classes)
    return {cls.__name__: cls for cls in classes}


def _samples() -> list[tuple[str, tuple[object, ...], dict[str, object]]]:
    """(class name, positional, keyword) to make one of each, old and new alike."""
    import datetime as dt

    from keystores.errors import Hint

    when = dt.datetime(2030, 1, 2, tzinfo=dt.UTC)
    return [("Issued", ("web", (b"a",)), {}), ("Issued", ("web", ()), {"notes": ["n"]}),
            ("Requested", ("web", b"r", "as a pending request"), {}),
            ("Received", ("web", (b"a", b"b")), {"notes": ["x"]}),
            ("Link", ("CN=a", "CN=b", when, when, "AB"), {"trusted": True}),
            ("Validation", ("s.p12", "web", [], when), {}),
            ("Finding", ("s.p12", "web", "expired", "gone"), {"severity": "error", "days_left": -3,
                                                               "hint": Hint(" ({})", option="--x", keyword="x")}),
            ("Audit", (), {"stores": 2, "at": when}),
            ("Attribute", ("CN", "2.5.4.3", "web"), {}),
            ("Comparison", (False, "CN=a", "CN=b"), {"reasons": ("value",)})]


def _new_classes() -> dict[str, type]:
    from keystores.ops import audit, lifecycle
    from keystores.pki import dn

    return {name: getattr(lifecycle, name, None) or getattr(audit, name, None) or getattr(dn, name)
            for name in _old_classes()}


@pytest.mark.parametrize("name", list(_old_classes()))
def test_the_fields_and_defaults_are_the_dataclasses(name: str) -> None:
    import dataclasses

    from keystores.frozen import field_defaults

    old, new = _old_classes()[name], _new_classes()[name]
    assert new._fields == tuple(f.name for f in dataclasses.fields(old))
    plain = {f.name: f.default for f in dataclasses.fields(old) if f.default is not dataclasses.MISSING}
    made = {f.name for f in dataclasses.fields(old) if f.default_factory is not dataclasses.MISSING}
    defaults = field_defaults(new)
    assert {key: value for key, value in defaults.items() if key not in made} == plain
    assert set(defaults) == set(plain) | made  # a factory's default is None, each instance gets its own
    for fresh_name in made - {"at"}:
        required = [f for f in dataclasses.fields(old) if f.name not in defaults]
        one, two = new(*(["x"] * len(required))), new(*(["x"] * len(required)))
        assert getattr(one, fresh_name) == getattr(old(*(["x"] * len(required))), fresh_name) == []
        assert getattr(one, fresh_name) is not getattr(two, fresh_name)


@pytest.mark.parametrize(("name", "args", "kwargs"), _samples(),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_equality_hashing_and_repr_are_the_dataclasses(name: str, args: tuple, kwargs: dict) -> None:
    old_class, new_class = _old_classes()[name], _new_classes()[name]
    old, new = old_class(*args, **kwargs), new_class(*args, **kwargs)
    assert repr(new) == repr(old).removeprefix("_old_classes.<locals>.")
    assert new == new_class(*args, **kwargs) and new != object()
    hashable = old_class.__hash__ is not None
    assert (new_class.__hash__ is not None) == hashable
    if hashable:
        assert hash(new) == hash(new_class(*args, **kwargs))
        with pytest.raises(AttributeError):
            new.label = "other"  # type: ignore[misc]  # frozen, as the dataclass was
    else:  # a result the operation fills in as it goes
        changed = new_class(*args, **kwargs)
        setattr(changed, new_class._fields[0], "changed")
        assert changed != new


def test_a_dn_compares_by_its_parts_not_by_how_it_was_written() -> None:
    from keystores.pki.dn import parse_dn

    a, b = parse_dn("CN=web, O=Example"), parse_dn("cn=web,o=Example")
    assert a == b and hash(a) == hash(b) and a.source != b.source
    assert a != parse_dn("CN=web,O=Other")
    assert repr(a).startswith("DistinguishedName(rdns=((Attribute(keyword='CN', oid='2.5.4.3', value='web'),),")


def test_operations_show_a_location_password_and_type_in_help() -> None:
    """on_store works the signature out when asked (no inspect on import): as it was made before."""
    import inspect

    import keystores

    for operation in (keystores.selfsign, keystores.certreq, keystores.sign, keystores.receive, keystores.validate):
        own = inspect.signature(inspect.unwrap(operation))
        first, *rest = own.parameters.values()
        keyword = inspect.Parameter.KEYWORD_ONLY
        expected = own.replace(parameters=[
            first.replace(annotation="KeyStore | str | os.PathLike[str]"), *rest,
            inspect.Parameter("password", keyword, default=None, annotation="str | None"),
            inspect.Parameter("type", keyword, default=None, annotation="str | None")])
        assert inspect.signature(operation) == expected
        assert f"{operation.__name__}({first.name}: 'KeyStore | str | os.PathLike[str]'" in \
            __import__("pydoc").render_doc(operation, renderer=__import__("pydoc").plaintext)


# --- what replaced base64 does what it did ------------------------------------------------------------------------
def test_pem_bodies_decode_and_encode_as_base64_did() -> None:
    """binascii's strict a2b_base64 and b2a_base64 without a newline, as lifecycle and crypto.der use them, against
    base64.b64decode(validate=True) and b64encode over good and bad bodies."""
    import base64
    import binascii
    import random

    from keystores.crypto.der import pem_armor

    rng = random.Random(15)
    bodies = [b"", b"QQ==", b"QQ", b"QUI=", b"Q===", b"=QQ=", b"QQ==QQ==", b"Q Q=", b"QQ=\n", b"*QQ=", b"QUJD"]
    for _ in range(400):
        bodies.append(bytes(rng.choice(b"ABCab+/=01 \n-*") for _ in range(rng.randrange(12))))
        raw = rng.randbytes(rng.randrange(1, 120))
        bodies.append(base64.b64encode(raw))
        pem = pem_armor("CERTIFICATE", raw)
        lines = pem.splitlines()
        assert b"".join(lines[1:-1]) == base64.b64encode(raw) and all(len(line) <= 64 for line in lines)
    for body in bodies:
        try:
            expected: bytes | type[Exception] = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            expected = ValueError
        try:
            got: bytes | type[Exception] = binascii.a2b_base64(body, strict_mode=True)
        except (binascii.Error, ValueError):
            got = ValueError
        assert got == expected, body


@pytest.mark.parametrize("in_use", [True, False])
def test_base64_is_binasciis_with_libcrypto_in_use_or_not(monkeypatch: pytest.MonkeyPatch, in_use: bool) -> None:
    """crypto.der's base64 (encoding by libcrypto where in use, else binascii; decoding text in the form encoders
    write by whole-string operations, any other by binascii) gives what binascii's b2a_base64 without a
    newline and strict a2b_base64 give, or refuses (ValueError) what the latter refuses: canonical text and every
    other kind (padding inside or in excess, whitespace, other characters, lengths not a multiple of four)."""
    import binascii
    import random

    from keystores.crypto import der, libcrypto

    if in_use:
        assert libcrypto.library() is not None  # (the library this interpreter's hashlib links)
    else:
        monkeypatch.setattr(der, "_libcrypto_in_use", lambda: None)
    rng = random.Random(15)
    bodies = [b"", b"QQ==", b"QQ", b"QUI=", b"Q===", b"=QQ=", b"QQ==QQ==", b"QUJD=", b"QUJD==", b"QUJDRA=", b"*QQ="]
    for _ in range(3000):
        raw = rng.randbytes(rng.randrange(0, 100))
        encoded = binascii.b2a_base64(raw, newline=False)
        assert der.base64_encode(raw) == encoded
        mutated = bytearray(encoded)
        for _ in range(rng.randrange(3)):
            at = rng.randrange(len(mutated) + 1)
            mutated[at:at + rng.randrange(2)] = bytes([rng.choice(b"AZaz09+/=\n -_\xff")])
        bodies += [encoded, bytes(mutated), bytes(rng.choice(b"ABab+/=") for _ in range(rng.randrange(12)))]
    bodies += [binascii.b2a_base64(rng.randbytes(size), newline=False) for size in (1000, 1501, 4096, 65537)]
    for body in bodies:
        try:
            expected: bytes | type[Exception] = binascii.a2b_base64(body, strict_mode=True)
        except ValueError:
            expected = ValueError
        try:
            got: bytes | type[Exception] = der.strict_base64_decode(body)
        except ValueError:
            got = ValueError
        assert got == expected, body


def test_build_validity_is_validitys_span_in_posix_seconds() -> None:
    """Without `now`: whole seconds of the clock and `days` later, refused as validity() refuses; with `now`,
    validity() itself."""
    import datetime as dt
    import time

    from keystores.errors import UsageError
    from keystores.pki.when import build_validity, validity

    before = int(time.time())
    start, end = build_validity(days=90)
    assert isinstance(start, int) and before <= start <= time.time() and end - start == 90 * 86400
    start, end = build_validity(days=None, default_days=3650)
    assert end - start == 3650 * 86400
    pinned = dt.datetime(2030, 1, 30, 16, 46, 0, 123456, tzinfo=dt.UTC)
    assert build_validity(days=7, now=pinned) == validity(days=7, not_after=None, now=pinned)
    for days in (0, -1):
        with pytest.raises(UsageError) as theirs:
            validity(days=days, not_after=None)
        with pytest.raises(UsageError) as ours:
            build_validity(days=days)
        assert str(ours.value) == str(theirs.value) and ours.value.hint == theirs.value.hint


def test_certreqs_placeholder_validity_is_build_validitys(monkeypatch: pytest.MonkeyPatch) -> None:
    """lifecycle._placeholder_validity, which certreq takes instead of importing pki.when: build_validity's for
    PLACEHOLDER_DAYS, from the clock and from a given time."""
    import datetime as dt
    import time

    from keystores.ops import lifecycle
    from keystores.pki.when import build_validity

    monkeypatch.setattr(time, "time", lambda: 1_900_000_000.75)
    assert lifecycle._placeholder_validity(None) == build_validity(days=lifecycle.PLACEHOLDER_DAYS)
    pinned = dt.datetime(2030, 1, 30, 16, 46, 0, 123456, tzinfo=dt.UTC)
    assert lifecycle._placeholder_validity(pinned) == build_validity(days=lifecycle.PLACEHOLDER_DAYS, now=pinned)


_PEM_PIECES = [b"-----BEGIN CERTIFICATE-----", b"-----END CERTIFICATE-----", b"-----BEGIN X509 CERTIFICATE-----",
               b"-----END X509 CERTIFICATE-----", b"-----BEGIN CERTIFICATE REQUEST-----",
               b"-----END NEW CERTIFICATE REQUEST-----", b"-----BEGIN NEW CERTIFICATE REQUEST-----",
               b"-----END CERTIFICATE REQUEST-----", b"-----BEGIN ", b"-----END ", b"-----", b"MIIB", b"\n", b" ",
               b"X509 ", b"CERTIFICATE", b"\r\n", b"=="]


def _pieces() -> object:
    from hypothesis import strategies as st

    return st.lists(st.sampled_from(_PEM_PIECES), max_size=14).map(b"".join)


def test_pem_bodies_find_what_the_expressions_found() -> None:
    """ops.lifecycle.pem_bodies (receive's certificates, sign's request) is re.findall of the expressions it
    replaced (start-up speed: no re), over random texts of PEM markers and the corners: no END, an END of the other
    label, nested BEGINs, empty bodies."""
    import re

    from hypothesis import given, settings

    from keystores.ops.lifecycle import pem_bodies

    certificates = re.compile(rb"-----BEGIN (?:X509 )?CERTIFICATE-----(.*?)-----END (?:X509 )?CERTIFICATE-----",
                              re.DOTALL)
    requests = re.compile(rb"-----BEGIN (?:NEW )?CERTIFICATE REQUEST-----(.*?)-----END (?:NEW )?CERTIFICATE "
                          rb"REQUEST-----", re.DOTALL)

    def agree(data: bytes) -> None:
        assert pem_bodies(data, (b"CERTIFICATE", b"X509 CERTIFICATE")) == certificates.findall(data), data
        assert pem_bodies(data, (b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST")) == requests.findall(data), data

    for corner in (b"", b"-----BEGIN CERTIFICATE-----", b"-----BEGIN CERTIFICATE----------END CERTIFICATE-----",
                   b"-----BEGIN CERTIFICATE-----a-----BEGIN X509 CERTIFICATE-----b-----END CERTIFICATE-----c"
                   b"-----END X509 CERTIFICATE-----", b"x-----BEGIN X509 CERTIFICATE-----\nMII\n-----END CERTIFICATE-"
                   b"----y-----BEGIN CERTIFICATE-----z", b"-----END CERTIFICATE----------BEGIN CERTIFICATE-----"):
        agree(corner)
    settings(max_examples=600, deadline=None)(given(_pieces())(agree))()


@pytest.mark.parametrize("command", ["selfsign", "certreq", "sign"])
def test_an_ec_key_for_a_file_is_made_without_cryptography(loaded: dict[str, list[str]], command: str) -> None:
    """The key is made and signs by libcrypto (keystores.crypto.ec_keys), and the store writes it as its PKCS#8:
    certreq and selfsign of an EC key into a PKCS#12 import no cryptography at all (~20 ms of CPU, bench_core's
    "start-up: keystores certreq"), nor does sign with the EC CA key a PKCS#12 holds (the request's signature is
    checked by libcrypto too); what they wrote is judged by the sign, receive, audit and list of `runs`."""
    assert "keystores.crypto.ec_keys" in loaded[command]
    assert not [module for module in loaded[command] if module.startswith("cryptography")]


def test_sign_compares_times_in_seconds_as_it_compared_datetimes(tmp_path: Path) -> None:
    """sign reads the CA's validity as POSIX seconds (no datetime), and a --not-after given to the microsecond
    still compares with the CA's end as the datetimes did: half a second past it is shortened, with the note."""
    import datetime as dt

    import keystores

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    ca = str(tmp_path / "ca.p12")
    ca_end = keystores.selfsign(ca, "ca", "CN=CA", ca=True, key_spec="ec:p256", days=30, password="pw pw 12",
                                now=now).encoded[0].not_valid_after_utc
    request = keystores.certreq(str(tmp_path / "w.p12"), "w", "CN=w", key_spec="ec:p256", password="pw pw 12")
    later = now + dt.timedelta(days=1)
    for past_the_end, shortened in ((dt.timedelta(microseconds=500_000), True), (dt.timedelta(0), False),
                                    (dt.timedelta(seconds=-1), False)):
        issued = keystores.sign(ca, "ca", request.encoded.der, not_after=ca_end + past_the_end, now=later,
                                password="pw pw 12")
        assert any("validity shortened" in note for note in issued.notes) is shortened, past_the_end
        assert issued.encoded[0].validity_seconds()[1] == int((ca_end + min(past_the_end, dt.timedelta(0)))
                                                              .timestamp())
    with pytest.raises(keystores.KeystoreError, match="expired on 2026-01-31T00:00:00Z"):
        keystores.sign(ca, "ca", request.encoded.der, days=1, now=ca_end, password="pw pw 12")


def test_sign_compares_keys_as_their_prints_compared() -> None:
    """sign's check that the CA's key is its certificate's: two keys held as DER (SpkiKey) compare by the DER, the
    others by their prints (lifecycle_sign._same_key), which answers as comparing the prints did for every pair."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from keystores.ops.lifecycle_sign import _key_print, _same_key
    from keystores.pki.spki import spki_key

    loaded = [ec.generate_private_key(curve).public_key() for curve in (ec.SECP256R1(), ec.SECP256R1(), ec.SECP384R1())]
    held = [spki_key(key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
            for key in loaded]
    keys = [*loaded, *held, spki_key(held[0].der)]  # the last: another object of the first key's DER
    assert all(key is not None for key in held)
    assert [_same_key(one, other) for one in keys for other in keys] == [
        _key_print(one) == _key_print(other) for one in keys for other in keys]
    assert _same_key(held[0], keys[-1]) and not _same_key(held[0], held[1])


def test_a_certificate_s_validity_is_read_once_and_as_before(tmp_path: Path) -> None:
    """EncodedCertificate.validity_seconds keeps what it read (sign asks for the CA's twice): the same answer the
    second time, from what the first kept, and what cryptography reads."""
    import keystores
    from keystores.pki.encoded import EncodedCertificate

    made = keystores.selfsign(str(tmp_path / "v.p12"), "v", "CN=v", key_spec="ec:p256", days=3,
                              password="pw pw 12").encoded[0]
    cert = EncodedCertificate(made.der)
    first = cert.validity_seconds()
    assert cert.validity_seconds() is first
    assert first == (made.decoded.not_valid_before_utc.timestamp(), made.decoded.not_valid_after_utc.timestamp())
