"""Outbox kinds -> connector calls, each with the largest batch its API allows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from model.tables import OutboxItem
from sync.push import Route

SF_COLLECTION_MAX = 200  # sObject Collections: 200 records per call
ZD_UPDATE_MANY_MAX = 100  # organizations/update_many: 100 per call


def make_routes(
    salesforce: Any | None, zendesk: Any | None, notifier: Any | None = None
) -> dict[str, Route]:
    """Routes in drain order: creations before the comments that may refer to them."""
    routes: dict[str, Route] = {}
    if salesforce is not None:
        # field and tag writes are marked in flight too: a replay after a crash between the
        # call and its record reads the records back rather than writing them all again
        routes["sf_account_fields"] = Route(
            _account_fields(salesforce), SF_COLLECTION_MAX, mark_in_flight=True
        )
        routes["sf_task"] = Route(_tasks(salesforce), SF_COLLECTION_MAX)
    if zendesk is not None:
        routes["zd_org_fields"] = Route(
            _org_fields(zendesk), 25 * ZD_UPDATE_MANY_MAX, mark_in_flight=True
        )
        # 25 update_many jobs of 100 tickets, queued together and polled together; tickets
        # are read 10 batches at a time and cut into whole jobs of one tag change each
        routes["zd_ticket_tags"] = Route(
            _ticket_tags(zendesk),
            25 * ZD_UPDATE_MANY_MAX,
            window=10 * 25 * ZD_UPDATE_MANY_MAX,
            split=split_tag_jobs,
            mark_in_flight=True,
        )
        routes["zd_ticket"] = Route(_tickets(zendesk), 1)
        # escalation tags on a customer's tickets: the same jobs, the ticket named in the payload
        routes["zd_esc_tags"] = Route(
            _ticket_tags(zendesk, _payload_ticket),
            25 * ZD_UPDATE_MANY_MAX,
            window=10 * 25 * ZD_UPDATE_MANY_MAX,
            split=split_tag_jobs,
            mark_in_flight=True,
        )
        if hasattr(zendesk, "comment_on_ticket"):
            routes["zd_comment"] = Route(_comments(zendesk), 1, mark_in_flight=True)
    if notifier is not None:
        routes["notify"] = Route(_notify(notifier), 1)
    return routes


def _data(item: OutboxItem) -> dict[str, Any]:
    """The payload without sync's own bookkeeping (`_meta`)."""
    return {k: v for k, v in item.payload.items() if k != "_meta"}


def _account_fields(sf: Any):  # type: ignore[no-untyped-def]
    from connectors.salesforce_records import AccountUpdate

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        return sf.update_accounts(
            [AccountUpdate(id=str(i.target_id), fields=i.payload["fields"]) for i in items],
            maybe_sent={str(i.target_id) for i in items if _maybe_sent(i)},
        )

    return push


def _tasks(sf: Any):  # type: ignore[no-untyped-def]
    from connectors.salesforce_records import TaskCreate

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        tasks = []
        for i in items:
            p = _data(i)
            if isinstance(p.get("due_date"), str):
                p["due_date"] = dt.date.fromisoformat(p["due_date"])
            tasks.append(TaskCreate(key=i.key, **p))
        return sf.create_tasks(tasks)

    return push


def _org_fields(zd: Any):  # type: ignore[no-untyped-def]
    from connectors.zendesk_records import OrgUpdate

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        return zd.update_organizations(
            [OrgUpdate(id=int(str(i.target_id)), fields=i.payload["fields"]) for i in items],
            maybe_sent={int(str(i.target_id)) for i in items if _maybe_sent(i)},
        )

    return push


def _tag_change(item: OutboxItem) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return tuple(item.payload.get("add") or ()), tuple(item.payload.get("remove") or ())


def split_tag_jobs(
    items: Sequence[OutboxItem], job_size: int = ZD_UPDATE_MANY_MAX, jobs_per_batch: int = 25
) -> list[list[OutboxItem]]:
    """Batches of whole `update_many` jobs: each tag change's tickets in jobs of `job_size`,
    `jobs_per_batch` jobs a batch. Cutting the due order instead would split a change across
    batches and send it in more, half-empty calls."""
    changes: dict[tuple[tuple[str, ...], tuple[str, ...]], list[OutboxItem]] = {}
    for item in items:
        changes.setdefault(_tag_change(item), []).append(item)
    jobs = [
        group[start : start + job_size]
        for group in changes.values()
        for start in range(0, len(group), job_size)
    ]
    return [
        [item for job in jobs[start : start + jobs_per_batch] for item in job]
        for start in range(0, len(jobs), jobs_per_batch)
    ]


def _target_ticket(item: OutboxItem) -> int:
    return int(str(item.target_id))


def _payload_ticket(item: OutboxItem) -> int:
    return int(item.payload["ticket_id"])


