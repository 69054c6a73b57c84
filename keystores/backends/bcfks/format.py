"""What makes Bouncy Castle's BCFKS a format, for detection, --type and the tests (keystores/formats.py): imports
nothing heavy."""

from keystores.formats import FormatRecord

# A BCFKS file opens SEQUENCE { SEQUENCE { SEQUENCE { OID PBES2 (1.2.840.113549.1.5.13) ... (EncryptedObjectStoreData).
_PBES2_OID = bytes.fromhex("06092a864886f70d01050d")


def looks_like_bcfks(head: bytes) -> bool:
    if head[:1] != b"\x30":
        return False
    from keystores.crypto.der import DerError, read

    try:
        _, start, _ = read(head, 0, len(head) + (1 << 31))
        _, start, _ = read(head, start, len(head) + (1 << 31))
        tag, start, _ = read(head, start, len(head) + (1 << 31))
    except (DerError, IndexError):
        return False
    return tag == 0x30 and head[start : start + len(_PBES2_OID)] == _PBES2_OID


RECORDS = (
    FormatRecord("bcfks", "BCFKS", "keystores.backends.bcfks:BcfksStore", extensions=(".bcfks",),
                 sniff=looks_like_bcfks),
)
