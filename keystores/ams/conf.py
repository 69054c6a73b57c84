"""keystore.conf: the file that tells AMS which store and which certificate are "me".

IBM MQ docs, "Structure of the keystore configuration file (keystore.conf) for AMS": `key = value` lines, one
prefix per store type: `cms.keystore` (a path stem; IBM's examples leave `.kdb` off, we accept both) and
`cms.certificate` (the label; the password comes from the stash beside the database); `pkcs11.library`,
`pkcs11.token`, `pkcs11.token_pin`, `pkcs11.certificate`, `pkcs11.secondary_keystore` (a CMS database with the
other parties' certificates), `pkcs11.encrypted`; `jks.*`/`jceks.*` (`keystore`, `certificate`, `keystore_pass`,
`key_pass`, `encrypted`; `provider` is ignored since MQ 9.0); `pem.private`, `pem.public`, `pem.password`;
`amscred.*` for runamscred's key file. Passwords protected with runamscred (`<prefix>.encrypted = yes`) cannot be
read back as text: the store then needs the secret from one of our sources, and the error says so.

The file is found as AMS finds it: an explicit path, else `$MQS_KEYSTORE_CONF`, else `$HOME/.mqs/keystore.conf`.
Every keystores command reaches the store it names through the address `ams:PATH` (`ams:` alone for the default),
which its record (keystores/ams/format.py) resolves here. No password read from the file is ever printed or kept
in a message.
"""

from __future__ import annotations

import os

from keystores import formats, paths
from keystores.errors import KeystoreError, PasswordRequired, StoreNotFound, UsageError
from keystores.frozen import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from keystores.store import KeyStore

KINDS = ("cms", "pkcs11", "jks", "jceks", "pem", "jceracfks")
_KEYS = {
    "cms": ("keystore", "certificate"),
    "pkcs11": ("library", "token", "token_pin", "certificate", "secondary_keystore", "encrypted"),
    "jks": ("keystore", "certificate", "encrypted", "keystore_pass", "key_pass", "provider"),
    "jceks": ("keystore", "certificate", "encrypted", "keystore_pass", "key_pass", "provider"),
    "jceracfks": ("keystore", "certificate", "encrypted", "keystore_pass", "key_pass", "provider"),
    "pem": ("private", "public", "password", "encrypted"),
    "amscred": ("keyfile", "keyfile_encrypted", "password"),
}
_SECRET_KEYS = ("token_pin", "keystore_pass", "key_pass", "password")
_MAX_BYTES = 64 * 1024


def default_path() -> str:
    """Where AMS looks: $MQS_KEYSTORE_CONF, else $HOME/.mqs/keystore.conf (spelled as pathlib spells it: paths are
    handled with keystores.paths, as opening a store does, rather than pathlib, whose import costs about as much
    CPU as starting Python)."""
    env = os.environ.get("MQS_KEYSTORE_CONF")
    if env:
        return paths.normal(env)
    return paths.join(os.path.expanduser("~"), ".mqs", "keystore.conf")


