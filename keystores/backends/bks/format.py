"""What makes Bouncy Castle's BKS and UBER formats, for detection, --type and the tests (keystores/formats.py):
imports nothing heavy."""

from keystores.formats import FormatRecord

# int version 0..2, int salt length 20: the header Bouncy Castle writes for both
_HEADERS = (b"\x00\x00\x00\x00\x00\x00\x00\x14", b"\x00\x00\x00\x01\x00\x00\x00\x14",
            b"\x00\x00\x00\x02\x00\x00\x00\x14")


def looks_like_bks(head: bytes) -> bool:
    """A BKS body starts with an entry type (1..4) or its end marker (0) right after the iteration count."""
    return head[:8] in _HEADERS and len(head) > 32 and head[32] <= 4 and _bks_body_plausible(head)


def looks_like_uber(head: bytes) -> bool:
    """The BKS header over an encrypted body."""
    return head[:8] in _HEADERS and not looks_like_bks(head)


def _bks_body_plausible(head: bytes) -> bool:
    """The first BKS entry after the header: type 0..4, an alias, a creation time in ms (before 2109), a chain
    length (small). Random UBER ciphertext passes this with a probability far below one in a million."""
    if head[32] == 0:
        return len(head) == 53  # an empty BKS: end marker and MAC only
    alias_end = 35 + int.from_bytes(head[33:35], "big")
    if alias_end + 12 > len(head):
        return alias_end < 4096
    millis = int.from_bytes(head[alias_end : alias_end + 8], "big")
    chain_length = int.from_bytes(head[alias_end + 8 : alias_end + 12], "big")
    return millis < 1 << 42 and chain_length < 1000


RECORDS = (
    FormatRecord("bks", "BKS", "keystores.backends.bks:BksStore", extensions=(".bks",), sniff=looks_like_bks),
    # read only: a store read from UBER is written as BKS or BCFKS
    FormatRecord("uber", "UBER", "keystores.backends.bks:UberStore", extensions=(".uber",),
                 sniff=looks_like_uber, profiles=()),
)
