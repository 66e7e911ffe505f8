"""The nightly reconcile finds rows hard-deleted at the source (purged from Salesforce's recycle
bin, so no incremental pull or getDeleted ever reports them): the keys a complete read returns
are staged in `reconcile_seen`, never held in memory, and the stage is empty afterwards."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from model.db import transaction
from model.tables import Contact, Opportunity, ReconcileSeen


def _deleted(session, model, key: str) -> bool:
    return session.execute(select(model.is_deleted).where(model.crm_id == key)).scalar_one()


def test_rows_purged_at_the_source_are_marked_deleted_and_nothing_stays_staged(rt) -> None:
    rt.sync()
    world = rt.sb.world
    contact = next(iter(world.sf["Contact"]))
    opportunity = next(iter(world.sf["Opportunity"]))
    kept = list(world.sf["Contact"])[1]
    del world.sf["Contact"][contact]  # hard delete: gone from query and queryAll alike
    del world.sf["Opportunity"][opportunity]
    with transaction(rt.factory) as s:
        assert not _deleted(s, Contact, contact) and not _deleted(s, Opportunity, opportunity)
    report = rt.reconcile()
    with transaction(rt.factory) as s:
        assert _deleted(s, Contact, contact) and _deleted(s, Opportunity, opportunity)
        assert not _deleted(s, Contact, kept)
        assert s.scalar(select(func.count()).select_from(ReconcileSeen)) == 0
    assert report.deleted.get("salesforce.contacts") == 1
    assert report.deleted.get("salesforce.opportunities") == 1


def test_a_crashed_reads_staged_keys_do_not_hide_a_later_delete(rt) -> None:
    rt.sync()
    world = rt.sb.world
    contact = next(iter(world.sf["Contact"]))
    with transaction(rt.factory) as s:  # left behind by a reconcile killed mid-read
        s.execute(insert(ReconcileSeen).values(stream="salesforce.contacts", key=contact))
    del world.sf["Contact"][contact]
    rt.reconcile()
    with transaction(rt.factory) as s:
        assert _deleted(s, Contact, contact)
