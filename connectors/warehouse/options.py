"""The warehouse connector's options: validated over the shipped defaults (warehouse.yaml).

Every mistake is a ConfigError naming the key (`daily_usage.columns.day`, `url`, ...) and the
fix; where the source was configured (file or variable, item) is added by the caller.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from connectors.errors import ConfigError
from connectors.records import Record
from connectors.surveys import SurveyAnswer, Verbatims
from connectors.usage_records import UsageDay, UsageEvent, UsageWorkspace

DEFAULTS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).with_name("warehouse.yaml")).read_text(encoding="utf-8")
)
FIX = "fix the source's options (README 'Warehouse usage')"
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$"


@dataclass(frozen=True)
class Shape:
    """What one option block reads: its record, the fields it needs, the cursors it allows."""

    record: type[Record]
    required: frozenset[str]
    cursors: frozenset[str]

    @property
    def known(self) -> frozenset[str]:
        return frozenset(self.record.model_fields) | self.cursors


SHAPES = {
    "workspaces": Shape(UsageWorkspace, frozenset({"id"}), frozenset({"updated_at"})),
    "daily_usage": Shape(
        UsageDay, frozenset({"workspace_id", "day"}), frozenset({"day", "updated_at"})
    ),
    "events": Shape(
        UsageEvent,
        frozenset({"event", "time", "distinct_id", "workspace_id"}),
        frozenset({"time"}),
    ),
    "surveys": Shape(  # optional: NPS / CES / CSAT answers (connectors/surveys.py)
        SurveyAnswer,
        frozenset({"id", "kind", "score", "responded_at"}),
        frozenset({"responded_at", "updated_at"}),
    ),
}


class TableOptions(BaseModel):
    """Where one stream's rows are: a table (with its column mapping) or a query."""

    model_config = ConfigDict(extra="forbid")

    table: str | None = Field(None, pattern=IDENTIFIER)
    query: str | None = Field(None, min_length=1)
    columns: dict[str, str | None] = Field(default_factory=dict)
    cursor: str | None = None


class WarehouseOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: SecretStr | None = None
    url_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    workspaces: TableOptions
    daily_usage: TableOptions | None = None
    events: TableOptions | None = None
    surveys: TableOptions | None = None
    verbatims: Verbatims = "keep"
    page_size: int = Field(ge=1, le=100_000)
    lookback_days: int = Field(ge=0, le=366)
    history_days: int = Field(ge=1, le=3660)


@dataclass(frozen=True)
class StreamSource:
    """One stream's rows, resolved: `table` with `columns` (field -> column), or `query`
    whose columns are named as the fields; `cursor` is the field the pull follows."""

    key: str  # the option block it came from: workspaces, daily_usage, events or surveys
    table: str | None
    query: str | None
    columns: Mapping[str, str]
    cursor: str | None


@dataclass(frozen=True)
class WarehouseConfig:
    url: URL
    workspaces: StreamSource
    daily: StreamSource  # the daily_usage block, or the events block rolled up
    page_size: int
    lookback_days: int
    history_days: int
    surveys: StreamSource | None = None
    verbatims: Verbatims = "keep"

    @property
    def rolls_up_events(self) -> bool:
        return self.daily.key == "events"


def parse_options(
    options: Mapping[str, Any], environ: Mapping[str, str] = os.environ
) -> WarehouseConfig:
    """Validate a source's options over the defaults; a ConfigError names the bad key."""
    given = dict(options)
    merged = {k: v for k, v in DEFAULTS.items() if k not in SHAPES} | {
        k: v for k, v in given.items() if k not in SHAPES
    }
    for key in SHAPES:
        if key in given:
            merged[key] = _over_defaults(key, given[key])
    try:
        parsed = WarehouseOptions.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    if (parsed.daily_usage is None) == (parsed.events is None):
        raise ConfigError(f"keys 'daily_usage' / 'events': give exactly one of them — {FIX}")
    daily_key = "daily_usage" if parsed.daily_usage is not None else "events"
    daily = parsed.daily_usage or parsed.events
    assert daily is not None
    return WarehouseConfig(
        url=_url(parsed, environ),
        workspaces=_resolve("workspaces", parsed.workspaces),
        daily=_resolve(daily_key, daily),
        page_size=parsed.page_size,
        lookback_days=parsed.lookback_days,
        history_days=parsed.history_days,
        surveys=_resolve("surveys", parsed.surveys) if parsed.surveys is not None else None,
        verbatims=parsed.verbatims,
    )


def _over_defaults(key: str, block: Any) -> Any:
    """The block over its defaults: columns key by key in table mode, the cursor if unset."""
    if not isinstance(block, Mapping):
        return block  # validation names it
    default = DEFAULTS.get(key) or {}
    out = dict(block)
    if "table" in out:
        out["columns"] = {**default.get("columns", {}), **(out.get("columns") or {})}
    out.setdefault("cursor", default.get("cursor"))
    return out


def _resolve(key: str, block: TableOptions) -> StreamSource:
    shape = SHAPES[key]
    if (block.table is None) == (block.query is None):
        raise ConfigError(f"key {key!r}: give exactly one of 'table' and 'query' — {FIX}")
    if block.query is not None and block.columns:
        raise ConfigError(
            f"key '{key}.columns': only with 'table'; in a query alias the columns to the "
            f"field names ({', '.join(sorted(shape.known))}) — {FIX}"
        )
    unknown = sorted(set(block.columns) - shape.known)
    if unknown:
        raise ConfigError(
            f"key '{key}.columns.{unknown[0]}': not a field of {key} "
            f"(fields: {', '.join(sorted(shape.known))}) — {FIX}"
        )
    columns = {f: c for f, c in block.columns.items() if c}
    cursor = block.cursor or "time" if key == "events" else block.cursor
    if cursor is not None and cursor not in shape.cursors:
        raise ConfigError(
            f"key '{key}.cursor': {cursor!r} cannot order {key} "
            f"(one of: {', '.join(sorted(shape.cursors))}) — {FIX}"
        )
    needed = shape.required | ({cursor} if cursor else set())
    missing = sorted(needed - set(columns)) if block.table is not None else []
    if missing:
        raise ConfigError(
            f"key '{key}.columns.{missing[0]}': needed, but mapped to no column — "
            f"map it to the column that holds it — {FIX}"
        )
    return StreamSource(key, block.table, block.query, columns, cursor)


def _url(parsed: WarehouseOptions, environ: Mapping[str, str]) -> URL:
    if (parsed.url is None) == (parsed.url_env is None):
        raise ConfigError(
            "keys 'url' / 'url_env': give exactly one — the SQLAlchemy URL, or the name of "
            f"the environment variable that holds it (keeps its password out of files) — {FIX}"
        )
    if parsed.url_env is not None:
        if not environ.get(parsed.url_env):
            raise ConfigError(
                f"key 'url_env': the environment variable {parsed.url_env} is not set — "
                "set it to the warehouse's SQLAlchemy URL"
            )
        text, key = environ[parsed.url_env], "url_env"
    else:
        assert parsed.url is not None
        text, key = parsed.url.get_secret_value(), "url"
    try:
        return make_url(text)
    except ArgumentError:
        raise ConfigError(
            f"key {key!r}: not a SQLAlchemy URL (dialect+driver://user:password@host/database)"
            f" — {FIX}"
        ) from None


def _describe(exc: ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(p) for p in err["loc"]) or "<options>"
        problems.append(f"key {key!r}: {err['msg']}")
    return f"{'; '.join(problems)} — {FIX}"
