"""Hostile and malformed input: each item is stored or quarantined, nothing crashes or is lost.

Vendor pages are served to the real clients (zenpy, simple-salesforce) by an in-process
fake server, then go through the real connectors and `sync.pull.pull_stream` into
SQLite. Hypothesis mutates every field of a valid record (missing, null, wrong type, huge,
unicode and control characters, odd timestamps, duplicate and hostile ids); hand-picked
cases add pages that are not even lists of objects. SOQL metacharacters that reach a query
are checked with the sandbox's own SOQL tokenizer; malformed JSON pages come from the
sandbox's `malformed_json` fault; oversized and garbage webhook bodies are refused.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_streams import SPECS as SF_STREAMS
from connectors.salesforce_streams import Keyset, keyset_where
from connectors.zendesk import ZendeskConnector
from connectors.zendesk_transport import WindowLimiter
from model.db import make_engine, make_session_factory, upgrade
from model.tables import Account, QuarantinedRecord, Ticket
from sync.pull import pull_stream
from tests.connectors.conftest import fake_salesforce, fake_zenpy

TRIED: Counter[str] = Counter()  # inputs tried per kind, printed at the end (README figures)
NO_WAIT = RetryPolicy(max_attempts=2, initial_wait=0, max_wait=0, sleep=lambda s: None)


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('hostile') / 'hostile.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()
    print(f"\nhostile inputs tried: {dict(TRIED)}")


def _quarantined(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return int(s.scalar(select(func.count()).select_from(QuarantinedRecord)) or 0)


# -- values a vendor (or something pretending to be one) might send ------------------------

HUGE = "x" * 300_000
ODD_TIMES = [
    "2024-01-02 03:04:05",
    "2024-01-02T03:04:05.123456789Z",
    "2024-01-02T03:04:05+05:30",
    "2024-13-45T99:99:99Z",
    "1704164645",
    "yesterday",
    "",
    "0000-00-00T00:00:00Z",
    "2024-01-02T03:04:05.000+0000",
]
weird_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F)),
    st.sampled_from(["\x00", "\u202e", "💥" * 50, "' OR 1=1 --", "\\", "\ud7ff", HUGE]),
)
weird = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    weird_text,
    st.sampled_from(ODD_TIMES),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
)
MISSING = object()


def mutate(base: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """Each field: kept, dropped or replaced by a hostile value; plus an unexpected extra."""
    out: dict[str, Any] = {}
    for key, value in base.items():
        choice = draw(st.sampled_from(["keep", "keep", "drop", "hostile"]))
        if choice == "keep":
            out[key] = value
        elif choice == "hostile":
            out[key] = draw(weird)
    if draw(st.booleans()):
        out[draw(st.text(min_size=1, max_size=8))] = draw(weird)
    return out


def zd_ticket(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "subject": f"ticket {n}",
        "status": "open",
        "priority": "high",
        "tags": ["a"],
        "organization_id": 77,
        "requester_id": 5,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-02T00:00:00Z",
    }


def sf_account(n: int) -> dict[str, Any]:
    return {
        "attributes": {"type": "Account"},
        "Id": f"001{n:015d}",
        "Name": f"Account {n}",
        "Website": "example.com",
        "ARR__c": 1000.0,
        "Renewal_Date__c": "2025-01-01",
        "IsDeleted": False,
        "SystemModstamp": "2024-01-02T00:00:00.000+0000",
    }


# -- Zendesk ticket export -----------------------------------------------------------------

SENTINEL = iter(range(10**9, 2 * 10**9))  # fresh good ids per example: nothing else is lost


def _zd_pull(factory: sessionmaker[Session], items: list[Any]) -> tuple[int, int]:
    def handler(request: Any) -> tuple[int, Any, dict[str, str]]:
        page = {"tickets": items, "after_cursor": "C1", "end_of_stream": True}
        return 200, page, {}

    zenpy, _ = fake_zenpy(handler)
    zd = ZendeskConnector(zenpy, policy=NO_WAIT, export_limiter=WindowLimiter(10_000, 60.0))
    return pull_stream(factory, zd, "tickets", fresh=True)


def _version(item: dict[str, Any]) -> tuple[Any, ...]:
    """(id, updated_at) compared as Python compares them; repr when not hashable."""
    pair = (item.get("id"), item.get("updated_at"))
    try:
        hash(pair)
    except TypeError:
        return tuple(repr(v) for v in pair)
    return pair


def _assert_zd_outcome(factory, items, good_ids, stored, rejected, before) -> None:
    with factory() as s:
        found = set(s.scalars(select(Ticket.helpdesk_id).where(Ticket.helpdesk_id.in_(good_ids))))
    assert found == set(good_ids), "a good ticket next to hostile ones was lost"
    assert _quarantined(factory) - before == rejected
    distinct = {_version(i) for i in items if isinstance(i, dict)}  # repeats are dropped
    non_objects = sum(not isinstance(i, dict) for i in items)
    assert stored + rejected == len(distinct) + non_objects, (stored, rejected, items)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_zendesk_tickets_are_stored_or_quarantined(factory, data) -> None:
    hostile = [mutate(zd_ticket(n), data.draw) for n in range(data.draw(st.integers(1, 4)))]
    good_ids = [next(SENTINEL) for _ in range(2)]
    items = [zd_ticket(good_ids[0]), *hostile, zd_ticket(good_ids[1])]
    TRIED["zendesk tickets (hypothesis)"] += len(hostile)
    before = _quarantined(factory)
    stored, rejected = _zd_pull(factory, items)
    _assert_zd_outcome(factory, items, good_ids, stored, rejected, before)


HAND_PICKED_ZD: list[Any] = [
    None,
    5,
    "ticket",
    [],
    {},
    {"id": None, **{k: v for k, v in zd_ticket(0).items() if k != "id"}},
    {**zd_ticket(0), "id": "12abc"},
    {**zd_ticket(0), "id": 2**64},
    {**zd_ticket(0), "id": -1},
    {**zd_ticket(0), "id": [1, 2]},
    {**zd_ticket(0), "id": {"nested": 1}},
    {**zd_ticket(0), "id": 1.5},
    {**zd_ticket(0), "id": True},
    {**zd_ticket(0), "subject": HUGE},
    {**zd_ticket(0), "subject": "\x00\x01\x1b[31m\u202e"},
    {**zd_ticket(0), "tags": "not-a-list"},
    {**zd_ticket(0), "tags": [None, 5, HUGE[:5000]]},
    *({**zd_ticket(0), "updated_at": t} for t in ODD_TIMES),
]


@pytest.mark.parametrize("hostile", HAND_PICKED_ZD, ids=lambda v: repr(v)[:40])
def test_hand_picked_zendesk_items(factory, hostile) -> None:
    good_ids = [next(SENTINEL), next(SENTINEL)]
    if isinstance(hostile, dict) and hostile.get("id") == 0:
        hostile = {**hostile, "id": next(SENTINEL)}
    items = [zd_ticket(good_ids[0]), hostile, zd_ticket(good_ids[0]), zd_ticket(good_ids[1])]
    TRIED["zendesk hand-picked"] += 1
    before = _quarantined(factory)
    stored, rejected = _zd_pull(factory, items)
    _assert_zd_outcome(factory, items, good_ids, stored, rejected, before)


# -- Salesforce accounts -------------------------------------------------------------------


def _sf_pull(factory: sessionmaker[Session], rows: list[Any]) -> tuple[int, int]:
    served = []

    def handler(request: Any) -> tuple[int, Any, dict[str, str]]:
        if "COUNT%28%29" in (request.url or "") or "COUNT()" in (request.url or ""):
            return 200, {"totalSize": len(rows), "done": True, "records": []}, {}
        batch = [] if served else rows
        served.append(request.url)
        return 200, {"totalSize": len(batch), "done": True, "records": batch}, {}

    sf, _ = fake_salesforce(handler)
    conn = SalesforceConnector(sf, policy=NO_WAIT)
    return pull_stream(factory, conn, "accounts", fresh=True)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_hostile_salesforce_accounts_are_stored_or_quarantined(factory, data) -> None:
    n0 = next(SENTINEL)
    hostile = [
        mutate(sf_account(n0 + 1 + i), data.draw) for i in range(data.draw(st.integers(1, 3)))
    ]
    good = [sf_account(n0), sf_account(n0 + 10)]
    rows = [good[0], *hostile, good[1]]
    TRIED["salesforce accounts (hypothesis)"] += len(hostile)
    before = _quarantined(factory)
    stored, rejected = _sf_pull(factory, rows)
    with factory() as s:
        ids = [g["Id"] for g in good]
        found = set(s.scalars(select(Account.crm_id).where(Account.crm_id.in_(ids))))
    assert found == set(ids), "a good account next to hostile ones was lost"
    assert _quarantined(factory) - before == rejected
    assert stored + rejected == len(rows), (stored, rejected, rows)


# -- SOQL metacharacters -------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(value=st.text(min_size=1))
def test_a_cursor_id_reaches_soql_as_one_escaped_literal(value) -> None:
    from sandbox.soql import _literal, tokenize

    TRIED["SOQL literals"] += 1
    ts = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    where = keyset_where(SF_STREAMS["accounts"], Keyset(ts, value))
    tokens = tokenize(f"SELECT Id FROM Account{where}")
    strings = [text for kind, text in tokens if kind == "str"]
    assert len(strings) == 1, f"{value!r} changed the query's structure: {where}"
    assert _literal("str", strings[0], ts.date()) == value
    words = [t.upper() for kind, t in tokens if kind == "word"]
    assert words.count("OR") == 1 and words.count("AND") == 1, where


# -- webhook bodies ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def webhook(factory: sessionmaker[Session]) -> Any:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from pulsehub.settings import Settings
    from pulsehub.web.webhooks import router

    app = FastAPI()
    app.include_router(router)
    app.state.settings = Settings(webhook_secret="whsec-hostile")
    app.state.factory = factory
    app.state.queued = []
    app.state.enqueue_refresh = app.state.queued.append
    return TestClient(app)


def _deliver(client: Any, body: bytes) -> int:
    from pulsehub.web.webhooks import SIGNATURE, TIMESTAMP
    from sync.webhooks import sign

    ts = dt.datetime.now(dt.UTC).isoformat()
    headers = {SIGNATURE: sign("whsec-hostile", ts, body), TIMESTAMP: ts}
    return int(client.post("/webhooks/zendesk", content=body, headers=headers).status_code)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
webhook_bodies = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        lambda t, o, i: json.dumps({"ticket": {"id": t, "organization_id": o}, "id": i}).encode(),
        json_values,
        json_values,
        json_values,
    ),
    json_values.map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=webhook_bodies)
def test_signed_garbage_webhook_bodies_are_refused_or_accepted_never_crash(webhook, body) -> None:
    TRIED["webhook bodies"] += 1
    assert _deliver(webhook, body) in (202, 400)


@pytest.mark.parametrize("size", [256 * 1024 + 1, 5 * 1024 * 1024])
def test_oversized_webhook_body_is_refused_before_parsing(webhook, size) -> None:
    TRIED["webhook bodies"] += 1
    queued = len(webhook.app.state.queued)
    assert _deliver(webhook, b'{"ticket": {"id": 1, "x": "' + b"a" * size + b'"}}') == 413
    assert len(webhook.app.state.queued) == queued


HAND_PICKED_WEBHOOKS = [
    b"",
    b"null",
    b"[]",
    b'{"ticket": {"id": 1180591620717411303424}}',
    b'{"ticket_id": "999999999999999999999999999999"}',
    b'{"organization_id": {"$ne": null}}',
    b'{"ticket": {"id": "1 OR 1=1", "organization_id": "\' OR \'1\'=\'1"}}',
    b'{"ticket": "\xff\xfe"}',
    b'{"detail": {"id": -1}}',
]


@pytest.mark.parametrize("body", HAND_PICKED_WEBHOOKS)
def test_hand_picked_webhook_bodies(webhook, body) -> None:
    TRIED["webhook bodies"] += 1
    assert _deliver(webhook, body) in (202, 400)


# -- malformed JSON pages from the sandbox (fault `malformed_json`: the body cut in half) ----

MALFORMED_PAGES = (
    r"/services/data/v\d+\.\d/query",
    r"/api/v2/incremental/tickets/cursor",
    r"/api/v2/incremental/organizations",
    r"/api/v2/ticket_metrics",
    r"/api/v2/satisfaction_ratings",
    r"/usage/v1/workspaces",
    r"/usage/v1/daily",
)


def test_malformed_json_pages_end_where_a_clean_run_ends(tmp_path) -> None:
    from model.db import upgrade as up
    from sandbox import Sandbox
    from tests.reliability.crashkit import db_state as _state
    from tests.reliability.crashkit import sandbox_state as _sandbox_state
    from tests.reliability.test_fault_storm import NOW, _sync_until_clean

    clean_db, bad_db = (f"sqlite:///{tmp_path / n}" for n in ("clean.db", "bad.db"))
    up(clean_db)
    up(bad_db)
    with Sandbox(accounts=6, seed=21, now=NOW) as clean:
        _sync_until_clean(clean, clean_db)
        expected_sandbox = _sandbox_state(clean)
    with Sandbox(accounts=6, seed=21, now=NOW) as bad:
        for path in MALFORMED_PAGES:
            bad.faults.add(path, "malformed_json", times=1, method="GET")
        reports = _sync_until_clean(bad, bad_db)
        got_sandbox = _sandbox_state(bad)
        cut = [r for r in bad.requests if r["system"] != "control"]
    TRIED["malformed JSON pages"] += len(MALFORMED_PAGES)
    assert len(cut) > 0
    assert _state(bad_db) == _state(clean_db)
    assert got_sandbox == expected_sandbox
    print(f"malformed JSON: {len(MALFORMED_PAGES)} pages cut, {len(reports)} run(s) to converge")


SOQL_HOSTILE = [
    "O'Brien renewal",
    "back\\slash",
    "' OR Subject != '",
    "\\' OR Id != null --",
    "ends with backslash \\",
    "quote \\' mix '\\",
    "%_ LIKE wildcards",
]


def test_soql_metacharacters_in_task_lookups_are_escaped_not_injected(tmp_path) -> None:
    """Tasks are looked up by WhatId/Subject before creation: hostile subjects must match
    only themselves, so a second create finds every task and creates none."""
    from connectors.salesforce_records import TaskCreate
    from pulsehub.demo import sandbox_settings
    from pulsehub.runtime import Runtime
    from sandbox import Sandbox
    from tests.reliability.test_fault_storm import NOW

    with Sandbox(accounts=3, seed=2, now=NOW) as sb:
        rt = Runtime(sandbox_settings(sb.base_url, f"sqlite:///{tmp_path / 'soql.db'}"))
        sf = rt.connectors["salesforce"]
        account = sb.world.accounts[0]
        tasks = [
            TaskCreate(what_id=account["Id"], owner_id=account["OwnerId"], subject=s, key=f"k{i}")
            for i, s in enumerate(SOQL_HOSTILE)
        ]
        first = sf.create_tasks(tasks)
        second = sf.create_tasks(tasks)
        created = [w["changes"]["Subject"] for w in sb.writes if w["kind"] == "task_created"]
        bad_queries = [r for r in sb.requests if r["system"] == "salesforce" and r["status"] == 400]
    TRIED["SOQL literals"] += len(SOQL_HOSTILE)
    assert all(r.ok for r in first + second), [r.message for r in first + second if not r.ok]
    assert sorted(created) == sorted(SOQL_HOSTILE), "each task created exactly once"
    found = [r.created_id for r in second]
    assert None not in found and len(set(found)) == len(SOQL_HOSTILE), "each found its own task"
    assert not bad_queries
