"""Generic webhooks (e.g. Slack incoming webhooks) as a notifier connector.

Its writer posts JSON: `notify` to the URL each item names, `digest_slack` to the configured
digest webhook. Every post goes through the shared classification and retry policy
(connectors/http.py): a 429 is waited out (nothing was posted), while a 5xx or a lost answer
is left to the outbox's retry, as a re-sent message could post twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx

from connectors.base import Kind, Stream, StreamRead, WriteItem, WriteKind, Writer
from connectors.errors import ConnectorError, Retriable
from connectors.http import RetryPolicy, call, classify, redact
from connectors.records import Page, WriteResult

NOTIFY, DIGEST_SLACK = "notify", "digest_slack"


class WebhookNotifier:
    """A `Connector` of kind notifier: no streams, one writer posting JSON over `client`."""

    name = "webhook"
    kind: Kind = "notifier"
    title = "Webhook"

    def __init__(
        self,
        client: httpx.Client,
        *,
        digest_url: str | None = None,
        policy: RetryPolicy = RetryPolicy(),
    ) -> None:
        self.client, self.digest_url, self.policy = client, digest_url, policy
        self.calls = 0
        kinds = [WriteKind(NOTIFY, 1)] + ([WriteKind(DIGEST_SLACK, 1)] if digest_url else [])
        self._kinds = {k.name: k for k in kinds}

    @property
    def streams(self) -> Mapping[str, Stream]:
        return {}

    @property
    def writer(self) -> Writer:
        return self

    @property
    def kinds(self) -> Mapping[str, WriteKind]:
        return self._kinds

    def api_usage(self) -> tuple[int, int] | None:
        return None

    def prepare_pulls(self, reads: Sequence[StreamRead]) -> None:
        """Nothing to do: a notifier pulls nothing."""

    def pull(
        self, stream: str, state: str | None, *, start: dt.datetime | None = None
    ) -> Iterator[Page[Any]]:
        raise KeyError(f"a notifier has no stream {stream!r}")

    def push(self, kind: str, items: Sequence[WriteItem]) -> Sequence[WriteResult]:
        """POST each item: `notify` carries its `url` and `payload`; a digest is its payload."""
        if kind == NOTIFY:
            return [self._post(i, i.payload["url"], i.payload["payload"]) for i in items]
        if kind == DIGEST_SLACK and self.digest_url:
            url = self.digest_url
            return [self._post(i, url, dict(i.payload)) for i in items]
        raise ValueError(f"the webhook notifier writes no {kind!r}")

    def _post(self, item: WriteItem, url: str, body: Any) -> WriteResult:
        def send() -> httpx.Response:
            self.calls += 1
            response = self.client.post(url, json=body)
            if (error := classify(response)) is not None:  # in the receiver's own words
                error.code = error.code or str(response.status_code)
                error.message = response.text[:500] or error.message
                raise error
            return response

        try:
            call(send, self.policy, idempotent=False)
        except ConnectorError as exc:
            return WriteResult.failure(item.target_id, exc)
        except httpx.HTTPError as exc:  # not a network failure classify knows: try again later
            error = Retriable(f"{type(exc).__name__}: {redact(str(exc))}", code="HTTP_ERROR")
            return WriteResult.failure(item.target_id, error)
        return WriteResult.success(item.target_id)
