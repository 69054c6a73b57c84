"""Start-up of the everyday token commands (issue 15 item 2; bench/bench_core.py's token rows): python-pkcs11 is
imported without its asn1crypto helpers (keystores/backends/pkcs11/library.py), and list, show, export, import
and delete on a small token read and write certificates as DER, without cryptography.x509, asn1crypto or
dataclasses. The lean path is held to the full one: the same `list`, `list --json` and `show --json` output over
tokens holding our fixtures' keys and chains, same-name CAs and what pkcs11-tool wrote."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes

from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.store import open_store
from softhsm import SoftHsmToken, softhsm  # noqa: F401  (pytest fixtures)

WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

LIBRARY_PROBE = textwrap.dedent("""
    import json, sys
    from keystores.backends.pkcs11.library import DEFERRED, import_pkcs11
    pkcs11 = import_pkcs11()
    loaded = sorted(m for m in sys.modules if m.startswith("asn1crypto") or m == "inspect")
    print(json.dumps({"loaded": loaded, "bound": [getattr(pkcs11.util, n.rpartition(".")[2]) is sys.modules[n]
                                                  for n in DEFERRED]}))
    """)


def _name(cn: str) -> Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_python_pkcs11_is_imported_without_asn1crypto() -> None:
    """Fails when python-pkcs11 stops honouring the deferred helpers (a release that imports asn1crypto some
    other way, or reaches into a helper while it is imported): then library.py's docstring is out of date."""
    got = _run(LIBRARY_PROBE)
    assert got["loaded"] == []
    assert all(got["bound"])


def test_the_deferred_helpers_work_when_used() -> None:
    """Each helper loads on first use and does its job: pkcs11.constants' EC parameters (which import
    pkcs11.util.ec), an RSA public key and a certificate's attributes, as python-pkcs11 documents them."""
    code = textwrap.dedent("""
        import json, sys
        from keystores.backends.pkcs11.library import import_pkcs11
        pkcs11 = import_pkcs11()
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        import datetime as dt
        from pkcs11 import Attribute
        from pkcs11.util.ec import encode_named_curve_parameters
        from pkcs11.util.rsa import decode_rsa_public_key, encode_rsa_public_key
        from pkcs11.util.x509 import decode_x509_certificate
        from pkcs11.util import dh, dsa
        params = encode_named_curve_parameters("secp256r1")
        key = rsa.generate_private_key(65537, 2048).public_key()
        der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        attrs = decode_rsa_public_key(der)
        signer = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name.from_rfc4514_string("CN=lean")
        when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(signer.public_key())
                .serial_number(5).not_valid_before(when).not_valid_after(when + dt.timedelta(days=1))
                .sign(signer, hashes.SHA256()))
        facts = decode_x509_certificate(cert.public_bytes(serialization.Encoding.DER))
        print(json.dumps({
            "params": params.hex(), "modulus": attrs[Attribute.MODULUS] == key.public_numbers().n.to_bytes(256, "big"),
            "again": encode_rsa_public_key(attrs) == der, "subject": facts[Attribute.SUBJECT] == name.public_bytes(),
            "same": pkcs11.util.ec is sys.modules["pkcs11.util.ec"] and pkcs11.rsa is sys.modules["pkcs11.util.rsa"],
            "dh": callable(dh.decode_dh_domain_parameters), "dsa": callable(dsa.decode_dsa_signature)}))
        """)
    got = _run(code)
    assert got == {"params": "06082a8648ce3d030107", "modulus": True, "again": True, "subject": True, "same": True,
                   "dh": True, "dsa": True}


def test_a_plain_import_of_pkcs11_before_ours_is_kept() -> None:
    """pkcs11 imported by someone else first (eagerly, as its authors wrote it): import_pkcs11 hands it back."""
    got = _run("import pkcs11, sys, json\nfrom keystores.backends.pkcs11.library import import_pkcs11\n"
               "print(json.dumps({'same': import_pkcs11() is pkcs11, 'asn1': 'asn1crypto.algos' in sys.modules}))")
    assert got == {"same": True, "asn1": True}


def test_a_helper_that_moved_leaves_the_ordinary_import(tmp_path) -> None:
    """A python-pkcs11 whose helpers are not where 0.10.1 has them: the library is imported as its authors wrote
    it (here, a copy of the package without util/dh.py and without that import)."""
    import shutil

    import pkcs11

    copy = tmp_path / "pkcs11"
    shutil.copytree(os.path.dirname(pkcs11.__file__), copy)
    (copy / "util" / "dh.py").unlink()
    init = copy / "__init__.py"
    init.write_text(init.read_text().replace("from pkcs11.util import dh, dsa,", "from pkcs11.util import dsa,"))
    code = (f"import sys, json\nsys.path.insert(0, {str(tmp_path)!r})\n"
            "from keystores.backends.pkcs11.library import import_pkcs11\npkcs11 = import_pkcs11()\n"
            "print(json.dumps({'where': pkcs11.__file__, 'asn1': 'asn1crypto.algos' in sys.modules,"
            " 'dsa': type(sys.modules['pkcs11.util.dsa']).__name__}))")
    got = _run(code)
    assert got == {"where": str(init), "asn1": True, "dsa": "module"}


