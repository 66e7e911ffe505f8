"""Salesforce writes: account fields and Tasks through sObject Collections, 200 per call."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from connectors.confirm import same_value, send_confirmed
from connectors.errors import ConnectorError, Fatal, Retriable
from connectors.http import classify_code, retrying
from connectors.records import WriteResult
from connectors.salesforce_describe import DEFAULT_TTL, FIELD_ERRORS, AccountFields
from connectors.salesforce_records import AccountUpdate, TaskCreate
from connectors.salesforce_tasks import key_marker, quote, task_record

if TYPE_CHECKING:
    from connectors.salesforce import SalesforceConnector

logger = logging.getLogger(__name__)
COLLECTION_LIMIT = 200
Pending = list[tuple[int, dict[str, Any]]]
# reads back which of the records (by input index) already hold their values -> created id
Confirm = Callable[[Pending], dict[int, str | None]]


def chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


class SalesforceWriter:
    """Batches writes into collection calls and maps per-record results back in input order."""

    def __init__(
        self, connector: SalesforceConnector, describe_ttl: dt.timedelta = DEFAULT_TTL
    ) -> None:
        self.connector = connector
        self.account_fields = AccountFields(self._describe_account, ttl=describe_ttl)

    def refuse(self, update: AccountUpdate) -> Fatal | None:
        """Refuse, before any call, a write to a field outside the allow-list or the org."""
        allowed = set(self.connector.fields.write_fields().api_names())
        outside = sorted(set(update.fields) - allowed)
        if outside:
            return Fatal(
                f"refused: {', '.join(outside)} not in writable_fields of the Salesforce field "
                f"map (allowed: {', '.join(sorted(allowed))})",
                code="FIELD_NOT_WRITABLE",
            )
        described = self.account_fields.get()
        if described is None or not described.names:
            return None  # describe failed: unchecked, as the warning said
        missing = sorted(set(update.fields) - described.names)
        if missing:
            return Fatal(
                f"refused: Account has no field {', '.join(missing)} in this org (describe of "
                f"{described.fetched_at:%Y-%m-%d %H:%M} UTC)",
                code="INVALID_FIELD",
            )
        read_only = sorted(set(update.fields) & described.read_only)
        if read_only:
            return Fatal(
                f"refused: Account field {', '.join(read_only)} is not updateable by this API "
                f"user (describe of {described.fetched_at:%Y-%m-%d %H:%M} UTC)",
                code="INVALID_FIELD_FOR_INSERT_UPDATE",
            )
        return None

    def _describe_account(self) -> Any:
        sf, timeout = self.connector.sf, self.connector.policy.timeout
        return self.connector.request(
            lambda: sf.restful("sobjects/Account/describe", timeout=timeout)
        )

    def update_accounts(
        self, updates: Sequence[AccountUpdate], maybe_sent: Collection[str] = ()
    ) -> list[WriteResult]:
        """Accounts in `maybe_sent` are read back first and skipped if they hold the values."""
        results: dict[int, WriteResult] = {}
        pending: list[tuple[int, dict[str, Any]]] = []
        for i, update in enumerate(updates):
            refusal = self.refuse(update)
            if refusal is not None:
                results[i] = WriteResult.failure(update.id, refusal)
            else:
                record = {"attributes": {"type": "Account"}, "id": update.id, **update.fields}
                pending.append((i, record))
        self._collections(
            "composite/sobjects",
            "PATCH",
            pending,
            results,
            confirm=self._accounts_confirmed,
            check_first={i for i, u in enumerate(updates) if u.id in maybe_sent},
        )
        sent = [results[i] for i, _ in pending]
        if any(not r.ok and r.error_code in FIELD_ERRORS for r in sent):
            self.account_fields.recheck()  # the org's fields may have changed since the describe
        return [results[i] for i in range(len(updates))]

    def create_tasks(self, tasks: Sequence[TaskCreate]) -> list[WriteResult]:
        """Upsert by `task_key_field` when the org has one; else create once, checked by key."""
        key_field = self.connector.fields.task_key_field
        results: dict[int, WriteResult] = {}
        pending: list[tuple[int, dict[str, Any]]] = []
        existing = {} if key_field else self._existing_tasks(tasks)
        for i, task in enumerate(tasks):
            if task.key in existing:
                results[i] = WriteResult.success(task.key, created_id=existing[task.key])
                continue
            record = task_record(task)
            if key_field:
                record[key_field] = task.key
            pending.append((i, record))
        if key_field:
            self._collections(
                f"composite/sobjects/Task/{key_field}",
                "PATCH",
                pending,
                results,
                confirm=self._tasks_confirmed,
            )
        else:  # a plain create is not idempotent: the key marker makes a later retry safe
            self._collections("composite/sobjects", "POST", pending, results, idempotent=False)
        return [
            results[i].model_copy(update={"target_id": task.key}) for i, task in enumerate(tasks)
        ]

    def _existing_tasks(self, tasks: Sequence[TaskCreate]) -> dict[str, str]:
        """Key -> Task Id of tasks already created (their Description carries the key marker)."""
        found: dict[str, str] = {}
        for chunk in chunks(tasks, COLLECTION_LIMIT):
            what_ids = ", ".join(sorted({quote(t.what_id) for t in chunk}))
            subjects = ", ".join(sorted({quote(t.subject) for t in chunk}))
            soql = (
                "SELECT Id, Description FROM Task "
                f"WHERE WhatId IN ({what_ids}) AND Subject IN ({subjects})"
            )
            rows = self.connector.query(soql)
            for task in chunk:
                marker = key_marker(task.key)
                for row in rows:
                    if marker in (row.get("Description") or ""):
                        found[task.key] = str(row["Id"])
        return found

    def _accounts_confirmed(self, records: Pending) -> dict[int, str | None]:
        """Records whose Account already holds every field value sent (one SOQL query)."""
        fields = sorted({f for _, r in records for f in r if f not in ("attributes", "id")})
        ids = ", ".join(sorted({quote(_target(r)) for _, r in records}))
        rows = self.connector.query(
            f"SELECT Id, {', '.join(fields)} FROM Account WHERE Id IN ({ids})"
        )
        by_id = {str(row.get("Id"))[:15]: row for row in rows}
        done: dict[int, str | None] = {}
        for i, record in records:
            row = by_id.get(_target(record)[:15])
            if row is not None and all(
                same_value(v, row.get(f))
                for f, v in record.items()
                if f not in ("attributes", "id")
            ):
                done[i] = None
        return done

    def _tasks_confirmed(self, records: Pending) -> dict[int, str | None]:
        """Tasks already upserted under their key -> their Id (one SOQL query)."""
        field = self.connector.fields.task_key_field
        assert field is not None  # only upserts by key field are confirmed
        keys = ", ".join(sorted({quote(str(r[field])) for _, r in records}))
        rows = self.connector.query(f"SELECT Id, {field} FROM Task WHERE {field} IN ({keys})")
        found = {str(row.get(field)): str(row["Id"]) for row in rows}
        return {i: found[r[field]] for i, r in records if r[field] in found}

    def _collections(
        self,
        path: str,
        method: str,
        pending: Pending,
        results: dict[int, WriteResult],
        *,
        idempotent: bool = True,
        confirm: Confirm | None = None,
        check_first: Collection[int] = (),
    ) -> None:
        """Send `pending` in chunks of 200; re-send lock failures under the shared retry
        policy (connectors/http.py), then leave them retriable for the outbox.

        With `confirm`, a call left unanswered is not re-sent whole: the records are read
        back and only those not yet holding their values are sent again; records in
        `check_first` are read back before the first send.
        """
        todo, first = pending, check_first

        def send_round() -> None:
            nonlocal todo, first
            locked: Pending = []
            for chunk in chunks(todo, COLLECTION_LIMIT):
                self._send_chunk(path, method, chunk, results, locked, idempotent, confirm, first)
            first = ()  # a lock-error re-send follows an answer: nothing to read back
            if locked:
                todo = locked
                raise Retriable(f"{len(locked)} records locked", code="UNABLE_TO_LOCK_ROW")

        with contextlib.suppress(Retriable):  # the locked records keep their retriable results
            retrying(self.connector.policy)(send_round)

    def _send_chunk(
        self,
        path: str,
        method: str,
        chunk: Sequence[tuple[int, dict[str, Any]]],
        results: dict[int, WriteResult],
        retry: Pending,
        idempotent: bool,
        confirm: Confirm | None,
        check_first: Collection[int] = (),
    ) -> None:
        timeout = self.connector.policy.timeout
        records = dict(chunk)

        def send(indexes: list[int]) -> Any:
            payload = {"allOrNone": False, "records": [records[i] for i in indexes]}
            return self.connector.request(
                lambda: self.connector.sf.restful(
                    path, method=method, json=payload, timeout=timeout
                ),
                idempotent=idempotent and confirm is None,  # `confirm` re-sends what is unknown
            )

        confirmed: dict[int, str | None] = {}

        def read_back(indexes: list[int]) -> Collection[int]:
            assert confirm is not None
            confirmed.update(confirm([(i, records[i]) for i in indexes]))
            return confirmed.keys()

        if confirm is None:
            try:
                response, sent = send(list(records)), chunk
            except ConnectorError as exc:
                if not isinstance(exc, Retriable | Fatal):
                    raise  # auth and budget stop the drain; the outbox keeps the rows
                for i, record in chunk:
                    results[i] = WriteResult.failure(_target(record), exc)
                return
        else:
            out = send_confirmed(
                list(records), send, read_back, self.connector.policy, check_first=check_first
            )
            for i in out.confirmed:
                results[i] = WriteResult.success(_target(records[i]), created_id=confirmed[i])
            for i in out.failed:
                error = out.error or Retriable("write not confirmed", code="UNCONFIRMED")
                results[i] = WriteResult.failure(_target(records[i]), error)
            response, sent = out.response, [(i, records[i]) for i in out.sent]
        for (i, record), result in zip(sent, response or [], strict=False):
            target = result.get("id") or _target(record)
            if result.get("success"):
                # a create (POST) answers the new record's id; an upsert says `created`; a plain
                # update (PATCH) echoes the record's own id, which is not a creation
                created = result.get("id") if method == "POST" or "created" in result else None
                results[i] = WriteResult.success(_target(record), created_id=created)
                continue
            errors = result.get("errors") or [{}]
            error = classify_code(errors[0].get("statusCode"), errors[0].get("message"))
            results[i] = WriteResult.failure(target, error)
            if isinstance(error, Retriable):
                retry.append((i, record))
        for i, record in sent:
            if i not in results:
                results[i] = WriteResult.failure(
                    _target(record), Retriable("no per-record result returned", code="NO_RESULT")
                )


def _target(record: dict[str, Any]) -> str:
    return str(record.get("id") or "")
