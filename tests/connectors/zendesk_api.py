"""A scripted fake Zendesk API served to the real zenpy client, for the connector's tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

from connectors.http import RetryPolicy
from connectors.zendesk import ZendeskConnector
from tests.connectors.conftest import fake_zenpy

BASE = "https://acme.zendesk.com/api/v2"
Reply = tuple[int, Any, dict[str, str]]


class Routes:
    """(method, path) -> list of replies served in order (the last one repeats)."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], list[Reply | Callable[[Any], Reply]]] = {}
        self.seen: list[requests.PreparedRequest] = []

    def add(self, method: str, path: str, *replies: Reply | Callable[[Any], Reply]) -> None:
        self.replies.setdefault((method, path), []).extend(replies)

    def __call__(self, request: requests.PreparedRequest) -> Reply:
        self.seen.append(request)
        path = urlsplit(request.url or "").path.removeprefix("/api/v2/")
        queue = self.replies.get((request.method or "", path))
        if not queue:
            return 404, {"error": "RecordNotFound", "description": path}, {}
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(request) if callable(reply) else reply

    def params(self, i: int) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.seen[i].url or "").query)


def ticket(n: int, updated: str = "2024-01-02T00:00:00Z", **extra: Any) -> dict[str, Any]:
    return {
        "id": n,
        "subject": f"T{n}",
        "status": "open",
        "priority": "high",
        "tags": ["a"],
        "organization_id": 77,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": updated,
        **extra,
    }


def make(routes: Routes, policy: RetryPolicy, **kwargs: Any) -> ZendeskConnector:
    zenpy, _ = fake_zenpy(routes)
    return ZendeskConnector(zenpy, policy=policy, **kwargs)
