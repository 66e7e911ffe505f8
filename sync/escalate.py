"""Run the escalation rules and turn their actions into outbox creations (sync acts, escalation decides)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import Connector
from csops.covers import active_covers, route_owner
from escalation.actions import (
    Action,
    CommentOnTicket,
    CreateEngineeringTicket,
    CreateOwnerTask,
    Notify,
    TagCustomerTickets,
    system_of,
)
from escalation.config import EscalationConfig
from escalation.facts import gather_facts
from escalation.lifecycle import acknowledge_from_tickets, reconcile
from escalation.playbooks import DEFAULT_CRM_TITLE
from escalation.rules import evaluate
from escalation.scope import record_evaluations
from escalation.ticket_facts import prepare_book_mix
from model.tables import Account, Escalation, ExternalIdentity, Ticket, utcnow
from scoring.digest_marks import DigestSource
from sync.outbox import CreateRequest, enqueue_creates
from sync.writeback import MANAGED_TAGS, OPEN_TICKET_STATUSES

log = logging.getLogger(__name__)
# accounts gathered at a time: ~60 KB of ticket facts each at 50,000 accounts' ticket density,
# so a batch holds ~15 MiB whatever the book's size or the run's change
FACTS_BATCH = 250
WHOLE_BOOK_AT = 5_000  # past this many, the mix is prepared from every account's tickets


@dataclass(frozen=True)
class EscalationSystems:
    """Where escalation actions go: the configured source of each connector kind (what
    `escalation.actions.system_of` names), stored as the outbox item's `system`; and the
    crm's title, which an engineering ticket's body names the account's crm id by."""

    sources: Mapping[str, str] = field(default_factory=dict)
    crm_title: str = DEFAULT_CRM_TITLE
    # every helpdesk / crm source in configured order, when there are several instances
    helpdesks: tuple[str, ...] = ()
    crms: tuple[str, ...] = ()

    def source_for(self, action: Action) -> str:
        """The source that carries out `action` (its kind when no source of it is configured)."""
        kind = system_of(action)
        return self.sources.get(kind, kind)


def escalation_systems(connectors: Iterable[Connector]) -> EscalationSystems:
    """The first configured source of each kind, every helpdesk source, and the title of
    the crm among them."""
    sources: dict[str, str] = {}
    helpdesks: list[str] = []
    crms: list[str] = []
    crm_title = DEFAULT_CRM_TITLE
    for connector in connectors:
        if connector.kind == "helpdesk":
            helpdesks.append(connector.name)
        if connector.kind == "crm":
            crms.append(connector.name)
        if connector.kind not in sources:
            sources[connector.kind] = connector.name
            crm_title = connector.title if connector.kind == "crm" else crm_title
    return EscalationSystems(sources, crm_title, tuple(helpdesks), tuple(crms))


def helpdesk_for_account(session: Session, account_id: int, systems: EscalationSystems) -> str:
    """The helpdesk instance an account's engineering ticket goes to, with several: the one
    holding the account's most recent ticket (where its people are being helped now); with
    no ticket, the first (in configured order) holding one of its organizations; else the
    first helpdesk source. With one helpdesk, that one."""
    default = systems.sources.get("helpdesk", "helpdesk")
    if len(systems.helpdesks) < 2:
        return default
    newest = session.execute(
        select(Ticket.source)
        .where(Ticket.account_id == account_id, Ticket.source.in_(systems.helpdesks))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(1)
    ).scalar()
    if newest is not None:
        return str(newest)
    with_org = set(
        session.execute(
            select(ExternalIdentity.source).where(
                ExternalIdentity.kind == "organization",
                ExternalIdentity.status == "linked",
                ExternalIdentity.account_id == account_id,
            )
        ).scalars()
    )
    return next((s for s in systems.helpdesks if s in with_org), default)


