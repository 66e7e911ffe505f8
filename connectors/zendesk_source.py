"""The `zendesk` entry point: its options, the zenpy client, the connector.

Options are the PULSEHUB_ZENDESK__* settings (the same keys in a configured source's
`options`); the runtime adds `allowed_tags`, the ticket tags pulsehub may change.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.base import Connector, SourceConfig
from connectors.errors import ConfigError
from connectors.loopback import vendor_session
from connectors.options import parse_options

FIX = "fix the source's options (the keys of PULSEHUB_ZENDESK__*, .env.example)"


class ZendeskSettings(BaseModel):
    """How to reach one Zendesk account and its export budget."""

    model_config = ConfigDict(extra="forbid")

    subdomain: str | None = None
    email: str | None = None
    token: SecretStr | None = None
    oauth_token: SecretStr | None = None
    loopback_url: str | None = None
    escalation_group_id: int | None = None
    export_requests_per_minute: int = Field(
        10, ge=1, description="incremental export budget: 10/min, 30 with the High Volume add-on"
    )
    timeout_s: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.subdomain and (self.token or self.oauth_token))


class ZendeskOptions(ZendeskSettings):
    """The settings plus what the runtime wires in."""

    allowed_tags: list[str] | None = Field(
        None, description="the only ticket tags writes may add or remove (None: any)"
    )


def build(config: SourceConfig) -> Connector:
    """The `zendesk` entry point: client and export limiter made, nothing sent yet."""
    from connectors.zendesk import ZendeskConnector
    from connectors.zendesk_transport import WindowLimiter

    options = parse_options(ZendeskOptions, config.options, FIX)
    return ZendeskConnector(
        build_zendesk(options),
        name=config.name,
        export_limiter=WindowLimiter(options.export_requests_per_minute, 60.0),
        allowed_tags=options.allowed_tags,
    )


def build_zendesk(cfg: ZendeskSettings) -> Any:
    """A zenpy.Zenpy with token or OAuth auth and the production retry adapter on both schemes
    (urllib3 re-sends reads only: see `connectors.zendesk_transport.adapter_kwargs`)."""
    from zenpy import Zenpy

    from connectors.zendesk_transport import adapter_kwargs

    if not cfg.configured:
        raise ConfigError(
            "Zendesk is not configured: set PULSEHUB_ZENDESK__SUBDOMAIN and PULSEHUB_ZENDESK__EMAIL + "
            "PULSEHUB_ZENDESK__TOKEN (or PULSEHUB_ZENDESK__OAUTH_TOKEN)"
        )
    session = vendor_session(cfg.loopback_url, adapter_kwargs())
    auth: dict[str, Any] = (
        {"email": cfg.email, "token": cfg.token.get_secret_value()}
        if cfg.token
        else {"oauth_token": cfg.oauth_token.get_secret_value() if cfg.oauth_token else None}
    )
    return Zenpy(subdomain=cfg.subdomain, session=session, timeout=cfg.timeout_s, **auth)
