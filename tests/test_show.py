"""`show` with the detail of keytool -list -v and openssl x509 -text, judged by what openssl prints for the same
certificate (made by openssl, so that our writer is not judging itself)."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from clirun import keystores

ENV = {"KS_PW": "show test pw"}
PW = ["--password", "env:KS_PW"]


def _openssl(*args: str) -> str:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """An openssl CA (pathlen 1) and a server certificate with SANs and usages it signed, in one PKCS#12."""
    work = tmp_path_factory.mktemp("show")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes", "-keyout",
             str(work / "ca.key"), "-out", str(work / "ca.pem"), "-days", "3650", "-subj", "/C=GB/O=HW/CN=Show CA",
             "-addext", "basicConstraints=critical,CA:TRUE,pathlen:1",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", "-newkey", "rsa:3072", "-nodes", "-keyout", str(work / "srv.key"), "-out", str(work / "srv.csr"),
             "-subj", "/C=GB/O=HW/CN=web.example.com")
    (work / "ext.cnf").write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                                  "extendedKeyUsage=serverAuth,clientAuth,1.2.3.4.5\n"
                                  "subjectAltName=DNS:web.example.com,DNS:*.example.com,IP:10.0.0.1,"
                                  "IP:2001:db8::1,email:ops@example.com,URI:https://example.com/x\n"
                                  "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    _openssl("x509", "-req", "-in", str(work / "srv.csr"), "-CA", str(work / "ca.pem"), "-CAkey",
             str(work / "ca.key"), "-CAcreateserial", "-out", str(work / "srv.pem"), "-days", "400", "-sha384",
             "-extfile", str(work / "ext.cnf"))
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(work / "srv.key"), "-in", str(work / "srv.pem"),
                    "-certfile", str(work / "ca.pem"), "-name", "web", "-out", str(work / "s.p12"), "-passout",
                    "env:KS_PW"], check=True, capture_output=True, env={**os.environ, **ENV})
    return work


def _openssl_text(pem: Path) -> str:
    return _openssl("x509", "-in", str(pem), "-noout", "-text")


def _extension(text: str, name: str) -> str | None:
    found = re.search(rf"X509v3 {name}:[^\n]*\n\s+([^\n]+)", text)
    return found.group(1).strip() if found else None


def _fingerprint(pem: Path, digest: str) -> str:
    return _openssl("x509", "-in", str(pem), "-noout", "-fingerprint", f"-{digest}").strip().split("=", 1)[1]


def test_show_json_matches_openssl(made):
    done = keystores("show", str(made / "s.p12"), "web", *PW, "--json", env=ENV)
    assert done.code == 0, done.all
    leaf, ca = json.loads(done.out)["entries"][0]["chain"]
    text = _openssl_text(made / "srv.pem")
    assert leaf["sha1"] == _fingerprint(made / "srv.pem", "sha1")
    assert leaf["sha256"] == _fingerprint(made / "srv.pem", "sha256")
    assert leaf["signature_algorithm"] == re.search(r"Signature Algorithm: (\S+)", text).group(1)
    assert leaf["key_size"] == int(re.search(r"Public-Key: \((\d+) bit\)", text).group(1)) == 3072
    assert leaf["version"] == 3
    openssl_sans = _extension(text, "Subject Alternative Name").replace("IP Address:", "IP:").replace(
        "email:", "EMAIL:").split(", ")
    # openssl writes IPv6 addresses in full (2001:DB8:0:0:0:0:0:1); we write the usual short form --san takes
    assert leaf["subject_alt_names"] == [f"IP:{ipaddress.ip_address(n[3:])}" if n.startswith("IP:") else n
                                         for n in openssl_sans]
    assert ", ".join(leaf["key_usage"]) == _extension(text, "Key Usage")
    assert ", ".join(leaf["extended_key_usage"]) == _extension(text, "Extended Key Usage")
    assert leaf["basic_constraints"] == {"ca": False, "path_length": None, "critical": False}
    assert leaf["subject_key_identifier"] == _extension(text, "Subject Key Identifier")
    assert leaf["authority_key_identifier"] == _extension(text, "Authority Key Identifier")
    assert leaf["authority_key_identifier"] == ca["subject_key_identifier"]
    ca_text = _openssl_text(made / "ca.pem")
    assert _extension(ca_text, "Basic Constraints") == "CA:TRUE, pathlen:1"
    assert ca["basic_constraints"] == {"ca": True, "path_length": 1, "critical": True}
    assert ca["key_size"] == 384 and ca["subject_alt_names"] is None and ca["extended_key_usage"] is None


def test_show_text_has_the_detail_in_human_values(made):
    done = keystores("show", str(made / "s.p12"), "web", *PW, env=ENV)
    assert done.code == 0, done.all
    out = done.out
    for word in ("True", "False", "None"):
        assert not re.search(rf"\b{word}\b", out), out
    assert "private key: yes" in out and "default: no" in out and "on token: no" in out
    assert f"SHA-1 fingerprint: {_fingerprint(made / 'srv.pem', 'sha1')}" in out
    assert f"SHA-256 fingerprint: {_fingerprint(made / 'srv.pem', 'sha256')}" in out
    assert "subject alternative names: DNS:web.example.com, DNS:*.example.com, IP:10.0.0.1, IP:2001:db8::1, " \
           "EMAIL:ops@example.com, URI:https://example.com/x" in out
    assert "key usage: Digital Signature, Key Encipherment" in out
    assert "extended key usage: TLS Web Server Authentication, TLS Web Client Authentication, 1.2.3.4.5" in out
    assert "basic constraints: CA: no" in out
    assert "basic constraints: CA: yes, path length: 1 (critical)" in out
    assert "key: RSA-3072 (3072 bits)" in out and "key: EC-P384 (384 bits)" in out
    assert "signature algorithm: ecdsa-with-SHA384" in out


def test_fingerprints_have_one_format_everywhere(made):
    """list --json, show --json, validate --json and audit --json all write AB:CD:... upper-case."""
    colon = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
    listed = json.loads(keystores("list", str(made / "s.p12"), *PW, "--json", env=ENV).out)
    shown = json.loads(keystores("show", str(made / "s.p12"), "web", *PW, "--json", env=ENV).out)
    validated = keystores("validate", str(made / "s.p12"), "web", "--trust", str(made / "ca.pem"), *PW, "--json",
                          env=ENV)
    prints = [e["sha256"] for e in listed["entries"]] + [c["sha256"] for c in shown["entries"][0]["chain"]]
    prints += [link["sha256"] for link in json.loads(validated.out)["links"]]
    soon = keystores("audit", str(made / "s.p12"), *PW, "--within", "20000d", "--json", env=ENV)
    prints += [f["sha256"] for f in json.loads(soon.out)["findings"] if f["sha256"]]
    assert len(prints) >= 6
    assert all(colon.match(p) for p in prints), prints
