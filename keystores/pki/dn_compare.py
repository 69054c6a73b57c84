"""`dn normalize` and `dn compare`: two DNs compared as AMS compares them (their normal forms must be identical), and
every difference explained. Apart from keystores.pki.dn, which serves these names too, so that the commands that
only read and write DNs (certreq, selfsign, sign) do not load them (start-up speed)."""

from __future__ import annotations

from keystores.frozen import FrozenValue
from keystores.pki.dn import Attribute, parse_dn


def normalize(text: str, *, racf: bool = False) -> str:
    """`dn normalize`: the MQ/AMS form, or RACF's dotted CN-first form."""
    dn = parse_dn(text)
    return dn.racf() if racf else dn.normalized()


class Comparison(FrozenValue):
    """The outcome of `dn compare`: equal as AMS compares them, and if not, each reason in words."""

    equal: bool
    normal_a: str
    normal_b: str
    reasons: tuple[str, ...]
    notes: tuple[str, ...]
    _fields = ("equal", "normal_a", "normal_b", "reasons", "notes")

    def __init__(self, equal: bool, normal_a: str, normal_b: str, reasons: tuple[str, ...] = (),
                 notes: tuple[str, ...] = ()) -> None:
        init = object.__setattr__
        init(self, "equal", equal)
        init(self, "normal_a", normal_a)
        init(self, "normal_b", normal_b)
        init(self, "reasons", reasons)
        init(self, "notes", notes)

    def as_dict(self) -> dict[str, object]:
        return {"equal": self.equal, "a": self.normal_a, "b": self.normal_b, "reasons": list(self.reasons),
                "notes": list(self.notes)}


def _squeeze(value: str) -> str:
    return " ".join(value.split())


def compare(a_text: str, b_text: str) -> Comparison:
    """Compare two DNs as AMS does (their normal forms must be identical) and explain every difference.

    Reasons name the kind of difference: `order`, `case` of a value, an extra `blank`, a `missing` part,
    a different `value`, or a different `keyword` for the same attribute (ST/SP).
    """
    a, b = parse_dn(a_text), parse_dn(b_text)
    na, nb = a.normalized(), b.normalized()
    notes = []
    if na == nb:
        if a_text.strip() != b_text.strip():
            notes.append("equal once normalised (attribute-name case or padding blanks differ only)")
        return Comparison(True, na, nb, (), tuple(notes))

    reasons: list[str] = []
    left, right = a.attributes(), b.attributes()
    by_oid_a: dict[str, list[Attribute]] = {}
    by_oid_b: dict[str, list[Attribute]] = {}
    for attr in left:
        by_oid_a.setdefault(attr.oid, []).append(attr)
    for attr in right:
        by_oid_b.setdefault(attr.oid, []).append(attr)
    for oid in list(dict.fromkeys([*by_oid_a, *by_oid_b])):
        xs, ys = by_oid_a.get(oid, []), by_oid_b.get(oid, [])
        for x, y in zip(xs, ys, strict=False):
            if x.keyword != y.keyword:
                reasons.append(f"keyword: A writes {x.keyword}, B writes {y.keyword} for the same attribute "
                               "(AMS compares the text)")
            if x.value == y.value:
                continue
            if x.value.casefold() == y.value.casefold():
                reasons.append(f"case: {x.keyword} is '{x.value}' in A but '{y.value}' in B")
            elif _squeeze(x.value) == _squeeze(y.value) or x.value.replace(" ", "") == y.value.replace(" ", ""):
                more = "A" if len(x.value) > len(y.value) else "B"
                reasons.append(f"blank: {x.keyword} has an extra blank in {more} ('{x.value}' vs '{y.value}')")
            elif _squeeze(x.value).casefold() == _squeeze(y.value).casefold():
                reasons.append(f"case and blank: {x.keyword} is '{x.value}' in A but '{y.value}' in B")
            else:
                reasons.append(f"value: {x.keyword} is '{x.value}' in A but '{y.value}' in B")
        for x in xs[len(ys):]:
            reasons.append(f"missing: B has no {x.text()} (A has it)")
        for y in ys[len(xs):]:
            reasons.append(f"missing: A has no {y.text()} (B has it)")
    order_a = [x.oid for x in left]
    order_b = [y.oid for y in right]
    common = [o for o in order_a if o in by_oid_b]
    common_b = [o for o in order_b if o in by_oid_a]
    if common != common_b:
        reasons.append("order: the parts are in a different order: A is "
                       f"{','.join(x.keyword for x in left)}; B is {','.join(y.keyword for y in right)}")
    elif [len(r) for r in a.rdns] != [len(r) for r in b.rdns] and not reasons:
        reasons.append("grouping: the same parts are grouped into multi-valued parts ('+') differently")
    if not reasons:  # the parsers agree on every part, so only the escaping or spelling can differ
        reasons.append("value: the normalised texts differ")
    return Comparison(False, na, nb, tuple(reasons), tuple(notes))
