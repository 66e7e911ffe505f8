"""The `freshdesk` entry point: its options, the httpx client, the connector.

Options (a configured source's `options`, e.g. in PULSEHUB_SOURCES_FILE):

    - name: freshdesk
      connector: freshdesk
      options: {domain: acme, api_key: ..., requester_email: cs-ops@acme.example}

`domain` is the account's subdomain (acme for acme.freshdesk.com); the API key is sent as
the Basic-auth user name with `X` as the password. The runtime adds `allowed_tags`, the
ticket tags pulsehub may change.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.base import Connector, SourceConfig
from connectors.errors import ConfigError
from connectors.options import parse_options

FIX = "fix the freshdesk source's options (domain, api_key, requester_email, ...)"


class FreshdeskOptions(BaseModel):
    """How to reach one Freshdesk account, and what pulsehub may write there."""

    model_config = ConfigDict(extra="forbid")

    domain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="acme for acme.freshdesk.com")
    api_key: SecretStr
    requester_email: str | None = Field(
        None, description="requester of the escalation tickets pulsehub opens (an agent's email)"
    )
    escalation_group_id: int | None = Field(None, description="group escalation tickets go to")
    fields_file: Path | None = Field(None, description="a copy of freshdesk_fields.yaml to use")
    loopback_url: str | None = Field(None, description="sandbox/testing only: send to this URL")
    timeout_s: float = Field(30.0, gt=0)
    allowed_tags: list[str] | None = Field(
        None, description="the only ticket tags writes may add or remove (None: any)"
    )


def build(config: SourceConfig) -> Connector:
    """The `freshdesk` entry point: client and field map made, nothing sent yet."""
    from connectors.freshdesk import FreshdeskConnector
    from connectors.freshdesk_fields import load_field_map

    options = parse_options(FreshdeskOptions, config.options, FIX)
    return FreshdeskConnector(
        build_client(options),
        name=config.name,
        field_map=load_field_map(options.fields_file),
        allowed_tags=options.allowed_tags,
        requester_email=options.requester_email,
        escalation_group_id=options.escalation_group_id,
    )


def build_client(options: FreshdeskOptions) -> httpx.Client:
    """An httpx client on `https://<domain>.freshdesk.com/api/v2/` with the API key."""
    from connectors.freshdesk_transport import LoopbackTransport

    if not options.api_key.get_secret_value():
        raise ConfigError(f"the Freshdesk api_key is empty — {FIX}")
    transport = LoopbackTransport(options.loopback_url) if options.loopback_url else None
    return httpx.Client(
        base_url=f"https://{options.domain}.freshdesk.com/api/v2/",
        auth=httpx.BasicAuth(options.api_key.get_secret_value(), "X"),
        timeout=httpx.Timeout(options.timeout_s, connect=10.0),
        transport=transport,
    )
