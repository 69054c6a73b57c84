"""What makes PEM and DER formats, for detection, --type and the tests (keystores/formats.py): imports nothing
heavy."""

from keystores.formats import FormatRecord


def looks_like_pem(head: bytes) -> bool:
    """PEM blocks, or the text openssl prints before them (`openssl pkcs12 -nokeys`, `openssl x509 -subject`)."""
    return b"-----BEGIN " in head or head.lstrip().startswith((b"Bag Attributes", b"subject=", b"issuer="))


RECORDS = (
    FormatRecord("pem", "PEM", "keystores.backends.pem:PemStore", aliases=("crt", "cer", "key"),
                 extensions=(".pem", ".crt", ".cer", ".key", ".csr"), sniff=looks_like_pem, sniff_rank=80,
                 empty_ok=True, options=("der_key", "also")),
    # any other DER SEQUENCE: a certificate, key or request alone; the catch-all, tried last
    FormatRecord("der", "DER", "keystores.backends.pem:PemStore", extensions=(".der",),
                 sniff=lambda head: head[:1] == b"\x30", sniff_rank=90, options=("der_key", "also"),
                 variant_of="pem"),
)
