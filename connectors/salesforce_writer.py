"""The Salesforce connector's write kinds: account fields (logical names) and owner Tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import WriteItem, WriteKind
from connectors.records import WriteResult
from connectors.salesforce_fields import SalesforceFieldMap
from connectors.salesforce_records import AccountUpdate, TaskCreate
from connectors.salesforce_write import COLLECTION_LIMIT, SalesforceWriter
from connectors.write_fields import WriteFields, push_fields

ACCOUNT_FIELDS = "crm_account_fields"
TASKS = "crm_task"


def write_kinds(fields: WriteFields) -> dict[str, WriteKind]:
    """Account fields and Tasks, each through sObject Collections of 200."""
    return {
        # field writes are marked in flight: a replay after a crash between the call and its
        # record reads the records back rather than writing them all again
        ACCOUNT_FIELDS: WriteKind(
            ACCOUNT_FIELDS, COLLECTION_LIMIT, mark_in_flight=True, entity="account", fields=fields
        ),
        TASKS: WriteKind(TASKS, COLLECTION_LIMIT),
    }


class SalesforceOutboxWriter:
    """`connectors.base.Writer` for Salesforce: sObject Collections, 200 records a call."""

    def __init__(self, writes: SalesforceWriter, fields: SalesforceFieldMap) -> None:
        self.writes = writes
        self.fields = fields.write_fields()
        self._kinds = write_kinds(self.fields)

    @property
    def kinds(self) -> Mapping[str, WriteKind]:
        return self._kinds

    def push(self, kind: str, items: Sequence[WriteItem]) -> Sequence[WriteResult]:
        if kind == ACCOUNT_FIELDS:
            return self._account_fields(items)
        if kind == TASKS:
            return self.writes.create_tasks([_task(i) for i in items])
        raise ValueError(f"Salesforce writes no {kind!r}")

    def _account_fields(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        """Logical fields -> API names; a field outside `writable_fields` is refused unsent."""

        def send(writes: list[tuple[WriteItem, dict[str, Any]]]) -> list[WriteResult]:
            self.writes.account_fields.start_push()  # the describe is checked once per batch
            maybe = {item.target_id for item, _ in writes if item.maybe_sent}
            updates = [AccountUpdate(id=item.target_id, fields=api) for item, api in writes]
            return self.writes.update_accounts(updates, maybe_sent=maybe)

        allowed = ", ".join(sorted(self.fields.fields))
        return push_fields(
            self.fields,
            items,
            send,
            lambda outside: (
                f"refused: {', '.join(outside)} not in writable_fields of the "
                f"Salesforce field map (allowed: {allowed})"
            ),
        )


def _task(item: WriteItem) -> TaskCreate:
    data = {**item.payload, "key": item.idempotency_key()}
    if isinstance(data.get("due_date"), str):
        data["due_date"] = dt.date.fromisoformat(data["due_date"])
    return TaskCreate(**data)
