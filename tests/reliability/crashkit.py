"""What the crash tests share: a `pulsehub sync` subprocess pointed at a sandbox, and digests
of everything in the database and everything the sandbox received, to compare end states."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import select

from model.db import make_engine, make_session_factory
from model.own_tickets import customer_tickets
from model.tables import (
    Account,
    Contact,
    Escalation,
    ExternalIdentity,
    HealthSnapshot,
    Opportunity,
    OutboxItem,
    Ticket,
    UsageDaily,
    WrittenState,
)
from pulsehub.demo import sandbox_settings
from sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 2, 12, tzinfo=dt.UTC)
AS_OF = NOW.date().isoformat()


def sync_env(base_url: str, db_url: str) -> dict[str, str]:
    settings = sandbox_settings(base_url, db_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSEHUB_")}
    env["PULSEHUB_DATABASE_URL"] = db_url
    for system in ("salesforce", "zendesk", "usage"):
        for key, value in getattr(settings, system).model_dump().items():
            if value is not None:
                raw = value.get_secret_value() if hasattr(value, "get_secret_value") else value
                env[f"PULSEHUB_{system.upper()}__{key.upper()}"] = str(raw)
    env["PYTHONPATH"] = str(ROOT)
    return env


def sync_cmd(*extra: str) -> list[str]:
    return [sys.executable, "-m", "pulsehub.cli", "sync", "--as-of", AS_OF, *extra]


def db_state(db_url: str) -> dict[str, Any]:
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as s:
            acc_sf = dict(s.execute(select(Account.id, Account.crm_id)).all())

            def rows(stmt) -> list[tuple]:
                return sorted(tuple(r) for r in s.execute(stmt).all())

            return {
                "accounts": rows(
                    select(Account.crm_id, Account.name, Account.arr, Account.is_deleted)
                ),
                "contacts": rows(
                    select(Contact.crm_id, Contact.account_crm_id, Contact.is_champion)
                ),
                "opps": rows(select(Opportunity.crm_id, Opportunity.stage, Opportunity.amount)),
                # the customer's tickets: an escalation ticket pulsehub opened is pulled back
                # by whichever run comes after it, so whether it is here yet depends on when
                # the runs were killed, not on what they did (model/own_tickets.py)
                "tickets": rows(
                    select(
                        Ticket.helpdesk_id,
                        Ticket.status,
                        Ticket.priority,
                        Ticket.csat,
                        Ticket.first_reply_minutes,
                    ).where(customer_tickets(s))
                ),
                "usage": rows(
                    select(UsageDaily.workspace_id, UsageDaily.day, UsageDaily.active_users)
                ),
                "identities": rows(
                    select(
                        ExternalIdentity.source,
                        ExternalIdentity.external_id,
                        ExternalIdentity.status,
                        ExternalIdentity.method,
                    )
                ),
                "snapshots": sorted(
                    (acc_sf[a], d, sc, b)
                    for a, d, sc, b in s.execute(
                        select(
                            HealthSnapshot.account_id,
                            HealthSnapshot.as_of,
                            HealthSnapshot.score,
                            HealthSnapshot.band,
                        )
                    ).all()
                ),
                "escalations": rows(
                    select(Escalation.dedup_key, Escalation.state, Escalation.severity)
                ),
                "written": rows(
                    select(
                        WrittenState.system,
                        WrittenState.target_kind,
                        WrittenState.target_id,
                        WrittenState.field,
                        WrittenState.value,
                    )
                ),
                "outbox_open": rows(
                    select(OutboxItem.kind, OutboxItem.status).where(
                        OutboxItem.status.in_(("pending", "dead"))
                    )
                ),
            }
    finally:
        engine.dispose()


def sandbox_state(sb: Sandbox) -> dict[str, Any]:
    final_fields: dict[tuple[str, str], Any] = {}
    tags: dict[str, set[str]] = {}
    created: list[str] = []
    for w in sb.writes:
        if w["kind"] in {"account_fields", "org_fields"}:
            for f, v in w["changes"].items():
                final_fields[(w["target_id"], f)] = v
        elif w["kind"] == "ticket_tags_added":
            tags.setdefault(w["target_id"], set()).update(w["changes"]["tags"])
        elif w["kind"] == "ticket_tags_removed":
            tags.setdefault(w["target_id"], set()).difference_update(w["changes"]["tags"])
        elif w["kind"] == "ticket_created":
            created.append(f"ticket {w['changes'].get('external_id')}")
        elif w["kind"] == "task_created":
            c = w["changes"]
            created.append(f"task {c.get('WhatId')} {c.get('Subject')} {c.get('ActivityDate')}")
        elif w["kind"] == "ticket_updated" and "comment" in w["changes"]:
            body = str((w["changes"]["comment"] or {}).get("body", ""))
            created.append(f"comment {w['target_id']} {body[-80:]}")
    # tags on a ticket pulsehub opened: written once a later run has pulled it back (see db_state)
    opened = {w["target_id"] for w in sb.writes if w["kind"] == "ticket_created"}
    tags = {t: v for t, v in tags.items() if t not in opened}
    return {"fields": final_fields, "tags": tags, "created": sorted(created)}
