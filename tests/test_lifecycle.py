"""The certificate lifecycle through the library, judged by openssl (req -verify, verify -CAfile -purpose,
x509 -text), and every file format's result by its own tool: the judge its test file declares (NATIVE_JUDGES). Every
backend that is importable is exercised; the others skip, saying why. (GSKit seeing a .kdb's pending request is
tests/test_cms_gskit.py's.)"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib
import re
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from helpers import LATER, NOW, NativeJudge, openssl_enddate, same_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keystores import formats
from keystores.backends.memory import MemoryStore
from keystores.errors import (
    BackendUnavailable,
    CorruptStore,
    EntryExists,
    IntegrityError,
    KeystoreError,
    NotFound,
    UsageError,
)
from keystores.model import TRUST_ALL, Entry, EntryKind, private_key_signer
from keystores.ops import lifecycle as lc
from keystores.ops.audit import audit, validate
from keystores.pki.builder import build_certificate, profile_extensions
from keystores.pki.dn import parse_dn
from keystores.store import backend_class, open_store

PW = "Lifecycle pw1"


def openssl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)} failed: {done.stdout}{done.stderr}")
    return done


def pem(*objs: object) -> bytes:
    return b"".join(o.public_bytes(serialization.Encoding.PEM) for o in objs)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def ca_store() -> MemoryStore:
    """An RSA root CA made by selfsign --ca (one RSA key per session)."""
    store = MemoryStore.open("ca-memory")
    lc.selfsign(store, "root", "CN=Lifecycle Root CA,O=keystores tests,C=GB", ca=True, key_spec="rsa:2048",
                days=3650, now=NOW - dt.timedelta(days=1))
    return store


@pytest.fixture(scope="session")
def ca_pem(ca_store, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    path.write_bytes(pem(ca_store.get("root").certificate))
    return path


def _request(label: str = "web", key: str = "ec:p256", sans: tuple[str, ...] = ("DNS:web.example.com",),
             **kw) -> tuple[MemoryStore, lc.Requested]:
    store = MemoryStore.open("srv")
    return store, lc.certreq(store, label, "CN=web.example.com,O=HW,C=GB", key_spec=key, sans=list(sans), **kw)


# --- selfsign and certreq -----------------------------------------------------------------------------------------
def test_selfsigned_ca_is_a_ca_for_openssl(ca_store, ca_pem):
    assert openssl("verify", "-CAfile", str(ca_pem), str(ca_pem)).stdout.strip().endswith("OK")
    text = openssl("x509", "-in", str(ca_pem), "-noout", "-text").stdout
    assert "CA:TRUE" in text and "Certificate Sign, CRL Sign" in text
    assert "sha256WithRSAEncryption" in text
    entry = ca_store.get("root")
    assert entry.kind is EntryKind.KEY_PAIR and same_key(entry.key, entry.certificate.public_key())


@pytest.mark.parametrize("key_type", ["rsa:2048", "ec:p256", "ec:p384", "ed25519"])
def test_request_verifies_with_openssl(tmp_path, key_type):
    store, made = _request(key=key_type, sans=("DNS:web.example.com", "IP:10.1.2.3", "EMAIL:ops@example.com"))
    path = tmp_path / "req.csr"
    path.write_bytes(pem(made.request))
    done = openssl("req", "-in", str(path), "-verify", "-noout", "-text")
    assert "verify OK" in done.stdout + done.stderr
    assert "DNS:web.example.com" in done.stdout and "IP Address:10.1.2.3" in done.stdout
    assert "email:ops@example.com" in done.stdout
    assert "CN = web.example.com" in done.stdout
    # a memory store has pending requests: the key waits there as a REQUEST
    entry = store.get("web")
    assert entry.kind is EntryKind.REQUEST and same_key(entry.key, made.request.public_key())


def test_certreq_refuses_an_existing_label_and_leaves_it():
    store, _ = _request()
    before = store.get("web")
    with pytest.raises(EntryExists):
        lc.certreq(store, "web", "CN=x", key_spec="ec:p256")
    assert store.get("web") is before


def test_bad_dn_or_key_type_is_a_usage_error():
    store = MemoryStore.open("x")
    with pytest.raises(UsageError, match="unknown attribute"):
        lc.certreq(store, "a", "XX=1", key_spec="ec:p256")
    with pytest.raises(UsageError, match="bad key type"):
        lc.certreq(store, "a", "CN=a", key_spec="rsa:12")
    assert store.labels() == []


# --- sign -----------------------------------------------------------------------------------------------------------
PROFILE_PROMISES = {
    "server": (["CA:FALSE", "TLS Web Server Authentication", "Digital Signature"], "sslserver"),
    "client": (["CA:FALSE", "TLS Web Client Authentication", "Digital Signature"], "sslclient"),
    "server-client": (["TLS Web Server Authentication, TLS Web Client Authentication"], "sslserver"),
    "email": (["E-mail Protection"], "smimesign"),
    "codesign": (["Code Signing"], None),
    "timestamp": (["Extended Key Usage: critical", "Time Stamping"], "timestampsign"),
    "ca": (["CA:TRUE", "Certificate Sign, CRL Sign"], None),
}


@pytest.mark.parametrize("profile", list(PROFILE_PROMISES))
def test_profiles_give_the_extensions_they_promise(tmp_path, ca_store, ca_pem, profile):
    _, made = _request(key="ec:p256")
    issued = lc.sign(ca_store, "root", pem(made.request), profile=profile, copy_sans=True, days=30)
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(pem(issued.certificate))
    text = openssl("x509", "-in", str(leaf), "-noout", "-text").stdout
    promises, purpose = PROFILE_PROMISES[profile]
    for promise in [*promises, "Subject Key Identifier", "Authority Key Identifier", "DNS:web.example.com"]:
        assert promise in text, f"{profile}: '{promise}' missing in\n{text}"
    args = ["verify", "-CAfile", str(ca_pem)] + (["-purpose", purpose] if purpose else []) + [str(leaf)]
    assert openssl(*args).stdout.strip().endswith("OK")
    # the authority key identifier is the CA's subject key identifier
    ca_ski = ca_store.get("root").certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    aki = issued.certificate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert aki.value.key_identifier == ca_ski.value.digest
    assert issued.chain[1] == ca_store.get("root").certificate


def test_an_intermediate_made_by_the_ca_profile_signs_leaves(tmp_path, ca_store, ca_pem):
    inter_store = MemoryStore.open("inter")
    made = lc.certreq(inter_store, "inter", "CN=Issuing CA,O=HW", key_spec="ec:p256")
    issued = lc.sign(ca_store, "root", made.request, profile="ca", path_length=0)
    lc.receive(inter_store, [issued.certificate], issued.chain[1:])
    _, leaf_req = _request()
    leaf = lc.sign(inter_store, "inter", leaf_req.request, profile="server", copy_sans=True)
    assert len(leaf.chain) == 3
    (tmp_path / "leaf.pem").write_bytes(pem(leaf.certificate))
    (tmp_path / "inter.pem").write_bytes(pem(issued.certificate))
    done = openssl("verify", "-CAfile", str(ca_pem), "-untrusted", str(tmp_path / "inter.pem"),
                   "-purpose", "sslserver", str(tmp_path / "leaf.pem"))
    assert done.stdout.strip().endswith("OK")
    assert "pathlen:0" in openssl("x509", "-in", str(tmp_path / "inter.pem"), "-noout", "-text").stdout


def test_sans_are_copied_only_when_asked(ca_store):
    _, made = _request(sans=("DNS:a.example.com", "DNS:b.example.com"))
    plain = lc.sign(ca_store, "root", made.request)
    with pytest.raises(x509.ExtensionNotFound):
        plain.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    [asked] = [note for note in plain.notes if "subject alternative names" in note]
    assert asked.endswith("not copied without copy_sans=True") and "--" not in asked  # a script is told the keyword
    assert asked.rendered("option").endswith("not copied without --copy-sans")  # the CLI the option (cli/common.said)
    copied = lc.sign(ca_store, "root", made.request, copy_sans=True, sans=["DNS:c.example.com"])
    names = copied.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["a.example.com", "b.example.com", "c.example.com"]


@pytest.mark.parametrize("form", ["%Y%m%d%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT17:%M:%S+01:00"])
def test_not_after_takes_iso_8601_and_openssl_form(tmp_path, ca_store, form):
    _, made = _request()
    issued = lc.sign(ca_store, "root", made.request, not_after=LATER.strftime(form))  # a few years on, whenever run
    path = tmp_path / "c.pem"
    path.write_bytes(pem(issued.certificate))
    assert openssl("x509", "-in", str(path), "-noout", "-enddate").stdout.strip() == openssl_enddate(LATER)


def test_validity_is_clamped_to_the_ca(ca_store):
    _, made = _request()
    issued = lc.sign(ca_store, "root", made.request, days=40000)
    assert issued.certificate.not_valid_after_utc == ca_store.get("root").certificate.not_valid_after_utc
    assert any("shortened" in note for note in issued.notes)


@pytest.mark.parametrize(("md", "openssl_name"), [(None, "sha256WithRSAEncryption"),
                                                  ("sha384", "sha384WithRSAEncryption"),
                                                  ("sha1", "sha1WithRSAEncryption"),
                                                  ("md5", "md5WithRSAEncryption")])
def test_weak_hashes_only_when_asked_and_with_a_warning(tmp_path, ca_store, md, openssl_name):
    _, made = _request()
    issued = lc.sign(ca_store, "root", made.request, md=md)
    path = tmp_path / "c.pem"
    path.write_bytes(pem(issued.certificate))
    assert f"Signature Algorithm: {openssl_name}" in openssl("x509", "-in", str(path), "-noout", "-text").stdout
    warned = any("warning" in note and md.upper() in note for note in issued.notes) if md else False
    assert warned == (md in ("sha1", "md5"))


def test_sha1_request_is_made_only_when_asked(tmp_path):
    _, made = _request(key="rsa:2048", md="sha1")
    assert made.request.signature_hash_algorithm.name == "sha1"
    assert any("SHA1" in note for note in made.notes)
    path = tmp_path / "r.csr"
    path.write_bytes(pem(made.request))
    done = openssl("req", "-in", str(path), "-verify", "-noout")
    assert "verify OK" in done.stdout + done.stderr


def test_bad_requests_get_clear_errors(ca_store):
    _, made = _request()
    der = bytearray(made.request.public_bytes(serialization.Encoding.DER))
    with pytest.raises(CorruptStore, match="not a certificate request"):
        lc.sign(ca_store, "root", b"garbage, not a request", source="req.csr")
    with pytest.raises(CorruptStore):
        lc.sign(ca_store, "root", bytes(der[: len(der) // 2]), source="req.csr")
    # change one letter of the subject: still parses, the signature no longer verifies
    at = bytes(der).index(b"web.example.com")
    der[at] = ord("x")
    with pytest.raises(IntegrityError, match="signature does not verify"):
        lc.sign(ca_store, "root", bytes(der), source="req.csr")


def test_expired_or_non_ca_issuers_are_refused():
    from helpers import certificate, ec_key

    store = MemoryStore.open("old")
    key = ec_key(3)
    expired = _cert(key, "CN=Old CA", ca=True, not_before=NOW - dt.timedelta(days=30),
                    not_after=NOW - dt.timedelta(days=2))
    store.add(Entry("old", EntryKind.KEY_PAIR, chain=(expired,), key=key))
    leaf_key = ec_key(4)
    store.add(Entry("leaf", EntryKind.KEY_PAIR, chain=(certificate(leaf_key, "Leaf", key, expired),), key=leaf_key))
    _, made = _request()
    with pytest.raises(KeystoreError, match="expired on"):
        lc.sign(store, "old", made.request)
    with pytest.raises(KeystoreError, match="not a CA certificate") as refused:
        lc.sign(store, "leaf", made.request)
    assert refused.value.exit_code == 1  # what the store holds, not how the command was typed
    with pytest.raises(UsageError, match="unknown profile"):
        lc.sign(store, "old", made.request, profile="bogus")


# --- receive --------------------------------------------------------------------------------------------------------
def test_receive_attaches_to_the_pending_request(ca_store):
    store, made = _request()
    issued = lc.sign(ca_store, "root", made.request, copy_sans=True)
    got = lc.receive(store, [issued.certificate])  # chain found nowhere: warned, still attached
    assert got.label == "web" and any("incomplete" in n for n in got.notes)
    got = lc.receive(store, [issued.certificate], [ca_store.get("root").certificate])
    entry = store.get("web")
    assert entry.kind is EntryKind.KEY_PAIR and entry.chain == issued.chain
    assert same_key(entry.key, issued.certificate.public_key())


def test_receive_of_a_foreign_certificate_lists_the_keys_tried(ca_store):
    store, _ = _request()
    _, other = _request(label="other")
    issued = lc.sign(ca_store, "root", other.request)
    before = list(store.entries())
    with pytest.raises(NotFound) as info:
        lc.receive(store, [issued.certificate])
    message = str(info.value)
    assert "'web' (pending request, EC-P256" in message and "Nothing was written" in message
    assert list(store.entries()) == before
    with pytest.raises(NotFound, match="holds no keys"):
        lc.receive(MemoryStore.open("empty"), [issued.certificate])


def test_load_certificates_reads_pem_bundles_der_and_pkcs7(ca_store):
    from cryptography.hazmat.primitives.serialization import pkcs7

    root = ca_store.get("root").certificate
    _, made = _request()
    leaf = lc.sign(ca_store, "root", made.request).certificate
    assert lc.load_certificates(pem(leaf, root)) == [leaf, root]
    assert lc.load_certificates(leaf.public_bytes(serialization.Encoding.DER)) == [leaf]
    p7 = pkcs7.serialize_certificates([leaf, root], serialization.Encoding.PEM)
    assert set(lc.load_certificates(p7)) == {leaf, root}
    with pytest.raises(CorruptStore):
        lc.load_certificates(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n")


# --- every file backend: certreq, sign, receive, reopen ---------------------------------------------------------
BACKENDS = [record.name for record in formats.file_formats()]  # every local store we write


def _location(tmp_path: Path, backend: str) -> str:
    try:
        backend_class(backend)
    except (BackendUnavailable, AttributeError) as exc:
        pytest.skip(f"{backend} backend not usable here: {exc}")
    record = formats.get(backend)
    location = record.address_in(tmp_path)
    if record.storage is formats.Storage.FOLDER:
        record.folder_of(location).mkdir()
    return location


def _snapshot(location: str) -> dict[str, bytes]:
    path = Path(location.removeprefix("sql:"))
    files = [p for p in path.iterdir() if p.is_file()] if path.is_dir() else \
        [p for p in path.parent.iterdir() if p.name.startswith(path.stem)]
    return {p.name: hashlib.sha256(p.read_bytes()).digest() for p in files}


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_certreq_sign_receive_on_every_backend(tmp_path, ca_store, backend):
    location = _location(tmp_path, backend)
    with open_store(location, password=PW, type=backend, create=True) as store:
        made = lc.certreq(store, "web", "CN=web.example.com,O=HW,C=GB", key_spec="ec:p256",
                          sans=["DNS:web.example.com"])
    with open_store(location, password=PW) as store:
        waiting = [e for e in store.entries() if e.kind in (EntryKind.REQUEST, EntryKind.KEY_PAIR)]
        assert len(waiting) == 1 and same_key(waiting[0].key, made.request.public_key())
    issued = lc.sign(ca_store, "root", made.request, copy_sans=True)

    # a reply for another key changes nothing on disk
    _, stranger = _request(label="stranger")
    foreign = lc.sign(ca_store, "root", stranger.request).certificate
    before = _snapshot(location)
    with pytest.raises(NotFound, match="keys tried"), open_store(location, password=PW, writable=True) as store:
        lc.receive(store, [foreign])
    assert _snapshot(location) == before

    with open_store(location, password=PW, writable=True) as store:
        got = lc.receive(store, [issued.certificate], issued.chain[1:])
    with open_store(location, password=PW) as store:
        entry = next(e for e in store.entries() if e.certificate == issued.certificate)
        assert entry.kind is EntryKind.KEY_PAIR and entry.label.lower() == got.label.lower()
        assert entry.chain[:2] == issued.chain
        assert same_key(entry.key, issued.certificate.public_key())
        assert not [e for e in store.entries() if e.kind is EntryKind.REQUEST]
        # validate and audit read every backend the same way
        trust = MemoryStore.open("trust")
        trust.add(Entry("root", EntryKind.TRUSTED_CERT, chain=(issued.chain[1],), trust=TRUST_ALL))
        assert validate(store, entry.label, trust_stores=[trust]).ok
        checks = {f.check for f in audit({location: store}, within="30d").findings}
        assert checks <= {"weak-protection"}, checks
        assert not audit({location: store}, within="400d", skip=["weak-protection"]).ok  # leaf expires
    _judge_natively(backend, location, got.label, issued)


DECLARES_JUDGES = re.compile(r"^NATIVE_JUDGES\b[^=\n]*=", re.MULTILINE)


def _native_judges() -> dict[str, NativeJudge]:
    """Every format's native judge, declared beside the format: each test file that holds a format's judge says so
    with `NATIVE_JUDGES = {format name: judge}` at its top level (tests/helpers.py, NativeJudge). Found by looking for
    that name, as formats are found by their format.py: a list here would be one more place to edit per format."""
    judges: dict[str, NativeJudge] = {}
    for path in sorted(Path(__file__).parent.glob("test_*.py")):
        if DECLARES_JUDGES.search(path.read_text()):
            for name, judge in importlib.import_module(path.stem).NATIVE_JUDGES.items():
                assert name not in judges, f"two native judges for {name}"
                judges[name] = judge
    return judges


JUDGES = _native_judges()


def _judge_natively(backend: str, location: str, label: str, issued: lc.Issued) -> None:
    """The format's own tool reads the key pair received; an in-tree format without a judge fails, naming itself."""
    judge = JUDGES.get(backend)
    if judge is None:
        pytest.fail(f"no native judge for {backend}: declare NATIVE_JUDGES = {{'{backend}': judge}} in its test file "
                    f"(README, 'Adding a format')")
    judge(location, PW, label, issued.chain)


