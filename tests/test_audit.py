"""`keystores audit` as admins run it: each store with its own secret (never another store's), severities with
--fail-on so that a store `keystores create` made passes, SHA-1 on self-signed end-entity certificates, PKCS#12
protection openssl can weaken (no MAC, one iteration), and the documented JSON."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import keystores
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from helpers import ec_key, key_pair_entry, name, rsa_key
from ptyrun import on_terminal

from keystores.backends.memory import MemoryStore
from keystores.errors import UsageError
from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.ops.audit import audit
from keystores.store import open_store
from softhsm import softhsm  # noqa: F401  (pytest fixture)

AT = dt.datetime(2030, 6, 1, tzinfo=dt.UTC)  # every audit here runs at this pinned time
FINGERPRINT = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
ENV = {"PW_A": "audit pw a", "PW_B": "audit pw b", "PW_KDB": "audit pw kdb"}


def _cert(key, subject: str, *, md: str | None = None, ca: bool = False, days_to: int = 365) -> x509.Certificate:
    """Self-signed, valid from 10 days before AT; `md` "sha1" signs as old software did (our builder, since
    cryptography refuses SHA-1 signatures)."""
    from keystores.model import private_key_signer
    from keystores.pki.builder import build_certificate, profile_extensions

    return build_certificate(private_key_signer(key), subject=name(subject), issuer=name(subject),
                             public_key=key.public_key(), not_before=AT - dt.timedelta(days=10),
                             not_after=AT + dt.timedelta(days=days_to), md=md,
                             extensions=profile_extensions("ca" if ca else "server", key.public_key(),
                                                           issuer_public_key=key.public_key()))


def test_sha1_on_a_self_signed_end_entity_certificate_is_found_only_ca_roots_are_exempt():
    store = MemoryStore.open("qm")
    qm_key, root_key = rsa_key(40), rsa_key(41)
    store.add(Entry("qm1", EntryKind.KEY_PAIR, chain=(_cert(qm_key, "QM1", md="sha1"),), key=qm_key))
    store.add(Entry("root", EntryKind.TRUSTED_CERT, chain=(_cert(root_key, "Old Root", md="sha1", ca=True),),
                    trust=TRUST_ALL))
    report = audit({"qm": store}, at=AT)
    flagged = {f.label: f for f in report.findings if f.check == "weak-signature"}
    assert set(flagged) == {"qm1"}, report.findings
    assert flagged["qm1"].severity == "warning" and "SHA1" in flagged["qm1"].message
    assert not report.ok


def test_findings_carry_label_subject_expiry_days_left_and_the_fingerprint():
    store = MemoryStore.open("m")
    key = ec_key(43)
    cert = _cert(key, "soon", days_to=12)
    store.add(Entry("soon", EntryKind.KEY_PAIR, chain=(cert,), key=key))
    report = audit({"m": store}, at=AT, within="30d")
    (finding,) = [f.as_dict() for f in report.findings]
    assert finding["check"] == "expiring" and finding["severity"] == "warning"
    assert finding["label"] == "soon" and finding["subject"] == "O=keystores tests,CN=soon"
    assert finding["not_after"] == "2030-06-13T00:00:00Z" and finding["days_left"] == 12
    assert FINGERPRINT.match(finding["sha256"])
    assert finding["sha256"] == cert.fingerprint(hashes.SHA256()).hex(":").upper()
    data = report.as_dict()
    assert data["schema"] == 1 and data["fail_on"] == "warning" and data["counts"]["warning"] == 1


def test_fail_on_levels():
    store = MemoryStore.open("m")
    key = ec_key(44)
    store.add(Entry("soon", EntryKind.KEY_PAIR, chain=(_cert(key, "soon", days_to=12),), key=key))
    assert not audit({"m": store}, at=AT, fail_on="warning").ok
    assert audit({"m": store}, at=AT, fail_on="error").ok
    with pytest.raises(UsageError):
        audit({"m": store}, at=AT, fail_on="loud")


@pytest.mark.parametrize("store_name", ["new.p12", "new.jks", "new.jceks", "new.kdb", "new.pem", "sql:nssdb"])
def test_a_store_made_by_create_with_default_options_passes_audit(tmp_path, store_name):
    if store_name.startswith("sql:"):
        (tmp_path / "nssdb").mkdir()
    made = keystores("create", store_name, "-p", "env:PW_A", env=ENV, cwd=str(tmp_path))
    assert made.code == 0, made.all
    done = keystores("audit", store_name, "-p", "env:PW_A", env=ENV, cwd=str(tmp_path))
    assert done.code == 0, done.all
    strict = keystores("audit", store_name, "-p", "env:PW_A", "--fail-on", "notice", "--json", env=ENV,
                       cwd=str(tmp_path))
    report = json.loads(strict.out)
    assert strict.code == (5 if report["findings"] else 0)
    assert all(f["severity"] == "notice" for f in report["findings"])


def _openssl_p12(tmp_path: Path, out: str, *extra: str) -> Path:
    key = rsa_key(45)
    cert = _cert(key, "weak p12", days_to=3000)
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    subprocess.run(["openssl", "pkcs12", "-export", "-inkey", str(tmp_path / "k.pem"), "-in",
                    str(tmp_path / "c.pem"), "-out", str(tmp_path / out), "-passout", "pass:audit pw a", *extra],
                   check=True, capture_output=True)
    return tmp_path / out


@pytest.mark.parametrize(("options", "expected"), [
    (["-nomac"], "no integrity MAC"),
    (["-nomaciter"], "mac protected with HMAC-SHA-256 (PKCS#12 KDF), 1 iteration"),
    (["-noiter"], "keys protected with PBES2 PBKDF2-HMAC-SHA-256 AES-256-CBC, 1 iteration"),
])
def test_pkcs12_without_a_mac_or_with_one_iteration_is_flagged(tmp_path, options, expected):
    path = _openssl_p12(tmp_path, "weak.p12", *options)
    done = keystores("audit", str(path), "-p", "env:PW_A", "--json", env=ENV)
    assert done.code == 5, done.all
    messages = [f["message"] for f in json.loads(done.out)["findings"] if f["check"] == "weak-protection"]
    assert any(m.startswith(expected) for m in messages), messages
    plain = _openssl_p12(tmp_path, "fine.p12")
    assert keystores("audit", str(plain), "-p", "env:PW_A", env=ENV).code == 0


def test_a_store_that_does_not_exist_is_exit_4_not_a_finding(tmp_path):
    with open_store(tmp_path / "a.p12", password=ENV["PW_A"], create=True) as store:
        store.add(key_pair_entry("a", index=0))
    done = keystores("audit", str(tmp_path / "a.p12"), str(tmp_path / "missing.p12"), "-p", "env:PW_A", "--json",
                     env=ENV)
    assert done.code == 4, done.all
    assert "missing.p12" in done.err and "no such store" in done.err
    assert done.out == ""


@pytest.fixture
def two_passwords(tmp_path) -> Path:
    """a.p12 and b.p12 with different passwords; q.kdb with its stash (and a third password)."""
    for letter in "ab":
        with open_store(tmp_path / f"{letter}.p12", password=ENV[f"PW_{letter.upper()}"], create=True) as store:
            store.add(key_pair_entry(letter, index=0))
    made = keystores("create", "q.kdb", "-p", "env:PW_KDB", "--stash", env=ENV, cwd=str(tmp_path))
    assert made.code == 0, made.all
    return tmp_path


def test_per_store_passwords_and_the_stash(two_passwords):
    done = keystores("audit", "a.p12", "b.p12", "q.kdb", "--password-for", "a.p12=env:PW_A", "--password-for",
                     f"{two_passwords / 'b.p12'}=env:PW_B", env=ENV, cwd=str(two_passwords))
    assert done.code == 0, done.all
    # one --password for the rest: b.p12 takes it, q.kdb still opens with its stash
    done = keystores("audit", "a.p12", "b.p12", "q.kdb", "--password-for", "a.p12=env:PW_A", "-p", "env:PW_B",
                     env=ENV, cwd=str(two_passwords))
    assert done.code == 0, done.all
    wrong = keystores("audit", "a.p12", "b.p12", "-p", "env:PW_A", "--json", env=ENV, cwd=str(two_passwords))
    assert wrong.code == 5
    assert [(f["store"], f["check"], f["severity"]) for f in json.loads(wrong.out)["findings"]] == \
        [("b.p12", "unreadable", "error")]


def test_a_passwords_file_maps_stores_and_patterns(two_passwords):
    mapping = two_passwords / "audit.pw"
    mapping.write_text("# store=source, first match wins\n\nb.p12=env:PW_B\n*.p12=env:PW_A\n")
    done = keystores("audit", "a.p12", "b.p12", "q.kdb", "--passwords", str(mapping), env=ENV,
                     cwd=str(two_passwords))
    assert done.code == 0, done.all


def test_a_malformed_mapping_never_echoes_its_secret(two_passwords):
    done = keystores("audit", "a.p12", "--password-for", "a.p12:pass:Summer2024Secret", cwd=str(two_passwords))
    assert done.code == 2, done.all
    assert "Summer2024" not in done.all and "STORE=SOURCE" in done.err


def test_a_prompt_per_store_on_a_terminal(two_passwords):
    done = on_terminal("audit", "a.p12", "b.p12", "q.kdb", answers=[(r"a\.p12: $", ENV["PW_A"]),
                                                                    (r"b\.p12: $", ENV["PW_B"])],
                       cwd=str(two_passwords), timeout=60)
    assert done.code == 0, done.transcript
    assert done.prompts == ["Password for a.p12:", "Password for b.p12:"]  # q.kdb: its stash, no prompt


def _pin_count_low(token) -> bool:
    """The token's CKF_USER_PIN_COUNT_LOW flag (SoftHSM sets it after a failed login), read by a fresh process:
    this one's PKCS#11 library may have been initialised before the token was made."""
    script = ("import pkcs11, sys; t = pkcs11.lib(sys.argv[1]).get_token(token_label=sys.argv[2]); "
              "print(pkcs11.TokenFlag.USER_PIN_COUNT_LOW in t.flags)")
    done = subprocess.run([sys.executable, "-c", script, token.module, token.label], capture_output=True, text=True,
                          env={**os.environ, **token.env}, check=True)
    return done.stdout.strip() == "True"


