"""A realistic book of business for dashboard tests and the page benchmark (seeded, bulk inserts)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from model.tables import (
    Account,
    Escalation,
    ExternalIdentity,
    HealthSnapshot,
    OutboxItem,
    QuarantinedRecord,
    SyncCursor,
    SyncRun,
    Ticket,
    UsageDaily,
    WrittenState,
)

SEGMENTS = ("enterprise", "mid-market", "smb")
OWNERS = ("Olivia Owner", "Sam Success", "Priya Patel", "Marco Rossi", "Jun Tanaka")
TAGS = ("billing", "sso", "export", "api", "performance", "onboarding", "mobile")
WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell",
         "Cyberdyne", "Soylent", "Wonka", "Gringotts", "Oscorp", "Aperture", "Massive", "Dynamic")  # fmt: skip
SUFFIXES = ("Inc", "LLC", "GmbH", "Ltd", "Group", "Labs", "Systems")


@dataclass
class Book:
    """What was generated, so tests can compare pages against it."""

    today: dt.date
    accounts: int
    account_ids: list[int]
    dead_ids: list[int]
    review_ids: list[int]


def band_for(score: float) -> str:
    """The default scorecard's cut-offs: red below 50, green from 75."""
    return "green" if score >= 75 else "yellow" if score >= 50 else "red"


def _signals(rnd: random.Random, score: float) -> dict[str, Any]:
    """Shaped like scoring's: flat measure values plus `measure_scores` (0..1) and `ages`."""
    values = {
        "dau_mau": round(rnd.uniform(0.1, 0.6), 4), "feature_breadth": float(rnd.randint(1, 9)),
        "time_to_first_value_days": float(rnd.randint(3, 60)), "csat": round(rnd.uniform(0.6, 1), 4),
        "onboarding_milestones": rnd.choice((0.25, 0.5, 0.75, 1.0)), "first_reply_hours": round(rnd.uniform(1, 30), 2),
        "usage_change_90d": round(rnd.uniform(-0.5, 0.3), 4), "open_urgent_tickets": float(rnd.randint(0, 3)),
    }  # fmt: skip
    scores = {k: round(min(1.0, max(0.0, score / 100 + rnd.uniform(-0.3, 0.3))), 4) for k in values}
    return {**values, "segment": "smb", "measure_scores": scores, "ages": {"usage": 1.0}}


def _chunks(session: Session, table: Any, rows: list[dict[str, Any]], size: int = 5000) -> None:
    for i in range(0, len(rows), size):
        session.execute(insert(table), rows[i : i + size])