def test_every_file_format_has_its_native_judge():
    """Each format's test file declares its judge (NATIVE_JUDGES); one that does not is named here, and
    test_certreq_sign_receive_on_every_backend fails for it instead of skipping."""
    assert sorted(set(BACKENDS) - set(JUDGES)) == []
    assert set(JUDGES) <= {record.name for record in formats.records()}  # no judge for a format that is gone
    with pytest.raises(pytest.fail.Exception, match="no native judge for newformat: declare NATIVE_JUDGES"):
        _judge_natively("newformat", "nowhere", "web", None)  # type: ignore[arg-type]


# --- validate ---------------------------------------------------------------------------------------------------------
@pytest.fixture
def issued_store(ca_store):
    store, made = _request()
    issued = lc.sign(ca_store, "root", made.request, copy_sans=True, days=60, now=NOW)
    lc.receive(store, [issued.certificate], issued.chain[1:], now=NOW)
    return store


def test_validate_reports_each_link(issued_store, ca_store):
    report = validate(issued_store, "web", at=NOW)
    assert not report.ok
    assert [bool(link.problems) for link in report.links] == [False, True]
    assert "not trusted" in report.links[1].problems[0]
    trust = MemoryStore.open("trust")
    trust.add(Entry("root", EntryKind.TRUSTED_CERT, chain=(ca_store.get("root").certificate,), trust=TRUST_ALL))
    report = validate(issued_store, "web", trust_stores=[trust], at=NOW)
    assert report.ok and report.links[1].trusted
    late = validate(issued_store, "web", trust_stores=[trust], at=NOW + dt.timedelta(days=90))
    assert not late.ok and "expired on" in late.links[0].problems[0]
    data = late.as_dict()
    assert data["valid"] is False and data["links"][0]["problems"]


