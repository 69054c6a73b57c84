"""What makes JKS and JCEKS formats, for detection, --type and the tests (keystores/formats.py): imports nothing
heavy."""

from keystores.formats import FormatRecord

RECORDS = (
    FormatRecord("jks", "JKS", "keystores.backends.jks:JksStore",
                 extensions=(".jks", ".ks", ".keystore", ".truststore"),
                 sniff=lambda head: head[:4] == b"\xfe\xed\xfe\xed", options=("key_password",)),
    FormatRecord("jceks", "JCEKS", "keystores.backends.jks:JceksStore", extensions=(".jceks",),
                 sniff=lambda head: head[:4] == b"\xce\xce\xce\xce", options=("key_password",)),
)
