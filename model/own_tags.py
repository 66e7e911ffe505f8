"""The tags pulsehub itself writes on helpdesk tickets (health band, renewal risk, escalation
markers). They say what pulsehub thinks of the account, never what the customer's problem is,
so nothing that reads tickets as signals — scoring's repeated tags, the escalation rules'
issue clusters and book mix, the dashboard's repeat issues — may count them: once write-back
has tagged an account's open tickets `health_yellow`, that shared tag would otherwise join
every one of them into one "repeated issue"."""

from __future__ import annotations

from collections.abc import Iterable

OWN_TAG_PREFIXES = ("health_", "renewal_risk_", "pulsehub", "escalat")


def is_own_tag(tag: object, also: frozenset[str] = frozenset()) -> bool:
    """Whether pulsehub writes this tag: by prefix, or named in `also` (configured tags)."""
    text = str(tag)
    return text.startswith(OWN_TAG_PREFIXES) or text in also


def customer_tags(tags: Iterable[object], also: frozenset[str] = frozenset()) -> list[str]:
    """The tags in `tags` that are not pulsehub's own, in order."""
    return [str(t) for t in tags if t is not None and not is_own_tag(t, also)]
