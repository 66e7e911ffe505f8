"""Write-back planner: desired state of every field/tag pulsehub owns, minus what it last wrote.

Owned outputs (the default policy: pulsehub owns only these and never touches anything else):
  - account fields of the crm from the latest health snapshot (`LOGICAL_FIELDS`), and the
    account's current onboarding phase (`onboarding_phase`, from sync/operations.py)
  - organization fields of the helpdesk on linked organizations
  - helpdesk ticket tags from `MANAGED_TAGS` on the account's open tickets
Fields are planned by LOGICAL name; each connector's write kind says which of them it writes
and renders their values as its system stores them (`connectors.write_fields`), so the diff
and the dead-bands compare the values that would be written. The planner is a pure diff over
the model: `desired - written_state` becomes outbox rows.

When someone edits a pulsehub-owned field by hand, `policy` decides (PULSEHUB_WRITEBACK_POLICY):
  - "own" (default): diff against what pulsehub last wrote; the edit stands until pulsehub's
    own value next changes. Nothing extra is read from the source.
  - "reassert": diff against the value the source holds now, when the last pull saw it
    (the connector says where a pulled record keeps its fields), so a hand edit is
    overwritten on the next run. Tags always follow "own".
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import WriteKind
from connectors.write_fields import WriteFields
from model.own_tickets import customer_tickets
from model.tables import HealthSnapshot, OnboardingPhase, Ticket
from scoring.health import BAND_CUTOFFS_KEY, NEAR_REASONS_KEY, band_between
from scoring.risk_model import MIN_DRIVER_LOG_ODDS, NEAR_DRIVERS
from sync.deadband import DeadBand, FieldBands, ranked_items, waiting
from sync.writeback_rows import (
    Found,
    PlanSnapshot,
    account_targets,
    crm_account_targets,
    newest_day,
    organization_targets,
    snapshot_batches,
    written,
)

OPEN_TICKET_STATUSES = ("new", "open", "pending", "hold")
BANDS = ("green", "yellow", "red", "insufficient_data")
RISK_LEVELS = ("low", "medium", "high")
MANAGED_TAGS = frozenset(
    {f"health_{b}" for b in BANDS} | {f"renewal_risk_{lvl}" for lvl in RISK_LEVELS}
)
# the logical fields ticket tags name, and the values each can take
SHOWN_LEVELS = {"health_band": BANDS, "renewal_risk_level": RISK_LEVELS}
# per account, the status and risk level its record shows once the plan is carried out
Shown = dict[int, dict[str, str]]
# a snapshot as the plan reads it (sync/writeback_rows.py), or whole
Snap = PlanSnapshot | HealthSnapshot
PLAN_CHUNK_ACCOUNTS = 2000  # accounts planned (and enqueued) at a time
LOGICAL_FIELDS = (
    "health_score",
    "health_band",
    "health_trend",
    "health_reasons",
    "renewal_risk",
    "renewal_risk_level",
    "renewal_risk_drivers",
    "onboarding_phase",
)
ESCALATION_TAGS = frozenset({"pulsehub_escalation", "sev1", "sev2", "sev3", "sev4"})
# the written numbers and texts the dead-bands apply to (see sync/deadband.py)
FIELD_BANDS = FieldBands(
    numeric={
        "health_score": ("score", "health_band"),
        "renewal_risk": ("risk", "renewal_risk_level"),
        "health_trend": ("trend", None),
    },
    texts=frozenset({"health_reasons", "renewal_risk_drivers"}),
    explains={"health_reasons": "health_score", "renewal_risk_drivers": "renewal_risk"},
)


def allowed_ticket_tags() -> frozenset[str]:
    """Every tag pulsehub may add or remove (least privilege: the connector refuses others)."""
    return MANAGED_TAGS | ESCALATION_TAGS


@dataclass(frozen=True)
class FieldTarget:
    """Where planned writes of one entity go: the source (as written state is stored) and
    the connector's write kind for it (with its field map, for account/organization)."""

    system: str
    kind: WriteKind

    @property
    def entity(self) -> str:
        assert self.kind.entity is not None, f"{self.kind.name} is not a planned write"
        return self.kind.entity

    @property
    def fields(self) -> WriteFields:
        assert self.kind.fields is not None, f"{self.kind.name} writes no fields"
        return self.kind.fields


