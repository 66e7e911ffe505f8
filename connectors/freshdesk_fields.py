"""The Freshdesk field map (freshdesk_fields.yaml): company fields pulsehub writes, the CRM
link field, custom ticket statuses. A bad file fails at start-up naming the key and the fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.config_files import read_yaml
from connectors.errors import ConfigError
from connectors.options import describe_keys
from connectors.write_fields import WriteFields, parse_write_fields

FIELDS_PATH = Path(__file__).with_name("freshdesk_fields.yaml")
Status = Literal["open", "pending", "hold", "solved", "closed"]


class _Rest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    link_field: str = Field("crm_account_id", min_length=1)
    ticket_statuses: dict[int, Status] = Field(default_factory=dict)


class FreshdeskFieldMap(BaseModel):
    """What freshdesk_fields.yaml says."""

    model_config = ConfigDict(frozen=True)

    company_fields: WriteFields
    link_field: str = "crm_account_id"
    ticket_statuses: dict[int, str] = Field(default_factory=dict)


def load_field_map(path: Path | str | None = None) -> FreshdeskFieldMap:
    source = Path(path) if path else FIELDS_PATH
    data = read_yaml(source, what="Freshdesk field map", variable="the Freshdesk fields file")
    if not isinstance(data, dict) or not isinstance(data.get("company_fields"), dict):
        raise ConfigError(
            f"{source}: expected `company_fields:` mapping — start from {FIELDS_PATH}"
        )
    rest: dict[str, Any] = {k: v for k, v in data.items() if k != "company_fields"}
    try:
        parsed = _Rest.model_validate(rest)
    except ValidationError as exc:
        raise ConfigError(
            f"{source}: {describe_keys(exc, '<file>')} — keys are company_fields, link_field, "
            "ticket_statuses (status number -> open|pending|hold|solved|closed)"
        ) from None
    # a pulled company keeps its custom fields under organization_fields (what reassert reads)
    fields = parse_write_fields(
        data["company_fields"], source, "company_fields", "organization_fields"
    )
    return FreshdeskFieldMap(
        company_fields=fields,
        link_field=parsed.link_field,
        ticket_statuses=dict(parsed.ticket_statuses),
    )