# --- the token commands: lean against the full path ------------------------------------------------------------

# Run in a subprocess: `full` first puts back the full path (every certificate decoded by cryptography, chained as
# its objects, written from its decoding) by switching off each lean step; `lean` runs the code as it is. Each
# command's exit code, stdout, stderr and the files it wrote are reported.
COMMANDS_PROBE = textwrap.dedent("""
    import contextlib, io, json, os, sys
    mode, folder, commands = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    if mode == "full":
        from keystores.backends.pkcs11 import store, write
        store.encoded_names = lambda certs: False
        store._common_name = lambda cert: store._cn(cert.cert)
        write._read_from_der = lambda entry: False
        write._common_name = store._common_name
        lean_chain = write._held_chain
        write._held_chain = lambda entry: [store._Cert(c.obj, c.der, c.key_id, c.label, c.trusted, cert=c.cert)
                                           for c in lean_chain(entry)]
    from keystores.cli.main import run
    done = []
    for argv in commands:
        argv = [arg.replace("{out}", os.path.join(folder, mode)) for arg in argv]
        out, err, code = io.StringIO(), io.StringIO(), 0
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                run(argv)
            except SystemExit as exc:
                code = exc.code
        written = sorted(name for name in os.listdir(folder) if name.startswith(mode + "-"))
        files = {name[len(mode):]: open(os.path.join(folder, name), "rb").read().hex() for name in written}
        for name in written:
            os.unlink(os.path.join(folder, name))
        here = os.path.join(folder, mode)
        done.append({"argv": [a.replace(here, "OUT") for a in argv], "code": code,
                     "out": out.getvalue().replace(here, "OUT"), "err": err.getvalue().replace(here, "OUT"),
                     "files": files})
    print(json.dumps(done))
    """)


