"""Operator actions through the HTTP API: they call the owning packages and validate their input."""

from __future__ import annotations

from sqlalchemy import func, select

from model.tables import Account, ExternalIdentity, OutboxItem, ScoreOverride, Ticket
from tests.web.conftest import OPERATOR_TOKEN, client_for


def test_retry_only_requeues_dead_letters(app_parts):
    app, factory, book = app_parts
    with factory() as s:
        done = s.scalar(select(OutboxItem.id).where(OutboxItem.status == "done").limit(1))
    r = client_for(app, OPERATOR_TOKEN).post(
        "/ops/outbox/retry", data={"item_id": [str(i) for i in book.dead_ids] + [str(done)]}
    )
    assert r.status_code == 303 and f"{len(book.dead_ids)}%20dead" in r.headers["location"]
    with factory() as s:
        assert s.scalar(select(func.count()).where(OutboxItem.status == "dead")) == 0
        assert s.get(OutboxItem, done).status == "done"
        assert {s.get(OutboxItem, i).attempts for i in book.dead_ids} == {0}


def test_reject_and_link_identity_persist_as_manual(app_parts):
    app, factory, book = app_parts
    ops = client_for(app, OPERATOR_TOKEN)
    unmatched, other = book.review_ids[1], book.review_ids[0]
    assert ops.post(f"/ops/identities/{unmatched}", data={"decision": "reject"}).status_code == 303
    r = ops.post(f"/ops/identities/{other}", data={"decision": "accept", "other_account_id": "7"})
    assert r.status_code == 303
    with factory() as s:
        rejected, linked = s.get(ExternalIdentity, unmatched), s.get(ExternalIdentity, other)
        assert (rejected.status, rejected.account_id, rejected.manual) == ("rejected", None, True)
        assert (linked.status, linked.account_id, linked.manual) == ("linked", 7, True)


def test_accepting_a_link_propagates_to_tickets(app_parts):
    """model.identity.decide re-points dependent rows: the ticket follows its org's new account."""
    app, factory, _ = app_parts
    with factory() as s:
        ticket = s.scalars(
            select(Ticket).where(Ticket.account_id.is_not(None), Ticket.account_id != 9).limit(1)
        ).one()
        org = s.scalars(
            select(ExternalIdentity).where(
                ExternalIdentity.external_id == str(ticket.helpdesk_org_id)
            )
        ).one()
    client_for(app, OPERATOR_TOKEN).post(
        f"/ops/identities/{org.id}", data={"decision": "accept", "account_id": "9"}
    )
    with factory() as s:
        assert s.get(Ticket, ticket.id).account_id == 9


def test_accept_needs_an_existing_account(app_parts):
    app, factory, book = app_parts
    ops = client_for(app, OPERATOR_TOKEN)
    r = ops.post(f"/ops/identities/{book.review_ids[1]}", data={"decision": "accept"})
    assert "choose%20an%20account" in r.headers["location"]
    missing = ops.post(
        f"/ops/identities/{book.review_ids[1]}", data={"decision": "accept", "account_id": "99999"}
    )
    assert missing.status_code == 303 and "no%20account%2099999" in missing.headers["location"]
    with factory() as s:
        assert s.get(ExternalIdentity, book.review_ids[1]).manual is False
        name = s.get(Account, 7).name
    by_name = ops.post(
        f"/ops/identities/{book.review_ids[1]}",
        data={"decision": "accept", "other_account_id": name.lower()},
    )
    assert by_name.status_code == 303 and "accepted" in by_name.headers["location"]
    with factory() as s:
        linked = s.get(ExternalIdentity, book.review_ids[1])
        assert (linked.account_id, linked.manual) == (7, True)


def test_override_is_validated_then_inserted_and_revoked(app_parts):
    app, factory, _ = app_parts
    ops = client_for(app, OPERATOR_TOKEN)
    bad = [
        {"account": "1", "band": "purple", "reason": "x", "days": "30"},
        {"account": "1", "band": "green", "reason": "  ", "days": "30"},
        {"account": "1", "band": "green", "reason": "x", "days": "0"},
        {"account": "1", "band": "green", "reason": "x", "days": "30", "score": "130"},
        {"account": "no such company at all", "band": "green", "reason": "x", "days": "30"},
    ]
    for form in bad:
        ops.post("/ops/overrides", data=form)
    missing = ops.post("/ops/overrides", data={"account": "99999", "band": "green", "reason": "x"})
    assert missing.status_code == 303 and "no%20account%2099999" in missing.headers["location"]
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(ScoreOverride)) == 0
    ops.post(
        "/ops/overrides",
        data={
            "account": "4",
            "band": "red",
            "score": "35",
            "reason": "champion left",
            "days": "7",
        },
    )
    with factory() as s:
        row = s.scalars(select(ScoreOverride)).one()
        assert (row.account_id, row.band, row.score, row.reason, row.revoked) == (
            4,
            "red",
            35.0,
            "champion left",
            False,
        )
    page = ops.get("/ops/overrides", headers={"accept": "text/html"}).text
    assert "champion left" in page and "in force" in page
    ops.post(f"/ops/overrides/{row.id}/revoke")
    with factory() as s:
        assert s.get(ScoreOverride, row.id).revoked is True


def test_unknown_account_page_is_404(app_parts):
    app, _, _ = app_parts
    assert (
        client_for(app, OPERATOR_TOKEN)
        .get("/accounts/99999", headers={"accept": "text/html"})
        .status_code
        == 404
    )
    assert client_for(app, OPERATOR_TOKEN).get("/api/accounts/99999").status_code == 404


def test_an_override_finds_its_account_by_name(app_parts):
    from model.tables import Account

    app, factory, _ = app_parts
    with factory() as s:
        acc = s.get(Account, 5)
        name = acc.name
    ops = client_for(app, OPERATOR_TOKEN)
    r = ops.post("/ops/overrides", data={"account": name.upper(), "band": "yellow", "reason": "r"})
    assert r.status_code == 303 and "override%20set" in r.headers["location"]
    with factory() as s:
        assert s.scalars(select(ScoreOverride.account_id)).one() == 5
    several = ops.post("/ops/overrides", data={"account": "a", "band": "yellow", "reason": "r"})
    assert "matches%20several%20accounts" in several.headers["location"]


def test_the_operations_page_shows_what_a_running_sync_is_doing(app_parts):
    import os
    import socket

    from model.db import transaction
    from model.tables import SyncRun, utcnow

    app, factory, _ = app_parts
    step = "backfilling history: week 3 of 12 (2026-09-18)"
    progress = {"host": socket.gethostname(), "pid": os.getpid(), "step": step,
                "heartbeat_at": utcnow().isoformat()}  # fmt: skip
    with transaction(factory) as s:
        s.add(SyncRun(kind="sync", stats={"progress": progress}))
    page = client_for(app, OPERATOR_TOKEN).get("/ops").text
    assert f"now: {step}" in page
