"""Escalation rules as data: pydantic models for the rules YAML and its loader.

A bad file fails at start-up with one `EscalationConfigError` naming the file, the key and
the fix. The shipped default (`default_rules.yaml`) works on the sandbox.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.config_files import read_yaml
from connectors.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_RULES_FILE = Path(__file__).with_name("default_rules.yaml")

Severity = Literal["sev1", "sev2", "sev3", "sev4"]
ActionKind = Literal["engineering_ticket", "owner_task", "tag_tickets", "notify"]
TicketPriority = Literal["urgent", "high", "normal", "low"]
TaskPriority = Literal["High", "Normal", "Low"]
_REVIEW: list[Severity] = ["sev1", "sev2"]
_THRESHOLDS: dict[Severity, int] = {"sev1": 8, "sev2": 5, "sev3": 3}
_TICKET_PRIORITY: dict[Severity, TicketPriority] = {
    "sev1": "urgent",
    "sev2": "high",
    "sev3": "normal",
    "sev4": "low",
}
_DUE_DAYS: dict[Severity, int] = {"sev1": 1, "sev2": 2, "sev3": 5, "sev4": 10}
_TASK_PRIORITY: dict[Severity, TaskPriority] = {
    "sev1": "High",
    "sev2": "High",
    "sev3": "Normal",
    "sev4": "Low",
}
RULE_NAMES = (
    "band_red",
    "band_yellow",
    "score_drop",
    "renewal_review",
    "repeated_issue",
    "urgent_sla_breach",
    "csat_turning_bad",
    "champion_left",
    "contradiction",
)


class EscalationConfigError(ConfigError):
    """The rules file is unreadable or invalid; the message names file, key and fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleConfig(_Strict):
    """One trigger: whether it runs, what it does, and its own thresholds."""

    enabled: bool = True
    actions: list[ActionKind] = Field(default_factory=list)
    weight: int = Field(
        default=0, ge=0, le=5, description="severity points the trigger itself adds"
    )
    cooldown_days: float | None = Field(
        default=None, ge=0, description="overrides lifecycle.cooldown_days"
    )
    tags: list[str] = Field(default_factory=list, description="tags for the customer's tickets")
    min_drop: float = Field(default=15.0, gt=0, description="score_drop: points lost in 28 days")
    within_days: int = Field(default=90, gt=0, description="renewal_review: renewal horizon")
    min_tickets: int = Field(default=3, ge=2, description="repeated_issue: tickets on one problem")
    window_days: int = Field(default=30, gt=0, description="repeated_issue/csat: look-back window")
    exclude_tags: list[str] = Field(
        default_factory=list, description="repeated_issue: tickets with these are not problems"
    )
    baseline_days: int = Field(
        default=90, ge=0, description="repeated_issue: history giving the usual rate; 0 = off"
    )
    max_p: float = Field(
        default=0.01, gt=0, le=1, description="repeated_issue: fire when this unlikely by chance"
    )
    min_expected: float = Field(
        default=0.3, gt=0, description="repeated_issue: rate floor for a problem never seen"
    )
    book_norm: bool = Field(
        default=False,
        description="repeated_issue: also above what the book's topic mix predicts",
    )
    min_severity: Severity | None = Field(
        default=None, description="raise only decisions at least this severe (sev1 is most)"
    )
    similarity: float = Field(
        default=0.5, gt=0, le=1, description="repeated_issue: subject Jaccard"
    )
    first_reply_hours: float = Field(
        default=1.0, gt=0, description="urgent_sla_breach: first reply SLA"
    )
    resolution_hours: float = Field(
        default=24.0, gt=0, description="urgent_sla_breach: resolution SLA"
    )
    tiers: list[str] = Field(default_factory=list, description="urgent_sla_breach: tiers covered")
    per_account: bool = Field(
        default=False,
        description="urgent_sla_breach: one incident per account linking every breach",
    )
    min_bad: int = Field(default=2, ge=1, description="csat_turning_bad: bad ratings in the window")
    bad_share: float = Field(default=0.4, gt=0, le=1, description="csat_turning_bad: bad / rated")
    min_rise: float = Field(
        default=0.2, ge=0, le=1, description="csat_turning_bad: bad share up by at least this"
    )
    lookback_days: int = Field(
        default=60, gt=0, description="champion_left: how recent a departure"
    )
    departure_markers: list[str] = Field(
        default_factory=lambda: ["left company", "no longer with", "former employee"],
        description="champion_left: title/role text that marks a contact who left",
    )