def _commands(token: SoftHsmToken, mode: str, folder: Path, commands: list[list[str]]) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", COMMANDS_PROBE, mode, str(folder), json.dumps(commands)],
                          capture_output=True, text=True, check=False, env={**token.env, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _labels(token: SoftHsmToken) -> list[str]:
    with open_store(token.uri, password=token.pin) as store:
        return list(store.labels())


def _read_commands(token: SoftHsmToken) -> list[list[str]]:
    """list (table and JSON, and of the certificates only), and show (JSON and text) and export (certificate,
    chain; PEM and DER) of every entry."""
    uri, pin = token.uri, ["--pin", token.password]
    narrowed = uri.replace("?", ";type=cert?", 1)
    commands = [["list", uri, *pin], ["list", uri, *pin, "--json"], ["list", narrowed, *pin, "--json"]]
    for label in _labels(token):
        commands += [["show", uri, label, *pin, "--json"], ["show", uri, label, *pin],
                     ["export", uri, label, *pin, "-o", "{out}-cert.pem"],
                     ["export", uri, label, *pin, "--chain", "-o", "{out}-chain.pem"],
                     ["export", uri, label, *pin, "-o", "{out}-cert.der"]]
    return commands


def _same_on_both_paths(token: SoftHsmToken, folder: Path, commands: list[list[str]]) -> list[dict]:
    lean = _commands(token, "lean", folder, commands)
    full = _commands(token, "full", folder, commands)
    for mine, theirs in zip(lean, full, strict=True):
        assert mine == theirs, mine["argv"]
    return lean


def _chain_certificates() -> dict[str, Any]:
    """An EC root, an intermediate under it and leaves of each key type under the intermediate; two CAs of the
    same name with different keys, each with a leaf; a certificate without a common name."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from helpers import certificate, ec_key, rsa_key

    made: dict[str, Any] = {}
    root_key, inter_key = ec_key(301), ec_key(302, "secp384r1")
    made["root"] = certificate(root_key, "Lean Root", ca=True)
    made["inter"] = certificate(inter_key, "Lean Issuing", root_key, made["root"], ca=True)
    for label, key in (("ec", ec_key(303)), ("rsa", rsa_key(304)), ("ed", ed25519.Ed25519PrivateKey.generate())):
        made[f"{label} key"] = key
        made[label] = certificate(key, f"lean {label}", inter_key, made["inter"])
    made["extra"] = certificate(ec_key(305), "lean extra", inter_key, made["inter"])  # never on a token here
    for index in (1, 2):
        ca_key = ec_key(310 + index)
        made[f"same {index}"] = certificate(ca_key, "Same Name CA", ca=True, serial=index)
        made[f"twin {index} key"] = ec_key(320 + index)
        made[f"twin {index}"] = certificate(made[f"twin {index} key"], f"twin {index}", ca_key, made[f"same {index}"])
    no_cn_key = ec_key(330)
    no_cn = x509.Name.from_rfc4514_string("O=keystores tests,OU=no common name")
    made["no cn"] = (x509.CertificateBuilder().subject_name(no_cn).issuer_name(no_cn)
                     .public_key(no_cn_key.public_key()).serial_number(33).not_valid_before(WHEN)
                     .not_valid_after(WHEN + dt.timedelta(days=30)).sign(no_cn_key, hashes.SHA256()))
    return made


@pytest.fixture(scope="module")
def plain_token(softhsm, tmp_path_factory) -> SoftHsmToken:  # noqa: F811
    """Our fixtures' keys and chains (RSA, EC, Ed25519), a trusted root that is also a chain member, same-name
    CAs, and what pkcs11-tool wrote: a certificate without a label, a key pair and a certificate without a common
    name. Every certificate is in the plain forms: the lean path reads this token."""
    from helpers import key_pair_entry

    token = softhsm.make_token()
    made = _chain_certificates()
    chain = (made["inter"], made["root"])
    with open_store(token.uri, password=token.pin, writable=True) as store:
        for label in ("ec", "rsa", "ed"):
            store.add(Entry(label, EntryKind.KEY_PAIR, chain=(made[label], *chain), key=made[f"{label} key"]))
        store.add(Entry("root", EntryKind.TRUSTED_CERT, chain=(made["root"],), trust=TRUST_ALL))
        for index in (1, 2):
            store.add(Entry(f"twin {index}", EntryKind.KEY_PAIR, chain=(made[f"twin {index}"],),
                            key=made[f"twin {index} key"]))
            store.add(Entry(f"same {index}", EntryKind.CERTIFICATE, chain=(made[f"same {index}"],)))
        store.add(key_pair_entry("fixture", index=7, use_ec=True))
    folder = tmp_path_factory.mktemp("tool")
    _tool_writes(token, folder, made)
    return token


def _tool_writes(token: SoftHsmToken, folder: Path, made: dict[str, Any]) -> None:
    """pkcs11-tool's objects: a certificate without a label (an issuer), one without a common name, and a key
    pair (private key, certificate) it wrote with one ID."""
    if shutil.which("pkcs11-tool") is None:
        pytest.skip("pkcs11-tool (opensc) is needed to write the token's other objects")
    from cryptography.hazmat.primitives import serialization

    (folder / "same.der").write_bytes(made["same 1"].public_bytes(serialization.Encoding.DER))
    (folder / "nocn.der").write_bytes(made["no cn"].public_bytes(serialization.Encoding.DER))
    key = made["twin 2 key"]
    (folder / "key.der").write_bytes(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / "twin.der").write_bytes(made["twin 2"].public_bytes(serialization.Encoding.DER))
    for argv in (["--write-object", str(folder / "same.der"), "--type", "cert", "--id", "51"],
                 ["--write-object", str(folder / "nocn.der"), "--type", "cert", "--id", "52"],
                 ["--write-object", str(folder / "key.der"), "--type", "privkey", "--id", "53", "--label", "tool"],
                 ["--write-object", str(folder / "twin.der"), "--type", "cert", "--id", "53", "--label", "tool"]):
        done = token.tool(*argv)
        assert done.returncode == 0, done.stderr


def test_the_plain_token_is_read_from_the_der(plain_token: SoftHsmToken) -> None:
    """(Else the differential below would compare the full path with itself.)"""
    from keystores.backends.pkcs11.store import encoded_names

    with open_store(plain_token.uri, password=plain_token.pin) as store:
        certs = [c for g in store._groups.values() for c in g.certs]
        assert len(certs) >= 12 and encoded_names(certs)
        assert store.get("ec").undecoded_chain is not None and len(store.get("ec").chain_der()) == 3


def test_reading_a_plain_token_gives_what_the_full_path_gives(plain_token: SoftHsmToken, tmp_path: Path) -> None:
    done = _same_on_both_paths(plain_token, tmp_path, _read_commands(plain_token))
    assert all(each["code"] == 0 for each in done), [each for each in done if each["code"]]
    listed = json.loads(done[1]["out"])["entries"]
    chains = {e["label"]: e["chain_length"] for e in listed}
    # The chains as the builder finds them: same-name CAs told apart by signature.
    assert chains["ec"] == chains["rsa"] == 3 and chains["twin 1"] == 2 and chains["tool"] == 2, chains
    twin = json.loads(next(d["out"] for d in done if d["argv"][:3] == ["show", plain_token.uri, "twin 1"]
                           and "--json" in d["argv"]))
    assert twin["entries"][0]["chain"][1]["serial"] == "1"


@pytest.fixture(scope="module")
def odd_token(softhsm, tmp_path_factory) -> SoftHsmToken:  # noqa: F811
    """What the lean path leaves to the full one: a certificate cryptography refuses (an unknown key algorithm),
    and a leaf whose issuer name is a UTF8String where its CA's subject is a PrintableString of the same text
    (cryptography's Names are equal, the encodings are not)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.name import _ASN1Type
    from cryptography.x509.oid import NameOID
    from helpers import ec_key, undecodable_certificate

    token = softhsm.make_token()
    ca_key, leaf_key = ec_key(340), ec_key(341)
    printable = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mixed CA", _type=_ASN1Type.PrintableString)])
    utf8 = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mixed CA", _type=_ASN1Type.UTF8String)])
    ca = (x509.CertificateBuilder().subject_name(printable).issuer_name(printable).public_key(ca_key.public_key())
          .serial_number(40).not_valid_before(WHEN).not_valid_after(WHEN + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(_name("mixed leaf")).issuer_name(utf8)
            .public_key(leaf_key.public_key()).serial_number(41).not_valid_before(WHEN)
            .not_valid_after(WHEN + dt.timedelta(days=30)).sign(ca_key, hashes.SHA256()))
    assert ca.subject.public_bytes() != leaf.issuer.public_bytes() and ca.subject == leaf.issuer
    with open_store(token.uri, password=token.pin, writable=True) as store:
        store.add(Entry("mixed", EntryKind.KEY_PAIR, chain=(leaf, ca), key=leaf_key))
    if shutil.which("pkcs11-tool") is not None:
        odd = tmp_path_factory.mktemp("odd") / "odd.der"
        odd.write_bytes(undecodable_certificate())
        assert token.tool("--write-object", str(odd), "--type", "cert", "--id", "0a", "--label", "odd").returncode == 0
    assert ca.public_bytes(serialization.Encoding.DER)
    return token


def test_reading_what_the_lean_path_declines_gives_what_the_full_path_gives(odd_token: SoftHsmToken,
                                                                          tmp_path: Path) -> None:
    from keystores.backends.pkcs11.store import encoded_names

    with open_store(odd_token.uri, password=odd_token.pin) as store:
        certs = [c for g in store._groups.values() for c in g.certs]
        assert not encoded_names(certs)
        assert len(store.get("mixed").chain) == 2  # chained by cryptography's Names
    done = _same_on_both_paths(odd_token, tmp_path, _read_commands(odd_token))
    assert done[0]["code"] == 0


def test_the_name_check_declines_names_equal_only_as_cryptography_compares_them(odd_token: SoftHsmToken) -> None:
    """A token of plain certificates whose chain needs two encodings of one name compared equal: declined even
    without the undecodable certificate."""
    from keystores.backends.pkcs11.store import encoded_names

    with open_store(odd_token.uri, password=odd_token.pin) as store:
        mixed = [c for c in store._groups["mixed"].certs] + [c for c in store._chain_only_certs]
        assert all(c.shown is not None for c in mixed) and not encoded_names(mixed)


def _token_certificates(token: SoftHsmToken) -> list[dict[str, str]]:
    """Every certificate object's attributes as python-pkcs11 reads them, sorted."""
    from pkcs11 import Attribute, ObjectClass

    from keystores.backends.pkcs11.tokens import find_token, load_module

    names = ("LABEL", "ID", "SUBJECT", "ISSUER", "SERIAL_NUMBER", "VALUE", "TRUSTED", "PRIVATE", "TOKEN",
             "CERTIFICATE_TYPE")
    found = find_token(load_module(token.module), token.module, label=token.label, serial=None, store=None)
    with found.open(user_pin=token.pin) as session:
        got = []
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
            values = obj.get_attributes([getattr(Attribute, n) for n in names])
            got.append({n: (v.hex() if isinstance(v, bytes) else str(v)) for n, v in
                        zip(names, [values.get(getattr(Attribute, n)) for n in names], strict=True)})
    return sorted(got, key=lambda each: (each["LABEL"], each["VALUE"]))


def test_import_and_delete_write_what_the_full_path_writes(plain_token: SoftHsmToken, tmp_path: Path) -> None:
    """A PEM certificate (and a bundle, and one trusted), imported then deleted: the same output, and the token
    holds the same objects with the same attributes after each step, on both paths (pkcs11-tool's CKA_ checked
    by python-pkcs11)."""
    from cryptography.hazmat.primitives import serialization

    made = _chain_certificates()
    extra = tmp_path / "extra.pem"
    extra.write_bytes(made["extra"].public_bytes(serialization.Encoding.PEM))
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(made["no cn"].public_bytes(serialization.Encoding.PEM)
                       + made["same 2"].public_bytes(serialization.Encoding.PEM))
    uri, pin = plain_token.uri, ["--pin", plain_token.password]
    before, original = _token_certificates(plain_token), set(_labels(plain_token))
    steps = [[["import", str(extra), uri, "--label", "extra", "--dest-password", plain_token.password]],
             [["list", uri, *pin]],
             [["delete", uri, "extra", *pin]],
             [["import", str(bundle), uri, "--dest-password", plain_token.password, "--untrusted", "keep"]],
             [["list", uri, *pin, "--json"]]]
    seen = {}
    for mode in ("lean", "full"):
        seen[mode] = []
        for step in steps:
            seen[mode].append((_commands(plain_token, mode, tmp_path, step), _token_certificates(plain_token)))
        listed = json.loads(seen[mode][-1][0][0]["out"])["entries"]
        added = [e["label"] for e in listed if e["label"] not in original]
        with open_store(uri, password=plain_token.pin, writable=True) as store:
            for label in added:
                store.remove(label)
        assert _token_certificates(plain_token) == before
    assert seen["lean"] == seen["full"]
    assert seen["lean"][0][0][0]["code"] == 0 and len(seen["lean"][0][1]) == len(before) + 1



HEAVY = ("cryptography.x509", "asn1crypto", "dataclasses", "inspect")


def _modules_after(token: SoftHsmToken, argv: list[str], cwd: Path) -> list[str]:
    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=cwd,
                          check=False, env=token.env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_the_everyday_token_commands_import_no_x509_asn1crypto_nor_dataclasses(softhsm, tmp_path: Path) -> None:  # noqa: F811
    """bench/bench_core.py's token rows on a token like its own (a key pair with its certificate): list, show,
    export of the certificate and of the chain, import of one PEM certificate and its delete."""
    from cryptography.hazmat.primitives import serialization

    token = softhsm.make_token()
    made = _chain_certificates()
    with open_store(token.uri, password=token.pin, writable=True) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(made["ec"], made["inter"], made["root"]),
                        key=made["ec key"]))
    extra = tmp_path / "extra.pem"
    extra.write_bytes(made["extra"].public_bytes(serialization.Encoding.PEM))
    uri, pin = token.uri, ["--pin", token.password]
    for argv in (["list", uri, *pin], ["list", uri, *pin, "--json"], ["show", uri, "server", *pin],
                 ["show", uri, "server", *pin, "--json"], ["export", uri, "server", *pin, "-o", "cert.pem"],
                 ["export", uri, "server", *pin, "--chain", "-o", "chain.pem"],
                 ["import", str(extra), uri, "--label", "extra", "--dest-password", token.password],
                 ["delete", uri, "extra", *pin]):
        loaded = _modules_after(token, argv, tmp_path)
        assert "keystores.backends.pkcs11.store" in loaded, argv  # the probe sees what the command loads
        assert not [m for m in loaded if m.split(".")[0] in HEAVY or m in HEAVY or m.startswith(HEAVY[0])], argv
    assert _labels(token) == ["Lean Issuing", "Lean Root", "server"]
    assert b"BEGIN CERTIFICATE" in (tmp_path / "cert.pem").read_bytes()


def test_listing_and_showing_one_self_signed_token_key_pair_import_no_cryptography(softhsm, tmp_path: Path) -> None:  # noqa: F811
    """bench/bench_core.py's token (keytool's one.p12 imported): nothing to chain (the certificate is
    self-issued, where build_chain stops at once) and a key that never leaves the token, whose public key, signer
    and decrypter are made when first used (keyref.TokenKeyRef): listing and showing it (table and JSON) decode and
    load nothing of cryptography; the key then signs."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from helpers import ec_key

    from keystores.model import KeyRef

    token = softhsm.make_token()
    key = ec_key(350)
    cert = (x509_builder("bench server").public_key(key.public_key()).sign(key, hashes.SHA256()))
    with open_store(token.uri, password=token.pin, writable=True) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(cert,), key=key))
    pin = ["--pin", token.password]
    for argv in (["list", token.uri, *pin], ["list", token.uri, *pin, "--json"], ["show", token.uri, "server", *pin],
                 ["show", token.uri, "server", *pin, "--json"]):
        loaded = _modules_after(token, argv, tmp_path)
        assert "keystores.backends.pkcs11.store" in loaded and not [m for m in loaded if m.startswith("cryptography")]
    with open_store(token.uri, password=token.pin) as store:
        entry = store.get("server")
        assert isinstance(entry.key, KeyRef) and entry.key.public_key == key.public_key()
        assert entry.key.signer is not None and entry.key.decrypter is None and entry.chain == (cert,)
        signature = entry.key.signer.sign(b"signed on the token", "sha256")
        key.public_key().verify(signature, b"signed on the token", ec.ECDSA(hashes.SHA256()))


def x509_builder(cn: str) -> Any:
    from cryptography import x509

    return (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).serial_number(9)
            .not_valid_before(WHEN).not_valid_after(WHEN + dt.timedelta(days=30)))


def test_a_key_id_read_from_the_der_is_the_loaded_keys() -> None:
    """keystores.pki.key_attributes.spki_key_id against token_key_id of the key cryptography loads: RSA (with and
    without a leading zero byte in the modulus), EC on each curve, Ed25519; None for a compressed point and for
    key types the convention does not cover, which the caller loads."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    from keystores.pki.key_attributes import spki_key_id, token_key_id

    def spki(key: Any, form: Any = serialization.PublicFormat.SubjectPublicKeyInfo) -> bytes:
        return key.public_key().public_bytes(serialization.Encoding.DER, form)

    keys = [rsa.generate_private_key(65537, bits) for bits in (1024, 2048, 2047)]
    keys += [ec.generate_private_key(curve) for curve in (ec.SECP256R1(), ec.SECP384R1(), ec.SECP521R1(),
                                                            ec.SECP256K1())]
    keys += [ed25519.Ed25519PrivateKey.generate()]
    for key in keys:
        assert spki_key_id(spki(key)) == token_key_id(key.public_key()), key
    compressed = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)
    from keystores.crypto import der

    point_spki = der.sequence(der.sequence(der.oid("1.2.840.10045.2.1"), der.oid("1.2.840.10045.3.1.7")),
                              der.tlv(0x03, b"\x00" + compressed))
    assert spki_key_id(point_spki) is None
    assert spki_key_id(spki(ed448.Ed448PrivateKey.generate())) is None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cryptography's note that DSA is deprecated
        assert spki_key_id(spki(dsa.generate_private_key(2048))) is None
    assert spki_key_id(b"\x30\x03\x02\x01\x00") is None


