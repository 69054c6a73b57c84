"""Frozen value classes without the dataclasses module: equality, hashing, repr and `with_()` over declared fields.

A speed device (bench/bench_core.py, the "start-up:" rows; issue 15): every command imports keystores.model, and
as dataclasses its eight classes cost about 7 ms of code generation (each generated method is compiled with exec)
on top of importing dataclasses itself, which imports inspect (another 7 ms): together a third of the budget of
`keystores list x.pem` above `python -c pass`. A class here writes its `__init__` by hand and names its fields in
`_fields`; this base gives what `@dataclass(frozen=True)` generated from them:

- `==` between instances of the same class compares the field values in order, `hash()` hashes them;
- `repr()` is `Name(field=value, ...)`, without the fields named in `_hidden` (secrets, keys);
- assigning or deleting a field raises FrozenInstanceError (an AttributeError); `__init__` sets fields with
  `object.__setattr__`, so a subclass's descriptors (keystores.lazy_entries) still see them;
- `with_(**changes)` is `dataclasses.replace`: a new instance of the same class with some fields changed.

tests/test_frozen.py holds these classes to what dataclasses did for them.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class FrozenInstanceError(AttributeError):
    """A field of a frozen value was assigned or deleted (dataclasses.FrozenInstanceError's counterpart)."""


class FrozenValue:
    """The base: see the module docstring. Subclasses set `_fields` (in `__init__`'s order) and `_hidden`."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _hidden: ClassVar[frozenset[str]] = frozenset()

    def _values(self) -> tuple[Any, ...]:
        return tuple([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined, no-any-return]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields if name not in self._hidden)
        return f"{type(self).__qualname__}({shown})"

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._fields or "_fields" in type(self).__dict__:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._fields or "_fields" in type(self).__dict__:
            raise FrozenInstanceError(f"cannot delete field {name!r}")
        object.__delattr__(self, name)

    def with_(self, **changes: Any) -> Any:
        """A copy of the same class with `changes` applied (what dataclasses.replace did)."""
        unknown = set(changes) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__qualname__} has no field(s) {', '.join(sorted(unknown))}")
        values = {name: getattr(self, name) for name in self._fields}
        values.update(changes)
        return type(self)(**values)


class Record:
    """A result whose fields may be changed after it is made (what `@dataclass` without frozen=True generated):
    `==` between instances of the same class compares `_fields` in order, `repr()` names them (without `_hidden`),
    and it is unhashable. keystores.ops.lifecycle's results use it; tests/test_lifecycle_lean.py holds them to the
    dataclasses they replaced."""

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _hidden: ClassVar[frozenset[str]] = frozenset()

    _values = FrozenValue._values
    __eq__ = FrozenValue.__eq__
    __repr__ = FrozenValue.__repr__
    __hash__ = None  # type: ignore[assignment]


def field_defaults(cls: type[FrozenValue | Record]) -> dict[str, Any]:
    """The fields of `cls` that have a default, and the default, read from its `__init__`'s signature."""
    init = cls.__init__
    code = init.__code__
    names = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
    positional = code.co_varnames[1:code.co_argcount]
    defaults = dict(zip(positional[len(positional) - len(init.__defaults__ or ()):], init.__defaults__ or (),
                        strict=True))
    defaults.update(init.__kwdefaults__ or {})
    return {name: defaults[name] for name in names if name in defaults and name in cls._fields}
