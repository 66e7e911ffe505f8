"""The tags pulsehub itself writes on helpdesk tickets (health band, renewal risk, escalation
markers). They say what pulsehub thinks of the account, never what the customer's problem is,
so nothing that reads tickets as signals — scoring's repeated tags, the escalation rules'
issue clusters and book mix, the dashboard's repeat issues — may count them: once write-back
has tagged an account's open tickets `health_yellow`, that shared tag would otherwise join
every one of them into one "repeated issue".

For the same reason a ticket's stored fingerprints leave band tags out: `content_key` (what the
ticket says) and `state_key` (its status, priority, type and rating). The inputs digest sums
both, and the book topic mix `content_key`, instead of the helpdesk's `updated_at`: a clock
that moves when pulsehub's own tags are written and read back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

# the tags write-back moves as an account's health band or risk level moves (sync/writeback.py)
BAND_TAG_PREFIXES = ("health_", "renewal_risk_")
OWN_TAG_PREFIXES = (*BAND_TAG_PREFIXES, "pulsehub", "escalat")
CONTENT_KEY_BITS = 31  # a sum over millions of tickets stays inside SQLite's 64-bit integer


def is_own_tag(tag: object, also: frozenset[str] = frozenset()) -> bool:
    """Whether pulsehub writes this tag: by prefix, or named in `also` (configured tags)."""
    text = str(tag)
    return text.startswith(OWN_TAG_PREFIXES) or text in also


def customer_tags(tags: Iterable[object], also: frozenset[str] = frozenset()) -> list[str]:
    """The tags in `tags` that are not pulsehub's own, in order."""
    return [str(t) for t in tags if t is not None and not is_own_tag(t, also)]


def ticket_content_key(subject: str | None, tags: Iterable[object] | None) -> int:
    """A 31-bit fingerprint of what a ticket says about the customer's problem: its subject and
    tags, less the band tags write-back moves. Kept per ticket (`Ticket.content_key`) so "did
    the book's topics change" is a sum in the database (escalation/scope.py `book_digest`)
    rather than a re-read of every ticket, and a band tag pulsehub wrote and read back does not
    count as a change. Every other tag is kept, own escalation markers included: whether a
    ticket counts at all can turn on them."""
    kept = [
        str(t) for t in tags or () if t is not None and not str(t).startswith(BAND_TAG_PREFIXES)
    ]
    return _key("\x1f".join([subject or "", *kept]))


def ticket_state_key(
    status: str | None, priority: str | None, type_: str | None, csat: str | None
) -> int:
    """A 31-bit fingerprint of the ticket's state fields that scoring and the escalation rules
    read and an in-place edit changes without touching a count or a sum (open -> hold, normal
    -> urgent, a good rating re-rated bad). With `content_key` it stands in for the helpdesk's
    `updated_at` in the inputs digest (scoring/changes.py), which also moves when pulsehub's
    own band tags are written and read back: that echo is not a change of the account's
    inputs, so it re-scores nothing."""
    return _key("\x1f".join(v or "" for v in (status, priority, type_, csat)))


def _key(text: str) -> int:
    digest = hashlib.blake2b(text.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") >> (32 - CONTENT_KEY_BITS)
