"""The crm streams' first queries read ahead in one Composite request: same pages, fewer calls."""

from __future__ import annotations

from typing import Any

import pytest

from connectors.base import StreamRead
from connectors.errors import BudgetExhausted, Fatal, Retriable
from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_composite import Query, ReadAhead
from tests.connectors.conftest import sandbox_salesforce

STREAMS = ("accounts", "opportunities", "contacts")


def _make(sb: Any, policy: RetryPolicy) -> SalesforceConnector:
    return SalesforceConnector(sandbox_salesforce(sb.base_url), policy=policy)


def _pull_all(
    sf: SalesforceConnector, states: dict[str, str | None]
) -> dict[str, tuple[list[Any], str | None]]:
    out = {}
    for stream in STREAMS:
        pages = list(sf.pull(stream, states[stream]))
        records = [r.model_dump() for p in pages for r in p.records]
        out[stream] = (records, next((p.cursor for p in reversed(pages) if p.cursor), None))
    return out


def test_first_and_incremental_pulls_cost_one_call_and_read_the_same(sandbox, policy) -> None:
    plain, ahead = _make(sandbox, policy), _make(sandbox, policy)
    none: dict[str, str | None] = dict.fromkeys(STREAMS)
    expected = _pull_all(plain, none)
    sandbox.clear_log()
    ahead.prepare_pulls([StreamRead(s, None) for s in STREAMS])
    got = _pull_all(ahead, none)
    assert got == expected
    paths = [r["path"] for r in sandbox.requests]
    assert paths == ["/services/data/v59.0/composite"] and ahead.calls == 1

    sandbox.change(0.2, seed=3)  # then an hourly run from the saved cursors
    states = {s: cursor for s, (_, cursor) in expected.items()}
    expected = _pull_all(plain, states)
    assert any(records for records, _ in expected.values())
    sandbox.clear_log()
    ahead.prepare_pulls([StreamRead(s, states[s]) for s in STREAMS])
    assert _pull_all(ahead, states) == expected
    assert [r["path"] for r in sandbox.requests] == ["/services/data/v59.0/composite"]


def _calls_per_stream(sf: SalesforceConnector, states: dict[str, str | None]) -> dict[str, int]:
    calls = {}
    for stream in STREAMS:
        before = sf.calls
        list(sf.pull(stream, states[stream]))
        calls[stream] = sf.calls - before
    return calls


def test_second_pages_are_asked_together_behind_the_first_pages(sandbox, policy) -> None:
    """Streams longer than a page: their second pages come in one more composite request,
    asked while the first pages are stored, and each page is asked once."""

    def make() -> SalesforceConnector:
        return SalesforceConnector(
            sandbox_salesforce(sandbox.base_url), policy=policy, page_size=10
        )

    plain, ahead = make(), make()
    none: dict[str, str | None] = dict.fromkeys(STREAMS)
    alone = _calls_per_stream(plain, none)
    expected = _pull_all(make(), none)
    assert all(n >= 2 for n in alone.values())  # every stream is longer than one page
    sandbox.clear_log()
    ahead.prepare_pulls([StreamRead(s, None) for s in STREAMS])
    assert _pull_all(ahead, none) == expected
    paths = [r["path"] for r in sandbox.requests]
    assert paths[:2] == ["/services/data/v59.0/composite"] * 2
    assert "/services/data/v59.0/composite" not in paths[2:]
    # firsts and seconds: 2 * 3 queries in 2 requests; every later page asked once
    assert ahead.calls == sum(alone.values()) - 2 * len(STREAMS) + 2

    sandbox.change(0.5, seed=3)  # an hourly run after a mass update: keyset pages from cursors
    states = {s: cursor for s, (_, cursor) in expected.items()}
    alone = _calls_per_stream(make(), states)
    longer = sum(n >= 2 for n in alone.values())
    assert longer >= 1
    expected = _pull_all(make(), states)
    ahead = make()
    ahead.prepare_pulls([StreamRead(s, states[s]) for s in STREAMS])
    assert _pull_all(ahead, states) == expected
    assert ahead.calls == sum(alone.values()) - len(STREAMS) - longer + 2


