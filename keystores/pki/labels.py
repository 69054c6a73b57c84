"""Labels made unique as a store is read, by one helper the backends share (part of pki/, the bottom layer)."""

from __future__ import annotations

from collections.abc import Callable


class UniqueLabels:
    """Labels made unique as a store is read: a taken one gets the first free `numbered(base, n)` form, n = 2, 3...

    Linear in the number of labels (20,000 copies of one name cost 20,000 steps, not 200 million): each base
    remembers where its numbering stopped. `renamed` lists (label as read, label given), for one summary note.
    """

    def __init__(self, numbered: Callable[[str, int], str]) -> None:
        self.numbered = numbered
        self.taken: set[str] = set()
        self.renamed: list[tuple[str, str]] = []
        self._next: dict[str, int] = {}

    def add(self, base: str) -> str:
        """`base`, or its first free numbered form; taken from now on."""
        label = self.peek(base)
        self.taken.add(label)
        if label != base:
            self.renamed.append((base, label))
        return label

    def peek(self, base: str) -> str:
        """What add(base) would give, without taking it."""
        if base not in self.taken:
            return base
        number = self._next.get(base, 2)
        while (label := self.numbered(base, number)) in self.taken:
            number += 1
        self._next[base] = number  # every smaller number is taken, and `taken` only grows
        return label

    def summary(self, location: str, what: str = "entries") -> str | None:
        """One note for every renaming, or None: "N entries share a name ... 'a' is shown as 'a (2)', ..."."""
        if not self.renamed:
            return None
        shown = ", ".join(f"'{new}' for '{old}'" for old, new in self.renamed[:3])
        more = f" and {len(self.renamed) - 3} more" if len(self.renamed) > 3 else ""
        return (f"{location}: {len(self.renamed)} {what} share a name with an earlier one and are shown renamed: "
                f"{shown}{more}")
