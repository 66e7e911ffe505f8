"""Hostile and malformed input: each item is stored or quarantined, nothing crashes or is lost.

Vendor pages are served to the real clients (zenpy, simple-salesforce) by an in-process
fake server, then go through the real connectors and `sync.pull.pull_stream` into
SQLite. Hypothesis mutates every field of a valid record (missing, null, wrong type, huge,
unicode and control characters, odd timestamps, duplicate and hostile ids); hand-picked
cases add pages that are not even lists of objects. Hostile queries and webhook bodies have
modules of their own (test_hostile_queries.py, test_hostile_webhooks.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from connectors.http import RetryPolicy
from connectors.salesforce import SalesforceConnector
from connectors.zendesk import ZendeskConnector
from connectors.zendesk_transport import WindowLimiter
from model.tables import Account, QuarantinedRecord, Ticket
from sync.pull import pull_stream
from tests.connectors.conftest import fake_salesforce, fake_zenpy
from tests.reliability.hostile_kit import TRIED, fresh_factory

NO_WAIT = RetryPolicy(max_attempts=2, initial_wait=0, max_wait=0, sleep=lambda s: None)


@pytest.fixture(scope="module")
def factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    yield from fresh_factory(tmp_path_factory)


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
