"""An owner Task as Salesforce stores it, and the key marker that makes a create idempotent."""

from __future__ import annotations

from typing import Any

from connectors.salesforce_records import TaskCreate


def key_marker(key: str) -> str:
    """The line in a Task's Description that identifies the outbox item that created it."""
    return f"[pulsehub:{key}]"


def quote(value: str) -> str:
    """A SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def task_record(task: TaskCreate) -> dict[str, Any]:
    description = f"{task.description}\n\n{key_marker(task.key)}".strip()
    return {
        "attributes": {"type": "Task"},
        "WhatId": task.what_id,
        "OwnerId": task.owner_id,
        "Subject": task.subject,
        "Description": description,
        "ActivityDate": task.due_date.isoformat() if task.due_date else None,
        "Priority": task.priority,
        "Status": "Not Started",
    }