class KeystoreConf(Record):
    """A parsed keystore.conf. `values` holds the chosen prefix's keys without the prefix; secrets stay in it and
    never reach `describe()`, `repr()` or a message."""

    _fields = ("path", "kind", "values", "lines", "notes")
    _hidden = frozenset({"values", "lines"})

    def __init__(self, path: str, kind: str, values: dict[str, str], lines: dict[str, int] | None = None,
                 notes: list[str] | None = None) -> None:
        self.path = path
        self.kind = kind
        self.values = values
        self.lines: dict[str, int] = {} if lines is None else lines
        self.notes: list[str] = [] if notes is None else notes

    @property
    def label(self) -> str:
        label = self.values.get("certificate")
        if not label:
            raise UsageError(f"no {self.kind}.certificate line: the file names no certificate", store=self.path)
        return label

    @property
    def encrypted(self) -> bool:
        return self.values.get("encrypted", "no").strip().lower() in ("yes", "true", "1")

    @property
    def store(self) -> str:
        """The keystores address of the store the file names."""
        if self.kind == "cms":
            stem = self._path_value("keystore")
            return stem if stem.lower().endswith(".kdb") else stem + ".kdb"
        if self.kind == "pkcs11":
            token = self.values.get("token")
            if not token:
                raise UsageError("no pkcs11.token line", store=self.path)
            from keystores.percent import quote

            uri = f"pkcs11:token={quote(token, safe='')}"
            library = self.values.get("library")
            return f"{uri}?module-path={library}" if library else uri
        if self.kind in ("jks", "jceks", "jceracfks"):
            if self.kind == "jceracfks":
                raise UsageError("jceracfks names a RACF key ring on z/OS, which keystores cannot open",
                                 store=self.path)
            given = self._path_value("keystore")
            for candidate in (given, f"{given}.{self.kind}", f"{given}.jks"):
                if paths.exists(candidate):
                    return candidate
            return given
        if self.kind == "pem":
            return self._path_value("private")
        raise UsageError(f"unknown store prefix '{self.kind}'", store=self.path)

    @property
    def store_type(self) -> str:
        return {"jceracfks": "jceks"}.get(self.kind, self.kind)

    @property
    def secondary(self) -> str | None:
        """The store of the other parties' certificates, when the file names one (pkcs11.secondary_keystore, a
        CMS stem; pem.public)."""
        if self.kind == "pkcs11" and self.values.get("secondary_keystore"):
            stem = self._path_value("secondary_keystore")
            return stem if stem.lower().endswith(".kdb") else stem + ".kdb"
        if self.kind == "pem" and self.values.get("public"):
            return self._path_value("public")
        return None

    def _path_value(self, key: str) -> str:
        value = self.values.get(key)
        if not value:
            raise UsageError(f"no {self.kind}.{key} line", store=self.path)
        path = paths.normal(os.path.expanduser(value))
        if not path.startswith("/"):
            path = paths.join(paths.parent(self.path), path)  # AMS resolves relative to its working folder; we to
            note = f"{self.path}: {self.kind}.{key} is relative; read from {path}"  # the file's
            if note not in self.notes:
                self.notes.append(note)
        return path

    def secret(self) -> str | None:
        """The store password or PIN the file holds in clear; None when it holds none (CMS: the stash).
        PasswordRequired when runamscred protected it: it cannot be read back."""
        key = {"pkcs11": "token_pin", "pem": "password"}.get(self.kind, "keystore_pass")
        value = self.values.get(key)
        if value is None or value == "":
            return None
        if self.encrypted:
            raise PasswordRequired(f"{self.kind}.{key} is protected with runamscred and cannot be read back; give "
                                   "the password or PIN through a secret source", store=self.path)
        return value

    def key_secret(self) -> str | None:
        value = self.values.get("key_pass")
        if not value or self.encrypted:
            return None
        return value

    def describe(self) -> dict[str, Any]:
        """What the file says, secrets replaced by whether they are present."""
        shown: dict[str, Any] = {"conf": self.path, "type": self.kind}
        for key, value in self.values.items():
            shown[key] = ("(encrypted)" if self.encrypted else "(set)") if key in _SECRET_KEYS else value
        return shown


def read_conf(path: str | os.PathLike[str] | None = None) -> KeystoreConf:
    """Parse a keystore.conf (the default one when `path` is None). One store prefix per file; unknown keys of a
    known prefix are refused by name with their line."""
    source = paths.normal(path) if path else default_path()
    try:
        with open(source, "rb") as handle:
            raw = handle.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        raise StoreNotFound("no such keystore.conf" + ("" if path else " (set MQS_KEYSTORE_CONF or give a path)"),
                            store=source) from None
    except OSError as exc:
        raise KeystoreError(f"cannot read: {exc.strerror}", store=source) from None
    if len(raw) > _MAX_BYTES:
        raise UsageError("larger than 64 KiB: not a keystore.conf", store=source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("not UTF-8 text: not a keystore.conf", store=source) from None
    by_prefix: dict[str, dict[str, str]] = {}
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "!", ";")):
            continue
        key, sep, value = stripped.partition("=")
        key = key.strip()
        prefix, dot, name = key.partition(".")
        prefix = prefix.lower()
        if not sep or not dot or not name:
            raise UsageError(f"line {number}: expected 'prefix.key = value'", store=source)
        if prefix not in _KEYS:
            raise UsageError(f"line {number}: unknown prefix '{prefix}.' (known: {', '.join(_KEYS)})", store=source)
        if name.lower() not in _KEYS[prefix]:
            raise UsageError(f"line {number}: unknown key '{prefix}.{name}' (known: "
                             f"{', '.join(prefix + '.' + k for k in _KEYS[prefix])})", store=source)
        by_prefix.setdefault(prefix, {})[name.lower()] = value.strip()
        lines[f"{prefix}.{name.lower()}"] = number
    stores = [p for p in by_prefix if p in KINDS]
    if not stores:
        raise UsageError("names no store (no cms., pkcs11., jks., jceks. or pem. lines)", store=source)
    # AMS's C code reads cms./pkcs11., its Java code jks./jceks.: one file may serve both; we take the first named.
    conf = KeystoreConf(source, stores[0], by_prefix[stores[0]], lines)
    if len(stores) > 1:
        conf.notes.append(f"{source}: names several stores ({', '.join(stores)}); using {stores[0]}")
    if "amscred" in by_prefix and not conf.encrypted:
        conf.notes.append(f"{source}: amscred. lines but {conf.kind}.encrypted is not yes: passwords read as text")
    return conf