def test_a_token_never_gets_a_password_given_for_other_stores(softhsm, two_passwords):  # noqa: F811
    """`--password` is for the files; the token gets only a PIN given for it, so no failed login is spent."""
    token = softhsm.make_token("audit-pin")
    env = {**ENV, **token.env}
    done = keystores("audit", "a.p12", token.uri, "-p", "env:PW_A", "--json", env=env, cwd=str(two_passwords))
    assert done.code == 5, done.all
    findings = json.loads(done.out)["findings"]
    assert [(f["store"], f["check"]) for f in findings] == [(token.uri, "unreadable")]
    assert "--password-for" in findings[0]["message"]
    assert not _pin_count_low(token)  # no failed login was spent on the token
    done = keystores("audit", "a.p12", token.uri, "-p", "env:PW_A", "--pin", token.password, env=env,
                     cwd=str(two_passwords))
    assert done.code == 0, done.all
    done = keystores("audit", "a.p12", token.uri, "--password-for", "a.p12=env:PW_A",
                     "--password-for", f"{token.uri}={token.password}", env=env, cwd=str(two_passwords))
    assert done.code == 0, done.all
    assert not _pin_count_low(token)
    # the judge works: a PIN given for the token, and wrong, does cost a try
    assert keystores("audit", token.uri, "--pin", "env:PW_A", env=env).code == 5
    assert _pin_count_low(token)


