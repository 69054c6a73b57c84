"""What the writing commands load in a user's install (issue 15): changing a password, renaming, trusting or
converting on small stores decodes no certificate it carries (cryptography.x509 is ~30 ms of start-up), and writes
the same stores as before (each command's own tests check the contents; here the bytes that must be carried)."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st
from test_store_lean import FREE_OF, PASSWORD, _as_user, installed, stores  # noqa: F401 - fixtures

from keystores.lazy_entries import made_entry
from keystores.model import TRUST_ALL, Entry, EntryKind
from keystores.store import open_store

WHEN = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

NEW_PASSWORD = "lean-store-2"


def _copy(stores: dict[str, str], name: str, folder: Path) -> Path:  # noqa: F811
    source = Path(stores[name])
    for sibling in source.parent.glob(source.stem + ".*"):  # a .kdb's .sth, .rdb and .crl
        (folder / sibling.name).write_bytes(sibling.read_bytes())
    return folder / source.name


def _chains(location: Path, password: str) -> dict[str, tuple[bytes, ...]]:
    with open_store(location, password=password) as store:
        return {entry.label: entry.chain_der() for entry in store.entries()}


def _passwd(installed: str, location: Path, monkeypatch: pytest.MonkeyPatch) -> set[str]:  # noqa: F811
    monkeypatch.setenv("LEAN_NEW_PW", NEW_PASSWORD)
    modules, _ = _as_user(installed, ["passwd", str(location), "--password", "env:LEAN_PW", "--new-password",
                                      "env:LEAN_NEW_PW"])
    return modules


@pytest.mark.parametrize("name", ["s.kdb"])
def test_passwd_decodes_no_certificate(installed: str, stores: dict[str, str], name: str,  # noqa: F811
                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = _copy(stores, name, tmp_path)
    before = _chains(copy, PASSWORD)
    modules = _passwd(installed, copy, monkeypatch)
    assert "cryptography.x509" not in modules
    assert _chains(copy, NEW_PASSWORD) == before


def _certificate(subject: x509.Name, issuer: x509.Name, key: Any, issuer_key: Any, serial: int) -> x509.Certificate:
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
            .serial_number(serial).not_valid_before(WHEN).not_valid_after(WHEN + dt.timedelta(days=365))
            .sign(issuer_key, hashes.SHA256()))


def test_a_key_pairs_chain_becomes_signer_records_labelled_from_the_der(tmp_path: Path) -> None:
    """CmsStore.add compares and labels chain certificates by their DER: the first common name, else the subject
    as RFC 4514 text (a name in BMPString, which keystores.pki.shown leaves to cryptography, is labelled the same
    way through it); a chain member already present is not added again; a later entry of the same certificate
    takes the signer's place. Nothing is decoded to do so."""
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(4)]
    root_name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Root Org"),
                           x509.NameAttribute(NameOID.COUNTRY_NAME, "DE")])
    middle_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Middle CA", _ASN1Type.BMPString)])
    other_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Other CA")])
    root = _certificate(root_name, root_name, keys[0], keys[0], 1)
    middle = _certificate(middle_name, root_name, keys[1], keys[0], 2)
    other = _certificate(other_name, other_name, keys[3], keys[3], 4)
    leaf = _certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]), middle_name, keys[2],
                        keys[1], 3)
    location = tmp_path / "c.kdb"
    with open_store(location, password=PASSWORD, create=True) as store:
        store.add(Entry("other", EntryKind.TRUSTED_CERT, chain=(other,), trust=TRUST_ALL))
        store.add(made_entry(tuple(c.public_bytes(serialization.Encoding.DER) for c in (leaf, middle, root, other)),
                             label="leaf", kind=EntryKind.KEY_PAIR, key=keys[2]))
        assert store.labels() == ["other", "leaf", "Middle CA", "C=DE,O=Root Org"]
        store.add(Entry("root", EntryKind.TRUSTED_CERT, chain=(root,), trust=TRUST_ALL))  # displaces its signer
        assert store.labels() == ["other", "leaf", "Middle CA", "root"]
    with open_store(location, password=PASSWORD) as store:
        assert store.labels() == ["other", "leaf", "Middle CA", "root"]
        assert store.get("Middle CA").chain_der() == (middle.public_bytes(serialization.Encoding.DER),)
        assert store.get("leaf").chain_der() == tuple(c.public_bytes(serialization.Encoding.DER)
                                                      for c in (leaf, middle, root))


