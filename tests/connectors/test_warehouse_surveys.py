"""Survey answers from a warehouse table: the optional `surveys` block, its cursor, quarantine
and verbatim minimization, pulled into the model like the usage API's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select

from connectors.errors import ConfigError
from model.tables import QuarantinedRecord, SurveyResponse
from sync.pull import pull_stream
from tests.connectors.warehouse_db import TODAY, at, connector, make_warehouse

META = MetaData()
ANSWERS = Table(
    "nps_answers",
    META,
    Column("answer_id", Integer, primary_key=True),
    Column("survey", String(10)),
    Column("rating", Integer),
    Column("text", String(500)),
    Column("answered_at", DateTime),
    Column("account_sfid", String(18)),
)
SURVEYS = {
    "table": "nps_answers",
    "columns": {
        "id": "answer_id", "kind": "survey", "score": "rating", "comment": "text",
        "responded_at": "answered_at", "crm_account_id": "account_sfid",
        "respondent": None, "workspace_id": None, "organization_id": None,
    },
}  # fmt: skip


def answers(n: int, day: dt.date) -> list[dict]:
    return [
        {"answer_id": i, "survey": "nps", "rating": i % 11, "answered_at": at(day).replace(tzinfo=None),
         "account_sfid": "001A", "text": f"call me on 020 7946 09{i:02d}" if i == 1 else None}
        for i in range(1, n + 1)
    ]  # fmt: skip


def test_a_survey_table_is_a_stream_only_when_configured(sqlite_url) -> None:
    make_warehouse(sqlite_url).dispose()
    assert "surveys" not in connector(sqlite_url).streams
    assert connector(sqlite_url, surveys=SURVEYS).streams["surveys"].entity == "survey_response"


def test_answers_are_pulled_incrementally_minimized_and_bad_ones_quarantined(
    factory, tmp_path
) -> None:
    url = f"sqlite:///{tmp_path / 'wh.db'}"
    make_warehouse(url).dispose()
    engine = create_engine(url)
    META.create_all(engine)
    with engine.begin() as conn:
        conn.execute(ANSWERS.insert(), answers(12, TODAY - dt.timedelta(days=3)))
        conn.execute(ANSWERS.insert(), [{"answer_id": 99, "survey": "nps", "rating": 42,
                                         "answered_at": at(TODAY).replace(tzinfo=None)}])  # fmt: skip
    wh = connector(url, surveys=SURVEYS, verbatims="redact", page_size=5)
    stored, bad = pull_stream(factory, wh, "surveys")
    assert (stored, bad) == (12, 1)
    with engine.begin() as conn:  # a late answer
        conn.execute(ANSWERS.insert(), answers(13, TODAY)[-1:])
    again, _ = pull_stream(factory, wh, "surveys")
    assert again >= 1  # from the look-back before the newest answer: the late one included
    with factory() as s:
        rows = {r.external_id: r for r in s.scalars(select(SurveyResponse))}
        reasons = set(s.scalars(select(QuarantinedRecord.reason)))  # re-read by the look-back
    assert len(rows) == 13 and rows["13"].score == 2.0 and rows["1"].crm_account_id == "001A"
    assert rows["1"].comment == "call me on [phone]"
    assert len(reasons) == 1 and "0-10" in reasons.pop()
    engine.dispose()


def test_a_survey_block_missing_a_needed_column_names_it(sqlite_url) -> None:
    block = {"table": "nps_answers", "columns": {"score": None}}
    try:
        connector(sqlite_url, surveys=block)
    except ConfigError as exc:
        assert "surveys.columns.score" in str(exc)
    else:
        raise AssertionError("a survey table without a score column was accepted")
