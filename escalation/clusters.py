"""Repeated-issue detection: group an account's recent tickets on the same problem (pure).

Two tickets are on the same problem when they share a specific tag (not in `ignore_tags`)
or their subjects are similar (Jaccard over normalized words >= `similarity`). Groups are
the connected components of that relation; the signature (two most shared words or the tag)
names the problem and stays stable as tickets join, so the dedup key does not churn.

A busy account files several tickets on every topic each month, so a count alone is not a
repeated issue: `expected` (the account's own rate for that problem over a baseline period)
lets the rule ask how surprising the count is (`poisson_tail`). A topic every account files
(how-to questions, a flaky integration the whole book reports) is not a problem of one
account either: `book_expected` is what the book's topic mix predicts for an account filing
this many tickets, counted by the cluster's signature (`signature_keys`), leaving the
account itself out.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from pydantic import BaseModel

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "cannot",
        "can't",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "please",
        "re",
        "fw",
        "fwd",
        "the",
        "this",
        "to",
        "up",
        "we",
        "when",
        "with",
        "why",
        "you",
        "your",
        "again",
        "still",
        "issue",
        "problem",
        "help",
        "urgent",
    ]
)
_WORD = re.compile(r"[a-z][a-z0-9]+")


@dataclass(slots=True)
class TicketFact:
    """The ticket fields escalation looks at: one per ticket in the rules' windows (tens of
    thousands a batch), so a plain slots dataclass, not a validated model."""

    helpdesk_id: int
    status: str
    created_at: datetime
    subject: str = ""
    priority: str | None = None
    tags: list[str] = field(default_factory=list)
    solved_at: datetime | None = None
    first_reply_minutes: float | None = None
    age_hours: float = 0.0


class IssueCluster(BaseModel):
    signature: str
    ticket_ids: list[int]
    subjects: list[str]
    first_at: datetime
    last_at: datetime
    baseline_count: int = 0
    expected: float = 0.0
    book_expected: float = 0.0


def count_matching(
    members: Sequence[TicketFact],
    others: Sequence[TicketFact],
    *,
    similarity: float,
    ignore_tags: Iterable[str] = (),
) -> int:
    """How many of `others` are on the same problem as the cluster `members` (same relation)."""
    ignored = {t.lower() for t in ignore_tags}
    cluster_tags = {g.lower() for t in members for g in t.tags} - ignored
    cluster_words = [subject_words(t.subject) for t in members]
    n = 0
    for other in others:
        if cluster_tags & {g.lower() for g in other.tags}:
            n += 1
            continue
        words = subject_words(other.subject)
        if any(jaccard(words, w) >= similarity for w in cluster_words):
            n += 1
    return n


def poisson_tail(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected): how surprising this many tickets are."""
    if observed <= 0:
        return 1.0
    term = math.exp(-expected)
    below = term
    for k in range(1, observed):
        term *= expected / k
        below += term
    return max(0.0, 1.0 - below)


# Subjects whose words and signatures are kept (each cache). A real helpdesk's subjects are
# mostly distinct ("Login fails for jsmith@acme.com"): at 65,536 entries the two caches held
# ~290 MiB once a large book's window filled them, for the process's life; 2,048 hold ~9 MiB
# and still keep the subjects a book repeats ("Password reset", a form's fixed subject).
SUBJECT_CACHE = 2048


@lru_cache(maxsize=SUBJECT_CACHE)
def subject_words(subject: str) -> frozenset[str]:
    """Lower-cased words of a subject without stopwords, digits-only tokens or one letter words.

    Cached (`SUBJECT_CACHE`): a book repeats some subjects across many tickets and runs."""
    return frozenset(w for w in _WORD.findall(subject.lower()) if w not in STOPWORDS)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def find_clusters(
    tickets: Sequence[TicketFact],
    *,
    min_tickets: int,
    similarity: float,
    ignore_tags: Iterable[str] = (),
) -> list[IssueCluster]:
    """Groups of at least `min_tickets` tickets on one problem, largest first."""
    ignored = {t.lower() for t in ignore_tags}
    words = [subject_words(t.subject) for t in tickets]
    tags = [{g.lower() for g in t.tags} - ignored for t in tickets]
    parent = list(range(len(tickets)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(tickets)):
        for j in range(i + 1, len(tickets)):
            if tags[i] & tags[j] or jaccard(words[i], words[j]) >= similarity:
                parent[root(j)] = root(i)

    groups: dict[int, list[int]] = {}
    for i in range(len(tickets)):
        groups.setdefault(root(i), []).append(i)
    clusters = [
        _cluster(
            [tickets[i] for i in members], [words[i] for i in members], [tags[i] for i in members]
        )
        for members in groups.values()
        if len(members) >= min_tickets
    ]
    return sorted(clusters, key=lambda c: (-len(c.ticket_ids), c.signature))


def _cluster(
    members: list[TicketFact], words: list[frozenset[str]], tags: list[set[str]]
) -> IssueCluster:
    members_sorted = sorted(members, key=lambda t: (t.created_at, t.helpdesk_id))
    return IssueCluster(
        signature=_signature(words, tags),
        ticket_ids=[t.helpdesk_id for t in members_sorted],
        subjects=[t.subject for t in members_sorted],
        first_at=members_sorted[0].created_at,
        last_at=members_sorted[-1].created_at,
    )


def _signature(words: list[frozenset[str]], tags: list[set[str]]) -> str:
    """The most shared tag if most tickets carry it, else the two most shared subject words."""
    tag_counts = Counter(t for ts in tags for t in ts)
    if tag_counts:
        tag, n = min(tag_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if n * 2 > len(tags):
            return "tag-" + _slug(tag)
    word_counts = Counter(w for ws in words for w in ws)
    top = sorted(word_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    return "subj-" + "-".join(sorted(_slug(w) for w, _ in top)) if top else "subj-untitled"


def signature_keys(
    subject: str, tags: Iterable[str], ignore_tags: Iterable[str] = ()
) -> frozenset[str]:
    """Every signature a cluster holding this ticket could carry (tag, one word, word pair)."""
    return _signature_keys(subject, tuple(tags), tuple(ignore_tags))


@lru_cache(maxsize=SUBJECT_CACHE)
def _signature_keys(
    subject: str, tags: tuple[str, ...], ignore_tags: tuple[str, ...]
) -> frozenset[str]:
    ignored = {t.lower() for t in ignore_tags}
    keys = {"tag-" + _slug(t) for t in tags if t.lower() not in ignored}
    words = sorted({_slug(w) for w in subject_words(subject)})
    keys.update("subj-" + w for w in words)
    keys.update(f"subj-{a}-{b}" for i, a in enumerate(words) for b in words[i + 1 :])
    return frozenset(keys)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:40] or "x"
