"""The `usage` entry point: its options, the usage API's httpx client, the connector.

Options are the PULSEHUB_USAGE__* settings (the same keys in a configured source's `options`).
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.base import Connector, SourceConfig
from connectors.errors import ConfigError
from connectors.options import parse_options
from connectors.surveys import Verbatims

FIX = "fix the source's options (the keys of PULSEHUB_USAGE__*, .env.example)"


class UsageSettings(BaseModel):
    """Where the product usage API is and its bearer token."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(None, description="base URL of the usage API")
    token: SecretStr | None = Field(None, description="bearer token for /usage/v1")
    timeout_s: float = 30.0
    surveys: bool = Field(True, description="the API serves /usage/v1/surveys (NPS, CES, CSAT)")
    verbatims: Verbatims = Field(
        "keep", description="survey comments: keep | redact (emails, phones) | drop (no text)"
    )

    @property
    def configured(self) -> bool:
        return bool(self.base_url and self.token)


def build(config: SourceConfig) -> Connector:
    """The `usage` entry point: the client made, nothing sent yet."""
    from connectors.usage import UsageConnector

    options = parse_options(UsageSettings, config.options, FIX)
    return UsageConnector(
        build_usage(options),
        name=config.name,
        surveys=options.surveys,
        verbatims=options.verbatims,
    )


def build_usage(cfg: UsageSettings) -> httpx.Client:
    """An httpx client on the usage API's base URL with its bearer token."""
    if not cfg.configured or cfg.token is None or cfg.base_url is None:
        raise ConfigError(
            "usage API is not configured: set PULSEHUB_USAGE__BASE_URL and PULSEHUB_USAGE__TOKEN"
        )
    return httpx.Client(
        base_url=cfg.base_url,
        headers={"Authorization": f"Bearer {cfg.token.get_secret_value()}"},
        timeout=httpx.Timeout(cfg.timeout_s, connect=10.0),
    )