# --- PKITS on a token: real chains, same-name CAs, key rollovers, name encodings --------------------------------

_KEYED = ("SelfIssued", "CertificatePath", "Rollover", "UTF8", "NameChaining", "NameUIDs", "SerialNumber",
          "DSASignatures", "RFC3280", "MissingbasicConstraints", "keyUsage")


def _pkits() -> list[Path]:
    import importlib.util

    spec = importlib.util.find_spec("cryptography_vectors")
    if spec is None:
        pytest.skip("cryptography_vectors (a test dependency) is not installed")
    return sorted((Path(next(iter(spec.submodule_search_locations))) / "x509" / "PKITS_data" / "certs").glob("*.crt"))


def _pkits_token(softhsm, paths: list[Path]) -> SoftHsmToken:  # noqa: F811
    """Every certificate of `paths` a token takes (CKA_ID from its key, labelled by its file name), and a token key
    pair (EC, made on the token, sharing the certificate's CKA_ID) for the end-entity certificates of the tests
    named in _KEYED: their chains are built from the token's certificates."""
    from pkcs11 import Attribute, KeyType, Mechanism

    from keystores.backends.pkcs11.keys import ec_params_for
    from keystores.backends.pkcs11.tokens import find_token, load_module
    from keystores.errors import CapabilityError
    from keystores.pki.certificates import decode_certificate

    token = softhsm.make_token()
    keyed = []
    with open_store(token.uri, password=token.pin, writable=True) as store:
        for path in paths:
            try:
                store.add(Entry(path.stem, EntryKind.CERTIFICATE, chain=(decode_certificate(path.read_bytes()),)))
            except CapabilityError:
                continue  # a certificate cryptography cannot decode is not written onto a token
            if path.stem.startswith("Valid") and path.stem.endswith("EE") and any(k in path.stem for k in _KEYED):
                keyed.append((path.stem, store._groups[path.stem].key_id))
    found = find_token(load_module(token.module), token.module, label=token.label, serial=None, store=None)
    with found.open(rw=True, user_pin=token.pin) as session:
        for label, key_id in keyed:
            session.generate_keypair(KeyType.EC, id=key_id, label=label, store=True,
                                     mechanism=Mechanism.EC_KEY_PAIR_GEN,
                                     public_template={Attribute.EC_PARAMS: ec_params_for("secp256r1")},
                                     private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False})
    assert len(keyed) >= 15
    return token


