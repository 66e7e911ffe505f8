"""The customer-success operations config (YAML, validated): onboarding phases, the handoff
checklist and the workload model. A bad file fails at start-up naming the file, key and fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.config_files import read_yaml
from connectors.errors import ConfigError

DEFAULT_CSOPS_FILE = Path(__file__).with_name("default_csops.yaml")
Op = Literal["present", ">=", "<=", ">", "<", "==", "in"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    """One condition over a snapshot signal or an account field."""

    signal: str | None = None
    field: str | None = None
    op: Op = "present"
    value: Any = None

    @model_validator(mode="after")
    def _one_source(self) -> Criterion:
        if (self.signal is None) == (self.field is None):
            raise ValueError("name exactly one of `signal` or `field`")
        if self.op != "present" and self.value is None:
            raise ValueError(f"op {self.op!r} needs a `value`")
        if self.op == "in" and not isinstance(self.value, list):
            raise ValueError("op 'in' needs a list `value`")
        return self

    @property
    def label(self) -> str:
        name = self.signal or self.field
        return f"{name} {self.op}" + ("" if self.op == "present" else f" {self.value}")


class Phase(_Strict):
    name: str = Field(min_length=1, max_length=40)
    target_days: int | None = Field(default=None, ge=1)
    exit: list[Criterion] = Field(default_factory=list)
    exit_when: Literal["all", "any"] = "all"


class StalledTask(_Strict):
    due_days: int = Field(default=7, ge=0)
    priority: Literal["High", "Normal", "Low"] = "Normal"


class OnboardingConfig(_Strict):
    phases: list[Phase] = Field(min_length=1)
    stalled_task: StalledTask = StalledTask()
    backdate_days: int = Field(
        default=365,
        ge=0,
        description="a phase first seen is dated back to the contract start or go-live at most "
        "this far; longer-standing accounts count from the day they were first seen",
    )

    @model_validator(mode="after")
    def _last_has_no_exit(self) -> OnboardingConfig:
        names = [p.name for p in self.phases]
        if len(set(names)) != len(names):
            raise ValueError(f"phase names must be unique: {names}")
        if self.phases[-1].exit:
            raise ValueError(f"the last phase ({names[-1]}) is where accounts stay: no `exit`")
        if any(not p.exit for p in self.phases[:-1]):
            raise ValueError("every phase but the last needs `exit` criteria")
        return self


class ChecklistItem(_Strict):
    name: str = Field(min_length=1)
    field: str | None = None
    contact_roles: list[str] | None = None

    @model_validator(mode="after")
    def _one_check(self) -> ChecklistItem:
        if (self.field is None) == (self.contact_roles is None):
            raise ValueError(f"{self.name}: give exactly one of `field` or `contact_roles`")
        return self


class HandoffConfig(_Strict):
    implementation_stages: list[str] = Field(min_length=1)
    support_stages: list[str] = Field(min_length=1)
    checklist: list[ChecklistItem] = Field(min_length=1)
    task_due_days: int = Field(default=5, ge=0)
    escalation_window_days: int = Field(default=90, ge=1)


class AssignmentRule(_Strict):
    segment: str | None = None
    tier: str | None = None
    region: str | None = None
    owners: list[str] = Field(default_factory=list)


class WorkloadConfig(_Strict):
    tier_weights: dict[str, float] = Field(default_factory=dict)
    default_tier_weight: float = Field(default=1.0, ge=0)
    escalation_weight: float = Field(default=1.0, ge=0)
    arr_unit: float | None = Field(default=None, gt=0)
    target_load: float | None = Field(default=None, gt=0)
    tolerance: float = Field(default=0.25, ge=0, lt=1)
    assignment_rules: list[AssignmentRule] = Field(default_factory=list)
    write_owner: bool = False


class CsOpsConfig(_Strict):
    onboarding: OnboardingConfig
    handoff: HandoffConfig
    workload: WorkloadConfig = WorkloadConfig()


def load_csops(path: Path | str | None = None) -> CsOpsConfig:
    """Read and validate the operations file (the shipped default when `path` is None)."""
    source = Path(path) if path is not None else DEFAULT_CSOPS_FILE
    raw = read_yaml(source, what="customer-success operations file", variable="PULSEHUB_CSOPS_FILE")
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with onboarding, handoff, workload keys")
    try:
        return CsOpsConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"key '{'.'.join(str(p) for p in e['loc']) or '(top level)'}': {e['msg']}"
            for e in exc.errors()
        )
        raise ConfigError(
            f"{source}: invalid customer-success operations file ({problems}); fix the key, "
            f"or start from {DEFAULT_CSOPS_FILE}"
        ) from None
