"""Runtime settings: one pydantic-settings class, env prefix PULSEHUB_, nested with `__`.

The built-in sources' blocks (salesforce, zendesk, usage) are their connectors' own option
models: PULSEHUB_ZENDESK__TOKEN is option `token` of the source named `zendesk`.

Examples: PULSEHUB_DATABASE_URL, PULSEHUB_SALESFORCE__INSTANCE_URL, PULSEHUB_ZENDESK__TOKEN.
Secrets are SecretStr: they print as '**********' and never reach logs or the database.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from connectors.base import SourceConfig
from connectors.errors import ConfigError
from connectors.salesforce_source import SalesforceSettings
from connectors.usage_source import UsageSettings
from connectors.zendesk_source import ZendeskSettings

ENV_PREFIX = "PULSEHUB_"


class DigestSettings(BaseModel):
    """Where the weekly owner digest goes: email over SMTP and/or a Slack incoming webhook."""

    model_config = ConfigDict(extra="forbid")

    smtp_host: str | None = Field(None, description="SMTP server for the digest emails")
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(True, description="upgrade the connection with STARTTLS")
    from_address: str | None = Field(None, description="From: of the digest emails")
    slack_webhook_url: SecretStr | None = Field(
        None, description="a Slack incoming webhook: one message per owner"
    )

    @property
    def email_configured(self) -> bool:
        return bool(self.smtp_host and self.from_address)


class DeadBandSettings(BaseModel):
    """Largest move of a written-back number that is not written (0: write every change)."""

    model_config = ConfigDict(extra="forbid")

    score: float = Field(3.0, ge=0, le=100, description="health score points")
    risk: float = Field(5.0, ge=0, le=100, description="renewal-risk percentage points")
    trend: float = Field(5.0, ge=0, le=100, description="28-day trend points")
    text: float = Field(
        0.2, ge=0, le=1, description="numbers in reason texts: largest relative move not written"
    )
    percent: float = Field(
        2.0, ge=0, le=100, description="percentages in reason texts: largest move in points"
    )
    risk_share: float = Field(
        0.35, ge=0, le=1,
        description="renewal risk: also hold a move within this share of the risk written, "
        "unless the risk level changes",
    )  # fmt: skip
    driver: float = Field(
        0.1, ge=0, le=0.15,
        description="risk drivers: hysteresis on the listing threshold, in log-odds of push "
        "(at most 0.15: drivers are kept that far under it)",
    )  # fmt: skip
    follow: bool = Field(
        True,
        description="reasons and risk drivers are rewritten with the score and the risk they "
        "explain, never alone (except when they appear or are cleared)",
    )


class SourceSettings(BaseModel):
    """One configured source: its name, the connector entry point that builds it, its options."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="the source its rows are stored under: lower case, digits and _",
    )
    connector: str = Field(
        min_length=1, description="an entry point of the pulsehub.connectors group"
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="that connector's own settings"
    )
    primary: bool = Field(
        default=False,
        description="the primary source of its kind (with two crm sources: the one whose "
        "accounts are the canonical ones); default: the first listed of its kind",
    )

    def config(self) -> SourceConfig:
        return SourceConfig(self.name, self.connector, self.options)


class Settings(BaseSettings):
    """Everything pulsehub reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore", env_file=None
    )

    database_url: str = "sqlite:///var/pulsehub.db"
    broker_url: str = "redis://127.0.0.1:6379/0"
    salesforce: SalesforceSettings = SalesforceSettings()
    zendesk: ZendeskSettings = ZendeskSettings()
    usage: UsageSettings = UsageSettings()
    digest: DigestSettings = DigestSettings()
    scorecard_file: Path | None = None
    sources_file: Path | None = Field(
        None, description="YAML list of sources built by connector entry points"
    )
    sources: list[SourceSettings] = Field(
        default_factory=list,
        repr=False,  # options may hold a database URL with its password
        description="JSON list of sources built by connector entry points (after the file's)",
    )
    rules_file: Path | None = None
    retention_file: Path | None = None  # retention definitions and cost rates (None: shipped)
    csops_file: Path | None = Field(
        None, description="onboarding phases, handoff checklist, CSM workload (YAML)"
    )
    voice_file: Path | None = (
        None  # feedback themes, routing, thresholds (escalation/default_voice.yaml)
    )
    operations_file: Path | None = None  # renewal reviews, RCA (escalation/default_operations.yaml)
    schedule_file: Path | None = None
    webhook_secret: SecretStr | None = None
    web_tokens: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="API/login tokens: {name: token}; names ending in ':operator' may act",
    )
    writeback_policy: Literal["own", "reassert"] = Field(
        "own",
        description="hand edits of pulsehub's fields: 'own' leaves them, 'reassert' overwrites",
    )
    writeback_deadband: DeadBandSettings = DeadBandSettings()
    backfill_weeks: int = Field(
        12, ge=0, le=104, description="first sync: weekly snapshots replayed from history (0: none)"
    )
    full_score: bool = Field(
        False,
        description="re-score and re-evaluate every account each run (default: only accounts "
        "whose inputs changed since the day's snapshot; the day's first run scores everyone)",
    )
    lock_ttl_s: int = 3600
    distributed: bool = Field(
        False, description="split scheduled syncs across workers: per source, then by account range"
    )
    score_range_size: int = Field(
        5000, ge=1, description="distributed mode: accounts (by id) per scoring task"
    )
    log_level: str = "INFO"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, v: str) -> str:
        from model.db import normalize_database_url

        return normalize_database_url(v)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; turn validation errors into one ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_settings_error(exc)) from None
    except SettingsError as exc:  # a JSON-valued variable that is not JSON
        raise ConfigError(describe_unparsable(exc)) from None


def describe_settings_error(exc: ValidationError) -> str:
    lines = ["invalid settings (environment):"]
    for err in exc.errors():
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(
            f"  {_variable(err['loc'])}: {msg} — fix the variable or unset it to use the default"
        )
    return "\n".join(lines)


def _variable(loc: tuple[int | str, ...]) -> str:
    """The environment variable behind an error location, plus the key inside its value."""
    parts = [str(p) for p in loc]
    field = Settings.model_fields.get(parts[0]) if parts else None
    annotation = field.annotation if field else None
    nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
    n = 2 if nested and len(parts) > 1 else 1
    rest = ".".join(parts[n:])
    env = ENV_PREFIX + "__".join(p.upper() for p in parts[:n])
    return f"{env} (key {rest!r})" if rest else env


def describe_unparsable(exc: SettingsError) -> str:
    """pydantic-settings names the field, not the variable: say which one and what it takes."""
    field = re.search(r'field "(\w+)"', str(exc))
    env = ENV_PREFIX + field[1].upper() if field else f"a {ENV_PREFIX}* variable"
    cause = exc.__cause__
    why = f" ({cause})" if isinstance(cause, ValueError) else ""
    example = JSON_EXAMPLES.get(env, "")
    return f"{env}: not valid JSON{why} — give a JSON value{example} or unset it"


JSON_EXAMPLES = {
    f"{ENV_PREFIX}WEB_TOKENS": """ such as '{"cs-team": "TOKEN", "ops:operator": "TOKEN2"}'""",
    f"{ENV_PREFIX}SOURCES": """ such as '[{"name": "usage", "connector": "warehouse", """
    """"options": {...}}]'""",
}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
