"""Named string constants without the enum module: what keystores.model's EntryKind and Strength and keystores.formats'
Profile and Storage were as enum.StrEnum / enum.Enum classes.

A speed device (issue 15, a user install): every command opens a store, and the enum module (with functools and
the rest it imports) costs about 4 ms of CPU, a third of starting Python, for four small classes. A `NamedStr`
subclass lists its members as capitalised class attributes holding their values; each member is an instance of the
class (a str equal to its value), made once:

- `Kind.MEMBER` is the one member (compare with `is`), `Kind("value")` looks it up (ValueError for another value),
  `for member in Kind` gives the members in the order written, `len(Kind)`, `value in Kind`;
- a member is the str of its value (==, hash, format, str(), json, sorting), with `.name` and `.value`, repr
  `<Kind.MEMBER: 'value'>`; copying and pickling give the member itself;
- members cannot be added, replaced or deleted after the class is made.

tests/test_named.py holds these to what enum.StrEnum does.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any


class _Members(type):
    """The metaclass of NamedStr: makes the members and gives the class its lookup, iteration and length."""

    _members_: tuple[Any, ...]
    _by_value_: dict[str, Any]

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> _Members:
        cls = super().__new__(mcs, name, bases, namespace)
        members: dict[str, Any] = {}
        for key, value in namespace.items():
            if key.isupper() and not key.startswith("_") and type(value) is str:
                member = str.__new__(cls, value)
                member.__dict__["_name_"] = key
                type.__setattr__(cls, key, member)
                members[key] = member
        type.__setattr__(cls, "_members_", tuple(members.values()))
        type.__setattr__(cls, "_by_value_", {str(member): member for member in members.values()})
        return cls

    def __call__(cls, value: object) -> Any:
        if isinstance(value, cls):
            return value
        try:
            return cls._by_value_[value]  # type: ignore[index]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not a valid {cls.__qualname__}") from None

    def __iter__(cls) -> Iterator[Any]:
        return iter(cls._members_)

    def __len__(cls) -> int:
        return len(cls._members_)

    def __contains__(cls, value: object) -> bool:
        return isinstance(value, cls) or (isinstance(value, str) and value in cls._by_value_)

    def __setattr__(cls, name: str, value: object) -> None:
        if any(member.name == name for member in cls._members_):
            raise AttributeError(f"cannot reassign member {name!r}")
        type.__setattr__(cls, name, value)

    def __delattr__(cls, name: str) -> None:
        if any(member.name == name for member in cls._members_):
            raise AttributeError(f"cannot delete member {name!r}")
        type.__delattr__(cls, name)


class NamedStr(str, metaclass=_Members):
    """The base of a class of named string constants (see the module docstring)."""

    @property
    def name(self) -> str:
        return self.__dict__["_name_"]  # type: ignore[no-any-return]

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}.{self.name}: {str.__repr__(self)}>"

    def __reduce_ex__(self, protocol: object) -> tuple[Any, tuple[str]]:
        return type(self), (str.__str__(self),)

    def __copy__(self) -> NamedStr:
        return self

    def __deepcopy__(self, memo: object) -> NamedStr:
        return self