def test_validate_ends_the_path_at_a_trusted_intermediate():
    """The one chain builder (keystores.pki.chain.build_chain) stops where validation says the path is complete:
    at a trust anchor, even when the anchor's own issuer is in the pool."""
    from helpers import certificate, rsa_key

    root_key = rsa_key(31)
    root = certificate(root_key, "Anchor Test Root", ca=True)
    middle_key = rsa_key(32)
    middle = certificate(middle_key, "Anchor Test Intermediate", root_key, root, ca=True)
    leaf_key = rsa_key(33)
    leaf = certificate(leaf_key, "anchor test leaf", middle_key, middle)
    store = MemoryStore.open("anchored")
    store.add(Entry("leaf", EntryKind.KEY_PAIR, chain=(leaf, middle, root), key=leaf_key))
    trust = MemoryStore.open("trust")
    trust.add(Entry("middle", EntryKind.TRUSTED_CERT, chain=(middle,), trust=TRUST_ALL))
    report = validate(store, "leaf", trust_stores=[trust], at=NOW)
    assert report.ok
    assert len(report.links) == 2 and report.links[1].trusted  # the root above the anchor is not part of the path

def test_validate_names_the_missing_issuer(ca_store):
    store, made = _request()
    issued = lc.sign(ca_store, "root", made.request)
    lc.receive(store, [issued.certificate])
    report = validate(store, "web")
    assert not report.ok and "Lifecycle Root CA" in report.links[-1].problems[0]
    pending, _ = _request(label="req")
    with pytest.raises(UsageError, match="no certificate"):
        validate(pending, "req")