def _readme_json(heading: str) -> dict:
    """The JSON example that follows `heading` in the README."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    start = text.index(heading)
    block = text[text.index("```json\n", start) + 8:]
    return json.loads(block[: block.index("```")])


def _same_shape(documented: object, actual: object, where: str = "") -> None:
    """Every object of the README's example has the keys the command writes, at every level."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), where
        assert set(documented) == set(actual), (where, set(documented) ^ set(actual))
        for key, value in documented.items():
            _same_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(documented, list) and documented and actual:
        _same_shape(documented[0], actual[0], f"{where}[0]")  # type: ignore[index]


def test_the_readme_documents_the_json_of_audit_validate_tokens_and_nss_modules(softhsm, two_passwords,  # noqa: F811
                                                                                 tmp_path):
    key = ec_key(46)
    with open_store(tmp_path / "soon.p12", password=ENV["PW_A"], create=True) as store:
        store.add(Entry("soon", EntryKind.KEY_PAIR, chain=(_cert(key, "soon", days_to=5),), key=key))
    audited = keystores("audit", str(tmp_path / "soon.p12"), "-p", "env:PW_A", "--within", "20000d", "--json",
                        env=ENV)
    assert audited.code == 5, audited.all
    _same_shape(_readme_json("`audit --json` (schema 1)"), json.loads(audited.out))
    validated = keystores("validate", str(tmp_path / "soon.p12"), "soon", "-p", "env:PW_A", "--json", env=ENV)
    _same_shape(_readme_json("`validate --json` (schema 1)"), json.loads(validated.out))
    token = softhsm.make_token("readme-json")
    tokens = keystores("tokens", "--module", token.module, "--json", env=token.env)
    assert tokens.code == 0, tokens.all
    _same_shape(_readme_json("`tokens --json` (schema 1)"), json.loads(tokens.out))
    (tmp_path / "db").mkdir()
    assert keystores("create", f"sql:{tmp_path / 'db'}", "-p", "env:PW_A", env=ENV).code == 0
    modules = keystores("nss", "modules", f"sql:{tmp_path / 'db'}", "--json")
    _same_shape(_readme_json("`nss modules --json` (schema 1)"), json.loads(modules.out))
    for done in (audited, validated, tokens, modules):
        assert json.loads(done.out)["schema"] == 1


