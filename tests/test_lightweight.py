"""keystores.lightweight's suppress and cached_property do what contextlib.suppress and functools.cached_property
do (they replace them where a store is opened: start-up speed)."""

from __future__ import annotations

import contextlib
import functools

import pytest

from keystores.lightweight import cached_property, suppress


@pytest.mark.parametrize("make", [contextlib.suppress, suppress])
def test_suppress(make: type) -> None:
    reached = []
    with make(KeyError, OSError):
        reached.append(1)
        raise FileNotFoundError("a subclass of OSError")
    with make(KeyError):
        pass
    with pytest.raises(ValueError), make(KeyError, OSError):
        raise ValueError("not suppressed")
    with pytest.raises(KeyboardInterrupt), make(Exception):
        raise KeyboardInterrupt
    with make():
        reached.append(2)
    assert reached == [1, 2]


@pytest.mark.parametrize("make", [functools.cached_property, cached_property])
def test_cached_property(make: type) -> None:
    calls = []

    class Thing:
        @make
        def value(self) -> int:
            """Its docstring."""
            calls.append(1)
            return len(calls)

    first, second = Thing(), Thing()
    assert (first.value, first.value, second.value) == (1, 1, 2)
    assert first.__dict__["value"] == 1 and Thing.value.__doc__ == "Its docstring."
    first.value = 7  # type: ignore[misc]
    assert first.value == 7
    del first.value
    assert first.value == 3
