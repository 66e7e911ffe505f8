"""Survey answers reach their account by the crm account id, workspace or organization they name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from model.db import make_engine, make_session_factory, transaction, upgrade
from model.tables import Account, ExternalIdentity, SurveyResponse
from sync.voice import link_responses

WHEN = dt.datetime(2026, 5, 4, tzinfo=dt.UTC)


@pytest.fixture
def db(any_db_url) -> Iterator[sessionmaker[Session]]:
    """SQLite and the real PostgreSQL: the linking update is one correlated statement."""
    upgrade(any_db_url)
    engine = make_engine(any_db_url)
    yield make_session_factory(engine)
    engine.dispose()


def answer(n: int, **names: str) -> SurveyResponse:
    return SurveyResponse(source="survey", external_id=f"s{n}", kind="nps", score=9,
                          responded_at=WHEN, **names)  # fmt: skip


def test_each_naming_links_and_an_unknown_one_waits(db) -> None:
    factory = db
    with transaction(factory) as s:
        s.add_all([Account(id=1, name="A", crm_id="001A"), Account(id=2, name="B", crm_id="001B"),
                   Account(id=3, name="C", crm_id="001C")])  # fmt: skip
        s.flush()
        s.add_all([
            ExternalIdentity(source="usage", kind="workspace", external_id="ws9", account_id=2,
                             status="linked"),
            ExternalIdentity(source="helpdesk", kind="organization", external_id="77",
                             account_id=3, status="linked"),
            ExternalIdentity(source="usage", kind="workspace", external_id="ws-amb",
                             account_id=None, status="ambiguous"),
        ])  # fmt: skip
        s.add_all([
            answer(1, crm_account_id="001A", workspace_id="ws9"),  # the crm id comes first
            answer(2, workspace_id="ws9"),
            answer(3, organization_id="77"),
            answer(4, workspace_id="ws-amb"),  # not linked yet: waits
            answer(5, crm_account_id="001Z"),
        ])  # fmt: skip
    with transaction(factory) as s:
        assert link_responses(s) == 3
    with factory() as s:
        got = dict(s.execute(select(SurveyResponse.external_id, SurveyResponse.account_id)).all())
    assert got == {"s1": 1, "s2": 2, "s3": 3, "s4": None, "s5": None}
    with transaction(factory) as s:  # the workspace gets linked later: the next run links it
        s.execute(
            ExternalIdentity.__table__.update()
            .where(ExternalIdentity.external_id == "ws-amb")
            .values(account_id=1, status="linked")
        )
        assert link_responses(s) == 1