# --- audit ------------------------------------------------------------------------------------------------------------
def _cert(signer_key, subject: str, issuer_cert=None, *, key=None, md=None, not_before=None, not_after=None,
          ca=False):
    key = key or signer_key
    issuer = issuer_cert.subject if issuer_cert is not None else parse_dn(subject).to_x509()
    return build_certificate(
        private_key_signer(signer_key), subject=parse_dn(subject).to_x509(), issuer=issuer,
        public_key=key.public_key(), not_before=not_before or NOW - dt.timedelta(days=1),
        not_after=not_after or NOW + dt.timedelta(days=365), md=md,
        extensions=profile_extensions("ca" if ca else "server", key.public_key(),
                                      issuer_public_key=signer_key.public_key(), issuer_cert=issuer_cert))


def test_audit_finds_every_kind_of_problem(ca_store):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from helpers import ec_key, rsa_key

    ca_entry = ca_store.get("root")
    ca_key, root = ca_entry.key, ca_entry.certificate
    store = MemoryStore.open("audited")

    def leaf(label, index, **kw):
        key = kw.pop("key", None) or ec_key(index)
        store.add(Entry(label, EntryKind.KEY_PAIR, chain=(_cert(ca_key, f"CN={label}", root, key=key, **kw), root),
                        key=key))

    leaf("good", 10)
    leaf("md5", 11, key=rsa_key(11), md="md5")
    leaf("sha1", 12, md="sha1")
    leaf("expired", 13, not_before=NOW - dt.timedelta(days=30), not_after=NOW - dt.timedelta(days=1))
    leaf("soon", 14, not_after=NOW + dt.timedelta(days=10))
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    leaf("weak", 15, key=small)
    other_key = ec_key(16)
    other_ca = _cert(other_key, "CN=Other CA", ca=True)
    orphan_key = ec_key(17)
    store.add(Entry("orphan", EntryKind.KEY_PAIR, chain=(_cert(other_key, "CN=orphan", other_ca, key=orphan_key),),
                    key=orphan_key))
    store.add(Entry("Dup", EntryKind.TRUSTED_CERT, chain=(root,), trust=TRUST_ALL))
    store.add(Entry("dup", EntryKind.TRUSTED_CERT, chain=(root,), trust=TRUST_ALL))

    report = audit({"audited": store}, within="30d", at=NOW)
    found = {(f.label, f.check) for f in report.findings}
    assert found == {("md5", "weak-signature"), ("sha1", "weak-signature"), ("expired", "expired"),
                     ("soon", "expiring"), ("weak", "weak-key"), ("orphan", "missing-link"),
                     ("Dup", "duplicate-label")}
    assert not report.ok and report.stores == 1
    quieter = audit({"audited": store}, within="30d", at=NOW, skip=["weak-signature", "duplicate-label"])
    assert {f.check for f in quieter.findings} == {"expired", "expiring", "weak-key", "missing-link"}
    with pytest.raises(UsageError, match="unknown check"):
        audit({"audited": store}, skip=["bogus"])
    assert audit({"ca": ca_store}, within="30d", at=NOW).ok
    unreadable = audit({"x.p12": KeystoreError("bad")})
    assert [f.check for f in unreadable.findings] == ["unreadable"]


