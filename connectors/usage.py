"""Usage connector: workspaces and daily aggregates (JSON pages), raw events (NDJSON stream)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import ValidationError

from connectors.base import Kind, Stream, StreamRead, Writer
from connectors.http import RetryPolicy, call, raise_for
from connectors.records import Page, Record, validate_rows
from connectors.surveys import SurveyAnswer, Verbatims, minimize
from connectors.usage_records import UsageDay, UsageEvent, UsageUser, UsageWorkspace

logger = logging.getLogger(__name__)
LOGIN_EVENTS = frozenset({"login", "Logged In", "$login", "Sign In", "session_start"})


@dataclass(frozen=True)
class UsageStream:
    """A stream declared as data: path, model, key; all are `meta.next_cursor` paginated."""

    name: str
    path: str
    model: type[Record]
    primary_key: str
    dated: bool = False  # filtered by start_date; without a change cursor, re-read `lookback_days`
    verbatims: tuple[str, ...] = ()  # free-text keys minimized by the `verbatims` setting


SPECS = {
    s.name: s
    for s in (
        UsageStream("workspaces", "/usage/v1/workspaces", UsageWorkspace, "id"),
        UsageStream("daily_usage", "/usage/v1/daily", UsageDay, "workspace_id", dated=True),
        UsageStream("surveys", "/usage/v1/surveys", SurveyAnswer, "id", verbatims=("comment",)),
        UsageStream("users", "/usage/v1/users", UsageUser, "id"),
    )
}
# What sync pulls: workspaces (matched to accounts) whole every reconcile; daily rows from
# `history_days` back on the first pull; survey responses (NPS, CES, CSAT) changed since.
STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream("workspaces", "workspace", "id", "updated_at", reconcile=True),
        Stream("daily_usage", "usage_day", "workspace_id", "day", dated=True),
        Stream("surveys", "survey_response", "id", "updated_at"),
        # who has access (quarterly access reviews); whole every reconcile, so a removed
        # user is marked deleted
        Stream("users", "app_user", "id", "updated_at", reconcile=True),
    )
}


class UsageConnector:
    """Pulls the usage API through an injected httpx.Client (base_url and auth already set)."""

    kind: Kind = "usage"
    title = "Usage API"
    streams: Mapping[str, Stream] = STREAMS
    writer: Writer | None = None  # reads only

    def __init__(
        self,
        client: httpx.Client,
        *,
        name: str = "usage",
        page_size: int = 1000,
        lookback_days: int = 3,
        initial_days: int = 365,
        export_auth: httpx.Auth | None = None,
        policy: RetryPolicy = RetryPolicy(),
        surveys: bool = True,
        verbatims: Verbatims = "keep",
    ) -> None:
        self.name = name
        # an API without the survey endpoint declares no survey stream (option `surveys`)
        self.streams = {k: s for k, s in STREAMS.items() if surveys or k != "surveys"}
        self.verbatims: Verbatims = verbatims
        self.client = client
        self.page_size = page_size
        self.lookback_days = lookback_days
        self.initial_days = initial_days
        self.export_auth = export_auth
        self.policy = policy
        self.calls = 0

    def api_usage(self) -> tuple[int, int] | None:
        """The usage API reports no request quota."""
        return None

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        def send() -> dict[str, Any]:
            self.calls += 1
            response = self.client.get(path, params=params, timeout=self.policy.timeout)
            raise_for(response)
            body: dict[str, Any] = response.json()
            return body

        return call(send, self.policy)

    def prepare_pulls(self, reads: Sequence[StreamRead]) -> None:
        """Nothing to do: the usage API has no batch read."""

    def pull(
        self, stream: str, cursor: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Page[Any]]:
        """Pages after `cursor`, which is JSON state (see `_next_state`).

        When the API answers `meta.updated_until`, the next pull asks `updated_since` it and
        gets only rows changed since — late rows for any past day included. An API without
        it is re-read from `lookback_days` before the newest day seen (dated streams).
        """
        spec = SPECS[stream]
        state: dict[str, Any] = json.loads(cursor) if cursor else {}
        if not cursor and spec.dated:  # the API requires a start date: default to a year back
            first = start or dt.datetime.now(dt.UTC) - dt.timedelta(days=self.initial_days)
            state["start_date"] = first.date().isoformat()
        newest: str | None = state.get("max_day")
        until: str | None = state.get("until")
        while True:
            params: dict[str, Any] = {"limit": self.page_size}
            if spec.dated and state.get("start_date"):
                params["start_date"] = state["start_date"]
            if state.get("updated_since"):
                params["updated_since"] = state["updated_since"]
            if state.get("after"):
                params["cursor"] = state["after"]
            body = self._get(spec.path, params)
            rows = [_rename(r) for r in body.get("data") or []]
            if spec.verbatims:
                rows = [minimize(r, self.verbatims, spec.verbatims) for r in rows]
            records, rejected = validate_rows(
                spec.model, rows, source=self.name, stream=spec.name, id_key=spec.primary_key
            )
            if spec.dated:
                days = [r.day.isoformat() for r in records if isinstance(r, UsageDay)]
                newest = max([newest, *days]) if newest else max(days, default=None)
            meta = body.get("meta") or {}
            # the listing's watermark is its first page's: changes after it are read next time
            until = until or _text(meta.get("updated_until"))
            more = bool(meta.get("has_more")) and bool(rows)
            if more:
                state = {**state, "after": meta.get("next_cursor"), "max_day": newest}
                if until:
                    state["until"] = until
            else:
                state = self._next_state(spec, state, newest, until)
            yield Page(records=records, rejected=rejected, cursor=json.dumps(state))
            if not more:
                return

    def _next_state(
        self, spec: UsageStream, state: dict[str, Any], newest: str | None, until: str | None
    ) -> dict[str, Any]:
        """After a complete listing: changes since its watermark, else the look-back restart."""
        if until:
            return {"updated_since": until}
        if not spec.dated:
            return {}
        return {"start_date": self._restart_from(newest) or state.get("start_date")}

    def _restart_from(self, newest: str | None) -> str | None:
        if newest is None:
            return None
        day = dt.date.fromisoformat(newest) - dt.timedelta(days=self.lookback_days)
        return day.isoformat()

    def export_events(self, from_date: dt.date, to_date: dt.date) -> Iterator[UsageEvent]:
        """Raw events from the NDJSON export, parsed line by line as they stream in.

        Opening the export (up to its response headers) runs under the retry policy, so a
        429 or 5xx before any event arrived is waited out; a failure mid-stream is raised.
        """
        params = {"from_date": from_date.isoformat(), "to_date": to_date.isoformat()}
        auth = self.export_auth or httpx.USE_CLIENT_DEFAULT

        def open_stream() -> httpx.Response:
            self.calls += 1
            request = self.client.build_request(
                "GET", "/api/2.0/export", params=params, timeout=self.policy.timeout
            )
            response = self.client.send(request, auth=auth, stream=True)
            if response.status_code >= 300:
                response.read()
                response.close()
                raise_for(response)
            return response

        response = call(open_stream, self.policy)
        bad = 0
        try:
            for line in response.iter_lines():
                if not line.strip():
                    continue
                try:
                    yield UsageEvent.from_export(json.loads(line))
                except (ValueError, ValidationError) as exc:
                    bad += 1
                    logger.warning("skipping malformed export line: %s", str(exc)[:200])
        finally:
            response.close()
        if bad:
            logger.warning("export %s..%s: %s malformed lines skipped", from_date, to_date, bad)

    @staticmethod
    def rollup_events(events: Iterable[UsageEvent]) -> list[UsageDay]:
        """Per (workspace, UTC day) aggregates of raw events (the module's `rollup_events`)."""
        return rollup_events(events)


@dataclass
class _DayTotals:
    users: set[str] = field(default_factory=set)
    features: set[str] = field(default_factory=set)
    logins: int = 0
    feature_events: int = 0


def rollup_events(events: Iterable[UsageEvent]) -> list[UsageDay]:
    """Aggregate raw events per (workspace, UTC day), deduplicated on $insert_id."""
    seen: set[int] = set()
    totals: dict[tuple[str, dt.date], _DayTotals] = {}
    for event in events:
        marker = hash((event.insert_id, event.distinct_id, event.event, event.time))
        if marker in seen:
            continue
        seen.add(marker)
        day_totals = totals.setdefault((event.workspace_id, event.time.date()), _DayTotals())
        day_totals.users.add(event.distinct_id)
        if event.event in LOGIN_EVENTS:
            day_totals.logins += 1
        if event.feature:
            day_totals.feature_events += 1
            day_totals.features.add(event.feature)
    return [
        UsageDay(
            workspace_id=workspace,
            day=day,
            active_users=len(t.users),
            logins=t.logins,
            feature_events=t.feature_events,
            features_used=len(t.features),
        )
        for (workspace, day), t in sorted(totals.items())
    ]


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _rename(row: dict[str, Any]) -> dict[str, Any]:
    """Wire key `date` of daily rows is the record's `day`."""
    if not isinstance(row, dict):
        return row
    return {("day" if k == "date" else k): v for k, v in row.items()}
