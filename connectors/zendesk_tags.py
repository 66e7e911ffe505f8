"""Ticket tag changes in the fewest requests: tickets sharing one change go out as one
`update_many?ids=` job of up to 100, and jobs are queued and polled together."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from connectors.base import WriteItem
from connectors.records import WriteResult
from connectors.zendesk_write import UPDATE_MANY_LIMIT, ZendeskWriter

Change = tuple[tuple[str, ...], tuple[str, ...]]


def tag_change(item: Any) -> Change:
    """(tags added, tags removed) of an item whose payload has `add`/`remove`."""
    return tuple(item.payload.get("add") or ()), tuple(item.payload.get("remove") or ())


def split_tag_jobs(
    items: Sequence[Any], job_size: int = UPDATE_MANY_LIMIT, jobs_per_batch: int = 25
) -> list[list[Any]]:
    """Batches of whole `update_many` jobs: each tag change's tickets in jobs of `job_size`,
    `jobs_per_batch` jobs a batch. Cutting the due order instead would split a change across
    batches and send it in more, half-empty calls."""
    changes: dict[Change, list[Any]] = {}
    for item in items:
        changes.setdefault(tag_change(item), []).append(item)
    jobs = [
        group[start : start + job_size]
        for group in changes.values()
        for start in range(0, len(group), job_size)
    ]
    return [
        [item for job in jobs[start : start + jobs_per_batch] for item in job]
        for start in range(0, len(jobs), jobs_per_batch)
    ]


def push_tags(
    zd: ZendeskWriter, items: Sequence[WriteItem], ticket_of: Callable[[WriteItem], int]
) -> list[WriteResult]:
    """Tickets sharing one tag change go out together: update_many?ids= takes 100 at once.

    A lone ticket that only gains or only loses tags uses the tags endpoint (one request, no
    job). One that gains some and loses others is a job of one ticket (`additional_tags` and
    `remove_tags` in one request), polled with the batch's other jobs at no extra request; as
    the batch's only job it takes the tags endpoint twice instead, fewer requests than a job
    and its polls.
    """
    groups: dict[Change, list[WriteItem]] = {}
    for i in items:
        groups.setdefault(tag_change(i), []).append(i)
    by_item: dict[int, WriteResult] = {}
    bulk: list[tuple[Change, list[WriteItem]]] = []
    for (add, remove), group in groups.items():
        if not add and not remove:
            by_item.update({id(i): WriteResult.success(i.target_id) for i in group})
        elif len(group) == 1 and not (add and remove):  # answered at once, no job to poll
            by_item[id(group[0])] = _tag_one(zd, group[0], add, remove, ticket_of(group[0]))
        else:
            bulk.append(((add, remove), group))
    if len(bulk) == 1 and len(bulk[0][1]) == 1:  # a lone add-and-remove, the only job
        (add, remove), [item] = bulk.pop()
        by_item[id(item)] = _tag_one(zd, item, add, remove, ticket_of(item))
    # one id per ticket in a job (two escalations can tag the same ticket alike); each
    # item gets its ticket's result
    tickets = [list(dict.fromkeys(ticket_of(i) for i in group)) for _, group in bulk]
    maybe = {ticket_of(i) for _, group in bulk for i in group if i.maybe_sent}
    changes = [(ids, add, remove) for ids, ((add, remove), _) in zip(tickets, bulk, strict=True)]
    outcome = zd.bulk_tag_groups(changes, maybe) if bulk else []
    for ids, (_, group), results in zip(tickets, bulk, outcome, strict=True):
        by_ticket = dict(zip(ids, results, strict=True))
        by_item.update({id(i): by_ticket[ticket_of(i)] for i in group})
    return [by_item[id(i)] for i in items]


def _tag_one(
    zd: ZendeskWriter, item: WriteItem, add: tuple[str, ...], remove: tuple[str, ...], ticket: int
) -> WriteResult:
    """Add, then remove, tags on one ticket through the synchronous tags endpoint."""
    res = None
    if add:
        res = zd.tags(ticket, list(add), add=True, maybe_sent=item.maybe_sent)
    if (res is None or res.ok) and remove:
        res = zd.tags(ticket, list(remove), add=False, maybe_sent=item.maybe_sent)
    return res if res is not None else WriteResult.success(item.target_id)
