"""Reading the sandbox's request log: which stream, write kind or poll each request served,
and the fewest requests any client could have used for the same records and writes, side by
side in one table."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from connectors.salesforce_composite import MAX_QUERIES

SOBJECT_STREAM = {
    "Account": "salesforce.accounts",
    "Opportunity": "salesforce.opportunities",
    "Contact": "salesforce.contacts",
    "User": "salesforce.users",
}
HEALTH_TAG = re.compile(r"^(health_|renewal_risk_)")


def pages(n: int, size: int) -> int:
    """Requests to page n records: at least one (a client must ask to learn there is nothing)."""
    return max(1, -(-n // size))


COMPOSITE = "salesforce.composite"


def read_minimum(changed: dict[str, int], page_of: dict[str, int]) -> dict[str, int]:
    """The fewest reads per stream: its pages, except that the Salesforce streams' first
    pages can travel together in Composite requests of up to five queries, and so can the
    second pages of those longer than a page (counted apart, under COMPOSITE); a stream's
    later pages each follow from the one before, so each is a request."""
    out = {s: pages(changed.get(s, 0), size) for s, size in page_of.items()}
    crm = [s for s in out if s.startswith("salesforce.")]
    if len(crm) > 1:
        longer = [s for s in crm if out[s] > 1]
        for s in crm + longer:
            out[s] -= 1
        out[COMPOSITE] = -(-len(crm) // MAX_QUERIES) + -(-len(longer) // MAX_QUERIES)
    return out


class Classifier:
    """Attributes each logged request to a pulled stream, a write kind, a job poll or other."""

    def __init__(self) -> None:
        self.last_sf_stream = "salesforce.other"

    def __call__(self, r: dict[str, Any]) -> tuple[str, str]:
        """(bucket, name): bucket is read | write | poll | escalation | other."""
        method, path, query = r["method"], r["path"], r.get("query") or {}
        if r["system"] == "usage":
            for stream in ("workspaces", "surveys", "users"):
                if path.startswith(f"/usage/v1/{stream}"):
                    return "read", f"usage.{stream}"
            return "read", "usage.daily_usage"
        if r["system"] == "salesforce":
            return self._salesforce(method, path, query, r.get("body"))
        return self._zendesk(method, path, query, r.get("body"))

    def _salesforce(
        self, method: str, path: str, query: dict[str, Any], body: Any
    ) -> tuple[str, str]:
        if method == "POST" and path.rstrip("/").endswith("/composite"):
            return "read", COMPOSITE  # several streams' first queries in one request
        if method == "GET" and re.search(r"/query(All)?/?$", path):
            soql = str(query.get("q", ""))
            m = re.search(r"\bFROM\s+(\w+)", soql, re.I)
            obj = m.group(1) if m else ""
            if obj == "Task":
                return "escalation", "crm_task lookup"
            self.last_sf_stream = SOBJECT_STREAM.get(obj, f"salesforce.{obj}")
            return "read", self.last_sf_stream
        if method == "GET" and re.search(r"/query(All)?/01g", path):
            return "read", self.last_sf_stream  # nextRecordsUrl of the query just made
        if "/jobs/query" in path:
            if method == "POST" and isinstance(body, dict):
                m = re.search(r"\bFROM\s+(\w+)", str(body.get("query", "")), re.I)
                if m:
                    self.last_sf_stream = SOBJECT_STREAM.get(m.group(1), "salesforce.other")
            return "read", self.last_sf_stream
        if path.endswith("/describe") or path.endswith("/describe/"):
            return "write", "sf describe (field check)"
        if "/composite/sobjects" in path:
            records = body.get("records", []) if isinstance(body, dict) else []
            kind = (records[0].get("attributes") or {}).get("type") if records else None
            if kind == "Account" and method == "PATCH":
                return "write", "crm_account_fields"
            return "escalation", f"sf {kind or 'collection'} {method}"
        return "other", f"salesforce {method} {path}"

    @staticmethod
    def _zendesk(method: str, path: str, query: dict[str, Any], body: Any) -> tuple[str, str]:
        if "job_statuses" in path:
            return "poll", "job_statuses"
        if method == "GET":
            for part, stream in (
                ("incremental/tickets", "zendesk.tickets"),
                ("incremental/organizations", "zendesk.organizations"),
                ("satisfaction_ratings", "zendesk.satisfaction_ratings"),
                ("ticket_metrics", "zendesk.ticket_metrics"),
            ):
                if part in path:
                    return "read", stream
            if path.rstrip("/").endswith(("tickets.json", "tickets")):
                return "escalation", "helpdesk_ticket lookup"
            return "other", f"zendesk GET {path}"
        if "organizations/update_many" in path or re.search(r"/organizations/\d+", path):
            return "write", "helpdesk_org_fields"
        if "tickets/update_many" in path or path.endswith("/tags.json"):
            tags = tags_in(body)
            if tags and all(HEALTH_TAG.match(t) for t in tags):
                return "write", "helpdesk_ticket_tags"
            return "escalation", "zd escalation tags"
        return "escalation", f"zendesk {method} " + re.sub(r"/\d+", "/{id}", path)


def tags_in(body: Any) -> list[str]:
    """Every tag a Zendesk ticket write adds, removes or sets."""
    if not isinstance(body, dict):
        return []
    ticket = body.get("ticket") if isinstance(body.get("ticket"), dict) else {}
    out = list(body.get("tags") or [])
    out += list(ticket.get("additional_tags") or []) + list(ticket.get("remove_tags") or [])
    for t in body.get("tickets") or []:
        if isinstance(t, dict):
            out += list(t.get("additional_tags") or []) + list(t.get("remove_tags") or [])
            out += list(t.get("tags") or [])
    return [str(t) for t in out]


def planned_since(db: Path, last_id: int) -> tuple[dict[str, int], dict[str, int], int]:
    """Outbox items a run added: counts per kind, tag-change groups, and the new last id."""
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT id, kind, payload FROM outbox WHERE id > ? ORDER BY id", (last_id,)
    ).fetchall()
    con.close()
    kinds: Counter[str] = Counter()
    tag_groups: Counter[str] = Counter()
    for _id, kind, payload in rows:
        kinds[kind] += 1
        if kind == "helpdesk_ticket_tags":
            p = json.loads(payload) if isinstance(payload, str) else payload
            tag_groups[json.dumps([p.get("add") or [], p.get("remove") or []])] += 1
    return dict(kinds), dict(tag_groups), max([last_id, *(r[0] for r in rows)])


def write_minimum(kinds: dict[str, int], tag_groups: dict[str, int]) -> int:
    """Collections of 200, update_many of 100, each tag change in calls of 100 tickets."""
    n = 0
    if kinds.get("crm_account_fields"):
        n += -(-kinds["crm_account_fields"] // 200)
    if kinds.get("helpdesk_org_fields"):
        n += -(-kinds["helpdesk_org_fields"] // 100)
    n += sum(-(-k // 100) for k in tag_groups.values())
    return n


OWN_KINDS = (
    "crm_account_fields",
    "helpdesk_org_fields",
    "helpdesk_ticket_tags",
    "helpdesk_ticket",
    "helpdesk_comment",
)


def table(rows: list[dict[str, Any]]) -> str:
    """The efficiency bench's markdown table: requests used against the minimum, per sync."""
    out = [
        "| sync | records changed (of them by pulsehub) | reads / min | writes / min "
        "| job polls | escalation requests |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    previous: dict[str, Any] | None = None
    for r in rows:
        reads, rmin = sum(r["reads"].values()), sum(r["read_min"].values())
        writes, wmin = sum(r["writes"].values()), r["write_min"]
        own = sum((previous or {}).get("planned", {}).get(k, 0) for k in OWN_KINDS)
        changed = sum(r["changed"].values())
        mine = f" ({min(own, changed):,})" if previous and own else ""
        out.append(
            f"| {r['scenario']} | {changed:,}{mine} | {reads} / {rmin} = {_ratio(reads, rmin)} | "
            f"{writes} / {wmin} = {_ratio(writes, wmin)} | {r['polls']} | "
            f"{sum(r['escalation'].values())} |"
        )
        previous = r
    return "\n".join(out)


def _ratio(used: int, least: int) -> str:
    if least:
        return f"{used / least:.2f}"
    return "-" if not used else "n/a"
