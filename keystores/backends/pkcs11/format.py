"""What makes a PKCS#11 token a store format, for detection, --type and the tests (keystores/formats.py): imports
nothing heavy (python-pkcs11 is looked for, not imported)."""

from __future__ import annotations

from keystores.formats import FormatRecord, Storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def unavailable_reason() -> str | None:
    """Why tokens cannot be used here (for `keystores backends`), or None."""
    import importlib.util

    if importlib.util.find_spec("pkcs11") is None:
        return "python-pkcs11 (a dependency of keystores) is not installed: pip install python-pkcs11"
    return None


def begin(location: str, *, password: str | None, writable: bool, options: dict[str, Any],
          ahead: bool = False, create: bool = False) -> None:
    """The token's connection started while the backend is imported (keystores.backends.pkcs11.connecting); `ahead`,
    its module loaded and the token found while the caller still imports what it needs before it opens the store.
    Nothing where the caller will create the store (a token is not made by opening it: the open says so)."""
    if create:
        return
    from keystores.backends.pkcs11.connecting import begin as begin_connecting

    begin_connecting(location, password=password, writable=writable, options=options, ahead=ahead)


RECORDS = (
    FormatRecord("pkcs11", "PKCS#11", "keystores.backends.pkcs11:Pkcs11Store", storage=Storage.TOKEN,
                 aliases=("hsm",), prefix="pkcs11:", options=("module",), install="pip install python-pkcs11",
                 unavailable=unavailable_reason, begin=begin),
)
