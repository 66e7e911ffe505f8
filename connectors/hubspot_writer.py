"""The HubSpot connector's write kinds: company properties (logical names) and owner tasks.

Company properties go through `batch/update`, 100 companies a call; setting a value twice
is harmless, so a replay needs no read-back. A 207 answer fails only the inputs its
`errors` name (each with HubSpot's message), the others are applied.

Tasks go through `batch/create`. HubSpot has no idempotency header, so pulsehub's key is
stored in a task property (`task_key_property`) and an item that may have been sent before
(its answer lost) is first searched by that key: found, it is reported created, not sent
again. Results come back in no promised order and are matched to inputs by that key; an
input neither created nor failed is reported retriable, so the next attempt checks first.
Simplified: HubSpot's search index trails a create by a few seconds, so a check made within
seconds of a lost create could miss it; the outbox's backoff puts retries further apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import WriteItem, WriteKind
from connectors.errors import Fatal, Retriable
from connectors.http import classify_code
from connectors.hubspot_fields import HubSpotFieldMap
from connectors.hubspot_transport import HubSpotTransport
from connectors.records import WriteResult
from connectors.write_fields import push_fields

ACCOUNT_FIELDS = "crm_account_fields"
TASKS = "crm_task"
BATCH_LIMIT = 100
TASK_TO_COMPANY = 192  # HUBSPOT_DEFINED association type: task -> company
PRIORITY = {"high": "HIGH", "urgent": "HIGH", "normal": "MEDIUM", "medium": "MEDIUM", "low": "LOW"}
RETRIABLE_CATEGORIES = frozenset({"RATE_LIMITS", "INTERNAL_ERROR", "TIMEOUT"})


def _error(entry: Mapping[str, Any]) -> Retriable | Fatal:
    category = entry.get("category")
    message = str(entry.get("message") or category or "HubSpot refused the write")
    error = classify_code(category, message)
    if category in RETRIABLE_CATEGORIES:
        return Retriable(message, code=category)
    return error if isinstance(error, Retriable | Fatal) else Fatal(message, code=category)


def _failed_by(errors: list[Mapping[str, Any]], key: str) -> dict[str, Retriable | Fatal]:
    """Value of context[`key`] -> the error that names it."""
    out: dict[str, Retriable | Fatal] = {}
    for entry in errors:
        for value in (entry.get("context") or {}).get(key) or []:
            out[str(value)] = _error(entry)
    return out


class HubSpotOutboxWriter:
    """`connectors.base.Writer` for HubSpot: batch update of companies, batch create of tasks."""

    def __init__(self, http: HubSpotTransport, fields: HubSpotFieldMap) -> None:
        self.http = http
        self.fields = fields.write_fields()
        self.key_property = fields.task_key_property
        self._kinds = {
            ACCOUNT_FIELDS: WriteKind(
                ACCOUNT_FIELDS, BATCH_LIMIT, entity="account", fields=self.fields
            ),
            # marked in flight: a crash before the answer is recorded leaves a trace, and the
            # next send searches the key before creating again
            TASKS: WriteKind(TASKS, BATCH_LIMIT, mark_in_flight=True),
        }

    @property
    def kinds(self) -> Mapping[str, WriteKind]:
        return self._kinds

    def push(self, kind: str, items: Sequence[WriteItem]) -> Sequence[WriteResult]:
        if kind == ACCOUNT_FIELDS:
            allowed = ", ".join(sorted(self.fields.fields))
            return push_fields(
                self.fields,
                items,
                self._update_companies,
                lambda outside: (
                    f"refused: {', '.join(outside)} not in writable_fields of the "
                    f"HubSpot property map (allowed: {allowed})"
                ),
            )
        if kind == TASKS:
            return self._create_tasks(items)
        raise ValueError(f"HubSpot writes no {kind!r}")

    def _update_companies(
        self, writes: list[tuple[WriteItem, dict[str, Any]]]
    ) -> list[WriteResult]:
        inputs = [
            {"id": item.target_id, "properties": {k: _value(v) for k, v in api.items()}}
            for item, api in writes
        ]
        _, body = self.http.request(
            "POST", "/crm/v3/objects/companies/batch/update", json={"inputs": inputs}
        )
        failed = _failed_by(body.get("errors") or [], "ids")
        applied = {str(r.get("id")) for r in body.get("results") or []}
        results = []
        for item, _ in writes:
            if item.target_id in failed:
                results.append(WriteResult.failure(item.target_id, failed[item.target_id]))
            elif item.target_id in applied:
                results.append(WriteResult.success(item.target_id))
            else:
                missing = Retriable("HubSpot answered no result for this company", code="NO_RESULT")
                results.append(WriteResult.failure(item.target_id, missing))
        return results

    def _create_tasks(self, items: Sequence[WriteItem]) -> list[WriteResult]:
        keys = [item.idempotency_key() for item in items]
        existing = self._existing([k for k, i in zip(keys, items, strict=True) if i.maybe_sent])
        to_send = [(k, i) for k, i in zip(keys, items, strict=True) if k not in existing]
        created: dict[str, str] = {}
        failed: dict[str, Retriable | Fatal] = {}
        if to_send:
            inputs = [self._task_input(key, item) for key, item in to_send]
            _, body = self.http.request(
                "POST",
                "/crm/v3/objects/tasks/batch/create",
                json={"inputs": inputs},
                idempotent=False,
            )
            for result in body.get("results") or []:
                key = (result.get("properties") or {}).get(self.key_property)
                if key:
                    created[str(key)] = str(result["id"])
            failed = _failed_by(body.get("errors") or [], self.key_property)
        results = []
        for key, item in zip(keys, items, strict=True):
            if key in existing or key in created:
                results.append(
                    WriteResult.success(item.target_id, existing.get(key) or created[key])
                )
            elif key in failed:
                results.append(WriteResult.failure(item.target_id, failed[key]))
            else:
                unknown = Retriable("HubSpot answered no result for this task", code="NO_RESULT")
                results.append(WriteResult.failure(item.target_id, unknown))
        return results

    def _existing(self, keys: list[str]) -> dict[str, str]:
        """Key -> id of tasks already created with these keys (one search per 100 keys)."""
        found: dict[str, str] = {}
        for start in range(0, len(keys), BATCH_LIMIT):
            chunk = keys[start : start + BATCH_LIMIT]
            body = {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": self.key_property, "operator": "IN", "values": chunk}
                        ]
                    }
                ],
                "properties": [self.key_property],
                "limit": BATCH_LIMIT,
            }
            _, answer = self.http.request("POST", "/crm/v3/objects/tasks/search", json=body)
            for row in answer.get("results") or []:
                key = (row.get("properties") or {}).get(self.key_property)
                if key:
                    found.setdefault(str(key), str(row["id"]))
        return found

    def _task_input(self, key: str, item: WriteItem) -> dict[str, Any]:
        p = item.payload
        due = p.get("due_date")
        day = dt.date.fromisoformat(due) if isinstance(due, str) else due
        when = dt.datetime.combine(day or dt.date.today(), dt.time(), dt.UTC)
        properties = {
            "hs_task_subject": p.get("subject"),
            "hs_task_body": p.get("description") or "",
            "hs_timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "hs_task_status": "NOT_STARTED",
            "hs_task_priority": PRIORITY.get(str(p.get("priority") or "").lower(), "MEDIUM"),
            "hubspot_owner_id": p.get("owner_id"),
            self.key_property: key,
        }
        company = p.get("what_id") or item.target_id
        return {
            "properties": {k: v for k, v in properties.items() if v is not None},
            "associations": [
                {
                    "to": {"id": str(company)},
                    "types": [
                        {
                            "associationCategory": "HUBSPOT_DEFINED",
                            "associationTypeId": TASK_TO_COMPANY,
                        }
                    ],
                }
            ],
        }


def _value(value: Any) -> Any:
    """HubSpot clears a property given "" (null is not accepted in every property type)."""
    return "" if value is None else value
