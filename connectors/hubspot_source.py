"""The `hubspot` entry point: its options, the httpx client, the connector.

Configure it as a source, e.g. in PULSEHUB_SOURCES:
    [{"name": "hubspot", "connector": "hubspot", "options": {"token": "pat-na1-..."}}]
`token` is a private app's access token (scopes: crm.objects.companies.read/write,
crm.objects.deals.read, crm.objects.contacts.read, crm.objects.owners.read, and write access
to tasks).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.base import Connector, SourceConfig
from connectors.options import parse_options

FIX = "fix the hubspot source's options (keys: token, base_url, fields_file, ...)"
API_URL = "https://api.hubapi.com"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class HubSpotOptions(BaseModel):
    """How to reach one HubSpot portal and how hard to use it."""

    model_config = ConfigDict(extra="forbid")

    token: SecretStr = Field(description="the private app's access token (Bearer)")
    base_url: str = Field(API_URL, description="the API host; http only on loopback (sandbox)")
    fields_file: Path | None = Field(None, description="YAML property map; default shipped")
    budget_reserve: int = Field(
        1000, ge=0, description="stop when fewer daily API calls than this are left"
    )
    search_per_second: int = Field(
        4, ge=1, le=5, description="CRM search calls a second (HubSpot allows 5 per token)"
    )
    search_window: int = Field(
        10_000, ge=1, le=10_000, description="results one search pages through (HubSpot: 10,000)"
    )
    page_size: int = Field(200, ge=1, le=200, description="results per search page")
    overlap_s: int = Field(
        300, ge=0, description="a full read's cursor steps back this far (a list is no snapshot)"
    )
    timeout_s: float = 30.0
    read_back_fields: list[str] = Field(
        default_factory=list,
        description="logical write-back fields whose properties every pull also reads "
        "(added by pulsehub under the 'reassert' policy)",
    )

    @field_validator("base_url")
    @classmethod
    def _secure(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK):
            return url.rstrip("/")
        raise ValueError("must be an https URL (plain http only on this machine, the sandbox)")


def build(config: SourceConfig) -> Connector:
    """The `hubspot` entry point: property map loaded (a bad file fails here), nothing sent."""
    from connectors.http import RetryPolicy
    from connectors.hubspot import HubSpotConnector
    from connectors.hubspot_fields import load_field_map

    options = parse_options(HubSpotOptions, config.options, FIX)
    fields = load_field_map(options.fields_file)
    if options.read_back_fields:  # read back what stands in pulsehub's properties
        owned = fields.write_fields().api_names(options.read_back_fields)
        extra = [p for p in owned if p not in fields.extra_properties]
        fields = fields.model_copy(update={"extra_properties": [*fields.extra_properties, *extra]})
    return HubSpotConnector(
        build_client(options),
        fields,
        name=config.name,
        policy=RetryPolicy(timeout=options.timeout_s),
        budget_reserve=options.budget_reserve,
        search_per_second=options.search_per_second,
        search_window=options.search_window,
        page_size=options.page_size,
        overlap=dt.timedelta(seconds=options.overlap_s),
    )


def build_client(options: HubSpotOptions) -> httpx.Client:
    """The one client every call goes through: base URL, bearer token, timeout."""
    return httpx.Client(
        base_url=options.base_url,
        headers={"Authorization": f"Bearer {options.token.get_secret_value()}"},
        timeout=options.timeout_s,
    )
