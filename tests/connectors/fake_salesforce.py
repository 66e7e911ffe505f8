"""An in-memory Salesforce org answering the SOQL the connector sends (keyset form only)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

TS = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)"


def sf_ts(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _stored(row: dict[str, Any]) -> dt.datetime:
    """The stored modstamp: `_precise` (finer than rendered) when a test sets it."""
    return row.get("_precise") or _parse(row["SystemModstamp"])


class FakeOrg:
    """Rows per sObject; `on_query` hooks let a test change data between pages."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {}
        self.queries: list[str] = []
        self.on_query: Callable[[int], None] | None = None
        self.limit_info: str | None = None
        self.collection_results: list[Any] = []
        self.collection_requests: list[Any] = []
        self.bulk_jobs: dict[str, str] = {}
        self.account_fields = ["Id", "Name", "Health_Score__c", "Health_Status__c"]
        self.account_fields += ["Renewal_Risk__c"]
        self.read_only_fields: set[str] = set()
        self.describe_error: tuple[int, Any] | None = None  # (status, body) to fail describe
        self.describes = 0

    def select(self, soql: str, include_deleted: bool) -> list[dict[str, Any]]:
        m = re.match(r"SELECT (.+?) FROM (\w+)(.*)$", soql)
        assert m, soql
        columns, sobject, rest = m[1].split(", "), m[2], m[3]
        rows = [
            r for r in self.tables.get(sobject, []) if include_deleted or not r.get("IsDeleted")
        ]
        if k := re.search(
            rf"\(SystemModstamp > {TS} OR \(SystemModstamp = {TS} AND Id > '(\w*)'\)\)", rest
        ):
            ts, key = _parse(k[1]), k[3]
            rows = [r for r in rows if (_stored(r), r["Id"]) > (ts, key)]
        elif k := re.search(rf"SystemModstamp >= {TS}", rest):
            rows = [r for r in rows if _parse(r["SystemModstamp"]) >= _parse(k[1])]
        rows.sort(key=lambda r: (_stored(r), r["Id"]))
        if lim := re.search(r"LIMIT (\d+)", rest):
            rows = rows[: int(lim[1])]
        if columns == ["COUNT()"]:
            return rows
        return [{"attributes": {"type": sobject}} | {c: r.get(c) for c in columns} for r in rows]

    def handler(self, request: requests.PreparedRequest) -> tuple[int, Any, dict[str, str]]:
        url = urlsplit(request.url or "")
        headers = {"Sforce-Limit-Info": self.limit_info} if self.limit_info else {}
        if url.path.endswith(("/query/", "/queryAll/")):
            soql = parse_qs(url.query)["q"][0]
            self.queries.append(soql)
            if self.on_query:
                self.on_query(len(self.queries))
            rows = self.select(soql, url.path.endswith("/queryAll/"))
            records = [] if "COUNT()" in soql else rows
            return 200, {"totalSize": len(rows), "done": True, "records": records}, headers
        if url.path.endswith("/composite/sobjects") or "/composite/sobjects/" in url.path:
            import json

            payload = json.loads(request.body or b"{}")
            self.collection_requests.append(payload)
            reply = self.collection_results.pop(0)
            if isinstance(reply, tuple):  # (status, error body)
                return reply[0], reply[1], headers
            return 200, reply, headers
        if url.path.endswith("/sobjects/Account/describe"):
            self.describes += 1
            if self.describe_error is not None:
                return self.describe_error[0], self.describe_error[1], headers
            fields = [
                {"name": n, "updateable": n not in self.read_only_fields}
                for n in self.account_fields
            ]
            return 200, {"fields": fields}, headers
        if url.path.endswith("/sobjects/Account/deleted/"):
            q = parse_qs(url.query)
            self.queries.append(f"DELETED {q['start'][0]} {q['end'][0]}")
            deleted = [{"id": "001D", "deletedDate": "2024-03-01T12:00:00.000+0000"}]
            return 200, {"deletedRecords": deleted, "latestDateCovered": q["end"][0]}, headers
        return self.bulk(request, url.path, headers)

    def bulk(self, request: requests.PreparedRequest, path: str, headers: dict[str, str]):
        import json

        if path.endswith("/jobs/query") and request.method == "POST":
            body = json.loads(request.body or b"{}")
            self.bulk_jobs["750J1"] = body["query"]
            self.queries.append("BULK " + body["operation"] + ": " + body["query"])
            return 200, {"id": "750J1", "state": "UploadComplete"}, headers
        if path.endswith("/jobs/query/750J1"):
            return 200, {"id": "750J1", "state": "JobComplete"}, headers
        if path.endswith("/jobs/query/750J1/results"):
            soql = self.bulk_jobs["750J1"]
            rows = [
                {k: v for k, v in r.items() if k != "attributes"} for r in self.select(soql, True)
            ]
            query = parse_qs(urlsplit(request.url or "").query)
            offset = int(query.get("locator", ["0"])[0])
            size = int(query["maxRecords"][0])
            chunk = rows[offset : offset + size]
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["Id"])
            writer.writeheader()
            for r in chunk:
                writer.writerow(
                    {
                        k: ("" if v is None else str(v).lower() if isinstance(v, bool) else v)
                        for k, v in r.items()
                    }
                )
            more = offset + size < len(rows)
            headers = headers | {
                "Sforce-Locator": str(offset + size) if more else "null",
                "Sforce-NumberOfRecords": str(len(chunk)),
            }
            return 200, out.getvalue(), headers
        return 404, [{"errorCode": "NOT_FOUND", "message": path}], headers
