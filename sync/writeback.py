"""Write-back planner: desired state of every field/tag pulsehub owns, minus what it last wrote.

Owned outputs (the default policy: pulsehub owns only these and never touches anything else):
  - Salesforce Account fields from the latest health snapshot (`SF_FIELDS`)
  - Zendesk organization fields on linked organizations (`ZD_ORG_FIELDS`)
  - Zendesk ticket tags from `MANAGED_TAGS` on the account's open tickets
The planner is a pure diff over the model: `desired - written_state` becomes outbox rows.

When someone edits a pulsehub-owned field by hand, `policy` decides (PULSEHUB_WRITEBACK_POLICY):
  - "own" (default): diff against what pulsehub last wrote; the edit stands until pulsehub's
    own value next changes. Nothing extra is read from the source.
  - "reassert": diff against the value the source holds now, when the last pull saw it
    (Salesforce: the health fields are pulled too; Zendesk: organization_fields), so a hand
    edit is overwritten on the next run. Tags always follow "own".
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from model.tables import Account, ExternalIdentity, HealthSnapshot, Ticket, WrittenState
from sync.deadband import DeadBand, FieldBands, held

OPEN_TICKET_STATUSES = ("new", "open", "pending", "hold")
BAND_LABEL = {
    "green": "Green",
    "yellow": "Yellow",
    "red": "Red",
    "insufficient_data": "Insufficient Data",
}
MANAGED_TAGS = frozenset(
    {f"health_{b}" for b in BAND_LABEL}
    | {f"renewal_risk_{lvl}" for lvl in ("low", "medium", "high")}
)
REASONS_MAX_CHARS = 1000
PLAN_CHUNK_ACCOUNTS = 2000  # accounts planned (and enqueued) at a time
IN_BATCH = 900  # ids per IN (...) lookup, under every backend's bound-parameter limit
SF_OWNED_FIELDS = (
    "Health_Score__c",
    "Health_Status__c",
    "Health_Trend__c",
    "Health_Reasons__c",
    "Renewal_Risk__c",
    "Renewal_Risk_Level__c",
    "Renewal_Risk_Drivers__c",
)
ZD_ORG_FIELDS = ("health_score", "health_status", "renewal_risk", "renewal_risk_level")
ESCALATION_TAGS = frozenset({"pulsehub_escalation", "sev1", "sev2", "sev3", "sev4"})


def allowed_ticket_tags() -> frozenset[str]:
    """Every tag pulsehub may add or remove (least privilege: the connector refuses others)."""
    return MANAGED_TAGS | ESCALATION_TAGS


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str | None
    new: str | None


@dataclass
class PlannedWrite:
    """One record's changes: field values (`fields`) or tag additions/removals (`add`/`remove`)."""

    system: str
    kind: str
    target_id: str
    account_id: int | None
    changes: list[FieldChange] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any]:
        if self.kind == "zd_ticket_tags":
            return {
                "add": sorted(c.field.removeprefix("tag:") for c in self.changes if c.new),
                "remove": sorted(c.field.removeprefix("tag:") for c in self.changes if not c.new),
            }
        return {"fields": {c.field: decode(c.new) for c in self.changes}}


def encode(value: Any) -> str | None:
    """Canonical text form of a written value, so equal values compare equal."""
    return None if value is None else json.dumps(value, sort_keys=True, default=str)


