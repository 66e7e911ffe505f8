"""The usage connector's survey stream: typed at the boundary (bad answers quarantined with the
reason), verbatims minimized before anything is stored, incremental against the sandbox."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
import respx
from sqlalchemy import func, select

from connectors.surveys import redact
from connectors.usage import UsageConnector
from model.tables import QuarantinedRecord, SurveyResponse
from sandbox import Sandbox
from sync.pull import pull_stream
from tests.connectors.conftest import sandbox_usage

BASE = "https://usage.test"
WHEN = "2026-05-04T10:00:00Z"


def row(n: int, **kw: object) -> dict[str, object]:
    return {"id": f"sv{n}", "kind": "nps", "score": 9, "workspace_id": "ws1",
            "responded_at": WHEN, "updated_at": WHEN, **kw}  # fmt: skip


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def connector(policy, verbatims: str = "keep") -> UsageConnector:
    client = httpx.Client(base_url=BASE, headers={"Authorization": "Bearer T"})
    return UsageConnector(client, policy=policy, verbatims=verbatims)  # type: ignore[arg-type]


def serve(api, rows: list[dict[str, object]]) -> None:
    api.get("/usage/v1/surveys").mock(
        return_value=httpx.Response(
            200, json={"data": rows, "meta": {"has_more": False, "updated_until": WHEN}}
        )
    )


def test_bad_answers_are_quarantined_with_the_reason_and_the_rest_stored(api, policy, factory):
    serve(api, [
        row(1),
        row(2, kind="nps", score=11),  # off the scale
        row(3, kind="ces", score=0),
        row(4, kind="csat", score="good"),  # a word CSAT: stored as 5
        row(5, workspace_id=None),  # names no account
        row(6, kind="stars", score=3),
        row(7, score=7.5),  # not a whole number
    ])  # fmt: skip
    stored, bad = pull_stream(factory, connector(policy), "surveys")
    assert (stored, bad) == (2, 5)
    with factory() as s:
        answers = {r.external_id: r for r in s.scalars(select(SurveyResponse))}
        reasons = {q.external_id: q.reason for q in s.scalars(select(QuarantinedRecord))}
    assert answers["sv4"].score == 5.0 and answers["sv4"].kind == "csat"
    assert "nps score must be a whole number 0-10" in reasons["sv2"]
    assert "ces score" in reasons["sv3"] and "names no account" in reasons["sv5"]
    assert "kind" in reasons["sv6"] and "7.5" in reasons["sv7"]


@pytest.mark.parametrize(
    ("mode", "comment", "respondent"),
    [
        ("keep", "Slow! Mail ann@x.io or call +1 415 555 0134", "ann@x.io"),
        ("redact", "Slow! Mail [email] or call [phone]", "ann@x.io"),
        ("drop", None, None),
    ],
)
def test_verbatims_are_minimized_before_they_are_stored(
    api, policy, factory, mode, comment, respondent
):
    text = "Slow! Mail ann@x.io or call +1 415 555 0134"
    serve(api, [row(1, comment=text, respondent_email="ann@x.io"), row(2, score=99, comment=text)])
    pull_stream(factory, connector(policy, mode), "surveys")
    with factory() as s:
        got = s.scalars(select(SurveyResponse)).one()
        quarantined = s.scalars(select(QuarantinedRecord)).one()
    assert (got.comment, got.respondent) == (comment, respondent)
    if mode != "keep":  # the quarantined copy keeps no more than the stored one
        assert "Mail ann@x.io" not in (quarantined.payload or "")
        assert "555" not in (quarantined.payload or "")


def test_redact_leaves_scores_dates_and_short_numbers_alone() -> None:
    assert redact("NPS 9 since 2026-05-04, 3 users") == "NPS 9 since 2026-05-04, 3 users"
    assert redact("ring 020 7946 0958 now") == "ring [phone] now"


def test_a_usage_api_without_surveys_declares_no_survey_stream(policy) -> None:
    client = httpx.Client(base_url=BASE)
    assert "surveys" not in UsageConnector(client, surveys=False).streams
    assert UsageConnector(client).streams["surveys"].entity == "survey_response"


def test_incremental_pull_from_the_sandbox_reads_each_answer_once(factory) -> None:
    now = dt.datetime(2025, 6, 2, 15, 30, tzinfo=dt.UTC)
    with Sandbox(accounts=40, seed=3, now=now) as sb:
        usage = UsageConnector(sandbox_usage(sb.base_url), page_size=50)
        first, bad = pull_stream(factory, usage, "surveys")
        calls = usage.calls
        again, _ = pull_stream(factory, usage, "surveys")
        assert usage.calls - calls == 1  # nothing changed: one request
    assert first == len(sb.world.surveys) > 50 and bad == 0 and again == 0
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == first
