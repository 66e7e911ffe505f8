"""The Freshdesk connector against the sandbox over real loopback HTTP: neutral records,
incremental pulls, the 300-page restart, 429 + Retry-After, writes and their refusals."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.base import WriteItem
from connectors.freshdesk import FreshdeskConnector
from connectors.freshdesk_source import FreshdeskOptions, build_client
from connectors.freshdesk_write import key_tag
from connectors.http import RetryPolicy
from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.tickets import DELETED, PRIORITIES
from sandbox.zd_shapes import rating_created

NOW = dt.datetime(2025, 6, 2, 15, 30, tzinfo=dt.UTC)
NEUTRAL = {"new", "open", "pending", "hold", "solved", "closed"}


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def connector(box: Sandbox, sleeps: Sleeps | None = None, **kwargs: Any) -> FreshdeskConnector:
    options = FreshdeskOptions(
        domain=cred.FD_DOMAIN, api_key=cred.FD_API_KEY, loopback_url=box.base_url
    )  # type: ignore[arg-type]
    policy = RetryPolicy(
        max_attempts=4,
        initial_wait=0.01,
        max_wait=0.1,
        sleep=Sleeps() if sleeps is None else sleeps,
    )
    kwargs.setdefault("requester_email", "integration@example.invalid")
    return FreshdeskConnector(build_client(options), policy=policy, **kwargs)


def pull_all(
    fd: FreshdeskConnector, stream: str, cursor: str | None = None
) -> tuple[list, str | None]:
    records, last = [], cursor
    for page in fd.pull(stream, cursor):
        assert page.rejected == []
        records += page.records
        last = page.cursor or last
    return records, last


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with Sandbox(accounts=15, seed=3, now=NOW) as sb:
        yield sb


def test_companies_become_organizations_linked_to_crm_accounts(box) -> None:
    orgs, cursor = pull_all(connector(box), "companies")
    assert cursor is None  # listed whole every run
    live = {o["id"]: o for o in box.world.orgs.values() if o.get("deleted_at") is None}
    assert {o.id for o in orgs} == set(live)
    for o in orgs:
        assert o.external_id == live[o.id]["external_id"]
        assert o.domain_names == live[o.id]["domain_names"]
        assert "health_score" in o.organization_fields


def test_tickets_in_the_neutral_shape_with_stats_and_csat(box) -> None:
    fd = connector(box)
    tickets, cursor = pull_all(fd, "tickets")
    t = box.world.tickets
    deleted = {p + 1 for p in range(len(t)) if t.status[p] == DELETED}
    assert deleted, "the world has deleted tickets: they must arrive as such"
    assert {x.id for x in tickets} == set(range(1, len(t) + 1))
    assert {x.id for x in tickets if x.status == "deleted"} == deleted
    assert {x.status for x in tickets} - {"deleted"} <= NEUTRAL
    assert {x.priority for x in tickets} <= {"low", "normal", "high", "urgent"}
    by_id = {x.id: x for x in tickets}
    for tid, x in by_id.items():
        p = tid - 1
        assert x.organization_id == (t.org[p] or None)
        want = PRIORITIES[t.priority[p]] or "low"  # Freshdesk has no "no priority"
        assert x.priority == want
        assert x.csat_score == {2: "good", 3: "bad"}.get(t.csat[p])
        if t.solved[p]:
            assert x.metric is not None and x.metric.solved_at is not None
            assert x.metric.full_resolution_minutes == pytest.approx(t.resolution_min[p], abs=1)
    assert sum(1 for x in tickets if x.csat_score) > 0
    state = json.loads(cursor)
    assert set(state) == {"since", "ratings_since"}

    again, _ = pull_all(fd, "tickets", cursor)
    assert len(again) < 20  # only the last second's tickets come again (updated_since is >=)
    box.change(0.2, seed=4)
    changed, _ = pull_all(fd, "tickets", cursor)
    assert len(changed) > len(again)


def test_a_rating_given_after_the_ticket_was_pulled_still_reaches_it(box) -> None:
    fd = connector(box)
    _, cursor = pull_all(fd, "tickets")
    t = box.world.tickets
    pos = next(
        p for p in range(len(t)) if t.solved[p] and t.csat[p] == 1 and t.status[p] != DELETED
    )
    with box.world.lock:
        t.csat[pos] = 3  # answered "unhappy" just now; the ticket itself does not change
        t.solved[pos] = box.world.clock.epoch() - rating_created(t, pos) + t.solved[pos]
        t.version += 1
    got, _ = pull_all(fd, "tickets", cursor)
    assert [x.csat_score for x in got if x.id == pos + 1] == ["bad"]


def test_the_300th_page_restarts_from_the_last_update_and_misses_nothing(box) -> None:
    fd = connector(box, page_size=2)  # 300 pages of 2: the limit is reached at 600 tickets
    t = box.world.tickets
    live = {p + 1 for p in range(len(t)) if t.status[p] != DELETED}
    assert len(live) > 700, "the world must hold more than 300 pages of 2"
    box.clear_log()
    tickets, _ = pull_all(fd, "tickets")
    assert {x.id for x in tickets if x.status != "deleted"} == live
    listings = [
        r["query"]
        for r in box.requests
        if r["path"] == "/api/v2/tickets" and "filter" not in r["query"]
    ]
    assert max(int(q["page"]) for q in listings) == 300
    restarts = [q for q in listings[1:] if q["page"] == "1"]
    assert restarts and all(q["updated_since"] > listings[0]["updated_since"] for q in restarts)
    assert all(r["status"] == 200 for r in box.requests)


def test_429_waits_retry_after_then_goes_on(box) -> None:
    sleeps = Sleeps()
    fd = connector(box, sleeps)
    box.faults.add(r"^/api/v2/tickets$", 429, times=2)
    tickets, _ = pull_all(fd, "tickets")
    assert tickets
    assert sleeps[:2] == [1.0, 1.0]  # the sandbox's Retry-After: 1
    statuses = [r["status"] for r in box.requests if r["path"] == "/api/v2/tickets"]
    assert statuses[:3] == [429, 429, 200]


def test_writes_and_what_they_refuse_before_any_request(box) -> None:
    fd = connector(box, allowed_tags=["health_red", "health_green"])
    assert fd.writer is not None
    org_id = next(o for o in box.world.orgs.values() if o.get("deleted_at") is None)["id"]
    ok = fd.writer.push(
        "helpdesk_org_fields", [WriteItem(str(org_id), {"fields": {"health_score": 63}})]
    )
    assert ok[0].ok and box.world.orgs[org_id]["organization_fields"]["health_score"] == 63
    before = len(box.requests)
    refused = fd.writer.push(
        "helpdesk_org_fields", [WriteItem(str(org_id), {"fields": {"arr": 1}})]
    )
    assert refused[0].error_code == "FIELD_NOT_WRITABLE"
    tags = fd.writer.push("helpdesk_ticket_tags", [WriteItem("1", {"add": ["vip"], "remove": []})])
    assert tags[0].error_code == "TAG_NOT_ALLOWED"
    assert len(box.requests) == before, "refusals are decided before any request"

    others = box.world.tickets.tag_list(0)
    item = WriteItem("1", {"add": ["health_red"], "remove": ["health_green"]})
    assert fd.writer.push("helpdesk_ticket_tags", [item])[0].ok
    assert box.world.tickets.tag_list(0) == [*others, "health_red"]  # the others kept
    writes = len(box.writes)
    assert fd.writer.push("helpdesk_ticket_tags", [item])[0].ok  # again: nothing to write
    assert len(box.writes) == writes
    escalation = WriteItem("esc:1:2", {"ticket_id": 2, "add": ["health_red"], "remove": []})
    assert fd.writer.push("helpdesk_escalation_tags", [escalation])[0].ok
    assert box.world.tickets.tag_list(1)[-1] == "health_red"


def test_escalation_ticket_created_once_and_its_note_posted_once(box) -> None:
    fd = connector(box)
    assert fd.writer is not None
    org_id = next(o for o in box.world.orgs.values() if o.get("deleted_at") is None)["id"]
    payload = {"subject": "Escalation: Acme", "body": "why\nand what", "tags": ["escalation"],
               "priority": "urgent", "type": "problem", "organization_id": org_id,
               "external_id": "pulsehub:esc:1"}  # fmt: skip
    item = WriteItem("0", payload, key="esc:1:ticket")
    first = fd.writer.push("helpdesk_ticket", [item])[0]
    assert first.ok and first.created_id
    again = fd.writer.push("helpdesk_ticket", [WriteItem("0", payload, True, key="esc:1:ticket")])
    assert again[0].created_id == first.created_id
    created = [w for w in box.writes if w["kind"] == "ticket_created"]
    assert len(created) == 1
    sent = created[0]["changes"]
    assert key_tag("esc:1:ticket") in sent["tags"] and sent["priority"] == 4
    assert sent["type"] == "Problem" and "company_id" not in sent  # pulsehub's agent asks
    assert f"Customer company: #{org_id}" in sent["description"]

    note = {"helpdesk_ticket_id": int(first.created_id), "body": "update", "status": "solved"}
    box.faults.add(r"/notes$", "lost_response", times=1)  # posted, answer lost
    done = fd.writer.push("helpdesk_comment", [WriteItem("0", note, key="esc:1:note")])
    assert done[0].ok
    retry = fd.writer.push("helpdesk_comment", [WriteItem("0", note, True, key="esc:1:note")])
    assert retry[0].ok
    notes = [w for w in box.writes if w["kind"] == "ticket_note"]
    assert len(notes) == 1 and notes[0]["changes"]["private"] is True
    assert box.world.tickets.status[int(first.created_id) - 1] == 4  # SOLVED


def test_a_validation_error_keeps_freshdesks_own_words(box) -> None:
    fd = connector(box)
    assert fd.writer is not None
    org_id = next(o for o in box.world.orgs.values() if o.get("deleted_at") is None)["id"]
    result = fd.writer.push(
        "helpdesk_org_fields", [WriteItem(str(org_id), {"fields": {"health_score": "high"}})]
    )[0]
    assert not result.ok and not result.retriable
    assert result.message == (
        "Validation failed: health_score: Value set is of type String.It should be a/an Number "
        "(datatype_mismatch)"
    )
    assert result.error_code == "datatype_mismatch"


def test_a_create_whose_answer_is_lost_is_found_by_its_key_tag_not_sent_twice(box) -> None:
    fd = connector(box)
    assert fd.writer is not None
    box.faults.add(r"^/api/v2/tickets$", "lost_response", times=1, method="POST")
    payload = {"subject": "Escalation", "body": "b", "priority": "high", "external_id": "x"}
    result = fd.writer.push("helpdesk_ticket", [WriteItem("0", payload, key="esc:9:ticket")])[0]
    assert result.ok and result.created_id
    created = [w for w in box.writes if w["kind"] == "ticket_created"]
    assert [w["target_id"] for w in created] == [result.created_id]
    searches = [r for r in box.requests if r["path"] == "/api/v2/search/tickets"]
    assert len(searches) == 2  # before the create, and after its lost answer


def test_without_a_requester_a_create_is_refused_naming_the_option(box) -> None:
    fd = connector(box, requester_email=None)
    assert fd.writer is not None
    before = len(box.requests)
    item = WriteItem("0", {"subject": "s", "body": "b", "external_id": "x"}, key="k")
    result = fd.writer.push("helpdesk_ticket", [item])[0]
    assert not result.ok and not result.retriable and result.error_code == "NO_REQUESTER"
    assert "requester_email" in (result.message or "")
    assert len(box.requests) == before
