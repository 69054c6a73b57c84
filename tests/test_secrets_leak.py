"""Secrets: never on argv by default, never in anything a command prints (output, errors, JSON, --debug
tracebacks), `pass:` warns; files holding keys are born 0600 and existing files keep their mode and owner;
weak-crypto writes warn.

Every command runs for real in a subprocess with distinctive passwords, right and wrong, and everything it printed
is searched for them (as text, hex and UTF-16, the forms a careless message or repr would use).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
from pathlib import Path

import pytest
from clirun import keystores
from hardening import FILE_FORMATS, base_entries, files_of, labels_of, location, make_store, usable

SECRET = "Zq7-Secret-Wombat-42"
WRONG = "Wr0ng-Guess-Platypus-88"
NEW = "Nw9-Other-Koala-17"
OUT = "0ut-Export-Numbat-33"
ALL_SECRETS = (SECRET, WRONG, NEW, OUT)
ENV = {"KS_PW": SECRET, "KS_WRONG": WRONG, "KS_NEW": NEW, "KS_OUT": OUT}

# each format converts into the next, so every format is written as a destination once
NEXT = dict(zip(FILE_FORMATS, [*list(FILE_FORMATS)[1:], *list(FILE_FORMATS)[:1]], strict=True))


def leaked(text: str) -> list[str]:
    """The secrets found in `text`, in any of the encodings a message, repr or hexdump would use."""
    found = []
    for secret in ALL_SECRETS:
        forms = (secret, secret.encode().hex(), secret.encode("utf-16-be").hex(), repr(secret.encode()))
        if any(form in text for form in forms):
            found.append(secret)
    return found


def _store(fmt: str, folder: Path) -> str:
    usable(fmt)
    folder.mkdir(parents=True, exist_ok=True)
    loc = location(fmt, folder)
    make_store(fmt, loc, base_entries(), password=SECRET)
    return loc


@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_no_secret_in_anything_printed(fmt, tmp_path):
    loc = _store(fmt, tmp_path / "a")
    usable(NEXT[fmt])
    label = sorted(labels_of(loc, password=SECRET))[0]
    dest = location(NEXT[fmt], tmp_path / "b")
    Path(dest.removeprefix("sql:")).parent.mkdir(parents=True, exist_ok=True)
    runs = {
        "list --json": keystores("list", loc, "-p", "env:KS_PW", "--json", env=ENV),
        "list, wrong": keystores("list", loc, "-p", "env:KS_WRONG", env=ENV),
        "show --json": keystores("show", loc, label, "-p", "env:KS_PW", "--json", env=ENV),
        "show, wrong, --debug": keystores("--debug", "show", loc, label, "-p", "env:KS_WRONG", env=ENV),
        "passwd, wrong old": keystores("passwd", loc, "-p", "env:KS_WRONG", "--new-password", "env:KS_NEW",
                                       env=ENV),
        "convert": keystores("convert", loc, dest, "-p", "env:KS_PW", "--dest-password", "env:KS_NEW", env=ENV),
    }
    codes = {name: r.code for name, r in runs.items()}
    assert codes == {"list --json": 0, "list, wrong": 3, "show --json": 0, "show, wrong, --debug": codes[
        "show, wrong, --debug"], "passwd, wrong old": 3, "convert": 0}, {n: r.err for n, r in runs.items()}
    assert codes["show, wrong, --debug"] != 0
    for name, result in runs.items():
        assert leaked(result.all) == [], f"{name} printed a secret"
    # the converted store holds keys: its files are born 0600
    for path in files_of(dest):
        if path.suffix != ".crl":
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert labels_of(dest, password=NEW) >= {"old-key"}


def test_every_command_family_keeps_secrets_out(tmp_path):
    """The editing and exporting commands on PKCS#12, with right and wrong secrets from every source kind."""
    loc = _store("pkcs12", tmp_path)
    secret_file = tmp_path / "pw.txt"
    secret_file.write_text(SECRET + "\n")
    os.chmod(secret_file, 0o600)
    other = _store("jks", tmp_path / "other")
    runs = {
        "delete, wrong": keystores("delete", loc, "old-key", "-p", "env:KS_WRONG", env=ENV),
        "rename, file:": keystores("rename", loc, "old-anchor", "anchor", "-p", f"file:{secret_file}", env=ENV),
        "rename, stdin, wrong": keystores("rename", loc, "anchor", "x", "-p", "stdin", stdin=WRONG + "\n", env=ENV),
        "import, wrong dest": keystores("import", other, loc, "-p", "env:KS_PW", "--dest-password", "env:KS_WRONG",
                                        env=ENV),
        "export p12": keystores("export", loc, "old-key", "-o", str(tmp_path / "k.p12"), "-f", "p12", "-p",
                                "env:KS_PW", "--out-password", "env:KS_OUT", env=ENV),
        "export pem --key": keystores("export", loc, "old-key", "-o", str(tmp_path / "k.pem"), "--key", "--chain",
                                      "-p", "env:KS_PW", "--out-password", "env:KS_OUT", env=ENV),
        "create, pass:": keystores("create", str(tmp_path / "new.p12"), "-p", f"pass:{NEW}", env=ENV),
        "passwd": keystores("passwd", loc, "-p", "env:KS_PW", "--new-password", "env:KS_NEW", env=ENV),
        "list after passwd, old pw": keystores("list", loc, "-p", "env:KS_PW", "--json", env=ENV),
    }
    codes = {name: r.code for name, r in runs.items()}
    assert codes == {"delete, wrong": 3, "rename, file:": 0, "rename, stdin, wrong": 3, "import, wrong dest": 3,
                     "export p12": 0, "export pem --key": 0, "create, pass:": 0, "passwd": 0,
                     "list after passwd, old pw": 3}, {n: r.err for n, r in runs.items()}
    for name, result in runs.items():
        assert leaked(result.all) == [], f"{name} printed a secret"
    assert "visible to other users" in runs["create, pass:"].err  # pass: warns
    for made in ("k.p12", "k.pem", "new.p12"):
        assert stat.S_IMODE((tmp_path / made).stat().st_mode) == 0o600, made
    assert labels_of(str(tmp_path / "k.p12"), password=OUT) == {"old-key", "test root ca 0"}  # + its chain's CA


