"""What an output file's name says it holds, and so the format export and sign write it in.

Apart from keystores.ops.transfer so that `sign -o` decides its format without importing the transfer machinery
(start-up speed, bench/bench_core.py "start-up: keystores sign")."""

from __future__ import annotations

from keystores import paths
from keystores.errors import UsageError

# What an output file's name says it holds. .cer and .crt are written both ways in the wild: they suggest a
# format when none is asked for (.cer DER, as Windows writes it; .crt PEM, as openssl does), never contradict one.
OUTPUT_EXTENSIONS = {".p12": "p12", ".pfx": "p12", ".der": "der", ".cer": "der", ".pem": "pem", ".crt": "pem"}
_EITHER_WAY = (".cer", ".crt")
_FORMAT_NAMES = {"p12": "PKCS#12", "der": "DER", "pem": "PEM"}


def output_format(out: str, asked: str | None, *, allowed: tuple[str, ...] = ("pem", "der", "p12")) -> str:
    """The format to write `out` in: the one asked for, else what the file's extension says, else PEM.
    A format asked for under another format's extension (`x.p12` as DER) is refused."""
    suffix = paths.suffix(out).lower() if out != "-" else ""
    by_name = OUTPUT_EXTENSIONS.get(suffix)
    if asked is None:
        fmt = by_name or "pem"
        if fmt not in allowed:
            raise UsageError(f"the name says {_FORMAT_NAMES[fmt]} ({suffix}), which is not written here; use "
                             f"{' or '.join(allowed)}", store=out)
        return fmt
    fmt = {"pkcs12": "p12", "pfx": "p12"}.get(asked.lower(), asked.lower())
    if fmt not in allowed:
        raise UsageError(f"unknown output format '{asked}'; use {', '.join(allowed)}")
    if by_name is not None and by_name != fmt and suffix not in _EITHER_WAY:
        raise UsageError(f"format {fmt} was asked for, but the name ends in {suffix} ({_FORMAT_NAMES[by_name]}); "
                         "rename the file or leave the format out", store=out)
    return fmt
