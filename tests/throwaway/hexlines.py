"""A throw-away format that exists only in tests: "hex lines", one trusted certificate per line as `LABEL HEX-DER`
under a `#hexlines` header. It shows that a format is its record plus its backend class and nothing else: it is
registered at run time (keystores.formats.register), and detection, --type, `keystores backends`, list and
convert then know it with no other file touched (tests/test_formats.py).

This file is what a format's package holds, in one module: the record (format.py) and the store (store.py).
"""

from __future__ import annotations

from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from keystores.backends.base import FileStore
from keystores.errors import CorruptStore
from keystores.formats import FormatRecord
from keystores.model import TRUST_ALL, Capabilities, Entry, EntryKind

MAGIC = b"#hexlines\n"

RECORD = FormatRecord("hexlines", "hex lines", "hexlines:HexLinesStore", aliases=("hexl",), extensions=(".hexl",),
                      sniff=lambda head: head.startswith(MAGIC))


class HexLinesStore(FileStore):
    format: ClassVar[str] = "hexlines"
    capabilities: ClassVar[Capabilities] = Capabilities(private_keys=False, trust=False)
    private_file: ClassVar[bool] = False

    def _load(self, data: bytes) -> None:
        if not data.startswith(MAGIC):
            raise CorruptStore("no #hexlines header", store=self.location)
        for number, line in enumerate(data[len(MAGIC):].decode("ascii").splitlines(), start=2):
            label, _, text = line.rpartition(" ")  # a label may hold spaces; hex never does
            try:
                certificate = x509.load_der_x509_certificate(bytes.fromhex(text))
            except ValueError as exc:
                raise CorruptStore(f"line {number} is no certificate", store=self.location) from exc
            self._entries[label] = Entry(label, EntryKind.TRUSTED_CERT, chain=(certificate,), trust=TRUST_ALL)

    def _dump(self) -> bytes:
        lines = [f"{e.label} {e.chain[0].public_bytes(Encoding.DER).hex()}" for e in self._entries.values()]
        return MAGIC + "".join(line + "\n" for line in lines).encode("ascii")

    @property
    def uses_password(self) -> bool:
        return False
