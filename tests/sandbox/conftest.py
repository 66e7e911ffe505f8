"""Sandbox fixtures: one small world per module, and the real vendor clients pointed at it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from connectors.loopback import LoopbackRedirect
from sandbox import Sandbox
from sandbox import credentials as cred

NOW = dt.datetime(2025, 6, 2, 15, 30, tzinfo=dt.UTC)


def redirect_session(base_url: str) -> requests.Session:
    """A requests session whose https traffic goes to the sandbox."""
    session = requests.Session()
    session.mount("https://", LoopbackRedirect(base_url))
    return session


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(accounts=70, seed=11, now=NOW, ticket_rate=0.4) as box:
        yield box


@pytest.fixture
def fresh() -> Iterator[Sandbox]:
    """A private sandbox for tests that write or inject faults."""
    with Sandbox(accounts=12, seed=5, now=NOW) as box:
        yield box


def salesforce(box: Sandbox, **login: Any) -> Any:
    """simple_salesforce.Salesforce against the sandbox (direct session unless login kwargs)."""
    from simple_salesforce import Salesforce

    session = redirect_session(box.base_url)
    if login:
        return Salesforce(session=session, version="59.0", **login)
    netloc = urlsplit(box.base_url).netloc
    return Salesforce(
        session_id=cred.SF_SESSION_ID,
        instance_url=f"https://{netloc}",
        session=session,
        version="59.0",
    )


def zenpy_client(box: Sandbox, monkeypatch: pytest.MonkeyPatch, **kwargs: Any) -> Any:
    """zenpy.Zenpy against the sandbox via ZENPY_FORCE_SCHEME/NETLOC."""
    from zenpy import Zenpy

    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", urlsplit(box.base_url).netloc)
    creds = kwargs or {"email": cred.ZD_EMAIL, "token": cred.ZD_API_TOKEN}
    return Zenpy(subdomain=cred.ZD_SUBDOMAIN, **creds)
