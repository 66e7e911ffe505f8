"""Outbox kinds -> connector calls, each with the largest batch its API allows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from model.tables import OutboxItem
from sync.push import Route

SF_COLLECTION_MAX = 200  # sObject Collections: 200 records per call
ZD_UPDATE_MANY_MAX = 100  # organizations/update_many: 100 per call


def make_routes(salesforce: Any | None, zendesk: Any | None) -> dict[str, Route]:
    routes: dict[str, Route] = {}
    if salesforce is not None:
        routes["sf_account_fields"] = Route(_account_fields(salesforce), SF_COLLECTION_MAX)
        routes["sf_task"] = Route(_tasks(salesforce), SF_COLLECTION_MAX)
    if zendesk is not None:
        routes["zd_org_fields"] = Route(_org_fields(zendesk), ZD_UPDATE_MANY_MAX)
        routes["zd_ticket_tags"] = Route(_ticket_tags(zendesk), 1)
        routes["zd_ticket"] = Route(_tickets(zendesk), 1)
    return routes


def _account_fields(sf: Any):  # type: ignore[no-untyped-def]
    from connectors.salesforce import AccountUpdate

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        return sf.update_accounts(
            [AccountUpdate(id=str(i.target_id), fields=i.payload["fields"]) for i in items]
        )

    return push


def _tasks(sf: Any):  # type: ignore[no-untyped-def]
    from connectors.salesforce import TaskCreate

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        tasks = []
        for i in items:
            p = dict(i.payload)
            if isinstance(p.get("due_date"), str):
                p["due_date"] = dt.date.fromisoformat(p["due_date"])
            tasks.append(TaskCreate(key=i.key, **p))
        return sf.create_tasks(tasks)

    return push


def _org_fields(zd: Any):  # type: ignore[no-untyped-def]
    from connectors.zendesk import OrgUpdate

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        return zd.update_organizations(
            [OrgUpdate(id=int(str(i.target_id)), fields=i.payload["fields"]) for i in items]
        )

    return push


def _ticket_tags(zd: Any):  # type: ignore[no-untyped-def]
    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        results = []
        for i in items:
            ticket_id = int(str(i.target_id))
            res = None
            if add := i.payload.get("add"):
                res = zd.add_ticket_tags(ticket_id, add)
            if (res is None or res.ok) and (remove := i.payload.get("remove")):
                res = zd.remove_ticket_tags(ticket_id, remove)
            results.append(res if res is not None else _noop(i))
        return results

    return push


def _tickets(zd: Any):  # type: ignore[no-untyped-def]
    from connectors.zendesk import TicketCreate

    def push(items: Sequence[OutboxItem]) -> Sequence[Any]:
        return [zd.create_ticket(TicketCreate(**i.payload), idempotency_key=i.key) for i in items]

    return push


def _noop(item: OutboxItem) -> Any:
    from connectors.records import WriteResult

    return WriteResult(
        target_id=str(item.target_id), ok=True, retriable=False, error_code=None, message=None
    )
