"""The escalations inbox: filtered in SQL, triaged from the list by operators (ack, snooze,
resolve), and the resolution's writes queued with its state in one transaction."""

from __future__ import annotations

import re
from urllib.parse import unquote

from sqlalchemy import func, select

from model.tables import Account, Escalation, OutboxItem
from tests.web.conftest import OPERATOR_TOKEN, VIEWER_TOKEN, client_for


def _active(factory, **where) -> list[Escalation]:
    with factory() as s:
        stmt = select(Escalation).where(Escalation.state.in_(("open", "acknowledged")))
        for k, v in where.items():
            stmt = stmt.where(getattr(Escalation, k) == v)
        return list(s.scalars(stmt))


def _row_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-testid="inbox-row" data-id="(\d+)"', html)}


def test_the_inbox_lists_active_escalations_and_filters_them(app_parts) -> None:
    app, factory, _ = app_parts
    viewer = client_for(app, VIEWER_TOKEN)
    page = viewer.get("/escalations")
    assert page.status_code == 200
    assert _row_ids(page.text) == {e.id for e in _active(factory)} != set()
    assert 'action="/escalations/' not in page.text, "viewers get no triage forms"
    sev = _active(factory)[0].severity
    got = _row_ids(viewer.get(f"/escalations?severity={sev}").text)
    assert got == {e.id for e in _active(factory, severity=sev)}
    with factory() as s:
        one = _active(factory)[0]
        owner = s.get(Account, one.account_id).owner_name
        mine = {e.id for e in _active(factory) if s.get(Account, e.account_id).owner_name == owner}
    assert _row_ids(viewer.get("/escalations", params={"owner": owner}).text) == mine
    resolved = viewer.get("/escalations?state=resolved").text
    with factory() as s:
        n = s.scalar(select(func.count()).where(Escalation.state == "resolved"))
    assert len(_row_ids(resolved)) == n


def test_an_operator_acknowledges_snoozes_and_resolves_from_the_list(app_parts) -> None:
    app, factory, _ = app_parts
    ops = client_for(app, OPERATOR_TOKEN)
    first, second, third = sorted(e.id for e in _active(factory, state="open"))[:3]
    assert 'data-testid="ack"' in ops.get("/escalations").text
    r = ops.post(f"/escalations/{first}/ack")
    assert r.status_code == 303 and "acknowledged" in r.headers["location"]
    r = ops.post(f"/escalations/{second}/snooze", data={"days": "3"})
    assert "snoozed%20for%203%20days" in r.headers["location"]
    listed = _row_ids(ops.get("/escalations").text)
    assert second not in listed and first in listed
    assert second in _row_ids(ops.get("/escalations?snoozed=true").text)
    assert (
        "resolution%20needs%20a%20note"
        in ops.post(f"/escalations/{third}/resolve").headers["location"]
    )
    with factory() as s, s.begin():  # its engineering ticket exists: resolving comments on it
        esc = s.get(Escalation, third)
        esc.rule, esc.helpdesk_ticket_id = "repeated_issue", 777001
    with factory() as s:
        before = s.scalar(select(func.count()).select_from(OutboxItem))
    r = ops.post(f"/escalations/{third}/resolve", data={"note": "fixed in 4.2"})
    assert r.status_code == 303 and "resolved" in r.headers["location"]
    queued = int(re.search(r"(\d+) write", unquote(r.headers["location"])).group(1))
    with factory() as s:
        acked, snoozed, done = (s.get(Escalation, i) for i in (first, second, third))
        assert acked.state == "acknowledged" and acked.acknowledged_at is not None
        assert snoozed.state == "open" and snoozed.details["snoozed_until"]
        assert done.state == "resolved" and "fixed in 4.2" in (done.resolution_note or "")
        assert "resolved by ops" in done.resolution_note
        after = s.scalar(select(func.count()).select_from(OutboxItem))
    assert after - before == queued >= 1
    with factory() as s:
        comment = s.scalars(select(OutboxItem).where(OutboxItem.kind == "helpdesk_comment")).one()
        assert (
            comment.payload["helpdesk_ticket_id"] == 777001
            and "fixed in 4.2" in comment.payload["body"]
        )
    assert third not in _row_ids(ops.get("/escalations").text)


def test_viewers_cannot_triage(app_parts) -> None:
    app, factory, _ = app_parts
    target = _active(factory, state="open")[0].id
    r = client_for(app, VIEWER_TOKEN).post(f"/escalations/{target}/ack")
    assert r.status_code == 403
    with factory() as s:
        assert s.get(Escalation, target).state == "open"


def test_the_inbox_shows_each_escalations_rca_and_when_it_is_overdue(app_parts) -> None:
    import datetime as dt

    from model.tables import RcaReview, utcnow

    app, factory, _ = app_parts
    overdue, due = sorted(e.id for e in _active(factory))[:2]
    now = utcnow()
    with factory() as s:
        for esc_id, solved in ((overdue, now - dt.timedelta(hours=96)), (due, now)):
            esc = s.get(Escalation, esc_id)
            s.add(RcaReview(escalation_id=esc_id, account_id=esc.account_id, solved_at=solved,
                            due_at=solved + dt.timedelta(hours=72)))  # fmt: skip
        s.commit()
    html = client_for(app, VIEWER_TOKEN).get("/escalations").text
    cells = dict(re.findall(r'data-id="(\d+)".*?data-testid="rca">(.*?)</td>', html, re.S))
    assert "overdue" in cells[str(overdue)] and 'href="/rcas"' in cells[str(overdue)]
    assert cells[str(due)].startswith('<a href="/rcas">due ') and "overdue" not in cells[str(due)]
    others = [c for i, c in cells.items() if int(i) not in (overdue, due)]
    assert others and all(c == "\u2013" for c in others)  # no RCA owed (a dash): none solved yet