# entity ("account", "organization", "ticket") -> where its writes go: one target per source
# that writes it (two helpdesk instances each get their own organizations' fields)
WriteTargets = Mapping[str, Sequence[FieldTarget]]


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
    tags: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        if self.tags:
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


def logical_fields(snap: Snap) -> dict[str, Any]:
    """A snapshot as logical write-back fields, unrendered (the connector renders them)."""
    return {
        "health_score": snap.score,
        "health_band": snap.band,
        "health_trend": snap.trend_28d,
        "health_reasons": list(snap.reasons or []),
        "renewal_risk": snap.renewal_risk,
        "renewal_risk_level": snap.risk_level,
        "renewal_risk_drivers": list(snap.risk_drivers or []),
    }


def current_phases(session: Session, account_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The accounts' current onboarding phase as a logical field (accounts with one)."""
    out: dict[int, dict[str, Any]] = {}
    ids = list(account_ids)
    for start in range(0, len(ids), 1000):
        for aid, phase in session.execute(
            select(OnboardingPhase.account_id, OnboardingPhase.phase).where(
                OnboardingPhase.exited_on.is_(None),
                OnboardingPhase.account_id.in_(ids[start : start + 1000]),
            )
        ):
            out[aid] = {"onboarding_phase": phase}
    return out


def desired_tags(snap: Snap, shown: Mapping[str, str] | None = None) -> set[str]:
    """The managed tags of an account's open tickets: the status and risk level its record
    shows (`shown`, held by the dead-band like the record's fields), else the snapshot's."""
    shown = shown or {}
    tags = {f"health_{shown.get('health_band', snap.band)}"}
    if level := shown.get("renewal_risk_level", snap.risk_level):
        tags.add(f"renewal_risk_{level}")
    return tags & MANAGED_TAGS


def shown_levels(
    fields: WriteFields,
    desired: Mapping[str, Any],
    written: Mapping[str, str | None],
    changes: Sequence[FieldChange],
) -> dict[str, str]:
    """The status and risk level (logical values) a record shows once its planned changes
    are carried out: a value held by the dead-band is the one written before."""
    planned = {c.field: c.new for c in changes}
    out: dict[str, str] = {}
    for name, choices in SHOWN_LEVELS.items():
        rule = fields.fields.get(name)
        if rule is None or name not in desired:
            continue
        value = planned.get(name, written.get(name, encode(desired[name])))
        labels = {encode(rule.render(choice)): choice for choice in choices}
        if value in labels:
            out[name] = labels[value]
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
    items: Mapping[str, Sequence[str]] | None = None,
    weak: Mapping[str, Collection[str]] | None = None,
    reach: Mapping[str, Collection[str]] | None = None,
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
    pairs = {c.field: (decode(c.old), decode(c.new)) for c in changes}
    wait = waiting(pairs, band, FIELD_BANDS, items, weak, reach, desired.keys())
    return [c for c in changes if c.field not in wait]


def ranked(
    items: dict[str, list[str]], snap: Snap, band: DeadBand | None
) -> tuple[dict[str, list[str]], dict[str, frozenset[str]]]:
    """The reason items a written list is judged against: the health reasons just past the
    listed ones still apply (a reason that slipped a few ranks is still true), and the risk
    drivers get hysteresis on their listing threshold (sync/deadband.py `ranked_items`): the
    drivers just under it still apply, and those within the margin either side are too
    weak to force a rewrite."""
    if band is None:
        return items, {}
    if "health_reasons" in items:  # those just past the listed ones still apply
        near_reasons = (snap.signals or {}).get(NEAR_REASONS_KEY) or []
        items = {**items, "health_reasons": [*items["health_reasons"], *map(str, near_reasons)]}
    if band.driver <= 0 or "renewal_risk_drivers" not in items:
        return items, {}
    listed = [d for d in snap.risk_drivers or [] if isinstance(d, dict) and "contribution" in d]
    if len(listed) != len(items["renewal_risk_drivers"]):  # texts without a push (prior model)
        return items, {}
    near = (snap.signals or {}).get(NEAR_DRIVERS) or []
    texts, weak = ranked_items(listed, near, MIN_DRIVER_LOG_ODDS, band.driver)
    return {**items, "renewal_risk_drivers": texts}, {"renewal_risk_drivers": weak}


def status_reach(fields: WriteFields, snap: Snap, band: DeadBand | None) -> dict[str, set[Any]]:
    """The health statuses (as the connector writes them) the exact score would have anywhere
    within the score's dead-band, under the cut-offs it was banded with: a status flip whose
    written score did not change waits while the written status is among them. Empty for an
    overridden band or a snapshot without cut-offs (the flip is written at once)."""
    cutoffs = (snap.signals or {}).get(BAND_CUTOFFS_KEY)
    rule = fields.fields.get("health_band")
    if band is None or band.score <= 0 or rule is None or not isinstance(cutoffs, dict):
        return {}
    red, green = float(cutoffs["red_below"]), float(cutoffs["green_at"])
    if snap.score is None or band_between(snap.score, red, green) != snap.band:
        return {}  # an override (or insufficient data) is not a cut-off crossing
    lo, hi = snap.score - band.score, snap.score + band.score
    labels = {band_between(lo, red, green), band_between(hi, red, green)}
    if lo < green and hi >= red and red < green:  # the range spans yellow (close cut-offs)
        labels.add("yellow")
    return {"health_band": {rule.render(b) for b in labels}}


@dataclass
class PlanChunk:
    """The plan for one range of accounts: the writes, and every target that was looked at
    (a pending write to a looked-at target that is no longer planned is superseded)."""

    writes: list[PlannedWrite]
    considered: set[tuple[str, str, str]]  # (source, write kind, target id)


def plan_writeback(
    session: Session,
    targets: WriteTargets,
    policy: str = "own",
    account_ids: Sequence[int] | None = None,
) -> list[PlannedWrite]:
    """Every owned field/tag whose desired value differs from what stands (see `policy`);
    `account_ids` narrows the plan to those accounts (a targeted refresh). Holds the whole
    plan: for a large book use `plan_chunks`."""
    chunks = plan_chunks(session, targets, policy, account_ids)
    return [w for chunk in chunks for w in chunk.writes]


def plan_chunks(
    session: Session,
    targets: WriteTargets,
    policy: str = "own",
    account_ids: Sequence[int] | None = None,
    chunk_size: int = PLAN_CHUNK_ACCOUNTS,
    band: DeadBand | None = None,
    extra: Mapping[int, Mapping[str, Any]] | None = None,
) -> Iterator[PlanChunk]:
    """The plan, `chunk_size` accounts at a time (in account-id order), so memory holds one
    chunk's snapshots, written state and writes however large the book is; `targets` are the
    connectors' field write kinds, by entity. With `band`, small numeric moves wait
    (sync/deadband.py). `extra`: more logical fields per account id (an opted-in owner)."""
    if policy not in POLICIES:
        raise ValueError(f"unknown write-back policy {policy!r}; use one of {POLICIES}")
    newest = newest_day(session)
    if newest is None:
        return
    reassert = policy == "reassert"
    for rows in snapshot_batches(session, newest, account_ids, chunk_size):
        snaps = {s.account_id: s for s in rows}
        lo, hi = rows[0].account_id, rows[-1].account_id
        ids = None if account_ids is None else list(snaps)  # a sparse scope: by id, not range
        considered: set[tuple[str, str, str]] = set()
        writes: list[PlannedWrite] = []
        shown: dict[str, Shown] = {}  # by system: what its records show after this plan
        for to in targets.get("account", ()):  # a secondary crm's linked accounts too
            accounts = [
                *account_targets(session, to.system, lo, hi, ids),
                *crm_account_targets(session, to.system, lo, hi, ids),
            ]
            writes += _plan_fields(
                session, to, accounts, snaps, reassert, considered, band, extra or {},
                shown.setdefault(to.system, {}),
            )  # fmt: skip
        for to in targets.get("organization", ()):
            found = organization_targets(session, to.system, lo, hi, ids)
            writes += _plan_fields(
                session, to, found, snaps, reassert, considered, band,
                shown=shown.setdefault(to.system, {}),
            )  # fmt: skip
        for to in targets.get("ticket", ()):  # tags follow the helpdesk's organization
            follow = shown.get(to.system) or next(iter(shown.values()), {})
            writes += _plan_ticket_tags(session, to, snaps, lo, hi, considered, ids, follow)
        yield PlanChunk(writes, considered)
        del rows, snaps  # before the next chunk is read


def _plan_fields(
    session: Session,
    to: FieldTarget,
    targets: Found,
    snaps: dict[int, PlanSnapshot],
    reassert: bool,
    considered: set[tuple[str, str, str]],
    band: DeadBand | None = None,
    extra: Mapping[int, Mapping[str, Any]] | None = None,
    shown: Shown | None = None,
) -> list[PlannedWrite]:
    """Field writes for (target id, account id, pulled record) rows of one write kind: the
    snapshot's logical fields as the connector renders them, diffed against what stands.
    Targets of unscored accounts are not looked at. `shown` is told, per account, the status
    and risk level its (first) record shows once the writes are carried out."""
    kind, fields = to.kind.name, to.fields
    scored = [(t, acc, rec) for t, acc, rec in targets if acc is not None and acc in snaps]
    stored = written(session, to.system, to.entity, [t for t, _, _ in scored])
    extras = current_phases(session, [a for _, a, _ in scored if a is not None])
    out = []
    for target, acc, record in scored:
        assert acc is not None
        considered.add((to.system, kind, target))
        values = {**logical_fields(snaps[acc]), **extras.get(acc, {}), **(extra or {}).get(acc, {})}
        desired = fields.render(values)
        current = fields.held(record or {}) if reassert else None
        items, weak = ranked(fields.items(values, FIELD_BANDS.texts), snaps[acc], band)
        reach = status_reach(fields, snaps[acc], band)
        stands = stored.get(target, {})
        changes = _diff(desired, stands, current, band, items, weak, reach)
        if changes:
            out.append(PlannedWrite(to.system, kind, target, acc, changes))
        if shown is not None and acc not in shown:
            shown[acc] = shown_levels(fields, desired, stands, changes)
    return out


def _plan_ticket_tags(
    session: Session,
    to: FieldTarget,
    snaps: dict[int, PlanSnapshot],
    lo: int,
    hi: int,
    considered: set[tuple[str, str, str]],
    ids: Sequence[int] | None = None,
    shown: Shown | None = None,
) -> list[PlannedWrite]:
    """Managed tags on the open tickets this target's source holds: the status and risk
    level the account's record shows (`shown`), so a status the dead-band holds on the
    organization is not flipped on its tickets (agents see one answer, and a ticket update
    fires the helpdesk's triggers)."""
    among = [] if ids is None else [Ticket.account_id.in_(list(ids))]
    tickets = session.execute(
        select(Ticket.helpdesk_id, Ticket.account_id).where(
            Ticket.source == to.system,
            Ticket.account_id.between(lo, hi),
            Ticket.status.in_(OPEN_TICKET_STATUSES),
            customer_tickets(session),  # not the escalation tickets pulsehub opened
            *among,
        )
    ).all()
    targets = [(str(t), acc) for t, acc in tickets if acc in snaps]
    stored = written(session, to.system, to.entity, [t[0] for t in targets])
    out = []
    for ticket_id, acc_id in targets:
        considered.add((to.system, to.kind.name, ticket_id))
        want = desired_tags(snaps[acc_id], (shown or {}).get(acc_id))
        have = {f.removeprefix("tag:") for f, v in stored.get(ticket_id, {}).items() if v}
        changes = [FieldChange(f"tag:{t}", None, encode(True)) for t in sorted(want - have)]
        changes += [FieldChange(f"tag:{t}", encode(True), None) for t in sorted(have - want)]
        if changes:
            out.append(PlannedWrite(to.system, to.kind.name, ticket_id, acc_id, changes, True))
    return out