def _pkits_commands(token: SoftHsmToken) -> list[list[str]]:
    uri, pin = token.uri, ["--pin", token.password]
    with open_store(token.uri, password=token.pin) as store:
        keyed = [e.label for e in store.entries() if e.kind is EntryKind.KEY_PAIR]
    return [["list", uri, *pin], ["list", uri, *pin, "--json"],
            *(["show", uri, label, *pin, "--json"] for label in keyed)]


def test_pkits_on_a_token_reads_as_the_full_path_reads_it(softhsm, tmp_path: Path) -> None:  # noqa: F811
    """PKITS' CA certificates and the end-entity certificates of the tests named in _KEYED, those
    keystores.pki.shown reads less the CA whose name a rollover re-encodes from PrintableString to UTF8String
    (which odd_token's test covers): read as DER, they give what the full path gives, the keyed certificates'
    chains (self-issued CA certificates, key rollovers, same-name CAs) included."""
    from keystores.backends.pkcs11.store import encoded_names
    from keystores.pki.shown import read_shown

    paths = [p for p in _pkits() if ("CACert" in p.stem or "TrustAnchor" in p.stem or any(k in p.stem for k in _KEYED))
             and read_shown(p.read_bytes()) is not None and "PrintableStringtoUTF8" not in p.stem]
    token = _pkits_token(softhsm, paths)
    with open_store(token.uri, password=token.pin) as store:
        assert encoded_names([c for g in store._groups.values() for c in g.certs])
    done = _same_on_both_paths(token, tmp_path, _pkits_commands(token))
    listed = json.loads(done[1]["out"])["entries"]
    assert max(e["chain_length"] for e in listed) >= 3 and sum(e["kind"] == "key-pair" for e in listed) >= 15


