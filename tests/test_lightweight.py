"""keystores.lightweight's suppress, cached_property and ExitStack do what contextlib.suppress,
functools.cached_property and contextlib.ExitStack do (they replace them where a store is opened, audit and validate
included: start-up speed)."""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import pytest

from keystores.lightweight import ExitStack, cached_property, suppress


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


class _Context:
    """Records entering and leaving in `log`; on leaving, suppresses (`suppress`) or raises (`raises`)."""

    def __init__(self, name: str, log: list[Any], *, suppress: bool = False, raises: BaseException | None = None):
        self.name, self.log, self.suppress, self.raises = name, log, suppress, raises

    def __enter__(self) -> str:
        self.log.append(("enter", self.name))
        return self.name

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> bool:
        self.log.append(("exit", self.name, None if exc is None else str(exc)))
        if self.raises is not None:
            raise self.raises
        return self.suppress


def _run(make: type, contexts: list[dict[str, Any]], body: BaseException | None) -> tuple[list[Any], str]:
    log: list[Any] = []
    try:
        with make() as stack:
            values = [stack.enter_context(_Context(f"c{i}", log, **options)) for i, options in enumerate(contexts)]
            log.append(("values", values))
            if body is not None:
                raise body
    except BaseException as exc:  # what comes out is the point
        return log, f"{type(exc).__name__}: {exc}"
    return log, "ok"


@pytest.mark.parametrize("contexts", [
    [], [{}], [{}, {}, {}], [{}, {"suppress": True}, {}], [{"raises": KeyError("k")}, {}],
    [{}, {"raises": OSError("o")}, {"suppress": True}], [{"suppress": True}, {"raises": ValueError("v")}],
    [{"raises": KeyError("first")}, {"raises": ValueError("second")}],
])
@pytest.mark.parametrize("body", [None, ValueError("body"), KeyboardInterrupt("stop")])
def test_exit_stack(contexts: list[dict[str, Any]], body: BaseException | None) -> None:
    assert _run(ExitStack, contexts, body) == _run(contextlib.ExitStack, contexts, body)


def test_exit_stack_stops_at_a_failing_enter() -> None:
    log: list[Any] = []
    for make in (contextlib.ExitStack, ExitStack):

        class Refusing:
            def __enter__(self) -> None:
                raise OSError("cannot open")

            def __exit__(self, *details: Any) -> None:
                log.append("never")

        with pytest.raises(OSError), make() as stack:
            stack.enter_context(_Context(make.__name__, log))
            stack.enter_context(Refusing())
    assert log == [("enter", "ExitStack"), ("exit", "ExitStack", "cannot open")] * 2


def test_dates_are_the_datetime_modules_own_classes() -> None:
    """lightweight.dates() hands out the very classes `datetime` re-exports from its accelerator: values made from
    either are the same type, compare, hash and print alike."""
    import datetime

    from keystores.lightweight import dates

    found = dates()
    for name in ("date", "datetime", "time", "timedelta", "timezone", "tzinfo", "UTC", "MINYEAR", "MAXYEAR"):
        assert getattr(found, name) is getattr(datetime, name), name
    assert found.datetime(2030, 1, 30, 16, 46, tzinfo=found.UTC) == datetime.datetime(2030, 1, 30, 16, 46,
                                                                                      tzinfo=datetime.UTC)