def test_a_bare_password_on_argv_is_refused_without_echo(tmp_path):
    """`--password VALUE` (no source prefix) is a usage error: argv is not a secret source unless `pass:` says so."""
    loc = _store("pkcs12", tmp_path)
    result = keystores("list", loc, "--password", SECRET)
    assert result.code == 2
    assert leaked(result.all) == []
    assert "env:" in result.err


@pytest.mark.parametrize("fmt", list(FILE_FORMATS))
def test_existing_files_keep_mode_and_owner(fmt, tmp_path):
    loc = _store(fmt, tmp_path)
    nobody = pwd.getpwnam("nobody") if os.geteuid() == 0 else None
    paths = [p for p in files_of(loc) if p.suffix != ".sth"]
    for path in paths:
        os.chmod(path, 0o640)
        if nobody is not None:
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
    result = keystores("rename", loc, "old-anchor", "renamed", "-p", "env:KS_PW", env=ENV)
    assert result.code == 0, result.err
    assert "renamed" in labels_of(loc, password=SECRET)
    for path in paths:
        info = path.stat()
        assert stat.S_IMODE(info.st_mode) == 0o640, path
        if nobody is not None:
            assert (info.st_uid, info.st_gid) == (nobody.pw_uid, nobody.pw_gid), path


@pytest.mark.parametrize("fmt", ["pkcs12"])
def test_weak_crypto_write_warns(fmt, tmp_path):
    src = _store("jks", tmp_path)
    dest = location(fmt, tmp_path / "out")
    Path(dest).parent.mkdir()
    result = keystores("convert", src, dest, "--profile", "compat", "-p", "env:KS_PW", "--dest-password",
                       "env:KS_PW", env=ENV)
    assert result.code == 0, result.err
    assert "warning" in result.err.lower() and ("3des" in result.err.lower() or "weak" in result.err.lower())
    shutil.rmtree(tmp_path / "out")
    Path(dest).parent.mkdir()
    modern = keystores("convert", src, dest, "-p", "env:KS_PW", "--dest-password", "env:KS_PW", env=ENV)
    assert modern.code == 0 and "warning" not in modern.err.lower()


