"""What makes an IBM GSKit CMS key database a format, for detection, --type and the tests (keystores/formats.py):
imports nothing heavy."""

from keystores.formats import FormatRecord

RECORDS = (
    FormatRecord("cms", "CMS", "keystores.backends.cms:CmsStore", aliases=("kdb",), extensions=(".kdb",),
                 sniff=lambda head: head[:2] == b"\x37\x48" and head[8:15] in (b"X509KEY", b"X509KYP", b"X509CRL"),
                 companions=(".rdb", ".crl", ".sth"), options=("cms_version", "stash", "stash_version")),
)
