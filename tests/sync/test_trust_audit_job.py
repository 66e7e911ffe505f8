"""The nightly reconcile stores the score's trust audit (weekly drift, override rates) over the
snapshots it wrote, for the dashboard's audit page; an hourly sync does not."""

from __future__ import annotations

from sqlalchemy import select

from model.tables import ScoreAudit


def test_the_nightly_reconcile_stores_a_trust_audit(rt) -> None:
    assert not rt.sync().errors
    with rt.factory() as s:
        assert s.scalars(select(ScoreAudit)).all() == []
    assert not rt.reconcile().errors
    with rt.factory() as s:
        audit = s.scalars(select(ScoreAudit)).one()
    assert audit.source == "reconcile" and audit.as_of is not None
    weeks = audit.report["drift"]["weeks"]
    assert len(weeks) == 8  # the first sync replayed twelve weeks of history
    assert weeks[-1]["current"] == audit.as_of.isoformat()
    assert all(w["accounts"] > 0 for w in weeks)
    overrides = audit.report["overrides"]
    assert overrides["overrides"] == 0 and len(overrides["weekly"]) == 8
