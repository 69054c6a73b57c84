"""Audit of a small store reads its certificates from the DER its backend holds (keystores.pki.shown) instead of
decoding them with cryptography.x509 (issue 15 item 2; bench/bench_core.py "start-up: keystores audit s.kdb"). Held
to the old path, which reads every entry's `chain` as cryptography's certificates: the same report (JSON, every
rendered finding, the counts that make the exit code) over our fixtures with expired, expiring and weak
certificates and broken chains at a pinned time, over every store of the real-world corpus, and over the
certificates of the cryptography-vectors x509/ folder put into stores; and a .kdb's key pair chains linked over
the DER are the chains linked over cryptography's certificates."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from corpusrun import location, real_world  # noqa: F401 - real_world is a fixture
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from test_shown import vector_certificates

from keystores.backends.memory import MemoryStore
from keystores.lazy_entries import made_entry
from keystores.model import TRUST_ALL, Entry, EntryKind, private_key_signer
from keystores.ops.audit import Audit, Validation, audit, validate
from keystores.ops.chains import chains_from_der as _chains_from_der
from keystores.pki.builder import build_certificate_der, profile_extensions
from keystores.pki.certificates import decode_certificate
from keystores.pki.shown import read_shown
from keystores.store import open_store

AT = dt.datetime(2030, 6, 1, 12, tzinfo=dt.UTC)  # every audit here runs at this pinned time
PASSWORD = "audit-lean-1"


def rendered(report: Audit) -> str:
    """All the CLI prints of a report, and what its exit code is made of: the JSON, each finding's line."""
    lines = ["\t".join([f.store, f.label or "-", f.severity, f.check, f.rendered("option")]) for f in report.findings]
    return json.dumps(report.as_dict("option"), indent=1) + "\n" + "\n".join(lines)