class SeverityConfig(_Strict):
    """Points per factor; the total picks Sev1..Sev4 (the table shown on every escalation)."""

    arr_points: dict[int, int] = Field(
        default_factory=lambda: {500_000: 3, 100_000: 2, 25_000: 1},
        description="ARR at stake >= key -> points",
    )
    renewal_points: dict[int, int] = Field(
        default_factory=lambda: {30: 3, 90: 2, 180: 1},
        description="renewal within <= key days -> points",
    )
    tier_points: dict[str, int] = Field(
        default_factory=lambda: {"strategic": 2, "tier 1": 1, "enterprise": 1},
        description="account tier (case-insensitive) -> points",
    )
    urgent_ticket_points: int = 1
    sla_breach_points: int = 1
    executive_points: int = 1
    thresholds: dict[Severity, int] = Field(
        default_factory=lambda: dict(_THRESHOLDS),
        description="minimum total for each severity; below sev3 is sev4",
    )

    @model_validator(mode="after")
    def _ordered(self) -> SeverityConfig:
        t = self.thresholds
        if set(t) != {"sev1", "sev2", "sev3"} or not t["sev1"] > t["sev2"] > t["sev3"]:
            raise ValueError("thresholds need sev1 > sev2 > sev3, e.g. {sev1: 8, sev2: 5, sev3: 3}")
        return self


class LifecycleConfig(_Strict):
    on_clear: Literal["auto_close", "ask"] = "auto_close"
    cooldown_days: float = Field(default=7.0, ge=0)
    review_hours: float = Field(
        default=72.0, gt=0, description="post-incident review after Sev1/Sev2"
    )
    review_severities: list[Severity] = Field(default_factory=lambda: list(_REVIEW))


class EngineeringTicketConfig(_Strict):
    """The engineering ticket an escalation opens in the helpdesk."""

    group_id: int | None = None
    ticket_form_id: int | None = None
    tags: list[str] = Field(default_factory=lambda: ["pulsehub_escalation"])
    priority: dict[Severity, TicketPriority] = Field(default_factory=lambda: dict(_TICKET_PRIORITY))


class OwnerTaskConfig(_Strict):
    due_days: dict[Severity, int] = Field(default_factory=lambda: dict(_DUE_DAYS))
    priority: dict[Severity, TaskPriority] = Field(default_factory=lambda: dict(_TASK_PRIORITY))
    playbooks: dict[str, list[str]] = Field(
        default_factory=dict, description="steps by playbook: at_risk, critical, renewal_review"
    )


class NotifyConfig(_Strict):
    url: str | None = Field(
        default=None, description="generic webhook, e.g. a Slack incoming webhook"
    )
    min_severity: Severity = "sev2"


class EscalationConfig(_Strict):
    """The whole rules file."""

    rules: dict[str, RuleConfig]
    severity: SeverityConfig = SeverityConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    engineering_ticket: EngineeringTicketConfig = EngineeringTicketConfig()
    owner_task: OwnerTaskConfig = OwnerTaskConfig()
    notify: NotifyConfig = NotifyConfig()
    ignore_tags: list[str] = Field(
        default_factory=list, description="tags too generic to define a repeated issue"
    )
    one_per_account: list[str] = Field(
        default_factory=list,
        description="rules sharing one active escalation per account, first listed wins",
    )

    @model_validator(mode="after")
    def _known_rules(self) -> EscalationConfig:
        unknown = sorted((set(self.rules) | set(self.one_per_account)) - set(RULE_NAMES))
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}; known rules: {', '.join(RULE_NAMES)}")
        return self

    def rule(self, name: str) -> RuleConfig:
        """The named rule's config; a rule absent from the file is disabled."""
        return self.rules.get(name) or RuleConfig(enabled=False)

    @property
    def written_tags(self) -> frozenset[str]:
        """Tags these rules put on tickets (customers' and engineering's): pulsehub's own, so
        never part of a repeated issue (see `model.own_tags`)."""
        named = [t for r in self.rules.values() for t in r.tags] + list(
            self.engineering_ticket.tags
        )
        return frozenset(named)

    def cooldown_days(self, rule: str) -> float:
        own = self.rule(rule).cooldown_days
        return self.lifecycle.cooldown_days if own is None else own


def load_rules(path: Path | None = None) -> EscalationConfig:
    """Read and validate a rules YAML file (the shipped default when `path` is None)."""
    source = Path(path) if path is not None else DEFAULT_RULES_FILE
    raw = read_yaml(
        source,
        what="escalation rules file",
        variable="PULSEHUB_RULES_FILE",
        error=EscalationConfigError,
    )
    if not isinstance(raw, dict):
        raise EscalationConfigError(f"{source}: expected a mapping with a 'rules' key at the top")
    try:
        config = EscalationConfig.model_validate(raw)
    except ValidationError as exc:
        raise EscalationConfigError(describe_error(source, exc)) from None
    log.debug("loaded %s escalation rules from %s", len(config.rules), source)
    return config


def describe_error(source: Path, exc: ValidationError) -> str:
    """One line per problem: file, dotted key, what is wrong and how to fix it."""
    lines = [f"{source}: invalid escalation rules"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden" and len(err["loc"]) == 1:
            known = ", ".join(EscalationConfig.model_fields)
            fix = (
                f"remove it or check its spelling (sections: {known}; the engineering ticket "
                "section, named after the helpdesk before, is `engineering_ticket:`)"
            )
        elif err["type"] == "extra_forbidden":
            fix = "remove it or check its spelling"
        elif err["type"] == "missing":
            fix = "add it"
        else:
            fix = "change the value"
        lines.append(f"  {key}: {err['msg']} — {fix}")
    return "\n".join(lines)
