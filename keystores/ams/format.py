"""`ams:PATH` as an address (keystores/formats.py): the store an IBM MQ AMS keystore.conf names. No format of its
own: it opens that store, which checks the options and profile. Imports nothing heavy."""

from keystores.formats import FormatRecord, Storage

RECORDS = (
    FormatRecord("ams", "MQ AMS keystore.conf", "keystores.ams.conf:ConfAddress", storage=Storage.INDIRECT,
                 prefix="ams:", profiles=()),
)
