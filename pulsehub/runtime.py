"""Wiring: settings -> engine, clients, connectors and configs. No logic lives here."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from connectors.base import Connector
from connectors.http import redact
from connectors.salesforce_describe import DESCRIBE_KEY, DescribeStore
from connectors.webhook import WebhookNotifier
from model.db import make_engine, make_session_factory
from pulsehub import clients
from pulsehub.settings import ConfigError, Settings
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
from sync.writeback import LOGICAL_FIELDS, allowed_ticket_tags

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
        from escalation.config import load_rules
        from scoring.config import load_scorecard

        return JobConfig(
            scorecard=load_scorecard(self.settings.scorecard_file),  # a ConfigError names the file
            rules=load_rules(self.settings.rules_file),
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
        )

    @cached_property
    def connectors(self) -> dict[str, Any]:
        """A connector per configured system; unconfigured systems are left out of the run."""
        s = self.settings
        out: dict[str, Any] = dict(self.overrides)
        if "salesforce" not in out and s.salesforce.configured:
            from connectors.salesforce import SalesforceConnector
            from connectors.salesforce_fields import load_field_map

            fields = load_field_map(s.salesforce.fields_file)  # a bad file fails here, at start
            if s.writeback_policy == "reassert":  # read back what stands in pulsehub's fields
                owned = fields.write_fields().api_names(LOGICAL_FIELDS)
                extra = [f for f in owned if f not in fields.extra_fields]
                fields = fields.model_copy(update={"extra_fields": [*fields.extra_fields, *extra]})
            try:
                sf_client = clients.build_salesforce(s.salesforce)
            except ConfigError:
                raise
            except Exception as exc:  # login refused or unreachable: the other systems still run
                log.error("salesforce login failed: %s", redact(str(exc)))
                self.startup_errors.append(f"salesforce: login failed: {redact(str(exc))}")
            else:
                out["salesforce"] = SalesforceConnector(
                    sf_client,
                    fields,
                    budget_reserve=s.salesforce.budget_reserve,
                    describe_ttl=dt.timedelta(seconds=s.salesforce.describe_ttl_s),
                )
                kept = StoredMetadata(self.factory, DESCRIBE_KEY)  # the describe, in the db
                out["salesforce"].use_field_store(DescribeStore(kept))
        if "zendesk" not in out and s.zendesk.configured:
            from connectors.zendesk import ZendeskConnector
            from connectors.zendesk_transport import WindowLimiter

            out["zendesk"] = ZendeskConnector(
                clients.build_zendesk(s.zendesk),
                export_limiter=WindowLimiter(s.zendesk.export_requests_per_minute, 60.0),
                allowed_tags=sorted(allowed_ticket_tags()),
            )
        if "usage" not in out and s.usage.configured:
            from connectors.usage import UsageConnector

            out["usage"] = UsageConnector(clients.build_usage(s.usage))
        out.update(self.sources)
        if not out and not self.startup_errors:
            raise ConfigError(
                "no source is configured: set PULSEHUB_SALESFORCE__*, PULSEHUB_ZENDESK__*, "
                "PULSEHUB_USAGE__* or PULSEHUB_SOURCES(_FILE) (see README 'Configuration'), "
                "or run `pulsehub demo`"
            )
        return out

    @cached_property
    def sources(self) -> dict[str, Connector]:
        """The sources of PULSEHUB_SOURCES(_FILE), built by entry point; injected ones win."""
        from pulsehub.sources import build_configured, configured_sources

        s = self.settings
        built_in = {
            "salesforce": s.salesforce.configured,
            "zendesk": s.zendesk.configured,
            "usage": s.usage.configured,
        }
        taken = {
            name: f"PULSEHUB_{name.upper()}__*"
            for name, configured in built_in.items()
            if configured and name not in self.overrides
        }
        configured = configured_sources(s)
        return build_configured(
            [c for c in configured if c.config.name not in self.overrides], taken
        )

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