def run_escalations(
    session: Session,
    as_of: dt.date,
    config: EscalationConfig,
    account_ids: list[int] | None = None,
    *,
    escalation_group_id: int | None = None,
    systems: EscalationSystems,
    digests: DigestSource | None = None,
    now: dt.datetime | None = None,
) -> tuple[dict[str, int], list[CreateRequest]]:
    """Evaluate every account (or `account_ids`), reconcile the Escalation table, return
    outbox creations (for the configured `systems`). The evaluated accounts are recorded
    with their inputs `digests` (escalation/scope.py: what a later run compares with).
    `now`: the run's instant (cool-downs, acknowledgements), the clock when not given.

    Accounts go in batches, in id order, each evaluated, reconciled and recorded before the
    next is gathered: a large book's tickets never sit in memory at once (10,000 accounts:
    1.8 GB when gathered whole; a batch of 1,000 held 32 MiB at 50,000), nor do the whole
    book's decisions and book norms. An escalation's key names its account, so reconciling
    batch by batch decides what one reconcile of the whole book decides.
    """
    now = now or utcnow()
    acknowledged = acknowledge_from_tickets(session, now, account_ids)
    if account_ids is None:
        live = select(Account.id).where(Account.is_deleted.is_(False))
        account_ids = list(session.scalars(live.order_by(Account.id)))
    else:
        account_ids = sorted(account_ids)
    if len(account_ids) > FACTS_BATCH:  # several batches: the book's topic mix read once for all
        whole = len(account_ids) > WHOLE_BOOK_AT
        prepare_book_mix(session, as_of, config, None if whole else account_ids)
    actions: list[Action] = []
    for start in range(0, len(account_ids), FACTS_BATCH):
        facts = gather_facts(session, as_of, account_ids[start : start + FACTS_BATCH], config)
        decisions = {acc: evaluate(f, config) for acc, f in facts.items()}
        norms = {acc: f.book_norms for acc, f in facts.items()}
        del facts
        actions += reconcile(session, decisions, now, config, crm_title=systems.crm_title)
        record_evaluations(session, norms, digests, now)
        del decisions, norms
    requests = [r for a in actions for r in to_requests(session, a, escalation_group_id, systems)]
    open_rows = session.execute(
        select(Escalation.severity).where(Escalation.state.in_(("open", "acknowledged")))
    ).scalars()
    counts = Counter(open_rows)
    summary = {f"open_{sev}": n for sev, n in sorted(counts.items())}
    summary["actions"] = len(actions)
    if acknowledged:
        summary["acknowledged_in_helpdesk"] = acknowledged
    return summary, requests


def _org_for_account(session: Session, account_id: int, source: str) -> int | None:
    """The account's linked organization in the helpdesk `source` (its ids are that source's)."""
    org = session.execute(
        select(ExternalIdentity.external_id)
        .where(
            ExternalIdentity.source == source,
            ExternalIdentity.kind == "organization",
            ExternalIdentity.status == "linked",
            ExternalIdentity.account_id == account_id,
        )
        .order_by(ExternalIdentity.id)
        .limit(1)
    ).scalar()
    return int(org) if org and org.isdigit() else None