def test_convert_cms_to_nss(tmp_path):
    """Found on the way: every .kdb with a CA-signed personal certificate holds its CA as a second entry."""
    src = _store("cms", tmp_path / "a")
    usable("nss")
    (tmp_path / "b").mkdir()
    result = keystores("convert", src, f"sql:{tmp_path}/b/nssdb", "-p", "env:KS_PW", "--dest-password",
                       "env:KS_PW", env=ENV)
    assert result.code == 0, result.err
    assert labels_of(f"sql:{tmp_path}/b/nssdb", password=SECRET) >= {"old-key", "old-anchor"}


def test_lifecycle_and_format_commands_keep_secrets_out(tmp_path):
    """selfsign/certreq/validate/audit on PKCS#12 and `stash` on CMS, with right and wrong passwords, --json too."""
    p12 = _store("pkcs12", tmp_path / "p")
    kdb = _store("cms", tmp_path / "c")
    runs = {
        "selfsign": keystores("selfsign", p12, "-l", "self", "--dn", "CN=leak test", "--key-type", "ec:p256",
                              "-p", "env:KS_PW", env=ENV),
        "selfsign, wrong": keystores("selfsign", p12, "-l", "self2", "--dn", "CN=leak test", "--key-type",
                                     "ec:p256", "-p", "env:KS_WRONG", env=ENV),
        "certreq": keystores("certreq", p12, "-l", "req", "--dn", "CN=leak req", "--key-type", "ec:p256", "-o",
                             str(tmp_path / "req.pem"), "-p", "env:KS_PW", env=ENV),
        "validate, wrong": keystores("validate", p12, "old-key", "-p", "env:KS_WRONG", env=ENV),
        "audit --json": keystores("audit", p12, "-p", "env:KS_PW", "--json", env=ENV),
        "audit, wrong": keystores("audit", p12, "-p", "env:KS_WRONG", env=ENV),
        "stash, wrong": keystores("stash", kdb, "-p", "env:KS_WRONG", env=ENV),
        "stash": keystores("stash", kdb, "-p", "env:KS_PW", env=ENV),
    }
    codes = {name: r.code for name, r in runs.items()}
    assert codes["selfsign"] == 0 and codes["certreq"] == 0 and codes["stash"] == 0, {n: r.err for n, r in
                                                                                      runs.items()}
    assert all(codes[n] == 3 for n in ("selfsign, wrong", "validate, wrong", "stash, wrong")), codes
    assert codes["audit, wrong"] == 5  # audit goes on over many stores: an unreadable one is a finding
    for name, result in runs.items():
        assert leaked(result.all) == [], f"{name} printed a secret"
    stash = Path(kdb).with_suffix(".sth")
    assert stat.S_IMODE(stash.stat().st_mode) == 0o600  # a stash is a password: born 0600
    assert SECRET.encode() not in stash.read_bytes()  # and not in clear (GSKit's obfuscation, at least)


def test_the_warning_classes_are_made_once_on_first_use():
    """keystores.secrets makes WeakCryptoWarning and VisibleSecretWarning when first asked for (start-up: a command
    warns with neither): one class per name, a UserWarning named and documented as a class statement would be, and
    the one resolve_secret warns with."""
    import warnings

    import keystores as package
    from keystores import secrets

    for name in ("WeakCryptoWarning", "VisibleSecretWarning"):
        made = getattr(secrets, name)
        assert made is getattr(secrets, name) is getattr(package, name)
        assert issubclass(made, UserWarning) and made.__module__ == "keystores.secrets" and made.__qualname__ == name
        assert made.__doc__ and name in dir(secrets)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert secrets.resolve_secret("pass:x") == "x"
    assert [w.category for w in caught] == [secrets.VisibleSecretWarning]
    with pytest.raises(AttributeError):
        secrets.NoSuchWarning  # noqa: B018
