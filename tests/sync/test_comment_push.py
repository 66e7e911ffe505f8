"""Escalation comments pushed to the sandbox: exactly once, even when an answer is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from connectors.zendesk import ZendeskConnector
from connectors.zendesk_write import comment_marker
from model.db import transaction
from model.tables import OutboxItem, utcnow
from sandbox import Sandbox
from sync import push
from sync.routes import writer_routes
from tests.sync.conftest import live_tickets

KEY = "esc:renewal_risk:acct-7#1:comment:severity"


def _ticket(sb: Sandbox) -> int:
    return live_tickets(sb, 1)[0]


def _queue(factory, ticket_id: int) -> None:
    with transaction(factory) as s:
        s.add(
            OutboxItem(
                key=KEY,
                system="zendesk",
                kind="helpdesk_comment",
                target_id=KEY[-64:],
                payload={
                    "helpdesk_ticket_id": ticket_id,
                    "body": "Severity rose to high: usage fell 60% in 30 days.",
                    "public": False,
                    "status": "open",
                    "_meta": {"escalation_id": 1},
                },
            )
        )


def _drain(factory, zd: ZendeskConnector, now: dt.datetime | None = None) -> push.DrainStats:
    return push.drain(
        factory, {"helpdesk_comment": writer_routes([zd.writer])["helpdesk_comment"]}, now=now
    )


def _item(factory) -> OutboxItem:
    with transaction(factory) as s:
        item = s.execute(select(OutboxItem).where(OutboxItem.key == KEY)).scalar_one()
        s.expunge(item)
        return item


def _api(sb: Sandbox) -> list[tuple[str, str, object]]:
    return [(r["method"], r["path"], r["status"]) for r in sb.requests if r["system"] == "zendesk"]


def _marked(sb: Sandbox, ticket_id: int) -> list[dict[str, object]]:
    """The ticket's comments carrying the outbox item's marker, as the listing shows them."""
    import httpx

    from sandbox import credentials as cred

    auth = (f"{cred.ZD_EMAIL}/token", cred.ZD_API_TOKEN)
    with httpx.Client(base_url=sb.base_url, auth=auth) as client:
        listing = client.get(f"/api/v2/tickets/{ticket_id}/comments.json").json()
    return [c for c in listing["comments"] if comment_marker(KEY) in c["body"]]


def test_first_send_is_one_request_and_ends_in_the_marker(factory, sb, zd) -> None:
    tid = _ticket(sb)
    _queue(factory, tid)
    sb.clear_log()
    stats = _drain(factory, zd)
    assert (stats.done, stats.retrying) == (1, 0)
    assert _api(sb) == [("PUT", f"/api/v2/tickets/{tid}.json", 200)]
    [posted] = _marked(sb, tid)
    assert posted["public"] is False
    assert str(posted["body"]).splitlines()[-1] == comment_marker(KEY)
    assert _item(factory).status == "done"


def test_a_lost_answer_is_retried_by_the_outbox_and_posts_once(factory, sb, zd) -> None:
    tid = _ticket(sb)
    _queue(factory, tid)
    sb.faults.add(rf"/tickets/{tid}\.json", "lost_response", method="PUT")
    sb.clear_log()
    first = _drain(factory, zd)
    item = _item(factory)
    assert (first.done, first.retrying) == (0, 1)
    assert (item.status, item.attempts) == ("pending", 1) and item.last_error
    assert len(_marked(sb, tid)) == 1  # Zendesk applied it; pulsehub never heard back

    sb.clear_log()
    again = _drain(factory, zd, now=utcnow() + dt.timedelta(hours=2))
    assert (again.done, again.retrying) == (1, 0)
    assert _api(sb) == [("GET", f"/api/v2/tickets/{tid}/comments.json", 200)]
    assert [r["query"] for r in sb.requests] == [{"page[size]": "100", "sort": "-created_at"}]
    assert len(_marked(sb, tid)) == 1
    assert _item(factory).status == "done"


def test_a_retry_whose_first_send_never_landed_posts_it(factory, sb, zd) -> None:
    tid = _ticket(sb)
    _queue(factory, tid)
    sb.faults.add(rf"/tickets/{tid}\.json", "reset", method="PUT")  # dropped before applying
    assert _drain(factory, zd).retrying == 1 and _marked(sb, tid) == []
    sb.clear_log()
    assert _drain(factory, zd, now=utcnow() + dt.timedelta(hours=2)).done == 1
    assert [m for m, _, _ in _api(sb)] == ["GET", "PUT"]
    assert len(_marked(sb, tid)) == 1


def test_a_crash_between_send_and_record_looks_before_posting_again(
    factory, sb, zd, monkeypatch
) -> None:
    """The comment lands, then the process dies before recording it: the item stays pending
    with its in-flight mark, and the next drain finds the marker instead of posting twice."""
    tid = _ticket(sb)
    _queue(factory, tid)

    def killed(*_args, **_kwargs):  # the results never reach the database
        raise SystemExit("killed after the send")

    route = writer_routes([zd.writer])["helpdesk_comment"]
    with monkeypatch.context() as m, pytest.raises(SystemExit):
        m.setattr(push.outbox, "record_successes", killed)
        push.drain(factory, {"helpdesk_comment": route})
    item = _item(factory)
    assert (item.status, item.attempts, item.last_error) == ("pending", 0, push.IN_FLIGHT)
    assert len(_marked(sb, tid)) == 1

    sb.clear_log()
    assert _drain(factory, zd).done == 1
    assert [m for m, _, _ in _api(sb)] == ["GET"]
    assert len(_marked(sb, tid)) == 1
    done = _item(factory)
    assert (done.status, done.last_error) == ("done", None)
