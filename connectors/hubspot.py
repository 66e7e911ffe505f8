"""HubSpot CRM connector: companies, deals and contacts (owners for names), written back
through batch updates of company properties and owner tasks.

Why httpx on the REST API rather than the official `hubspot-api-client`: the house sends
every call through one injected client and one classify-then-retry policy
(`connectors.http`); the official client is a large generated package with its own urllib3
retry and exception types per API group, which would have to be unwrapped call by call, and
it adds nothing here that eight endpoints need. Tests point the same `httpx.Client` at the
sandbox over loopback.

Pulls. A stream with no cursor (the first sync, and the nightly reconcile) reads the whole
object list (`GET /crm/v3/objects/{type}`, 100 a page, associations inline); its pages carry
no cursor until the last, which resumes `overlap` before the newest modification seen (a
list is no snapshot). With a cursor, each page is a new CRM search from the last modified
time delivered (`GTE`, sorted ascending): records at exactly that millisecond already
delivered are skipped by id, and only a run of records sharing one millisecond is walked
with `after` offsets. So no search pages towards HubSpot's 10,000-result window (a
record edited mid-pull moves behind the cursor instead of shifting offsets), and a tie run
longer than the window is refused with a clear error rather than silently cut. Search
answers carry no associations: a page's deal or contact companies come from one v4
association batch read. Archived (deleted) objects leave the search; the reconcile's full
list marks them deleted.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from connectors.base import Kind, Stream, StreamRead, Writer
from connectors.errors import Fatal
from connectors.http import RetryPolicy
from connectors.hubspot_fields import HubSpotFieldMap
from connectors.hubspot_records import Owners, company, contact, deal
from connectors.hubspot_streams import (
    LIST_LIMIT,
    SEARCH_LIMIT,
    SEARCH_WINDOW,
    SPECS,
    STREAMS,
    HsStream,
    Position,
    modified_value,
    to_ms,
)
from connectors.hubspot_transport import HubSpotTransport
from connectors.records import Page, validate_rows

logger = logging.getLogger(__name__)


class HubSpotConnector:
    """Pulls companies, deals and contacts; writes company properties and owner tasks."""

    kind: Kind = "crm"
    title = "HubSpot"
    streams: Mapping[str, Stream] = STREAMS

    def __init__(
        self,
        client: httpx.Client,
        fields: HubSpotFieldMap = HubSpotFieldMap(),
        *,
        name: str = "hubspot",
        policy: RetryPolicy = RetryPolicy(),
        budget_reserve: int = 1000,
        search_per_second: int = 4,
        search_window: int = SEARCH_WINDOW,
        page_size: int = SEARCH_LIMIT,
        overlap: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        from connectors.hubspot_writer import HubSpotOutboxWriter

        self.name = name
        self.fields = fields
        self.http = HubSpotTransport(
            client, policy, budget_reserve=budget_reserve, search_per_second=search_per_second
        )
        self.search_window = search_window
        self.page_size = min(page_size, SEARCH_LIMIT)
        self.overlap = overlap
        self.writer: Writer | None = HubSpotOutboxWriter(self.http, fields)

    @property
    def calls(self) -> int:
        return self.http.calls

    def api_usage(self) -> tuple[int, int] | None:
        """(used, total) of the app's daily calls, from the last rate-limit headers."""
        return self.http.daily

    def owners(self) -> Owners:
        """Owner id -> (name, email), every page of `/crm/v3/owners` (archived included)."""
        out: Owners = {}
        for archived in ("false", "true"):
            after: str | None = None
            while True:
                params = {"limit": 500, "archived": archived, **({"after": after} if after else {})}
                _, body = self.http.request("GET", "/crm/v3/owners", params=params)
                for o in body.get("results", []):
                    name = " ".join(n for n in (o.get("firstName"), o.get("lastName")) if n)
                    out[str(o["id"])] = (name or None, o.get("email"))
                after = ((body.get("paging") or {}).get("next") or {}).get("after")
                if not after:
                    break
        return out

    def prepare_pulls(self, reads: Sequence[StreamRead]) -> None:
        """Nothing to do: HubSpot's batch reads take ids, not cursors."""

    def pull(
        self, stream: str, state: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Page[Any]]:
        """Pages of `stream` changed after `state`; with neither state nor start, all of it."""
        spec = SPECS[stream]
        owners = self.owners() if stream == "companies" else {}
        if state is None and start is None:
            yield from self._pull_list(spec, owners)
            return
        if state is not None:
            position = Position.decode(state)
        else:
            assert start is not None
            position = Position(int(start.timestamp() * 1000))
        yield from self._pull_search(spec, position, owners)

    def _pull_list(self, spec: HsStream, owners: Owners) -> Iterator[Page[Any]]:
        params: dict[str, Any] = {
            "limit": LIST_LIMIT,
            "properties": ",".join(spec.properties(self.fields)),
        }
        if spec.associated:
            params["associations"] = "companies"
        newest: int | None = None
        pending: Page[Any] | None = None
        after: str | None = None
        while True:
            _, body = self.http.request(
                "GET",
                f"/crm/v3/objects/{spec.object_type}",
                params={**params, **({"after": after} if after else {})},
            )
            rows = body.get("results", [])
            if pending is not None:
                yield pending
            companies = {r["id"]: _inline_company(r) for r in rows} if spec.associated else {}
            pending = self._page(spec, rows, owners, companies, None)
            stamps = [m for r in rows if (m := to_ms(modified_value(r, spec))) is not None]
            newest = max([*stamps, *([newest] if newest else [])], default=None)
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                break
        resume = Position(newest - int(self.overlap.total_seconds() * 1000)) if newest else None
        yield pending.model_copy(update={"cursor": resume.encode() if resume else None})

    def _pull_search(
        self, spec: HsStream, position: Position, owners: Owners
    ) -> Iterator[Page[Any]]:
        offset = 0
        while True:
            if offset + self.page_size > self.search_window:
                raise Fatal(
                    f"{spec.name}: more than {self.search_window} records share "
                    f"{spec.modified} = {position.ms} ms; a search cannot page past its "
                    "window, so run a reconcile (full list read) instead",
                    code="SEARCH_WINDOW",
                )
            rows = self._search(spec, position.ms, offset)
            fresh = [
                r
                for r in rows
                if not (
                    to_ms(modified_value(r, spec)) == position.ms and str(r["id"]) in position.ids
                )
            ]
            before = position
            if fresh:
                companies = self._companies(spec, [r["id"] for r in fresh])
                delivered = [
                    (to_ms(modified_value(r, spec)) or position.ms, str(r["id"])) for r in fresh
                ]
                position = position.after(delivered)
                yield self._page(spec, fresh, owners, companies, position.encode())
            if len(rows) < self.page_size:
                return
            # still inside one millisecond's records: walk them by offset; else search anew
            offset = offset + self.page_size if position.ms == before.ms else 0

    def _search(self, spec: HsStream, ms: int, offset: int) -> list[dict[str, Any]]:
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": spec.modified, "operator": "GTE", "value": str(ms)}]}
            ],
            "sorts": [{"propertyName": spec.modified, "direction": "ASCENDING"}],
            "properties": spec.properties(self.fields),
            "limit": self.page_size,
            "after": str(offset),
        }
        _, answer = self.http.request(
            "POST", f"/crm/v3/objects/{spec.object_type}/search", json=body
        )
        rows: list[dict[str, Any]] = answer.get("results", [])
        return rows

    def _companies(self, spec: HsStream, ids: list[str]) -> dict[str, str | None]:
        """Record id -> its (first) company, by one v4 association batch read."""
        if not spec.associated or not ids:
            return {}
        path = f"/crm/v4/associations/{spec.object_type}/companies/batch/read"
        _, body = self.http.request("POST", path, json={"inputs": [{"id": i} for i in ids]})
        out: dict[str, str | None] = {}
        for result in body.get("results", []):
            targets = sorted(result.get("to", []), key=_primary_first)
            if targets:
                out[str(result["from"]["id"])] = str(targets[0]["toObjectId"])
        return out

    def _page(
        self,
        spec: HsStream,
        rows: list[dict[str, Any]],
        owners: Owners,
        companies: Mapping[str, str | None],
        cursor: str | None,
    ) -> Page[Any]:
        if spec.name == "companies":
            logical = [company(r, self.fields, owners) for r in rows]
        elif spec.name == "deals":
            logical = [deal(r, self.fields, companies.get(str(r.get("id")))) for r in rows]
        else:
            logical = [contact(r, self.fields, companies.get(str(r.get("id")))) for r in rows]
        records, rejected = validate_rows(
            spec.model, logical, source=self.name, stream=spec.name, id_key="id"
        )
        return Page(records=records, rejected=rejected, cursor=cursor)


def _inline_company(row: dict[str, Any]) -> str | None:
    found = ((row.get("associations") or {}).get("companies") or {}).get("results") or []
    return str(found[0]["id"]) if found else None


def _primary_first(target: dict[str, Any]) -> int:
    labels = {t.get("label") for t in target.get("associationTypes", [])}
    return 0 if "Primary" in labels else 1