def fill(
    session: Session,
    n_accounts: int = 120,
    *,
    seed: int = 7,
    today: dt.date | None = None,
    snapshot_days: int = 91,
    snapshot_every: int = 1,
    usage_days: int = 60,
    tickets_per_account: float = 4.0,
) -> Book:
    """Accounts with health history, tickets, usage, escalations and operator queues."""
    rnd = random.Random(seed)
    today = today or dt.datetime.now(dt.UTC).date()
    now = dt.datetime.combine(today, dt.time(22, 0), dt.UTC)
    accounts = []
    for i in range(1, n_accounts + 1):
        seg = SEGMENTS[i % 3]
        name = f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} {i} {rnd.choice(SUFFIXES)}"
        arr = round(
            rnd.uniform(
                *{"enterprise": (150e3, 900e3), "mid-market": (30e3, 150e3), "smb": (3e3, 30e3)}[
                    seg
                ]
            ),
            -2,
        )
        accounts.append({
            "id": i, "crm_source": "salesforce", "crm_id": f"001{i:015d}", "name": name, "domain": f"acct{i}.example.com",
            "segment": seg, "tier": rnd.choice(("standard", "premium")), "arr": arr,
            "owner_name": OWNERS[i % len(OWNERS)], "lifecycle_stage": "onboarding" if i % 9 == 0 else "adopted",
            "renewal_date": today + dt.timedelta(days=rnd.randint(-20, 360)),
            "customer_since": today - dt.timedelta(days=rnd.randint(20, 900)),
            "is_deleted": False, "attributes": {}, "created_at": now, "updated_at": now,
        })  # fmt: skip
    _chunks(session, Account, accounts)
    unscored = {a["id"] for a in accounts if a["id"] % 25 == 0}  # some accounts were never scored
    snaps = []
    scored = [
        (a["id"], rnd.uniform(25, 95), rnd.uniform(-0.3, 0.3))
        for a in accounts
        if a["id"] not in unscored
    ]
    for back in range(
        snapshot_days - 1, -1, -snapshot_every
    ):  # day by day, as nightly scoring writes them
        day = today - dt.timedelta(days=back)
        for aid, base, drift in scored:
            score = max(0.0, min(100.0, base + drift * (snapshot_days - back) + rnd.uniform(-3, 3)))
            insufficient = aid % 17 == 0
            risk = max(0.0, min(1.0, (100 - score) / 100 + rnd.uniform(-0.1, 0.1)))
            snaps.append({
                "account_id": aid, "as_of": day, "score": None if insufficient else round(score, 1),
                "band": "insufficient_data" if insufficient else band_for(score), "coverage": 0.9,
                "trend_28d": round(drift * 28, 1), "sharp_drop": False,
                "reasons": [{"measure": "usage_change_90d", "points_lost": round(abs(drift) * 20, 1), "value": drift,
                             "threshold": 0.0, "text": f"active users {'down' if drift < 0 else 'up'} {abs(drift) * 100:.0f}% vs 90-day baseline (healthy: +0% or better)"}],
                "signals": _signals(rnd, score) if back < 8 else {"dau_mau": round(rnd.uniform(0.1, 0.6), 4)},
                "contradictions": [], "renewal_risk": round(risk, 2),
                "risk_level": "high" if risk >= 0.6 else "medium" if risk >= 0.35 else "low",
                "risk_drivers": [{"driver": "days_to_renewal", "text": "renewal within 90 days"}] if risk >= 0.6 else [],
                "computed_at": now,
            })  # fmt: skip
    _chunks(session, HealthSnapshot, snaps)
    _support(session, rnd, accounts, now, tickets_per_account)
    _usage(session, rnd, accounts, today, usage_days)
    dead_ids, review_ids = _operations(session, rnd, accounts, now)
    session.flush()
    return Book(today, n_accounts, [a["id"] for a in accounts], dead_ids, review_ids)


def _support(
    session: Session,
    rnd: random.Random,
    accounts: list[dict[str, Any]],
    now: dt.datetime,
    per: float,
) -> None:
    tickets, escalations, zd = [], [], 5000
    for a in accounts:
        for _ in range(rnd.randint(0, int(per * 2))):
            zd += 1
            created = now - dt.timedelta(days=rnd.uniform(0, 84))
            solved = rnd.random() < 0.8
            tickets.append({
                "source": "zendesk", "helpdesk_id": zd, "helpdesk_org_id": 9000 + a["id"], "account_id": a["id"],
                "subject": f"{rnd.choice(TAGS)} question", "status": "solved" if solved else "open",
                "priority": rnd.choice(("low", "normal", "normal", "high", "urgent")), "tags": [rnd.choice(TAGS)],
                "created_at": created, "updated_at": created,
                "solved_at": created + dt.timedelta(hours=rnd.uniform(1, 90)) if solved else None,
                "first_reply_minutes": rnd.uniform(10, 900), "full_resolution_minutes": rnd.uniform(60, 5000) if solved else None,
                "reopens": rnd.choice((0, 0, 0, 1)), "replies": rnd.randint(1, 4),
                "csat": rnd.choice((None, None, "good", "good", "good", "bad")),
            })  # fmt: skip
        if a["id"] % 11 == 0:
            escalations.append({
                "dedup_key": f"acct:{a['id']}:health_drop", "account_id": a["id"], "rule": "health_drop",
                "severity": rnd.choice(("sev1", "sev2", "sev3", "sev4")),
                "state": "resolved" if a["id"] % 3 == 0 else "open",
                "title": f"{a['name']}: health dropped", "details": {},
                "opened_at": now - dt.timedelta(days=rnd.uniform(0, 60)), "updated_at": now,
            })  # fmt: skip
    _chunks(session, Ticket, tickets)
    _chunks(session, Escalation, escalations)


