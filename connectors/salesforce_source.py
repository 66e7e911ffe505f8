"""The `salesforce` entry point: its options, the simple_salesforce client, the connector.

Options are the PULSEHUB_SALESFORCE__* settings (the same keys in a configured source's
`options`); the runtime adds `read_back_fields` under the "reassert" write-back policy.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.base import Connector, SourceConfig
from connectors.errors import AuthError, ConfigError
from connectors.http import redact
from connectors.loopback import vendor_session
from connectors.options import parse_options

FIX = "fix the source's options (the keys of PULSEHUB_SALESFORCE__*, .env.example)"


class SalesforceSettings(BaseModel):
    """How to reach one Salesforce org and how hard to use it."""

    model_config = ConfigDict(extra="forbid")

    instance_url: str | None = Field(
        None, description="https://yourorg.my.salesforce.com; with session_id: direct mode"
    )
    session_id: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    consumer_key: str | None = None
    consumer_secret: SecretStr | None = None
    domain: str = Field("login", description="login, test, or a My Domain such as acme.my")
    api_version: str = "59.0"
    loopback_url: str | None = Field(
        None, description="send every https call to this http base URL (the sandbox); never in prod"
    )
    fields_file: Path | None = Field(None, description="YAML field mapping; default shipped")
    budget_reserve: int = Field(
        1000, ge=0, description="stop pulling when fewer daily API calls than this are left"
    )
    describe_ttl_s: int = Field(
        86_400,
        ge=0,
        description="reuse the stored Account describe (field check before writes) this long",
    )
    timeout_s: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.session_id or self.username or self.consumer_key)


class SalesforceOptions(SalesforceSettings):
    """The settings plus what the runtime wires in."""

    read_back_fields: list[str] = Field(
        default_factory=list,
        description="logical write-back fields whose API fields every pull also reads",
    )


# plain dicts from json's C decoder: simple-salesforce's default builds an OrderedDict per
# JSON object, which decoded a page of records 2.9x slower (dicts keep the order anyway)
CLIENT_OPTIONS: dict[str, Any] = {"object_pairs_hook": None}


def build(config: SourceConfig) -> Connector:
    """The `salesforce` entry point: field map loaded, logged in (a refusal is an AuthError)."""
    from connectors.salesforce import SalesforceConnector
    from connectors.salesforce_fields import load_field_map

    options = parse_options(SalesforceOptions, config.options, FIX)
    fields = load_field_map(options.fields_file)  # a bad file fails here, at start
    if options.read_back_fields:  # read back what stands in pulsehub's fields
        owned = fields.write_fields().api_names(options.read_back_fields)
        extra = [f for f in owned if f not in fields.extra_fields]
        fields = fields.model_copy(update={"extra_fields": [*fields.extra_fields, *extra]})
    try:
        client = build_salesforce(options)
    except ConfigError:
        raise
    except Exception as exc:  # login refused or unreachable: the other sources still run
        raise AuthError(f"login failed: {redact(str(exc))}") from None
    return SalesforceConnector(
        client,
        fields,
        name=config.name,
        budget_reserve=options.budget_reserve,
        describe_ttl=dt.timedelta(seconds=options.describe_ttl_s),
    )


def build_salesforce(cfg: SalesforceSettings) -> Any:
    """A simple_salesforce.Salesforce for direct session, SOAP, OAuth password or client-credentials login."""
    from simple_salesforce import Salesforce

    if not cfg.configured:
        raise ConfigError(
            "Salesforce is not configured: set PULSEHUB_SALESFORCE__INSTANCE_URL and "
            "PULSEHUB_SALESFORCE__SESSION_ID, or PULSEHUB_SALESFORCE__USERNAME/PASSWORD/SECURITY_TOKEN"
        )
    common: dict[str, Any] = {
        "session": vendor_session(cfg.loopback_url),
        "version": cfg.api_version,
        **CLIENT_OPTIONS,
    }
    if cfg.session_id:
        if not cfg.instance_url:
            raise ConfigError("PULSEHUB_SALESFORCE__INSTANCE_URL is required with SESSION_ID")
        return Salesforce(
            session_id=cfg.session_id.get_secret_value(), instance_url=cfg.instance_url, **common
        )
    if cfg.consumer_key and cfg.consumer_secret and not cfg.username:
        return Salesforce(
            consumer_key=cfg.consumer_key,
            consumer_secret=cfg.consumer_secret.get_secret_value(),
            domain=cfg.domain,
            **common,
        )
    if not (cfg.username and cfg.password):
        raise ConfigError("PULSEHUB_SALESFORCE__USERNAME needs PULSEHUB_SALESFORCE__PASSWORD")
    login: dict[str, Any] = {
        "username": cfg.username,
        "password": cfg.password.get_secret_value(),
        "domain": cfg.domain,
    }
    if cfg.consumer_key and cfg.consumer_secret:
        login |= {
            "consumer_key": cfg.consumer_key,
            "consumer_secret": cfg.consumer_secret.get_secret_value(),
        }
    else:
        login["security_token"] = (
            cfg.security_token.get_secret_value() if cfg.security_token else ""
        )
    return Salesforce(**login, **common)
