"""A token key's KeyRef (TokenKeyRef) whose public key, signer and decrypter are made when first read: apart from
keys.py (signing and decrypting with a token key, the key templates), so that `show` of a token, which makes
none of them, loads neither keys.py nor the key mapping it imports (bench/bench_core.py's token rows)."""

from __future__ import annotations

from keystores.model import KeyRef

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class _MadeOnUse:
    """A field of TokenKeyRef: its value comes from the ref's maker, run once when any such field is first read."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, ref: Any, owner: type | None = None) -> Any:
        if ref is None:
            return None
        state = ref.__dict__
        make = state.get("_make")
        if make is not None:
            state.update(zip(_MADE, make(), strict=True))
            del state["_make"]
        return state.get(self.name)

    def __set__(self, ref: Any, value: Any) -> None:
        if "_make" not in ref.__dict__:  # KeyRef.__init__'s placeholders are not kept while the maker waits
            ref.__dict__[self.name] = value


_MADE = ("public_key", "signer", "decrypter")


class TokenKeyRef(KeyRef):
    """A token key's KeyRef whose public key, signer and decrypter are made by `make` (from what the store has
    read already) when one of them is first read: making a cryptography key object initialises OpenSSL, about
    10 ms of `show` or `list --json` of a token (bench/bench_core.py's token rows), which print neither. A copy
    (`with_`) holds the values made."""

    public_key = _MadeOnUse()  # type: ignore[assignment]
    signer = _MadeOnUse()  # type: ignore[assignment]
    decrypter = _MadeOnUse()  # type: ignore[assignment]

    def __init__(self, label: str, key_id: bytes, public_key: Any = None, signer: Any = None, sensitive: bool = True,
                 extractable: bool = False, decrypter: Any = None, locked: bool = False, *,
                 make: Any = None) -> None:
        if make is not None:
            self.__dict__["_make"] = make
        super().__init__(label, key_id, public_key, signer, sensitive, extractable, decrypter, locked)