def test_the_p11_kit_trust_module_reads_as_the_full_path_reads_it(tmp_path: Path) -> None:
    """p11-kit's trust module (scripts/setup installs p11-kit-modules): a read-only token of the system's CA
    certificates, opened without a PIN. `list`, `list --json` and `show --json` of a few entries give what the
    full path gives."""
    import glob

    found = sorted(glob.glob("/usr/lib/*/pkcs11/p11-kit-trust.so") + glob.glob("/usr/lib/pkcs11/p11-kit-trust.so"))
    if not found:
        pytest.skip("p11-kit's trust module is not installed (apt install p11-kit-modules)")
    uri = f"pkcs11:token=System%20Trust?module-path={found[0]}"
    with open_store(uri, password=None) as store:
        labels = list(store.labels())
    commands = [["list", uri], ["list", uri, "--json"], *(["show", uri, label, "--json"] for label in labels[::20])]
    trust = SoftHsmToken("System Trust", "", "", found[0], tmp_path / "none.conf", tmp_path)
    done = _same_on_both_paths(trust, tmp_path, commands)
    assert all(each["code"] == 0 for each in done) and len(json.loads(done[1]["out"])["entries"]) == len(labels)


# --- in a user's install (tests/user_install.py): what the dev venv's editable finder loads anyway is seen --------

