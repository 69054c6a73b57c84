"""Commands that only make sense for cms stores; generic commands (list, import, ...) live in
stores.py and transfer.py.

    keystores stash STORE.kdb [--version 1|8]      write STORE.sth (the password, obfuscated; 0600)
    keystores set-default STORE LABEL              GSKit's -setdefault
    keystores trust STORE LABEL on|off|CT,C,C      GSKit's -modify -trust on|off; for every format with trust
                                                   (it began as CMS's; certutil -M -t, PKCS#12's Java attribute)
"""

from __future__ import annotations

from keystores.cli.options import Annotated, Argument, Option, PasswordOpt, TypeOpt

# Each command's parameters are named before it: cli.quick_parse looks a name up where it compiles an
# inline annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_StashStore = Annotated[str, Argument(help="The CMS key database (.kdb).")]
_StashVersion = Annotated[int, Option("--version", help="Stash format: 8 (GSKit's current default) or 1 "
                                            "(old GSKit and z/OS).")]


def stash_cmd(
    store: _StashStore,
    version: _StashVersion = 8,
    password: PasswordOpt = None,
) -> None:
    """Write STORE.sth beside the database so servers start without a password prompt. The stash is the
    password in thin disguise (anyone who can read it has the password): it is written 0600."""
    from keystores.cli.common import err, show_notes, with_secret

    from keystores.store import open_store

    def act(pw: str | None) -> str:
        with open_store(store, password=pw, type="cms", writable=True) as opened:
            show_notes(opened.notes)
            return opened.write_stash(version)

    written = with_secret(password, "password", act)
    err(f"wrote {written} (v{version}, mode 0600): anyone who can read it has the password")


_SetDefaultStore = Annotated[str, Argument()]
_SetDefaultLabel = Annotated[str, Argument(help="The entry to make the default (the one servers present).")]


def set_default_cmd(
    store: _SetDefaultStore,
    label: _SetDefaultLabel,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
) -> None:
    """Make LABEL the store's default entry (at most one is)."""
    from keystores.cli.common import err, show_notes, with_secret

    from keystores.store import open_store

    def act(pw: str | None) -> None:
        with open_store(store, password=pw, type=store_type, writable=True) as opened:
            show_notes(opened.notes)
            opened.set_default(label)

    with_secret(password, "password", act)
    err(f"'{label}' is now the default entry")


_TrustStore = Annotated[str, Argument(help="A store with trust: .kdb, PKCS#12, JKS/JCEKS, sql:DIR, token.")]
_TrustLabel = Annotated[str, Argument(help="A certificate (signer, CA) entry.")]
_TrustState = Annotated[str, Argument(help="on (every purpose), off (kept, not trusted), or NSS trust "
                                            "letters as certutil -M -t takes them: CT,C,C", metavar="on|off|CT,C,C")]


def trust_cmd(
    store: _TrustStore,
    label: _TrustLabel,
    state: _TrustState,
    password: PasswordOpt = None,
    store_type: TypeOpt = None,
) -> None:
    """Trust a certificate entry (on), keep it untrusted (off), or set NSS's per-purpose trust (CT,C,C): GSKit's
    -modify -trust, certutil -M -t, Java's trust attribute in PKCS#12. Refused: PEM (no trust flags), off in JKS
    (trusted certificates only: delete the entry), some purposes where a format trusts for all or none."""
    from keystores.cli.common import err, show_notes, with_secret

    from keystores.ops.trust import describe_trust, parse_trust
    from keystores.store import open_store

    trust = parse_trust(state)

    def act(pw: str | None) -> None:
        with open_store(store, password=pw, type=store_type, writable=True) as opened:
            opened.set_trust(label, trust)
            show_notes(opened.notes)

    with_secret(password, "password", act)
    err(f"'{label}' is {describe_trust(trust)}")
