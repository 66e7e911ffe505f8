"""Response shapes against the vendors' documented examples (keys and JSON types).

The expected key sets are transcribed from the "JSON format" tables and response examples of
the Zendesk Support API reference (Tickets, Organizations, Users, Groups, Ticket Metrics,
Satisfaction Ratings, Job Statuses, incremental exports, pagination); Salesforce's are in
test_shapes_salesforce.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox import Sandbox
from sandbox import credentials as cred

ZD_TICKET = {
    "allow_attachments": bool,
    "allow_channelback": bool,
    "assignee_id": (int, type(None)),
    "brand_id": int,
    "collaborator_ids": list,
    "created_at": str,
    "custom_fields": list,
    "custom_status_id": int,
    "description": str,
    "due_at": type(None),
    "email_cc_ids": list,
    "external_id": (str, type(None)),
    "follower_ids": list,
    "followup_ids": list,
    "forum_topic_id": type(None),
    "from_messaging_channel": bool,
    "group_id": (int, type(None)),
    "has_incidents": bool,
    "id": int,
    "is_public": bool,
    "organization_id": (int, type(None)),
    "priority": (str, type(None)),
    "problem_id": type(None),
    "raw_subject": str,
    "recipient": type(None),
    "requester_id": (int, type(None)),
    "satisfaction_rating": dict,
    "sharing_agreement_ids": list,
    "status": str,
    "subject": str,
    "submitter_id": (int, type(None)),
    "tags": list,
    "ticket_form_id": int,
    "type": (str, type(None)),
    "updated_at": str,
    "url": str,
    "via": dict,
}
ZD_ORG = {
    "created_at": str,
    "deleted_at": type(None),
    "details": str,
    "domain_names": list,
    "external_id": (str, type(None)),
    "group_id": type(None),
    "id": int,
    "name": str,
    "notes": str,
    "organization_fields": dict,
    "shared_comments": bool,
    "shared_tickets": bool,
    "tags": list,
    "updated_at": str,
    "url": str,
}
ZD_USER_KEYS = {
    "active",
    "alias",
    "chat_only",
    "created_at",
    "custom_role_id",
    "default_group_id",
    "details",
    "email",
    "external_id",
    "iana_time_zone",
    "id",
    "last_login_at",
    "locale",
    "locale_id",
    "moderator",
    "name",
    "notes",
    "only_private_comments",
    "organization_id",
    "phone",
    "photo",
    "remote_photo_url",
    "report_csv",
    "restricted_agent",
    "role",
    "role_type",
    "shared",
    "shared_agent",
    "shared_phone_number",
    "signature",
    "suspended",
    "tags",
    "ticket_restriction",
    "time_zone",
    "two_factor_auth_enabled",
    "updated_at",
    "url",
    "user_fields",
    "verified",
}
ZD_GROUP_KEYS = {
    "created_at",
    "default",
    "deleted",
    "description",
    "id",
    "is_public",
    "name",
    "updated_at",
    "url",
}
ZD_METRIC_KEYS = {
    "agent_wait_time_in_minutes",
    "assigned_at",
    "assignee_stations",
    "assignee_updated_at",
    "created_at",
    "custom_status_updated_at",
    "first_resolution_time_in_minutes",
    "full_resolution_time_in_minutes",
    "group_stations",
    "id",
    "initially_assigned_at",
    "latest_comment_added_at",
    "on_hold_time_in_minutes",
    "reopens",
    "replies",
    "reply_time_in_minutes",
    "reply_time_in_seconds",
    "requester_updated_at",
    "requester_wait_time_in_minutes",
    "solved_at",
    "status_updated_at",
    "ticket_id",
    "updated_at",
    "url",
}
ZD_RATING_KEYS = {
    "assignee_id",
    "comment",
    "created_at",
    "group_id",
    "id",
    "reason",
    "reason_id",
    "requester_id",
    "score",
    "ticket_id",
    "updated_at",
    "url",
}
ZD_JOB_KEYS = {"id", "job_type", "message", "progress", "results", "status", "total", "url"}


def _types(obj: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    return [k for k, t in spec.items() if k not in obj or not isinstance(obj[k], t)]


@pytest.fixture
def zd(sb: Sandbox) -> Iterator[httpx.Client]:
    auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    with httpx.Client(base_url=sb.base_url, auth=auth) as client:
        yield client


def test_zendesk_records(sb: Sandbox, zd: httpx.Client) -> None:
    tickets = zd.get("/api/v2/tickets.json", params={"page[size]": 100}).json()["tickets"]
    for t in tickets:
        assert _types(t, ZD_TICKET) == [], t["id"]
        assert t["status"] in {"new", "open", "pending", "hold", "solved", "closed"}
        assert t["priority"] in {None, "low", "normal", "high", "urgent"}
        assert t["type"] in {None, "question", "incident", "problem", "task"}
        assert t["url"] == f"{sb.base_url}/api/v2/tickets/{t['id']}.json"
        assert t["created_at"].endswith("Z") and len(t["created_at"]) == 20
    org = zd.get("/api/v2/organizations.json").json()["organizations"][0]
    assert _types(org, ZD_ORG) == []
    assert set(org["organization_fields"]) == {
        "health_score",
        "health_status",
        "renewal_risk",
        "renewal_risk_level",
    }
    user = zd.get("/api/v2/users.json").json()["users"][0]
    assert set(user) == ZD_USER_KEYS
    group = zd.get("/api/v2/groups.json").json()["groups"][0]
    assert set(group) == ZD_GROUP_KEYS
    metric = zd.get("/api/v2/ticket_metrics.json").json()["ticket_metrics"][0]
    assert set(metric) == ZD_METRIC_KEYS
    assert set(metric["reply_time_in_minutes"]) == {"calendar", "business"}
    rating = zd.get("/api/v2/satisfaction_ratings.json").json()["satisfaction_ratings"][0]
    assert set(rating) == ZD_RATING_KEYS


def test_zendesk_pagination_envelopes(sb: Sandbox, zd: httpx.Client) -> None:
    cbp = zd.get("/api/v2/organizations.json", params={"page[size]": 10}).json()
    assert set(cbp) == {"organizations", "meta", "links"}
    assert set(cbp["meta"]) == {"has_more", "after_cursor", "before_cursor"}
    assert set(cbp["links"]) == {"next", "prev"} and cbp["links"]["next"].startswith(sb.base_url)
    offset = zd.get("/api/v2/organizations.json", params={"per_page": 10}).json()
    assert set(offset) == {"organizations", "next_page", "previous_page", "count"}
    cursor = zd.get("/api/v2/incremental/tickets/cursor.json", params={"start_time": 0}).json()
    assert set(cursor) == {
        "tickets",
        "after_url",
        "after_cursor",
        "before_url",
        "before_cursor",
        "end_of_stream",
    }
    assert isinstance(cursor["tickets"][0]["generated_timestamp"], int)
    timed = zd.get("/api/v2/incremental/organizations.json", params={"start_time": 0}).json()
    assert set(timed) == {"organizations", "count", "end_of_stream", "end_time", "next_page"}
    assert isinstance(timed["end_time"], int) and timed["next_page"].startswith(sb.base_url)
    sample = zd.get("/api/v2/incremental/tickets/sample.json", params={"start_time": 0}).json()
    assert set(sample) == set(timed) - {"organizations"} | {"tickets"}
    assert 50 <= sample["count"] <= 60 and not sample["end_of_stream"]


def test_zendesk_errors_and_job_status(fresh: Sandbox) -> None:
    auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    with httpx.Client(base_url=fresh.base_url, auth=auth) as zd:
        _errors_and_job_status(fresh, zd)


def _errors_and_job_status(fresh: Sandbox, zd: httpx.Client) -> None:
    missing = zd.get("/api/v2/tickets/999999999.json")
    assert missing.status_code == 404
    assert missing.json() == {"error": "RecordNotFound", "description": "Not found"}
    bad = httpx.get(f"{fresh.base_url}/api/v2/tickets.json", auth=("someone/token", "nope"))
    assert bad.status_code == 401 and bad.json() == {"error": "Couldn't authenticate you"}
    job = zd.put(
        "/api/v2/tickets/update_many.json",
        params={"ids": "1,2"},
        json={"ticket": {"additional_tags": ["health_red"]}},
    ).json()["job_status"]
    assert set(job) == ZD_JOB_KEYS and job["status"] == "queued"
    assert job["url"] == f"{fresh.base_url}/api/v2/job_statuses/{job['id']}.json"
    states = []
    while not states or states[-1] != "completed":
        states.append(zd.get(job["url"]).json()["job_status"]["status"])
    done = zd.get(job["url"]).json()["job_status"]
    assert states == ["working", "completed"]
    assert done["results"] == [
        {"id": 1, "action": "update", "status": "Updated", "success": True},
        {"id": 2, "action": "update", "status": "Updated", "success": True},
    ]
    assert "health_red" in fresh.world.tickets.tag_list(0)
    too_many = zd.put(
        "/api/v2/tickets/update_many.json",
        json={"tickets": [{"id": i, "status": "open"} for i in range(1, 102)]},
    )
    assert too_many.status_code == 400 and too_many.json()["error"] == "TooManyValues"
