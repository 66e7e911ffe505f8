"""Retention definitions and cost rates: validated YAML (a bad file names file, key and fix)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.config_files import read_yaml
from connectors.errors import ConfigError

DEFAULT_PATH = Path(__file__).with_name("retention.yaml")
VARIABLE = "PULSEHUB_RETENTION_FILE"


class RetentionConfigError(ConfigError):
    """The retention file is unreadable or invalid."""


class Renewals(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    grace_days: int = Field(30, ge=0, le=365)
    default_term_months: int = Field(12, ge=1, le=120)
    new_business_types: frozenset[str] = frozenset({"New Business", "New Customer"})
    renewal_types: frozenset[str] = frozenset({"Renewal"})
    expansion_types: frozenset[str] = frozenset(
        {"Expansion", "Upsell", "Add-On", "Upgrade", "Cross-Sell"}
    )
    contraction_types: frozenset[str] = frozenset({"Contraction", "Downgrade", "Downsell"})


class CostRates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = "USD"
    support_hourly: float = Field(45.0, ge=0)
    minutes_per_ticket: float = Field(12.0, ge=0)
    minutes_per_reply: float = Field(6.0, ge=0)
    escalation_cost: float = Field(400.0, ge=0)
    csm_hourly: float = Field(70.0, ge=0)
    minutes_per_csm_touch: float = Field(30.0, ge=0)


class RetentionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    renewals: Renewals = Renewals()
    cost_rates: CostRates = CostRates()


def load_retention_config(path: Path | None = None) -> RetentionConfig:
    """Read and validate the retention file (None: the shipped default)."""
    path = path or DEFAULT_PATH
    raw = read_yaml(path, what="retention file", variable=VARIABLE, error=RetentionConfigError)
    if raw is None:
        return RetentionConfig()
    if not isinstance(raw, dict):
        raise RetentionConfigError(
            f"{path}: top level must be a mapping — start from {DEFAULT_PATH}"
        )
    try:
        return RetentionConfig.model_validate(raw)
    except ValidationError as exc:
        lines = [f"invalid retention file {path}:"]
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            fix = {"extra_forbidden": "remove it or fix its spelling"}.get(
                err["type"], f"fix the value (the default is in {DEFAULT_PATH.name})"
            )
            lines.append(f"  {key}: {err['msg']} — {fix}")
        raise RetentionConfigError("\n".join(lines)) from None
