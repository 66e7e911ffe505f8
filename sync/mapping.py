"""Connector records -> model rows. Pure: no I/O, no session, no vendor JSON.

Each `*_row` takes one typed connector record and returns the column dict for its table.
`SINKS` says, per model entity (a stream's `entity`), which table a page lands in, its
natural key and which columns a re-delivery may overwrite (identity decisions and metrics
are never clobbered). Rows of tables shared by several sources store the source's name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Table

from model.own_tags import ticket_content_key, ticket_state_key
from model.tables import (
    Account,
    AppUser,
    Contact,
    ExternalIdentity,
    Opportunity,
    SurveyResponse,
    Ticket,
    UsageDaily,
)

EXECUTIVE_ROLES = {"executive sponsor", "economic buyer"}
EXECUTIVE_TITLES = ("chief", "ceo", "cto", "cfo", "coo", "vp", "vice president", "president")


def domain_of(website: str | None) -> str | None:
    """'https://www.Acme.com/about' -> 'acme.com'."""
    if not website or not website.strip():
        return None
    raw = website.strip().lower()
    host = urlsplit(raw if "//" in raw else f"//{raw}").hostname or ""
    host = host.removeprefix("www.")
    return host or None


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def account_row(r: Any) -> dict[str, Any]:
    return {
        "crm_id": r.id,
        "name": r.name,
        "website": r.website,
        "domain": domain_of(r.website),
        "owner_crm_id": r.owner_id,
        "owner_name": r.owner_name,
        "owner_email": r.owner_email,
        "segment": r.segment,
        "tier": r.tier,
        "lifecycle_stage": r.lifecycle_stage,
        "arr": r.arr,
        "renewal_date": r.renewal_date,
        "parent_crm_id": r.parent_id,
        "customer_since": r.customer_since,
        "is_deleted": bool(r.is_deleted),
        "source_modstamp": _aware(r.modstamp),
        "attributes": {
            "organization_id": r.organization_id,
            "workspace_id": r.workspace_id,
            **(r.extra or {}),
        },
        "updated_at": dt.datetime.now(dt.UTC),
    }


def crm_account_row(r: Any) -> dict[str, Any]:
    """An account of a secondary crm source, as an external identity: resolved to the
    canonical account of the same customer (model/crm_accounts.py), its record kept whole
    (JSON-ready) so it can own an account no other source has."""
    account = account_row(r)
    return {
        "kind": "crm_account",
        "external_id": r.id,
        "name": r.name,
        "domains": [account["domain"]] if account["domain"] else [],
        "hint_crm_id": None,
        "attributes": {"account": {k: _json_ready(v) for k, v in account.items()}},
        "is_deleted": bool(r.is_deleted),
        "updated_at": dt.datetime.now(dt.UTC),
    }


def _json_ready(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def opportunity_row(r: Any) -> dict[str, Any]:
    return {
        "crm_id": r.id,
        "account_crm_id": r.account_id,
        "name": r.name,
        "type": r.type,
        "stage": r.stage,
        "amount": r.amount,
        "close_date": r.close_date,
        "is_closed": bool(r.is_closed),
        "is_won": bool(r.is_won),
        "is_deleted": bool(r.is_deleted),
        "source_modstamp": _aware(r.modstamp),
        "term_months": getattr(r, "term_months", None),  # a crm without terms: None (12)
        "updated_at": dt.datetime.now(dt.UTC),  # kept unless the row changes (upsert_rows)
    }


def contact_row(r: Any) -> dict[str, Any]:
    role = (r.role or "").lower()
    title = (r.title or "").lower()
    return {
        "crm_id": r.id,
        "account_crm_id": r.account_id,
        "name": r.name,
        "email": r.email,
        "title": r.title,
        "role": r.role,
        "is_champion": bool(r.is_champion),
        "is_executive": role in EXECUTIVE_ROLES or any(t in title for t in EXECUTIVE_TITLES),
        "is_deleted": bool(r.is_deleted),
        "source_created_at": _aware(r.created),
        "source_modstamp": _aware(r.modstamp),
        "updated_at": dt.datetime.now(dt.UTC),  # kept unless the row changes (upsert_rows)
    }


def organization_row(r: Any) -> dict[str, Any]:
    return {
        "kind": "organization",
        "external_id": str(r.id),
        "name": r.name,
        "domains": sorted({d.lower() for d in (r.domain_names or [])}),
        "hint_crm_id": r.external_id or None,
        "attributes": {"organization_fields": r.organization_fields or {}, "tags": r.tags or []},
        "is_deleted": r.deleted_at is not None,
        "updated_at": dt.datetime.now(dt.UTC),
    }


def workspace_row(r: Any) -> dict[str, Any]:
    return {
        "kind": "workspace",
        "external_id": str(r.id),
        "name": r.name,
        "domains": [r.domain.lower()] if r.domain else [],
        "hint_crm_id": r.crm_account_id or None,
        "attributes": {},
        "is_deleted": False,
        "updated_at": dt.datetime.now(dt.UTC),
    }


def ticket_row(r: Any) -> dict[str, Any]:
    """Ticket columns, plus its metrics when the export carried them (`include=metric_sets`)."""
    metric = getattr(r, "metric", None)
    metrics = (
        {k: v for k, v in ticket_metric_row(metric).items() if k != "helpdesk_id"} if metric else {}
    )
    subject = (r.subject or "")[:500] or None
    tags = list(r.tags or [])
    csat = _ticket_csat(r, metric)  # {}: no rating field, the stored one (NULL) stays
    return (
        metrics
        | csat
        | {
            "helpdesk_id": r.id,
            "helpdesk_org_id": r.organization_id,
            "subject": subject,
            "status": r.status,
            "priority": r.priority,
            "type": r.type,
            "tags": tags,
            "content_key": ticket_content_key(subject, tags),
            "state_key": ticket_state_key(r.status, r.priority, r.type, csat.get("csat")),
            "requester_id": r.requester_id,
            "external_id": r.external_id,
            "created_at": _aware(r.created_at),
            "updated_at": _aware(r.updated_at),
            "synced_at": dt.datetime.now(dt.UTC),  # kept unless the row changes (upsert_rows)
        }
    )


def _ticket_csat(r: Any, metric: Any) -> dict[str, Any]:
    """CSAT from the ticket's own rating, which every export page carries, so no separate
    satisfaction-ratings list (100 per page) is needed. A rating comes after the solve, so it
    is dated at the solve (stable when the ticket is later touched), or at the ticket's
    update when no metrics came along. No rating at all (a plan without CSAT) leaves the
    columns alone."""
    score = getattr(r, "csat_score", None)
    if score is None:
        return {}
    if score not in {"good", "bad"}:
        return {"csat": None, "csat_at": None}
    solved = getattr(metric, "solved_at", None) if metric is not None else None
    return {"csat": score, "csat_at": _aware(solved or r.updated_at)}


def ticket_metric_row(r: Any) -> dict[str, Any]:
    return {
        "helpdesk_id": r.ticket_id,
        "first_reply_minutes": r.reply_time_minutes,
        "full_resolution_minutes": r.full_resolution_minutes,
        "reopens": r.reopens,
        "replies": r.replies,
        "solved_at": _aware(r.solved_at),
    }


def usage_day_row(r: Any) -> dict[str, Any]:
    return {
        "workspace_id": r.workspace_id,
        "day": r.day,
        "active_users": r.active_users,
        "logins": r.logins,
        "feature_events": r.feature_events,
        "features_used": r.features_used,
        "seats_used": r.seats_used,
        "seats_purchased": r.seats_purchased,
        "updated_at": dt.datetime.now(dt.UTC),  # kept unless the row changes (upsert_rows)
    }


def survey_response_row(r: Any) -> dict[str, Any]:
    """A survey answer; `account_id` is left to linking (sync.voice.link_responses)."""
    return {
        "external_id": r.id,
        "kind": r.kind,
        "score": float(r.score),
        "comment": r.comment,
        "responded_at": _aware(r.responded_at),
        "respondent": (r.respondent or None) and r.respondent[:255],
        "crm_account_id": r.crm_account_id,
        "workspace_id": r.workspace_id,
        "organization_id": r.organization_id,
        # a source without update times: the answer as given (not the pull's clock, which
        # would rewrite every row on every pull and re-open the voice stage each run)
        "updated_at": _aware(r.updated_at) or _aware(r.responded_at),
        "synced_at": dt.datetime.now(dt.UTC),  # kept unless the row changes (upsert_rows)
    }


def app_user_row(r: Any) -> dict[str, Any]:
    return {
        "external_id": r.id,
        "workspace_id": r.workspace_id,
        "email": (r.email or "").strip().lower()[:255] or None,
        "name": r.name,
        "role": (r.role or "").lower()[:40] or None,
        "status": (r.status or "").lower()[:40] or None,
        "last_login_at": _aware(r.last_login_at),
        "source_created_at": _aware(r.created_at),
        "source_updated_at": _aware(r.updated_at),
        "is_deleted": False,
    }


@dataclass(frozen=True)
class Sink:
    """Where one entity's records land: the table, its natural key, the row mapping."""

    table: Table
    key: tuple[str, ...]
    to_row: Callable[[Any], dict[str, Any]]
    update: tuple[str, ...] | None = None
    # the column holding the source's name, in a table several sources feed: it is part of
    # the key and bounds which rows a complete pull of one source can mark deleted
    source_column: str | None = None
    # derived column -> its source: cleared when an update changes the source (see upsert_rows)
    reset_on_change: tuple[tuple[str, str], ...] = ()
    # (column, entity): a row whose column holds an erased key of that entity (its own, or
    # the account's it belongs to) is dropped before it is stored (see sync/suppression.py)
    suppress: tuple[tuple[str, str], ...] = ()

    def row(self, record: Any, source: str) -> dict[str, Any]:
        """The column dict for `record` pulled from `source`."""
        row = self.to_row(record)
        return row if self.source_column is None else {self.source_column: source, **row}