def test_audit_flags_legacy_store_protection(tmp_path):
    from helpers import key_pair_entry, warned_of

    for profile, weak in (("compat", True), ("modern", False)):
        location = tmp_path / f"{profile}.p12"
        with warned_of(profile), open_store(location, password=PW, create=True, profile=profile) as store:
            store.add(key_pair_entry("server", index=1))
        with open_store(location, password=PW) as store:
            report = audit({str(location): store}, within="1d")
        flagged = [f for f in report.findings if f.check == "weak-protection"]
        assert bool(flagged) == weak, report.findings
        if weak:
            assert any("3DES" in f.message for f in flagged)
            # the remedy names what a script calls, and what the CLI renders names the command and option
            assert all("profile='modern'" in f.rendered() and "--profile modern" in f.rendered("option")
                       for f in flagged), [f.rendered() for f in flagged]


_REAL_INPUTS: list[bytes] = []  # a request and a certificate, made once for all the examples


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300), flip=st.integers(min_value=0, max_value=10_000))
def test_damaged_input_gives_our_errors_only(ca_store, data, flip):
    """Random bytes, and a real request or certificate with one byte changed, never escape as a raw exception."""
    if not _REAL_INPUTS:
        _REAL_INPUTS.append(_request()[1].request.public_bytes(serialization.Encoding.DER))
        _REAL_INPUTS.append(ca_store.get("root").certificate.public_bytes(serialization.Encoding.DER))
    for real in _REAL_INPUTS:
        damaged = bytearray(real)
        damaged[flip % len(damaged)] ^= 0x41
        for blob in (data, bytes(damaged)):
            with contextlib.suppress(CorruptStore, IntegrityError):
                lc.load_request(blob)
            with contextlib.suppress(CorruptStore):
                lc.load_certificates(blob)


