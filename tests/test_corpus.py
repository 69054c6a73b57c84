"""Issue 11's proof: every store of the real-world corpus (fixtures/corpus.py: keytool, openssl, certutil/pk12util,
cryptography-vectors) lists with exit 0, and every one holding keys converts to a PKCS#12 that `openssl pkcs12`
opens with the same number of keys. Files their source says are broken fail with a clean one-line error."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from corpusrun import cli, location, password_args, real_world  # noqa: F401 - real_world is a fixture

needs_tools = pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("keytool") and shutil.which("certutil")),
                                 reason="openssl, keytool and certutil make the corpus")
pytestmark = [needs_tools, pytest.mark.interop]


def _one_clean_line(err: str) -> bool:
    lines = [line for line in err.splitlines() if line.startswith("keystores: error:")]
    return len(lines) == 1 and "Traceback" not in err and "internal error" not in err


def test_the_corpus_holds_what_the_issue_asks_for(real_world):  # noqa: F811
    _, manifest = real_world
    made = {name for name, facts in manifest.items() if "skipped" not in facts}
    assert {"keytool.p12", "keytool.jks", "keytool.jceks", "nssdb", "openssl-legacy.p12", "openssl-nomac.p12",
            "openssl-nokeys.p12", "openssl-descert.p12", "openssl-empty-password.p12",
            "vectors/pkcs12/no-cert-key-aes256cbc.p12", "vectors/x509/custom/two_basic_constraints.pem"} <= made
    if "keytool-bc" not in manifest:  # Bouncy Castle's stores, where libbcprov-java is installed (scripts/setup)
        assert {"keytool.bks", "keytool.uber", "keytool.bcfks"} <= made
    assert sum(name.startswith("openssl-macalg-") for name in made) >= 6
    assert len(made) > 150


def test_every_store_lists(real_world):  # noqa: F811
    folder, manifest = real_world
    failures = []
    for name, facts in manifest.items():
        if "skipped" in facts:
            continue
        run = cli("list", location(folder, name, facts), *password_args(facts), "--json")
        if facts["broken"] or facts["unsupported"]:
            expected = 1
        elif facts["needs_password"]:
            expected = 3
        else:
            expected = 0
        if run.code != expected:
            failures.append(f"{name}: exit {run.code}, expected {expected}: {run.err.strip()[:200]}")
        elif expected and not _one_clean_line(run.err):
            failures.append(f"{name}: not one clean error line: {run.err!r}")
        elif not expected:
            data = json.loads(run.out)
            if any(entry["key_type"] and "Public" in entry["key_type"] for entry in data["entries"]):
                failures.append(f"{name}: a Python class name as key type")
    assert not failures, "\n".join(failures)


def _openssl_keys(path, password: str) -> int:
    done = subprocess.run(["openssl", "pkcs12", "-in", str(path), "-nodes", "-legacy", "-passin", f"pass:{password}"],
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    return len(re.findall(rb"-----BEGIN (?:ENCRYPTED )?PRIVATE KEY-----", done.stdout))


def test_every_store_with_keys_converts_to_a_pkcs12_openssl_opens(real_world, tmp_path):  # noqa: F811
    import os

    folder, manifest = real_world
    failures = []
    converted = 0
    for name, facts in manifest.items():
        if "skipped" in facts or facts["broken"] or facts["unsupported"] or facts["needs_password"]:
            continue
        keys = facts["keys"]
        if keys is None and facts["type"] == "pkcs12":
            keys = _openssl_keys(folder / name, os.environ.get(facts["password"] or "", ""))
        if not keys:
            continue
        out = tmp_path / f"{converted}.p12"
        run = cli("convert", location(folder, name, facts), str(out), *password_args(facts), "--dest-password",
                  "env:CORPUS_PW")
        converted += 1
        if facts["unreadable_keys"]:  # refused by name, nothing written
            if run.code != 1 or not _one_clean_line(run.err) or out.exists():
                failures.append(f"{name}: exit {run.code}, expected a refusal: {run.err.strip()[:300]}")
            continue
        if run.code != 0:
            failures.append(f"{name}: exit {run.code}: {run.err.strip()[:300]}")
            continue
        got = _openssl_keys(out, os.environ["CORPUS_PW"])
        if got != keys:
            failures.append(f"{name}: {got} keys in the converted PKCS#12, {keys} in the source")
    assert not failures, "\n".join(failures)
    assert converted >= 30