def test_converting_a_pkcs12_key_pair_into_a_kdb_loads_no_cryptography(installed: str,  # noqa: F811
                                                                        stores: dict[str, str],  # noqa: F811
                                                                        tmp_path: Path) -> None:
    """The key goes from the PKCS#12's decrypted PKCS#8 (Entry.held_pkcs8) into the .kdb's record, and its
    certificate as read: nothing is loaded in cryptography to check or write either."""
    out = tmp_path / "x.kdb"
    modules, _ = _as_user(installed, ["convert", stores["one.p12"], str(out), "--password", "env:LEAN_PW",
                                      "--dest-password", "env:LEAN_PW"])
    assert not {name for name in modules if name.startswith("cryptography")}
    with open_store(stores["one.p12"], password=PASSWORD) as source, open_store(out, password=PASSWORD) as copy:
        (read,), (written,) = source.entries(), copy.entries()
        assert written.chain_der() == read.chain_der()
        assert written.key.private_numbers() == read.key.private_numbers()


@pytest.mark.parametrize("name", ["one.p12", "s.jks", "s.jceks", "s.kdb"])
def test_passwd_loads_no_cryptography(installed: str, stores: dict[str, str], name: str,  # noqa: F811
                                      tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key is carried to its new password as the PKCS#8 it decrypts to (KeyOpening.held, Entry.held_pkcs8),
    checked by libcrypto, not loaded in cryptography; keys are written by keystores.pki.pkcs8 (FileStore._pkcs8),
    not by cryptography's private_bytes, whose package imports its ssh module (~15 ms)."""
    copy = _copy(stores, name, tmp_path)
    before = _keys(copy, PASSWORD)
    modules = _passwd(installed, copy, monkeypatch)
    assert not {module for module in modules if module.startswith("cryptography")}
    assert _keys(copy, NEW_PASSWORD) == before


@pytest.mark.parametrize("name", ["s.jks", "s.jceks"])
def test_converting_a_pkcs12_key_pair_into_java_stores_loads_no_cryptography(installed: str,  # noqa: F811
                                                                             stores: dict[str, str],  # noqa: F811
                                                                             name: str, tmp_path: Path) -> None:
    out = tmp_path / name
    modules, _ = _as_user(installed, ["convert", stores["one.p12"], str(out), "--password", "env:LEAN_PW",
                                      "--dest-password", "env:LEAN_PW"])
    assert not {module for module in modules if module.startswith("cryptography")}
    assert "keystores.backends.jks.reading" not in modules  # a new store reads nothing (start-up)
    assert _keys(out, PASSWORD) == _keys(Path(stores["one.p12"]), PASSWORD)


def _keys(location: Path, password: str) -> dict[str, tuple[object, tuple[bytes, ...]]]:
    with open_store(location, password=password) as store:
        return {entry.label: (entry.key.private_numbers(), entry.chain_der()) for entry in store.entries()
                if entry.kind is EntryKind.KEY_PAIR}


@pytest.mark.parametrize("decrypt", [False, True])
def test_jceks_3des_through_libcrypto_is_cryptographys(decrypt: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """crypto.decrepit.java's 3DES-CBC (JCEKS keys) through libcrypto gives what cryptography gives."""
    from keystores.crypto import pbe
    from keystores.crypto.decrepit import java

    rng = random.Random(7)
    cases = [(rng.randbytes(24), rng.randbytes(8), rng.randbytes(8 * rng.randint(1, 40))) for _ in range(60)]
    monkeypatch.setattr(pbe, "cipher_by_libcrypto", lambda: True)
    by_libcrypto = [java._tdes_cbc(key, iv, data, decrypt=decrypt) for key, iv, data in cases]
    monkeypatch.setattr(pbe, "cipher_by_libcrypto", lambda: False)
    assert by_libcrypto == [java._tdes_cbc(key, iv, data, decrypt=decrypt) for key, iv, data in cases]


OID_LIST = re.compile(r"^\d+(\.\d+)+(,\d+(\.\d+)+)*$")  # what the PKCS#12 writer matched before


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from("0123456789.,\n x٣۲"), max_size=14) | st.text(max_size=8))
def test_the_pkcs12_writers_oid_lists_are_the_expressions(text: str) -> None:
    from keystores.backends.pkcs12.write import _is_oid_list

    assert _is_oid_list(text) == bool(OID_LIST.match(text))