@pytest.mark.parametrize(("ca_key", "algorithm"), [("ec:p384", "ecdsa-with-SHA384"), ("ed25519", "ED25519"),
                                                   ("ec:p521", "ecdsa-with-SHA512")])
def test_cas_of_every_key_type_sign_with_a_matching_hash(tmp_path, ca_key, algorithm):
    store = MemoryStore.open("ca2")
    root = lc.selfsign(store, "ca", "CN=Other CA", ca=True, key_spec=ca_key).certificate
    _, made = _request(key="ec:p256")
    issued = lc.sign(store, "ca", made.request, profile="client")
    (tmp_path / "ca.pem").write_bytes(pem(root))
    (tmp_path / "leaf.pem").write_bytes(pem(issued.certificate))
    assert f"Signature Algorithm: {algorithm}" in openssl("x509", "-in", str(tmp_path / "leaf.pem"), "-noout",
                                                          "-text").stdout
    assert openssl("verify", "-CAfile", str(tmp_path / "ca.pem"), "-purpose", "sslclient",
                   str(tmp_path / "leaf.pem")).stdout.strip().endswith("OK")


def test_audit_flags_keys_anyone_can_read(tmp_path):
    """An NSS database with an empty password leaves its keys readable: weak protection."""
    from helpers import key_pair_entry

    location = _location(tmp_path, "nss")
    with open_store(location, password="", type="nss", create=True) as store:
        store.add(key_pair_entry("a", index=1))
    with open_store(location, password="") as store:
        report = audit({location: store}, within="1d")
    assert [f.check for f in report.findings] == ["weak-protection"]
    assert "password" in report.findings[0].message


def test_a_chain_inside_a_pem_key_file_is_not_trust(tmp_path):
    """PEM has no trust flags: its certificate entries are anchors, but a key pair's own chain is not."""
    from helpers import key_pair_entry, trusted_entry

    with open_store(tmp_path / "k.pem", create=True) as store:
        store.add(key_pair_entry("srv", index=1))
    with open_store(tmp_path / "ca.pem", create=True) as store:
        store.add(trusted_entry("root"))
    with open_store(tmp_path / "k.pem") as store, open_store(tmp_path / "ca.pem") as bundle:
        label = store.labels()[0]
        assert not validate(store, label).ok
        assert validate(store, label, trust_stores=[bundle]).ok