def decode(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def reasons_text(reasons: Iterable[Any], limit: int = 3) -> str:
    texts = [r.get("text", str(r)) if isinstance(r, dict) else str(r) for r in reasons]
    return "; ".join(texts[:limit])[:REASONS_MAX_CHARS]


def sf_fields(snap: HealthSnapshot) -> dict[str, Any]:
    score = None if snap.score is None else round(snap.score)
    return {
        "Health_Score__c": score,
        "Health_Status__c": BAND_LABEL.get(snap.band, snap.band),
        "Health_Trend__c": None if snap.trend_28d is None else round(snap.trend_28d, 1),
        "Health_Reasons__c": reasons_text(snap.reasons or []),
        "Renewal_Risk__c": None if snap.renewal_risk is None else round(100 * snap.renewal_risk, 1),
        "Renewal_Risk_Level__c": (snap.risk_level or "").title() or None,
        "Renewal_Risk_Drivers__c": reasons_text(snap.risk_drivers or []),
    }


# the written numbers and texts the dead-bands apply to (see sync/deadband.py)
FIELD_BANDS = FieldBands(
    numeric={
        "Health_Score__c": ("score", "Health_Status__c"),
        "Renewal_Risk__c": ("risk", "Renewal_Risk_Level__c"),
        "Health_Trend__c": ("trend", None),
        "health_score": ("score", "health_status"),
        "renewal_risk": ("risk", "renewal_risk_level"),
    },
    texts=frozenset({"Health_Reasons__c", "Renewal_Risk_Drivers__c"}),
)


def zd_org_fields(snap: HealthSnapshot) -> dict[str, Any]:
    return {
        "health_score": None if snap.score is None else round(snap.score),
        "health_status": snap.band,
        "renewal_risk": None if snap.renewal_risk is None else round(100 * snap.renewal_risk),
        "renewal_risk_level": snap.risk_level,
    }


def desired_tags(snap: HealthSnapshot) -> set[str]:
    tags = {f"health_{snap.band}"}
    if snap.risk_level:
        tags.add(f"renewal_risk_{snap.risk_level}")
    return tags & MANAGED_TAGS


def _newest_day(session: Session) -> dt.date | None:
    return session.execute(select(func.max(HealthSnapshot.as_of))).scalar()


def _written(
    session: Session, system: str, kind: str, targets: Iterable[str]
) -> dict[str, dict[str, str | None]]:
    """What pulsehub last wrote to each of `targets` (one chunk's, looked up in IN batches)."""
    out: dict[str, dict[str, str | None]] = {}
    ids = list(targets)
    for start in range(0, len(ids), IN_BATCH):
        rows = session.execute(
            select(WrittenState.target_id, WrittenState.field, WrittenState.value).where(
                WrittenState.system == system,
                WrittenState.target_kind == kind,
                WrittenState.target_id.in_(ids[start : start + IN_BATCH]),
            )
        )
        for target, fld, value in rows:
            out.setdefault(target, {})[fld] = value
    return out


POLICIES = ("own", "reassert")


def same_value(a: Any, b: Any) -> bool:
    """Equal as the source would store them: 72 == 72.0, None == ''."""
    if a in (None, "") and b in (None, ""):
        return True
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(float(a) - float(b)) < 1e-6
    return bool(a == b)


def _diff(
    desired: dict[str, Any],
    written: dict[str, str | None],
    current: dict[str, Any] | None = None,
    band: DeadBand | None = None,
) -> list[FieldChange]:
    changes = []
    for fld, value in desired.items():
        new = encode(value)
        if current is not None and fld in current:  # reassert: what the source holds now
            if not same_value(value, current[fld]):
                changes.append(FieldChange(fld, encode(current[fld]), new))
        elif fld not in written or written[fld] != new:
            changes.append(FieldChange(fld, written.get(fld), new))
    if band is None or current is not None:
        return changes
    labels = {c.field for c in changes}
    return [c for c in changes if not held(c.field, c.new, c.old, labels, band, FIELD_BANDS)]


@dataclass
class PlanChunk:
    """The plan for one range of accounts: the writes, and every target that was looked at
    (a pending write to a looked-at target that is no longer planned is superseded)."""

    writes: list[PlannedWrite]
    considered: set[tuple[str, str]]


def plan_writeback(
    session: Session, policy: str = "own", account_ids: Sequence[int] | None = None
) -> list[PlannedWrite]:
    """Every owned field/tag whose desired value differs from what stands (see `policy`);
    `account_ids` narrows the plan to those accounts (a targeted refresh). Holds the whole
    plan: for a large book use `plan_chunks`."""
    return [w for chunk in plan_chunks(session, policy, account_ids) for w in chunk.writes]


def plan_chunks(
    session: Session,
    policy: str = "own",
    account_ids: Sequence[int] | None = None,
    chunk_size: int = PLAN_CHUNK_ACCOUNTS,
    band: DeadBand | None = None,
) -> Iterator[PlanChunk]:
    """The plan, `chunk_size` accounts at a time (in account-id order), so memory holds one
    chunk's snapshots, written state and writes however large the book is. With `band`,
    small numeric moves wait (sync/deadband.py)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown write-back policy {policy!r}; use one of {POLICIES}")
    newest = _newest_day(session)
    if newest is None:
        return
    reassert = policy == "reassert"
    for rows in _snapshot_batches(session, newest, account_ids, chunk_size):
        snaps = {s.account_id: s for s in rows}
        lo, hi = rows[0].account_id, rows[-1].account_id
        considered: set[tuple[str, str]] = set()
        writes = [
            *_plan_salesforce(session, snaps, lo, hi, reassert, considered, band),
            *_plan_org_fields(session, snaps, lo, hi, reassert, considered, band),
            *_plan_ticket_tags(session, snaps, lo, hi, considered),
        ]
        yield PlanChunk(writes, considered)


def _snapshot_batches(
    session: Session, newest: dt.date, scope: Sequence[int] | None, chunk_size: int
) -> Iterator[list[HealthSnapshot]]:
    """The newest day's snapshots in account-id order, a batch at a time."""
    base = select(HealthSnapshot).where(HealthSnapshot.as_of == newest)
    order = HealthSnapshot.account_id
    if scope is not None:
        ids = sorted(set(scope))
        for start in range(0, len(ids), IN_BATCH):
            stmt = base.where(HealthSnapshot.account_id.in_(ids[start : start + IN_BATCH]))
            if rows := list(session.execute(stmt.order_by(order)).scalars()):
                yield rows
        return
    after: int | None = None
    while True:
        stmt = base if after is None else base.where(HealthSnapshot.account_id > after)
        rows = list(session.execute(stmt.order_by(order).limit(chunk_size)).scalars())
        if not rows:
            return
        yield rows
        after = rows[-1].account_id


def _plan_salesforce(
    session: Session,
    snaps: dict[int, HealthSnapshot],
    lo: int,
    hi: int,
    reassert: bool,
    considered: set[tuple[str, str]],
    band: DeadBand | None,
) -> list[PlannedWrite]:
    accounts = session.execute(
        select(Account.sf_id, Account.id, Account.attributes).where(
            Account.id.between(lo, hi), Account.sf_id.is_not(None), Account.is_deleted.is_(False)
        )
    ).all()
    targets = [(sf_id, acc, (attrs or {}) if reassert else None) for sf_id, acc, attrs in accounts]
    return _plan_fields(session, ("salesforce", "sf_account_fields", "account"), targets, snaps,
                        sf_fields, considered, band)  # fmt: skip


def _plan_org_fields(
    session: Session,
    snaps: dict[int, HealthSnapshot],
    lo: int,
    hi: int,
    reassert: bool,
    considered: set[tuple[str, str]],
    band: DeadBand | None,
) -> list[PlannedWrite]:
    orgs = session.execute(
        select(
            ExternalIdentity.external_id, ExternalIdentity.account_id, ExternalIdentity.attributes
        ).where(
            ExternalIdentity.source == "zendesk",
            ExternalIdentity.status == "linked",
            ExternalIdentity.is_deleted.is_(False),
            ExternalIdentity.account_id.between(lo, hi),
        )
    ).all()
    targets = [
        (org, acc, ((attrs or {}).get("organization_fields") or {}) if reassert else None)
        for org, acc, attrs in orgs
    ]
    return _plan_fields(session, ("zendesk", "zd_org_fields", "organization"), targets, snaps,
                        zd_org_fields, considered, band)  # fmt: skip


def _plan_fields(
    session: Session,
    where: tuple[str, str, str],
    targets: Sequence[tuple[str, int | None, dict[str, Any] | None]],
    snaps: dict[int, HealthSnapshot],
    desired: Callable[[HealthSnapshot], dict[str, Any]],
    considered: set[tuple[str, str]],
    band: DeadBand | None = None,
) -> list[PlannedWrite]:
    """Field writes for (target id, account id, value the source holds or None) rows of one
    kind; `where` is (system, write kind, target kind). Targets of unscored accounts are
    not looked at."""
    system, kind, target_kind = where
    scored = [(t, acc, cur) for t, acc, cur in targets if acc is not None and acc in snaps]
    written = _written(session, system, target_kind, [t for t, _, _ in scored])
    out = []
    for target, acc, current in scored:
        assert acc is not None
        considered.add((kind, target))
        if changes := _diff(desired(snaps[acc]), written.get(target, {}), current, band):
            out.append(PlannedWrite(system, kind, target, acc, changes))
    return out


def _plan_ticket_tags(
    session: Session,
    snaps: dict[int, HealthSnapshot],
    lo: int,
    hi: int,
    considered: set[tuple[str, str]],
) -> list[PlannedWrite]:
    tickets = session.execute(
        select(Ticket.zd_id, Ticket.account_id).where(
            Ticket.account_id.between(lo, hi), Ticket.status.in_(OPEN_TICKET_STATUSES)
        )
    ).all()
    targets = [(str(zd), acc) for zd, acc in tickets if acc in snaps]
    written = _written(session, "zendesk", "ticket", [t[0] for t in targets])
    out = []
    for zd_id, acc_id in targets:
        considered.add(("zd_ticket_tags", zd_id))
        want = desired_tags(snaps[acc_id])
        have = {f.removeprefix("tag:") for f, v in written.get(zd_id, {}).items() if v}
        changes = [FieldChange(f"tag:{t}", None, encode(True)) for t in sorted(want - have)]
        changes += [FieldChange(f"tag:{t}", encode(True), None) for t in sorted(have - want)]
        if changes:
            out.append(PlannedWrite("zendesk", "zd_ticket_tags", zd_id, acc_id, changes))
    return out