@pytest.mark.parametrize("command", [["rename", "server", "renamed"], ["delete", "server"],
                                     ["passwd", "--new-password", "env:LEAN_PW"]])
def test_rewriting_a_pkcs12_loads_no_re(installed: str, stores: dict[str, str], command: list[str],  # noqa: F811
                                        tmp_path: Path) -> None:
    """The PKCS#12 writer imports no re (nor the enum, functools and collections it brings)."""
    copy = _copy(stores, "one.p12", tmp_path)
    modules, _ = _as_user(installed, [command[0], str(copy), *command[1:], "--password", "env:LEAN_PW"])
    assert not modules & {"re", "enum", "functools", "collections", "cryptography"}


def test_a_commits_renames_ignore_interrupts_in_the_main_thread_only() -> None:
    """fileio._interrupts_held through `_signal`: SIGINT ignored inside, the handler as before after; another
    thread (which may set no handler) leaves it alone."""
    import signal
    import threading

    from keystores.fileio import _interrupts_held

    before = signal.getsignal(signal.SIGINT)
    with _interrupts_held():
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    assert signal.getsignal(signal.SIGINT) is before
    seen = []

    def elsewhere() -> None:
        with _interrupts_held():
            seen.append(signal.getsignal(signal.SIGINT))

    worker = threading.Thread(target=elsewhere)
    worker.start()
    worker.join()
    assert seen == [before]


@pytest.mark.parametrize("command", [["rename", "ca", "renamed"], ["delete", "ca"], ["trust", "ca", "off"]])
def test_rewriting_a_kdb_loads_no_enum(installed: str, stores: dict[str, str], command: list[str],  # noqa: F811
                                       tmp_path: Path) -> None:
    """A .kdb's companion files are committed without the signal module (and the enum, functools and collections
    it brings), and without cryptography."""
    copy = _copy(stores, "s.kdb", tmp_path)
    modules, _ = _as_user(installed, [command[0], str(copy), *command[1:]])
    assert not modules & {"signal", "enum", "functools", "collections", "re", "cryptography",
                          "keystores.crypto.pbe"}  # its keys are in GSKit's scheme, and stay sealed


def test_java_dates_go_back_as_they_were_read() -> None:
    """to_millis(from_millis(m)) == m (float arithmetic was a millisecond short for about one date in 170)."""
    from keystores.backends.java_data import from_millis, to_millis

    rng = random.Random(170)
    for millis in [rng.randrange(-10**12, 4 * 10**12) for _ in range(20000)] + [0, 1, -1, 1078625331860]:
        assert to_millis(from_millis(millis)) == millis