def both_ways(where: str | Path, password: str | None, **options: Any) -> tuple[Audit, Audit, bool]:
    """(the report read from the DER, the report read through cryptography, whether the first was read from the
    DER) of the store at `where`; the second store's entries have their chains decoded first."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_store(where, password=password) as store:
            lean = _chains_from_der(list(store.entries())) is not None
            from_der = audit({"s": store}, at=AT, **options)
        with open_store(where, password=password) as store:
            entries = list(store.entries())
            for entry in entries:
                _ = entry.chain
            assert _chains_from_der(entries) is None or not any(entry.chain for entry in entries)
            decoded = audit({"s": store}, at=AT, **options)
    return from_der, decoded, lean


def _name(cn: str, org: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attributes)


def _issue(subject: x509.Name, key: Any, issuer: x509.Name, issuer_key: Any, *, ca: bool = False,
           days: int = 400, md: str | None = None) -> bytes:
    """A certificate valid from 10 days before AT; `md` "sha1" or "md5" signs as old software did."""
    return build_certificate_der(private_key_signer(issuer_key), subject=subject, issuer=issuer,
                                 public_key=key.public_key(), not_before=AT - dt.timedelta(days=10),
                                 not_after=AT + dt.timedelta(days=days), md=md,
                                 extensions=profile_extensions("ca" if ca else "server", key.public_key(),
                                                               issuer_public_key=issuer_key.public_key()))


def fixture_chains() -> list[tuple[str, EntryKind, tuple[bytes, ...], Any]]:
    """(label, kind, chain DER, key) of entries with something for every check: a chain through an intermediate,
    one expiring and one expired leaf, SHA-1 and MD5 signatures (on a CA root too, which is exempt), a self-signed
    end-entity certificate signed with SHA-1, a 1024-bit RSA key, a chain out of order and one missing its
    intermediate, and one CN under two organisations."""
    root_key, inter_key = rsa.generate_private_key(65537, 2048), ec.generate_private_key(ec.SECP384R1())
    leaf_key, weak_key = ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 1024)
    root_name, inter_name = _name("Audit Root", "Lean"), _name("Audit Issuing", "Lean")
    root = _issue(root_name, root_key, root_name, root_key, ca=True, days=4000, md="sha1")
    inter = _issue(inter_name, inter_key, root_name, root_key, ca=True, days=2000)
    web = _issue(_name("web.example", "Lean"), leaf_key, inter_name, inter_key, days=12)
    old = _issue(_name("old.example", "Lean"), leaf_key, inter_name, inter_key, days=-3)
    sha1 = _issue(_name("sha1.example", "Lean"), leaf_key, root_name, root_key, md="sha1")
    md5 = _issue(_name("md5.example", "Lean"), weak_key, root_name, root_key, md="md5")
    qm = _issue(_name("QM1"), weak_key, _name("QM1"), weak_key, md="sha1")
    colin_a = _issue(_name("COLIN", "MY.ORG"), leaf_key, inter_name, inter_key)
    colin_b = _issue(_name("COLIN", "YOUR.ORG"), leaf_key, root_name, root_key, days=20)
    return [("web", EntryKind.KEY_PAIR, (web, inter, root), leaf_key),
            ("old", EntryKind.KEY_PAIR, (old, root, inter), leaf_key),  # out of order
            ("sha1", EntryKind.KEY_PAIR, (sha1, root), leaf_key),
            ("md5", EntryKind.KEY_PAIR, (md5,), weak_key),
            ("qm1", EntryKind.KEY_PAIR, (qm,), weak_key),
            ("colin a", EntryKind.KEY_PAIR, (colin_a,), leaf_key),  # its intermediate is only in "web"'s chain
            ("colin b", EntryKind.TRUSTED_CERT, (colin_b,), None),
            ("root", EntryKind.TRUSTED_CERT, (root,), None)]


def _entry(label: str, kind: EntryKind, chain: tuple[Any, ...], key: Any) -> Entry:
    return Entry(label, kind, chain=chain, key=key, trust=TRUST_ALL if kind is EntryKind.TRUSTED_CERT else None)


@pytest.fixture(scope="module")
def fixture_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("audit-lean")
    chains = fixture_chains()
    made: dict[str, Any] = {}
    (folder / "nss").mkdir()
    for name, options in (("s.p12", {}), ("s.jks", {}), ("s.kdb", {"stash": True}), ("s.pem", {}), ("nss", {})):
        where = f"sql:{folder / name}" if name == "nss" else folder / name
        with open_store(where, password=PASSWORD, create=True, **options) as store:
            for label, kind, ders, key in chains:
                store.add(_entry(label, kind, tuple(decode_certificate(der) for der in ders), key))
        made[name] = where
    return made


@pytest.mark.parametrize("name", ["s.p12", "s.jks", "s.kdb", "s.pem", "nss"])
@pytest.mark.parametrize("options", [{}, {"within": "400d"}, {"within": "0d", "fail_on": "error"},
                                     {"skip": ["weak-signature", "same-cn"], "fail_on": "notice"}])
def test_audit_of_our_fixtures_reads_the_same_from_the_der(fixture_stores: dict[str, Any], name: str,
                                                            options: dict[str, Any]) -> None:
    from_der, decoded, lean = both_ways(fixture_stores[name], PASSWORD, **options)
    assert rendered(from_der) == rendered(decoded)
    assert lean or name == "s.pem"  # the PEM holds several key pairs: read.py reads it, decoding every certificate
    if not options:  # a PKCS#12 and a .kdb link chains themselves: only a JKS keeps a chain out of order
        assert {f.check for f in decoded.findings} >= {"expired", "expiring", "weak-signature", "weak-key", "same-cn",
                                                       *(["missing-link"] if name == "s.jks" else [])}


def validated(report: Validation) -> str:
    """All the CLI prints of a validation (its JSON; the text lines are made of the same fields)."""
    return json.dumps(report.as_dict("option"), indent=1)


def validate_both_ways(where: str | Path, password: str | None, trust: str | Path | None = None) -> list[list[str]]:
    """validate of every key pair of the store at `where` (against the store at `trust`): [the reports read from
    the DER, the reports read through cryptography] (every entry's chain decoded first)."""
    import contextlib

    found = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for decode_first in (False, True):
            with contextlib.ExitStack() as stack:
                store = stack.enter_context(open_store(where, password=password))
                others = [stack.enter_context(open_store(trust, password=password))] if trust is not None else []
                for other in [store, *others]:
                    for entry in other.entries() if decode_first else ():
                        _ = entry.chain
                labels = [e.label for e in store.entries() if e.kind is EntryKind.KEY_PAIR]
                found.append([_validated_or_refused(store, label, others) for label in labels])
    return found


def _validated_or_refused(store: Any, label: str, others: list[Any]) -> str:
    from keystores.errors import KeystoreError

    try:
        return validated(validate(store, label, trust_stores=others, at=AT))
    except KeystoreError as exc:  # a key pair without a certificate, one that cannot be read
        return f"{type(exc).__name__}: {exc}"


@pytest.mark.parametrize("name", ["s.p12", "s.jks", "s.kdb", "s.pem", "nss"])
def test_validate_of_our_fixtures_reads_the_same_from_the_der(fixture_stores: dict[str, Any], name: str) -> None:
    from_der, decoded = validate_both_ways(fixture_stores[name], PASSWORD)
    assert from_der == decoded and len(from_der) >= 5
    from_der, decoded = validate_both_ways(fixture_stores[name], PASSWORD, trust=fixture_stores["s.jks"])
    assert from_der == decoded
    assert any('"valid": true' in text for text in decoded) and any('"valid": false' in text for text in decoded)


def test_a_memory_store_of_made_entries_reads_the_same_from_the_der() -> None:
    """Duplicate labels (a memory store keeps both spellings), a pending request and a key without certificate
    beside chains held as DER; and the same entries decoded."""
    chains = fixture_chains()
    key = ec.generate_private_key(ec.SECP256R1())
    lean, decoded = MemoryStore.open("lean"), MemoryStore.open("decoded")
    for store, held in ((lean, True), (decoded, False)):
        for label, kind, ders, entry_key in [*chains, ("Web", EntryKind.KEY_PAIR, chains[0][2], key)]:
            if held:
                store.add(made_entry(ders, label=label, kind=kind, key=entry_key,
                                     trust=TRUST_ALL if kind is EntryKind.TRUSTED_CERT else None))
            else:
                store.add(_entry(label, kind, tuple(decode_certificate(der) for der in ders), entry_key))
        store.add(Entry("bare", EntryKind.KEY_PAIR, key=key))
    assert _chains_from_der(list(lean.entries())) is not None
    for within in ("30d", "400d"):
        assert rendered(audit({"s": lean}, at=AT, within=within)) == rendered(
            audit({"s": decoded}, at=AT, within=within))


def test_audit_checks_each_link_of_a_key_pairs_chain_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Five key pairs under one intermediate and root: order_chain proves each link it takes, so audit does not
    verify those again, and keystores.pki.chain checks each link between two certificates held as DER once (the
    intermediate's link to the root and the root's self-signature are shared by the five chains): 5 + 1 + 1
    signature checks, against 25 before this issue; a chain out of order and a broken link are still found."""
    from keystores.pki import chain as chain_module

    root_key, inter_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    root = _issue(_name("Count Root"), root_key, _name("Count Root"), root_key, ca=True)
    inter = _issue(_name("Count Issuing"), inter_key, _name("Count Root"), root_key, ca=True)
    store = MemoryStore.open("count")
    for index in range(5):
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = _issue(_name(f"server {index}"), key, _name("Count Issuing"), inter_key)
        store.add(made_entry((leaf, inter, root), label=f"server {index}", kind=EntryKind.KEY_PAIR, key=key))
    assert _chains_from_der(list(store.entries())) is not None
    checks = []
    checked_by = chain_module._signed_by_der

    def counted(*args: Any) -> bool:
        checks.append(args)
        return checked_by(*args)

    monkeypatch.setattr(chain_module, "_signed_by_der", counted)
    monkeypatch.setattr(chain_module, "_LINKS", {})
    report = audit({"s": store}, at=AT)
    assert len(checks) == 5 + 1 + 1
    assert not [f for f in report.findings if f.check == "missing-link"]
    audit({"s": store}, at=AT)
    assert len(checks) == 7  # each link once per process

    key = ec.generate_private_key(ec.SECP256R1())
    leaf = _issue(_name("server 5"), key, _name("Count Issuing"), inter_key)
    store.add(made_entry((leaf, root, inter), label="out of order", kind=EntryKind.KEY_PAIR, key=key))
    report = audit({"s": store}, at=AT)
    assert [f.rendered() for f in report.findings if f.check == "missing-link"] == [
        "the chain is out of order or broken: CN=Count Root did not sign CN=server 5",
        "the chain is out of order or broken: CN=Count Issuing did not sign CN=Count Root"]


@cache
def _vector_stores() -> list[tuple[list[bytes], list[bytes]]]:
    """The cryptography-vectors x509/ certificates cryptography decodes, in groups: certificates that name an issuer
    among them with their issuers up to four levels (PKITS' paths, six a group), then groups of 24 neighbours;
    (those read from the DER, all of them) per group."""
    decodable = {}
    for _, der in vector_certificates():
        cert = decode_certificate(der)
        if isinstance(cert, x509.Certificate):
            decodable[der] = cert
    by_subject: dict[bytes, list[bytes]] = {}
    for der, cert in decodable.items():
        by_subject.setdefault(cert.subject.public_bytes(), []).append(der)
    groups = []
    for der, cert in decodable.items():
        group, frontier = [der], [cert]
        for _ in range(4):
            issuers = [found for c in frontier for found in by_subject.get(c.issuer.public_bytes(), [])[:3]
                       if found not in group]
            group += dict.fromkeys(issuers)
            frontier = [decodable[found] for found in dict.fromkeys(issuers)]
        if len(group) > 1:
            groups.append(group)
    groups = [list(dict.fromkeys(der for group in groups[i : i + 6] for der in group))  # six paths a store,
              for i in range(0, len(groups), 18)]  # every third six
    ders = list(decodable)
    groups += [ders[i : i + 24] for i in range(0, len(ders), 48)]  # every other 24
    return [([der for der in group if read_shown(der) is not None], group) for group in groups]


def _made_store(ders: list[bytes], *, held: bool) -> MemoryStore:
    """Each certificate as a trusted certificate and as a key pair whose chain is it alone (audit builds the path
    over the store), with its chain as DER (`held`) or decoded."""
    store = MemoryStore.open("vectors")
    key = ec.generate_private_key(ec.SECP256R1())
    for index, der in enumerate(dict.fromkeys(ders)):
        for kind in (EntryKind.TRUSTED_CERT, EntryKind.KEY_PAIR):
            label = f"{kind.value} {index}"
            entry_key = key if kind is EntryKind.KEY_PAIR else None
            trust = TRUST_ALL if kind is EntryKind.TRUSTED_CERT else None
            store.add(made_entry((der,), label=label, kind=kind, key=entry_key, trust=trust) if held
                      else Entry(label, kind, chain=(decode_certificate(der),), key=entry_key, trust=trust))
    return store


def test_the_vector_certificates_audit_the_same_from_the_der() -> None:
    groups = _vector_stores()
    if not groups:
        pytest.skip("cryptography_vectors is not installed")
    lean = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for shown, group in groups:
            for ders in (shown, group):
                store = _made_store(ders, held=True)
                lean += _chains_from_der(list(store.entries())) is not None
                decoded = _made_store(ders, held=False)
                for at in (AT, dt.datetime(2011, 1, 1, tzinfo=dt.UTC)):  # PKITS' certificates are valid in 2011
                    assert rendered(audit({"s": store}, at=at, within="400d")) == rendered(
                        audit({"s": decoded}, at=at, within="400d")), ders[0].hex()
                for label in [e.label for e in store.entries() if e.kind is EntryKind.KEY_PAIR][:3]:
                    when = dt.datetime(2011, 1, 1, tzinfo=dt.UTC)
                    assert validated(validate(store, label, at=when)) == validated(
                        validate(decoded, label, at=when)), (label, ders[0].hex())
    assert lean >= len(groups)  # every group of certificates read from the DER was audited so


@pytest.mark.interop
@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("keytool") and shutil.which("certutil")),
                    reason="openssl, keytool and certutil make the corpus")
def test_every_store_of_the_corpus_audits_the_same_from_the_der(real_world) -> None:  # noqa: F811
    """audit of each store, and validate of each of its key pairs."""
    folder, manifest = real_world
    lean = 0
    for name, facts in manifest.items():
        if "skipped" in facts or facts["broken"] or facts["unsupported"] or facts["needs_password"]:
            continue
        password = os.environ[facts["password"]] if facts["password"] else None
        from_der, decoded, read_lean = both_ways(location(folder, name, facts), password, within="3650d")
        assert rendered(from_der) == rendered(decoded), name
        lean += read_lean
        if facts["type"] != "pkcs11":
            validated_from_der, validated_decoded = validate_both_ways(location(folder, name, facts), password)
            assert validated_from_der == validated_decoded, name
    assert lean > 20


def _kdb_chains(path: Path, *, decode_first: bool) -> list[tuple[str, tuple[bytes, ...] | None]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_store(path, password=PASSWORD) as store:
            entries = list(store.entries())
            if decode_first:
                return [(e.label, tuple(c.public_bytes(serialization.Encoding.DER) for c in e.chain))
                        for e in entries]
            return [(e.label, e.undecoded_chain) for e in entries]


def test_a_kdb_links_its_key_pairs_chains_over_the_der_as_over_decoded_certificates(tmp_path: Path) -> None:
    """The vector certificates in a .kdb: each as a key pair (a throwaway key) and as a trusted certificate; the
    chains linked over their DER are those linked over cryptography's certificates, or not given (a form left to
    cryptography, names equal only as cryptography compares them)."""
    groups = [(shown[:12], group[:12]) for shown, group in _vector_stores()[:12]]  # within the signature budget, so
    if not groups:  # that the database links its chains on first use
        pytest.skip("cryptography_vectors is not installed")
    key = ec.generate_private_key(ec.SECP256R1())
    linked = 0
    for number, (shown, group) in enumerate(groups):
        for which, ders in (("shown", shown), ("all", group)):
            path = tmp_path / f"{which} {number}.kdb"
            with open_store(path, password=PASSWORD, create=True) as store:
                for index, der in enumerate(dict.fromkeys(ders)):
                    cert = decode_certificate(der)
                    store.add(Entry(f"ca {index}", EntryKind.TRUSTED_CERT, chain=(cert,), trust=TRUST_ALL))
                    store.add(Entry(f"pair {index}", EntryKind.KEY_PAIR, chain=(cert,), key=key))
            from_der = _kdb_chains(path, decode_first=False)
            decoded = _kdb_chains(path, decode_first=True)
            for (label, held), (_, chain) in zip(from_der, decoded, strict=True):
                assert held is None or held == chain, label
                linked += held is not None and len(held) > 1
    assert linked > 10


@pytest.fixture(scope="module")
def small_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What an admin audits in a loop (bench_core's s.kdb): a key pair with its CA, and the CA trusted, valid for
    a year around today (the CLI audits at the time it runs); as PKCS#12, JKS, .kdb with its stash and an NSS
    database; and a JKS
    of the key pair alone (a missing link)."""
    folder = tmp_path_factory.mktemp("audit-small")
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Small CA")
    ca = build_certificate_der(private_key_signer(ca_key), subject=ca_name, issuer=ca_name,
                               public_key=ca_key.public_key(), not_before=now - dt.timedelta(days=1),
                               not_after=now + dt.timedelta(days=400),
                               extensions=profile_extensions("ca", ca_key.public_key(),
                                                               issuer_public_key=ca_key.public_key()))
    leaf = build_certificate_der(private_key_signer(ca_key), subject=_name("server"), issuer=ca_name,
                                 public_key=key.public_key(), not_before=now - dt.timedelta(days=1),
                                 not_after=now + dt.timedelta(days=400))
    made: dict[str, Any] = {}
    (folder / "nss").mkdir()
    for name, options in (("s.p12", {}), ("s.jks", {}), ("s.kdb", {"stash": True}), ("nss", {})):
        where = f"sql:{folder / name}" if name == "nss" else folder / name
        with open_store(where, password=PASSWORD, create=True, **options) as store:
            store.add(_entry("server", EntryKind.KEY_PAIR, (decode_certificate(leaf), decode_certificate(ca)), key))
            store.add(_entry("ca", EntryKind.TRUSTED_CERT, (decode_certificate(ca),), None))
        made[name] = where
    with open_store(folder / "orphan.jks", password=PASSWORD, create=True) as store:  # its CA is in no store
        store.add(_entry("server", EntryKind.KEY_PAIR, (decode_certificate(leaf),), key))
    made["orphan.jks"] = folder / "orphan.jks"
    return made


def _modules_after_audit(argv: list[str], cwd: Path) -> list[str]:
    """The modules `keystores ARGV` loaded, whatever its findings (exit 0 or 5)."""
    import subprocess
    import sys

    probe = ("import json, sys\nfrom keystores.cli.main import run\ntry:\n    run(sys.argv[1:])\n"
             "except SystemExit as exc:\n    assert exc.code in (None, 0, 5), exc.code\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, cwd=cwd,
                          check=False, env={**os.environ, "LEAN_PW": PASSWORD})
    assert done.returncode == 0, done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["s.p12", "s.jks", "s.kdb", "nss", "orphan.jks"])
