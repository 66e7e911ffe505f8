"""Which HubSpot properties hold what: the portal-specific property map, loaded from YAML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.config_files import read_yaml
from connectors.errors import ConfigError
from connectors.write_fields import FieldRule, WriteFields

DEFAULT_PATH = Path(__file__).with_name("hubspot_fields.yaml")
VARIABLE = "the hubspot source's fields_file option"
_NAME = re.compile(r"[a-z0-9_]+")  # HubSpot internal property names

REASONS: dict[str, Any] = {"items": 3, "max_chars": 1000}
DEFAULT_WRITABLE: dict[str, dict[str, Any]] = {
    "health_score": {"api": "pulsehub_health_score", "digits": 0},
    "health_band": {"api": "pulsehub_health_band", "case": "label"},
    "health_trend": {"api": "pulsehub_health_trend", "digits": 1},
    "health_reasons": {"api": "pulsehub_health_reasons", **REASONS},
    "renewal_risk": {"api": "pulsehub_renewal_risk", "scale": 100, "digits": 1},
    "renewal_risk_level": {"api": "pulsehub_renewal_risk_level", "case": "label"},
    "renewal_risk_drivers": {"api": "pulsehub_renewal_risk_drivers", **REASONS},
    "synced_at": {"api": "pulsehub_synced_at"},
}
ATTRIBUTES = (
    "arr",
    "tier",
    "segment",
    "lifecycle_stage",
    "customer_since",
    "renewal_date",
    "organization_id",
    "workspace_id",
)


class HubSpotFieldMap(BaseModel):
    """Logical account attributes -> company properties, deal types, and the write allow-list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arr: str | None = "arr"
    tier: str | None = "tier"
    segment: str | None = "segment"
    lifecycle_stage: str | None = "cs_lifecycle_stage"
    customer_since: str | None = "customer_since"
    renewal_date: str | None = "renewal_date"
    organization_id: str | None = "zendesk_org_id"
    workspace_id: str | None = "usage_workspace_id"
    parent: str | None = "hs_parent_company_id"
    owner: str = "hubspot_owner_id"
    extra_properties: list[str] = Field(default_factory=list)
    contact_role: str | None = "cs_role"
    contact_champion: str | None = "cs_champion"
    deal_types: dict[str, str] = Field(
        default_factory=lambda: {
            "newbusiness": "New Business",
            "existingbusiness": "Expansion",
            "renewal": "Renewal",
        },
        description='dealtype value -> deal type; "Renewal" marks the renewals',
    )
    won_stages: list[str] = Field(default_factory=lambda: ["closedwon"])
    lost_stages: list[str] = Field(default_factory=lambda: ["closedlost"])
    writable_fields: dict[str, FieldRule] = Field(
        default_factory=lambda: {k: FieldRule(**v) for k, v in DEFAULT_WRITABLE.items()}
    )
    task_key_property: str = "pulsehub_task_key"

    @field_validator("extra_properties")
    @classmethod
    def _names(cls, names: list[str]) -> list[str]:
        _check(names)
        return names

    @field_validator("writable_fields")
    @classmethod
    def _writable(cls, rules: dict[str, FieldRule]) -> dict[str, FieldRule]:
        _check([r.api for r in rules.values()])
        return rules

    def write_fields(self) -> WriteFields:
        """The company properties pulsehub writes, by logical name."""
        return WriteFields(fields=self.writable_fields)

    def mapped(self) -> dict[str, str]:
        """Logical attribute -> property, for every configured one."""
        return {n: prop for n in ATTRIBUTES if (prop := getattr(self, n))}

    def company_properties(self) -> list[str]:
        base = ["name", "domain", "website", self.owner, *([self.parent] if self.parent else [])]
        props = base + list(self.mapped().values()) + self.extra_properties
        return list(dict.fromkeys([*props, "hs_lastmodifieddate", "createdate"]))

    def contact_properties(self) -> list[str]:
        extra = [p for p in (self.contact_role, self.contact_champion) if p]
        return [
            "email",
            "firstname",
            "lastname",
            "jobtitle",
            *extra,
            "lastmodifieddate",
            "createdate",
        ]


DEAL_PROPERTIES = [
    "dealname",
    "amount",
    "dealstage",
    "closedate",
    "dealtype",
    "pipeline",
    "hs_is_closed",
    "hs_is_closed_won",
    "hs_lastmodifieddate",
]


def _check(names: list[str]) -> None:
    bad = [n for n in names if not _NAME.fullmatch(n)]
    if bad:
        raise ValueError(f"not HubSpot internal property names (a-z, 0-9, _): {bad}")


def load_field_map(path: Path | str | None = None) -> HubSpotFieldMap:
    """Load and validate a property map; a bad file fails naming the file, the key and the fix."""
    source = Path(path) if path else DEFAULT_PATH
    data: Any = read_yaml(source, what="HubSpot property map", variable=VARIABLE) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of names — start from {DEFAULT_PATH}")
    try:
        return HubSpotFieldMap.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"key '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"{source}: invalid HubSpot property map ({problems}); "
            "fix the key or remove it to use the default"
        ) from None
