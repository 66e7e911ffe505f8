"""What the repeated-issue rule reads of the book's topic mix, per account (pure).

The rule compares each of an account's clusters with the rest of the book: `book_expected`
is the count the book's topic mix predicts for the account's volume (escalation/clusters.py).
Of the whole mix it reads, per cluster, one number: the signature's count and the book's
ticket total, minus the account's own. A `BookNorm` keeps the account's side of that sum, so
a later run can recompute `book_expected` against a newer mix without reading the account's
tickets again: if no cluster's value moved, the rule's answer for the account cannot have
moved with the book (its own tickets are covered by its inputs digest).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

BookMix = tuple[Counter[str], int]


@dataclass(frozen=True)
class BookNorm:
    """One cluster's book norm and the account's side of it: `volume` its problem tickets in
    the window, `own` those of its window and baseline carrying the signature, `own_total`
    all its problem tickets of window and baseline; `expected` the value the rule used."""

    signature: str
    volume: int
    own: int
    own_total: int
    expected: float

    def as_row(self) -> list[Any]:
        return [self.signature, self.volume, self.own, self.own_total, self.expected]

    @classmethod
    def from_row(cls, row: list[Any]) -> BookNorm:
        signature, volume, own, own_total, expected = row
        return cls(str(signature), int(volume), int(own), int(own_total), float(expected))

    def moved(self, mix: BookMix) -> bool:
        """Whether the rule would compute another `book_expected` against `mix`."""
        return book_expected(mix, self.signature, self.volume, self.own, self.own_total) != (
            self.expected
        )


def book_expected(mix: BookMix, signature: str, volume: int, own: int, own_total: int) -> float:
    """The count the rest of the book's topic mix predicts for `volume` tickets (0 when the
    account is the whole book)."""
    counts, total = mix
    others = total - own_total
    if others <= 0:
        return 0.0
    share = max(0, counts[signature] - own) / others
    return round(volume * share, 2)