def _usage(
    session: Session, rnd: random.Random, accounts: list[dict[str, Any]], today: dt.date, days: int
) -> None:
    rows = []
    for a in accounts:
        seats = rnd.randint(5, 200)
        for back in range(days):
            rows.append({
                "workspace_id": f"ws-{a['id']}", "account_id": a["id"], "day": today - dt.timedelta(days=back),
                "active_users": rnd.randint(0, seats), "logins": rnd.randint(0, seats * 2),
                "feature_events": rnd.randint(0, 500), "features_used": rnd.randint(0, 9),
                "seats_used": seats, "seats_purchased": seats,
            })  # fmt: skip
    _chunks(session, UsageDaily, rows)


def _operations(
    session: Session, rnd: random.Random, accounts: list[dict[str, Any]], now: dt.datetime
) -> tuple[list[int], list[int]]:
    idents = [
        {"id": a["id"], "source": "zendesk", "kind": "organization", "external_id": str(9000 + a["id"]), "account_id": a["id"],
         "name": a["name"], "domains": [a["domain"]], "status": "linked", "method": "external_id",
         "confidence": 1.0, "candidates": [], "manual": False, "attributes": {}, "is_deleted": False, "updated_at": now}
        for a in accounts
    ]  # fmt: skip
    review_ids = []
    for k in range(1, 7):
        ident_id = len(accounts) + k
        review_ids.append(ident_id)
        candidates = [accounts[k]["id"], accounts[k + 1]["id"]] if k % 2 else []
        idents.append({
            "id": ident_id, "source": "usage" if k % 3 else "zendesk",
            "kind": "workspace" if k % 3 else "organization", "external_id": f"ws-orphan-{k}",
            "account_id": None, "name": f"{accounts[k]['name'].split()[0]} workspace {k}", "domains": [],
            "status": "ambiguous" if candidates else "unmatched", "method": "name" if candidates else None,
            "confidence": None, "candidates": candidates, "manual": False, "attributes": {},
            "is_deleted": False, "updated_at": now,
        })  # fmt: skip
    _chunks(session, ExternalIdentity, idents)
    runs = [
        {"id": r, "kind": "sync", "status": "failed" if r == 3 else "succeeded", "dry_run": False,
         "started_at": now - dt.timedelta(minutes=15 * (10 - r)), "finished_at": now - dt.timedelta(minutes=15 * (10 - r) - 2),
         "stats": {"pulled": {"salesforce.accounts": 10 * r, "zendesk.tickets": 40 * r}, "seconds": 12.5 + r,
                   "api_calls": {"salesforce": 20 + r, "zendesk": 11 + r, "usage": 3},
                   "quota": {"salesforce": {"used": 1500 + 30 * r, "total": 100000}}},
         "error": "zendesk: 503 Service Unavailable" if r == 3 else None}
        for r in range(1, 10)
    ]  # fmt: skip
    _chunks(session, SyncRun, runs)
    _chunks(session, SyncCursor, [
        {"stream": s, "value": (now - dt.timedelta(minutes=5)).isoformat(), "updated_at": now}
        for s in ("salesforce.accounts", "salesforce.opportunities", "zendesk.tickets", "usage.daily")
    ])  # fmt: skip
    outbox, dead_ids = [], []
    for n in range(1, 31):
        status = "dead" if n % 10 == 0 else "pending" if n % 3 == 0 else "done"
        if status == "dead":
            dead_ids.append(n)
        outbox.append({
            "id": n, "key": f"crm_account_fields:001{n:015d}:{n}", "system": "salesforce" if n % 2 else "zendesk",
            "kind": "crm_account_fields" if n % 2 else "helpdesk_org_fields", "target_id": f"001{n:015d}" if n % 2 else str(9000 + n),
            "payload": {"fields": {"Health_Band__c": "red"}}, "status": status, "attempts": 8 if status == "dead" else 0,
            "last_error": "INVALID_FIELD: No such column 'Health_Band__c'" if status == "dead" else None,
            "result": {}, "created_at": now,
        })  # fmt: skip
    _chunks(session, OutboxItem, outbox)
    _chunks(session, QuarantinedRecord, [
        {"source": "zendesk", "stream": "tickets", "external_id": str(70000 + q), "reason": "created_at: invalid datetime",
         "payload": "{}", "run_id": 2, "created_at": now} for q in range(3)
    ])  # fmt: skip
    _chunks(session, WrittenState, [
        {"system": "salesforce", "target_kind": "account", "target_id": a["crm_id"], "field": "Health_Band__c",
         "value": "green", "written_at": now} for a in accounts[:20]
    ])  # fmt: skip
    return dead_ids, review_ids
