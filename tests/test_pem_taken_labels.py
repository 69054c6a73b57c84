"""keystores.backends.pem.labels.TakenLabels gives the labels keystores.pki.labels.UniqueLabels gives (the PEM
reader's and writer's, which make UniqueLabels only once a label repeats), whatever the order of adds and peeks."""

from __future__ import annotations

import random

from keystores.backends.pem.labels import TakenLabels
from keystores.pki.labels import UniqueLabels


def test_the_same_labels_as_unique_labels_in_any_order_of_adds_and_peeks() -> None:
    rng = random.Random(15)
    for _ in range(300):
        taken, unique = TakenLabels(), UniqueLabels()
        bases = [rng.choice(["a", "b", "a (2)", "a (3)", "c"]) for _ in range(rng.randrange(1, 25))]
        for base in bases:
            step = rng.choice(["add", "peek", "take"])
            if step == "add":
                assert taken.add(base) == unique.add(base)
            elif step == "peek":
                assert taken.peek(base) == unique.peek(base)
            else:  # what the writer does with a label it writes as it is (taken.add)
                taken.taken.add(base)
                unique.taken.add(base)
            assert taken.taken == unique.taken


def test_no_unique_labels_is_made_while_every_label_is_new() -> None:
    labels = TakenLabels()
    assert [labels.add(name) for name in ("a", "b", "c")] == ["a", "b", "c"]
    assert labels.peek("d") == "d" and labels._unique is None
    assert labels.add("a") == "a (2)" and labels.peek("a") == "a (3)" and labels._unique is not None
    assert labels.add("a (3)") == "a (3)" and labels.add("a") == "a (4)"