def open_conf_store(conf: KeystoreConf, *, password: str | None = None, writable: bool = False,
                    **options: Any) -> KeyStore:
    """Open the store a keystore.conf names, with `password` when given, else the file's password or PIN, else
    (CMS) its stash. The store's notes say which file and label it came from."""
    from keystores.store import detect, open_store

    secret = password if password is not None else conf.secret()
    kind = conf.store_type
    if conf.kind in ("jks", "jceks"):
        # typed by the bytes, as Java's keystore.type.compat reads a PKCS#12 named by jks.keystore
        kind, _ = detect(conf.store)
        key_secret = conf.key_secret()
        if kind in ("jks", "jceks") and key_secret is not None and "key_password" not in options:
            options["key_password"] = key_secret
    store = open_store(conf.store, password=secret, type=kind, writable=writable, **options)
    store.notes[:0] = [*conf.notes, f"{conf.path}: the {conf.kind} store {conf.store}, certificate "
                       f"'{conf.values.get('certificate', '?')}'"]
    return store


class ConfAddress:
    """The opener of the `ams:PATH` record (keystores/ams/format.py): it opens the store the keystore.conf names."""

    @classmethod
    def open(cls, location: str, *, password: str | None = None, writable: bool = False, create: bool = False,
             profile: str = "modern", format_name: str | None = None, **options: Any) -> KeyStore:
        if create:
            raise UsageError("ams:PATH names an existing store through its keystore.conf; it cannot create one",
                             store=location)
        conf = read_conf(location[len("ams:"):] or None)
        return open_conf_store(conf, password=password, writable=writable, **options)


def conf_text(kind: str, store: str, label: str, *, password: str | None = None,
              secondary: str | None = None) -> str:
    """The keystore.conf for `store` (a keystores address) and `label`. A password, when given, is written in
    clear as IBM's format has it (protect it afterwards with runamscred); CMS needs none (its stash)."""
    if "\n" in label or "\n" in store or (password and "\n" in password):
        raise UsageError("a line break cannot go into keystore.conf")
    lines = [f"# keystore.conf for IBM MQ AMS, written by keystores: the {kind} store {store}"]
    if kind == "cms":
        if password:
            raise UsageError("CMS keystore.conf holds no password: AMS reads the stash beside the database")
        stem = store[:-4] if store.lower().endswith(".kdb") else store
        lines += [f"cms.keystore = {stem}", f"cms.certificate = {label}"]
    elif kind == "pkcs11":
        from keystores.backends.pkcs11.uri import Pkcs11Uri

        uri = Pkcs11Uri.parse(store)
        module = uri.module_path or os.environ.get("KEYSTORES_PKCS11_MODULE")
        if not module or not uri.token:
            raise UsageError("a pkcs11 keystore.conf needs token= and the module (module-path= in the URI, the "
                             "module option, or $KEYSTORES_PKCS11_MODULE)",
                             store=store)
        lines += [f"pkcs11.library = {module}", f"pkcs11.token = {uri.token}", f"pkcs11.certificate = {label}"]
        if password:
            lines.append(f"pkcs11.token_pin = {password}")
        if secondary:
            stem = secondary[:-4] if secondary.lower().endswith(".kdb") else secondary
            lines.append(f"pkcs11.secondary_keystore = {stem}")
        lines.append("pkcs11.encrypted = no")
    elif kind in ("jks", "jceks"):
        lines += [f"{kind}.keystore = {store}", f"{kind}.certificate = {label}", f"{kind}.encrypted = no"]
        if password:
            lines += [f"{kind}.keystore_pass = {password}", f"{kind}.key_pass = {password}"]
    else:
        raise UsageError(f"AMS reads cms, pkcs11, jks and jceks stores; not {kind}", store=store)
    return "\n".join(lines) + "\n"


def write_conf(store: str, label: str, out: str | os.PathLike[str], *, password: str | None = None,
               store_password: str | None = None, secondary: str | None = None, force: bool = False,
               module: str | None = None) -> tuple[str, list[str]]:
    """Check that `store` opens and holds `label` with a private key, then write `out` (0600, atomically).
    `password` goes into the file (jks/jceks/pkcs11; for CMS it only opens the database); `store_password` only
    opens the store to check it. Returns the store type written and notes for the user."""
    from keystores.fileio import atomic_write
    from keystores.store import open_store

    if paths.exists(out) and not force:
        from keystores.errors import StoreExists

        raise StoreExists("already exists (replace it with force)", store=str(out))
    options = {"module": module} if module else {}
    with open_store(store, password=store_password if store_password is not None else password,
                    **options) as opened:
        kind = opened.format
        entry = opened.get(label)
        if entry.held_pkcs8() is None and entry.key is None:  # a key held as PKCS#8 is there, and checked, unloaded
            raise UsageError("has no private key: AMS needs the certificate and key that are 'me'", store=store,
                             label=label)
    absolute = store if formats.by_prefix(store) is not None else paths.normal(os.path.realpath(store))  # a URI: as is
    if kind == "pkcs11" and module and "module-path=" not in absolute:
        absolute += ("&" if "?" in absolute else "?") + f"module-path={module}"
    notes = []
    if kind == "cms":
        password = None  # it opened the database; AMS reads the stash instead
        if not paths.exists(absolute[:-4] + ".sth"):
            notes.append(f"{absolute}: no stash beside it, and AMS opens a CMS database only through its stash")
    atomic_write(out, conf_text(kind, absolute, label, password=password, secondary=secondary).encode(),
                 private=True)
    return kind, notes
