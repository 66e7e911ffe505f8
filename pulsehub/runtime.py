"""Wiring: settings -> engine, connectors (each by entry point), configs. No logic here."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector
from connectors.errors import ConnectorError
from connectors.salesforce import SalesforceConnector
from connectors.salesforce_describe import DescribeStore, describe_key
from connectors.webhook import WebhookNotifier
from model.db import make_engine, make_session_factory
from pulsehub import clients
from pulsehub.settings import ConfigError, Settings
from pulsehub.sources import (
    ConfiguredSource,
    build_one,
    built_in_sources,
    check_names,
    configured_sources,
    primary_first,
    wired,
)
from sync.deadband import DeadBand
from sync.field_cache import StoredMetadata
from sync.jobs import (
    JobConfig,
    drain_job,
    reconcile_job,
    refresh_job,
    sync_job,
    weekly_digest_job,
)
from sync.pipeline import RunReport

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    overrides: dict[str, Any] = field(default_factory=dict)
    startup_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sources  # noqa: B018 - a bad configured source fails here, at start-up

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    @cached_property
    def job_config(self) -> JobConfig:
        """Load and validate every YAML config now, so a bad file fails at start-up."""
        from csops.config import load_csops
        from escalation.config import load_rules
        from escalation.operations import load_operations
        from escalation.voice_config import load_voice
        from scoring.config import load_scorecard

        return JobConfig(
            scorecard=load_scorecard(self.settings.scorecard_file),  # a ConfigError names the file
            rules=load_rules(self.settings.rules_file),
            operations=load_csops(self.settings.csops_file),
            reviews=load_operations(self.settings.operations_file),
            escalation_group_id=self.settings.zendesk.escalation_group_id,
            notifier=WebhookNotifier(
                clients.build_notifier(),
                digest_url=(
                    d.slack_webhook_url.get_secret_value()
                    if (d := self.settings.digest).slack_webhook_url
                    else None
                ),
            ),
            mailer=self._mailer(),
            writeback_policy=self.settings.writeback_policy,
            deadband=DeadBand(**self.settings.writeback_deadband.model_dump()),
            backfill_weeks=self.settings.backfill_weeks,
            voice=load_voice(self.settings.voice_file),
            incremental=not self.settings.full_score,
        )

    @cached_property
    def connectors(self) -> dict[str, Any]:
        """A connector per configured source, injected ones first; a source whose login failed
        is left out of the run (and its error is the run's)."""
        out: dict[str, Any] = dict(self.overrides)
        for source in self.source_configs:
            name = source.config.name
            built = self.sources[name] if name in self.sources else self._build(source)
            if built is not None:
                out[name] = built
        out = primary_first(out, self.source_configs)
        if not out and not self.startup_errors:
            raise ConfigError(
                "no source is configured: set PULSEHUB_SALESFORCE__*, PULSEHUB_ZENDESK__*, "
                "PULSEHUB_USAGE__* or PULSEHUB_SOURCES(_FILE) (see README 'Configuration'), "
                "or run `pulsehub demo`"
            )
        return out

    @cached_property
    def source_configs(self) -> list[ConfiguredSource]:
        """Every configured source but the injected ones: built-in blocks first, names unique."""
        s = self.settings
        listed = [*built_in_sources(s), *configured_sources(s)]
        kept = [wired(c, s.writeback_policy) for c in listed if c.config.name not in self.overrides]
        check_names(kept)
        return kept

    @cached_property
    def sources(self) -> dict[str, Connector | None]:
        """The PULSEHUB_SOURCES(_FILE) sources, built at start-up since building validates their
        options (the built-in blocks were validated with the settings; their logins wait for a
        run). None: the source could not connect."""
        return {
            source.config.name: self._build(source)
            for source in self.source_configs
            if not source.built_in
        }

    def _build(self, source: ConfiguredSource) -> Connector | None:
        """The source's connector by entry point; one that cannot connect (a refused login)
        is recorded in `startup_errors` and the other sources still run."""
        name = source.config.name
        try:
            connector = build_one(source)
        except ConnectorError as exc:
            log.error("%s: %s", name, exc)
            self.startup_errors.append(f"{name}: {exc}")
            return None
        if isinstance(connector, SalesforceConnector):  # its describe, kept in the database
            kept = StoredMetadata(self.factory, describe_key(name))
            connector.use_field_store(DescribeStore(kept))
        return connector

    def sync(
        self,
        *,
        dry_run: bool = False,
        as_of: dt.date | None = None,
        kind: str = "sync",
        progress: Any = None,
    ) -> RunReport:
        return sync_job(
            self.factory,
            self.connectors,
            self.job_config,
            dry_run=dry_run,
            as_of=as_of,
            kind=kind,
            errors=self.startup_errors,
            progress=progress,
        )

    def reconcile(self) -> RunReport:
        return reconcile_job(self.factory, self.connectors, self.job_config)

    def refresh(self, account_id: int) -> RunReport:
        return refresh_job(self.factory, self.connectors, self.job_config, account_id)

    def drain(self) -> dict[str, Any]:
        return drain_job(self.factory, self.connectors, self.job_config)

    def digest(self, today: dt.date, owner: str | None = None) -> dict[str, Any]:
        return weekly_digest_job(self.factory, self.job_config, today, owner)

    def _mailer(self) -> Any:
        from connectors.email import EmailSender

        d = self.settings.digest
        if not d.email_configured:
            return None
        assert d.from_address is not None
        return EmailSender(clients.build_smtp(d), d.from_address)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
