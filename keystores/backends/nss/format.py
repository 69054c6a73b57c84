"""What makes an NSS database a format, for detection, --type and the tests (keystores/formats.py): imports
nothing heavy."""

from keystores.formats import FormatRecord, Profile, Storage

RECORDS = (
    FormatRecord("nss", "NSS", "keystores.backends.nss:NssStore", storage=Storage.FOLDER, aliases=("sql",),
                 prefix="sql:", folder_files=("cert9.db", "key4.db"), profiles=(Profile.MODERN, Profile.COMPAT),
                 test_address="sql:{}/nssdb"),
)
