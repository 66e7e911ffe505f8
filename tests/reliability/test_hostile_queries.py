"""Hostile input that reaches a query or a page: SOQL metacharacters in cursors and task
lookups are escaped (checked with the sandbox's own SOQL tokenizer), and pages cut in half by
the sandbox's `malformed_json` fault end where a clean run ends.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.salesforce_streams import SPECS as SF_STREAMS
from connectors.salesforce_streams import Keyset, keyset_where
from tests.reliability.hostile_kit import TRIED

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
