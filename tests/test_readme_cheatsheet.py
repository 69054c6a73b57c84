"""Every line of the README's cheat sheet ("with keystores" column) runs, as written, against stores this test
makes: the README and the commands cannot drift apart.

Each line runs in a bash shell (globs and quotes as a user types them) in its own copy of one seed folder,
without the file it is about to create; the token and the NSS database are the seed's. Placeholders a reader
fills in are filled in: T is a SoftHSM2 token labelled T, M and LIB its module, PINFILE its PIN file, DIR the NSS
database, [optional parts] are typed.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from helpers import ca, certificate, key_pair_entry, name, rsa_key, trusted_entry

from keystores.model import Entry, EntryKind
from keystores.store import open_store

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
PASSWORDS = {"PW": "Str0ng pass", "NEW": "N3w pass!", "DBPW": "db pass 1"}
BIN = Path(sys.executable).parent  # the venv's `keystores` console script


def cheat_sheet_lines() -> list[str]:
    sheet = README[README.index("## Cheat sheet"):README.index("## Exit codes")]
    lines = []
    for row in sheet.splitlines():
        if not row.startswith("| ") or row.startswith(("| you used", "| **")):
            continue
        ours = row.rstrip(" |").rsplit(" | ", 1)[-1]
        lines += re.findall(r"`(keystores [^`]*)`", ours)  # "(or `show ...`)" asides do not start with keystores
    return lines


LINES = cheat_sheet_lines()


def _pem(obj) -> bytes:
    return obj.public_bytes(serialization.Encoding.PEM)


def _request(key, cn: str) -> x509.CertificateSigningRequest:
    return x509.CertificateSigningRequestBuilder().subject_name(name(cn)).sign(key, hashes.SHA256())


@pytest.fixture(scope="module")
def seed(softhsm, tmp_path_factory):  # noqa: F811
    """The stores and files the cheat sheet names, every password from $PW unless the line says otherwise."""
    from keystores.backends.nss.modules import add_module
    from keystores.ops.lifecycle import certreq, sign

    folder = tmp_path_factory.mktemp("cheatsheet")
    pw, dbpw = PASSWORDS["PW"], PASSWORDS["DBPW"]
    ca_key, ca_cert = ca(0)
    web = key_pair_entry("web", index=3)
    (folder / "k.pem").write_bytes(web.key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    (folder / "c.pem").write_bytes(_pem(web.chain[0]))
    (folder / "ca.pem").write_bytes(_pem(ca_cert))
    (folder / "more.pem").write_bytes(_pem(ca(5)[1]))
    (folder / "certs").mkdir()
    for index in (1, 2):
        (folder / "certs" / f"partner{index}.pem").write_bytes(_pem(ca(10 + index)[1]))
    (folder / "req.csr").write_bytes(_pem(_request(rsa_key(8), "req.example")))
    a = key_pair_entry("a", index=1)
    (folder / "reply.pem").write_bytes(_pem(certificate(rsa_key(1), "a signed", ca_key, ca_cert)))
    stores = {"ks.jks": [a, trusted_entry("root")], "ks.jceks": [a], "a.jks": [a], "s.p12": [a],
              "x.p12": [key_pair_entry("x", index=4)], "x.bks": [key_pair_entry("x", index=4)],
              "existing.p12": [trusted_entry("root")],
              "srv.p12": [web], "ca.p12": [Entry("ca", EntryKind.KEY_PAIR, chain=(ca_cert,), key=ca_key)]}
    for file, entries in stores.items():
        with open_store(folder / file, password=pw, create=True) as store:
            for entry in entries:
                store.add(entry)
    with open_store(folder / "key.kdb", password=pw, create=True, stash=True) as kdb:
        kdb.add(key_pair_entry("L", index=6))
        kdb.add(trusted_entry("CA", index=0))
    with open_store(folder / "qm1.kdb", password=pw, create=True, stash=True) as kdb:
        kdb.add(Entry("qm1", EntryKind.REQUEST, key=web.key, request=_request(web.key, "QM1")))
    with open_store(f"sql:{folder / 'nssdb'}", password=dbpw, create=True) as nss:
        nss.add(key_pair_entry("nick", index=7))
    add_module(f"sql:{folder / 'nssdb'}", "My HSM", softhsm.module)
    (folder / "pwfile").write_text(dbpw + "\n")
    # MQ AMS: alice puts, bob gets, each with a JKS store and the keystore.conf naming it.
    for who, index in (("alice", 21), ("bob", 22)):
        entry = key_pair_entry(who, index=index)
        with open_store(folder / f"{who}.jks", password=pw, create=True) as store:
            store.add(entry)
        made = subprocess.run([str(BIN / "keystores"), "ams", "conf", f"{who}.jks", "--label", who, "-o",
                               f"{who}.conf", "--password", "env:PW"], cwd=folder, capture_output=True, text=True,
                              env={**os.environ, **PASSWORDS}, check=False)
        assert made.returncode == 0, made.stderr
    (folder / "pay.spl").write_text('setmqspl -m &QM -p PAY.IN -s SHA256 -e AES256 -r "CN=bob server,O=keystores '
                                    'tests" -a "CN=alice server,O=keystores tests"\n')
    (folder / "cert.pem").write_bytes(_pem(web.chain[0]))
    token = softhsm.make_token("T")
    with open_store(token.uri, password=token.pin, writable=True) as hsm:
        request = certreq(hsm, "signed", "CN=signed on T", key_spec="ec:p256").request
    with open_store(folder / "ca.p12", password=pw) as ca_store:
        (folder / "signed.pem").write_bytes(_pem(sign(ca_store, "ca", request, days=30).certificate))
    return folder, token


# What a line writes: the seed copy it runs in leaves it out, as a user would not have it yet.
def _creates(argv: list[str]) -> list[str]:
    command, positional = argv[1], argv[2:4]  # the cheat sheet writes positional arguments first
    made = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-o", "--out")]
    if command == "convert":
        made.append(positional[1])
    if command in ("create", "selfsign"):
        made.append(positional[0])
    return [m.removeprefix("sql:") for m in made]


def _fill(line: str, folder: Path, token) -> str:
    line = re.sub(r"\[([^\]]*)\]", r"\1", line)  # optional parts are typed
    for old, new in (("--module M", f"--module {token.module}"), ("--library LIB", f"--library {token.module}"),
                     ("file:PINFILE", f"file:{token.pin_file}"), ("sql:DIR", "sql:nssdb"),
                     ("file:SO", f"file:{folder / 'so-pin'}"), ("file:PIN", f"file:{token.pin_file}"),
                     ("pkcs11:token=L", f"pkcs11:token=new-{os.getpid()}")):
        line = line.replace(old, new)
    return line


@pytest.mark.parametrize("line", LINES)
def test_cheat_sheet_line_runs(line, seed, tmp_path):
    folder, token = seed
    work = tmp_path / "work"
    shutil.copytree(folder, work, symlinks=True)
    (work / "so-pin").write_text(token.so_pin + "\n")
    typed = _fill(line, work, token)
    for made in _creates(shlex.split(typed)):
        target = work / made
        if target.is_dir():
            shutil.rmtree(target)
        for companion in (target, target.with_suffix(".sth"), target.with_suffix(".rdb")):
            companion.unlink(missing_ok=True)
    if line.startswith("keystores nss add-module"):  # the seed has it registered, for remove-module
        from keystores.backends.nss.modules import remove_module

        remove_module(f"sql:{work / 'nssdb'}", "My HSM")
    env = {**token.env, **PASSWORDS, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1"}
    done = subprocess.run(["bash", "-c", typed], cwd=work, env=env, capture_output=True, text=True, timeout=120,
                          check=False, stdin=subprocess.DEVNULL)
    if line.startswith("keystores init-token"):  # the optional keystores[admin] extra (PyKCS11, GPL)
        try:
            import PyKCS11  # noqa: F401
        except ImportError:
            assert done.returncode != 0 and "keystores[admin]" in done.stderr, done.stderr
            return
    # audit and the AMS doctor exit 5 when they find something (these stores are made for the commands, not
    # for AMS's key-usage rules): the line ran as written either way.
    expected = (0, 5) if line.startswith(("keystores audit", "keystores ams check")) else (0,)
    assert done.returncode in expected, f"{typed}\n{done.stdout}{done.stderr}"
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_the_cheat_sheet_was_found():
    assert len(LINES) > 40
    assert {line.split()[1] for line in LINES} >= {"list", "convert", "import", "export", "sign", "audit", "nss"}


from softhsm import softhsm  # noqa: E402,F401  (pytest fixture)
