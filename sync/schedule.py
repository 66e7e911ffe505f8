"""The beat schedule as data: YAML validated by pydantic, errors naming file, key and fix."""

from __future__ import annotations

from pathlib import Path

from celery.schedules import crontab
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from connectors.config_files import read_yaml
from connectors.errors import ConfigError

DEFAULT_SCHEDULE = Path(__file__).with_name("schedule.yaml")
JOBS = {"incremental_sync", "drain_outbox", "full_reconcile", "weekly_digest"}


class ScheduleError(ConfigError):
    """A schedule file problem, worded with the file, the key and the fix."""


CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


class Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    every: int | None = Field(None, ge=10, description="seconds between runs")
    cron: str | None = Field(
        None, description='a standard five-field cron expression in UTC, e.g. "30 2 * * *"'
    )
    enabled: bool = True

    @model_validator(mode="after")
    def _one_trigger(self) -> Entry:
        if (self.every is None) == (self.cron is None):
            raise ValueError('give exactly one of `every` (seconds) or `cron` ("30 2 * * *")')
        if self.cron is not None:
            self.trigger()  # Celery's own parser: a bad field fails here, at load
        return self

    def trigger(self) -> crontab | float:
        """What beat runs on: Celery's crontab for `cron`, seconds for `every`."""
        if self.cron is None:
            return float(self.every or 0)
        fields = self.cron.split()
        if len(fields) != len(CRON_FIELDS):
            raise ValueError(
                f"cron {self.cron!r} has {len(fields)} fields; give five "
                '(minute hour day-of-month month day-of-week), e.g. "30 2 * * *"'
            )
        minute, hour, day_of_month, month_of_year, day_of_week = fields
        try:
            return crontab(
                minute=minute,
                hour=hour,
                day_of_month=day_of_month,
                month_of_year=month_of_year,
                day_of_week=day_of_week,
            )
        except ValueError as exc:
            raise ValueError(f"cron {self.cron!r}: {exc}") from None


def load_schedule(path: Path | None = None) -> dict[str, Entry]:
    path = path or DEFAULT_SCHEDULE
    raw = read_yaml(path, what="schedule", variable="PULSEHUB_SCHEDULE_FILE", error=ScheduleError)
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise ScheduleError(f"{path}: expected a mapping of job name -> entry")
    out: dict[str, Entry] = {}
    for name, body in raw.items():
        if name not in JOBS:
            raise ScheduleError(
                f"{path}: unknown job {name!r}; known jobs: {', '.join(sorted(JOBS))}"
            )
        try:
            out[name] = Entry.model_validate(body)
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join([name, *map(str, err["loc"])])
            raise ScheduleError(f"{path}: {key}: {err['msg']}") from None
    return out
