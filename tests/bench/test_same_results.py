"""bench same_results: the fingerprint that checks an incremental run against a full re-score
names what differs, and sees nothing when nothing does."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bench.same_results import differences, fingerprint, identical
from model.db import transaction
from model.tables import Account, Escalation, HealthSnapshot

DAY = dt.date(2026, 12, 1)
LATER = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _seed(factory) -> None:
    with transaction(factory) as s:
        for i in range(3):
            acc = Account(crm_source="crm", crm_id=f"A{i}", name=f"Acme {i}")
            s.add(acc)
            s.flush()
            for day in (DAY - dt.timedelta(days=7), DAY):
                s.add(HealthSnapshot(
                    account_id=acc.id, as_of=day, score=60.0 + i, band="yellow",
                    signals={"logins": i}, reasons=["x"], renewal_risk=0.2,
                ))  # fmt: skip
            s.add(Escalation(
                dedup_key=f"k{i}", account_id=acc.id, rule="sharp_drop", severity="high",
                title="t", details={"n": i},
            ))  # fmt: skip


def test_the_same_database_is_identical_to_itself(factory, migrated_url) -> None:
    _seed(factory)
    diff = differences(fingerprint(migrated_url), fingerprint(migrated_url))
    assert identical(diff)
    assert diff["snapshots"]["compared"] == 3  # the newest day only
    assert diff["escalations"]["compared"] == 3


def test_a_moved_column_is_named_with_its_rows(factory, migrated_url) -> None:
    _seed(factory)
    before = fingerprint(migrated_url)
    with transaction(factory) as s:
        s.execute(
            update(HealthSnapshot)
            .where(HealthSnapshot.as_of == DAY, HealthSnapshot.score == 61.0)
            .values(renewal_risk=0.2000001, computed_at=LATER)
        )
        s.execute(update(Escalation).where(Escalation.dedup_key == "k2").values(state="resolved"))
        s.execute(update(Escalation).values(updated_at=LATER))  # bookkeeping
    diff = differences(before, fingerprint(migrated_url))
    assert not identical(diff)
    assert diff["snapshots"]["differ"] == 1
    assert diff["snapshots"]["by_column"] == {"renewal_risk": 1}
    assert diff["escalations"]["by_column"] == {"state": 1}
    assert diff["escalations"]["sample"] == ["k2"]


def test_a_missing_row_or_another_day_is_a_difference(factory, migrated_url) -> None:
    _seed(factory)
    before = fingerprint(migrated_url)
    with transaction(factory) as s:
        s.execute(
            update(HealthSnapshot)
            .where(HealthSnapshot.as_of == DAY)
            .values(as_of=DAY.replace(day=2))
        )
    diff = differences(before, fingerprint(migrated_url))
    assert diff["as_of"] == ["2026-12-01", "2026-12-02"]
    assert not identical(diff)