def to_requests(
    session: Session,
    action: Action,
    group_id: int | None,
    systems: EscalationSystems,
) -> list[CreateRequest]:
    """One escalation action -> the outbox creations that carry it out (keys are the action's),
    each under the source of `systems` that carries it out."""
    system = systems.source_for(action)
    if isinstance(action, CreateEngineeringTicket):
        system = helpdesk_for_account(session, action.account_id, systems)
        payload: dict[str, Any] = {
            "subject": action.subject,
            "body": action.body,
            "tags": action.tags,
            "priority": action.priority,
            "type": action.type,
            "group_id": action.group_id or group_id,
            "ticket_form_id": action.ticket_form_id,
            "organization_id": _org_for_account(session, action.account_id, system),
            "external_id": action.external_id,
        }
        # the helpdesk has no "related tickets" attribute: the body lists them (see playbooks)
        meta = {
            "escalation_id": action.escalation_id,
            "linked_ticket_ids": action.linked_ticket_ids,
        }
        return [CreateRequest(action.key, system, "helpdesk_ticket", {**payload, "_meta": meta})]
    if isinstance(action, CreateOwnerTask):
        acc = session.get(Account, action.account_id)
        what_id = action.account_crm_id or (acc.crm_id if acc else None)
        owner_id = action.owner_crm_id or (acc.owner_crm_id if acc else None)
        owner_id = route_owner(active_covers(session, utcnow().date()), owner_id)  # away: cover
        if not what_id or not owner_id:
            log.warning(
                "task %s skipped: account %s has no crm id/owner",
                action.key,
                action.account_id,
            )
            return []
        payload = {
            "what_id": what_id,
            "owner_id": owner_id,
            "subject": action.subject,
            "description": action.description,
            "due_date": action.due_date.isoformat(),
            "priority": action.priority,
            "_meta": {"escalation_id": action.escalation_id},
        }
        # with several crm orgs, the one owning the account's record (maybe not the primary)
        owned_by = acc.crm_source if acc is not None else None
        owner_source = owned_by if owned_by in systems.crms[1:] else system
        return [CreateRequest(action.key, owner_source, "crm_task", payload)]
    if isinstance(action, CommentOnTicket):
        system = _ticket_helpdesk(session, action.escalation_id, systems) or system
        payload = {
            "helpdesk_ticket_id": action.helpdesk_ticket_id,
            "body": action.body,
            "public": action.public,
            "status": action.status,
            "_meta": {"escalation_id": action.escalation_id},
        }
        return [CreateRequest(action.key, system, "helpdesk_comment", payload)]
    if isinstance(action, TagCustomerTickets):
        return _tag_requests(session, action, system, systems)
    if isinstance(action, Notify):
        return [
            CreateRequest(
                action.key, system, "notify", {"url": action.url, "payload": action.payload}
            )
        ]
    raise TypeError(f"unknown escalation action {type(action).__name__}")


def _ticket_helpdesk(
    session: Session, escalation_id: int | None, systems: EscalationSystems
) -> str | None:
    """The helpdesk holding an escalation's engineering ticket: where it was created, or
    (not created yet) where it is going."""
    esc = session.get(Escalation, escalation_id) if escalation_id is not None else None
    if esc is None:
        return None
    return esc.helpdesk_source or helpdesk_for_account(session, esc.account_id, systems)


def _tag_requests(
    session: Session, action: TagCustomerTickets, system: str, systems: EscalationSystems
) -> list[CreateRequest]:
    """Tags the write-back planner already keeps in step with the snapshot are left to it.
    Each open ticket is tagged in its own helpdesk instance (the first instance's keys name
    the ticket alone, as with one helpdesk; another's name its source too)."""
    add = sorted(set(action.add) - MANAGED_TAGS)
    remove = sorted(set(action.remove) - MANAGED_TAGS)
    if not add and not remove:
        return []
    tickets = session.execute(
        select(Ticket.source, Ticket.helpdesk_id).where(
            Ticket.account_id == action.account_id, Ticket.status.in_(OPEN_TICKET_STATUSES)
        )
    ).all()
    several = len(systems.helpdesks) > 1
    out = []
    for source, helpdesk_id in tickets:
        if several and source not in systems.helpdesks:
            continue
        target = source if several else system
        key = f"{action.key}:{helpdesk_id}" if target == system else f"{action.key}:{source}:{helpdesk_id}"  # fmt: skip
        payload = {"ticket_id": helpdesk_id, "add": add, "remove": remove}
        out.append(CreateRequest(key[-255:], target, "helpdesk_escalation_tags", payload))
    return out


def resolve_by_hand(
    session: Session,
    esc: Escalation,
    config: EscalationConfig,
    note: str,
    group_id: int | None,
    systems: EscalationSystems,
) -> int:
    """A person resolves `esc`: its closing actions enter the outbox in the caller's
    transaction, with the row's new state; returns how many writes were queued."""
    from escalation.lifecycle import resolve

    actions = resolve(esc, config, utcnow(), note=note)
    requests = [r for a in actions for r in to_requests(session, a, group_id, systems)]
    return enqueue_creates(session, requests)
