"""Columnar ticket storage: ~500k tickets in compact arrays instead of one object each."""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any, Protocol

STATUSES = ("new", "open", "pending", "hold", "solved", "closed", "deleted")
NEW, OPEN, PENDING, HOLD, SOLVED, CLOSED, DELETED = range(7)
PRIORITIES = (None, "low", "normal", "high", "urgent")
TYPES = (None, "question", "incident", "problem", "task")
VIAS = ("email", "web", "api", "chat")
CSAT = ("unoffered", "offered", "good", "bad")
TAG_SETS: tuple[tuple[str, ...], ...] = (
    ("how_to",),
    ("billing", "invoice"),
    ("bug", "api"),
    ("bug", "reporting"),
    ("feature_request",),
    ("integration", "salesforce_sync"),
    ("login", "sso"),
    ("performance",),
    ("outage", "escalated"),
    ("data_export",),
    ("onboarding", "setup"),
    ("permissions",),
)
SUBJECTS: tuple[str, ...] = (
    "How do I configure {0}?",
    "Question about our latest invoice",
    "API returns 500 on {0} endpoint",
    "Dashboard numbers look wrong",
    "Feature request: bulk edit for {0}",
    "Salesforce sync stopped updating",
    "Users cannot log in with SSO",
    "Pages are very slow since yesterday",
    "Service unavailable - urgent",
    "Need a full export of our data",
    "Help setting up our workspace",
    "Cannot change permissions for {0}",
)
FIRST_TICKET_ID = 1


class Subjects(Protocol):  # sandbox/subjects.py's SubjectMaker
    def subject(self, account: int, ticket: int) -> str: ...


def subject_of(t: TicketTable, pos: int, subjects: Subjects | None = None) -> str:
    """The ticket's subject: one set by a write, else a helpdesk-like one (`subjects`, when
    the world was served with them), else its topic's template."""
    set_by_write = t.extra.get(pos, {}).get("subject")
    if set_by_write:
        return str(set_by_write)
    if subjects is not None:
        return subjects.subject(t.org[pos], pos)
    return SUBJECTS[t.tags[pos]].format(TAG_SETS[t.tags[pos]][-1])


COLUMNS = {
    "org": "q",
    "requester": "q",
    "assignee": "q",
    "group": "q",
    "created": "q",
    "updated": "q",
    "solved": "q",
    "status": "b",
    "priority": "b",
    "type": "b",
    "via": "b",
    "tags": "h",
    "reply_min": "l",
    "resolution_min": "l",
    "reopens": "b",
    "replies": "h",
    "csat": "b",
}


class TicketTable:
    """Ticket columns indexed by position; ticket id = FIRST_TICKET_ID + position.

    Tag lists default to `TAG_SETS[tags[i]]`; written tags live in `tag_override`; tickets
    created through the API keep their free-form attributes in `extra`; comments added
    through the API live in `comments` (see `sandbox.zd_comments`).
    """

    def __init__(self) -> None:
        for name, code in COLUMNS.items():
            setattr(self, name, array(code))
        self.tag_override: dict[int, list[str]] = {}
        self.extra: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.comment_serial = 0
        self.version = 0  # bumped on every change, for caches of derived views
        self._order: PackedKeys | None = None

    org: array[int]
    requester: array[int]
    assignee: array[int]
    group: array[int]
    created: array[int]
    updated: array[int]
    solved: array[int]
    status: array[int]
    priority: array[int]
    type: array[int]
    via: array[int]
    tags: array[int]
    reply_min: array[int]
    resolution_min: array[int]
    reopens: array[int]
    replies: array[int]
    csat: array[int]

    def __len__(self) -> int:
        return len(self.created)

    def append(self, **values: int) -> int:
        """Add one ticket given every column; returns its position."""
        for name in COLUMNS:
            getattr(self, name).append(values[name])
        self._order = None
        self.version += 1
        return len(self.created) - 1

    def extend(self, rows: list[tuple[int, ...]]) -> None:
        """Add tickets given as tuples of column values in `COLUMNS` order."""
        columns = [getattr(self, name) for name in COLUMNS]
        for row in rows:
            for column, value in zip(columns, row, strict=True):
                column.append(value)
        self._order = None
        self.version += 1

    def position(self, ticket_id: int) -> int | None:
        """Position of a ticket id, or None if unknown."""
        pos = ticket_id - FIRST_TICKET_ID
        return pos if 0 <= pos < len(self.created) else None

    def tag_list(self, pos: int) -> list[str]:
        """Current tags of a ticket."""
        override = self.tag_override.get(pos)
        return list(override) if override is not None else list(TAG_SETS[self.tags[pos]])

    def touch(self, pos: int, epoch: int) -> None:
        """Record a change: moves updated_at and invalidates the export order."""
        self.updated[pos] = max(epoch, self.updated[pos])
        self._order = None
        self.version += 1

    def order(self) -> PackedKeys:
        """(updated_at, position) of every ticket, sorted, for incremental exports."""
        if self._order is None:
            self._order = PackedKeys.build(zip(self.updated, range(len(self.updated)), strict=True))
        return self._order


class PackedKeys:
    """Sorted (timestamp, key) pairs packed into one int64 each: 8 bytes a pair, bisectable.

    Keys must be below 2**28 (ticket positions, or position * 8 + event kind).
    """

    SHIFT = 28
    MASK = (1 << SHIFT) - 1

    def __init__(self, packed: array[int]) -> None:
        self._packed = packed

    @classmethod
    def build(cls, pairs: Iterable[tuple[int, int]]) -> PackedKeys:
        """Pack and sort (timestamp, key) pairs."""
        shift, mask = cls.SHIFT, cls.MASK
        packed = sorted((ts << shift) | (key & mask) for ts, key in pairs)
        return cls(array("q", packed))

    def __len__(self) -> int:
        return len(self._packed)

    def __getitem__(self, index: int) -> tuple[int, int]:
        value = self._packed[index]
        return value >> self.SHIFT, value & self.MASK
