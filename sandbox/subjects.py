"""Helpdesk-like ticket subjects (`sandbox serve --subjects helpdesk`): mostly distinct, as a
real helpdesk's are.

By default the sandbox's tickets repeat a dozen template subjects, so anything that grows with
the number of distinct subjects (the repeated-issue rule's topic mix, its subject caches)
looks free on it. A real helpdesk's subjects are written by customers: words from a
long-tailed vocabulary, rarely the same subject twice, and some recurring problems per
account that the rule exists to find. `SubjectMaker` draws them so:

- a vocabulary of `words` distinct pseudo-words (two to four syllables), used with Zipf
  frequencies (exponent `zipf`): a few words in many subjects, most in a handful;
- an ordinary subject is 3-8 such words;
- each account has 0-3 recurring problems, each a fixed pair of words; `problem_share` of its
  tickets are one of them plus one word (two such tickets are 0.5 alike by the rule's Jaccard,
  its default threshold), so clusters form the way they would on real tickets.

Deterministic for a seed, an account and a ticket (a ticket renders the same subject every
time it is served); the generator knows nothing of how the rule counts, it only shapes text.
The default worlds (and every held-out seed's figures) keep the template subjects.
"""

from __future__ import annotations

import itertools
import random
from bisect import bisect

KINDS = ("templates", "helpdesk")  # `sandbox serve --subjects`: the default worlds', or these
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def vocabulary(n: int, seed: int) -> list[str]:
    """`n` distinct pseudo-words, shuffled by `seed` (their rank is their frequency)."""
    rng = random.Random(seed)
    words: list[str] = []
    seen: set[str] = set()
    for length in itertools.cycle((2, 3, 4)):
        word = "".join(rng.choice(SYLLABLES) for _ in range(length))
        if word not in seen:
            seen.add(word)
            words.append(word)
            if len(words) == n:
                return words
    raise AssertionError("unreachable")


class SubjectMaker:
    def __init__(
        self, seed: int, words: int = 20_000, zipf: float = 1.1, problem_share: float = 0.3
    ) -> None:
        self.seed = seed
        self.words = vocabulary(words, seed)
        self.cumulative = list(itertools.accumulate(1.0 / (r**zipf) for r in range(1, words + 1)))
        self.problem_share = problem_share
        self._problems: dict[int, list[str]] = {}

    def word(self, rng: random.Random) -> str:
        return self.words[bisect(self.cumulative, rng.random() * self.cumulative[-1])]

    def problems(self, account: int) -> list[str]:
        """The account's recurring problems (fixed for the seed and the account)."""
        if account not in self._problems:
            rng = random.Random(f"{self.seed}:{account}")
            pick = self.words[50:5_000]  # neither the commonest words nor the rarest
            self._problems[account] = [
                f"{rng.choice(pick)} {rng.choice(pick)}" for _ in range(rng.randint(0, 3))
            ]
        return self._problems[account]

    def subject(self, account: int, ticket: int) -> str:
        """The subject of the account's ticket (`ticket`: any number the ticket keeps)."""
        rng = random.Random((self.seed << 40) ^ ticket)
        problems = self.problems(account)
        if problems and rng.random() < self.problem_share:
            return f"{rng.choice(problems)} {self.word(rng)}".capitalize()
        return " ".join(self.word(rng) for _ in range(rng.randint(3, 8))).capitalize()
