"""What makes an NSS database a format, for detection, --type and the tests (keystores/formats.py): imports
nothing heavy."""

from __future__ import annotations

from keystores.formats import FormatRecord, Profile, Storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def begin(location: str, *, password: str | None, writable: bool, options: dict[str, Any], ahead: bool = False,
          create: bool = False) -> None:
    """Begun ahead (store.begin_opening), a new database's password check and a key pair's derivations started
    while the caller reads its source and imports the backend (keystores.backends.nss.begun); nothing else."""
    if ahead and create and password:
        from keystores.backends.nss.begun import begin as begin_new

        begin_new(location, password=password, writable=writable, options=options, ahead=ahead, create=create)


RECORDS = (
    FormatRecord("nss", "NSS", "keystores.backends.nss:NssStore", storage=Storage.FOLDER, aliases=("sql",),
                 prefix="sql:", folder_files=("cert9.db", "key4.db"), profiles=(Profile.MODERN, Profile.COMPAT),
                 begin=begin, test_address="sql:{}/nssdb"),
)
