"""Labels made unique, the one convention every backend shows a repeated name with: the second `name` is
`name (2)`, the third `name (3)` ... (as a desktop names the copy of a file). Part of pki/, the bottom layer.

UniqueLabels serves a store being read (labels taken one after another, one note for all renamings); free_label
serves a store being edited (a chain certificate added beside the entries already there). Names a format writes
into its own file follow that format's own rule instead (NSS gives a second CA nickname ` #2`, as certutil does).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Container


def numbered(base: str, number: int) -> str:
    """The `number`th use of `base` (number >= 2)."""
    return f"{base} ({number})"


def free_label(base: str, taken: Container[str]) -> str:
    """`base`, or its first numbered form not in `taken`."""
    label, number = base, 2
    while label in taken:
        label, number = numbered(base, number), number + 1
    return label


class UniqueLabels:
    """Labels made unique as a store is read: a taken one gets the first free numbered form, n = 2, 3...

    Linear in the number of labels (20,000 copies of one name cost 20,000 steps, not 200 million): each base
    remembers where its numbering stopped. `renamed` lists (label as read, label given), for one summary note.
    """

    def __init__(self) -> None:
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
        while (label := numbered(base, number)) in self.taken:
            number += 1
        self._next[base] = number  # every smaller number is taken, and `taken` only grows
        return label

    def summary(self, location: str, what: str = "entries") -> str | None:
        """One note for every renaming, or None: "N entries share a name ... 'a (2)' for 'a', ..."."""
        if not self.renamed:
            return None
        shown = ", ".join(f"'{new}' for '{old}'" for old, new in self.renamed[:3])
        more = f" and {len(self.renamed) - 3} more" if len(self.renamed) > 3 else ""
        return (f"{location}: {len(self.renamed)} {what} share a name with an earlier one and are shown renamed: "
                f"{shown}{more}")