@pytest.mark.parametrize("name", ["s.jks", "s.jceks"])
def test_rewriting_a_java_store_keeps_the_other_entries_dates(stores: dict[str, str], name: str,  # noqa: F811
                                                              tmp_path: Path) -> None:
    """A date float arithmetic moved (1078625331860 ms) is written back as read when another entry is renamed."""
    from keystores.backends.java_data import from_millis

    location = tmp_path / name
    with open_store(stores[name], password=PASSWORD) as source, \
            open_store(location, password=PASSWORD, create=True) as copy:
        for entry in source.entries():
            copy.add(entry.with_(created=from_millis(1078625331860)))
    with open_store(location, password=PASSWORD, writable=True) as store:
        store.rename("ca", "renamed")
    with open_store(location, password=PASSWORD) as store:
        assert {entry.label: entry.created for entry in store.entries()} == {
            "server": from_millis(1078625331860), "renamed": from_millis(1078625331860)}


def test_stash_loads_no_pathlib(installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """`stash` names the stash it wrote from the str the backend gives (write_stash returns a str): it loads none
    of the standard library's heavy modules (test_store_lean.FREE_OF), nor cryptography, and writes the stash."""
    copy = _copy(stores, "s.kdb", tmp_path)
    stash = copy.with_suffix(".sth")
    stash.unlink()
    modules, run = _as_user(installed, ["stash", str(copy), "--password", "env:LEAN_PW"])
    assert not modules & {*FREE_OF, "cryptography"}, sorted(modules & {*FREE_OF, "cryptography"})
    assert run.stderr.splitlines()[0] == f"keystores: wrote {stash} (v8, mode 0600): anyone who can read it has " \
        "the password"
    with open_store(copy, password=None) as store:  # the stash opens it
        assert "server" in store.labels()


def test_ams_conf_of_a_kdb_loads_no_cryptography(installed: str, stores: dict[str, str],  # noqa: F811
                                                 tmp_path: Path) -> None:
    """`ams conf` checks that the label has its key by decrypting it to a PKCS#8 libcrypto checked
    (Entry.held_pkcs8), as convert and passwd carry keys, not by loading it in cryptography (~25 ms of a user's
    start-up with the typing, re and enum it brings); it writes the file it wrote before."""
    conf = tmp_path / "keystore.conf"
    kdb = Path(stores["s.kdb"])
    modules, _ = _as_user(installed, ["ams", "conf", str(kdb), "--label", "server", "-o", str(conf)])
    assert not {name for name in modules if name.startswith("cryptography")} and not modules & set(FREE_OF)
    assert conf.read_text() == (f"# keystore.conf for IBM MQ AMS, written by keystores: the cms store {kdb}\n"
                                f"cms.keystore = {kdb.with_suffix('')}\ncms.certificate = server\n")


def test_importing_into_a_jks_loads_no_datetime_and_keeps_the_dates(installed: str,  # noqa: F811
                                                                     stores: dict[str, str],  # noqa: F811
                                                                     tmp_path: Path) -> None:
    """A JKS rewrite writes each entry's date back as the milliseconds it read while the entry has not made it a
    datetime (java_data.JavaDate): importing a certificate imports no datetime, and the other entries keep their
    dates, byte for byte."""
    copy = _copy(stores, "s.jks", tmp_path)
    with open_store(copy, password=PASSWORD) as store:
        before = {entry.label: entry.created for entry in store.entries()}
    modules, _ = _as_user(installed, ["import", stores["extra"], str(copy), "--label", "extra", "--dest-password",
                                      "env:LEAN_PW"])
    assert "datetime" not in modules
    with open_store(copy, password=PASSWORD) as store:
        after = {entry.label: entry.created for entry in store.entries()}
    assert after.pop("extra") is not None and after == before


def test_a_java_date_is_written_back_as_read() -> None:
    """JavaDate.as_written gives the milliseconds read, everywhere: within about 1697-2242 that is also what
    to_millis(from_millis(m)) gives (so a rewrite writes what a datetime round trip wrote), and farther out, where
    that round trip may move the date or no datetime holds it, the date is still carried as read."""
    from keystores.backends.java_data import JavaDate, from_millis, to_millis

    exact = 2**33 * 1000
    rng = random.Random(15)
    inside = [rng.randrange(-exact + 1, exact) for _ in range(300_000)]
    inside += [sign * (exact - k) for sign in (1, -1) for k in range(1, 3000)] + [0, 1078625331860]
    for millis in inside:
        assert JavaDate(millis).as_written() == millis == to_millis(from_millis(millis))  # type: ignore[arg-type]
    for millis in (exact, -exact, 253402300799999, 2**62, -(2**63)):
        assert JavaDate(millis).as_written() == millis
        assert JavaDate(millis)() == from_millis(millis)


def test_importing_or_converting_one_store_loads_no_batch_module(installed: str, stores: dict[str, str],  # noqa: F811
                                                                  tmp_path: Path) -> None:
    """Whether a command copies many files is decided in ops.transfer; keystores.ops.batch is imported only when it
    does (start-up)."""
    copy = _copy(stores, "s.kdb", tmp_path)
    for argv in (["import", stores["extra"], str(copy), "--label", "extra"],
                 ["convert", stores["one.p12"], str(tmp_path / "c.jks"), "--password", "env:LEAN_PW",
                  "--dest-password", "env:LEAN_PW"]):
        modules, _ = _as_user(installed, argv)
        assert "keystores.ops.batch" not in modules, argv
    (tmp_path / "many").mkdir()
    modules, _ = _as_user(installed, ["convert", stores["extra"], str(tmp_path / "many") + "/", "--dest-type", "der"])
    assert "keystores.ops.batch" in modules and (tmp_path / "many" / "extra.der").is_file()


@pytest.mark.parametrize("name", ["s.jks", "s.kdb"])
def test_importing_a_certificate_loads_no_derivation_module(installed: str, stores: dict[str, str],  # noqa: F811
                                                            name: str, tmp_path: Path) -> None:
    """lazy_entries.open_keys has no sealed key to open side by side: it imports nothing to count the cores."""
    copy = _copy(stores, name, tmp_path)
    dest_pw = ["--dest-password", "env:LEAN_PW"] if name == "s.jks" else []
    modules, _ = _as_user(installed, ["import", stores["extra"], str(copy), "--label", "extra", *dest_pw])
    assert "keystores.ops.transfer" in modules and "keystores.crypto.pbkdf2" not in modules


@pytest.mark.parametrize("command", [["trust", "ca", "off"], ["rename", "ca", "root"], ["delete", "ca"],
                                     ["set-default", "server"]])
def test_editing_a_kdb_loads_no_pki_package(installed: str, stores: dict[str, str], command: list[str],  # noqa: F811
                                            tmp_path: Path) -> None:
    """The CMS store imports pki.labels only where it labels a chain's certificate as a signer (CmsStore.add):
    an edit that adds no key pair loads nothing of keystores.pki."""
    copy = _copy(stores, "s.kdb", tmp_path)
    modules, _ = _as_user(installed, [command[0], str(copy), *command[1:]])
    assert "keystores.backends.cms.store" in modules and not {m for m in modules if m.startswith("keystores.pki")}


@pytest.mark.parametrize("name", ["s.jks", "s.jceks"])
def test_java_stores_load_no_utf_16_codec_module(installed: str, stores: dict[str, str], name: str,  # noqa: F811
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Java store's password (its store digest, JKS's key protector) and its non-ASCII aliases go through the
    functions the utf-16-be codec calls (codecs.utf_16_be_encode/_decode): reading, rewriting or writing one
    imports no encodings.utf_16_be (start-up), and what is written still opens with the password."""
    copy = _copy(stores, name, tmp_path)
    out = tmp_path / f"c{Path(name).suffix}"
    for argv in (["list", str(copy), "--password", "env:LEAN_PW"],
                 ["convert", stores["one.p12"], str(out), "--password", "env:LEAN_PW", "--dest-password",
                  "env:LEAN_PW"],
                 ["rename", str(copy), "ca", "rené ☃ 𝄞", "--password", "env:LEAN_PW"]):
        modules, _ = _as_user(installed, argv)
        assert "encodings.utf_16_be" not in modules, argv
    assert _keys(out, PASSWORD) == _keys(Path(stores["one.p12"]), PASSWORD)
    with open_store(copy, password=PASSWORD) as store:
        assert {entry.label for entry in store.entries()} == {"server", "rené ☃ 𝄞"}
    before = _keys(copy, PASSWORD)
    new_password = "pässwörd ☃ 𝄞" if name == "s.jks" else "lean-store-3"  # JCEKS keys take printable ASCII
    monkeypatch.setenv("LEAN_NEW_PW", new_password)
    modules, _ = _as_user(installed, ["passwd", str(copy), "--password", "env:LEAN_PW", "--new-password",
                                      "env:LEAN_NEW_PW"])
    assert "encodings.utf_16_be" not in modules and _keys(copy, new_password) == before


@pytest.mark.parametrize("name", ["s.jks", "s.jceks"])
def test_java_stores_load_no_hashlib(installed: str, stores: dict[str, str], name: str,  # noqa: F811
                                     tmp_path: Path) -> None:
    """A Java store's SHA-1s (its store digest, JKS's key protector) are OpenSSL's where the command has loaded it
    (converting from a PKCS#12), else the interpreter's built-in SHA-1 for a small store: listing one loads neither
    hashlib nor libcrypto (start-up), rewriting one or converting one.p12 into one loads no hashlib, and what is
    written still opens with the password (its store digest checked), the key as it was."""
    copy = _copy(stores, name, tmp_path)
    out = tmp_path / f"c{Path(name).suffix}"
    modules, _ = _as_user(installed, ["list", str(copy), "--password", "env:LEAN_PW"])
    assert not {"hashlib", "_hashlib"} & modules
    for argv in (["rename", str(copy), "ca", "root", "--password", "env:LEAN_PW"],
                 ["convert", stores["one.p12"], str(out), "--password", "env:LEAN_PW", "--dest-password",
                  "env:LEAN_PW"]):
        modules, _ = _as_user(installed, argv)
        assert "hashlib" not in modules, argv
    assert _keys(out, PASSWORD) == _keys(Path(stores["one.p12"]), PASSWORD)
    with open_store(copy, password=PASSWORD) as store:
        assert "root" in {entry.label for entry in store.entries()}


def test_java_store_digest_by_any_sha1_is_hashlibs(monkeypatch: pytest.MonkeyPatch) -> None:
    """crypto.decrepit.java's SHA-1s, OpenSSL's or keystores.crypto.digests' choice, give what hashlib gives."""
    import hashlib
    import sys

    from keystores.crypto.decrepit import java

    data, key = bytes(range(256)) * 5, bytes(range(100, 238))
    expected = hashlib.sha1(java.java_password_bytes("pässwörd") + java.STORE_DIGEST_WHITENER + data).digest()
    protected = java.jks_protect_key(key, "pässwörd", salt=bytes(20))
    for loaded in (True, False):
        if not loaded:
            monkeypatch.setitem(sys.modules, "_hashlib", None)  # as if no command had loaded OpenSSL's
        assert java.store_digest("pässwörd", data[:1000], data[1000:]) == expected
        assert java.jks_protect_key(key, "pässwörd", salt=bytes(20)) == protected
        assert java.jks_unprotect_key(protected, "pässwörd") == key


def test_reading_a_kdb_loads_no_writer(installed: str, stores: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    """CmsStore imports its writing half (cms.write) when it writes: a command that only reads a .kdb loads none
    of it, and one that writes still writes what GSKit reads (the commands' own tests; here, the entries)."""
    copy = _copy(stores, "s.kdb", tmp_path)
    for argv in (["list", str(copy)], ["show", str(copy), "server"], ["validate", str(copy), "server"],
                 ["audit", str(copy), "--fail-on", "error"],
                 ["export", str(copy), "server", "-o", str(tmp_path / "out.pem")]):
        modules, _ = _as_user(installed, argv)
        assert "keystores.backends.cms.write" not in modules, argv
    before = _chains(copy, PASSWORD)
    modules, _ = _as_user(installed, ["rename", str(copy), "ca", "root"])
    assert "keystores.backends.cms.write" in modules
    before["root"] = before.pop("ca")
    assert _chains(copy, PASSWORD) == before


def test_a_single_file_write_loads_neither_the_multi_file_commit_nor_write_after(installed: str,  # noqa: F811
                                                                                 stores: dict[str, str],  # noqa: F811
                                                                                 tmp_path: Path) -> None:
    """A write of one file (export to PEM; convert to PEM, JKS, PKCS#12) runs keystores.fileio alone: the
    multi-file commit (keystores.fileio_many) and certreq's write_after (keystores.fileio_after) are loaded where
    used, as a convert to a .kdb (its .rdb and .crl beside it) shows (start-up)."""
    pw = ["--password", "env:LEAN_PW"]
    written = {"o.pem": ["export", stores["one.p12"], "server", "-o", str(tmp_path / "o.pem"), *pw]}
    for name in ("c.pem", "c.jks", "c.p12"):
        written[name] = ["convert", stores["one.p12"], str(tmp_path / name), *pw, "--dest-password", "env:LEAN_PW"]
    for name, argv in written.items():
        modules, _ = _as_user(installed, argv)
        assert "keystores.fileio" in modules and not {"keystores.fileio_many", "keystores.fileio_after"} & modules, argv
        assert (tmp_path / name).is_file()
    modules, _ = _as_user(installed, ["convert", stores["one.p12"], str(tmp_path / "c.kdb"), *pw, "--dest-password",
                                      "env:LEAN_PW"])
    assert "keystores.fileio_many" in modules and (tmp_path / "c.rdb").is_file()


def test_a_single_file_write_completes_a_commit_a_killed_writer_left_beside_it(installed: str,  # noqa: F811
                                                                              stores: dict[str, str],  # noqa: F811
                                                                              tmp_path: Path) -> None:
    """Taking the folder lock puts right what a killed writer left, whatever the write: an export of one PEM file
    into a folder where a .kdb commit was decided and not finished renames its files into place, removes its record
    and sweeps a dead writer's temp file; the code that does it (keystores.fileio_recover) loads only then, and a
    write into a clean folder does not load it (start-up)."""
    import os
    import time

    from keystores.fileio import INTENT_PREFIX, TEMP_PREFIX

    for name in ("a.kdb", "a.rdb"):
        (tmp_path / name).write_bytes(b"old " + name.encode())
        (tmp_path / f"{TEMP_PREFIX}{name}.0badf00d").write_bytes(b"new " + name.encode())
    (tmp_path / f"{INTENT_PREFIX}a.kdb").write_text(f"{TEMP_PREFIX}a.kdb.0badf00d\ta.kdb\n"
                                                    f"{TEMP_PREFIX}a.rdb.0badf00d\ta.rdb\n")
    stale = tmp_path / f"{TEMP_PREFIX}b.p12.deadbeef"
    stale.write_bytes(b"half a store")
    os.utime(stale, (time.time() - 60, time.time() - 60))
    export = ["export", stores["one.p12"], "server", "--password", "env:LEAN_PW", "-o"]
    modules, _ = _as_user(installed, [*export, str(tmp_path / "o.pem")])
    assert "keystores.fileio_recover" in modules
    assert (tmp_path / "a.kdb").read_bytes() == b"new a.kdb" and (tmp_path / "a.rdb").read_bytes() == b"new a.rdb"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.kdb", "a.rdb", "o.pem"]
    modules, _ = _as_user(installed, [*export, str(tmp_path / "p.pem")])
    assert "keystores.fileio_recover" not in modules and (tmp_path / "p.pem").is_file()
