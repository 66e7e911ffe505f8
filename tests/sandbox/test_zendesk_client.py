"""The real zenpy client against the Zendesk simulator."""

from __future__ import annotations

import datetime as dt

import pytest
from zenpy.lib.api_objects import Ticket

from sandbox import Sandbox
from tests.sandbox.conftest import zenpy_client


def test_incremental_tickets_cursor_pages_to_end_of_stream(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    zd = zenpy_client(sb, monkeypatch)
    sb.clear_log()
    seen = {t.id: t for t in zd.tickets.incremental(start_time=0)}
    t = sb.world.tickets
    cutoff = sb.world.clock.epoch() - 60
    expected = {p + 1 for p in range(len(t)) if t.updated[p] < cutoff}
    assert set(seen) == expected and len(expected) > 1000
    pages = [r for r in sb.requests if r["path"] == "/api/v2/incremental/tickets/cursor.json"]
    assert len(pages) == -(-len(expected) // 1000)
    statuses = {x.status for x in seen.values()}
    assert {"deleted", "closed", "open"} <= statuses


def test_incremental_organizations_time_based(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    zd = zenpy_client(sb, monkeypatch)
    start = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    orgs = list(zd.organizations.incremental(start_time=start))
    assert {o.id for o in orgs} == set(sb.world.orgs)
    linked = [o for o in orgs if o.external_id]
    assert linked and all(o.external_id in sb.world.sf["Account"] for o in linked)


def test_tags_and_update_many_job(fresh: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    zd = zenpy_client(fresh, monkeypatch)
    tags = zd.tickets.add_tags(1, ["health_red"])
    assert "health_red" in tags
    assert {
        "system": "zendesk",
        "kind": "ticket_tags_added",
        "target_id": "1",
        "changes": {"tags": ["health_red"]},
    } in fresh.writes
    zd.tickets.delete_tags(1, ["health_red"])
    assert "health_red" not in fresh.world.tickets.tag_list(0)
    job = zd.tickets.update([Ticket(id=2, priority="urgent"), Ticket(id=3, priority="low")])
    assert job.status == "queued"
    done = zd.job_status(id=job.id)
    while done.status != "completed":
        done = zd.job_status(id=job.id)
    assert [r.id for r in done.results] == [2, 3]
    assert fresh.world.tickets.priority[1] == 4


def test_incremental_users_cursor_and_time_based_exports(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    zd = zenpy_client(sb, monkeypatch)
    users = [u.id for u in zd.users.incremental(start_time=0)]
    assert sorted(users) == sorted(sb.world.zd_users) and len(users) == len(set(users))
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    sb.clear_log()
    tickets = {t.id for t in zd.tickets.incremental(start_time=start, paginate_by_time=True)}
    t = sb.world.tickets
    cutoff = sb.world.clock.epoch() - 60
    assert tickets == {
        p + 1 for p in range(len(t)) if int(start.timestamp()) <= t.updated[p] < cutoff
    }
    assert len([r for r in sb.requests if r["path"] == "/api/v2/incremental/tickets.json"]) >= 2
    events = list(
        zd.tickets.metrics_incremental(start_time=dt.datetime(2025, 5, 20, tzinfo=dt.UTC))
    )
    assert {e.metric for e in events} == {"reply_time", "agent_work_time"}
    assert {e.type for e in events} == {"activate", "fulfill"}
    times = [e.time for e in events]
    assert times == sorted(times)


def test_cursor_paginated_lists(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    zd = zenpy_client(sb, monkeypatch)
    sb.clear_log()
    assert sorted(o.id for o in zd.organizations(cursor_pagination=20)) == sorted(sb.world.orgs)
    assert len([r for r in sb.requests if r["path"] == "/api/v2/organizations.json"]) >= 4
    assert any("page[after]" in r["query"] for r in sb.requests)
    assert sorted(u.id for u in zd.users()) == sorted(sb.world.zd_users)
    assert [g.name for g in zd.groups()] == [
        "Support",
        "Tier 2",
        "Billing",
        "Engineering Escalations",
    ]
    metrics = list(zd.ticket_metrics())
    t = sb.world.tickets
    assert len(metrics) == sum(1 for p in range(len(t)) if t.status[p] != 6)
    solved = next(m for m in metrics if m.solved_at)
    assert (
        solved.full_resolution_time_in_minutes["calendar"]
        >= solved.reply_time_in_minutes["calendar"]
    )
    start, end = dt.datetime(2025, 4, 1, tzinfo=dt.UTC), dt.datetime(2025, 5, 1, tzinfo=dt.UTC)
    ratings = list(zd.satisfaction_ratings(start_time=start, end_time=end))
    assert ratings and {r.score for r in ratings} <= {"good", "bad", "offered"}
    assert all(
        start <= dt.datetime.fromisoformat(r.created_at.replace("Z", "+00:00")) <= end
        for r in ratings
    )


def test_organization_updates_and_unknown_field(
    fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zenpy.lib.api_objects import Organization
    from zenpy.lib.exception import APIException, RecordNotFoundException

    zd = zenpy_client(fresh, monkeypatch)
    oids = sorted(fresh.world.orgs)[:3]
    org = zd.organizations.update(
        Organization(id=oids[0], organization_fields={"health_score": 41})
    )
    assert org.organization_fields["health_score"] == 41
    job = zd.organizations.update(
        [Organization(id=i, organization_fields={"health_status": "Red"}) for i in oids[1:]]
    )
    while job.status != "completed":
        job = zd.job_status(id=job.id)
    assert all(r.success for r in job.results)
    assert [fresh.world.orgs[i]["organization_fields"]["health_status"] for i in oids[1:]] == [
        "Red"
    ] * 2
    assert [w["kind"] for w in fresh.writes] == ["org_fields"] * 3
    with pytest.raises(APIException) as exc:
        zd.organizations.update(Organization(id=oids[0], organization_fields={"mood": "sad"}))
    assert "RecordInvalid" in str(exc.value)
    with pytest.raises(RecordNotFoundException):
        zd.tickets(id=10**9)


def test_ticket_create_is_idempotent(fresh: Sandbox) -> None:
    import httpx

    from sandbox import credentials as cred

    auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    body = {
        "ticket": {
            "subject": "Account at risk",
            "comment": {"body": "usage fell 60%"},
            "priority": "high",
            "tags": ["pulsehub"],
            "external_id": "esc-1",
        }
    }
    with httpx.Client(base_url=fresh.base_url, auth=auth) as client:
        first = client.post("/api/v2/tickets.json", json=body, headers={"Idempotency-Key": "k1"})
        again = client.post("/api/v2/tickets.json", json=body, headers={"Idempotency-Key": "k1"})
        other = client.post(
            "/api/v2/tickets.json",
            json={"ticket": {"subject": "x"}},
            headers={"Idempotency-Key": "k1"},
        )
        found = client.get("/api/v2/tickets.json", params={"external_id": "esc-1"}).json()
    assert first.status_code == again.status_code == 201
    assert (
        first.headers["x-idempotency-lookup"] == "miss"
        and again.headers["x-idempotency-lookup"] == "hit"
    )
    assert first.json() == again.json()
    assert other.status_code == 400 and other.json()["error"] == "IdempotentRequestError"
    assert [t["id"] for t in found["tickets"]] == [first.json()["ticket"]["id"]]
    assert [w["kind"] for w in fresh.writes] == ["ticket_created"]


def test_zenpy_ticket_create_update_and_time_based_users(
    fresh: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    zd = zenpy_client(fresh, monkeypatch)
    oid = sorted(fresh.world.orgs)[0]
    audit = zd.tickets.create(
        Ticket(
            subject="Renewal at risk",
            comment={"body": "usage -60%"},
            organization_id=oid,
            priority="high",
            tags=["pulsehub"],
        )
    )
    created = audit.ticket
    assert (
        created.status == "new" and created.organization_id == oid and created.tags == ["pulsehub"]
    )
    created.status = "solved"
    updated = zd.tickets.update(created).ticket
    assert updated.status == "solved"
    assert [w["kind"] for w in fresh.writes] == ["ticket_created", "ticket_updated"]
    fresh.tick(61)
    since = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
    users = list(zd.users.incremental(start_time=since, paginate_by_time=True))
    assert sorted(u.id for u in users) == sorted(fresh.world.zd_users)
    exported = [t for t in zd.tickets.incremental(start_time=0) if t.id == created.id]
    assert [t.status for t in exported] == ["solved"]


def test_oauth_bearer_and_wrong_credentials(sb: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from zenpy.lib.exception import APIException

    from sandbox import credentials as cred

    zd = zenpy_client(sb, monkeypatch, oauth_token=cred.ZD_OAUTH_TOKEN)
    assert next(g.name for g in zd.groups()) == "Support"
    bad = zenpy_client(sb, monkeypatch, email=cred.ZD_EMAIL, token="wrong")
    with pytest.raises(APIException) as exc:
        list(bad.groups())
    assert "Couldn't authenticate you" in str(exc.value)


def test_export_lag_hides_the_last_minute_unless_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.sandbox.conftest import NOW

    for lag, visible in ((60, False), (0, True)):
        with Sandbox(accounts=4, seed=3, now=NOW, export_lag=lag) as box:
            zd = zenpy_client(box, monkeypatch)
            zd.tickets.add_tags(1, ["fresh"])
            fresh_ids = {
                t.id for t in zd.tickets.incremental(start_time=box.world.clock.epoch() - 30)
            }
            assert (1 in fresh_ids) is visible


def test_empty_cursor_page_resumes_and_sees_later_changes(fresh: Sandbox) -> None:
    import httpx

    from sandbox import credentials as cred

    auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    with httpx.Client(base_url=fresh.base_url, auth=auth) as client:
        start = fresh.world.clock.epoch() - 120
        empty = client.get(
            "/api/v2/incremental/tickets/cursor.json", params={"start_time": start}
        ).json()
        assert empty["tickets"] == [] and empty["end_of_stream"]
        client.put("/api/v2/tickets/3/tags.json", json={"tags": ["later"]})
        fresh.tick(61)
        later = client.get(empty["after_url"]).json()
        assert [t["id"] for t in later["tickets"]] == [3] and later["end_of_stream"]
        again = client.get(later["after_url"]).json()
        assert again["tickets"] == []
