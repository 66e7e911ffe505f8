"""The webhook notifier posts through the shared classification and retry policy."""

from __future__ import annotations

import httpx

from connectors.base import Connector, WriteItem
from connectors.http import RetryPolicy
from connectors.webhook import WebhookNotifier

NO_WAIT = RetryPolicy(max_attempts=3, initial_wait=0, max_wait=0, sleep=lambda _: None)
URL = "http://127.0.0.1:9/hook"


def notifier(answers: list[httpx.Response], digest_url: str | None = None):  # type: ignore[no-untyped-def]
    posted: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return answers.pop(0)

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return WebhookNotifier(client, digest_url=digest_url, policy=NO_WAIT), posted


def notify(n: int = 0) -> WriteItem:
    return WriteItem(f"t{n}", {"url": URL, "payload": {"text": f"run {n} failed"}}, key="k")


def test_a_429_is_waited_out_and_posted_once_more() -> None:
    hook, posted = notifier(
        [httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200)]
    )
    [result] = hook.writer.push("notify", [notify()])
    assert result.ok and len(posted) == 2 and hook.calls == 2
    assert posted[0].read() == b'{"text":"run 0 failed"}'


def test_a_5xx_is_left_to_the_outbox_not_posted_twice() -> None:
    hook, posted = notifier([httpx.Response(502, json={"message": "bad gateway"})])
    [result] = hook.writer.push("notify", [notify()])
    assert not result.ok and result.retriable and len(posted) == 1


def test_a_refusal_is_final_with_the_receivers_words() -> None:
    hook, _ = notifier([httpx.Response(404, text="no such hook")])
    [result] = hook.writer.push("notify", [notify()])
    assert not result.ok and not result.retriable
    assert (result.error_code, result.message) == ("404", "no such hook")


def test_digests_are_declared_only_with_a_digest_url() -> None:
    bare, _ = notifier([])
    assert set(bare.writer.kinds) == {"notify"} and isinstance(bare, Connector)
    hook, posted = notifier([httpx.Response(200)], digest_url=URL)
    item = WriteItem("d1", {"text": "weekly digest"}, key="digest:1")
    assert [r.ok for r in hook.writer.push("digest_slack", [item])] == [True]
    assert posted[0].read() == b'{"text":"weekly digest"}' and str(posted[0].url) == URL
