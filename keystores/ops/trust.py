"""Trust control for every format that has trust (`keystores trust STORE LABEL on|off|CT,C,C`)."""

from __future__ import annotations

from keystores.errors import UsageError
from keystores.model import TRUST_ALL, Trust


def parse_trust(text: str) -> Trust | None:
    """`on` (every purpose), `off` (present, not trusted), or NSS's per-purpose letters as `certutil -M -t` takes
    them (`CT,C,C`, `C,,`, `p,p,p`): the one per-purpose spelling admins know, used for every format. None means
    not trusted; a Trust with no purposes is NSS's explicit distrust, which other formats hold as not trusted."""
    word = text.strip().lower()
    if word == "on":
        return TRUST_ALL
    if word == "off":
        return None
    if text.count(",") != 2:
        raise UsageError(f"trust must be on, off or NSS trust letters such as CT,C,C, not '{text}'")
    # certutil's letters are NSS's own; their parser lives with the NSS backend, which writes them.
    from keystores.backends.nss.trust import from_letters, to_model

    return to_model(from_letters(text.strip()), user=False)


def describe_trust(trust: Trust | None) -> str:
    """How `trust` reads after the change: "trusted for tls_server, tls_client (CT,C,C)", "not trusted"."""
    if trust is None or not trust.purposes:
        return "not trusted" + (f" ({trust.native})" if trust is not None and trust.native else "")
    return f"trusted for {', '.join(trust.purposes)}" + (f" ({trust.native})" if trust.native else "")