def _ticket_tags(zd: Any, ticket_of: Callable[[OutboxItem], int] = _target_ticket):  # type: ignore[no-untyped-def]
    """Tickets sharing one tag change go out together: update_many?ids= takes 100 at once.

    A lone ticket that only gains or only loses tags uses the tags endpoint (one request, no
    job). One that gains some and loses others is a job of one ticket (`additional_tags` and
    `remove_tags` in one request), polled with the batch's other jobs at no extra request; as
    the batch's only job it takes the tags endpoint twice instead, fewer requests than a job
    and its polls.
    """

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        groups: dict[tuple[tuple[str, ...], tuple[str, ...]], list[OutboxItem]] = {}
        for i in items:
            groups.setdefault(_tag_change(i), []).append(i)
        by_item: dict[int, Any] = {}
        bulk: list[tuple[tuple[tuple[str, ...], tuple[str, ...]], list[OutboxItem]]] = []
        for (add, remove), group in groups.items():
            if not add and not remove:
                by_item.update({id(i): _noop(i) for i in group})
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
        maybe = {ticket_of(i) for _, group in bulk for i in group if _maybe_sent(i)}
        outcome = (
            zd.update_ticket_tag_groups(
                [(ids, add, remove) for ids, ((add, remove), _) in zip(tickets, bulk, strict=True)],
                maybe,
            )
            if bulk
            else []
        )
        for ids, (_, group), results in zip(tickets, bulk, outcome, strict=True):
            by_ticket = dict(zip(ids, results, strict=True))
            by_item.update({id(i): by_ticket[ticket_of(i)] for i in group})
        return [by_item[id(i)] for i in items]

    return push


def _tag_one(
    zd: Any, item: OutboxItem, add: tuple[str, ...], remove: tuple[str, ...], ticket_id: int
) -> Any:
    """Add, then remove, tags on one ticket through the synchronous tags endpoint."""
    res, maybe = None, _maybe_sent(item)
    if add:
        res = zd.add_ticket_tags(ticket_id, list(add), maybe)
    if (res is None or res.ok) and remove:
        res = zd.remove_ticket_tags(ticket_id, list(remove), maybe)
    return res if res is not None else _noop(item)


def _tickets(zd: Any):  # type: ignore[no-untyped-def]
    from connectors.zendesk_records import TicketCreate

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        return [zd.create_ticket(TicketCreate(**_data(i)), idempotency_key=i.key) for i in items]

    return push


def _comments(zd: Any):  # type: ignore[no-untyped-def]
    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        out = []
        for i in items:
            p = _data(i)
            if not p.get("zd_ticket_id"):
                out.append(
                    _failed(
                        i, "the escalation's engineering ticket is not created yet", retriable=True
                    )
                )
                continue
            out.append(
                zd.comment_on_ticket(
                    int(p["zd_ticket_id"]),
                    p["body"],
                    public=p.get("public", False),
                    status=p.get("status"),
                    key=i.key,
                    maybe_sent=_maybe_sent(i),
                )
            )
        return out

    return push


def _maybe_sent(item: OutboxItem) -> bool:
    """Whether an earlier send of this item may have landed with its answer lost: it failed
    before (`attempts`), failed and was put back by an operator (`last_error` stays), or was
    marked in flight by a process that died before recording the result (`IN_FLIGHT`)."""
    return item.attempts > 0 or bool(item.last_error)


def _notify(client: Any):  # type: ignore[no-untyped-def]
    """POST the payload to the generic webhook named in it (e.g. Slack)."""
    return post_json(client, lambda item: item.payload["url"], lambda item: item.payload["payload"])


def post_json(
    client: Any,
    url_of: Callable[[OutboxItem], str],
    body_of: Callable[[OutboxItem], Any] = lambda item: item.payload,
) -> Callable[[Sequence[OutboxItem]], Sequence[Any]]:
    """A pusher that POSTs each item's body as JSON to its URL; 2xx is success, 429/5xx
    retriable, anything else final with the receiver's answer."""

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        import httpx

        from connectors.records import WriteResult

        out = []
        for i in items:
            try:
                resp = client.post(url_of(i), json=body_of(i))
            except httpx.HTTPError as exc:
                out.append(_failed(i, f"{type(exc).__name__}: {exc}", retriable=True))
                continue
            ok = resp.is_success
            retriable = resp.status_code == 429 or resp.status_code >= 500
            out.append(
                WriteResult(
                    target_id=str(i.target_id),
                    ok=ok,
                    retriable=retriable and not ok,
                    error_code=None if ok else str(resp.status_code),
                    message=None if ok else resp.text[:500],
                )
            )
        return out

    return push


def _failed(item: OutboxItem, message: str, *, retriable: bool) -> Any:
    from connectors.records import WriteResult

    return WriteResult(
        target_id=str(item.target_id),
        ok=False,
        retriable=retriable,
        error_code=None,
        message=message,
    )


def _noop(item: OutboxItem) -> Any:
    from connectors.records import WriteResult

    return WriteResult(
        target_id=str(item.target_id), ok=True, retriable=False, error_code=None, message=None
    )