def test_a_bad_secret_source_is_a_usage_error_not_a_finding(two_passwords):
    done = keystores("audit", "a.p12", "-p", "env:NOT_SET_ANYWHERE", cwd=str(two_passwords))
    assert done.code == 2 and "not set" in done.err, done.all


@pytest.mark.parametrize("vector", ["custom/invalid_version.pem#0", "custom/two_basic_constraints.pem#0",
                                    "ed25519/ed25519-rfc8410.pem#0", "custom/rsa_pss_cert_no_sig_params.der"])
def test_a_certificate_cryptography_refuses_in_part_is_audited(tmp_path, vector):
    """A PEM file of one certificate of the cryptography-vectors (a store of the real-world corpus) that
    cryptography refuses in part: audit crashed with an internal error naming its signature hash (AttributeError
    for one held as keystores.pki.undecoded's RawCertificate, ValueError for RSA-PSS without its parameters) or
    asking whether it is a CA (DuplicateExtension); each is audited now."""
    import base64

    from test_shown import vector_certificates

    found = dict(vector_certificates()).get(vector)
    if found is None:
        pytest.skip("cryptography_vectors is not installed")
    path = tmp_path / "one.pem"
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(found) + b"-----END CERTIFICATE-----\n")
    with open_store(path) as store:
        report = audit({"one.pem": store}, at=AT, within="3650d")
    assert (report.stores, report.certificates) == (1, 1)
    done = keystores("audit", str(path), "--json", env=ENV)
    assert done.code in (0, 5) and json.loads(done.out)["certificates"] == 1, done.all