# What none of bench/bench_core.py's token commands needs: urllib.parse (and the ipaddress it imports) for the URI's
# percent-encoding (keystores/percent.py), hashlib (which loads OpenSSL's libcrypto) for a new object's CKA_ID
# (keystores.crypto.digests), `signal` (enums of every signal) to hold Ctrl-C while an object is made (_signal)
NOT_FOR_A_TOKEN = ("urllib", "urllib.parse", "ipaddress", "hashlib", "_hashlib", "signal")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory):
    from user_install import user_install

    return user_install(tmp_path_factory.mktemp("user-install"))


def test_the_token_commands_in_a_user_install_load_nothing_they_do_not_need(installed, softhsm, tmp_path: Path) -> None:  # noqa: F811
    """bench/bench_core.py's token rows, run by the console script of a user's install: list, show, export, import
    and the delete undoing it load none of NOT_FOR_A_TOKEN, and do their job."""
    from cryptography.hazmat.primitives import serialization
    from helpers import ec_key

    token = softhsm.make_token()
    key = ec_key(360)
    with open_store(token.uri, password=token.pin, writable=True) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(x509_builder("bench server").public_key(key.public_key())
                                                             .sign(key, hashes.SHA256()),), key=key))
    extra = tmp_path / "extra.pem"
    extra.write_bytes(_chain_certificates()["extra"].public_bytes(serialization.Encoding.PEM))
    pin = ["--pin", token.password]
    for argv in (["list", token.uri, *pin], ["show", token.uri, "server", *pin],
                 ["export", token.uri, "server", *pin, "-o", str(tmp_path / "server.pem")],
                 ["import", str(extra), token.uri, "--label", "extra", "--dest-password", token.password],
                 ["delete", token.uri, "extra", *pin]):
        done, loaded = installed.run(argv, cwd=tmp_path, env=token.env)
        assert done.returncode == 0, (argv, done.stderr)
        assert "keystores.backends.pkcs11.store" in loaded, argv
        assert not set(NOT_FOR_A_TOKEN) & loaded, (argv, set(NOT_FOR_A_TOKEN) & loaded)
        # a self-issued certificate alone has no chain to build, nor other certificates to place in one
        assert argv[0] in ("import", "delete") or "keystores.pki.chain" not in loaded, argv
        # keys.py (signing with a token key, key templates) only where a key is made or used: none is here (show's
        # key is keyref.TokenKeyRef, whose public key and signer nobody asks for)
        assert "keystores.backends.pkcs11.keys" not in loaded, argv
        assert ("keystores.backends.pkcs11.keyref" in loaded) is (argv[0] == "show"), argv
        # the writing half only where the token is written (a read-only open is a plain Pkcs11Store)
        assert ("keystores.backends.pkcs11.write" in loaded) is (argv[0] in ("import", "delete")), argv
        # the URI has no percent-escape: keystores.percent is not loaded to decode it
        assert "keystores.percent" not in loaded, argv
        # key_attributes' mapping only where a key is made of attributes or into them, which none of these does:
        # list, show, export and delete read the key objects' attributes by keystores.pki.cka's numbers (show's key
        # is a keyref.TokenKeyRef: keys.py imports the mapping where a key is made), and import takes the
        # certificate's CKA_ID from its DER (cka.spki_key_id)
        assert "keystores.pki.key_attributes" not in loaded, argv
        # no label repeats on this token: none is numbered (export and import load it for their PEM side)
        assert argv[0] in ("export", "import") or "keystores.pki.labels" not in loaded, argv
    assert _labels(token) == ["server"]
    assert b"BEGIN CERTIFICATE" in (tmp_path / "server.pem").read_bytes()