def test_audit_and_validate_of_a_small_store_import_no_x509(small_stores: dict[str, Any], name: str,
                                                            tmp_path: Path) -> None:
    password = [] if name == "s.kdb" else ["-p", "env:LEAN_PW"]  # the stash opens the .kdb
    for extra in ([], ["--json"], ["--within", "500d", "--fail-on", "error"]):
        loaded = _modules_after_audit(["audit", str(small_stores[name]), *password, *extra], tmp_path)
        assert "keystores.ops.audit" in loaded  # the probe saw the command's own imports
        assert "cryptography.x509" not in loaded, (name, extra)
        assert "keystores.ops.lifecycle" not in loaded  # what both use lives below both (pki/fingerprints, when)
        assert "keystores.ops.describe" not in loaded  # its fingerprint text is pki/fingerprints'; its columns unused
        assert "datetime" not in loaded, (name, extra)  # its classes come from _datetime (lightweight.dates)
        if name != "orphan.jks" and "--within" not in extra:  # (their findings name a chain's CA: pki.dn's)
            assert "keystores.pki.dn" not in loaded, (name, extra)  # no finding names a certificate
        assert "keystores.pki.certificates" not in loaded, (name, extra)  # hashes and key sizes read from the DER
        if not extra:  # the default window is known unparsed; no finding here writes a date
            assert "keystores.pki.when" not in loaded, (name, extra)
    for extra in ([], ["--json"], ["--trust", str(small_stores["s.jks"]), "--trust-password", "env:LEAN_PW"]):
        loaded = _modules_after_audit(["validate", str(small_stores[name]), "server", *password, *extra], tmp_path)
        assert "keystores.ops.validate" in loaded
        assert "keystores.ops.audit" not in loaded  # audit's own module is audit's alone
        assert "keystores.pki.certificates" not in loaded, (name, extra)  # hashes read from the DER
        if "--json" not in extra:  # a text listing prints its dates by format: pki.when writes JSON's and --at's
            assert "keystores.pki.when" not in loaded, (name, extra)
        assert "cryptography.x509" not in loaded, (name, extra)
        assert "keystores.ops.lifecycle" not in loaded
        assert "keystores.ops.describe" not in loaded
        assert "datetime" not in loaded, (name, extra)


def test_the_default_window_is_the_one_parse_duration_reads() -> None:
    from keystores.ops.audit import window_of
    from keystores.pki.when import parse_duration

    for text in ("30d", "30", "30D", " 30d", "4w", "1y", "3mo"):
        assert window_of(text) == parse_duration(text), text
    assert window_of("30d") == dt.timedelta(days=30)
