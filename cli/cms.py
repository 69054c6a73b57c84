"""Commands that only make sense for cms stores; generic commands (list, import, ...) live in main.py.

    keystores stash STORE.kdb [--version 1|8]      write STORE.sth (the password, obfuscated; 0600)
    keystores set-default STORE LABEL              GSKit's -setdefault
    keystores trust STORE LABEL on|off             GSKit's -modify -trust on|off for a signer certificate
"""

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this group's commands to the main app."""
    from keystores.cli.main import EXIT_CODES_HELP, PasswordOpt, TypeOpt

    @app.command("stash", epilog=EXIT_CODES_HELP)
    def stash_cmd(
        store: Annotated[str, typer.Argument(help="The CMS key database (.kdb).")],
        version: Annotated[int, typer.Option("--version", help="Stash format: 8 (GSKit's current default) or 1 "
                                             "(old GSKit and z/OS).")] = 8,
        password: PasswordOpt = None,
    ) -> None:
        """Write STORE.sth beside the database so servers start without a password prompt. The stash is the
        password in thin disguise (anyone who can read it has the password): it is written 0600."""
        from keystores.cli.main import err, show_notes, with_secret

        from keystores.errors import CapabilityError
        from keystores.store import open_store

        def act(pw: str | None) -> str:
            with open_store(store, password=pw, type="cms", writable=True) as opened:
                show_notes(opened.notes)
                write = getattr(opened, "write_stash", None)
                if write is None:
                    raise CapabilityError("stash", "only CMS key databases have a stash file", store=store)
                write(version)
                return str(opened.stash_path)  # type: ignore[attr-defined]

        written = with_secret(password, "password", act)
        err(f"wrote {written} (v{version}, mode 0600): anyone who can read it has the password")

    @app.command("set-default", epilog=EXIT_CODES_HELP)
    def set_default_cmd(
        store: Annotated[str, typer.Argument()],
        label: Annotated[str, typer.Argument(help="The entry to make the default (the one servers present).")],
        password: PasswordOpt = None,
        store_type: TypeOpt = None,
    ) -> None:
        """Make LABEL the store's default entry (at most one is)."""
        from keystores.cli.main import err, show_notes, with_secret

        from keystores.store import open_store

        def act(pw: str | None) -> None:
            with open_store(store, password=pw, type=store_type, writable=True) as opened:
                show_notes(opened.notes)
                opened.set_default(label)  # type: ignore[attr-defined]

        with_secret(password, "password", act)
        err(f"'{label}' is now the default entry")

    @app.command("trust", epilog=EXIT_CODES_HELP)
    def trust_cmd(
        store: Annotated[str, typer.Argument()],
        label: Annotated[str, typer.Argument(help="A signer (CA) certificate.")],
        state: Annotated[str, typer.Argument(help="on or off", metavar="on|off")],
        password: PasswordOpt = None,
        store_type: TypeOpt = None,
    ) -> None:
        """Mark a signer certificate trusted (on) or present but not trusted (off)."""
        from keystores.cli.main import err, show_notes, with_secret

        from keystores.errors import CapabilityError, UsageError
        from keystores.store import open_store

        if state.lower() not in ("on", "off"):
            raise UsageError("trust state must be on or off")
        trusted = state.lower() == "on"

        def act(pw: str | None) -> None:
            with open_store(store, password=pw, type=store_type, writable=True) as opened:
                show_notes(opened.notes)
                setter = getattr(opened, "set_trust", None)
                if setter is None:
                    raise CapabilityError("trust", f"{opened.format} stores have no trust switch here",
                                          store=store)
                setter(label, trusted)

        with_secret(password, "password", act)
        err(f"'{label}' is {'trusted' if trusted else 'not trusted'}")
