"""Two helpdesk instances feeding one account model, end to end on real loopback HTTP.

The crm, the usage API and helpdesk instance "zendesk" are one sandbox; an acquired
company's helpdesk, source "acquired", is a second sandbox on its own port over the same
customers (sandbox/second_helpdesk.py): some customers in both instances, some moved to the
second only, and organization, user and ticket ids that collide between the two.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
import yaml
from sqlalchemy import delete, func, select

from escalation.config import DEFAULT_RULES_FILE
from model.db import upgrade
from model.tables import Account, Escalation, ExternalIdentity, OutboxItem, Ticket
from pulsehub.demo import sandbox_settings
from pulsehub.runtime import Runtime
from pulsehub.settings import SourceSettings
from sandbox import Sandbox
from sandbox import credentials as cred
from sandbox.generate import build_world
from sandbox.scenarios import plant_sla_breach
from sandbox.second_helpdesk import split_helpdesk
from sandbox.state import api_writes
from sandbox.tickets import DELETED
from scoring.signals import compute_signals

SECOND = "acquired"


@pytest.fixture
def pair() -> Any:
    world = build_world(80, 1)
    second = split_helpdesk(world)
    plant_sla_breach(world)  # an engineering escalation whatever the hour
    with Sandbox(world=world) as first, Sandbox(world=second) as acquired:
        yield first, acquired


def _runtime(first: Sandbox, acquired: Sandbox, url: str, tmp_path: Any) -> Runtime:
    upgrade(url)
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(yaml.safe_load(DEFAULT_RULES_FILE.read_text())))
    second = SourceSettings(
        name=SECOND,
        connector="zendesk",
        options={
            "subdomain": cred.ZD_SUBDOMAIN,
            "email": cred.ZD_EMAIL,
            "token": cred.ZD_API_TOKEN,
            "loopback_url": acquired.base_url,
            "export_requests_per_minute": 100,
        },
    )
    return Runtime(sandbox_settings(first.base_url, url, rules_file=rules_file, sources=[second]))


def _api_writes(sb: Sandbox) -> list[dict[str, Any]]:
    return api_writes(sb.requests)


def _org_tickets(sb: Sandbox, org_id: int) -> int:
    t = sb.world.tickets
    return sum(1 for p in range(len(t)) if t.org[p] == org_id and t.status[p] != DELETED)


def test_two_helpdesk_instances_one_account_model(pair, any_db_url, tmp_path) -> None:
    first, acquired = pair
    shared = first.world.truth["second_helpdesk"]
    assert shared["both"] and shared["moved"]
    rt = _runtime(first, acquired, any_db_url, tmp_path)
    served = {  # (source, organization id) -> live tickets served, before anything is written
        **{("zendesk", o): _org_tickets(first, o) for o in first.world.orgs},
        **{(SECOND, o): _org_tickets(acquired, o) for o in acquired.world.orgs},
    }
    try:
        report = rt.sync()
        assert report.errors == []
        assert {f"{SECOND}.tickets", "zendesk.tickets"} <= set(report.pulled)
        with rt.factory() as s:
            account_of = dict(s.execute(select(Account.crm_id, Account.id)).all())
            orgs = s.execute(
                select(ExternalIdentity).where(ExternalIdentity.kind == "organization")
            ).scalars()
            by_account: dict[int, dict[str, ExternalIdentity]] = {}
            for ident in orgs:
                if ident.status == "linked" and ident.account_id is not None:
                    by_account.setdefault(ident.account_id, {})[ident.source] = ident

            # a customer in both instances: both organizations link to its one account, the
            # acquired one by domain (it never knew the crm id); its tickets from both count
            in_both: list[int] = []
            for crm_id in shared["both"]:
                acc = account_of[crm_id]
                linked = by_account[acc]
                assert set(linked) == {"zendesk", SECOND}
                assert linked[SECOND].method == "domain"
                stored = Counter(
                    s.execute(
                        select(Ticket.source).where(
                            Ticket.account_id == acc, Ticket.status != "deleted"
                        )
                    ).scalars()
                )
                for source in ("zendesk", SECOND):
                    assert stored[source] == served[(source, int(linked[source].external_id))]
                if stored["zendesk"] and stored[SECOND]:
                    in_both.append(acc)
            assert in_both, "some customer has tickets in both instances"
            # ...and the acquired instance's tickets count in that account's support signals
            as_of = dt.date.today()
            signals = compute_signals(s, as_of, in_both)
            s.execute(delete(Ticket).where(Ticket.source == SECOND))
            without = compute_signals(s, as_of, in_both)
            assert any(
                (signals[a].tickets_per_seat_90d or 0) > (without[a].tickets_per_seat_90d or 0)
                for a in in_both
                if a in signals
            )
            s.rollback()
            for crm_id in shared["moved"]:
                assert set(by_account[account_of[crm_id]]) == {SECOND}

            # colliding ids do not mix: the same organization id in the two instances is two
            # customers, and the same ticket id two tickets of (generally) two accounts
            idents = s.execute(select(ExternalIdentity)).scalars().all()
            ids = {(i.source, i.external_id): i for i in idents if i.kind == "organization"}
            clashes = [
                (ids[("zendesk", ext)], ids[(SECOND, ext)])
                for (src, ext) in ids
                if src == SECOND and ("zendesk", ext) in ids
            ]
            assert clashes
            truth_first = first.world.truth["org_account"]
            truth_second = acquired.world.truth["org_account"]
            for a, b in clashes:
                if a.status == "linked":
                    assert a.account_id == account_of[truth_first[int(a.external_id)]]
                if b.status == "linked":
                    assert b.account_id == account_of[truth_second[int(b.external_id)]]
            tickets = s.execute(
                select(Ticket.source, Ticket.helpdesk_id, Ticket.helpdesk_org_id, Ticket.account_id)
            ).all()
            by_key = {(src, hid): (org, acc) for src, hid, org, acc in tickets}
            assert len(by_key) == len(tickets)
            both_ids = {hid for src, hid in by_key if src == SECOND} & {
                hid for src, hid in by_key if src == "zendesk"
            }
            assert both_ids, "ticket ids collide across the instances"
            for hid in both_ids:
                org_second, acc_second = by_key[(SECOND, hid)]
                if org_second is not None and acc_second is not None:
                    assert acc_second == account_of[truth_second[org_second]]

            # the crm's organization field names a first-instance organization: it never links
            # the acquired instance's organization that happens to have the same id
            for crm_id, acc_id in account_of.items():
                named = first.world.sf["Account"][crm_id].get("Zendesk_Org_Id__c")
                other = ids.get((SECOND, str(named))) if named else None
                if other is not None and other.account_id == acc_id:
                    assert truth_second[int(named)] == crm_id  # the same customer by truth

            pending = s.execute(
                select(func.count()).select_from(OutboxItem).where(OutboxItem.status == "pending")
            ).scalar_one()
            assert pending == 0
            escalations = (
                s.execute(select(Escalation).where(Escalation.helpdesk_ticket_id.is_not(None)))
                .scalars()
                .all()
            )

        # organization fields written in each instance, each with its own organization id
        for crm_id in shared["both"]:
            linked = by_account[account_of[crm_id]]
            if account_of[crm_id] not in _scored(rt):
                continue
            assert linked["zendesk"].external_id in _org_writes(first)
            assert linked[SECOND].external_id in _org_writes(acquired)
        assert _org_writes(acquired) <= {
            i.external_id for (src, _), i in ids.items() if src == SECOND
        }

        # each escalation ticket created exactly once, in the instance its escalation names,
        # with that instance's organization of the account
        created = {
            "zendesk": [w for w in first.writes if w["kind"] == "ticket_created"],
            SECOND: [w for w in acquired.writes if w["kind"] == "ticket_created"],
        }
        assert created["zendesk"] or created[SECOND]
        keys = [w["changes"]["external_id"] for ws in created.values() for w in ws]
        assert len(keys) == len(set(keys)) == len(escalations)
        for esc in escalations:
            assert esc.helpdesk_source in created
            mine = [w for w in created[esc.helpdesk_source] if w["target_id"] == str(esc.helpdesk_ticket_id)]  # fmt: skip
            assert len(mine) == 1
            org = mine[0]["changes"].get("organization_id")
            if org is not None:
                assert by_account[esc.account_id][esc.helpdesk_source].external_id == str(org)
            assert esc.helpdesk_source == _newest_ticket_source(rt, esc.account_id, esc)

        # an unchanged re-run writes nothing, in either instance
        before = (len(_api_writes(first)), len(_api_writes(acquired)))
        again = rt.sync()
        assert again.errors == [] and again.planned == {}
        assert (len(_api_writes(first)), len(_api_writes(acquired))) == before
    finally:
        rt.close()


def _org_writes(sb: Sandbox) -> set[str]:
    return {w["target_id"] for w in sb.writes if w["kind"] == "org_fields"}


def _scored(rt: Runtime) -> set[int]:
    from model.tables import HealthSnapshot

    with rt.factory() as s:
        newest = s.execute(select(func.max(HealthSnapshot.as_of))).scalar_one()
        return set(
            s.execute(
                select(HealthSnapshot.account_id).where(HealthSnapshot.as_of == newest)
            ).scalars()
        )


def _newest_ticket_source(rt: Runtime, account_id: int, esc: Escalation) -> str:
    """Where the account's newest customer ticket was when the escalation was decided (its
    own engineering ticket, pulled on a later run, does not count)."""
    with rt.factory() as s:
        return str(
            s.execute(
                select(Ticket.source)
                .where(Ticket.account_id == account_id, Ticket.created_at <= esc.opened_at)
                .order_by(Ticket.created_at.desc(), Ticket.id.desc())
                .limit(1)
            ).scalar()
        )


def test_a_dry_run_plans_writes_for_both_instances_and_writes_nothing(
    pair, sqlite_url, tmp_path
) -> None:
    first, acquired = pair
    rt = _runtime(first, acquired, sqlite_url, tmp_path)
    try:
        report = rt.sync(dry_run=True)
        assert report.errors == []
        orgs = {w.system for w in report.plan_sample if w.kind == "helpdesk_org_fields"}
        assert orgs == {"zendesk", SECOND}
        assert _api_writes(first) == [] and _api_writes(acquired) == []
        with rt.factory() as s:
            assert s.execute(select(func.count()).select_from(OutboxItem)).scalar_one() == 0
            assert s.execute(select(func.count()).select_from(Escalation)).scalar_one() == 0
    finally:
        rt.close()
