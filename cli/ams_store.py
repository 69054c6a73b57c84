"""IBM MQ Advanced Message Security, the commands about one store (cli.ams has the policies' commands):

    keystores ams conf      STORE --label LABEL -o keystore.conf
    keystores ams map       STORE LABEL --user USER [--channel CHL] [--json]

Apart from cli.ams, so that these two load none of the policy, doctor and rehearsal commands' CLI code (start-up
speed, issue 15). Nothing of keystores.ams is imported until one of them runs.
"""

from __future__ import annotations

from keystores.cli.options import SECRET_HELP, Annotated, Argument, ForceOpt, JsonOpt, ModuleOpt, Option

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


# Each command's parameters are named before it: cli.quick_parse looks a name up where it compiles an
# inline annotation (eval, ~20-60 us a parameter on every run of the command; start-up speed, issue 15)
_ConfStore = Annotated[str, Argument(help="The store: a .kdb (stashed), .jks, .jceks, or a pkcs11: URI.")]
_ConfLabel = Annotated[str, Option("--label", "-l", help="The certificate that is 'me' (with its key).")]
_ConfOut = Annotated[str, Option("--out", "-o", help="The keystore.conf to write (0600).")]
_ConfPassword = Annotated[str | None, Option("--password", "--pin", help=f"The store password or PIN, "
                                                   f"written into the file in clear as IBM's format has it "
                                                   f"(protect it with runamscred). {SECRET_HELP}",
                                                   show_default=False)]
_ConfSecondary = Annotated[str | None, Option("--secondary", help="PKCS#11: the CMS database with the "
                                                    "other parties' certificates.", show_default=False)]


def conf_cmd(
    store: _ConfStore,
    label: _ConfLabel,
    out: _ConfOut,
    password: _ConfPassword = None,
    secondary: _ConfSecondary = None,
    force: ForceOpt = False,
    module: ModuleOpt = None,
) -> None:
    """Write a keystore.conf naming STORE and LABEL, after checking that the store opens and LABEL has its
    private key. CMS files hold no password: AMS reads the stash beside the database."""
    from keystores.cli.common import err, secret_from, show_notes

    from keystores import paths
    from keystores.ams.conf import write_conf
    from keystores.errors import StoreExists

    if paths.exists(out) and not force:
        raise StoreExists("already exists; use --force to replace it", store=out)
    secret = secret_from(password, "password")
    kind, notes = write_conf(store, label, out, password=secret, force=force, module=module,
                             secondary=secondary)
    show_notes(notes)
    err(f"wrote {out} (mode 0600): the {kind} store {store}, certificate '{label}'"
        + ("; it holds the password in clear: protect it with runamscred" if secret and kind != "cms" else ""))


_MapStore = Annotated[str, Argument(help="A store, or a certificate file (PEM/DER).")]
_MapLabel = Annotated[str | None, Argument(help="The entry (omit for a one-certificate file).")]
_MapUser = Annotated[str, Option("--user", "-u", help="The user id to map to (RACF: 1..8 characters).")]
_MapChannel = Annotated[str, Option("--channel", help="The channel for the CHLAUTH rule.")]
_MapPassword = Annotated[str | None, Option("--password", help=f"Store password. {SECRET_HELP}",
                                                  show_default=False)]


def map_cmd(
    store: _MapStore,
    label: _MapLabel = None,
    user: _MapUser
    = "",
    channel: _MapChannel = "*",
    password: _MapPassword = None,
    as_json: JsonOpt = False,
) -> None:
    """MQ identity for a certificate: the RACDCERT MAP command (z/OS; SDNFILTER/IDNFILTER in RACF's dotted
    order, WITHLABEL), the SSLPEER value and the CHLAUTH SSLPEERMAP rule that match it."""
    from keystores.cli.common import emit_json, err, with_secret

    from keystores.ams.identity import entry_mapping
    from keystores.errors import UsageError
    from keystores.store import open_store

    if not user:
        raise UsageError("give the user id to map to with --user")

    def find(pw: str | None) -> Any:
        with open_store(store, password=pw) as opened:
            entries = [opened.get(label)] if label else [e for e in opened.entries()
                                                          if e.undecoded_leaf is not None or e.chain]
            if len(entries) != 1:
                raise UsageError(f"{store} holds {len(entries)} certificates: name the entry (LABEL)")
            return entries[0]

    entry = with_secret(password, "password", find)
    result = entry_mapping(entry, userid=user, channel=channel)
    if as_json:
        emit_json(result.as_dict())
        return
    from keystores.text import printable

    for line in (f"* subject {result.subject}", f"* issuer  {result.issuer}", result.racdcert,
                 "SETROPTS RACLIST(DIGTNMAP) REFRESH", f"* SSLPEER('{result.sslpeer}')", result.chlauth):
        print(printable(line))  # a DN's control characters escaped: no line of its own, no terminal codes
    for note in result.notes:
        err(f"note: {note}")