def test_java_config_in_a_user_install_loads_no_pathlib(installed, softhsm, tmp_path: Path) -> None:  # noqa: F811
    """`java-config` (bench_commands.py's row) writes its two files by os.path: pathlib would import urllib.parse
    and ipaddress with it, which nothing else of the command needs."""
    token = softhsm.make_token()
    done, loaded = installed.run(["java-config", token.uri, "--out", str(tmp_path / "java")], cwd=tmp_path,
                                 env=token.env)
    assert done.returncode == 0, done.stderr
    assert "keystores.backends.pkcs11.admin" in loaded
    assert not {"pathlib", "urllib.parse", "ipaddress"} & loaded, {"pathlib", "urllib.parse", "ipaddress"} & loaded
    assert "\nsecurity.provider.12=SunPKCS11 " in (tmp_path / "java" / "java.security").read_text()


def test_reading_a_token_makes_none_of_the_rarely_raised_error_classes(installed, softhsm, tmp_path: Path) -> None:  # noqa: F811
    """keystores.errors makes the classes of _MADE_ON_USE when first asked for (~10 us each): `list` and `show` of
    a token ask for none of them (tokens.find_token imports TokenNotFound where it raises it)."""
    from helpers import ec_key

    token = softhsm.make_token()
    key = ec_key(361)
    with open_store(token.uri, password=token.pin, writable=True) as store:
        store.add(Entry("server", EntryKind.KEY_PAIR, chain=(x509_builder("bench server").public_key(key.public_key())
                                                             .sign(key, hashes.SHA256()),), key=key))
    probe = ("import sys\nfrom keystores import errors\nfrom keystores.cli import main\n"
             "try:\n    main.run(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             "print(sorted(set(errors._MADE_ON_USE) & set(vars(errors))), file=sys.stderr)\n")
    for argv in (["list", token.uri, "--pin", token.password], ["show", token.uri, "server", "--pin", token.password]):
        done, _ = installed.run(["-c", probe, *argv], cwd=tmp_path, console_script=False, env=token.env)
        assert done.returncode == 0 and "server" in done.stdout, done.stderr
        assert done.stderr == "[]\n", (argv, done.stderr)


def test_the_interrupt_shield_imports_no_threading() -> None:
    """It tells the main thread by the ValueError a handler set elsewhere raises (as keystores.fileio does): a
    writer that runs no thread of its own loads no threading for it (python-pkcs11 happens to load it today)."""
    code = ("import sys, keystores.backends.pkcs11.write as w\nwith w.shielded():\n    pass\n"
            "print('threading' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", done.stdout + done.stderr


def test_a_token_write_holds_a_ctrl_c_until_its_object_is_remembered() -> None:
    """keystores.backends.pkcs11.write.shielded through `_signal`: a SIGINT inside is held, then delivered to the
    handler that was there, which is back in place; in another thread it does nothing."""
    import signal
    import threading

    from keystores.backends.pkcs11.write import shielded

    delivered: list[int] = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: delivered.append(signum))
    try:
        mine = signal.getsignal(signal.SIGINT)
        with shielded():
            signal.raise_signal(signal.SIGINT)
            assert delivered == []
        assert delivered == [signal.SIGINT] and signal.getsignal(signal.SIGINT) is mine
        seen = []

        def elsewhere() -> None:
            with shielded():
                seen.append(signal.getsignal(signal.SIGINT))

        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
        assert seen == [mine] and delivered == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, before)
