"""Quarterly access reviews on the sandbox over loopback HTTP: the usage API's users are
pulled; the report flags the inactive admin and the user whose contact left; one task per
account and quarter reaches the crm (a dry run shows them and writes nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from escalation.operations import load_operations
from model.tables import AppUser, ExternalIdentity, utcnow
from reporting.access_reviews import access_reviews, access_rows
from tests.sandbox_runtime import sandbox_runtime


@pytest.fixture
def rt(tmp_path):
    with sandbox_runtime(f"sqlite:///{tmp_path / 'access.db'}", accounts=40, seed=5) as runtime:
        yield runtime


def access_tasks(sb) -> list[dict]:
    return [
        w
        for w in sb.writes
        if w["kind"] == "task_created"
        and str(w["changes"].get("Subject", "")).startswith("Access review")
    ]


def test_access_review_flags_the_stories_and_tasks_each_account_once_a_quarter(rt):
    dry = rt.sync(dry_run=True)  # pulls (a dry run stores what it reads), decides nothing
    assert dry.pulled["usage.users"] > 0 and dry.reviews["access_reviews"] > 0
    assert access_tasks(rt.sb) == []
    first = rt.sync()
    assert first.errors == []
    story = rt.sb.world.truth["access_story"]
    config = load_operations().access_review
    with rt.factory() as s:
        assert s.scalar(select(func.count()).select_from(AppUser)) == dry.pulled["usage.users"]
        account_id = s.scalar(
            select(ExternalIdentity.account_id).where(
                ExternalIdentity.kind == "workspace",
                ExternalIdentity.external_id == story["workspace"],
            )
        )
        assert account_id is not None
        reviews = access_reviews(s, utcnow(), config)
        mine = next(r for r in reviews if r.account_id == account_id)
        rows = access_rows(reviews)
    assert mine.inactive_admins == 1 and mine.left == 1
    inactive_admin = next(u for u in mine.users if u.admin and u.inactive)
    assert inactive_admin.last_login_at is not None
    assert (utcnow() - inactive_admin.last_login_at).days >= config.inactive_days
    assert sum(r["contact_left"] == "yes" for r in rows) >= 1

    tasks = access_tasks(rt.sb)
    assert len(tasks) == first.reviews["access_reviews"] == len(reviews)
    story_task = next(
        t for t in tasks if "1 inactive admins, 1 who left" in t["changes"]["Subject"]
    )
    assert inactive_admin.email in story_task["changes"]["Description"]
    rt.sb.tick(61)
    again = rt.sync()
    assert again.errors == [] and "access_reviews" not in again.reviews
    assert len(access_tasks(rt.sb)) == len(tasks)  # once per account and quarter


def test_a_first_pass_queues_access_reviews_a_page_at_a_time(rt, monkeypatch):
    """A quarter's first pass makes a task for nearly every account (~42,000 at 50,000
    accounts, each listing its users): each page of accounts is queued before the next is
    built, never the whole book's tasks at once."""
    from sync import access_tasks as pages
    from sync import outbox

    monkeypatch.setattr(pages, "CHUNK", 10)
    queued: list[int] = []
    enqueue = outbox.enqueue_creates

    def spy(session, requests):
        access = [r for r in requests if r.key.startswith("ops:access_review:")]
        if access:
            queued.append(len(access))
        return enqueue(session, requests)

    monkeypatch.setattr(outbox, "enqueue_creates", spy)
    first = rt.sync()
    assert first.errors == []
    assert len(queued) >= 3 and max(queued) <= 10
    assert sum(queued) == first.reviews["access_reviews"] == len(access_tasks(rt.sb))