def _t(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


_IDENTITY_DATA = ("name", "domains", "hint_crm_id", "attributes", "is_deleted", "updated_at")
_IDENTITY_KEY = ("source", "external_id")

# record ids are unique per source only (two instances of one system reuse them): every
# sink's key starts with the column holding the source's name
SINKS: dict[str, Sink] = {
    "account": Sink(
        _t(Account),
        ("crm_source", "crm_id"),
        account_row,
        source_column="crm_source",
        suppress=(("crm_id", "account"),),
    ),
    "opportunity": Sink(
        _t(Opportunity),
        ("source", "crm_id"),
        opportunity_row,
        source_column="source",
        suppress=(("crm_id", "opportunity"), ("account_crm_id", "account")),
    ),
    "contact": Sink(
        _t(Contact),
        ("source", "crm_id"),
        contact_row,
        source_column="source",
        suppress=(("crm_id", "contact"), ("account_crm_id", "account")),
    ),
    "organization": Sink(
        _t(ExternalIdentity),
        _IDENTITY_KEY,
        organization_row,
        _IDENTITY_DATA,
        "source",
        suppress=(("external_id", "organization"), ("hint_crm_id", "account")),
    ),
    "ticket": Sink(
        _t(Ticket),
        ("source", "helpdesk_id"),
        ticket_row,
        source_column="source",
        reset_on_change=(("account_id", "helpdesk_org_id"),),
        suppress=(("helpdesk_id", "ticket"), ("helpdesk_org_id", "organization")),
    ),
    "workspace": Sink(
        _t(ExternalIdentity),
        _IDENTITY_KEY,
        workspace_row,
        _IDENTITY_DATA,
        "source",
        suppress=(("external_id", "workspace"), ("hint_crm_id", "account")),
    ),
    # where a secondary crm source's accounts land (sync/instances.py `sink_for`)
    "crm_account": Sink(
        _t(ExternalIdentity),
        _IDENTITY_KEY,
        crm_account_row,
        _IDENTITY_DATA,
        "source",
        suppress=(("external_id", "account"),),
    ),
    "usage_day": Sink(
        _t(UsageDaily),
        ("workspace_id", "day"),
        usage_day_row,
        suppress=(("workspace_id", "workspace"),),
    ),
    "app_user": Sink(
        _t(AppUser),
        ("source", "external_id"),
        app_user_row,
        source_column="source",
        suppress=(("external_id", "app_user"), ("workspace_id", "workspace")),
    ),
    "survey_response": Sink(
        _t(SurveyResponse),
        ("source", "external_id"),
        survey_response_row,
        source_column="source",
        suppress=(("crm_account_id", "account"), ("workspace_id", "workspace")),
    ),
}
