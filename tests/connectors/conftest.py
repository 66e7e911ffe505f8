"""Client construction for connector tests: fakes served in-process, or the loopback sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from zenpy import Zenpy

from connectors.http import RetryPolicy
from connectors.loopback import LoopbackRedirect

Handler = Callable[[requests.PreparedRequest], tuple[int, Any, dict[str, str]]]


class Sleeps(list[float]):
    """A fake `sleep` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def policy(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(max_attempts=4, max_time=600, initial_wait=0.01, max_wait=0.1, sleep=sleeps)


class FakeServer(HTTPAdapter):
    """A requests adapter answering from a Python handler: (status, json body, headers)."""

    def __init__(self, handler: Handler) -> None:
        super().__init__()
        self.handler = handler
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.requests.append(request)
        status, body, headers = self.handler(request)
        response = requests.Response()
        response.status_code = status
        if isinstance(body, str):
            response.headers.update({"Content-Type": "text/csv", **headers})
            response._content = body.encode()
        else:
            response.headers.update({"Content-Type": "application/json", **headers})
            response._content = b"" if body is None else json.dumps(body).encode()
        response.url = request.url or ""
        response.request = request
        return response


def fake_session(handler: Handler) -> tuple[requests.Session, FakeServer]:
    session = requests.Session()
    server = FakeServer(handler)
    session.mount("https://", server)
    session.mount("http://", server)
    return session, server


def fake_salesforce(handler: Handler) -> tuple[Salesforce, FakeServer]:
    """A real simple-salesforce client whose HTTP goes to `handler`."""
    session, server = fake_session(handler)
    sf = Salesforce(
        session_id="SESSION", instance_url="https://sf.test", session=session, version="59.0"
    )
    return sf, server


def fake_zenpy(handler: Handler) -> tuple[Zenpy, FakeServer]:
    """A real zenpy client whose HTTP goes to `handler`."""
    session, server = fake_session(handler)
    zenpy = Zenpy(subdomain="acme", email="agent@acme.test", token="TOKEN", session=session)
    return zenpy, server


def sandbox_salesforce(base_url: str) -> Salesforce:
    from sandbox import credentials

    session = requests.Session()
    session.mount("https://", LoopbackRedirect(base_url))
    netloc = urlsplit(base_url).netloc
    return Salesforce(
        session_id=credentials.SF_SESSION_ID,
        instance_url=f"https://{netloc}",
        session=session,
        version=credentials.SF_API_VERSION,
    )


def sandbox_zenpy(base_url: str, monkeypatch: pytest.MonkeyPatch) -> Zenpy:
    from connectors.zendesk_transport import adapter_kwargs
    from sandbox import credentials

    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", urlsplit(base_url).netloc)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(**adapter_kwargs()))  # as production wires it
    return Zenpy(
        subdomain=credentials.ZD_SUBDOMAIN,
        email=credentials.ZD_EMAIL,
        token=credentials.ZD_API_TOKEN,
        session=session,
    )


def sandbox_usage(base_url: str) -> httpx.Client:
    from sandbox import credentials

    return httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {credentials.USAGE_BEARER_TOKEN}"}
    )


@pytest.fixture
def sandbox() -> Iterator[Any]:
    """A running sandbox (skipped until the sandbox package serves HTTP)."""
    sandbox_mod = pytest.importorskip("sandbox")
    if not hasattr(sandbox_mod, "Sandbox"):
        pytest.skip("sandbox.Sandbox not available yet")
    with sandbox_mod.Sandbox(accounts=30, seed=7) as sb:
        yield sb