def test_a_refused_composite_leaves_each_stream_to_ask_alone(sandbox, policy) -> None:
    sf = _make(sandbox, policy)
    sandbox.faults.add(r"/composite$", 400, times=1)
    sandbox.clear_log()
    sf.prepare_pulls([StreamRead(s, None) for s in STREAMS])  # does not raise
    got = _pull_all(sf, dict.fromkeys(STREAMS))
    assert all(records for records, _ in got.values())
    paths = [r["path"] for r in sandbox.requests]
    assert paths[0].endswith("/composite") and len(paths) == 1 + len(STREAMS)


def test_a_failed_subrequest_is_asked_again_and_a_stale_result_is_not_used() -> None:
    sent: list[dict[str, Any]] = []

    def send(body: dict[str, Any]) -> dict[str, Any]:
        sent.append(body)
        return {"compositeResponse": [
            {"referenceId": "q0", "httpStatusCode": 200, "body": {"records": [], "done": True}},
            {"referenceId": "q1", "httpStatusCode": 400,
             "body": [{"errorCode": "INVALID_FIELD", "message": "No such column"}]},
        ]}  # fmt: skip

    ahead = ReadAhead(max_age=60)
    a, b = Query("SELECT Id FROM Account", True, {}), Query("SELECT Id FROM Contact", False, {})
    ahead.fetch([a, b], "59.0", send)
    sub = sent[0]["compositeRequest"][0]
    assert sub["url"].startswith("/services/data/v59.0/queryAll/?q=SELECT+Id")
    assert ahead.take(*b.key) is None  # failed: the stream asks on its own
    assert ahead.take("SELECT Id FROM Account", False) is None  # queryAll is another query
    assert ahead.take(*a.key) == {"records": [], "done": True}
    assert ahead.take(*a.key) is None  # taken once

    stale = ReadAhead(max_age=0)
    stale.fetch([a, b], "59.0", send)
    assert stale.take(*a.key) is None


def test_a_late_answer_from_an_earlier_round_is_not_kept() -> None:
    """A background read of a run that stopped mid-pull answers after the next run began:
    the next run asks again rather than take rows read before its own start."""
    import threading

    release = threading.Event()
    q = Query("SELECT Id FROM Contact LIMIT 10", False, {})

    def slow(body: dict[str, Any]) -> dict[str, Any]:
        release.wait(5)
        ok = {"records": [{"Id": "003old"}], "done": True}
        return {"compositeResponse": [{"referenceId": "q0", "httpStatusCode": 200, "body": ok}]}

    ahead = ReadAhead()
    ahead.fetch_behind([q], "59.0", slow)
    job = ahead._pending[q.key]
    ahead.fetch([], "59.0", slow)  # the next run's prepare: a new round
    release.set()
    job.result()
    assert ahead.take(*q.key) is None


def test_one_stream_or_more_than_five_queries() -> None:
    calls: list[int] = []

    def send(body: dict[str, Any]) -> dict[str, Any]:
        calls.append(len(body["compositeRequest"]))
        return {"compositeResponse": []}

    q = [Query(f"SELECT Id FROM Account LIMIT {n}", False, {}) for n in range(1, 8)]
    ReadAhead().fetch(q[:1], "59.0", send)
    assert calls == []  # one query gains nothing from a composite request
    ReadAhead().fetch(q, "59.0", send)
    assert calls == [5, 2]


@pytest.mark.parametrize(
    "error",
    [
        Retriable("malformed JSON in response", code="MALFORMED_RESPONSE"),
        Fatal("The requested resource does not exist", code="NOT_FOUND", status=404),
        BudgetExhausted("daily API budget spent"),
    ],
)
def test_send_errors_are_swallowed(error: Exception, caplog: pytest.LogCaptureFixture) -> None:
    def send(body: dict[str, Any]) -> dict[str, Any]:
        raise error

    ahead = ReadAhead()
    q = [Query("A", False, {}), Query("B", False, {})]
    ahead.fetch(q, "59.0", send)
    assert ahead.take("A", False) is None
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert str(error) in caplog.text  # the API's own message, for whoever reads the log


def test_a_bug_is_not_swallowed() -> None:
    def send(body: dict[str, Any]) -> dict[str, Any]:
        raise TypeError("a programming error")

    with pytest.raises(TypeError):
        ReadAhead().fetch([Query("A", False, {}), Query("B", False, {})], "59.0", send)
