"""Start-up of the everyday token commands (issue 15 item 2; bench/bench_core.py's token rows): python-pkcs11 is
imported without its asn1crypto helpers (keystores/backends/pkcs11/library.py), and list, show, export, import
and delete on a small token read and write certificates as DER, without cryptography.x509, asn1crypto or
dataclasses. The lean path is held to the full one: the same `list`, `list --json` and `show --json` output over
tokens holding our fixtures' keys and chains, same-name CAs and what pkcs11-tool wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

LIBRARY_PROBE = textwrap.dedent("""
    import json, sys
    from keystores.backends.pkcs11.library import DEFERRED, import_pkcs11
    pkcs11 = import_pkcs11()
    loaded = sorted(m for m in sys.modules if m.startswith("asn1crypto") or m == "inspect")
    print(json.dumps({"loaded": loaded, "bound": [getattr(pkcs11.util, n.rpartition(".")[2]) is sys.modules[n]
                                                  for n in DEFERRED]}))
    """)


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
