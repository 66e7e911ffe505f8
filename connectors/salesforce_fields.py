"""Which Salesforce fields hold what: the org-specific field mapping, loaded from YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from connectors.config_files import read_yaml
from connectors.errors import ConfigError
from connectors.write_fields import FieldRule, WriteFields

DEFAULT_PATH = Path(__file__).with_name("salesforce_fields.yaml")

REASONS = {"items": 3, "max_chars": 1000}
# logical write-back field -> how this org stores it (the shipped YAML says the same)
DEFAULT_WRITABLE: dict[str, dict[str, Any]] = {
    "health_score": {"api": "Health_Score__c", "digits": 0},
    "health_band": {"api": "Health_Status__c", "case": "label"},
    "health_trend": {"api": "Health_Trend__c", "digits": 1},
    "health_reasons": {"api": "Health_Reasons__c", **REASONS},
    "renewal_risk": {"api": "Renewal_Risk__c", "scale": 100, "digits": 1},
    "renewal_risk_level": {"api": "Renewal_Risk_Level__c", "case": "label"},
    "renewal_risk_drivers": {"api": "Renewal_Risk_Drivers__c", **REASONS},
    "synced_at": {"api": "Pulsehub_Synced_At__c"},
    "onboarding_phase": {"api": "Onboarding_Phase__c", "max_chars": 40},
}

# vendor-neutral account attribute -> Account field (the handoff checklist and go-live read them)
DEFAULT_ATTRIBUTES: dict[str, str] = {
    "success_plan": "Success_Plan__c",
    "objectives": "Success_Objectives__c",
    "go_live_date": "Go_Live_Date__c",
    "implementation_notes": "Implementation_Notes__c",
    "implementation_owner": "Implementation_Owner__c",
}


class SalesforceFieldMap(BaseModel):
    """Logical account attributes -> the org's API field names, plus the write allow-list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    arr: str | None = "ARR__c"
    tier: str | None = "Tier__c"
    segment: str | None = "Segment__c"
    lifecycle_stage: str | None = "Lifecycle_Stage__c"
    customer_since: str | None = "Customer_Since__c"
    renewal_date: str | None = "Renewal_Date__c"
    # the account's helpdesk organization and usage workspace (earlier keys still read)
    organization_id: str | None = Field(
        default="Zendesk_Org_Id__c",
        validation_alias=AliasChoices("organization_id", "zendesk_org_id"),
    )
    workspace_id: str | None = Field(
        default="Usage_Workspace_Id__c",
        validation_alias=AliasChoices("workspace_id", "usage_workspace_id"),
    )
    parent: str = "ParentId"
    csm: str = "OwnerId"
    contact_role: str | None = "Role__c"
    contact_champion: str | None = "Is_Champion__c"
    opportunity_term: str | None = Field(  # None here: an org's own file that predates the
        default=None,  # key keeps working; the shipped file names the sandbox's field
        description="Opportunity field holding the contract term in months (null: none, 12)",
    )
    owner_lookup: bool = Field(
        default=True, description="query Owner.Name/Owner.Email through the relationship"
    )
    extra_fields: list[str] = Field(default_factory=list)
    account_attributes: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ATTRIBUTES),
        description="more Account fields kept on the account under vendor-neutral names",
    )
    writable_fields: dict[str, FieldRule] = Field(
        default_factory=lambda: {k: FieldRule(**v) for k, v in DEFAULT_WRITABLE.items()},
        description="the only Account fields pulsehub writes: logical field -> API name, rendering",
    )
    task_key_field: str | None = Field(
        default=None,
        description="Task external id field: set it to upsert tasks (idempotent) instead of "
        "create + key-marker check",
    )

    @field_validator("extra_fields")
    @classmethod
    def _api_names(cls, names: list[str]) -> list[str]:
        _check_api_names(names)
        return names

    @field_validator("account_attributes")
    @classmethod
    def _attribute_api_names(cls, names: dict[str, str]) -> dict[str, str]:
        _check_api_names(list(names.values()))
        return names

    @field_validator("writable_fields")
    @classmethod
    def _writable_api_names(cls, rules: dict[str, FieldRule]) -> dict[str, FieldRule]:
        _check_api_names([r.api for r in rules.values()])
        return rules

    def write_fields(self) -> WriteFields:
        """The account fields pulsehub writes, by logical name: the write allow-list."""
        return WriteFields(fields=self.writable_fields)

    def mapped(self) -> dict[str, str]:
        """Logical name -> API name for every mapped custom attribute that is configured."""
        names = (
            "arr",
            "tier",
            "segment",
            "lifecycle_stage",
            "customer_since",
            "renewal_date",
            "organization_id",
            "workspace_id",
        )
        return {n: api for n in names if (api := getattr(self, n))}

    def account_select(self) -> list[str]:
        """The SELECT list of the account stream, deduplicated, in a stable order."""
        fields = ["Id", "Name", "Website", self.csm, self.parent]
        if self.owner_lookup:
            fields += ["Owner.Name", "Owner.Email"]
        fields += list(self.mapped().values()) + self.extra_fields
        fields += list(self.account_attributes.values())
        fields += ["IsDeleted", "SystemModstamp"]
        return list(dict.fromkeys(fields))


def _check_api_names(names: list[str]) -> None:
    bad = [n for n in names if not n.replace("_", "").replace(".", "").isalnum()]
    if bad:
        raise ValueError(f"not Salesforce API field names: {bad}")


def load_field_map(path: Path | str | None = None) -> SalesforceFieldMap:
    """Load and validate a field map; a bad file fails with its name, the key and the fix."""
    source = Path(path) if path else DEFAULT_PATH
    variable = "PULSEHUB_SALESFORCE__FIELDS_FILE"
    data: Any = read_yaml(source, what="Salesforce field map", variable=variable) or {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping of field names — start from {DEFAULT_PATH}"
        )
    try:
        return SalesforceFieldMap.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"key '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"{source}: invalid Salesforce field map ({problems}); "
            f"fix the key or remove it to use the default"
        ) from None
