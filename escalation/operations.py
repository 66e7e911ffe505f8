"""CS-operations config (renewal reviews for every renewal, RCA within N hours) and the text
of the tasks and reminders they create. Pure: the stage that acts is sync/operations.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.config_files import read_yaml
from connectors.errors import ConfigError

DEFAULT_OPERATIONS_FILE = Path(__file__).with_name("default_operations.yaml")
VARIABLE = "PULSEHUB_OPERATIONS_FILE"


class RenewalReviewConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    days_ahead: int = Field(default=90, ge=1, le=730)
    due_days: int = Field(default=14, ge=0, le=365)
    at_risk_bands: list[str] = Field(default_factory=lambda: ["yellow", "red"])
    steps: list[str] = Field(default_factory=list)
    at_risk_steps: list[str] = Field(default_factory=list)


class RcaConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    due_hours: float = Field(default=72, gt=0, le=24 * 60)
    done_tags: list[str] = Field(default_factory=lambda: ["rca_done"], min_length=1)
    reminder: str = "Root-cause analysis is due by {due_at}; tag the ticket `{done_tag}` when done."


class AccessReviewConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = True
    inactive_days: int = Field(default=90, ge=1, le=3650)
    admin_roles: list[str] = Field(default_factory=lambda: ["admin", "owner"])
    departure_markers: list[str] = Field(
        default_factory=lambda: ["left company", "no longer with", "former employee"]
    )
    due_days: int = Field(default=14, ge=0, le=365)
    steps: list[str] = Field(default_factory=list)


class OperationsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    renewal_review: RenewalReviewConfig = Field(default_factory=RenewalReviewConfig)
    rca: RcaConfig = Field(default_factory=RcaConfig)
    access_review: AccessReviewConfig = Field(default_factory=AccessReviewConfig)


def load_operations(path: Path | None = None) -> OperationsConfig:
    """Read and validate an operations YAML file (the shipped default when `path` is None);
    a bad file is a ConfigError naming the file, the key and the fix."""
    source = Path(path) if path is not None else DEFAULT_OPERATIONS_FILE
    raw = read_yaml(source, what="operations file", variable=VARIABLE, error=ConfigError)
    try:
        return OperationsConfig.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(
            f"{source}: invalid operations config — {problems} (fix the key, or unset {VARIABLE} "
            "to use the shipped default)"
        ) from None


def renewal_task_text(
    config: RenewalReviewConfig,
    *,
    name: str,
    renewal_date: dt.date,
    arr: float | None,
    snapshot: Any | None,
) -> tuple[str, str]:
    """(subject, description) of a renewal review: the steps, then the risk assessment."""
    band = snapshot.band if snapshot is not None else "unscored"
    subject = f"Renewal review: {name} renews {renewal_date.isoformat()} ({band})"[:255]
    steps = list(config.steps)
    if band in config.at_risk_bands:
        steps += config.at_risk_steps
    lines = [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    lines += ["", "Risk assessment", f"- renewal date: {renewal_date.isoformat()}"]
    if arr is not None:
        lines.append(f"- ARR: {arr:,.0f}")
    if snapshot is None:
        lines.append("- health: not scored yet")
    else:
        score = "-" if snapshot.score is None else f"{snapshot.score:.0f}"
        lines.append(f"- health: {score}/100, {snapshot.band} (as of {snapshot.as_of})")
        if snapshot.renewal_risk is not None:
            level = snapshot.risk_level or "-"
            lines.append(f"- renewal risk: {snapshot.renewal_risk:.0%} ({level})")
        drivers = [_text(d) for d in (snapshot.risk_drivers or [])][:5]
        reasons = [_text(r) for r in (snapshot.reasons or [])][:5]
        if drivers:
            lines += ["- risk drivers:", *(f"    - {d}" for d in drivers)]
        if reasons:
            lines += ["- health reasons:", *(f"    - {r}" for r in reasons)]
    return subject, "\n".join(lines)[:32000]


def rca_reminder_text(config: RcaConfig, due_at: dt.datetime) -> str:
    return config.reminder.format(
        due_hours=f"{config.due_hours:g}",
        due_at=due_at.strftime("%Y-%m-%d %H:%M UTC"),
        done_tag=config.done_tags[0],
    )


def _text(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("text", "reason", "label", "name", "driver"):
            if item.get(key):
                return str(item[key])
        return ", ".join(f"{k}: {v}" for k, v in item.items())
    return str(item)


def quarter_of(day: dt.date) -> str:
    """'2026Q4'."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"
